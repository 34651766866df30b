//! `/v1/lender/devices…`: register a device, read one or a page, change it (reschedule,
//! re-provisioning, cancel), its audit log and its provisioning QR.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{AuthLender, OwnedDevice};
use super::openapi::{LenderNoBodyProblems, LenderProblems};
use super::{AppState, Json, Query, Routes};
use crate::audit::{self, Entry};
use crate::devices::register::{self, Registered, Registration};
use crate::devices::search::{self, Bucket, DeviceQuery, Sort};
use crate::devices::update::{self as updates, Cancellation, DeviceUpdate};
use crate::devices::view::{self, DeviceList, DeviceView, ListFilter};
use crate::error::{Error, Result};
use crate::provisioning::{self, QrFormat};

pub fn router() -> Routes {
    Routes::default()
        .post("/v1/lender/devices", post(create))
        .get("/v1/lender/devices", get(list))
        .get("/v1/lender/devices/{id}", get(one))
        .patch("/v1/lender/devices/{id}", patch(update))
        .post("/v1/lender/devices/{id}/cancel", post(cancel))
        .get("/v1/lender/devices/{id}/audit", get(audit_log))
        .get("/v1/lender/devices/{id}/provisioning", get(provisioning_qr))
        .post(
            "/v1/lender/devices/{id}/enrollment-code",
            post(reissue_code),
        )
}

/// Register a financed device.
#[utoipa::path(post, path = "/v1/lender/devices", tag = "lender",
    request_body = Registration,
    responses((status = 201, description = "registered", body = Registered), LenderProblems),
    security(("apiKey" = [])))]
pub async fn create(
    State(st): State<AppState>,
    lender: AuthLender,
    Json(req): Json<Registration>,
) -> Result<Response> {
    let created = register::register(&st, lender.caller(), &req).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// `?state=&limit=&cursor=&q=&days_past_due=&not_seen_days=&sort=&format=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// current, overdue, locked, completing or released.
    #[serde(default)]
    #[param(pattern = "^(current|overdue|locked|completing|released)$")]
    pub state: Option<String>,
    /// Devices per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same `sort`).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Search: the device id; the start of the customer reference (ASCII case ignored);
    /// 1–8 trailing IMEI digits (the last four are stored and compared) or a whole IMEI.
    #[serde(default)]
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// Days since the first unpaid installment was due (a started day counts): 1-7, 8-30,
    /// 31-90 or 90+.
    #[serde(default)]
    #[param(pattern = "^(1-7|8-30|31-90|90\\+)$")]
    pub days_past_due: Option<String>,
    /// Enrolled phones, not released, not seen (no check-in) for this many days or more.
    #[serde(default)]
    #[param(minimum = 1, maximum = 3650)]
    pub not_seen_days: Option<u32>,
    /// device_id (default), days_past_due (most first), last_seen (longest unseen
    /// first), registered (newest first).
    #[serde(default)]
    #[param(pattern = "^(device_id|days_past_due|last_seen|registered)$")]
    pub sort: Option<String>,
    /// json (default: a page) or csv (every matching device, `limit` and `cursor`
    /// ignored, at most 100000, cells a spreadsheet would run as formulas prefixed with ').
    #[serde(default)]
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

impl ListQuery {
    /// The domain's query; a value that breaks a rule names its parameter.
    pub fn to_query(&self) -> Result<DeviceQuery> {
        Ok(DeviceQuery {
            q: self.q.clone(),
            state: ListFilter::parse_state(self.state.as_deref())?,
            days_past_due: self
                .days_past_due
                .as_deref()
                .map(Bucket::parse)
                .transpose()?,
            not_seen_days: self.not_seen_days,
            sort: self
                .sort
                .as_deref()
                .map(Sort::parse)
                .transpose()?
                .unwrap_or_default(),
            limit: self.limit,
            cursor: self.cursor.clone(),
        })
    }
}

/// List devices: search, filters, order, pages by cursor, or all matching as CSV.
#[utoipa::path(get, path = "/v1/lender/devices", tag = "lender", params(ListQuery),
    responses((status = 200, description = "a page (json), or every matching device (csv)",
        content((DeviceList = "application/json"), (String = "text/csv"))),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    auth: AuthLender,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let query = q.to_query()?;
    match q.format.as_deref() {
        None | Some("json") => {
            let page = search::search(&st, &auth.lender.lender_id, &query).await?;
            Ok(axum::Json(page).into_response())
        }
        Some("csv") => {
            if let Some(limit) = q.limit {
                crate::devices::page_size(Some(limit), view::DEFAULT_PAGE)?;
            }
            let csv = search::export_csv(&st, &auth.lender.lender_id, &query).await?;
            let mut r = csv.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
            );
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"devices.csv\""),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Some(_) => Err(Error::invalid("format", "json or csv")),
    }
}

