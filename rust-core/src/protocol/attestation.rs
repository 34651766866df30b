//! The hardware proof that may travel with an enrollment by IMEI (PROTOCOL §3.1,
//! "Attested enrollment"; ADR 0011): an Android key attestation chain and a signature by
//! the attested key over the binding message.
//!
//! The core never holds the attested key (it lives in the phone's Keystore, and the shell
//! signs with it) and never looks inside the chain: it builds the exact bytes to sign, and
//! checks the proof's *shape* against the protocol's bounds, which keep an enroll request
//! within the 16 KiB envelope of §2. The server verifies the chain.

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::{Error, Result};

/// Bytes of a server-issued attestation challenge.
pub const ATTESTATION_CHALLENGE_LEN: usize = 32;
/// Certificates in a chain: the attested key's leaf and at least a root above it; real
/// chains have 3 to 5.
pub const MIN_ATTESTATION_CHAIN: usize = 2;
pub const MAX_ATTESTATION_CHAIN: usize = 8;
/// DER bytes of the whole chain: real chains are 2.5–4 KiB (Google's RSA-4096 root alone
/// is 1.4 KiB). 7 KiB is what still fits a worst-case request into 16 KiB (§3.1).
pub const MAX_ATTESTATION_CHAIN_BYTES: usize = 7 * 1024;
/// Bytes of the binding signature: an RSA-4096 signature is 512 bytes, a DER ECDSA P-384
/// one at most 104.
pub const MAX_ATTESTATION_SIGNATURE: usize = 512;
/// The domain separation label at the start of every binding message.
pub const BINDING_LABEL: &[u8] = b"finlock-enroll-attestation-v1\0";
/// Bytes of a binding message: label, challenge, nonce, thumbprint.
pub const BINDING_LEN: usize = BINDING_LABEL.len() + ATTESTATION_CHALLENGE_LEN + 16 + 32;

/// `attestation` of an enroll request, as it travels (all canonical base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollAttestation {
    /// The challenge the server issued (`POST /v1/enroll/challenge`), 32 bytes.
    pub challenge: String,
    /// The attestation certificate chain, DER, leaf (the attested key) first.
    pub chain: Vec<String>,
    /// The attested key's signature over [`binding_message`].
    pub signature: String,
}

impl EnrollAttestation {
    /// Encodes a proof made of raw bytes (what the shell hands over).
    pub fn from_bytes(challenge: &[u8], chain: &[Vec<u8>], signature: &[u8]) -> EnrollAttestation {
        EnrollAttestation {
            challenge: b64::encode(challenge),
            chain: chain.iter().map(b64::encode).collect(),
            signature: b64::encode(signature),
        }
    }

    /// The field rules of §3.1: every part canonical base64url, the challenge 32 bytes,
    /// 2–8 certificates of at least one byte and at most 7 KiB of DER in all, a signature
    /// of 1–512 bytes. Returns the decoded parts.
    pub fn decode(&self) -> Result<DecodedAttestation> {
        let challenge = b64::decode_array::<ATTESTATION_CHALLENGE_LEN>(&self.challenge).ok_or(
            Error::invalid("attestation.challenge", "32 bytes of canonical base64url"),
        )?;
        if !(MIN_ATTESTATION_CHAIN..=MAX_ATTESTATION_CHAIN).contains(&self.chain.len()) {
            return Err(Error::invalid("attestation.chain", "2 to 8 certificates"));
        }
        // Bound the work before decoding: base64url is 4 characters per 3 bytes.
        let encoded: usize = self.chain.iter().map(String::len).sum();
        if encoded > MAX_ATTESTATION_CHAIN_BYTES.div_ceil(3) * 4 + 3 * MAX_ATTESTATION_CHAIN {
            return Err(Error::invalid(
                "attestation.chain",
                "at most 7168 bytes of DER in all",
            ));
        }
        let mut chain = Vec::with_capacity(self.chain.len());
        for cert in &self.chain {
            match b64::decode(cert) {
                Some(der) if !der.is_empty() => chain.push(der),
                _ => {
                    return Err(Error::invalid(
                        "attestation.chain",
                        "each certificate is non-empty canonical base64url DER",
                    ));
                }
            }
        }
        if chain.iter().map(Vec::len).sum::<usize>() > MAX_ATTESTATION_CHAIN_BYTES {
            return Err(Error::invalid(
                "attestation.chain",
                "at most 7168 bytes of DER in all",
            ));
        }
        let signature = match b64::decode(&self.signature) {
            Some(s) if (1..=MAX_ATTESTATION_SIGNATURE).contains(&s.len()) => s,
            _ => {
                return Err(Error::invalid(
                    "attestation.signature",
                    "1 to 512 bytes of canonical base64url",
                ));
            }
        };
        Ok(DecodedAttestation {
            challenge,
            chain,
            signature,
        })
    }
}

