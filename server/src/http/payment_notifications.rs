//! Payments in over HTTP ([`crate::payments_in`]).
//!
//! What providers call, authenticated by the lender's notification secret (no API key):
//! - `POST /v1/notify/{lender_id}/standard`: Standard Webhooks signed (`webhook-id`,
//!   `webhook-timestamp`, `webhook-signature`), the documented JSON body;
//! - `POST /v1/notify/{lender_id}/mpesa/c2b/{token}`: M-Pesa's C2B confirmation, the
//!   lender's secret token in the URL (Safaricom does not sign its callbacks).
//!
//! Both answer 200 once the notification is stored (a payment, or held for the lender),
//! 401 when the signature or token does not verify, 400 for a body that does not read
//! (nothing stored either way), 413 over [`MAX_NOTIFICATION_BODY`], 429 over
//! [`NOTIFY_PER_LENDER`].
//!
//! What the lender calls with its API key: `GET /v1/lender/payment-notifications`,
//! `POST /v1/lender/payment-notifications/{id}/assign`, the secrets' list and rotations.

use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::auth::AuthLender;
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Body, Json, PathId, Query, Routes};
use crate::db::queries::{self, LenderRow};
use crate::error::{Error, PROBLEM_JSON, Problem, Result};
use crate::payments_in::held::{self, Assignment};
use crate::payments_in::notice::Source;
use crate::payments_in::receive::{self, NotificationReceived};
use crate::payments_in::secrets::{self, RotateRequest, RotatedSecret, SecretInfo};
use crate::payments_in::signature::{self, Headers};
use crate::payments_in::store::{PaymentNotification, Status};
use crate::payments_in::{mpesa, standard_body};
use crate::rate_limit::{self, Limit};

/// A notification is a few hundred bytes; 4 KiB leaves room and reads little from anyone.
pub const MAX_NOTIFICATION_BODY: usize = 4 * 1024;

/// Notifications per lender per minute, counted before authentication (across nodes):
/// far above a lender's real traffic, low enough that a leaked secret or a flood cannot
/// fill the database. A provider told 429 retries later.
pub const NOTIFY_PER_LENDER: Limit = Limit {
    name: "notify-lender",
    max: 600,
    window_s: 60,
};

pub fn router() -> Routes {
    let small = || DefaultBodyLimit::max(MAX_NOTIFICATION_BODY);
    Routes::default()
        .post(
            "/v1/notify/{lender_id}/standard",
            post(standard).layer(small()),
        )
        .post(
            "/v1/notify/{lender_id}/mpesa/c2b/{token}",
            post(mpesa_c2b).layer(small()),
        )
        .get("/v1/lender/payment-notifications", get(list))
        .post("/v1/lender/payment-notifications/{id}/assign", post(assign))
        .get(
            "/v1/lender/payment-notifications/secrets",
            get(list_secrets),
        )
        .post(
            "/v1/lender/payment-notifications/secret/rotate",
            post(rotate_secret),
        )
        .post(
            "/v1/lender/payment-notifications/mpesa-token/rotate",
            post(rotate_mpesa_token),
        )
}

/// The problems of the provider endpoints.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NotifyProblems {
    /// The body does not read as the endpoint's format; `detail` says what. Nothing stored.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// The signature (or the URL's token) does not verify, is missing or too old, or the
    /// lender has no such secret. Nothing stored.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// No such route (a malformed path).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// A notification with this transaction id and other facts is already stored.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// Over 4 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Over the lender's notifications per minute (`Retry-After`).
    #[response(status = 429, content_type = "application/problem+json")]
    TooMany(Problem),
    /// A server fault (a correlation id, nothing internal); the provider retries.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
}

