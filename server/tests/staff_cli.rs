//! `finlock staff …` through the real binary: add with a password from standard input and
//! by invitation, list, change a role, disable, log out everywhere, reset a password — then
//! the refusals
//! (bad email, bad role, weak password, an email taken, an unknown lender, no public URL,
//! nothing on standard input, the last owner): each exits 2 with one line and stores
//! nothing, checked against the staff list and the lender's audit log.
//!
//! The password read from standard input is checked by logging in with the library on the
//! same database.

#![cfg(unix)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const PASSWORD: &str = "correct horse battery staple";

/// `finlock ARGS` in `dir` with the test's storage; `stdin` piped in when given.
fn finlock(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env("FINLOCK_DB", "sqlite://finlock.db")
        .env("FINLOCK_KEYS", "./finlock-keys")
        .env_remove("FINLOCK_PUBLIC_URL")
        .env_remove("FINLOCK_LENDER")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("finlock runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("finlock ends")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("json output")
}

/// The exit code is 2 and stderr says `expect`.
fn refused(out: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(expect), "expected {expect:?} in: {stderr}");
}

/// Everything stored about the lender's staff: the list and the lender's log.
fn stored(dir: &Path, lender: &str) -> (Value, Value) {
    let staff = json(&finlock(
        dir,
        &["staff", "list", "--lender", lender, "--json"],
        None,
    ));
    let keys = json(&finlock(dir, &["keys", "list", lender, "--json"], None));
    (staff, keys["log"].clone())
}

