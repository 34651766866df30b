//! Payments: recorded once per `Idempotency-Key` (the same key never counts twice and
//! always returns the first answer), applied to the installments in order. Paid in full,
//! the device is *completing* for its lender's window and released only after it
//! (ADR 0012; [`super::voids`] takes a payment back meanwhile).
//!
//! The key is unique per device in the database, so this holds across retries,
//! concurrent requests and nodes: a concurrent request with the same key may win the
//! unique key between our read and our insert (PostgreSQL), and then the retry reads
//! its answer.

use finlock_core::protocol::MAX_SAFE;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, subject};
use crate::app::App;
use crate::audit::{self, Actor, AuditEvent};
use crate::db::is_unique_violation;
use crate::db::queries::{self, DeviceRow, MoneyChange, PaymentRow, Tx};
use crate::error::{Error, Result};
use crate::ids;
use crate::issue::stored_plan;
use crate::policy::{Money, MoneyRefusal};

/// `POST …/{id}/payments`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    #[schema(minimum = 1)]
    pub amount_minor: u64,
    /// The currency of the device's plan.
    pub currency: String,
    /// The lender's own reference (receipt, transaction id), 1–128 printable
    /// characters; one payment per reference and device.
    #[schema(min_length = 1, max_length = 128)]
    pub reference: String,
    /// Record an amount above what is still owed (refused unless this is `true`: a
    /// mistyped amount must not release a phone for good).
    #[serde(default)]
    pub allow_overpayment: bool,
}

/// A recorded payment and the account after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Payment)]
pub struct PaymentAnswer {
    pub payment_id: String,
    pub device_id: String,
    pub amount_minor: u64,
    pub currency: String,
    pub reference: String,
    pub created_at: i64,
    pub paid_minor: u64,
    pub amount_due_minor: u64,
    /// Paid in full: released on this date unless a payment is voided first (ADR 0012);
    /// `null` while something is owed.
    pub release_at: Option<i64>,
    /// Released for good (a lender whose completing window is 0).
    pub released: bool,
}

/// The answer to a payment request as first given (status and JSON body), returned
/// again byte for byte for every retry with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub status: u16,
    pub body: String,
}

/// An `Idempotency-Key` as sent: 1–255 printable ASCII characters.
pub fn check_idempotency_key(key: Option<&str>) -> Result<String> {
    let key = key.map(str::trim).ok_or_else(|| {
        Error::BadRequest("an Idempotency-Key header is required for payments".into())
    })?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::BadRequest(
            "Idempotency-Key: 1-255 printable ASCII characters".into(),
        ));
    }
    Ok(key.to_string())
}

/// The request's own rules against the device: pure. Returns the trimmed reference.
pub fn validate<'r>(req: &'r PaymentRequest, device: &DeviceRow) -> Result<&'r str> {
    if req.amount_minor == 0 || req.amount_minor >= MAX_SAFE {
        return Err(Error::invalid("amount_minor", "between 1 and 2^53 - 1"));
    }
    if req.currency != device.currency {
        return Err(Error::invalid(
            "currency",
            "must be the currency of the device's plan",
        ));
    }
    let reference = req.reference.trim();
    if reference.is_empty() || reference.chars().count() > 128 {
        return Err(Error::invalid("reference", "1 to 128 characters"));
    }
    if reference.chars().any(char::is_control) {
        return Err(Error::invalid(
            "reference",
            "printable characters only (no line breaks or control characters)",
        ));
    }
    Ok(reference)
}

/// The status of a newly recorded payment.
const CREATED: u16 = 201;

/// What one attempt inside a transaction came to.
#[derive(Debug)]
pub enum Attempt {
    /// Recorded now, or the first answer for this key: commit.
    Done(Recorded),
    /// The key was inserted by a concurrent request meanwhile: roll back and try again.
    KeyRace,
}

/// A payment to record, checked by [`validate`].
#[derive(Debug, Clone, Copy)]
pub struct NewPayment<'a> {
    pub key: &'a str,
    /// SHA-256 of the request: the same key with another request is refused.
    pub fingerprint: &'a str,
    pub request: &'a PaymentRequest,
    /// The trimmed reference.
    pub reference: &'a str,
}

/// Records a payment once per `key` (see the module docs).
pub async fn record(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    key: &str,
    req: &PaymentRequest,
) -> Result<Recorded> {
    let fingerprint = ids::sha256_hex(
        serde_json::to_string(req)
            .map_err(|e| Error::Internal(format!("payment: {e}")))?
            .as_bytes(),
    );
    let payment = NewPayment {
        key,
        fingerprint: &fingerprint,
        request: req,
        reference: validate(req, device)?,
    };
    let window = queries::completing_window(&app.db.read, &device.lender_id).await?;
    for _ in 0..3 {
        let mut tx = app.db.write.begin().await?;
        match record_in(&mut tx, app.now(), window, by, device, payment).await? {
            Attempt::Done(recorded) => {
                tx.commit().await?;
                return Ok(recorded);
            }
            Attempt::KeyRace => tx.rollback().await?,
        }
    }
    Err(Error::conflict(
        "concurrent",
        "concurrent requests with this Idempotency-Key; retry",
    ))
}

