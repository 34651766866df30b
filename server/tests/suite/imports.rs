//! Bulk import over HTTP (issue 16): a sales file and a payments file through
//! `POST /v1/lender/imports/…`, all rows or none, every bad row named with its line;
//! a statement imported twice counts once; the routes' own 2 MiB limit (every other
//! route keeps 16 KiB); 10,000 rows of each kind (times printed, not asserted).

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{Lender, SimDevice, TestServer, problem};

const SALES_HEADER: &str =
    "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\r\n";

async fn import(
    s: &TestServer,
    lender: &Lender,
    kind: &str,
    query: &str,
    body: String,
) -> reqwest::Response {
    s.http
        .post(format!("{}/v1/lender/imports/{kind}{query}", s.url))
        .bearer_auth(&lender.api_key)
        .header("content-type", "text/csv; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn audit_entries(s: &TestServer, lender: &Lender, id: &str) -> Vec<Value> {
    let r = s
        .get(lender, &format!("/v1/lender/devices/{id}/audit"))
        .await;
    let v: Value = r.json().await.unwrap();
    v["entries"].as_array().unwrap().clone()
}

async fn device_count(s: &TestServer, lender: &Lender) -> usize {
    let r = s.get(lender, "/v1/lender/devices?limit=500").await;
    let v: Value = r.json().await.unwrap();
    v["devices"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_sales_file_registers_devices_that_enroll_or_stores_nothing() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let file = format!(
        "\u{feff}{SALES_HEADER}C-1,35-209900-176148-1,KES,7,3,1000.00,2026-02-01,month\r\n\
         \"=HYPERLINK(\"\"x\"\")\",,kes,7,6,250.50,2026-01-15,14\r\n"
    );
    // A dry run answers like the import and stores nothing.
    let dry = ok(import(&s, &acme, "sales", "?dry_run=true", file.clone()).await).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["devices"].as_array().unwrap().len(), 2);
    assert_eq!(dry["devices"][0]["device_id"], Value::Null);
    assert_eq!(device_count(&s, &acme).await, 0);

    // One bad row among good ones: 422 naming it, nothing stored.
    let bad = format!("{file}C-3,,KES,7,3,10.001,2026-02-01,month\r\n");
    let r = import(&s, &acme, "sales", "", bad).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    assert_eq!(p["error_count"], 1);
    assert_eq!(p["errors"][0]["line"], 4);
    assert_eq!(p["errors"][0]["column"], "amount");
    assert!(
        p["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("at most 2 decimals")
    );
    // The stable code and its parameters beside the text.
    assert_eq!(p["errors"][0]["code"], "amount_decimals");
    assert_eq!(
        p["errors"][0]["params"],
        json!({ "currency": "KES", "limit": 2 })
    );
    assert_eq!(device_count(&s, &acme).await, 0);

    let done = ok(import(&s, &acme, "sales", "", file.clone()).await).await;
    assert!(done["import_id"].as_str().unwrap().starts_with("imp"));
    let first = &done["devices"][0];
    let id = first["device_id"].as_str().unwrap();
    let device = s.device(&acme, id).await;
    assert_eq!(device["customer_ref"], "C-1");
    assert_eq!(device["installments"].as_array().unwrap().len(), 3);
    assert_eq!(device["total_minor"], 300_000);
    assert_eq!(s.audit_actions(&acme, id).await, vec!["registered"]);
    // The device's entry names the import and the API key that made it.
    let entries = audit_entries(&s, &acme, id).await;
    assert_eq!(entries[0]["detail"]["import_id"], done["import_id"]);
    assert!(entries[0]["api_key_id"].is_string(), "{}", entries[0]);
    // The formula-looking reference was stored as the text it is.
    let second = done["devices"][1]["device_id"].as_str().unwrap();
    assert_eq!(
        s.device(&acme, second).await["customer_ref"],
        "=HYPERLINK(\"x\")"
    );
    // The code the import answered enrolls the phone.
    let mut phone = SimDevice::new(&s, &acme);
    phone
        .enroll(&s, first["enrollment_code"].as_str().unwrap())
        .await;
    assert_eq!(phone.device_id(), id);

    // The same file again: the IMEI is now financed, so that row is refused and the
    // other (no IMEI) is not registered twice either.
    let r = import(&s, &acme, "sales", "", file).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    assert_eq!(
        (
            p["errors"][0]["line"].clone(),
            p["errors"][0]["column"].clone()
        ),
        (json!(2), json!("imei"))
    );
    assert_eq!(device_count(&s, &acme).await, 2);
}

#[tokio::test]
async fn a_statement_is_reconciled_once_and_bad_rows_change_nothing() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let beta = s.lender("Beta").await;
    let (a, _) = s.register(&acme, json!({ "customer_ref": "CT-1" })).await;
    let (b, _) = s.register(&acme, json!({})).await;
    let (theirs, _) = s.register(&beta, json!({})).await;
    let statement =
        format!("reference,device,amount,paid_at\nQK1,CT-1,10.00,2026-01-01\nQK2,{b},5.5,\n");
    let done = ok(import(&s, &acme, "payments", "", statement.clone()).await).await;
    assert_eq!(
        (done["recorded"].clone(), done["already_recorded"].clone()),
        (json!(2), json!(0))
    );
    assert_eq!(done["payments"][0]["device_id"], a.as_str());
    assert_eq!(done["payments"][1]["amount_minor"], 550);
    assert_eq!(s.device(&acme, &a).await["paid_minor"], 1000);
    assert!(
        s.audit_actions(&acme, &a)
            .await
            .contains(&"payment".to_string())
    );
    let entries = audit_entries(&s, &acme, &a).await;
    let payment = entries.iter().find(|e| e["action"] == "payment").unwrap();
    assert_eq!(payment["detail"]["import_id"], done["import_id"]);
    assert!(payment["api_key_id"].is_string(), "{payment}");
    assert_eq!(
        entries[0]["detail"].get("import_id"),
        None,
        "registered by the API"
    );

    let again = ok(import(&s, &acme, "payments", "", statement).await).await;
    assert_eq!(
        (again["recorded"].clone(), again["already_recorded"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(again["payments"][0]["status"], "already_recorded");
    assert_eq!(s.device(&acme, &a).await["paid_minor"], 1000);

    // Another lender's device reads like a missing one; an overpayment is named; the
    // good row before them is not stored.
    let bad = format!(
        "device,amount,reference\n{a},1,QK3\n{theirs},1,QK4\nnobody,1,QK5\n{b},100000,QK6\n"
    );
    let r = import(&s, &acme, "payments", "", bad).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{p}");
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["reason"], errors[1]["reason"]);
    assert_eq!(errors[0]["code"], "unknown_device");
    assert_eq!(errors[1]["code"], "unknown_device");
    assert_eq!(errors[1]["line"], 4);
    let r = import(
        &s,
        &acme,
        "payments",
        "",
        format!("device,amount,reference\n{a},1,QK3\n{b},100000,QK6\n"),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    assert_eq!(p["errors"][0]["line"], 3);
    assert!(
        p["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("still owed"),
        "{p}"
    );
    assert_eq!(p["errors"][0]["code"], "overpayment");
    assert_eq!(
        p["errors"][0]["params"],
        json!({ "owed": "54.50", "currency": "KES" })
    );
    assert_eq!(s.device(&acme, &a).await["paid_minor"], 1000);
}

#[tokio::test]
async fn import_requests_are_checked_before_any_row() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let file = format!("{SALES_HEADER}C-1,,KES,7,3,1000.00,2026-02-01,month\n");
    // No key.
    let r = s
        .http
        .post(format!("{}/v1/lender/imports/sales", s.url))
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Not CSV.
    let r = s
        .post(&acme, "/v1/lender/imports/sales", json!({ "csv": file }))
        .await;
    problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    // An unknown parameter.
    let r = import(&s, &acme, "sales", "?dryrun=true", file.clone()).await;
    problem(r, StatusCode::BAD_REQUEST, "bad-request").await;
    // Over 2 MiB: refused by the route's own limit, with its own words.
    let big = format!("{SALES_HEADER}{}", "x".repeat(2 * 1024 * 1024));
    let r = import(&s, &acme, "sales", "", big).await;
    let p = problem(r, StatusCode::PAYLOAD_TOO_LARGE, "too-large").await;
    assert!(p["detail"].as_str().unwrap().contains("2 MiB"));
    // Every other route keeps its 16 KiB.
    let r = s
        .post(
            &acme,
            "/v1/lender/devices",
            json!({ "pad": "x".repeat(20_000) }),
        )
        .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "too-large").await;
    // A header alone, and a missing column.
    let r = import(&s, &acme, "payments", "", "device,amount\nx,1\n".into()).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    assert_eq!(p["errors"][0]["column"], "reference");
    assert_eq!(device_count(&s, &acme).await, 0);
}

#[tokio::test]
async fn ten_thousand_sales_then_ten_thousand_payments() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let mut sales = String::from(SALES_HEADER);
    for i in 0..10_000 {
        sales.push_str(&format!("C-{i},,KES,7,6,1000.00,2026-02-01,month\r\n"));
    }
    assert!(sales.len() > 16 * 1024);
    let too_many = format!("{sales}C-x,,KES,7,6,1000.00,2026-02-01,month\r\n");
    let r = import(&s, &acme, "sales", "", too_many).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "import-rows").await;
    assert_eq!(p["errors"][0]["line"], 10_002);

    let started = Instant::now();
    let done = ok(import(&s, &acme, "sales", "", sales).await).await;
    let sales_time = started.elapsed();
    let devices = done["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 10_000);

    let mut statement = String::from("device,amount,reference\n");
    for (i, d) in devices.iter().enumerate() {
        statement.push_str(&format!(
            "{},500.00,TX{i:05}\n",
            d["device_id"].as_str().unwrap()
        ));
    }
    let started = Instant::now();
    let done = ok(import(&s, &acme, "payments", "", statement).await).await;
    let payments_time = started.elapsed();
    assert_eq!(done["recorded"], 10_000);
    let last = devices[9_999]["device_id"].as_str().unwrap();
    assert_eq!(s.device(&acme, last).await["paid_minor"], 50_000);
    // A measurement for the notes, not an assertion.
    eprintln!(
        "import timing: 10000 sales rows {:.2} s, 10000 payment rows {:.2} s",
        sales_time.as_secs_f64(),
        payments_time.as_secs_f64()
    );
}

/// Two lenders import sales files naming the same IMEI at the same time (on PostgreSQL
/// the second waits on the one-owner-per-IMEI index, then its insert fails): one import
/// stores every row, the other answers a typed refusal — the row named, or 409 — and
/// stores nothing; never a 500.
#[tokio::test]
async fn two_imports_racing_for_one_imei_give_a_typed_refusal_and_store_nothing() {
    let s = start().await;
    for round in 0..4u64 {
        let acme = s.lender(&format!("Acme {round}")).await;
        let beta = s.lender(&format!("Beta {round}")).await;
        // The shared IMEI first, then rows without one that keep each import busy.
        let shared = format!("35{:013}", 1_000 + round);
        let file = |prefix: &str| {
            let mut text =
                format!("{SALES_HEADER}{prefix}-0,{shared},KES,7,3,1000.00,2026-02-01,month\r\n");
            for i in 1..300 {
                text.push_str(&format!(
                    "{prefix}-{i},,KES,7,3,1000.00,2026-02-01,month\r\n"
                ));
            }
            text
        };
        let (a, b) = tokio::join!(
            import(&s, &acme, "sales", "", file("A")),
            import(&s, &beta, "sales", "", file("B")),
        );
        let mut stored = Vec::new();
        for r in [a, b] {
            let status = r.status();
            let body: Value = r.json().await.expect("json");
            match status {
                StatusCode::OK => stored.push(true),
                StatusCode::UNPROCESSABLE_ENTITY => {
                    assert_eq!(body["code"], "import-rows", "{body}");
                    assert_eq!(body["error_count"], 1, "{body}");
                    assert_eq!(body["errors"][0]["line"], 2, "{body}");
                    assert_eq!(body["errors"][0]["column"], "imei", "{body}");
                    assert_eq!(body["errors"][0]["code"], "imei_taken", "{body}");
                    stored.push(false);
                }
                StatusCode::CONFLICT => {
                    assert_eq!(body["code"], "concurrent", "{body}");
                    assert!(body["detail"].as_str().unwrap().contains("import again"));
                    stored.push(false);
                }
                other => panic!("round {round}: {other}: {body}"),
            }
        }
        let counts = [device_count(&s, &acme).await, device_count(&s, &beta).await];
        for (stored, count) in stored.iter().zip(counts) {
            assert_eq!(count, if *stored { 300 } else { 0 }, "round {round}");
        }
        assert_eq!(stored.iter().filter(|s| **s).count(), 1, "round {round}");
    }
}
