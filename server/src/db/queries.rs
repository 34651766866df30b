//! Every SQL statement of the server, written once for both back ends (see [`super`]).
//!
//! Functions take the pool (or a transaction) and plain values and return plain
//! rows; what the values mean is decided in the domain modules and `policy`.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::error::{Error, Result};

pub type Tx = Transaction<'static, Any>;

fn to_u64(field: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Internal(format!("stored {field} is negative")))
}

pub fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid("amount", "too large"))
}

// ---- lenders -------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct LenderRow {
    pub lender_id: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub payment_url: String,
    pub support_url: Option<String>,
    pub jwks: String,
    pub created_at: i64,
}

const LENDER_COLUMNS: &str =
    "lender_id, name, phone, email, payment_url, support_url, jwks, created_at";

fn lender_row(r: &AnyRow) -> Result<LenderRow> {
    Ok(LenderRow {
        lender_id: r.try_get("lender_id")?,
        name: r.try_get("name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        payment_url: r.try_get("payment_url")?,
        support_url: r.try_get("support_url")?,
        jwks: r.try_get("jwks")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_lender(pool: &AnyPool, l: &LenderRow, api_key_sha256: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO lenders (lender_id, name, phone, email, payment_url, support_url, \
         api_key_sha256, jwks, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&l.lender_id)
    .bind(&l.name)
    .bind(&l.phone)
    .bind(&l.email)
    .bind(&l.payment_url)
    .bind(&l.support_url)
    .bind(api_key_sha256)
    .bind(&l.jwks)
    .bind(l.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The lender, key id and key name of an active (not revoked) API key with this hash, in
/// one query: authentication runs on every lender request.
pub async fn lender_by_api_key(
    pool: &AnyPool,
    key_sha256: &str,
) -> Result<Option<(LenderRow, String, String)>> {
    // LENDER_COLUMNS, qualified (both tables have lender_id and created_at).
    let row = sqlx::query(
        "SELECT l.lender_id, l.name, l.phone, l.email, l.payment_url, l.support_url, l.jwks, \
         l.created_at, k.key_id, k.name AS key_name FROM api_keys k \
         JOIN lenders l ON l.lender_id = k.lender_id \
         WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL",
    )
    .bind(key_sha256)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok((
            lender_row(&r)?,
            r.try_get("key_id")?,
            r.try_get("key_name")?,
        ))
    })
    .transpose()
}

pub async fn lender_by_id(pool: &AnyPool, lender_id: &str) -> Result<Option<LenderRow>> {
    let row = sqlx::query(&format!(
        "SELECT {LENDER_COLUMNS} FROM lenders WHERE lender_id = $1"
    ))
    .bind(lender_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(lender_row).transpose()
}

// ---- devices -------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub device_id: String,
    pub lender_id: String,
    pub created_at: i64,
    pub imei_sha256: Option<String>,
    pub auto_reprovision: bool,
    pub enrollment_code: Option<String>,
    pub currency: String,
    pub plan: String,
    pub reminders: Option<String>,
    pub total_minor: u64,
    pub paid_minor: u64,
    pub lender_locked: bool,
    pub lock_reason: Option<String>,
    pub released: bool,
    pub device_key: Option<String>,
    pub offline_secret: Option<String>,
    pub offline_counter: u64,
    pub enrolled_at: Option<i64>,
    /// When the current enrollment code was issued (registration or a reissue).
    pub code_issued_at: Option<i64>,
    pub app_version: Option<String>,
    pub seq: u64,
    pub seq_seen: u64,
    pub recent_nonces: String,
    pub last_checkin_at: Option<i64>,
    pub extended_until: Option<i64>,
    /// Paid in full and completing: released at this time unless a payment is voided
    /// (ADR 0012); `None` while something is owed.
    pub release_at: Option<i64>,
}

pub(crate) const DEVICE_COLUMNS: &str = "device_id, lender_id, created_at, imei_sha256, auto_reprovision, \
     enrollment_code, currency, plan, reminders, total_minor, paid_minor, lender_locked, \
     lock_reason, released, device_key, offline_secret, offline_counter, enrolled_at, \
     code_issued_at, app_version, seq, seq_seen, recent_nonces, last_checkin_at, extended_until, \
     release_at";

pub(crate) fn device_row(r: &AnyRow) -> Result<DeviceRow> {
    Ok(DeviceRow {
        device_id: r.try_get("device_id")?,
        lender_id: r.try_get("lender_id")?,
        created_at: r.try_get("created_at")?,
        imei_sha256: r.try_get("imei_sha256")?,
        auto_reprovision: r.try_get::<i64, _>("auto_reprovision")? != 0,
        enrollment_code: r.try_get("enrollment_code")?,
        currency: r.try_get("currency")?,
        plan: r.try_get("plan")?,
        reminders: r.try_get("reminders")?,
        total_minor: to_u64("total_minor", r.try_get("total_minor")?)?,
        paid_minor: to_u64("paid_minor", r.try_get("paid_minor")?)?,
        lender_locked: r.try_get::<i64, _>("lender_locked")? != 0,
        lock_reason: r.try_get("lock_reason")?,
        released: r.try_get::<i64, _>("released")? != 0,
        device_key: r.try_get("device_key")?,
        offline_secret: r.try_get("offline_secret")?,
        offline_counter: to_u64("offline_counter", r.try_get("offline_counter")?)?,
        enrolled_at: r.try_get("enrolled_at")?,
        code_issued_at: r.try_get("code_issued_at")?,
        app_version: r.try_get("app_version")?,
        seq: to_u64("seq", r.try_get("seq")?)?,
        seq_seen: to_u64("seq_seen", r.try_get("seq_seen")?)?,
        recent_nonces: r.try_get("recent_nonces")?,
        last_checkin_at: r.try_get("last_checkin_at")?,
        extended_until: r.try_get("extended_until")?,
        release_at: r.try_get("release_at")?,
    })
}

/// What changes with every answer; returned by the statements that issue a new seq,
/// so the entitlement reflects the committed row, not an earlier read.
#[derive(Debug, Clone, Copy)]
pub struct Issued {
    pub seq: u64,
    pub paid_minor: u64,
    pub released: bool,
    pub lender_locked: bool,
    /// A promise-to-pay extension of the lock.
    pub extended_until: Option<i64>,
    /// Completing until then (ADR 0012).
    pub release_at: Option<i64>,
}

pub(crate) const ISSUED_COLUMNS: &str =
    "seq, paid_minor, released, lender_locked, lock_reason, extended_until, release_at";

pub(crate) fn issued_row(r: &AnyRow) -> Result<(Issued, Option<String>)> {
    Ok((
        Issued {
            seq: to_u64("seq", r.try_get("seq")?)?,
            paid_minor: to_u64("paid_minor", r.try_get("paid_minor")?)?,
            released: r.try_get::<i64, _>("released")? != 0,
            lender_locked: r.try_get::<i64, _>("lender_locked")? != 0,
            extended_until: r.try_get("extended_until")?,
            release_at: r.try_get("release_at")?,
        },
        r.try_get("lock_reason")?,
    ))
}

pub struct NewDevice<'a> {
    pub device_id: &'a str,
    pub lender_id: &'a str,
    pub created_at: i64,
    pub imei_sha256: Option<&'a str>,
    pub auto_reprovision: bool,
    pub enrollment_code: &'a str,
    pub currency: &'a str,
    pub plan: &'a str,
    pub reminders: Option<&'a str>,
    pub total_minor: u64,
    /// The lender's own customer reference.
    pub customer_ref: Option<&'a str>,
    /// The last four digits of the IMEI registered at sale.
    pub imei_last4: Option<&'a str>,
    /// `policy::SearchColumns` of the new device.
    pub first_unpaid_due: Option<i64>,
    pub lock_at: Option<i64>,
}

pub async fn insert_device(tx: &mut Tx, d: &NewDevice<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO devices (device_id, lender_id, created_at, imei_sha256, auto_reprovision, \
         enrollment_code, currency, plan, reminders, total_minor, code_issued_at, \
         customer_ref, imei_last4, first_unpaid_due, lock_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $3, $11, $12, $13, $14)",
    )
    .bind(d.device_id)
    .bind(d.lender_id)
    .bind(d.created_at)
    .bind(d.imei_sha256)
    .bind(i64::from(d.auto_reprovision))
    .bind(d.enrollment_code)
    .bind(d.currency)
    .bind(d.plan)
    .bind(d.reminders)
    .bind(i64::try_from(d.total_minor).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(d.customer_ref)
    .bind(d.imei_last4)
    .bind(d.first_unpaid_due)
    .bind(d.lock_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn device(pool: &AnyPool, device_id: &str) -> Result<Option<DeviceRow>> {
    let row = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1"
    ))
    .bind(device_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(device_row).transpose()
}

/// A device of this lender; another lender's device is `None`, exactly like a missing one.
pub async fn lender_device(
    pool: &AnyPool,
    lender_id: &str,
    device_id: &str,
) -> Result<Option<DeviceRow>> {
    let row = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1 AND lender_id = $2"
    ))
    .bind(device_id)
    .bind(lender_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(device_row).transpose()
}

pub async fn device_by_code(pool: &AnyPool, code: &str) -> Result<Option<DeviceRow>> {
    let row = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE enrollment_code = $1"
    ))
    .bind(code)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(device_row).transpose()
}

/// Devices registered with this IMEI hash that are not released (newest first).
pub async fn devices_by_imei(pool: &AnyPool, imei_sha256: &str) -> Result<Vec<DeviceRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE imei_sha256 = $1 AND released = 0 \
         ORDER BY created_at DESC LIMIT 8"
    ))
    .bind(imei_sha256)
    .fetch_all(pool)
    .await?;
    rows.iter().map(device_row).collect()
}

