//! Events found by time rather than by a change: a phone that has not checked in for the
//! lender's `silent_after_days` (`device.silent`, once per silence: a check-in starts a
//! new one), and a phone whose installment is overdue past its grace days
//! (`device.locked` with cause `overdue`, once per lock date).
//!
//! Each is claimed with a guarded UPDATE of the device row in the event's transaction,
//! so several nodes scanning at once report it once.

use sqlx::Row;

use super::events::{Event, LockCause};
use super::outbox;
use crate::app::App;
use crate::error::Result;

/// Devices looked at per kind and scan.
const BATCH: i64 = 500;

/// One scan at the server's time.
pub async fn run(app: &App) -> Result<()> {
    let now = app.now();
    let silent = sqlx::query(
        "SELECT d.device_id, d.lender_id, COALESCE(d.last_checkin_at, d.enrolled_at) AS seen, \
                l.webhook_silent_after_days AS days \
         FROM devices d JOIN lenders l ON l.lender_id = d.lender_id \
         WHERE d.enrolled_at IS NOT NULL AND d.released = 0 \
           AND COALESCE(d.last_checkin_at, d.enrolled_at) <= $1 - l.webhook_silent_after_days * 86400 \
           AND (d.silent_reported_for IS NULL \
                OR d.silent_reported_for <> COALESCE(d.last_checkin_at, d.enrolled_at)) \
         LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&app.db.read)
    .await?;
    for r in &silent {
        let device_id: String = r.try_get("device_id")?;
        let lender_id: String = r.try_get("lender_id")?;
        let seen: i64 = r.try_get("seen")?;
        let days: i64 = r.try_get("days")?;
        let mut tx = app.db.write.begin().await?;
        let claimed = sqlx::query(
            "UPDATE devices SET silent_reported_for = $2 WHERE device_id = $1 \
             AND COALESCE(last_checkin_at, enrolled_at) = $2 \
             AND (silent_reported_for IS NULL OR silent_reported_for <> $2)",
        )
        .bind(&device_id)
        .bind(seen)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 1 {
            let event = Event::Silent {
                last_seen_at: seen,
                days,
            };
            outbox::append(&mut tx, &lender_id, &device_id, now, &event).await?;
        }
        tx.commit().await?;
    }
    let overdue = sqlx::query(
        "SELECT device_id, lender_id, lock_at FROM devices \
         WHERE enrolled_at IS NOT NULL AND released = 0 AND lender_locked = 0 \
           AND lock_at IS NOT NULL AND lock_at <= $1 \
           AND (overdue_reported_for IS NULL OR overdue_reported_for <> lock_at) \
         LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&app.db.read)
    .await?;
    for r in &overdue {
        let device_id: String = r.try_get("device_id")?;
        let lender_id: String = r.try_get("lender_id")?;
        let lock_at: i64 = r.try_get("lock_at")?;
        let mut tx = app.db.write.begin().await?;
        let claimed = sqlx::query(
            "UPDATE devices SET overdue_reported_for = $2 WHERE device_id = $1 \
             AND lock_at = $2 AND released = 0 AND lender_locked = 0 \
             AND (overdue_reported_for IS NULL OR overdue_reported_for <> $2)",
        )
        .bind(&device_id)
        .bind(lock_at)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 1 {
            let event = Event::Locked {
                cause: LockCause::Overdue { lock_at },
            };
            outbox::append(&mut tx, &lender_id, &device_id, now, &event).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
