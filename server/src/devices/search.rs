//! Finding a lender's devices: free-text search, filters (state, days past due, not seen),
//! four orders and keyset pagination, answered in SQL so a page costs the same at 100,000
//! devices whatever its depth; and the filtered list as CSV. The console's Devices page,
//! `GET /v1/lender/devices` (and `?format=csv`) and the CLI's list call these.
//!
//! # What matches
//! - `q` (trimmed, 1–64 characters) matches a device when any of these holds:
//!   - it is the device id, exactly;
//!   - the device's customer reference starts with it, ASCII case ignored (`CT-20` finds
//!     `ct-2026/0042`; the whole reference is a prefix of itself);
//!   - it is 1 to 8 digits (spaces and dashes ignored) and the IMEI registered at sale
//!     ends with them. Only the last four digits are stored (the IMEI itself is kept only
//!     as its hash), so 1–4 digits must be the IMEI's last ones, and of 5–8 digits the
//!     last four are compared (the digits before them cannot be checked);
//!   - it is a whole IMEI (14–16 digits, spaces and dashes ignored): its hash is compared.
//! - `state`: exactly [`policy::status`] at `now`, computed in SQL from the stored row
//!   ([`state_sql`]; a property test holds the two together).
//! - `days_past_due`: days since the due date of the first installment the payments do
//!   not cover, counting a started day (1 from the first second after the due date, the
//!   moment the state becomes `overdue`); buckets 1–7, 8–30, 31–90 and over 90. Devices
//!   that owe nothing (paid in full, completing, released) are in no bucket. A device
//!   locked by its lender still has its days past due.
//! - `not_seen_days = N`: enrolled devices, not released, whose last contact (the last
//!   check-in, or the enrollment when none followed) is N days ago or more. A phone that
//!   never enrolled has never been seen and is not in this filter (the `enrolled` field
//!   tells those apart); neither is a released phone, which no longer checks in for money.
//!
//! # Orders
//! `device_id` (the default, ascending), `days_past_due` (most days past due first, then
//! devices not yet due by the soonest due date, then those owing nothing), `last_seen`
//! (the longest unseen first, never-enrolled phones last), `registered` (newest first).
//! Ties are broken by the device id. A `next_cursor` is the last row's sort key and id;
//! the next page starts strictly after it through an index range (no OFFSET), so page
//! 2,000 costs what page 1 does, and a device appears exactly once across the pages of a
//! list that does not change meanwhile. With `device_id` the cursor is the last device id,
//! as it was before sorting existed.
//!
//! # Cost
//! Every order and the days-past-due and not-seen filters read an index range. `last_seen`
//! and `not_seen_days` use the index on [`LAST_SEEN`] (migration 0014): without it they
//! scanned the lender's devices (~250–465 ms at 100,000); with it each check-in moves one
//! entry of that index, a small price beside the row it already rewrites.

use finlock_core::protocol;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyArguments;
use sqlx::{AnyPool, Arguments, Row};
use utoipa::ToSchema;

use super::view::{self, DeviceView};
use crate::app::App;
use crate::db::queries::{self, Tx};
use crate::error::{Error, Result};
use crate::policy::{DAY, DeviceStatus, Plan, SearchColumns};

pub use super::view::DeviceList as DevicePage;

/// Days-past-due buckets of the dashboard and the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Bucket {
    /// 1 to 7 days past due.
    #[serde(rename = "1-7")]
    Days1To7,
    /// 8 to 30 days.
    #[serde(rename = "8-30")]
    Days8To30,
    /// 31 to 90 days.
    #[serde(rename = "31-90")]
    Days31To90,
    /// More than 90 days.
    #[serde(rename = "90+")]
    Over90,
}

