//! The console's import page names every bad row in the staff member's language (issue
//! 16), from the row error's stable code, over plain HTTP against a real `finlock serve`;
//! and a device's page lets an agent change its customer reference (CSRF, role, the
//! registration's rule), each change in the device's timeline — a viewer's forged post
//! and a post without the token change nothing.

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::console::Agent;
use harness::{Server, http_client};
use reqwest::StatusCode;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// A server with a lender, an agent and a viewer: (server, lender id).
fn setup() -> (Server, String) {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "agent@acme.example", "Amina", "agent", PASSWORD);
    server.add_staff(&lender, "viewer@acme.example", "Victor", "viewer", PASSWORD);
    (server, lender)
}

/// Posts the import form as `multipart/form-data`, the way a browser sends a file input.
async fn upload(agent: &Agent, kind: &str, csv: &str) -> (StatusCode, String) {
    let csrf = agent.get("/console/import").await.hidden("csrf");
    let boundary = "----finlockTestBoundary7MA4YWxk";
    let mut body = String::new();
    for (name, value) in [("csrf", csrf.as_str()), ("kind", kind), ("action", "check")] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sales.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    ));
    let r = common::console::client()
        .post(format!("{}/console/import", agent.base))
        .header("cookie", agent.cookie_header())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The text of each row error's reason cell, in page order.
fn reasons(page: &str) -> Vec<String> {
    page.split("<tr class=\"import-row-error\">")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td").collect();
            let last = cells[3];
            let start = last.find('>').unwrap() + 1;
            last[start..last.find("</td>").unwrap()].to_string()
        })
        .collect()
}

const BAD: &str = "customer_ref,currency,grace_days,installments,amount,first_due,every\n\
                   C-1,KES,7,3,10.001,2027-01-31,month\n\
                   C-2,KES,7,3,10,31/01/2027,fortnight\n";

#[tokio::test]
async fn row_errors_read_in_the_staff_members_language() {
    let (server, _) = setup();
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    let mut seen = Vec::new();
    for (lang, decimals, date) in [
        ("en", "Too many decimals: KES has at most 2.", "Not a date"),
        (
            "sw",
            "Desimali nyingi mno: KES ina desimali zisizozidi 2.",
            "Si tarehe",
        ),
        (
            "es",
            "Demasiados decimales: KES tiene como máximo 2.",
            "No es una fecha",
        ),
    ] {
        agent.set("lang", lang);
        let (status, page) = upload(&agent, "sales", BAD).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        let r = reasons(&page);
        assert_eq!(r.len(), 3, "{lang}: {r:?}");
        assert_eq!(r[0], decimals, "{lang}");
        assert!(r[1].starts_with(date), "{lang}: {r:?}");
        seen.push(r);
    }
    // Each language reads differently, row for row.
    for ((en, sw), es) in seen[0].iter().zip(&seen[1]).zip(&seen[2]) {
        assert_ne!(en, sw);
        assert_ne!(en, es);
    }
}

