//! The lender-facing API (`/v1/lender/…`, `Authorization: Bearer <api key>`).
//!
//! Every device query is scoped by the authenticated lender's id *in SQL*, so another
//! lender's device id answers exactly like a missing one: 404, never 403 (ids do
//! not leak). Every change is written with its audit entry in one transaction.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use finlock_core::offline_code;
use finlock_core::protocol::{self, InstallmentStatus, MAX_SAFE, ReminderPolicy, UrlPolicy};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AppState, Json, PathId, Query};
use crate::audit::{self, Actor};
use crate::db::is_unique_violation;
use crate::db::queries::{self, DeviceRow, LenderRow};
use crate::error::{Error, Result};
use crate::ids;
use crate::policy::{self, DeviceFacts, DeviceStatus, Plan, PlanInstallment};
use crate::provisioning;

/// The authenticated lender.
pub struct AuthLender(pub LenderRow);

impl FromRequestParts<AppState> for AuthLender {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<AuthLender> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        if !key.starts_with(ids::API_KEY_PREFIX) || key.len() > 128 {
            return Err(Error::Unauthorized);
        }
        queries::lender_by_key_hash(&st.db.read, &ids::sha256_hex(key.as_bytes()))
            .await?
            .map(AuthLender)
            .ok_or(Error::Unauthorized)
    }
}

async fn own_device(st: &AppState, lender: &LenderRow, id: &str) -> Result<DeviceRow> {
    queries::lender_device(&st.db.read, &lender.lender_id, id)
        .await?
        .ok_or(Error::NotFound)
}

// ---- registering a device ------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub currency: String,
    pub grace_days: u32,
    #[serde(default)]
    pub offline_lock_after_days: Option<u32>,
    pub installments: Vec<PlanInstallment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDevice {
    /// The IMEI registered at sale; stored only as its §1 hash.
    #[serde(default)]
    pub imei: Option<String>,
    #[serde(default)]
    pub auto_reprovision: bool,
    pub plan: PlanRequest,
    #[serde(default)]
    pub reminders: Option<ReminderPolicy>,
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub device_id: String,
    pub enrollment_code: String,
}

const MAX_GRACE_DAYS: u32 = 365;
const MAX_OFFLINE_DAYS: u32 = 365;

fn validate_plan(p: &PlanRequest) -> Result<Plan> {
    if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(
            "plan.currency",
            "three upper-case letters (ISO 4217)",
        ));
    }
    if p.grace_days > MAX_GRACE_DAYS {
        return Err(Error::invalid("plan.grace_days", "at most 365"));
    }
    if let Some(d) = p.offline_lock_after_days
        && !(1..=MAX_OFFLINE_DAYS).contains(&d)
    {
        return Err(Error::invalid(
            "plan.offline_lock_after_days",
            "1 to 365 (an offline lock sooner than a day locks people for a weak signal)",
        ));
    }
    if p.installments.is_empty() || p.installments.len() > protocol::MAX_INSTALLMENTS {
        return Err(Error::invalid("plan.installments", "1 to 120 installments"));
    }
    let mut total: u64 = 0;
    let mut previous = i64::MIN;
    for (i, inst) in p.installments.iter().enumerate() {
        if !(0..MAX_SAFE as i64).contains(&inst.due) {
            return Err(Error::invalid(
                format!("plan.installments[{i}].due"),
                "a Unix time in [0, 2^53)",
            ));
        }
        if inst.due < previous {
            return Err(Error::invalid(
                format!("plan.installments[{i}].due"),
                "installments are in due-date order",
            ));
        }
        previous = inst.due;
        if inst.amount_minor == 0 || inst.amount_minor >= MAX_SAFE {
            return Err(Error::invalid(
                format!("plan.installments[{i}].amount_minor"),
                "between 1 and 2^53 - 1",
            ));
        }
        total = total.saturating_add(inst.amount_minor);
    }
    if total >= MAX_SAFE {
        return Err(Error::invalid(
            "plan.installments",
            "the total must stay below 2^53",
        ));
    }
    Ok(Plan {
        currency: p.currency.clone(),
        grace_days: p.grace_days,
        offline_lock_after_days: p.offline_lock_after_days,
        installments: p.installments.clone(),
    })
}

/// The IMEI as typed at the counter: 14–16 digits (spaces and dashes ignored).
fn imei_hash(imei: &str) -> Result<String> {
    let digits: String = imei.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !(14..=16).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("imei", "14 to 16 digits"));
    }
    Ok(protocol::imei_sha256(&digits))
}

