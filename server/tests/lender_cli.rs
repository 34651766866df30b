//! `finlock lender device …`, the real binary on a temporary database: every subcommand
//! does what it says through the domain layer (audited as `cli:<lender>`), and every bad
//! input is refused with one clear line and exit 2 while nothing stored changes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const DAY: i64 = 86_400;

fn finlock(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env("FINLOCK_LOG", "warn")
    .env_remove("FINLOCK_LENDER")
    .env_remove("FINLOCK_PUBLIC_URL");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    finlock(dir).args(args).output().unwrap()
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
    serde_json::from_str(&ok(out)).unwrap()
}

/// Exit 2, one line on stderr containing `says`.
fn refused(out: &Output, says: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {err}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(says), "wanted {says:?} in: {err}");
}

fn add_lender(dir: &Path, name: &str) -> String {
    let v = json_of(&run(
        dir,
        &[
            "lender",
            "add",
            name,
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.acme.example/p",
            "--json",
        ],
    ));
    v["lender_id"].as_str().unwrap().to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A device with two installments (in 10 and 40 days), 3 days of grace.
fn register(dir: &Path) -> (String, String) {
    let v = json_of(&run(
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
            "+10d=250000",
            "--installment",
            "+40d=250000",
            "--json",
        ],
    ));
    (
        v["device_id"].as_str().unwrap().to_string(),
        v["enrollment_code"].as_str().unwrap().to_string(),
    )
}

fn show(dir: &Path, id: &str) -> Value {
    json_of(&run(dir, &["lender", "device", "show", id, "--json"]))
}

fn audit(dir: &Path, id: &str) -> Vec<Value> {
    json_of(&run(dir, &["lender", "device", "audit", id, "--json"]))["entries"]
        .as_array()
        .unwrap()
        .clone()
}

