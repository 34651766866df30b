//! A device's enrollment (PROTOCOL §3.1): reading the self-signed request, the pure
//! judgement of whether it may bind its key to a registered device, and the operation
//! that binds it and answers with the first entitlement and the offline-code secret.
//!
//! The key that signs an enrollment is in its payload (its `kid` is that key's RFC 7638
//! thumbprint): the payload is read, then verified with that key, before anything
//! else it says is believed.
//!
//! Enrollment by IMEI binds only with the lender's approval or with hardware proof that
//! the phone has that IMEI (ADR 0010, ADR 0011); whatever fails, the answer is the same
//! `202` whether or not the IMEI is registered.

use finlock_core::b64;
use finlock_core::jws::{self, typ};
use finlock_core::keys::{Jwk, KeySet, PublicKey};
use finlock_core::keyset::Chained;
use finlock_core::protocol::{self, EnrollRequest, EnrollResponse};

use crate::app::App;
use crate::attestation::{self, Proven};
use crate::audit::{self, Actor, AuditEvent, EnrollKind};
use crate::checkin::{body_text, check_header, remember, seen};
use crate::db::queries::{self, DeviceRow};
use crate::devices::approvals;
use crate::error::{Error, Result};
use crate::ids;
use crate::issue::issue;
use crate::rate_limit;

/// A request whose signature verified with the key it carries.
#[derive(Debug, Clone)]
pub struct SignedEnroll {
    pub request: EnrollRequest,
    pub key: PublicKey,
}

/// Reads and verifies an enrollment body: pure.
pub fn read(text: &str) -> Result<SignedEnroll> {
    let parsed = jws::parse(text)?;
    check_header(&parsed, typ::ENROLL)?;
    let request: EnrollRequest = protocol::decode_payload(&parsed.into_payload())?;
    let key = PublicKey::from_jwk(&Jwk {
        kid: None,
        ..request.device_key.clone()
    })?;
    let keys = KeySet::new(vec![key.clone()])?;
    jws::verify(text, typ::ENROLL, &keys)?;
    // Plain-http loopback `push_endpoint`s pass here; the server's push policy decides
    // whether it uses them (crate::push::endpoint).
    request.validate_with(protocol::UrlPolicy::DEBUG)?;
    Ok(SignedEnroll { request, key })
}

/// What an accepted enrollment does to the device row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub kind: EnrollKind,
    /// A new key: what the server knew of the old one (replay memory, offline secret,
    /// rate limit) starts over.
    pub rebind: bool,
}

/// How long after an enrollment whose key never checked in the same code may bind
/// another key (the phone could not use the first answer, e.g. a provisioning mistake,
/// and made a new key): a code is consumed by the first check-in, or after this window.
pub const CODE_RETRY_WINDOW_S: i64 = 30 * 60;

/// What vouches for an enrollment besides its own signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The one-time code the lender issued for this device.
    Code,
    /// The lender approved this key for this device (enrollment by IMEI, which anyone
    /// who knows an IMEI can send, is never bound without it or [`Proof::Attested`];
    /// see [`enroll`]).
    Approved,
    /// Hardware attestation proved the registered IMEI, and the device allows it
    /// ([`attested_may_bind`]; ADR 0011).
    Attested,
}

/// Whether a proof that passed may bind a new key to `device` without the lender: the
/// device is not released, was never enrolled (an OEM preload's first start) or allows
/// re-provisioning (`auto_reprovision`), and the hardware attested its registered IMEI.
/// Pure.
pub fn attested_may_bind(device: &DeviceRow, proven: &Proven) -> bool {
    !device.released
        && (device.device_key.is_none() || device.auto_reprovision)
        && device
            .imei_sha256
            .as_deref()
            .is_some_and(|registered| proven.proves(registered))
}

