//! How long from a lender's action to the phone's new state when the phone is woken by
//! the push (issue 17's figure): 100 unlocks of a lender-locked phone on loopback, each
//! timed from the lender's `POST …/unlock` to the phone's accepted check-in saying
//! unlocked — outbox, dispatcher, push, the phone's `push_arrived`, its check-in. Without
//! the push the same phone learns at its next scheduled check-in (hourly: 30 min on
//! average). Prints the median and p99; fails if p99 passes 2 s.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode as AxStatus;
use common::{SimDevice, TestServer};
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

/// The lender acts; the phone waits for its push, then checks in as the app does.
async fn act_and_wake(
    s: &TestServer,
    api_key: &str,
    path: &str,
    phone: &mut SimDevice,
    woke: &Notify,
) -> Duration {
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
    let clock = phone.clock(s);
    assert!(
        phone.state.push_arrived(&clock).expect("push_arrived"),
        "the phone checks in on this push"
    );
    phone.checkin(s).await;
    started.elapsed()
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
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    let clock = phone.clock(&s);
    phone
        .state
        .set_push_endpoint(&endpoint, &clock)
        .expect("endpoint");
    phone.enroll(&s, &code).await;

    let lock = format!("/v1/lender/devices/{id}/lock");
    let unlock = format!("/v1/lender/devices/{id}/unlock");
    let mut took = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        act_and_wake(&s, &lender.api_key, &lock, &mut phone, &woke).await;
        assert!(phone.locked(&s));
        took.push(act_and_wake(&s, &lender.api_key, &unlock, &mut phone, &woke).await);
        assert!(!phone.locked(&s));
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