/// A problem answer of the provider endpoints that [`Error`] has no variant for.
fn problem(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
) -> Response {
    let body = Problem {
        type_: format!("urn:finlock:problem:{code}"),
        title,
        status: status.as_u16(),
        detail,
        code,
        rule: None,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    r
}

/// 401: the notification is not authenticated; nothing was stored.
fn unauthenticated(detail: impl std::fmt::Display) -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "notification-unauthenticated",
        "Notification not authenticated",
        format!("{detail}; nothing was stored"),
    )
}

fn too_large() -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "Request body too large",
        format!("a payment notification is at most {MAX_NOTIFICATION_BODY} bytes"),
    )
}

/// The provider endpoints' path: the lender (and M-Pesa's token). A path that does not
/// name a lender is answered like a wrong secret (401), never "no such lender".
struct NotifyPath {
    lender_id: String,
    token: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for NotifyPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<NotifyPath, Response> {
        let axum::extract::Path(params) = axum::extract::Path::<
            std::collections::HashMap<String, String>,
        >::from_request_parts(parts, state)
        .await
        .map_err(|_| unauthenticated("this URL names no lender"))?;
        let lender_id = params
            .get("lender_id")
            .filter(|id| finlock_core::protocol::is_valid_id(id))
            .cloned()
            .ok_or_else(|| unauthenticated("this URL names no lender"))?;
        Ok(NotifyPath {
            lender_id,
            token: params.get("token").cloned(),
        })
    }
}

/// The lender a provider names, after counting the attempt against its limit; `None`
/// for an unknown lender (nothing counted: no bucket per made-up id).
async fn lender(st: &AppState, lender_id: &str) -> Result<Option<LenderRow>> {
    let Some(lender) = queries::lender_by_id(&st.db.read, lender_id).await? else {
        return Ok(None);
    };
    rate_limit::hit(&st.db, &NOTIFY_PER_LENDER, lender_id, st.now()).await?;
    Ok(Some(lender))
}

/// A header's value; one that is not visible ASCII reads as a value no rule accepts.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|v| v.to_str().ok().filter(|s| s.is_ascii()).unwrap_or("\u{7f}"))
}

fn received(r: NotificationReceived) -> Response {
    (StatusCode::OK, axum::Json(r)).into_response()
}

/// The body, or 413 over the notification limit.
// The error is the answer itself, returned at once: boxing it would only add a step.
#[allow(clippy::result_large_err)]
fn body(read: Result<Body>) -> Result<Body, Response> {
    match read {
        Ok(b) if b.0.len() <= MAX_NOTIFICATION_BODY => Ok(b),
        Ok(_) | Err(Error::PayloadTooLarge) => Err(too_large()),
        Err(e) => Err(e.into_response()),
    }
}

/// A payment notification, Standard Webhooks signed.
///
/// The body is documented as `PaymentReceived`; `amount_minor` is an integer in minor
/// units. The same transaction id again records nothing new (`replayed`: true).
#[utoipa::path(post, path = "/v1/notify/{lender_id}/standard", tag = "notify",
    params(("lender_id" = String, Path, description = "the lender"),
        ("webhook-id" = String, Header, description = "the message's unique id"),
        ("webhook-timestamp" = String, Header, description = "integer Unix seconds, within 5 minutes of the server's clock"),
        ("webhook-signature" = String, Header, description = "space-separated v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}> with the lender's whsec_ secret")),
    request_body = standard_body::PaymentReceived,
    responses((status = 200, description = "stored: recorded as a payment, or held for the lender",
        body = NotificationReceived), NotifyProblems))]