#[test]
fn staff_are_added_listed_changed_and_refusals_store_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let lender = json(&finlock(
        dir,
        &[
            "lender",
            "add",
            "Acme Phones",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.example",
            "--json",
        ],
        None,
    ))["lender_id"]
        .as_str()
        .expect("lender_id")
        .to_string();
    let l = lender.as_str();

    // The first owner, with a password from standard input (one final newline dropped).
    let ann = json(&finlock(
        dir,
        &[
            "staff",
            "add",
            "--lender",
            l,
            "--email",
            " Ann@Shop.Example",
            "--name",
            "Ann",
            "--role",
            "owner",
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    ));
    assert_eq!(ann["staff"]["email"], "ann@shop.example");
    assert_eq!(ann["staff"]["role"], "owner");
    assert_eq!(ann["staff"]["has_password"], true);

    // An agent by invitation.
    let bob = json(&finlock(
        dir,
        &[
            "staff",
            "add",
            "--lender",
            l,
            "--email",
            "bob@shop.example",
            "--name",
            "Bob",
            "--role",
            "agent",
            "--public-url",
            "https://lender.example/",
            "--json",
        ],
        None,
    ));
    let link = bob["invitation_url"].as_str().expect("invitation_url");
    assert!(
        link.starts_with("https://lender.example/console/invite/fli_"),
        "{link}"
    );
    assert_eq!(bob["staff"]["has_password"], false);
    let text = ok(&finlock(
        dir,
        &[
            "staff",
            "add",
            "--lender",
            l,
            "--email",
            "vic@shop.example",
            "--name",
            "Vic",
            "--role",
            "viewer",
            "--public-url",
            "http://127.0.0.1:8080",
        ],
        None,
    ));
    assert!(text.contains("usable once, until"), "{text}");
    assert!(
        text.contains("http://127.0.0.1:8080/console/invite/fli_"),
        "{text}"
    );

    let list = ok(&finlock(dir, &["staff", "list", "--lender", l], None));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("ann@shop.example") && lines[0].contains("active"));
    assert!(lines[1].starts_with("bob@shop.example") && lines[1].contains("invited"));

    // Role change and disable; then the password from stdin logs in.
    let out = ok(&finlock(
        dir,
        &[
            "staff",
            "role",
            "--lender",
            l,
            "--email",
            "vic@shop.example",
            "--role",
            "agent",
        ],
        None,
    ));
    assert!(out.contains("vic@shop.example is agent"), "{out}");
    ok(&finlock(
        dir,
        &[
            "staff",
            "disable",
            "--lender",
            l,
            "--email",
            "BOB@shop.example",
        ],
        None,
    ));
    let out = ok(&finlock(
        dir,
        &[
            "staff",
            "logout-everywhere",
            "--lender",
            l,
            "--email",
            "ann@shop.example",
        ],
        None,
    ));
    assert!(out.contains("0 sessions ended"), "{out}");
    let (staff, log) = stored(dir, l);
    let by_email = |e: &str| {
        staff
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["email"] == e)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_email("vic@shop.example")["role"], "agent");
    assert!(by_email("bob@shop.example")["disabled_at"].is_i64());
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        [
            "staff_added",
            "staff_invited",
            "staff_invited",
            "staff_role_changed",
            "staff_disabled",
            "staff_logged_out_everywhere"
        ]
    );
    assert!(
        log.as_array()
            .expect("log")
            .iter()
            .all(|e| e["actor"] == format!("cli:{l}"))
    );
    assert!(
        !log.to_string().contains("shop.example"),
        "no emails in the log"
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("finlock.db").display());
        let db = finlock_server::db::Db::connect(&url, 1).await.expect("db");
        let attempt = |password| finlock_server::staff::LoginAttempt {
            email: "ann@shop.example",
            password,
            totp_code: None,
            address: None,
        };
        let now = 2_000_000_000;
        let logged_in = finlock_server::staff::login(&db, &attempt(PASSWORD), now).await;
        assert!(logged_in.is_ok(), "{logged_in:?}");
        let with_newline = format!("{PASSWORD}\n");
        assert!(
            finlock_server::staff::login(&db, &attempt(&with_newline), now)
                .await
                .is_err()
        );
        db.close().await;
    });

    // Refusals: exit 2, one line, nothing stored.
    let before = stored(dir, l);
    let add = |email: &str, role: &str, extra: &[&str]| {
        let mut args = vec![
            "staff", "add", "--lender", l, "--email", email, "--name", "Zed", "--role", role,
        ];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>, stdin: Option<&str>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        finlock(dir, &args, stdin)
    };
    let url = ["--public-url", "https://lender.example"];
    refused(&run(add("not-an-email", "agent", &url), None), "email");
    refused(&run(add("zed@shop.example", "admin", &url), None), "admin");
    refused(
        &run(add("ANN@shop.example", "agent", &url), None),
        "exists already",
    );
    refused(
        &run(add("zed@shop.example", "agent", &[]), None),
        "--public-url",
    );
    refused(
        &run(
            add("zed@shop.example", "agent", &["--public-url", "ftp://x"]),
            None,
        ),
        "public-url",
    );
    refused(
        &run(
            add("zed@shop.example", "agent", &["--password-stdin"]),
            Some("short\n"),
        ),
        "at least 12",
    );
    refused(
        &run(
            add("zed@shop.example", "agent", &["--password-stdin"]),
            Some(""),
        ),
        "no password",
    );
    refused(
        &run(
            add("zed@shop.example", "agent", &["--password-stdin"]),
            Some("zed@shop.example\n"),
        ),
        "email",
    );
    refused(
        &run(
            add("zed@shop.example", "agent", &["--password", PASSWORD]),
            None,
        ),
        "--password",
    );
    refused(
        &finlock(
            dir,
            &[
                "staff",
                "add",
                "--lender",
                "lnd-nope",
                "--email",
                "zed@shop.example",
                "--name",
                "Zed",
                "--role",
                "agent",
                "--public-url",
                "https://lender.example",
            ],
            None,
        ),
        "no lender",
    );
    // The last active owner stays owner and enabled; unknown emails are named.
    refused(
        &finlock(
            dir,
            &[
                "staff",
                "role",
                "--lender",
                l,
                "--email",
                "ann@shop.example",
                "--role",
                "viewer",
            ],
            None,
        ),
        "last active owner",
    );
    refused(
        &finlock(
            dir,
            &[
                "staff",
                "disable",
                "--lender",
                l,
                "--email",
                "ann@shop.example",
            ],
            None,
        ),
        "last active owner",
    );
    refused(
        &finlock(
            dir,
            &[
                "staff",
                "disable",
                "--lender",
                l,
                "--email",
                "nobody@shop.example",
            ],
            None,
        ),
        "no staff member",
    );
    refused(
        &finlock(
            dir,
            &[
                "staff",
                "reset-password",
                "--lender",
                l,
                "--email",
                "vic@shop.example",
                "--public-url",
                "https://lender.example",
            ],
            None,
        ),
        "only an active account",
    );
    assert_eq!(stored(dir, l), before, "a refusal changed what is stored");

    // A forgotten password: reset, and the printed link sets a new one.
    ok(&run(
        add("dan@shop.example", "agent", &["--password-stdin"]),
        Some(PASSWORD),
    ));
    let reset = json(&finlock(
        dir,
        &[
            "staff",
            "reset-password",
            "--lender",
            l,
            "--email",
            "dan@shop.example",
            "--public-url",
            "https://lender.example",
            "--json",
        ],
        None,
    ));
    assert!(
        reset["invitation_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://lender.example/console/invite/fli_")),
        "{reset}"
    );
    assert_eq!(reset["staff"]["has_password"], false);
    let (_, log) = stored(dir, l);
    assert_eq!(
        log.as_array()
            .and_then(|l| l.last())
            .map(|e| e["action"].clone()),
        Some("staff_password_reset".into())
    );
}