/// The lender of the device that holds this IMEI hash now (registered, not released).
pub async fn imei_holder(tx: &mut Tx, imei_sha256: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT lender_id FROM devices WHERE imei_sha256 = $1 AND released = 0")
        .bind(imei_sha256)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| r.try_get("lender_id").map_err(Error::from))
        .transpose()
}

/// One page of a lender's devices, in id order, after `after`.
pub async fn lender_devices(
    pool: &AnyPool,
    lender_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<DeviceRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE lender_id = $1 AND device_id > $2 \
         ORDER BY device_id LIMIT $3"
    ))
    .bind(lender_id)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(device_row).collect()
}

/// What a device's search columns are computed from (`policy::SearchColumns::of`), as
/// stored: `(plan, paid_minor, extended_until, released)`.
pub type SearchInputs = (String, u64, Option<i64>, bool);

/// The search columns' inputs of a device, read inside the transaction that changed them
/// (the row is the transaction's own after its UPDATE). `None` when there is no such row.
pub async fn search_inputs(
    executor: impl sqlx::Executor<'_, Database = Any>,
    device_id: &str,
) -> Result<Option<SearchInputs>> {
    let row = sqlx::query(
        "SELECT plan, paid_minor, extended_until, released FROM devices WHERE device_id = $1",
    )
    .bind(device_id)
    .fetch_optional(executor)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("plan")?,
            to_u64("paid_minor", r.try_get("paid_minor")?)?,
            r.try_get("extended_until")?,
            r.try_get::<i64, _>("released")? != 0,
        ))
    })
    .transpose()
}

