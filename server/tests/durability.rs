//! Durability: the real `finlock serve` binary on a SQLite file is killed with SIGKILL
//! in the middle of a stream of payments; after a restart every payment that had been
//! answered 2xx is there exactly once (WAL + synchronous=NORMAL survive a process crash).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");

fn finlock(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env("FINLOCK_LOG", "warn");
    c
}

/// Starts `finlock serve` on an ephemeral port; returns the child and its URL.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = finlock(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("finlock serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the listening line");
    let url = line
        .trim()
        .strip_prefix("finlock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_answered_2xx_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let out = finlock(dir.path())
        .args([
            "lender",
            "add",
            "Acme Credit",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.acme.example/p",
            "--json",
        ])
        .output()
        .expect("lender add runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lender: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let api_key = lender["api_key"].as_str().unwrap().to_string();
    assert!(lender["jwks"]["keys"][0]["x"].is_string());

    let (mut child, url) = serve(dir.path());
    let http = {
        finlock_core::checkin::install_crypto_provider();
        reqwest::Client::builder()
    }
    .timeout(Duration::from_secs(5))
    .build()
    .unwrap();
    let installments: Vec<Value> = (1..=6)
        .map(|i| json!({ "due": 1_900_000_000 + i * 2_592_000, "amount_minor": 100_000 }))
        .collect();
    let r = http
        .post(format!("{url}/v1/lender/devices"))
        .bearer_auth(&api_key)
        .json(&json!({ "plan": { "currency": "KES", "grace_days": 7, "installments": installments } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let device: Value = r.json().await.unwrap();
    let id = device["device_id"].as_str().unwrap().to_string();
    let payments_url = format!("{url}/v1/lender/devices/{id}/payments");

    // Four writers stream payments with unique keys; each 2xx answer is recorded.
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..4 {
        let (http, url, key, acked) = (
            http.clone(),
            payments_url.clone(),
            api_key.clone(),
            acked.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0..2_000 {
                let idem = format!("w{w}-{i}");
                let r = http
                    .post(&url)
                    .bearer_auth(&key)
                    .header("Idempotency-Key", &idem)
                    .json(&json!({ "amount_minor": 1, "currency": "KES", "reference": idem }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or_default();
                        let pid = body["payment_id"].as_str().unwrap_or_default().to_string();
                        acked.lock().unwrap().insert(idem, pid);
                    }
                    _ => break, // the server is gone
                }
            }
        }));
    }
    // Kill it mid-stream.
    for _ in 0..500 {
        if acked.lock().unwrap().len() >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 200,
        "only {} payments before the kill",
        acked.len()
    );

    // Restart on the same file.
    let (mut child, url) = serve(dir.path());
    // Every page of the stored payments.
    let mut by_reference: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = format!("{url}/v1/lender/devices/{id}/payments?limit=500");
        if let Some(c) = &cursor {
            page_url.push_str(&format!("&cursor={c}"));
        }
        let r = http
            .get(page_url)
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        let listed: Value = r.json().await.unwrap();
        for p in listed["payments"].as_array().unwrap() {
            by_reference
                .entry(p["reference"].as_str().unwrap().to_string())
                .or_default()
                .push(p["payment_id"].as_str().unwrap().to_string());
        }
        match listed["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    for (key, pid) in &acked {
        assert_eq!(
            by_reference.get(key),
            Some(&vec![pid.clone()]),
            "payment {key}"
        );
    }
    // The device total agrees with the payments stored (each of 1 minor unit).
    let r = http
        .get(format!("{url}/v1/lender/devices/{id}"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["paid_minor"].as_u64().unwrap(), by_reference.len() as u64);
    // A retry of an acknowledged payment after the restart still counts once.
    let (key, pid) = acked.iter().next().unwrap();
    let r = http
        .post(format!("{url}/v1/lender/devices/{id}/payments"))
        .bearer_auth(&api_key)
        .header("Idempotency-Key", key)
        .json(&json!({ "amount_minor": 1, "currency": "KES", "reference": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["payment_id"], pid.as_str());
    child.kill().ok();
    child.wait().ok();
}

#[test]
fn keys_show_prints_the_jwks_and_the_cli_names_what_is_missing() {
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
    let lender: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = finlock(dir.path())
        .args(["keys", "show", lender["lender_id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let jwks: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jwks, lender["jwks"]);
    // The private key file is 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir
            .path()
            .join("keys")
            .join(format!("{}.pk8", lender["lender_id"].as_str().unwrap()));
        assert_eq!(
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A bad phone number is refused with the field named.
    let out = finlock(dir.path())
        .args([
            "lender",
            "add",
            "Acme",
            "--phone",
            "*#06#",
            "--payment-url",
            "https://p.example/",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("phone"));
    // `finlock device` without --state names what is missing (device_cli.rs covers the rest).
    let out = finlock(dir.path())
        .args(["device", "status"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state"));
}

#[test]
fn lenders_are_listed_and_api_keys_managed_from_the_cli() {
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
    let lender: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = lender["lender_id"].as_str().unwrap();
    let run = |args: &[&str]| {
        let out = finlock(dir.path()).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, listed, _) = run(&["lender", "list", "--json"]);
    assert!(ok);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["lender_id"], id);
    assert_eq!(listed[0]["active_api_keys"], 1);

    let (ok, added, _) = run(&["lender", "api-key", "add", id, "Till 3"]);
    assert!(ok);
    assert!(added.contains("api_key: flk_"), "{added}");
    let key_id = added
        .lines()
        .find_map(|l| l.strip_prefix("key_id:"))
        .unwrap()
        .trim()
        .to_string();
    let (ok, keys, _) = run(&["lender", "api-key", "list", id]);
    assert!(
        ok && keys.contains("Till 3") && !keys.contains("flk_"),
        "{keys}"
    );
    let (ok, _, _) = run(&["lender", "api-key", "revoke", id, &key_id]);
    assert!(ok);
    let (_, keys, _) = run(&["lender", "api-key", "list", id]);
    assert!(
        keys.lines()
            .any(|l| l.contains(&key_id) && l.contains("revoked")),
        "{keys}"
    );
    // The last active key cannot be revoked; an unknown lender is named.
    let initial = keys
        .lines()
        .find(|l| l.contains("initial"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (ok, _, err) = run(&["lender", "api-key", "revoke", id, &initial]);
    assert!(!ok && err.contains("last active"), "{err}");
    let (ok, _, err) = run(&["lender", "api-key", "list", "lnd-nobody"]);
    assert!(!ok && err.contains("lender"), "{err}");
}
