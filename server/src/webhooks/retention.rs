//! How long the outbox keeps what is finished: without it `webhook_events` and
//! `webhook_deliveries` grow by every lock, payment and silence of every device, for ever.
//!
//! - A **delivered** delivery is kept [`DELIVERED_KEEP_S`] (30 days: the lender's log
//!   answers "did our system get it?" for a month), counted from its last attempt.
//! - A **dead** one is kept [`DEAD_KEEP_S`] (90 days): it can still be redelivered from
//!   the log, and a receiver that was down for weeks needs that.
//! - A **pending** one is never removed.
//! - An event goes once it has no delivery left, was dispatched to the in-process hooks
//!   and is older than [`DELIVERED_KEEP_S`].
//!
//! Removing a finished delivery cannot reorder anything: the ordering rule
//! ([`super::claim`]) only looks for an earlier *pending* one, and a device's events keep
//! their numbers (`devices.webhook_seq` is never lowered). Silence and overdue reports are
//! remembered on the device row ([`super::scan`]), not by their events, so none is sent
//! twice. Deletes run in small batches so a large backlog never holds SQLite's one
//! writer for long; several nodes pruning at once delete each row once.

use crate::db::Db;
use crate::error::Result;

/// Seconds a delivered delivery (and an event with no delivery left) is kept.
pub const DELIVERED_KEEP_S: i64 = 30 * 86_400;

/// Seconds a dead delivery is kept (it can be redelivered until then).
pub const DEAD_KEEP_S: i64 = 90 * 86_400;

/// Rows deleted per statement, and statements per run (the rest waits for the next run).
const BATCH: i64 = 1_000;
const MAX_BATCHES: usize = 20;

/// What one run removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub deliveries: u64,
    pub events: u64,
}

/// Removes what is past its keeping at `now` (see the module docs).
pub async fn prune(db: &Db, now: i64) -> Result<Pruned> {
    prune_in_batches(db, now, BATCH, MAX_BATCHES).await
}

async fn prune_in_batches(db: &Db, now: i64, batch: i64, max_batches: usize) -> Result<Pruned> {
    let delivered_before = now.saturating_sub(DELIVERED_KEEP_S);
    let dead_before = now.saturating_sub(DEAD_KEEP_S);
    // Deliveries found by (status, created_at); one redelivered since (its last attempt
    // recent) is kept for its own period from then.
    let deliveries = |status: &str| {
        format!(
            "DELETE FROM webhook_deliveries WHERE delivery_id IN (\
             SELECT delivery_id FROM webhook_deliveries \
             WHERE status = '{status}' AND created_at <= $1 \
               AND COALESCE(last_attempt_at, created_at) <= $1 \
             LIMIT $2)"
        )
    };
    let events = "DELETE FROM webhook_events WHERE event_id IN (\
         SELECT ev.event_id FROM webhook_events ev \
         WHERE ev.created_at <= $1 AND ev.dispatched_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.event_id) \
         LIMIT $2)";
    let delivered = delete_in_batches(
        db,
        &deliveries("delivered"),
        delivered_before,
        batch,
        max_batches,
    )
    .await?;
    let dead = delete_in_batches(db, &deliveries("dead"), dead_before, batch, max_batches).await?;
    // After the deliveries, so an event whose last one just went goes in this run.
    let events = delete_in_batches(db, events, delivered_before, batch, max_batches).await?;
    Ok(Pruned {
        deliveries: delivered + dead,
        events,
    })
}

