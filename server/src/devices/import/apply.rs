//! The import operations (the I/O): check the whole file ([`super::sales::parse`],
//! [`super::payments::parse`]), then store every row in ONE transaction through the
//! API's own operations ([`register::insert_in`], [`payments::record_in`]), rolled
//! back unless every row is good; a dry run rolls back in any case, so it finds
//! exactly what the import would (an IMEI already financed, an overpayment over several
//! rows of one device). One entry in the lender's own log names the import.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use sqlx::Row as _;
use utoipa::ToSchema;

use super::payments as lines;
use super::{Errors, Kind, Reason, Rejected, amount, sales};
use crate::app::App;
use crate::db::queries::{self, DeviceRow, Tx};
use crate::devices::payments::{self, Attempt, NewPayment};
use crate::devices::{Caller, owned, register};
use crate::error::{Error, Result};
use crate::ids;

/// Why an import stored nothing.
#[derive(Debug)]
pub enum Failure {
    /// Rows (or the file) break rules: every reason.
    Rows(Rejected),
    /// Something else (the database, a concurrent change).
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Error(e.into())
    }
}

impl From<Rejected> for Failure {
    fn from(r: Rejected) -> Failure {
        Failure::Rows(r)
    }
}

/// A registered device of a sales import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedSale {
    pub line: u64,
    /// `null` in a dry run (nothing was stored).
    pub device_id: Option<String>,
    /// The one-time code the phone enrolls with; `null` in a dry run.
    pub enrollment_code: Option<String>,
    pub customer_ref: Option<String>,
}

/// What a sales import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesImport {
    /// Names the import in the lender's log; `null` in a dry run.
    pub import_id: Option<String>,
    pub dry_run: bool,
    pub devices: Vec<ImportedSale>,
}

/// What happened to one payment row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Recorded now (or, in a dry run, would be).
    Recorded,
    /// A payment with this reference and amount was already recorded for the device:
    /// not counted again.
    AlreadyRecorded,
}

/// One payment row's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedPayment {
    pub line: u64,
    pub device_id: String,
    pub amount_minor: u64,
    pub currency: String,
    pub reference: String,
    pub status: PaymentStatus,
    /// The new payment; `null` when already recorded or in a dry run.
    pub payment_id: Option<String>,
    /// As written in the file (checked, not stored).
    pub paid_at: Option<i64>,
}

/// What a payments import did (or would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentsImport {
    pub import_id: Option<String>,
    pub dry_run: bool,
    pub recorded: usize,
    pub already_recorded: usize,
    pub payments: Vec<ImportedPayment>,
}

/// How many times an import is tried when a concurrent change broke its transaction.
const ATTEMPTS: usize = 3;

/// The answer when every attempt met a concurrent change: nothing is stored.
fn concurrent() -> Failure {
    Failure::Error(Error::conflict(
        "concurrent",
        "a device or an IMEI of this file changed while it was imported (another import \
         or registration at the same time); nothing was stored: import again (rows already \
         recorded are recognised)",
    ))
}

/// Imports a sales file: every device or none.
///
/// Rows of one lender's imports are stored one import at a time ([`begin`]), but a
/// registration through the API, or another lender's import of the same IMEI, can store
/// it between the check and the insert; on PostgreSQL that insert's failure ends the
/// transaction. The attempt is then rolled back and made again from the start (where
/// the IMEI's owner check names the row), at most [`ATTEMPTS`] times, then 409.
pub async fn import_sales(
    app: &App,
    by: Caller<'_>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<SalesImport, Failure> {
    let now = app.now();
    let sales = sales::parse(bytes, now)?;
    for _ in 0..ATTEMPTS {
        if let Some(done) = store_sales(app, by, now, &sales, dry_run).await? {
            return Ok(done);
        }
    }
    Err(concurrent())
}

