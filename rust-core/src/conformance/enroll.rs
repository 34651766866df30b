//! Conformance vectors for attested enrollment (PROTOCOL §3.1, ADR 0011): the exact
//! binding message, and the shape of an enroll request that carries an attestation.
//!
//! Two kinds, told apart by `kind`:
//! - `attestation-binding`: a challenge, a nonce and a device key → the 110 bytes the
//!   attested key must sign (hex).
//! - `enroll-request`: a compact `finlock-enroll+jws` → accepted (with the binding message
//!   its attestation signature must cover, or none without attestation) or rejected with the
//!   stable code and field of the rule broken. These check the request's envelope and field
//!   rules only: the certificates in them are opaque bytes (a device never parses them); the
//!   server's chain verification is tested in `server/src/attestation/`.
//!
//! Numbered from [`FIRST_NUMBER`] on, after the entitlement vectors.

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::Error;
use crate::fixtures;
use crate::hex;
use crate::jws;
use crate::keys::{Jwk, KeySet, PublicKey};
use crate::protocol::{self, EnrollAttestation, EnrollRequest, binding_message};

/// The number of the first enrollment vector file.
pub const FIRST_NUMBER: usize = 97;

/// One enrollment vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollVector {
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub case: Case,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Case {
    AttestationBinding {
        /// 32 bytes, base64url.
        challenge: String,
        /// The request's nonce (16 bytes, base64url).
        nonce: String,
        /// The device's Ed25519 key; its RFC 7638 thumbprint is bound.
        device_key: Jwk,
        /// The binding message, lower-case hex.
        expected_message_hex: String,
    },
    EnrollRequest {
        jws: String,
        expected: Expected,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Expected {
    /// The request passes; `binding_message_hex` is what its attestation's signature must
    /// cover (`null` without attestation).
    Accept { binding_message_hex: Option<String> },
    /// Refused with this code (and field, for `invalid_field`).
    Reject {
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
}

/// Whether a vector file is an enrollment vector (it names a `kind`).
pub fn is_enroll_vector(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.get("kind").is_some())
}

/// Reads an enroll request as a server does: the key it carries verifies it, then every
/// field rule; returns the binding message its attestation signs.
fn read(jws_text: &str) -> Result<Option<Vec<u8>>, Error> {
    let parsed = jws::parse(jws_text)?;
    let request: EnrollRequest = protocol::decode_payload(&parsed.into_payload())?;
    let key = PublicKey::from_jwk(&Jwk {
        kid: None,
        ..request.device_key.clone()
    })?;
    jws::verify(jws_text, jws::typ::ENROLL, &KeySet::new(vec![key.clone()])?)?;
    request.validate()?;
    match &request.attestation {
        None => Ok(None),
        Some(a) => {
            let decoded = a.decode()?;
            binding_message(&decoded.challenge, &request.nonce, &key.thumbprint()).map(Some)
        }
    }
}

/// Runs one vector; `Err` describes a mismatch.
pub fn check(v: &EnrollVector) -> Result<(), String> {
    match &v.case {
        Case::AttestationBinding {
            challenge,
            nonce,
            device_key,
            expected_message_hex,
        } => {
            let challenge = b64::decode(challenge).ok_or("challenge is not base64url")?;
            let key = PublicKey::from_jwk(device_key).map_err(|e| e.to_string())?;
            let message =
                binding_message(&challenge, nonce, &key.thumbprint()).map_err(|e| e.to_string())?;
            if hex::encode(&message) == *expected_message_hex {
                Ok(())
            } else {
                Err(format!("binding message is {}", hex::encode(&message)))
            }
        }
        Case::EnrollRequest { jws, expected } => match (expected, read(jws)) {
            (
                Expected::Accept {
                    binding_message_hex,
                },
                Ok(message),
            ) => {
                if message.as_ref().map(hex::encode) == *binding_message_hex {
                    Ok(())
                } else {
                    Err(format!(
                        "accepted with binding message {:?}",
                        message.map(hex::encode)
                    ))
                }
            }
            (Expected::Reject { error, field }, Err(e)) => {
                let got_field = match &e {
                    Error::InvalidField { field, .. } => Some(field.clone()),
                    _ => None,
                };
                if e.code() == error && (field.is_none() || *field == got_field) {
                    Ok(())
                } else {
                    Err(format!("rejected with {} ({got_field:?})", e.code()))
                }
            }
            (expected, got) => Err(format!(
                "expected {expected:?}, got {:?}",
                got.map(|m| m.map(hex::encode)).map_err(|e| e.code())
            )),
        },
    }
}

/// Parses and runs a vector file's text.
pub fn check_text(text: &str) -> Result<(), String> {
    let v: EnrollVector = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check(&v)
}

pub fn file_name(v: &EnrollVector) -> String {
    format!("{}.json", v.name)
}

/// The exact bytes written for a vector (pretty JSON and a final newline).
pub fn render(v: &EnrollVector) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

const CHALLENGE: [u8; 32] = [0xC4; 32];
const NONCE: [u8; 16] = [0x4E; 16];

/// Opaque "certificates" of the given sizes (a device does not parse them).
fn chain(sizes: &[usize]) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut der = vec![0x30, 0x82, (i & 0xff) as u8];
            der.resize(n.max(3), 0xA0 + i as u8);
            der.truncate(n);
            der
        })
        .collect()
}