fn actions(dir: &Path, id: &str) -> Vec<String> {
    audit(dir, id)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn register_show_code_qr_list_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let lender = add_lender(dir.path(), "Acme Credit");
    let t0 = now();
    let (id, code) = register(dir.path());
    assert!(id.starts_with("dev"), "{id}");

    let v = show(dir.path(), &id);
    assert_eq!(v["device_id"], json!(id));
    assert_eq!(v["currency"], json!("KES"));
    assert_eq!(v["total_minor"], json!(500_000));
    assert_eq!(v["enrolled"], json!(false));
    let due = v["installments"][0]["due"].as_i64().unwrap();
    assert!((t0 + 10 * DAY..t0 + 10 * DAY + 60).contains(&due), "{v}");
    assert_eq!(v["lock_at"].as_i64().unwrap(), due + 3 * DAY);
    let text = ok(&run(dir.path(), &["lender", "device", "show", &id]));
    assert!(text.contains("KES 5,000.00"), "{text}");
    assert!(
        text.contains('T') && text.contains('Z'),
        "ISO times: {text}"
    );

    // The code as registered; --new replaces it (audited, the code itself is not).
    assert_eq!(
        ok(&run(dir.path(), &["lender", "device", "code", &id])).trim(),
        code
    );
    let new = ok(&run(
        dir.path(),
        &["lender", "device", "code", &id, "--new"],
    ));
    assert_ne!(new.trim(), code);
    assert_eq!(
        ok(&run(dir.path(), &["lender", "device", "code", &id])).trim(),
        new.trim()
    );

    // The QR payload: the server URL, the lender's keys and the current code.
    let payload = json_of(&run(
        dir.path(),
        &[
            "lender",
            "device",
            "qr",
            &id,
            "--format",
            "json",
            "--public-url",
            "http://10.0.2.2:8080",
        ],
    ));
    let bundle = &payload["android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE"];
    assert_eq!(bundle["finlock.server_url"], json!("http://10.0.2.2:8080"));
    assert_eq!(bundle["finlock.enrollment_code"], json!(new.trim()));
    let jwks = ok(&run(dir.path(), &["keys", "show", &lender]));
    let pinned: Value =
        serde_json::from_str(bundle["finlock.lender_keys"].as_str().unwrap()).unwrap();
    assert_eq!(pinned, serde_json::from_str::<Value>(&jwks).unwrap());
    assert_eq!(
        payload["android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME"],
        json!("org.finlock.app/.AdminReceiver")
    );
    // On the terminal: Unicode blocks. As PNG: a private file.
    let text = ok(&finlock(dir.path())
        .args(["lender", "device", "qr", &id])
        .env("FINLOCK_PUBLIC_URL", "https://lender.example")
        .output()
        .unwrap());
    assert!(text.contains('█') || text.contains('▀'), "{text}");
    let png = dir.path().join("qr.png");
    ok(&run(
        dir.path(),
        &[
            "lender",
            "device",
            "qr",
            &id,
            "--format",
            "png",
            "--out",
            png.to_str().unwrap(),
            "--public-url",
            "https://lender.example",
        ],
    ));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&png).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The list has it, in both forms; a state filter works.
    let page = json_of(&run(dir.path(), &["lender", "device", "list", "--json"]));
    assert_eq!(page["devices"][0]["device_id"], json!(id));
    let current = json_of(&run(
        dir.path(),
        &["lender", "device", "list", "--state", "released", "--json"],
    ));
    assert_eq!(current["devices"], json!([]));
    assert!(ok(&run(dir.path(), &["lender", "device", "list"])).contains(&id));

    // For scripts: only the id.
    assert_eq!(
        ok(&run(dir.path(), &["lender", "list", "-q"])).trim(),
        lender
    );
    let quiet = ok(&run(
        dir.path(),
        &[
            "lender",
            "device",
            "register",
            "--currency",
            "KES",
            "--grace-days",
            "0",
            "--installment",
            "+5d=100",
            "-q",
        ],
    ));
    assert!(
        quiet.trim().starts_with("dev") && !quiet.trim().contains(char::is_whitespace),
        "{quiet}"
    );
    assert_eq!(show(dir.path(), quiet.trim())["total_minor"], json!(100));

    // Audited as the command line, for this lender.
    let entries = audit(dir.path(), &id);
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    let actor = format!("cli:{lender}");
    assert_eq!(
        got,
        vec![
            (actor.as_str(), "registered"),
            (actor.as_str(), "enrollment_code_reissued")
        ]
    );
    assert!(!entries.iter().any(|e| e.to_string().contains(new.trim())));
}

#[test]
fn lock_unlock_pay_extend_release() {
    let dir = tempfile::tempdir().unwrap();
    add_lender(dir.path(), "Acme Credit");
    let (id, _) = register(dir.path());
    let dev = |args: &[&str]| {
        let mut all = vec!["lender", "device"];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };

    ok(&dev(&["lock", &id, "--reason", "Reported stolen; call us"]));
    let v = show(dir.path(), &id);
    assert_eq!(v["lender_locked"], json!(true));
    assert_eq!(v["lock_reason"], json!("Reported stolen; call us"));
    assert_eq!(v["state"], json!("locked"));
    ok(&dev(&["unlock", &id]));
    assert_eq!(show(dir.path(), &id)["lender_locked"], json!(false));

    let paid = ok(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "250000",
        "--reference",
        "MPESA-1",
    ]));
    assert!(paid.contains("KES 2,500.00"), "{paid}");
    assert_eq!(show(dir.path(), &id)["paid_minor"], json!(250_000));
    // The same command again: the first answer, nothing counted twice.
    let first = json_of(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "250000",
        "--reference",
        "MPESA-1",
        "--json",
    ]));
    let again = json_of(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "250000",
        "--reference",
        "MPESA-1",
        "--json",
    ]));
    assert_eq!(first["payment_id"], again["payment_id"]);
    assert_eq!(show(dir.path(), &id)["paid_minor"], json!(250_000));

    let lock_before = show(dir.path(), &id)["lock_at"].as_i64().unwrap();
    let until = lock_before + 5 * DAY;
    let out = ok(&dev(&[
        "extend",
        &id,
        "--until",
        &until.to_string(),
        "--reason",
        "paid on Friday",
    ]));
    assert!(out.contains("locks at"), "{out}");
    let v = show(dir.path(), &id);
    assert_eq!(v["extended_until"], json!(until));
    assert_eq!(v["lock_at"], json!(until));

    // Paid in full: completing (48 h by default), the release date shown.
    ok(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "250000",
        "--reference",
        "MPESA-2",
    ]));
    let v = show(dir.path(), &id);
    assert!(v["release_at"].as_i64().is_some(), "{v}");
    let text = ok(&dev(&["show", &id]));
    assert!(text.contains("released at"), "{text}");

    ok(&dev(&["release", &id, "--yes"]));
    let v = show(dir.path(), &id);
    assert_eq!(v["state"], json!("released"));
    assert_eq!(v["lock_at"], Value::Null);

    assert_eq!(
        actions(dir.path(), &id),
        [
            "registered",
            "locked",
            "unlocked",
            "payment",
            "extended",
            "payment",
            "completing",
            "released"
        ]
    );
}

