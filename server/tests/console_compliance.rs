//! The console under a compliance profile (issue 18), over plain HTTP against a real
//! `finlock serve`: a lender under `in-rbi-draft` (selected through `PUT
//! /v1/lender/compliance`) whose agent tries a lender lock, or a sale whose grace the profile
//! forbids, gets the page again with the refusal naming the rule, in the staff member's
//! language — and nothing is stored (read back through the lender API, the same domain).

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::console::Agent;
use harness::{Server, http_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const DAY: i64 = 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD` of `t` (UTC), as a date input sends it.
fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// The lender API at `path` with `lender`'s key: (status, body).
async fn api(
    server: &Server,
    api_key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http_client()
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(api_key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

/// A lender (made on the command line) and its agent signed in: (server, lender's API key,
/// agent).
async fn setup() -> (Server, String, Agent) {
    let server = Server::start();
    let created = server.finlock_json(
        &[
            "lender",
            "add",
            "Acme",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.example/p",
            "--json",
        ],
        None,
    );
    let lender = created["lender_id"].as_str().unwrap().to_string();
    let api_key = created["api_key"].as_str().unwrap().to_string();
    server.add_staff(&lender, "agent@acme.example", "Amina", "agent", PASSWORD);
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    (server, api_key, agent)
}

/// The sale form of 3 monthly installments with `grace_days`, registered.
async fn sell(agent: &Agent, grace_days: &str, customer_ref: &str) -> common::console::Answer {
    agent
        .send(
            "/console/sales/new",
            &[
                ("mode", "monthly"),
                ("count", "3"),
                ("amount", "1,500"),
                ("first_due", &date(now() + 10 * DAY)),
                ("currency", "KES"),
                ("grace_days", grace_days),
                ("customer_ref", customer_ref),
                ("action", "register"),
            ],
        )
        .await
}

#[tokio::test]
async fn a_lock_or_a_sale_the_profile_forbids_names_its_rule_and_changes_nothing() {
    let (server, api_key, agent) = setup().await;
    // Sold under the default profile, then the lender moves to the RBI draft.
    let sold = sell(&agent, "1", "CT-1").await;
    assert_eq!(sold.status, StatusCode::SEE_OTHER, "{}", sold.body);
    let id = sold
        .location
        .strip_prefix("/console/sales/")
        .unwrap_or_else(|| panic!("{}", sold.location))
        .to_string();
    let (status, selected) = api(
        &server,
        &api_key,
        reqwest::Method::PUT,
        "/v1/lender/compliance",
        Some(json!({ "profile": "in-rbi-draft" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{selected}");
    let device_path = format!("/v1/lender/devices/{id}");
    let audit_path = format!("{device_path}/audit");
    let get = |path: String| {
        let (server, api_key) = (&server, &api_key);
        async move {
            let (status, v) = api(server, api_key, reqwest::Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {v}");
            v
        }
    };
    let before = (
        get(device_path.clone()).await,
        get(audit_path.clone()).await,
    );

    // The lender lock, confirmed: the profile forbids lender locks.
    let path = format!("/console/devices/{id}");
    for (lang, words) in [
        (
            "en",
            "Your compliance profile (in-rbi-draft) does not allow this",
        ),
        ("sw", "Wasifu wako wa utiifu (in-rbi-draft) hauruhusu hili"),
        (
            "es",
            "Su perfil de cumplimiento (in-rbi-draft) no permite esto",
        ),
    ] {
        agent.set("lang", lang);
        let refused = agent
            .send(
                &format!("{path}/lock"),
                &[("reason", "Please call us"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{lang}");
        let alert = refused.alert().unwrap_or_default();
        assert!(alert.contains(words), "{lang}: {alert}");
        assert!(alert.contains("lender_lock.allowed"), "{lang}: {alert}");
    }
    let after = (
        get(device_path.clone()).await,
        get(audit_path.clone()).await,
    );
    assert_eq!(after, before, "nothing stored");
    assert_eq!(after.0["lender_locked"], false);

    // A sale whose grace would restrict before 90 days past due: refused, nothing stored.
    agent.set("lang", "en");
    let (_, listed) = api(
        &server,
        &api_key,
        reqwest::Method::GET,
        "/v1/lender/devices",
        None,
    )
    .await;
    let refused = sell(&agent, "1", "CT-2").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let alert = refused.alert().unwrap_or_default();
    assert!(alert.contains("in-rbi-draft"), "{alert}");
    assert!(alert.contains("restricted.min_days_past_due"), "{alert}");
    let (_, listed_after) = api(
        &server,
        &api_key,
        reqwest::Method::GET,
        "/v1/lender/devices",
        None,
    )
    .await;
    assert_eq!(listed_after, listed, "no sale stored");
}
