//! Conformance vectors for the wake-up push fields (PROTOCOL §3.6, ADR 0014).
//!
//! Two kinds, told apart by `kind`:
//! - `push-request`: a compact `finlock-enroll+jws` or `finlock-checkin+jws` signed by
//!   `device_key` → accepted, with what its `push_endpoint` asks (`register` with the URL,
//!   `none` for `""`, `no_change` when absent), or rejected with the code and field of the
//!   rule broken. A receiver that allows no plain http (a production server) reads them.
//! - `push-answer`: the JSON body of an enroll or check-in `200` → the `push_key` a device
//!   keeps from it (`null`: none, the device keeps what it had). A malformed key is read as
//!   none and never fails the answer.
//!
//! Numbered from [`FIRST_NUMBER`] on, after the entitlement and enrollment vectors.

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::Error;
use crate::fixtures::{self, DEVICE_ID};
use crate::jws;
use crate::keys::{Jwk, KeySet, PublicKey};
use crate::protocol::{
    self, CheckinRequest, CheckinResponse, EnrollRequest, EnrollResponse, UrlPolicy,
};

/// The number of the first push vector file.
pub const FIRST_NUMBER: usize = 116;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushVector {
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub case: Case,
}

/// Which message a vector carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    Enroll,
    Checkin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Case {
    PushRequest {
        message: Message,
        /// The key the request is signed with (`kid` = its thumbprint for an enrollment, the
        /// device id for a check-in).
        device_key: Jwk,
        jws: String,
        expected: RequestExpected,
    },
    PushAnswer {
        message: Message,
        body: serde_json::Value,
        /// The key a device keeps from this answer; `null`: none.
        push_key: Option<String>,
    },
}

/// What a request's `push_endpoint` asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "push", rename_all = "snake_case")]
pub enum Asked {
    Register { endpoint: String },
    None,
    NoChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RequestExpected {
    Accept {
        #[serde(flatten)]
        asked: Asked,
    },
    Reject {
        error: String,
        field: Option<String>,
    },
}

/// Whether a vector file is a push vector (its `kind` starts with `push-`).
pub fn is_push_vector(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("kind")?.as_str().map(|k| k.starts_with("push-")))
        .unwrap_or(false)
}

/// Reads a request as a strict receiver does: the signature, the shape, every field rule.
fn read_request(message: Message, device_key: &Jwk, text: &str) -> Result<Asked, Error> {
    // An enrollment is signed under the key's thumbprint, a check-in under the device id.
    let kid = match message {
        Message::Enroll => None,
        Message::Checkin => Some(DEVICE_ID.to_string()),
    };
    let set = KeySet::new(vec![PublicKey::from_jwk(&Jwk {
        kid,
        ..device_key.clone()
    })?])?;
    let payload = jws::parse(text)?.into_payload();
    let endpoint = match message {
        Message::Enroll => {
            jws::verify(text, jws::typ::ENROLL, &set)?;
            let r: EnrollRequest = protocol::decode_payload(&payload)?;
            r.validate_with(UrlPolicy::STRICT)?;
            r.push_endpoint
        }
        Message::Checkin => {
            jws::verify(text, jws::typ::CHECKIN, &set)?;
            let r: CheckinRequest = protocol::decode_payload(&payload)?;
            r.validate_with(UrlPolicy::STRICT)?;
            r.push_endpoint
        }
    };
    Ok(match endpoint {
        None => Asked::NoChange,
        Some(text) => match protocol::push_endpoint(&text, UrlPolicy::STRICT)? {
            Some(url) => Asked::Register {
                endpoint: url.to_string(),
            },
            None => Asked::None,
        },
    })
}

/// Reads the `push_key` a device keeps from an answer body.
fn read_answer(message: Message, body: &serde_json::Value) -> Result<Option<String>, Error> {
    let bytes = serde_json::to_vec(body).map_err(|e| Error::PayloadMalformed {
        detail: e.to_string(),
    })?;
    Ok(match message {
        Message::Enroll => crate::json::decode_object::<EnrollResponse>(&bytes)?.push_key,
        Message::Checkin => crate::json::decode_object::<CheckinResponse>(&bytes)?.push_key,
    })
}

/// Runs one vector; `Err` describes a mismatch.
pub fn check(v: &PushVector) -> Result<(), String> {
    match &v.case {
        Case::PushRequest {
            message,
            device_key,
            jws,
            expected,
        } => match (expected, read_request(*message, device_key, jws)) {
            (RequestExpected::Accept { asked }, Ok(got)) if *asked == got => Ok(()),
            (RequestExpected::Reject { error, field }, Err(e)) => {
                let got_field = match &e {
                    Error::InvalidField { field, .. } => Some(field.clone()),
                    _ => None,
                };
                if e.code() == error && *field == got_field {
                    Ok(())
                } else {
                    Err(format!("rejected with {} ({got_field:?})", e.code()))
                }
            }
            (expected, got) => Err(format!(
                "expected {expected:?}, got {:?}",
                got.map_err(|e| e.code())
            )),
        },
        Case::PushAnswer {
            message,
            body,
            push_key,
        } => match read_answer(*message, body) {
            Ok(got) if got == *push_key => Ok(()),
            got => Err(format!(
                "expected push_key {push_key:?}, got {:?}",
                got.map_err(|e| e.code())
            )),
        },
    }
}