/// Stores a device's search columns if its inputs are still `inputs` (a compare-and-swap,
/// so a computation from a row that changed meanwhile is never stored); `true` when stored.
pub async fn store_search_columns(
    executor: impl sqlx::Executor<'_, Database = Any>,
    device_id: &str,
    inputs: &SearchInputs,
    first_unpaid_due: Option<i64>,
    lock_at: Option<i64>,
) -> Result<bool> {
    let (plan, paid_minor, extended_until, released) = inputs;
    let done = sqlx::query(
        "UPDATE devices SET first_unpaid_due = $2, lock_at = $3 \
         WHERE device_id = $1 AND plan = $4 AND paid_minor = $5 \
         AND COALESCE(extended_until, -1) = $6 AND released = $7",
    )
    .bind(device_id)
    .bind(first_unpaid_due)
    .bind(lock_at)
    .bind(plan)
    .bind(to_i64(*paid_minor)?)
    .bind(extended_until.unwrap_or(-1))
    .bind(i64::from(*released))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The lender's customer reference and IMEI digits of a device: `(customer_ref,
/// imei_last4)`; `None` when there is no such device of this lender.
pub async fn device_refs(
    pool: &AnyPool,
    lender_id: &str,
    device_id: &str,
) -> Result<Option<(Option<String>, Option<String>)>> {
    let row = sqlx::query(
        "SELECT customer_ref, imei_last4 FROM devices WHERE device_id = $1 AND lender_id = $2",
    )
    .bind(device_id)
    .bind(lender_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((r.try_get("customer_ref")?, r.try_get("imei_last4")?)))
        .transpose()
}

pub struct Enrollment<'a> {
    pub device_id: &'a str,
    pub expected_seq: u64,
    pub device_key: &'a str,
    pub offline_secret: &'a str,
    pub offline_counter: u64,
    pub recent_nonces: &'a str,
    pub now: i64,
    pub model: &'a str,
    pub android_sdk: i64,
    pub app_version: &'a str,
    /// A re-binding (new key) resets what the server knew of the old one.
    pub rebind: bool,
}

