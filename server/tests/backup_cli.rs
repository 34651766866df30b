//! `finlock backup` against a serving `finlock serve` (the real binaries, SQLite, loopback):
//! the copy taken while the server runs, with committed rows still in the WAL, restores to a
//! server that answers the lender exactly as before, and the phone keeps checking in.

#![cfg(feature = "simulator")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");

fn finlock(db: &Path, keys: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("FINLOCK_DB", format!("sqlite://{}", db.display()))
        .env("FINLOCK_KEYS", keys)
        .env("FINLOCK_LOG", "warn")
        .env_remove("FINLOCK_CLOCK")
        .env_remove("FINLOCK_CLOCK_SHIFT")
        .env_remove("FINLOCK_LENDER");
    c
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

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `finlock serve` on `port` with the database `db`; returns once it listens.
fn serve(db: &Path, keys: &Path, port: u16) -> Server {
    let mut child = finlock(db, keys)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--checkin-min-interval",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");
    Server(child)
}

fn get(url: &str, api_key: &str, path: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        finlock_core::checkin::install_crypto_provider();
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{url}{path}"))
            .bearer_auth(api_key)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    })
}

/// What the lender reads about `id`: the device, its payments and its audit log.
fn lender_views(url: &str, api_key: &str, id: &str) -> Value {
    json!({
        "device": get(url, api_key, &format!("/v1/lender/devices/{id}")),
        "payments": get(url, api_key, &format!("/v1/lender/devices/{id}/payments")),
        "audit": get(url, api_key, &format!("/v1/lender/devices/{id}/audit")),
        "list": get(url, api_key, "/v1/lender/devices"),
    })
}