pub fn check_text(text: &str) -> Result<(), String> {
    let v: PushVector = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check(&v)
}

pub fn file_name(v: &PushVector) -> String {
    format!("{}.json", v.name)
}

/// The exact bytes written for a vector (pretty JSON and a final newline).
pub fn render(v: &PushVector) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

const ENDPOINT: &str = "https://push.example.net/wpush/v2/gAAAAABk3Q9xTk9aQ2x";
const NONCE: [u8; 16] = [0x5A; 16];

/// An enrollment by code, as a phone sends it.
fn enroll_payload() -> serde_json::Value {
    serde_json::json!({
        "v": 1,
        "enrollment_code": "ABCD-EFGH-JKMN",
        "device_key": fixtures::device_key().public().to_jwk(),
        "nonce": b64::encode(NONCE),
        "model": "Finphone FP-1",
        "android_sdk": 34,
        "app_version": "1.4.0",
    })
}

/// A check-in, as a phone sends it.
fn checkin_payload() -> serde_json::Value {
    serde_json::json!({
        "v": 1,
        "device_id": DEVICE_ID,
        "nonce": b64::encode(NONCE),
        "seq_seen": 4,
        "state": "active",
        "locked": false,
        "app_version": "1.4.0",
        "wall_clock": fixtures::T0,
        "uptime_ms": 3_600_000,
        "events": [],
    })
}

fn sign(message: Message, payload: &serde_json::Value) -> String {
    let key = fixtures::device_key();
    let bytes = payload.to_string();
    match message {
        Message::Enroll => key.sign_as(
            &key.public().thumbprint(),
            jws::typ::ENROLL,
            bytes.as_bytes(),
        ),
        Message::Checkin => key.sign_as(DEVICE_ID, jws::typ::CHECKIN, bytes.as_bytes()),
    }
}

fn request(message: Message, endpoint: Option<serde_json::Value>) -> String {
    let mut p = match message {
        Message::Enroll => enroll_payload(),
        Message::Checkin => checkin_payload(),
    };
    if let (Some(e), Some(o)) = (endpoint, p.as_object_mut()) {
        o.insert("push_endpoint".into(), e);
    }
    sign(message, &p)
}

/// A valid VAPID public key: 65 bytes, 0x04 first.
fn key() -> String {
    let mut point = [0u8; protocol::PUSH_KEY_LEN];
    for (i, b) in point.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(29).wrapping_add(3);
    }
    point[0] = 0x04;
    b64::encode(point)
}

fn answer(message: Message, push_key: Option<serde_json::Value>) -> serde_json::Value {
    let mut body = match message {
        Message::Enroll => serde_json::json!({
            "device_id": DEVICE_ID,
            "entitlement": "eyJ…",
            "offline_secret": b64::encode(fixtures::OFFLINE_SECRET),
        }),
        Message::Checkin => serde_json::json!({ "entitlement": "eyJ…" }),
    };
    if let (Some(k), Some(o)) = (push_key, body.as_object_mut()) {
        o.insert("push_key".into(), k);
    }
    body
}

/// One vector in the making: name, description, message, the member sent (`None`: absent),
/// the expected outcome.
type Row<E> = (
    &'static str,
    &'static str,
    Message,
    Option<serde_json::Value>,
    E,
);

