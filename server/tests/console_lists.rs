//! The console's Dashboard (`GET /console/`) and Devices list (`GET /console/devices`,
//! `GET /console/devices.csv`) over plain HTTP against a real `finlock serve` (issue 16):
//! the dashboard's figures are those of the devices registered and paid through the lender
//! API (and the same as the API's own dashboard); the list filters by state, days past due
//! and search text, its pages give every device once, its CSV is a download with the
//! header and a formula-looking reference defused; another lender's devices never appear;
//! a viewer reads both; a bad parameter is a translated 400, never a 500; no session is
//! sent to sign in.

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::console::{Agent, Answer};
use harness::{Server, http_client};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const DAY: i64 = 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// What the list tests read of a page.
impl Answer {
    /// The text of the first link whose `href` starts with `href` (HTML-escaped as the
    /// page writes it).
    fn link_text(&self, href: &str) -> String {
        let marker = format!("href=\"{href}");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no link {href}: {}", self.body));
        let start = at + self.body[at..].find('>').unwrap() + 1;
        self.body[start..start + self.body[start..].find('<').unwrap()].to_string()
    }

    /// The device ids the list's table links to, in order.
    fn listed(&self) -> Vec<String> {
        self.body
            .split("<a href=\"/console/devices/")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_string())
            .collect()
    }

    /// The "next page" link, unescaped.
    fn next(&self) -> Option<String> {
        let at = self.body.find("rel=\"next\"")?;
        let tag_start = self.body[..at].rfind("<a ")?;
        let href = &self.body[tag_start..at];
        let start = href.find("href=\"")? + 6;
        let end = start + href[start..].find('"')?;
        Some(href[start..end].replace("&#38;", "&").replace("&amp;", "&"))
    }
}

/// A lender made on the command line: (id, API key).
fn add_lender(server: &Server, name: &str) -> (String, String) {
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
    (
        created["lender_id"].as_str().unwrap().to_string(),
        created["api_key"].as_str().unwrap().to_string(),
    )
}

