//! The `device_push` table (migration 0017): a device's push endpoint, while it has one.

use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// Remembers `endpoint` for the device (replacing any other). Unchanged rows are not
/// written again: a phone that repeats its endpoint on every check-in costs a no-op.
pub async fn set(db: &Db, device_id: &str, endpoint: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO device_push (device_id, endpoint, set_at) VALUES ($1, $2, $3) \
         ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, \
         set_at = excluded.set_at WHERE device_push.endpoint <> excluded.endpoint",
    )
    .bind(device_id)
    .bind(endpoint)
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Forgets the device's endpoint, whatever it was (the phone sent `""`, re-enrolled
/// with a new key without one, or named one the server will not use).
pub async fn clear(db: &Db, device_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM device_push WHERE device_id = $1")
        .bind(device_id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// Forgets `endpoint` only if it is still the device's (a push service said it is gone;
/// the phone may have registered a new one meanwhile). Whether a row was deleted.
pub async fn forget_gone(db: &Db, device_id: &str, endpoint: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM device_push WHERE device_id = $1 AND endpoint = $2")
        .bind(device_id)
        .bind(endpoint)
        .execute(&db.write)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The device's endpoint, if it has one.
pub async fn endpoint(db: &Db, device_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT endpoint FROM device_push WHERE device_id = $1")
        .bind(device_id)
        .fetch_optional(&db.read)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("endpoint")?),
        None => None,
    })
}