impl Bucket {
    pub const ALL: [Bucket; 4] = [
        Bucket::Days1To7,
        Bucket::Days8To30,
        Bucket::Days31To90,
        Bucket::Over90,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Days1To7 => "1-7",
            Bucket::Days8To30 => "8-30",
            Bucket::Days31To90 => "31-90",
            Bucket::Over90 => "90+",
        }
    }

    pub fn parse(text: &str) -> Result<Bucket> {
        Bucket::ALL
            .into_iter()
            .find(|b| b.as_str() == text)
            .ok_or_else(|| Error::invalid("days_past_due", "one of 1-7, 8-30, 31-90, 90+"))
    }

    /// The days past due it holds, `(first, last)` (`last` open for 90+).
    pub fn days(self) -> (i64, Option<i64>) {
        match self {
            Bucket::Days1To7 => (1, Some(7)),
            Bucket::Days8To30 => (8, Some(30)),
            Bucket::Days31To90 => (31, Some(90)),
            Bucket::Over90 => (91, None),
        }
    }

    /// The range of `first_unpaid_due` at `now`: `(from inclusive, to exclusive)`.
    /// Days past due `d` ⇔ `(d - 1) days < now - due <= d days`.
    pub fn due_range(self, now: i64) -> (Option<i64>, i64) {
        let (first, last) = self.days();
        (
            last.map(|l| now.saturating_sub(l.saturating_mul(DAY))),
            now.saturating_sub((first - 1).saturating_mul(DAY)),
        )
    }
}

/// Days past due at `now` of a device whose first unpaid installment is due at `due`:
/// a started day counts (see the module docs); 0 when not past due.
pub fn days_past_due(due: i64, now: i64) -> i64 {
    if now <= due {
        0
    } else {
        (now - due - 1) / DAY + 1
    }
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    DeviceId,
    /// Most days past due first.
    DaysPastDue,
    /// Longest unseen first.
    LastSeen,
    /// Newest first.
    Registered,
}

impl Sort {
    pub fn parse(text: &str) -> Result<Sort> {
        match text {
            "device_id" => Ok(Sort::DeviceId),
            "days_past_due" => Ok(Sort::DaysPastDue),
            "last_seen" => Ok(Sort::LastSeen),
            "registered" => Ok(Sort::Registered),
            _ => Err(Error::invalid(
                "sort",
                "one of device_id, days_past_due, last_seen, registered",
            )),
        }
    }

    /// The SQL of the sort key (`None`: the device id alone) and whether it descends.
    fn key(self) -> (Option<&'static str>, bool) {
        match self {
            Sort::DeviceId => (None, false),
            Sort::DaysPastDue => (Some("first_unpaid_due"), false),
            Sort::LastSeen => (Some(LAST_SEEN), false),
            Sort::Registered => (Some("created_at"), true),
        }
    }
}

/// A device's last contact: its last check-in, or its enrollment when none followed.
/// Written exactly as in migration 0014's index, so SQLite's planner matches it.
const LAST_SEEN: &str = "COALESCE(last_checkin_at, enrolled_at)";

/// The longest free-text query.
pub const MAX_Q: usize = 64;
/// The longest "not seen" period one can ask for: ten years.
pub const MAX_NOT_SEEN_DAYS: u32 = 3650;
/// The most rows one CSV export holds; narrow the filter for more.
pub const MAX_EXPORT: usize = 100_000;

/// Which devices, in which order, which page.
#[derive(Debug, Clone, Default)]
pub struct DeviceQuery {
    pub q: Option<String>,
    pub state: Option<DeviceStatus>,
    pub days_past_due: Option<Bucket>,
    pub not_seen_days: Option<u32>,
    pub sort: Sort,
    /// 1–500 ([`super::page_size`]); 50 when absent.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where a page starts: after this key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    /// The first page.
    Start,
    /// After a row with a sort key (or the device id alone for [`Sort::DeviceId`]).
    Keyed(Option<i64>, String),
    /// After a row without a sort key (those come last).
    Unkeyed(String),
}

