//! Search, filters, orders and pages against a real SQLite database; the SQL state against
//! `policy::status`; the search columns against their pure recomputation after any
//! sequence of the lender's operations.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::clock::ManualClock;
use crate::config::Config;
use crate::db::Db;
use crate::db::queries::LenderRow;
use crate::devices::Caller;
use crate::devices::payments::{self, PaymentRequest};
use crate::devices::register::{PlanRequest, Registration};
use crate::devices::update::DeviceUpdate;
use crate::devices::voids::{self, VoidRequest};
use crate::policy::{self, DeviceFacts, PlanInstallment};

/// 2026-01-01.
const T0: i64 = 1_767_225_600;

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    clock: Arc<ManualClock>,
    acme: LenderRow,
    other: LenderRow,
}

async fn lender(db: &Db, id: &str) -> LenderRow {
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
    row
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = Db::connect(&url, 1).await.unwrap();
    let acme = lender(&db, "lnd-acme").await;
    let other = lender(&db, "lnd-other").await;
    let clock = ManualClock::new(T0);
    let config = Config::local(url, dir.path().join("keys"));
    let app = App::new(db, clock.clone(), config, String::new());
    Fixture {
        _dir: dir,
        app,
        clock,
        acme,
        other,
    }
}

/// A device row written directly (the state proptest, pagination): every column the state
/// depends on as given, the search columns as [`SearchColumns::of`] computes them.
#[derive(Debug, Clone)]
struct RawDevice {
    id: String,
    plan: Plan,
    paid_minor: u64,
    released: bool,
    lender_locked: bool,
    extended_until: Option<i64>,
    release_at: Option<i64>,
    created_at: i64,
    enrolled_at: Option<i64>,
    last_checkin_at: Option<i64>,
    customer_ref: Option<String>,
    imei_last4: Option<String>,
}

