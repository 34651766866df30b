//! The server's one error type and its HTTP form: `application/problem+json` (RFC 9457).
//!
//! Every failure a client can see has a stable `type` URI (`urn:finlock:problem:<slug>`,
//! a name rather than a page, so it never dangles) and a short `code` with the same
//! slug. Client errors say what was wrong; 500s say only "internal error" with a
//! correlation id that is also in the server log next to the real cause, so nothing
//! internal (SQL, paths, key material) ever reaches a caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown resource — and, on purpose, another lender's device (ids do not leak).
    #[error("not found")]
    NotFound,
    /// No route for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Missing or wrong API key.
    #[error("a valid API key is required (Authorization: Bearer …)")]
    Unauthorized,
    /// The request is not what the endpoint reads (syntax).
    #[error("{0}")]
    BadRequest(String),
    /// A device message broke a protocol rule (PROTOCOL §2, §8); carries the core's code.
    #[error("{0}")]
    Protocol(#[from] finlock_core::Error),
    /// A check-in signed by a key that is not the one registered for its device, or
    /// naming no enrolled device.
    #[error("the message is not signed by a registered device key")]
    DeviceNotAuthenticated,
    /// The same signed body was seen before.
    #[error("this message was already received")]
    Replayed,
    /// The body reports an older entitlement than the device already reported: an old message.
    #[error("this message is older than one already received from the device")]
    Stale,
    /// Over 16 KiB.
    #[error("the request body is larger than 16 KiB")]
    PayloadTooLarge,
    /// Check-ins more often than the per-device limit.
    #[error("check-ins are limited to one every {limit_s} s")]
    RateLimited { retry_after_s: u64, limit_s: u64 },
    /// The database does not take writes (`/readyz`).
    #[error("not ready: the database does not take writes")]
    NotReady,
    /// The request was not answered in time (a slow client body or a slow database).
    #[error("the request took too long; try again")]
    Timeout,
    /// Too many attempts of one kind (enrollments from one address or for one IMEI).
    #[error("too many attempts; try again later")]
    TooManyAttempts { retry_after_s: u64 },
    /// The request conflicts with the resource's state.
    #[error("{detail}")]
    Conflict { slug: &'static str, detail: String },
    /// A well-formed request with a value the rules refuse.
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: String },
    /// A plan or a lender action the lender's compliance profile forbids (`rule` is the
    /// profile file's key, e.g. `restricted.min_days_past_due`; see docs/COMPLIANCE.md).
    #[error("{detail} (compliance profile {profile}, rule {rule})")]
    Compliance {
        profile: String,
        rule: &'static str,
        detail: String,
    },
    #[error("database error")]
    Db(#[from] sqlx::Error),
    /// A bug or an environment failure (key file unreadable, …); logged, never shown.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            rule: rule.into(),
        }
    }

    pub fn conflict(slug: &'static str, detail: impl Into<String>) -> Error {
        Error::Conflict {
            slug,
            detail: detail.into(),
        }
    }

    /// (status, slug, title)
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        use finlock_core::Error as Core;
        match self {
            Error::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Error::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Error::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            Error::Protocol(e) => match e {
                Core::JwsTooLarge { .. } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "Request body too large",
                ),
                Core::JwsBadSignature | Core::JwsUnknownKid => (
                    StatusCode::UNAUTHORIZED,
                    "bad-signature",
                    "Signature does not verify",
                ),
                Core::JwsWrongTyp { .. } => {
                    (StatusCode::BAD_REQUEST, "wrong-typ", "Wrong message type")
                }
                Core::InvalidField { .. } | Core::UnsupportedVersion { .. } => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-field",
                    "A field breaks a protocol rule",
                ),
                _ => (
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "Malformed protocol message",
                ),
            },
            Error::DeviceNotAuthenticated => (
                StatusCode::UNAUTHORIZED,
                "unknown-device",
                "Unknown device or key",
            ),
            Error::Replayed => (StatusCode::CONFLICT, "replayed", "Replayed message"),
            Error::Stale => (StatusCode::CONFLICT, "stale", "Stale message"),
            Error::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request body too large",
            ),
            Error::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many check-ins",
            ),
            Error::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready"),
            Error::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Request timed out",
            ),
            Error::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
            ),
            Error::Conflict { slug, .. } => (StatusCode::CONFLICT, slug, "Conflict"),
            Error::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
            ),
            Error::Compliance { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "compliance",
                "Refused by the lender's compliance profile",
            ),
            Error::Db(_) | Error::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }

    /// What a client is told: the error's text, with a device message's shape problem
    /// put in the same plain words as a lender's (no parser vocabulary).
    fn plain_detail(&self) -> String {
        match self {
            Error::Protocol(finlock_core::Error::PayloadMalformed { detail }) => format!(
                "the payload does not fit the protocol: {}",
                crate::http::rejection::core_payload(detail)
            ),
            other => other.to_string(),
        }
    }

    /// The stable slug (`type` is `urn:finlock:problem:<slug>`), also used as a metrics label.
    pub fn slug(&self) -> &'static str {
        self.kind().1
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:finlock:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// The same slug as in `type`.
    pub code: &'static str,
    /// The core's rule code, for protocol errors; the compliance profile's rule id
    /// (e.g. `locked.min_days_past_due`) for `compliance`, whose `detail` names the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.kind();
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            let id = correlation_id();
            // The cause goes to the log, never to the caller.
            tracing::error!(correlation_id = %id, error = ?self, "internal error");
            format!("internal error; correlation id {id}")
        } else {
            self.plain_detail()
        };
        let rule = match &self {
            Error::Protocol(e) => Some(e.code()),
            Error::Compliance { rule, .. } => Some(*rule),
            _ => None,
        };
        let problem = Problem {
            type_: format!("urn:finlock:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail,
            code: slug,
            rule,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Error::RateLimited { retry_after_s, .. } | Error::TooManyAttempts { retry_after_s } =
            self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s.max(1)));
        }
        if let Error::Unauthorized = self {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// 16 hex digits, enough to find one log line.
fn correlation_id() -> String {
    crate::ids::hex(&crate::ids::random_bytes::<8>())
}