/// Every push vector, numbered from [`FIRST_NUMBER`].
pub fn vectors() -> Vec<PushVector> {
    use serde_json::json;
    let device_key = fixtures::device_key().public().to_jwk();
    let accept = |asked: Asked| RequestExpected::Accept { asked };
    let reject = |error: &str, field: Option<&str>| RequestExpected::Reject {
        error: error.into(),
        field: field.map(str::to_string),
    };
    let long = format!(
        "https://push.example.net/{}",
        "a".repeat(protocol::MAX_PUSH_ENDPOINT_LEN + 1 - "https://push.example.net/".len())
    );
    let longest = long[..protocol::MAX_PUSH_ENDPOINT_LEN].to_string();
    let requests: Vec<Row<RequestExpected>> = vec![
        (
            "push-enroll-endpoint",
            "An enrollment with a Web Push endpoint: wake this device there.",
            Message::Enroll,
            Some(json!(ENDPOINT)),
            accept(Asked::Register {
                endpoint: ENDPOINT.into(),
            }),
        ),
        (
            "push-checkin-endpoint",
            "A check-in with a new Web Push endpoint.",
            Message::Checkin,
            Some(json!(ENDPOINT)),
            accept(Asked::Register {
                endpoint: ENDPOINT.into(),
            }),
        ),
        (
            "push-checkin-endpoint-1024-bytes",
            "An endpoint of exactly 1024 bytes is accepted.",
            Message::Checkin,
            Some(json!(longest)),
            accept(Asked::Register {
                endpoint: longest.clone(),
            }),
        ),
        (
            "push-checkin-endpoint-empty",
            "The empty string: this device has no push endpoint any more.",
            Message::Checkin,
            Some(json!("")),
            accept(Asked::None),
        ),
        (
            "push-checkin-endpoint-absent",
            "No push_endpoint: no change (older phones, or nothing new to say).",
            Message::Checkin,
            None,
            accept(Asked::NoChange),
        ),
        (
            "push-checkin-endpoint-1025-bytes",
            "At most 1024 bytes.",
            Message::Checkin,
            Some(json!(long)),
            reject("invalid_field", Some("push_endpoint")),
        ),
        (
            "push-checkin-endpoint-http",
            "An endpoint must be https (plain http only to loopback, and only where the receiver allows it).",
            Message::Checkin,
            Some(json!("http://push.example.net/wpush/abc")),
            reject("invalid_field", Some("push_endpoint")),
        ),
        (
            "push-enroll-endpoint-http-loopback",
            "A receiver that allows no plain http refuses it to loopback too.",
            Message::Enroll,
            Some(json!("http://127.0.0.1:8080/push/1")),
            reject("invalid_field", Some("push_endpoint")),
        ),
        (
            "push-checkin-endpoint-not-a-url",
            "An endpoint is a web URL by the rules of §8.3 (here: user-info).",
            Message::Checkin,
            Some(json!("https://user@push.example.net/wpush")),
            reject("invalid_field", Some("push_endpoint")),
        ),
        (
            "push-checkin-endpoint-not-a-string",
            "push_endpoint is a string: anything else is malformed.",
            Message::Checkin,
            Some(json!(42)),
            reject("payload_malformed", None),
        ),
    ];
    let answers: Vec<Row<Option<String>>> = vec![
        (
            "push-enroll-answer-key",
            "An enrollment answer with the server's VAPID key: the device keeps it.",
            Message::Enroll,
            Some(json!(key())),
            Some(key()),
        ),
        (
            "push-checkin-answer-key",
            "A check-in answer with the server's VAPID key.",
            Message::Checkin,
            Some(json!(key())),
            Some(key()),
        ),
        (
            "push-checkin-answer-no-key",
            "No push_key: nothing new (the device keeps the key it had).",
            Message::Checkin,
            None,
            None,
        ),
        (
            "push-checkin-answer-key-compressed",
            "A compressed point (33 bytes) is no key: ignored, the answer stands.",
            Message::Checkin,
            Some(json!(b64::encode({
                let mut p = [7u8; 33];
                p[0] = 0x02;
                p
            }))),
            None,
        ),
        (
            "push-checkin-answer-key-padded",
            "Padded base64url is not canonical: ignored, the answer stands.",
            Message::Checkin,
            Some(json!(format!("{}=", key()))),
            None,
        ),
        (
            "push-enroll-answer-key-not-a-string",
            "A key of another type is ignored; it never fails the enrollment.",
            Message::Enroll,
            Some(json!(65)),
            None,
        ),
    ];
    let mut out: Vec<(&str, &str, Case)> = Vec::new();
    for (name, description, message, endpoint, expected) in requests {
        out.push((
            name,
            description,
            Case::PushRequest {
                message,
                device_key: device_key.clone(),
                jws: request(message, endpoint),
                expected,
            },
        ));
    }
    for (name, description, message, push_key, kept) in answers {
        out.push((
            name,
            description,
            Case::PushAnswer {
                message,
                body: answer(message, push_key),
                push_key: kept,
            },
        ));
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (name, description, case))| PushVector {
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
    fn every_push_vector_has_its_expected_outcome_and_can_fail() {
        let all = vectors();
        assert_eq!(all.len(), 16);
        for v in &all {
            check(v).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            let text = render(v);
            assert!(is_push_vector(&text), "{}", v.name);
            check_text(&text).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        }
        // The checker itself can fail: another outcome for a request, another key.
        let mut v = all[0].clone();
        if let Case::PushRequest { expected, .. } = &mut v.case {
            *expected = RequestExpected::Accept {
                asked: Asked::NoChange,
            };
        }
        assert!(check(&v).is_err());
        let mut v = all[all.len() - 1].clone();
        if let Case::PushAnswer { push_key, .. } = &mut v.case {
            *push_key = Some(key());
        }
        assert!(check(&v).is_err());
    }
}
