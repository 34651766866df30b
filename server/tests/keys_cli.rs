//! `finlock keys …` through the real binary: the procedure of docs/LENDER-KEYS.md runs as
//! written (rotate, export, retire, export, lose the keys directory, import, serve), then
//! what it left behind is checked, and the refusals: a wrong passphrase, a backup older
//! than the lender's newest set, a changed byte — each exits non-zero and writes nothing.
//!
//! Bounded: the script is killed (with everything it started) after 120 s.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const DEADLINE: Duration = Duration::from_secs(120);

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/LENDER-KEYS.md");
    std::fs::read_to_string(path).expect("docs/LENDER-KEYS.md")
}

/// The ```sh blocks of a markdown text, in order.
fn sh_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => out.extend(current.take()),
            (Some(body), _) => {
                body.push_str(line);
                body.push('\n');
            }
            _ => {}
        }
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `finlock ARGS` in `dir` with the test's storage.
fn finlock(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env("FINLOCK_DB", "sqlite://finlock.db")
        .env("FINLOCK_KEYS", "./finlock-keys")
        .env_remove("FINLOCK_KEYS_PASSPHRASE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("finlock runs")
}

/// Runs `script` with bash in `dir` (PATH finds this build as `finlock`), bounded.
fn run_script(dir: &Path, script: &str) -> (bool, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let link = bin.join("finlock");
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let log = dir.join("script.log");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(dir)
        .env("PATH", path)
        .env("FINLOCK_DB", "sqlite://finlock.db")
        .env("FINLOCK_KEYS", "./finlock-keys")
        .env_remove("FINLOCK_KEYS_PASSPHRASE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(
            std::fs::File::options()
                .append(true)
                .open(&log)
                .expect("log"),
        )
        .process_group(0)
        .spawn()
        .expect("bash");
    let start = Instant::now();
    let ok = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.success();
        }
        if start.elapsed() > DEADLINE {
            // A negative pid signals the process group this test started, and only it.
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (ok, std::fs::read_to_string(&log).unwrap_or_default())
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
}

#[test]
fn the_documented_procedure_runs_and_its_refusals_change_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let blocks = sh_blocks(&doc());
    assert_eq!(blocks.len(), 4, "the page's procedure has four steps");
    let script = blocks
        .join("\n")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", free_port()));
    let (ok, log) = run_script(dir, &script);
    assert!(ok, "the documented procedure failed:\n{log}");
    let listed = finlock(dir, &["lender", "list", "--quiet"], &[]);
    assert!(listed.status.success(), "{listed:?}");
    let lender_id = String::from_utf8(listed.stdout)
        .expect("utf-8")
        .trim()
        .to_string();

    // Two rotations (an ordinary one, then the retirement of the key that signed), restored.
    let listed = finlock(dir, &["keys", "list", &lender_id, "--json"], &[]);
    assert!(listed.status.success(), "{listed:?}");
    let sets: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(sets["keys_seq"], 2);
    let kinds: Vec<&str> = sets["sets"]
        .as_array()
        .expect("sets")
        .iter()
        .map(|s| s["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["initial", "rotate", "retire"]);
    let first_kid = sets["sets"][0]["signing_kid"]
        .as_str()
        .expect("kid")
        .to_string();
    let retired = sets["sets"][2]["retired_kid"].as_str().expect("retired");
    assert_eq!(retired, sets["sets"][1]["signing_kid"]);
    assert_eq!(sets["sets"][2]["kids"].as_array().expect("kids").len(), 1);
    let actions: Vec<&str> = sets["log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["keys_rotated", "key_retired", "keys_imported"]);
    // Every key is back, 0600 in 0700 directories; the lost directory held the same bytes.
    let keys = dir.join("finlock-keys");
    // The server's Web Push (VAPID) key is not part of a lender's key export: the restored
    // server made a new one on its start (phones learn it from their next answer's
    // `push_key`). It is checked for its mode only.
    let vapid = keys.join("webpush-vapid.pk8");
    if vapid.exists() {
        assert_eq!(mode(&vapid), 0o600);
    }
    let restored: Vec<PathBuf> = files_under(&keys)
        .into_iter()
        .filter(|f| *f != vapid)
        .collect();
    assert_eq!(restored.len(), 3, "{restored:?}");
    assert!(restored.contains(&keys.join(format!("{lender_id}.pk8"))));
    for f in &restored {
        assert_eq!(mode(f), 0o600, "{}", f.display());
        assert_eq!(
            std::fs::read(f).expect("restored"),
            std::fs::read(
                dir.join("finlock-keys.lost")
                    .join(f.strip_prefix(&keys).expect("under"))
            )
            .expect("lost copy"),
        );
    }
    assert_eq!(mode(&keys.join(&lender_id)), 0o700);
    for backup in ["acme-keys-0.flk", "acme-keys-1.flk", "acme-keys-2.flk"] {
        assert_eq!(mode(&dir.join(backup)), 0o600);
        let text = std::fs::read_to_string(dir.join(backup)).expect("backup");
        assert!(
            !text.contains(&first_kid),
            "kids are inside the ciphertext only"
        );
    }

    // Refusals, each into an empty keys directory: nothing is written.
    let empty = |name: &str| {
        let d = dir.join(name);
        std::fs::create_dir(&d).expect("dir");
        d
    };
    let try_import = |keys: &Path, file: &str, pass: &str| {
        finlock(
            dir,
            &[
                "--keys",
                keys.to_str().expect("utf-8"),
                "keys",
                "import",
                file,
            ],
            &[("FINLOCK_KEYS_PASSPHRASE", pass)],
        )
    };
    let wrong = empty("k-wrong");
    let out = try_import(&wrong, "acme-keys-2.flk", "not the passphrase at all");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    assert!(files_under(&wrong).is_empty());
    for older in ["acme-keys-0.flk", "acme-keys-1.flk"] {
        let old = empty(&format!("k-{older}"));
        let out = try_import(&old, older, "a passphrase kept apart from the backup");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("newer backup"),
            "{out:?}"
        );
        assert!(files_under(&old).is_empty());
    }
    let changed = empty("k-changed");
    let mut text: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("acme-keys-2.flk")).expect("f"))
            .expect("json");
    text["keys_seq"] = 3.into();
    std::fs::write(dir.join("changed.flk"), text.to_string()).expect("write");
    let out = try_import(
        &changed,
        "changed.flk",
        "a passphrase kept apart from the backup",
    );
    assert!(!out.status.success());
    assert!(files_under(&changed).is_empty());
    // A passphrase too short to export with.
    let out = finlock(
        dir,
        &["keys", "export", &lender_id, "short.flk"],
        &[("FINLOCK_KEYS_PASSPHRASE", "short")],
    );
    assert!(!out.status.success());
    assert!(!dir.join("short.flk").exists());
}

