//! `POST /v1/lender/imports/sales` and `/v1/lender/imports/payments`: a CSV file
//! (`Content-Type: text/csv`, at most 2 MiB — these routes only; every other keeps the
//! 16 KiB limit) imported whole or not at all ([`crate::devices::import`]);
//! `?dry_run=true` checks it and stores nothing.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthLender;
use super::{AppState, Query, Routes};
use crate::devices::import::apply::{self, Failure, PaymentsImport, SalesImport};
use crate::devices::import::{MAX_BYTES, Rejected, RowError};
use crate::error::{Error, PROBLEM_JSON, Problem};

/// The routes (the bulk ones: they also get a longer deadline, [`super::deadline_for`]).
pub const SALES_PATH: &str = "/v1/lender/imports/sales";
pub const PAYMENTS_PATH: &str = "/v1/lender/imports/payments";

pub fn router() -> Routes {
    Routes::default()
        .post(
            SALES_PATH,
            post(sales).layer(DefaultBodyLimit::max(MAX_BYTES)),
        )
        .post(
            PAYMENTS_PATH,
            post(payments).layer(DefaultBodyLimit::max(MAX_BYTES)),
        )
}

/// `?dry_run=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check the whole file as an import would, then store nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The 422 answer of a refused file: every row error (the first 200 in line order) and
/// their number. Nothing was stored. Each error has its line, its column, a stable
/// `code` (with `params` for codes that have any: a limit, a line, a currency) to act on
/// or translate, and `reason`, the same in plain English.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowsProblem {
    /// `urn:finlock:problem:import-rows`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    pub errors: Vec<RowError>,
    pub error_count: usize,
}

/// Import devices with their plans from a CSV file, all or none.
///
/// Columns (header row required, names case-insensitive, any order): `currency`,
/// `grace_days`, `installments` (how many), `amount` (each, in major units: 2500.00),
/// `first_due` (YYYY-MM-DD, 00:00 UTC), `every` (month, week or a number of days);
/// optional `customer_ref`, `imei`, `offline_lock_after_days`, `auto_reprovision`
/// (yes/no). At most 10,000 rows and 2 MiB, UTF-8.
#[utoipa::path(post, path = "/v1/lender/imports/sales", tag = "lender",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "the sales file"),
    responses(
        (status = 200, description = "every row imported (or, in a dry run, would be)", body = SalesImport),
        (status = 400, description = "a query parameter that does not fit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "a valid API key is required", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a concurrent change; import again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "rows refused; nothing stored", body = RowsProblem, content_type = "application/problem+json"),
        (status = 500, description = "a server fault", body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = [])))]
pub async fn sales(
    State(st): State<AppState>,
    auth: AuthLender,
    Query(q): Query<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> Response {
    answer(apply::import_sales(&st, auth.caller(), &bytes, q.dry_run).await)
}

/// Import payments (a mobile-money statement) from a CSV file, all or none.
///
/// Columns: `device` (device id, or a customer reference held by one device), `amount`
/// (major units: 2500.00), `reference` (the provider's transaction id); optional
/// `currency` (the device's) and `paid_at` (checked, not stored). A reference already
/// recorded for the device with the same amount is reported `already_recorded` and not
/// counted again: importing a statement twice changes nothing.
#[utoipa::path(post, path = "/v1/lender/imports/payments", tag = "lender",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "the payments file"),
    responses(
        (status = 200, description = "every row recorded or already recorded (or, in a dry run, would be)", body = PaymentsImport),
        (status = 400, description = "a query parameter that does not fit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "a valid API key is required", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a concurrent change; import again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "rows refused; nothing stored", body = RowsProblem, content_type = "application/problem+json"),
        (status = 500, description = "a server fault", body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = [])))]
pub async fn payments(
    State(st): State<AppState>,
    auth: AuthLender,
    Query(q): Query<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> Response {
    answer(apply::import_payments(&st, auth.caller(), &bytes, q.dry_run).await)
}

fn answer<T: Serialize>(result: Result<T, Failure>) -> Response {
    match result {
        Ok(done) => axum::Json(done).into_response(),
        Err(Failure::Rows(rejected)) => rows_problem(rejected),
        Err(Failure::Error(e)) => e.into_response(),
    }
}

/// A refused file as problem+json.
pub fn rows_problem(rejected: Rejected) -> Response {
    let n = rejected.error_count;
    let detail = if n == 1 {
        "1 error in the file; nothing was stored".to_string()
    } else {
        format!("{n} errors in the file; nothing was stored")
    };
    let body = RowsProblem {
        type_: "urn:finlock:problem:import-rows".into(),
        title: "Rows refused",
        status: 422,
        detail,
        code: "import-rows",
        errors: rejected.errors,
        error_count: n,
    };
    problem_response(StatusCode::UNPROCESSABLE_ENTITY, &body)
}

fn problem_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    r
}

fn simple_problem(
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: &str,
) -> Response {
    problem_response(
        status,
        &Problem {
            type_: format!("urn:finlock:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code: slug,
            rule: None,
        },
    )
}

/// A CSV body: `text/csv` (or `text/plain`, what some tools send for a file), at most
/// [`MAX_BYTES`].
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<CsvBody, Response> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !matches!(media.as_deref(), Some("text/csv" | "text/plain")) {
            return Err(simple_problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the file with Content-Type: text/csv",
            ));
        }
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(CsvBody(bytes)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(simple_problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request body too large",
                "the file is larger than 2 MiB; split it (at most 10,000 rows per file)",
            )),
            Err(_) => {
                Err(Error::BadRequest("the request body could not be read".into()).into_response())
            }
        }
    }
}