/// Whether `enroll` may bind its key to `device` at `now`: pure.
///
/// A device bound to another key takes a new one only: with the lender's approval of
/// that key, or by code when the device allows re-provisioning (`auto_reprovision`),
/// when the lender reissued the code after the current binding, or within
/// [`CODE_RETRY_WINDOW_S`] of an enrollment whose key has never checked in.
pub fn judge(enroll: &SignedEnroll, device: &DeviceRow, proof: Proof, now: i64) -> Result<Binding> {
    if seen(&device.recent_nonces, &enroll.request.nonce) {
        return Err(Error::Replayed);
    }
    let by_code = proof == Proof::Code;
    let key_b64 = b64::encode(enroll.key.bytes());
    let binding = match device.device_key.as_deref() {
        None => Binding {
            kind: EnrollKind::Enrolled,
            rebind: true,
        },
        // The phone keeps its key across retries: the answer was lost, answer again.
        Some(k) if k == key_b64 => Binding {
            kind: EnrollKind::AnsweredAgain,
            rebind: false,
        },
        Some(_) if device.released => {
            return Err(Error::conflict(
                "released",
                "this device is released; there is nothing to enroll",
            ));
        }
        Some(_) if proof == Proof::Attested && !device.auto_reprovision => {
            // An attestation never overrides a device that does not allow re-provisioning
            // (`attested_may_bind` keeps such requests pending before this).
            return Err(Error::conflict(
                "enrollment-code-used",
                "this device is already enrolled with another key",
            ));
        }
        Some(_) if proof == Proof::Approved || device.auto_reprovision => Binding {
            kind: EnrollKind::Reprovisioned,
            rebind: true,
        },
        Some(_) if by_code && reissued_since_binding(device) => Binding {
            kind: EnrollKind::Rebound,
            rebind: true,
        },
        Some(_) if by_code && first_try_unused(device, now) => Binding {
            kind: EnrollKind::Retried,
            rebind: true,
        },
        Some(_) => {
            return Err(Error::conflict(
                "enrollment-code-used",
                "this device is already enrolled with another key",
            ));
        }
    };
    Ok(match (proof, binding.kind) {
        (Proof::Attested, EnrollKind::Enrolled) => Binding {
            kind: EnrollKind::EnrolledAttested,
            ..binding
        },
        (Proof::Attested, EnrollKind::Reprovisioned) => Binding {
            kind: EnrollKind::ReprovisionedAttested,
            ..binding
        },
        _ => binding,
    })
}

/// The lender reissued the code after the device's current key was bound.
fn reissued_since_binding(device: &DeviceRow) -> bool {
    matches!((device.code_issued_at, device.enrolled_at), (Some(issued), Some(bound)) if issued > bound)
}

/// The current key never checked in and was bound less than the retry window ago.
fn first_try_unused(device: &DeviceRow, now: i64) -> bool {
    device.last_checkin_at.is_none()
        && device
            .enrolled_at
            .is_some_and(|bound| now.saturating_sub(bound) <= CODE_RETRY_WINDOW_S)
}

/// What the enroll endpoint answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Bound: the first entitlement and the offline secret (§3.1).
    Enrolled(Chained<EnrollResponse>),
    /// Not bound (yet): the same answer whether or not the IMEI is registered, so the
    /// endpoint tells a stranger nothing.
    Pending(PendingAnswer),
}

/// `202 Accepted`: ask again later with the same key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PendingAnswer {
    /// `pending_approval`
    pub status: &'static str,
    /// When to ask again (also the `Retry-After` header).
    pub retry_after_s: u64,
}

/// How long a phone waiting for approval should wait before asking again.
pub const PENDING_RETRY_S: u64 = 15 * 60;

const PENDING: PendingAnswer = PendingAnswer {
    status: "pending_approval",
    retry_after_s: PENDING_RETRY_S,
};

