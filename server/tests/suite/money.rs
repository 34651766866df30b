//! Money that is what the lender meant, and actions that do what they say (issue 13):
//! each fault a lender's operations engineer found, over real HTTP, refused with the
//! field or the reason named, and nothing stored changed.

use finlock_core::decision::Level;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, SimDevice, T0, TestServer, problem};

/// The default completing window: 48 hours.
const COMPLETING_WINDOW_S: i64 = 2 * DAY;

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
    // Paid in full: completing for the lender's window, not released at once (ADR 0012).
    assert_eq!(answer["released"], false);
    assert_eq!(answer["release_at"], s.now() + COMPLETING_WINDOW_S);
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
    phone.notice_then_a_day(&s);
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
    phone.notice_then_a_day(&s);
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
    // The promise is not kept: the phone in use shows its notice page from a day before the
    // promised day (at a screen unlock), and is locked again when it ends.
    s.clock.advance(2 * DAY);
    phone.checkin(&s).await;
    assert_eq!(phone.unlock_screen(&s), Level::Notice);
    s.clock.advance(DAY);
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

// ---- completing and voids (ADR 0012) -------------------------------------------------

async fn void(
    s: &TestServer,
    api_key: &str,
    id: &str,
    payment_id: &str,
    reason: &str,
) -> reqwest::Response {
    s.http
        .post(format!(
            "{}/v1/lender/devices/{id}/payments/{payment_id}/void",
            s.url
        ))
        .bearer_auth(api_key)
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap()
}

