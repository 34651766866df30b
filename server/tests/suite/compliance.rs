//! Compliance profiles over real HTTP (docs/COMPLIANCE.md): each shipped profile refuses
//! what it forbids (422 `compliance`, `rule` naming the profile's key) and stores nothing
//! then, allows what it allows, and the phone receives the ladder the profile bounds.

use finlock_core::protocol::EntitlementState;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::start;
use crate::common::{DAY, Lender, SimDevice, T0, TestServer, problem};

/// The first due date of [`plan`].
const DUE: i64 = T0 + 30 * DAY;

fn plan(grace_days: u32, offline: Option<u32>) -> Value {
    let installments: Vec<Value> = (1..=3)
        .map(|i| json!({ "due": T0 + i * 30 * DAY, "amount_minor": 1000 }))
        .collect();
    let mut p =
        json!({ "currency": "KES", "grace_days": grace_days, "installments": installments });
    if let Some(days) = offline {
        p["offline_lock_after_days"] = json!(days);
    }
    p
}

async fn put(s: &TestServer, lender: &Lender, body: Value) -> Response {
    s.http
        .put(format!("{}/v1/lender/compliance", s.url))
        .bearer_auth(&lender.api_key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn select(s: &TestServer, lender: &Lender, profile: &str) {
    let r = put(s, lender, json!({ "profile": profile })).await;
    assert_eq!(r.status(), StatusCode::OK, "selecting {profile}");
}

async fn selected(s: &TestServer, lender: &Lender) -> Value {
    let r = s.get(lender, "/v1/lender/compliance").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

async fn device_count(s: &TestServer, lender: &Lender) -> usize {
    let r = s.get(lender, "/v1/lender/devices").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["devices"].as_array().expect("devices").len()
}

async fn register(s: &TestServer, lender: &Lender, body: Value) -> Response {
    s.post(lender, "/v1/lender/devices", body).await
}

/// Asserts a 422 `compliance` naming `rule` and `profile`.
async fn refused(r: Response, profile: &str, rule: &str) {
    let v = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "compliance").await;
    assert_eq!(v["rule"], rule, "{v}");
    let detail = v["detail"].as_str().expect("detail");
    assert!(detail.contains(profile), "{detail}");
}

/// Registration under `profile`: each body in `refused_with` is refused with its rule and
/// nothing is stored; `allowed` is registered.
async fn registration_under(profile: &str, refused_with: Vec<(Value, &str)>, allowed: Value) {
    let s = start().await;
    let lender = s.lender("Acme").await;
    select(&s, &lender, profile).await;
    for (body, rule) in refused_with {
        refused(register(&s, &lender, body).await, profile, rule).await;
        assert_eq!(
            device_count(&s, &lender).await,
            0,
            "{profile}: nothing stored"
        );
    }
    let r = register(&s, &lender, allowed).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{profile}");
    assert_eq!(device_count(&s, &lender).await, 1);
}

#[tokio::test]
async fn the_shipped_profiles_are_listed_without_a_key_and_permissive_is_the_default() {
    let s = start().await;
    let r = s
        .http
        .get(format!("{}/v1/compliance/profiles", s.url))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    let ids: Vec<&str> = v["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "permissive",
            "in-rbi-draft",
            "br-ce",
            "ph-sec-mc18",
            "graded"
        ]
    );
    for p in v["profiles"].as_array().expect("profiles") {
        assert!(p["sources"][0]["date"].is_string(), "{p}");
    }
    let lender = s.lender("Acme").await;
    assert_eq!(
        selected(&s, &lender).await,
        json!({ "profile": "permissive", "payment_apps": [] })
    );
}

#[tokio::test]
async fn selecting_a_profile_is_audited_and_a_bad_selection_stores_nothing() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    for (body, field) in [
        (json!({ "profile": "nowhere" }), "profile"),
        (
            json!({ "profile": "br-ce", "payment_apps": ["mpesa"] }),
            "payment_apps[0]",
        ),
        (
            json!({ "profile": "br-ce", "payment_apps": ["a.b", "a.b"] }),
            "payment_apps[1]",
        ),
    ] {
        let v = problem(
            put(&s, &lender, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        )
        .await;
        assert!(
            v["detail"].as_str().expect("detail").starts_with(field),
            "{v}"
        );
    }
    assert_eq!(selected(&s, &lender).await["profile"], "permissive");
    let body = json!({ "profile": "br-ce", "payment_apps": ["com.example.pay"] });
    let r = put(&s, &lender, body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(selected(&s, &lender).await, body);
    let log = lender_log(&s, &lender).await;
    let entry = log
        .iter()
        .find(|(action, _)| action == "compliance.set")
        .expect("an entry");
    assert_eq!(entry.1["profile_before"], "permissive");
    assert_eq!(entry.1["profile"], "br-ce");
    // Without a key: 401, as every lender route.
    let r = s
        .http
        .get(format!("{}/v1/lender/compliance", s.url))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn permissive_registers_what_it_did_before() {
    registration_under("permissive", vec![], json!({ "plan": plan(0, Some(1)) })).await;
}

#[tokio::test]
async fn rbi_draft_refuses_a_restriction_before_90_days_and_any_full_lock() {
    registration_under(
        "in-rbi-draft",
        vec![
            (
                json!({ "plan": plan(89, None) }),
                "restricted.min_days_past_due",
            ),
            (json!({ "plan": plan(120, Some(30)) }), "locked.allowed"),
        ],
        json!({ "plan": plan(90, None) }),
    )
    .await;
}

#[tokio::test]
async fn br_ce_refuses_a_restriction_before_its_notice_and_any_full_lock() {
    registration_under(
        "br-ce",
        vec![
            (json!({ "plan": plan(3, None) }), "notice.min_days"),
            (json!({ "plan": plan(7, Some(30)) }), "locked.allowed"),
        ],
        json!({ "plan": plan(4, None) }),
    )
    .await;
}

#[tokio::test]
async fn ph_refuses_reminders_that_are_not_quiet_from_22_to_6() {
    let reminders = |start: &str, end: &str| {
        json!({ "offsets_s": [DAY], "hour_local": 9, "quiet_start": start, "quiet_end": end,
                "overdue_every_s": DAY })
    };
    registration_under(
        "ph-sec-mc18",
        vec![(
            json!({ "plan": plan(7, Some(30)), "reminders": reminders("23:00", "07:00") }),
            "reminders.quiet_hours",
        )],
        json!({ "plan": plan(7, Some(30)), "reminders": reminders("21:30", "06:30") }),
    )
    .await;
}

#[tokio::test]
async fn a_reschedule_the_profile_forbids_is_refused_and_the_plan_stays() {
    // Registered under permissive (grace 30), then the lender chose the RBI draft's profile.
    let s = start().await;
    let lender = s.lender("Acme").await;
    let r = register(&s, &lender, json!({ "plan": plan(30, None) })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["device_id"]
        .as_str()
        .expect("id")
        .to_string();
    select(&s, &lender, "in-rbi-draft").await;
    let before = s.device(&lender, &id).await;
    let audit_before = s.audit_actions(&lender, &id).await;
    let patch = |grace: u32| json!({ "plan": plan(grace, None), "reason": "agreed by phone" });
    let send = |body: Value| {
        s.http
            .patch(format!("{}/v1/lender/devices/{id}", s.url))
            .bearer_auth(&lender.api_key)
            .json(&body)
            .send()
    };
    // A later lock than today's, but a restriction before 90 days past due.
    let r = send(patch(60)).await.expect("request");
    refused(r, "in-rbi-draft", "restricted.min_days_past_due").await;
    assert_eq!(s.device(&lender, &id).await, before, "nothing stored");
    assert_eq!(s.audit_actions(&lender, &id).await, audit_before);
    let r = send(patch(100)).await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lender_lock_is_refused_where_the_profile_forbids_it_and_allowed_elsewhere() {
    let s = start().await;
    for (profile, grace, allowed) in [
        ("in-rbi-draft", 90, false),
        ("br-ce", 4, false),
        ("ph-sec-mc18", 7, true),
        ("permissive", 7, true),
    ] {
        let lender = s.lender(profile).await;
        select(&s, &lender, profile).await;
        let r = register(&s, &lender, json!({ "plan": plan(grace, None) })).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.expect("json")["device_id"]
            .as_str()
            .expect("id")
            .to_string();
        let r = s
            .post(
                &lender,
                &format!("/v1/lender/devices/{id}/lock"),
                json!({ "reason": "Please call us" }),
            )
            .await;
        if allowed {
            assert_eq!(r.status(), StatusCode::OK, "{profile}");
        } else {
            refused(r, profile, "lender_lock.allowed").await;
        }
        assert_eq!(
            s.device(&lender, &id).await["lender_locked"],
            allowed,
            "{profile}: stored only when allowed"
        );
    }
}

#[tokio::test]
async fn a_profile_forbidding_lender_locks_is_refused_while_a_phone_is_lender_locked() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/lock"),
            json!({ "reason": "Please call us" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    refused(
        put(&s, &lender, json!({ "profile": "in-rbi-draft" })).await,
        "in-rbi-draft",
        "lender_lock.allowed",
    )
    .await;
    assert_eq!(selected(&s, &lender).await["profile"], "permissive");
    assert!(lender_log(&s, &lender).await.is_empty(), "nothing audited");
}

#[tokio::test]
async fn the_phone_receives_the_ladder_its_lenders_profile_bounds() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let r = put(
        &s,
        &lender,
        json!({ "profile": "in-rbi-draft", "payment_apps": ["com.example.pay"] }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = register(&s, &lender, json!({ "plan": plan(90, None) })).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = r.json::<Value>().await.expect("json")["enrollment_code"]
        .as_str()
        .expect("code")
        .to_string();
    let mut phone = SimDevice::new(&s, &lender);
    // The phone's own core accepted it: the ladder passed the device's field rules.
    let e = phone.enroll(&s, &code).await;
    assert_eq!(e.state, EntitlementState::Active);
    let x = e.escalation.expect("a signed ladder");
    assert_eq!(x.notice_at, DUE + 60 * DAY);
    assert_eq!(x.restrict_at, Some(DUE + 90 * DAY));
    assert_eq!(x.notice_min_s, Some(21 * DAY as u64));
    assert_eq!(x.payment_apps, ["com.example.pay"]);
    assert!(x.private_details && !x.essentials.is_empty());
    assert!(e.lock_at > DUE + 365 * DAY, "never a full lock");
    assert_eq!(e.offline_lock_after_s, None);
    // The lender switches back without payment apps: at the next check-in this node signs
    // the permissive ladder, which is exactly what an absent ladder means (§3.7).
    select(&s, &lender, "permissive").await;
    let e = phone.checkin(&s).await;
    assert_eq!(e.escalation, None);
    assert_eq!(e.lock_at, DUE + 90 * DAY);
    let x = e.ladder();
    assert_eq!((x.notice_at, x.restrict_at), (DUE + 89 * DAY, None));
}

/// The lender's own log: (action, detail), oldest first.
async fn lender_log(s: &TestServer, lender: &Lender) -> Vec<(String, Value)> {
    use sqlx::Row;
    sqlx::query("SELECT action, detail FROM lender_audit WHERE lender_id = $1 ORDER BY n")
        .bind(&lender.id)
        .fetch_all(&s.handle.db().read)
        .await
        .expect("the lender's log")
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail").expect("detail");
            (
                r.try_get("action").expect("action"),
                serde_json::from_str(&detail).expect("json detail"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_profile_with_quiet_hours_is_refused_while_a_phones_reminders_break_them() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    // The defaults (quiet 21:00–08:00) comply; this phone's own policy does not.
    s.register(&lender, json!({})).await;
    let loud = json!({ "offsets_s": [DAY], "hour_local": 9, "quiet_start": "23:00",
                       "quiet_end": "07:00", "overdue_every_s": DAY });
    let (id, _) = s.register(&lender, json!({ "reminders": loud })).await;
    refused(
        put(&s, &lender, json!({ "profile": "ph-sec-mc18" })).await,
        "ph-sec-mc18",
        "reminders.quiet_hours",
    )
    .await;
    assert_eq!(selected(&s, &lender).await["profile"], "permissive");
    // Released, the phone no longer counts.
    let r = s
        .post(
            &lender,
            &format!("/v1/lender/devices/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    select(&s, &lender, "ph-sec-mc18").await;
}
