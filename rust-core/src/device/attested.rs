//! The device's side of an attested enrollment by IMEI (PROTOCOL §3.1, ADR 0011).
//!
//! The attested key lives in the phone's Keystore and the shell signs with it; the core
//! only fixes what that signature binds — the server's challenge, the enroll request's
//! nonce and the device's Ed25519 key — and carries the chain and signature in the
//! request. Order on the phone: challenge from the server, attested key generated with it,
//! [`DeviceState::attestation_binding`], the shell signs, the request is built with the
//! [`AttestationProof`].

use ring::rand::SecureRandom;

use super::{DeviceState, PendingEnrollment, Secret, fresh_nonce};
use crate::b64;
use crate::error::{Error, Result};
use crate::keys::DeviceKey;
use crate::protocol::{self, ATTESTATION_CHALLENGE_LEN, EnrollAttestation};

/// What the shell hands over after signing: the challenge it generated the attested key
/// with, the key's attestation chain (DER, leaf first) and the signature over the
/// binding message.
#[derive(Clone, PartialEq, Eq)]
pub struct AttestationProof {
    pub challenge: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for AttestationProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The leaf certificate names the phone's IMEI and serial.
        f.debug_struct("AttestationProof")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl DeviceState {
    /// The exact bytes the attested key must sign for `challenge` (§3.1): the challenge,
    /// the nonce of the next enroll request and the thumbprint of the enrollment key. The
    /// key (kept across retries) and the nonce are fixed here and stored with the
    /// challenge, so the request that carries this proof binds what was signed.
    pub fn attestation_binding(
        &mut self,
        challenge: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Vec<u8>> {
        if self.enrollment.is_some() {
            return Err(Error::AlreadyEnrolled);
        }
        self.provisioning()?;
        if challenge.len() != ATTESTATION_CHALLENGE_LEN {
            return Err(Error::invalid("challenge", "32 bytes"));
        }
        let key = match &self.pending_enrollment {
            Some(p) => DeviceKey::from_pkcs8(&p.device_key.bytes()?, None)?,
            None => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed).map_err(|_| Error::KeyRejected {
                    reason: "random source failed",
                })?;
                DeviceKey::from_seed(&seed, None)?
            }
        };
        let nonce = fresh_nonce(rng)?;
        let message = protocol::binding_message(challenge, &nonce, &key.public().thumbprint())?;
        self.pending_enrollment = Some(PendingEnrollment {
            device_key: Secret::from_bytes(key.pkcs8()),
            nonce,
            bound_challenge: Some(b64::encode(challenge)),
            // Set by the request that carries this binding's proof.
            push_endpoint: None,
        });
        Ok(message)
    }

    /// The RFC 7638 thumbprint of the key waiting to be bound, if any: what the phone
    /// shows while the lender's approval is awaited (the lender sees the same string).
    pub fn pending_key_thumbprint(&self) -> Option<String> {
        let pending = self.pending_enrollment.as_ref()?;
        let bytes = pending.device_key.bytes().ok()?;
        let key = DeviceKey::from_pkcs8(&bytes, None).ok()?;
        Some(key.public().thumbprint())
    }
}

