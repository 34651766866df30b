//! The check-in client (feature `net`): where the device meets the network.
//!
//! It moves bytes and nothing else. Requests are built and answers judged by
//! [`crate::device::DeviceState`]; this module only adds a deadline, TLS and the
//! rules about *which* answers are even looked at (PROTOCOL §3.3: only an HTTP 200
//! `application/json` answer holding `entitlement`). Whatever the network does —
//! refuse, hang, answer 500, 429, an HTML error page, a truncated or garbage body,
//! a valid entitlement for another device, an old one replayed — the stored
//! decision inputs do not change: a failure only moves the check-in schedule.
//!
//! TLS is rustls with the ring provider and the platform's trust store (Android's on
//! the phone, through rustls-platform-verifier), optionally narrowed to pinned SPKI
//! hashes of the lender's server. Plain `http` is accepted only for loopback and
//! only when the provisioning allowed it (debug builds, the simulator).

use std::sync::Arc;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::clock::ClockInput;
use crate::device::attested::AttestationProof;
use crate::device::{Device, EnrollParams, Evaluation, Outgoing};
use crate::error::{Error, Result};
use crate::protocol::{self, EnrollAnswer, UrlPolicy};

/// The whole exchange must finish within this (PROTOCOL issue 5: 10 s deadline).
pub const DEADLINE: Duration = Duration::from_secs(10);
/// An answer larger than this is not a protocol answer (an entitlement is ≤ 16 KiB).
pub const MAX_ANSWER_LEN: usize = 64 * 1024;

/// How the client talks to the lender's server.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// SHA-256 hashes of acceptable server SubjectPublicKeyInfo (DER); empty = no pinning.
    pub spki_sha256_pins: Vec<[u8; 32]>,
    /// Extra trust anchors (DER certificates) beside the platform's, for test servers.
    pub extra_roots: Vec<Vec<u8>>,
    /// `None` = [`DEADLINE`].
    pub deadline: Option<Duration>,
}

