//! A lender's figures at a glance (the console's Dashboard, `GET /v1/lender/dashboard`):
//! devices by state, arrears by days past due, what was collected this month, phones not
//! seen for days, releases coming up. A handful of aggregate queries over the search
//! columns ([`super::search`]); no device is read into Rust except the few upcoming
//! releases listed.
//!
//! Money is summed per currency (a lender may sell in several); "owed" is the
//! outstanding balance of the plan (total less what the payments cover), the figure a
//! portfolio-at-risk report uses. "This month" is the calendar month in UTC: lenders have
//! no time-zone setting, and UTC gives every node and both databases the same boundary.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::search::{Bucket, state_sql};
use crate::app::App;
use crate::error::{Error, Result};
use crate::policy::{DAY, DeviceStatus};

/// Phones not seen for this many days count as "not seen".
pub const NOT_SEEN_DAYS: i64 = 3;
/// Releases within this many days are "upcoming".
pub const UPCOMING_DAYS: i64 = 7;
/// How many upcoming releases are listed (all are counted).
pub const UPCOMING_LISTED: i64 = 5;

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Amount {
    pub currency: String,
    pub amount_minor: u64,
}

/// Devices in each state ([`crate::policy::status`] at the dashboard's time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StateCounts {
    pub current: u64,
    pub overdue: u64,
    pub locked: u64,
    pub completing: u64,
    pub released: u64,
}

/// One days-past-due bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArrearsBucket {
    #[schema(value_type = String, example = "8-30")]
    pub days_past_due: Bucket,
    pub devices: u64,
    /// The outstanding balance of those devices, per currency.
    pub owed: Vec<Amount>,
}

/// Payments recorded since the start of the month (UTC) and not voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Collected {
    /// The start of the month, Unix seconds (00:00 UTC on the 1st).
    pub since: i64,
    pub payments: u64,
    pub amounts: Vec<Amount>,
}

/// A device whose completing window ends soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UpcomingRelease {
    pub device_id: String,
    pub customer_ref: Option<String>,
    pub release_at: i64,
}

/// Completing devices released within [`UPCOMING_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UpcomingReleases {
    pub within_days: i64,
    pub devices: u64,
    /// The first few, soonest first.
    pub first: Vec<UpcomingRelease>,
}

/// Enrolled phones, not released, whose last contact is [`NOT_SEEN_DAYS`] days ago or
/// more (the `not_seen_days` filter of the device list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NotSeen {
    pub days: i64,
    pub devices: u64,
}

/// The lender's figures at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Dashboard {
    /// When these figures were computed (Unix seconds).
    pub at: i64,
    pub devices: u64,
    pub by_state: StateCounts,
    /// Every bucket, in order, empty ones included.
    pub arrears: Vec<ArrearsBucket>,
    pub collected_this_month: Collected,
    pub not_seen: NotSeen,
    pub upcoming_releases: UpcomingReleases,
}

fn count(r: &sqlx::any::AnyRow, column: &str) -> Result<u64> {
    let n: i64 = r.try_get(column)?;
    u64::try_from(n).map_err(|_| Error::Internal(format!("negative {column}")))
}

/// 00:00 UTC on the first day of `now`'s month.
pub fn month_start_utc(now: i64) -> i64 {
    jiff::Timestamp::from_second(now)
        .ok()
        .and_then(|t| {
            let date = t.to_zoned(jiff::tz::TimeZone::UTC).date().first_of_month();
            date.to_zoned(jiff::tz::TimeZone::UTC).ok()
        })
        .map_or(now - now.rem_euclid(DAY), |z| z.timestamp().as_second())
}

/// Adds `amount` in `currency` to `amounts`.
fn add(amounts: &mut Vec<Amount>, currency: &str, amount: u64) {
    if amount == 0 {
        return;
    }
    match amounts.iter_mut().find(|a| a.currency == currency) {
        Some(a) => a.amount_minor = a.amount_minor.saturating_add(amount),
        None => amounts.push(Amount {
            currency: currency.to_string(),
            amount_minor: amount,
        }),
    }
}

