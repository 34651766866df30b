//! What an enroll request can be answered with (PROTOCOL §3.1): `200` with the first
//! entitlement, or `202 pending_approval` — the key is not bound (yet) and the device asks
//! again later with the same key. Any other answer is a failed exchange.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shortest wait a `202` can ask for: an unauthenticated answer (anyone on the path
/// can forge one) must not make the phone hammer the server…
pub const MIN_PENDING_RETRY_S: u64 = 60;
/// …nor wait for days: after six hours the phone asks again whatever it was told.
pub const MAX_PENDING_RETRY_S: u64 = 6 * 3600;

/// The body of a `202` (§3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// Always `pending_approval`.
    pub status: String,
    pub retry_after_s: u64,
}

/// A usable answer to an enroll request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollAnswer {
    /// `200`: the body, to be judged by the device (it holds the first entitlement).
    Bound(Vec<u8>),
    /// `202`: not bound yet; ask again after this many seconds (clamped to
    /// [`MIN_PENDING_RETRY_S`]..=[`MAX_PENDING_RETRY_S`]).
    Pending { retry_after_s: u64 },
}

impl EnrollAnswer {
    /// Reads a `202` body. The body's `retry_after_s` decides, the `Retry-After` header
    /// stands in when the body lacks it; both are clamped.
    pub fn pending(body: &[u8], retry_after_header: Option<u64>) -> Result<EnrollAnswer> {
        let invalid = || Error::ServerAnswerInvalid {
            reason: "a 202 that is not pending_approval",
        };
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
        if value.get("status").and_then(|s| s.as_str()) != Some("pending_approval") {
            return Err(invalid());
        }
        let retry = value
            .get("retry_after_s")
            .and_then(serde_json::Value::as_u64)
            .or(retry_after_header)
            .unwrap_or(MAX_PENDING_RETRY_S);
        Ok(EnrollAnswer::Pending {
            retry_after_s: retry.clamp(MIN_PENDING_RETRY_S, MAX_PENDING_RETRY_S),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_answer_is_read_and_its_wait_clamped() {
        let read = |body: &str, header| EnrollAnswer::pending(body.as_bytes(), header);
        assert_eq!(
            read(
                r#"{"status":"pending_approval","retry_after_s":900}"#,
                Some(5)
            )
            .unwrap(),
            EnrollAnswer::Pending { retry_after_s: 900 }
        );
        assert_eq!(
            read(r#"{"status":"pending_approval"}"#, Some(120)).unwrap(),
            EnrollAnswer::Pending { retry_after_s: 120 }
        );
        assert_eq!(
            read(r#"{"status":"pending_approval","retry_after_s":0}"#, None).unwrap(),
            EnrollAnswer::Pending { retry_after_s: 60 }
        );
        assert_eq!(
            read(
                r#"{"status":"pending_approval","retry_after_s":99999999}"#,
                None
            )
            .unwrap(),
            EnrollAnswer::Pending {
                retry_after_s: 21_600
            }
        );
        assert_eq!(
            read(r#"{"status":"pending_approval"}"#, None).unwrap(),
            EnrollAnswer::Pending {
                retry_after_s: 21_600
            }
        );
    }

    #[test]
    fn anything_else_in_a_202_is_an_invalid_answer() {
        for body in [
            "",
            "<html>Accepted</html>",
            "[]",
            r#"{"status":"approved"}"#,
            r#"{"retry_after_s":60}"#,
        ] {
            let e = EnrollAnswer::pending(body.as_bytes(), Some(60)).unwrap_err();
            assert_eq!(e.code(), "server_answer_invalid", "{body}");
        }
    }
}
