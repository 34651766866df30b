//! Changing a device (issue 13): reschedule, re-provisioning on or off, cancelling a sale
//! whose phone never enrolled. Each change is audited, bad input changes nothing, another
//! lender cannot reach it, and the phone's next check-in carries a new schedule.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::{start, start_two_nodes};
use crate::common::{DAY, Lender, SimDevice, T0, TestServer, problem};

async fn patch(s: &TestServer, lender: &Lender, id: &str, body: Value) -> Response {
    s.http
        .patch(format!("{}/v1/lender/devices/{id}", s.url))
        .bearer_auth(&lender.api_key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn cancel(s: &TestServer, lender: &Lender, id: &str) -> Response {
    s.post(
        lender,
        &format!("/v1/lender/devices/{id}/cancel"),
        json!({ "reason": "customer returned the phone at the counter" }),
    )
    .await
}

async fn audit(s: &TestServer, lender: &Lender, id: &str) -> Vec<Value> {
    let r = s
        .get(lender, &format!("/v1/lender/devices/{id}/audit"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["entries"].as_array().expect("entries").clone()
}

/// The test plan (six monthly installments of 1000 from T0 + 30 days, grace 7 days)
/// with every installment from `from` on moved `days` later.
fn moved(from: usize, days: i64) -> Value {
    let mut plan = crate::common::plan();
    for (i, inst) in plan["installments"]
        .as_array_mut()
        .expect("installments")
        .iter_mut()
        .enumerate()
    {
        if i >= from {
            inst["due"] = json!(inst["due"].as_i64().expect("due") + days * DAY);
        }
    }
    plan
}

fn dues(installments: &Value) -> Vec<i64> {
    installments
        .as_array()
        .expect("installments")
        .iter()
        .map(|i| i["due"].as_i64().expect("due"))
        .collect()
}

#[tokio::test]
async fn a_reschedule_is_audited_and_reaches_the_phone_at_its_next_checkin() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(60);
    // A check-in first, so the server holds a copy of the device from before the change.
    let before = phone.checkin(&s).await;
    assert_eq!(before.lock_at, T0 + 37 * DAY);

    let plan = moved(0, 14);
    let r = patch(
        &s,
        &lender,
        &id,
        json!({ "plan": plan, "reason": "job loss; restructured with the customer" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let view: Value = r.json().await.unwrap();
    assert_eq!(dues(&view["installments"]), dues(&plan["installments"]));
    assert_eq!(view["lock_at"], T0 + 51 * DAY);
    assert_eq!(s.device(&lender, &id).await, view);

    let entries = audit(&s, &lender, &id).await;
    let last = entries.last().unwrap();
    assert_eq!(last["action"], "rescheduled");
    assert_eq!(
        last["detail"]["reason"],
        "job loss; restructured with the customer"
    );
    assert_eq!(last["detail"]["lock_at_before"], T0 + 37 * DAY);
    assert_eq!(last["detail"]["lock_at_after"], T0 + 51 * DAY);
    assert_eq!(last["detail"]["earlier_lock"], false);
    assert_eq!(last["detail"]["installments"], plan["installments"]);
    assert_eq!(
        last["detail"]["installments_before"],
        crate::common::plan()["installments"]
    );
    assert!(last["api_key_id"].is_string(), "{last}");

    s.clock.advance(60);
    let after = phone.checkin(&s).await;
    assert_eq!(after.lock_at, T0 + 51 * DAY);
    let told: Vec<i64> = after.account.installments.iter().map(|i| i.due).collect();
    assert_eq!(told, dues(&plan["installments"]));
    assert!(after.seq > before.seq);
}

/// Another node that answered the phone before the change must not answer from its copy.
#[tokio::test]
async fn a_reschedule_on_one_node_reaches_a_phone_checking_in_at_another() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (id, code) = a.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&a, &lender);
    phone.enroll(&a, &code).await;
    let step = |secs| {
        a.clock.advance(secs);
        b.clock.advance(secs);
    };
    step(60);
    phone.checkin(&b).await;
    let r = patch(
        &a,
        &lender,
        &id,
        json!({ "plan": moved(2, 30), "reason": "harvest season" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    step(60);
    let e = phone.checkin(&b).await;
    assert_eq!(
        e.account.installments[2].due,
        T0 + 90 * DAY + 30 * DAY,
        "B answered from its copy of the old plan"
    );
}

#[tokio::test]
async fn an_earlier_lock_needs_the_lenders_explicit_word_and_three_days_notice() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;

    // Ten days earlier than the phone was told: refused, nothing changed.
    let body = json!({ "plan": moved(0, -10), "reason": "typo in the due dates" });
    let p = problem(
        patch(&s, &lender, &id, body.clone()).await,
        StatusCode::CONFLICT,
        "earlier-lock",
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("2026-02-07 00:00 UTC") && detail.contains("allow_earlier_lock"),
        "{detail}"
    );
    assert_eq!(s.device(&lender, &id).await, device);
    assert_eq!(audit(&s, &lender, &id).await, log);

    // Too close to now even with consent.
    s.clock.set(T0 + 20 * DAY);
    let mut too_soon = body.clone();
    too_soon["allow_earlier_lock"] = json!(true);
    too_soon["plan"]["installments"][0]["due"] = json!(T0 + 15 * DAY);
    let p = problem(
        patch(&s, &lender, &id, too_soon).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().starts_with("plan:"), "{p}");
    assert_eq!(audit(&s, &lender, &id).await, log);

    // Said explicitly, with notice: done, and the log says so.
    let mut agreed = body;
    agreed["allow_earlier_lock"] = json!(true);
    let r = patch(&s, &lender, &id, agreed).await;
    assert_eq!(r.status(), StatusCode::OK);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["lock_at"], T0 + 27 * DAY);
    let entries = audit(&s, &lender, &id).await;
    assert_eq!(entries.last().unwrap()["detail"]["earlier_lock"], true);
    s.clock.advance(60);
    assert_eq!(phone.checkin(&s).await.lock_at, T0 + 27 * DAY);
}

#[tokio::test]
async fn re_provisioning_is_turned_on_and_off_and_audited_once_per_change() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(s.device(&lender, &id).await["auto_reprovision"], false);
    for (value, entries) in [(true, 2), (true, 2), (false, 3)] {
        let r = patch(&s, &lender, &id, json!({ "auto_reprovision": value })).await;
        assert_eq!(r.status(), StatusCode::OK);
        let view: Value = r.json().await.unwrap();
        assert_eq!(view["auto_reprovision"], value);
        let log = audit(&s, &lender, &id).await;
        assert_eq!(log.len(), entries, "{log:?}");
        assert_eq!(log.last().unwrap()["action"], "auto_reprovision_set");
        assert_eq!(log.last().unwrap()["detail"]["auto_reprovision"], value);
    }
}

#[tokio::test]
async fn bad_updates_are_refused_naming_the_field_and_change_nothing() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    // The first installment is paid.
    assert_eq!(
        s.pay(&lender, &id, 1000, "k1").await.status(),
        StatusCode::CREATED
    );
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;
    let with = |f: fn(&mut Value)| {
        let mut body = json!({ "plan": moved(1, 7), "reason": "agreed" });
        f(&mut body);
        body
    };
    let cases = [
        (json!({}), "plan, auto_reprovision or customer_ref"),
        (
            with(|b| b["plan"]["currency"] = json!("NGN")),
            "plan.currency",
        ),
        (
            with(|b| b["plan"]["currency"] = json!("XYZ")),
            "plan.currency",
        ),
        (
            with(|b| b["plan"]["installments"][3]["amount_minor"] = json!(0)),
            "plan.installments[3].amount_minor",
        ),
        (
            with(|b| b["plan"]["installments"][2]["due"] = json!(T0)),
            "plan.installments[2].due",
        ),
        (
            with(|b| b["plan"]["installments"][0]["due"] = json!(T0 + 31 * DAY)),
            "plan.installments[0]",
        ),
        (
            with(|b| {
                b["plan"]["installments"] = json!([{ "due": T0 + 30 * DAY, "amount_minor": 1000 }])
            }),
            "plan.installments",
        ),
        (
            with(|b| b["plan"]["grace_days"] = json!(400)),
            "plan.grace_days",
        ),
        (with(|b| b["reason"] = json!("bell\u{7}")), "reason"),
        (with(|b| b["reason"] = json!("")), "reason"),
        (
            with(|b| {
                b.as_object_mut().unwrap().remove("reason");
            }),
            "reason",
        ),
        (json!({ "auto_reprovision": true, "reason": "x" }), "reason"),
        (
            json!({ "auto_reprovision": true, "allow_earlier_lock": true }),
            "allow_earlier_lock",
        ),
    ];
    for (body, field) in cases {
        let p = problem(
            patch(&s, &lender, &id, body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("{field}: ")),
            "{body}: {detail}"
        );
        assert_eq!(s.device(&lender, &id).await, device, "{body}");
        assert_eq!(audit(&s, &lender, &id).await, log, "{body}");
    }
}

#[tokio::test]
async fn another_lender_can_neither_update_nor_cancel_a_device() {
    let s = start().await;
    let a = s.lender("Acme").await;
    let b = s.lender("Beta").await;
    let (id, _) = s
        .register(&a, json!({ "imei": "35-209900-176148-1" }))
        .await;
    let device = s.device(&a, &id).await;
    let log = audit(&s, &a, &id).await;
    for body in [
        json!({ "auto_reprovision": true }),
        json!({ "plan": moved(0, 7), "reason": "mine now" }),
    ] {
        problem(
            patch(&s, &b, &id, body).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    problem(
        cancel(&s, &b, &id).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // The same answer as for a device that does not exist.
    problem(
        patch(&s, &b, "dev-nope", json!({ "auto_reprovision": true })).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(s.device(&a, &id).await, device);
    assert_eq!(audit(&s, &a, &id).await, log);
}

#[tokio::test]
async fn cancelling_an_unenrolled_sale_frees_its_imei_and_kills_its_code() {
    let s = start().await;
    let a = s.lender("Acme").await;
    let b = s.lender("Beta").await;
    let imei = "35-693803-564380-9";
    let (id, code) = s.register(&a, json!({ "imei": imei })).await;

    // A reason is display text; a bad one changes nothing.
    let device = s.device(&a, &id).await;
    for bad in ["", "nul\u{0}", "rlo\u{202E}x"] {
        let p = problem(
            s.post(
                &a,
                &format!("/v1/lender/devices/{id}/cancel"),
                json!({ "reason": bad }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().starts_with("reason: "), "{p}");
    }
    assert_eq!(s.device(&a, &id).await, device);
    assert_eq!(audit(&s, &a, &id).await.len(), 1);

    let r = cancel(&s, &a, &id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["state"], "released");
    assert_eq!(view["enrolled"], false);
    let log = audit(&s, &a, &id).await;
    let last = log.last().unwrap();
    assert_eq!(last["action"], "cancelled");
    assert_eq!(
        last["detail"]["reason"],
        "customer returned the phone at the counter"
    );
    // The lender's systems are told, in the same transaction: released for good, because
    // the sale was cancelled (and the staff's free text stays in the audit log).
    let events: Vec<(String, Value)> = {
        use sqlx::Row;
        sqlx::query(
            "SELECT kind, payload FROM webhook_events WHERE device_id = $1 ORDER BY device_order",
        )
        .bind(&id)
        .fetch_all(&s.handle.db().read)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let payload: String = r.get("payload");
            (r.get("kind"), serde_json::from_str(&payload).unwrap())
        })
        .collect()
    };
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "device.released");
    assert_eq!(events[0].1["data"]["reason"], "sale_cancelled");
    assert!(!events[0].1.to_string().contains("counter"), "{events:?}");

    // The code no longer enrolls a phone.
    let mut phone = SimDevice::new(&s, &a);
    let out = phone.enroll_body(Some(&code), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // The IMEI is free: the phone can be sold again, by anyone.
    let r = s
        .post(
            &b,
            "/v1/lender/devices",
            json!({ "imei": imei, "plan": crate::common::plan() }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Nothing more happens to a cancelled device.
    problem(cancel(&s, &a, &id).await, StatusCode::CONFLICT, "released").await;
    problem(
        patch(&s, &a, &id, json!({ "auto_reprovision": true })).await,
        StatusCode::CONFLICT,
        "released",
    )
    .await;
    assert_eq!(audit(&s, &a, &id).await, log);
}

#[tokio::test]
async fn an_enrolled_phone_cannot_be_cancelled_only_released() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;
    let p = problem(
        cancel(&s, &lender, &id).await,
        StatusCode::CONFLICT,
        "enrolled",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("release"), "{p}");
    assert_eq!(s.device(&lender, &id).await, device);
    assert_eq!(audit(&s, &lender, &id).await, log);
    // And the phone goes on as before.
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert!(!phone.locked(&s));
}

#[tokio::test]
async fn a_paid_off_plan_is_not_rescheduled_and_a_sale_with_payments_not_cancelled() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    assert_eq!(
        s.pay(&lender, &id, 500, "deposit").await.status(),
        StatusCode::CREATED
    );
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;
    let p = problem(
        cancel(&s, &lender, &id).await,
        StatusCode::CONFLICT,
        "has-payments",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("void"), "{p}");
    assert_eq!(s.device(&lender, &id).await, device);
    assert_eq!(audit(&s, &lender, &id).await, log);

    // Paid in full: there is nothing left to reschedule, even to a larger total.
    assert_eq!(
        s.pay(&lender, &id, 5500, "rest").await.status(),
        StatusCode::CREATED
    );
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;
    let mut bigger = moved(0, 30);
    bigger["installments"][5]["amount_minor"] = json!(5000);
    problem(
        patch(
            &s,
            &lender,
            &id,
            json!({ "plan": bigger, "reason": "more" }),
        )
        .await,
        StatusCode::CONFLICT,
        "paid-in-full",
    )
    .await;
    assert_eq!(s.device(&lender, &id).await, device);
    assert_eq!(audit(&s, &lender, &id).await, log);
}

/// The customer reference changes after the sale through the same update: trimmed,
/// audited with the one it replaces (and the API key), found by search under its new
/// value; a released device still takes it (bookkeeping), nothing else.
#[tokio::test]
async fn a_customer_ref_changes_after_the_sale_and_is_audited() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({ "customer_ref": "CT-1" })).await;
    let r = patch(
        &s,
        &lender,
        &id,
        json!({ "customer_ref": "  CT-2026/0042 " }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let view: Value = r.json().await.unwrap();
    assert_eq!(s.device(&lender, &id).await["customer_ref"], "CT-2026/0042");
    assert_eq!(view["device_id"], id.as_str());
    let entries = audit(&s, &lender, &id).await;
    let last = entries.last().unwrap();
    assert_eq!(last["action"], "customer_ref_set");
    assert_eq!(
        last["detail"],
        json!({ "before": "CT-1", "after": "CT-2026/0042" })
    );
    assert!(last["api_key_id"].is_string(), "{last}");
    // Search finds it by the new reference only.
    let found = |q: &'static str| {
        let s = &s;
        let lender = &lender;
        async move {
            let r = s.get(lender, &format!("/v1/lender/devices?q={q}")).await;
            let v: Value = r.json().await.unwrap();
            v["devices"].as_array().unwrap().len()
        }
    };
    assert_eq!(found("CT-2026").await, 1);
    assert_eq!(found("CT-1").await, 0);
    // The same reference again changes nothing and writes no entry.
    let r = patch(&s, &lender, &id, json!({ "customer_ref": "CT-2026/0042" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(audit(&s, &lender, &id).await.len(), entries.len());
    // Not unique, as at registration: another device may hold the same reference.
    let (other, _) = s.register(&lender, json!({})).await;
    let r = patch(
        &s,
        &lender,
        &other,
        json!({ "customer_ref": "CT-2026/0042" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before_none = audit(&s, &lender, &other).await;
    assert_eq!(
        before_none.last().unwrap()["detail"],
        json!({ "before": null, "after": "CT-2026/0042" })
    );
    // Released: the reference still changes, the plan does not.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{other}/cancel"),
            json!({ "reason": "returned" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = patch(&s, &lender, &other, json!({ "customer_ref": "CT-9" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(s.device(&lender, &other).await["customer_ref"], "CT-9");
    problem(
        patch(
            &s,
            &lender,
            &other,
            json!({ "customer_ref": "CT-10", "auto_reprovision": true }),
        )
        .await,
        StatusCode::CONFLICT,
        "released",
    )
    .await;
    assert_eq!(s.device(&lender, &other).await["customer_ref"], "CT-9");
}

/// Every rule of a customer reference refuses with the field named and changes nothing:
/// the registration's rules (1–64 printable ASCII characters after trimming), a value
/// that is not text, and another lender's device (404 like a missing one).
#[tokio::test]
async fn a_bad_customer_ref_is_refused_and_changes_nothing() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let beta = s.lender("Beta").await;
    let (id, _) = s.register(&lender, json!({ "customer_ref": "CT-1" })).await;
    let device = s.device(&lender, &id).await;
    let log = audit(&s, &lender, &id).await;
    let long = "x".repeat(65);
    for (bad, rule) in [
        (json!(""), "1 to 64 characters"),
        (json!("   "), "1 to 64 characters"),
        (json!(long), "1 to 64 characters"),
        (json!("Jos\u{e9}"), "printable ASCII"),
        (json!("line\nbreak"), "printable ASCII"),
        (json!("tab\there"), "printable ASCII"),
        (json!("nul\u{0}"), "printable ASCII"),
    ] {
        let p = problem(
            patch(&s, &lender, &id, json!({ "customer_ref": bad })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.starts_with("customer_ref: "), "{bad}: {detail}");
        assert!(detail.contains(rule), "{bad}: {detail}");
        assert_eq!(s.device(&lender, &id).await, device, "{bad}");
        assert_eq!(audit(&s, &lender, &id).await, log, "{bad}");
    }
    // A bad reference with a good change: nothing of either is stored.
    problem(
        patch(
            &s,
            &lender,
            &id,
            json!({ "customer_ref": "", "auto_reprovision": true }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    // Not text.
    for bad in [json!(42), json!(["CT-2"]), json!({ "ref": "CT-2" })] {
        let r = patch(&s, &lender, &id, json!({ "customer_ref": bad })).await;
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
    }
    // Another lender's device, and one that does not exist.
    for target in [id.as_str(), "dev-nope"] {
        problem(
            patch(&s, &beta, target, json!({ "customer_ref": "MINE" })).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    assert_eq!(s.device(&lender, &id).await, device);
    assert_eq!(audit(&s, &lender, &id).await, log);
}