/// The lender's dashboard now.
pub async fn dashboard(app: &App, lender_id: &str) -> Result<Dashboard> {
    let now = app.now();
    let pool = &app.db.read;

    // One pass over the index of the columns the state is computed from.
    let states = [
        DeviceStatus::Current,
        DeviceStatus::Overdue,
        DeviceStatus::Locked,
        DeviceStatus::Completing,
        DeviceStatus::Released,
    ];
    let mut columns: Vec<String> = states
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "COUNT(CASE WHEN {} THEN 1 END) AS s{i}",
                state_sql(*s, "$2")
            )
        })
        .collect();
    columns.push("COUNT(*) AS total".into());
    let r = sqlx::query(&format!(
        "SELECT {} FROM devices WHERE lender_id = $1",
        columns.join(", ")
    ))
    .bind(lender_id)
    .bind(now)
    .fetch_one(pool)
    .await?;
    let by_state = StateCounts {
        current: count(&r, "s0")?,
        overdue: count(&r, "s1")?,
        locked: count(&r, "s2")?,
        completing: count(&r, "s3")?,
        released: count(&r, "s4")?,
    };
    let devices = count(&r, "total")?;

    // Unseen phones: a range of the last-seen index (migration 0014; see `super::search`).
    let r = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM devices WHERE lender_id = $1 AND device_key IS NOT NULL \
         AND NOT {} AND COALESCE(last_checkin_at, enrolled_at) <= $3",
        state_sql(DeviceStatus::Released, "$2")
    ))
    .bind(lender_id)
    .bind(now)
    .bind(now - NOT_SEEN_DAYS * DAY)
    .fetch_one(pool)
    .await?;
    let not_seen = NotSeen {
        days: NOT_SEEN_DAYS,
        devices: count(&r, "n")?,
    };

    // Arrears: devices past due by bucket, the balance per currency (an index range).
    let mut arrears: Vec<ArrearsBucket> = Bucket::ALL
        .iter()
        .map(|b| ArrearsBucket {
            days_past_due: *b,
            devices: 0,
            owed: Vec::new(),
        })
        .collect();
    let bucket_sql = Bucket::ALL
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (from, to) = b.due_range(now);
            let cond = match from {
                Some(from) => format!("first_unpaid_due >= {from} AND first_unpaid_due < {to}"),
                None => format!("first_unpaid_due < {to}"),
            };
            format!(
                "COUNT(CASE WHEN {cond} THEN 1 END) AS n{i}, \
                 CAST(COALESCE(SUM(CASE WHEN {cond} THEN total_minor - paid_minor ELSE 0 END), 0) \
                 AS BIGINT) AS owed{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT currency, {bucket_sql} FROM devices \
         WHERE lender_id = $1 AND first_unpaid_due < $2 GROUP BY currency ORDER BY currency"
    ))
    .bind(lender_id)
    .bind(now)
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let currency: String = r.try_get("currency")?;
        for (i, bucket) in arrears.iter_mut().enumerate() {
            bucket.devices += count(r, &format!("n{i}"))?;
            add(&mut bucket.owed, &currency, count(r, &format!("owed{i}"))?);
        }
    }

    // Collected this month: payments not voided (they join the lender through devices).
    let since = month_start_utc(now);
    let rows = sqlx::query(
        "SELECT p.currency AS currency, COUNT(*) AS n, \
         CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS amount FROM payments p \
         JOIN devices d ON d.device_id = p.device_id \
         WHERE d.lender_id = $1 AND p.created_at >= $2 AND p.voided_at IS NULL \
         GROUP BY p.currency ORDER BY p.currency",
    )
    .bind(lender_id)
    .bind(since)
    .fetch_all(pool)
    .await?;
    let mut collected = Collected {
        since,
        payments: 0,
        amounts: Vec::new(),
    };
    for r in &rows {
        collected.payments += count(r, "n")?;
        add(
            &mut collected.amounts,
            &r.try_get::<String, _>("currency")?,
            count(r, "amount")?,
        );
    }

    // Upcoming releases: completing (paid in full, not released), window ending soon.
    let upcoming = "lender_id = $1 AND released = 0 AND paid_minor >= total_minor \
                    AND release_at > $2 AND release_at <= $3";
    let until = now + UPCOMING_DAYS * DAY;
    let r = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM devices WHERE {upcoming}"
    ))
    .bind(lender_id)
    .bind(now)
    .bind(until)
    .fetch_one(pool)
    .await?;
    let upcoming_count = count(&r, "n")?;
    let first = sqlx::query(&format!(
        "SELECT device_id, customer_ref, release_at FROM devices WHERE {upcoming} \
         ORDER BY release_at, device_id LIMIT $4"
    ))
    .bind(lender_id)
    .bind(now)
    .bind(until)
    .bind(UPCOMING_LISTED)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(UpcomingRelease {
            device_id: r.try_get("device_id")?,
            customer_ref: r.try_get("customer_ref")?,
            release_at: r.try_get("release_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    Ok(Dashboard {
        at: now,
        devices,
        by_state,
        arrears,
        collected_this_month: collected,
        not_seen,
        upcoming_releases: UpcomingReleases {
            within_days: UPCOMING_DAYS,
            devices: upcoming_count,
            first,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_starts_at_midnight_utc_on_the_first() {
        // 2026-03-09T15:30:00Z → 2026-03-01T00:00:00Z
        assert_eq!(month_start_utc(1_773_070_200), 1_772_323_200);
        // The first second of a month is its own start; the last second of February is not.
        assert_eq!(month_start_utc(1_772_323_200), 1_772_323_200);
        assert_eq!(month_start_utc(1_772_323_199), 1_769_904_000);
    }

    #[test]
    fn amounts_add_up_per_currency_and_skip_zero() {
        let mut a = Vec::new();
        add(&mut a, "KES", 5);
        add(&mut a, "NGN", 0);
        add(&mut a, "NGN", 7);
        add(&mut a, "KES", 6);
        assert_eq!(
            a,
            vec![
                Amount {
                    currency: "KES".into(),
                    amount_minor: 11
                },
                Amount {
                    currency: "NGN".into(),
                    amount_minor: 7
                }
            ]
        );
    }
}