/// Records a payment that must be accepted; returns its answer.
async fn paid(s: &TestServer, api_key: &str, id: &str, amount: u64, reference: &str) -> Value {
    let r = pay(
        s,
        reference,
        api_key,
        id,
        json!({ "amount_minor": amount, "currency": "KES", "reference": reference }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn payments(s: &TestServer, lender: &crate::common::Lender, id: &str) -> Value {
    let r = s
        .get(lender, &format!("/v1/lender/devices/{id}/payments"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The phone's own decision: whether it says it will be released, and when.
fn release_date(phone: &mut SimDevice, s: &TestServer) -> Option<i64> {
    let clock = phone.clock(s);
    phone.state.evaluate(&clock).decision.release_at
}

/// Paid in full, an overdue-locked phone unlocks at once and is told the release date;
/// it is released (terminal, signed) only when the window has passed. A void after that
/// is refused and changes nothing.
#[tokio::test]
async fn paid_in_full_completes_then_is_released_after_the_window() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(40 * DAY);
    phone.checkin(&s).await;
    phone.notice_then_a_day(&s);
    assert!(phone.locked(&s), "overdue");

    let p = paid(&s, &lender.api_key, &id, 6000, "MP-ALL").await;
    let release_at = s.now() + COMPLETING_WINDOW_S;
    assert_eq!(p["released"], false);
    assert_eq!(p["release_at"], release_at);
    assert_eq!(p["amount_due_minor"], 0);
    let v = s.device(&lender, &id).await;
    assert_eq!(v["state"], "completing");
    assert_eq!(v["release_at"], release_at);
    assert_eq!(v["amount_due_minor"], 0);
    let r = s.get(&lender, "/v1/lender/devices?state=completing").await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["devices"][0]["device_id"], id.as_str());

    // The phone: unlocked at its next check-in, and told when it will be released.
    s.clock.advance(60);
    let e = phone.checkin(&s).await;
    assert_eq!(e.state, finlock_core::protocol::EntitlementState::Active);
    assert_eq!(e.release_at, Some(release_at));
    assert!(
        e.next_checkin <= release_at,
        "it calls again when the window ends"
    );
    assert!(!phone.locked(&s));
    assert_eq!(release_date(&mut phone, &s), Some(release_at));

    // Still completing just before the end of the window.
    s.clock.advance(release_at - 30 - s.now());
    let e = phone.checkin(&s).await;
    assert_eq!(e.release_at, Some(release_at));
    s.clock.advance(29);
    assert_eq!(s.device(&lender, &id).await["state"], "completing");

    // The window has passed: released, signed as before, and terminal on the phone.
    s.clock.advance(1);
    let e = phone.checkin(&s).await;
    assert_eq!(e.state, finlock_core::protocol::EntitlementState::Released);
    assert_eq!(e.release_at, None);
    let clock = phone.clock(&s);
    assert!(phone.state.evaluate(&clock).decision.released);
    let v = s.device(&lender, &id).await;
    assert_eq!(v["state"], "released");
    assert_eq!(v["release_at"], Value::Null);
    let actions = s.audit_actions(&lender, &id).await;
    let tail: Vec<&str> = actions
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["payment", "completing", "released"]);

    // A void after the release: 409, and nothing changed.
    let before = (
        s.device(&lender, &id).await,
        payments(&s, &lender, &id).await,
    );
    let payment_id = p["payment_id"].as_str().unwrap();
    let r = void(&s, &lender.api_key, &id, payment_id, "bounced").await;
    problem(r, StatusCode::CONFLICT, "released").await;
    assert_eq!(
        (
            s.device(&lender, &id).await,
            payments(&s, &lender, &id).await
        ),
        before
    );
    assert_eq!(s.audit_actions(&lender, &id).await, actions);
}

/// A payment voided in the window takes the device back: owing again, and locked again at
/// the next check-in when an installment is overdue. The void is idempotent, listed,
/// audited, and only the device's own lender can make it.
#[tokio::test]
async fn a_void_in_the_window_takes_the_device_back() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let other = s.lender("Other").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(70 * DAY); // the second installment's lock (T0 + 67 days) has passed
    let first = paid(&s, &lender.api_key, &id, 1000, "MP-A").await;
    let rest = paid(&s, &lender.api_key, &id, 5000, "MP-B").await;
    assert!(rest["release_at"].is_i64());
    phone.checkin(&s).await;
    assert!(!phone.locked(&s));

    s.clock.advance(DAY);
    let before = s.device(&lender, &id).await;
    let listed = payments(&s, &lender, &id).await;
    let rest_id = rest["payment_id"].as_str().unwrap();
    // Another lender's credential: 404, like a device that does not exist.
    let r = void(&s, &other.api_key, &id, rest_id, "bounced").await;
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    // An unknown payment, a reason that is no text: refused.
    let r = void(&s, &lender.api_key, &id, "pay-nope", "bounced").await;
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    for bad in ["", "line\u{0}break"] {
        let r = void(&s, &lender.api_key, &id, rest_id, bad).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    }
    assert_eq!(s.device(&lender, &id).await, before);
    assert_eq!(payments(&s, &lender, &id).await, listed);

    let r = void(&s, &lender.api_key, &id, rest_id, "M-Pesa reversal").await;
    assert_eq!(r.status(), StatusCode::OK);
    let first_answer = r.text().await.unwrap();
    let answer: Value = serde_json::from_str(&first_answer).unwrap();
    assert_eq!(answer["paid_minor"], 1000);
    assert_eq!(answer["release_at"], Value::Null);
    assert_eq!(answer["voided_at"], s.now());
    // Voiding it again answers the same, whatever the retry says; nothing moves.
    s.clock.advance(60);
    let r = void(&s, &lender.api_key, &id, rest_id, "again").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), first_answer);

    let v = s.device(&lender, &id).await;
    assert_eq!(v["paid_minor"], 1000);
    assert_eq!(v["state"], "locked");
    assert_eq!(v["release_at"], Value::Null);
    let e = phone.checkin(&s).await;
    assert_eq!(e.release_at, None);
    phone.notice_then_a_day(&s);
    assert!(phone.locked(&s), "overdue again: locked again");
    assert_eq!(release_date(&mut phone, &s), None);

    // The listing keeps the voided payment, marked; the other one still counts.
    let list = payments(&s, &lender, &id).await;
    let rows = list["payments"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = |pid: &Value| rows.iter().find(|r| r["payment_id"] == *pid).unwrap();
    assert_eq!(row(&first["payment_id"])["voided_at"], Value::Null);
    assert_eq!(row(&first["payment_id"])["void_reason"], Value::Null);
    assert_eq!(row(&rest["payment_id"])["void_reason"], "M-Pesa reversal");
    assert_eq!(row(&rest["payment_id"])["voided_at"], answer["voided_at"]);
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "payment_voided").count(),
        1,
        "{actions:?}"
    );

    // Paid in full again: a new full window from then.
    let again = paid(&s, &lender.api_key, &id, 5000, "MP-C").await;
    assert_eq!(again["release_at"], s.now() + COMPLETING_WINDOW_S);
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert!(!phone.locked(&s));
}