async fn standard(
    State(st): State<AppState>,
    path: Result<NotifyPath, Response>,
    headers: HeaderMap,
    read: Result<Body>,
) -> Response {
    let run = async {
        let path = path?;
        let Some(lender) = lender(&st, &path.lender_id)
            .await
            .map_err(IntoResponse::into_response)?
        else {
            return Err(unauthenticated(signature::Refusal::NoSecret));
        };
        let Body(bytes) = body(read)?;
        let secrets = secrets::signing_secrets(&st.db, &lender.lender_id, st.now())
            .await
            .map_err(IntoResponse::into_response)?;
        let given = Headers {
            id: header_text(&headers, "webhook-id"),
            timestamp: header_text(&headers, "webhook-timestamp"),
            signature: header_text(&headers, "webhook-signature"),
        };
        signature::verify(given, &bytes, &secrets, st.now()).map_err(unauthenticated)?;
        let notice = standard_body::decode(&bytes).map_err(IntoResponse::into_response)?;
        let stored = receive::receive(&st, &lender, &notice)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(received(stored))
    };
    run.await.unwrap_or_else(|r: Response| r)
}

/// M-Pesa's C2B confirmation (Daraja), as Safaricom sends it.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = MpesaC2bConfirmation)]
#[allow(non_snake_case, dead_code)]
pub struct MpesaC2bDoc {
    /// e.g. `Pay Bill`; not read.
    pub TransactionType: Option<String>,
    /// The M-Pesa transaction id: 1-128 printable ASCII characters.
    #[schema(min_length = 1, max_length = 128, pattern = "^[!-~]+$")]
    pub TransID: String,
    /// `YYYYMMDDHHmmss`, East Africa Time (UTC+3).
    #[schema(pattern = "^[0-9]{14}$")]
    pub TransTime: String,
    /// The amount in KES, a decimal string (`2500.00`).
    #[schema(pattern = "^[0-9]+(\\.[0-9]{1,2})?$")]
    pub TransAmount: String,
    /// The paybill or till; not read.
    pub BusinessShortCode: Option<String>,
    /// The account number the payer typed: a device id or the lender's customer reference.
    #[schema(max_length = 128)]
    pub BillRefNumber: Option<String>,
}

/// What Safaricom expects from a confirmation URL.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct MpesaAccepted {
    /// 0.
    pub ResultCode: u8,
    /// `Accepted`.
    pub ResultDesc: String,
}

/// M-Pesa's C2B confirmation callback; the lender's secret token in the URL.
///
/// The payer's phone number and names are not read or stored. Answers Safaricom's
/// `{"ResultCode":0,"ResultDesc":"Accepted"}` once stored.
#[utoipa::path(post, path = "/v1/notify/{lender_id}/mpesa/c2b/{token}", tag = "notify",
    params(("lender_id" = String, Path, description = "the lender"),
        ("token" = String, Path, description = "the lender's M-Pesa URL token (fmp_…)")),
    request_body = MpesaC2bDoc,
    responses((status = 200, description = "stored: recorded as a payment, or held for the lender",
        body = MpesaAccepted), NotifyProblems))]
async fn mpesa_c2b(
    State(st): State<AppState>,
    path: Result<NotifyPath, Response>,
    read: Result<Body>,
) -> Response {
    let run = async {
        let path = path?;
        let refused = || unauthenticated("the URL's token is not valid for this lender");
        let Some(lender) = lender(&st, &path.lender_id)
            .await
            .map_err(IntoResponse::into_response)?
        else {
            return Err(refused());
        };
        let token = path.token.unwrap_or_default();
        let valid = secrets::mpesa_token_valid(&st.db, &lender.lender_id, &token, st.now())
            .await
            .map_err(IntoResponse::into_response)?;
        if !valid {
            return Err(refused());
        }
        let Body(bytes) = body(read)?;
        let notice = mpesa::decode(&bytes).map_err(IntoResponse::into_response)?;
        receive::receive(&st, &lender, &notice)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut r = (StatusCode::OK, mpesa::ACCEPTED).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(r)
    };
    run.await.unwrap_or_else(|r: Response| r)
}

/// `?status=&limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only notifications with this status (all when left out).
    #[serde(default)]
    pub status: Option<Status>,
    /// Per page: 1 to 500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Oldest first.
    pub notifications: Vec<PaymentNotification>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The lender's payment notifications (`?status=held`: those waiting to be assigned).