/// Installs ring as the process-wide rustls provider (idempotent).
///
/// Our reqwest carries no provider of its own (no aws-lc), so any other reqwest
/// client built in the same process — a lender tool, a test harness — needs this
/// once before it is built. [`Client::new`] calls it too.
pub fn install_crypto_provider() {
    // Err only means a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client bound to one lender server.
pub struct Client {
    http: reqwest::Client,
    base: String,
    deadline: Duration,
}

impl Client {
    /// Builds a client for `server_url`, which must pass the same URL rule as the
    /// entitlement's links under `policy`.
    pub fn new(server_url: &str, policy: UrlPolicy, config: &ClientConfig) -> Result<Client> {
        if !protocol::is_acceptable_url(server_url, policy) {
            return Err(Error::invalid(
                "server_url",
                "must be https (http only to loopback in debug builds)",
            ));
        }
        install_crypto_provider();
        let deadline = config.deadline.unwrap_or(DEADLINE);
        let tls = tls_config(config)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(deadline)
            .connect_timeout(deadline)
            // A redirect could lead a check-in to another host; the protocol has none.
            .redirect(reqwest::redirect::Policy::none())
            // Proxies from the environment are a way to intercept; the phone has none
            // and the simulator must not pick one up by accident.
            .no_proxy()
            .http1_only()
            .user_agent(concat!("finlock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| Error::ServerUnreachable {
                reason: "could not set up the HTTP client",
            })?;
        Ok(Client {
            http,
            base: server_url.trim_end_matches('/').to_string(),
            deadline,
        })
    }

    /// POSTs a compact JWS and returns the body of a usable 200 answer.
    pub async fn post_jws(&self, path: &str, jws: String) -> Result<Vec<u8>> {
        let (_, body) = self.post(path, Some(jws), &[200]).await?;
        Ok(body)
    }

    /// POSTs an enroll request (§3.1): a `200` is the body to judge, a `202
    /// pending_approval` a typed wait ([`EnrollAnswer::Pending`]), anything else an error
    /// as for [`Client::post_jws`].
    pub async fn post_enroll(&self, jws: String) -> Result<EnrollAnswer> {
        match self.post("/v1/enroll", Some(jws), &[200, 202]).await? {
            (
                Answered {
                    status: 202,
                    retry_after_s,
                },
                body,
            ) => EnrollAnswer::pending(&body, retry_after_s),
            (_, body) => Ok(EnrollAnswer::Bound(body)),
        }
    }

    /// Asks the server for a single-use attestation challenge (`POST
    /// /v1/enroll/challenge`, §3.1).
    pub async fn enroll_challenge(&self) -> Result<EnrollChallenge> {
        let (_, body) = self.post("/v1/enroll/challenge", None, &[200]).await?;
        EnrollChallenge::read(&body)
    }

    /// One POST within the deadline; only a status in `accepted` with an
    /// `application/json` body of at most [`MAX_ANSWER_LEN`] bytes is read.
    async fn post(
        &self,
        path: &str,
        jws: Option<String>,
        accepted: &[u16],
    ) -> Result<(Answered, Vec<u8>)> {
        let exchange = async {
            let mut request = self
                .http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(jws) = jws {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/jose")
                    .body(jws);
            }
            let response = request.send().await.map_err(|e| Error::ServerUnreachable {
                reason: classify(&e),
            })?;
            let status = response.status().as_u16();
            let retry_after_s = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if !accepted.contains(&status) {
                return Err(Error::ServerStatus {
                    status,
                    retry_after_s,
                });
            }
            let is_json = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
            if !is_json {
                return Err(Error::ServerAnswerInvalid {
                    reason: "not application/json",
                });
            }
            if response
                .content_length()
                .is_some_and(|n| n > MAX_ANSWER_LEN as u64)
            {
                return Err(Error::ServerAnswerInvalid {
                    reason: "answer too large",
                });
            }
            let body = read_bounded(response).await?;
            Ok((
                Answered {
                    status,
                    retry_after_s,
                },
                body,
            ))
        };
        match tokio::time::timeout(self.deadline, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::ServerUnreachable {
                reason: "deadline passed",
            }),
        }
    }

    /// Enrolls: builds the request, sends it, accepts the answer, persists. On any
    /// failure the pending key is kept (so a retry presents the same key) and nothing
    /// else changes.
    pub async fn enroll(
        &self,
        device: &mut Device,
        params: &EnrollParams,
        clock: impl Fn() -> ClockInput,
    ) -> Result<Evaluation> {
        let out = begin_enroll(device, params, &SystemRandom::new())?;
        let answer = self.post_jws("/v1/enroll", out.body).await;
        finish_enroll(device, answer, &clock())
    }

    /// Enrolls, with a hardware proof when there is one (ADR 0011), and reports a `202`
    /// as [`EnrollOutcome::PendingApproval`] rather than a failure. As with
    /// [`Client::enroll`], a failure keeps the pending key and changes nothing else.
    pub async fn enroll_with(
        &self,
        device: &mut Device,
        params: &EnrollParams,
        proof: Option<&AttestationProof>,
        clock: impl Fn() -> ClockInput,
    ) -> Result<EnrollOutcome> {
        let out = begin_enroll_with(device, params, proof, &SystemRandom::new())?;
        let answer = self.post_enroll(out.body).await;
        finish_enroll_outcome(device, answer, &clock())
    }

    /// One check-in. `check_now` is the user's "I have paid — check now": it skips
    /// the backoff but may run at most once per 30 s. On failure the schedule backs
    /// off and the error is returned; the decision inputs are untouched.
    pub async fn check_in(
        &self,
        device: &mut Device,
        clock: impl Fn() -> ClockInput,
        app_version: &str,
        check_now: bool,
    ) -> Result<Evaluation> {
        let rng = SystemRandom::new();
        let out = begin_check_in(device, &clock(), app_version, check_now, &rng)?;
        let answer = self.post_jws("/v1/checkin", out.body.clone()).await;
        finish_check_in(device, &out, answer, &clock(), &rng)
    }
}

/// An enrollment's first step: the signed request (§3.1), stored with its key and nonce as
/// the pending enrollment, so a retry after a lost answer presents the same key.
///
/// [`Client::enroll`] is `begin_enroll`, [`Client::post_jws`], [`finish_enroll`]; a caller
/// that must not hold the device across the network (the Kotlin bridge) runs the three
/// steps itself, as for a check-in.
pub fn begin_enroll(
    device: &mut Device,
    params: &EnrollParams,
    rng: &dyn SecureRandom,
) -> Result<Outgoing> {
    device.update(|s| s.enroll_request(params, rng))
}

