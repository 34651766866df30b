//! Signing in and managing staff in a real headless Chromium against a real `finlock serve`
//! (issue 16): sign in with the keyboard alone; an owner invites a member of staff whose
//! invitation is accepted in a second browser session; a viewer sees no staff page and no
//! action forms. Every page on the way: labelled controls, no sideways scroll at 360 px,
//! no Content-Security-Policy violation.

#![cfg(unix)]

#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use harness::{Browser, Server, Window, assert_page_is_sound, with_browser};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// Presses the keys of `text` (a `Key` as a char for special keys).
async fn press(b: &Browser, text: &str) {
    let mut actions = KeyActions::new("keyboard".to_string());
    for c in text.chars() {
        actions = actions
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    b.client.perform_actions(actions).await.unwrap();
    b.client.release_actions().await.unwrap();
}

fn key(k: Key) -> String {
    char::from(k).to_string()
}

/// The id of the focused element ("" for none).
async fn focused(b: &Browser) -> String {
    let id = b
        .js(
            "const e = document.activeElement; return e && e.id ? e.id : '';",
            vec![],
        )
        .await;
    id.as_str().unwrap_or("").to_string()
}

/// Presses Tab from the top of the page until `id` has the focus (at most 20 times).
async fn tab_to(b: &Browser, id: &str) {
    b.js(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
        vec![],
    )
    .await;
    for _ in 0..20 {
        press(b, &key(Key::Tab)).await;
        if focused(b).await == id {
            return;
        }
    }
    panic!("Tab never reached #{id}");
}

/// Presses Enter and waits, at most 10 s, for the next page.
async fn enter_and_wait(b: &Browser) {
    b.js("window.__finlockOldPage = true;", vec![]).await;
    press(b, &key(Key::Enter)).await;
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
        assert!(Instant::now() < deadline, "no new page within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types `text` into the element matching `css`.
async fn fill(b: &Browser, css: &str, text: &str) {
    let field = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Signs in through the form.
async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.open("/console/login").await;
    fill(b, "#email", email).await;
    fill(b, "#password", password).await;
    b.click_and_wait("main form button[type=submit]").await;
    assert_eq!(b.path().await, "/console/", "signing in as {email} failed");
}

#[tokio::test]
async fn sign_in_with_the_keyboard_alone() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(&lender, "ann@acme.example", "Ann Atieno", "agent", PASSWORD);
    with_browser(&server, Window::PHONE, |b| async move {
        b.open("/console/account").await;
        assert_eq!(b.path().await, "/console/login?next=/console/account");
        // A wrong password first: the same page says so, the email kept.
        tab_to(&b, "email").await;
        press(&b, "ann@acme.example").await;
        press(&b, &key(Key::Tab)).await;
        assert_eq!(focused(&b).await, "password");
        press(&b, "not the password").await;
        enter_and_wait(&b).await;
        let alert = b.text("[role=alert]").await;
        assert_eq!(alert, "The email, password or one-time code is not right.");
        assert_page_is_sound(&b, "failed sign-in").await;
        // Then the right one, keyboard only: on to the page it asked for.
        tab_to(&b, "password").await;
        press(&b, PASSWORD).await;
        enter_and_wait(&b).await;
        assert_eq!(b.path().await, "/console/account");
        assert_eq!(b.text("h1").await, "Your account");
        assert_page_is_sound(&b, "account page").await;
        b.open("/console/").await;
        assert_eq!(b.path().await, "/console/");
        assert!(b.text(".who").await.contains("Signed in as Ann Atieno"));
        assert_page_is_sound(&b, "start page").await;
        // An agent may not open the staff page.
        b.open("/console/staff").await;
        assert_eq!(b.text("h1").await, "Not allowed for your role");
        // Signing out with the keyboard: the button in the header.
        b.js(
            "document.querySelector('form.logout button').focus();",
            vec![],
        )
        .await;
        enter_and_wait(&b).await;
        assert_eq!(b.path().await, "/console/login");
        b.open("/console/account").await;
        assert_eq!(b.path().await, "/console/login?next=/console/account");
    })
    .await;
}

#[tokio::test]
async fn an_owner_invites_and_the_invitation_is_accepted_in_another_browser() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(
        &lender,
        "olive@acme.example",
        "Olive Owner",
        "owner",
        PASSWORD,
    );
    let link = Arc::new(Mutex::new(String::new()));
    let shown = link.clone();
    with_browser(&server, Window::PHONE, |b| async move {
        sign_in(&b, "olive@acme.example", PASSWORD).await;
        b.open("/console/staff").await;
        assert_eq!(b.text("h1").await, "Staff and API keys");
        assert_page_is_sound(&b, "staff page").await;
        // The owner's own entry has no action forms (those are on the account page).
        let own_forms = b
            .js(
                "return document.querySelectorAll('li.member form').length;",
                vec![],
            )
            .await;
        assert_eq!(own_forms, json!(0));
        fill(&b, "#invite-email", "nia@acme.example").await;
        fill(&b, "#invite-name", "Nia Njeri").await;
        b.client
            .find(Locator::Css("#invite-role"))
            .await
            .unwrap()
            .select_by_value("viewer")
            .await
            .unwrap();
        b.click_and_wait("section[aria-labelledby=invite-heading] button")
            .await;
        let text = b.text("#once-value").await;
        assert!(text.contains("/console/invite/fli_"), "{text}");
        assert_page_is_sound(&b, "staff page with a link").await;
        let main = b.text("main").await;
        assert!(main.contains("Nia Njeri"), "{main}");
        assert!(main.contains("Invited, no password yet"), "{main}");
        *shown.lock().unwrap() = text;
    })
    .await;
    let url = link.lock().unwrap().clone();
    let path = url[url.find("/console/invite/").unwrap()..].to_string();
    with_browser(&server, Window::PHONE, move |b| async move {
        b.open(&path).await;
        assert_eq!(b.text("h1").await, "Choose your password");
        let main = b.text("main").await;
        assert!(
            main.contains("Nia Njeri, you were invited to the console of Acme."),
            "{main}"
        );
        assert_page_is_sound(&b, "invitation page").await;
        fill(&b, "#password", "nia's own long passphrase").await;
        fill(&b, "#confirm", "nia's own long passphrase").await;
        b.click_and_wait("main form button[type=submit]").await;
        assert_eq!(b.path().await, "/console/");
        assert!(b.text(".who").await.contains("Signed in as Nia Njeri"));
        // The link is used up.
        b.open(&path).await;
        assert_eq!(b.text("h1").await, "This link cannot be used");
    })
    .await;
    let staff = server.staff_list(&lender);
    let nia = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "nia@acme.example")
        .unwrap();
    assert_eq!(nia["has_password"], true);
    assert_eq!(nia["role"], "viewer");
}

