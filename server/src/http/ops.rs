//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text), `GET /openapi.json`.
//!
//! Metrics are per process (each node is scraped on its own), kept in one mutex that
//! is held for a few map updates per request.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use crate::error::Result;

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

/// `GET /healthz`: the process answers and the database does.
pub async fn healthz(State(st): State<AppState>) -> Result<Response> {
    sqlx::query("SELECT 1").execute(&st.db.read).await?;
    Ok(axum::Json(json!({ "status": "ok" })).into_response())
}

/// `GET /metrics`
pub async fn metrics(State(st): State<AppState>) -> Response {
    let mut r = st.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}

fn problem_responses(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        m.insert(
            (*c).to_string(),
            json!({ "description": "Problem details (RFC 9457)",
                    "content": { "application/problem+json": {
                        "schema": { "$ref": "#/components/schemas/Problem" } } } }),
        );
    }
    Value::Object(m)
}

fn op(summary: &str, tag: &str, ok: (&str, Value), errors: &[&str]) -> Value {
    let mut responses = problem_responses(errors);
    if let Value::Object(m) = &mut responses {
        m.insert(ok.0.to_string(), ok.1);
    }
    let mut o = json!({ "summary": summary, "tags": [tag], "responses": responses });
    if tag == "lender" {
        o["security"] = json!([{ "apiKey": [] }]);
    }
    o
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn with_body(mut o: Value, content_type: &str, schema: Value) -> Value {
    o["requestBody"] =
        json!({ "required": true, "content": { content_type: { "schema": schema } } });
    o
}

fn with_params(mut o: Value, params: Value) -> Value {
    o["parameters"] = params;
    o
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The OpenAPI 3.1 description of every route (checked against the router by a test).
pub fn openapi_document() -> Value {
    let id =
        json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } });
    let jose = json!({ "type": "string", "description": "compact JWS (PROTOCOL.md §2)" });
    let device_errors = &["400", "401", "409", "413", "422", "429", "500"];
    let lender_errors = &["400", "401", "404", "409", "413", "422", "500"];
    let paths = json!({
        "/healthz": { "get": op("Liveness and database check", "ops",
            ("200", json_ok("ok", json!({ "type": "object" }))), &["500"]) },
        "/metrics": { "get": op("Prometheus metrics", "ops",
            ("200", json!({ "description": "Prometheus text format",
                "content": { "text/plain": { "schema": { "type": "string" } } } })), &[]) },
        "/openapi.json": { "get": op("This document", "ops",
            ("200", json_ok("OpenAPI 3.1", json!({ "type": "object" }))), &[]) },
        "/v1/enroll": { "post": with_body(op("Enroll a device (PROTOCOL §3.1)", "device",
            ("200", json_ok("enrolled", r("EnrollResponse"))), device_errors),
            "application/jose", jose.clone()) },
        "/v1/checkin": { "post": with_body(op("Check in (PROTOCOL §3.2)", "device",
            ("200", json_ok("a new entitlement", r("CheckinResponse"))), device_errors),
            "application/jose", jose) },
        "/v1/lender/devices": {
            "post": with_body(op("Register a financed device", "lender",
                ("201", json_ok("registered", r("Created"))), lender_errors),
                "application/json", r("CreateDevice")),
            "get": with_params(op("List devices (filter by state, paginated by cursor)", "lender",
                ("200", json_ok("a page", r("DeviceList"))), lender_errors),
                json!([
                    { "name": "state", "in": "query", "schema": { "enum": ["current", "overdue", "locked", "released"] } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } },
                    { "name": "cursor", "in": "query", "schema": { "type": "string" } }
                ])),
        },
        "/v1/lender/devices/{id}": { "get": with_params(op("One device", "lender",
            ("200", json_ok("the device", r("Device"))), lender_errors), json!([id])) },
        "/v1/lender/devices/{id}/payments": {
            "post": with_params(with_body(op("Record a payment (idempotent by Idempotency-Key)", "lender",
                ("201", json_ok("recorded (or the first answer for this key)", r("Payment"))), lender_errors),
                "application/json", r("PaymentRequest")),
                json!([id, { "name": "Idempotency-Key", "in": "header", "required": true,
                             "schema": { "type": "string", "maxLength": 255 } }])),
            "get": with_params(op("The device's payments", "lender",
                ("200", json_ok("payments", json!({ "type": "object" }))), lender_errors), json!([id])),
        },
        "/v1/lender/devices/{id}/lock": { "post": with_params(with_body(op("Lock the device", "lender",
            ("200", json_ok("the device", r("Device"))), lender_errors),
            "application/json", json!({ "type": "object", "required": ["reason"],
                "properties": { "reason": { "type": "string", "maxLength": 350 } } })), json!([id])) },
        "/v1/lender/devices/{id}/unlock": { "post": with_params(op("Lift a lender lock", "lender",
            ("200", json_ok("the device", r("Device"))), lender_errors), json!([id])) },
        "/v1/lender/devices/{id}/release": { "post": with_params(op("Release for good (terminal)", "lender",
            ("200", json_ok("the device", r("Device"))), lender_errors), json!([id])) },
        "/v1/lender/devices/{id}/offline-code": { "post": with_params(with_body(op(
            "Answer an offline unlock challenge (PROTOCOL §6)", "lender",
            ("200", json_ok("the code", json!({ "type": "object", "properties": {
                "code": { "type": "string", "pattern": "^[0-9]{8}$" },
                "days": { "type": "integer" }, "counter": { "type": "integer" } } }))), lender_errors),
            "application/json", json!({ "type": "object", "required": ["challenge", "days"],
                "properties": { "challenge": { "type": "string" },
                                "days": { "enum": [1, 2, 3, 7, 14, 30] } } })), json!([id])) },
        "/v1/lender/devices/{id}/audit": { "get": with_params(op("Append-only audit log", "lender",
            ("200", json_ok("entries, oldest first", json!({ "type": "object" }))), lender_errors), json!([id])) },
        "/v1/lender/devices/{id}/provisioning": { "get": with_params(op(
            "Device Owner QR provisioning payload or image", "lender",
            ("200", json!({ "description": "payload (json) or QR code (png, svg)", "content": {
                "application/json": { "schema": { "type": "object" } },
                "image/png": { "schema": { "type": "string", "format": "binary" } },
                "image/svg+xml": { "schema": { "type": "string" } } } })), lender_errors),
            json!([id, { "name": "format", "in": "query", "schema": { "enum": ["json", "png", "svg"] } }])) },
    });
    let installment = json!({ "type": "object", "required": ["due", "amount_minor"], "properties": {
        "due": { "type": "integer", "description": "Unix seconds" },
        "amount_minor": { "type": "integer", "minimum": 1 } } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "finlock lender server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Device API (PROTOCOL.md §3) and lender API. Plain HTTP: deploy behind a TLS-terminating reverse proxy. Every error is application/problem+json (RFC 9457) with type urn:finlock:problem:<code>."
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status"], "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" },
                    "status": { "type": "integer" }, "detail": { "type": "string" },
                    "code": { "type": "string" }, "rule": { "type": "string" } } },
                "EnrollResponse": { "type": "object", "required": ["device_id", "entitlement", "offline_secret"],
                    "properties": { "device_id": { "type": "string" }, "entitlement": { "type": "string" },
                                    "offline_secret": { "type": "string" } } },
                "CheckinResponse": { "type": "object", "required": ["entitlement"],
                    "properties": { "entitlement": { "type": "string" } } },
                "CreateDevice": { "type": "object", "required": ["plan"], "additionalProperties": false,
                    "properties": {
                        "imei": { "type": "string" },
                        "auto_reprovision": { "type": "boolean" },
                        "plan": { "type": "object", "required": ["currency", "grace_days", "installments"],
                            "additionalProperties": false, "properties": {
                                "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
                                "grace_days": { "type": "integer", "minimum": 0, "maximum": 365 },
                                "offline_lock_after_days": { "type": "integer", "minimum": 1, "maximum": 365 },
                                "installments": { "type": "array", "minItems": 1, "maxItems": 120, "items": installment } } },
                        "reminders": { "type": "object", "description": "PROTOCOL.md §3.3 reminders" } } },
                "Created": { "type": "object", "properties": {
                    "device_id": { "type": "string" }, "enrollment_code": { "type": "string" } } },
                "Device": { "type": "object", "properties": {
                    "device_id": { "type": "string" }, "enrolled": { "type": "boolean" },
                    "state": { "enum": ["current", "overdue", "locked", "released"] },
                    "lock_at": { "type": ["integer", "null"] }, "currency": { "type": "string" },
                    "total_minor": { "type": "integer" }, "paid_minor": { "type": "integer" },
                    "amount_due_minor": { "type": "integer" },
                    "installments": { "type": "array", "items": { "type": "object" } },
                    "last_checkin": { "type": ["integer", "null"] },
                    "app_version": { "type": ["string", "null"] } } },
                "DeviceList": { "type": "object", "properties": {
                    "devices": { "type": "array", "items": r("Device") },
                    "next_cursor": { "type": ["string", "null"] } } },
                "PaymentRequest": { "type": "object", "required": ["amount_minor", "currency", "reference"],
                    "additionalProperties": false, "properties": {
                        "amount_minor": { "type": "integer", "minimum": 1 },
                        "currency": { "type": "string" }, "reference": { "type": "string", "maxLength": 128 } } },
                "Payment": { "type": "object", "properties": {
                    "payment_id": { "type": "string" }, "paid_minor": { "type": "integer" },
                    "amount_due_minor": { "type": "integer" }, "released": { "type": "boolean" } } }
            }
        }
    })
}
