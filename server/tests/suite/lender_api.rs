//! The lender API: authentication, isolation between lenders, idempotent payments,
//! validation, listing, provisioning.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, SimDevice, T0, problem};

#[tokio::test]
async fn requests_without_a_valid_api_key_get_401() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    for auth in [
        None,
        Some("Bearer nope"),
        Some("Bearer flk_AAAA"),
        Some("Basic abc"),
    ] {
        let mut req = s.http.get(format!("{}/v1/lender/devices/{id}", s.url));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
        problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn another_lender_can_neither_read_nor_change_a_device() {
    let s = start().await;
    let a = s.lender("Lender A").await;
    let b = s.lender("Lender B").await;
    let (id, code) = s.register(&a, json!({})).await;
    let mut phone = SimDevice::new(&s, &a);
    phone.enroll(&s, &code).await;
    let before = s.device(&a, &id).await;
    let audit_before = s.audit_actions(&a, &id).await;

    let base = format!("/v1/lender/devices/{id}");
    let gets = [
        "",
        "/audit",
        "/payments",
        "/provisioning",
        "/provisioning?format=png",
    ];
    for suffix in gets {
        problem(
            s.get(&b, &format!("{base}{suffix}")).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    let posts = [
        ("/lock", json!({ "reason": "mine now" })),
        ("/unlock", json!({})),
        ("/release", json!({})),
        (
            "/offline-code",
            json!({ "challenge": "12345678", "days": 1 }),
        ),
    ];
    for (suffix, body) in posts {
        problem(
            s.post(&b, &format!("{base}{suffix}"), body).await,
            StatusCode::NOT_FOUND,
            "not-found",
        )
        .await;
    }
    problem(
        s.pay(&b, &id, 1000, "k").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // The answer is the same as for an id that does not exist at all.
    problem(
        s.get(&b, "/v1/lender/devices/dev-nope").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    // B's list does not show it.
    let r = s.get(&b, "/v1/lender/devices").await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["devices"].as_array().unwrap().len(), 0);

    // Nothing changed for A.
    assert_eq!(s.device(&a, &id).await, before);
    assert_eq!(s.audit_actions(&a, &id).await, audit_before);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_count_once() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let http = s.http.clone();
            let url = format!("{}/v1/lender/devices/{id}/payments", s.url);
            let key = lender.api_key.clone();
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .header("Idempotency-Key", "same-key")
                    .json(
                        &json!({ "amount_minor": 700, "currency": "KES", "reference": "mpesa-1" }),
                    )
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::CREATED);
    assert_eq!(s.device(&lender, &id).await["paid_minor"], 700);
    let r = s
        .get(&lender, &format!("/v1/lender/devices/{id}/payments"))
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["payments"].as_array().unwrap().len(), 1);
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(actions.iter().filter(|a| *a == "payment").count(), 1);

    // The same key for a different payment is refused; a missing key too.
    let r = s
        .http
        .post(format!("{}/v1/lender/devices/{id}/payments", s.url))
        .bearer_auth(&lender.api_key)
        .header("Idempotency-Key", "same-key")
        .json(&json!({ "amount_minor": 701, "currency": "KES", "reference": "mpesa-1" }))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT, "idempotency-key-reused").await;
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/payments"),
            json!({ "amount_minor": 1, "currency": "KES", "reference": "x" }),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST, "bad-request").await;
    // Wrong currency, zero amount.
    let r = s
        .http
        .post(format!("{}/v1/lender/devices/{id}/payments", s.url))
        .bearer_auth(&lender.api_key)
        .header("Idempotency-Key", "k2")
        .json(&json!({ "amount_minor": 5, "currency": "USD", "reference": "x" }))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
}

