//! The black-box test harness: a real server on 127.0.0.1 (port 0) with a
//! `ManualClock`, a plain-HTTP client, and simulated devices running the phone's own
//! core (`finlock_core::device::DeviceState`).

#![allow(dead_code)]

pub mod console;

use std::sync::Arc;

use finlock_core::clock::ClockInput;
use finlock_core::decision::{Decision, Level};
use finlock_core::device::{DeviceState, EnrollParams, Outgoing};
use finlock_core::jws;
use finlock_core::keys::{Jwks, KeySet};
use finlock_core::protocol::{self, Entitlement, UrlPolicy};
use finlock_server::{Config, ManualClock, NewLender, ServerHandle};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600;
pub const DAY: i64 = 86_400;

pub struct TestServer {
    pub handle: ServerHandle,
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

pub struct Lender {
    pub id: String,
    pub api_key: String,
    pub jwks: Jwks,
}

impl Lender {
    pub fn keys(&self) -> KeySet {
        KeySet::from_jwks(&self.jwks).expect("lender JWKS")
    }
}

/// Starts a server in `dir` on the database `url` (the test target decides which).
pub async fn start_in(dir: TempDir, url: String, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config::local(url, dir.path().join("keys"));
    tweak(&mut config);
    let clock = ManualClock::new(T0);
    let (addr, handle) = finlock_server::spawn(config, clock.clone())
        .await
        .expect("server starts");
    TestServer {
        handle,
        url: format!("http://{addr}"),
        clock,
        http: {
            // Our reqwest has rustls without a default provider (no aws-lc): install ring.
            finlock_core::checkin::install_crypto_provider();
            reqwest::Client::new()
        },
        dir,
    }
}

/// A 6-installment monthly plan starting 30 days after T0, 1000 minor units each.
pub fn plan() -> Value {
    let installments: Vec<Value> = (1..=6)
        .map(|i| json!({ "due": T0 + i * 30 * DAY, "amount_minor": 1000 }))
        .collect();
    json!({ "currency": "KES", "grace_days": 7, "offline_lock_after_days": 30,
            "installments": installments })
}

impl TestServer {
    pub fn now(&self) -> i64 {
        finlock_server::Clock::now(&*self.clock)
    }

    pub async fn lender(&self, name: &str) -> Lender {
        let created = self
            .handle
            .create_lender(&NewLender {
                name: name.into(),
                phone: "+254700000001".into(),
                email: Some("help@lender.example".into()),
                payment_url: "https://pay.lender.example/p".into(),
                support_url: None,
            })
            .await
            .expect("lender created");
        Lender {
            id: created.lender_id,
            api_key: created.api_key,
            jwks: created.jwks,
        }
    }