/// Every subcommand's bad input: exit 2 with a clear line, and the devices and their audit
/// logs exactly as before.
#[test]
fn bad_input_is_refused_with_exit_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lender = add_lender(dir.path(), "Acme Credit");
    let (id, _) = register(dir.path());
    ok(&run(
        dir.path(),
        &[
            "lender",
            "device",
            "pay",
            &id,
            "--amount-minor",
            "1000",
            "--reference",
            "R-1",
        ],
    ));
    let snapshot = || {
        let as_lender = |args: &[&str]| {
            let mut all = vec!["lender", "device", "--lender", &lender];
            all.extend_from_slice(args);
            json_of(&run(dir.path(), &all))
        };
        (
            as_lender(&["list", "--json"]),
            as_lender(&["audit", &id, "--json"]),
        )
    };
    let before = snapshot();
    let dev = |args: &[&str]| {
        let mut all = vec!["lender", "device"];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    let reg = |extra: &[&str]| {
        let mut all = vec!["register", "--currency", "KES", "--grace-days", "3"];
        all.extend_from_slice(extra);
        dev(&all)
    };
    let cases: Vec<(Output, &str)> = vec![
        // register
        (
            dev(&[
                "register",
                "--currency",
                "XYZ",
                "--grace-days",
                "3",
                "--installment",
                "+10d=5",
            ]),
            "plan.currency",
        ),
        (reg(&["--installment", "tomorrow=5"]), "--installment"),
        (reg(&["--installment", "+10d"]), "WHEN=AMOUNT_MINOR"),
        (reg(&["--installment", "+10d=0"]), "amount_minor"),
        (
            reg(&["--installment", "+20d=5", "--installment", "+10d=5"]),
            "due-date order",
        ),
        (reg(&["--installment", "+10d=5", "--imei", "123"]), "imei"),
        (dev(&["register", "--plan", "/nonexistent.json"]), "--plan"),
        // show, code, audit, list
        (dev(&["show", "dev-nope"]), "is not a device of lender"),
        (dev(&["code", "dev-nope"]), "is not a device"),
        (dev(&["audit", &id, "--limit", "0"]), "limit"),
        (dev(&["payments", &id, "--limit", "0"]), "limit"),
        (dev(&["payments", &id, "--cursor", "garbage"]), "cursor"),
        (dev(&["requests", "dev-nope"]), "is not a device"),
        (
            dev(&["refuse", &id, "enr-nope"]),
            "is not an enrollment request",
        ),
        (dev(&["reprovision", "dev-nope", "on"]), "is not a device"),
        (dev(&["list", "--state", "sleepy"]), "state"),
        (dev(&["list", "--limit", "501"]), "limit"),
        // qr
        (dev(&["qr", &id]), "--public-url"),
        (
            dev(&["qr", &id, "--public-url", "not a url"]),
            "--public-url",
        ),
        (
            dev(&[
                "qr",
                &id,
                "--public-url",
                "https://l.example",
                "--apk-url",
                "https://l.example/a.apk",
            ]),
            "--apk-checksum",
        ),
        // lock, unlock
        (dev(&["lock", &id, "--reason", ""]), "reason"),
        (dev(&["lock", &id, "--reason", "bell\u{7}"]), "reason"),
        (dev(&["unlock", &id]), "no lock of yours"),
        // pay
        (
            dev(&["pay", &id, "--amount-minor", "0", "--reference", "R-2"]),
            "amount_minor",
        ),
        (
            dev(&[
                "pay",
                &id,
                "--amount-minor",
                "5",
                "--reference",
                "R-2",
                "--currency",
                "PHP",
            ]),
            "currency",
        ),
        (
            dev(&[
                "pay",
                &id,
                "--amount-minor",
                "99999999",
                "--reference",
                "R-2",
            ]),
            "allow_overpayment",
        ),
        (
            dev(&["pay", &id, "--amount-minor", "5", "--reference", "bad\nref"]),
            "reference",
        ),
        (
            dev(&["pay", &id, "--amount-minor", "2000", "--reference", "R-1"]),
            "already recorded",
        ),
        // extend
        (
            dev(&["extend", &id, "--until", "someday", "--reason", "r"]),
            "--until",
        ),
        (
            dev(&["extend", &id, "--until", "2001-01-01", "--reason", "r"]),
            "until",
        ),
        (
            dev(&["extend", &id, "--until", "+200d", "--reason", "r"]),
            "90 days",
        ),
        // release
        (dev(&["release", &id]), "--yes"),
        // offline code
        (
            dev(&[
                "offline-code",
                &id,
                "--challenge",
                "12345678",
                "--days",
                "5",
            ]),
            "days",
        ),
        (
            dev(&["offline-code", &id, "--challenge", "12", "--days", "1"]),
            "challenge",
        ),
        (
            dev(&[
                "offline-code",
                &id,
                "--challenge",
                "12345678",
                "--days",
                "1",
            ]),
            "not enrolled",
        ),
        // the lender
        (dev(&["--lender", "lnd-nope", "show", &id]), "--lender"),
    ];
    for (out, says) in &cases {
        refused(out, says);
    }
    assert_eq!(snapshot(), before, "a refused command changed something");

    // With two lenders the CLI does not guess; the other lender does not see the device.
    let other = add_lender(dir.path(), "Other Credit");
    refused(&dev(&["show", &id]), "2 lenders");
    refused(
        &dev(&["show", &id, "--lender", &other]),
        "is not a device of lender",
    );
    assert_eq!(snapshot(), before);
}

