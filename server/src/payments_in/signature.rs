//! Payments in: the Standard Webhooks header rules and replay window for what a provider
//! sends (the HMAC, the `whsec_` secret and the `v1,` list are `crate::standard_webhooks`).
//!
//! A provider sends `webhook-id`, `webhook-timestamp` and `webhook-signature`. A message
//! passes when its id is 1 to 255 printable ASCII characters, its timestamp is within
//! [`TOLERANCE_S`] of the server's clock and any `v1` entry matches any of the lender's
//! valid secrets (several during a rotation's overlap), compared in constant time.

pub use crate::standard_webhooks::{MAX_SIGNATURES, SECRET_PREFIX, Secret, sign};
use crate::standard_webhooks::{any_matches, v1_tags};

/// The replay window: a message more than 5 minutes older or newer than the server's
/// clock is refused (the spec's recommended tolerance).
pub const TOLERANCE_S: i64 = 300;
/// `webhook-id`: 1 to 255 printable ASCII characters.
const MAX_ID: usize = 255;

/// Why a message is refused; each is answered 401 with nothing stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("webhook-id must be 1 to 255 printable ASCII characters")]
    BadId,
    #[error("webhook-timestamp must be integer Unix seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is more than 5 minutes away from the server's clock")]
    OutsideWindow,
    #[error("webhook-signature holds no v1 signature")]
    NoV1Signature,
    #[error("no signature matches a valid secret of this lender")]
    NoMatch,
    #[error("no notification secret is set for this lender")]
    NoSecret,
}

/// The three headers as received (`None`: absent or not visible ASCII).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// The message, checked: its id and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub id: &'a str,
    pub timestamp: i64,
}

/// Checks the headers and the body against the lender's valid `secrets` at `now`.
pub fn verify<'a>(
    headers: Headers<'a>,
    body: &[u8],
    secrets: &[Secret],
    now: i64,
) -> Result<Verified<'a>, Refusal> {
    let id = headers.id.ok_or(Refusal::MissingHeader("webhook-id"))?;
    let ts_text = headers
        .timestamp
        .ok_or(Refusal::MissingHeader("webhook-timestamp"))?;
    let list = headers
        .signature
        .ok_or(Refusal::MissingHeader("webhook-signature"))?;
    if id.is_empty() || id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::BadId);
    }
    let timestamp = parse_timestamp(ts_text).ok_or(Refusal::BadTimestamp)?;
    if now.abs_diff(timestamp) > TOLERANCE_S.unsigned_abs() {
        return Err(Refusal::OutsideWindow);
    }
    let tags = v1_tags(list);
    if tags.is_empty() {
        return Err(Refusal::NoV1Signature);
    }
    if secrets.is_empty() {
        return Err(Refusal::NoSecret);
    }
    if !any_matches(secrets, &tags, id, ts_text, body) {
        return Err(Refusal::NoMatch);
    }
    Ok(Verified { id, timestamp })
}

