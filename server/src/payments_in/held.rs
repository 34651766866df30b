//! The lender's side of payments in: its notifications, a page at a time, and assigning
//! a held one to a device — which records the payment by the API's own operation
//! ([`payments::record_in`], audited on the device with who assigned it) and writes the
//! assignment to the lender's log, in one transaction. An assignment the payment rules
//! refuse (another currency, more than is owed without `allow_overpayment`, a released
//! device) changes nothing: the notification stays held.

use serde::Deserialize;
use utoipa::ToSchema;

use super::events::{self, NotificationEvent};
use super::receive::{fingerprint, payment_id, request};
use super::store::{self, PaymentNotification, Status};
use crate::app::App;
use crate::db::queries;
use crate::devices::payments::{self, Attempt, NewPayment};
use crate::devices::{self, Caller};
use crate::error::{Error, Result};

/// Notifications per page unless asked otherwise.
pub const DEFAULT_PAGE: u32 = 100;

/// A page of the lender's notifications (of one status, or all), oldest first, and the
/// cursor of the next page when there may be one.
pub async fn list(
    app: &App,
    lender_id: &str,
    status: Option<Status>,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<(Vec<PaymentNotification>, Option<String>)> {
    let limit = i64::from(devices::page_size(limit, DEFAULT_PAGE)?);
    let after = cursor
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| Error::invalid("cursor", "a next_cursor from an earlier page"))
        })
        .transpose()?;
    let page = store::list(&app.db.read, lender_id, status, after, limit).await?;
    let next = (page.len() as i64 == limit)
        .then(|| {
            page.last()
                .map(|n| format!("{}.{}", n.received_at, n.notification_id))
        })
        .flatten();
    Ok((page, next))
}

/// `POST /v1/lender/payment-notifications/{id}/assign`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The lender's device the payment belongs to.
    #[schema(min_length = 1, max_length = 128)]
    pub device_id: String,
    /// Record an amount above what is still owed (as for a payment through the API).
    #[serde(default)]
    pub allow_overpayment: bool,
}

/// Assigns the held notification `id` to a device (see the module docs). Assigning it
/// again to the same device answers the same; to another device, or a notification that
/// is not held, is a conflict.
pub async fn assign(
    app: &App,
    by: Caller<'_>,
    id: &str,
    req: &Assignment,
) -> Result<PaymentNotification> {
    let lender_id = &by.lender.lender_id;
    let device = match devices::owned(app, lender_id, req.device_id.trim()).await {
        Err(Error::NotFound) => {
            return Err(Error::invalid(
                "device_id",
                "no device of yours has this id",
            ));
        }
        other => other?,
    };
    let window = queries::completing_window(&app.db.read, lender_id).await?;
    for _ in 0..3 {
        let now = app.now();
        let mut tx = events::begin(&app.db, lender_id).await?;
        let n = store::one(&mut tx, lender_id, id)
            .await?
            .ok_or(Error::NotFound)?;
        match n.status {
            Status::Held => {}
            Status::Assigned if n.device_id.as_deref() == Some(device.device_id.as_str()) => {
                tx.rollback().await?;
                return Ok(n);
            }
            other => {
                return Err(Error::conflict(
                    "not-held",
                    format!(
                        "this notification is {}, not held; nothing to assign",
                        other.as_str()
                    ),
                ));
            }
        }
        let request = request(&n, req.allow_overpayment);
        let reference = payments::validate(&request, &device)?.to_string();
        let key = match n.source {
            super::notice::Source::Standard => format!("notify:{}", n.transaction_id),
            super::notice::Source::Mpesa => format!("mpesa:{}", n.transaction_id),
        };
        let fingerprint = fingerprint(&request)?;
        let payment = NewPayment {
            key: &key,
            fingerprint: &fingerprint,
            request: &request,
            reference: &reference,
        };
        let recorded = match payments::record_in(&mut tx, now, window, by, &device, payment).await?
        {
            Attempt::Done(recorded) => recorded,
            Attempt::KeyRace => {
                tx.rollback().await?;
                continue;
            }
        };
        let payment_id = payment_id(&recorded.body)?;
        let label = by.actor.label();
        if !store::mark_assigned(
            &mut tx,
            lender_id,
            id,
            &device.device_id,
            &payment_id,
            now,
            &label,
        )
        .await?
        {
            tx.rollback().await?;
            continue;
        }
        let event = NotificationEvent::Assigned {
            notification_id: id,
            device_id: &device.device_id,
            payment_id: &payment_id,
        };
        events::append(&mut tx, lender_id, now, by.actor, &event).await?;
        let assigned = store::one(&mut tx, lender_id, id)
            .await?
            .ok_or_else(|| Error::Internal("assigned notification not found".into()))?;
        tx.commit().await?;
        tracing::info!(lender_id = %lender_id, notification_id = %id,
            device_id = %device.device_id, %payment_id, "payment notification assigned");
        return Ok(assigned);
    }
    Err(Error::conflict(
        "concurrent",
        "the device or the notification changed meanwhile; retry",
    ))
}