/// Binds (or re-answers) an enrollment and issues the next seq. `None` when the row
/// changed since it was read (a concurrent enrollment); the caller answers 409.
pub async fn enroll(tx: &mut Tx, e: &Enrollment<'_>) -> Result<Option<(Issued, Option<String>)>> {
    let sql = if e.rebind {
        format!(
            "UPDATE devices SET device_key = $2, offline_secret = $3, offline_counter = $4, \
             recent_nonces = $5, enrolled_at = $6, model = $7, android_sdk = $8, \
             app_version = $9, seq = seq + 1, seq_seen = 0, last_checkin_at = NULL \
             WHERE device_id = $1 AND seq = $10 RETURNING {ISSUED_COLUMNS}"
        )
    } else {
        format!(
            "UPDATE devices SET device_key = $2, offline_secret = $3, offline_counter = $4, \
             recent_nonces = $5, enrolled_at = COALESCE(enrolled_at, $6), model = $7, \
             android_sdk = $8, app_version = $9, seq = seq + 1 \
             WHERE device_id = $1 AND seq = $10 RETURNING {ISSUED_COLUMNS}"
        )
    };
    let row = sqlx::query(&sql)
        .bind(e.device_id)
        .bind(e.device_key)
        .bind(e.offline_secret)
        .bind(to_i64(e.offline_counter)?)
        .bind(e.recent_nonces)
        .bind(e.now)
        .bind(e.model)
        .bind(e.android_sdk)
        .bind(e.app_version)
        .bind(to_i64(e.expected_seq)?)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(issued_row).transpose()
}

pub struct Checkin<'a> {
    pub device_id: &'a str,
    pub device_key: &'a str,
    pub now: i64,
    /// Check-ins at or before this time are allowed (now − min interval).
    pub allowed_if_last_before: i64,
    pub old_nonces: &'a str,
    pub new_nonces: &'a str,
    pub seq_seen: u64,
    pub offline_counter: u64,
    pub app_version: &'a str,
    /// The device's `seq` as read: it also moves when the lender changes what the
    /// entitlement is computed from beyond the returned columns (a reschedule), so a copy
    /// read before that loses the swap.
    pub seq: u64,
}

/// Records a check-in and issues the next seq (past the phone's `seq_seen` when a restored
/// database is behind it), in one statement. The `WHERE` makes
/// it a compare-and-swap: the same key, the nonce list as read (replay memory), and
/// the rate limit, and the `seq` (see [`Checkin::seq`]) — so several nodes can answer the
/// same device without a lock.
/// `None` when the guard failed (rate limited or a concurrent check-in).
pub async fn checkin(
    executor: impl sqlx::Executor<'_, Database = Any>,
    c: &Checkin<'_>,
) -> Result<Option<(Issued, Option<String>)>> {
    // Built once: the hottest statement in the server.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE devices SET seq = CASE WHEN $4 > seq THEN $4 + 1 ELSE seq + 1 END, \
             last_checkin_at = $2, recent_nonces = $3, \
             seq_seen = $4, offline_counter = $5, app_version = $6 \
             WHERE device_id = $1 AND device_key = $7 AND recent_nonces = $8 \
             AND (last_checkin_at IS NULL OR last_checkin_at <= $9) AND seq = $10 \
             RETURNING {ISSUED_COLUMNS}"
        )
    });
    let row = sqlx::query(SQL.as_str())
        .bind(c.device_id)
        .bind(c.now)
        .bind(c.new_nonces)
        .bind(to_i64(c.seq_seen)?)
        .bind(to_i64(c.offline_counter)?)
        .bind(c.app_version)
        .bind(c.device_key)
        .bind(c.old_nonces)
        .bind(c.allowed_if_last_before)
        .bind(to_i64(c.seq)?)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(issued_row).transpose()
}

/// Replaces the device's enrollment code (the old one stops working); `false` when the
/// device is released (or missing).
pub async fn reissue_code(tx: &mut Tx, device_id: &str, code: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET enrollment_code = $2, code_issued_at = $3 \
         WHERE device_id = $1 AND released = 0",
    )
    .bind(device_id)
    .bind(code)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the lock to `until` (a promise to pay); `false` when released (or missing).
