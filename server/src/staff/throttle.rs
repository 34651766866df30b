//! Login throttling: failed logins are counted per account (the email typed, whether or
//! not it has an account, so the throttle is no oracle either) and per client address, in
//! the shared `rate_limits` table ([`crate::rate_limit`]) — so every node counts the same
//! failures. Once a count reaches its limit in the current window, logins for that account
//! or from that address are refused until the window ends, before any password is checked:
//! a guesser gets [`PER_ACCOUNT`]`.max` tries per 15 minutes per account, and a guesser
//! spraying many accounts from one address [`PER_ADDRESS`]`.max`.
//!
//! Only failures count; a successful login clears its account's count (not the
//! address's, which many staff behind one shop's NAT share).

use sqlx::Row;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::rate_limit::{self, Limit};

/// Failed logins naming one account per 15-minute window.
pub const PER_ACCOUNT: Limit = Limit {
    name: "login-account",
    max: 10,
    window_s: 900,
};

/// Failed logins from one client address per 15-minute window (a shop's staff share one
/// address; a password sprayer tries many accounts).
pub const PER_ADDRESS: Limit = Limit {
    name: "login-address",
    max: 50,
    window_s: 900,
};

/// The counters a login attempt touches.
fn buckets<'a>(email: &'a str, address: Option<&'a str>) -> Vec<(&'static Limit, &'a str)> {
    let mut out = vec![(&PER_ACCOUNT, email)];
    if let Some(address) = address {
        out.push((&PER_ADDRESS, address));
    }
    out
}

/// `Err(TooManyAttempts)` with the seconds left when the account or the address has used
/// up its failures in the current window. Counts nothing.
pub async fn check(db: &Db, email: &str, address: Option<&str>, now: i64) -> Result<()> {
    let mut wait = 0;
    for (limit, key) in buckets(email, address) {
        let start = rate_limit::window_start(limit, now);
        let row = sqlx::query("SELECT window_start, count FROM rate_limits WHERE bucket = $1")
            .bind(rate_limit::bucket(limit, key))
            .fetch_optional(&db.read)
            .await?;
        if let Some(row) = row {
            let stored_start: i64 = row.try_get("window_start")?;
            let count: i64 = row.try_get("count")?;
            if stored_start == start && count >= limit.max {
                wait = wait.max(start + limit.window_s - now);
            }
        }
    }
    if wait > 0 {
        return Err(Error::TooManyAttempts {
            retry_after_s: u64::try_from(wait).unwrap_or(1),
        });
    }
    Ok(())
}

/// Counts one failed login for the account and the address.
pub async fn failed(db: &Db, email: &str, address: Option<&str>, now: i64) -> Result<()> {
    for (limit, key) in buckets(email, address) {
        match rate_limit::hit(db, limit, key, now).await {
            Ok(()) | Err(Error::TooManyAttempts { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A successful login: the account's count starts over.
pub async fn succeeded(db: &Db, email: &str) -> Result<()> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
        .bind(rate_limit::bucket(&PER_ACCOUNT, email))
        .execute(&db.write)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(r: Result<()>) -> u64 {
        match r {
            Err(Error::TooManyAttempts { retry_after_s }) => retry_after_s,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_account_is_refused_after_its_failures_until_the_window_ends() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        let t0 = 9000; // a window start
        for i in 0..PER_ACCOUNT.max {
            check(&db, "ann@shop.example", Some("a1"), t0 + i)
                .await
                .unwrap();
            failed(&db, "ann@shop.example", Some("a1"), t0 + i)
                .await
                .unwrap();
        }
        assert_eq!(
            retry(check(&db, "ann@shop.example", Some("a2"), t0 + 100).await),
            800
        );
        // Another account from the same address is not refused.
        check(&db, "bob@shop.example", Some("a1"), t0 + 100)
            .await
            .unwrap();
        // The next window lets the account try again.
        check(&db, "ann@shop.example", Some("a1"), t0 + 900)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_address_is_refused_after_its_failures_across_accounts() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        let t0 = 9000;
        for i in 0..PER_ADDRESS.max {
            failed(
                &db,
                &format!("user{i}@shop.example"),
                Some("198.51.100.7"),
                t0,
            )
            .await
            .unwrap();
        }
        assert_eq!(
            retry(check(&db, "new@shop.example", Some("198.51.100.7"), t0 + 1).await),
            899
        );
        check(&db, "new@shop.example", Some("198.51.100.8"), t0 + 1)
            .await
            .unwrap();
        // Without a known address only the account counts.
        check(&db, "new@shop.example", None, t0 + 1).await.unwrap();
    }

    #[tokio::test]
    async fn a_success_clears_the_accounts_count() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        for _ in 0..PER_ACCOUNT.max - 1 {
            failed(&db, "ann@shop.example", None, 9000).await.unwrap();
        }
        succeeded(&db, "ann@shop.example").await.unwrap();
        failed(&db, "ann@shop.example", None, 9001).await.unwrap();
        check(&db, "ann@shop.example", None, 9002).await.unwrap();
    }
}
