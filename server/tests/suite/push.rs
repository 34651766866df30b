//! The wake-up push over real HTTP on loopback (issue 17 item 3): a phone registers a push
//! endpoint (a tiny push service in the test), and every change of its entitlement sends
//! one empty, VAPID-signed Web Push there; a dead or gone endpoint never slows or fails
//! anything, and an endpoint the server must not reach is refused or ignored.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode as AxStatus, Uri};
use finlock_core::b64;
use finlock_core::jws::typ;
use finlock_core::keys::DeviceKey;
use finlock_core::protocol::EntitlementState;
use finlock_server::push::send::{Timing, headers};
use reqwest::StatusCode;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::{Value, json};
use sqlx::Row;

use super::start_with;
use crate::common::{DAY, Lender, SimDevice, TestServer, problem};

/// One request the push service received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

#[derive(Clone, Default)]
struct PushService {
    got: Arc<Mutex<Vec<Received>>>,
    /// The status it answers with (201 unless a test says otherwise).
    status: Arc<AtomicU16>,
}

impl PushService {
    /// Serves on 127.0.0.1:0; returns it and its origin `http://127.0.0.1:PORT`.
    async fn start() -> (PushService, String) {
        let svc = PushService {
            status: Arc::new(AtomicU16::new(201)),
            ..PushService::default()
        };
        let app = axum::Router::new().fallback(record).with_state(svc.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (svc, origin)
    }

    fn count(&self) -> usize {
        self.got.lock().expect("lock").len()
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    /// Waits (at most 5 s) until `n` pushes arrived; returns them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "expected {n} pushes, got {}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.all()
    }

    /// Asserts that no more than `n` pushes arrive within `quiet`.
    async fn stays_at(&self, n: usize, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        assert_eq!(self.count(), n, "no further push");
    }
}

async fn record(
    State(svc): State<PushService>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AxStatus {
    svc.got.lock().expect("lock").push(Received {
        method,
        path: uri.path().to_string(),
        headers,
        body,
        at: Instant::now(),
    });
    AxStatus::from_u16(svc.status.load(Ordering::SeqCst)).unwrap_or(AxStatus::CREATED)
}

/// How long the tests' server waits between two pushes to one device.
const WINDOW: Duration = Duration::from_millis(300);

/// A server that may push to plain-http loopback, with short times.
async fn server(window: Duration) -> TestServer {
    start_with(|c| {
        c.push.policy.allow_http_loopback = true;
        c.push.coalesce = window;
        c.push.timing = Timing {
            timeout: Duration::from_millis(500),
            attempts: 2,
            backoff: Duration::from_millis(50),
        };
        c.push.contact = Some("mailto:ops@lender.example".into());
    })
    .await
}

/// A registered phone that enrolled with `endpoint` as its push endpoint.
async fn phone_with_endpoint(s: &TestServer, endpoint: &str) -> (Lender, String, SimDevice, Value) {
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(s, &lender);
    let clock = phone.clock(s);
    phone
        .state
        .set_push_endpoint(endpoint, &clock)
        .expect("endpoint accepted by the core");
    let out = phone.enroll_body(Some(&code), None);
    let r = s.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    let answer: Value = serde_json::from_slice(&bytes).expect("json");
    let clock = phone.clock(s);
    phone
        .state
        .complete_enrollment(&bytes, &clock)
        .expect("enrolled");
    s.clock.advance(60);
    (lender, id, phone, answer)
}

async fn stored_endpoint(s: &TestServer, device_id: &str) -> Option<String> {
    sqlx::query("SELECT endpoint FROM device_push WHERE device_id = $1")
        .bind(device_id)
        .fetch_optional(&s.handle.db().read)
        .await
        .expect("query")
        .map(|r| r.try_get::<String, _>("endpoint").expect("endpoint"))
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_secs(),
    )
    .expect("i64")
}

fn claims_of(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).expect("jwt part");
    serde_json::from_slice(&b64::decode(part).expect("b64url")).expect("json")
}

