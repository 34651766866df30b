//! `/v1/lender/devices/{id}/lock|unlock|release|offline-code`.

use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::OwnedDevice;
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, Routes};
use crate::devices::actions;
use crate::devices::offline::{self, CodeRequest, OfflineCode};
use crate::devices::view::{DeviceView, view};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default()
        .post("/v1/lender/devices/{id}/lock", post(lock))
        .post("/v1/lender/devices/{id}/unlock", post(unlock))
        .post("/v1/lender/devices/{id}/release", post(release))
        .post("/v1/lender/devices/{id}/extension", post(extend))
        .post("/v1/lender/devices/{id}/offline-code", post(offline_code))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    /// Shown on the lock screen: 1–350 characters.
    #[schema(min_length = 1, max_length = 350)]
    pub reason: String,
}

/// Lock the device.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/lock", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    request_body = LockRequest,
    responses((status = 200, description = "the device", body = DeviceView), LenderProblems),
    security(("apiKey" = [])))]
pub async fn lock(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Json(req): Json<LockRequest>,
) -> Result<axum::Json<DeviceView>> {
    let row = actions::lock(&st, owned.caller(), &owned.device, &req.reason).await?;
    Ok(axum::Json(view(&row, st.now())?))
}

/// Lift a lender lock.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/unlock", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, description = "the device", body = DeviceView), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn unlock(
    State(st): State<AppState>,
    owned: OwnedDevice,
) -> Result<axum::Json<DeviceView>> {
    let row = actions::unlock(&st, owned.caller(), &owned.device).await?;
    Ok(axum::Json(view(&row, st.now())?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// The new lock time (Unix seconds): later than the current one, at most 90 days
    /// from now.
    pub until: i64,
    /// Why (audited; e.g. the promise the customer made): 1–350 characters.
    #[schema(min_length = 1, max_length = 350)]
    pub reason: String,
}

/// A promise-to-pay extension: move the lock later.
#[utoipa::path(post, path = "/v1/lender/devices/{id}/extension", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    request_body = ExtensionRequest,
    responses((status = 200, description = "the device", body = DeviceView), LenderProblems),
    security(("apiKey" = [])))]
pub async fn extend(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Json(req): Json<ExtensionRequest>,
) -> Result<axum::Json<DeviceView>> {
    let row = actions::extend(&st, owned.caller(), &owned.device, req.until, &req.reason).await?;
    Ok(axum::Json(view(&row, st.now())?))
}

/// Release for good (terminal).
#[utoipa::path(post, path = "/v1/lender/devices/{id}/release", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, description = "the device", body = DeviceView), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn release(
    State(st): State<AppState>,
    owned: OwnedDevice,
) -> Result<axum::Json<DeviceView>> {
    let row = actions::release(&st, owned.caller(), &owned.device).await?;
    Ok(axum::Json(view(&row, st.now())?))
}

/// Answer an offline unlock challenge (PROTOCOL §6).
#[utoipa::path(post, path = "/v1/lender/devices/{id}/offline-code", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    request_body = CodeRequest,
    responses((status = 200, description = "the code", body = OfflineCode), LenderProblems),
    security(("apiKey" = [])))]
pub async fn offline_code(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Json(req): Json<CodeRequest>,
) -> Result<axum::Json<OfflineCode>> {
    let code = offline::answer(&st, owned.caller(), &owned.device, &req).await?;
    Ok(axum::Json(code))
}