/// One attempt at storing every sale; `None` when a concurrent change broke the
/// transaction (rolled back: nothing stored).
async fn store_sales(
    app: &App,
    by: Caller<'_>,
    now: i64,
    sales: &[sales::Sale],
    dry_run: bool,
) -> Result<Option<SalesImport>, Failure> {
    let import_id = ids::row_id("imp")?;
    let mut tx = begin(app, &by.lender.lender_id).await?;
    // The lender's compliance profile, read once in this transaction for every row.
    let profile = crate::compliance::lender::profile_in(&mut tx, &by.lender.lender_id).await?;
    let mut errors = Errors::default();
    let mut devices = Vec::with_capacity(sales.len());
    for sale in sales {
        match register::insert_under(&mut tx, now, by, &sale.prepared, profile).await {
            Ok(registered) => {
                stamp(&mut tx, &registered.device_id, 0, &import_id).await?;
                devices.push(ImportedSale {
                    line: sale.line,
                    device_id: Some(registered.device_id),
                    enrollment_code: Some(registered.enrollment_code),
                    customer_ref: sale.registration.customer_ref.clone(),
                });
            }
            // A row refused by a rule: named with its line, the other rows still checked.
            Err(e @ (Error::Conflict { .. } | Error::Compliance { .. })) => {
                if !usable(&mut tx).await {
                    tx.rollback().await?;
                    return Ok(None);
                }
                errors.push(sales::row_error(sale.line, e));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Err(Failure::Rows(errors.rejected()));
    }
    if dry_run {
        tx.rollback().await?;
        for d in &mut devices {
            d.device_id = None;
            d.enrollment_code = None;
        }
        return Ok(Some(SalesImport {
            import_id: None,
            dry_run,
            devices,
        }));
    }
    let detail =
        json!({ "import_id": import_id, "kind": Kind::Sales.as_str(), "devices": devices.len() });
    log(&mut tx, by, now, "sales_imported", &detail).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %by.lender.lender_id, %import_id, devices = devices.len(), "sales imported");
    Ok(Some(SalesImport {
        import_id: Some(import_id),
        dry_run,
        devices,
    }))
}

/// Imports a payments file: every payment or none; rows already recorded are reported
/// as such and not counted again. A device changed by someone else while the file is
/// stored (a payment through the API meanwhile) makes the attempt start again from
/// reading the devices, at most [`ATTEMPTS`] times, then 409.
pub async fn import_payments(
    app: &App,
    by: Caller<'_>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<PaymentsImport, Failure> {
    let now = app.now();
    let rows = lines::parse(bytes, now)?;
    for _ in 0..ATTEMPTS {
        if let Some(done) = store_payments(app, by, now, &rows, dry_run).await? {
            return Ok(done);
        }
    }
    Err(concurrent())
}

/// One attempt at recording every payment; `None` when a concurrent change made it
/// stop (rolled back: nothing stored).
async fn store_payments(
    app: &App,
    by: Caller<'_>,
    now: i64,
    rows: &[lines::Line],
    dry_run: bool,
) -> Result<Option<PaymentsImport>, Failure> {
    let lender_id = &by.lender.lender_id;
    // Each device named once, as it is now.
    let mut devices: HashMap<&str, Result<DeviceRow, Reason>> = HashMap::new();
    for row in rows {
        if !devices.contains_key(row.device.as_str()) {
            let found = find_device(app, lender_id, &row.device).await?;
            devices.insert(&row.device, found);
        }
    }
    let mut errors = Errors::default();
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        match &devices[row.device.as_str()] {
            Err(reason) => errors.add(row.line, Some("device"), reason.clone()),
            Ok(device) => match lines::against(row, device) {
                Ok(request) => checked.push((row, device, request)),
                Err(e) => errors.push(e),
            },
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Rows(errors.rejected()));
    }
    let window = queries::completing_window(&app.db.read, lender_id).await?;
    let import_id = ids::row_id("imp")?;
    let mut tx = begin(app, lender_id).await?;
    let mut results = Vec::with_capacity(checked.len());
    for (row, device, request) in &checked {
        let mut result = ImportedPayment {
            line: row.line,
            device_id: device.device_id.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            reference: request.reference.clone(),
            status: PaymentStatus::Recorded,
            payment_id: None,
            paid_at: row.paid_at,
        };
        let exponent = amount::exponent(&device.currency).unwrap_or(0);
        if let Some(recorded) = recorded_amount(&mut tx, &device.device_id, &row.reference).await? {
            if recorded == request.amount_minor {
                result.status = PaymentStatus::AlreadyRecorded;
                results.push(result);
            } else {
                errors.add(
                    row.line,
                    Some("reference"),
                    Reason::ReferenceRecorded {
                        amount: amount::format(recorded, exponent),
                        currency: device.currency.clone(),
                    },
                );
            }
            continue;
        }
        let fingerprint = ids::sha256_hex(
            serde_json::to_string(request)
                .map_err(|e| Error::Internal(format!("payment: {e}")))?
                .as_bytes(),
        );
        let key = format!("import:{import_id}:{}", row.line);
        let payment = NewPayment {
            key: &key,
            fingerprint: &fingerprint,
            request,
            reference: &request.reference,
        };
        let seen = audit_seq(&mut tx, &device.device_id).await?;
        match payments::record_in(&mut tx, now, window, by, device, payment).await {
            Ok(Attempt::Done(recorded)) => {
                stamp(&mut tx, &device.device_id, seen, &import_id).await?;
                result.payment_id = serde_json::from_str::<serde_json::Value>(&recorded.body)
                    .ok()
                    .and_then(|v| v["payment_id"].as_str().map(str::to_string));
                results.push(result);
            }
            Ok(Attempt::KeyRace) => {
                tx.rollback().await?;
                return Ok(None);
            }
            Err(Error::Db(e)) => return Err(Failure::Error(Error::Db(e))),
            Err(e) => {
                if !usable(&mut tx).await {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let owed = owed(&mut tx, device, exponent).await?;
                errors.push(lines::error(row.line, e, Some(owed)));
            }
        }
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Err(Failure::Rows(errors.rejected()));
    }
    let recorded = results
        .iter()
        .filter(|r| r.status == PaymentStatus::Recorded)
        .count();
    let already_recorded = results.len() - recorded;
    if dry_run {
        tx.rollback().await?;
        for r in &mut results {
            r.payment_id = None;
        }
        return Ok(Some(PaymentsImport {
            import_id: None,
            dry_run,
            recorded,
            already_recorded,
            payments: results,
        }));
    }
    let detail = json!({
        "import_id": import_id,
        "kind": Kind::Payments.as_str(),
        "recorded": recorded,
        "already_recorded": already_recorded,
    });
    log(&mut tx, by, now, "payments_imported", &detail).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %lender_id, %import_id, recorded, already_recorded, "payments imported");
    Ok(Some(PaymentsImport {
        import_id: Some(import_id),
        dry_run,
        recorded,
        already_recorded,
        payments: results,
    }))
}

