//! Finding devices and the dashboard over HTTP (issue 16): search by id, customer
//! reference and IMEI digits, filters, orders and cursors, the CSV export, and the
//! dashboard's figures; another lender's devices never appear; bad query input is a
//! problem naming the parameter and changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, Lender, SimDevice, T0, TestServer, problem};

async fn page(s: &TestServer, lender: &Lender, query: &str) -> Value {
    let r = s.get(lender, &format!("/v1/lender/devices?{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

async fn ids(s: &TestServer, lender: &Lender, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let p = page(s, lender, &format!("{query}{sep}cursor={cursor}")).await;
        for d in p["devices"].as_array().unwrap() {
            out.push(d["device_id"].as_str().unwrap().to_string());
        }
        match p["next_cursor"].as_str() {
            Some(c) => cursor = urlencode(c),
            None => return out,
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn count(s: &TestServer, lender: &Lender) -> usize {
    ids(s, lender, "limit=500").await.len()
}

#[tokio::test]
async fn devices_are_searched_filtered_sorted_and_exported() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let beta = s.lender("Beta").await;
    let (a, _) = s
        .register(
            &acme,
            json!({ "customer_ref": "CT-7001", "imei": "35-209900-176148-1" }),
        )
        .await;
    let (b, _) = s
        .register(
            &acme,
            json!({ "customer_ref": "=HYPERLINK(\"http://x\")", "imei": "490154203237518" }),
        )
        .await;
    let (c, _) = s
        .register(&acme, json!({ "customer_ref": "ct-7002" }))
        .await;
    let (x, _) = s
        .register(&beta, json!({ "customer_ref": "CT-7001" }))
        .await;

    // A bad reference is refused, naming the field, and nothing is stored.
    for bad in [
        json!(""),
        json!("x".repeat(65)),
        json!("line\nbreak"),
        json!("Jos\u{e9}"),
    ] {
        let r = s
            .post(
                &acme,
                "/v1/lender/devices",
                json!({ "plan": crate::common::plan(), "customer_ref": bad }),
            )
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
        assert!(
            p["detail"].as_str().unwrap().starts_with("customer_ref"),
            "{p}"
        );
    }
    assert_eq!(count(&s, &acme).await, 3);

    // Search keys: the reference's start (any case), IMEI digits, a whole IMEI, the id.
    let mut ac = vec![a.clone(), c.clone()];
    ac.sort();
    assert_eq!(ids(&s, &acme, "q=ct-70").await, ac);
    assert_eq!(ids(&s, &acme, "q=CT-7001").await, vec![a.clone()]);
    assert_eq!(ids(&s, &acme, "q=7518").await, vec![b.clone()]);
    assert_eq!(
        ids(&s, &acme, "q=35%20209900%20176148%201").await,
        vec![a.clone()]
    );
    assert_eq!(ids(&s, &acme, &format!("q={c}")).await, vec![c.clone()]);
    // Another lender's device: not by its reference, not by its id.
    assert!(ids(&s, &acme, &format!("q={x}")).await.is_empty());
    assert_eq!(ids(&s, &beta, "q=CT-7001").await, vec![x.clone()]);
    let one = s.device(&acme, &a).await;
    assert_eq!(one["customer_ref"], "CT-7001");
    assert_eq!(one["imei_last4"], "1481");

    // States and days past due move with the clock: pay b in full, then pass a's due date.
    assert_eq!(
        s.pay(&acme, &b, 6000, "full").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(ids(&s, &acme, "state=completing").await, vec![b.clone()]);
    s.clock.set(T0 + 33 * DAY); // the first installment was due at T0 + 30 days
    assert_eq!(ids(&s, &acme, "state=overdue").await, ac);
    assert_eq!(ids(&s, &acme, "days_past_due=1-7").await, ac);
    assert!(ids(&s, &acme, "days_past_due=8-30").await.is_empty());
    s.clock.set(T0 + 45 * DAY);
    assert_eq!(ids(&s, &acme, "state=locked").await, ac);
    assert_eq!(ids(&s, &acme, "days_past_due=8-30").await, ac);
    assert_eq!(ids(&s, &acme, "state=released").await, vec![b.clone()]);
    // The most days past due first, those owing nothing last.
    let mut by_dpd = ac.clone();
    by_dpd.push(b.clone());
    assert_eq!(ids(&s, &acme, "sort=days_past_due&limit=1").await, by_dpd);
    // Newest first, one per page, each once.
    let newest = ids(&s, &acme, "sort=registered&limit=1").await;
    let mut sorted = newest.clone();
    sorted.sort();
    let mut all = vec![a.clone(), b.clone(), c.clone()];
    all.sort();
    assert_eq!(sorted, all);
    assert_eq!(ids(&s, &acme, "sort=last_seen&limit=2").await, all);

    // The CSV: a header, every match, the formula cell made text; another lender's absent.
    let r = s.get(&acme, "/v1/lender/devices?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert!(lines[0].starts_with("device_id,customer_ref,imei_last4,state,"));
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(!csv.contains(&x));
    let r = s
        .get(&acme, "/v1/lender/devices?format=csv&q=ct-7002")
        .await;
    assert_eq!(r.text().await.unwrap().split_terminator("\r\n").count(), 2);

    // Bad query input: a problem naming the parameter; nothing changed.
    let before = s.device(&acme, &a).await;
    for (query, status, starts) in [
        (
            "days_past_due=2-5",
            StatusCode::UNPROCESSABLE_ENTITY,
            "days_past_due",
        ),
        ("sort=price", StatusCode::UNPROCESSABLE_ENTITY, "sort"),
        (
            "not_seen_days=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_seen_days",
        ),
        ("format=xml", StatusCode::UNPROCESSABLE_ENTITY, "format"),
        (
            "sort=last_seen&cursor=zz",
            StatusCode::UNPROCESSABLE_ENTITY,
            "cursor",
        ),
        (
            "format=csv&limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        (
            "not_seen_days=x",
            StatusCode::BAD_REQUEST,
            "query parameter not_seen_days",
        ),
    ] {
        let r = s.get(&acme, &format!("/v1/lender/devices?{query}")).await;
        let code = if status == StatusCode::BAD_REQUEST {
            "bad-request"
        } else {
            "invalid-field"
        };
        let p = problem(r, status, code).await;
        assert!(
            p["detail"].as_str().unwrap().starts_with(starts),
            "{query}: {p}"
        );
    }
    let long = "q=".to_string() + &"x".repeat(65);
    let r = s.get(&acme, &format!("/v1/lender/devices?{long}")).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    assert_eq!(s.device(&acme, &a).await, before);
}

#[tokio::test]
async fn the_dashboard_counts_states_arrears_collections_and_releases() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let beta = s.lender("Beta").await;
    let (a, _) = s.register(&acme, json!({})).await;
    let (b, _) = s.register(&acme, json!({ "customer_ref": "CT-B" })).await;
    let (c, _) = s.register(&acme, json!({})).await;
    let (d, _) = s.register(&acme, json!({})).await;
    let (_e, code) = s.register(&acme, json!({})).await;
    let mut phone = SimDevice::new(&s, &acme);
    phone.enroll(&s, &code).await; // seen once, at T0
    s.register(&beta, json!({})).await;

    // 2026-02-05: the first installments (due 2026-01-31) are 5 days past due.
    s.clock.set(T0 + 35 * DAY);
    assert_eq!(
        s.pay(&acme, &b, 6000, "b").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        s.pay(&acme, &c, 1000, "c").await.status(),
        StatusCode::CREATED
    );
    let r = s.pay(&acme, &d, 500, "d").await;
    let paid: Value = r.json().await.unwrap();
    let r = s
        .post(
            &acme,
            &format!(
                "/v1/lender/devices/{d}/payments/{}/void",
                paid["payment_id"].as_str().unwrap()
            ),
            json!({ "reason": "bounced" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let r = s.get(&acme, "/v1/lender/dashboard").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["devices"], 5);
    assert_eq!(
        v["by_state"],
        json!({ "current": 1, "overdue": 3, "locked": 0, "completing": 1, "released": 0 })
    );
    assert_eq!(
        v["arrears"],
        json!([
            { "days_past_due": "1-7", "devices": 3,
              "owed": [{ "currency": "KES", "amount_minor": 18000 }] },
            { "days_past_due": "8-30", "devices": 0, "owed": [] },
            { "days_past_due": "31-90", "devices": 0, "owed": [] },
            { "days_past_due": "90+", "devices": 0, "owed": [] },
        ])
    );
    // 2026-02-01T00:00:00Z; the voided payment does not count.
    assert_eq!(
        v["collected_this_month"],
        json!({ "since": T0 + 31 * DAY, "payments": 2,
                "amounts": [{ "currency": "KES", "amount_minor": 7000 }] })
    );
    assert_eq!(v["not_seen"], json!({ "days": 3, "devices": 1 }));
    assert_eq!(v["upcoming_releases"]["devices"], 1);
    assert_eq!(
        v["upcoming_releases"]["first"],
        json!([{ "device_id": b, "customer_ref": "CT-B", "release_at": T0 + 37 * DAY }])
    );
    // The dashboard agrees with the list's filters.
    assert_eq!(ids(&s, &acme, "days_past_due=1-7").await.len(), 3);
    assert_eq!(ids(&s, &acme, "not_seen_days=3").await.len(), 1);
    assert!(ids(&s, &acme, "not_seen_days=36").await.is_empty());
    assert!(ids(&s, &acme, "state=overdue").await.contains(&a));

    // Another lender sees only its own device.
    let v: Value = s
        .get(&beta, "/v1/lender/dashboard")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["devices"], 1);
    assert_eq!(v["arrears"][0]["devices"], 1);
    assert_eq!(v["collected_this_month"]["payments"], 0);
    assert_eq!(v["upcoming_releases"]["devices"], 0);
    // Without a key: 401.
    let r = s
        .http
        .get(format!("{}/v1/lender/dashboard", s.url))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