/// `POST /v1/lender/devices`
pub async fn create_device(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    Json(req): Json<CreateDevice>,
) -> Result<Response> {
    let plan = validate_plan(&req.plan)?;
    let imei = req.imei.as_deref().map(imei_hash).transpose()?;
    let now = st.now();
    // The first entitlement this device will get must pass the device's rules.
    let ctx = st
        .lenders
        .get(&st.db, &st.config.keys_dir, &lender.lender_id)
        .await?;
    let probe = policy::entitlement(
        &DeviceFacts {
            plan: &plan,
            paid_minor: 0,
            released: false,
            lender_lock: None,
            reminders: req.reminders.as_ref(),
        },
        &policy::IssueContext {
            lender_id: &lender.lender_id,
            device_id: "probe",
            seq: 1,
            now,
            nonce: None,
            jitter: 0.0,
            lender: &ctx.info,
        },
    );
    if let Err(e) = probe.validate(UrlPolicy::DEBUG) {
        return Err(match e {
            finlock_core::Error::InvalidField { field, rule } => Error::invalid(field, rule),
            other => Error::invalid("plan", other.to_string()),
        });
    }
    let device_id = ids::device_id()?;
    let code = ids::enrollment_code()?;
    let plan_json =
        serde_json::to_string(&plan).map_err(|e| Error::Internal(format!("plan: {e}")))?;
    let reminders_json = req
        .reminders
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Internal(format!("reminders: {e}")))?;
    let mut tx = st.db.write.begin().await?;
    queries::insert_device(
        &mut tx,
        &queries::NewDevice {
            device_id: &device_id,
            lender_id: &lender.lender_id,
            created_at: now,
            imei_sha256: imei.as_deref(),
            auto_reprovision: req.auto_reprovision,
            enrollment_code: &code,
            currency: &plan.currency,
            plan: &plan_json,
            reminders: reminders_json.as_deref(),
            total_minor: plan.total_minor(),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &device_id,
        &lender.lender_id,
        now,
        Actor::Lender(&lender.lender_id),
        "registered",
        json!({ "currency": plan.currency, "total_minor": plan.total_minor(),
                "installments": plan.installments.len(), "grace_days": plan.grace_days,
                "offline_lock_after_days": plan.offline_lock_after_days,
                "imei_registered": imei.is_some(), "auto_reprovision": req.auto_reprovision }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            device_id,
            enrollment_code: code,
        }),
    )
        .into_response())
}

// ---- reading devices -----------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct InstallmentView {
    pub due: i64,
    pub amount_minor: u64,
    pub status: InstallmentStatus,
}

/// `GET /v1/lender/devices/{id}`
#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub device_id: String,
    pub enrolled: bool,
    pub state: DeviceStatus,
    /// When the device locks unless paid; `null` once released.
    pub lock_at: Option<i64>,
    pub currency: String,
    pub total_minor: u64,
    pub paid_minor: u64,
    pub amount_due_minor: u64,
    pub next_due: Option<i64>,
    pub installments: Vec<InstallmentView>,
    pub lender_locked: bool,
    pub lock_reason: Option<String>,
    pub auto_reprovision: bool,
    pub imei_registered: bool,
    pub created_at: i64,
    pub enrolled_at: Option<i64>,
    pub last_checkin: Option<i64>,
    pub app_version: Option<String>,
}

fn parse_plan(row: &DeviceRow) -> Result<Plan> {
    serde_json::from_str(&row.plan).map_err(|_| Error::Internal("stored plan is not valid".into()))
}

fn view(row: &DeviceRow, now: i64) -> Result<DeviceView> {
    let plan = parse_plan(row)?;
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: row.paid_minor,
        released: row.released,
        lender_lock: row
            .lender_locked
            .then_some(row.lock_reason.as_deref().unwrap_or("")),
        reminders: None,
    };
    let state = policy::status(&facts, now);
    let account = plan.account(row.paid_minor, now);
    let released = state == DeviceStatus::Released;
    Ok(DeviceView {
        device_id: row.device_id.clone(),
        enrolled: row.device_key.is_some(),
        state,
        lock_at: if released {
            None
        } else {
            plan.lock_at(row.paid_minor)
        },
        currency: plan.currency.clone(),
        total_minor: row.total_minor,
        paid_minor: row.paid_minor,
        amount_due_minor: if released {
            0
        } else {
            account.amount_due_minor
        },
        next_due: if released { None } else { account.next_due },
        installments: account
            .installments
            .into_iter()
            .map(|i| InstallmentView {
                due: i.due,
                amount_minor: i.amount_minor,
                status: i.status,
            })
            .collect(),
        lender_locked: row.lender_locked,
        lock_reason: row.lock_reason.clone(),
        auto_reprovision: row.auto_reprovision,
        imei_registered: row.imei_sha256.is_some(),
        created_at: row.created_at,
        enrolled_at: row.enrolled_at,
        last_checkin: row.last_checkin_at,
        app_version: row.app_version.clone(),
    })
}

