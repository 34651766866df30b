//! The lender console in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`) against a real `finlock serve` (issue 16): languages, the redirect to
//! sign in, keyboard use, labels, no horizontal scroll on a 360 px phone, no
//! Content-Security-Policy violation; and screenshots of every page at 360 and 1280 px
//! (`cargo xtask console-screens` writes them to build/console-screens/).
//!
//! The harness (server, chromedriver, browser, cleanup) is in `console_browser/harness.rs`.

#![cfg(unix)]

// Shared with console_http.rs; each test crate uses part of it.
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;

use finlock_server::console::i18n::Lang;
use finlock_server::console::page::{self, Chrome, MessagePage, Section, Staff};
use harness::{Browser, Server, Window, is_csp_violation, with_browser};
use serde_json::json;

/// Where `cargo xtask console-screens` wants the PNGs; a test run without it writes them
/// to a throw-away directory (they are checked either way).
const SCREENS_VAR: &str = "FINLOCK_CONSOLE_SCREENS";

/// Every console page there is to see now: (file name, path, the language cookie).
const PAGES: &[(&str, &str, Option<&str>)] = &[
    ("login-en", "/console/login", None),
    ("login-sw", "/console/login", Some("sw")),
    ("login-es", "/console/login", Some("es")),
    ("not-found-en", "/console/assets/no-such-file.css", None),
];

/// The layout a signed-in member of staff sees (header with lender and staff name, sign
/// out, the menu), rendered by the library: no route serves it before sign-in exists.
/// The names are long on purpose: the header must still fit a phone.
fn signed_in_layout(lang: Lang) -> String {
    page::html(&MessagePage {
        chrome: Chrome::signed_in(
            lang,
            "nav-devices",
            "/console/devices",
            Staff {
                staff_name: "Amina Wanjiku Njoroge".into(),
                lender_name: "Acme Device Finance <script>alert(1)</script> Ltd".into(),
                csrf: "token".into(),
            },
            Some(Section::Devices),
        ),
        body_id: "not-found-body",
        link: None,
    })
    .unwrap()
}