/// A void that leaves the device paid in full (an extra payment taken back) restarts the
/// window: released only a full window after the last void.
#[tokio::test]
async fn a_void_that_leaves_it_paid_in_full_restarts_the_window() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    let full = paid(&s, &lender.api_key, &id, 6000, "MP-1").await;
    let first_release = full["release_at"].as_i64().unwrap();
    // Nothing is owed while completing: another payment only with allow_overpayment, and
    // it does not move the date.
    let r = pay(
        &s,
        "extra",
        &lender.api_key,
        &id,
        json!({ "amount_minor": 500, "currency": "KES", "reference": "MP-2" }),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    let r = pay(
        &s,
        "extra",
        &lender.api_key,
        &id,
        json!({ "amount_minor": 500, "currency": "KES", "reference": "MP-2",
            "allow_overpayment": true }),
    )
    .await;
    let extra: Value = r.json().await.unwrap();
    assert_eq!(extra["release_at"], first_release);

    s.clock.advance(DAY);
    let r = void(
        &s,
        &lender.api_key,
        &id,
        extra["payment_id"].as_str().unwrap(),
        "duplicate entry",
    )
    .await;
    let answer: Value = r.json().await.unwrap();
    let new_release = s.now() + COMPLETING_WINDOW_S;
    assert_eq!(answer["paid_minor"], 6000);
    assert_eq!(answer["release_at"], new_release);

    s.clock.advance(first_release - s.now());
    let e = phone.checkin(&s).await;
    assert_eq!(
        e.release_at,
        Some(new_release),
        "not released at the first date"
    );
    assert_eq!(s.device(&lender, &id).await["state"], "completing");
    s.clock.advance(new_release - s.now());
    let e = phone.checkin(&s).await;
    assert_eq!(e.state, finlock_core::protocol::EntitlementState::Released);
}