/// [`begin_enroll`] with the hardware proof of an enrollment by IMEI: its challenge must
/// be the one [`attestation_binding`] bound (else `invalid_field` `attestation.challenge`).
pub fn begin_enroll_with(
    device: &mut Device,
    params: &EnrollParams,
    proof: Option<&AttestationProof>,
    rng: &dyn SecureRandom,
) -> Result<Outgoing> {
    device.update(|s| s.enroll_request_with(params, proof, rng))
}

/// The exact bytes the attested key must sign for `challenge` (§3.1); fixes and stores the
/// enrollment key and the next request's nonce ([`crate::device::DeviceState::attestation_binding`]).
pub fn attestation_binding(
    device: &mut Device,
    challenge: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>> {
    device.update(|s| s.attestation_binding(challenge, rng))
}

/// How an enrollment ended that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollOutcome {
    /// Bound: the first entitlement was accepted and stored.
    Enrolled(Evaluation),
    /// `202 pending_approval`: the key is not bound (yet). The phone shows that it waits
    /// for its lender, with the key's thumbprint (the lender sees the same), and asks
    /// again with the same key after `retry_after_s`.
    PendingApproval {
        retry_after_s: u64,
        key_thumbprint: String,
    },
}

/// [`finish_enroll`] for an answer read by [`Client::post_enroll`]: a `202` is a typed
/// wait, not a failure; nothing stored changes then (the pending key stays).
pub fn finish_enroll_outcome(
    device: &mut Device,
    answer: Result<EnrollAnswer>,
    clock: &ClockInput,
) -> Result<EnrollOutcome> {
    match answer? {
        EnrollAnswer::Bound(body) => {
            finish_enroll(device, Ok(body), clock).map(EnrollOutcome::Enrolled)
        }
        EnrollAnswer::Pending { retry_after_s } => {
            let key_thumbprint = device
                .state()
                .pending_key_thumbprint()
                .ok_or(Error::NotEnrolled)?;
            Ok(EnrollOutcome::PendingApproval {
                retry_after_s,
                key_thumbprint,
            })
        }
    }
}

/// A single-use attestation challenge from `POST /v1/enroll/challenge` (§3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollChallenge {
    /// 32 bytes: the attested key is generated with this as its attestation challenge.
    pub challenge: Vec<u8>,
    /// Server time (Unix s) after which the server no longer accepts it.
    pub expires_at: i64,
}

impl EnrollChallenge {
    /// Reads `{"challenge": b64url(32 bytes), "expires_at": t}`.
    pub fn read(body: &[u8]) -> Result<EnrollChallenge> {
        #[derive(serde::Deserialize)]
        struct Wire {
            challenge: String,
            expires_at: i64,
        }
        let invalid = || Error::ServerAnswerInvalid {
            reason: "not an attestation challenge",
        };
        let wire: Wire = serde_json::from_slice(body).map_err(|_| invalid())?;
        let challenge =
            crate::b64::decode_array::<{ protocol::ATTESTATION_CHALLENGE_LEN }>(&wire.challenge)
                .ok_or_else(invalid)?;
        Ok(EnrollChallenge {
            challenge: challenge.to_vec(),
            expires_at: wire.expires_at,
        })
    }
}

/// What [`Client::post`] saw besides the body.
#[derive(Debug, Clone, Copy)]
struct Answered {
    status: u16,
    retry_after_s: Option<u64>,
}

/// An enrollment's last step, with what the exchange gave: the answer is judged and, only
/// if it passes, the enrollment is stored. A failure (of the exchange or of the answer) is
/// returned and changes nothing stored: the pending key stays for the retry.
pub fn finish_enroll(
    device: &mut Device,
    answer: Result<Vec<u8>>,
    clock: &ClockInput,
) -> Result<Evaluation> {
    let body = answer?;
    device.update(|s| s.complete_enrollment(&body, clock))
}

/// A check-in's first step: the "check now" gate (at most once per 30 s, else
/// [`Error::CheckNowTooSoon`]), then the signed request. Refusals here change nothing and
/// are not failures to back off from.
///
/// [`Client::check_in`] is `begin_check_in`, [`Client::post_jws`], [`finish_check_in`]; a
/// caller that must not hold the device across the network (the Kotlin bridge keeps it
/// behind a lock the lock screen also needs) runs the three steps itself.
pub fn begin_check_in(
    device: &mut Device,
    clock: &ClockInput,
    app_version: &str,
    check_now: bool,
    rng: &dyn SecureRandom,
) -> Result<Outgoing> {
    if check_now {
        device.update(|s| {
            let now = s.clock.observe(clock).now();
            s.checkin.allow_check_now(now)
        })?;
    }
    device.update(|s| s.checkin_request(clock, app_version, rng))
}

