//! The wake-up push end to end with the real binaries: `finlock serve
//! --push-allow-http-loopback` and `finlock device serve-push` (the simulated phone as its
//! own loopback push distributor). A lender's lock reaches the phone by the push, without
//! waiting for its hourly check-in — as a notice first: the phone locks once its notice page
//! has been displayed and a day of running time has passed (PROTOCOL §3.7); the server
//! keeps its VAPID key in the keys directory.
//! Everything on 127.0.0.1; every child process is killed when the test ends.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const DAY: i64 = 86_400;

/// Kills its child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn storage(dir: &Path) -> [String; 4] {
    [
        "--db".into(),
        format!("sqlite://{}?mode=rwc", dir.join("finlock.db").display()),
        "--keys".into(),
        dir.join("keys").display().to_string(),
    ]
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time")
            .as_secs(),
    )
    .expect("i64")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `finlock device --state STATE …` with the phone's clock at `t` (uptime from `t0`).
fn device(state: &Path, t0: i64, t: i64, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(["device", "--state", &state.display().to_string()])
        .args(args)
        .env(
            "FINLOCK_CLOCK",
            format!("wall={t},uptime_ms={},boot=1", (t - t0 + 1) * 1000),
        )
        .env("FINLOCK_LOG", "warn");
    c
}

/// The lender side over plain HTTP.
fn lender(url: &str, api_key: &str, path: &str, body: Value) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        finlock_core::checkin::install_crypto_provider();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let resp = client
            .post(format!("{url}{path}"))
            .bearer_auth(api_key)
            .header("Idempotency-Key", format!("k-{body}"))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let v: Value = resp.json().await.expect("json");
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    })
}

#[test]
fn a_lender_lock_reaches_the_simulated_phone_by_push() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created: Value = serde_json::from_str(&ok(&Command::new(BIN)
        .args(storage(dir.path()))
        .args([
            "lender",
            "add",
            "Acme Credit",
            "--phone",
            "+639171234567",
            "--payment-url",
            "https://pay.acme.example/p",
            "--json",
        ])
        .env("FINLOCK_LOG", "warn")
        .output()
        .expect("lender add")))
    .expect("json");
    let api_key = created["api_key"].as_str().expect("api key");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, created["jwks"].to_string()).expect("write");

    let port = free_port();
    let _server = Killed(
        Command::new(BIN)
            .args(storage(dir.path()))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--checkin-min-interval", "0", "--push-allow-http-loopback"])
            .args(["--push-contact", "mailto:ops@acme.example"])
            .env("FINLOCK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The deployment's VAPID key, made on the first start, private.
    let vapid = dir.path().join("keys").join("webpush-vapid.pk8");
    assert!(vapid.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&vapid)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let t0 = now();
    let plan = json!({ "plan": { "currency": "KES", "grace_days": 1, "installments": [
        { "due": t0 + 30 * DAY, "amount_minor": 500_000 },
    ]}});
    let reg = lender(&url, api_key, "/v1/lender/devices", plan);
    let id = reg["device_id"].as_str().expect("id");
    let code = reg["enrollment_code"].as_str().expect("code");
    let state = dir.path().join("phone");
    ok(&device(&state, t0, t0, &["enroll", "--server", &url])
        .args(["--lender-keys", &jwks.display().to_string(), "--code", code])
        .output()
        .expect("enroll"));

    // The distributor registers its endpoint (a check-in now) and stops.
    let listen = format!("127.0.0.1:{}", free_port());
    let out = ok(
        &device(&state, t0, t0 + 10, &["serve-push", "--listen", &listen])
            .args(["--pushes", "0"])
            .output()
            .expect("serve-push"),
    );
    assert!(out.contains("push endpoint registered"), "{out}");

    // A minute later on the phone's clock, it listens again at the same address (the same
    // endpoint: nothing new to register) and waits for one push.
    let mut child = Killed(
        device(&state, t0, t0 + 70, &["serve-push", "--listen", &listen])
            .args(["--pushes", "1", "--wait", "30"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve-push"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the listener starts");
    assert!(first.contains("waiting for pushes"), "{first}");

    let locked_at = Instant::now();
    lender(
        &url,
        api_key,
        &format!("/v1/lender/devices/{id}/lock"),
        json!({ "reason": "Please call us" }),
    );
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the push arrives and the phone checks in");
    let took = locked_at.elapsed();
    assert!(line.starts_with("push received: checked in"), "{line}");
    // The lock is wanted now; its notice was never shown: the phone is held at the notice.
    assert!(
        line.contains("NOTICE (lender_request), held: the notice page was never displayed"),
        "{line}"
    );
    let status = child.0.wait().expect("exit");
    assert!(status.success(), "serve-push exits 0 after its one push");
    eprintln!("lender lock -> phone at the notice by push: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");

    // The next screen unlock shows the notice page; a day of running time later it locks.
    let shown = ok(&device(&state, t0, t0 + 80, &["notice"])
        .output()
        .expect("notice"));
    assert!(
        shown.contains("Why: your lender has asked for it."),
        "{shown}"
    );
    assert!(shown.contains("displayed and recorded"), "{shown}");
    let status_at = |t: i64| -> Value {
        serde_json::from_str(&ok(&device(&state, t0, t, &["status", "--json"])
            .output()
            .expect("status")))
        .expect("json")
    };
    let st = status_at(t0 + 80 + DAY - 60);
    assert_eq!(st["level"], json!("notice"), "{st}");
    let st = status_at(t0 + 80 + DAY + 60);
    assert_eq!(st["locked"], json!(true), "{st}");
    assert_eq!(st["reason"], json!("lender_request"));
}

#[test]
fn serve_push_listens_on_loopback_only_and_needs_an_enrolled_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("phone");
    let t = now();
    let out = device(&state, t, t, &["serve-push", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("loopback"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = device(&state, t, t, &["serve-push", "--pushes", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "not enrolled");
}

#[test]
fn serve_refuses_a_push_contact_push_services_cannot_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(storage(dir.path()))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--push-contact",
            "nobody",
        ])
        .env("FINLOCK_LOG", "warn")
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--push-contact"), "{err}");
    // Refused before anything was made: no VAPID key.
    assert!(!dir.path().join("keys").join("webpush-vapid.pk8").exists());
}
