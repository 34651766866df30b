//! Rate limits that hold across nodes: fixed-window counters in the database, so two
//! `finlock serve` nodes sharing one PostgreSQL count the same attempts.
//!
//! A counter is named by its [`Limit`] and a key that is hashed before it is stored (a
//! client address or an IMEI hash never appears in the table). One `INSERT … ON
//! CONFLICT … RETURNING` per attempt: atomic on SQLite and PostgreSQL alike.

use sqlx::Row;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::ids;

/// How many attempts per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter family (part of the stored bucket).
    pub name: &'static str,
    pub max: i64,
    pub window_s: i64,
}

/// Enroll attempts from one client address per minute (`max` from the configuration,
/// `--enroll-per-address`, default 30): a phone retries a few times a minute at most; a
/// scanner of IMEIs tries thousands. Many phones behind one carrier NAT share an address,
/// hence a minute's window, not an hour's.
pub fn enroll_per_address(max: u32) -> Limit {
    Limit {
        name: "enroll-addr",
        max: i64::from(max),
        window_s: 60,
    }
}

/// Enroll attempts naming one IMEI (from anywhere): a real phone waiting for approval
/// retries on its back-off schedule, far below this.
pub const ENROLL_PER_IMEI: Limit = Limit {
    name: "enroll-imei",
    max: 10,
    window_s: 3600,
};

/// The stored name of a counter: never the raw key.
pub fn bucket(limit: &Limit, key: &str) -> String {
    format!("{}:{}", limit.name, ids::sha256_hex(key.as_bytes()))
}

/// The window an instant falls in.
pub fn window_start(limit: &Limit, now: i64) -> i64 {
    now - now.rem_euclid(limit.window_s)
}

/// Counts one attempt; `Err(RateLimited)` once the window's count is over the limit
/// (with the seconds until the next window).
pub async fn hit(db: &Db, limit: &Limit, key: &str, now: i64) -> Result<()> {
    let start = window_start(limit, now);
    let row = sqlx::query(
        "INSERT INTO rate_limits (bucket, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
         count = CASE WHEN rate_limits.window_start = excluded.window_start \
                      THEN rate_limits.count + 1 ELSE 1 END, \
         window_start = excluded.window_start \
         RETURNING count",
    )
    .bind(bucket(limit, key))
    .bind(start)
    .fetch_one(&db.write)
    .await?;
    let count: i64 = row.try_get("count")?;
    if count > limit.max {
        let retry = (start + limit.window_s - now).max(1);
        return Err(Error::TooManyAttempts {
            retry_after_s: u64::try_from(retry).unwrap_or(1),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_buckets_hide_the_key() {
        assert_eq!(window_start(&enroll_per_address(30), 125), 120);
        assert_eq!(window_start(&ENROLL_PER_IMEI, 7199), 3600);
        let b = bucket(&enroll_per_address(30), "203.0.113.9");
        assert!(b.starts_with("enroll-addr:") && !b.contains("203.0.113.9"));
    }

    #[tokio::test]
    async fn the_limit_holds_within_a_window_and_resets_after() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        let limit = Limit {
            name: "t",
            max: 3,
            window_s: 60,
        };
        for _ in 0..3 {
            hit(&db, &limit, "k", 1000).await.unwrap();
        }
        match hit(&db, &limit, "k", 1010).await {
            Err(Error::TooManyAttempts { retry_after_s }) => assert_eq!(retry_after_s, 10),
            other => panic!("{other:?}"),
        }
        // Another key has its own count; the next window starts over.
        hit(&db, &limit, "other", 1010).await.unwrap();
        hit(&db, &limit, "k", 1020).await.unwrap();
        hit(&db, &limit, "k", 1021).await.unwrap();
    }
}