/// `finlock serve` in `dir` on a free port (killed on drop).
#[cfg(feature = "simulator")]
struct Serving {
    child: std::process::Child,
    url: String,
}

#[cfg(feature = "simulator")]
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(feature = "simulator")]
fn serve(dir: &Path) -> Serving {
    let port = free_port();
    let child = Command::new(BIN)
        .current_dir(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--checkin-min-interval", "0"])
        .env("FINLOCK_DB", "sqlite://finlock.db")
        .env("FINLOCK_KEYS", "./finlock-keys")
        .env("FINLOCK_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Serving {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

#[cfg(feature = "simulator")]
fn ok(out: Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// The simulated phone (`finlock device`, the phone's own core) follows rotations made with
/// the CLI while the server runs.
#[cfg(feature = "simulator")]
#[test]
fn the_simulator_follows_a_rotation_made_while_the_server_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let lender = ok(finlock(
        dir,
        &[
            "lender",
            "add",
            "Acme Credit",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.acme.example/",
            "--json",
        ],
        &[],
    ));
    let lender: Value = serde_json::from_str(&lender).expect("json");
    let lender = lender["lender_id"].as_str().expect("id").to_string();
    let server = serve(dir);
    let register = |dir: &Path| {
        let id = ok(finlock(
            dir,
            &[
                "lender",
                "device",
                "register",
                "--currency",
                "KES",
                "--grace-days",
                "3",
                "--installment",
                "+30d=250000",
                "--quiet",
            ],
            &[],
        ));
        let code = ok(finlock(dir, &["lender", "device", "code", &id], &[]));
        (id, code)
    };
    let enroll = |state: &str, jwks: &str, code: &str| {
        std::fs::write(dir.join(format!("{state}.jwks")), jwks).expect("jwks");
        ok(Command::new(BIN)
            .current_dir(dir)
            .args([
                "device",
                "--state",
                state,
                "enroll",
                "--server",
                &server.url,
            ])
            .args(["--lender-keys", &format!("{state}.jwks"), "--code", code])
            .output()
            .expect("device"))
    };
    let keys_seq = |state: &str| {
        finlock_core::device::Device::open(dir.join(state))
            .expect("state")
            .state()
            .provisioning
            .as_ref()
            .expect("provisioned")
            .lender_keys
            .keys_seq()
    };
    let (_, code) = register(dir);
    let before = ok(finlock(dir, &["keys", "show", &lender], &[]));
    enroll("phone1", &before, &code);
    assert_eq!(keys_seq("phone1"), 0);

    ok(finlock(dir, &["keys", "rotate", &lender], &[]));
    // A phone provisioned now pins set 1; the server reads the new set when it enrolls.
    let after = ok(finlock(dir, &["keys", "show", &lender], &[]));
    assert!(after.contains("\"keys_seq\": 1"), "{after}");
    let (_, code2) = register(dir);
    enroll("phone2", &after, &code2);
    assert_eq!(keys_seq("phone2"), 1);
    // The phone enrolled before the rotation catches up at its next check-in.
    ok(Command::new(BIN)
        .current_dir(dir)
        .args(["device", "--state", "phone1", "checkin", "--now"])
        .output()
        .expect("device"));
    assert_eq!(keys_seq("phone1"), 1);
}
