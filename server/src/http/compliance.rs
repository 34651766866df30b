//! Compliance profiles (docs/COMPLIANCE.md): the shipped profiles, and the calling
//! lender's selection and payment apps. The rules live in [`crate::compliance`].

use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::AuthLender;
use super::openapi::{LenderNoBodyProblems, LenderProblems, OpsProblems};
use super::{AppState, Json, Routes};
use crate::audit::Actor;
use crate::compliance::{self, Profile, lender::LenderCompliance};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default()
        .get("/v1/compliance/profiles", get(profiles))
        .get("/v1/lender/compliance", get(show))
        .put("/v1/lender/compliance", axum::routing::put(set))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceProfileList {
    /// Every profile this server ships, the default (`permissive`) first, each with the
    /// texts it follows and their dates.
    pub profiles: Vec<Profile>,
}

/// The compliance profiles this server ships (public data: no API key needed).
#[utoipa::path(get, path = "/v1/compliance/profiles", tag = "lender",
    responses((status = 200, description = "the profiles", body = ComplianceProfileList),
        OpsProblems))]
pub async fn profiles() -> Result<axum::Json<ComplianceProfileList>> {
    Ok(axum::Json(ComplianceProfileList {
        profiles: compliance::profiles()?.to_vec(),
    }))
}

/// The calling lender's compliance profile and payment apps.
#[utoipa::path(get, path = "/v1/lender/compliance", tag = "lender",
    responses((status = 200, description = "the settings", body = LenderCompliance),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn show(
    State(st): State<AppState>,
    auth: AuthLender,
) -> Result<axum::Json<LenderCompliance>> {
    Ok(axum::Json(
        compliance::lender::show(&st.db, &auth.lender.lender_id).await?,
    ))
}

/// Select the lender's compliance profile and payment apps (audited). 422 `compliance`
/// when the profile forbids what the lender's phones already have (a lender lock, a
/// reminder policy not quiet when it requires).
#[utoipa::path(put, path = "/v1/lender/compliance", tag = "lender",
    request_body = LenderCompliance,
    responses((status = 200, description = "the settings as set", body = LenderCompliance),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn set(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<LenderCompliance>,
) -> Result<axum::Json<LenderCompliance>> {
    let actor = Actor::Lender {
        lender_id: &auth.lender.lender_id,
        key_id: Some(&auth.key.key_id),
    };
    let set =
        compliance::lender::set(&st.db, &auth.lender.lender_id, &req, actor, st.now()).await?;
    // This node signs under the new settings at once; the others within FRESH_S.
    st.lenders.forget(&auth.lender.lender_id);
    Ok(axum::Json(set))
}