/// Whether the transaction still runs statements. On PostgreSQL a statement that failed
/// (an insert another transaction beat to a unique value) ends the transaction; the
/// operations report that failure as a refusal, so before a refusal is taken as a row's
/// error the transaction is asked whether it can go on. SQLite's always can.
async fn usable(tx: &mut Tx) -> bool {
    sqlx::query("SELECT 1").execute(&mut **tx).await.is_ok()
}

/// The device's last audit entry number, its row locked for this transaction (so no
/// other change adds entries until it ends).
async fn audit_seq(tx: &mut Tx, device_id: &str) -> Result<i64> {
    let row = sqlx::query(
        "UPDATE devices SET audit_seq = audit_seq WHERE device_id = $1 RETURNING audit_seq",
    )
    .bind(device_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("audit_seq")?)
}

/// Names the import in the device's entries numbered after `after`: the entries the
/// shared operation (registration, payment) just wrote for this row, with its
/// consequences (completing, released). They are written by operations that know
/// nothing of imports, so the import adds `"import_id"` to their detail (a JSON object)
/// in the same transaction, before anyone can read them: one statement of text
/// operations both databases have, so 10,000 rows stay seconds.
async fn stamp(tx: &mut Tx, device_id: &str, after: i64, import_id: &str) -> Result<()> {
    let field = format!(
        "\"import_id\":{}",
        serde_json::to_string(import_id).map_err(|e| Error::Internal(format!("id: {e}")))?
    );
    sqlx::query(
        "UPDATE audit SET detail = CASE WHEN detail = '{}' THEN '{' || $3 || '}' \
         ELSE SUBSTR(detail, 1, LENGTH(detail) - 1) || ',' || $3 || '}' END \
         WHERE device_id = $1 AND n > $2",
    )
    .bind(device_id)
    .bind(after)
    .bind(field)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the device still owes as this transaction sees it, for an overpayment's reason.
async fn owed(tx: &mut Tx, device: &DeviceRow, exponent: u32) -> Result<lines::Owed> {
    let (total_minor, paid_minor, release_at, released) =
        queries::money(tx, &device.device_id).await?;
    let owed = if released || release_at.is_some() {
        0
    } else {
        total_minor.saturating_sub(paid_minor)
    };
    Ok(lines::Owed {
        amount: amount::format(owed, exponent),
        currency: device.currency.clone(),
    })
}

/// A write transaction that first writes the lender's row: imports (and staff changes,
/// which number the same log this way) of one lender run one at a time.
async fn begin(app: &App, lender_id: &str) -> Result<Tx> {
    crate::audit::begin_lender(&app.db, lender_id).await
}

/// The import's entry in the lender's own log (`lender_audit`), by the caller.
async fn log(
    tx: &mut Tx,
    by: Caller<'_>,
    at: i64,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    crate::audit::append_lender(tx, &by.lender.lender_id, at, by.actor, action, detail).await
}

/// The amount of the payment with this reference on the device, if one is recorded
/// (voided or not: a voided payment was taken back by a person, not by a re-import).
async fn recorded_amount(tx: &mut Tx, device_id: &str, reference: &str) -> Result<Option<u64>> {
    let row =
        sqlx::query("SELECT amount_minor FROM payments WHERE device_id = $1 AND reference = $2")
            .bind(device_id)
            .bind(reference)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|r| r.try_get::<i64, _>("amount_minor").map(|a| a.max(0) as u64))
        .transpose()
        .map_err(Into::into)
}

/// The lender's device a row names: its id, or else a customer reference held by
/// exactly one of its devices. Another lender's device reads like a missing one.
async fn find_device(app: &App, lender_id: &str, text: &str) -> Result<Result<DeviceRow, Reason>> {
    match owned(app, lender_id, text).await {
        Ok(row) => return Ok(Ok(row)),
        Err(Error::NotFound) => {}
        Err(e) => return Err(e),
    }
    let ids: Vec<String> = sqlx::query(
        "SELECT device_id FROM devices WHERE lender_id = $1 AND customer_ref = $2 LIMIT 2",
    )
    .bind(lender_id)
    .bind(text)
    .fetch_all(&app.db.read)
    .await?
    .iter()
    .map(|r| r.try_get("device_id"))
    .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [one] => match owned(app, lender_id, one).await {
            Ok(row) => Ok(Ok(row)),
            Err(Error::NotFound) => Ok(Err(Reason::UnknownDevice)),
            Err(e) => Err(e),
        },
        [] => Ok(Err(Reason::UnknownDevice)),
        _ => Ok(Err(Reason::CustomerRefAmbiguous)),
    }
}
