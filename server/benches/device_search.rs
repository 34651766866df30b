//! What the console's device list and dashboard cost at 100,000 devices of one lender in
//! SQLite (issue 16): `devices::search` first and deep pages (a cursor near the end) for
//! each order and the main filters, and `devices::dashboard`. Rows are written directly
//! with SQL in bulk (12-installment plans, enrolled phones with keys and nonces, a mix of
//! states, 30,000 payments), plus a second lender's 20,000 devices.
//!
//! Then the console's pages over real HTTP: the router served on 127.0.0.1, a staff
//! member signed in (a session in the database, its cookie sent), each page requested
//! [`RUNS`] times after a warm-up: the device list's first page, a deep page (its keyset
//! cursor), a filtered page, sorted by last seen, searches by IMEI suffix and by customer
//! reference, the CSV export of a filter, the dashboard and a device page. The time is
//! the request's round trip on loopback (the server's time plus well under a
//! millisecond of client and socket); the table prints median and p95 and the body's
//! bytes.
//!
//! `cargo bench -p finlock-server --bench device_search` (prints medians; asserts nothing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use finlock_server::app::App;
use finlock_server::db::Db;
use finlock_server::db::queries::{self, LenderRow};
use finlock_server::devices::dashboard;
use finlock_server::devices::search::{self, Bucket, DeviceQuery, Sort};
use finlock_server::policy::{DAY, DeviceStatus, Plan, PlanInstallment, SearchColumns};
use finlock_server::{Config, ManualClock};

/// 2026-01-01.
const T0: i64 = 1_767_225_600;
const NOW: i64 = T0 + 100 * DAY;
const DEVICES: usize = 100_000;
const OTHER_DEVICES: usize = 20_000;
const RUNS: usize = 15;

/// A small deterministic generator (xorshift), so every run measures the same rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sql_text(v: Option<&str>) -> String {
    v.map_or("NULL".into(), |t| format!("'{}'", t.replace('\'', "''")))
}

fn sql_int(v: Option<i64>) -> String {
    v.map_or("NULL".into(), |n| n.to_string())
}