/// Enrolls.
///
/// - By code: the code names the device; the binding is judged ([`judge`]).
/// - By IMEI: anyone who knows a phone's IMEI can send this, so it binds only a key the
///   lender approved. Any other key is recorded as a pending request for a registered
///   device (and nothing is recorded for an unknown IMEI); both get the same
///   [`Answer::Pending`], revealing nothing of the plan or the offline secret, and an
///   enrolled phone keeps working meanwhile.
///
/// Attempts are limited per client address and per IMEI, in the database, so the
/// limits hold across nodes.
pub async fn enroll(app: &App, body: &[u8], client: Option<&str>) -> Result<Answer> {
    let signed = read(body_text(body)?)?;
    let now = app.now();
    if let Some(addr) = client
        && app.config.enroll_per_address > 0
    {
        let limit = rate_limit::enroll_per_address(app.config.enroll_per_address);
        rate_limit::hit(&app.db, &limit, addr, now).await?;
    }
    let request = &signed.request;
    let (device, proof) = match (&request.enrollment_code, &request.imei_sha256) {
        (Some(code), _) => {
            let device = queries::device_by_code(&app.db.read, code)
                .await?
                .ok_or(Error::NotFound)?;
            (device, Proof::Code)
        }
        (None, Some(imei)) => {
            rate_limit::hit(&app.db, &rate_limit::ENROLL_PER_IMEI, imei, now).await?;
            // Before the IMEI is looked up, so a registered and an unregistered IMEI cost
            // the same work and consume the challenge alike (ADR 0011).
            let proven = attested(app, &signed, now).await?;
            let Some(device) = queries::devices_by_imei(&app.db.read, imei)
                .await?
                .into_iter()
                .next()
            else {
                return Ok(Answer::Pending(PENDING));
            };
            let key_b64 = b64::encode(signed.key.bytes());
            if device.device_key.as_deref() == Some(key_b64.as_str())
                || approvals::is_approved(app, &device, &key_b64).await?
            {
                (device, Proof::Approved)
            } else if let Some(p) = proven.as_ref().filter(|p| attested_may_bind(&device, p)) {
                tracing::info!(
                    device_id = %device.device_id,
                    anchor = %p.anchor_fingerprint,
                    security_level = p.security_level.as_str(),
                    "hardware attestation proves the registered IMEI"
                );
                (device, Proof::Attested)
            } else {
                if proven.is_some() {
                    tracing::info!(
                        device_id = %device.device_id,
                        "attested enrollment not allowed for this device (IMEI or re-provisioning); pending"
                    );
                }
                approvals::record_pending(app, &device, &signed, now).await?;
                return Ok(Answer::Pending(PENDING));
            }
        }
        (None, None) => return Err(Error::NotFound),
    };
    let binding = judge(&signed, &device, proof, now)?;
    let push = crate::push::registration::asked(signed.request.push_endpoint.as_deref())?;
    let device_id = device.device_id.clone();
    let answer = bind(app, &signed, device, binding, now).await?;
    crate::push::registration::apply(app, &device_id, push, binding.rebind).await;
    Ok(Answer::Enrolled(answer))
}

/// The hardware proof the request carries, if any, when it passes (ADR 0011): the
/// challenge is consumed first (it was issued here, has not expired, is used once), and
/// only then is the chain verified, so the cryptography runs only for a live challenge.
/// A refusal is logged by its rule's code (no IMEI, no key) and is `None`: the caller
/// answers as if no proof had come.
async fn attested(app: &App, signed: &SignedEnroll, now: i64) -> Result<Option<Proven>> {
    let Some(attestation) = &signed.request.attestation else {
        return Ok(None);
    };
    // `read` validated it; a failure here would be a bug, answered as no proof.
    let Ok(proof) = attestation.decode() else {
        return Ok(None);
    };
    let verdict = if attestation::challenges::consume(&app.db, &proof.challenge, now).await? {
        app.attestation
            .verify_enroll(&proof, &signed.request.nonce, &signed.key.thumbprint(), now)
    } else {
        Err(attestation::AttestationError::ChallengeNotIssued)
    };
    match verdict {
        Ok(proven) => Ok(Some(proven)),
        Err(e) => {
            tracing::info!(
                code = e.code(),
                "attestation refused; the enrollment waits for approval"
            );
            Ok(None)
        }
    }
}

