//! The HTTP surface: thin handlers (extract → call the domain → render), one router
//! per resource merged here, and the extractors that turn every malformed request into
//! a problem+json answer (axum's own rejections are plain text, so none of them is
//! used directly).
//!
//! | module | routes |
//! |---|---|
//! | [`device_api`] | `POST /v1/enroll/challenge`, `POST /v1/enroll`, `POST /v1/checkin` (PROTOCOL §3) |
//! | [`devices`] | registering, reading, changing (reschedule, re-provisioning, cancel) and auditing a lender's devices, provisioning |
//! | [`payments`] | a device's payments |
//! | [`payment_notifications`] | payments in: providers' notifications (`/v1/notify/…`), the lender's held notifications and notification secrets |
//! | [`actions`] | lock, unlock, release, offline codes |
//! | [`api_keys`] | the lender's API keys |
//! | [`keys`] | the lender's signing-key sets: rotate, retire (ADR 0007) |
//! | [`approvals`] | enrollment requests by IMEI waiting for the lender's approval |
//! | [`dashboard`] | the lender's dashboard figures (devices by state, arrears, collected, not seen, releases) |
//! | [`imports`] | bulk CSV of sales and of payments (2 MiB on these routes only) |
//! | [`webhooks`] | webhooks out: the lender's endpoints, delivery log (redeliver a dead one), settings |
//! | [`compliance`] | the shipped compliance profiles; the lender's profile and payment apps |
//! | [`ops`] | `/healthz`, `/metrics`, `/openapi.json` |
//!
//! [`auth`] holds the lender's extractors ([`auth::AuthLender`], [`auth::OwnedDevice`]),
//! [`openapi`] the generated document.

pub mod actions;
pub mod api_keys;
pub mod approvals;
pub mod auth;
pub mod compliance;
pub mod dashboard;
pub mod device_api;
pub mod devices;
pub mod imports;
pub mod keys;
pub mod openapi;
pub mod ops;
pub mod payment_notifications;
pub mod payments;
pub(crate) mod rejection;
pub mod webhooks;

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;

pub use crate::app::App as AppState;
use crate::error::Error;

/// The largest request body anyone may send (PROTOCOL §2: a JWS is at most 16 KiB).
pub const MAX_BODY: usize = 16 * 1024;

/// Routes with the list of what they serve (method, path), so the OpenAPI test can
/// check that every route is documented, and the metrics can label by route.
#[derive(Default)]
pub struct Routes {
    entries: Vec<(&'static str, &'static str, MethodRouter<AppState>)>,
}

impl Routes {
    pub fn get(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Routes {
        self.entries.push(("get", path, handler));
        self
    }

    pub fn post(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Routes {
        self.entries.push(("post", path, handler));
        self
    }

    pub fn patch(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Routes {
        self.entries.push(("patch", path, handler));
        self
    }

    pub fn put(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Routes {
        self.entries.push(("put", path, handler));
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.entries.extend(other.entries);
        self
    }

    fn list(&self) -> Vec<(&'static str, &'static str)> {
        self.entries.iter().map(|(m, p, _)| (*m, *p)).collect()
    }

    fn into_router(self) -> Router<AppState> {
        self.entries
            .into_iter()
            .fold(Router::new(), |r, (_, path, handler)| {
                r.route(path, handler)
            })
    }
}

/// Every resource's router, merged.
fn routes() -> Routes {
    ops::router()
        .merge(device_api::router())
        .merge(devices::router())
        .merge(payments::router())
        .merge(actions::router())
        .merge(api_keys::router())
        .merge(keys::router())
        .merge(approvals::router())
        .merge(dashboard::router())
        .merge(imports::router())
        .merge(webhooks::router())
        .merge(payment_notifications::router())
        .merge(compliance::router())
}

/// Every (method, path) the router serves, for documentation checks.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    routes().list()
}

/// The application.
pub fn router(state: AppState) -> Router {
    // The lender console's HTML pages: not API routes, so not in `routes()` (the
    // OpenAPI document lists those); its own fallback and security headers.
    crate::console::mount(routes().into_router())
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Counts every request by route and status, and its latency (GET /metrics).
async fn track(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let route = if crate::console::is_console_path(req.uri().path()) {
        crate::console::METRICS_LABEL
    } else {
        req.extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |p| route_label(p.as_str()))
    };
    let method = req.method().clone();
    let start = Instant::now();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    state.metrics.observe(route, response.status(), elapsed);
    // The access log names the route template, never the path: ids and codes stay out.
    tracing::info!(
        target: "finlock::access",
        %method,
        route,
        status = response.status().as_u16(),
        ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Answers 503 (`timeout`) when a request, its body included, is not answered within
/// the configured limit, so a slow client or a stuck database holds nothing for long.
/// A timed-out request's transaction is dropped, so it stores nothing.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    use axum::response::IntoResponse;
    let limit = deadline_for(req.method(), req.uri().path(), state.config.limits.request);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Error::Timeout.into_response(),
    }
}

/// How many times the request limit a bulk import gets.
const BULK_DEADLINE_FACTOR: u32 = 4;

/// The limit of one request: [`BULK_DEADLINE_FACTOR`] × `request` for posting a bulk
/// import (the API's and the console's), `request` for everything else. An import is up
/// to 10,000 rows in one all-or-nothing transaction, each row the full operation: 10,000
/// payments took 38 s on PostgreSQL in a debug build here, against a 30 s limit meant
/// for one sale or one payment.
fn deadline_for(
    method: &axum::http::Method,
    path: &str,
    request: std::time::Duration,
) -> std::time::Duration {
    let bulk = *method == axum::http::Method::POST
        && [
            imports::SALES_PATH,
            imports::PAYMENTS_PATH,
            crate::console::import::PATH,
        ]
        .contains(&path);
    if bulk {
        request.saturating_mul(BULK_DEADLINE_FACTOR)
    } else {
        request
    }
}

/// Routes as static labels (no per-request allocation, bounded label set).
fn route_label(path: &str) -> &'static str {
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| route_list().into_iter().map(|(_, p)| p).collect())
        .iter()
        .find(|p| **p == path)
        .copied()
        .unwrap_or("unmatched")
}

/// A request body of at most [`MAX_BODY`] bytes; larger → 413 problem.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Body, Error> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(Error::PayloadTooLarge),
            Err(_) => Err(Error::BadRequest(
                "the request body could not be read".into(),
            )),
        }
    }
}

