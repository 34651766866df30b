//! `/v1/lender/devices/{id}/enrollment-requests`: keys asking to enroll by IMEI without
//! hardware proof, and the lender's approval or refusal.

use axum::extract::State;
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::OwnedDevice;
use super::openapi::LenderNoBodyProblems;
use super::{AppState, PathRid, Routes};
use crate::devices::approvals::{self, EnrollmentRequest};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default()
        .get("/v1/lender/devices/{id}/enrollment-requests", get(list))
        .post(
            "/v1/lender/devices/{id}/enrollment-requests/{rid}/approve",
            post(approve),
        )
        .post(
            "/v1/lender/devices/{id}/enrollment-requests/{rid}/refuse",
            post(refuse),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentRequestList {
    /// Newest first.
    pub requests: Vec<EnrollmentRequest>,
}

/// Keys that asked to enroll as this device by IMEI.
#[utoipa::path(get, path = "/v1/lender/devices/{id}/enrollment-requests", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, description = "the requests", body = EnrollmentRequestList),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    owned: OwnedDevice,
) -> Result<axum::Json<EnrollmentRequestList>> {
    let requests = approvals::list(&st, &owned.device).await?;
    Ok(axum::Json(EnrollmentRequestList { requests }))
}

/// Approve a key: it binds at the phone's next try.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/enrollment-requests/{rid}/approve",
    tag = "lender",
    params(("id" = String, Path, description = "device id"),
        ("rid" = String, Path, description = "request id")),
    responses((status = 200, description = "the request", body = EnrollmentRequest),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    owned: OwnedDevice,
    PathRid(rid): PathRid,
) -> Result<axum::Json<EnrollmentRequest>> {
    let r = approvals::decide(&st, owned.caller(), &owned.device, &rid, true).await?;
    Ok(axum::Json(r))
}

/// Refuse a key.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/enrollment-requests/{rid}/refuse",
    tag = "lender",
    params(("id" = String, Path, description = "device id"),
        ("rid" = String, Path, description = "request id")),
    responses((status = 200, description = "the request", body = EnrollmentRequest),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn refuse(
    State(st): State<AppState>,
    owned: OwnedDevice,
    PathRid(rid): PathRid,
) -> Result<axum::Json<EnrollmentRequest>> {
    let r = approvals::decide(&st, owned.caller(), &owned.device, &rid, false).await?;
    Ok(axum::Json(r))
}