/// Binds the key as judged, audits, answers with the first entitlement.
async fn bind(
    app: &App,
    signed: &SignedEnroll,
    device: DeviceRow,
    binding: Binding,
    now: i64,
) -> Result<Chained<EnrollResponse>> {
    let request = &signed.request;
    // The key sets after the one the phone pinned (a QR printed before a rotation; ADR
    // 0007), checked before anything is bound.
    let keys = crate::lender_keys::chain_for(app, &device.lender_id, request.keys_seq).await?;
    let (offline_secret, offline_counter) = match (&device.offline_secret, binding.rebind) {
        (Some(secret), false) => (secret.clone(), device.offline_counter),
        _ => (b64::encode(ids::secret_bytes::<32>()?), 0),
    };
    let nonces = if binding.rebind {
        request.nonce.clone()
    } else {
        remember(&device.recent_nonces, &request.nonce)
    };
    let key_b64 = b64::encode(signed.key.bytes());
    let thumbprint = signed.key.thumbprint();
    let mut tx = app.db.write.begin().await?;
    let issued = queries::enroll(
        &mut tx,
        &queries::Enrollment {
            device_id: &device.device_id,
            expected_seq: device.seq,
            device_key: &key_b64,
            offline_secret: &offline_secret,
            offline_counter,
            recent_nonces: &nonces,
            now,
            model: &request.model,
            android_sdk: i64::from(request.android_sdk),
            app_version: &request.app_version,
            rebind: binding.rebind,
        },
    )
    .await?
    .ok_or_else(|| Error::conflict("concurrent", "the device changed meanwhile; retry"))?;
    // An approval is used once: the approved key is bound now.
    approvals::mark_used(&mut tx, &device.device_id, &key_b64).await?;
    audit::append(
        &mut tx,
        crate::devices::subject(&device),
        now,
        Actor::Device,
        &AuditEvent::Enrollment {
            kind: binding.kind,
            key_thumbprint: &thumbprint,
            model: &request.model,
            app_version: &request.app_version,
        },
    )
    .await?;
    crate::webhooks::outbox::enrolled(&mut tx, &device, now, binding.kind).await?;
    tx.commit().await?;
    app.devices.forget(&device.device_id);
    tracing::info!(device_id = %device.device_id, action = binding.kind.action(), "enrollment");
    let entitlement = issue(
        app,
        &device,
        issued.0,
        issued.1,
        Some(request.nonce.clone()),
        now,
    )
    .await?;
    Ok(Chained {
        answer: EnrollResponse {
            device_id: device.device_id,
            entitlement,
            offline_secret,
            push_key: app.push.public_key(),
        },
        keys,
    })
}

#[cfg(test)]
mod tests {
    use finlock_core::keys::DeviceKey;
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn key() -> DeviceKey {
        DeviceKey::generate().unwrap()
    }

    fn body(k: &DeviceKey, nonce_byte: u8) -> String {
        let public = k.public();
        let payload = json!({ "v": 1, "enrollment_code": "ABCD-EFGH-JKMN",
            "device_key": public.to_jwk(), "nonce": b64::encode([nonce_byte; 16]),
            "model": "Phone", "android_sdk": 34, "app_version": "1.0" });
        k.sign_as(
            &public.thumbprint(),
            typ::ENROLL,
            payload.to_string().as_bytes(),
        )
    }

    fn device(bound_to: Option<&DeviceKey>) -> DeviceRow {
        DeviceRow {
            device_id: "dev-e".into(),
            lender_id: "lnd-e".into(),
            created_at: 0,
            imei_sha256: None,
            auto_reprovision: false,
            enrollment_code: Some("ABCD-EFGH-JKMN".into()),
            currency: "KES".into(),
            plan: "{}".into(),
            reminders: None,
            total_minor: 1,
            paid_minor: 0,
            lender_locked: false,
            lock_reason: None,
            released: false,
            device_key: bound_to.map(|k| b64::encode(k.public().bytes())),
            offline_secret: None,
            offline_counter: 0,
            enrolled_at: bound_to.map(|_| NOW - 3600),
            code_issued_at: Some(NOW - 7200),
            app_version: None,
            seq: 0,
            seq_seen: 0,
            recent_nonces: String::new(),
            last_checkin_at: None,
            extended_until: None,
            release_at: None,
        }
    }