/// Checks one push as RFC 8030/8292 and the protocol say it must be: a POST to the path
/// the phone registered, an empty body, TTL/Urgency/Topic, and a VAPID JWT for this
/// origin whose ES256 signature verifies with the `k` the enrollment answer named.
fn assert_wakeup(p: &Received, path: &str, origin: &str, push_key: &str) {
    assert_eq!(p.method, Method::POST);
    assert_eq!(p.path, path);
    assert!(p.body.is_empty(), "the push carries nothing");
    let h = |name: &str| {
        p.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("header {name}"))
            .to_string()
    };
    assert_eq!(h("ttl"), headers::TTL_S.to_string());
    assert_eq!(h("urgency"), "high");
    assert_eq!(h("topic"), headers::TOPIC);
    assert_eq!(h("content-length"), "0");
    assert!(p.headers.get("content-encoding").is_none());
    let auth = h("authorization");
    let (t, k) = auth
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .expect("Authorization: vapid t=…, k=…");
    assert_eq!(k, push_key, "k is the key the phone registered with");
    assert_eq!(claims_of(t, 0), json!({"typ": "JWT", "alg": "ES256"}));
    let claims = claims_of(t, 1);
    assert_eq!(claims["aud"], origin);
    assert_eq!(claims["sub"], "mailto:ops@lender.example");
    let exp = claims["exp"].as_i64().expect("exp");
    let now = unix_now();
    assert!(
        exp > now + 3600 && exp <= now + 24 * 3600,
        "exp {exp} now {now}"
    );
    let (input, sig) = t.rsplit_once('.').expect("signature");
    let point = b64::decode(k).expect("k is base64url");
    assert_eq!(point.len(), 65);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(input.as_bytes(), &b64::decode(sig).expect("sig b64"))
        .expect("the JWT verifies with k");
}

#[tokio::test]
async fn every_entitlement_change_sends_one_empty_signed_push() {
    let (svc, origin) = PushService::start().await;
    let s = server(WINDOW).await;
    let path = "/push/Zx9kq2";
    let endpoint = format!("{origin}{path}");
    let (lender, id, mut phone, answer) = phone_with_endpoint(&s, &endpoint).await;
    let push_key = answer["push_key"]
        .as_str()
        .expect("push_key in the enroll answer");
    assert_eq!(phone.state.push_key(), Some(push_key));
    assert_eq!(
        stored_endpoint(&s, &id).await.as_deref(),
        Some(endpoint.as_str())
    );
    // Enrolling changes no entitlement: no push.
    svc.stays_at(0, WINDOW).await;

    let now = s.now();
    let changes: Vec<(&str, Value)> = vec![
        (
            "payments",
            json!({ "amount_minor": 1000, "currency": "KES", "reference": "r1" }),
        ),
        (
            "extension",
            json!({ "until": now + 80 * DAY, "reason": "promised Friday" }),
        ),
        ("lock", json!({ "reason": "Please call us" })),
        ("unlock", json!({})),
        ("release", json!({})),
    ];
    for (n, (action, body)) in changes.into_iter().enumerate() {
        let url = format!("{}/v1/lender/devices/{id}/{action}", s.url);
        let mut req = s.http.post(url).bearer_auth(&lender.api_key).json(&body);
        if action == "payments" {
            req = req.header("Idempotency-Key", "k1");
        }
        let r = req.send().await.expect("request");
        assert!(r.status().is_success(), "{action}: {}", r.status());
        let got = svc.wait_for(n + 1).await;
        assert_wakeup(&got[n], path, &origin, push_key);
        // Exactly one per change, even after the coalescing window has passed.
        svc.stays_at(n + 1, WINDOW * 2).await;
    }

    // The phone's check-in answers carry the same key; the phone ends released.
    let e = phone.checkin(&s).await;
    assert_eq!(e.state, EntitlementState::Released);
    assert_eq!(phone.state.push_key(), Some(push_key));
    assert_eq!(pushes_counted(&s, "sent").await, 5);
}

