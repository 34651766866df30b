//! The console's device pages over plain HTTP against a real `finlock serve` (issue 16):
//! register a sale, record and void a payment, lock with a reason, extend, unlock, the
//! unlock-code desk answering a code the simulated phone accepts; CSRF missing or wrong and a
//! viewer's forged posts refused with nothing changed; another lender's device id a 404 like
//! an unknown one; names and reasons holding `<script>` shown as text. What was stored is
//! read back through the lender API (the same domain), so "nothing changed" is checked on
//! the data, not only on the page.

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;
use std::process::Command;

use common::console::Agent;
use harness::{Server, http_client};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
const DAY: i64 = 86_400;
const EVIL: &str = "<script>alert(1)</script>";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `YYYY-MM-DD` of `t` (UTC), as a date input sends it.
fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// What the device tests add to the shared browser stand-in.
impl Agent {
    /// Registers a sale of 3 monthly installments of 1,500 KES from `first_due`: its id.
    async fn register(&self, first_due: i64, customer_ref: &str) -> String {
        let done = self
            .send(
                "/console/sales/new",
                &[
                    ("mode", "monthly"),
                    ("count", "3"),
                    ("amount", "1,500"),
                    ("first_due", &date(first_due)),
                    ("currency", "KES"),
                    ("grace_days", "1"),
                    ("customer_ref", customer_ref),
                    ("action", "register"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        done.location
            .strip_prefix("/console/sales/")
            .unwrap_or_else(|| panic!("{}", done.location))
            .to_string()
    }
}

/// A lender made on the command line: (id, API key, its key set file).
struct Lender {
    id: String,
    api_key: String,
    jwks: PathBuf,
}

fn add_lender(server: &Server, name: &str) -> Lender {
    let created = server.finlock_json(
        &[
            "lender",
            "add",
            name,
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.example/p",
            "--json",
        ],
        None,
    );
    let id = created["lender_id"].as_str().unwrap().to_string();
    let jwks = server.dir.path().join(format!("{id}.jwks.json"));
    std::fs::write(&jwks, created["jwks"].to_string()).unwrap();
    Lender {
        api_key: created["api_key"].as_str().unwrap().to_string(),
        id,
        jwks,
    }
}

/// `GET path` of the lender API.
async fn api(server: &Server, lender: &Lender, path: &str) -> Value {
    let r = http_client()
        .get(format!("{}{path}", server.url))
        .bearer_auth(&lender.api_key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// The device as the lender API shows it, and its audit log.
async fn stored(server: &Server, lender: &Lender, id: &str) -> (Value, Vec<Value>) {
    let device = api(server, lender, &format!("/v1/lender/devices/{id}")).await;
    let audit = api(server, lender, &format!("/v1/lender/devices/{id}/audit")).await;
    (device, audit["entries"].as_array().unwrap().clone())
}

/// A server with a lender whose name holds a script, an agent and a viewer signed in.
async fn setup() -> (Server, Lender, String, Agent, Agent) {
    let server = Server::start();
    let lender = add_lender(&server, &format!("Acme {EVIL}"));
    let agent_id = server.add_staff(
        &lender.id,
        "agent@acme.example",
        "Amina Agent",
        "agent",
        PASSWORD,
    );
    server.add_staff(
        &lender.id,
        "viewer@acme.example",
        "Victor Viewer",
        "viewer",
        PASSWORD,
    );
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    let viewer = Agent::signed_in(&server.url, "viewer@acme.example", PASSWORD).await;
    (server, lender, agent_id, agent, viewer)
}

#[tokio::test]
async fn a_payment_is_recorded_once_and_voided_after_a_confirmation_naming_the_agent() {
    let (server, lender, agent_id, agent, _) = setup().await;
    let id = agent.register(now() + 10 * DAY, "CT-1").await;
    let path = format!("/console/devices/{id}");
    let page = agent.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("KES\u{a0}4,500.00"), "the plan total");
    let key = page.hidden("key");
    let csrf = page.hidden("csrf");
    let pay = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("amount", "1,500"),
        ("reference", "MPESA-QX1"),
    ];
    let done = agent.post(&format!("{path}/payments"), &pay).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location, format!("{path}?done=payment"));
    // The same form sent again (a double click, a retry): recorded once.
    let again = agent.post(&format!("{path}/payments"), &pay).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let (device, audit) = stored(&server, &lender, &id).await;
    assert_eq!(device["paid_minor"], 150_000);
    let payments: Vec<&Value> = audit.iter().filter(|e| e["action"] == "payment").collect();
    assert_eq!(payments.len(), 1, "{audit:?}");
    assert_eq!(payments[0]["actor"], format!("staff:{agent_id}"));
    let page = agent.get(&done.location).await;
    assert!(page.body.contains("The payment is recorded."));
    assert!(page.body.contains("MPESA-QX1"));
    assert!(
        page.body.contains("Amina Agent"),
        "the timeline names the agent"
    );

    // More than is owed is refused with the domain's rule, in the page's words.
    let over = agent
        .send(
            &format!("{path}/payments"),
            &[("amount", "999,999"), ("reference", "TYPO-1")],
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(over.alert().unwrap().contains("more than is still owed"));
    assert!(over.body.contains("value=\"999,999\""), "the amount stays");
    assert!(over.body.contains("name=\"allow_overpayment\""));

    // Void: the first post asks, the second does it.
    let payment_id = payments[0]["detail"]["payment_id"].as_str().unwrap();
    let void = format!("{path}/payments/{payment_id}/void");
    let ask = agent.send(&void, &[("reason", "Bounced transfer")]).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Void the payment of KES\u{a0}1,500.00?"));
    assert!(ask.body.contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(stored(&server, &lender, &id).await.0["paid_minor"], 150_000);
    let done = agent
        .send(&void, &[("reason", "Bounced transfer"), ("confirm", "yes")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (device, audit) = stored(&server, &lender, &id).await;
    assert_eq!(device["paid_minor"], 0);
    let voided = audit
        .iter()
        .find(|e| e["action"] == "payment_voided")
        .unwrap();
    assert_eq!(voided["actor"], format!("staff:{agent_id}"));
    assert_eq!(voided["detail"]["reason"], "Bounced transfer");
    let page = agent.get(&done.location).await;
    assert!(page.body.contains("Voided on"), "{}", page.body);
    // A void needs its reason.
    let empty = agent
        .send(&void, &[("reason", " "), ("confirm", "yes")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.alert().unwrap().contains("Reason"));
}

#[tokio::test]
async fn lock_with_a_reason_extend_and_unlock_each_confirmed() {
    let (server, lender, agent_id, agent, _) = setup().await;
    let id = agent.register(now() + 10 * DAY, "CT-2").await;
    let path = format!("/console/devices/{id}");

    // Extend first (a lender lock refuses an extension).
    let until = date(now() + 30 * DAY);
    let ask = agent
        .send(
            &format!("{path}/extend"),
            &[("until", &until), ("reason", "Promised on payday")],
        )
        .await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);
    assert!(ask.body.contains("Extend the lock to"));
    let done = agent
        .send(
            &format!("{path}/extend"),
            &[
                ("until", &until),
                ("reason", "Promised on payday"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (device, _) = stored(&server, &lender, &id).await;
    let extended = device["extended_until"].as_i64().unwrap();
    assert_eq!(date(extended), until);
    // Past the domain's 90 days: its refusal, translated, nothing changed.
    let far = agent
        .send(
            &format!("{path}/extend"),
            &[
                ("until", &date(now() + 120 * DAY)),
                ("reason", "x"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(far.alert().unwrap().contains("at most 90 days"));
    assert_eq!(
        stored(&server, &lender, &id).await.0["extended_until"],
        extended
    );

    // Lock: a reason is required; it is shown as text.
    let reason = format!("Reported stolen {EVIL}");
    let empty = agent.send(&format!("{path}/lock"), &[("reason", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.alert().unwrap().contains("&#34;Reason&#34;"));
    let ask = agent
        .send(&format!("{path}/lock"), &[("reason", &reason)])
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(!ask.body.contains(EVIL), "escaped on the confirmation");
    assert!(ask.body.contains("&#60;script&#62;"));
    assert_eq!(
        stored(&server, &lender, &id).await.0["lender_locked"],
        false
    );
    let done = agent
        .send(
            &format!("{path}/lock"),
            &[("reason", &reason), ("confirm", "yes")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (device, audit) = stored(&server, &lender, &id).await;
    assert_eq!(device["lender_locked"], true);
    assert_eq!(device["lock_reason"], reason);
    let locked = audit.iter().find(|e| e["action"] == "locked").unwrap();
    assert_eq!(locked["actor"], format!("staff:{agent_id}"));
    let page = agent.get(&done.location).await;
    assert!(!page.body.contains(EVIL), "{}", page.body);
    assert!(page.body.contains("Reported stolen &#60;script&#62;"));
    // Locked by the lender: no lock or extension form, an unlock one.
    assert!(!page.body.contains("id=\"lock-form\""));
    assert!(!page.body.contains("id=\"extend-form\""));
    assert!(page.body.contains("id=\"unlock-form\""));
    // The domain refuses an extension of a lender-locked phone, in the page's words.
    let refused = agent
        .send(
            &format!("{path}/extend"),
            &[("until", &until), ("reason", "x"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.alert().unwrap().contains("locked by you"));

    let done = agent
        .send(&format!("{path}/unlock"), &[("confirm", "yes")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&server, &lender, &id).await.0["lender_locked"],
        false
    );
    // Unlocking again: nothing of ours to lift.
    let again = agent
        .send(&format!("{path}/unlock"), &[("confirm", "yes")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.alert().unwrap().contains("no lock of yours"));
}

/// `finlock device --state STATE ARGS` (the simulated phone, the phone's own core), on this
/// machine's clock unless ARGS move it (`--clock-shift`).
#[cfg(feature = "simulator")]
fn phone(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_finlock"))
        .args(["device", "--state", &state.display().to_string()])
        .args(args)
        .env("FINLOCK_LOG", "warn")
        .env_remove("FINLOCK_CLOCK")
        .env_remove("FINLOCK_CLOCK_SHIFT")
        .output()
        .unwrap()
}

/// A day and an hour of running time after the notice was shown (PROTOCOL §3.7: a phone
/// locks only once its notice page has been on it for a day).
#[cfg(feature = "simulator")]
const LATER: [&str; 2] = ["--clock-shift", "+25h"];

#[cfg(feature = "simulator")]
fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(feature = "simulator")]
#[tokio::test]
async fn the_code_desk_answers_a_code_the_phone_accepts() {
    let (server, lender, agent_id, agent, _) = setup().await;
    // Overdue already: the first installment was due 10 days ago, grace 1 day.
    let id = agent.register(now() - 10 * DAY, "CT-3").await;
    let qr = agent.get(&format!("/console/sales/{id}")).await;
    assert_eq!(qr.status, StatusCode::OK);
    assert!(
        qr.body.contains("src=\"data:image/png;base64,"),
        "{}",
        qr.body
    );
    let code = qr.by_id("sale-code").unwrap();
    let state = server.dir.path().join("phone");
    let out = phone(
        &state,
        &[
            "enroll",
            "--server",
            &server.url,
            "--lender-keys",
            &lender.jwks.display().to_string(),
            "--code",
            &code,
        ],
    );
    assert!(ok(&out).contains("enrolled as"));
    // Enrolled: the code is spent and no longer shown.
    let qr = agent.get(&format!("/console/sales/{id}")).await;
    assert!(qr.by_id("sale-code").is_none());
    // Overdue: the notice page first (shown at the next unlock), locked a day later.
    let status: Value = serde_json::from_str(&ok(&phone(&state, &["status", "--json"]))).unwrap();
    assert_eq!(status["level"], "notice", "{status}");
    assert!(ok(&phone(&state, &["notice"])).contains("recorded"));
    let status: Value = serde_json::from_str(&ok(&phone(
        &state,
        &["status", "--json", LATER[0], LATER[1]],
    )))
    .unwrap();
    assert_eq!(status["locked"], true, "{status}");

    // The preview says what the phone says.
    let page = agent.get(&format!("/console/devices/{id}")).await;
    assert!(
        page.body
            .contains("This device is locked due to an overdue installment payment.")
    );
    let sw = {
        let a = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
        a.set("lang", "sw");
        a.get(&format!("/console/devices/{id}")).await
    };
    assert!(
        sw.body
            .contains("Kifaa hiki kimefungwa kwa sababu ya malipo ya awamu yaliyochelewa.")
    );

    let challenge = ok(&phone(&state, &["challenge", LATER[0], LATER[1]]))
        .trim()
        .to_string();
    assert_eq!(challenge.len(), 8, "{challenge}");
    // By customer reference, any case.
    let answer = agent
        .send(
            "/console/codes",
            &[("device", "ct-3"), ("challenge", &challenge), ("days", "2")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let unlock = answer.by_id("unlock-code").unwrap();
    assert_eq!(unlock.len(), 9, "two groups of four: {unlock}");
    assert!(answer.body.contains("It unlocks the phone for 2 days."));
    ok(&phone(
        &state,
        &["code", &unlock.replace(' ', ""), LATER[0], LATER[1]],
    ));
    let status: Value = serde_json::from_str(&ok(&phone(
        &state,
        &["status", "--json", LATER[0], LATER[1]],
    )))
    .unwrap();
    assert_eq!(status["locked"], false);
    let (_, audit) = stored(&server, &lender, &id).await;
    let issued = audit
        .iter()
        .find(|e| e["action"] == "offline_code_issued")
        .unwrap();
    assert_eq!(issued["actor"], format!("staff:{agent_id}"));
    assert_eq!(issued["detail"]["days"], 2);

    // Digits that are no request of this phone, and a lock the lender set: refused.
    let wrong = agent
        .send(
            "/console/codes",
            &[("device", &id), ("challenge", "00000000"), ("days", "1")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .alert()
            .unwrap()
            .contains("not a current request code")
    );
    let locked = agent
        .send(
            &format!("/console/devices/{id}/lock"),
            &[("reason", "Call us"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(locked.status, StatusCode::SEE_OTHER);
    let refused = agent
        .send(
            "/console/codes",
            &[("device", &id), ("challenge", &challenge), ("days", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.alert().unwrap().contains("locked by you"));
    assert!(refused.by_id("unlock-code").is_none());
    // The preview shows the lender's lock as the phone will.
    let page = agent.get(&format!("/console/devices/{id}")).await;
    assert!(
        page.body
            .contains("Your lender has locked this device. Please contact them.")
    );
    assert!(page.body.contains(": Call us"), "the lender's message");
}

#[tokio::test]
async fn a_form_without_its_token_or_from_a_viewer_changes_nothing() {
    let (server, lender, _, agent, viewer) = setup().await;
    let id = agent.register(now() + 10 * DAY, "CT-4").await;
    let path = format!("/console/devices/{id}");
    let page = agent.get(&path).await;
    let key = page.hidden("key");
    let before = stored(&server, &lender, &id).await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("{path}/payments"),
            vec![("amount", "1500"), ("reference", "R-1"), ("key", &key)],
        ),
        (
            format!("{path}/lock"),
            vec![("reason", "x"), ("confirm", "yes")],
        ),
        (format!("{path}/unlock"), vec![("confirm", "yes")]),
        (
            format!("{path}/extend"),
            vec![("until", "2099-01-01"), ("reason", "x"), ("confirm", "yes")],
        ),
        (format!("{path}/release"), vec![("confirm", "yes")]),
        (
            format!("{path}/payments/pay-x/void"),
            vec![("reason", "x"), ("confirm", "yes")],
        ),
        (
            "/console/sales/new".to_string(),
            vec![
                ("count", "1"),
                ("amount", "5"),
                ("first_due", "2030-01-01"),
                ("currency", "KES"),
                ("grace_days", "1"),
            ],
        ),
        (
            "/console/codes".to_string(),
            vec![("device", &id), ("challenge", "12345678"), ("days", "1")],
        ),
    ];
    let agent_csrf = agent.csrf().await;
    let viewer_csrf = viewer.csrf().await;
    for (to, fields) in &posts {
        // No token, a wrong one, another session's: 403 before anything is read.
        for token in [None, Some("fcs_wrong"), Some(viewer_csrf.as_str())] {
            let mut form = fields.clone();
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let r = agent.post(to, &form).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{to} {token:?}");
            assert!(r.body.contains("This form has expired"), "{to}");
        }
        // A viewer's forged post with its own valid token: not allowed.
        let mut form = fields.clone();
        form.push(("csrf", &viewer_csrf));
        let r = viewer.post(to, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "viewer {to}");
        assert!(r.body.contains("Your role does not allow this"), "{to}");
    }
    assert_eq!(stored(&server, &lender, &id).await, before);
    let devices = api(&server, &lender, "/v1/lender/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1, "no sale");
    // The agent's token still works (nothing above spent it).
    let ok = agent
        .post(
            &format!("{path}/lock"),
            &[("csrf", &agent_csrf), ("reason", "x")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "the confirmation step");

    // A viewer reads the device but sees no form, and cannot open the agents' pages.
    let seen = viewer.get(&path).await;
    assert_eq!(seen.status, StatusCode::OK);
    for form in ["payment-form", "lock-form", "extend-form", "release-form"] {
        assert!(!seen.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(!seen.body.contains("/void\""));
    for page in [
        "/console/sales/new",
        "/console/codes",
        &format!("/console/sales/{id}"),
    ] {
        assert_eq!(
            viewer.get(page).await.status,
            StatusCode::FORBIDDEN,
            "{page}"
        );
    }
}

#[tokio::test]
async fn another_lenders_device_is_not_found_like_an_unknown_one() {
    let (server, lender, _, agent, _) = setup().await;
    let other = add_lender(&server, "Other Credit");
    server.add_staff(&other.id, "olga@other.example", "Olga", "agent", PASSWORD);
    let olga = Agent::signed_in(&server.url, "olga@other.example", PASSWORD).await;
    let theirs = olga.register(now() + 5 * DAY, "SHARED-REF").await;
    let before = stored(&server, &other, &theirs).await;
    let unknown = agent.get("/console/devices/dev-no-such-device").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/console/devices/{theirs}"),
        format!("/console/sales/{theirs}"),
    ] {
        let r = agent.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.body.replace(&theirs, "ID"),
            unknown.body.replace("dev-no-such-device", "ID"),
            "{path}"
        );
    }
    for (action, fields) in [
        ("lock", vec![("reason", "x"), ("confirm", "yes")]),
        ("unlock", vec![("confirm", "yes")]),
        ("release", vec![("confirm", "yes")]),
        ("payments", vec![("amount", "5"), ("reference", "R")]),
    ] {
        let r = agent
            .send(&format!("/console/devices/{theirs}/{action}"), &fields)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    // The desk knows neither their id nor their customer reference.
    for device in [theirs.as_str(), "SHARED-REF"] {
        let r = agent
            .send(
                "/console/codes",
                &[("device", device), ("challenge", "12345678"), ("days", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{device}");
        assert!(r.alert().unwrap().contains("No device of yours"));
    }
    assert_eq!(stored(&server, &other, &theirs).await, before);
    // Our own lender is untouched as well.
    let ours = api(&server, &lender, "/v1/lender/devices").await;
    assert!(ours["devices"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_sale_form_with_a_bad_field_comes_back_with_what_was_typed() {
    let (server, lender, agent_id, agent, _) = setup().await;
    let page = agent.get("/console/sales/new").await;
    assert_eq!(page.status, StatusCode::OK);
    // The lender's name is text in the header.
    assert!(!page.body.contains(EVIL));
    assert!(page.body.contains("Acme &#60;script&#62;"));
    let bad = agent
        .send(
            "/console/sales/new",
            &[
                ("mode", "monthly"),
                ("count", "3"),
                ("amount", "12abc"),
                ("first_due", "2030-01-01"),
                ("currency", "KES"),
                ("grace_days", "7"),
                ("customer_ref", "Ref \"quoted\""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.alert().unwrap().contains("Amount of each installment"));
    assert!(bad.body.contains("value=\"12abc\""));
    assert!(bad.body.contains("value=\"Ref &#34;quoted&#34;\""));
    // The domain's rule, named in Spanish.
    let es = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    es.set("lang", "es");
    let currency = es
        .send(
            "/console/sales/new",
            &[
                ("count", "3"),
                ("amount", "100"),
                ("first_due", "2030-01-01"),
                ("currency", "XYZ"),
                ("grace_days", "7"),
            ],
        )
        .await;
    assert_eq!(currency.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        currency.alert().unwrap().contains("&#34;Moneda&#34;"),
        "{:?}",
        currency.alert()
    );
    // "Add rows" grows the table and stores nothing.
    let more = agent
        .send(
            "/console/sales/new",
            &[
                ("mode", "table"),
                ("row_due", "2030-01-01"),
                ("row_amount", "5"),
                ("action", "add-rows"),
            ],
        )
        .await;
    assert_eq!(more.status, StatusCode::OK);
    assert_eq!(more.body.matches("name=\"row_due\"").count(), 5);
    assert!(more.body.contains("value=\"2030-01-01\""));
    let none = api(&server, &lender, "/v1/lender/devices").await;
    assert!(none["devices"].as_array().unwrap().is_empty());
    // A table plan registers, audited with the agent's name.
    let done = agent
        .send(
            "/console/sales/new",
            &[
                ("mode", "table"),
                ("row_due", "2030-01-01"),
                ("row_amount", "100"),
                ("row_due", ""),
                ("row_amount", ""),
                ("row_due", "2030-02-01"),
                ("row_amount", "200.50"),
                ("currency", "kes"),
                ("grace_days", "3"),
                ("imei", "35-209900-176148-1"),
                ("auto_reprovision", "yes"),
                ("action", "register"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let id = done.location.strip_prefix("/console/sales/").unwrap();
    let (device, audit) = stored(&server, &lender, id).await;
    assert_eq!(device["total_minor"], 30_050);
    assert_eq!(device["imei_registered"], true);
    assert_eq!(device["auto_reprovision"], true);
    assert_eq!(audit[0]["action"], "registered");
    assert_eq!(audit[0]["actor"], format!("staff:{agent_id}"));
}