pub async fn extend(tx: &mut Tx, device_id: &str, until: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE devices SET extended_until = $2 WHERE device_id = $1 AND released = 0")
            .bind(device_id)
            .bind(until)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets or clears the lender lock; `false` when the device is released (or missing).
pub async fn set_lender_lock(
    tx: &mut Tx,
    device_id: &str,
    lock: bool,
    reason: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET lender_locked = $2, lock_reason = $3 \
         WHERE device_id = $1 AND released = 0",
    )
    .bind(device_id)
    .bind(i64::from(lock))
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the device is released, read inside the transaction that is about to change it.
pub async fn is_released(tx: &mut Tx, device_id: &str) -> Result<bool> {
    let row = sqlx::query("SELECT released FROM devices WHERE device_id = $1")
        .bind(device_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>("released")? != 0)
}

/// Marks released (terminal); `true` when it changed.
pub async fn release(tx: &mut Tx, device_id: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET released = 1, lender_locked = 0, lock_reason = NULL \
         WHERE device_id = $1 AND released = 0",
    )
    .bind(device_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---- payments ------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub request_sha256: String,
    pub status: u16,
    pub body: String,
}

pub async fn payment_by_key(
    tx: &mut Tx,
    device_id: &str,
    key: &str,
) -> Result<Option<StoredAnswer>> {
    let row = sqlx::query(
        "SELECT request_sha256, response_status, response_body FROM payments \
         WHERE device_id = $1 AND idempotency_key = $2",
    )
    .bind(device_id)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(StoredAnswer {
            request_sha256: r.try_get("request_sha256")?,
            status: u16::try_from(r.try_get::<i64, _>("response_status")?)
                .map_err(|_| Error::Internal("stored status out of range".into()))?,
            body: r.try_get("response_body")?,
        })
    })
    .transpose()
}

/// Whether the device already has a payment with this reference.
pub async fn reference_used(tx: &mut Tx, device_id: &str, reference: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 AS x FROM payments WHERE device_id = $1 AND reference = $2")
        .bind(device_id)
        .bind(reference)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

pub struct NewPayment<'a> {
    pub payment_id: &'a str,
    pub device_id: &'a str,
    pub idempotency_key: &'a str,
    pub request_sha256: &'a str,
    pub amount_minor: u64,
    pub currency: &'a str,
    pub reference: &'a str,
    pub created_at: i64,
    pub response_status: u16,
    pub response_body: &'a str,
}

