//! The device-facing API (PROTOCOL §3): `POST /v1/enroll/challenge`, `POST /v1/enroll`,
//! `POST /v1/checkin`. The protocol's rules live in [`crate::enrollment`],
//! [`crate::attestation::challenges`] and [`crate::checkin`].

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::openapi::DeviceProblems;
use super::{AppState, Body, ClientAddr, Routes};
use crate::attestation::challenges::{self, IssuedChallenge};
use crate::enrollment::{Answer, PendingAnswer};
use crate::error::{Error, Result};
use crate::{checkin, enrollment};
use finlock_core::keyset::Chained;
use finlock_core::protocol::{CheckinResponse, EnrollResponse};

pub fn router() -> Routes {
    Routes::default()
        .post("/v1/enroll/challenge", post(enroll_challenge))
        .post("/v1/enroll", post(enroll))
        .post("/v1/checkin", post(check_in))
}

/// A single-use attestation challenge for an attested enrollment by IMEI (PROTOCOL §3.1,
/// ADR 0011): valid 5 minutes, limited per client address like enrollments.
#[utoipa::path(post, path = "/v1/enroll/challenge", tag = "device",
    responses((status = 200, description = "a fresh challenge",
        body = crate::attestation::challenges::IssuedChallenge),
        (status = 429, description = "too many challenges from this address (Retry-After)",
            content_type = "application/problem+json", body = crate::error::Problem),
        (status = 500, description = "a server fault",
            content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn enroll_challenge(
    State(st): State<AppState>,
    client: ClientAddr,
) -> Result<axum::Json<IssuedChallenge>> {
    let issued = challenges::issue(
        &st.db,
        client.0.as_deref(),
        st.config.enroll_per_address,
        st.now(),
    )
    .await?;
    Ok(axum::Json(issued))
}

/// Enroll a device (PROTOCOL §3.1).
#[utoipa::path(post, path = "/v1/enroll", tag = "device",
    request_body(content = String, content_type = "application/jose",
        description = "compact JWS (PROTOCOL.md §2); an enrollment by IMEI may carry `attestation` (Android key attestation, PROTOCOL.md §3.1); any enrollment may carry `push_endpoint` (a Web Push endpoint, `https://`, at most 1024 bytes: where the server sends an empty wake-up push when the entitlement changes; an endpoint the server may not reach, such as a private address, is accepted and not used)"),
    responses((status = 200, description = "enrolled (by code, by an approved key, or by a hardware proof of the registered IMEI)",
        body = super::openapi::EnrollAnswer),
        (status = 202, description = "not bound (yet): enrollment by IMEI without a passing hardware proof waits for the lender's approval (the same answer whatever failed, registered IMEI or not); ask again with the same key after Retry-After",
        body = PendingAnswer),
        DeviceProblems))]
pub async fn enroll(
    State(st): State<AppState>,
    client: ClientAddr,
    body: Body,
) -> Result<Response> {
    Ok(
        match enrollment::enroll(&st, &body.0, client.0.as_deref()).await? {
            Answer::Enrolled(e) => axum::Json::<Chained<EnrollResponse>>(e).into_response(),
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
        description = "compact JWS (PROTOCOL.md §2); `push_endpoint` sets the device's Web Push endpoint (`https://`, at most 1024 bytes), `\"\"` forgets it, absent leaves it as it is; a malformed one is 422 invalid-field with nothing recorded"),
    responses((status = 200, description = "a new entitlement",
        body = super::openapi::CheckinAnswer), DeviceProblems))]
pub async fn check_in(
    State(st): State<AppState>,
    body: Body,
) -> Result<axum::Json<Chained<CheckinResponse>>> {
    let result = checkin::check_in(&st, &body.0).await;
    st.metrics
        .checkin(result.as_ref().map(|_| ()).map_err(Error::slug));
    Ok(axum::Json(result?))
}