/// The request every enroll vector starts from: by IMEI, with a 4-certificate attestation.
fn payload() -> serde_json::Value {
    let key = fixtures::device_key().public();
    let message =
        binding_message(&CHALLENGE, &b64::encode(NONCE), &key.thumbprint()).unwrap_or_default();
    // A stand-in for the attested key's DER ECDSA signature over `message`.
    let mut signature = vec![0x30, 0x45];
    signature.extend_from_slice(&message[..69]);
    serde_json::json!({
        "v": 1,
        "device_key": key.to_jwk(),
        "nonce": b64::encode(NONCE),
        "imei_sha256": protocol::imei_sha256("490154203237518"),
        "model": "Finphone FP-1",
        "android_sdk": 34,
        "app_version": "1.4.0",
        "attestation": EnrollAttestation::from_bytes(
            &CHALLENGE,
            &chain(&[820, 560, 985, 1380]),
            &signature,
        ),
    })
}

fn sign(payload: &serde_json::Value) -> String {
    let key = fixtures::device_key();
    key.sign_as(
        &key.public().thumbprint(),
        jws::typ::ENROLL,
        payload.to_string().as_bytes(),
    )
}

/// Every enrollment vector, numbered from [`FIRST_NUMBER`].
pub fn vectors() -> Vec<EnrollVector> {
    let mut out: Vec<(&str, &str, Case)> = Vec::new();
    let key = fixtures::device_key().public();
    let message = binding_message(&CHALLENGE, &b64::encode(NONCE), &key.thumbprint())
        .map(hex::encode)
        .unwrap_or_default();
    out.push((
        "enroll-attestation-binding",
        "The 110 bytes the attested key signs: \"finlock-enroll-attestation-v1\" 0x00, the challenge, the nonce, the SHA-256 thumbprint of the device key.",
        Case::AttestationBinding {
            challenge: b64::encode(CHALLENGE),
            nonce: b64::encode(NONCE),
            device_key: key.to_jwk(),
            expected_message_hex: message.clone(),
        },
    ));
    let accept = |m: Option<String>| Expected::Accept {
        binding_message_hex: m,
    };
    let reject = |field: &str| Expected::Reject {
        error: "invalid_field".into(),
        field: Some(field.into()),
    };
    out.push((
        "enroll-attested-request",
        "An enrollment by IMEI with an attestation of 4 certificates: accepted; its signature must cover the binding message of this request's challenge, nonce and key.",
        Case::EnrollRequest {
            jws: sign(&payload()),
            expected: accept(Some(message)),
        },
    ));
    let mut plain = payload();
    if let Some(o) = plain.as_object_mut() {
        o.remove("attestation");
    }
    out.push((
        "enroll-request-without-attestation",
        "An enrollment by IMEI without proof is well-formed (the server answers 202 until the lender approves).",
        Case::EnrollRequest {
            jws: sign(&plain),
            expected: accept(None),
        },
    ));
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = payload();
        f(&mut p);
        sign(&p)
    };
    let set_chain = |sizes: &'static [usize]| {
        move |p: &mut serde_json::Value| {
            p["attestation"]["chain"] =
                serde_json::json!(chain(sizes).iter().map(b64::encode).collect::<Vec<_>>());
        }
    };
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "enroll-attested-one-certificate",
            "A chain needs at least the leaf and a root.",
            with(&set_chain(&[820])),
            "attestation.chain",
        ),
        (
            "enroll-attested-nine-certificates",
            "At most 8 certificates.",
            with(&set_chain(&[300; 9])),
            "attestation.chain",
        ),
        (
            "enroll-attested-chain-7169-bytes",
            "At most 7168 bytes of DER in all (what keeps the request within 16 KiB).",
            with(&set_chain(&[1793, 1792, 1792, 1792])),
            "attestation.chain",
        ),
        (
            "enroll-attested-empty-certificate",
            "Every certificate has at least one byte.",
            with(&set_chain(&[820, 0, 985])),
            "attestation.chain",
        ),
        (
            "enroll-attested-padded-base64",
            "Base64url must be canonical: no padding.",
            with(&|p| {
                let first = p["attestation"]["chain"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                p["attestation"]["chain"][0] = serde_json::json!(format!("{first}=="));
            }),
            "attestation.chain",
        ),
        (
            "enroll-attested-challenge-31-bytes",
            "The challenge is exactly 32 bytes.",
            with(&|p| p["attestation"]["challenge"] = serde_json::json!(b64::encode([0xC4; 31]))),
            "attestation.challenge",
        ),
        (
            "enroll-attested-signature-513-bytes",
            "The signature is 1 to 512 bytes.",
            with(&|p| p["attestation"]["signature"] = serde_json::json!(b64::encode([0x30; 513]))),
            "attestation.signature",
        ),
        (
            "enroll-attested-empty-signature",
            "The signature is 1 to 512 bytes.",
            with(&|p| p["attestation"]["signature"] = serde_json::json!("")),
            "attestation.signature",
        ),
        (
            "enroll-attested-without-imei",
            "An attestation proves an IMEI: without imei_sha256 (an enrollment by code) it is refused.",
            with(&|p| {
                if let Some(o) = p.as_object_mut() {
                    o.remove("imei_sha256");
                    o.insert(
                        "enrollment_code".into(),
                        serde_json::json!("ABCD-EFGH-JKMN"),
                    );
                }
            }),
            "attestation",
        ),
    ];
    for (name, description, jws, field) in cases {
        out.push((
            name,
            description,
            Case::EnrollRequest {
                jws,
                expected: reject(field),
            },
        ));
    }
    out.push((
        "enroll-attested-payload-swapped",
        "The attestation is inside the payload the device key signs: changing it breaks the signature.",
        Case::EnrollRequest {
            jws: {
                let good = sign(&payload());
                let other = sign(&{
                    let mut p = payload();
                    p["attestation"]["challenge"] = serde_json::json!(b64::encode([0xC5; 32]));
                    p
                });
                let parts: Vec<&str> = good.split('.').collect();
                let other_parts: Vec<&str> = other.split('.').collect();
                format!("{}.{}.{}", parts[0], other_parts[1], parts[2])
            },
            expected: Expected::Reject {
                error: "jws_bad_signature".into(),
                field: None,
            },
        },
    ));
    out.into_iter()
        .enumerate()
        .map(|(i, (name, description, case))| EnrollVector {
            name: format!("{:03}-{name}", FIRST_NUMBER + i),
            description: description.into(),
            case,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enroll_vector_has_its_expected_outcome_and_can_fail() {
        let all = vectors();
        assert_eq!(all.len(), 13);
        for v in &all {
            check(v).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert!(is_enroll_vector(&render(v)));
        }
        // The checker itself can fail: a wrong message, a wrong outcome.
        let mut v = all[0].clone();
        if let Case::AttestationBinding {
            expected_message_hex,
            ..
        } = &mut v.case
        {
            expected_message_hex.replace_range(0..2, "00");
        }
        assert!(check(&v).is_err());
        let mut v = all[1].clone();
        if let Case::EnrollRequest { expected, .. } = &mut v.case {
            *expected = Expected::Accept {
                binding_message_hex: None,
            };
        }
        assert!(check(&v).is_err());
    }
}
