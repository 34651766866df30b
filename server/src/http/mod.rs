//! The HTTP surface: the router, the shared state, and the extractors that turn
//! every malformed request into a problem+json answer (axum's own rejections are
//! plain text, so none of them is used directly).

pub mod device;
pub mod lender;
pub mod ops;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use serde::de::DeserializeOwned;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::error::Error;
use crate::lenders::LenderCache;

/// The largest request body anyone may send (PROTOCOL §2: a JWS is at most 16 KiB).
pub const MAX_BODY: usize = 16 * 1024;

/// What every handler shares. Only caches of immutable data live here, so any number
/// of nodes can serve the same database.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Config,
    /// The URL devices use to reach this server (provisioning payloads).
    pub public_url: String,
    pub lenders: LenderCache,
    /// Per-node memory of devices between check-ins (see [`device::DeviceCache`]).
    pub devices: device::DeviceCache,
    pub metrics: ops::Metrics,
}

impl AppState {
    pub fn new(db: Db, clock: SharedClock, config: Config, public_url: String) -> AppState {
        AppState(Arc::new(Inner {
            db,
            clock,
            config,
            public_url,
            lenders: LenderCache::default(),
            devices: device::DeviceCache::default(),
            metrics: ops::Metrics::default(),
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The router with the list of its routes (method, path), so the OpenAPI test can
/// check that every route is documented.
pub struct Routes {
    router: Router<AppState>,
    list: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.list.push((method, path));
        self
    }
}

fn routes() -> Routes {
    let r = Routes {
        router: Router::new(),
        list: Vec::new(),
    };
    r.add("get", "/healthz", get(ops::healthz))
        .add("get", "/metrics", get(ops::metrics))
        .add("get", "/openapi.json", get(ops::openapi))
        .add("post", "/v1/enroll", post(device::enroll))
        .add("post", "/v1/checkin", post(device::checkin))
        .add("post", "/v1/lender/devices", post(lender::create_device))
        .add("get", "/v1/lender/devices", get(lender::list_devices))
        .add("get", "/v1/lender/devices/{id}", get(lender::get_device))
        .add(
            "post",
            "/v1/lender/devices/{id}/payments",
            post(lender::record_payment),
        )
        .add(
            "get",
            "/v1/lender/devices/{id}/payments",
            get(lender::list_payments),
        )
        .add("post", "/v1/lender/devices/{id}/lock", post(lender::lock))
        .add(
            "post",
            "/v1/lender/devices/{id}/unlock",
            post(lender::unlock),
        )
        .add(
            "post",
            "/v1/lender/devices/{id}/release",
            post(lender::release),
        )
        .add(
            "post",
            "/v1/lender/devices/{id}/offline-code",
            post(lender::offline_code),
        )
        .add("get", "/v1/lender/devices/{id}/audit", get(lender::audit))
        .add(
            "get",
            "/v1/lender/devices/{id}/provisioning",
            get(lender::provisioning),
        )
}

/// Every (method, path) the router serves, for documentation checks.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    routes().list
}

/// The application.
pub fn router(state: AppState) -> Router {
    routes()
        .router
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
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
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| route_label(p.as_str()));
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .observe(route, response.status(), start.elapsed());
    response
}

/// Routes as static labels (no per-request allocation, bounded label set).
fn route_label(path: &str) -> &'static str {
    route_list_static()
        .iter()
        .find(|p| **p == path)
        .copied()
        .unwrap_or("unmatched")
}

fn route_list_static() -> &'static [&'static str] {
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let mut v: Vec<_> = route_list().into_iter().map(|(_, p)| p).collect();
        v.dedup();
        v
    })
}

/// A request body of at most [`MAX_BODY`] bytes; larger → 413 problem.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Body, Error> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(Error::PayloadTooLarge),
            Err(r) => Err(Error::BadRequest(r.body_text())),
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

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::BadRequest(format!("invalid JSON body: {inner}"))
        } else {
            Error::BadRequest(format!("invalid JSON body at {path}: {inner}"))
        }
    })
}

/// Query parameters; errors become problem+json.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Query<T>, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|r| Error::BadRequest(r.body_text()))
    }
}

/// A path parameter; a malformed one is a 404 like any unknown resource.
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathId, Error> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::NotFound)?;
        if finlock_core::protocol::is_valid_id(&id) {
            Ok(PathId(id))
        } else {
            Err(Error::NotFound)
        }
    }
}
