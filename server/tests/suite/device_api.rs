//! Every device-side rejection (PROTOCOL §2, §3.2) and the per-device rate limit.

use finlock_core::b64;
use finlock_core::jws::typ;
use finlock_core::keys::DeviceKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{start, start_with};
use crate::common::{Lender, SimDevice, TestServer, problem};

async fn enrolled(s: &TestServer) -> (Lender, SimDevice) {
    let lender = s.lender("Acme").await;
    let (_, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(s, &lender);
    phone.enroll(s, &code).await;
    s.clock.advance(60);
    (lender, phone)
}

/// Re-signs `payload` as the phone would (its key, kid = device_id).
fn sign_as_phone(phone: &SimDevice, t: &str, payload: &Value) -> String {
    let en = phone.state.enrolled().unwrap();
    let key = DeviceKey::from_pkcs8(&en.device_key.bytes().unwrap(), None).unwrap();
    key.sign_as(&en.device_id, t, &serde_json::to_vec(payload).unwrap())
}

fn payload_of(body: &str) -> Value {
    let p = body.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64::decode(p).unwrap()).unwrap()
}

#[tokio::test]
async fn a_bad_signature_is_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    let out = phone.checkin_body(&s);
    let (rest, sig) = out.body.rsplit_once('.').unwrap();
    let mut sig = b64::decode(sig).unwrap();
    sig[0] ^= 1;
    let tampered = format!("{rest}.{}", b64::encode(sig));
    let v = problem(
        s.post_jose("/v1/checkin", tampered).await,
        StatusCode::UNAUTHORIZED,
        "bad-signature",
    )
    .await;
    assert_eq!(v["rule"], "jws_bad_signature");
    // The genuine body still works: a rejected message changed nothing.
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_device_is_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    let out = phone.checkin_body(&s);
    let mut payload = payload_of(&out.body);
    payload["device_id"] = json!("dev-unknown");
    let stranger = DeviceKey::from_seed(&[7; 32], None).unwrap();
    let body = stranger.sign_as(
        "dev-unknown",
        typ::CHECKIN,
        &serde_json::to_vec(&payload).unwrap(),
    );
    problem(
        s.post_jose("/v1/checkin", body).await,
        StatusCode::UNAUTHORIZED,
        "unknown-device",
    )
    .await;
    // Another device's id with a key that is not its own.
    let body = stranger.sign_as(
        &phone.device_id(),
        typ::CHECKIN,
        &serde_json::to_vec(&payload_of(&out.body)).unwrap(),
    );
    problem(
        s.post_jose("/v1/checkin", body).await,
        StatusCode::UNAUTHORIZED,
        "bad-signature",
    )
    .await;
    // A body whose device_id is not the signer's.
    let body = sign_as_phone(&phone, typ::CHECKIN, &payload);
    problem(
        s.post_jose("/v1/checkin", body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

#[tokio::test]
async fn a_replayed_body_is_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    let out = phone.checkin_body(&s);
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(3600);
    problem(
        s.post_jose("/v1/checkin", out.body.clone()).await,
        StatusCode::CONFLICT,
        "replayed",
    )
    .await;
}

#[tokio::test]
async fn a_stale_body_is_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    // Two bodies built at the same seq_seen; the device then moves on.
    let old = phone.checkin_body(&s);
    let out = phone.checkin_body(&s);
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    let bytes = r.bytes().await.unwrap();
    phone.accept(&s, &out, &bytes);
    s.clock.advance(60);
    phone.checkin(&s).await;
    s.clock.advance(60);
    // The old body reports an older seq_seen than the device already did.
    problem(
        s.post_jose("/v1/checkin", old.body).await,
        StatusCode::CONFLICT,
        "stale",
    )
    .await;
    // A seq_seen the server never issued is invalid.
    let mut payload = payload_of(&phone.checkin_body(&s).body);
    payload["seq_seen"] = json!(1_000_000);
    problem(
        s.post_jose("/v1/checkin", sign_as_phone(&phone, typ::CHECKIN, &payload))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = start().await;
    let (lender, _) = enrolled(&s).await;
    let big = "a".repeat(16 * 1024 + 1);
    for path in ["/v1/checkin", "/v1/enroll"] {
        problem(
            s.post_jose(path, big.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
        )
        .await;
    }
    let r = s
        .http
        .post(format!("{}/v1/lender/devices", s.url))
        .bearer_auth(&lender.api_key)
        .header("content-type", "application/json")
        .body(format!("{{\"x\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "too-large").await;
    // Exactly 16 KiB is read (and then judged on its merits).
    let r = s.post_jose("/v1/checkin", "a".repeat(16 * 1024)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_messages_are_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    for (body, rule) in [
        ("", "jws_not_three_parts"),
        ("not a jws", "jws_not_three_parts"),
        ("a.b", "jws_not_three_parts"),
        ("a.b.c.d", "jws_not_three_parts"),
        ("!!.??.**", "jws_bad_base64"),
        ("e30.e30.AA", "jws_missing_header"),
    ] {
        let v = problem(
            s.post_jose("/v1/checkin", body).await,
            StatusCode::BAD_REQUEST,
            "malformed",
        )
        .await;
        assert_eq!(v["rule"], rule, "{body}");
    }
    let v = problem(
        s.post_jose("/v1/checkin", vec![0xff, 0xfe, b'.', b'a', b'.', b'b'])
            .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    )
    .await;
    assert_eq!(v["rule"], "jws_not_three_parts");
    // Signed, but the payload is not a check-in / not JSON / duplicate keys.
    for (payload, rule) in [
        (&b"[1,2]"[..], "payload_not_object"),
        (&b"{\"v\":1}"[..], "payload_malformed"),
        (&b"{\"v\":1,\"v\":1}"[..], "duplicate_key"),
        (&b"not json"[..], "payload_not_object"),
    ] {
        let en = phone.state.enrolled().unwrap();
        let key = DeviceKey::from_pkcs8(&en.device_key.bytes().unwrap(), None).unwrap();
        let body = key.sign_as(&en.device_id, typ::CHECKIN, payload);
        let v = problem(
            s.post_jose("/v1/checkin", body).await,
            StatusCode::BAD_REQUEST,
            "malformed",
        )
        .await;
        assert_eq!(v["rule"], rule);
    }
    // A later protocol version.
    let mut payload = payload_of(&phone.checkin_body(&s).body);
    payload["v"] = json!(2);
    problem(
        s.post_jose("/v1/checkin", sign_as_phone(&phone, typ::CHECKIN, &payload))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

#[tokio::test]
async fn the_wrong_typ_is_rejected() {
    let s = start().await;
    let (_, mut phone) = enrolled(&s).await;
    let payload = payload_of(&phone.checkin_body(&s).body);
    for t in [typ::ENROLL, typ::ENTITLEMENT, "JWT"] {
        let v = problem(
            s.post_jose("/v1/checkin", sign_as_phone(&phone, t, &payload))
                .await,
            StatusCode::BAD_REQUEST,
            "wrong-typ",
        )
        .await;
        assert_eq!(v["rule"], "jws_wrong_typ");
    }
    // A check-in body sent to the enrollment endpoint.
    let v = problem(
        s.post_jose("/v1/enroll", phone.checkin_body(&s).body).await,
        StatusCode::BAD_REQUEST,
        "wrong-typ",
    )
    .await;
    assert_eq!(v["rule"], "jws_wrong_typ");
}

#[tokio::test]
async fn check_ins_are_rate_limited_per_device() {
    let s = start().await;
    let (lender, mut phone) = enrolled(&s).await;
    phone.checkin(&s).await;
    s.clock.advance(4);
    let out = phone.checkin_body(&s);
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.headers().get("retry-after").unwrap(), "6");
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate-limited").await;
    // Another device is not affected.
    let (_, code) = s.register(&lender, json!({})).await;
    let mut other = SimDevice::new(&s, &lender);
    other.enroll(&s, &code).await;
    other.checkin(&s).await;
    // After the interval the same body goes through (the 429 did not burn its nonce).
    s.clock.advance(6);
    let r = s.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    phone.accept(&s, &out, &bytes);
}

#[tokio::test]
async fn the_rate_limit_is_configurable() {
    let s = start_with(|c| c.checkin_min_interval_s = 0).await;
    let (_, mut phone) = enrolled(&s).await;
    for _ in 0..3 {
        phone.checkin(&s).await;
    }
}