async fn insert_raw(pool: &AnyPool, lender_id: &str, d: &RawDevice) {
    let c = SearchColumns::of(&d.plan, d.paid_minor, d.extended_until, d.released);
    sqlx::query(
        "INSERT INTO devices (device_id, lender_id, created_at, currency, plan, total_minor, \
         paid_minor, released, lender_locked, lock_reason, extended_until, release_at, \
         device_key, enrolled_at, last_checkin_at, customer_ref, imei_last4, \
         first_unpaid_due, lock_at) VALUES ($1, $2, $3, 'KES', $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&d.id)
    .bind(lender_id)
    .bind(d.created_at)
    .bind(serde_json::to_string(&d.plan).unwrap())
    .bind(d.plan.total_minor() as i64)
    .bind(d.paid_minor as i64)
    .bind(i64::from(d.released))
    .bind(i64::from(d.lender_locked))
    .bind(d.lender_locked.then_some("locked by the lender"))
    .bind(d.extended_until)
    .bind(d.release_at)
    .bind(d.enrolled_at.map(|_| "key"))
    .bind(d.enrolled_at)
    .bind(d.last_checkin_at)
    .bind(&d.customer_ref)
    .bind(&d.imei_last4)
    .bind(c.first_unpaid_due)
    .bind(c.lock_at)
    .execute(pool)
    .await
    .unwrap();
}

fn status_of(d: &RawDevice, now: i64) -> DeviceStatus {
    policy::status(
        &DeviceFacts {
            plan: &d.plan,
            paid_minor: d.paid_minor,
            released: d.released,
            lender_lock: d.lender_locked.then_some("locked by the lender"),
            reminders: None,
            extended_until: d.extended_until,
            release_at: d.release_at,
        },
        now,
    )
}

const STATES: [DeviceStatus; 5] = [
    DeviceStatus::Current,
    DeviceStatus::Overdue,
    DeviceStatus::Locked,
    DeviceStatus::Completing,
    DeviceStatus::Released,
];

prop_compose! {
    fn a_plan()(
        parts in prop::collection::vec((0i64..=40, 1u64..=1_000), 1..=5),
        start in -120i64..=60,
        grace in 0u32..=10,
    ) -> Plan {
        let mut due = T0 + start * DAY;
        let installments = parts
            .into_iter()
            .map(|(gap, amount_minor)| {
                due += gap * DAY;
                PlanInstallment { due, amount_minor }
            })
            .collect();
        Plan { currency: "KES".into(), grace_days: grace, offline_lock_after_days: None, installments }
    }
}

prop_compose! {
    fn a_raw_device()(
        plan in a_plan(),
        paid_frac in 0u64..=120,
        released in prop::bool::weighted(0.15),
        lender_locked in prop::bool::weighted(0.2),
        ext in prop::option::weighted(0.3, -60i64..=120),
        rel in prop::option::weighted(0.4, -10i64..=10),
        seen in prop::option::of(-30i64..=0),
    ) -> RawDevice {
        let total = plan.total_minor();
        // Around the boundaries: nothing, part, exactly all, more than all.
        let paid_minor = total * paid_frac / 100;
        RawDevice {
            id: String::new(),
            plan,
            paid_minor,
            released,
            lender_locked,
            extended_until: ext.map(|d| T0 + d * DAY),
            release_at: rel.map(|d| T0 + d * DAY),
            created_at: T0,
            enrolled_at: seen.map(|d| T0 + d * DAY),
            last_checkin_at: None,
            customer_ref: None,
            imei_last4: None,
        }
    }
}

/// The instants a state changes at, for one device: due dates, lock, release.
fn edges(d: &RawDevice) -> Vec<i64> {
    let mut t: Vec<i64> = d.plan.installments.iter().map(|i| i.due).collect();
    let c = SearchColumns::of(&d.plan, d.paid_minor, d.extended_until, d.released);
    t.extend(c.lock_at);
    t.extend(d.release_at);
    t.push(T0);
    t
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// For random rows and a random time (on, just before or just after one of a row's
    /// edges), the SQL state filters partition the rows exactly as `policy::status` does.
    #[test]
    fn the_sql_state_is_policy_status(
        mut rows in prop::collection::vec(a_raw_device(), 1..=24),
        pick in any::<prop::sample::Index>(),
        edge in any::<prop::sample::Index>(),
        delta in -1i64..=1,
    ) {
        let rt = runtime();
        rt.block_on(async {
            let f = fixture().await;
            for (i, d) in rows.iter_mut().enumerate() {
                d.id = format!("dev-{i:03}");
                insert_raw(&f.app.db.write, &f.acme.lender_id, d).await;
            }
            let row = &rows[pick.index(rows.len())];
            let e = edges(row);
            let now = e[edge.index(e.len())] + delta;
            for state in STATES {
                let sql = format!(
                    "SELECT device_id FROM devices WHERE lender_id = $1 AND {} ORDER BY device_id",
                    state_sql(state, "$2")
                );
                let got: Vec<String> = sqlx::query(&sql)
                    .bind(&f.acme.lender_id)
                    .bind(now)
                    .fetch_all(&f.app.db.read)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get("device_id").unwrap())
                    .collect();
                let want: Vec<String> = rows
                    .iter()
                    .filter(|d| status_of(d, now) == state)
                    .map(|d| d.id.clone())
                    .collect();
                assert_eq!(got, want, "state {state:?} at {now}: {rows:#?}");
            }
            f.app.db.close().await;
        });
    }
}

// ---- the search columns after the lender's operations ---------------------------------

fn request(plan: &Plan) -> PlanRequest {
    PlanRequest {
        currency: plan.currency.clone(),
        grace_days: plan.grace_days,
        offline_lock_after_days: plan.offline_lock_after_days,
        installments: plan.installments.clone(),
    }
}

async fn stored_columns_match(app: &App, id: &str) {
    let row = queries::device(&app.db.read, id).await.unwrap().unwrap();
    let plan: Plan = serde_json::from_str(&row.plan).unwrap();
    let want = SearchColumns::of(&plan, row.paid_minor, row.extended_until, row.released);
    let r = sqlx::query("SELECT first_unpaid_due, lock_at FROM devices WHERE device_id = $1")
        .bind(id)
        .fetch_one(&app.db.read)
        .await
        .unwrap();
    let got = SearchColumns {
        first_unpaid_due: r.try_get("first_unpaid_due").unwrap(),
        lock_at: r.try_get("lock_at").unwrap(),
    };
    assert_eq!(got, want, "device {id}: paid {}", row.paid_minor);
}