    #[test]
    fn a_body_signed_by_the_key_it_carries_is_read() {
        let k = key();
        let signed = read(&body(&k, 1)).unwrap();
        assert_eq!(signed.key.bytes(), k.public().bytes());
    }

    #[test]
    fn a_body_signed_by_another_key_than_it_carries_is_refused() {
        let (k, other) = (key(), key());
        let public = k.public();
        let payload = json!({ "v": 1, "enrollment_code": "ABCD-EFGH-JKMN",
            "device_key": public.to_jwk(), "nonce": b64::encode([1; 16]),
            "model": "Phone", "android_sdk": 34, "app_version": "1.0" });
        let text = other.sign_as(
            &public.thumbprint(),
            typ::ENROLL,
            payload.to_string().as_bytes(),
        );
        assert!(read(&text).is_err());
    }

    #[test]
    fn the_first_key_binds() {
        let k = key();
        let b = judge(
            &read(&body(&k, 1)).unwrap(),
            &device(None),
            Proof::Code,
            NOW,
        )
        .unwrap();
        assert_eq!(
            b,
            Binding {
                kind: EnrollKind::Enrolled,
                rebind: true
            }
        );
    }

    #[test]
    fn the_same_key_again_is_answered_again_without_rebinding() {
        let k = key();
        let b = judge(
            &read(&body(&k, 2)).unwrap(),
            &device(Some(&k)),
            Proof::Code,
            NOW,
        )
        .unwrap();
        assert_eq!(b.kind, EnrollKind::AnsweredAgain);
        assert!(!b.rebind);
    }

    #[test]
    fn another_key_is_refused_unless_reprovisioning_is_allowed() {
        let (k, old) = (key(), key());
        let signed = read(&body(&k, 3)).unwrap();
        let mut d = device(Some(&old));
        d.last_checkin_at = Some(NOW - 60);
        let e = judge(&signed, &d, Proof::Code, NOW).unwrap_err();
        assert_eq!(e.slug(), "enrollment-code-used");
        let mut d = device(Some(&old));
        d.auto_reprovision = true;
        assert_eq!(
            judge(&signed, &d, Proof::Code, NOW).unwrap().kind,
            EnrollKind::Reprovisioned
        );
    }

    #[test]
    fn a_released_device_takes_no_new_key() {
        let (k, old) = (key(), key());
        let mut d = device(Some(&old));
        d.released = true;
        d.auto_reprovision = true;
        let e = judge(&read(&body(&k, 4)).unwrap(), &d, Proof::Code, NOW).unwrap_err();
        assert_eq!(e.slug(), "released");
    }

    #[test]
    fn a_remembered_nonce_is_a_replay() {
        let k = key();
        let mut d = device(Some(&k));
        d.recent_nonces = b64::encode([5; 16]);
        let e = judge(&read(&body(&k, 5)).unwrap(), &d, Proof::Code, NOW).unwrap_err();
        assert!(matches!(e, Error::Replayed));
    }

    #[test]
    fn a_code_whose_key_never_checked_in_may_bind_another_key_within_the_window() {
        let (k, first) = (key(), key());
        let signed = read(&body(&k, 6)).unwrap();
        let mut d = device(Some(&first));
        d.enrolled_at = Some(NOW - CODE_RETRY_WINDOW_S);
        let b = judge(&signed, &d, Proof::Code, NOW).unwrap();
        assert_eq!(b.kind, EnrollKind::Retried);
        assert!(b.rebind);
        // One second later the code is used up.
        d.enrolled_at = Some(NOW - CODE_RETRY_WINDOW_S - 1);
        assert_eq!(
            judge(&signed, &d, Proof::Code, NOW).unwrap_err().slug(),
            "enrollment-code-used"
        );
        // A check-in under the first key consumes the code at once.
        d.enrolled_at = Some(NOW - 10);
        d.last_checkin_at = Some(NOW - 5);
        assert_eq!(
            judge(&signed, &d, Proof::Code, NOW).unwrap_err().slug(),
            "enrollment-code-used"
        );
    }

