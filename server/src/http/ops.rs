//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::OpsProblems;
use super::{AppState, Routes};
use crate::error::Result;
use crate::metrics::Metrics;

pub fn router() -> Routes {
    Routes::default()
        .get("/healthz", get(healthz))
        .get("/metrics", get(metrics))
        .get("/openapi.json", get(openapi))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// Liveness and database check.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "ok", body = Health), OpsProblems))]
pub async fn healthz(State(st): State<AppState>) -> Result<axum::Json<Health>> {
    sqlx::query("SELECT 1").execute(&st.db.read).await?;
    Ok(axum::Json(Health { status: "ok" }))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain")))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    let mut r = st.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Metrics::content_type()),
    );
    r
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi() -> Response {
    axum::Json(super::openapi::document()).into_response()
}