/// `finlock_push_total{result="…"}` on /metrics.
async fn pushes_counted(s: &TestServer, result: &str) -> u64 {
    let text = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let prefix = format!("finlock_push_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

#[tokio::test]
async fn the_openapi_document_names_push_key_in_both_answers() {
    let s = server(WINDOW).await;
    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.url))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let schemas = &doc["components"]["schemas"];
    let with_key: Vec<&str> = schemas
        .as_object()
        .expect("schemas")
        .iter()
        .filter(|(_, v)| v["properties"].get("push_key").is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(with_key.len(), 2, "{with_key:?}");
    let paths = doc["paths"].to_string();
    assert!(paths.contains("push_endpoint"));
}

#[tokio::test]
async fn pushes_to_one_device_are_coalesced_and_the_last_change_is_never_lost() {
    let (svc, origin) = PushService::start().await;
    let window = Duration::from_millis(800);
    let s = server(window).await;
    let (lender, id, _phone, _) = phone_with_endpoint(&s, &format!("{origin}/push/c")).await;
    for i in 0..4 {
        let r = s.pay(&lender, &id, 100, &format!("c{i}")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // The first change at once; the three inside the window as one push when it ends.
    let got = svc.wait_for(2).await;
    let gap = got[1].at.duration_since(got[0].at);
    assert!(gap >= window - Duration::from_millis(50), "gap {gap:?}");
    svc.stays_at(2, window + Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_gone_endpoint_is_forgotten_and_the_phone_keeps_checking_in() {
    let (svc, origin) = PushService::start().await;
    svc.status.store(410, Ordering::SeqCst);
    let s = server(Duration::from_millis(50)).await;
    let (lender, id, mut phone, _) = phone_with_endpoint(&s, &format!("{origin}/push/g")).await;
    assert!(s.pay(&lender, &id, 1000, "g1").await.status().is_success());
    svc.wait_for(1).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while stored_endpoint(&s, &id).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "the endpoint is forgotten after 410"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // 410 is final: no retry, and no push for the next change.
    assert!(s.pay(&lender, &id, 1000, "g2").await.status().is_success());
    svc.stays_at(1, Duration::from_millis(400)).await;
    let e = phone.checkin(&s).await;
    assert_eq!(e.state, EntitlementState::Active);
    assert_eq!(pushes_counted(&s, "gone").await, 1);
    assert_eq!(pushes_counted(&s, "sent").await, 0);
}

#[tokio::test]
async fn a_busy_push_service_is_retried_then_given_up() {
    let (svc, origin) = PushService::start().await;
    svc.status.store(503, Ordering::SeqCst);
    let s = server(Duration::from_millis(50)).await;
    let (lender, id, _phone, _) = phone_with_endpoint(&s, &format!("{origin}/push/b")).await;
    assert!(s.pay(&lender, &id, 1000, "b1").await.status().is_success());
    // Two attempts (the tests' setting), then given up; the endpoint is kept.
    svc.wait_for(2).await;
    svc.stays_at(2, Duration::from_millis(400)).await;
    assert!(stored_endpoint(&s, &id).await.is_some());
    assert_eq!(pushes_counted(&s, "gave_up").await, 1);
}

#[tokio::test]
async fn a_dead_endpoint_never_slows_or_fails_the_lender_or_the_phone() {
    // Connection refused: a port that was bound and released.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    // A push service that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            open.push(c);
        }
    });
    let s = start_with(|c| {
        c.push.policy.allow_http_loopback = true;
        c.push.coalesce = Duration::ZERO;
        // The default timing: 5 s per attempt, 3 attempts.
    })
    .await;
    for endpoint in [
        format!("http://{refused}/push/dead"),
        format!("http://{silent_addr}/push/silent"),
    ] {
        let (lender, id, mut phone, _) = phone_with_endpoint(&s, &endpoint).await;
        for i in 0..3 {
            let started = Instant::now();
            let r = s.pay(&lender, &id, 100, &format!("d{i}")).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let r = s
                .post(
                    &lender,
                    &format!("/v1/lender/devices/{id}/lock"),
                    json!({"reason": "x"}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            let r = s
                .post(
                    &lender,
                    &format!("/v1/lender/devices/{id}/unlock"),
                    json!({}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            let took = started.elapsed();
            assert!(
                took < Duration::from_secs(1),
                "three lender actions took {took:?}"
            );
        }
        let started = Instant::now();
        let e = phone.checkin(&s).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(e.state, EntitlementState::Active);
        // Not gone (no 404/410): kept for the next change.
        assert_eq!(stored_endpoint(&s, &id).await, Some(endpoint));
    }
}

/// Re-signs a check-in payload with `push_endpoint` set as the phone would (its key).
fn checkin_with_endpoint(
    phone: &mut SimDevice,
    s: &TestServer,
    endpoint: &str,
) -> (String, finlock_core::device::Outgoing) {
    let out = phone.checkin_body(s);
    let p = out.body.split('.').nth(1).expect("payload");
    let mut payload: Value = serde_json::from_slice(&b64::decode(p).expect("b64")).expect("json");
    payload["push_endpoint"] = json!(endpoint);
    let en = phone.state.enrolled().expect("enrolled");
    let key = DeviceKey::from_pkcs8(&en.device_key.bytes().expect("key"), None).expect("key");
    let body = key.sign_as(
        &en.device_id,
        typ::CHECKIN,
        &serde_json::to_vec(&payload).expect("json"),
    );
    (body, out)
}

#[tokio::test]
async fn an_endpoint_against_the_protocol_is_refused_and_changes_nothing() {
    let s = server(WINDOW).await;
    let (_, id, mut phone, _) = phone_with_endpoint(&s, "https://push.example/up/1").await;
    for bad in [
        "http://push.example/x",
        "ftp://push.example/x",
        "https://user:pw@push.example/x",
        "not a url",
        &format!("https://push.example/{}", "a".repeat(1100)),
    ] {
        let (body, out) = checkin_with_endpoint(&mut phone, &s, bad);
        let v = problem(
            s.post_jose("/v1/checkin", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(v.to_string().contains("push_endpoint"), "{bad}: {v}");
        assert_eq!(
            stored_endpoint(&s, &id).await.as_deref(),
            Some("https://push.example/up/1"),
            "{bad}"
        );
        // Nothing was recorded: the genuine body of the same check-in still works.
        let r = s.post_jose("/v1/checkin", out.body.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("body");
        phone.accept(&s, &out, &bytes);
        s.clock.advance(60);
    }
}

#[tokio::test]
async fn an_endpoint_the_server_must_not_reach_is_ignored_and_the_check_in_succeeds() {
    // This server allows no loopback and no private address.
    let s = start_with(|_| {}).await;
    let (_, id, mut phone, answer) = phone_with_endpoint(&s, "https://push.example/up/1").await;
    assert!(answer["push_key"].as_str().is_some());
    assert!(stored_endpoint(&s, &id).await.is_some());
    for private in [
        "https://10.0.0.7/push",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/push",
        "https://127.0.0.1/push",
        "http://127.0.0.1:9/push",
    ] {
        let (body, out) = checkin_with_endpoint(&mut phone, &s, private);
        let r = s.post_jose("/v1/checkin", body).await;
        assert_eq!(r.status(), StatusCode::OK, "{private}");
        let bytes = r.bytes().await.expect("body");
        phone.accept(&s, &out, &bytes);
        // Not stored, and the old one is forgotten: the phone moved away from it.
        assert_eq!(stored_endpoint(&s, &id).await, None, "{private}");
        s.clock.advance(60);
        let (body, out) = checkin_with_endpoint(&mut phone, &s, "https://push.example/up/2");
        let r = s.post_jose("/v1/checkin", body).await;
        assert_eq!(r.status(), StatusCode::OK);
        phone.accept(&s, &out, &r.bytes().await.expect("body"));
        assert!(stored_endpoint(&s, &id).await.is_some());
        s.clock.advance(60);
    }
}

#[tokio::test]
async fn an_endpoint_is_set_kept_and_cleared_by_check_ins() {
    let s = server(WINDOW).await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    assert_eq!(stored_endpoint(&s, &id).await, None);
    s.clock.advance(60);
    let clock = phone.clock(&s);
    phone
        .state
        .set_push_endpoint("https://push.example/up/a", &clock)
        .expect("endpoint");
    phone.checkin(&s).await;
    assert_eq!(
        stored_endpoint(&s, &id).await.as_deref(),
        Some("https://push.example/up/a")
    );
    // Omitted: unchanged.
    s.clock.advance(60);
    let out = phone.checkin_body(&s);
    assert_eq!(
        out.push_endpoint, None,
        "the core sends it only when it changed"
    );
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    phone.accept(&s, &out, &r.bytes().await.expect("body"));
    assert_eq!(
        stored_endpoint(&s, &id).await.as_deref(),
        Some("https://push.example/up/a")
    );
    // "": forgotten.
    s.clock.advance(60);
    let clock = phone.clock(&s);
    phone.state.set_push_endpoint("", &clock).expect("none");
    let out = phone.checkin_body(&s);
    assert_eq!(out.push_endpoint.as_deref(), Some(""));
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    phone.accept(&s, &out, &r.bytes().await.expect("body"));
    assert_eq!(stored_endpoint(&s, &id).await, None);
}

#[tokio::test]
async fn a_new_key_enrolled_without_an_endpoint_forgets_the_old_installations_endpoint() {
    let s = server(WINDOW).await;
    let (lender, id, _old, _) = phone_with_endpoint(&s, "https://push.example/old").await;
    assert!(stored_endpoint(&s, &id).await.is_some());
    // The lender reissues the code; a fresh installation (new key) enrolls without push.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-code"),
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let code = r.json::<Value>().await.expect("json")["enrollment_code"]
        .as_str()
        .expect("code")
        .to_string();
    let mut fresh = SimDevice::new(&s, &lender);
    fresh.enroll(&s, &code).await;
    assert_eq!(stored_endpoint(&s, &id).await, None);
}

#[tokio::test]
async fn a_name_resolving_to_a_refused_address_is_never_connected_to() {
    // A listener on loopback that counts connections.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicU16::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((_c, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    // No loopback allowed: the name passes registration (names are judged when resolved)
    // and its addresses are refused when the push is sent.
    let s = start_with(|c| {
        c.push.coalesce = Duration::ZERO;
        c.push.timing = Timing {
            timeout: Duration::from_millis(500),
            attempts: 2,
            backoff: Duration::from_millis(50),
        };
    })
    .await;
    let endpoint = format!("https://localhost:{port}/push/x");
    let (lender, id, _phone, _) = phone_with_endpoint(&s, &endpoint).await;
    assert_eq!(stored_endpoint(&s, &id).await, Some(endpoint));
    assert!(s.pay(&lender, &id, 1000, "n1").await.status().is_success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while pushes_counted(&s, "gave_up").await < 1 {
        assert!(Instant::now() < deadline, "the push is given up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "never connected");

    // The control: where loopback is allowed, the same name is connected to (the TLS
    // handshake with this plain listener then fails), so the zero above is the resolver's.
    let allowed = start_with(|c| {
        c.push.coalesce = Duration::ZERO;
        c.push.policy.allow_http_loopback = true;
        c.push.timing = Timing {
            timeout: Duration::from_millis(500),
            attempts: 1,
            backoff: Duration::from_millis(50),
        };
    })
    .await;
    let endpoint = format!("https://localhost:{port}/push/y");
    let (lender, id, _phone, _) = phone_with_endpoint(&allowed, &endpoint).await;
    assert!(
        allowed
            .pay(&lender, &id, 1000, "n2")
            .await
            .status()
            .is_success()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while connections.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "connected where allowed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