    #[test]
    fn a_reissued_code_binds_a_new_key_once() {
        let (k, old) = (key(), key());
        let signed = read(&body(&k, 7)).unwrap();
        let mut d = device(Some(&old));
        d.last_checkin_at = Some(NOW - 60);
        d.code_issued_at = Some(NOW - 30);
        assert_eq!(
            judge(&signed, &d, Proof::Code, NOW).unwrap().kind,
            EnrollKind::Rebound
        );
        // Issued in the same second as the binding, it is not "after" it.
        d.code_issued_at = d.enrolled_at;
        assert!(judge(&signed, &d, Proof::Code, NOW).is_err());
    }

    fn proven(imei: &str) -> Proven {
        Proven::of_imei_hashes(vec![finlock_core::protocol::imei_sha256(imei)])
    }

    #[test]
    fn an_attestation_binds_only_a_registered_imei_of_a_device_that_allows_it() {
        let (k, old) = (key(), key());
        let imei = "490154203237518";
        let registered = |bound: Option<&DeviceKey>, auto: bool| DeviceRow {
            imei_sha256: Some(finlock_core::protocol::imei_sha256(imei)),
            auto_reprovision: auto,
            ..device(bound)
        };
        // Never enrolled (an OEM preload's first start): yes.
        assert!(attested_may_bind(&registered(None, false), &proven(imei)));
        // Enrolled, with auto_reprovision (a factory reset): yes.
        assert!(attested_may_bind(
            &registered(Some(&old), true),
            &proven(imei)
        ));
        // Enrolled without auto_reprovision: no.
        assert!(!attested_may_bind(
            &registered(Some(&old), false),
            &proven(imei)
        ));
        // Another IMEI attested: no.
        assert!(!attested_may_bind(
            &registered(Some(&old), true),
            &proven("356938035643809")
        ));
        // No IMEI registered: no.
        assert!(!attested_may_bind(&device(None), &proven(imei)));
        // Released: no.
        let mut released = registered(Some(&old), true);
        released.released = true;
        assert!(!attested_may_bind(&released, &proven(imei)));

        // Judged, it is audited as attested.
        let signed = read(&body(&k, 9)).unwrap();
        assert_eq!(
            judge(&signed, &registered(None, false), Proof::Attested, NOW)
                .unwrap()
                .kind,
            EnrollKind::EnrolledAttested
        );
        let b = judge(&signed, &registered(Some(&old), true), Proof::Attested, NOW).unwrap();
        assert_eq!(b.kind, EnrollKind::ReprovisionedAttested);
        assert!(b.rebind);
        // And judge alone never lets an attestation replace the key of a device without
        // auto_reprovision, even within a code's retry window.
        let e = judge(
            &signed,
            &registered(Some(&old), false),
            Proof::Attested,
            NOW,
        )
        .unwrap_err();
        assert_eq!(e.slug(), "enrollment-code-used");
    }

    #[test]
    fn an_approved_key_binds_even_without_auto_reprovision() {
        let (k, old) = (key(), key());
        let signed = read(&body(&k, 8)).unwrap();
        let mut d = device(Some(&old));
        d.last_checkin_at = Some(NOW - 60);
        assert!(!d.auto_reprovision);
        let b = judge(&signed, &d, Proof::Approved, NOW).unwrap();
        assert_eq!(b.kind, EnrollKind::Reprovisioned);
        assert!(b.rebind);
        let b = judge(&signed, &device(None), Proof::Approved, NOW).unwrap();
        assert_eq!(b.kind, EnrollKind::Enrolled);
        // Approval never revives a released device.
        d.released = true;
        assert_eq!(
            judge(&signed, &d, Proof::Approved, NOW).unwrap_err().slug(),
            "released"
        );
    }
}
