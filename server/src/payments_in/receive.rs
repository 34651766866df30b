//! A provider's notification, authenticated and read, becomes a payment or a held
//! notification — never nothing.
//!
//! The payment is made by the API's own operation ([`payments::validate`] and
//! [`payments::record_in`]: the same currency and overpayment rules, the same audit
//! entry), with the `Idempotency-Key` `notify:<id>` or `mpesa:<id>` and the provider's
//! transaction id as its reference. Whatever those rules refuse, and an account reference
//! that names no device (or several), is stored as *held* with its reason, for the lender
//! to assign ([`super::held`]). The notification row and the payment are written in one
//! transaction, and a notification is stored once per lender, source and transaction id
//! (a unique key), so a replay — sequential or concurrent, on any node — records nothing
//! new and answers what was stored.
//!
//! The payment's audit entry names the actor `system` (the server acting on the
//! provider's message); the reference names the provider's transaction.

use serde::Serialize;
use utoipa::ToSchema;

use super::matching::{self, Match};
use super::notice::Notice;
use super::store::{self, Outcome, PaymentNotification, Status};
use crate::app::App;
use crate::audit::Actor;
use crate::db::is_unique_violation;
use crate::db::queries::{self, DeviceRow, LenderRow, Tx};
use crate::devices::Caller;
use crate::devices::payments::{self, Attempt, NewPayment, PaymentRequest};
use crate::error::{Error, Result};
use crate::ids;
use crate::policy::{Money, MoneyRefusal};

/// The answer to a provider: what is stored for its notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationReceived {
    /// `true` when this transaction was already stored: nothing new was recorded.
    pub replayed: bool,
    pub notification: PaymentNotification,
}

/// Why a notification is held (slug, plain words), or what it became.
enum Decision {
    Recorded {
        payment_id: String,
    },
    AlreadyRecorded,
    Held {
        reason: &'static str,
        detail: String,
    },
    /// A concurrent change to the device: roll back and try again.
    Race,
}

