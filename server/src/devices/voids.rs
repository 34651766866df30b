//! Voiding a payment (ADR 0012): the lender takes back a payment that bounced or was
//! recorded by mistake, with a reason. The payment stays listed, marked voided; it no
//! longer counts, so `paid_minor` is the sum of the payments that are not voided.
//!
//! Allowed until the device is released: while it still owes, and in the completing
//! window after it was paid in full, which a void ends (owing again: the phone locks
//! again if an installment is overdue) or restarts (still paid in full: released only a
//! full window after the last void). After the release, 409 and nothing changes.
//!
//! Idempotent by payment: voiding a voided payment answers the first answer again, byte
//! for byte (stored with the void), whatever reason the retry gives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::payments::Attempt;
use super::{Caller, subject};
use crate::app::App;
use crate::audit::{self, AuditEvent};
use crate::db::queries::{self, DeviceRow, MoneyChange, Tx};
use crate::error::{Error, Result};
use crate::policy::{Money, MoneyRefusal};

/// `POST …/payments/{payment_id}/void`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    /// Why (a bounced transfer, a mistyped amount): 1–350 characters, kept in the audit
    /// log and on the payment.
    #[schema(min_length = 1, max_length = 350)]
    pub reason: String,
}

/// The voided payment and the device's account after the void.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = VoidedPayment)]
pub struct VoidAnswer {
    pub payment_id: String,
    pub device_id: String,
    pub amount_minor: u64,
    pub voided_at: i64,
    pub reason: String,
    /// The sum of the payments that are not voided.
    pub paid_minor: u64,
    /// Still paid in full: the new release date (a full window from the void); `null`
    /// when the device owes again (or was released at once: a window of 0).
    pub release_at: Option<i64>,
    /// Released for good by this void (still paid in full, the lender's window is 0).
    pub released: bool,
}

/// Voids `payment_id` of `device` (see the module docs); the answer, first or again.
pub async fn void(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    payment_id: &str,
    req: &VoidRequest,
) -> Result<String> {
    let reason = req.reason.trim();
    super::actions::check_reason(reason)?;
    let window = queries::completing_window(&app.db.read, &device.lender_id).await?;
    for _ in 0..3 {
        let mut tx = app.db.write.begin().await?;
        match void_in(&mut tx, app.now(), window, by, device, payment_id, reason).await? {
            Attempt::Done(recorded) => {
                tx.commit().await?;
                return Ok(recorded.body);
            }
            Attempt::KeyRace => tx.rollback().await?,
        }
    }
    Err(Error::conflict(
        "concurrent",
        "the device's payments changed meanwhile; retry",
    ))
}

/// One attempt inside `tx`: the payment marked voided, the device's money changed (a
/// compare-and-swap on what was read; `KeyRace` when another change landed), the entry.
async fn void_in(
    tx: &mut Tx,
    now: i64,
    window_s: i64,
    by: Caller<'_>,
    device: &DeviceRow,
    payment_id: &str,
    reason: &str,
) -> Result<Attempt> {
    let Some((amount, voided_at, first)) =
        queries::payment_for_void(tx, &device.device_id, payment_id).await?
    else {
        return Err(Error::NotFound);
    };
    if voided_at.is_some() {
        let body = first.ok_or_else(|| Error::Internal("a void without its answer".into()))?;
        return Ok(Attempt::Done(super::payments::Recorded {
            status: 200,
            body,
        }));
    }
    let (total_minor, paid_minor, release_at, released) =
        queries::money(tx, &device.device_id).await?;
    let before = Money {
        total_minor,
        paid_minor,
        release_at,
        released,
    };
    let after = match before.void(amount, now, window_s) {
        Ok(after) => after,
        Err(MoneyRefusal::Released) => {
            return Err(Error::conflict(
                "released",
                "this device is released for good; its payments can no longer be voided",
            ));
        }
        Err(_) => {
            return Err(Error::Internal(
                "stored payments do not add up to paid_minor".into(),
            ));
        }
    };
    let change = MoneyChange {
        paid_minor: (before.paid_minor, after.paid_minor),
        release_at: (before.release_at, after.release_at),
        released: (before.released, after.released),
        lift_lender_lock: false,
    };
    if !queries::store_money(tx, &device.device_id, &change).await? {
        return Ok(Attempt::KeyRace);
    }
    super::search::refresh_in(tx, &device.device_id).await?;
    let answer = VoidAnswer {
        payment_id: payment_id.to_string(),
        device_id: device.device_id.clone(),
        amount_minor: amount,
        voided_at: now,
        reason: reason.to_string(),
        paid_minor: after.paid_minor,
        release_at: after.completing(now),
        released: after.is_released(now),
    };
    let body = serde_json::to_string(&answer).map_err(|e| Error::Internal(format!("void: {e}")))?;
    if !queries::void_payment(tx, payment_id, now, reason, &body).await? {
        // Voided by a concurrent request between our read and now: its answer wins.
        return Ok(Attempt::KeyRace);
    }
    let event = AuditEvent::PaymentVoided {
        payment_id,
        amount_minor: amount,
        reason,
        paid_minor: after.paid_minor,
        release_at: answer.release_at,
    };
    audit::append(tx, subject(device), now, by.actor, &event).await?;
    crate::webhooks::record_audit(tx, device, now, &event).await?;
    // A window of 0 with the device still paid in full: released at once.
    super::completing::settle_in(tx, now, device).await?;
    Ok(Attempt::Done(super::payments::Recorded {
        status: 200,
        body,
    }))
}
