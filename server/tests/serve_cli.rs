//! `finlock serve` and `finlock demo` as an operator meets them (issue 13): settings that
//! would fail later are refused at start with exit 2 and a clear message; logs are JSON
//! on request and never coloured off a terminal; the demo's first screen is its story.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_finlock");

fn finlock(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env_remove("FINLOCK_LOG")
    .env_remove("RUST_LOG")
    .env_remove("NO_COLOR");
    c
}

fn add_lender(dir: &std::path::Path) -> String {
    let out = finlock(dir)
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
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["lender_id"].as_str().unwrap().to_string()
}

#[test]
fn settings_that_would_fail_later_stop_the_start_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let lender = add_lender(dir.path());
    let refused = |args: &[&str], says: &str| {
        let out = finlock(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(&["--public-url", "not a url"], "--public-url");
    refused(
        &["--apk-url", "https://x.example/app.apk"],
        "--apk-checksum",
    );
    refused(
        &[
            "--apk-url",
            "https://x.example/app.apk",
            "--apk-checksum",
            "short",
        ],
        "base64url SHA-256",
    );
    refused(&["--admin-component", "no-slash"], "--admin-component");
    // Attested enrollment's settings (ADR 0011): a roots directory that is missing, holds
    // no certificate or a file that is not one; a status list that is not one; a level
    // other than tee or strongbox.
    let roots = dir.path().join("attestation-roots");
    std::fs::create_dir_all(&roots).unwrap();
    let roots_arg = roots.to_str().unwrap();
    refused(
        &["--attestation-roots", "/nonexistent/roots"],
        "--attestation-roots",
    );
    refused(&["--attestation-roots", roots_arg], "no .pem file");
    std::fs::write(roots.join("oem.pem"), "not a certificate").unwrap();
    refused(&["--attestation-roots", roots_arg], "oem.pem");
    let list = dir.path().join("status.json");
    std::fs::write(&list, "{}").unwrap();
    refused(
        &["--attestation-revocations", list.to_str().unwrap()],
        "--attestation-revocations",
    );
    refused(
        &["--attestation-security-level", "software"],
        "--attestation-security-level",
    );
    // The keys directory the database's lenders need is not where --keys says.
    refused(
        &["--keys", dir.path().join("elsewhere").to_str().unwrap()],
        "keys directory",
    );
    // A lender's key file unreadable (removed).
    std::fs::remove_file(dir.path().join("keys").join(format!("{lender}.pk8"))).unwrap();
    refused(&[], &lender);
}

#[test]
fn json_logs_are_json_without_colour_and_the_server_says_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = finlock(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("finlock listening on ")
        .unwrap()
        .to_string();
    {
        use std::io::{Read, Write};
        let addr = url.strip_prefix("http://").unwrap();
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // SIGTERM: a graceful stop that says so.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains('\u{1b}'),
        "colour codes off a terminal: {err}"
    );
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|v| v["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"listening"), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.starts_with("shutting down")),
        "{messages:?}"
    );
    // The access log names the route, not the path.
    assert!(
        lines.iter().any(|v| v["fields"]["route"] == "/healthz"),
        "{err}"
    );
}

#[test]
fn the_demo_tells_its_story_without_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = finlock(dir.path())
        .current_dir(dir.path())
        .arg("demo")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("INFO") && !err.contains('\u{1b}'), "{err}");
    let story = String::from_utf8_lossy(&out.stdout);
    assert!(story.contains("RELEASED"), "{story}");
}