/// The operations the lender API gained later, on the command line too: payments and
/// voids, a reschedule, re-provisioning on/off, a cancelled sale, the completing window.
#[test]
fn payments_void_reschedule_reprovision_cancel_and_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let lender = add_lender(dir.path(), "Acme Credit");
    let (id, _) = register(dir.path());
    let dev = |args: &[&str]| {
        let mut all = vec!["lender", "device"];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };

    // Payments and a void (idempotent), the account after it.
    ok(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "250000",
        "--reference",
        "BOUNCED-1",
    ]));
    let listed = json_of(&dev(&["payments", &id, "--json"]));
    let payment = listed["payments"][0]["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(listed["payments"][0]["reference"], json!("BOUNCED-1"));
    let voided = ok(&dev(&[
        "void",
        &id,
        &payment,
        "--reason",
        "the transfer bounced",
    ]));
    assert!(voided.contains("voided"), "{voided}");
    let again = json_of(&dev(&[
        "void",
        &id,
        &payment,
        "--reason",
        "the transfer bounced",
        "--json",
    ]));
    assert_eq!(again["paid_minor"], json!(0));
    assert_eq!(show(dir.path(), &id)["paid_minor"], json!(0));
    let text = ok(&dev(&["payments", &id]));
    assert!(
        text.contains("VOIDED") && text.contains("the transfer bounced"),
        "{text}"
    );

    // A reschedule: three smaller installments instead of two.
    let out = ok(&dev(&[
        "reschedule",
        &id,
        "--grace-days",
        "5",
        "--installment",
        "+15d=200000",
        "--installment",
        "+45d=150000",
        "--installment",
        "+75d=150000",
        "--reason",
        "lost her job; agreed smaller installments",
    ]));
    assert!(out.contains("rescheduled"), "{out}");
    let v = show(dir.path(), &id);
    assert_eq!(v["installments"].as_array().unwrap().len(), 3);
    assert_eq!(v["total_minor"], json!(500_000));

    ok(&dev(&["reprovision", &id, "on"]));
    assert_eq!(show(dir.path(), &id)["auto_reprovision"], json!(true));

    // A second sale, cancelled before its phone enrolled.
    let (other, code) = register(dir.path());
    ok(&dev(&[
        "cancel",
        &other,
        "--reason",
        "the customer returned the phone",
    ]));
    assert_eq!(show(dir.path(), &other)["state"], json!("released"));
    assert!(
        !dev(&["code", &other]).status.success(),
        "no code {code} after a cancel"
    );

    let actor = format!("cli:{lender}");
    let entries = audit(dir.path(), &id);
    let got: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "registered",
            "payment",
            "payment_voided",
            "rescheduled",
            "auto_reprovision_set"
        ]
    );
    assert!(
        entries.iter().all(|e| e["actor"] == json!(actor)),
        "{entries:?}"
    );
    assert_eq!(actions(dir.path(), &other), ["registered", "cancelled"]);

    // The completing window: 48 h unless set; 0 releases a paid-up phone at once.
    let window = |args: &[&str]| {
        let mut all = vec!["lender", "completing-window"];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    assert!(ok(&window(&[])).contains("2 d later"));
    assert!(ok(&window(&["--set", "0"])).contains("0 s later"));
    ok(&dev(&[
        "pay",
        &id,
        "--amount-minor",
        "500000",
        "--reference",
        "FULL-1",
    ]));
    assert_eq!(show(dir.path(), &id)["state"], json!("released"));

    // Refused, exit 2, nothing changed.
    let (third, _) = register(dir.path());
    ok(&dev(&[
        "pay",
        &third,
        "--amount-minor",
        "1000",
        "--reference",
        "R-3",
    ]));
    let before = (show(dir.path(), &third), audit(dir.path(), &third));
    refused(
        &dev(&["void", &third, "pay-nope", "--reason", "x"]),
        "payment",
    );
    refused(
        &dev(&["void", &third, "pay-nope", "--reason", ""]),
        "reason",
    );
    refused(
        &dev(&[
            "reschedule",
            &third,
            "--grace-days",
            "3",
            "--installment",
            "+5d",
            "--reason",
            "r",
        ]),
        "--installment",
    );
    refused(
        &dev(&[
            "reschedule",
            &third,
            "--grace-days",
            "3",
            "--installment",
            "+5d=1",
            "--reason",
            "r",
        ]),
        "",
    );
    refused(&dev(&["cancel", &third, "--reason", ""]), "reason");
    refused(&window(&["--set", "45d"]), "completing_window_s");
    refused(&window(&["--set", "soon"]), "--set");
    let reprovision = dev(&["reprovision", &third, "maybe"]);
    assert_eq!(reprovision.status.code(), Some(2));
    assert_eq!(
        (show(dir.path(), &third), audit(dir.path(), &third)),
        before
    );
    assert!(ok(&window(&[])).contains("0 s later"));
}