/// Stores `notice` for `lender` (see the module docs).
pub async fn receive(
    app: &App,
    lender: &LenderRow,
    notice: &Notice,
) -> Result<NotificationReceived> {
    let lender_id = &lender.lender_id;
    let found = matching::find(app, lender_id, &notice.account_ref).await?;
    let window = queries::completing_window(&app.db.read, lender_id).await?;
    let facts = notice.facts_sha256();
    for _ in 0..3 {
        let now = app.now();
        let mut tx = app.db.write.begin().await?;
        if let Some(first) = stored(&mut tx, lender_id, notice, &facts).await? {
            tx.rollback().await?;
            return Ok(first);
        }
        let (decision, device) = match &found {
            Match::Device(device) => (
                decide(&mut tx, now, window, lender, device, notice).await?,
                Some(device.device_id.as_str()),
            ),
            Match::Unknown => (
                Decision::Held {
                    reason: "unknown-reference",
                    detail: if notice.account_ref.is_empty() {
                        "the payer gave no account reference".into()
                    } else {
                        "no device of this lender has this id or customer reference".into()
                    },
                },
                None,
            ),
            Match::Ambiguous => (
                Decision::Held {
                    reason: "ambiguous-reference",
                    detail: "several devices of this lender have this customer reference".into(),
                },
                None,
            ),
        };
        let (status, reason, payment_id) = match &decision {
            Decision::Race => {
                tx.rollback().await?;
                continue;
            }
            Decision::Recorded { payment_id } => {
                (Status::Recorded, None, Some(payment_id.as_str()))
            }
            Decision::AlreadyRecorded => (Status::AlreadyRecorded, None, None),
            Decision::Held { reason, detail } => {
                (Status::Held, Some((*reason, detail.as_str())), None)
            }
        };
        let notification_id = ids::row_id("pnt")?;
        let outcome = Outcome {
            status,
            reason,
            device_id: device,
            payment_id,
        };
        match store::insert(&mut tx, &notification_id, lender_id, notice, now, &outcome).await {
            Ok(()) => {}
            // The same transaction stored by a concurrent request: read its answer.
            Err(Error::Db(e)) if is_unique_violation(&e) => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        // Ids and the outcome only: no reference, amount holder or payer detail.
        tracing::info!(lender_id = %lender_id, source = notice.source.as_str(),
            %notification_id, status = status.as_str(), reason = reason.map(|r| r.0),
            "payment notification stored");
        let notification = PaymentNotification {
            notification_id,
            source: notice.source,
            transaction_id: notice.transaction_id.clone(),
            account_reference: notice.account_ref.clone(),
            amount_minor: notice.amount_minor,
            currency: notice.currency.clone(),
            paid_at: notice.paid_at,
            received_at: now,
            status,
            reason: reason.map(|r| r.0.to_string()),
            reason_detail: reason.map(|r| r.1.to_string()),
            device_id: device.map(str::to_string),
            payment_id: payment_id.map(str::to_string),
            assigned_at: None,
            assigned_by: None,
        };
        return Ok(NotificationReceived {
            replayed: false,
            notification,
        });
    }
    Err(Error::conflict(
        "concurrent",
        "concurrent notifications for this transaction or device; retry",
    ))
}

/// What is stored for this transaction already: a retry (`replayed`), or another
/// notification with the same id and other facts (refused).
async fn stored(
    tx: &mut Tx,
    lender_id: &str,
    notice: &Notice,
    facts: &str,
) -> Result<Option<NotificationReceived>> {
    let Some((notification, stored_facts)) =
        store::by_transaction(tx, lender_id, notice.source, &notice.transaction_id).await?
    else {
        return Ok(None);
    };
    if stored_facts != facts {
        return Err(Error::conflict(
            "notification-conflict",
            "a notification with this transaction id and other facts (amount, currency, \
             account reference or time) is already stored; nothing changed",
        ));
    }
    Ok(Some(NotificationReceived {
        replayed: true,
        notification,
    }))
}

/// The payment for `device`, by the API's rules, or why it is held.
async fn decide(
    tx: &mut Tx,
    now: i64,
    window: i64,
    lender: &LenderRow,
    device: &DeviceRow,
    notice: &Notice,
) -> Result<Decision> {
    if notice.currency != device.currency {
        return Ok(Decision::Held {
            reason: "currency",
            detail: format!(
                "the payment is in {} and the device's plan in {}",
                notice.currency, device.currency
            ),
        });
    }
    // The money rule, asked first so the reason is named exactly; record_in asks again
    // inside the same transaction.
    let (total_minor, paid_minor, release_at, released) =
        queries::money(tx, &device.device_id).await?;
    let before = Money {
        total_minor,
        paid_minor,
        release_at,
        released,
    };
    match before.pay(notice.amount_minor, false, now, window) {
        Ok(_) => {}
        Err(MoneyRefusal::Released) => {
            return Ok(Decision::Held {
                reason: "released",
                detail: "the device is released; nothing is owed".into(),
            });
        }
        Err(MoneyRefusal::Overpayment { owed }) => {
            return Ok(Decision::Held {
                reason: "overpayment",
                detail: format!(
                    "{} is more than the {owed} still owed; assign it with allow_overpayment \
                     to record it anyway",
                    notice.amount_minor
                ),
            });
        }
        Err(MoneyRefusal::OutOfRange) => {
            return Ok(Decision::Held {
                reason: "out-of-range",
                detail: "the payments would add up to 2^53 or more".into(),
            });
        }
    }
    let request = request(notice, false);
    let reference = match payments::validate(&request, device) {
        Ok(r) => r.to_string(),
        Err(e) => {
            return Ok(Decision::Held {
                reason: "refused",
                detail: e.to_string(),
            });
        }
    };
    let key = notice.idempotency_key();
    let fingerprint = fingerprint(&request)?;
    let payment = NewPayment {
        key: &key,
        fingerprint: &fingerprint,
        request: &request,
        reference: &reference,
    };
    let by = Caller {
        lender,
        actor: Actor::Provider {
            kind: notice.source.as_str(),
        },
    };
    match payments::record_in(tx, now, window, by, device, payment).await {
        Ok(Attempt::Done(recorded)) => Ok(Decision::Recorded {
            payment_id: payment_id(&recorded.body)?,
        }),
        Ok(Attempt::KeyRace) => Ok(Decision::Race),
        Err(Error::Conflict {
            slug: "duplicate-reference",
            ..
        }) => Ok(Decision::AlreadyRecorded),
        Err(e @ (Error::Db(_) | Error::Internal(_))) => Err(e),
        Err(e) => Ok(Decision::Held {
            reason: "refused",
            detail: e.to_string(),
        }),
    }
}

/// The payment request a notification stands for.
pub fn request(notice_or_row: &impl AsPayment, allow_overpayment: bool) -> PaymentRequest {
    let (amount_minor, currency, reference) = notice_or_row.payment();
    PaymentRequest {
        amount_minor,
        currency: currency.to_string(),
        reference: reference.to_string(),
        allow_overpayment,
    }
}

/// What a payment is made of: a notice, or a stored notification.
pub trait AsPayment {
    /// (amount_minor, currency, reference)
    fn payment(&self) -> (u64, &str, &str);
}

impl AsPayment for Notice {
    fn payment(&self) -> (u64, &str, &str) {
        (self.amount_minor, &self.currency, &self.transaction_id)
    }
}

impl AsPayment for PaymentNotification {
    fn payment(&self) -> (u64, &str, &str) {
        (self.amount_minor, &self.currency, &self.transaction_id)
    }
}

/// The request's fingerprint, as [`payments::record`] makes it.
pub fn fingerprint(request: &PaymentRequest) -> Result<String> {
    Ok(ids::sha256_hex(
        serde_json::to_string(request)
            .map_err(|e| Error::Internal(format!("payment: {e}")))?
            .as_bytes(),
    ))
}

/// The `payment_id` of a recorded payment's answer.
pub fn payment_id(body: &str) -> Result<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["payment_id"].as_str().map(str::to_string))
        .ok_or_else(|| Error::Internal("a recorded payment without its id".into()))
}