impl Cursor {
    fn parse(sort: Sort, text: Option<&str>) -> Result<Cursor> {
        let bad = || Error::invalid("cursor", "a next_cursor from an earlier page of this sort");
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(Cursor::Start);
        };
        // A cursor is ours: short, printable (a NUL would be a PostgreSQL error, not a page).
        if text.len() > 200 || text.chars().any(char::is_control) {
            return Err(bad());
        }
        if sort == Sort::DeviceId {
            return Ok(Cursor::Keyed(None, text.to_string()));
        }
        if let Some(id) = text.strip_prefix("n.") {
            return Ok(Cursor::Unkeyed(id.to_string()));
        }
        let rest = text.strip_prefix("k.").ok_or_else(bad)?;
        let (key, id) = rest.split_once('.').ok_or_else(bad)?;
        Ok(Cursor::Keyed(
            Some(key.parse().map_err(|_| bad())?),
            id.to_string(),
        ))
    }

    fn render(&self) -> Option<String> {
        match self {
            Cursor::Start => None,
            Cursor::Keyed(None, id) => Some(id.clone()),
            Cursor::Keyed(Some(key), id) => Some(format!("k.{key}.{id}")),
            Cursor::Unkeyed(id) => Some(format!("n.{id}")),
        }
    }
}

/// A statement under construction: SQL text and its arguments in order.
struct Sql {
    text: String,
    args: AnyArguments<'static>,
    n: usize,
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            n: 0,
        }
    }

    /// Binds `v` and returns its placeholder.
    fn arg<T>(&mut self, v: T) -> Result<String>
    where
        T: 'static + Send + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.args
            .add(v)
            .map_err(|e| Error::Internal(format!("binding: {e}")))?;
        self.n += 1;
        Ok(format!("${}", self.n))
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }
}

/// Released at `now` ([`crate::policy::Money::is_released`]): for good, or the completing
/// window has passed while paid in full. `{now}` is the placeholder of now.
const RELEASED: &str = "(released = 1 OR (release_at IS NOT NULL AND release_at <= {now} \
                        AND paid_minor >= total_minor))";
/// Completing at `now`: paid in full, the window still running.
const COMPLETING: &str = "(released = 0 AND release_at IS NOT NULL AND release_at > {now} \
                          AND paid_minor >= total_minor)";

/// The SQL condition that holds exactly when [`policy::status`] at `now` is `state`, for
/// a row whose search columns are [`SearchColumns::of`] its plan, payments, extension and
/// release. The reasoning, in `policy::status`'s order: released wins; then a lender lock;
/// then completing; then, while an installment is unpaid (`first_unpaid_due` set, and then
/// `lock_at` too; both are NULL when paid in full or released), locked from `lock_at`,
/// overdue after the due date, current before.
///
/// [`policy::status`]: crate::policy::status
pub fn state_sql(state: DeviceStatus, now: &str) -> String {
    let released = RELEASED.replace("{now}", now);
    let completing = COMPLETING.replace("{now}", now);
    match state {
        DeviceStatus::Released => released,
        DeviceStatus::Locked => {
            format!("(NOT {released} AND (lender_locked = 1 OR lock_at <= {now}))")
        }
        DeviceStatus::Completing => format!("(lender_locked = 0 AND {completing})"),
        DeviceStatus::Overdue => format!(
            "(released = 0 AND lender_locked = 0 AND first_unpaid_due < {now} \
             AND lock_at > {now})"
        ),
        DeviceStatus::Current => format!(
            "(NOT {released} AND lender_locked = 0 AND NOT {completing} \
             AND (first_unpaid_due IS NULL OR (first_unpaid_due >= {now} \
             AND lock_at > {now})))"
        ),
    }
}

/// The digits of `q` when it is made of digits (spaces and dashes ignored).
fn digits_of(q: &str) -> Option<String> {
    let digits: String = q.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `q` as a LIKE pattern matching what starts with it, lower-cased (ASCII), with `!` as
/// the escape character.
fn prefix_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 1);
    for c in q.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    p
}

/// The free text, checked: trimmed, 1–64 characters; `None` when absent or blank.
fn check_q(q: Option<&str>) -> Result<Option<&str>> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_Q || q.chars().any(char::is_control) {
        return Err(Error::invalid(
            "q",
            "1 to 64 printable characters: a device id, a customer reference (or its start) \
             or IMEI digits",
        ));
    }
    Ok(Some(q))
}

