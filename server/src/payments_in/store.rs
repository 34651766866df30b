//! The `payment_notifications` table: every statement on it.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::notice::{Notice, Source};
use crate::db::queries::{Tx, to_i64};
use crate::error::{Error, Result};

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded as a payment of the device its account reference names.
    Recorded,
    /// Kept for the lender to assign (`reason` says why).
    Held,
    /// Held, then assigned by the lender: recorded as a payment.
    Assigned,
    /// The device already has a payment with this transaction id (e.g. imported from a
    /// statement): nothing counted twice.
    AlreadyRecorded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Recorded => "recorded",
            Status::Held => "held",
            Status::Assigned => "assigned",
            Status::AlreadyRecorded => "already_recorded",
        }
    }

    fn parse(text: &str) -> Result<Status> {
        Ok(match text {
            "recorded" => Status::Recorded,
            "held" => Status::Held,
            "assigned" => Status::Assigned,
            "already_recorded" => Status::AlreadyRecorded,
            _ => return Err(Error::Internal("stored notification status".into())),
        })
    }
}

/// A notification as the lender (and the provider, in the answer) sees it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct PaymentNotification {
    pub notification_id: String,
    pub source: Source,
    /// The provider's transaction id (the payment's `reference`).
    pub transaction_id: String,
    /// The account reference the payer gave (may be empty).
    pub account_reference: String,
    pub amount_minor: u64,
    pub currency: String,
    /// When the provider says it was paid (Unix seconds).
    pub paid_at: i64,
    pub received_at: i64,
    pub status: Status,
    /// Why it is held: `unknown-reference`, `ambiguous-reference`, `currency`,
    /// `overpayment`, `released`, `out-of-range` or `refused`; `null` otherwise.
    pub reason: Option<String>,
    /// The reason in plain words.
    pub reason_detail: Option<String>,
    /// The device it was matched or assigned to.
    pub device_id: Option<String>,
    /// The payment it became.
    pub payment_id: Option<String>,
    pub assigned_at: Option<i64>,
    /// Who assigned it: `lender:<id>` (an API key), `staff:<id>` or `cli:<lender id>`.
    pub assigned_by: Option<String>,
}

const COLUMNS: &str = "notification_id, source, transaction_id, account_ref, amount_minor, \
    currency, paid_at, received_at, status, reason, reason_detail, device_id, payment_id, \
    assigned_at, assigned_by, facts_sha256";

fn row(r: &AnyRow) -> Result<(PaymentNotification, String)> {
    let source: String = r.try_get("source")?;
    let status: String = r.try_get("status")?;
    let amount: i64 = r.try_get("amount_minor")?;
    Ok((
        PaymentNotification {
            notification_id: r.try_get("notification_id")?,
            source: Source::parse(&source)
                .ok_or_else(|| Error::Internal("stored notification source".into()))?,
            transaction_id: r.try_get("transaction_id")?,
            account_reference: r.try_get("account_ref")?,
            amount_minor: u64::try_from(amount)
                .map_err(|_| Error::Internal("stored amount is negative".into()))?,
            currency: r.try_get("currency")?,
            paid_at: r.try_get("paid_at")?,
            received_at: r.try_get("received_at")?,
            status: Status::parse(&status)?,
            reason: r.try_get("reason")?,
            reason_detail: r.try_get("reason_detail")?,
            device_id: r.try_get("device_id")?,
            payment_id: r.try_get("payment_id")?,
            assigned_at: r.try_get("assigned_at")?,
            assigned_by: r.try_get("assigned_by")?,
        },
        r.try_get("facts_sha256")?,
    ))
}

/// The notification of this transaction, with its facts' fingerprint.
pub async fn by_transaction(
    tx: &mut Tx,
    lender_id: &str,
    source: Source,
    transaction_id: &str,
) -> Result<Option<(PaymentNotification, String)>> {
    let found = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_notifications WHERE lender_id = $1 AND source = $2 \
         AND transaction_id = $3"
    ))
    .bind(lender_id)
    .bind(source.as_str())
    .bind(transaction_id)
    .fetch_optional(&mut **tx)
    .await?;
    found.as_ref().map(row).transpose()
}

/// One notification of this lender (another lender's reads like a missing one).
pub async fn one(tx: &mut Tx, lender_id: &str, id: &str) -> Result<Option<PaymentNotification>> {
    let found = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_notifications WHERE notification_id = $1 \
         AND lender_id = $2"
    ))
    .bind(id)
    .bind(lender_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.as_ref().map(row).transpose()?.map(|(n, _)| n))
}

/// What a new row says beyond the notice.
pub struct Outcome<'a> {
    pub status: Status,
    pub reason: Option<(&'a str, &'a str)>,
    pub device_id: Option<&'a str>,
    pub payment_id: Option<&'a str>,
}

/// Inserts a notification; a unique violation means the same transaction was stored by
/// a concurrent request (the caller rolls back and reads it).
pub async fn insert(
    tx: &mut Tx,
    notification_id: &str,
    lender_id: &str,
    notice: &Notice,
    received_at: i64,
    outcome: &Outcome<'_>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO payment_notifications (notification_id, lender_id, source, \
         transaction_id, account_ref, amount_minor, currency, paid_at, received_at, status, \
         reason, reason_detail, device_id, payment_id, facts_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(notification_id)
    .bind(lender_id)
    .bind(notice.source.as_str())
    .bind(&notice.transaction_id)
    .bind(&notice.account_ref)
    .bind(to_i64(notice.amount_minor)?)
    .bind(&notice.currency)
    .bind(notice.paid_at)
    .bind(received_at)
    .bind(outcome.status.as_str())
    .bind(outcome.reason.map(|r| r.0))
    .bind(outcome.reason.map(|r| r.1))
    .bind(outcome.device_id)
    .bind(outcome.payment_id)
    .bind(notice.facts_sha256())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a held notification assigned; `false` when it is no longer held.
pub async fn mark_assigned(
    tx: &mut Tx,
    lender_id: &str,
    id: &str,
    device_id: &str,
    payment_id: &str,
    at: i64,
    by: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE payment_notifications SET status = 'assigned', device_id = $3, \
         payment_id = $4, assigned_at = $5, assigned_by = $6 \
         WHERE notification_id = $1 AND lender_id = $2 AND status = 'held'",
    )
    .bind(id)
    .bind(lender_id)
    .bind(device_id)
    .bind(payment_id)
    .bind(at)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A page of the lender's notifications (of one status, or all), oldest first, after
/// `(received_at, notification_id)`.
pub async fn list(
    pool: &sqlx::AnyPool,
    lender_id: &str,
    status: Option<Status>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<PaymentNotification>> {
    let (at, id) = after.unwrap_or((i64::MIN, ""));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payment_notifications WHERE lender_id = $1 \
         AND ($2 = '' OR status = $2) \
         AND (received_at > $3 OR (received_at = $3 AND notification_id > $4)) \
         ORDER BY received_at, notification_id LIMIT $5"
    ))
    .bind(lender_id)
    .bind(status.map_or("", Status::as_str))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| row(r).map(|(n, _)| n)).collect()
}