#[test]
fn a_backup_taken_while_serving_restores_to_the_same_server() {
    let dir = tempfile::tempdir().unwrap();
    let (db, keys) = (dir.path().join("finlock.db"), dir.path().join("keys"));
    let cli = |args: &[&str]| finlock(&db, &keys).args(args).output().unwrap();
    let created: Value = serde_json::from_str(&ok(&cli(&[
        "lender",
        "add",
        "Acme Credit",
        "--phone",
        "+254700000001",
        "--payment-url",
        "https://pay.acme.example/p",
        "--json",
    ])))
    .unwrap();
    let api_key = created["api_key"].as_str().unwrap().to_string();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, created["jwks"].to_string()).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = serve(&db, &keys, port);

    // Devices, payments and audit entries, made while the server serves.
    let reg: Value = serde_json::from_str(&ok(&cli(&[
        "lender",
        "device",
        "register",
        "--currency",
        "KES",
        "--grace-days",
        "3",
        "--installment",
        "+10d=250000",
        "--installment",
        "+40d=250000",
        "--json",
    ])))
    .unwrap();
    let id = reg["device_id"].as_str().unwrap().to_string();
    ok(&cli(&[
        "lender",
        "device",
        "register",
        "--currency",
        "KES",
        "--grace-days",
        "3",
        "--installment",
        "+20d=100000",
    ]));
    let state = dir.path().join("phone");
    let phone = |args: &[&str]| {
        finlock(&db, &keys)
            .arg("device")
            .args(args)
            .arg("--state")
            .arg(&state)
            .output()
            .unwrap()
    };
    ok(&phone(&[
        "enroll",
        "--server",
        &url,
        "--lender-keys",
        jwks.to_str().unwrap(),
        "--code",
        reg["enrollment_code"].as_str().unwrap(),
    ]));
    ok(&cli(&[
        "lender",
        "device",
        "pay",
        &id,
        "--amount-minor",
        "100000",
        "--reference",
        "MPESA-1",
    ]));
    ok(&cli(&[
        "lender",
        "device",
        "lock",
        &id,
        "--reason",
        "Please call Acme",
    ]));
    ok(&cli(&["lender", "device", "unlock", &id]));
    ok(&phone(&["checkin"]));
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "the committed rows are still in the WAL (the case a file copy gets wrong)"
    );
    let before = lender_views(&url, &api_key, &id);

    // The backup, while the server runs.
    let copy = dir.path().join("backup").join("finlock-backup.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let summary: Value =
        serde_json::from_str(&ok(&cli(&["backup", copy.to_str().unwrap(), "--json"]))).unwrap();
    assert_eq!(summary["lenders"], json!(1));
    assert_eq!(summary["devices"], json!(2));
    assert_eq!(summary["payments"], json!(1));
    let audit_entries = before["audit"]["entries"].as_array().unwrap().len() as i64 + 1;
    assert_eq!(
        summary["audit_entries"],
        json!(audit_entries),
        "both devices' entries"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never over a file; never for PostgreSQL (pg_dump is the tool); never from nothing.
    let again = cli(&["backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let pg = finlock(&db, &keys)
        .args([
            "backup",
            "x.dump",
            "--db",
            "postgres://u@127.0.0.1:1/finlock",
        ])
        .output()
        .unwrap();
    assert_eq!(pg.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
    assert!(!Path::new("x.dump").exists());
    let other = finlock(&db, &keys)
        .args(["backup", "x.db", "--db", "mysql://u@127.0.0.1/finlock"])
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("sqlite: or postgres://") && !err.contains("pg_dump"),
        "{err}"
    );
    let missing = finlock(&dir.path().join("nothing.db"), &keys)
        .args(["backup", dir.path().join("n.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(!dir.path().join("nothing.db").exists());

    // The phone checks in once more after the backup: it has now seen an entitlement the
    // backup does not know of.
    ok(&phone(&["checkin"]));

    // The server is lost; a new one starts on the backup (the same keys directory and URL).
    drop(server);
    let restored = serve(&copy, &keys, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the restored server does not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = lender_views(&url, &api_key, &id);
    assert_eq!(
        after, before,
        "the restored server answers the lender as before"
    );

    // The phone keeps checking in with the restored server (issued past what it had seen,
    // and audited), and new work is recorded.
    let out = ok(&phone(&["checkin"]));
    assert!(out.contains("unlocked"), "{out}");
    let audit = get(&url, &api_key, &format!("/v1/lender/devices/{id}/audit"));
    let caught_up: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == json!("seq_caught_up"))
        .collect();
    assert_eq!(caught_up.len(), 1, "{audit}");
    assert!(
        caught_up[0]["detail"]["device_seq"].as_u64()
            > caught_up[0]["detail"]["server_seq"].as_u64(),
        "{audit}"
    );
    ok(&finlock(&copy, &keys)
        .args([
            "lender",
            "device",
            "pay",
            &id,
            "--amount-minor",
            "150000",
            "--reference",
            "MPESA-2",
        ])
        .output()
        .unwrap());
    ok(&phone(&["checkin"]));
    let device = get(&url, &api_key, &format!("/v1/lender/devices/{id}"));
    assert_eq!(device["paid_minor"], json!(250_000));
    assert!(device["last_checkin"].as_i64() >= before["device"]["last_checkin"].as_i64());
    drop(restored);
}

/// Backups taken while payments keep arriving are each one consistent moment: every
/// payment with its audit entry and the device's total, never half a transaction.
#[test]
fn backups_under_writes_are_consistent_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let (db, keys) = (dir.path().join("finlock.db"), dir.path().join("keys"));
    let cli = |args: &[&str]| finlock(&db, &keys).args(args).output().unwrap();
    ok(&cli(&[
        "lender",
        "add",
        "Acme Credit",
        "--phone",
        "+254700000001",
        "--payment-url",
        "https://pay.acme.example/p",
    ]));
    let id = ok(&cli(&[
        "lender",
        "device",
        "register",
        "--currency",
        "KES",
        "--grace-days",
        "3",
        "--installment",
        "+10d=100000000",
        "-q",
    ]));
    let id = id.trim().to_string();
    let server = serve(&db, &keys, free_port());

    let writer = {
        let (db, keys, id) = (db.clone(), keys.clone(), id.clone());
        std::thread::spawn(move || {
            for i in 0..25 {
                let out = finlock(&db, &keys)
                    .args(["lender", "device", "pay", &id, "--amount-minor", "100"])
                    .args(["--reference", &format!("R-{i}")])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        })
    };
    let mut copies = Vec::new();
    for n in 0..4 {
        let copy = dir.path().join(format!("copy-{n}.db"));
        ok(&cli(&["backup", copy.to_str().unwrap()]));
        copies.push(copy);
        std::thread::sleep(Duration::from_millis(60));
    }
    writer.join().unwrap();
    drop(server);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for copy in &copies {
        let counts = rt.block_on(async {
            let db = finlock_server::db::Db::connect(&format!("sqlite://{}", copy.display()), 1)
                .await
                .unwrap();
            let one = |sql: &'static str| {
                let pool = db.read.clone();
                let id = id.clone();
                async move {
                    let row = sqlx::query(sql).bind(id).fetch_one(&pool).await.unwrap();
                    sqlx::Row::try_get::<i64, _>(&row, 0).unwrap()
                }
            };
            let payments = one("SELECT COUNT(*) FROM payments WHERE device_id = $1").await;
            let entries =
                one("SELECT COUNT(*) FROM audit WHERE device_id = $1 AND action = 'payment'").await;
            let sum =
                one("SELECT COALESCE(SUM(amount_minor), 0) FROM payments WHERE device_id = $1")
                    .await;
            let paid = one("SELECT paid_minor FROM devices WHERE device_id = $1").await;
            db.close().await;
            (payments, entries, sum, paid)
        });
        let (payments, entries, sum, paid) = counts;
        assert_eq!(
            payments, entries,
            "{copy:?}: a payment without its audit entry"
        );
        assert_eq!(
            sum, paid,
            "{copy:?}: the device's total is another moment's"
        );
        seen.push(payments);
    }
    eprintln!("payments in the copies: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
}
