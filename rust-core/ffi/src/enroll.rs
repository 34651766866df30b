//! Enrollment with hardware proof and the typed "waiting for the lender's approval"
//! outcome (PROTOCOL §3.1, ADR 0011): what the shell needs to send an Android key
//! attestation chain with an enrollment by IMEI, and to show a `202 pending_approval` as
//! a state rather than a failure. /work/notes/attestation-api.md walks the shell through it.
//!
//! The attested key never enters the core: the shell generates it in the Keystore with the
//! server's challenge, signs [`FinlockCore::attestation_binding`]'s bytes with it and hands
//! over the chain and the signature.

use finlock_core::checkin::{self, EnrollOutcome as CoreOutcome};
use finlock_core::device::attested::AttestationProof as CoreProof;
use ring::rand::SystemRandom;

use crate::runtime::spawn;
use crate::types::{Clock, Decision, EnrollParams};
use crate::{FinlockCore, FinlockError, Inner};

/// A single-use attestation challenge from the lender's server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollChallenge {
    /// 32 bytes: `KeyGenParameterSpec.Builder.setAttestationChallenge(challenge)`.
    pub challenge: Vec<u8>,
    /// Server time (Unix ms) after which the server refuses it (5 minutes after issue).
    pub expires_at_ms: i64,
}

/// What the shell hands over after signing with the attested key.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttestationProof {
    /// The challenge the attested key was generated with (as `enrollChallenge` gave it).
    pub challenge: Vec<u8>,
    /// The key's attestation certificate chain, DER, leaf first
    /// (`AttestedKeyPair.getAttestationRecord()` → `getEncoded()`): 2–8 certificates,
    /// at most 7168 bytes in all.
    pub chain: Vec<Vec<u8>>,
    /// The attested key's signature over `attestationBinding(challenge)`'s bytes
    /// (`SHA256withECDSA` for a P-256 key), 1–512 bytes.
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for AttestationProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The leaf names the phone's IMEI and serial: never printed.
        f.debug_struct("AttestationProof")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl AttestationProof {
    fn core(&self) -> CoreProof {
        CoreProof {
            challenge: self.challenge.clone(),
            chain: self.chain.clone(),
            signature: self.signature.clone(),
        }
    }
}

/// How an enrollment ended that did not fail.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EnrollOutcome {
    /// Bound to the lender: the first decision.
    Enrolled { decision: Decision },
    /// The server answered `202 pending_approval`: the key is not bound (yet), whether
    /// the lender has still to approve it or a hardware proof did not pass (the server
    /// never says which). Show "waiting for your lender's approval" with `keyThumbprint`
    /// (the lender's console lists the same string) and ask again after `retryAfterS`
    /// (60 s to 6 h) with the same key: `requestEnrollment` again.
    WaitingForApproval {
        retry_after_s: i64,
        key_thumbprint: String,
    },
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Inner {
    async fn enroll_challenge(&self) -> Result<EnrollChallenge, FinlockError> {
        // Refused before the network when the phone cannot enroll anyway.
        self.with(|d| {
            if d.state().enrollment.is_some() {
                return Err(finlock_core::Error::AlreadyEnrolled.into());
            }
            Ok(())
        })?;
        let client = self.client()?;
        let _exchange = self.net.lock().await;
        let issued = client
            .enroll_challenge()
            .await
            .map_err(FinlockError::answer)?;
        Ok(EnrollChallenge {
            challenge: issued.challenge,
            expires_at_ms: issued.expires_at.saturating_mul(1000),
        })
    }

    async fn request_enrollment(
        &self,
        params: EnrollParams,
        attestation: Option<AttestationProof>,
        clock: Clock,
    ) -> Result<EnrollOutcome, FinlockError> {
        let input = clock.input()?;
        let params = params.core()?;
        let proof = attestation.as_ref().map(AttestationProof::core);
        let _exchange = self.net.lock().await;
        let out = self.with(|d| {
            checkin::begin_enroll_with(d, &params, proof.as_ref(), &SystemRandom::new())
                .map_err(FinlockError::input)
        })?;
        let client = self.client()?;
        let answer = client.post_enroll(out.body).await;
        self.with(|d| {
            let outcome =
                checkin::finish_enroll_outcome(d, answer, &input).map_err(FinlockError::answer)?;
            Ok(match outcome {
                CoreOutcome::Enrolled(ev) => EnrollOutcome::Enrolled {
                    decision: Decision::of(&ev, &clock),
                },
                CoreOutcome::PendingApproval {
                    retry_after_s,
                    key_thumbprint,
                } => EnrollOutcome::WaitingForApproval {
                    retry_after_s: to_i64(retry_after_s),
                    key_thumbprint,
                },
            })
        })
    }
}

#[uniffi::export]
impl FinlockCore {
    /// Asks the provisioned server for a single-use attestation challenge
    /// (`POST /v1/enroll/challenge`). `AlreadyEnrolled` once enrolled, `NotEnrolled` when
    /// not provisioned, `Network` when the server cannot be reached or refuses (429 with
    /// `retryAfterS`).
    pub async fn enroll_challenge(&self) -> Result<EnrollChallenge, FinlockError> {
        let inner = self.inner.clone();
        spawn(async move { inner.enroll_challenge().await }).await
    }

    /// The exact bytes (110) the attested key must sign for `challenge`. Fixes and stores
    /// the enrollment key (kept across retries) and the nonce of the next enrollment
    /// request; call once per challenge, then `requestEnrollment` with its proof.
    /// `InvalidInput` (field `challenge`) unless 32 bytes.
    pub fn attestation_binding(&self, challenge: Vec<u8>) -> Result<Vec<u8>, FinlockError> {
        self.inner.with(|d| {
            checkin::attestation_binding(d, &challenge, &SystemRandom::new())
                .map_err(FinlockError::input)
        })
    }

    /// Enrolls, with the hardware proof of an enrollment by IMEI when there is one, and
    /// reports `202 pending_approval` as `WaitingForApproval` instead of an error. A
    /// retry presents the same device key. `InvalidInput` (field `attestation.challenge`)
    /// when no `attestationBinding` was made for the proof's challenge, (`attestation.chain`,
    /// `attestation.signature`) when they are out of bounds; otherwise the errors of
    /// `enroll`. Nothing stored changes on an error or a wait but the pending key.
    pub async fn request_enrollment(
        &self,
        params: EnrollParams,
        attestation: Option<AttestationProof>,
        clock: Clock,
    ) -> Result<EnrollOutcome, FinlockError> {
        let inner = self.inner.clone();
        spawn(async move { inner.request_enrollment(params, attestation, clock).await }).await
    }

    /// The RFC 7638 thumbprint of the key waiting to be bound, if any: what the
    /// waiting-for-approval screen shows (also after a restart).
    pub fn pending_key_thumbprint(&self) -> Result<Option<String>, FinlockError> {
        self.inner.with(|d| Ok(d.state().pending_key_thumbprint()))
    }
}