/// Runs `sql` (`$1` the cut-off, `$2` the batch) until it removes less than a full batch,
/// at most `max_batches` times; how many rows it removed.
async fn delete_in_batches(
    db: &Db,
    sql: &str,
    before: i64,
    batch: i64,
    max_batches: usize,
) -> Result<u64> {
    let mut total = 0;
    for _ in 0..max_batches {
        let n = sqlx::query(sql)
            .bind(before)
            .bind(batch)
            .execute(&db.write)
            .await?
            .rows_affected();
        total += n;
        if n < u64::try_from(batch).unwrap_or(u64::MAX) {
            break;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::webhooks::claim;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_000 * DAY;

    /// A lender `lnd-1` with one endpoint `whe-0` and no events yet.
    async fn db() -> Db {
        crate::webhooks::claim_tests::db_with(&[], 1).await
    }

    /// An event `id` of `device` numbered `order`, created `age_days` ago.
    async fn event(db: &Db, id: &str, device: &str, order: i64, age_days: i64, dispatched: bool) {
        sqlx::query(
            "INSERT INTO webhook_events (event_id, lender_id, device_id, device_order, kind, \
             payload, created_at, dispatched_at) VALUES ($1, 'lnd-1', $2, $3, 'payment.recorded', '{}', $4, $5)",
        )
        .bind(id)
        .bind(device)
        .bind(order)
        .bind(NOW - age_days * DAY)
        .bind(dispatched.then_some(NOW - age_days * DAY))
        .execute(&db.write)
        .await
        .unwrap();
    }

    /// The delivery of `event` (of `device`, `order`) with `status`, created `age_days` ago
    /// and last tried `tried_days` ago.
    async fn delivery(
        db: &Db,
        event: &str,
        device: &str,
        order: i64,
        status: &str,
        age_days: i64,
        tried_days: Option<i64>,
    ) {
        sqlx::query(
            "INSERT INTO webhook_deliveries (delivery_id, event_id, endpoint_id, lender_id, \
             device_id, device_order, status, next_attempt_at, created_at, last_attempt_at) \
             VALUES ($1, $2, 'whe-0', 'lnd-1', $3, $4, $5, 0, $6, $7)",
        )
        .bind(format!("dlv-{event}"))
        .bind(event)
        .bind(device)
        .bind(order)
        .bind(status)
        .bind(NOW - age_days * DAY)
        .bind(tried_days.map(|d| NOW - d * DAY))
        .execute(&db.write)
        .await
        .unwrap();
    }

    async fn ids(db: &Db, sql: &str) -> Vec<String> {
        sqlx::query(sql)
            .fetch_all(&db.read)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    }

    #[tokio::test]
    async fn finished_deliveries_go_after_their_keeping_and_pending_ones_never() {
        let db = db().await;
        // (event, status, created days ago, last attempt days ago)
        let rows: [(&str, &str, i64, Option<i64>); 8] = [
            ("delivered-old", "delivered", 31, Some(31)),
            ("delivered-recent", "delivered", 29, Some(29)),
            // Redelivered by the lender 2 days ago: kept from then.
            ("delivered-redelivered", "delivered", 200, Some(2)),
            ("dead-45", "dead", 45, Some(42)),
            ("dead-old", "dead", 95, Some(91)),
            ("pending-old", "pending", 400, Some(1)),
            ("pending-untried", "pending", 400, None),
            ("delivered-untried-old", "delivered", 31, None),
        ];
        for (order, (id, status, age, tried)) in (1..).zip(rows) {
            let device = format!("dev-{order}");
            event(&db, id, &device, 1, age, true).await;
            delivery(&db, id, &device, 1, status, age, tried).await;
        }
        let pruned = prune(&db, NOW).await.unwrap();
        let kept = [
            "dead-45",
            "delivered-recent",
            "delivered-redelivered",
            "pending-old",
            "pending-untried",
        ];
        assert_eq!(
            ids(
                &db,
                "SELECT event_id FROM webhook_deliveries ORDER BY event_id"
            )
            .await,
            kept
        );
        // Their events go with the last of their deliveries.
        assert_eq!(
            ids(&db, "SELECT event_id FROM webhook_events ORDER BY event_id").await,
            kept
        );
        assert_eq!(
            pruned,
            Pruned {
                deliveries: 3,
                events: 3
            }
        );
        // Again: nothing more to do.
        assert_eq!(prune(&db, NOW).await.unwrap(), Pruned::default());
    }

    #[tokio::test]
    async fn an_event_stays_while_any_delivery_or_its_dispatch_is_outstanding() {
        let db = db().await;
        // Old, dispatched, no delivery (no endpoint wanted it): goes.
        event(&db, "nobody-wanted", "dev-1", 1, 40, true).await;
        // Old but never handed to the in-process hooks: stays.
        event(&db, "undispatched", "dev-2", 1, 40, false).await;
        // Recent, no delivery: stays until its 30 days.
        event(&db, "recent", "dev-3", 1, 10, true).await;
        // Old with a delivery still kept (dead, 40 days): stays.
        event(&db, "with-dead", "dev-4", 1, 40, true).await;
        delivery(&db, "with-dead", "dev-4", 1, "dead", 40, Some(37)).await;
        let pruned = prune(&db, NOW).await.unwrap();
        assert_eq!(
            ids(&db, "SELECT event_id FROM webhook_events ORDER BY event_id").await,
            ["recent", "undispatched", "with-dead"]
        );
        assert_eq!(
            pruned,
            Pruned {
                deliveries: 0,
                events: 1
            }
        );
    }

    #[tokio::test]
    async fn a_backlog_goes_in_batches_and_a_run_stops_at_its_limit() {
        let db = db().await;
        for n in 1..=7 {
            let id = format!("e{n}");
            event(&db, &id, "dev-1", n, 60, true).await;
            delivery(&db, &id, "dev-1", n, "delivered", 60, Some(60)).await;
        }
        // Batches of 2, at most 2 per run: 4 deliveries; the events wait for theirs.
        let first = prune_in_batches(&db, NOW, 2, 2).await.unwrap();
        assert_eq!(
            first,
            Pruned {
                deliveries: 4,
                events: 4
            }
        );
        let second = prune_in_batches(&db, NOW, 2, 2).await.unwrap();
        assert_eq!(
            second,
            Pruned {
                deliveries: 3,
                events: 3
            }
        );
        assert!(
            ids(&db, "SELECT event_id FROM webhook_events")
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn pruning_an_earlier_delivered_event_does_not_hold_back_or_release_the_next() {
        let db = db().await;
        // The device's event 1 was delivered long ago; 2 is dead (kept); 3 is pending.
        event(&db, "e1", "dev-1", 1, 60, true).await;
        delivery(&db, "e1", "dev-1", 1, "delivered", 60, Some(60)).await;
        event(&db, "e2", "dev-1", 2, 50, true).await;
        delivery(&db, "e2", "dev-1", 2, "dead", 50, Some(47)).await;
        event(&db, "e3", "dev-1", 3, 1, true).await;
        delivery(&db, "e3", "dev-1", 3, "pending", 1, None).await;
        // Event 4 waits behind 3.
        event(&db, "e4", "dev-1", 4, 1, true).await;
        delivery(&db, "e4", "dev-1", 4, "pending", 1, None).await;
        let due_before = claim::due(&db, NOW, 10).await.unwrap();
        prune(&db, NOW).await.unwrap();
        assert_eq!(
            ids(
                &db,
                "SELECT event_id FROM webhook_deliveries ORDER BY event_id"
            )
            .await,
            ["e2", "e3", "e4"]
        );
        assert_eq!(claim::due(&db, NOW, 10).await.unwrap(), due_before);
        assert_eq!(due_before, ["dlv-e3"]);
    }
}
