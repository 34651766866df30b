//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::OpsProblems;
use super::{AppState, Routes};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default()
        .get("/healthz", get(healthz))
        .get("/metrics", get(metrics))
        .get("/openapi.json", get(openapi))
}

/// Latency histogram buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Registry {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    checkins: BTreeMap<&'static str, u64>,
    clock_jumps: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    pub fn observe(&self, route: &'static str, status: StatusCode, elapsed: Duration) {
        let Ok(mut r) = self.registry.lock() else {
            return;
        };
        *r.requests.entry((route, status.as_u16())).or_default() += 1;
        let h = r.latency.entry(route).or_default();
        let secs = elapsed.as_secs_f64();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
    }

    /// One check-in: `Ok` or the problem slug it failed with.
    pub fn checkin(&self, result: std::result::Result<(), &'static str>) {
        if let Ok(mut r) = self.registry.lock() {
            *r.checkins.entry(result.err().unwrap_or("ok")).or_default() += 1;
        }
    }

    pub fn clock_jump(&self) {
        if let Ok(mut r) = self.registry.lock() {
            r.clock_jumps += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let Ok(r) = self.registry.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP finlock_checkins_total Device check-ins by result (ok, or the problem type).\n\
             # TYPE finlock_checkins_total counter"
        );
        for (result, n) in &r.checkins {
            let _ = writeln!(out, "finlock_checkins_total{{result=\"{result}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP finlock_clock_jumps_total Clock jumps reported by devices.\n\
             # TYPE finlock_clock_jumps_total counter\nfinlock_clock_jumps_total {}",
            r.clock_jumps
        );
        let _ = writeln!(
            out,
            "# HELP finlock_http_requests_total HTTP requests by route and status.\n\
             # TYPE finlock_http_requests_total counter"
        );
        for ((route, status), n) in &r.requests {
            let _ = writeln!(
                out,
                "finlock_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP finlock_http_errors_total HTTP answers with status >= 400.\n\
             # TYPE finlock_http_errors_total counter"
        );
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        for ((route, status), n) in &r.requests {
            if *status >= 400 {
                *errors.entry(route).or_default() += n;
            }
        }
        for (route, n) in errors {
            let _ = writeln!(out, "finlock_http_errors_total{{route=\"{route}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP finlock_http_request_duration_seconds Request latency by route.\n\
             # TYPE finlock_http_request_duration_seconds histogram"
        );
        for (route, h) in &r.latency {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "finlock_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "finlock_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 finlock_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 finlock_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        out
    }
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
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn openapi() -> Response {
    axum::Json(super::openapi::document()).into_response()
}
