//! `finlock lender import sales|payments`, the real binary on a temporary database:
//! a good file is imported (devices printed with their codes, payments recorded once
//! even when the statement is imported again); a file with a bad row prints every row
//! error with its line, exits 2 and stores nothing.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_finlock");

fn finlock(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env(
        "FINLOCK_DB",
        format!("sqlite://{}", dir.join("finlock.db").display()),
    )
    .env("FINLOCK_KEYS", dir.join("keys"))
    .env("FINLOCK_LOG", "warn")
    .env_remove("FINLOCK_LENDER");
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

/// A date 30 days from now, as a sales file writes it.
fn in_a_month() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    jiff::Timestamp::from_second(now + 30 * 86_400)
        .unwrap()
        .strftime("%Y-%m-%d")
        .to_string()
}

fn device_count(dir: &Path) -> usize {
    json_of(&run(dir, &["lender", "device", "list", "--json"]))["devices"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn sales_and_payments_files_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lender = json_of(&run(
        d,
        &[
            "lender",
            "add",
            "Acme",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.acme.example/p",
            "--json",
        ],
    ))["lender_id"]
        .as_str()
        .unwrap()
        .to_string();
    let due = in_a_month();
    let sales = d.join("sales.csv");
    std::fs::write(
        &sales,
        format!(
            "customer_ref,currency,grace_days,installments,amount,first_due,every\n\
             C-1,KES,7,3,1000.00,{due},month\n\
             C-2,KES,7,3,1000.00,{due},month\n\
             C-3,KES,7,3,1000.00,{due},month\n"
        ),
    )
    .unwrap();
    let bad = d.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "customer_ref,currency,grace_days,installments,amount,first_due,every\n\
             C-1,KES,7,3,1000.00,{due},month\n\
             C-2,KES,seven,3,1000.00,{due},month\n\
             C-3,KES,7,3,-1,{due},fortnight\n"
        ),
    )
    .unwrap();

    // Every error of the bad file, exit 2, nothing stored.
    let out = run(
        d,
        &[
            "lender",
            "import",
            "--lender",
            &lender,
            "sales",
            bad.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3, grace_days: "), "{err}");
    assert!(err.contains("line 4, amount: a negative amount"), "{err}");
    assert!(err.contains("line 4, every: "), "{err}");
    assert!(
        err.contains("3 errors in the file; nothing was stored"),
        "{err}"
    );
    assert_eq!(device_count(d), 0);

    // With --json: the report on standard output, each error with its code.
    let out = run(
        d,
        &["lender", "import", "sales", "--json", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error_count"], 3);
    let codes: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["column"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("grace_days", "not_whole_number"),
            ("amount", "amount_negative"),
            ("every", "every_unknown"),
        ]
    );
    assert_eq!(report["errors"][2]["params"]["max"], 366);
    assert!(err.contains("[amount_negative]"), "{err}");
    assert_eq!(device_count(d), 0);

    // A dry run of the good file stores nothing either.
    let out = run(
        d,
        &[
            "lender",
            "import",
            "sales",
            "--dry-run",
            sales.to_str().unwrap(),
        ],
    );
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was stored"));
    assert_eq!(device_count(d), 0);

    let done = json_of(&run(
        d,
        &[
            "lender",
            "import",
            "sales",
            "--json",
            sales.to_str().unwrap(),
        ],
    ));
    let devices = done["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(device_count(d), 3);
    let first = devices[0]["device_id"].as_str().unwrap();
    // The code printed is the device's code; the audit names the command line.
    let code = ok(&run(d, &["lender", "device", "code", first, "--json"]));
    assert!(code.contains(devices[0]["enrollment_code"].as_str().unwrap()));
    let audit = ok(&run(d, &["lender", "device", "audit", first, "--json"]));
    assert!(audit.contains(&format!("cli:{lender}")), "{audit}");

    // A statement from standard input, twice: recorded once.
    let statement = format!("device,amount,reference\n{first},250.00,QK1\nC-2,10,QK2\n");
    for (recorded, already) in [(2, 0), (0, 2)] {
        let mut child = finlock(d)
            .args(["lender", "import", "payments", "--json", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(statement.as_bytes())
            .unwrap();
        let v = json_of(&child.wait_with_output().unwrap());
        assert_eq!(v["recorded"], recorded);
        assert_eq!(v["already_recorded"], already);
    }
    let shown = json_of(&run(d, &["lender", "device", "show", first, "--json"]));
    assert_eq!(shown["paid_minor"], 25_000);
}
