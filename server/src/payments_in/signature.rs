//! The Standard Webhooks signature (<https://www.standardwebhooks.com/>, v1): pure.
//!
//! A provider sends three headers: `webhook-id` (the message's unique id),
//! `webhook-timestamp` (integer Unix seconds) and `webhook-signature`, a space-separated
//! list of `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}` with the key the
//! secret `whsec_<base64>` encodes. A message passes when its timestamp is within
//! [`TOLERANCE_S`] of the server's clock and any `v1` entry matches any of the lender's
//! valid secrets (several during a rotation's overlap), compared in constant time
//! (`ring::hmac::verify`). Entries of other versions (`v1a`, asymmetric) are skipped.
//!
//! Implemented here with ring rather than the `standardwebhooks` crate, which uses the
//! RustCrypto `hmac` stack: one crypto library in the server (no OpenSSL, no second HMAC).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// The replay window: a message more than 5 minutes older or newer than the server's
/// clock is refused (the spec's recommended tolerance).
pub const TOLERANCE_S: i64 = 300;
/// The secret's prefix.
pub const SECRET_PREFIX: &str = "whsec_";
/// At most this many entries in `webhook-signature` are looked at (a rotation needs two).
pub const MAX_SIGNATURES: usize = 8;
/// Key lengths the spec allows (24 to 64 bytes); ours are 32.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
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

/// A signing secret, `whsec_<base64 of 24-64 bytes>`.
#[derive(Clone)]
pub struct Secret(hmac::Key);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Reads `whsec_<base64>`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Secret> {
        let raw = STANDARD.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?;
        KEY_BYTES
            .contains(&raw.len())
            .then(|| Secret(hmac::Key::new(hmac::HMAC_SHA256, &raw)))
    }

    /// A new secret from 32 random bytes, in its text form.
    pub fn generate() -> crate::Result<String> {
        Ok(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(crate::ids::secret_bytes::<32>()?)
        ))
    }
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

/// `{id}.{timestamp}.{body}`, the bytes that are signed.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` value a sender puts on `body` (tests, the docs, a provider
/// written in Rust).
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&secret.0, &signed_content(id, &timestamp.to_string(), body));
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
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
    let tags: Vec<Vec<u8>> = list
        .split(' ')
        .filter(|e| !e.is_empty())
        .take(MAX_SIGNATURES)
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if tags.is_empty() {
        return Err(Refusal::NoV1Signature);
    }
    if secrets.is_empty() {
        return Err(Refusal::NoSecret);
    }
    let content = signed_content(id, ts_text, body);
    // Every pair is tried (no early exit on the first secret), each compare constant-time.
    let mut matched = false;
    for secret in secrets {
        for tag in &tags {
            matched |= hmac::verify(&secret.0, &content, tag).is_ok();
        }
    }
    if !matched {
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

    #[test]
    fn another_secret_a_changed_body_id_or_timestamp_do_not_match() {
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
        assert_eq!(
            verify(headers("msg_2", &ts, &sig), b"{\"a\":1}", &[secret()], NOW),
            Err(Refusal::NoMatch)
        );
        let later = (NOW + 1).to_string();
        assert_eq!(
            verify(
                headers("msg_1", &later, &sig),
                b"{\"a\":1}",
                &[secret()],
                NOW
            ),
            Err(Refusal::NoMatch)
        );
    }

    /// A rotation: the sender signs with the new and the old secret; the receiver holds
    /// either. Any matching pair passes.
    #[test]
    fn any_entry_matching_any_secret_passes() {
        let ts = NOW.to_string();
        let new_text = Secret::generate().unwrap();
        let new = Secret::parse(&new_text).unwrap();
        let both = format!("{} {}", sign(&new, "msg_1", NOW, b"x"), signed(b"x"));
        assert!(verify(headers("msg_1", &ts, &both), b"x", &[secret()], NOW).is_ok());
        assert!(
            verify(
                headers("msg_1", &ts, &both),
                b"x",
                std::slice::from_ref(&new),
                NOW
            )
            .is_ok()
        );
        let only_new = sign(&new, "msg_1", NOW, b"x");
        assert!(
            verify(
                headers("msg_1", &ts, &only_new),
                b"x",
                &[secret(), new],
                NOW
            )
            .is_ok()
        );
        let with_unknown = format!("v1a,AAAA v9,zz {}", signed(b"x"));
        assert!(verify(headers("msg_1", &ts, &with_unknown), b"x", &[secret()], NOW).is_ok());
    }

    #[test]
    fn only_well_formed_secrets_are_read() {
        assert!(Secret::parse(&Secret::generate().unwrap()).is_some());
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_***",
            "whsec_AAAA",
            "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert!(Secret::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(format!("{:?}", secret()), "Secret(..)");
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

        /// A valid signature over a changed body (one byte flipped, added or removed) fails.
        #[test]
        fn a_valid_signature_over_a_changed_body_fails(
            body in proptest::collection::vec(any::<u8>(), 1..200),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            change in 0u8..3,
        ) {
            let sig = signed(&body);
            let ts = NOW.to_string();
            prop_assert!(verify(headers("msg_1", &ts, &sig), &body, &[secret()], NOW).is_ok());
            let mut changed = body.clone();
            let i = at.index(body.len());
            match change {
                0 => changed[i] ^= flip,
                1 => changed.insert(i, flip),
                _ => { changed.remove(i); }
            }
            prop_assert_eq!(
                verify(headers("msg_1", &ts, &sig), &changed, &[secret()], NOW),
                Err(Refusal::NoMatch)
            );
        }
    }
}
