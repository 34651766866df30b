//! The outbox: an event is written in the transaction of the change it reports, with
//! one pending delivery per endpoint of the lender that wants its kind. Committed
//! together or not at all, so a refused or rolled-back change sends nothing, and a
//! committed one is delivered even if the process dies right after the commit.
//!
//! The device's events are numbered by `devices.webhook_seq`, incremented in the same
//! transaction: the row is write-locked until the commit (PostgreSQL) or the database
//! has one writer (SQLite), so the numbers follow the commit order on every node.

use sqlx::Row;

use super::events::{Event, Source, payload};
use super::{endpoints, wake};
use crate::db::queries::{DeviceRow, Tx};
use crate::error::{Error, Result};
use crate::ids;

/// Appends `event` of `device` inside `tx` (see the module docs).
pub async fn record(tx: &mut Tx, device: &DeviceRow, now: i64, event: Event<'_>) -> Result<()> {
    append(tx, &device.lender_id, &device.device_id, now, &event).await
}

/// Appends the event `entry` reports, if any ([`Event::from_audit`]): the one line each
/// domain operation adds after its audit entry.
pub async fn record_audit(
    tx: &mut Tx,
    device: &DeviceRow,
    now: i64,
    entry: &crate::audit::AuditEvent<'_>,
) -> Result<()> {
    match Event::from_audit(entry) {
        Some(event) => record(tx, device, now, event).await,
        None => Ok(()),
    }
}

/// [`record`] by ids.
pub async fn append(
    tx: &mut Tx,
    lender_id: &str,
    device_id: &str,
    now: i64,
    event: &Event<'_>,
) -> Result<()> {
    let order: i64 = sqlx::query(
        "UPDATE devices SET webhook_seq = webhook_seq + 1 WHERE device_id = $1 \
         RETURNING webhook_seq",
    )
    .bind(device_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| Error::Internal("an event for a device that does not exist".into()))?
    .try_get("webhook_seq")?;
    let event_id = ids::row_id("evt")?;
    let kind = event.kind();
    let body = payload(
        Source {
            event_id: &event_id,
            lender_id,
            device_id,
            order,
            at: now,
        },
        event,
    );
    sqlx::query(
        "INSERT INTO webhook_events \
         (event_id, lender_id, device_id, device_order, kind, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&event_id)
    .bind(lender_id)
    .bind(device_id)
    .bind(order)
    .bind(kind.as_str())
    .bind(&body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for endpoint_id in endpoints::subscribed(tx, lender_id, kind).await? {
        sqlx::query(
            "INSERT INTO webhook_deliveries \
             (delivery_id, event_id, endpoint_id, lender_id, device_id, device_order, \
              next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(ids::row_id("dlv")?)
        .bind(&event_id)
        .bind(&endpoint_id)
        .bind(lender_id)
        .bind(device_id)
        .bind(order)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    // The worker looks as soon as this commits (see `super::Waker`).
    wake();
    Ok(())
}

/// `device.enrolled` for a key bound (not for the same key answered again: nothing
/// changed).
pub async fn enrolled(
    tx: &mut Tx,
    device: &DeviceRow,
    now: i64,
    kind: crate::audit::EnrollKind,
) -> Result<()> {
    if kind == crate::audit::EnrollKind::AnsweredAgain {
        return Ok(());
    }
    record(tx, device, now, Event::Enrolled { kind }).await
}