#[tokio::test]
async fn a_viewer_sees_no_staff_page_and_no_action_forms() {
    let server = Server::start();
    let lender = server.add_lender("Acme");
    server.add_staff(
        &lender,
        "olive@acme.example",
        "Olive Owner",
        "owner",
        PASSWORD,
    );
    server.add_staff(
        &lender,
        "vic@acme.example",
        "Vic Viewer",
        "viewer",
        PASSWORD,
    );
    with_browser(&server, Window::PHONE.with_language("sw"), |b| async move {
        sign_in(&b, "vic@acme.example", PASSWORD).await;
        assert!(b.text(".who").await.contains("Umeingia kama Vic Viewer"));
        // The start page leads an owner to staff and keys; not a viewer.
        let links = b
            .js(
                "return document.querySelectorAll('main a[href=\"/console/staff\"]').length;",
                vec![],
            )
            .await;
        assert_eq!(links, json!(0));
        b.open("/console/staff").await;
        let forms = b
            .js(
                "return [...document.querySelectorAll('form')].map(f => f.getAttribute('action'));",
                vec![],
            )
            .await;
        assert_eq!(forms, json!(["/console/logout", "/console/lang"]));
        assert_page_is_sound(&b, "refused staff page").await;
        // Their own account has their own forms only, in their language.
        b.open("/console/account").await;
        assert_eq!(b.text("h1").await, "Akaunti yako");
        assert_page_is_sound(&b, "account page").await;
        let forms = b
            .js(
                "return [...document.querySelectorAll('main form')].map(f => f.getAttribute('action'));",
                vec![],
            )
            .await;
        assert_eq!(
            forms,
            json!([
                "/console/account/password",
                "/console/account/totp",
                "/console/logout-everywhere"
            ])
        );
        // Setting up the authenticator app shows the QR code as an image the CSP allows.
        b.click_and_wait("form[action='/console/account/totp'] button")
            .await;
        let drawn = b
            .js(
                "const i = document.querySelector('main img'); \
                 return !!i && i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await;
        assert_eq!(drawn, json!(true));
        assert_page_is_sound(&b, "authenticator set-up").await;
    })
    .await;
}

/// The width and height of a PNG (its IHDR chunk).
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let word = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (word(16), word(20))
}

