//! Webhooks out: signing with an endpoint's `whsec_…` secret in the Standard Webhooks form
//! (the HMAC and the `v1,` list are `crate::standard_webhooks`), and what a receiver does
//! (the lender's side, and the tests' receivers). The same form every Standard Webhooks
//! library verifies, so a lender needs no code of ours.

use crate::error::{Error, Result};
use crate::standard_webhooks::{Secret, any_matches, v1_tags};

pub use crate::standard_webhooks::SECRET_PREFIX;

/// A new endpoint secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> Result<String> {
    Secret::generate()
}

/// The key of a stored `whsec_…` secret (always one of ours, so never refused in practice).
fn key(secret: &str) -> Result<Secret> {
    Secret::parse(secret)
        .ok_or_else(|| Error::Internal("a stored webhook secret is not a whsec_ secret".into()))
}

/// The `webhook-signature` header for one attempt.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    Ok(crate::standard_webhooks::sign(
        &key(secret)?,
        id,
        timestamp,
        body,
    ))
}

/// Why a receiver refuses a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The timestamp is further than the tolerance from the receiver's clock (a replay).
    OutsideTolerance,
    /// No `v1,` signature in the header matches.
    NoMatch,
}

/// What a receiver does: any of the space-separated `v1,` signatures matches, and the
/// timestamp is within `tolerance_s` of `now`. The comparison is constant-time.
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
    if any_matches(&[key], &v1_tags(header), id, &timestamp.to_string(), body) {
        Ok(())
    } else {
        Err(Refusal::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The spec's test vector; the comparison's own rules are tested in `standard_webhooks`.
    use crate::standard_webhooks::test_vector::*;

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
        assert_eq!(
            verify("not a secret", ID, TS, BODY, EXPECTED, TS, 300),
            refused
        );
    }

    #[test]
    fn an_old_or_future_timestamp_is_refused() {
        for now in [TS + 301, TS - 301] {
            assert_eq!(
                verify(SECRET, ID, TS, BODY, EXPECTED, now, 300),
                Err(Refusal::OutsideTolerance)
            );
        }
    }

    #[test]
    fn a_stored_secret_that_is_not_whsec_cannot_sign() {
        assert!(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ID, TS, BODY).is_err());
        assert!(new_secret().unwrap().starts_with(SECRET_PREFIX));
    }
}
