//! Webhooks out (issue 17 item 2) over real HTTP on loopback: a receiver on 127.0.0.1
//! that verifies every Standard Webhooks signature as a lender's would, and answers as
//! each test scripts it. The server's retry schedule is set per test, in seconds of its
//! `ManualClock`, so retries and dead letters take milliseconds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use finlock_server::webhooks::signing;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start_with;
use crate::common::{DAY, Lender, SimDevice, T0, TestServer, problem};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    id: String,
    body: Value,
    /// The signature verified with the endpoint's secret, within 5 minutes.
    signed: bool,
    /// What the receiver answered.
    answered: u16,
}

type Script = Arc<dyn Fn(&Value, usize) -> u16 + Send + Sync>;

/// A lender's receiver on loopback.
struct Receiver {
    url: String,
    secret: Arc<Mutex<String>>,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// `script(body, nth request for this event id)` → the status to answer.
    async fn start(script: Script) -> Receiver {
        let secret = Arc::new(Mutex::new(String::new()));
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let (s, g) = (secret.clone(), got.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (s, g, script) = (s.clone(), g.clone(), script.clone());
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let id = h("webhook-id");
                    let ts: i64 = h("webhook-timestamp").parse().unwrap_or(0);
                    let secret = s.lock().unwrap().clone();
                    let signed =
                        signing::verify(&secret, &id, ts, &body, &h("webhook-signature"), ts, 300)
                            .is_ok();
                    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let mut g = g.lock().unwrap();
                    let nth = g.iter().filter(|x| x.id == id).count();
                    let answered = script(&value, nth);
                    g.push(Got {
                        id,
                        body: value,
                        signed,
                        answered,
                    });
                    AxumStatus::from_u16(answered).unwrap_or(AxumStatus::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            secret,
            got,
        }
    }

    fn ok() -> Script {
        Arc::new(|_, _| 200)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// The events delivered (answered 2xx), in arrival order.
    fn delivered(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| (200..300).contains(&g.answered))
            .collect()
    }

    /// Waits (at most 10 s) until `done` holds for what was received.
    async fn wait(&self, what: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        for _ in 0..500 {
            let got = self.got();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}: {:#?}", self.got());
    }

    async fn wait_kinds(&self, kinds: &[&str]) -> Vec<Got> {
        let want: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        self.wait(&format!("{kinds:?}"), |got| {
            let delivered: Vec<String> = got
                .iter()
                .filter(|g| (200..300).contains(&g.answered))
                .map(|g| g.body["type"].as_str().unwrap_or("").to_string())
                .collect();
            delivered == want
        })
        .await
    }
}

/// A server that may call loopback receivers, scans at every poll, and retries at once.
async fn server(schedule: Vec<u64>) -> TestServer {
    start_with(|c| {
        c.webhooks.rules.allow_http_loopback = true;
        c.webhooks.schedule = schedule;
        c.webhooks.poll = Duration::from_millis(50);
        c.webhooks.scan_every = Duration::ZERO;
        c.webhooks.timeout = Duration::from_secs(2);
    })
    .await
}

/// Adds the receiver as `lender`'s endpoint (all kinds unless `events`) and gives it the
/// secret.
async fn subscribe(s: &TestServer, lender: &Lender, rx: &Receiver, events: Option<Value>) -> Value {
    let mut body = json!({ "url": rx.url });
    if let Some(e) = events {
        body["events"] = e;
    }
    let r = s.post(lender, "/v1/lender/webhooks/endpoints", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let secret = v["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{v}");
    *rx.secret.lock().unwrap() = secret.to_string();
    v
}

async fn event_count(s: &TestServer) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM webhook_events")
        .fetch_one(&s.handle.db().read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn every_event_kind_is_delivered_signed_with_its_payload() {
    let s = server(vec![0, 0]).await;
    let lender = s.lender("Acme").await;
    let rx = Receiver::start(Receiver::ok()).await;
    subscribe(&s, &lender, &rx, None).await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    rx.wait_kinds(&["device.enrolled"]).await;

    let path = |p: &str| format!("/v1/lender/devices/{id}/{p}");
    let r = s
        .post(
            &lender,
            &path("lock"),
            json!({ "reason": "Reported stolen" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.post(&lender, &path("unlock"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Found by the scan: silent for the lender's 3 days, then locked by time (overdue).
    s.clock.advance(38 * DAY);
    rx.wait_kinds(&[
        "device.enrolled",
        "device.locked",
        "device.unlocked",
        "device.silent",
        "device.locked",
    ])
    .await;
    let r = s
        .post(
            &lender,
            &path("extension"),
            json!({ "until": s.now() + 5 * DAY, "reason": "promised to pay Friday" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.pay(&lender, &id, 1000, "p1").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let payment: Value = r.json().await.unwrap();
    let pid = payment["payment_id"].as_str().unwrap().to_string();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/payments/{pid}/void"),
            json!({ "reason": "bounced" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let installments: Vec<Value> = (1..=3)
        .map(|i| json!({ "due": s.now() + i * 30 * DAY, "amount_minor": 2000 }))
        .collect();
    let plan = json!({ "currency": "KES", "grace_days": 7, "offline_lock_after_days": 30,
                       "installments": installments });
    let r = s
        .http
        .patch(format!("{}/v1/lender/devices/{id}", s.url))
        .bearer_auth(&lender.api_key)
        .json(&json!({ "plan": plan, "reason": "restructured" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = s.pay(&lender, &id, 6000, "p2").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s.post(&lender, &path("release"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = rx
        .wait_kinds(&[
            "device.enrolled",
            "device.locked",
            "device.unlocked",
            "device.silent",
            "device.locked",
            "device.extended",
            "payment.recorded",
            "payment.voided",
            "device.rescheduled",
            "payment.recorded",
            "device.completing",
            "device.released",
        ])
        .await;

    let mut order = 0;
    for g in &got {
        assert!(g.signed, "a valid signature on {}", g.body);
        assert_eq!(g.body["id"], g.id.as_str(), "webhook-id is the event id");
        assert_eq!(g.body["data"]["device_id"], id.as_str());
        assert_eq!(g.body["data"]["lender_id"], lender.id.as_str());
        order += 1;
        assert_eq!(g.body["data"]["device_order"], order, "numbered per device");
        // No personal data: no IMEI, no lender phone, no payment reference.
        let text = g.body.to_string();
        assert!(!text.contains("+2547") && !text.contains("ref-p"), "{text}");
    }
    let data = |i: usize| got[i].body["data"].clone();
    assert_eq!(data(0)["enrollment"], "enrolled");
    assert_eq!(data(1)["cause"], "lender");
    assert_eq!(data(1)["reason"], "Reported stolen");
    assert_eq!(data(3)["silent_after_days"], 3);
    assert_eq!(data(3)["last_seen_at"], T0);
    assert_eq!(data(4)["cause"], "overdue");
    assert_eq!(data(4)["lock_at"], T0 + 37 * DAY);
    assert_eq!(data(5)["until"], T0 + 43 * DAY);
    assert_eq!(data(6)["payment_id"], pid.as_str());
    assert_eq!(data(6)["amount_minor"], 1000);
    assert_eq!(data(6)["currency"], "KES");
    assert_eq!(data(7)["reason"], "bounced");
    assert_eq!(data(7)["paid_minor"], 0);
    assert!(data(8)["lock_at_after"].as_i64().unwrap() > T0 + 38 * DAY);
    assert_eq!(data(9)["paid_minor"], 6000);
    assert!(data(10)["release_at"].is_i64());
    assert_eq!(data(11)["reason"], "lender_request");
    assert_eq!(got[0].body["timestamp"], "2026-01-01T00:00:00Z");

    // Silent once per silence: more days of silence send nothing more.
    s.clock.advance(5 * DAY);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.delivered().len(), 12);
}

/// The lender's own log (`lender_audit`): (actor, action, detail, api_key_id), oldest first.
async fn lender_log(
    s: &TestServer,
    lender: &Lender,
) -> Vec<(String, String, Value, Option<String>)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT actor, action, detail, api_key_id FROM lender_audit WHERE lender_id = $1 ORDER BY n",
    )
    .bind(&lender.id)
    .fetch_all(&s.handle.db().read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        let detail: String = r.try_get("detail").unwrap();
        (
            r.try_get("actor").unwrap(),
            r.try_get("action").unwrap(),
            serde_json::from_str(&detail).unwrap(),
            r.try_get("api_key_id").unwrap(),
        )
    })
    .collect()
}

#[tokio::test]
async fn creating_rotating_and_deleting_an_endpoint_is_audited_without_secret_or_path() {
    let s = server(vec![0]).await;
    let lender = s.lender("Acme").await;
    let r = s
        .post(
            &lender,
            "/v1/lender/webhooks/endpoints",
            json!({ "url": "http://127.0.0.1:9/hooks/tok-SECRET-PATH?k=q1" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let eid = created["endpoint_id"].as_str().unwrap();
    let rotate = format!("/v1/lender/webhooks/endpoints/{eid}/rotate");
    let r = s.post(&lender, &rotate, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    let delete = format!("/v1/lender/webhooks/endpoints/{eid}/delete");
    assert_eq!(
        s.post(&lender, &delete, json!({})).await.status(),
        StatusCode::OK
    );
    // Refused changes (rotating or deleting a deleted endpoint) write nothing.
    problem(
        s.post(&lender, &rotate, json!({})).await,
        StatusCode::CONFLICT,
        "endpoint-deleted",
    )
    .await;
    problem(
        s.post(&lender, &delete, json!({})).await,
        StatusCode::CONFLICT,
        "endpoint-deleted",
    )
    .await;

    let log = lender_log(&s, &lender).await;
    let ours: Vec<_> = log.iter().filter(|e| e.1.starts_with("webhook_")).collect();
    let actions: Vec<&str> = ours.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint_created",
            "webhook_secret_rotated",
            "webhook_endpoint_deleted"
        ]
    );
    for (actor, _, detail, key) in &ours {
        assert_eq!(actor, &format!("lender:{}", lender.id));
        assert!(key.is_some(), "the API key that acted is named");
        assert_eq!(detail["endpoint_id"], eid);
    }
    assert_eq!(ours[0].2["host"], "127.0.0.1");
    let all = serde_json::to_string(&log.iter().map(|e| &e.2).collect::<Vec<_>>()).unwrap();
    for secret in [&created["secret"], &rotated["secret"]] {
        assert!(!all.contains(secret.as_str().unwrap()), "{all}");
    }
    assert!(
        !all.contains("whsec_") && !all.contains("SECRET-PATH") && !all.contains("q1"),
        "{all}"
    );
}

#[tokio::test]
async fn a_filtered_endpoint_gets_only_its_kinds_and_a_rotated_secret_signs_from_then_on() {
    let s = server(vec![0]).await;
    let lender = s.lender("Acme").await;
    let rx = Receiver::start(Receiver::ok()).await;
    let endpoint = subscribe(&s, &lender, &rx, Some(json!(["payment.recorded"]))).await;
    let (id, _) = s.register(&lender, json!({})).await;
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.pay(&lender, &id, 100, "a").await.status(),
        StatusCode::CREATED
    );
    rx.wait_kinds(&["payment.recorded"]).await;
    let eid = endpoint["endpoint_id"].as_str().unwrap();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/webhooks/endpoints/{eid}/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, endpoint["secret"].as_str().unwrap());
    *rx.secret.lock().unwrap() = new_secret.to_string();
    assert_eq!(
        s.pay(&lender, &id, 100, "b").await.status(),
        StatusCode::CREATED
    );
    let got = rx
        .wait_kinds(&["payment.recorded", "payment.recorded"])
        .await;
    assert!(got.iter().all(|g| g.signed));
    // The list never shows a secret.
    let r = s.get(&lender, "/v1/lender/webhooks/endpoints").await;
    let listed: Value = r.json().await.unwrap();
    assert_eq!(
        listed["endpoints"][0]["events"],
        json!(["payment.recorded"])
    );
    assert!(!listed.to_string().contains("whsec_"), "{listed}");
}

#[tokio::test]
async fn a_delivery_answered_500_is_retried_until_it_succeeds() {
    let s = server(vec![0, 0, 0]).await;
    let lender = s.lender("Acme").await;
    // The first two tries of every event fail.
    let rx = Receiver::start(Arc::new(|_, nth| if nth < 2 { 500 } else { 204 })).await;
    subscribe(&s, &lender, &rx, None).await;
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        s.pay(&lender, &id, 100, "a").await.status(),
        StatusCode::CREATED
    );
    let got = rx.wait_kinds(&["payment.recorded"]).await;
    assert_eq!(got.len(), 3, "two 500s, then delivered");
    assert!(
        got.iter().all(|g| g.id == got[0].id),
        "the same webhook-id each time"
    );
    let r = s
        .get(&lender, "/v1/lender/webhooks/deliveries?status=delivered")
        .await;
    let log: Value = r.json().await.unwrap();
    let d = &log["deliveries"][0];
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_status"], 204);
    assert_eq!(d["kind"], "payment.recorded");
    let metrics = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("finlock_webhook_deliveries_total{outcome=\"failed\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("finlock_webhook_deliveries_total{outcome=\"delivered\"} 1"));
}

#[tokio::test]
async fn a_devices_next_event_waits_while_an_earlier_one_is_retried() {
    // A failed attempt waits 60 s of the server's clock.
    let s = server(vec![60, 60, 60]).await;
    let lender = s.lender("Acme").await;
    let failing = Arc::new(Mutex::new(true));
    let f = failing.clone();
    let rx = Receiver::start(Arc::new(move |body, _| {
        let first_payment = body["type"] == "payment.recorded" && body["data"]["amount_minor"] == 1;
        if first_payment && *f.lock().unwrap() {
            503
        } else {
            200
        }
    }))
    .await;
    subscribe(&s, &lender, &rx, Some(json!(["payment.recorded"]))).await;
    let (a, _) = s.register(&lender, json!({})).await;
    let (b, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        s.pay(&lender, &a, 1, "a1").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        s.pay(&lender, &a, 2, "a2").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        s.pay(&lender, &b, 3, "b1").await.status(),
        StatusCode::CREATED
    );
    // B's event is not held up by A's; A's second waits for its first.
    rx.wait("b delivered", |got| {
        got.iter()
            .any(|g| g.answered == 200 && g.body["data"]["device_id"] == b.as_str())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let amounts = |got: &[Got]| -> Vec<i64> {
        got.iter()
            .filter(|g| g.answered == 200 && g.body["data"]["device_id"] == a.as_str())
            .map(|g| g.body["data"]["amount_minor"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(amounts(&rx.got()), Vec::<i64>::new(), "a2 waits for a1");
    let r = s
        .get(&lender, "/v1/lender/webhooks/deliveries?status=pending")
        .await;
    let log: Value = r.json().await.unwrap();
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 2, "{log}");
    // The receiver recovers; the retry is due a minute later: a1, then a2.
    *failing.lock().unwrap() = false;
    s.clock.advance(75);
    let got = rx.wait("a1 then a2", |got| amounts(got).len() == 2).await;
    assert_eq!(amounts(&got), vec![1, 2]);
}

#[tokio::test]
async fn a_delivery_is_dead_after_the_schedule_and_can_be_sent_again() {
    let s = server(vec![0, 0]).await;
    let lender = s.lender("Acme").await;
    let healthy = Arc::new(Mutex::new(false));
    let h = healthy.clone();
    let rx = Receiver::start(Arc::new(
        move |_, _| if *h.lock().unwrap() { 200 } else { 500 },
    ))
    .await;
    subscribe(&s, &lender, &rx, None).await;
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        s.pay(&lender, &id, 100, "a").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        s.pay(&lender, &id, 100, "b").await.status(),
        StatusCode::CREATED
    );
    // 1 + 2 retries each; the second is sent once the first is dead.
    rx.wait("two dead events", |got| got.len() == 6).await;
    let dead = loop {
        let r = s
            .get(&lender, "/v1/lender/webhooks/deliveries?status=dead")
            .await;
        let log: Value = r.json().await.unwrap();
        if log["deliveries"].as_array().unwrap().len() == 2 {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let first = dead["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_order"] == 1)
        .expect("the first event's delivery");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["last_status"], 500);
    assert_eq!(first["last_error"], "the receiver answered 500");
    assert_eq!(first["device_order"], 1);
    // Sent again on request, once the receiver is back.
    *healthy.lock().unwrap() = true;
    let did = first["delivery_id"].as_str().unwrap();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/webhooks/deliveries/{did}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    rx.wait("the redelivery", |got| {
        got.len() == 7 && got[6].answered == 200
    })
    .await;
    let redelivered: Vec<_> = lender_log(&s, &lender)
        .await
        .into_iter()
        .filter(|e| e.1 == "webhook_redelivered")
        .collect();
    assert_eq!(redelivered.len(), 1);
    assert_eq!(redelivered[0].0, format!("lender:{}", lender.id));
    assert_eq!(redelivered[0].2, json!({ "delivery_id": did }));
    // A delivered one is not "redelivered".
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/webhooks/deliveries/{did}/redeliver"),
            json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "not-dead").await;
    let again = lender_log(&s, &lender).await;
    assert_eq!(
        again
            .iter()
            .filter(|e| e.1 == "webhook_redelivered")
            .count(),
        1
    );
    let r = s
        .get(&lender, "/v1/lender/webhooks/deliveries?status=gone")
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
}

#[tokio::test]
async fn a_refused_change_writes_no_event_and_a_committed_one_writes_one() {
    let s = server(vec![0]).await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(event_count(&s).await, 0);
    // Refused: nothing to unlock; a bad reason; an overpayment.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "bell\u{7}" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        s.pay(&lender, &id, 999_999, "big").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(event_count(&s).await, 0, "a refused change sends nothing");
    // The same payment twice (Idempotency-Key): one event.
    assert_eq!(
        s.pay(&lender, &id, 100, "k").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        s.pay(&lender, &id, 100, "k").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(event_count(&s).await, 1);
}

#[tokio::test]
async fn another_lender_cannot_see_or_change_your_endpoints_or_deliveries() {
    let s = server(vec![0]).await;
    let acme = s.lender("Acme").await;
    let other = s.lender("Other").await;
    let rx = Receiver::start(Receiver::ok()).await;
    let endpoint = subscribe(&s, &acme, &rx, None).await;
    let eid = endpoint["endpoint_id"].as_str().unwrap();
    let (id, _) = s.register(&acme, json!({})).await;
    assert_eq!(
        s.pay(&acme, &id, 100, "a").await.status(),
        StatusCode::CREATED
    );
    rx.wait_kinds(&["payment.recorded"]).await;
    let r = s.get(&other, "/v1/lender/webhooks/endpoints").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["endpoints"], json!([]));
    let r = s.get(&other, "/v1/lender/webhooks/deliveries").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["deliveries"], json!([]));
    for action in ["rotate", "delete"] {
        let r = s
            .post(
                &other,
                &format!("/v1/lender/webhooks/endpoints/{eid}/{action}"),
                json!({}),
            )
            .await;
        problem(r, StatusCode::NOT_FOUND, "not-found").await;
    }
    let r = s.get(&acme, "/v1/lender/webhooks/deliveries").await;
    let v: Value = r.json().await.unwrap();
    let did = v["deliveries"][0]["delivery_id"].as_str().unwrap();
    let r = s
        .post(
            &other,
            &format!("/v1/lender/webhooks/deliveries/{did}/redeliver"),
            json!({}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    // Deleted by its owner: nothing more is sent; a pending one is dead with the reason.
    let r = s
        .post(
            &acme,
            &format!("/v1/lender/webhooks/endpoints/{eid}/delete"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let deleted: Value = r.json().await.unwrap();
    assert!(deleted["deleted_at"].is_i64());
    assert_eq!(
        s.pay(&acme, &id, 100, "b").await.status(),
        StatusCode::CREATED
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 1);
}

#[tokio::test]
async fn endpoints_to_private_or_plain_http_addresses_are_refused() {
    // This server allows no loopback: the suite's default.
    let s = super::start().await;
    let lender = s.lender("Acme").await;
    for (url, words) in [
        ("http://hooks.lender.example/x", "https"),
        ("http://127.0.0.1:9/hook", "https"),
        ("https://127.0.0.1:9/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://[fd00::1]/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://u:p@hooks.lender.example/", "password"),
        ("not a url", "not a URL"),
    ] {
        let r = s
            .post(
                &lender,
                "/v1/lender/webhooks/endpoints",
                json!({ "url": url }),
            )
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{url}: {detail}");
    }
    let r = s
        .post(
            &lender,
            "/v1/lender/webhooks/endpoints",
            json!({ "url": "https://hooks.lender.example/x", "events": ["device.exploded"] }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    let r = s.get(&lender, "/v1/lender/webhooks/endpoints").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["endpoints"], json!([]), "nothing stored");
    // A public https URL is taken (nothing is sent until an event happens).
    let r = s
        .post(
            &lender,
            "/v1/lender/webhooks/endpoints",
            json!({ "url": "https://hooks.lender.example/x" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_silence_setting_is_the_lenders_and_checked() {
    let s = server(vec![0]).await;
    let lender = s.lender("Acme").await;
    let r = s.get(&lender, "/v1/lender/webhooks/settings").await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "silent_after_days": 3 })
    );
    for bad in [0, 91] {
        let r = s
            .http
            .put(format!("{}/v1/lender/webhooks/settings", s.url))
            .bearer_auth(&lender.api_key)
            .json(&json!({ "silent_after_days": bad }))
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    }
    let r = s
        .http
        .put(format!("{}/v1/lender/webhooks/settings", s.url))
        .bearer_auth(&lender.api_key)
        .json(&json!({ "silent_after_days": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rx = Receiver::start(Receiver::ok()).await;
    subscribe(&s, &lender, &rx, Some(json!(["device.silent"]))).await;
    let (_, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(9 * DAY);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.got().is_empty(), "9 days are not 10");
    s.clock.advance(DAY);
    let got = rx.wait_kinds(&["device.silent"]).await;
    assert_eq!(got[0].body["data"]["silent_after_days"], 10);
    assert_eq!(got[0].body["data"]["last_seen_at"], T0);
    // A check-in ends the silence; ten more days start a new one.
    phone.checkin(&s).await;
    s.clock.advance(10 * DAY);
    rx.wait_kinds(&["device.silent", "device.silent"]).await;
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_never_followed() {
    let s = server(vec![0]).await;
    let lender = s.lender("Acme").await;
    let followed = Arc::new(Mutex::new(0));
    let f = followed.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|| async {
                (AxumStatus::TEMPORARY_REDIRECT, [("location", "/elsewhere")])
            }),
        )
        .route(
            "/elsewhere",
            axum::routing::post(move || {
                let f = f.clone();
                async move {
                    *f.lock().unwrap() += 1;
                    "ok"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let r = s
        .post(
            &lender,
            "/v1/lender/webhooks/endpoints",
            json!({ "url": format!("http://{addr}/hook") }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        s.pay(&lender, &id, 100, "a").await.status(),
        StatusCode::CREATED
    );
    let dead = loop {
        let r = s
            .get(&lender, "/v1/lender/webhooks/deliveries?status=dead")
            .await;
        let log: Value = r.json().await.unwrap();
        if !log["deliveries"].as_array().unwrap().is_empty() {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(dead["deliveries"][0]["last_status"], 307);
    assert_eq!(dead["deliveries"][0]["attempts"], 2);
    assert_eq!(
        *followed.lock().unwrap(),
        0,
        "the redirect was not followed"
    );
}

/// The worker is woken by its own node's commits: with the default 1 s poll, an event
/// reaches the receiver well before the next poll would have found it.
#[tokio::test]
async fn a_nodes_own_events_go_out_at_once_not_at_the_next_poll() {
    let s = start_with(|c| c.webhooks.rules.allow_http_loopback = true).await;
    assert_eq!(s.handle.addr().ip().to_string(), "127.0.0.1");
    let lender = s.lender("Acme").await;
    let rx = Receiver::start(Receiver::ok()).await;
    subscribe(&s, &lender, &rx, Some(json!(["payment.recorded"]))).await;
    let (id, _) = s.register(&lender, json!({})).await;
    let mut waits = Vec::new();
    for n in 0..20 {
        assert_eq!(
            s.pay(&lender, &id, 10, &format!("k{n}")).await.status(),
            StatusCode::CREATED
        );
        let answered = std::time::Instant::now();
        rx.wait("the payment's event", |got| got.len() == n + 1)
            .await;
        waits.push(answered.elapsed());
    }
    waits.sort();
    let (median, worst) = (waits[10], waits[19]);
    println!("commit to receiver: median {median:?}, worst {worst:?} (poll 1 s)");
    assert!(median < Duration::from_millis(250), "{waits:?}");
}
