//! The device-facing API (PROTOCOL §3): `POST /v1/enroll`, `POST /v1/checkin`. The
//! protocol's rules live in [`crate::enrollment`] and [`crate::checkin`].

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::openapi::DeviceProblems;
use super::{AppState, Body, ClientAddr, Routes};
use crate::enrollment::{Answer, PendingAnswer};
use crate::error::{Error, Result};
use crate::{checkin, enrollment};
use finlock_core::protocol::{CheckinResponse, EnrollResponse};

pub fn router() -> Routes {
    Routes::default()
        .post("/v1/enroll", post(enroll))
        .post("/v1/checkin", post(check_in))
}

/// Enroll a device (PROTOCOL §3.1).
#[utoipa::path(post, path = "/v1/enroll", tag = "device",
    request_body(content = String, content_type = "application/jose",
        description = "compact JWS (PROTOCOL.md §2)"),
    responses((status = 200, description = "enrolled",
        body = super::openapi::EnrollAnswer),
        (status = 202, description = "not bound (yet): enrollment by IMEI waits for the lender's approval; ask again with the same key after Retry-After",
        body = PendingAnswer),
        DeviceProblems))]
pub async fn enroll(
    State(st): State<AppState>,
    client: ClientAddr,
    body: Body,
) -> Result<Response> {
    Ok(
        match enrollment::enroll(&st, &body.0, client.0.as_deref()).await? {
            Answer::Enrolled(e) => axum::Json::<EnrollResponse>(e).into_response(),
            Answer::Pending(p) => {
                let retry = p.retry_after_s;
                let mut r = (StatusCode::ACCEPTED, axum::Json(p)).into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry));
                r
            }
        },
    )
}

/// Check in (PROTOCOL §3.2).
#[utoipa::path(post, path = "/v1/checkin", tag = "device",
    request_body(content = String, content_type = "application/jose",
        description = "compact JWS (PROTOCOL.md §2)"),
    responses((status = 200, description = "a new entitlement",
        body = super::openapi::CheckinAnswer), DeviceProblems))]
pub async fn check_in(
    State(st): State<AppState>,
    body: Body,
) -> Result<axum::Json<CheckinResponse>> {
    let result = checkin::check_in(&st, &body.0).await;
    st.metrics
        .checkin(result.as_ref().map(|_| ()).map_err(Error::slug));
    Ok(axum::Json(result?))
}