/// A check-in's last step, with what the exchange for `out` gave: the answer is judged and
/// accepted, or the failure (of the exchange or of the answer) backs the schedule off and
/// is returned. Either way the decision inputs change only through an accepted answer.
pub fn finish_check_in(
    device: &mut Device,
    out: &Outgoing,
    answer: Result<Vec<u8>>,
    clock: &ClockInput,
    rng: &dyn SecureRandom,
) -> Result<Evaluation> {
    let result = answer.and_then(|body| device.update(|s| s.complete_checkin(out, &body, clock)));
    if let Err(e) = &result {
        let retry_after = match e {
            Error::ServerStatus { retry_after_s, .. } => *retry_after_s,
            _ => None,
        };
        let random = random_u64(rng);
        // Recording the failure is best effort: the original error is what matters.
        if let Err(store) =
            device.update(|s| Ok(s.record_checkin_failure(clock, retry_after, random)))
        {
            log::warn!("could not record the failed check-in ({})", store.code());
        }
        log::info!("check-in failed ({})", e.code());
    }
    result
}

fn random_u64(rng: &dyn SecureRandom) -> u64 {
    let mut b = [0u8; 8];
    // A failed random source only makes the jitter predictable, never unsafe.
    let _ = rng.fill(&mut b);
    u64::from_le_bytes(b)
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_LEN {
                    return Err(Error::ServerAnswerInvalid {
                        reason: "answer too large",
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => {
                return Err(Error::ServerAnswerInvalid {
                    reason: "answer cut short",
                });
            }
        }
    }
}

fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "deadline passed"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    }
}

fn tls_config(config: &ClientConfig) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let unusable = |_| Error::ServerUnreachable {
        reason: "TLS set-up failed",
    };
    let platform = if config.extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(unusable)?
    } else {
        platform_with_extra_roots(provider.clone(), &config.extra_roots)?
    };
    let verifier = PinningVerifier {
        inner: Arc::new(platform),
        pins: config.spki_sha256_pins.clone(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tls)
}

#[cfg(not(any(target_os = "android", target_vendor = "apple", windows)))]
fn platform_with_extra_roots(
    provider: Arc<rustls::crypto::CryptoProvider>,
    roots: &[Vec<u8>],
) -> Result<rustls_platform_verifier::Verifier> {
    let roots = roots.iter().map(|r| CertificateDer::from(r.clone()));
    rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider).map_err(|_| {
        Error::ServerUnreachable {
            reason: "TLS set-up failed",
        }
    })
}

#[cfg(any(target_os = "android", target_vendor = "apple", windows))]
fn platform_with_extra_roots(
    provider: Arc<rustls::crypto::CryptoProvider>,
    _roots: &[Vec<u8>],
) -> Result<rustls_platform_verifier::Verifier> {
    // On the phone only the platform's anchors count; extra roots are for host tests.
    rustls_platform_verifier::Verifier::new(provider).map_err(|_| Error::ServerUnreachable {
        reason: "TLS set-up failed",
    })
}

/// The platform's verdict, narrowed to pinned server keys when pins are configured.
#[derive(Debug)]
struct PinningVerifier {
    inner: Arc<rustls_platform_verifier::Verifier>,
    pins: Vec<[u8; 32]>,
}