/// A JSON request body (limited like [`Body`]); errors name the field that failed.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Json<T>, Error> {
        let Body(bytes) = Body::from_request(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Reads a JSON body; a body that does not fit is a 400 whose detail names the field and
/// the rule in plain words ([`rejection`]).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::BadRequest(rejection::json_body(bytes, &path, e.inner()))
    })?;
    // Anything after the value (`{…} x`) is not JSON either.
    de.end()
        .map_err(|e| Error::BadRequest(rejection::json_body(bytes, ".", &e)))?;
    Ok(value)
}

/// Query parameters; errors become problem+json.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Query<T>, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|r| Error::BadRequest(rejection::query(&r.body_text())))
    }
}

/// The path parameter `{id}`; a malformed one is a 404 like any unknown resource.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathId, Error> {
        path_param(parts, state, "id").await.map(PathId)
    }
}

/// The path parameter `{rid}` (a resource under a device).
pub struct PathRid(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathRid {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathRid, Error> {
        path_param(parts, state, "rid").await.map(PathRid)
    }
}

/// A named path parameter holding a protocol id; anything else is a 404.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, Error> {
    let axum::extract::Path(params) = axum::extract::Path::<
        std::collections::HashMap<String, String>,
    >::from_request_parts(parts, state)
    .await
    .map_err(|_| Error::NotFound)?;
    match params.get(name) {
        Some(id) if finlock_core::protocol::is_valid_id(id) => Ok(id.clone()),
        _ => Err(Error::NotFound),
    }
}

/// The last entry of `X-Forwarded-For` header values (the one the nearest proxy added;
/// earlier ones are whatever the client claimed).
fn last_forwarded<'a>(values: impl DoubleEndedIterator<Item = &'a str>) -> Option<&'a str> {
    values
        .rev()
        .flat_map(|v| v.rsplit(','))
        .map(str::trim)
        .find(|v| !v.is_empty())
}

#[cfg(test)]
#[test]
fn only_posting_a_bulk_import_gets_the_longer_deadline() {
    use axum::http::Method;
    use std::time::Duration;
    let limit = Duration::from_secs(30);
    let long = Duration::from_secs(120);
    for path in [
        "/v1/lender/imports/sales",
        "/v1/lender/imports/payments",
        "/console/import",
    ] {
        assert_eq!(deadline_for(&Method::POST, path, limit), long, "{path}");
        assert_eq!(deadline_for(&Method::GET, path, limit), limit, "{path}");
    }
    for path in [
        "/v1/checkin",
        "/v1/lender/devices",
        "/v1/lender/imports",
        "/console/import/x",
        "/console/imports",
        "/v1/lender/importsx/sales",
    ] {
        assert_eq!(deadline_for(&Method::POST, path, limit), limit, "{path}");
    }
    assert_eq!(
        deadline_for(&Method::POST, "/console/import", Duration::MAX),
        Duration::MAX
    );
}

#[cfg(test)]
#[test]
fn the_nearest_forwarded_address_counts() {
    assert_eq!(
        last_forwarded(["1.1.1.1, 2.2.2.2"].into_iter()),
        Some("2.2.2.2")
    );
    assert_eq!(
        last_forwarded(["9.9.9.9", "1.1.1.1,3.3.3.3 "].into_iter()),
        Some("3.3.3.3")
    );
    assert_eq!(
        last_forwarded(["4.4.4.4", " , "].into_iter()),
        Some("4.4.4.4")
    );
    assert_eq!(last_forwarded(std::iter::empty()), None);
}

/// The client's address: the peer, or with `--trust-forwarded-for` the last
/// `X-Forwarded-For` entry (what the lender's own proxy saw). `None` when unknown.
pub struct ClientAddr(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<ClientAddr, Error> {
        if st.config.trust_forwarded_for
            && let Some(last) = last_forwarded(
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            )
        {
            return Ok(ClientAddr(Some(last.to_string())));
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer))
    }
}