#[utoipa::path(get, path = "/v1/lender/payment-notifications", tag = "lender",
    params(NotificationQuery),
    responses((status = 200, description = "notifications", body = NotificationList),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
async fn list(
    State(st): State<AppState>,
    auth: AuthLender,
    Query(q): Query<NotificationQuery>,
) -> Result<axum::Json<NotificationList>> {
    let (notifications, next_cursor) = held::list(
        &st,
        &auth.lender.lender_id,
        q.status,
        q.cursor.as_deref(),
        q.limit,
    )
    .await?;
    Ok(axum::Json(NotificationList {
        notifications,
        next_cursor,
    }))
}

/// Assign a held notification to a device: records its payment (audited with who
/// assigned it). Refused by the payment rules (another currency, more than is owed
/// without `allow_overpayment`, a released device): nothing changes, it stays held.
#[utoipa::path(post, path = "/v1/lender/payment-notifications/{id}/assign", tag = "lender",
    params(("id" = String, Path, description = "the notification's notification_id")),
    request_body = Assignment,
    responses((status = 200, description = "assigned (or the same assignment again)",
        body = PaymentNotification), LenderProblems),
    security(("apiKey" = [])))]
async fn assign(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
    Json(req): Json<Assignment>,
) -> Result<axum::Json<PaymentNotification>> {
    Ok(axum::Json(
        held::assign(&st, auth.caller(), &id, &req).await?,
    ))
}

/// The lender's notification endpoints and the secrets they accept now (never a secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettings {
    /// The Standard Webhooks endpoint.
    pub standard_url: String,
    /// M-Pesa's confirmation URL, its token left out (`TOKEN`).
    pub mpesa_url: String,
    /// Newest first; an `expires_at` is the end of a rotation's overlap.
    pub secrets: Vec<SecretInfo>,
}

/// The lender's notification endpoints and valid secrets (never their values).
#[utoipa::path(get, path = "/v1/lender/payment-notifications/secrets", tag = "lender",
    responses((status = 200, description = "the endpoints and secrets", body = NotificationSettings),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
async fn list_secrets(
    State(st): State<AppState>,
    auth: AuthLender,
) -> Result<axum::Json<NotificationSettings>> {
    let lender_id = &auth.lender.lender_id;
    Ok(axum::Json(NotificationSettings {
        standard_url: secrets::endpoint(&st.public_url, lender_id, Source::Standard, None),
        mpesa_url: secrets::endpoint(&st.public_url, lender_id, Source::Mpesa, None),
        secrets: secrets::list(&st.db, lender_id, st.now()).await?,
    }))
}

/// A new Standard Webhooks secret (`whsec_…`), shown once; the previous one stays valid
/// for `overlap_s` (24 h unless asked).
#[utoipa::path(post, path = "/v1/lender/payment-notifications/secret/rotate", tag = "lender",
    request_body = RotateRequest,
    responses((status = 200, description = "the new secret, shown once", body = RotatedSecret),
        LenderProblems),
    security(("apiKey" = [])))]
async fn rotate_secret(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<RotateRequest>,
) -> Result<axum::Json<RotatedSecret>> {
    Ok(axum::Json(
        secrets::rotate(&st, auth.caller(), Source::Standard, &req).await?,
    ))
}

/// A new M-Pesa URL token, its full confirmation URL shown once; the previous token stays
/// valid for `overlap_s` (24 h unless asked).
#[utoipa::path(post, path = "/v1/lender/payment-notifications/mpesa-token/rotate", tag = "lender",
    request_body = RotateRequest,
    responses((status = 200, description = "the new token and URL, shown once", body = RotatedSecret),
        LenderProblems),
    security(("apiKey" = [])))]
async fn rotate_mpesa_token(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<RotateRequest>,
) -> Result<axum::Json<RotatedSecret>> {
    Ok(axum::Json(
        secrets::rotate(&st, auth.caller(), Source::Mpesa, &req).await?,
    ))
}
