//! `GET /v1/lender/dashboard`: the lender's figures at a glance ([`crate::devices::dashboard`]).

use axum::extract::State;
use axum::routing::get;

use super::auth::AuthLender;
use super::openapi::LenderNoBodyProblems;
use super::{AppState, Routes};
use crate::devices::dashboard::{self, Dashboard};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default().get("/v1/lender/dashboard", get(show))
}

/// Devices by state, arrears by days past due, collected this month (UTC), phones not
/// seen for 3 days or more, releases in the next 7 days.
#[utoipa::path(get, path = "/v1/lender/dashboard", tag = "lender",
    responses((status = 200, description = "the figures now", body = Dashboard),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn show(State(st): State<AppState>, auth: AuthLender) -> Result<axum::Json<Dashboard>> {
    Ok(axum::Json(
        dashboard::dashboard(&st, &auth.lender.lender_id).await?,
    ))
}
