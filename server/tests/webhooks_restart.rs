//! Webhooks survive a crash (issue 17 item 2): `finlock serve` is SIGKILLed while events
//! are being delivered to a slow receiver and others wait in the outbox; started again
//! on the same database, it delivers every event — none lost, and each device's events
//! in their order (an event cut off mid-attempt may arrive twice: at least once).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use sqlx::Row;

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const DEVICES: usize = 3;
const PAYMENTS: usize = 5;

fn finlock(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env("FINLOCK_LOG_LEVEL", "warn")
    .env_remove("RUST_LOG");
    c
}

/// Starts `finlock serve` on an ephemeral port; returns the child and its URL.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = finlock(dir)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--webhooks-allow-http-loopback",
            "--webhooks-timeout",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("finlock serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let url = line
        .trim()
        .strip_prefix("finlock listening on ")
        .expect("listening")
        .to_string();
    (child, url)
}

/// (event id, device id, device order) of every request the receiver answered 200.
type Log = Arc<Mutex<Vec<(String, String, i64)>>>;

/// A receiver that takes 250 ms per request, so a kill finds work in flight.
async fn receiver() -> (String, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let l = l.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let id = headers
                    .get("webhook-id")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                l.lock().unwrap().push((
                    id,
                    v["data"]["device_id"].as_str().unwrap_or("").to_string(),
                    v["data"]["device_order"].as_i64().unwrap_or(0),
                ));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), log)
}

async fn pending(dir: &std::path::Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", dir.join("finlock.db").display());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let n = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_event_in_order_after_a_restart() {
    finlock_core::checkin::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let out = finlock(dir.path())
        .args([
            "lender",
            "add",
            "Acme",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://p.example/",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lender: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = lender["api_key"].as_str().unwrap().to_string();
    let (hook, log) = receiver().await;
    let (mut child, url) = serve(dir.path());
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        http.post(format!("{url}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = post(
        "/v1/lender/webhooks/endpoints".into(),
        json!({ "url": hook, "events": ["payment.recorded"] }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let installments: Vec<Value> = (1..=3)
        .map(|i| json!({ "due": now + i * 30 * 86_400, "amount_minor": 1000 }))
        .collect();
    let mut devices = Vec::new();
    for _ in 0..DEVICES {
        let r = post(
            "/v1/lender/devices".into(),
            json!({ "plan": { "currency": "KES", "grace_days": 7, "installments": installments } }),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        devices.push(v["device_id"].as_str().unwrap().to_string());
    }
    for n in 0..PAYMENTS {
        for d in &devices {
            let r = http
                .post(format!("{url}/v1/lender/devices/{d}/payments"))
                .bearer_auth(&key)
                .header("Idempotency-Key", format!("{d}-{n}"))
                .json(
                    &json!({ "amount_minor": 10, "currency": "KES", "reference": format!("r{n}") }),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
    }
    // Some delivered, the rest in flight or waiting: kill -9.
    for _ in 0..200 {
        if log.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    let before = log.lock().unwrap().len();
    assert!(
        before < DEVICES * PAYMENTS,
        "the kill came too late to test anything"
    );
    assert!(
        pending(dir.path()).await > 0,
        "undelivered events wait in the outbox"
    );

    let (mut child, _url) = serve(dir.path());
    let mut complete = false;
    for _ in 0..1500 {
        let distinct: std::collections::BTreeSet<String> =
            log.lock().unwrap().iter().map(|e| e.0.clone()).collect();
        if distinct.len() == DEVICES * PAYMENTS {
            complete = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    let log = log.lock().unwrap().clone();
    assert!(
        complete,
        "every event delivered after the restart: {log:#?}"
    );
    let mut per_device: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (_, device, order) in &log {
        per_device.entry(device.clone()).or_default().push(*order);
    }
    assert_eq!(per_device.len(), DEVICES);
    for (device, orders) in &per_device {
        assert!(
            orders.windows(2).all(|w| w[0] <= w[1]),
            "{device}: in order (a repeat only of the one cut off): {orders:?}"
        );
        let mut distinct = orders.clone();
        distinct.dedup();
        assert_eq!(
            distinct,
            (1..=PAYMENTS as i64).collect::<Vec<_>>(),
            "{device}"
        );
    }
    assert_eq!(pending(dir.path()).await, 0);
}