/// The lender's window: 48 hours unless set, bounded, its own; 0 releases at once.
#[tokio::test]
async fn the_completing_window_is_the_lenders_setting() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let other = s.lender("Other").await;
    let path = "/v1/lender/settings/completing-window";
    let get = |l: &crate::common::Lender| {
        let s = &s;
        let api_key = l.api_key.clone();
        async move {
            let r = s
                .http
                .get(format!("{}{path}", s.url))
                .bearer_auth(api_key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["completing_window_s"].clone()
        }
    };
    let put = |window: Value| {
        let s = &s;
        let api_key = lender.api_key.clone();
        async move {
            s.http
                .put(format!("{}{path}", s.url))
                .bearer_auth(api_key)
                .json(&json!({ "completing_window_s": window }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(get(&lender).await, COMPLETING_WINDOW_S);
    for bad in [json!(-1), json!(30 * DAY + 1), json!("48h")] {
        let r = put(bad).await;
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    assert_eq!(get(&lender).await, COMPLETING_WINDOW_S);
    let r = put(json!(3600)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(&lender).await, 3600);
    assert_eq!(
        get(&other).await,
        COMPLETING_WINDOW_S,
        "another lender's is its own"
    );
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        paid(&s, &lender.api_key, &id, 6000, "MP-1").await["release_at"],
        s.now() + 3600
    );

    // 0: released at once, as before completing windows existed.
    assert_eq!(put(json!(0)).await.status(), StatusCode::OK);
    let (id, _) = s.register(&lender, json!({})).await;
    let p = paid(&s, &lender.api_key, &id, 6000, "MP-1").await;
    assert_eq!(p["released"], true);
    assert_eq!(p["release_at"], Value::Null);
    assert_eq!(s.device(&lender, &id).await["state"], "released");
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(actions.last().map(String::as_str), Some("released"));
}

/// Payments and voids racing on one device (several requests at once; on PostgreSQL they
/// really run concurrently): whatever wins, `paid_minor` is the sum of the payments listed
/// as not voided, each void is audited once, and a retried void answers the same.
#[tokio::test]
async fn concurrent_payments_and_voids_keep_paid_minor_the_sum_of_what_counts() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    let mut first = Vec::new();
    for i in 0..5 {
        let p = paid(&s, &lender.api_key, &id, 100, &format!("MP-OLD-{i}")).await;
        first.push(p["payment_id"].as_str().unwrap().to_string());
    }
    let mut tasks = Vec::new();
    for (i, payment_id) in first.iter().enumerate() {
        for attempt in 0..2 {
            // Each payment voided twice at once, and a new payment alongside.
            let (http, api_key) = (s.http.clone(), lender.api_key.clone());
            let url = format!(
                "{}/v1/lender/devices/{id}/payments/{payment_id}/void",
                s.url
            );
            tasks.push(tokio::spawn(async move {
                let r = http
                    .post(url)
                    .bearer_auth(api_key)
                    .json(&json!({ "reason": format!("reversal {attempt}") }))
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.text().await.unwrap())
            }));
        }
        let (http, api_key) = (s.http.clone(), lender.api_key.clone());
        let url = format!("{}/v1/lender/devices/{id}/payments", s.url);
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(api_key)
                .header("Idempotency-Key", format!("new-{i}"))
                .json(&json!({ "amount_minor": 300, "currency": "KES",
                    "reference": format!("MP-NEW-{i}") }))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for (status, body) in &answers {
        // Done, or refused as concurrent with nothing changed (the caller retries).
        assert!(
            status.is_success() || body.contains("\"concurrent\""),
            "{status}: {body}"
        );
    }
    let list = payments(&s, &lender, &id).await;
    let rows = list["payments"].as_array().unwrap();
    let counted: u64 = rows
        .iter()
        .filter(|r| r["voided_at"].is_null())
        .map(|r| r["amount_minor"].as_u64().unwrap())
        .sum();
    let voided = rows.iter().filter(|r| !r["voided_at"].is_null()).count();
    assert_eq!(s.device(&lender, &id).await["paid_minor"], counted);
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "payment_voided").count(),
        voided
    );
    // Every payment not yet voided can still be voided; a voided one answers the same.
    for payment_id in &first {
        let r = void(&s, &lender.api_key, &id, payment_id, "final").await;
        assert_eq!(r.status(), StatusCode::OK);
        let again = void(&s, &lender.api_key, &id, payment_id, "final").await;
        assert_eq!(again.text().await.unwrap(), r.text().await.unwrap());
    }
    let list = payments(&s, &lender, &id).await;
    let new_total: u64 = list["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["voided_at"].is_null())
        .map(|r| r["amount_minor"].as_u64().unwrap())
        .sum();
    assert_eq!(s.device(&lender, &id).await["paid_minor"], new_total);
    assert!(new_total <= 1_500);
}

/// A window that passed while the phone was away: the lender's next request finds the
/// device released for good (stored once, audited once), and a lock or a void is refused.
#[tokio::test]
async fn a_window_that_passed_unseen_is_released_at_the_lenders_next_request() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    let p = paid(&s, &lender.api_key, &id, 6000, "MP-ALL").await;
    s.clock.advance(COMPLETING_WINDOW_S);
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "stolen" }),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "released").await;
    let r = void(
        &s,
        &lender.api_key,
        &id,
        p["payment_id"].as_str().unwrap(),
        "late reversal",
    )
    .await;
    problem(r, StatusCode::CONFLICT, "released").await;
    assert_eq!(s.device(&lender, &id).await["state"], "released");
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions,
        ["registered", "payment", "completing", "released"],
        "released once, nothing else"
    );
    assert_eq!(s.device(&lender, &id).await["paid_minor"], 6000);
}