pub async fn insert_payment(tx: &mut Tx, p: &NewPayment<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (payment_id, device_id, idempotency_key, request_sha256, \
         amount_minor, currency, reference, created_at, response_status, response_body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.payment_id)
    .bind(p.device_id)
    .bind(p.idempotency_key)
    .bind(p.request_sha256)
    .bind(i64::try_from(p.amount_minor).unwrap_or(i64::MAX))
    .bind(p.currency)
    .bind(p.reference)
    .bind(p.created_at)
    .bind(i64::from(p.response_status))
    .bind(p.response_body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentRow {
    pub payment_id: String,
    pub amount_minor: u64,
    pub currency: String,
    pub reference: String,
    pub created_at: i64,
    /// When the lender voided it (it no longer counts); `null` while it counts.
    pub voided_at: Option<i64>,
    /// Why it was voided.
    pub void_reason: Option<String>,
}

/// A page of the device's payments in (created_at, payment_id) order, after `after`.
pub async fn payments(
    pool: &AnyPool,
    device_id: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<PaymentRow>> {
    let (at, id) = after.unwrap_or((i64::MIN, ""));
    let rows = sqlx::query(
        "SELECT payment_id, amount_minor, currency, reference, created_at, voided_at, \
         void_reason FROM payments \
         WHERE device_id = $1 AND (created_at > $2 OR (created_at = $2 AND payment_id > $3)) \
         ORDER BY created_at, payment_id LIMIT $4",
    )
    .bind(device_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PaymentRow {
                payment_id: r.try_get("payment_id")?,
                amount_minor: to_u64("amount_minor", r.try_get("amount_minor")?)?,
                currency: r.try_get("currency")?,
                reference: r.try_get("reference")?,
                created_at: r.try_get("created_at")?,
                voided_at: r.try_get("voided_at")?,
                void_reason: r.try_get("void_reason")?,
            })
        })
        .collect()
}

// ---- completing and voids (ADR 0012) ---------------------------------------------------

/// Where the device's money stands, read inside the transaction about to change it:
/// `(total_minor, paid_minor, release_at, released)`.
pub async fn money(tx: &mut Tx, device_id: &str) -> Result<(u64, u64, Option<i64>, bool)> {
    let row = sqlx::query(
        "SELECT total_minor, paid_minor, release_at, released FROM devices WHERE device_id = $1",
    )
    .bind(device_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((
        to_u64("total_minor", row.try_get("total_minor")?)?,
        to_u64("paid_minor", row.try_get("paid_minor")?)?,
        row.try_get("release_at")?,
        row.try_get::<i64, _>("released")? != 0,
    ))
}

/// The money as it was read, and what it becomes.
pub struct MoneyChange {
    pub paid_minor: (u64, u64),
    pub release_at: (Option<i64>, Option<i64>),
    pub released: (bool, bool),
    /// Paying in full lifts a lender lock (as releasing always did).
    pub lift_lender_lock: bool,
}

/// Stores a change of money as a compare-and-swap on what was read: `false` when a
/// concurrent change landed in between (the caller rolls back and tries again).
pub async fn store_money(tx: &mut Tx, device_id: &str, c: &MoneyChange) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET paid_minor = $2, release_at = $3, released = $4, \
         lender_locked = CASE WHEN $5 = 1 THEN 0 ELSE lender_locked END, \
         lock_reason = CASE WHEN $5 = 1 THEN NULL ELSE lock_reason END \
         WHERE device_id = $1 AND paid_minor = $6 AND COALESCE(release_at, -1) = $7 \
         AND released = $8",
    )
    .bind(device_id)
    .bind(to_i64(c.paid_minor.1)?)
    .bind(c.release_at.1)
    .bind(i64::from(c.released.1))
    .bind(i64::from(c.lift_lender_lock))
    .bind(to_i64(c.paid_minor.0)?)
    .bind(c.release_at.0.unwrap_or(-1))
    .bind(i64::from(c.released.0))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks released a device whose completing window has passed; `true` when it changed.
pub async fn settle_release(tx: &mut Tx, device_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET released = 1, lender_locked = 0, lock_reason = NULL \
         WHERE device_id = $1 AND released = 0 AND release_at IS NOT NULL AND release_at <= $2 \
         AND paid_minor >= total_minor",
    )
    .bind(device_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One payment of a device, for a void: `(amount_minor, voided_at, void_response)`.
pub async fn payment_for_void(
    tx: &mut Tx,
    device_id: &str,
    payment_id: &str,
) -> Result<Option<(u64, Option<i64>, Option<String>)>> {
    let row = sqlx::query(
        "SELECT amount_minor, voided_at, void_response FROM payments \
         WHERE device_id = $1 AND payment_id = $2",
    )
    .bind(device_id)
    .bind(payment_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok((
            to_u64("amount_minor", r.try_get("amount_minor")?)?,
            r.try_get("voided_at")?,
            r.try_get("void_response")?,
        ))
    })
    .transpose()
}

/// Marks a payment voided (once): `false` when it already was.
pub async fn void_payment(
    tx: &mut Tx,
    payment_id: &str,
    now: i64,
    reason: &str,
    response: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE payments SET voided_at = $2, void_reason = $3, void_response = $4 \
         WHERE payment_id = $1 AND voided_at IS NULL",
    )
    .bind(payment_id)
    .bind(now)
    .bind(reason)
    .bind(response)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The lender's completing window in seconds (ADR 0012).
pub async fn completing_window(
    executor: impl sqlx::Executor<'_, Database = Any>,
    lender_id: &str,
) -> Result<i64> {
    let row = sqlx::query("SELECT completing_window_s FROM lenders WHERE lender_id = $1")
        .bind(lender_id)
        .fetch_one(executor)
        .await?;
    Ok(row.try_get("completing_window_s")?)
}

pub async fn set_completing_window(pool: &AnyPool, lender_id: &str, window_s: i64) -> Result<()> {
    sqlx::query("UPDATE lenders SET completing_window_s = $2 WHERE lender_id = $1")
        .bind(lender_id)
        .bind(window_s)
        .execute(pool)
        .await?;
    Ok(())
}