/// SHA-256 of a certificate's DER SubjectPublicKeyInfo (what HPKP-style pins hash).
pub fn spki_sha256(cert_der: &[u8]) -> Option<[u8; 32]> {
    let der = CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der).ok()?;
    let spki = cert.subject_public_key_info();
    let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
    digest.as_ref().try_into().ok()
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if self.pins.is_empty() {
            return Ok(verified);
        }
        match spki_sha256(end_entity) {
            Some(hash) if self.pins.contains(&hash) => Ok(verified),
            _ => Err(rustls::Error::General(
                "server key is not one of the pinned keys".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;
    use crate::fixtures::{self, T0};

    fn provisioned(dir: &std::path::Path) -> Device {
        let mut d = Device::open(dir).unwrap();
        d.update(|s| s.provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false))
            .unwrap();
        d
    }

    #[test]
    fn a_failed_enrollment_finish_changes_nothing_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = provisioned(dir.path());
        let rng = SystemRandom::new();
        let out = begin_enroll(&mut d, &fixtures::enroll_params(), &rng).unwrap();
        let stored = Device::open(dir.path()).unwrap().state().clone();
        assert!(
            stored.pending_enrollment.is_some(),
            "the key is kept for a retry"
        );
        let first = || fixtures::entitlement(1, T0);
        let failures: [Result<Vec<u8>>; 4] = [
            Err(Error::ServerUnreachable {
                reason: "connection failed",
            }),
            Err(Error::ServerStatus {
                status: 503,
                retry_after_s: None,
            }),
            Ok(b"<html>502 Bad Gateway</html>".to_vec()),
            Ok(fixtures::enroll_answer(&b64::encode([7u8; 16]), first())),
        ];
        for answer in failures {
            let clock = fixtures::clock_at(T0);
            let e = finish_enroll(&mut d, answer, &clock).unwrap_err();
            assert_eq!(d.state(), &stored, "{e}");
            assert_eq!(Device::open(dir.path()).unwrap().state(), &stored, "{e}");
        }
        // The retry's answer is accepted: the failures left the pending key in place.
        let answer = fixtures::enroll_answer(&out.nonce, first());
        finish_enroll(&mut d, Ok(answer), &fixtures::clock_at(T0)).unwrap();
        let en = Device::open(dir.path())
            .unwrap()
            .state()
            .enrolled()
            .unwrap()
            .clone();
        assert_eq!(en.device_id, fixtures::DEVICE_ID);
    }

    #[test]
    fn a_pending_answer_is_a_typed_wait_with_the_key_to_show_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = provisioned(dir.path());
        let rng = SystemRandom::new();
        let out = begin_enroll(&mut d, &fixtures::enroll_params(), &rng).unwrap();
        let stored = d.state().clone();
        let thumbprint = stored.pending_key_thumbprint().unwrap();
        let clock = fixtures::clock_at(T0);
        let pending = EnrollAnswer::pending(
            br#"{"status":"pending_approval","retry_after_s":900}"#,
            None,
        );
        assert_eq!(
            finish_enroll_outcome(&mut d, pending, &clock).unwrap(),
            EnrollOutcome::PendingApproval {
                retry_after_s: 900,
                key_thumbprint: thumbprint.clone(),
            }
        );
        assert_eq!(Device::open(dir.path()).unwrap().state(), &stored);
        // A failed exchange is still an error, and a 200 still enrolls.
        let failed = Err(Error::ServerStatus {
            status: 429,
            retry_after_s: Some(30),
        });
        assert!(finish_enroll_outcome(&mut d, failed, &clock).is_err());
        let answer = fixtures::enroll_answer(&out.nonce, fixtures::entitlement(1, T0));
        let outcome =
            finish_enroll_outcome(&mut d, Ok(EnrollAnswer::Bound(answer)), &clock).unwrap();
        assert!(matches!(outcome, EnrollOutcome::Enrolled(_)));
        assert!(d.state().enrolled().is_ok());
    }

    #[test]
    fn a_challenge_answer_is_read_strictly() {
        let ok = EnrollChallenge::read(
            format!(
                r#"{{"challenge":"{}","expires_at":1767225900,"ttl_s":300}}"#,
                b64::encode([3u8; 32])
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.challenge, vec![3u8; 32]);
        assert_eq!(ok.expires_at, 1_767_225_900);
        for bad in [
            String::from("{}"),
            format!(
                r#"{{"challenge":"{}","expires_at":1}}"#,
                b64::encode([3u8; 31])
            ),
            String::from("<html>"),
        ] {
            assert!(EnrollChallenge::read(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refused_enrollment_begin_changes_nothing_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Device::open(dir.path()).unwrap();
        let rng = SystemRandom::new();
        let e = begin_enroll(&mut d, &fixtures::enroll_params(), &rng).unwrap_err();
        assert!(matches!(e, Error::NotEnrolled));
        let mut d = provisioned(dir.path());
        let stored = d.state().clone();
        let params = EnrollParams {
            imei: Some("not an imei".into()),
            ..fixtures::enroll_params()
        };
        assert!(matches!(
            begin_enroll(&mut d, &params, &rng),
            Err(Error::InvalidField { .. })
        ));
        assert_eq!(Device::open(dir.path()).unwrap().state(), &stored);
    }
}
