//! Money that is what the lender meant, and actions that do what they say (issue 13):
//! each fault a lender's operations engineer found, over real HTTP, refused with the
//! field or the reason named, and nothing stored changed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, SimDevice, T0, TestServer, problem};

async fn pay(s: &TestServer, key: &str, api_key: &str, id: &str, body: Value) -> reqwest::Response {
    s.http
        .post(format!("{}/v1/lender/devices/{id}/payments", s.url))
        .bearer_auth(api_key)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn payments_are_bounded_unique_and_printable() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await; // 6 × 1000 KES
    let before = s.device(&lender, &id).await;

    // A mistyped overpayment (99,999,999 against 6,000 owed) does not release the phone.
    let r = pay(
        &s,
        "k1",
        &lender.api_key,
        &id,
        json!({ "amount_minor": 99_999_999, "currency": "KES", "reference": "MP-1" }),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    assert!(p["detail"].as_str().unwrap().contains("6000"), "{p}");
    // Control characters in a reference (CR/LF, NUL) are refused.
    for bad in ["MP\r\n2", "MP\u{0}3", "\t"] {
        let r = pay(
            &s,
            "k2",
            &lender.api_key,
            &id,
            json!({ "amount_minor": 100, "currency": "KES", "reference": bad }),
        )
        .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    }
    assert_eq!(s.device(&lender, &id).await, before);

    // The same reference twice, with two Idempotency-Keys, counts once.
    let body = json!({ "amount_minor": 1000, "currency": "KES", "reference": "MPESA-QX12" });
    assert_eq!(
        pay(&s, "a", &lender.api_key, &id, body.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    let r = pay(&s, "b", &lender.api_key, &id, body).await;
    problem(r, StatusCode::CONFLICT, "duplicate-reference").await;
    assert_eq!(s.device(&lender, &id).await["paid_minor"], 1000);

    // An overpayment the lender means is recorded when it says so.
    let r = pay(
        &s,
        "c",
        &lender.api_key,
        &id,
        json!({ "amount_minor": 5500, "currency": "KES",
        "reference": "MP-FINAL", "allow_overpayment": true }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["paid_minor"], 6500);
    assert_eq!(answer["released"], true);
}

#[tokio::test]
async fn plans_are_real_currencies_and_dates() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let register = |plan: Value| {
        let s = &s;
        let lender = &lender;
        async move {
            s.post(lender, "/v1/lender/devices", json!({ "plan": plan }))
                .await
        }
    };
    for (plan, field) in [
        (
            json!({ "currency": "XYZ", "grace_days": 7, "installments": [{ "due": T0 + DAY, "amount_minor": 5 }] }),
            "plan.currency",
        ),
        (
            json!({ "currency": "KES", "grace_days": 7, "installments": [{ "due": (1i64 << 53) - 1, "amount_minor": 5 }] }),
            "plan.installments[0].due",
        ),
    ] {
        let p = problem(
            register(plan).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().starts_with(field), "{p}");
    }
    let listed: Value = s
        .get(&lender, "/v1/lender/devices")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["devices"], json!([]));
    // Page sizes outside 1..=500 are refused, not silently changed.
    for limit in ["0", "501", "100000"] {
        let r = s
            .get(&lender, &format!("/v1/lender/devices?limit={limit}"))
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
        assert!(p["detail"].as_str().unwrap().starts_with("limit"), "{p}");
    }
}

#[tokio::test]
async fn unlock_and_offline_codes_only_where_they_can_work() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    // Overdue past grace: locked for an overdue payment.
    s.clock.advance(40 * DAY);
    phone.checkin(&s).await;
    assert!(phone.locked(&s));
    let audit_before = s.audit_actions(&lender, &id).await;
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/unlock"),
            json!({}),
        )
        .await;
    let p = problem(r, StatusCode::CONFLICT, "not-lender-locked").await;
    assert!(
        p["detail"].as_str().unwrap().contains("record the payment"),
        "{p}"
    );
    assert_eq!(s.audit_actions(&lender, &id).await, audit_before);
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert!(phone.locked(&s), "unlock must not pretend");

    // A lender lock: an offline code could not lift it, so none is issued.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "Reported stolen" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let challenge = phone.state.offline_challenge().unwrap();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/offline-code"),
            json!({ "challenge": challenge, "days": 1 }),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "lender-locked").await;
    // Lifting the lender's own lock works, and then a code can be issued again.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/offline-code"),
            json!({ "challenge": challenge, "days": 1 }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// A promise to pay moves the lock later (issue 13): the overdue-locked phone unlocks at
/// its next check-in and locks again when the extension ends; out-of-bounds extensions
/// are refused with nothing changed.
#[tokio::test]
async fn an_extension_unlocks_until_the_promised_day() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(40 * DAY);
    phone.checkin(&s).await;
    assert!(phone.locked(&s));
    let now = s.now();
    let extend = |until: i64, reason: &str| {
        let body = json!({ "until": until, "reason": reason });
        let path = format!("/v1/lender/devices/{id}/extension");
        let s = &s;
        let lender = &lender;
        async move { s.post(lender, &path, body).await }
    };
    let before = s.device(&lender, &id).await;
    for (until, field) in [
        (now - 1, "until"),
        (now + 91 * DAY, "until"),
        (now + DAY, "reason"),
    ] {
        let reason = if field == "reason" {
            ""
        } else {
            "promised Friday"
        };
        let p = problem(
            extend(until, reason).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().starts_with(field), "{p}");
    }
    assert_eq!(s.device(&lender, &id).await, before);

    let until = now + 3 * DAY;
    let r = extend(until, "Promised to pay on Friday").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["lock_at"], until);
    assert_eq!(v["state"], "overdue");
    s.clock.advance(60);
    let e = phone.checkin(&s).await;
    assert_eq!(e.lock_at, until);
    assert!(!phone.locked(&s), "the extension unlocks the phone");
    // The promise is not kept: locked again when it ends.
    s.clock.advance(3 * DAY);
    phone.checkin(&s).await;
    assert!(phone.locked(&s));
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(actions.last().map(String::as_str), Some("extended"));
}

/// Payments and the audit log come a page at a time, with a documented maximum.
#[tokio::test]
async fn payments_and_audit_are_paginated() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    for k in ["p1", "p2", "p3"] {
        assert_eq!(
            s.pay(&lender, &id, 100, k).await.status(),
            StatusCode::CREATED
        );
        s.clock.advance(1);
    }
    let page: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/payments?limit=2"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["payments"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/payments?limit=2&cursor={cursor}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["payments"][0]["reference"], "ref-p3");
    assert_eq!(rest["next_cursor"], Value::Null);
    for bad in ["limit=0", "limit=501", "cursor=nonsense"] {
        let r = s
            .get(&lender, &format!("/v1/lender/devices/{id}/payments?{bad}"))
            .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    }
    // The log: registered + 3 payments = 4 entries.
    let page: Value = s
        .get(&lender, &format!("/v1/lender/devices/{id}/audit?limit=3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_after"], 3);
    let rest: Value = s
        .get(&lender, &format!("/v1/lender/devices/{id}/audit?after=3"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["entries"].as_array().unwrap().len(), 1);
    assert_eq!(rest["entries"][0]["n"], 4);
    assert_eq!(rest["next_after"], Value::Null);
}
