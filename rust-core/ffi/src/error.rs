//! The one public error of the bridge, and the one place the core's errors map onto it.
//!
//! `finlock_core::Error` has a variant per protocol rule (about forty); the shell needs to
//! know only what to *do*: show "not enrolled", say the server could not be reached, count
//! down tries, wait. Every variant carries the core's stable [`Error::code`] spelling, so
//! logs and support can still name the exact rule. In Kotlin this is the sealed class
//! `FinlockException` with one subclass per variant.
//!
//! Which variant an error becomes can depend on *whose* bytes were refused: an
//! `invalid_field` in the caller's own input (a zone id, a server URL) is
//! [`FinlockError::InvalidInput`], the same code in the server's answer is
//! [`FinlockError::Rejected`]. The call sites say which with [`FinlockError::input`] and
//! [`FinlockError::answer`]; everything else goes through `From<Error>`.

use finlock_core::Error;

/// What went wrong, as the shell needs to act on it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FinlockError {
    /// The device is not provisioned or not enrolled yet (the call needs it to be).
    #[error("not enrolled ({code})")]
    NotEnrolled { code: String },
    /// Enrollment or provisioning was asked for again; the binding is for good.
    #[error("already enrolled ({code})")]
    AlreadyEnrolled { code: String },
    /// A message was refused: the server's answer broke a protocol rule (signature,
    /// sequence, nonce, fields), or the device is released and accepts nothing more.
    /// Nothing stored changed.
    #[error("rejected ({code})")]
    Rejected { code: String },
    /// The server could not be reached or did not answer usably. `httpStatus` is set when
    /// it answered with a status other than 200, `retryAfterS` when it asked to wait.
    #[error("network ({code})")]
    Network {
        code: String,
        http_status: Option<i32>,
        retry_after_s: Option<i64>,
    },
    /// The caller's input is not acceptable (`field` names it when known): a malformed
    /// code, an unknown time zone, a non-https server URL, a negative clock reading.
    #[error("invalid input ({code}{})", field.as_deref().map(|f| format!(": {f}")).unwrap_or_default())]
    InvalidInput { code: String, field: Option<String> },
    /// The state directory could not be read or written. The stored state is unchanged
    /// (or restored from its last good copy); never a reason to unlock.
    #[error("storage ({code})")]
    Storage { code: String },
    /// The offline code is wrong; `triesLeft` more wrong entries are allowed now.
    #[error("wrong unlock code ({tries_left} tries left)")]
    CodeWrong { code: String, tries_left: i32 },
    /// Too many wrong codes: entry is refused until `untilMs` (trusted Unix ms), or,
    /// when that is null, until the device checks in.
    #[error("unlock code entry locked out")]
    CodeLockedOut { code: String, until_ms: Option<i64> },
    /// "Check now" was pressed again too soon: try again in `retryAfterS` seconds.
    #[error("too soon; retry in {retry_after_s} s")]
    TooSoon { code: String, retry_after_s: i64 },
    /// A bug: a panic inside Rust (caught at the boundary) or a failed runtime. `detail` is
    /// for logs; it never holds secrets.
    #[error("internal error ({code}): {detail}")]
    Internal { code: String, detail: String },
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn clamp_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl From<Error> for FinlockError {
    fn from(e: Error) -> FinlockError {
        let code = e.code().to_string();
        match e {
            Error::NotEnrolled => FinlockError::NotEnrolled { code },
            Error::AlreadyEnrolled => FinlockError::AlreadyEnrolled { code },
            Error::InvalidField { field, .. } => FinlockError::InvalidInput {
                code,
                field: Some(field),
            },
            Error::OfflineCodeMalformed | Error::OfflineCodeBadDays { .. } => {
                FinlockError::InvalidInput { code, field: None }
            }
            Error::OfflineCodeWrong { tries_left } => FinlockError::CodeWrong {
                code,
                tries_left: clamp_i32(tries_left),
            },
            Error::OfflineCodeLockedOut { until } => FinlockError::CodeLockedOut {
                code,
                until_ms: until.map(|s| s.saturating_mul(1000)),
            },
            Error::CheckNowTooSoon { retry_after_s } => FinlockError::TooSoon {
                code,
                retry_after_s: clamp_i64(retry_after_s),
            },
            Error::ServerUnreachable { .. } | Error::ServerAnswerInvalid { .. } => {
                FinlockError::Network {
                    code,
                    http_status: None,
                    retry_after_s: None,
                }
            }
            Error::ServerStatus {
                status,
                retry_after_s,
            } => FinlockError::Network {
                code,
                http_status: Some(i32::from(status)),
                retry_after_s: retry_after_s.map(clamp_i64),
            },
            Error::StoreIo { .. }
            | Error::StoreTruncated
            | Error::StoreBadMagic
            | Error::StoreCorrupt
            | Error::StoreFutureVersion { .. }
            | Error::StoreDecode { .. }
            | Error::StoreUnrecoverable { .. } => FinlockError::Storage { code },
            // Envelope, payload and acceptance rules, keys, a released device: refused.
            Error::JwsTooLarge { .. }
            | Error::JwsNotThreeParts
            | Error::JwsBadBase64 { .. }
            | Error::JwsHeaderMalformed
            | Error::JwsAlgNotAllowed { .. }
            | Error::JwsForbiddenHeader { .. }
            | Error::JwsUnexpectedHeader { .. }
            | Error::JwsMissingHeader { .. }
            | Error::JwsWrongTyp { .. }
            | Error::JwsUnknownKid
            | Error::JwsBadSignature
            | Error::PayloadNotObject
            | Error::DuplicateKey { .. }
            | Error::PayloadMalformed { .. }
            | Error::UnsupportedVersion { .. }
            | Error::WrongIssuer
            | Error::WrongSubject
            | Error::StaleSeq { .. }
            | Error::NonceMismatch
            | Error::AlreadyReleased
            | Error::KeyRejected { .. }
            | Error::KeysChainTooLong { .. }
            | Error::KeysSeqNotNext { .. } => FinlockError::Rejected { code },
        }
    }
}