/// One attempt at recording `payment` inside `tx`: the payment, the device's totals
/// (a compare-and-swap on what was read: `KeyRace` when another change landed) and the
/// audit entries, or the first answer for this key. `window_s` is the lender's
/// completing window.
pub async fn record_in(
    tx: &mut Tx,
    now: i64,
    window_s: i64,
    by: Caller<'_>,
    device: &DeviceRow,
    payment: NewPayment<'_>,
) -> Result<Attempt> {
    if let Some(first) = first_answer(tx, device, &payment).await? {
        return Ok(first);
    }
    let req = payment.request;
    if queries::reference_used(tx, &device.device_id, payment.reference).await? {
        // A concurrent request with the same key may have committed since the check
        // above (PostgreSQL reads what is committed at each statement): its answer wins.
        if let Some(first) = first_answer(tx, device, &payment).await? {
            return Ok(first);
        }
        return Err(Error::conflict(
            "duplicate-reference",
            "a payment with this reference is already recorded for this device",
        ));
    }
    let (total_minor, paid_minor, release_at, released) =
        queries::money(tx, &device.device_id).await?;
    let before = Money {
        total_minor,
        paid_minor,
        release_at,
        released,
    };
    let after = match before.pay(req.amount_minor, req.allow_overpayment, now, window_s) {
        Ok(after) => after,
        Err(MoneyRefusal::Released) => {
            return Err(Error::conflict(
                "released",
                "this device is released; nothing is owed",
            ));
        }
        Err(MoneyRefusal::Overpayment { owed }) => {
            let what = if before.completing(now).is_some() {
                "is more than the 0 still owed (the device is paid in full and completing)"
                    .to_string()
            } else {
                format!("is more than the {owed} still owed")
            };
            return Err(Error::invalid(
                "amount_minor",
                format!(
                    "{what}; check the amount, or send \"allow_overpayment\": true to record \
                     it anyway"
                ),
            ));
        }
        Err(MoneyRefusal::OutOfRange) => {
            return Err(Error::invalid(
                "amount_minor",
                "the payments would add up to 2^53 or more",
            ));
        }
    };
    let completes = before.release_at.is_none() && after.release_at.is_some();
    let change = MoneyChange {
        paid_minor: (before.paid_minor, after.paid_minor),
        release_at: (before.release_at, after.release_at),
        released: (before.released, after.released),
        lift_lender_lock: completes,
    };
    if !queries::store_money(tx, &device.device_id, &change).await? {
        return Ok(Attempt::KeyRace);
    }
    super::search::refresh_in(tx, &device.device_id).await?;
    let paid = after.paid_minor;
    let released = after.is_released(now);
    let payment_id = ids::row_id("pay")?;
    let answer = PaymentAnswer {
        payment_id: payment_id.clone(),
        device_id: device.device_id.clone(),
        amount_minor: req.amount_minor,
        currency: req.currency.clone(),
        reference: payment.reference.to_string(),
        created_at: now,
        paid_minor: paid,
        amount_due_minor: if after.release_at.is_some() {
            0
        } else {
            stored_plan(device)?.account(paid, now).amount_due_minor
        },
        release_at: after.completing(now),
        released,
    };
    let body =
        serde_json::to_string(&answer).map_err(|e| Error::Internal(format!("payment: {e}")))?;
    let inserted = queries::insert_payment(
        tx,
        &queries::NewPayment {
            payment_id: &payment_id,
            device_id: &device.device_id,
            idempotency_key: payment.key,
            request_sha256: payment.fingerprint,
            amount_minor: req.amount_minor,
            currency: &req.currency,
            reference: payment.reference,
            created_at: now,
            response_status: CREATED,
            response_body: &body,
        },
    )
    .await;
    match inserted {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => return Ok(Attempt::KeyRace),
        Err(e) => return Err(e.into()),
    }
    let event = AuditEvent::Payment {
        payment_id: &payment_id,
        amount_minor: req.amount_minor,
        currency: &req.currency,
        reference: payment.reference,
        paid_minor: paid,
    };
    audit::append(tx, subject(device), now, by.actor, &event).await?;
    crate::webhooks::record_audit(tx, device, now, &event).await?;
    if let (true, Some(release_at)) = (completes, after.release_at) {
        // The server's consequence of the payment, like the release that follows it.
        let event = AuditEvent::Completing { release_at };
        audit::append(tx, subject(device), now, Actor::System, &event).await?;
        crate::webhooks::record_audit(tx, device, now, &event).await?;
    }
    // A window of 0: released at once, with its entry (as before ADR 0012).
    super::completing::settle_in(tx, now, device).await?;
    Ok(Attempt::Done(Recorded {
        status: CREATED,
        body,
    }))
}

/// The first answer given for this payment's Idempotency-Key, if any; the same key with
/// another request is refused.
async fn first_answer(
    tx: &mut Tx,
    device: &DeviceRow,
    payment: &NewPayment<'_>,
) -> Result<Option<Attempt>> {
    let Some(stored) = queries::payment_by_key(tx, &device.device_id, payment.key).await? else {
        return Ok(None);
    };
    if stored.request_sha256 != payment.fingerprint {
        return Err(Error::conflict(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different payment",
        ));
    }
    Ok(Some(Attempt::Done(Recorded {
        status: stored.status,
        body: stored.body,
    })))
}

/// Payments (and audit entries) per page unless asked otherwise.
pub const DEFAULT_PAGE: u32 = 100;

/// A page of the device's payments, oldest first, and the cursor of the next page
/// (`<created_at>.<payment_id>`, opaque to callers) when there may be one.
pub async fn list(
    app: &App,
    device: &DeviceRow,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<(Vec<PaymentRow>, Option<String>)> {
    let limit = i64::from(super::page_size(limit, DEFAULT_PAGE)?);
    let after = cursor
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| Error::invalid("cursor", "a next_cursor from an earlier page"))
        })
        .transpose()?;
    let page = queries::payments(&app.db.read, &device.device_id, after, limit).await?;
    let next = (page.len() as i64 == limit)
        .then(|| {
            page.last()
                .map(|p| format!("{}.{}", p.created_at, p.payment_id))
        })
        .flatten();
    Ok((page, next))
}
