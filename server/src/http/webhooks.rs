//! `/v1/lender/webhooks/…`: the calling lender's webhook endpoints (create with the
//! secret shown once, list, rotate the secret, delete), its delivery log (redeliver a
//! dead delivery) and its webhook settings. The rules live in [`crate::webhooks`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::AuthLender;
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, PathId, Query, Routes};
use crate::audit::Actor;
use crate::error::Result;
use crate::webhooks::endpoints::{self, Endpoint, NewEndpoint, WebhookSettings, WithSecret};
use crate::webhooks::log::{self, Delivery, LogQuery, Page};

/// The lender's API key that acts (its audit entries name it).
fn actor(auth: &AuthLender) -> Actor<'_> {
    Actor::Lender {
        lender_id: &auth.lender.lender_id,
        key_id: Some(&auth.key.key_id),
    }
}

pub fn router() -> Routes {
    Routes::default()
        .get("/v1/lender/webhooks/endpoints", get(list))
        .post("/v1/lender/webhooks/endpoints", post(create))
        .post("/v1/lender/webhooks/endpoints/{id}/rotate", post(rotate))
        .post("/v1/lender/webhooks/endpoints/{id}/delete", post(delete))
        .get("/v1/lender/webhooks/deliveries", get(deliveries))
        .post(
            "/v1/lender/webhooks/deliveries/{id}/redeliver",
            post(redeliver),
        )
        .get("/v1/lender/webhooks/settings", get(settings))
        .put("/v1/lender/webhooks/settings", put(set_settings))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointList {
    /// Live endpoints first; secrets are never shown again.
    pub endpoints: Vec<Endpoint>,
}

/// The lender's webhook endpoints.
#[utoipa::path(get, path = "/v1/lender/webhooks/endpoints", tag = "lender",
    responses((status = 200, description = "the endpoints", body = WebhookEndpointList),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    auth: AuthLender,
) -> Result<axum::Json<WebhookEndpointList>> {
    let endpoints = endpoints::list(&st.db, &auth.lender.lender_id).await?;
    Ok(axum::Json(WebhookEndpointList { endpoints }))
}

/// Add an endpoint (its signing secret is in this answer only).
#[utoipa::path(post, path = "/v1/lender/webhooks/endpoints", tag = "lender",
    request_body = NewEndpoint,
    responses((status = 201, description = "the endpoint and its secret", body = WithSecret),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn create(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<NewEndpoint>,
) -> Result<Response> {
    let created = endpoints::create(
        &st.db,
        &auth.lender.lender_id,
        &req,
        st.config.webhooks.rules,
        actor(&auth),
        st.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Replace the endpoint's secret (the new one is in this answer only; the old one stops
/// signing at once).
#[utoipa::path(post, path = "/v1/lender/webhooks/endpoints/{id}/rotate", tag = "lender",
    params(("id" = String, Path, description = "endpoint id")),
    responses((status = 201, description = "the endpoint and its new secret", body = WithSecret),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn rotate(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
) -> Result<Response> {
    let rotated =
        endpoints::rotate(&st.db, &auth.lender.lender_id, &id, actor(&auth), st.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(rotated)).into_response())
}

/// Delete the endpoint: nothing more is sent to it; its undelivered events are dead.
#[utoipa::path(post, path = "/v1/lender/webhooks/endpoints/{id}/delete", tag = "lender",
    params(("id" = String, Path, description = "endpoint id")),
    responses((status = 200, description = "the deleted endpoint", body = Endpoint),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<Endpoint>> {
    let deleted =
        endpoints::delete(&st.db, &auth.lender.lender_id, &id, actor(&auth), st.now()).await?;
    Ok(axum::Json(deleted))
}

/// The delivery log, newest first (e.g. `?status=dead`).
#[utoipa::path(get, path = "/v1/lender/webhooks/deliveries", tag = "lender",
    params(LogQuery),
    responses((status = 200, description = "a page of deliveries", body = Page),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn deliveries(
    State(st): State<AppState>,
    auth: AuthLender,
    Query(q): Query<LogQuery>,
) -> Result<axum::Json<Page>> {
    Ok(axum::Json(
        log::list(&st.db, &auth.lender.lender_id, &q).await?,
    ))
}

/// Send a dead delivery again (its schedule starts over).
#[utoipa::path(post, path = "/v1/lender/webhooks/deliveries/{id}/redeliver", tag = "lender",
    params(("id" = String, Path, description = "delivery id")),
    responses((status = 200, description = "the delivery, pending again", body = Delivery),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn redeliver(
    State(st): State<AppState>,
    auth: AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<Delivery>> {
    let again = log::redeliver(&st.db, &auth.lender.lender_id, &id, actor(&auth), st.now()).await?;
    Ok(axum::Json(again))
}

/// The lender's webhook settings.
#[utoipa::path(get, path = "/v1/lender/webhooks/settings", tag = "lender",
    responses((status = 200, description = "the settings", body = WebhookSettings),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn settings(
    State(st): State<AppState>,
    auth: AuthLender,
) -> Result<axum::Json<WebhookSettings>> {
    Ok(axum::Json(
        endpoints::settings(&st.db, &auth.lender.lender_id).await?,
    ))
}

/// Set the lender's webhook settings.
#[utoipa::path(put, path = "/v1/lender/webhooks/settings", tag = "lender",
    request_body = WebhookSettings,
    responses((status = 200, description = "the settings as set", body = WebhookSettings),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn set_settings(
    State(st): State<AppState>,
    auth: AuthLender,
    Json(req): Json<WebhookSettings>,
) -> Result<axum::Json<WebhookSettings>> {
    Ok(axum::Json(
        endpoints::set_settings(&st.db, &auth.lender.lender_id, req).await?,
    ))
}