/// Integer Unix seconds: 1 to 12 ASCII digits (no sign, no spaces).
fn parse_timestamp(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_767_225_600;

    fn secret() -> Secret {
        Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> Headers<'a> {
        Headers {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    /// The spec's own example (its reference libraries' test vector).
    #[test]
    fn the_specification_vector_signs_and_verifies() {
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(
            &secret(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let h = headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &sig);
        assert_eq!(
            verify(h, body, &[secret()], 1_614_265_330 + 10),
            Ok(Verified {
                id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                timestamp: 1_614_265_330
            })
        );
    }

    fn signed(body: &[u8]) -> String {
        sign(&secret(), "msg_1", NOW, body)
    }

    #[test]
    fn each_missing_header_is_named() {
        let sig = signed(b"{}");
        let ts = NOW.to_string();
        let full = headers("msg_1", &ts, &sig);
        for (h, name) in [
            (Headers { id: None, ..full }, "webhook-id"),
            (
                Headers {
                    timestamp: None,
                    ..full
                },
                "webhook-timestamp",
            ),
            (
                Headers {
                    signature: None,
                    ..full
                },
                "webhook-signature",
            ),
        ] {
            assert_eq!(
                verify(h, b"{}", &[secret()], NOW),
                Err(Refusal::MissingHeader(name))
            );
        }
    }

    #[test]
    fn a_bad_id_is_refused() {
        let ts = NOW.to_string();
        let long = "m".repeat(256);
        for id in ["", "msg 1", "msg\u{e9}", long.as_str()] {
            let sig = sign(&secret(), id, NOW, b"{}");
            assert_eq!(
                verify(headers(id, &ts, &sig), b"{}", &[secret()], NOW),
                Err(Refusal::BadId),
                "{id:?}"
            );
        }
    }

    #[test]
    fn a_timestamp_that_is_not_integer_seconds_is_refused() {
        let sig = signed(b"{}");
        for ts in [
            "",
            "-1",
            "+1767225600",
            "1767225600.0",
            "1767225600000000",
            " 1",
        ] {
            assert_eq!(
                verify(headers("msg_1", ts, &sig), b"{}", &[secret()], NOW),
                Err(Refusal::BadTimestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn a_timestamp_outside_five_minutes_is_refused_either_way() {
        for (at, ok) in [
            (NOW - 301, false),
            (NOW - 300, true),
            (NOW + 300, true),
            (NOW + 301, false),
        ] {
            let sig = sign(&secret(), "msg_1", at, b"{}");
            let ts = at.to_string();
            let got = verify(headers("msg_1", &ts, &sig), b"{}", &[secret()], NOW);
            if ok {
                assert!(got.is_ok(), "{at}: {got:?}");
            } else {
                assert_eq!(got, Err(Refusal::OutsideWindow), "{at}");
            }
        }
    }

    #[test]
    fn a_signature_list_without_v1_is_refused() {
        let ts = NOW.to_string();
        for sig in ["", " ", "v1a,abc", "v2,AAAA", "v1,***", "g0hM9SsE+OTPJTGt"] {
            assert_eq!(
                verify(headers("msg_1", &ts, sig), b"{}", &[secret()], NOW),
                Err(Refusal::NoV1Signature),
                "{sig:?}"
            );
        }
    }

    #[test]
    fn a_lender_without_a_secret_verifies_nothing() {
        let ts = NOW.to_string();
        let sig = signed(b"{}");
        assert_eq!(
            verify(headers("msg_1", &ts, &sig), b"{}", &[], NOW),
            Err(Refusal::NoSecret)
        );
    }

    /// The comparison itself (rotations, every changed part) is tested in
    /// `standard_webhooks`; here: a mismatch is refused as such, and the signed timestamp
    /// is the header's text.
    #[test]
    fn a_signature_that_does_not_match_is_refused() {
        let ts = NOW.to_string();
        let sig = signed(b"{\"a\":1}");
        let other = Secret::parse(&Secret::generate().unwrap()).unwrap();
        assert_eq!(
            verify(headers("msg_1", &ts, &sig), b"{\"a\":1}", &[other], NOW),
            Err(Refusal::NoMatch)
        );
        assert_eq!(
            verify(headers("msg_1", &ts, &sig), b"{\"a\":2}", &[secret()], NOW),
            Err(Refusal::NoMatch)
        );
        let padded = format!("0{ts}");
        assert_eq!(
            verify(
                headers("msg_1", &padded, &sig),
                b"{\"a\":1}",
                &[secret()],
                NOW
            ),
            Err(Refusal::NoMatch)
        );
    }

    proptest! {
        /// Arbitrary headers and bodies never verify (without the secret, a signature is
        /// a 2^-256 guess).
        #[test]
        fn arbitrary_headers_and_bodies_never_verify(
            id in ".{0,40}",
            ts in prop_oneof![Just(NOW.to_string()), "[0-9]{0,12}", ".{0,14}"],
            sig in prop_oneof![".{0,120}", "v1,[A-Za-z0-9+/]{43}=", "(v1,[A-Za-z0-9+/=]{0,50} ?){0,4}"],
            body in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let got = verify(headers(&id, &ts, &sig), &body, &[secret()], NOW);
            prop_assert!(got.is_err(), "{got:?}");
        }
    }
}