/// A device of `lender` registered through the API with `customer_ref`: its id.
async fn register(server: &Server, key: &str, customer_ref: &str) -> String {
    let due = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 30 * 86_400;
    let r = http_client()
        .post(format!("{}/v1/lender/devices", server.url))
        .bearer_auth(key)
        .json(&serde_json::json!({
            "customer_ref": customer_ref,
            "plan": { "currency": "KES", "grace_days": 7,
                      "installments": [{ "due": due, "amount_minor": 1000 }] }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["device_id"].as_str().unwrap().to_string()
}

/// The device's customer reference and audit actions, as the lender API reads them.
async fn stored(server: &Server, key: &str, id: &str) -> (Value, Vec<String>) {
    let get = |path: String| {
        let url = format!("{}{path}", server.url);
        async move {
            let r = http_client()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let device = get(format!("/v1/lender/devices/{id}")).await;
    let audit = get(format!("/v1/lender/devices/{id}/audit")).await;
    let actions = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    (device["customer_ref"].clone(), actions)
}

#[tokio::test]
async fn an_agent_changes_the_customer_ref_and_others_cannot() {
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
    let key = created["api_key"].as_str().unwrap().to_string();
    server.add_staff(&lender, "agent@acme.example", "Amina", "agent", PASSWORD);
    server.add_staff(&lender, "viewer@acme.example", "Victor", "viewer", PASSWORD);
    let id = register(&server, &key, "CT-1").await;
    let path = format!("/console/devices/{id}");
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    let viewer = Agent::signed_in(&server.url, "viewer@acme.example", PASSWORD).await;

    let page = agent.get(&path).await;
    assert!(page.body.contains("id=\"customer-ref-form\""));
    assert!(page.body.contains("value=\"CT-1\""));
    // A viewer sees no form, and its forged post is refused.
    assert!(!viewer.get(&path).await.body.contains("customer-ref-form"));
    let forged = viewer
        .send(&format!("{path}/customer-ref"), &[("customer_ref", "MINE")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    // No token, a wrong token.
    for pairs in [
        vec![("customer_ref", "NO-TOKEN")],
        vec![("csrf", "wrong"), ("customer_ref", "NO-TOKEN")],
    ] {
        let r = agent.post(&format!("{path}/customer-ref"), &pairs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    // The registration's rule, in the page's words; the typed value stays.
    let bad = agent
        .send(
            &format!("{path}/customer-ref"),
            &[("customer_ref", "Jos\u{e9}")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.alert().unwrap().contains("1 to 64 characters"));
    assert!(bad.body.contains("value=\"Jos\u{e9}\""));
    assert_eq!(
        stored(&server, &key, &id).await.0,
        "CT-1",
        "nothing changed"
    );
    assert!(
        !stored(&server, &key, &id)
            .await
            .1
            .contains(&"customer_ref_set".to_string())
    );

    let done = agent
        .send(
            &format!("{path}/customer-ref"),
            &[("customer_ref", " CT-2026/7 ")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location, format!("{path}?done=customer-ref"));
    let (now, actions) = stored(&server, &key, &id).await;
    assert_eq!(now, "CT-2026/7");
    assert_eq!(actions.last().unwrap(), "customer_ref_set");
    let page = agent.get(&done.location).await;
    assert!(page.body.contains("The customer reference was saved."));
    assert!(page.body.contains("Customer reference changed"));
    assert!(
        page.body.contains("CT-1 → CT-2026/7"),
        "the timeline shows both"
    );
}

/// Under a compliance profile (selected through the domain operation, here its command
/// line), a sales row whose grace the profile forbids is a row error naming the profile
/// and the rule in the staff member's language — the other rows still checked, nothing
/// stored.
#[tokio::test]
async fn a_row_the_compliance_profile_forbids_names_its_rule_in_each_language() {
    let (server, lender) = setup();
    let selected = server.finlock_json(
        &[
            "lender",
            "compliance",
            "set",
            "in-rbi-draft",
            "--lender",
            &lender,
            "--json",
        ],
        None,
    );
    assert_eq!(selected["profile"], "in-rbi-draft", "{selected}");
    let agent = Agent::signed_in(&server.url, "agent@acme.example", PASSWORD).await;
    let file = "customer_ref,currency,grace_days,installments,amount,first_due,every\n\
                C-1,KES,90,3,10,2027-01-31,month\n\
                C-2,KES,7,3,10,2027-01-31,month\n";
    for (lang, words) in [
        (
            "en",
            "Your compliance profile (in-rbi-draft) forbids this sale",
        ),
        (
            "sw",
            "Wasifu wako wa utiifu (in-rbi-draft) unakataza mauzo haya",
        ),
        (
            "es",
            "Su perfil de cumplimiento (in-rbi-draft) prohíbe esta venta",
        ),
    ] {
        agent.set("lang", lang);
        let (status, page) = upload(&agent, "sales", file).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        let r = reasons(&page);
        assert_eq!(r.len(), 1, "{lang}: only the refused row: {r:?}");
        assert!(r[0].starts_with(words), "{lang}: {r:?}");
        assert!(
            r[0].contains("restricted.min_days_past_due"),
            "{lang}: {r:?}"
        );
    }
    let listed = server.finlock_json(
        &["lender", "device", "list", "--lender", &lender, "--json"],
        None,
    );
    assert_eq!(listed["devices"], serde_json::json!([]), "nothing stored");
}
