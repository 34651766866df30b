//! Two agent flows in a real headless Chromium against a real `finlock serve` (issue 16):
//!
//! - an **extension** on a device page: a reason is required (by the browser, and by the
//!   server when a form arrives without one), a confirmation page says what will happen, and
//!   the page then shows the new date while its timeline names the agent;
//! - the **unlock-code desk** end to end: a simulated phone (`finlock device`, the phone's
//!   own core) enrolled with the sale's code and locked for an overdue installment shows its
//!   8-digit request code; the agent types the customer reference, those digits and the days
//!   into the desk, reads back the code, and the phone accepts it (`finlock device code`)
//!   and unlocks. Refusals (no such device, digits that are no request of this phone, a lock
//!   the lender set) show no code, and the audit log holds one code given, naming the agent.
//!
//! Screenshots (into `$FINLOCK_CONSOLE_SCREENS` with `cargo xtask console-screens`) of the
//! pages these and no other flows show: the bulk import page (empty, a refused file, a
//! registered one), the extension's confirmation and the desk's refusal, at 360 and 1280 px.

#![cfg(unix)]

#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;

use fantoccini::Locator;
use harness::{
    Browser, Server, Window, assert_page_is_sound, fill, http_client, save_screenshot, screens_dir,
    set_date, sign_in, with_browser,
};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const AGENT: &str = "agent@acme.example";
const AGENT_NAME: &str = "Amina Wanjiku Njoroge";

/// The lender the tests set up.
struct Lender {
    api_key: String,
    /// Its key set in a file (a simulated phone pins it).
    jwks: PathBuf,
    /// The agent's staff id.
    agent_id: String,
}

/// A server with a lender and an agent.
fn setup() -> (Server, Lender) {
    let server = Server::start();
    let created = server.finlock_json(
        &[
            "lender",
            "add",
            "Acme Device Finance Ltd",
            "--phone",
            "+254700000001",
            "--payment-url",
            "https://pay.example/p",
            "--json",
        ],
        None,
    );
    let id = created["lender_id"].as_str().unwrap().to_string();
    let jwks = server.dir.path().join("jwks.json");
    std::fs::write(&jwks, created["jwks"].to_string()).unwrap();
    let agent_id = server.add_staff(&id, AGENT, AGENT_NAME, "agent", PASSWORD);
    let lender = Lender {
        api_key: created["api_key"].as_str().unwrap().to_string(),
        jwks,
        agent_id,
    };
    (server, lender)
}