async fn insert_devices(db: &Db, lender_id: &str, n: usize, rng: &mut Rng) {
    let mut tx = db.write.begin().await.unwrap();
    for chunk in 0..n.div_ceil(500) {
        let mut values = Vec::new();
        for k in 0..500 {
            let i = chunk * 500 + k;
            if i >= n {
                break;
            }
            let created_at = T0 - 365 * DAY + rng.below(455) as i64 * DAY;
            let plan = Plan {
                currency: "KES".into(),
                grace_days: 7,
                offline_lock_after_days: Some(30),
                installments: (1..=12)
                    .map(|m| PlanInstallment {
                        due: created_at + m * 30 * DAY,
                        amount_minor: 1_000,
                    })
                    .collect(),
            };
            let plan_json = serde_json::to_string(&plan).unwrap();
            // Paid: installments due so far, sometimes fewer (arrears), sometimes all.
            let due_so_far = ((NOW - created_at) / (30 * DAY)).clamp(0, 12) as u64;
            let paid = match rng.below(10) {
                0..=5 => due_so_far * 1_000,
                6 | 7 => due_so_far.saturating_sub(1 + rng.below(4)) * 1_000 + rng.below(2) * 500,
                8 => 12_000,
                _ => 0,
            };
            let released = rng.below(20) == 0;
            let release_at = (paid >= 12_000).then(|| NOW - 5 * DAY + rng.below(14) as i64 * DAY);
            let lender_locked = rng.below(40) == 0;
            let extended = (rng.below(30) == 0).then(|| NOW + rng.below(20) as i64 * DAY);
            let enrolled = rng.below(10) != 0;
            let enrolled_at = enrolled.then_some(created_at + DAY);
            let last_checkin =
                (enrolled && rng.below(8) != 0).then(|| NOW - rng.below(10 * 86_400) as i64);
            let c = SearchColumns::of(&plan, paid, extended, released);
            let id = format!("dev-{lender_id}-{i:07}");
            values.push(format!(
                "('{id}', '{lender_id}', {created_at}, 'KES', '{plan_json}', 12000, {paid}, \
                 {released}, {locked}, {reason}, {ext}, {rel}, {key}, {secret}, {enrolled_at}, \
                 {last}, '{nonces}', 'CT-{i:07}', '{last4:04}', {fud}, {lock}, 'hash-{lender_id}-{i}')",
                released = i64::from(released),
                locked = i64::from(lender_locked),
                reason = sql_text(lender_locked.then_some("Please call us")),
                ext = sql_int(extended),
                rel = sql_int(release_at),
                key = sql_text(
                    enrolled
                        .then_some("MCowBQYDK2VwAyEAl7Vw0o6mXq3i1dQk5Kq9cR8x2yWm7p0u4Zc1aB3dE6g")
                ),
                secret =
                    sql_text(enrolled.then_some("0123456789abcdef0123456789abcdef0123456789a")),
                enrolled_at = sql_int(enrolled_at),
                last = sql_int(last_checkin),
                nonces = "n1aaaaaaaaaaaaaaaaaaaa n2bbbbbbbbbbbbbbbbbbbb n3cccccccccccccccccccc",
                last4 = rng.below(10_000),
                fud = sql_int(c.first_unpaid_due),
                lock = sql_int(c.lock_at),
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO devices (device_id, lender_id, created_at, currency, plan, total_minor, \
             paid_minor, released, lender_locked, lock_reason, extended_until, release_at, \
             device_key, offline_secret, enrolled_at, last_checkin_at, recent_nonces, \
             customer_ref, imei_last4, first_unpaid_due, lock_at, imei_sha256) VALUES {}",
            values.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn insert_payments(db: &Db, lender_id: &str, n: usize, devices: usize, rng: &mut Rng) {
    let mut tx = db.write.begin().await.unwrap();
    for chunk in 0..n.div_ceil(500) {
        let values: Vec<String> = (0..500)
            .map(|k| {
                let i = chunk * 500 + k;
                let device = rng.below(devices as u64);
                let at = NOW - rng.below(60 * 86_400) as i64;
                let voided = if rng.below(50) == 0 { "1" } else { "NULL" };
                format!(
                    "('pay-{lender_id}-{i}', 'dev-{lender_id}-{device:07}', 'k{i}', 'h', 1000, 'KES', \
                     'r{i}', {at}, 201, '{{}}', {voided})"
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO payments (payment_id, device_id, idempotency_key, request_sha256, \
             amount_minor, currency, reference, created_at, response_status, response_body, \
             voided_at) VALUES {}",
            values.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn lender(db: &Db, id: &str) {
    let row = LenderRow {
        lender_id: id.into(),
        name: id.into(),
        phone: "+254700000001".into(),
        email: None,
        payment_url: "https://pay.example/p".into(),
        support_url: None,
        jwks: "{}".into(),
        created_at: T0,
    };
    queries::insert_lender(&db.write, &row, &format!("key-{id}"))
        .await
        .unwrap();
}

/// The median of `RUNS` runs of `f` (after one warm-up run).
async fn measure<F, Fut, T>(mut f: F) -> (Duration, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let out = f().await;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let _ = f().await;
        times.push(started.elapsed());
    }
    times.sort();
    (times[RUNS / 2], out)
}

/// The cursor of the page before the last few rows of `query` (one pass, for the setup).
async fn deep_cursor(app: &App, lender_id: &str, query: &DeviceQuery) -> Option<String> {
    let mut q = DeviceQuery {
        limit: Some(500),
        ..query.clone()
    };
    let mut last = None;
    loop {
        let page = search::search(app, lender_id, &q).await.unwrap();
        match page.next_cursor {
            Some(c) => {
                last = Some(c.clone());
                q.cursor = Some(c);
            }
            None => return last,
        }
    }
}

/// Median and 95th percentile of `RUNS` requests of `path` (after a warm-up), its status
/// and body size.
async fn page_times(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
) -> (Duration, Duration, u16, usize) {
    let get = || async {
        let r = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        (status, body.len())
    };
    let (status, bytes) = get().await;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let _ = get().await;
        times.push(started.elapsed());
    }
    times.sort();
    let p95 = times[((RUNS * 95).div_ceil(100)).min(RUNS) - 1];
    (times[RUNS / 2], p95, status, bytes)
}

/// The `?cursor=` of the console's device list near its end for `query` (following the
/// pages' "next" links would take 2,000 requests; the cursor is the domain's).
async fn console_deep_cursor(app: &App, query: &DeviceQuery) -> String {
    deep_cursor(app, "acme", query).await.unwrap_or_default()
}

/// The console's pages over HTTP, signed in as an agent of `acme`.
async fn console_pages(app: Arc<App>) {
    use finlock_server::staff::accounts::{NewStaff, add_with_password};
    use finlock_server::staff::{By, Role, sessions};

    let staff = add_with_password(
        &app.db,
        By::cli("acme"),
        &NewStaff {
            email: "agent@acme.example",
            name: "Amina Agent",
            role: Role::Agent,
        },
        "correct horse battery staple",
        NOW,
    )
    .await
    .unwrap();
    let session = sessions::create(&app.db, &staff.staff_id, None, NOW)
        .await
        .unwrap();
    let cookie = format!("finlock_session={}; lang=en", session.token);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = finlock_server::http::router((*app).clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    finlock_core::checkin::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The deep page: the list's 50-per-page cursor near its end (the console's page size).
    let q = DeviceQuery {
        limit: Some(50),
        ..Default::default()
    };
    let deep = console_deep_cursor(&app, &q).await;
    let pages: Vec<(&str, String)> = vec![
        ("devices, first page", "/console/devices".into()),
        (
            "devices, deep page (keyset)",
            format!("/console/devices?cursor={deep}"),
        ),
        (
            "devices, filtered (overdue, 8-30 days)",
            "/console/devices?state=overdue&days_past_due=8-30".into(),
        ),
        (
            "devices, not seen for 3 days",
            "/console/devices?not_seen_days=3".into(),
        ),
        (
            "devices, sorted by last seen",
            "/console/devices?sort=last_seen".into(),
        ),
        ("search, IMEI suffix 4821", "/console/devices?q=4821".into()),
        (
            "search, customer ref CT-00421",
            "/console/devices?q=CT-00421".into(),
        ),
        (
            "CSV export, days past due 31-90",
            "/console/devices.csv?days_past_due=31-90".into(),
        ),
        ("dashboard", "/console/".into()),
        ("device page", "/console/devices/dev-acme-0004242".into()),
    ];
    println!();
    println!(
        "{:<40} {:>10} {:>10} {:>6} {:>10}  (console over HTTP on 127.0.0.1, {RUNS} runs)",
        "page", "median", "p95", "status", "bytes"
    );
    for (name, path) in &pages {
        let (median, p95, status, bytes) = page_times(&client, &base, &cookie, path).await;
        println!(
            "{name:<40} {:>8.1}ms {:>8.1}ms {status:>6} {bytes:>10}",
            median.as_secs_f64() * 1000.0,
            p95.as_secs_f64() * 1000.0
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::connect(&url, 1).await.unwrap();
    lender(&db, "acme").await;
    lender(&db, "beta").await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    insert_devices(&db, "acme", DEVICES, &mut rng).await;
    insert_devices(&db, "beta", OTHER_DEVICES, &mut rng).await;
    insert_payments(&db, "acme", 30_000, DEVICES, &mut rng).await;
    sqlx::query("ANALYZE").execute(&db.write).await.unwrap();
    let size = std::fs::metadata(dir.path().join("bench.db")).map_or(0, |m| m.len());
    println!(
        "setup: {DEVICES} + {OTHER_DEVICES} devices, 30000 payments in {:.1?} ({} MB)",
        started.elapsed(),
        size / 1_000_000
    );
    db.close().await;
    // Reopened: the readers a server has (the writer's connection held the inserts).
    let db = Db::connect(&url, 1).await.unwrap();
    let app = App::new(
        db,
        ManualClock::new(NOW),
        Config::local(url, dir.path().join("keys")),
        String::new(),
    );
    let app = Arc::new(app);

    let cases: Vec<(&str, DeviceQuery)> = vec![
        ("id order", DeviceQuery::default()),
        (
            "state=overdue",
            DeviceQuery {
                state: Some(DeviceStatus::Overdue),
                ..Default::default()
            },
        ),
        (
            "state=completing",
            DeviceQuery {
                state: Some(DeviceStatus::Completing),
                ..Default::default()
            },
        ),
        (
            "days_past_due=8-30",
            DeviceQuery {
                days_past_due: Some(Bucket::Days8To30),
                ..Default::default()
            },
        ),
        (
            "sort=days_past_due",
            DeviceQuery {
                sort: Sort::DaysPastDue,
                ..Default::default()
            },
        ),
        (
            "sort=registered",
            DeviceQuery {
                sort: Sort::Registered,
                ..Default::default()
            },
        ),
        (
            "sort=last_seen",
            DeviceQuery {
                sort: Sort::LastSeen,
                ..Default::default()
            },
        ),
        (
            "not_seen_days=3",
            DeviceQuery {
                not_seen_days: Some(3),
                ..Default::default()
            },
        ),
        (
            "q=CT-00421 (reference prefix)",
            DeviceQuery {
                q: Some("CT-00421".into()),
                ..Default::default()
            },
        ),
        (
            "q=4821 (IMEI digits)",
            DeviceQuery {
                q: Some("4821".into()),
                ..Default::default()
            },
        ),
    ];
    println!(
        "{:<32} {:>12} {:>12}  (50 per page, median of {RUNS})",
        "search", "first page", "deep page"
    );
    for (name, query) in &cases {
        let (first, page) = measure(|| search::search(&app, "acme", query)).await;
        let page = page.unwrap();
        let deep = match deep_cursor(&app, "acme", query).await {
            Some(cursor) => {
                let q = DeviceQuery {
                    cursor: Some(cursor),
                    ..query.clone()
                };
                let (t, _) = measure(|| search::search(&app, "acme", &q)).await;
                format!("{t:>12.2?}")
            }
            None => format!("{:>12}", "one page"),
        };
        println!(
            "{name:<32} {first:>12.2?} {deep}  ({} on the first page)",
            page.devices.len()
        );
    }
    let (t, d) = measure(|| dashboard::dashboard(&app, "acme")).await;
    let d = d.unwrap();
    println!(
        "dashboard                        {t:>12.2?}  ({} devices, {:?})",
        d.devices, d.by_state
    );
    let q = DeviceQuery {
        days_past_due: Some(Bucket::Days31To90),
        ..Default::default()
    };
    let started = Instant::now();
    let csv = search::export_csv(&app, "acme", &q).await.unwrap();
    println!(
        "export_csv days_past_due=31-90   {:>12.2?}  ({} rows, {} KB)",
        started.elapsed(),
        csv.lines().count() - 1,
        csv.len() / 1000
    );
    console_pages(app).await;
}
