//! The Dashboard and the Devices list in a real headless Chromium against a real `finlock
//! serve` (issue 16): from the dashboard's link to a search typed and sent with Enter; a
//! state filter chosen and sent with the keyboard alone, the URL carrying it; every
//! control labelled, nothing wider than a 360 px phone, no Content-Security-Policy
//! violation. Screenshots of both pages (en and sw) at 360 and 1280 px go to
//! `$FINLOCK_CONSOLE_SCREENS` (`cargo xtask console-screens`) when set.

#![cfg(unix)]

#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use harness::{Browser, Server, Window, assert_page_is_sound, http_client, with_browser};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const DAY: i64 = 86_400;

fn screens_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("FINLOCK_CONSOLE_SCREENS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            (dir, None)
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            (tmp.path().to_path_buf(), Some(tmp))
        }
    }
}

/// Registers a device of one installment due `days` from now (negative: past) through
/// the lender API: its id.
async fn register(server: &Server, key: &str, customer_ref: &str, days: i64) -> String {
    let due = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + days * DAY;
    let r = http_client()
        .post(format!("{}/v1/lender/devices", server.url))
        .bearer_auth(key)
        .json(&json!({
            "customer_ref": customer_ref,
            "plan": { "currency": "KES", "grace_days": 60,
                      "installments": [{ "due": due, "amount_minor": 1_250_000 }] }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["device_id"].as_str().unwrap().to_string()
}

/// A server with a lender (a long name), an agent, and devices: two overdue, three
/// current, one paid in full.
async fn setup() -> (Server, Vec<String>) {
    let server = Server::start();
    let created = server.finlock_json(
        &[
            "lender",
            "add",
            "Acme Device Finance <script>alert(1)</script> Ltd",
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
    server.add_staff(
        &lender,
        "agent@acme.example",
        "Amina Wanjiku Njoroge",
        "agent",
        PASSWORD,
    );
    let mut overdue = vec![
        register(&server, &key, "CT-2026/0001", -12).await,
        register(&server, &key, "CT-2026/0002", -45).await,
    ];
    overdue.sort();
    for (i, days) in [10, 20, 30].into_iter().enumerate() {
        register(&server, &key, &format!("SHOP-NAIROBI-{i:04}"), days).await;
    }
    // One paid in full: collected this month, and released within the week.
    let paid = register(&server, &key, "PAID-0003", 3).await;
    let r = http_client()
        .post(format!("{}/v1/lender/devices/{paid}/payments", server.url))
        .bearer_auth(&key)
        .header("Idempotency-Key", "paid-0003")
        .json(&json!({ "amount_minor": 1_250_000, "currency": "KES", "reference": "MPESA-QX1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    (server, overdue)
}

async fn fill(b: &Browser, css: &str, text: &str) {
    let field = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn sign_in(b: &Browser) {
    b.open("/console/login").await;
    fill(b, "#email", "agent@acme.example").await;
    fill(b, "#password", PASSWORD).await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_eq!(b.path().await, "/console/", "signing in failed");
}

/// Presses `keys` one after another on whatever has the focus.
async fn press(b: &Browser, keys: &[char]) {
    let mut actions = KeyActions::new("keys".to_string());
    for k in keys {
        actions = actions
            .then(KeyAction::Down { value: *k })
            .then(KeyAction::Up { value: *k });
    }
    b.client.perform_actions(actions).await.unwrap();
    b.client.release_actions().await.unwrap();
}

/// Presses `keys`, the last of which sends a form, and waits (at most 10 s) for the
/// next page.
async fn press_and_wait(b: &Browser, keys: &[char]) {
    b.js("window.__finlockOldPage = true;", vec![]).await;
    press(b, keys).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let loaded = b
            .client
            .execute(
                "return !window.__finlockOldPage && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if let Ok(Value::Bool(true)) = loaded {
            return;
        }
        assert!(Instant::now() < deadline, "no new page after {keys:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The device ids in the list's table.
async fn listed(b: &Browser) -> Vec<String> {
    let ids = b
        .js(
            "return Array.from(document.querySelectorAll('#devices-table tbody td:first-child a'))\
             .map(a => a.textContent.trim());",
            vec![],
        )
        .await;
    let mut ids: Vec<String> = serde_json::from_value(ids).unwrap();
    ids.sort();
    ids
}

#[tokio::test]
async fn search_from_the_dashboard_and_filter_by_state_with_the_keyboard() {
    let (server, overdue) = setup().await;
    with_browser(&server, Window::PHONE, |b| async move {
        sign_in(&b).await;
        assert_page_is_sound(&b, "dashboard").await;
        let by_state = b.text("#dash-states-table").await;
        assert!(by_state.contains("Overdue"), "{by_state}");

        // The dashboard's link to the list, then a search sent with Enter.
        b.click_and_wait("main a[href='/console/devices']").await;
        assert_eq!(b.path().await, "/console/devices");
        assert_page_is_sound(&b, "devices").await;
        assert_eq!(listed(&b).await.len(), 6);
        let label = b.text("label[for=q]").await;
        assert_eq!(label, "Device id, customer reference or last IMEI digits");
        b.client
            .find(Locator::Css("#q"))
            .await
            .unwrap()
            .send_keys("ct-2026")
            .await
            .unwrap();
        press_and_wait(&b, &[char::from(Key::Enter)]).await;
        assert_eq!(listed(&b).await, overdue);
        let search = b.js("return location.search;", vec![]).await;
        assert!(search.as_str().unwrap().contains("q=ct-2026"), "{search}");

        // A state chosen with the keyboard alone: focus the state list from the search
        // box with Tab, type the state's first letter, Tab to the button, Enter.
        b.open("/console/devices").await;
        b.js("document.getElementById('q').focus();", vec![]).await;
        let tab = char::from(Key::Tab);
        press(&b, &[tab]).await;
        let focused = b.js("return document.activeElement.id;", vec![]).await;
        assert_eq!(focused, json!("state"));
        press(&b, &['O']).await;
        let chosen = b
            .js("return document.getElementById('state').value;", vec![])
            .await;
        assert_eq!(chosen, json!("overdue"));
        press(&b, &[tab, tab, tab, tab]).await;
        let focused = b.js("return document.activeElement.id;", vec![]).await;
        assert_eq!(focused, json!("devices-submit"));
        let outline = b
            .js(
                "const s = getComputedStyle(document.activeElement); \
                 return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;",
                vec![],
            )
            .await;
        assert_eq!(outline, json!(true), "the focus is visible");
        press_and_wait(&b, &[char::from(Key::Enter)]).await;
        let search = b.js("return location.search;", vec![]).await;
        assert!(
            search.as_str().unwrap().contains("state=overdue"),
            "{search}"
        );
        assert_eq!(listed(&b).await, overdue);
        let kept = b
            .js("return document.getElementById('state').value;", vec![])
            .await;
        assert_eq!(kept, json!("overdue"), "the form shows the filter");
        assert_page_is_sound(&b, "devices filtered").await;
    })
    .await;
}

#[tokio::test]
async fn screenshots_of_the_dashboard_and_the_device_list() {
    let (server, _) = setup().await;
    let (dir, _keep) = screens_dir();
    for window in [Window::PHONE, Window::DESKTOP] {
        let dir = dir.clone();
        with_browser(&server, window, move |b| async move {
            sign_in(&b).await;
            let shoot = |name: String| {
                let b = &b;
                let dir = dir.clone();
                async move {
                    let png = b.full_page_screenshot().await;
                    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
                    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
                    assert_eq!(width, window.width, "{name}");
                    std::fs::write(dir.join(format!("{name}-{}.png", window.width)), &png).unwrap();
                }
            };
            for lang in ["en", "sw"] {
                if lang != "en" {
                    b.choose_language(lang).await;
                }
                for (name, path) in [("dashboard", "/console/"), ("devices", "/console/devices")] {
                    b.open(path).await;
                    assert_page_is_sound(&b, name).await;
                    shoot(format!("{name}-{lang}")).await;
                }
            }
            // The refused filter last: the browser logs its 400 as a failed load, which
            // the CSP check above would take for an error.
            for lang in ["sw", "en"] {
                if lang != "sw" {
                    b.choose_language(lang).await;
                }
                b.open("/console/devices?state=lost&q=CT-1").await;
                assert!(b.text("#devices-error").await.len() > 10);
                shoot(format!("devices-error-{lang}")).await;
            }
        })
        .await;
    }
    let written = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("dashboard-") || name.starts_with("devices-")
        })
        .count();
    assert!(written >= 12, "{written} in {}", dir.display());
}