/// The device's audit log through the lender API (what was stored, not what a page says).
async fn audit(server: &Server, lender: &Lender, device: &str) -> Vec<Value> {
    let r = http_client()
        .get(format!("{}/v1/lender/devices/{device}/audit", server.url))
        .bearer_auth(&lender.api_key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let v: Value = r.json().await.unwrap();
    v["entries"].as_array().unwrap().clone()
}

/// The date `days` from now (UTC).
fn days_from_now(days: i64) -> jiff::civil::Date {
    let t = jiff::Timestamp::now().as_second() + days * 86_400;
    jiff::Timestamp::from_second(t)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// How an English page writes the last minute of `date`: `30 December 2026, 23:59 UTC`.
fn english_end_of(date: jiff::civil::Date) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = MONTHS[usize::try_from(date.month() - 1).unwrap()];
    format!("{} {month} {}, 23:59 UTC", date.day(), date.year())
}

/// Registers a sale through the form (6 monthly installments of 1,500 KES from
/// `first_due`, grace `grace` days): the device id and its one-time code, read from the
/// QR page it leads to.
async fn register(
    b: &Browser,
    first_due: jiff::civil::Date,
    customer_ref: &str,
) -> (String, String) {
    b.open("/console/sales/new").await;
    fill(b, "#sale-count", "6").await;
    fill(b, "#sale-amount", "1,500").await;
    set_date(b, "sale-first-due", &first_due.to_string()).await;
    fill(b, "#sale-currency", "KES").await;
    fill(b, "#sale-grace", "1").await;
    fill(b, "#sale-ref", customer_ref).await;
    b.click_and_wait("#sale-submit").await;
    let path = b.path().await;
    assert!(path.starts_with("/console/sales/"), "{path}");
    (b.text("#sale-device").await, b.text("#sale-code").await)
}

/// The text of each timeline entry whose title is `what` (`Extended`), newest first.
async fn timeline_entries(b: &Browser, what: &str) -> Vec<String> {
    let found = b
        .js(
            "return [...document.querySelectorAll('.timeline li')] \
               .filter(li => li.querySelector('strong').textContent.trim() === arguments[0]) \
               .map(li => li.textContent.replace(/\\s+/g, ' ').trim());",
            vec![json!(what)],
        )
        .await;
    serde_json::from_value(found).unwrap()
}

/// Sends the extension form of the device page open in `b` and lands on its confirmation.
async fn ask_to_extend(b: &Browser, until: jiff::civil::Date, reason: &str) {
    set_date(b, "extend-until", &until.to_string()).await;
    fill(b, "#extend-reason", reason).await;
    b.click_and_wait("#extend-form button[type=submit]").await;
}

#[tokio::test]
async fn an_extension_needs_a_reason_and_a_confirmation_and_then_shows_its_date() {
    let (server, lender) = setup();
    let until = days_from_now(30);
    let (device, audit_log) = {
        let device = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let seen = device.clone();
        with_browser(&server, Window::PHONE, move |b| async move {
            sign_in(&b, AGENT, PASSWORD).await;
            let (id, _) = register(&b, days_from_now(10), "CT-EXT-1").await;
            *seen.lock().unwrap() = id.clone();
            let page = format!("/console/devices/{id}");
            b.open(&page).await;
            assert_page_is_sound(&b, "device").await;
            let facts = b.text(".facts").await;
            assert!(!facts.contains("Extended until"), "{facts}");

            // The keyboard reaches both fields of the extension, focus visible.
            let stops = b.tab_stops(60).await;
            for wanted in ["input#extend-until", "input#extend-reason"] {
                let stop = stops
                    .iter()
                    .find(|s| s.element == wanted)
                    .unwrap_or_else(|| panic!("{wanted} not reached: {stops:?}"));
                assert!(stop.outline, "{wanted} has no visible focus");
            }

            // Without a reason the browser does not send the form...
            set_date(&b, "extend-until", &until.to_string()).await;
            fill(&b, "#extend-reason", "").await;
            let missing = b
                .js(
                    "const f = document.getElementById('extend-form'); \
                     return [f.checkValidity(), \
                             document.getElementById('extend-reason').validity.valueMissing];",
                    vec![],
                )
                .await;
            assert_eq!(missing, json!([false, true]));
            // ...and a form that arrives without one anyway (the check removed) is refused
            // by the server, which keeps the date typed and changes nothing.
            b.js(
                "document.getElementById('extend-reason').removeAttribute('required');",
                vec![],
            )
            .await;
            fill(&b, "#extend-reason", "   ").await;
            b.click_and_wait("#extend-form button[type=submit]").await;
            let error = b.text("#device-error").await;
            assert!(error.contains("Reason"), "{error}");
            let kept = b
                .js(
                    "return document.getElementById('extend-until').value;",
                    vec![],
                )
                .await;
            assert_eq!(kept, json!(until.to_string()));
            assert!(!b.text(".facts").await.contains("Extended until"));

            // With a reason: a confirmation that names the date and the reason; nothing yet.
            b.open(&page).await;
            ask_to_extend(&b, until, "Promised to pay on the 28th <b>payday</b>").await;
            assert_eq!(b.text("h1").await, "Please confirm");
            let main = b.text("main").await;
            assert!(
                main.contains(&format!("Extend the lock to {}?", english_end_of(until))),
                "{main}"
            );
            assert!(
                main.contains("Reason: Promised to pay on the 28th <b>payday</b>"),
                "the reason shown as text: {main}"
            );
            assert_page_is_sound(&b, "extension confirmation").await;
            b.click_and_wait("#confirm-button").await;

            // Done: the page says so, shows the new date, and its timeline names the agent.
            assert_eq!(b.path().await, format!("{page}?done=extended"));
            assert_eq!(b.text(".notice").await, "The extension is set.");
            let facts = b.text(".facts").await;
            assert!(
                facts.contains(&format!("Extended until\n{}", english_end_of(until)))
                    || facts.contains(&format!("Extended until {}", english_end_of(until))),
                "{facts}"
            );
            let entries = timeline_entries(&b, "Extended").await;
            assert_eq!(entries.len(), 1, "{entries:?}");
            let entry = &entries[0];
            assert!(entry.contains(AGENT_NAME), "names the agent: {entry}");
            assert!(entry.contains(&english_end_of(until)), "{entry}");
            assert!(
                entry.contains("Promised to pay on the 28th <b>payday</b>"),
                "{entry}"
            );
            assert_page_is_sound(&b, "device extended").await;
        })
        .await;
        let id = device.lock().unwrap().clone();
        let log = audit(&server, &lender, &id).await;
        (id, log)
    };
    // Stored once, by the agent, with the end of the chosen day.
    let extended: Vec<&Value> = audit_log
        .iter()
        .filter(|e| e["action"] == "extended")
        .collect();
    assert_eq!(extended.len(), 1, "{audit_log:?}");
    assert_eq!(extended[0]["actor"], format!("staff:{}", lender.agent_id));
    assert_eq!(
        extended[0]["detail"]["reason"],
        "Promised to pay on the 28th <b>payday</b>"
    );
    let end = until
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
        + 86_399;
    assert_eq!(extended[0]["detail"]["until"], end, "{device}");
}

/// `finlock device --state STATE ARGS` (the simulated phone): its standard output; panics
/// unless it succeeded. Its clock is this machine's, moved by `FINLOCK_CLOCK_SHIFT` when
/// given (wall clock and uptime together).
#[cfg(feature = "simulator")]
fn phone(state: &std::path::Path, args: &[&str]) -> String {
    phone_at(state, "", args)
}

/// [`phone`] with the phone's clock `shift` ahead (`+25h`; empty: not moved): time that
/// passed on the phone.
#[cfg(feature = "simulator")]
fn phone_at(state: &std::path::Path, shift: &str, args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_finlock"));
    command
        .args(["device", "--state", &state.display().to_string()])
        .args(args)
        .env("FINLOCK_LOG", "warn")
        .env_remove("FINLOCK_CLOCK")
        .env_remove("FINLOCK_CLOCK_SHIFT");
    if !shift.is_empty() {
        command.env("FINLOCK_CLOCK_SHIFT", shift);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "finlock device {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(feature = "simulator")]
fn phone_locked(state: &std::path::Path, shift: &str) -> bool {
    let status: Value =
        serde_json::from_str(&phone_at(state, shift, &["status", "--json"])).unwrap();
    status["locked"].as_bool().unwrap()
}

/// Types the desk's three fields and sends them.
async fn ask_the_desk(b: &Browser, device: &str, digits: &str, days: &str) {
    b.open("/console/codes").await;
    fill(b, "#codes-device", device).await;
    fill(b, "#codes-challenge", digits).await;
    b.client
        .find(Locator::Css("#codes-days"))
        .await
        .unwrap()
        .select_by_value(days)
        .await
        .unwrap();
    b.click_and_wait("#codes-submit").await;
}

#[cfg(feature = "simulator")]
#[tokio::test]
async fn the_code_desk_gives_a_code_the_locked_phone_accepts_and_refuses_what_it_cannot() {
    let (server, lender) = setup();
    let state = server.dir.path().join("phone");
    let server_url = server.url.clone();
    let jwks = lender.jwks.display().to_string();
    let device = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = device.clone();
    with_browser(&server, Window::PHONE, move |b| async move {
        sign_in(&b, AGENT, PASSWORD).await;
        // Overdue already: the first installment was due 10 days ago, grace 1 day.
        let (id, code) = register(&b, days_from_now(-10), "CT-DESK-7").await;
        *seen.lock().unwrap() = id.clone();
        // The customer's phone scans the QR (here: is given its code) and enrolls; overdue,
        // it shows its notice page at the next unlock, and locks a day of running time later
        // (the phone's clock moved 25 hours ahead from then on).
        let enrolled = phone(
            &state,
            &[
                "enroll",
                "--server",
                &server_url,
                "--lender-keys",
                &jwks,
                "--code",
                &code,
            ],
        );
        assert!(enrolled.contains("enrolled as"), "{enrolled}");
        assert!(!phone_locked(&state, ""), "never locked before its notice");
        let shown = phone(&state, &["notice"]);
        assert!(shown.contains("displayed and recorded"), "{shown}");
        assert!(phone_locked(&state, "+25h"), "an overdue phone is locked");
        // Its lock screen shows the request code the customer reads out.
        let digits = phone_at(&state, "+25h", &["challenge"]).trim().to_string();
        assert_eq!(digits.len(), 8, "{digits}");
        assert!(digits.bytes().all(|c| c.is_ascii_digit()), "{digits}");
        // Read out in two groups, as a person says them.
        let spoken = format!("{} {}", &digits[..4], &digits[4..]);

        // No such device: refused, no code.
        ask_the_desk(&b, "CT-NOBODY", &spoken, "2").await;
        let error = b.text("#codes-error").await;
        assert_eq!(
            error,
            "No device of yours has this id or customer reference."
        );
        assert!(b.client.find(Locator::Css("#unlock-code")).await.is_err());
        // What was typed stays, to correct it.
        let kept = b
            .js(
                "return [document.getElementById('codes-device').value, \
                         document.getElementById('codes-challenge').value];",
                vec![],
            )
            .await;
        assert_eq!(kept[0], json!("CT-NOBODY"));
        assert_page_is_sound(&b, "desk refused").await;

        // Digits that are no request of this phone: refused, no code.
        ask_the_desk(&b, "ct-desk-7", "1234 5678", "2").await;
        assert!(
            b.text("#codes-error")
                .await
                .contains("not a current request code"),
        );
        assert!(b.client.find(Locator::Css("#unlock-code")).await.is_err());

        // The customer reference (any case), the digits and two days: the code.
        ask_the_desk(&b, "ct-desk-7", &spoken, "2").await;
        let answer = b.text("#unlock-code").await;
        assert_eq!(answer.len(), 9, "two groups of four: {answer}");
        assert!(b.text("main").await.contains(&id), "the answer names the device");
        assert!(
            b.text("main")
                .await
                .contains("It unlocks the phone for 2 days.")
        );
        let size = b
            .js(
                "return parseFloat(getComputedStyle(document.getElementById('unlock-code')).fontSize);",
                vec![],
            )
            .await;
        assert!(size.as_f64().unwrap() >= 24.0, "read back from large digits: {size}");
        assert_page_is_sound(&b, "desk answer").await;
        // The customer types what the agent reads out; the phone accepts it and unlocks.
        phone_at(&state, "+25h", &["code", &answer]);
        assert!(!phone_locked(&state, "+25h"), "the code unlocked the phone");

        // A lock the lender set (from the device page): the desk refuses to undo it.
        b.open(&format!("/console/devices/{id}")).await;
        fill(&b, "#lock-reason", "Reported stolen").await;
        b.click_and_wait("#lock-form button[type=submit]").await;
        b.click_and_wait("#confirm-button").await;
        let fresh = phone_at(&state, "+25h", &["challenge"]).trim().to_string();
        ask_the_desk(&b, &id, &fresh, "1").await;
        let error = b.text("#codes-error").await;
        assert!(error.contains("locked by you"), "{error}");
        assert!(b.client.find(Locator::Css("#unlock-code")).await.is_err());

        // The device's timeline names the agent who gave the code.
        b.open(&format!("/console/devices/{id}")).await;
        let given = timeline_entries(&b, "Unlock code given").await;
        assert_eq!(given.len(), 1, "refusals are no code given: {given:?}");
        assert!(given[0].contains(AGENT_NAME), "{given:?}");
        assert!(given[0].contains("2 days"), "{given:?}");
    })
    .await;
    // Stored: one code given, by the agent, for 2 days; the refusals stored nothing.
    let id = device.lock().unwrap().clone();
    let log = audit(&server, &lender, &id).await;
    let issued: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "offline_code_issued")
        .collect();
    assert_eq!(issued.len(), 1, "{log:?}");
    assert_eq!(issued[0]["actor"], format!("staff:{}", lender.agent_id));
    assert_eq!(issued[0]["detail"]["days"], 2);
    // The code itself is never stored.
    assert!(!serde_json::to_string(&log).unwrap().contains("\"code\""));
}

/// The pages only these flows reach, at 360 and 1280 px, in English and Swahili: the bulk
/// import page (empty, a file with a bad row, a registered file), the extension's
/// confirmation, and the desk refusing a device it does not know.
#[tokio::test]
async fn screenshots_of_the_import_page_the_extension_and_the_desk() {
    let (server, _) = setup();
    let (dir, _keep) = screens_dir();
    let due = days_from_now(30);
    let header = "customer_ref,currency,grace_days,installments,amount,first_due,every";
    let files = server.dir.path().to_path_buf();
    let mut written = 0;
    for window in [Window::PHONE, Window::DESKTOP] {
        let dir = dir.clone();
        // Fresh references per width: an imported file registers its devices.
        let w = window.width;
        let bad = files.join(format!("bad-{w}.csv"));
        std::fs::write(
            &bad,
            format!(
                "{header}\r\nW{w}-1,KES,7,6,1500.00,{due},month\r\nW{w}-2,KES,7,6,1500.005,{due},month\r\nW{w}-3,KES,seven,6,1500,{due},month\r\n"
            ),
        )
        .unwrap();
        let good = files.join(format!("good-{w}.csv"));
        std::fs::write(
            &good,
            format!(
                "{header}\r\nW{w}-1,KES,7,6,1500.00,{due},month\r\nW{w}-2,KES,7,6,1500.50,{due},month\r\nW{w}-3,KES,7,6,1500,{due},month\r\n"
            ),
        )
        .unwrap();
        with_browser(&server, window, move |b| async move {
            sign_in(&b, AGENT, PASSWORD).await;
            let (id, _) = register(&b, days_from_now(10), &format!("W{w}-EXT")).await;
            for lang in ["en", "sw"] {
                if lang != "en" {
                    b.choose_language(lang).await;
                }
                b.open("/console/import").await;
                assert_page_is_sound(&b, "import").await;
                save_screenshot(&b, &dir, &format!("import-{lang}")).await;
                let upload = |file: PathBuf| {
                    let b = &b;
                    async move {
                        b.client
                            .find(Locator::Css("#import-file"))
                            .await
                            .unwrap()
                            .send_keys(&file.display().to_string())
                            .await
                            .unwrap();
                        b.click_and_wait("#import-submit").await;
                    }
                };
                upload(bad.clone()).await;
                assert!(b.text("#import-errors").await.len() > 20);
                save_screenshot(&b, &dir, &format!("import-errors-{lang}")).await;
                b.console_log().await;
                if lang == "en" {
                    upload(good.clone()).await;
                    assert!(b.text("#import-done-heading").await.contains("3 devices"));
                    assert_page_is_sound(&b, "import done").await;
                    save_screenshot(&b, &dir, "import-done-en").await;
                }
                b.open(&format!("/console/devices/{id}")).await;
                ask_to_extend(&b, days_from_now(20), "Promised to pay on Friday").await;
                assert!(b.client.find(Locator::Css("#confirm-button")).await.is_ok());
                assert_page_is_sound(&b, "extension confirmation").await;
                save_screenshot(&b, &dir, &format!("device-confirm-extend-{lang}")).await;
                ask_the_desk(&b, "CT-NOBODY", "1234 5678", "3").await;
                assert!(b.text("#codes-error").await.len() > 10);
                save_screenshot(&b, &dir, &format!("codes-refused-{lang}")).await;
                // The refusal's status is in the browser's log as a failed load: not
                // counted against the next page.
                b.console_log().await;
            }
        })
        .await;
        written += 9;
    }
    let found = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("import-")
                || name.starts_with("device-confirm-extend-")
                || name.starts_with("codes-refused-")
        })
        .count();
    assert_eq!(found, written, "in {}", dir.display());
}
