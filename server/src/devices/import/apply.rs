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

use super::payments::{self as lines, UNKNOWN_DEVICE};
use super::{Errors, Kind, Rejected, amount, sales};
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

/// Imports a sales file: every device or none.
pub async fn import_sales(
    app: &App,
    by: Caller<'_>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<SalesImport, Failure> {
    let now = app.now();
    let sales = sales::parse(bytes, now)?;
    let import_id = ids::row_id("imp")?;
    let mut tx = begin(app, &by.lender.lender_id).await?;
    let mut errors = Errors::default();
    let mut devices = Vec::with_capacity(sales.len());
    for sale in &sales {
        match register::insert_in(&mut tx, now, by, &sale.prepared).await {
            Ok(registered) => devices.push(ImportedSale {
                line: sale.line,
                device_id: Some(registered.device_id),
                enrollment_code: Some(registered.enrollment_code),
                customer_ref: sale.registration.customer_ref.clone(),
            }),
            Err(e @ Error::Conflict { .. }) => errors.push(sales::row_error(sale.line, e)),
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
        return Ok(SalesImport {
            import_id: None,
            dry_run,
            devices,
        });
    }
    let detail =
        json!({ "import_id": import_id, "kind": Kind::Sales.as_str(), "devices": devices.len() });
    log(&mut tx, by, now, "sales_imported", &detail).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %by.lender.lender_id, %import_id, devices = devices.len(), "sales imported");
    Ok(SalesImport {
        import_id: Some(import_id),
        dry_run,
        devices,
    })
}

/// Imports a payments file: every payment or none; rows already recorded are reported
/// as such and not counted again.
pub async fn import_payments(
    app: &App,
    by: Caller<'_>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<PaymentsImport, Failure> {
    let now = app.now();
    let rows = lines::parse(bytes, now)?;
    let lender_id = &by.lender.lender_id;
    // Each device named once, as it is now.
    let mut devices: HashMap<&str, Result<DeviceRow, String>> = HashMap::new();
    for row in &rows {
        if !devices.contains_key(row.device.as_str()) {
            let found = find_device(app, lender_id, &row.device).await?;
            devices.insert(&row.device, found);
        }
    }
    let mut errors = Errors::default();
    let mut checked = Vec::with_capacity(rows.len());
    for row in &rows {
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
        if let Some(recorded) = recorded_amount(&mut tx, &device.device_id, &row.reference).await? {
            if recorded == request.amount_minor {
                result.status = PaymentStatus::AlreadyRecorded;
                results.push(result);
            } else {
                let exponent = amount::exponent(&device.currency).unwrap_or(0);
                errors.add(
                    row.line,
                    Some("reference"),
                    format!(
                        "already recorded for this device with another amount ({} {})",
                        amount::format(recorded, exponent),
                        device.currency
                    ),
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
        match payments::record_in(&mut tx, now, window, by, device, payment).await {
            Ok(Attempt::Done(recorded)) => {
                result.payment_id = serde_json::from_str::<serde_json::Value>(&recorded.body)
                    .ok()
                    .and_then(|v| v["payment_id"].as_str().map(str::to_string));
                results.push(result);
            }
            Ok(Attempt::KeyRace) => {
                tx.rollback().await?;
                return Err(Failure::Error(Error::conflict(
                    "concurrent",
                    "a device of this file changed while it was imported; import again \
                     (rows already recorded are recognised)",
                )));
            }
            Err(Error::Db(e)) => return Err(Failure::Error(Error::Db(e))),
            Err(e) => errors.push(lines::error(row.line, e)),
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
        return Ok(PaymentsImport {
            import_id: None,
            dry_run,
            recorded,
            already_recorded,
            payments: results,
        });
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
    Ok(PaymentsImport {
        import_id: Some(import_id),
        dry_run,
        recorded,
        already_recorded,
        payments: results,
    })
}

/// A write transaction that first writes the lender's row: imports (and staff changes,
/// which number the same log this way) of one lender run one at a time.
async fn begin(app: &App, lender_id: &str) -> Result<Tx> {
    let mut tx = app.db.write.begin().await?;
    sqlx::query("UPDATE lenders SET name = name WHERE lender_id = $1")
        .bind(lender_id)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The import's entry in the lender's own log (`lender_audit`), by the caller.
async fn log(
    tx: &mut Tx,
    by: Caller<'_>,
    at: i64,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    let last: i64 =
        sqlx::query("SELECT COALESCE(MAX(n), 0) AS last FROM lender_audit WHERE lender_id = $1")
            .bind(&by.lender.lender_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("last")?;
    sqlx::query(
        "INSERT INTO lender_audit (lender_id, n, at, actor, action, detail, api_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&by.lender.lender_id)
    .bind(last + 1)
    .bind(at)
    .bind(by.actor.label())
    .bind(action)
    .bind(detail.to_string())
    .bind(by.actor.key_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
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
async fn find_device(app: &App, lender_id: &str, text: &str) -> Result<Result<DeviceRow, String>> {
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
            Err(Error::NotFound) => Ok(Err(UNKNOWN_DEVICE.into())),
            Err(e) => Err(e),
        },
        [] => Ok(Err(UNKNOWN_DEVICE.into())),
        _ => Ok(Err(
            "several of your devices have this customer reference; use the device id".into(),
        )),
    }
}