/// A PNG of each page of this file's flows at 360 px and at 1280 px, in
/// `$FINLOCK_CONSOLE_SCREENS` when set (else a throw-away directory); each is checked to be
/// a picture of the window's width.
#[tokio::test]
async fn screenshots_of_the_account_and_staff_pages() {
    let server = Server::start();
    let lender = server.add_lender("Acme Device Finance Ltd");
    server.add_staff(
        &lender,
        "olive@acme.example",
        "Olive Owner",
        "owner",
        PASSWORD,
    );
    server.add_staff(
        &lender,
        "agnes@acme.example",
        "Agnes Wanjiku Njoroge",
        "agent",
        PASSWORD,
    );
    let keep = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("FINLOCK_CONSOLE_SCREENS")
        .map_or_else(|| keep.path().to_path_buf(), std::path::PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    for window in [Window::PHONE, Window::DESKTOP] {
        let dir = dir.clone();
        with_browser(&server, window, move |b| async move {
            let shoot = |name: &'static str| {
                let b = &b;
                let dir = dir.clone();
                async move {
                    let png = b.full_page_screenshot().await;
                    assert_eq!(png_size(&png).0, window.width, "{name}");
                    let file = dir.join(format!("{name}-{}.png", window.width));
                    std::fs::write(file, png).unwrap();
                }
            };
            b.open("/console/login").await;
            fill(&b, "#email", "olive@acme.example").await;
            fill(&b, "#password", "wrong password here").await;
            b.click_and_wait("main form button[type=submit]").await;
            shoot("login-failed").await;
            sign_in(&b, "olive@acme.example", PASSWORD).await;
            shoot("home").await;
            b.open("/console/account").await;
            shoot("account").await;
            b.click_and_wait("form[action='/console/account/totp'] button")
                .await;
            shoot("account-totp-setup").await;
            b.open("/console/staff").await;
            fill(
                &b,
                "#invite-email",
                &format!("new{}@acme.example", window.width),
            )
            .await;
            fill(&b, "#invite-name", "Nia Njeri").await;
            b.click_and_wait("section[aria-labelledby=invite-heading] button")
                .await;
            shoot("staff-invited").await;
            let link = b.text("#once-value").await;
            let path = link[link.find("/console/invite/").unwrap()..].to_string();
            b.client.delete_all_cookies().await.unwrap();
            b.open(&path).await;
            shoot("invite").await;
        })
        .await;
    }
    let written = std::fs::read_dir(&dir).unwrap().count();
    assert!(written >= 12, "{written} files in {}", dir.display());
}