/// The nonce a request carrying `proof` must use (the one bound with its challenge), and
/// the proof as it travels. A proof for a challenge no binding was made for is refused.
pub(super) fn bound_nonce(
    pending: Option<&PendingEnrollment>,
    proof: &AttestationProof,
) -> Result<(String, Option<EnrollAttestation>)> {
    let challenge = b64::encode(&proof.challenge);
    match pending {
        Some(p) if p.bound_challenge.as_deref() == Some(challenge.as_str()) => {
            let attestation =
                EnrollAttestation::from_bytes(&proof.challenge, &proof.chain, &proof.signature);
            attestation.decode()?;
            Ok((p.nonce.clone(), Some(attestation)))
        }
        _ => Err(Error::invalid(
            "attestation.challenge",
            "no binding was made for this challenge (attestation_binding first)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;

    use super::*;
    use crate::device::DeviceState;
    use crate::fixtures;
    use crate::jws;
    use crate::protocol::EnrollRequest;

    fn provisioned() -> DeviceState {
        let mut s = DeviceState::default();
        s.provision("https://lender.example", fixtures::pinned_keys(), false)
            .unwrap();
        s
    }

    fn by_imei() -> crate::device::EnrollParams {
        let mut p = fixtures::enroll_params();
        p.enrollment_code = None;
        p.imei = Some("490154203237518".into());
        p
    }

    fn proof(challenge: [u8; 32]) -> AttestationProof {
        AttestationProof {
            challenge: challenge.to_vec(),
            chain: vec![vec![0x30; 700], vec![0x30; 500], vec![0x30; 1400]],
            signature: vec![0x30; 71],
        }
    }

    fn payload(body: &str) -> EnrollRequest {
        let parsed = jws::parse(body).unwrap();
        protocol::decode_payload(&parsed.into_payload()).unwrap()
    }

    #[test]
    fn the_request_carries_the_proof_and_the_nonce_and_key_that_were_signed() {
        let rng = SystemRandom::new();
        let mut s = provisioned();
        let message = s.attestation_binding(&[9; 32], &rng).unwrap();
        let out = s
            .enroll_request_with(&by_imei(), Some(&proof([9; 32])), &rng)
            .unwrap();
        let request = payload(&out.body);
        let thumb = crate::keys::PublicKey::from_jwk(&request.device_key)
            .unwrap()
            .thumbprint();
        assert_eq!(
            message,
            protocol::binding_message(&[9; 32], &request.nonce, &thumb).unwrap()
        );
        assert_eq!(out.nonce, request.nonce);
        let a = request.attestation.unwrap().decode().unwrap();
        assert_eq!(a.challenge, [9; 32]);
        assert_eq!(a.chain.len(), 3);
        assert_eq!(s.pending_key_thumbprint(), Some(thumb));
    }

    #[test]
    fn the_key_is_kept_from_a_plain_try_to_an_attested_one() {
        let rng = SystemRandom::new();
        let mut s = provisioned();
        let plain = payload(&s.enroll_request(&by_imei(), &rng).unwrap().body);
        s.attestation_binding(&[1; 32], &rng).unwrap();
        let attested = payload(
            &s.enroll_request_with(&by_imei(), Some(&proof([1; 32])), &rng)
                .unwrap()
                .body,
        );
        assert_eq!(plain.device_key, attested.device_key);
        assert_ne!(plain.nonce, attested.nonce);
    }

    #[test]
    fn a_proof_without_its_binding_is_refused_and_changes_nothing() {
        let rng = SystemRandom::new();
        let mut s = provisioned();
        let field = |r: Result<crate::device::Outgoing>| match r {
            Err(Error::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        // No binding at all.
        let before = s.clone();
        assert_eq!(
            field(s.enroll_request_with(&by_imei(), Some(&proof([2; 32])), &rng)),
            "attestation.challenge"
        );
        assert_eq!(s, before);
        // A binding for another challenge.
        s.attestation_binding(&[3; 32], &rng).unwrap();
        assert_eq!(
            field(s.enroll_request_with(&by_imei(), Some(&proof([2; 32])), &rng)),
            "attestation.challenge"
        );
        // A plain request in between draws a new nonce: the binding is spent.
        s.enroll_request(&by_imei(), &rng).unwrap();
        assert_eq!(
            field(s.enroll_request_with(&by_imei(), Some(&proof([3; 32])), &rng)),
            "attestation.challenge"
        );
    }

    #[test]
    fn a_proof_out_of_bounds_or_without_an_imei_is_refused() {
        let rng = SystemRandom::new();
        let mut s = provisioned();
        s.attestation_binding(&[4; 32], &rng).unwrap();
        let mut p = proof([4; 32]);
        p.chain = vec![vec![0x30; 10]];
        assert!(s.enroll_request_with(&by_imei(), Some(&p), &rng).is_err());
        let mut by_code = fixtures::enroll_params();
        by_code.imei = None;
        match s.enroll_request_with(&by_code, Some(&proof([4; 32])), &rng) {
            Err(Error::InvalidField { field, .. }) => assert_eq!(field, "attestation"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_binding_needs_a_provisioned_unenrolled_device_and_32_bytes() {
        let rng = SystemRandom::new();
        assert!(matches!(
            DeviceState::default().attestation_binding(&[0; 32], &rng),
            Err(Error::NotEnrolled)
        ));
        let mut s = provisioned();
        assert!(matches!(
            s.attestation_binding(&[0; 31], &rng),
            Err(Error::InvalidField { .. })
        ));
        assert!(s.pending_key_thumbprint().is_none());
    }
}
