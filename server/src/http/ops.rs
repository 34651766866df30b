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
        .get("/readyz", get(readyz))
        .get("/metrics", get(metrics))
        .get("/openapi.json", get(openapi))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// Liveness: the process answers and the database reads.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "ok", body = Health), OpsProblems))]
pub async fn healthz(State(st): State<AppState>) -> Result<axum::Json<Health>> {
    sqlx::query("SELECT 1").execute(&st.db.read).await?;
    Ok(axum::Json(Health { status: "ok" }))
}

/// Readiness: the database takes a write (a read-only or full database, or a lost
/// PostgreSQL primary, makes this 503 while `/healthz` may still say the process lives).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "ready", body = Health),
        (status = 503, description = "the database does not take writes",
            body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(st): State<AppState>) -> Result<axum::Json<Health>> {
    let written = sqlx::query(
        "INSERT INTO rate_limits (bucket, window_start, count) VALUES ('readyz', $1, 1) \
         ON CONFLICT (bucket) DO UPDATE SET window_start = excluded.window_start, count = 1",
    )
    .bind(st.now())
    .execute(&st.db.write)
    .await;
    match written {
        Ok(_) => Ok(axum::Json(Health { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not take writes");
            Err(crate::error::Error::NotReady)
        }
    }
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
