//! `/v1/lender/devices/{id}/payments`: record a payment (idempotent by
//! `Idempotency-Key`), list a device's payments, void one before the device is released;
//! `/v1/lender/settings/completing-window`: how long after paid in full a device is
//! released (ADR 0012).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{AuthLender, OwnedDevice};
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, PathRid, Query, Routes};
use crate::db::queries::PaymentRow;
use crate::devices::completing::{self, CompletingWindow};
use crate::devices::payments::{self, PaymentAnswer, PaymentRequest};
use crate::devices::voids::{self, VoidAnswer, VoidRequest};
use crate::error::{Error, Result};

pub fn router() -> Routes {
    Routes::default()
        .post("/v1/lender/devices/{id}/payments", post(record))
        .get("/v1/lender/devices/{id}/payments", get(list))
        .post("/v1/lender/devices/{id}/payments/{rid}/void", post(void))
        .get("/v1/lender/settings/completing-window", get(window))
        .put("/v1/lender/settings/completing-window", put(set_window))
}

/// The `Idempotency-Key` header of a payment.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<IdempotencyKey> {
        let value = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok());
        payments::check_idempotency_key(value).map(IdempotencyKey)
    }
}

/// Record a payment (idempotent by Idempotency-Key).
#[utoipa::path(post, path = "/v1/lender/devices/{id}/payments", tag = "lender",
    params(("id" = String, Path, description = "device id"),
        ("Idempotency-Key" = String, Header, description = "1-255 printable ASCII characters; a retry with the same key returns the first answer")),
    request_body = PaymentRequest,
    responses((status = 201, description = "recorded (or the first answer for this key)",
        body = PaymentAnswer), LenderProblems),
    security(("apiKey" = [])))]
pub async fn record(
    State(st): State<AppState>,
    owned: OwnedDevice,
    IdempotencyKey(key): IdempotencyKey,
    Json(req): Json<PaymentRequest>,
) -> Result<Response> {
    let recorded = payments::record(&st, owned.caller(), &owned.device, &key, &req).await?;
    let status = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK);
    let mut r = (status, recorded.body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    /// Oldest first.
    pub payments: Vec<PaymentRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Per page: 1 to 500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The device's payments, a page at a time.
#[utoipa::path(get, path = "/v1/lender/devices/{id}/payments", tag = "lender",
    params(("id" = String, Path, description = "device id"), PageQuery),
    responses((status = 200, description = "payments", body = PaymentList), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<PaymentList>> {
    let (payments, next_cursor) =
        payments::list(&st, &owned.device, q.cursor.as_deref(), q.limit).await?;
    Ok(axum::Json(PaymentList {
        payments,
        next_cursor,
    }))
}

/// Void a payment (it no longer counts), with a reason; until the device is released.
///
/// Paid in full and completing, the device owes again (and locks again at its next
/// check-in if an installment is overdue), or, still paid in full, is released only a full
/// window after this void. Voiding a voided payment answers the first answer again. After
/// the release: 409 `released`, nothing changed.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/payments/{rid}/void", tag = "lender",
    params(("id" = String, Path, description = "device id"),
        ("rid" = String, Path, description = "the payment's payment_id")),
    request_body = VoidRequest,
    responses((status = 200, description = "voided (or the first answer for this payment)",
        body = VoidAnswer), LenderProblems),
    security(("apiKey" = [])))]
pub async fn void(
    State(st): State<AppState>,
    owned: OwnedDevice,
    PathRid(payment_id): PathRid,
    Json(req): Json<VoidRequest>,
) -> Result<Response> {
    let body = voids::void(&st, owned.caller(), &owned.device, &payment_id, &req).await?;
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// The lender's completing window.
#[utoipa::path(get, path = "/v1/lender/settings/completing-window", tag = "lender",
    responses((status = 200, description = "the window", body = CompletingWindow),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn window(
    State(st): State<AppState>,
    auth: AuthLender,
) -> Result<axum::Json<CompletingWindow>> {
    Ok(axum::Json(
        completing::window(&st, &auth.lender.lender_id).await?,
    ))
}

/// Set the lender's completing window (for devices paid in full from now on).
#[utoipa::path(put, path = "/v1/lender/settings/completing-window", tag = "lender",
    request_body = CompletingWindow,
    responses((status = 200, description = "the window as set", body = CompletingWindow),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn set_window(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<CompletingWindow>,
) -> Result<axum::Json<CompletingWindow>> {
    Ok(axum::Json(
        completing::set_window(&st, &auth.lender.lender_id, req).await?,
    ))
}