#[derive(Debug, Clone)]
enum Op {
    Pay(u64, bool),
    VoidNth(usize),
    Reschedule(i64, u64),
    Extend(i64),
    Release,
    Lock,
    Unlock,
    Cancel,
    Wait(i64),
}

fn an_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..=2_500, prop::bool::weighted(0.2)).prop_map(|(a, o)| Op::Pay(a, o)),
        2 => (0usize..4).prop_map(Op::VoidNth),
        2 => (-20i64..=40, 1u64..=1_500).prop_map(|(s, a)| Op::Reschedule(s, a)),
        2 => (1i64..=60).prop_map(Op::Extend),
        1 => Just(Op::Release),
        1 => Just(Op::Lock),
        1 => Just(Op::Unlock),
        1 => Just(Op::Cancel),
        2 => (1i64..=20).prop_map(Op::Wait),
    ]
}

/// Applies `op` through the domain operation a lender calls; refusals are fine (the
/// property is about what is stored either way), faults are not.
async fn apply(f: &Fixture, id: &str, op: &Op, n: usize) {
    let by = Caller::lender(&f.acme, None);
    let row = crate::devices::owned(&f.app, &f.acme.lender_id, id)
        .await
        .unwrap();
    let result = match op {
        Op::Pay(amount, over) => payments::record(
            &f.app,
            by,
            &row,
            &format!("k{n}"),
            &PaymentRequest {
                amount_minor: *amount,
                currency: "KES".into(),
                reference: format!("r{n}"),
                allow_overpayment: *over,
            },
        )
        .await
        .map(|_| ()),
        Op::VoidNth(i) => {
            let (list, _) = payments::list(&f.app, &row, None, None).await.unwrap();
            match list.get(*i) {
                Some(p) => voids::void(
                    &f.app,
                    by,
                    &row,
                    &p.payment_id,
                    &VoidRequest {
                        reason: "bounced".into(),
                    },
                )
                .await
                .map(|_| ()),
                None => Ok(()),
            }
        }
        Op::Reschedule(shift, amount) => {
            let mut plan: Plan = serde_json::from_str(&row.plan).unwrap();
            let last = plan.installments.last().map_or(T0, |i| i.due);
            plan.installments.push(PlanInstallment {
                due: last + 30 * DAY,
                amount_minor: *amount,
            });
            // Move the unpaid ones (the rules keep the paid ones).
            let mut left = row.paid_minor;
            for inst in plan.installments.iter_mut() {
                if left >= inst.amount_minor {
                    left -= inst.amount_minor;
                } else {
                    inst.due += shift * DAY;
                }
            }
            plan.installments.sort_by_key(|i| i.due);
            crate::devices::update::update(
                &f.app,
                by,
                &row,
                &DeviceUpdate {
                    plan: Some(request(&plan)),
                    reason: Some("agreed".into()),
                    allow_earlier_lock: true,
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
        }
        Op::Extend(days) => {
            let until = f.app.now() + days * DAY;
            crate::devices::actions::extend(&f.app, by, &row, until, "promise")
                .await
                .map(|_| ())
        }
        Op::Release => crate::devices::actions::release(&f.app, by, &row)
            .await
            .map(|_| ()),
        Op::Lock => crate::devices::actions::lock(&f.app, by, &row, "call us")
            .await
            .map(|_| ()),
        Op::Unlock => crate::devices::actions::unlock(&f.app, by, &row)
            .await
            .map(|_| ()),
        Op::Cancel => crate::devices::update::cancel(&f.app, by, &row, "walked away")
            .await
            .map(|_| ()),
        Op::Wait(days) => {
            f.clock.advance(days * DAY);
            Ok(())
        }
    };
    if let Err(e @ (Error::Db(_) | Error::Internal(_))) = result {
        panic!("{op:?}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// After any sequence of registrations, payments, voids, reschedules, extensions,
    /// locks, releases and cancellations, the stored search columns are exactly their
    /// pure recomputation from the stored row.
    #[test]
    fn stored_search_columns_follow_every_write(
        plan in a_plan(),
        window in prop_oneof![Just(0i64), Just(2 * DAY)],
        ops in prop::collection::vec(an_op(), 1..=12),
    ) {
        let rt = runtime();
        rt.block_on(async {
            let f = fixture().await;
            crate::devices::completing::set_window(
                &f.app,
                &f.acme.lender_id,
                crate::devices::completing::CompletingWindow { completing_window_s: window },
            )
            .await
            .unwrap();
            // Registration checks the plan as a device would; make it a future plan.
            let mut plan = plan;
            for i in plan.installments.iter_mut() {
                i.due += 200 * DAY;
            }
            let reg = crate::devices::register::register(
                &f.app,
                Caller::lender(&f.acme, None),
                &Registration {
                    imei: None,
                    auto_reprovision: false,
                    plan: request(&plan),
                    reminders: None,
                    customer_ref: Some("CT-1".into()),
                },
            )
            .await
            .unwrap();
            stored_columns_match(&f.app, &reg.device_id).await;
            for (n, op) in ops.iter().enumerate() {
                apply(&f, &reg.device_id, op, n).await;
                stored_columns_match(&f.app, &reg.device_id).await;
            }
            f.app.db.close().await;
        });
    }
}

// ---- search, pages, isolation --------------------------------------------------------

fn raw(i: usize) -> RawDevice {
    let plan = Plan {
        currency: "KES".into(),
        grace_days: 7,
        offline_lock_after_days: None,
        installments: (0..3)
            .map(|k| PlanInstallment {
                due: T0 + (i as i64 % 13 - 6) * 9 * DAY + k * 30 * DAY,
                amount_minor: 1_000,
            })
            .collect(),
    };
    RawDevice {
        id: format!("dev-{i:03}"),
        plan,
        paid_minor: [0, 500, 1_000, 3_000][i % 4],
        released: i.is_multiple_of(11),
        lender_locked: i.is_multiple_of(9),
        extended_until: None,
        release_at: (i % 4 == 3).then_some(T0 + (i as i64 % 3) * DAY),
        // Ties on purpose: the id breaks them.
        created_at: T0 - (i as i64 % 7) * DAY,
        enrolled_at: (!i.is_multiple_of(5)).then_some(T0 - 40 * DAY),
        last_checkin_at: (i % 5 > 1).then_some(T0 - (i as i64 % 6) * DAY),
        customer_ref: Some(format!("CT-{:04}", i * 7)),
        imei_last4: i.is_multiple_of(2).then(|| format!("{:04}", 1000 + i)),
    }
}

async fn all_pages(app: &App, lender_id: &str, query: &DeviceQuery) -> Vec<DeviceView> {
    let mut out = Vec::new();
    let mut q = query.clone();
    loop {
        let page = search(app, lender_id, &q).await.unwrap();
        assert!(page.devices.len() <= q.limit.unwrap_or(50) as usize);
        out.extend(page.devices);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

/// The sort key of a view, as the orders define it (smaller first).
fn key(sort: Sort, v: &DeviceView, d: &RawDevice) -> (u8, i64) {
    match sort {
        Sort::DeviceId => (0, 0),
        Sort::Registered => (0, -v.created_at),
        Sort::DaysPastDue => {
            match SearchColumns::of(&d.plan, d.paid_minor, None, d.released).first_unpaid_due {
                Some(due) => (0, due),
                None => (1, 0),
            }
        }
        Sort::LastSeen => match d.last_checkin_at.or(d.enrolled_at) {
            Some(t) => (0, t),
            None => (1, 0),
        },
    }
}

#[tokio::test]
async fn every_device_once_across_pages_in_each_order_and_filter() {
    let f = fixture().await;
    let rows: Vec<RawDevice> = (0..61).map(raw).collect();
    for d in &rows {
        insert_raw(&f.app.db.write, &f.acme.lender_id, d).await;
    }
    // Another lender's devices never appear.
    for i in 0..5 {
        let mut d = raw(i);
        d.id = format!("dev-x{i}");
        insert_raw(&f.app.db.write, &f.other.lender_id, &d).await;
    }
    let now = f.app.now();
    let by_id = |id: &str| rows.iter().find(|d| d.id == id).unwrap();
    for sort in [
        Sort::DeviceId,
        Sort::Registered,
        Sort::DaysPastDue,
        Sort::LastSeen,
    ] {
        for state in [
            None,
            Some(DeviceStatus::Overdue),
            Some(DeviceStatus::Locked),
        ] {
            let query = DeviceQuery {
                sort,
                state,
                limit: Some(7),
                ..Default::default()
            };
            let got = all_pages(&f.app, &f.acme.lender_id, &query).await;
            let mut want: Vec<&RawDevice> = rows
                .iter()
                .filter(|d| state.is_none_or(|s| status_of(d, now) == s))
                .collect();
            want.sort_by_key(|d| d.id.clone());
            let mut ids: Vec<String> = got.iter().map(|v| v.device_id.clone()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "{sort:?} {state:?}: a device twice");
            assert_eq!(
                ids,
                want.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
                "{sort:?} {state:?}"
            );
            // In order: the key, then the id (descending ids for newest first).
            for pair in got.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let (ka, kb) = (
                    key(sort, a, by_id(&a.device_id)),
                    key(sort, b, by_id(&b.device_id)),
                );
                assert!(ka <= kb, "{sort:?}: {ka:?} then {kb:?}");
                if ka == kb {
                    if sort == Sort::Registered {
                        assert!(a.device_id > b.device_id);
                    } else {
                        assert!(a.device_id < b.device_id);
                    }
                }
            }
            for v in &got {
                assert_eq!(v.state, status_of(by_id(&v.device_id), now));
            }
        }
    }
    // A cursor of one order is refused by another, naming the parameter.
    let err = search(
        &f.app,
        &f.acme.lender_id,
        &DeviceQuery {
            sort: Sort::LastSeen,
            cursor: Some("dev-001".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Invalid { ref field, .. } if field == "cursor"),
        "{err}"
    );
    // A cursor with a control character (a NUL would be a PostgreSQL error) is refused.
    for bad in ["dev-\0", "k.1.dev\n"] {
        for sort in [Sort::DeviceId, Sort::Registered] {
            let err = search(
                &f.app,
                &f.acme.lender_id,
                &DeviceQuery {
                    sort,
                    cursor: Some(bad.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, Error::Invalid { ref field, .. } if field == "cursor"),
                "{err}"
            );
        }
    }
    f.app.db.close().await;
}

async fn ids_for(f: &Fixture, query: DeviceQuery) -> Vec<String> {
    all_pages(&f.app, &f.acme.lender_id, &query)
        .await
        .into_iter()
        .map(|v| v.device_id)
        .collect()
}

fn q(text: &str) -> DeviceQuery {
    DeviceQuery {
        q: Some(text.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn search_by_device_id_customer_ref_and_imei_digits() {
    let f = fixture().await;
    let by = Caller::lender(&f.acme, None);
    let plan = Plan {
        currency: "KES".into(),
        grace_days: 7,
        offline_lock_after_days: None,
        installments: vec![PlanInstallment {
            due: T0 + 30 * DAY,
            amount_minor: 1_000,
        }],
    };
    let mut ids = Vec::new();
    for (imei, customer_ref) in [
        (Some("35-209900-176148-1"), Some("CT-2026/0042")),
        (Some("490154203237518"), Some("ct-2026/0100")),
        (None, Some("100%_sure!")),
        (Some("356938035643809"), None),
    ] {
        let reg = crate::devices::register::register(
            &f.app,
            by,
            &Registration {
                imei: imei.map(str::to_string),
                auto_reprovision: false,
                plan: request(&plan),
                reminders: None,
                customer_ref: customer_ref.map(str::to_string),
            },
        )
        .await
        .unwrap();
        ids.push(reg.device_id);
    }
    // Another lender's device with the same reference and IMEI digits never appears.
    crate::devices::register::register(
        &f.app,
        Caller::lender(&f.other, None),
        &Registration {
            imei: Some("35 209900 176148 1".into()),
            auto_reprovision: false,
            plan: request(&plan),
            reminders: None,
            customer_ref: Some("CT-2026/0042".into()),
        },
    )
    .await
    .unwrap_err(); // the IMEI has one owner...
    crate::devices::register::register(
        &f.app,
        Caller::lender(&f.other, None),
        &Registration {
            imei: Some("352099001761499".into()),
            auto_reprovision: false,
            plan: request(&plan),
            reminders: None,
            customer_ref: Some("CT-2026/0042".into()),
        },
    )
    .await
    .unwrap(); // ...but the reference is the other lender's own business.
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // The exact device id.
    assert_eq!(ids_for(&f, q(&ids[2])).await, vec![ids[2].clone()]);
    // A customer reference, whole or its start, any ASCII case; LIKE's wildcards are text.
    assert_eq!(ids_for(&f, q("CT-2026/0042")).await, vec![ids[0].clone()]);
    assert_eq!(
        ids_for(&f, q("ct-2026/")).await,
        sorted(vec![ids[0].clone(), ids[1].clone()])
    );
    assert_eq!(ids_for(&f, q("100%_")).await, vec![ids[2].clone()]);
    assert!(ids_for(&f, q("100_")).await.is_empty());
    assert!(ids_for(&f, q("%")).await.is_empty());
    assert!(
        ids_for(&f, q("2026/0042")).await.is_empty(),
        "a prefix, not a substring"
    );
    // IMEI digits: the last four, fewer of them, or more (the last four compared).
    assert_eq!(ids_for(&f, q("7518")).await, vec![ids[1].clone()]);
    assert_eq!(ids_for(&f, q("809")).await, vec![ids[3].clone()]);
    // "1": the IMEI ending in 1, and the reference starting with 1.
    assert_eq!(
        ids_for(&f, q("1")).await,
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
    assert_eq!(ids_for(&f, q("76148-1")).await, vec![ids[0].clone()]);
    assert!(ids_for(&f, q("9999")).await.is_empty());
    // A whole IMEI, as typed at the counter: its hash.
    assert_eq!(
        ids_for(&f, q("35 209900 176148 1")).await,
        vec![ids[0].clone()]
    );
    // The views carry the references.
    let page = search(&f.app, &f.acme.lender_id, &q("7518")).await.unwrap();
    assert_eq!(
        page.devices[0].customer_ref.as_deref(),
        Some("ct-2026/0100")
    );
    assert_eq!(page.devices[0].imei_last4.as_deref(), Some("7518"));
    // Bad input names its parameter.
    for bad in ["x".repeat(65), "a\nb".into()] {
        let err = search(&f.app, &f.acme.lender_id, &q(&bad))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Invalid { ref field, .. } if field == "q"),
            "{err}"
        );
    }
    let err = search(
        &f.app,
        &f.acme.lender_id,
        &DeviceQuery {
            not_seen_days: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Invalid { ref field, .. } if field == "not_seen_days"));
    f.app.db.close().await;
}

#[tokio::test]
async fn days_past_due_and_not_seen_filters() {
    let f = fixture().await;
    let rows: Vec<RawDevice> = (0..61).map(raw).collect();
    for d in &rows {
        insert_raw(&f.app.db.write, &f.acme.lender_id, d).await;
    }
    let now = f.app.now();
    let mut total = 0;
    for bucket in Bucket::ALL {
        let got = ids_for(
            &f,
            DeviceQuery {
                days_past_due: Some(bucket),
                ..Default::default()
            },
        )
        .await;
        let (first, last) = bucket.days();
        let want: Vec<String> = rows
            .iter()
            .filter(|d| {
                let c = SearchColumns::of(&d.plan, d.paid_minor, None, d.released);
                c.first_unpaid_due.is_some_and(|due| {
                    let dpd = days_past_due(due, now);
                    dpd >= first && last.is_none_or(|l| dpd <= l)
                })
            })
            .map(|d| d.id.clone())
            .collect();
        assert_eq!(got, want, "{bucket:?}");
        total += got.len();
    }
    assert!(total > 0, "the fixture has arrears");
    for days in [1, 3, 5] {
        let got = ids_for(
            &f,
            DeviceQuery {
                not_seen_days: Some(days),
                ..Default::default()
            },
        )
        .await;
        let want: Vec<String> = rows
            .iter()
            .filter(|d| d.enrolled_at.is_some() && status_of(d, now) != DeviceStatus::Released)
            .filter(|d| d.last_checkin_at.or(d.enrolled_at).unwrap() <= now - i64::from(days) * DAY)
            .map(|d| d.id.clone())
            .collect();
        assert_eq!(got, want, "not seen {days}");
        assert!(!got.is_empty());
    }
    f.app.db.close().await;
}

#[test]
fn days_past_due_counts_a_started_day() {
    let due = T0;
    assert_eq!(days_past_due(due, due), 0);
    assert_eq!(days_past_due(due, due - 1), 0);
    assert_eq!(days_past_due(due, due + 1), 1);
    assert_eq!(days_past_due(due, due + DAY), 1);
    assert_eq!(days_past_due(due, due + DAY + 1), 2);
    for bucket in Bucket::ALL {
        let (from, to) = bucket.due_range(T0);
        let (first, last) = bucket.days();
        // The newest due date in the bucket has `first` days past due, the oldest `last`.
        assert_eq!(days_past_due(to - 1, T0), first);
        assert_eq!(days_past_due(to, T0), first - 1);
        if let (Some(from), Some(last)) = (from, last) {
            assert_eq!(days_past_due(from, T0), last);
            assert_eq!(days_past_due(from - 1, T0), last + 1);
        }
    }
    assert_eq!(Bucket::parse("90+").unwrap(), Bucket::Over90);
    assert!(Bucket::parse("90").is_err());
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_text() {
    assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(csv_field("+254700"), "'+254700");
    assert_eq!(csv_field("-1"), "'-1");
    assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_field("\tx"), "'\tx");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    assert_eq!(csv_field("CT-1"), "CT-1");
    assert_eq!(csv_field(""), "");
}

#[tokio::test]
async fn the_export_has_a_header_every_match_and_escaped_cells() {
    let f = fixture().await;
    for i in 0..3 {
        let mut d = raw(i * 4 + 1);
        d.customer_ref = Some(format!("=cmd|' /C calc'!A{i}"));
        insert_raw(&f.app.db.write, &f.acme.lender_id, &d).await;
    }
    let mut other = raw(2);
    other.id = "dev-other".into();
    insert_raw(&f.app.db.write, &f.other.lender_id, &other).await;
    let csv = export_csv(&f.app, &f.acme.lender_id, &DeviceQuery::default())
        .await
        .unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert_eq!(lines.len(), 4, "{csv}");
    for line in &lines[1..] {
        assert!(line.starts_with("dev-0"), "{line}");
        assert!(line.contains(",'=cmd|' /C calc'!A"), "{line}");
    }
    assert!(!csv.contains("dev-other"));
    f.app.db.close().await;
}

#[tokio::test]
async fn the_backfill_computes_old_rows_once() {
    let f = fixture().await;
    let mut d = raw(1);
    d.paid_minor = 500;
    insert_raw(&f.app.db.write, &f.acme.lender_id, &d).await;
    // As a row from before migration 0013: no search columns, listed for the backfill.
    sqlx::query("UPDATE devices SET first_unpaid_due = NULL, lock_at = NULL")
        .execute(&f.app.db.write)
        .await
        .unwrap();
    sqlx::query("INSERT INTO device_search_backfill (device_id) VALUES ($1)")
        .bind(&d.id)
        .execute(&f.app.db.write)
        .await
        .unwrap();
    assert_eq!(backfill(&f.app.db.write).await.unwrap(), 1);
    stored_columns_match(&f.app, &d.id).await;
    assert_eq!(backfill(&f.app.db.write).await.unwrap(), 0, "once");
    f.app.db.close().await;
}
