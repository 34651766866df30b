//! `/v1/lender/api-keys`: the calling lender's API keys (list, create, rotate, revoke).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AuthLender;
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, PathId, Routes};
use crate::api_keys::{self, ApiKey, NewApiKey};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default()
        .get("/v1/lender/api-keys", get(list))
        .post("/v1/lender/api-keys", post(create))
        .post("/v1/lender/api-keys/{id}/rotate", post(rotate))
        .post("/v1/lender/api-keys/{id}/revoke", post(revoke))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Newest first; secrets are never shown again.
    pub keys: Vec<ApiKey>,
}

/// The lender's API keys.
#[utoipa::path(get, path = "/v1/lender/api-keys", tag = "lender",
    responses((status = 200, description = "the keys", body = ApiKeyList), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(State(st): State<AppState>, auth: AuthLender) -> Result<axum::Json<ApiKeyList>> {
    let keys = api_keys::list(&st.db, &auth.lender.lender_id).await?;
    Ok(axum::Json(ApiKeyList { keys }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what uses it: 1–64 printable characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

/// Create an API key (its secret is in this answer only).
#[utoipa::path(post, path = "/v1/lender/api-keys", tag = "lender",
    request_body = CreateKey,
    responses((status = 201, description = "the new key", body = NewApiKey), LenderProblems),
    security(("apiKey" = [])))]
pub async fn create(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<CreateKey>,
) -> Result<Response> {
    let key = api_keys::create(
        &st.db,
        &auth.lender.lender_id,
        &req.name,
        &auth.by(),
        st.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(key)).into_response())
}

/// Replace a key by a new one with the same name; the old one stops working.
#[utoipa::path(post, path = "/v1/lender/api-keys/{id}/rotate", tag = "lender",
    params(("id" = String, Path, description = "key id")),
    responses((status = 201, description = "the new key", body = NewApiKey), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn rotate(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
) -> Result<Response> {
    let key = api_keys::rotate(&st.db, &auth.lender.lender_id, &id, &auth.by(), st.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(key)).into_response())
}

/// Revoke a key (not the lender's last active one).
#[utoipa::path(post, path = "/v1/lender/api-keys/{id}/revoke", tag = "lender",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, description = "the revoked key", body = ApiKey), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn revoke(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<ApiKey>> {
    let key = api_keys::revoke(&st.db, &auth.lender.lender_id, &id, &auth.by(), st.now()).await?;
    Ok(axum::Json(key))
}
