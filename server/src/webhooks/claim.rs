//! Which deliveries are due, and taking one (the SQL of the worker).
//!
//! **Order per device.** A delivery is due only when no earlier event of the same
//! device is still pending for the same endpoint: event n+1 waits while n is retried,
//! and goes once n is delivered or dead. Different devices and endpoints never wait for
//! each other.
//!
//! **One sender at a time.** A worker takes a due delivery by moving its lease past now
//! in one guarded UPDATE (a compare-and-swap on `leased_until`), so two nodes never send
//! the same delivery at the same moment; the attempt's outcome is written only by the
//! holder of the lease, and gives the lease back. A node killed mid-attempt leaves a
//! lease that runs out after [`super::Settings::lease_s`]; the delivery is then sent again
//! (at least once).

use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// The ids of up to `limit` deliveries due at `now` (see the module docs).
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT d.delivery_id FROM webhook_deliveries d \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.leased_until <= $1 \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
               WHERE e.endpoint_id = d.endpoint_id AND e.device_id = d.device_id \
                 AND e.status = 'pending' AND e.device_order < d.device_order) \
         ORDER BY d.next_attempt_at, d.device_order, d.delivery_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&db.write)
    .await?;
    rows.iter()
        .map(|r| r.try_get("delivery_id").map_err(Into::into))
        .collect()
}

/// A claimed delivery: what to send, where, with which secret.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: String,
    pub event_id: String,
    pub kind: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub endpoint_deleted: bool,
    pub attempts: i64,
    /// The lease this worker holds (its outcome is written only under it).
    pub lease: Lease,
}

#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub until: i64,
}

/// Takes `delivery_id` for `owner` until `now + lease_s`; `None` when another worker
/// took it first or it is no longer due.
pub async fn take(
    db: &Db,
    delivery_id: &str,
    owner: &str,
    now: i64,
    lease_s: i64,
) -> Result<Option<Claimed>> {
    let until = now.saturating_add(lease_s);
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET leased_until = $2, lease_owner = $3 \
         WHERE delivery_id = $1 AND status = 'pending' AND leased_until <= $4",
    )
    .bind(delivery_id)
    .bind(until)
    .bind(owner)
    .bind(now)
    .execute(&db.write)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    let r = sqlx::query(
        "SELECT d.delivery_id, d.event_id, d.attempts, ev.kind, ev.payload, \
                en.url, en.secret, en.deleted_at \
         FROM webhook_deliveries d \
         JOIN webhook_events ev ON ev.event_id = d.event_id \
         JOIN webhook_endpoints en ON en.endpoint_id = d.endpoint_id \
         WHERE d.delivery_id = $1",
    )
    .bind(delivery_id)
    .fetch_one(&db.write)
    .await?;
    Ok(Some(Claimed {
        delivery_id: r.try_get("delivery_id")?,
        event_id: r.try_get("event_id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        url: r.try_get("url")?,
        secret: r.try_get("secret")?,
        endpoint_deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        attempts: r.try_get("attempts")?,
        lease: Lease {
            owner: owner.to_string(),
            until,
        },
    }))
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        status: u16,
    },
    /// Try again at `next_at`.
    Retry {
        status: Option<u16>,
        error: String,
        next_at: i64,
    },
    /// The schedule is spent, or the endpoint is gone.
    Dead {
        status: Option<u16>,
        error: String,
    },
}

/// Writes the outcome under the lease; `false` when the lease was lost meanwhile (the
/// other worker's outcome stands).
pub async fn finish(db: &Db, claimed: &Claimed, now: i64, outcome: &Outcome) -> Result<bool> {
    let (status, code, error, next_at, delivered_at) = match outcome {
        Outcome::Delivered { status } => ("delivered", Some(*status), None, None, Some(now)),
        Outcome::Retry {
            status,
            error,
            next_at,
        } => (
            "pending",
            *status,
            Some(error.as_str()),
            Some(*next_at),
            None,
        ),
        Outcome::Dead { status, error } => ("dead", *status, Some(error.as_str()), None, None),
    };
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, \
             last_status = $5, last_error = $6, last_attempt_at = $7, \
             next_attempt_at = COALESCE($8, next_attempt_at), delivered_at = $9, \
             leased_until = 0, lease_owner = NULL \
         WHERE delivery_id = $1 AND lease_owner = $2 AND leased_until = $3 \
           AND status = 'pending'",
    )
    .bind(&claimed.delivery_id)
    .bind(&claimed.lease.owner)
    .bind(claimed.lease.until)
    .bind(status)
    .bind(code.map(i64::from))
    .bind(error)
    .bind(now)
    .bind(next_at)
    .bind(delivered_at)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Events not yet handed to the in-process hooks, oldest first, each taken once by a
/// guarded UPDATE: (event id, lender, device, kind).
pub async fn undispatched(db: &Db, now: i64) -> Result<Vec<(String, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT event_id, lender_id, device_id, kind FROM webhook_events \
         WHERE dispatched_at IS NULL ORDER BY created_at, device_order LIMIT 100",
    )
    .fetch_all(&db.write)
    .await?;
    let mut taken = Vec::new();
    for r in &rows {
        let event_id: String = r.try_get("event_id")?;
        let done = sqlx::query(
            "UPDATE webhook_events SET dispatched_at = $2 \
             WHERE event_id = $1 AND dispatched_at IS NULL",
        )
        .bind(&event_id)
        .bind(now)
        .execute(&db.write)
        .await?;
        if done.rows_affected() == 1 {
            taken.push((
                event_id,
                r.try_get("lender_id")?,
                r.try_get("device_id")?,
                r.try_get("kind")?,
            ));
        }
    }
    Ok(taken)
}