/// Appends the filters of `query` (not the cursor) to `sql`, which selects from `devices`
/// and has `lender_id = ...` in its WHERE already.
fn push_filters(sql: &mut Sql, lender_id: &str, query: &DeviceQuery, now: i64) -> Result<()> {
    let now_p = sql.arg(now)?;
    if let Some(q) = check_q(query.q.as_deref())? {
        // Each key is matched on its own index (the reference's and the IMEI digits' are
        // covering, so a prefix or suffix match reads no row), and the ids found are
        // then listed in the page's order.
        let lender = sql.arg(lender_id.to_string())?;
        let id = sql.arg(q.to_string())?;
        let mut any = vec![format!("device_id = {id}")];
        if q.is_ascii() {
            let p = sql.arg(prefix_pattern(q))?;
            any.push(format!("LOWER(customer_ref) LIKE {p} ESCAPE '!'"));
        }
        if let Some(digits) = digits_of(q) {
            if protocol::IMEI_DIGITS.contains(&digits.len()) {
                let hash = sql.arg(protocol::imei_sha256(&digits))?;
                any.push(format!("imei_sha256 = {hash}"));
            } else if digits.len() <= 8 {
                if digits.len() >= 4 {
                    let last4 = sql.arg(digits[digits.len() - 4..].to_string())?;
                    any.push(format!("imei_last4 = {last4}"));
                } else {
                    let p = sql.arg(format!("%{digits}"))?;
                    any.push(format!("imei_last4 LIKE {p}"));
                }
            }
        }
        let union = any
            .iter()
            .map(|cond| {
                format!("SELECT device_id FROM devices WHERE lender_id = {lender} AND {cond}")
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        sql.push(&format!(" AND device_id IN ({union})"));
    }
    if let Some(state) = query.state {
        sql.push(&format!(" AND {}", state_sql(state, &now_p)));
    }
    if let Some(bucket) = query.days_past_due {
        let (from, to) = bucket.due_range(now);
        let to = sql.arg(to)?;
        sql.push(&format!(" AND first_unpaid_due < {to}"));
        if let Some(from) = from {
            let from = sql.arg(from)?;
            sql.push(&format!(" AND first_unpaid_due >= {from}"));
        }
    }
    if let Some(days) = query.not_seen_days {
        if !(1..=MAX_NOT_SEEN_DAYS).contains(&days) {
            return Err(Error::invalid("not_seen_days", "1 to 3650 days"));
        }
        let before = sql.arg(now.saturating_sub(i64::from(days) * DAY))?;
        let released = RELEASED.replace("{now}", &now_p);
        sql.push(&format!(
            " AND device_key IS NOT NULL AND NOT {released} AND {LAST_SEEN} <= {before}"
        ));
    }
    Ok(())
}

/// A device row with the columns the view adds.
fn view_of(r: &sqlx::any::AnyRow, now: i64) -> Result<DeviceView> {
    let row = queries::device_row(r)?;
    Ok(view::view(&row, now)?.with_refs(r.try_get("customer_ref")?, r.try_get("imei_last4")?))
}

/// Up to `limit` rows of the lender matching `query` after `cursor`, in `sort` order, and
/// the sort key of each (the cursor of the next page).
async fn page(
    pool: &AnyPool,
    lender_id: &str,
    query: &DeviceQuery,
    cursor: &Cursor,
    limit: usize,
    now: i64,
) -> Result<Vec<(DeviceView, Cursor)>> {
    let (key, desc) = query.sort.key();
    let (cmp, dir) = if desc { ("<", "DESC") } else { (">", "ASC") };
    let mut rows = Vec::new();
    // Rows with a sort key first, then those without (never-enrolled phones by last
    // seen, devices owing nothing by days past due), each part through an index range.
    let keyed_part = !matches!(cursor, Cursor::Unkeyed(_));
    for keyed in [true, false] {
        if (keyed && !keyed_part) || rows.len() > limit {
            continue;
        }
        if key.is_none() && !keyed {
            continue;
        }
        let mut sql = Sql::new("");
        let lender = sql.arg(lender_id.to_string())?;
        sql.push(&format!(
            "SELECT {}, customer_ref, imei_last4, first_unpaid_due, {LAST_SEEN} AS last_seen_at \
             FROM devices WHERE lender_id = {lender}",
            queries::DEVICE_COLUMNS
        ));
        push_filters(&mut sql, lender_id, query, now)?;
        match (key, keyed) {
            (Some(k), true) => sql.push(&format!(" AND {k} IS NOT NULL")),
            (Some(k), false) => sql.push(&format!(" AND {k} IS NULL")),
            (None, _) => {}
        }
        match (cursor, key, keyed) {
            (Cursor::Keyed(_, id), None, _) => {
                let id = sql.arg(id.clone())?;
                sql.push(&format!(" AND device_id > {id}"));
            }
            (Cursor::Keyed(Some(at), id), Some(k), true) => {
                let at = sql.arg(*at)?;
                let id = sql.arg(id.clone())?;
                sql.push(&format!(
                    " AND ({k} {cmp} {at} OR ({k} = {at} AND device_id {cmp} {id}))"
                ));
            }
            (Cursor::Unkeyed(id), Some(_), false) => {
                let id = sql.arg(id.clone())?;
                sql.push(&format!(" AND device_id {cmp} {id}"));
            }
            _ => {}
        }
        let order = match (key, keyed) {
            (Some(k), true) => format!(" ORDER BY {k} {dir}, device_id {dir}"),
            _ => format!(" ORDER BY device_id {dir}"),
        };
        sql.push(&order);
        let want = i64::try_from(limit - rows.len() + 1).unwrap_or(i64::MAX);
        let lim = sql.arg(want)?;
        sql.push(&format!(" LIMIT {lim}"));
        let found = sqlx::query_with(&sql.text, sql.args)
            .fetch_all(pool)
            .await?;
        for r in &found {
            let v = view_of(r, now)?;
            let next = match (key, keyed) {
                (None, _) => Cursor::Keyed(None, v.device_id.clone()),
                (Some(k), true) => {
                    let at: Option<i64> = r.try_get(sort_column(k))?;
                    Cursor::Keyed(at, v.device_id.clone())
                }
                (Some(_), false) => Cursor::Unkeyed(v.device_id.clone()),
            };
            rows.push((v, next));
        }
    }
    Ok(rows)
}

/// The column a sort key is read back from (the expression's value).
fn sort_column(key: &str) -> &str {
    if key == LAST_SEEN {
        "last_seen_at"
    } else {
        key
    }
}

/// A page of the lender's devices matching `query` (see the module docs).
pub async fn search(app: &App, lender_id: &str, query: &DeviceQuery) -> Result<DevicePage> {
    let limit = super::page_size(query.limit, view::DEFAULT_PAGE)? as usize;
    let cursor = Cursor::parse(query.sort, query.cursor.as_deref())?;
    let mut rows = page(&app.db.read, lender_id, query, &cursor, limit, app.now()).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().and_then(|(_, c)| c.render()))
        .flatten();
    Ok(DevicePage {
        devices: rows.into_iter().map(|(v, _)| v).collect(),
        next_cursor,
    })
}

// ---- CSV ----------------------------------------------------------------------------------

/// The columns of the export, in order.
pub const CSV_HEADER: [&str; 18] = [
    "device_id",
    "customer_ref",
    "imei_last4",
    "state",
    "enrolled",
    "currency",
    "total_minor",
    "paid_minor",
    "amount_due_minor",
    "next_due",
    "days_past_due",
    "lock_at",
    "lender_locked",
    "lock_reason",
    "release_at",
    "last_checkin",
    "app_version",
    "created_at",
];

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; a
/// field a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return) is prefixed with `'` (OWASP's CSV-injection rule).
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn iso(t: Option<i64>) -> String {
    t.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One device as a CSV line (CRLF-terminated). Times are ISO 8601 UTC.
pub fn csv_line(v: &DeviceView, now: i64) -> String {
    let state = serde_json::to_value(v.state)
        .ok()
        .and_then(|s| s.as_str().map(str::to_string))
        .unwrap_or_default();
    let dpd = match (v.state, v.next_due) {
        (DeviceStatus::Released | DeviceStatus::Completing, _) | (_, None) => 0,
        (_, Some(due)) => days_past_due(due, now),
    };
    let cells = [
        v.device_id.clone(),
        v.customer_ref.clone().unwrap_or_default(),
        v.imei_last4.clone().unwrap_or_default(),
        state,
        v.enrolled.to_string(),
        v.currency.clone(),
        v.total_minor.to_string(),
        v.paid_minor.to_string(),
        v.amount_due_minor.to_string(),
        iso(v.next_due),
        dpd.to_string(),
        iso(v.lock_at),
        v.lender_locked.to_string(),
        v.lock_reason.clone().unwrap_or_default(),
        iso(v.release_at),
        iso(v.last_checkin),
        v.app_version.clone().unwrap_or_default(),
        iso(Some(v.created_at)),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Every device matching `query` (its `limit` and `cursor` ignored) as CSV with a header
/// row, in the query's order; refused when more than [`MAX_EXPORT`] match.
pub async fn export_csv(app: &App, lender_id: &str, query: &DeviceQuery) -> Result<String> {
    let now = app.now();
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    let mut cursor = Cursor::Start;
    let mut count = 0usize;
    loop {
        let rows = page(
            &app.db.read,
            lender_id,
            query,
            &cursor,
            super::MAX_PAGE as usize,
            now,
        )
        .await?;
        let more = rows.len() > super::MAX_PAGE as usize;
        for (v, c) in rows.into_iter().take(super::MAX_PAGE as usize) {
            count += 1;
            if count > MAX_EXPORT {
                return Err(Error::invalid(
                    "q",
                    "more than 100000 devices match; narrow the filter to export them",
                ));
            }
            out.push_str(&csv_line(&v, now));
            cursor = c;
        }
        if !more {
            return Ok(out);
        }
    }
}

// ---- keeping the search columns ------------------------------------------------------------

/// Recomputes and stores a device's search columns inside `tx`, from the row as `tx` left
/// it. Every write that changes a plan, a payment total, an extension or a release calls
/// it after its UPDATE, in the same transaction: the row is then the transaction's own
/// (SQLite's one writer; a PostgreSQL row lock until commit), so the columns are those of
/// the row that commits.
pub async fn refresh_in(tx: &mut Tx, device_id: &str) -> Result<()> {
    let Some(inputs) = queries::search_inputs(&mut **tx, device_id).await? else {
        return Ok(());
    };
    let columns = columns_of(&inputs)?;
    if !queries::store_search_columns(
        &mut **tx,
        device_id,
        &inputs,
        columns.first_unpaid_due,
        columns.lock_at,
    )
    .await?
    {
        return Err(Error::Internal(
            "the device changed inside its own transaction".into(),
        ));
    }
    Ok(())
}

fn columns_of(inputs: &queries::SearchInputs) -> Result<SearchColumns> {
    let (plan, paid_minor, extended_until, released) = inputs;
    let plan: Plan = serde_json::from_str(plan)
        .map_err(|_| Error::Internal("stored plan is not valid".into()))?;
    Ok(SearchColumns::of(
        &plan,
        *paid_minor,
        *extended_until,
        *released,
    ))
}

/// Computes the search columns of the devices registered before migration 0013 (listed
/// in `device_search_backfill`), a batch at a time, and empties that list; run after the
/// migrations at every start, where it costs one empty read once done. Idempotent and safe
/// on several nodes at once: each row is stored by a compare-and-swap on its inputs, and a
/// row that changed meanwhile got its columns from the change itself. Returns how many
/// rows it computed.
pub async fn backfill(pool: &AnyPool) -> Result<u64> {
    let mut done = 0u64;
    loop {
        let ids: Vec<String> = sqlx::query(
            "SELECT device_id FROM device_search_backfill ORDER BY device_id LIMIT 500",
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get("device_id"))
        .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(done);
        }
        let mut tx = pool.begin().await?;
        for id in &ids {
            if let Some(inputs) = queries::search_inputs(&mut *tx, id).await? {
                let c = columns_of(&inputs)?;
                queries::store_search_columns(&mut *tx, id, &inputs, c.first_unpaid_due, c.lock_at)
                    .await?;
                done += 1;
            }
            sqlx::query("DELETE FROM device_search_backfill WHERE device_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
}

#[cfg(test)]
mod tests;