#[tokio::test]
async fn invalid_registrations_are_refused_with_the_field() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let cases = [
        (
            json!({ "plan": { "currency": "kes", "grace_days": 1, "installments": [{ "due": T0, "amount_minor": 1 }] } }),
            "plan.currency",
        ),
        (
            json!({ "plan": { "currency": "KES", "grace_days": 1, "installments": [] } }),
            "plan.installments",
        ),
        (
            json!({ "plan": { "currency": "KES", "grace_days": 1, "offline_lock_after_days": 0, "installments": [{ "due": T0, "amount_minor": 1 }] } }),
            "plan.offline_lock_after_days",
        ),
        (
            json!({ "plan": { "currency": "KES", "grace_days": 1, "installments": [{ "due": T0, "amount_minor": 0 }] } }),
            "plan.installments[0].amount_minor",
        ),
        (
            json!({ "plan": { "currency": "KES", "grace_days": 1, "installments": [{ "due": T0 + DAY, "amount_minor": 1 }, { "due": T0, "amount_minor": 1 }] } }),
            "plan.installments[1].due",
        ),
        (
            json!({ "imei": "12", "plan": { "currency": "KES", "grace_days": 1, "installments": [{ "due": T0, "amount_minor": 1 }] } }),
            "imei",
        ),
        (
            json!({ "plan": { "currency": "KES", "grace_days": 1, "installments": [{ "due": T0, "amount_minor": 1 }] },
                 "reminders": { "offsets_s": [], "hour_local": 30, "quiet_start": "21:00", "quiet_end": "08:00", "overdue_every_s": 0 } }),
            "reminders.hour_local",
        ),
    ];
    for (body, field) in cases {
        let v = problem(
            s.post(&lender, "/v1/lender/devices", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(v["detail"].as_str().unwrap().starts_with(field), "{v}");
    }
    // Syntax errors name the path; unknown fields are refused.
    let v = problem(
        s.post(
            &lender,
            "/v1/lender/devices",
            json!({ "plan": { "currency": 5 } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    )
    .await;
    assert!(
        v["detail"].as_str().unwrap().contains("plan.currency"),
        "{v}"
    );
    problem(
        s.post(
            &lender,
            "/v1/lender/devices",
            json!({ "plan": super::super::common::plan(), "colour": "red" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    )
    .await;
    let r = s
        .http
        .post(format!("{}/v1/lender/devices", s.url))
        .bearer_auth(&lender.api_key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "bad-request").await;
    // Custom reminders reach the device.
    let reminders = json!({ "offsets_s": [7 * DAY], "hour_local": 10, "quiet_start": "22:00",
                            "quiet_end": "07:00", "overdue_every_s": 2 * DAY });
    let (_, code) = s.register(&lender, json!({ "reminders": reminders })).await;
    let mut phone = SimDevice::new(&s, &lender);
    let e = phone.enroll(&s, &code).await;
    assert_eq!(e.reminders.offsets_s, vec![7 * DAY]);
    assert_eq!(e.reminders.hour_local, 10);
}

#[tokio::test]
async fn devices_are_listed_filtered_and_paginated() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.register(&lender, json!({})).await.0);
    }
    ids.sort();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{}/lock", ids[3]),
            json!({ "reason": "r" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = s
            .get(
                &lender,
                &format!("/v1/lender/devices?limit=2&cursor={cursor}"),
            )
            .await;
        let page: Value = r.json().await.unwrap();
        for d in page["devices"].as_array().unwrap() {
            seen.push(d["device_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let r = s.get(&lender, "/v1/lender/devices?state=locked").await;
    let page: Value = r.json().await.unwrap();
    let locked: Vec<_> = page["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].clone())
        .collect();
    assert_eq!(locked, vec![json!(ids[3])]);
    let r = s
        .get(&lender, "/v1/lender/devices?state=current&limit=3")
        .await;
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["devices"].as_array().unwrap().len(), 3);
    problem(
        s.get(&lender, "/v1/lender/devices?state=nope").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        s.get(&lender, "/v1/lender/devices?limit=x").await,
        StatusCode::BAD_REQUEST,
        "bad-request",
    )
    .await;
}

#[tokio::test]
async fn provisioning_payload_and_qr_images() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let base = format!("/v1/lender/devices/{id}/provisioning");
    let r = s.get(&lender, &base).await;
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    let p: Value = r.json().await.unwrap();
    assert!(p["android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME"].is_string());
    let bundle = &p["android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE"];
    assert_eq!(bundle["finlock.enrollment_code"], code);
    assert_eq!(bundle["finlock.server_url"], s.url);
    let keys = finlock_core::keys::KeySet::from_json(
        bundle["finlock.lender_keys"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(keys, lender.keys());

    // What a phone provisioned from this payload does: pin, enroll, accept.
    let mut phone = finlock_core::device::DeviceState::default();
    phone
        .provision(bundle["finlock.server_url"].as_str().unwrap(), keys, true)
        .unwrap();

    let r = s.get(&lender, &format!("{base}?format=png")).await;
    assert_eq!(r.headers().get("content-type").unwrap(), "image/png");
    let bytes = r.bytes().await.unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("decodes");
    assert!(info.width >= 100 && info.width == info.height);
    assert!(buf.contains(&0) && buf.contains(&255));

    let r = s.get(&lender, &format!("{base}?format=svg")).await;
    assert_eq!(r.headers().get("content-type").unwrap(), "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));

    problem(
        s.get(&lender, &format!("{base}?format=gif")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

/// One owner per IMEI (issue 12): another lender cannot capture a financed phone by
/// registering its IMEI, the same lender cannot register it twice, and release frees it.
#[tokio::test]
async fn an_imei_has_one_owner_until_released() {
    let s = start().await;
    let a = s.lender("Acme").await;
    let b = s.lender("Beta").await;
    let imei = "35-693803-564380-9";
    let (id, code) = s
        .register(&a, json!({ "imei": imei, "auto_reprovision": true }))
        .await;
    let mut phone = SimDevice::new(&s, &a);
    phone.enroll(&s, &code).await;
    let with_imei = |imei: &str| json!({ "imei": imei, "plan": crate::common::plan() });

    // Another lender, with the IMEI typed another way: refused, naming no lender.
    let r = s
        .post(&b, "/v1/lender/devices", with_imei("356938035643809"))
        .await;
    let p = problem(r, StatusCode::CONFLICT, "imei-taken").await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        !detail.contains("Acme") && !detail.contains(&a.id),
        "{detail}"
    );
    // Nothing was stored for B.
    let listed: Value = s.get(&b, "/v1/lender/devices").await.json().await.unwrap();
    assert_eq!(listed["devices"], json!([]));

    // The same lender twice.
    let r = s.post(&a, "/v1/lender/devices", with_imei(imei)).await;
    problem(r, StatusCode::CONFLICT, "imei-registered").await;

    // The real phone still checks in, and its enrollment by IMEI still finds A's device.
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert_eq!(s.audit_actions(&a, &id).await, ["registered", "enrolled"]);

    // Released: the IMEI is free for a new sale, by anyone.
    let r = s
        .post(&a, &format!("/v1/lender/devices/{id}/release"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.post(&b, "/v1/lender/devices", with_imei(imei)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Named API keys (issue 12): created, listed without secrets, rotated and revoked;
/// the audit log names the key that acted; another lender's key is out of reach.
#[tokio::test]
async fn api_keys_are_named_rotated_and_revoked() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let other = s.lender("Beta").await;
    let call = |key: String, method: &str, path: &str| {
        let url = format!("{}{path}", s.url);
        let req = match method {
            "get" => s.http.get(url),
            _ => s.http.post(url).json(&json!({})),
        };
        req.header("authorization", format!("bearer {key}")).send()
    };

    // Create a key for the shop till (lower-case scheme: RFC 9110 says it is case-insensitive).
    let r = s
        .http
        .post(format!("{}/v1/lender/api-keys", s.url))
        .header("authorization", format!("bearer {}", lender.api_key))
        .json(&json!({ "name": "Shop 12 till" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let till: Value = r.json().await.unwrap();
    let till_key = till["api_key"].as_str().unwrap().to_string();
    let till_id = till["key_id"].as_str().unwrap().to_string();

    // The till's key works, and the audit log says which key registered the device.
    let r = s
        .http
        .post(format!("{}/v1/lender/devices", s.url))
        .bearer_auth(&till_key)
        .json(&json!({ "plan": crate::common::plan() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    let audit: Value = s
        .get(&lender, &format!("/v1/lender/devices/{id}/audit"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["entries"][0]["api_key_id"], till_id.as_str());
    assert_eq!(
        audit["entries"][0]["actor"],
        format!("lender:{}", lender.id)
    );

    // Listing never shows a secret.
    let listed = call(lender.api_key.clone(), "get", "/v1/lender/api-keys")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains("Shop 12 till") && listed.contains("initial"));
    assert!(
        !listed.contains(&till_key) && !listed.contains("flk_"),
        "{listed}"
    );

    // Another lender cannot see, rotate or revoke it: 404 like a missing key.
    for action in ["rotate", "revoke"] {
        let r = call(
            other.api_key.clone(),
            "post",
            &format!("/v1/lender/api-keys/{till_id}/{action}"),
        )
        .await
        .unwrap();
        problem(r, StatusCode::NOT_FOUND, "not-found").await;
    }

    // Rotation: the new secret works, the old one stops at once.
    let r = call(
        lender.api_key.clone(),
        "post",
        &format!("/v1/lender/api-keys/{till_id}/rotate"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated: Value = r.json().await.unwrap();
    assert_eq!(rotated["name"], "Shop 12 till");
    let new_key = rotated["api_key"].as_str().unwrap().to_string();
    let r = call(till_key.clone(), "get", "/v1/lender/devices")
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = call(new_key.clone(), "get", "/v1/lender/devices")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Revoking the initial key from the new one; then the last key cannot go.
    let keys: Value = call(new_key.clone(), "get", "/v1/lender/api-keys")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let initial = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "initial")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(
        new_key.clone(),
        "post",
        &format!("/v1/lender/api-keys/{initial}/revoke"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = call(lender.api_key.clone(), "get", "/v1/lender/devices")
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let new_id = rotated["key_id"].as_str().unwrap();
    let r = call(
        new_key.clone(),
        "post",
        &format!("/v1/lender/api-keys/{new_id}/revoke"),
    )
    .await
    .unwrap();
    problem(r, StatusCode::CONFLICT, "last-key").await;
    // A bad name is refused with the field named.
    let r = s
        .http
        .post(format!("{}/v1/lender/api-keys", s.url))
        .bearer_auth(&new_key)
        .json(&json!({ "name": "two\nlines" }))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;
}