impl FinlockError {
    /// An error about bytes the *caller* handed in (a key set, a URL): anything but storage
    /// and the enrollment state is [`FinlockError::InvalidInput`].
    pub fn input(e: Error) -> FinlockError {
        match FinlockError::from(e) {
            FinlockError::Rejected { code } => FinlockError::InvalidInput { code, field: None },
            other => other,
        }
    }

    /// An error about the *server's* answer: a field rule broken there is a refusal of the
    /// answer ([`FinlockError::Rejected`]), not a mistake of the caller.
    pub fn answer(e: Error) -> FinlockError {
        match FinlockError::from(e) {
            FinlockError::InvalidInput { code, .. } => FinlockError::Rejected { code },
            other => other,
        }
    }

    /// A caller's value that the bridge itself refuses (before the core sees it).
    pub fn invalid(field: &str, code: &str) -> FinlockError {
        FinlockError::InvalidInput {
            code: code.to_string(),
            field: Some(field.to_string()),
        }
    }

    /// A bug or a broken runtime; `detail` must hold no secrets.
    pub fn internal(code: &str, detail: impl Into<String>) -> FinlockError {
        FinlockError::Internal {
            code: code.to_string(),
            detail: detail.into(),
        }
    }

    /// The core's stable code this error carries.
    pub fn code(&self) -> &str {
        match self {
            FinlockError::NotEnrolled { code }
            | FinlockError::AlreadyEnrolled { code }
            | FinlockError::Rejected { code }
            | FinlockError::Network { code, .. }
            | FinlockError::InvalidInput { code, .. }
            | FinlockError::Storage { code }
            | FinlockError::CodeWrong { code, .. }
            | FinlockError::CodeLockedOut { code, .. }
            | FinlockError::TooSoon { code, .. }
            | FinlockError::Internal { code, .. } => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_carries_the_core_code() {
        let cases = [
            (Error::NotEnrolled, "not_enrolled"),
            (
                Error::OfflineCodeWrong { tries_left: 3 },
                "offline_code_wrong",
            ),
            (Error::StoreCorrupt, "store_corrupt"),
            (Error::JwsBadSignature, "jws_bad_signature"),
            (
                Error::ServerStatus {
                    status: 503,
                    retry_after_s: Some(7),
                },
                "server_status",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(FinlockError::from(e).code(), code);
        }
    }

    #[test]
    fn a_wrong_code_keeps_its_tries_and_a_lockout_its_end_in_ms() {
        match FinlockError::from(Error::OfflineCodeWrong { tries_left: 4 }) {
            FinlockError::CodeWrong { tries_left, .. } => assert_eq!(tries_left, 4),
            other => panic!("{other:?}"),
        }
        match FinlockError::from(Error::OfflineCodeLockedOut { until: Some(10) }) {
            FinlockError::CodeLockedOut { until_ms, .. } => assert_eq!(until_ms, Some(10_000)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_invalid_field_is_the_callers_fault_in_input_and_a_refusal_in_an_answer() {
        let field = || Error::InvalidField {
            field: "lock_at".into(),
            rule: "x",
        };
        assert!(matches!(
            FinlockError::from(field()),
            FinlockError::InvalidInput { .. }
        ));
        assert!(matches!(
            FinlockError::answer(field()),
            FinlockError::Rejected { .. }
        ));
        assert!(matches!(
            FinlockError::input(Error::KeyRejected { reason: "x" }),
            FinlockError::InvalidInput { .. }
        ));
        assert!(matches!(
            FinlockError::answer(Error::StoreCorrupt),
            FinlockError::Storage { .. }
        ));
    }
}
