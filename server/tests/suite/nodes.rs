//! Several stateless nodes on one database: nothing a node remembers between requests
//! may let a device or a replay through that a single node would refuse.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start_two_nodes;
use crate::common::{SimDevice, problem};

#[tokio::test]
async fn a_device_moves_between_nodes() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (_, code) = a.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&a, &lender);
    phone.enroll(&a, &code).await;
    let step = |secs| {
        a.clock.advance(secs);
        b.clock.advance(secs);
    };
    // A, B, A, B: each node's memory of the device is behind the other's writes.
    for node in [&a, &b, &a, &b, &a] {
        step(60);
        phone.checkin(node).await;
    }
    // A body answered by one node is a replay at the other.
    step(60);
    let out = phone.checkin_body(&a);
    let r = a.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    step(60);
    problem(
        b.post_jose("/v1/checkin", out.body.clone()).await,
        StatusCode::CONFLICT,
        "replayed",
    )
    .await;
    // The device accepts A's answer and goes on at B.
    let bytes = r.bytes().await.unwrap();
    phone.accept(&a, &out, &bytes);
    phone.checkin(&b).await;
    let seqs: Vec<u64> = phone.received.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test]
async fn the_rate_limit_and_payments_hold_across_nodes() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (id, code) = a.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&a, &lender);
    phone.enroll(&a, &code).await;
    phone.checkin(&a).await;
    a.clock.advance(3);
    b.clock.advance(3);
    let out = phone.checkin_body(&b);
    let r = b.post_jose("/v1/checkin", out.body).await;
    assert_eq!(r.headers().get("retry-after").unwrap(), "7");
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate-limited").await;
    // A payment recorded on B reaches the device through A's answer.
    assert_eq!(
        b.pay(&lender, &id, 1000, "k1").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        a.pay(&lender, &id, 1000, "k1").await.status(),
        StatusCode::CREATED
    );
    a.clock.advance(60);
    b.clock.advance(60);
    let e = phone.checkin(&a).await;
    assert_eq!(
        e.account.installments[0].status,
        finlock_core::protocol::InstallmentStatus::Paid
    );
    assert_eq!(
        e.account.installments[1].status,
        finlock_core::protocol::InstallmentStatus::Due
    );
}

#[tokio::test]
async fn a_re_provisioned_key_is_seen_by_every_node() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let imei = "356938035643809";
    let (id, code) = a
        .register(&lender, json!({ "imei": imei, "auto_reprovision": true }))
        .await;
    let mut old = SimDevice::new(&a, &lender);
    old.enroll(&a, &code).await;
    old.checkin(&a).await; // A now remembers the old key
    // Factory reset; the phone asks through B, the lender approves through A, and the
    // phone's next try through B binds.
    let mut new = SimDevice::new(&b, &lender);
    let out = new.enroll_body(None, Some(imei));
    let r = b.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let requests: Value = a
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .unwrap();
    let rid = requests["requests"][0]["request_id"].as_str().unwrap();
    let approve = format!("/v1/lender/devices/{id}/enrollment-requests/{rid}/approve");
    assert_eq!(
        a.post(&lender, &approve, json!({})).await.status(),
        StatusCode::OK
    );
    b.clock.advance(1);
    let out = new.enroll_body(None, Some(imei));
    let r = b.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let clock = new.clock(&b);
    new.state.complete_enrollment(&bytes, &clock).unwrap();
    a.clock.advance(60);
    b.clock.advance(60);
    // A's memory still has the old key: the old key must not get through A.
    let stale = old.checkin_body(&a);
    problem(
        a.post_jose("/v1/checkin", stale.body).await,
        StatusCode::UNAUTHORIZED,
        "bad-signature",
    )
    .await;
    new.checkin(&a).await;
}
