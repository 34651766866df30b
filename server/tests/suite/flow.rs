//! The whole lender flow with a real device core on the other end.

use finlock_core::protocol::{EntitlementState, InstallmentStatus, LockReason, UrlPolicy};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, SimDevice, T0, problem};

#[tokio::test]
async fn the_whole_lender_flow() {
    let s = start().await;
    let lender = s.lender("Acme Credit").await;
    let (id, code) = s.register(&lender, json!({})).await;

    let v = s.device(&lender, &id).await;
    assert_eq!(v["enrolled"], false);
    assert_eq!(v["state"], "current");
    assert_eq!(v["total_minor"], 6000);
    assert_eq!(v["lock_at"], T0 + 37 * DAY);

    // Enrollment: the device pins the lender keys and accepts the first entitlement.
    let mut phone = SimDevice::new(&s, &lender);
    let e = phone.enroll(&s, &code).await;
    assert_eq!(phone.device_id(), id);
    assert_eq!(e.iss, lender.id);
    assert_eq!(e.state, EntitlementState::Active);
    assert_eq!(e.lock_at, T0 + 37 * DAY);
    assert_eq!(e.lender.name, "Acme Credit");
    assert_eq!(e.offline_lock_after_s, Some(30 * DAY as u64));
    assert!(e.next_checkin > T0 && e.next_checkin <= T0 + 6 * 3600 + 2160);
    assert_eq!(s.device(&lender, &id).await["enrolled"], true);

    // A check-in: a new seq, the nonce echoed.
    s.clock.advance(3600);
    let e2 = phone.checkin(&s).await;
    assert!(e2.seq > e.seq);

    // First installment paid: lock_at moves to the second due date + grace.
    let r = s.pay(&lender, &id, 1000, "p1").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["paid_minor"], 1000);
    s.clock.advance(3600);
    let e3 = phone.checkin(&s).await;
    assert_eq!(e3.lock_at, T0 + 67 * DAY);
    assert_eq!(e3.account.installments[0].status, InstallmentStatus::Paid);

    // The second installment is missed: overdue, then locked by time on the device.
    s.clock.set(T0 + 61 * DAY);
    let e4 = phone.checkin(&s).await;
    assert_eq!(
        e4.account.installments[1].status,
        InstallmentStatus::Overdue
    );
    assert_eq!(e4.account.amount_due_minor, 1000);
    assert_eq!(s.device(&lender, &id).await["state"], "overdue");
    assert!(!phone.locked(&s));
    s.clock.set(T0 + 68 * DAY);
    let e5 = phone.checkin(&s).await;
    assert!(
        e5.next_checkin <= s.now() + 3600 + 360,
        "hourly when locked"
    );
    assert_eq!(s.device(&lender, &id).await["state"], "locked");
    // Past lock_at, the phone holds at its notice until the notice page has been on it for
    // a day of its running time; then it is locked by lock_at.
    phone.notice_then_a_day(&s);
    assert!(phone.locked(&s), "locked by lock_at");
    assert_eq!(s.device(&lender, &id).await["state"], "locked");

    // Paying the overdue installment unlocks at the next check-in.
    assert_eq!(
        s.pay(&lender, &id, 1000, "p2").await.status(),
        StatusCode::CREATED
    );
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert!(!phone.locked(&s));

    // Lender lock and unlock.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "Please call us" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(60);
    let e6 = phone.checkin(&s).await;
    assert_eq!(e6.state, EntitlementState::Locked);
    assert_eq!(e6.lock_reason, Some(LockReason::LenderRequest));
    assert_eq!(e6.message_for("en"), Some("Please call us"));
    // The paid episode ended the last notice: the lender's lock gives one of its own.
    phone.notice_then_a_day(&s);
    assert!(phone.locked(&s));
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(60);
    assert_eq!(phone.checkin(&s).await.state, EntitlementState::Active);
    assert!(!phone.locked(&s));

    // Paid in full: completing for the lender's window (48 h, ADR 0012), then released,
    // terminal.
    let r = s.pay(&lender, &id, 4000, "p3").await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["released"], false);
    assert_eq!(p["release_at"], s.now() + 48 * 3600);
    s.clock.advance(48 * 3600);
    let e7 = phone.checkin(&s).await;
    assert_eq!(e7.state, EntitlementState::Released);
    let v = s.device(&lender, &id).await;
    assert_eq!(v["state"], "released");
    assert_eq!(v["lock_at"], Value::Null);
    problem(
        s.post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "x" }),
        )
        .await,
        StatusCode::CONFLICT,
        "released",
    )
    .await;
    problem(
        s.pay(&lender, &id, 1, "p4").await,
        StatusCode::CONFLICT,
        "released",
    )
    .await;

    // Every later answer is the released entitlement, with a new seq.
    s.clock.advance(60);
    let out = phone.checkin_body(&s);
    let r = s.post_jose("/v1/checkin", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let compact = v["entitlement"].as_str().unwrap();
    let keys = lender.keys();
    let verified =
        finlock_core::jws::verify(compact, finlock_core::jws::typ::ENTITLEMENT, &keys).unwrap();
    let e8: finlock_core::protocol::Entitlement =
        finlock_core::protocol::decode_payload(&verified.payload).unwrap();
    assert_eq!(e8.state, EntitlementState::Released);
    assert!(e8.seq > e7.seq);

    // Seq strictly increasing across everything the device received; all valid.
    let seqs: Vec<u64> = phone.received.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for e in &phone.received {
        e.validate(UrlPolicy::STRICT).unwrap();
    }

    // The audit log tells the story.
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions,
        [
            "registered",
            "enrolled",
            "payment",
            "payment",
            "locked",
            "unlocked",
            "payment",
            "completing",
            "released"
        ]
    );
    let r = s
        .get(&lender, &format!("/v1/lender/devices/{id}/audit"))
        .await;
    let a: Value = r.json().await.unwrap();
    let entries = a["entries"].as_array().unwrap();
    assert_eq!(entries[0]["actor"], format!("lender:{}", lender.id));
    assert_eq!(entries[1]["actor"], "device");
    assert_eq!(entries[7]["actor"], "system");
    assert!(
        entries
            .windows(2)
            .all(|w| w[0]["n"].as_i64() < w[1]["n"].as_i64())
    );

    // Payments are listed once each.
    let r = s
        .get(&lender, &format!("/v1/lender/devices/{id}/payments"))
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["payments"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn offline_code_unlocks_a_device_and_the_counter_follows() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.set(T0 + 40 * DAY);
    phone.notice_then_a_day(&s);
    assert!(phone.locked(&s));

    for round in 0..2 {
        let challenge = phone.state.offline_challenge().unwrap();
        let r = s
            .post(
                &lender,
                &format!("/v1/lender/devices/{id}/offline-code"),
                json!({ "challenge": challenge, "days": 3 }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["counter"], round);
        let clock = phone.clock(&s);
        let accepted = phone
            .state
            .enter_offline_code(v["code"].as_str().unwrap(), &clock)
            .expect("the device accepts the lender's code");
        assert_eq!(accepted.days, 3);
        assert!(!phone.locked(&s));
        // The device reports the use; the server's search window moves on.
        s.clock.advance(60);
        phone.checkin(&s).await;
    }
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "offline_code_used").count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "offline_code_issued")
            .count(),
        2
    );

    // A challenge that is not this device's, bad days, a malformed challenge.
    let bad = |body: Value| {
        let s = &s;
        let lender = &lender;
        let id = id.clone();
        async move {
            s.post(
                lender,
                &format!("/v1/lender/devices/{id}/offline-code"),
                body,
            )
            .await
        }
    };
    problem(
        bad(json!({ "challenge": "00000000", "days": 3 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    let challenge = phone.state.offline_challenge().unwrap();
    problem(
        bad(json!({ "challenge": challenge, "days": 5 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        bad(json!({ "challenge": "12ab", "days": 3 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

#[tokio::test]
async fn enrollment_retry_rebinding_and_one_time_codes() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;

    // The first answer is lost: the phone retries with the same key and gets an answer.
    let mut phone = SimDevice::new(&s, &lender);
    let lost = phone.enroll_body(Some(&code), None);
    let r = s.post_jose("/v1/enroll", lost.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    // Replaying that very body is refused (it would hand out the offline secret).
    problem(
        s.post_jose("/v1/enroll", lost.body).await,
        StatusCode::CONFLICT,
        "replayed",
    )
    .await;
    phone.enroll(&s, &code).await;
    assert_eq!(phone.device_id(), id);
    assert_eq!(
        first["offline_secret"],
        finlock_core::b64::encode(
            phone
                .state
                .enrolled()
                .unwrap()
                .offline_secret
                .bytes()
                .unwrap()
        )
    );

    // Another phone with the used code, once the retry window is over: refused.
    s.clock
        .advance(finlock_server::enrollment::CODE_RETRY_WINDOW_S + 1);
    let mut other = SimDevice::new(&s, &lender);
    let out = other.enroll_body(Some(&code), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::CONFLICT,
        "enrollment-code-used",
    )
    .await;
    // An unknown code.
    let out = other.enroll_body(Some("ZZZZ-ZZZZ-ZZZZ"), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;

    // A factory-reset phone asks by IMEI: without hardware proof it waits for the
    // lender's approval (202, nothing revealed); the lender approves its key; the
    // phone's next try binds.
    let imei = "356938035643809";
    let (id2, code2) = s
        .register(&lender, json!({ "imei": imei, "auto_reprovision": true }))
        .await;
    let mut before = SimDevice::new(&s, &lender);
    before.enroll(&s, &code2).await;
    let mut after_reset = SimDevice::new(&s, &lender);
    let out = after_reset.enroll_body(None, Some(imei));
    let r = s.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let requests: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id2}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .unwrap();
    let rid = requests["requests"][0]["request_id"].as_str().unwrap();
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id2}/enrollment-requests/{rid}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    s.clock.advance(60);
    let out = after_reset.enroll_body(None, Some(imei));
    let r = s.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let clock = after_reset.clock(&s);
    after_reset
        .state
        .complete_enrollment(&bytes, &clock)
        .unwrap();
    assert_eq!(after_reset.device_id(), id2);
    // The old key no longer checks in; the new one does.
    s.clock.advance(60);
    let stale = before.checkin_body(&s);
    problem(
        s.post_jose("/v1/checkin", stale.body).await,
        StatusCode::UNAUTHORIZED,
        "bad-signature",
    )
    .await;
    after_reset.checkin(&s).await;
    let actions = s.audit_actions(&lender, &id2).await;
    assert_eq!(
        actions,
        [
            "registered",
            "enrolled",
            "enrollment_approved",
            "reprovisioned"
        ]
    );
}

/// A code survives a failed try (issue 12): a phone whose first answer was unusable
/// enrolls again with a new key within the window; after the first check-in the code is
/// used up; a reissued code binds a new phone once, and the old code stops working.
#[tokio::test]
async fn codes_survive_a_failed_try_and_can_be_reissued() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, code) = s.register(&lender, json!({})).await;

    // The first try: the server bound a key, but the phone could not use the answer
    // (kept here only to sign with the abandoned key later).
    let mut first = SimDevice::new(&s, &lender);
    let out = first.enroll_body(Some(&code), None);
    let r = s.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let clock = first.clock(&s);
    first.state.complete_enrollment(&bytes, &clock).unwrap();
    // The phone tries again with a fresh key, minutes later: accepted.
    s.clock.advance(5 * 60);
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    assert_eq!(phone.device_id(), id);
    // The first key was never used and is out.
    s.clock.advance(60);
    let stale = first.checkin_body(&s);
    assert_eq!(
        s.post_jose("/v1/checkin", stale.body).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The first check-in consumes the code, even within the window.
    phone.checkin(&s).await;
    let mut thief = SimDevice::new(&s, &lender);
    let out = thief.enroll_body(Some(&code), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::CONFLICT,
        "enrollment-code-used",
    )
    .await;

    // The phone is replaced: the lender reissues the code.
    s.clock.advance(3600);
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-code"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new_code = r.json::<Value>().await.unwrap()["enrollment_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_code, code);
    // The old code no longer names the device.
    let mut late = SimDevice::new(&s, &lender);
    let out = late.enroll_body(Some(&code), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    s.clock.advance(60);
    let mut replacement = SimDevice::new(&s, &lender);
    replacement.enroll(&s, &new_code).await;
    assert_eq!(replacement.device_id(), id);
    s.clock.advance(60);
    replacement.checkin(&s).await;
    // Once bound and checked in, the reissued code is used up like any other.
    s.clock.advance(3600);
    let mut another = SimDevice::new(&s, &lender);
    let out = another.enroll_body(Some(&new_code), None);
    problem(
        s.post_jose("/v1/enroll", out.body).await,
        StatusCode::CONFLICT,
        "enrollment-code-used",
    )
    .await;
    let actions = s.audit_actions(&lender, &id).await;
    assert_eq!(
        actions,
        [
            "registered",
            "enrolled",
            "enrollment_retried",
            "enrollment_code_reissued",
            "enrolled_with_reissued_code"
        ]
    );
    // A released device gets no new code.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-code"),
            json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "released").await;
}
