//! How long from a lender's action to the phone's new state when the phone is woken by
//! the push (issue 17's figure): 100 unlocks of a lender-locked phone on loopback, each
//! timed from the lender's `POST …/unlock` to the phone's accepted check-in saying
//! unlocked — outbox, dispatcher, push, the phone's `push_arrived`, its check-in. Without
//! the push the same phone learns at its next scheduled check-in (hourly: 30 min on
//! average). Prints the median and p99; fails if p99 passes 2 s.
//!
//! Each lock reaches the phone as a notice first (PROTOCOL §3.7): the phone shows its notice
//! page, and locks a day of running time later — the test's phone keeps its own monotonic
//! clock, moved with the server's, so that day passes on both — before the unlock is timed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode as AxStatus;
use common::{SimDevice, TestServer};
use finlock_core::clock::ClockInput;
use finlock_core::decision::Level;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

const RUNS: usize = 100;

/// A push service on loopback that wakes the test on every POST.
async fn push_service() -> (Arc<Notify>, String) {
    let woke = Arc::new(Notify::new());
    let w = woke.clone();
    let app = axum::Router::new().fallback(move || {
        let w = w.clone();
        async move {
            w.notify_one();
            AxStatus::CREATED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/push/latency",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (woke, url)
}

/// The phone's clock: the server's time, and an uptime that runs with it (one boot).
struct PhoneClock {
    /// Server time and uptime when this clock took over from the enrollment's.
    start: i64,
    base_ms: u64,
    ticks: u64,
}

impl PhoneClock {
    fn now(&mut self, s: &TestServer) -> ClockInput {
        // Strictly increasing within a second of server time, as a real uptime is.
        self.ticks += 1;
        let ran_s = u64::try_from(s.now() - self.start).expect("time runs forward");
        ClockInput {
            wall_ms: s.now() * 1000,
            uptime_ms: self.base_ms + ran_s * 1000 + self.ticks,
            boot: 1,
        }
    }
}

/// One check-in at `clock`, accepted by the phone.
async fn check_in(s: &TestServer, phone: &mut SimDevice, clock: &ClockInput) -> Level {
    let out = phone
        .state
        .checkin_request(clock, "1.0.0", &common::rng())
        .expect("check-in request");
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    phone
        .state
        .complete_checkin(&out, &bytes, clock)
        .expect("the phone accepts the entitlement");
    phone.state.evaluate(clock).decision.level
}

/// The lender acts; the phone waits for its push, then checks in as the app does: the
/// time it took, and the phone's level after it.
async fn act_and_wake(
    s: &TestServer,
    api_key: &str,
    path: &str,
    phone: &mut SimDevice,
    clock: &mut PhoneClock,
    woke: &Notify,
) -> (Duration, Level) {
    // Past the phone's check-now window since the last push.
    s.clock.advance(31);
    let started = Instant::now();
    let r = s
        .http
        .post(format!("{}{path}", s.url))
        .bearer_auth(api_key)
        .json(&if path.ends_with("/lock") {
            json!({ "reason": "Please call us" })
        } else {
            json!({})
        })
        .send()
        .await
        .expect("lender request");
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(5), woke.notified())
        .await
        .expect("the push arrives");
    let now = clock.now(s);
    // As the app does: check in when the core says so on the push, or when a check-in is
    // due anyway (after the day the lock waited, the scheduled one is).
    let due = phone.state.checkin.next_at <= phone.state.evaluate(&now).reading.now();
    assert!(
        phone.state.push_arrived(&now).expect("push_arrived") || due,
        "the phone checks in on this push"
    );
    let level = check_in(s, phone, &now).await;
    (started.elapsed(), level)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lender_unlock_to_phone_unlocked_by_push() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("finlock.db").display());
    let s = common::start_in(dir, url, |c| {
        c.checkin_min_interval_s = 0;
        c.push.policy.allow_http_loopback = true;
        c.push.coalesce = Duration::ZERO;
    })
    .await;
    let (woke, endpoint) = push_service().await;
    let lender = s.lender("Acme").await;
    // Each run's lock takes a day of the phone's running time: the plan's first due date is
    // past the runs' hundred-odd days, so every unlock finds the phone in good standing.
    let first_due = s.now() + 365 * 86_400;
    let installments: Vec<_> = (0..6)
        .map(|i| json!({ "due": first_due + i * 30 * 86_400, "amount_minor": 1000 }))
        .collect();
    let plan = json!({ "currency": "KES", "grace_days": 7, "offline_lock_after_days": 30,
                       "installments": installments });
    let (id, code) = s.register(&lender, json!({ "plan": plan })).await;
    let mut phone = SimDevice::new(&s, &lender);
    let first = phone.clock(&s);
    phone
        .state
        .set_push_endpoint(&endpoint, &first)
        .expect("endpoint");
    phone.enroll(&s, &code).await;
    // The shared simulated device's clock took a second per reading while enrolling: go on
    // from just past it.
    let mut clock = PhoneClock {
        start: s.now(),
        base_ms: first.uptime_ms + 5_000,
        ticks: 0,
    };

    let lock = format!("/v1/lender/devices/{id}/lock");
    let unlock = format!("/v1/lender/devices/{id}/unlock");
    let mut took = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (_, level) =
            act_and_wake(&s, &lender.api_key, &lock, &mut phone, &mut clock, &woke).await;
        // The lock's notice, held until it has been on the phone for a day.
        assert_eq!(level, Level::Notice);
        let now = clock.now(&s);
        assert!(
            phone.state.notice_shown(&now).expect("notice_shown"),
            "a new episode"
        );
        s.clock.advance(86_400 + 60);
        let now = clock.now(&s);
        assert_eq!(phone.state.evaluate(&now).decision.level, Level::Locked);
        let (t, level) =
            act_and_wake(&s, &lender.api_key, &unlock, &mut phone, &mut clock, &woke).await;
        assert_eq!(level, Level::Normal, "unlocked by the push's check-in");
        took.push(t);
    }
    took.sort();
    let median = took[RUNS / 2];
    let p99 = took[RUNS * 99 / 100 - 1];
    eprintln!(
        "lender unlock -> phone unlocked by push, {RUNS} runs on loopback: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        took[RUNS - 1].as_secs_f64() * 1e3
    );
    assert!(p99 < Duration::from_secs(2), "p99 {p99:?}");
}