    pub async fn get(&self, lender: &Lender, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&lender.api_key)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, lender: &Lender, path: &str, body: Value) -> Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&lender.api_key)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn pay(&self, lender: &Lender, device: &str, amount: u64, key: &str) -> Response {
        self.http
            .post(format!("{}/v1/lender/devices/{device}/payments", self.url))
            .bearer_auth(&lender.api_key)
            .header("Idempotency-Key", key)
            .json(&json!({ "amount_minor": amount, "currency": "KES", "reference": format!("ref-{key}") }))
            .send()
            .await
            .expect("request")
    }

    /// Registers a device with [`plan`]; returns (device_id, enrollment_code).
    pub async fn register(&self, lender: &Lender, extra: Value) -> (String, String) {
        let mut body = json!({ "plan": plan() });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let r = self.post(lender, "/v1/lender/devices", body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.expect("json");
        (
            v["device_id"].as_str().expect("id").to_string(),
            v["enrollment_code"].as_str().expect("code").to_string(),
        )
    }

    pub async fn post_jose(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/jose")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn device(&self, lender: &Lender, id: &str) -> Value {
        let r = self.get(lender, &format!("/v1/lender/devices/{id}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("json")
    }

    pub async fn audit_actions(&self, lender: &Lender, id: &str) -> Vec<String> {
        let r = self
            .get(lender, &format!("/v1/lender/devices/{id}/audit"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.expect("json");
        v["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_string())
            .collect()
    }
}

/// Asserts a problem+json answer with this status and code; returns the body.
pub async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["type"], format!("urn:finlock:problem:{code}"));
    assert_eq!(v["status"], status.as_u16());
    v
}

/// A simulated phone running the core's device state machine. It stays on from the moment
/// it is made: its uptime runs with the server's clock (one boot), as a real phone's runs
/// with real time, so a test that moves the server's clock by days gives the phone those
/// days of running time too — which is what the notice guarantee (PROTOCOL §3.7) counts.
pub struct SimDevice {
    pub state: DeviceState,
    pub lender_keys: KeySet,
    /// The server's time when the phone was switched on.
    on_since: i64,
    /// Readings of the phone's clock so far: each is a second later than the one before,
    /// even when the server's clock has not moved, so no two share an instant.
    readings: u64,
    uptime_ms: u64,
    /// Every entitlement this device was handed, decoded (checked by the tests).
    pub received: Vec<Entitlement>,
}

pub fn rng() -> ring::rand::SystemRandom {
    ring::rand::SystemRandom::new()
}

impl SimDevice {
    pub fn new(server: &TestServer, lender: &Lender) -> SimDevice {
        let mut state = DeviceState::default();
        state
            .provision(&server.url, lender.keys(), true)
            .expect("provision");
        SimDevice {
            state,
            lender_keys: lender.keys(),
            on_since: server.now(),
            readings: 0,
            uptime_ms: 1_000,
            received: Vec::new(),
        }
    }

    /// The phone's clock inputs at the server's time (an honest clock): the wall clock is the
    /// server's, the uptime the time the phone has been on, a second more per reading.
    pub fn clock(&mut self, server: &TestServer) -> ClockInput {
        self.readings += 1;
        // A server clock set back never takes the uptime back: monotonic, as a real one.
        let ran_s = u64::try_from(server.now() - self.on_since).unwrap_or(0);
        let uptime_ms = 1_000 + ran_s * 1_000 + self.readings * 1_000;
        self.uptime_ms = uptime_ms.max(self.uptime_ms + 1_000);
        ClockInput {
            wall_ms: server.now() * 1000,
            uptime_ms: self.uptime_ms,
            boot: 1,
        }
    }

    pub fn enroll_body(&mut self, code: Option<&str>, imei: Option<&str>) -> Outgoing {
        self.state
            .enroll_request(
                &EnrollParams {
                    enrollment_code: code.map(str::to_string),
                    imei: imei.map(str::to_string),
                    serial: None,
                    model: "Sim Phone".into(),
                    android_sdk: 34,
                    app_version: "1.0.0".into(),
                },
                &rng(),
            )
            .expect("enroll request")
    }

    /// Verifies the lender signature and every field rule, strictly (release builds),
    /// against the set the device pins after the answer (a key chain may have moved it).
    fn check(&mut self, compact: &str) -> Entitlement {
        if let Some(p) = &self.state.provisioning {
            self.lender_keys = p.lender_keys.clone();
        }
        let verified =
            jws::verify(compact, jws::typ::ENTITLEMENT, &self.lender_keys).expect("signature");
        let e: Entitlement = protocol::decode_payload(&verified.payload).expect("payload");
        e.validate(UrlPolicy::STRICT).expect("field rules");
        self.received.push(e.clone());
        e
    }

    pub async fn enroll(&mut self, server: &TestServer, code: &str) -> Entitlement {
        let out = self.enroll_body(Some(code), None);
        let r = server.post_jose("/v1/enroll", out.body).await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("body");
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        let clock = self.clock(server);
        self.state
            .complete_enrollment(&bytes, &clock)
            .expect("device accepts the enrollment");
        self.check(v["entitlement"].as_str().expect("entitlement"))
    }

    pub fn checkin_body(&mut self, server: &TestServer) -> Outgoing {
        let clock = self.clock(server);
        self.state
            .checkin_request(&clock, "1.0.0", &rng())
            .expect("checkin request")
    }

    /// One check-in that must succeed and be accepted by the device.
    pub async fn checkin(&mut self, server: &TestServer) -> Entitlement {
        let out = self.checkin_body(server);
        let r = server.post_jose("/v1/checkin", out.body.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
        let bytes = r.bytes().await.expect("body");
        self.accept(server, &out, &bytes)
    }

    pub fn accept(&mut self, server: &TestServer, out: &Outgoing, bytes: &[u8]) -> Entitlement {
        let v: Value = serde_json::from_slice(bytes).expect("json");
        let clock = self.clock(server);
        self.state
            .complete_checkin(out, bytes, &clock)
            .expect("device accepts the entitlement");
        let e = self.check(v["entitlement"].as_str().expect("entitlement"));
        assert_eq!(e.nonce.as_deref(), Some(out.nonce.as_str()), "nonce echo");
        e
    }

    pub fn device_id(&self) -> String {
        self.state.enrolled().expect("enrolled").device_id.clone()
    }

    pub fn locked(&mut self, server: &TestServer) -> bool {
        self.decision(server).locked
    }

    /// The phone's own decision now.
    pub fn decision(&mut self, server: &TestServer) -> Decision {
        let clock = self.clock(server);
        self.state.evaluate(&clock).decision
    }

    /// The phone's level now.
    pub fn level(&mut self, server: &TestServer) -> Level {
        self.decision(server).level
    }

    /// The user unlocks the screen. As the shell does at each unlock, from the notice level
    /// on (and not locked) the notice page comes up, and its display is told to the core
    /// (`notice_shown`: the first display of an episode is recorded, later ones change
    /// nothing). Returns the level the phone was at.
    pub fn unlock_screen(&mut self, server: &TestServer) -> Level {
        let clock = self.clock(server);
        let level = self.state.evaluate(&clock).decision.level;
        if matches!(level, Level::Notice | Level::Restricted) {
            self.state
                .notice_shown(&clock)
                .expect("the core takes the notice page's display");
        }
        level
    }

    /// A phone that is due to lock (or restrict) but has not shown its notice long enough
    /// holds at the notice (PROTOCOL §3.7): asserts it is at the notice, held for it; the
    /// user unlocks the screen and the notice page is displayed and recorded; then a day
    /// and a minute of running time pass (the server's clock with it: the phone stays on),
    /// after which the step the entitlement wants can come.
    pub fn notice_then_a_day(&mut self, server: &TestServer) {
        let before = self.decision(server);
        assert_eq!(before.level, Level::Notice, "notice first: {before:?}");
        assert!(before.held_for_notice, "held for its notice: {before:?}");
        assert_eq!(self.unlock_screen(server), Level::Notice);
        let shown = self.decision(server);
        assert!(shown.notice_first_shown.is_some(), "recorded: {shown:?}");
        assert_eq!(shown.level, Level::Notice, "not before a day: {shown:?}");
        server.clock.advance(DAY + 60);
    }
}
