//! The device pages in a real headless Chromium against a real `finlock serve` (issue 16):
//! register a sale and see the QR (decoded by the browser, large enough to scan) and the
//! one-time code; record and void a payment; lock with a reason; the keyboard reaches the
//! forms; every page on the way labelled, no sideways scroll at 360 px, no
//! Content-Security-Policy violation. Screenshots of every device page at 360 and 1280 px
//! go to `$FINLOCK_CONSOLE_SCREENS` (`cargo xtask console-screens`) when set.

#![cfg(unix)]

#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;

use fantoccini::Locator;
use harness::{
    Browser, Server, Window, assert_page_is_sound, fill, screens_dir, set_date, with_browser,
};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

/// A server with a lender and an agent: (server, the lender's key set file, which a
/// simulated phone pins).
fn setup() -> (Server, PathBuf) {
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
    let jwks = server.dir.path().join("jwks.json");
    std::fs::write(&jwks, created["jwks"].to_string()).unwrap();
    server.add_staff(
        &lender,
        "agent@acme.example",
        "Amina Wanjiku Njoroge",
        "agent",
        PASSWORD,
    );
    (server, jwks)
}

async fn sign_in(b: &Browser) {
    harness::sign_in(b, "agent@acme.example", PASSWORD).await;
}

/// Registers a sale through the form (6 monthly installments of 1,500 KES from
/// `first_due`): the device id, read from the QR page it leads to.
async fn register(b: &Browser, first_due: &str, customer_ref: &str) -> String {
    b.open("/console/sales/new").await;
    assert_page_is_sound(b, "sale form").await;
    fill(b, "#sale-count", "6").await;
    fill(b, "#sale-amount", "1,500").await;
    set_date(b, "sale-first-due", first_due).await;
    fill(b, "#sale-currency", "KES").await;
    fill(b, "#sale-grace", "3").await;
    fill(b, "#sale-ref", customer_ref).await;
    b.click_and_wait("#sale-submit").await;
    let path = b.path().await;
    assert!(path.starts_with("/console/sales/"), "{path}");
    b.text("#sale-device").await
}