/// Registers a device of one installment of `amount_minor` KES due at `due` through the
/// lender API: its id.
async fn register(
    server: &Server,
    key: &str,
    customer_ref: &str,
    imei: Option<&str>,
    due: i64,
    amount_minor: u64,
    grace_days: u32,
) -> String {
    let mut body = json!({
        "customer_ref": customer_ref,
        "plan": {
            "currency": "KES",
            "grace_days": grace_days,
            "installments": [{ "due": due, "amount_minor": amount_minor }]
        }
    });
    if let Some(imei) = imei {
        body["imei"] = json!(imei);
    }
    let r = http_client()
        .post(format!("{}/v1/lender/devices", server.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["device_id"].as_str().unwrap().to_string()
}

async fn pay(server: &Server, key: &str, id: &str, amount_minor: u64) {
    let r = http_client()
        .post(format!("{}/v1/lender/devices/{id}/payments", server.url))
        .bearer_auth(key)
        .header("Idempotency-Key", format!("pay-{id}"))
        .json(&json!({ "amount_minor": amount_minor, "currency": "KES", "reference": "MPESA-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

struct World {
    server: Server,
    agent: Agent,
    viewer: Agent,
    /// Acme's devices: current (IMEI ...7518), overdue 8–30 days, overdue 31–90 days, paid
    /// in full, current with a formula-looking reference.
    current: String,
    overdue_10: String,
    overdue_40: String,
    paid: String,
    formula: String,
    /// Beta's device (reference CT-100 too).
    other: String,
    acme_key: String,
}

impl World {
    fn acme(&self) -> Vec<String> {
        let mut all = vec![
            self.current.clone(),
            self.overdue_10.clone(),
            self.overdue_40.clone(),
            self.paid.clone(),
            self.formula.clone(),
        ];
        all.sort();
        all
    }
}

async fn world() -> World {
    let server = Server::start();
    let (acme, acme_key) = add_lender(&server, "Acme");
    let (_, beta_key) = add_lender(&server, "Beta");
    let t = now();
    let current = register(
        &server,
        &acme_key,
        "CT-100",
        Some("490154203237518"),
        t + 10 * DAY,
        150_000,
        3,
    )
    .await;
    let overdue_10 = register(
        &server,
        &acme_key,
        "CT-200",
        None,
        t - 10 * DAY,
        100_000,
        60,
    )
    .await;
    let overdue_40 = register(
        &server,
        &acme_key,
        "CT-300",
        None,
        t - 40 * DAY,
        250_000,
        90,
    )
    .await;
    let paid = register(&server, &acme_key, "CT-400", None, t + 5 * DAY, 50_000, 3).await;
    pay(&server, &acme_key, &paid, 50_000).await;
    let formula = register(
        &server,
        &acme_key,
        "=SUM(A1)",
        None,
        t + 20 * DAY,
        70_000,
        3,
    )
    .await;
    let other = register(
        &server,
        &beta_key,
        "CT-100",
        None,
        t - 10 * DAY,
        100_000,
        60,
    )
    .await;
    server.add_staff(
        &acme,
        "agent@acme.example",
        "Amina Agent",
        "agent",
        PASSWORD,
    );
    server.add_staff(
        &acme,
        "viewer@acme.example",
        "Victor Viewer",
        "viewer",
        PASSWORD,
    );
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    let viewer = Agent::signed_in(&server.url, "viewer@acme.example", PASSWORD).await;
    World {
        server,
        agent,
        viewer,
        current,
        overdue_10,
        overdue_40,
        paid,
        formula,
        other,
        acme_key,
    }
}

#[tokio::test]
async fn the_dashboard_counts_what_was_registered_and_paid() {
    let w = world().await;
    let page = w.agent.get("/console/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Dashboard</h1>"), "{}", page.body);
    assert!(page.body.contains("Hello, Amina Agent."));
    // Devices by state, each linking to the list of them.
    assert_eq!(page.link_text("/console/devices?state=current\""), "2");
    assert_eq!(page.link_text("/console/devices?state=overdue\""), "2");
    assert_eq!(page.link_text("/console/devices?state=locked\""), "0");
    let paid = page
        .link_text("/console/devices?state=completing\"")
        .parse::<u32>()
        .unwrap()
        + page
            .link_text("/console/devices?state=released\"")
            .parse::<u32>()
            .unwrap();
    assert_eq!(paid, 1, "the device paid in full");
    // Arrears: one device 8–30 days owing 1,000.00, one 31–90 days owing 2,500.00.
    assert_eq!(page.link_text("/console/devices?days_past_due=1-7"), "0");
    assert_eq!(page.link_text("/console/devices?days_past_due=8-30"), "1");
    assert_eq!(page.link_text("/console/devices?days_past_due=31-90"), "1");
    assert_eq!(page.link_text("/console/devices?days_past_due=90%2B"), "0");
    assert!(page.body.contains("KES\u{a0}1,000.00"), "{}", page.body);
    assert!(page.body.contains("KES\u{a0}2,500.00"), "{}", page.body);
    assert_eq!(page.text_of("dash-collected-amount"), "KES\u{a0}500.00");
    assert_eq!(page.text_of("dash-collected-payments"), "1");
    // No phone enrolled, so none is "not seen"; the link leads to that filter.
    assert_eq!(page.text_of("dash-not-seen-link"), "0");
    assert!(
        page.body
            .contains("href=\"/console/devices?not_seen_days=3&#38;sort=last_seen\"")
            || page
                .body
                .contains("href=\"/console/devices?not_seen_days=3&amp;sort=last_seen\""),
        "{}",
        page.body
    );
    // The same figures as the lender API's dashboard.
    let api: Value = http_client()
        .get(format!("{}/v1/lender/dashboard", w.server.url))
        .bearer_auth(&w.acme_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["devices"], 5);
    assert_eq!(api["by_state"]["overdue"], 2);
    let releases = api["upcoming_releases"]["devices"].as_u64().unwrap();
    assert_eq!(page.text_of("dash-releases-count"), releases.to_string());
    if releases > 0 {
        assert!(
            page.body
                .contains(&format!("href=\"/console/devices/{}\"", w.paid))
        );
    }
    // Beta's device is in none of Acme's figures (Acme has 5: current 2, overdue 2, paid 1).
    assert!(!page.body.contains(&w.other));
    // In Swahili, the same page speaks Swahili.
    let r = http_client()
        .get(format!("{}/console/", w.server.url))
        .header(COOKIE, format!("{}; lang=sw", w.agent.cookie_header()))
        .send()
        .await
        .unwrap();
    let sw = r.text().await.unwrap();
    assert!(sw.contains("<h1>Muhtasari</h1>"), "{sw}");
    assert!(sw.contains("Zaidi ya siku 90"), "{sw}");
}

#[tokio::test]
async fn the_list_filters_searches_pages_and_exports_only_the_lenders_devices() {
    let w = world().await;
    let all = w.agent.get("/console/devices").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let mut listed = all.listed();
    listed.sort();
    assert_eq!(listed, w.acme(), "every device of Acme's and no other");
    assert!(!all.body.contains(&w.other));
    assert!(
        all.body
            .contains("Device id, customer reference or last IMEI digits")
    );

    // By state, by days past due, by search text (reference start, IMEI digits, id).
    let mut overdue = vec![w.overdue_10.clone(), w.overdue_40.clone()];
    overdue.sort();
    let mut found = w.agent.get("/console/devices?state=overdue").await.listed();
    found.sort();
    assert_eq!(found, overdue);
    let page = w.agent.get("/console/devices?state=overdue").await;
    assert!(
        page.body.contains("<option value=\"overdue\" selected>"),
        "the form keeps it"
    );
    assert_eq!(
        w.agent
            .get("/console/devices?days_past_due=31-90")
            .await
            .listed(),
        vec![w.overdue_40.clone()]
    );
    assert_eq!(
        w.agent.get("/console/devices?q=ct-2&state=").await.listed(),
        vec![w.overdue_10.clone()]
    );
    assert_eq!(
        w.agent.get("/console/devices?q=7518").await.listed(),
        vec![w.current.clone()]
    );
    assert_eq!(
        w.agent
            .get(&format!("/console/devices?q={}", w.paid))
            .await
            .listed(),
        vec![w.paid.clone()]
    );
    // Beta's device: not by its reference (Acme's CT-100 only), not by its id.
    assert_eq!(
        w.agent.get("/console/devices?q=CT-100").await.listed(),
        vec![w.current.clone()]
    );
    let theirs = w
        .agent
        .get(&format!("/console/devices?q={}", w.other))
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.listed().is_empty());
    assert!(theirs.body.contains("No device matches."));

    // Pages of two, most days past due first, following "next page": each device once.
    let mut path = "/console/devices?sort=days_past_due&limit=2".to_string();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = w.agent.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let ids = page.listed();
        assert!(ids.len() <= 2, "{ids:?}");
        seen.extend(ids);
        match page.next() {
            Some(next) => {
                assert!(next.contains("sort=days_past_due"), "{next}");
                path = next;
            }
            None => break,
        }
    }
    assert_eq!(&seen[..2], [w.overdue_40.clone(), w.overdue_10.clone()]);
    seen.sort();
    assert_eq!(seen, w.acme());

    // The CSV of the filtered list: a download, the header, the formula defused.
    let csv = w.agent.get("/console/devices.csv?state=current").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.headers[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert!(
        csv.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(
        lines[0].starts_with("device_id,customer_ref,imei_last4,state"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        csv.body.contains(&format!("{},'=SUM(A1),", w.formula)),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains(&format!("{},CT-100,7518,current", w.current))
    );
    let everything = w.agent.get("/console/devices.csv").await;
    assert_eq!(everything.body.lines().count(), 6);
    assert!(!everything.body.contains(&w.other));
    // The page's CSV link carries the filters.
    assert!(
        page.body
            .contains("href=\"/console/devices.csv?state=overdue\"")
    );
}

#[tokio::test]
async fn a_viewer_reads_both_pages_and_a_stranger_is_sent_to_sign_in() {
    let w = world().await;
    for path in [
        "/console/",
        "/console/devices?state=overdue",
        "/console/devices.csv",
    ] {
        let r = w.viewer.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    assert_eq!(w.viewer.get("/console/devices").await.listed().len(), 5);
    // Without a session: to sign in, and back to the page afterwards (the start page is
    // where sign-in leads anyway).
    let stranger = Agent::new(&w.server.url);
    for (path, login) in [
        ("/console/", "/console/login"),
        (
            "/console/devices?state=overdue",
            "/console/login?next=/console/devices%3Fstate%3Doverdue",
        ),
        (
            "/console/devices.csv",
            "/console/login?next=/console/devices.csv",
        ),
    ] {
        let r = stranger.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location, login, "{path}");
        assert!(!r.body.contains(&w.current));
    }
}

#[tokio::test]
async fn bad_parameters_are_a_translated_400_with_the_form_kept() {
    let w = world().await;
    let long = "x".repeat(65);
    for (query, words) in [
        ("state=lost", "Choose a state from the list."),
        ("days_past_due=2-3", "Choose a days-past-due range"),
        ("not_seen_days=abc", "must be a number of days"),
        ("not_seen_days=0", "must be a number of days"),
        ("sort=price", "Choose an order from the list."),
        ("limit=501", "The page size must be"),
        (
            "sort=last_seen&cursor=garbage",
            "This page link is not valid",
        ),
        (&format!("q={long}") as &str, "The search must be 1 to 64"),
    ] {
        for path in ["/console/devices", "/console/devices.csv"] {
            if path.ends_with(".csv") && query.contains("cursor") {
                continue; // an export has no pages: its cursor is ignored
            }
            let r = w.agent.get(&format!("{path}?{query}")).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path}?{query}: {}",
                r.body
            );
            assert!(r.body.contains("role=\"alert\""), "{query}");
            assert!(r.body.contains(words), "{path}?{query}: {}", r.body);
            assert!(
                r.body.contains("<form method=\"get\""),
                "the form is there to fix it"
            );
        }
    }
    // The form keeps what was asked.
    let r = w.agent.get("/console/devices?q=CT-1&state=lost").await;
    assert!(r.body.contains("value=\"CT-1\""), "{}", r.body);
    // In Spanish, in Spanish.
    let r = http_client()
        .get(format!("{}/console/devices?state=lost", w.server.url))
        .header(COOKIE, format!("{}; lang=es", w.agent.cookie_header()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Elige un estado de la lista.")
    );
}
