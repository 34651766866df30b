//! Payments in (issue 17), over real HTTP: a provider's notification, Standard Webhooks
//! signed or M-Pesa's C2B confirmation with the lender's URL token, becomes one payment
//! through the API's own operation, or is held for the lender with its reason; nothing
//! unauthenticated or unreadable is stored; secrets rotate with an overlap.

use finlock_server::payments_in::signature::{Secret, sign};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

use super::start;
use crate::common::{DAY, Lender, T0, TestServer, problem};

/// A rotation of `which` (`secret` or `mpesa-token`): the new secret and the answer.
async fn rotate(s: &TestServer, lender: &Lender, which: &str, body: Value) -> Value {
    let r = s
        .post(
            lender,
            &format!("/v1/lender/payment-notifications/{which}/rotate"),
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn secret(s: &TestServer, lender: &Lender) -> String {
    rotate(s, lender, "secret", json!({})).await["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

fn body(tx: &str, account: &str, amount: u64, currency: &str) -> String {
    json!({ "type": "payment.received", "timestamp": "2026-01-01T00:00:00Z",
        "data": { "transaction_id": tx, "account_reference": account, "amount_minor": amount,
                  "currency": currency, "paid_at": "2026-01-01T00:00:00Z" } })
    .to_string()
}

/// POSTs `body` to the lender's Standard endpoint signed with `secret` at `at`.
async fn notify_at(
    s: &TestServer,
    lender_id: &str,
    secret: &str,
    msg_id: &str,
    at: i64,
    body: &str,
) -> Response {
    let sig = sign(&Secret::parse(secret).unwrap(), msg_id, at, body.as_bytes());
    s.http
        .post(format!("{}/v1/notify/{lender_id}/standard", s.url))
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", at.to_string())
        .header("webhook-signature", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn notify(s: &TestServer, lender: &Lender, secret: &str, msg_id: &str, body: &str) -> Value {
    let r = notify_at(s, &lender.id, secret, msg_id, s.now(), body).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn mpesa_body(trans_id: &str, bill_ref: &str, amount: &str) -> String {
    json!({ "TransactionType": "Pay Bill", "TransID": trans_id, "TransTime": "20260101030000",
        "TransAmount": amount, "BusinessShortCode": "600638", "BillRefNumber": bill_ref,
        "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
        "MSISDN": "254708374149", "FirstName": "John", "MiddleName": "", "LastName": "Doe" })
    .to_string()
}

async fn mpesa(s: &TestServer, url: &str, body: &str) -> Response {
    s.http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn notifications(s: &TestServer, lender: &Lender, query: &str) -> Vec<Value> {
    let r = s
        .get(lender, &format!("/v1/lender/payment-notifications{query}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["notifications"].as_array().unwrap().clone()
}

async fn payments(s: &TestServer, lender: &Lender, device: &str) -> Vec<Value> {
    let r = s
        .get(lender, &format!("/v1/lender/devices/{device}/payments"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["payments"].as_array().unwrap().clone()
}

/// The actors of the device's `payment` audit entries, oldest first.
async fn payment_actors(s: &TestServer, lender: &Lender, device: &str) -> Vec<String> {
    let r = s
        .get(lender, &format!("/v1/lender/devices/{device}/audit"))
        .await;
    let log: Value = r.json().await.unwrap();
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "payment")
        .map(|e| e["actor"].as_str().unwrap().to_string())
        .collect()
}

async fn count(s: &TestServer, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&s.handle.db().read)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn assign(s: &TestServer, lender: &Lender, id: &str, body: Value) -> Response {
    s.post(
        lender,
        &format!("/v1/lender/payment-notifications/{id}/assign"),
        body,
    )
    .await
}

#[tokio::test]
async fn a_signed_notification_records_one_payment_and_its_replay_none() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (device, _) = s.register(&lender, json!({})).await;
    let secret = secret(&s, &lender).await;
    let b = body("TX-1001", &device, 1000, "KES");

    let first = notify(&s, &lender, &secret, "msg_1", &b).await;
    assert_eq!(first["replayed"], false, "{first}");
    let n = &first["notification"];
    assert_eq!(n["status"], "recorded", "{n}");
    assert_eq!(n["device_id"], device.as_str());
    assert_eq!(n["reason"], Value::Null);
    let paid = payments(&s, &lender, &device).await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["payment_id"], n["payment_id"]);
    assert_eq!(paid[0]["reference"], "TX-1001");
    assert_eq!(paid[0]["amount_minor"], 1000);
    assert_eq!(s.device(&lender, &device).await["paid_minor"], 1000);

    // The provider retries (another message id, the same transaction): nothing new.
    s.clock.advance(60);
    let again = notify(&s, &lender, &secret, "msg_2", &b).await;
    assert_eq!(again["replayed"], true);
    assert_eq!(again["notification"], *n);
    assert_eq!(payments(&s, &lender, &device).await.len(), 1);
    assert_eq!(s.device(&lender, &device).await["paid_minor"], 1000);
    let actions = s.audit_actions(&lender, &device).await;
    assert_eq!(actions.iter().filter(|a| *a == "payment").count(), 1);
    assert_eq!(
        payment_actors(&s, &lender, &device).await,
        ["provider:standard"]
    );

    // The same transaction id with another amount is not a retry: refused, nothing stored.
    let other = body("TX-1001", &device, 2000, "KES");
    let r = notify_at(&s, &lender.id, &secret, "msg_3", s.now(), &other).await;
    problem(r, StatusCode::CONFLICT, "notification-conflict").await;
    assert_eq!(payments(&s, &lender, &device).await.len(), 1);
    assert_eq!(notifications(&s, &lender, "").await.len(), 1);
}

#[tokio::test]
async fn unauthenticated_or_unreadable_notifications_store_nothing() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let other = s.lender("Other").await;
    let (device, _) = s.register(&acme, json!({})).await;
    let secret = secret(&s, &acme).await;
    let other_secret = self::secret(&s, &other).await;
    let b = body("TX-1", &device, 1000, "KES");
    let now = s.now();

    let unauthenticated =
        |r: Response| problem(r, StatusCode::UNAUTHORIZED, "notification-unauthenticated");
    // Signed with another secret, or another lender's.
    let stranger = Secret::generate().unwrap();
    unauthenticated(notify_at(&s, &acme.id, &stranger, "m1", now, &b).await).await;
    let v = unauthenticated(notify_at(&s, &acme.id, &other_secret, "m2", now, &b).await).await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("no signature matches"),
        "{v}"
    );
    // Too old, too far ahead.
    let v = unauthenticated(notify_at(&s, &acme.id, &secret, "m3", now - 301, &b).await).await;
    assert!(v["detail"].as_str().unwrap().contains("5 minutes"), "{v}");
    unauthenticated(notify_at(&s, &acme.id, &secret, "m4", now + 301, &b).await).await;
    // A body changed after signing.
    let sig = sign(&Secret::parse(&secret).unwrap(), "m5", now, b.as_bytes());
    let changed = body("TX-1", &device, 100_000, "KES");
    let send = |headers: Vec<(&'static str, String)>, body: String| {
        let mut req = s
            .http
            .post(format!("{}/v1/notify/{}/standard", s.url, acme.id))
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let all = vec![
        ("webhook-id", "m5".to_string()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", sig.clone()),
    ];
    unauthenticated(send(all.clone(), changed).await.unwrap()).await;
    // Each header missing.
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let headers = all.iter().filter(|h| h.0 != missing).cloned().collect();
        let v = unauthenticated(send(headers, b.clone()).await.unwrap()).await;
        assert!(v["detail"].as_str().unwrap().contains(missing), "{v}");
    }
    // A lender without a secret, or no lender at all.
    unauthenticated(notify_at(&s, &other.id, &secret, "m6", now, &b).await).await;
    unauthenticated(notify_at(&s, "lnd-nobody", &secret, "m7", now, &b).await).await;

    // Validly signed but not the documented body: 400.
    for bad in [
        "{".to_string(),
        json!({ "type": "payment.received" }).to_string(),
        body("TX-1", &device, 0, "KES"),
        b.replace("2026-01-01T00:00:00Z", "yesterday"),
        b.replace("payment.received", "payment.refunded"),
    ] {
        let r = notify_at(&s, &acme.id, &secret, "m8", now, &bad).await;
        problem(r, StatusCode::BAD_REQUEST, "bad-request").await;
    }
    // Over 4 KiB.
    let big = body("TX-1", &"x".repeat(5000), 1000, "KES");
    let r = notify_at(&s, &acme.id, &secret, "m9", now, &big).await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "too-large").await;

    // M-Pesa: a wrong or missing token, another lender's token.
    let token_url = rotate(&s, &acme, "mpesa-token", json!({})).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    let other_url = rotate(&s, &other, "mpesa-token", json!({})).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    let mb = mpesa_body("RKT1", &device, "10.00");
    let wrong = format!("{}/v1/notify/{}/mpesa/c2b/fmp_wrong", s.url, acme.id);
    unauthenticated(mpesa(&s, &wrong, &mb).await).await;
    let token = other_url.rsplit('/').next().unwrap();
    let crossed = format!("{}/v1/notify/{}/mpesa/c2b/{token}", s.url, acme.id);
    unauthenticated(mpesa(&s, &crossed, &mb).await).await;
    // The right token, a malformed body.
    for bad in [
        "[]",
        &mb.replace("20260101030000", "2026-01-01"),
        &mb.replace("10.00", "ten"),
    ] {
        let r = mpesa(&s, &token_url, bad).await;
        problem(r, StatusCode::BAD_REQUEST, "bad-request").await;
    }

    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM payment_notifications").await,
        0
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM payments").await, 0);
    assert!(notifications(&s, &acme, "").await.is_empty());
}

#[tokio::test]
async fn an_unmatched_mpesa_payment_is_held_then_assigned_once_and_audited() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (device, _) = s.register(&lender, json!({})).await;
    let (other_device, _) = s.register(&lender, json!({})).await;
    let url = rotate(&s, &lender, "mpesa-token", json!({})).await["url"]
        .as_str()
        .unwrap()
        .to_string();

    let r = mpesa(&s, &url, &mpesa_body("RKTQDM7W6S", "NOBODY-42", "10.00")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer, json!({ "ResultCode": 0, "ResultDesc": "Accepted" }));
    // Safaricom retries: still one notification.
    let r = mpesa(&s, &url, &mpesa_body("RKTQDM7W6S", "NOBODY-42", "10.00")).await;
    assert_eq!(r.status(), StatusCode::OK);

    let held = notifications(&s, &lender, "?status=held").await;
    assert_eq!(held.len(), 1, "{held:?}");
    let n = &held[0];
    assert_eq!(n["reason"], "unknown-reference");
    assert_eq!(n["source"], "mpesa");
    assert_eq!(n["amount_minor"], 1000);
    assert_eq!(n["currency"], "KES");
    // 03:00 in Nairobi is midnight UTC.
    assert_eq!(n["paid_at"], T0);
    assert_eq!(n["account_reference"], "NOBODY-42");
    // The payer's phone number and names are not stored.
    let stored = count(
        &s,
        "SELECT COUNT(*) FROM payment_notifications WHERE account_ref LIKE '%2547%' \
         OR transaction_id LIKE '%John%'",
    )
    .await;
    assert_eq!(stored, 0);
    assert!(!n.to_string().contains("254708374149") && !n.to_string().contains("John"));
    let id = n["notification_id"].as_str().unwrap();

    // Another lender's notification reads like a missing one.
    let other = s.lender("Other").await;
    let (theirs, _) = s.register(&other, json!({})).await;
    let r = assign(&s, &other, id, json!({ "device_id": theirs })).await;
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    // An unknown device.
    let r = assign(&s, &lender, id, json!({ "device_id": "dev-nope" })).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;

    let r = assign(&s, &lender, id, json!({ "device_id": device })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let assigned: Value = r.json().await.unwrap();
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["device_id"], device.as_str());
    assert_eq!(assigned["assigned_by"], format!("lender:{}", lender.id));
    // Again to the same device: the same answer, nothing recorded twice.
    let r = assign(&s, &lender, id, json!({ "device_id": device })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), assigned);
    // To another device: it is not held any more.
    let r = assign(&s, &lender, id, json!({ "device_id": other_device })).await;
    problem(r, StatusCode::CONFLICT, "not-held").await;

    let paid = payments(&s, &lender, &device).await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["payment_id"], assigned["payment_id"]);
    assert_eq!(paid[0]["reference"], "RKTQDM7W6S");
    assert!(payments(&s, &lender, &other_device).await.is_empty());
    assert!(notifications(&s, &lender, "?status=held").await.is_empty());

    // Audited: the payment on the device with the API key that assigned it, and the
    // assignment in the lender's own log.
    let r = s
        .get(&lender, &format!("/v1/lender/devices/{device}/audit"))
        .await;
    let log: Value = r.json().await.unwrap();
    let entry = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "payment")
        .unwrap()
        .clone();
    assert_eq!(entry["actor"], format!("lender:{}", lender.id));
    assert!(entry["api_key_id"].is_string(), "{entry}");
    let logged = count(
        &s,
        "SELECT COUNT(*) FROM lender_audit WHERE action = 'payment_notification_assigned'",
    )
    .await;
    assert_eq!(logged, 1);

    // A later notification naming the device by its customer reference, case aside.
    let (by_ref, _) = s
        .register(&lender, json!({ "customer_ref": "ACME-0007" }))
        .await;
    let r = mpesa(&s, &url, &mpesa_body("RKT2", "acme-0007", "5.00")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let paid = payments(&s, &lender, &by_ref).await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["amount_minor"], 500);
    // Recorded without a person: the provider's kind acts.
    assert_eq!(
        payment_actors(&s, &lender, &by_ref).await,
        ["provider:mpesa"]
    );
}

#[tokio::test]
async fn another_currency_and_an_overpayment_are_held_with_their_reason() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (device, _) = s.register(&lender, json!({})).await; // 6 × 1000 KES
    let secret = secret(&s, &lender).await;

    let ugx = notify(
        &s,
        &lender,
        &secret,
        "m1",
        &body("TX-U", &device, 1000, "UGX"),
    )
    .await;
    let ugx = &ugx["notification"];
    assert_eq!(ugx["status"], "held");
    assert_eq!(ugx["reason"], "currency");
    assert_eq!(ugx["device_id"], device.as_str());
    assert!(
        ugx["reason_detail"].as_str().unwrap().contains("KES"),
        "{ugx}"
    );

    let over = notify(
        &s,
        &lender,
        &secret,
        "m2",
        &body("TX-O", &device, 7000, "KES"),
    )
    .await;
    let over = &over["notification"];
    assert_eq!(over["status"], "held");
    assert_eq!(over["reason"], "overpayment");
    assert!(
        over["reason_detail"].as_str().unwrap().contains("6000"),
        "{over}"
    );
    assert!(payments(&s, &lender, &device).await.is_empty());
    assert_eq!(notifications(&s, &lender, "?status=held").await.len(), 2);

    // Assigned, the API's rules apply again: another currency is refused, and so is
    // an overpayment unless allowed; a refused assignment leaves it held.
    let id = ugx["notification_id"].as_str().unwrap();
    let r = assign(&s, &lender, id, json!({ "device_id": device })).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    let id = over["notification_id"].as_str().unwrap();
    let r = assign(&s, &lender, id, json!({ "device_id": device })).await;
    let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    assert!(
        v["detail"].as_str().unwrap().contains("allow_overpayment"),
        "{v}"
    );
    assert_eq!(notifications(&s, &lender, "?status=held").await.len(), 2);
    assert!(payments(&s, &lender, &device).await.is_empty());

    let r = assign(
        &s,
        &lender,
        id,
        json!({ "device_id": device, "allow_overpayment": true }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(payments(&s, &lender, &device).await.len(), 1);
    assert_eq!(s.device(&lender, &device).await["paid_minor"], 7000);
    let held = notifications(&s, &lender, "?status=held").await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["reason"], "currency");
    assert_eq!(
        notifications(&s, &lender, "?status=assigned").await.len(),
        1
    );
}

#[tokio::test]
async fn a_rotated_secret_stays_valid_for_its_overlap_only() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (device, _) = s.register(&lender, json!({})).await;
    let first = secret(&s, &lender).await;
    let rotated = rotate(&s, &lender, "secret", json!({})).await;
    let second = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(rotated["previous_valid_until"], s.now() + DAY);
    // The list shows both, never a secret's value.
    let r = s
        .get(&lender, "/v1/lender/payment-notifications/secrets")
        .await;
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["secrets"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&first) && !listed.to_string().contains(&second));

    // During the overlap both are accepted.
    s.clock.advance(DAY - 60);
    let at = s.now();
    let r = notify_at(
        &s,
        &lender.id,
        &first,
        "m1",
        at,
        &body("TX-1", &device, 100, "KES"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = notify_at(
        &s,
        &lender.id,
        &second,
        "m2",
        at,
        &body("TX-2", &device, 100, "KES"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // After it, only the new one.
    s.clock.advance(61);
    let at = s.now();
    let r = notify_at(
        &s,
        &lender.id,
        &first,
        "m3",
        at,
        &body("TX-3", &device, 100, "KES"),
    )
    .await;
    problem(r, StatusCode::UNAUTHORIZED, "notification-unauthenticated").await;
    let r = notify_at(
        &s,
        &lender.id,
        &second,
        "m4",
        at,
        &body("TX-4", &device, 100, "KES"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(payments(&s, &lender, &device).await.len(), 3);

    // A leaked secret ends at once (overlap 0); the rotations are in the lender's log.
    let third = rotate(&s, &lender, "secret", json!({ "overlap_s": 0 })).await;
    let r = notify_at(
        &s,
        &lender.id,
        &second,
        "m5",
        s.now(),
        &body("TX-5", &device, 100, "KES"),
    )
    .await;
    problem(r, StatusCode::UNAUTHORIZED, "notification-unauthenticated").await;
    let third = third["secret"].as_str().unwrap();
    let r = notify_at(
        &s,
        &lender.id,
        third,
        "m6",
        s.now(),
        &body("TX-6", &device, 100, "KES"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .post(
            &lender,
            "/v1/lender/payment-notifications/secret/rotate",
            json!({ "overlap_s": 604_801 }),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
    let logged = count(
        &s,
        "SELECT COUNT(*) FROM lender_audit WHERE action = 'payment_notification_secret_rotated'",
    )
    .await;
    assert_eq!(logged, 3);

    // The M-Pesa token likewise.
    let t1 = rotate(&s, &lender, "mpesa-token", json!({})).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    let t2 = rotate(&s, &lender, "mpesa-token", json!({ "overlap_s": 3600 })).await["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = mpesa(&s, &t1, &mpesa_body("RK1", &device, "1.00")).await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(3601);
    let r = mpesa(&s, &t1, &mpesa_body("RK2", &device, "1.00")).await;
    problem(r, StatusCode::UNAUTHORIZED, "notification-unauthenticated").await;
    let r = mpesa(&s, &t2, &mpesa_body("RK3", &device, "1.00")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(payments(&s, &lender, &device).await.len(), 6);
}

#[tokio::test]
async fn a_flood_for_one_lender_is_cut_off_at_its_limit_and_no_other() {
    let s = start().await;
    let acme = s.lender("Acme").await;
    let other = s.lender("Other").await;
    let secret = secret(&s, &acme).await;
    let other_secret = self::secret(&s, &other).await;
    let b = body("TX-1", "nobody", 100, "KES");
    let now = s.now();
    // 600 a minute per lender, counted before authentication (these are all refused).
    for i in 0..600 {
        let r = notify_at(&s, &acme.id, &other_secret, &format!("m{i}"), now, &b).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = notify_at(&s, &acme.id, &secret, "m600", now, &b).await;
    let v = problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts").await;
    assert!(v["detail"].is_string());
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM payment_notifications").await,
        0
    );
    // Another lender is not affected; the next minute the first is answered again.
    let r = notify_at(&s, &other.id, &other_secret, "o1", now, &b).await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(60);
    let r = notify_at(&s, &acme.id, &secret, "m601", s.now(), &b).await;
    assert_eq!(r.status(), StatusCode::OK);
}