/// The date `days` from now, `YYYY-MM-DD`.
fn days_from_now(days: i64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + days * 86_400;
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

#[tokio::test]
async fn a_sale_is_registered_and_its_qr_and_code_are_shown_large() {
    let (server, _keys) = setup();
    with_browser(&server, Window::PHONE, |b| async move {
        sign_in(&b).await;
        // A bad amount first: the form comes back with it and says which field.
        b.open("/console/sales/new").await;
        fill(&b, "#sale-count", "6").await;
        fill(&b, "#sale-amount", "15OO").await;
        set_date(&b, "sale-first-due", &days_from_now(30)).await;
        fill(&b, "#sale-currency", "KES").await;
        b.click_and_wait("#sale-submit").await;
        assert!(
            b.text("#sale-error")
                .await
                .contains("Amount of each installment")
        );
        let kept = b
            .js("return document.getElementById('sale-amount').value;", vec![])
            .await;
        assert_eq!(kept, json!("15OO"));

        let id = register(&b, &days_from_now(30), "CT-2026/0042").await;
        assert!(id.starts_with("dev"), "{id}");
        assert_page_is_sound(&b, "sale done").await;
        // The QR is an image the browser decoded, at least 250 px wide on a 360 px phone.
        let qr = b
            .js(
                "const i = document.getElementById('sale-qr'); \
                 return [i.complete, i.naturalWidth, i.getBoundingClientRect().width, \
                         i.getAttribute('src').slice(0, 22)];",
                vec![],
            )
            .await;
        assert_eq!(qr[0], json!(true), "{qr}");
        assert!(qr[1].as_f64().unwrap() > 0.0, "not decoded: {qr}");
        assert!(qr[2].as_f64().unwrap() >= 250.0, "too small: {qr}");
        assert_eq!(qr[3], json!("data:image/png;base64,"));
        let code = b.text("#sale-code").await;
        assert_eq!(code.len(), 14, "{code}");
        assert_eq!(code.matches('-').count(), 2, "{code}");
        let size = b
            .js(
                "return parseFloat(getComputedStyle(document.getElementById('sale-code')).fontSize);",
                vec![],
            )
            .await;
        assert!(size.as_f64().unwrap() >= 24.0, "the code is not large: {size}");
        // On one line even on a phone: a code broken across lines is misread.
        let lines = b
            .js(
                "const e = document.getElementById('sale-code'); \
                 return e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight);",
                vec![],
            )
            .await;
        assert!(lines.as_f64().unwrap() < 1.5, "the code wraps: {lines}");
        // On to the device it made.
        b.click_and_wait("#sale-device-link").await;
        assert_eq!(b.path().await, format!("/console/devices/{id}"));
        assert!(b.text("main").await.contains("CT-2026/0042"));
    })
    .await;
}

#[tokio::test]
async fn a_payment_is_recorded_and_voided_and_the_phone_is_locked_with_a_reason() {
    let (server, _keys) = setup();
    with_browser(&server, Window::PHONE, |b| async move {
        sign_in(&b).await;
        let id = register(&b, &days_from_now(20), "CT-7").await;
        b.open(&format!("/console/devices/{id}")).await;
        assert_page_is_sound(&b, "device").await;
        // The keyboard reaches the payment and lock forms, focus visible.
        let stops = b.tab_stops(40).await;
        for wanted in [
            "input#pay-amount",
            "input#pay-reference",
            "textarea#lock-reason",
        ] {
            let stop = stops
                .iter()
                .find(|s| s.element == wanted)
                .unwrap_or_else(|| panic!("{wanted} not reached: {stops:?}"));
            assert!(stop.outline, "{wanted} has no visible focus");
        }

        fill(&b, "#pay-amount", "1,500").await;
        fill(&b, "#pay-reference", "MPESA-QX1").await;
        b.click_and_wait("#payment-form button[type=submit]").await;
        assert!(b.path().await.ends_with("?done=payment"));
        assert_eq!(b.text(".notice").await, "The payment is recorded.");
        let payments = b.text(".payments").await;
        assert!(payments.contains("KES\u{a0}1,500.00") || payments.contains("KES 1,500.00"));
        assert!(payments.contains("MPESA-QX1"));
        assert_page_is_sound(&b, "device after payment").await;

        fill(&b, ".payments input[name=reason]", "Bounced transfer").await;
        b.click_and_wait(".payments button[type=submit]").await;
        assert!(b.text("h1").await.contains("Please confirm"));
        assert_page_is_sound(&b, "void confirmation").await;
        b.click_and_wait("#confirm-button").await;
        assert_eq!(b.text(".notice").await, "The payment is voided.");
        assert!(b.text(".payments").await.contains("Bounced transfer"));
        assert!(
            b.client
                .find(Locator::Css(".payments button"))
                .await
                .is_err(),
            "a voided payment has no void button"
        );

        fill(&b, "#lock-reason", "Reported stolen <b>call us</b>").await;
        b.click_and_wait("#lock-form button[type=submit]").await;
        assert!(
            b.text("main")
                .await
                .contains("Reported stolen <b>call us</b>")
        );
        b.click_and_wait("#confirm-button").await;
        assert!(b.text(".notice").await.starts_with("The lock is set."));
        assert_eq!(b.text(".badge").await, "Locked");
        let facts = b.text(".facts").await;
        assert!(facts.contains("Reported stolen <b>call us</b>"), "{facts}");
        let timeline = b.text(".timeline").await;
        assert!(timeline.contains("Locked"), "{timeline}");
        assert!(timeline.contains("Amina Wanjiku Njoroge"), "{timeline}");
        assert_page_is_sound(&b, "device locked").await;
    })
    .await;
}

/// Every device page at 360 and 1280 px, in English and Swahili: a locked, enrolled phone
/// with payments (its lock-screen preview), a confirmation, the sale form with an error,
/// the QR page, the code desk with an answer.
#[cfg(feature = "simulator")]
#[tokio::test]
async fn screenshots_of_the_device_pages() {
    let (server, jwks) = setup();
    let (dir, _keep) = screens_dir();
    let shots = dir.clone();
    let server_url = server.url.clone();
    let state = server.dir.path().join("phone");
    let bin = env!("CARGO_BIN_EXE_finlock");
    with_browser(&server, Window::DESKTOP, move |mut b| async move {
        sign_in(&b).await;
        // An enrolled phone that is overdue, with a payment, to picture.
        let id = register(&b, &days_from_now(-40), "CT-0099").await;
        let code = b.text("#sale-code").await;
        let out = std::process::Command::new(bin)
            .args(["device", "--state", &state.display().to_string()])
            .args(["enroll", "--server", &server_url, "--lender-keys"])
            .arg(&jwks)
            .args(["--code", &code])
            .env("FINLOCK_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let challenge = std::process::Command::new(bin)
            .args([
                "device",
                "--state",
                &state.display().to_string(),
                "challenge",
            ])
            .env("FINLOCK_LOG", "warn")
            .output()
            .unwrap();
        let challenge = String::from_utf8_lossy(&challenge.stdout)
            .trim()
            .to_string();
        b.open(&format!("/console/devices/{id}")).await;
        fill(&b, "#pay-amount", "1500").await;
        fill(&b, "#pay-reference", "MPESA-QX1").await;
        b.click_and_wait("#payment-form button[type=submit]").await;
        assert!(
            b.text("#phone-preview")
                .await
                .contains("This device is locked")
        );
        // A sale whose phone has not enrolled yet: its QR and code.
        let fresh = register(&b, &days_from_now(30), "CT-0100").await;
        let pages: Vec<(&str, String)> = vec![
            ("device", format!("/console/devices/{id}")),
            ("sale-new", "/console/sales/new".into()),
            ("sale-done", format!("/console/sales/{fresh}")),
            ("codes", "/console/codes".into()),
        ];
        for window in [Window::PHONE, Window::DESKTOP] {
            b.client
                .set_window_size(window.width, window.height)
                .await
                .unwrap();
            b.window = window;
            for lang in ["en", "sw"] {
                set_lang(&b, lang).await;
                for (name, path) in &pages {
                    b.open(path).await;
                    if *name == "codes" {
                        fill(&b, "#codes-device", "ct-0099").await;
                        fill(&b, "#codes-challenge", &challenge).await;
                        b.click_and_wait("#codes-submit").await;
                        assert_eq!(b.text("#unlock-code").await.len(), 9, "{lang}");
                    }
                    assert_page_is_sound(&b, &format!("{name} {lang} {}", window.width)).await;
                    shot(&b, &shots, &format!("device-{name}-{lang}"), window).await;
                }
                // The lock confirmation and the sale form with an error.
                b.open(&format!("/console/devices/{id}")).await;
                fill(
                    &b,
                    "#lock-reason",
                    "Reported stolen. Call us on 0700 000 001.",
                )
                .await;
                b.click_and_wait("#lock-form button[type=submit]").await;
                assert_page_is_sound(&b, "confirm").await;
                shot(&b, &shots, &format!("device-confirm-lock-{lang}"), window).await;
                b.open("/console/sales/new").await;
                fill(&b, "#sale-count", "6").await;
                fill(&b, "#sale-amount", "abc").await;
                fill(&b, "#sale-currency", "KES").await;
                b.click_and_wait("#sale-submit").await;
                assert_page_is_sound(&b, "sale error").await;
                shot(&b, &shots, &format!("device-sale-error-{lang}"), window).await;
            }
        }
    })
    .await;
    let written = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("device-"))
        .count();
    assert!(written >= 24, "{written} screenshots in {}", dir.display());
}

async fn set_lang(b: &Browser, lang: &str) {
    b.choose_language(lang).await;
}

async fn shot(b: &Browser, dir: &std::path::Path, name: &str, window: Window) {
    let png = b.full_page_screenshot().await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, window.width, "{name}");
    std::fs::write(dir.join(format!("{name}-{}.png", window.width)), &png).unwrap();
}
