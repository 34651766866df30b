//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the receiver checks
//! `webhook-signature` = `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))
//! where the key is the base64 part of the endpoint's `whsec_…` secret. The same form
//! every Standard Webhooks library verifies, so a lender needs no code of ours.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

use crate::error::{Error, Result};
use crate::ids;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new endpoint secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> Result<String> {
    Ok(format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(ids::secret_bytes::<32>()?)
    ))
}

/// The HMAC key of a `whsec_…` secret.
fn key(secret: &str) -> Result<hmac::Key> {
    let bytes = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| Error::Internal("a stored webhook secret is not base64".into()))?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

/// The `webhook-signature` header for one attempt.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = key(secret)?;
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    Ok(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// Why a receiver refuses a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The timestamp is further than the tolerance from the receiver's clock (a replay).
    OutsideTolerance,
    /// No `v1,` signature in the header matches.
    NoMatch,
}

/// What a receiver does (the lender's side, and the tests' receivers): any of the
/// space-separated `v1,` signatures matches, and the timestamp is within `tolerance_s`
/// of `now`. The comparison is constant-time (ring's `verify`).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_s: i64,
) -> std::result::Result<(), Refusal> {
    if now.abs_diff(timestamp) > tolerance_s.unsigned_abs() {
        return Err(Refusal::OutsideTolerance);
    }
    let key = key(secret).map_err(|_| Refusal::NoMatch)?;
    let mut message = format!("{id}.{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    let matches = header.split(' ').any(|sig| {
        sig.strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|tag| hmac::verify(&key, &message, &tag).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(Refusal::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector of the Standard Webhooks reference libraries (and Svix's).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_standard_webhooks_test_vector_is_reproduced() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), EXPECTED);
        assert_eq!(verify(SECRET, ID, TS, BODY, EXPECTED, TS, 300), Ok(()));
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let header = format!("v1,bm9wZQ== {EXPECTED}");
        assert_eq!(verify(SECRET, ID, TS, BODY, &header, TS, 300), Ok(()));
    }

    #[test]
    fn a_changed_body_id_timestamp_or_secret_is_refused() {
        let refused = Err(Refusal::NoMatch);
        assert_eq!(verify(SECRET, ID, TS, b"{}", EXPECTED, TS, 300), refused);
        assert_eq!(
            verify(SECRET, "msg_x", TS, BODY, EXPECTED, TS, 300),
            refused
        );
        assert_eq!(verify(SECRET, ID, TS + 1, BODY, EXPECTED, TS, 300), refused);
        let other = new_secret().unwrap();
        assert_eq!(verify(&other, ID, TS, BODY, EXPECTED, TS, 300), refused);
        assert_eq!(verify(SECRET, ID, TS, BODY, "v2,abc", TS, 300), refused);
        assert_eq!(verify(SECRET, ID, TS, BODY, "", TS, 300), refused);
    }

    #[test]
    fn an_old_or_future_timestamp_is_refused() {
        let late = TS + 301;
        assert_eq!(
            verify(SECRET, ID, TS, BODY, EXPECTED, late, 300),
            Err(Refusal::OutsideTolerance)
        );
        assert_eq!(
            verify(SECRET, ID, TS, BODY, EXPECTED, TS - 301, 300),
            Err(Refusal::OutsideTolerance)
        );
    }

    #[test]
    fn new_secrets_are_distinct_and_well_formed() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(
            STANDARD.decode(&a[SECRET_PREFIX.len()..]).unwrap().len(),
            32
        );
    }
}
