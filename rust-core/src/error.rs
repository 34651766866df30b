//! The one internal error type of `finlock-core`.
//!
//! Every rejection rule of PROTOCOL.md has its own variant, so a test can name the
//! rule it exercises and a conformance vector can name the outcome it expects
//! ([`Error::code`] is the stable spelling used there). The bridge maps these onto a
//! small public error in one place; nothing here is meant for end users to read.
//!
//! Display strings never contain secrets, tokens or identifiers: they name the rule
//! and, at most, a field name or a count.

use std::io;

/// Everything that can go wrong inside the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- §2 envelope -------------------------------------------------------------
    /// The compact JWS is larger than [`crate::jws::MAX_JWS_LEN`].
    #[error("message is {len} bytes, larger than the 16 KiB limit")]
    JwsTooLarge { len: usize },
    /// Not exactly three dot-separated parts.
    #[error("message is not three dot-separated parts")]
    JwsNotThreeParts,
    /// A part is not canonical, unpadded base64url.
    #[error("the {part} of the message is not canonical unpadded base64url")]
    JwsBadBase64 { part: &'static str },
    /// The protected header is not a JSON object with string members.
    #[error("the protected header is not a valid JSON object")]
    JwsHeaderMalformed,
    /// `alg` is anything but `Ed25519` or `EdDSA`.
    #[error("algorithm {alg:?} is not allowed")]
    JwsAlgNotAllowed { alg: String },
    /// A header member that could supply a key or demand extensions (`crit`, `jwk`, `jku`, `x5u`, `x5c`).
    #[error("header member {member:?} is forbidden")]
    JwsForbiddenHeader { member: String },
    /// A header member other than `alg`, `typ`, `kid`.
    #[error("header member {member:?} is not allowed")]
    JwsUnexpectedHeader { member: String },
    /// `alg`, `typ` or `kid` is missing.
    #[error("header member {member} is missing")]
    JwsMissingHeader { member: &'static str },
    /// `typ` is not the one expected at this place.
    #[error("message type {found:?} where {expected:?} was expected")]
    JwsWrongTyp {
        expected: &'static str,
        found: String,
    },
    /// `kid` names no pinned or registered key.
    #[error("the signing key is not one of the pinned keys")]
    JwsUnknownKid,
    /// The signature does not verify over the received bytes.
    #[error("signature does not verify")]
    JwsBadSignature,

    // ---- §2 payload --------------------------------------------------------------
    /// The payload is not JSON at all, or not an object.
    #[error("payload is not a JSON object")]
    PayloadNotObject,
    /// The same key appears twice in one JSON object.
    #[error("payload has a duplicate key {key:?}")]
    DuplicateKey { key: String },
    /// A field is missing or has the wrong JSON type.
    #[error("payload is malformed: {detail}")]
    PayloadMalformed { detail: String },
    /// `v` is not 1.
    #[error("protocol version {found} is not supported")]
    UnsupportedVersion { found: u64 },
    /// A field breaks one of the field rules (bounds, formats, schemes).
    #[error("field {field} is invalid: {rule}")]
    InvalidField { field: String, rule: &'static str },

    // ---- §3.3 acceptance ---------------------------------------------------------
    /// The device is not enrolled, so there is nothing to accept against.
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The device is already enrolled.
    #[error("the device is already enrolled")]
    AlreadyEnrolled,
    /// `iss` is not the lender this device is bound to.
    #[error("issuer is not this device's lender")]
    WrongIssuer,
    /// `sub` is not this device's id.
    #[error("subject is not this device")]
    WrongSubject,
    /// `seq` is not greater than the stored one (a replay or an old answer).
    #[error("sequence {received} is not newer than stored {stored}")]
    StaleSeq { stored: u64, received: u64 },
    /// `nonce` does not echo the outstanding request nonce.
    #[error("nonce does not match the outstanding request")]
    NonceMismatch,
    /// The stored state is `released`: nothing is ever accepted again.
    #[error("the device is released; nothing more is accepted")]
    AlreadyReleased,

    // ---- keys --------------------------------------------------------------------
    /// An answer carries more key sets than a device applies at once (ADR 0007).
    #[error("{len} key sets in one answer; at most 8")]
    KeysChainTooLong { len: usize },
    /// A key set's `keys_seq` is not the one after the pinned set's.
    #[error("key set {found} where {expected} was expected")]
    KeysSeqNotNext { expected: u64, found: u64 },
    /// A key (JWK or PKCS#8) could not be used.
    #[error("key rejected: {reason}")]
    KeyRejected { reason: &'static str },

    // ---- §6 offline codes --------------------------------------------------------
    /// The entered code is not exactly 8 decimal digits.
    #[error("an unlock code is 8 digits")]
    OfflineCodeMalformed,
    /// The code does not match any allowed day value for the current counter.
    #[error("the unlock code is not valid ({tries_left} tries left)")]
    OfflineCodeWrong { tries_left: u32 },
    /// Too many wrong entries: entry refused until `until` (trusted time), or, when
    /// `until` is `None`, until the device checks in.
    #[error("too many wrong unlock codes; entry is refused for now")]
    OfflineCodeLockedOut { until: Option<i64> },
    /// `days` is not one of 1, 2, 3, 7, 14, 30.
    #[error("{days} is not an allowed number of days")]
    OfflineCodeBadDays { days: u16 },

    // ---- network (check-in client) ------------------------------------------------
    /// The server could not be reached in time (DNS, connect, TLS, timeout, reset).
    #[error("the server could not be reached ({reason})")]
    ServerUnreachable { reason: &'static str },
    /// The server answered with a status other than 200.
    #[error("the server answered HTTP {status}")]
    ServerStatus {
        status: u16,
        retry_after_s: Option<u64>,
    },
    /// A 200 answer that is not a usable protocol answer (wrong type, too large, cut short).
    #[error("the server's answer is unusable: {reason}")]
    ServerAnswerInvalid { reason: &'static str },
    /// "Check now" was asked again too soon.
    #[error("checked a moment ago; try again in {retry_after_s} s")]
    CheckNowTooSoon { retry_after_s: u64 },

    // ---- store -------------------------------------------------------------------
    /// Reading or writing the state directory failed.
    #[error("state storage {op} failed: {source}")]
    StoreIo {
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// The state file is shorter than its header says.
    #[error("state file is truncated")]
    StoreTruncated,
    /// The state file does not start with the finlock magic bytes.
    #[error("state file is not a finlock state file")]
    StoreBadMagic,
    /// The checksum over the body does not match.
    #[error("state file is corrupt (checksum mismatch)")]
    StoreCorrupt,
    /// The file was written by a newer format than this build understands.
    #[error("state file format {found} is newer than supported {supported}")]
    StoreFutureVersion { found: u16, supported: u16 },
    /// The body passed the checksum but does not decode.
    #[error("state file body does not decode: {detail}")]
    StoreDecode { detail: String },
    /// Neither the state file nor its last good copy could be used.
    #[error("no usable state: current copy: {current}; previous copy: {previous}")]
    StoreUnrecoverable {
        current: Box<Error>,
        previous: Box<Error>,
    },
}

impl Error {
    /// A stable, machine-readable name for the rule that was broken.
    ///
    /// Conformance vectors and the bridge use these; they never change meaning.
    pub fn code(&self) -> &'static str {
        match self {
            Error::JwsTooLarge { .. } => "jws_too_large",
            Error::JwsNotThreeParts => "jws_not_three_parts",
            Error::JwsBadBase64 { .. } => "jws_bad_base64",
            Error::JwsHeaderMalformed => "jws_header_malformed",
            Error::JwsAlgNotAllowed { .. } => "jws_alg_not_allowed",
            Error::JwsForbiddenHeader { .. } => "jws_forbidden_header",
            Error::JwsUnexpectedHeader { .. } => "jws_unexpected_header",
            Error::JwsMissingHeader { .. } => "jws_missing_header",
            Error::JwsWrongTyp { .. } => "jws_wrong_typ",
            Error::JwsUnknownKid => "jws_unknown_kid",
            Error::JwsBadSignature => "jws_bad_signature",
            Error::PayloadNotObject => "payload_not_object",
            Error::DuplicateKey { .. } => "duplicate_key",
            Error::PayloadMalformed { .. } => "payload_malformed",
            Error::UnsupportedVersion { .. } => "unsupported_version",
            Error::InvalidField { .. } => "invalid_field",
            Error::NotEnrolled => "not_enrolled",
            Error::AlreadyEnrolled => "already_enrolled",
            Error::WrongIssuer => "wrong_issuer",
            Error::WrongSubject => "wrong_subject",
            Error::StaleSeq { .. } => "stale_seq",
            Error::NonceMismatch => "nonce_mismatch",
            Error::AlreadyReleased => "already_released",
            Error::KeyRejected { .. } => "key_rejected",
            Error::KeysChainTooLong { .. } => "keys_chain_too_long",
            Error::KeysSeqNotNext { .. } => "keys_seq_not_next",
            Error::OfflineCodeMalformed => "offline_code_malformed",
            Error::OfflineCodeWrong { .. } => "offline_code_wrong",
            Error::OfflineCodeLockedOut { .. } => "offline_code_locked_out",
            Error::OfflineCodeBadDays { .. } => "offline_code_bad_days",
            Error::ServerUnreachable { .. } => "server_unreachable",
            Error::ServerStatus { .. } => "server_status",
            Error::ServerAnswerInvalid { .. } => "server_answer_invalid",
            Error::CheckNowTooSoon { .. } => "check_now_too_soon",
            Error::StoreIo { .. } => "store_io",
            Error::StoreTruncated => "store_truncated",
            Error::StoreBadMagic => "store_bad_magic",
            Error::StoreCorrupt => "store_corrupt",
            Error::StoreFutureVersion { .. } => "store_future_version",
            Error::StoreDecode { .. } => "store_decode",
            Error::StoreUnrecoverable { .. } => "store_unrecoverable",
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, rule: &'static str) -> Error {
        Error::InvalidField {
            field: field.into(),
            rule,
        }
    }

    pub(crate) fn io(op: &'static str) -> impl FnOnce(io::Error) -> Error {
        move |source| Error::StoreIo { op, source }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