/// One device.
#[utoipa::path(get, path = "/v1/lender/devices/{id}", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, description = "the device", body = DeviceView), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn one(State(st): State<AppState>, owned: OwnedDevice) -> Result<axum::Json<DeviceView>> {
    let v = view::view(&owned.device, st.now())?;
    Ok(axum::Json(view::with_refs(&st, &owned.device, v).await?))
}

/// Change a device: reschedule its plan (with a reason; a plan that would lock the phone
/// earlier than it has been told needs `allow_earlier_lock`), turn re-provisioning on or
/// off, change the customer reference (as at registration: 1–64 printable ASCII
/// characters; the only change a released device takes). Each change is audited; a new
/// plan reaches the phone at its next check-in.
#[utoipa::path(patch, path = "/v1/lender/devices/{id}", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    request_body = DeviceUpdate,
    responses((status = 200, description = "the device after the change", body = DeviceView),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn update(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Json(req): Json<DeviceUpdate>,
) -> Result<axum::Json<DeviceView>> {
    let row = updates::update(&st, owned.caller(), &owned.device, &req).await?;
    Ok(axum::Json(view::view(&row, st.now())?))
}

/// Cancel a sale whose phone never enrolled: the device is released, its enrollment code
/// stops working and its IMEI is free again. An enrolled phone answers 409 (release it);
/// so does a sale with payments recorded (void them first).
#[utoipa::path(post, path = "/v1/lender/devices/{id}/cancel", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    request_body = Cancellation,
    responses((status = 200, description = "the device, released", body = DeviceView),
        LenderProblems),
    security(("apiKey" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Json(req): Json<Cancellation>,
) -> Result<axum::Json<DeviceView>> {
    let row = updates::cancel(&st, owned.caller(), &owned.device, &req.reason).await?;
    Ok(axum::Json(view::view(&row, st.now())?))
}

/// Issue a new one-time enrollment code (the old one stops working).
#[utoipa::path(post, path = "/v1/lender/devices/{id}/enrollment-code", tag = "lender",
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, description = "the new code", body = Registered), LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn reissue_code(
    State(st): State<AppState>,
    owned: OwnedDevice,
) -> Result<axum::Json<Registered>> {
    let code = register::reissue_code(&st, owned.caller(), &owned.device).await?;
    Ok(axum::Json(code))
}

/// A page of a device's audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub device_id: String,
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

/// `?limit=&after=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Per page: 1 to 500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The entries numbered after this one (`next_after` of the previous page).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Append-only audit log, a page at a time.
#[utoipa::path(get, path = "/v1/lender/devices/{id}/audit", tag = "lender",
    params(("id" = String, Path, description = "device id"), AuditQuery),
    responses((status = 200, description = "entries, oldest first", body = AuditLog),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn audit_log(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<AuditLog>> {
    let limit = i64::from(crate::devices::page_size(
        q.limit,
        crate::devices::payments::DEFAULT_PAGE,
    )?);
    let entries = audit::list(
        &st.db.read,
        &owned.device.device_id,
        q.after.unwrap_or(0).max(0),
        limit,
    )
    .await?;
    let next_after = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.n))
        .flatten();
    Ok(axum::Json(AuditLog {
        device_id: owned.device.device_id,
        entries,
        next_after,
    }))
}

/// `?format=json|png|svg`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProvisioningQuery {
    /// json (the default), png or svg.
    #[serde(default)]
    #[param(pattern = "^(json|png|svg)$")]
    pub format: Option<String>,
}

/// Device Owner QR provisioning payload or image.
#[utoipa::path(get, path = "/v1/lender/devices/{id}/provisioning", tag = "lender",
    params(("id" = String, Path, description = "device id"), ProvisioningQuery),
    responses((status = 200, description = "payload (json) or QR code (png, svg)", content(
        (Object = "application/json"), (Vec<u8> = "image/png"), (String = "image/svg+xml"))),
        LenderNoBodyProblems),
    security(("apiKey" = [])))]
pub async fn provisioning_qr(
    State(st): State<AppState>,
    owned: OwnedDevice,
    Query(q): Query<ProvisioningQuery>,
) -> Result<Response> {
    let format = match q.format.as_deref() {
        None | Some("json") => QrFormat::Json,
        Some("svg") => QrFormat::Svg,
        Some("png") => QrFormat::Png,
        Some(_) => return Err(Error::invalid("format", "one of json, png, svg")),
    };
    let (content_type, body) =
        provisioning::for_device(&st, owned.lender(), &owned.device, format)?;
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
