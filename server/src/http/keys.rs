//! `/v1/lender/keys`: the calling lender's signing-key sets — list, rotate, retire a
//! compromised key (ADR 0007). Each change is in the lender's key log with the API key
//! that made it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::AuthLender;
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, Routes};
use crate::audit::Actor;
use crate::error::Result;
use crate::lender_keys::{self, KeySets, Rotated, Rotation};

pub fn router() -> Routes {
    Routes::default()
        .get("/v1/lender/keys", get(list))
        .post("/v1/lender/keys/rotate", post(rotate))
        .post("/v1/lender/keys/retire", post(retire))
}

/// The lender's key sets, oldest first, and its key log.
#[utoipa::path(get, path = "/v1/lender/keys", tag = "lender",
    responses((status = 200, description = "the key sets", body = KeySets), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(State(st): State<AppState>, auth: AuthLender) -> Result<axum::Json<KeySets>> {
    Ok(axum::Json(
        lender_keys::list(&st.db, &auth.lender.lender_id).await?,
    ))
}

async fn change(st: &AppState, auth: &AuthLender, rotation: Rotation<'_>) -> Result<Response> {
    let lender_id = &auth.lender.lender_id;
    let rotated = lender_keys::rotate(
        &st.db,
        &st.config.keys_dir,
        lender_id,
        rotation,
        false,
        Actor::Lender {
            lender_id,
            key_id: Some(&auth.key.key_id),
        },
        &auth.by(),
        st.now(),
    )
    .await?;
    // This node signs with the new key at once; others within lender_keys::FRESH_S.
    st.lenders.forget(lender_id);
    Ok((StatusCode::CREATED, axum::Json::<Rotated>(rotated)).into_response())
}

/// Rotate the signing key: a new key; the next set is [new key, the current one], signed
/// by the current one. Phones catch up at their next check-in.
#[utoipa::path(post, path = "/v1/lender/keys/rotate", tag = "lender",
    responses((status = 201, description = "the new set", body = Rotated), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn rotate(State(st): State<AppState>, auth: AuthLender) -> Result<Response> {
    change(&st, &auth, Rotation::Rotate).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireKey {
    /// The key to take out of service (a kid of the current set, from `GET /v1/lender/keys`).
    #[schema(min_length = 1, max_length = 128)]
    pub kid: String,
}

/// Retire a (compromised) key now: the next set holds only a fresh key, so a phone that
/// caught up accepts nothing the retired key signs.
#[utoipa::path(post, path = "/v1/lender/keys/retire", tag = "lender",
    request_body = RetireKey,
    responses((status = 201, description = "the new set", body = Rotated), LenderProblems),
    security(("apiKey" = [])))]
pub async fn retire(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<RetireKey>,
) -> Result<Response> {
    change(&st, &auth, Rotation::Retire { kid: &req.kid }).await
}