pub async fn get_device(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<DeviceView>> {
    let row = own_device(&st, &lender, &id).await?;
    Ok(axum::Json(view(&row, st.now())?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// `GET /v1/lender/devices?state=&limit=&cursor=` — in device id order.
pub async fn list_devices(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<DeviceList>> {
    let filter = q
        .state
        .as_deref()
        .map(|s| {
            DeviceStatus::parse(s)
                .ok_or_else(|| Error::invalid("state", "one of current, overdue, locked, released"))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    let now = st.now();
    let mut cursor = q.cursor.unwrap_or_default();
    let mut devices = Vec::new();
    // The state is computed (it depends on time), so filter while scanning in id order.
    loop {
        let batch =
            queries::lender_devices(&st.db.read, &lender.lender_id, &cursor, limit as i64).await?;
        let exhausted = batch.len() < limit;
        for row in &batch {
            cursor.clone_from(&row.device_id);
            let v = view(row, now)?;
            if filter.is_none_or(|f| f == v.state) {
                devices.push(v);
                if devices.len() == limit {
                    break;
                }
            }
        }
        if devices.len() == limit || exhausted {
            let more = devices.len() == limit;
            return Ok(axum::Json(DeviceList {
                devices,
                next_cursor: more.then_some(cursor),
            }));
        }
    }
}

// ---- payments ------------------------------------------------------------------------

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub amount_minor: u64,
    pub currency: String,
    pub reference: String,
}

#[derive(Debug, Serialize)]
pub struct PaymentAnswer {
    pub payment_id: String,
    pub device_id: String,
    pub amount_minor: u64,
    pub currency: String,
    pub reference: String,
    pub created_at: i64,
    pub paid_minor: u64,
    pub amount_due_minor: u64,
    pub released: bool,
}

fn idempotency_key(headers: &HeaderMap) -> Result<String> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            Error::BadRequest("an Idempotency-Key header is required for payments".into())
        })?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::BadRequest(
            "Idempotency-Key: 1-255 printable ASCII characters".into(),
        ));
    }
    Ok(key.to_string())
}

fn stored_answer(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `POST /v1/lender/devices/{id}/payments` with `Idempotency-Key`: the same key never
/// counts twice and always returns the first answer. The key is unique per device in
/// the database, so this holds across retries, concurrent requests and nodes.
pub async fn record_payment(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
    headers: HeaderMap,
    Json(req): Json<PaymentRequest>,
) -> Result<Response> {
    let key = idempotency_key(&headers)?;
    let row = own_device(&st, &lender, &id).await?;
    let fingerprint = ids::sha256_hex(
        serde_json::to_string(&req)
            .map_err(|e| Error::Internal(format!("payment: {e}")))?
            .as_bytes(),
    );
    if req.amount_minor == 0 || req.amount_minor >= MAX_SAFE {
        return Err(Error::invalid("amount_minor", "between 1 and 2^53 - 1"));
    }
    if req.currency != row.currency {
        return Err(Error::invalid(
            "currency",
            "must be the currency of the device's plan",
        ));
    }
    let reference = req.reference.trim();
    if reference.is_empty() || reference.chars().count() > 128 {
        return Err(Error::invalid("reference", "1 to 128 characters"));
    }
    let plan = parse_plan(&row)?;
    // A concurrent request with the same key may win the unique key between our read
    // and our insert (PostgreSQL); then the retry reads its answer.
    for _ in 0..3 {
        let mut tx = st.db.write.begin().await?;
        if let Some(stored) = queries::payment_by_key(&mut tx, &row.device_id, &key).await? {
            tx.rollback().await?;
            if stored.request_sha256 != fingerprint {
                return Err(Error::conflict(
                    "idempotency-key-reused",
                    "this Idempotency-Key was used for a different payment",
                ));
            }
            return Ok(stored_answer(stored.status, stored.body));
        }
        let now = st.now();
        let was_released = current_released(&mut tx, &row.device_id).await?;
        if was_released {
            return Err(Error::conflict(
                "released",
                "this device is released; nothing is owed",
            ));
        }
        let (paid, released) =
            queries::add_payment(&mut tx, &row.device_id, req.amount_minor).await?;
        let payment_id = ids::row_id("pay")?;
        let answer = PaymentAnswer {
            payment_id: payment_id.clone(),
            device_id: row.device_id.clone(),
            amount_minor: req.amount_minor,
            currency: req.currency.clone(),
            reference: reference.to_string(),
            created_at: now,
            paid_minor: paid,
            amount_due_minor: if released {
                0
            } else {
                plan.account(paid, now).amount_due_minor
            },
            released,
        };
        let body =
            serde_json::to_string(&answer).map_err(|e| Error::Internal(format!("payment: {e}")))?;
        let inserted = queries::insert_payment(
            &mut tx,
            &queries::NewPayment {
                payment_id: &payment_id,
                device_id: &row.device_id,
                idempotency_key: &key,
                request_sha256: &fingerprint,
                amount_minor: req.amount_minor,
                currency: &req.currency,
                reference,
                created_at: now,
                response_status: StatusCode::CREATED.as_u16(),
                response_body: &body,
            },
        )
        .await;
        match inserted {
            Ok(()) => {}
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        audit::append(
            &mut tx,
            &row.device_id,
            &lender.lender_id,
            now,
            Actor::Lender(&lender.lender_id),
            "payment",
            json!({ "payment_id": payment_id, "amount_minor": req.amount_minor,
                    "currency": req.currency, "reference": reference, "paid_minor": paid }),
        )
        .await?;
        if released {
            audit::append(
                &mut tx,
                &row.device_id,
                &lender.lender_id,
                now,
                Actor::System,
                "released",
                json!({ "reason": "paid_in_full" }),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(stored_answer(StatusCode::CREATED.as_u16(), body));
    }
    Err(Error::conflict(
        "concurrent",
        "concurrent requests with this Idempotency-Key; retry",
    ))
}

async fn current_released(tx: &mut queries::Tx, device_id: &str) -> Result<bool> {
    use sqlx::Row;
    let row = sqlx::query("SELECT released FROM devices WHERE device_id = $1")
        .bind(device_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>("released")? != 0)
}

/// `GET /v1/lender/devices/{id}/payments`
pub async fn list_payments(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
) -> Result<Response> {
    let row = own_device(&st, &lender, &id).await?;
    let payments = queries::payments(&st.db.read, &row.device_id).await?;
    Ok(axum::Json(json!({ "payments": payments })).into_response())
}

// ---- lock, unlock, release -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    pub reason: String,
}

/// The reason is shown on the lock screen (as the entitlement's `message`), so it
/// obeys the same rules as any signed display text (§8.2).
fn check_reason(reason: &str) -> Result<()> {
    let n = reason.chars().count();
    let bad = reason.chars().any(|c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    });
    if n == 0 || n > protocol::MAX_MESSAGE_CHARS || bad {
        return Err(Error::invalid(
            "reason",
            "1 to 350 characters, no control or bidirectional-override characters",
        ));
    }
    Ok(())
}

/// `POST …/{id}/lock` `{ reason }`
pub async fn lock(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
    Json(req): Json<LockRequest>,
) -> Result<axum::Json<DeviceView>> {
    check_reason(&req.reason)?;
    set_lock(&st, &lender, &id, Some(&req.reason)).await
}

/// `POST …/{id}/unlock`
pub async fn unlock(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<DeviceView>> {
    set_lock(&st, &lender, &id, None).await
}

async fn set_lock(
    st: &AppState,
    lender: &LenderRow,
    id: &str,
    reason: Option<&str>,
) -> Result<axum::Json<DeviceView>> {
    let row = own_device(st, lender, id).await?;
    let now = st.now();
    let mut tx = st.db.write.begin().await?;
    if !queries::set_lender_lock(&mut tx, &row.device_id, reason.is_some(), reason).await? {
        return Err(Error::conflict(
            "released",
            "this device is released for good; it cannot be locked or unlocked",
        ));
    }
    let (action, detail) = match reason {
        Some(r) => ("locked", json!({ "reason": r })),
        None => ("unlocked", json!({})),
    };
    audit::append(
        &mut tx,
        &row.device_id,
        &lender.lender_id,
        now,
        Actor::Lender(&lender.lender_id),
        action,
        detail,
    )
    .await?;
    tx.commit().await?;
    let row = own_device(st, lender, id).await?;
    Ok(axum::Json(view(&row, now)?))
}

/// `POST …/{id}/release` — terminal; releasing again changes nothing.
pub async fn release(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
) -> Result<axum::Json<DeviceView>> {
    let row = own_device(&st, &lender, &id).await?;
    let now = st.now();
    let mut tx = st.db.write.begin().await?;
    if queries::release(&mut tx, &row.device_id).await? {
        audit::append(
            &mut tx,
            &row.device_id,
            &lender.lender_id,
            now,
            Actor::Lender(&lender.lender_id),
            "released",
            json!({ "reason": "lender_request" }),
        )
        .await?;
    }
    tx.commit().await?;
    let row = own_device(&st, &lender, &id).await?;
    Ok(axum::Json(view(&row, now)?))
}

// ---- offline codes ---------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineCodeRequest {
    /// The 8 digits the lock screen shows (spaces and dashes ignored).
    pub challenge: String,
    /// 1, 2, 3, 7, 14 or 30.
    pub days: u16,
}

/// `POST …/{id}/offline-code` (§6): finds the device's counter from the challenge,
/// starting at the last counter the device reported used, and answers the code.
pub async fn offline_code(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
    Json(req): Json<OfflineCodeRequest>,
) -> Result<Response> {
    let row = own_device(&st, &lender, &id).await?;
    if !offline_code::ALLOWED_DAYS.contains(&req.days) {
        return Err(Error::invalid("days", "one of 1, 2, 3, 7, 14, 30"));
    }
    let challenge = offline_code::parse_code(&req.challenge)
        .map_err(|_| Error::invalid("challenge", "8 digits"))?;
    if row.released {
        return Err(Error::conflict("released", "this device is released"));
    }
    let secret = row
        .offline_secret
        .as_deref()
        .and_then(finlock_core::b64::decode)
        .ok_or_else(|| Error::conflict("not-enrolled", "this device has not enrolled yet"))?;
    let counter = offline_code::find_counter(&secret, challenge, row.offline_counter)
        .ok_or_else(|| Error::invalid("challenge", "is not a current challenge of this device"))?;
    let code = offline_code::response(&secret, counter, req.days)
        .map_err(|e| Error::Internal(format!("offline code: {e}")))?;
    let now = st.now();
    let mut tx = st.db.write.begin().await?;
    audit::append(
        &mut tx,
        &row.device_id,
        &lender.lender_id,
        now,
        Actor::Lender(&lender.lender_id),
        "offline_code_issued",
        json!({ "counter": counter, "days": req.days }),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(json!({
        "code": offline_code::format_code(code),
        "days": req.days,
        "counter": counter,
    }))
    .into_response())
}

// ---- audit, provisioning ---------------------------------------------------------------

/// `GET …/{id}/audit`
pub async fn audit(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
) -> Result<Response> {
    let row = own_device(&st, &lender, &id).await?;
    let entries = audit::list(&st.db.read, &row.device_id).await?;
    Ok(axum::Json(json!({ "device_id": row.device_id, "entries": entries })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningQuery {
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET …/{id}/provisioning?format=json|png|svg`
pub async fn provisioning(
    State(st): State<AppState>,
    AuthLender(lender): AuthLender,
    PathId(id): PathId,
    Query(q): Query<ProvisioningQuery>,
) -> Result<Response> {
    let row = own_device(&st, &lender, &id).await?;
    let code = row
        .enrollment_code
        .as_deref()
        .ok_or_else(|| Error::conflict("no-code", "this device has no enrollment code"))?;
    let payload = provisioning::payload(&provisioning::Inputs {
        server_url: &st.public_url,
        lender_jwks: &lender.jwks,
        enrollment_code: code,
        admin_component: &st.config.admin_component,
        apk_url: st.config.apk_url.as_deref(),
        apk_checksum: st.config.apk_checksum.as_deref(),
    })?;
    let (content_type, body): (&'static str, Vec<u8>) = match q.format.as_deref() {
        None | Some("json") => ("application/json", payload.into_bytes()),
        Some("svg") => ("image/svg+xml", provisioning::svg(&payload)?.into_bytes()),
        Some("png") => ("image/png", provisioning::png(&payload)?),
        Some(_) => return Err(Error::invalid("format", "one of json, png, svg")),
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