/// Shows `html` in the browser as if the server had answered it for the page it is on
/// (same origin, same Content-Security-Policy: only the document is replaced).
async fn show_html(b: &Browser, html: &str) {
    b.open("/console/login").await;
    b.js(
        "document.open(); document.write(arguments[0]); document.close();",
        vec![json!(html)],
    )
    .await;
    // The stylesheet is loaded before anything is measured (at most 10 s).
    for _ in 0..200 {
        let loaded = b
            .js(
                "const l = document.querySelector('link[rel=stylesheet]'); \
                 return !!(l && l.sheet) && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if loaded == json!(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the stylesheet did not load");
}

/// The signed-in layout on a phone: it fits, the lender's name is text, and the keyboard
/// reaches sign-out and every menu entry in order, each with a visible focus.
#[tokio::test]
async fn the_signed_in_layout_fits_a_phone_and_the_keyboard_reaches_the_menu() {
    let server = Server::start();
    with_browser(&server, Window::PHONE, |b| async move {
        show_html(&b, &signed_in_layout(Lang::En)).await;
        let widths = b
            .js(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await;
        assert!(widths[0].as_u64() <= widths[1].as_u64(), "sideways scroll: {widths}");
        let who = b.text(".who").await;
        assert!(who.contains("Acme Device Finance <script>alert(1)</script> Ltd"), "{who}");
        assert!(who.contains("Signed in as Amina Wanjiku Njoroge"), "{who}");
        let stops = b.tab_stops(11).await;
        let order: Vec<&str> = stops.iter().map(|s| s.element.as_str()).collect();
        assert_eq!(
            order,
            [
                "a[href=#main]",
                "button[Sign out]",
                "a[href=/console/]",
                "a[href=/console/devices]",
                "a[href=/console/sales/new]",
                "a[href=/console/codes]",
                "a[href=/console/import]",
                "a[href=/console/staff]",
                "select#lang-picker",
                "button[Change language]",
                "body",
            ]
        );
        assert!(stops[..10].iter().all(|s| s.outline), "{stops:?}");
        let current = b.text("nav a[aria-current=page]").await;
        assert_eq!(current, "Devices");
        b.assert_no_csp_violations().await;
    })
    .await;
}

async fn h1_and_lang(b: &Browser) -> (String, String) {
    let lang = b.js("return document.documentElement.lang;", vec![]).await;
    (b.text("h1").await, lang.as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn the_sign_in_page_speaks_the_browsers_language_and_the_picker_remembers_a_choice() {
    let server = Server::start();
    with_browser(&server, Window::PHONE, |b| async move {
        b.open("/console/login").await;
        assert_eq!(h1_and_lang(&b).await, ("Sign in".into(), "en".into()));
        b.assert_no_csp_violations().await;
    })
    .await;
    with_browser(
        &server,
        Window::PHONE.with_language("sw-KE,sw;q=0.9"),
        |b| async move {
            b.open("/console/login").await;
            assert_eq!(h1_and_lang(&b).await, ("Ingia".into(), "sw".into()));
            assert_eq!(b.text("label[for=password]").await, "Nenosiri");
            // The picker: choose Spanish, send, and come back to the same page in Spanish.
            b.choose_language("es").await;
            assert_eq!(b.path().await, "/console/login");
            assert_eq!(
                h1_and_lang(&b).await,
                ("Iniciar sesión".into(), "es".into())
            );
            // The choice outlives the page: a cookie scripts cannot read, kept on reload
            // although the browser still asks for Swahili.
            let cookie = b.client.get_named_cookie("lang").await.unwrap();
            assert_eq!(cookie.value(), "es");
            assert_eq!(cookie.http_only(), Some(true));
            assert_eq!(b.js("return document.cookie;", vec![]).await, json!(""));
            b.client.refresh().await.unwrap();
            assert_eq!(h1_and_lang(&b).await.1, "es");
            b.assert_no_csp_violations().await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_visitor_who_is_not_signed_in_is_sent_to_sign_in() {
    let server = Server::start();
    with_browser(&server, Window::DESKTOP, |b| async move {
        for path in ["/console/", "/console", "/console/devices/dev-x?page=2"] {
            b.open(path).await;
            let landed = b.path().await;
            // Sign-in, carrying the page asked for (when it was one beyond the start).
            let (page, next) = landed.split_once('?').unwrap_or((landed.as_str(), ""));
            assert_eq!(page, "/console/login", "{path}");
            if path.starts_with("/console/devices") {
                assert_eq!(next, "next=/console/devices/dev-x%3Fpage%3D2", "{path}");
            }
            assert_eq!(b.text("h1").await, "Sign in", "{path}");
        }
        b.assert_no_csp_violations().await;
    })
    .await;
}

/// The order a keyboard user meets the sign-in page's controls in, each focus visible.
#[tokio::test]
async fn the_keyboard_reaches_every_control_in_order_with_a_visible_focus() {
    let server = Server::start();
    with_browser(&server, Window::PHONE, |b| async move {
        b.open("/console/login").await;
        let stops = b.tab_stops(8).await;
        let order: Vec<&str> = stops.iter().map(|s| s.element.as_str()).collect();
        assert_eq!(
            order,
            [
                "a[href=#main]",
                "input#email",
                "input#password",
                "input#otp",
                "button[Sign in]",
                "select#lang-picker",
                "button[Change language]",
                "body",
            ],
            "Tab order"
        );
        // Every control the keyboard reaches shows where the focus is.
        let unseen: Vec<&str> = stops[..7]
            .iter()
            .filter(|s| !s.outline)
            .map(|s| s.element.as_str())
            .collect();
        assert!(unseen.is_empty(), "no visible focus outline: {unseen:?}");
        // The skip link is off screen until the first Tab brings it into view.
        let hidden = b
            .js(
                "return document.querySelector('a.skip').getBoundingClientRect().bottom;",
                vec![],
            )
            .await;
        assert!(hidden.as_f64().unwrap() <= 0.0, "skip link visible: {hidden}");
        assert_eq!(b.tab_stops(1).await[0].element, "a[href=#main]");
        let shown = b
            .js(
                "const r = document.activeElement.getBoundingClientRect(); return [r.top, r.bottom];",
                vec![],
            )
            .await;
        assert!(shown[0].as_f64().unwrap() >= 0.0, "{shown}");
        b.assert_no_csp_violations().await;
    })
    .await;
}

/// Every form control has a label (a `<label for>`, or `aria-label`); every button says
/// what it does.
#[tokio::test]
async fn every_control_is_labelled_on_every_page() {
    let server = Server::start();
    with_browser(&server, Window::PHONE, |b| async move {
        for (name, path, _) in PAGES {
            b.open(path).await;
            let unlabelled = b
                .js(
                    "const bad = []; \
                     for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea')) { \
                       const named = (e.labels && e.labels.length > 0 && e.labels[0].textContent.trim()) \
                         || e.getAttribute('aria-label'); \
                       if (!named) bad.push(e.outerHTML); \
                     } \
                     for (const e of document.querySelectorAll('button, a[href]')) { \
                       if (!e.textContent.trim() && !e.getAttribute('aria-label')) bad.push(e.outerHTML); \
                     } \
                     return bad;",
                    vec![],
                )
                .await;
            assert_eq!(unlabelled, json!([]), "{name}");
            let controls = b
                .js(
                    "return document.querySelectorAll('input:not([type=hidden]), select').length;",
                    vec![],
                )
                .await;
            assert!(controls.as_u64().unwrap() >= 1, "{name}: no controls found");
        }
    })
    .await;
}

/// Nothing is wider than a 360 px phone; the desktop layout does not overflow either.
#[tokio::test]
async fn no_page_scrolls_sideways_on_a_phone_or_a_desktop() {
    let server = Server::start();
    for window in [Window::PHONE, Window::DESKTOP] {
        with_browser(&server, window, move |b| async move {
            for (name, path, lang) in PAGES {
                set_language(&b, *lang).await;
                b.open(path).await;
                let widths = b
                    .js(
                        "return [document.documentElement.scrollWidth, \
                                 document.documentElement.clientWidth, window.innerWidth];",
                        vec![],
                    )
                    .await;
                let scroll = widths[0].as_u64().unwrap();
                let client = widths[1].as_u64().unwrap();
                assert_eq!(
                    widths[2].as_u64().unwrap(),
                    u64::from(window.width),
                    "{name}: the window is not the size asked for: {widths}"
                );
                assert!(
                    scroll <= client,
                    "{name} at {} px scrolls sideways: {widths}",
                    window.width
                );
            }
            b.assert_no_csp_violations().await;
        })
        .await;
    }
}

/// The CSP check itself can fail: inline style added to a console page is refused by the
/// browser and seen in its log.
#[tokio::test]
async fn a_csp_violation_would_be_seen() {
    let server = Server::start();
    with_browser(&server, Window::DESKTOP, |b| async move {
        b.open("/console/login").await;
        b.assert_no_csp_violations().await;
        b.js(
            "const s = document.createElement('style'); s.textContent = 'body{color:red}'; \
             document.head.appendChild(s);",
            vec![],
        )
        .await;
        let applied = b
            .js("return getComputedStyle(document.body).color;", vec![])
            .await;
        assert_ne!(applied, json!("rgb(255, 0, 0)"), "inline style was applied");
        let log = b.console_log().await;
        assert!(log.iter().any(is_csp_violation), "{log:#?}");
    })
    .await;
}

/// Sets the console's language the way a person does (the picker), or clears it.
async fn set_language(b: &Browser, lang: Option<&str>) {
    b.open("/console/login").await;
    let _ = b.client.delete_cookie("lang").await;
    if let Some(lang) = lang {
        b.choose_language(lang).await;
    }
}

fn screens_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os(SCREENS_VAR) {
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

/// The width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// A PNG of every page at 360 px and at 1280 px, in `$FINLOCK_CONSOLE_SCREENS` when set
/// (`cargo xtask console-screens`); each is checked to be a picture of the window's width.
#[tokio::test]
async fn screenshots_of_every_page() {
    let server = Server::start();
    let (dir, _keep) = screens_dir();
    for window in [Window::PHONE, Window::DESKTOP] {
        let dir = dir.clone();
        with_browser(&server, window, move |b| async move {
            for (name, path, lang) in PAGES {
                set_language(&b, *lang).await;
                b.open(path).await;
                let png = b.full_page_screenshot().await;
                let (width, height) = png_size(&png);
                assert_eq!(width, window.width, "{name}");
                assert!(height > 100, "{name}: {height}");
                let file = dir.join(format!("{name}-{}.png", window.width));
                std::fs::write(&file, &png).unwrap();
            }
            for lang in [Lang::En, Lang::Sw] {
                show_html(&b, &signed_in_layout(lang)).await;
                let png = b.full_page_screenshot().await;
                assert_eq!(png_size(&png).0, window.width);
                let file = dir.join(format!(
                    "layout-signed-in-{}-{}.png",
                    lang.code(),
                    window.width
                ));
                std::fs::write(&file, &png).unwrap();
            }
        })
        .await;
    }
    let written = std::fs::read_dir(&dir).unwrap().count();
    assert!(
        written >= PAGES.len() * 2,
        "{written} files in {}",
        dir.display()
    );
}
