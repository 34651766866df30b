//! Enrollment by IMEI as an attacker would try it (issue 12): only the IMEI, no
//! credential; another lender's credential; a scan of IMEIs. Each is refused or left
//! pending, nothing stored changes, and the real phone keeps checking in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{start, start_two_nodes};
use crate::common::{SimDevice, TestServer, problem};

const IMEI: &str = "356938035643809";

/// What an enroll answer lets a stranger see: status, Retry-After and body.
async fn seen(r: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap())
}

async fn attacker_tries(
    s: &TestServer,
    lender: &crate::common::Lender,
    imei: &str,
) -> reqwest::Response {
    let mut attacker = SimDevice::new(s, lender);
    let out = attacker.enroll_body(None, Some(imei));
    s.post_jose("/v1/enroll", out.body).await
}

#[tokio::test]
async fn an_imei_alone_binds_nothing_reveals_nothing_and_the_phone_keeps_working() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s
        .register(&lender, json!({ "imei": IMEI, "auto_reprovision": true }))
        .await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    let device_before = s.device(&lender, &id).await;
    let audit_before = s.audit_actions(&lender, &id).await;

    // The attacker's self-signed enroll with the IMEI: 202, no entitlement, no secret.
    let (status, retry, body) = seen(attacker_tries(&s, &lender, IMEI).await).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        body,
        json!({ "status": "pending_approval", "retry_after_s": 900 })
    );
    assert_eq!(retry.as_deref(), Some("900"));
    // An IMEI no one registered gets exactly the same answer: no oracle.
    let unknown = seen(attacker_tries(&s, &lender, "490154203237518").await).await;
    assert_eq!(unknown, (status, retry, body));

    // Nothing of the device changed, and its log neither.
    assert_eq!(s.device(&lender, &id).await, device_before);
    assert_eq!(s.audit_actions(&lender, &id).await, audit_before);
    // The real phone's next check-in succeeds.
    s.clock.advance(60);
    phone.checkin(&s).await;

    // The lender sees the request; another lender can neither see nor approve it.
    let listed: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .unwrap();
    let requests = listed["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["status"], "pending");
    let rid = requests[0]["request_id"].as_str().unwrap();
    let other = s.lender("Beta").await;
    let r = s
        .get(
            &other,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    let approve = format!("/v1/lender/devices/{id}/enrollment-requests/{rid}/approve");
    problem(
        s.post(&other, &approve, json!({})).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // Without a credential at all.
    let r = s
        .http
        .post(format!("{}{approve}", s.url))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // The lender refuses it: a refused key stays unbound, however often it asks.
    let refuse = format!("/v1/lender/devices/{id}/enrollment-requests/{rid}/refuse");
    assert_eq!(
        s.post(&lender, &refuse, json!({})).await.status(),
        StatusCode::OK
    );
    problem(
        s.post(&lender, &approve, json!({})).await,
        StatusCode::CONFLICT,
        "decided",
    )
    .await;
    assert_eq!(s.device(&lender, &id).await["enrolled"], true);
    s.clock.advance(60);
    phone.checkin(&s).await;
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions.last().map(String::as_str),
        Some("enrollment_refused")
    );
}

#[tokio::test]
async fn enroll_attempts_are_limited_per_imei_and_per_address_across_nodes() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    a.register(&lender, json!({ "imei": IMEI })).await;
    // Ten tries for one IMEI an hour, counted on both nodes together.
    for i in 0..10 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = attacker_tries(node, &lender, IMEI).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "try {i}");
    }
    let r = attacker_tries(&b, &lender, IMEI).await;
    assert!(r.headers().get("retry-after").is_some());
    problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts").await;

    // A scan of other IMEIs from one address: 30 a minute in all, every try counted
    // (11 above, the refused one included).
    let mut limited = 0;
    for n in 0..30u64 {
        let imei = format!("{:015}", 100_000_000_000_000 + n);
        let node = if n % 2 == 0 { &a } else { &b };
        match attacker_tries(node, &lender, &imei).await.status() {
            StatusCode::ACCEPTED => {}
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!(limited, 11);
    // The next minute the address may try again (the IMEI's hour is not over).
    a.clock.advance(60);
    b.clock.advance(60);
    let r = attacker_tries(&a, &lender, "490154203237518").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = attacker_tries(&a, &lender, IMEI).await;
    problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts").await;
}
