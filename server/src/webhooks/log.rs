//! The lender's delivery log: every delivery of its events, newest first, filtered by
//! status, endpoint or device; a dead one can be sent again.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::{IntoParams, ToSchema};

use super::changes::{self, EndpointEvent};
use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::{Error, Result};

/// `GET /v1/lender/webhooks/deliveries`
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// `pending`, `delivered` or `dead`.
    pub status: Option<String>,
    pub endpoint_id: Option<String>,
    pub device_id: Option<String>,
    /// 1 to 500; 100 unless set.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct Delivery {
    pub delivery_id: String,
    /// The `webhook-id` the receiver sees (the same on every attempt).
    pub event_id: String,
    pub endpoint_id: String,
    pub device_id: String,
    /// The device's event number: the order events of a device are delivered in.
    pub device_order: i64,
    #[schema(example = "payment.recorded")]
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i64,
    /// When the next attempt is due (pending).
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, in plain words.
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

/// A page of the log.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookDeliveryPage)]
pub struct Page {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

const STATUSES: [&str; 3] = ["pending", "delivered", "dead"];

fn delivery(r: &AnyRow) -> Result<Delivery> {
    let status: String = r.try_get("status")?;
    let next: i64 = r.try_get("next_attempt_at")?;
    Ok(Delivery {
        next_attempt_at: (status == "pending").then_some(next),
        delivery_id: r.try_get("delivery_id")?,
        event_id: r.try_get("event_id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        device_id: r.try_get("device_id")?,
        device_order: r.try_get("device_order")?,
        kind: r.try_get("kind")?,
        status,
        attempts: r.try_get("attempts")?,
        last_attempt_at: r.try_get("last_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get("delivered_at")?,
        created_at: r.try_get("created_at")?,
    })
}

const SELECT: &str = "SELECT d.delivery_id, d.event_id, d.endpoint_id, d.device_id, \
     d.device_order, ev.kind, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, \
     d.last_status, d.last_error, d.delivered_at, d.created_at \
     FROM webhook_deliveries d JOIN webhook_events ev ON ev.event_id = d.event_id";

/// A page of `lender_id`'s deliveries (see [`LogQuery`]).
pub async fn list(db: &Db, lender_id: &str, q: &LogQuery) -> Result<Page> {
    if let Some(status) = &q.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(Error::invalid("status", "pending, delivered or dead"));
    }
    let limit = i64::from(crate::devices::page_size(q.limit, 100)?);
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| Error::invalid("cursor", "a next_cursor from an earlier page"))
        })
        .transpose()?;
    // Optional filters as "($n IS NULL OR column = $n)": one statement for every mix.
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE d.lender_id = $1 \
           AND ($2 IS NULL OR d.status = $2) \
           AND ($3 IS NULL OR d.endpoint_id = $3) \
           AND ($4 IS NULL OR d.device_id = $4) \
           AND ($5 IS NULL OR d.created_at < $5 OR (d.created_at = $5 AND d.delivery_id < $6)) \
         ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT $7"
    ))
    .bind(lender_id)
    .bind(q.status.as_deref())
    .bind(q.endpoint_id.as_deref())
    .bind(q.device_id.as_deref())
    .bind(after.as_ref().map(|a| a.0))
    .bind(after.as_ref().map(|a| a.1.as_str()).unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.read)
    .await?;
    let deliveries = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
    let next_cursor = (deliveries.len() as i64 == limit)
        .then(|| {
            deliveries
                .last()
                .map(|d| format!("{}.{}", d.created_at, d.delivery_id))
        })
        .flatten();
    Ok(Page {
        deliveries,
        next_cursor,
    })
}

/// One delivery of this lender; another lender's is `NotFound`.
pub async fn one(db: &Db, lender_id: &str, delivery_id: &str) -> Result<Delivery> {
    let row = sqlx::query(&format!(
        "{SELECT} WHERE d.lender_id = $1 AND d.delivery_id = $2"
    ))
    .bind(lender_id)
    .bind(delivery_id)
    .fetch_optional(&db.write)
    .await?
    .ok_or(Error::NotFound)?;
    delivery(&row)
}

/// Sends a dead delivery again from its first attempt (the schedule starts over). Only a
/// dead one, and only while its endpoint exists.
pub async fn redeliver(
    db: &Db,
    lender_id: &str,
    delivery_id: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<Delivery> {
    let mut tx = audit::begin_lender(db, lender_id).await?;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, \
             leased_until = 0, lease_owner = NULL \
         WHERE lender_id = $1 AND delivery_id = $2 AND status = 'dead' \
           AND endpoint_id IN (SELECT endpoint_id FROM webhook_endpoints \
                               WHERE lender_id = $1 AND deleted_at IS NULL)",
    )
    .bind(lender_id)
    .bind(delivery_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let event = EndpointEvent::Redelivered { delivery_id };
        changes::append(&mut tx, lender_id, now, actor, &event).await?;
    }
    tx.commit().await?;
    let found = one(db, lender_id, delivery_id).await?;
    if done.rows_affected() != 1 {
        return Err(Error::conflict(
            "not-dead",
            "only a dead delivery to an endpoint that still exists can be sent again",
        ));
    }
    super::wake();
    Ok(found)
}
