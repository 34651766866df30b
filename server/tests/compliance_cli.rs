//! `finlock lender compliance …`, the real binary on a temporary database: the shipped
//! profiles are listed, a selection is shown and set through the domain operation the API
//! calls (audited as `cli:<lender>`), and a refusal is one line with exit 2 while nothing
//! stored changes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env(
            "FINLOCK_DB",
            format!("sqlite://{}", dir.join("finlock.db").display()),
        )
        .env("FINLOCK_KEYS", dir.join("keys"))
        .env("FINLOCK_LOG", "warn")
        .env_remove("FINLOCK_LENDER")
        .args(args)
        .output()
        .expect("the finlock binary runs")
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

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("one JSON document")
}

/// Exit 2, one line on stderr containing `says`.
fn refused(out: &Output, says: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(says), "wanted {says:?} in: {err}");
}

fn add_lender(dir: &Path) -> String {
    let v = json_of(&run(
        dir,
        &[
            "lender",
            "add",
            "Acme Credit",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.acme.example/p",
            "--json",
        ],
    ));
    v["lender_id"].as_str().expect("lender_id").to_string()
}

#[test]
fn profiles_show_and_set_through_the_domain_operation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lender = add_lender(dir.path());
    let listed = ok(&run(dir.path(), &["lender", "compliance", "profiles"]));
    for id in [
        "permissive",
        "in-rbi-draft",
        "br-ce",
        "ph-sec-mc18",
        "graded",
    ] {
        assert!(listed.contains(id), "{listed}");
    }
    let show = || {
        json_of(&run(
            dir.path(),
            &["lender", "compliance", "show", "--json"],
        ))
    };
    assert_eq!(
        show(),
        json!({ "profile": "permissive", "payment_apps": [] })
    );
    let set = json_of(&run(
        dir.path(),
        &[
            "lender",
            "compliance",
            "--lender",
            &lender,
            "set",
            "ph-sec-mc18",
            "--payment-app",
            "com.example.pay",
            "--json",
        ],
    ));
    assert_eq!(
        set,
        json!({ "profile": "ph-sec-mc18", "payment_apps": ["com.example.pay"] })
    );
    // Another profile keeps the payment apps unless told otherwise.
    ok(&run(dir.path(), &["lender", "compliance", "set", "br-ce"]));
    assert_eq!(
        show(),
        json!({ "profile": "br-ce", "payment_apps": ["com.example.pay"] })
    );
    ok(&run(
        dir.path(),
        &["lender", "compliance", "set", "br-ce", "--no-payment-apps"],
    ));
    assert_eq!(show()["payment_apps"], json!([]));
}

#[test]
fn a_refusal_is_one_line_with_exit_2_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    add_lender(dir.path());
    let show = || {
        json_of(&run(
            dir.path(),
            &["lender", "compliance", "show", "--json"],
        ))
    };
    let before = show();
    refused(
        &run(dir.path(), &["lender", "compliance", "set", "nowhere"]),
        "one of: permissive, in-rbi-draft, br-ce, ph-sec-mc18, graded",
    );
    refused(
        &run(
            dir.path(),
            &[
                "lender",
                "compliance",
                "set",
                "br-ce",
                "--payment-app",
                "mpesa",
            ],
        ),
        "payment_apps[0]",
    );
    assert_eq!(show(), before);
}