/// An [`EnrollAttestation`] that passed the field rules, as bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodedAttestation {
    pub challenge: [u8; ATTESTATION_CHALLENGE_LEN],
    pub chain: Vec<Vec<u8>>,
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for DecodedAttestation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The leaf carries the device's IMEI and serial: personal data, never printed.
        f.debug_struct("DecodedAttestation")
            .field("certificates", &self.chain.len())
            .field("signature_len", &self.signature.len())
            .finish_non_exhaustive()
    }
}

/// The message the attested key signs (§3.1), 110 bytes:
///
/// `"finlock-enroll-attestation-v1" 0x00 || challenge (32) || nonce (16) || SHA-256 of the
/// device key (32, the RFC 7638 thumbprint's bytes)`
///
/// It ties the hardware-attested key to this server's challenge, to this request (its
/// nonce) and to the Ed25519 key the request binds, so neither a chain nor a signature
/// can be moved to another request or another key. `nonce` and `key_thumbprint` are the
/// request's own base64url strings.
pub fn binding_message(challenge: &[u8], nonce: &str, key_thumbprint: &str) -> Result<Vec<u8>> {
    if challenge.len() != ATTESTATION_CHALLENGE_LEN {
        return Err(Error::invalid("challenge", "32 bytes"));
    }
    let nonce = b64::decode_array::<16>(nonce).ok_or(Error::invalid(
        "nonce",
        "wrong length or not canonical base64url",
    ))?;
    let thumbprint = b64::decode_array::<32>(key_thumbprint).ok_or(Error::invalid(
        "device_key",
        "thumbprint is not 32 bytes of base64url",
    ))?;
    let mut message = Vec::with_capacity(BINDING_LEN);
    message.extend_from_slice(BINDING_LABEL);
    message.extend_from_slice(challenge);
    message.extend_from_slice(&nonce);
    message.extend_from_slice(&thumbprint);
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(certs: usize, cert_len: usize, sig_len: usize) -> EnrollAttestation {
        EnrollAttestation::from_bytes(
            &[7; 32],
            &vec![vec![0x30; cert_len]; certs],
            &vec![1; sig_len],
        )
    }

    fn field_of(a: &EnrollAttestation) -> String {
        match a.decode() {
            Err(Error::InvalidField { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_proof_within_the_bounds_decodes() {
        let d = proof(4, 900, 72).decode().unwrap();
        assert_eq!(d.challenge, [7; 32]);
        assert_eq!(d.chain.len(), 4);
        assert_eq!(d.signature.len(), 72);
        // The largest allowed.
        let max = proof(8, MAX_ATTESTATION_CHAIN_BYTES / 8, 512);
        max.decode().unwrap();
    }

    #[test]
    fn every_bound_is_enforced() {
        assert_eq!(field_of(&proof(1, 900, 72)), "attestation.chain");
        assert_eq!(field_of(&proof(9, 100, 72)), "attestation.chain");
        assert_eq!(field_of(&proof(2, 0, 72)), "attestation.chain");
        assert_eq!(
            field_of(&proof(8, MAX_ATTESTATION_CHAIN_BYTES / 8 + 1, 72)),
            "attestation.chain"
        );
        assert_eq!(field_of(&proof(3, 900, 0)), "attestation.signature");
        assert_eq!(field_of(&proof(3, 900, 513)), "attestation.signature");
        let mut a = proof(3, 900, 72);
        a.challenge = b64::encode([7; 31]);
        assert_eq!(field_of(&a), "attestation.challenge");
        let mut a = proof(3, 900, 72);
        a.chain[1].push('='); // padded: not canonical
        assert_eq!(field_of(&a), "attestation.chain");
        let mut a = proof(3, 900, 72);
        a.signature = "a+b/".into(); // the standard alphabet
        assert_eq!(field_of(&a), "attestation.signature");
    }

    #[test]
    fn a_huge_chain_is_refused_before_it_is_decoded() {
        let mut a = proof(2, 10, 72);
        a.chain[0] = "A".repeat(100_000);
        assert_eq!(field_of(&a), "attestation.chain");
    }

    #[test]
    fn the_binding_message_is_label_challenge_nonce_thumbprint() {
        let nonce = b64::encode([0xA5; 16]);
        let thumb = b64::encode([0x5A; 32]);
        let m = binding_message(&[0x11; 32], &nonce, &thumb).unwrap();
        assert_eq!(m.len(), BINDING_LEN);
        assert_eq!(BINDING_LEN, 110);
        assert_eq!(&m[..30], b"finlock-enroll-attestation-v1\0");
        assert_eq!(&m[30..62], &[0x11; 32]);
        assert_eq!(&m[62..78], &[0xA5; 16]);
        assert_eq!(&m[78..], &[0x5A; 32]);
        // Each input changes the message.
        assert_ne!(m, binding_message(&[0x12; 32], &nonce, &thumb).unwrap());
        assert!(binding_message(&[0x11; 31], &nonce, &thumb).is_err());
        assert!(binding_message(&[0x11; 32], "short", &thumb).is_err());
        assert!(binding_message(&[0x11; 32], &nonce, "not-a-thumbprint").is_err());
    }

    /// The bounds keep the largest enroll request the rules allow inside §2's 16 KiB: every
    /// field at its longest (model and app version in 4-byte characters), a chain of 8
    /// certificates with 7168 bytes of DER, a 512-byte signature.
    #[test]
    fn the_largest_attested_enroll_request_fits_the_envelope() {
        let key = crate::keys::DeviceKey::generate().unwrap();
        let public = key.public();
        let attestation = EnrollAttestation::from_bytes(
            &[0xff; 32],
            &vec![
                vec![0xff; MAX_ATTESTATION_CHAIN_BYTES / MAX_ATTESTATION_CHAIN];
                MAX_ATTESTATION_CHAIN
            ],
            &[0xff; MAX_ATTESTATION_SIGNATURE],
        );
        attestation.decode().unwrap();
        let payload = serde_json::json!({
            "v": 1,
            "enrollment_code": "A".repeat(64),
            "device_key": public.to_jwk(),
            "nonce": b64::encode([0xff; 16]),
            "imei_sha256": "f".repeat(64),
            "serial_sha256": "f".repeat(64),
            "model": "\u{1D11E}".repeat(64),
            "android_sdk": 1000,
            "app_version": "\u{1D11E}".repeat(32),
            "keys_seq": 9_007_199_254_740_991_u64,
            "attestation": attestation,
        });
        let request: crate::protocol::EnrollRequest =
            serde_json::from_value(payload.clone()).unwrap();
        request.validate().unwrap();
        let jws = key.sign_as(
            &public.thumbprint(),
            crate::jws::typ::ENROLL,
            payload.to_string().as_bytes(),
        );
        assert!(jws.len() <= crate::jws::MAX_JWS_LEN, "{} bytes", jws.len());
        // What a typical request costs: a 4-certificate TEE chain of 3.7 KiB and a DER
        // ECDSA P-256 signature.
        let typical = EnrollAttestation::from_bytes(
            &[0xff; 32],
            &[
                vec![0xff; 800],
                vec![0xff; 560],
                vec![0xff; 985],
                vec![0xff; 1380],
            ],
            &[0xff; 71],
        );
        let size = serde_json::to_string(&typical).unwrap().len();
        assert!((5_000..5_200).contains(&size), "{size}");
    }

    #[test]
    fn debug_prints_no_certificate_bytes() {
        let d = proof(2, 40, 8).decode().unwrap();
        let text = format!("{d:?}");
        assert!(text.contains("certificates: 2") && !text.contains("48"));
    }
}
