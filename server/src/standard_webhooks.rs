//! The Standard Webhooks signature (<https://www.standardwebhooks.com/>, v1), once for
//! both directions: pure, ring only.
//!
//! A message carries `webhook-id`, `webhook-timestamp` (integer Unix seconds) and
//! `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}` with the key the secret `whsec_<base64>` encodes. Payments in
//! (`payments_in::signature`) verifies what providers send with this; webhooks out
//! (`webhooks::signing`) signs what lenders receive with it. The header rules and the
//! replay window belong to each caller.
//!
//! Implemented with ring rather than the `standardwebhooks` crate, which uses the
//! RustCrypto `hmac` stack: one crypto library in the server (no OpenSSL, no second HMAC).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// The secret's prefix.
pub const SECRET_PREFIX: &str = "whsec_";
/// At most this many entries in `webhook-signature` are looked at (a rotation needs two).
pub const MAX_SIGNATURES: usize = 8;
/// Key lengths the spec allows (24 to 64 bytes); ours are 32.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

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

/// `{id}.{timestamp}.{body}`, the bytes that are signed. The timestamp is the header's
/// text as received, so a receiver checks exactly what was signed.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` value for `body`: one `v1,` entry.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&secret.0, &signed_content(id, &timestamp.to_string(), body));
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// The decoded `v1` tags of a `webhook-signature` list: the first [`MAX_SIGNATURES`]
/// entries are looked at; other versions (`v1a`, asymmetric) and bad base64 are skipped.
pub fn v1_tags(list: &str) -> Vec<Vec<u8>> {
    list.split(' ')
        .filter(|e| !e.is_empty())
        .take(MAX_SIGNATURES)
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect()
}

/// Whether any tag is the signature of `{id}.{timestamp}.{body}` under any secret
/// (several during a rotation's overlap). Every pair is tried (no early exit on the first
/// secret), each compared in constant time (`ring::hmac::verify`).
pub fn any_matches(
    secrets: &[Secret],
    tags: &[Vec<u8>],
    id: &str,
    timestamp: &str,
    body: &[u8],
) -> bool {
    let content = signed_content(id, timestamp, body);
    let mut matched = false;
    for secret in secrets {
        for tag in tags {
            matched |= hmac::verify(&secret.0, &content, tag).is_ok();
        }
    }
    matched
}

/// The test vector of the Standard Webhooks reference libraries (and Svix's), for the
/// tests of both directions.
#[cfg(test)]
pub(crate) mod test_vector {
    pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    pub const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    pub const TS: i64 = 1_614_265_330;
    pub const BODY: &[u8] = br#"{"test": 2432232314}"#;
    pub const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use super::test_vector::*;

    fn secret() -> Secret {
        Secret::parse(SECRET).unwrap()
    }

    fn matches(secrets: &[Secret], header: &str, id: &str, ts: i64, body: &[u8]) -> bool {
        any_matches(secrets, &v1_tags(header), id, &ts.to_string(), body)
    }

    #[test]
    fn the_specification_vector_signs_and_verifies() {
        assert_eq!(sign(&secret(), ID, TS, BODY), EXPECTED);
        assert!(matches(&[secret()], EXPECTED, ID, TS, BODY));
    }

    #[test]
    fn another_secret_a_changed_body_id_or_timestamp_do_not_match() {
        let other = Secret::parse(&Secret::generate().unwrap()).unwrap();
        assert!(!matches(&[other], EXPECTED, ID, TS, BODY));
        assert!(!matches(&[secret()], EXPECTED, ID, TS, b"{}"));
        assert!(!matches(&[secret()], EXPECTED, "msg_x", TS, BODY));
        assert!(!matches(&[secret()], EXPECTED, ID, TS + 1, BODY));
        assert!(!matches(&[], EXPECTED, ID, TS, BODY));
    }

    /// A rotation: the sender signs with the new and the old secret; the receiver holds
    /// either. Any matching pair passes.
    #[test]
    fn any_entry_matching_any_secret_passes() {
        let new = Secret::parse(&Secret::generate().unwrap()).unwrap();
        let both = format!("{} {EXPECTED}", sign(&new, ID, TS, BODY));
        assert!(matches(&[secret()], &both, ID, TS, BODY));
        assert!(matches(std::slice::from_ref(&new), &both, ID, TS, BODY));
        let only_new = sign(&new, ID, TS, BODY);
        assert!(matches(&[secret(), new], &only_new, ID, TS, BODY));
        let with_unknown = format!("v1a,AAAA v9,zz v1,bm9wZQ== {EXPECTED}");
        assert!(matches(&[secret()], &with_unknown, ID, TS, BODY));
    }

    #[test]
    fn only_v1_entries_are_read_and_at_most_eight() {
        for list in ["", " ", "v1a,abc", "v2,AAAA", "v1,***", "g0hM9SsE+OTPJTGt"] {
            assert!(v1_tags(list).is_empty(), "{list:?}");
        }
        assert_eq!(v1_tags("  v1,AAAA  v1a,AAAA v1,AQID").len(), 2);
        let nine = ["v1,AAAA"; 8].join(" ") + " " + EXPECTED;
        assert_eq!(v1_tags(&nine).len(), MAX_SIGNATURES);
        assert!(
            !matches(&[secret()], &nine, ID, TS, BODY),
            "the ninth is not looked at"
        );
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

    #[test]
    fn new_secrets_are_distinct_and_hold_32_bytes() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(
            STANDARD.decode(&a[SECRET_PREFIX.len()..]).unwrap().len(),
            32
        );
    }

    proptest! {
        /// Arbitrary signature lists never match (without the secret, a signature is a
        /// 2^-256 guess).
        #[test]
        fn arbitrary_signature_lists_never_match(
            sig in prop_oneof![".{0,120}", "v1,[A-Za-z0-9+/]{43}=", "(v1,[A-Za-z0-9+/=]{0,50} ?){0,4}"],
            body in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            prop_assert!(!matches(&[secret()], &sig, "msg_1", TS, &body));
        }

        /// What `sign` writes matches; over a changed body (one byte flipped, added or
        /// removed) it does not.
        #[test]
        fn a_signature_over_a_changed_body_fails(
            body in proptest::collection::vec(any::<u8>(), 1..200),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            change in 0u8..3,
        ) {
            let sig = sign(&secret(), "msg_1", TS, &body);
            prop_assert!(matches(&[secret()], &sig, "msg_1", TS, &body));
            let mut changed = body.clone();
            let i = at.index(body.len());
            match change {
                0 => changed[i] ^= flip,
                1 => changed.insert(i, flip),
                _ => { changed.remove(i); }
            }
            prop_assert!(!matches(&[secret()], &sig, "msg_1", TS, &changed));
        }
    }
}
