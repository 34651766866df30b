//! The preview's screens against the app's words, and every level from the core's decision.

use super::*;
use finlock_core::protocol::{Account, Escalation};
use std::collections::BTreeMap;

const DAY: i64 = 86_400;
/// 2026-03-14 00:00 UTC: the notice starts.
const NOTICE: i64 = 1_773_446_400;
/// 2026-03-24 00:00 UTC: restricted.
const RESTRICT: i64 = NOTICE + 10 * DAY;
/// 2026-04-03 00:00 UTC: locked.
const LOCK: i64 = NOTICE + 20 * DAY;

/// The console's `phone-*` messages and the app's string each was copied from, with
/// the app's `%n$s` arguments by name.
const SAME_WORDS: &[(&str, &str, &[&str])] = &[
    ("phone-lock-title", "lock_title", &[]),
    (
        "phone-reason-overdue-payment",
        "reason_overdue_payment",
        &[],
    ),
    ("phone-reason-lender-request", "reason_lender_request", &[]),
    ("phone-reason-offline", "reason_offline", &[]),
    ("phone-reason-clock-suspect", "reason_clock_suspect", &[]),
    ("phone-lender-name", "lender_name", &["name"]),
    ("phone-amount-due", "amount_due", &["amount"]),
    ("phone-due-date", "due_date", &["date"]),
    ("phone-lender-message", "lender_message", &["name", "text"]),
    (
        "phone-payment-instructions",
        "payment_instructions",
        &["text"],
    ),
    ("phone-emergency-call", "emergency_call", &[]),
    ("phone-call-lender", "call_lender", &["phone"]),
    ("phone-pay-now", "pay_now", &[]),
    ("phone-check-now", "check_now", &[]),
    ("phone-enter-code", "enter_code", &[]),
    ("phone-account-title", "account_title", &[]),
    ("phone-account-ok", "account_ok", &[]),
    ("phone-account-completing", "account_completing", &["date"]),
    ("phone-account-not-enrolled", "account_not_enrolled", &[]),
    ("phone-released-title", "released_title", &[]),
    ("phone-released-text", "released_text", &[]),
    ("phone-notice-title", "notice_title", &[]),
    ("phone-notice-restricted-now", "notice_restricted_now", &[]),
    ("phone-notice-restrict-on", "notice_restrict_on", &["date"]),
    ("phone-notice-lock-on", "notice_lock_on", &["date"]),
    ("phone-notice-why-overdue", "notice_why_overdue", &[]),
    ("phone-notice-why-lender", "notice_why_lender", &[]),
    ("phone-notice-why-offline", "notice_why_offline", &[]),
    ("phone-notice-avoid-title", "notice_avoid_title", &[]),
    (
        "phone-notice-avoid-pay",
        "notice_avoid_pay",
        &["amount", "date"],
    ),
    (
        "phone-notice-avoid-pay-now",
        "notice_avoid_pay_now",
        &["amount"],
    ),
    (
        "phone-notice-avoid-private",
        "notice_avoid_private",
        &["date"],
    ),
    (
        "phone-notice-avoid-private-now",
        "notice_avoid_private_now",
        &[],
    ),
    (
        "phone-notice-avoid-offline",
        "notice_avoid_offline",
        &["date"],
    ),
    (
        "phone-notice-avoid-offline-now",
        "notice_avoid_offline_now",
        &[],
    ),
    ("phone-show-details", "show_details", &[]),
    ("phone-payment-apps-title", "payment_apps_title", &[]),
    ("phone-notice-first-shown", "notice_first_shown", &["date"]),
    ("phone-notice-every-unlock", "notice_every_unlock", &[]),
    ("phone-notice-dismiss", "notice_dismiss", &[]),
    (
        "phone-lender-name-phone",
        "lender_name_phone",
        &["name", "phone"],
    ),
    ("phone-restricted-title", "restricted_title", &[]),
    ("phone-restricted-reason", "restricted_reason", &["text"]),
    ("phone-restricted-apps-title", "restricted_apps_title", &[]),
    ("phone-restricted-pay-title", "restricted_pay_title", &[]),
    ("phone-read-notice", "read_notice", &[]),
];

/// The app's string `name` in `values{suffix}/strings.xml`, unescaped.
fn app_string(suffix: &str, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../android-app/src/main/res/values{suffix}/strings.xml"
    ));
    let xml = std::fs::read_to_string(&path).unwrap();
    let open = format!("<string name=\"{name}\">");
    let at = xml
        .find(&open)
        .unwrap_or_else(|| panic!("{name} in {path:?}"))
        + open.len();
    let text = &xml[at..at + xml[at..].find("</string>").unwrap()];
    text.replace("\\'", "'").replace("&amp;", "&")
}

#[test]
fn the_preview_speaks_the_apps_words() {
    for (lang, suffix) in [(Lang::En, ""), (Lang::Sw, "-sw"), (Lang::Es, "-es")] {
        for (id, name, args) in SAME_WORDS {
            let values: Vec<String> = (1..=args.len()).map(|i| format!("<ARG{i}>")).collect();
            let pairs: Vec<(&str, &str)> = args
                .iter()
                .zip(&values)
                .map(|(a, v)| (*a, v.as_str()))
                .collect();
            let mut app = app_string(suffix, name);
            for (i, v) in values.iter().enumerate() {
                app = app.replace(&format!("%{}$s", i + 1), v);
            }
            assert_eq!(lang.tr_args(id, &pairs), app, "{} {id}", lang.code());
        }
    }
}

fn entitlement(state: EntitlementState, message: Option<&str>) -> Entitlement {
    Entitlement {
        v: 1,
        iss: "lnd".into(),
        sub: "dev".into(),
        seq: 1,
        iat: 0,
        nonce: None,
        state,
        lock_at: LOCK,
        lock_reason: None,
        release_at: None,
        next_checkin: 10,
        offline_lock_after_s: None,
        offline_warning_s: None,
        account: Account {
            currency: "KES".into(),
            amount_due_minor: 150_000,
            next_due: Some(1_773_446_400),
            installments: Vec::new(),
        },
        reminders: policy::default_reminders(),
        lender: LenderInfo {
            name: "Acme".into(),
            phone: "+254700000001".into(),
            email: None,
            payment_url: "https://pay.example/".into(),
            support_url: None,
            terms_url: None,
            payment_instructions: Some(BTreeMap::from([
                ("en".into(), "M-Pesa paybill 123".into()),
                ("sw".into(), "Lipa kwa M-Pesa 123".into()),
            ])),
        },
        message: message.map(|m| BTreeMap::from([("en".into(), m.to_string())])),
        escalation: None,
    }
}

/// A decision made by hand, for the screens of states no ladder reaches (a lender's lock
/// of a phone at any time, paid in full, released).
fn decision(locked: bool, reason: Option<LockReason>) -> Decision {
    Decision {
        locked,
        reason,
        clock_suspect: false,
        released: false,
        release_at: None,
        next_change: None,
        level: if locked {
            finlock_core::decision::Level::Locked
        } else {
            finlock_core::decision::Level::Normal
        },
        held_for_notice: false,
        notice_first_shown: None,
        restrict_from: None,
        lock_from: None,
    }
}

#[test]
fn a_lender_lock_shows_the_reason_the_message_and_every_way_out() {
    let e = entitlement(EntitlementState::Locked, Some("Reported stolen"));
    let p = screen_of(
        &e,
        decision(true, Some(LockReason::LenderRequest)),
        NOTICE,
        Lang::En,
    );
    assert_eq!(p.screen, Screen::Locked);
    assert_eq!(p.title, "This device is locked");
    assert_eq!(
        p.lead,
        "Your lender has locked this device. Please contact them."
    );
    assert_eq!(
        p.details,
        [
            "Lender: Acme",
            "Amount due: KES\u{a0}1,500.00",
            "Due date: 14 March 2026",
            "Message from Acme: Reported stolen",
            "How to pay: M-Pesa paybill 123",
        ]
    );
    assert_eq!(p.buttons[0], "Emergency call");
    assert_eq!(p.buttons[1], "Call lender +254700000001");
}

#[test]
fn the_language_picks_the_lenders_texts_too() {
    let e = entitlement(EntitlementState::Active, None);
    let p = screen_of(
        &e,
        decision(true, Some(LockReason::OverduePayment)),
        NOTICE,
        Lang::Sw,
    );
    assert_eq!(
        p.lead,
        "Kifaa hiki kimefungwa kwa sababu ya malipo ya awamu yaliyochelewa."
    );
    assert!(
        p.details
            .contains(&"Jinsi ya kulipa: Lipa kwa M-Pesa 123".to_string())
    );
    // Spanish has no instructions of its own: English, as the phone picks.
    let p = screen_of(
        &e,
        decision(true, Some(LockReason::Offline)),
        NOTICE,
        Lang::Es,
    );
    assert!(p.lead.starts_with("Conéctate a internet"), "{}", p.lead);
    assert!(
        p.details
            .contains(&"Cómo pagar: M-Pesa paybill 123".to_string())
    );
}

#[test]
fn unlocked_completing_and_released_phones_show_their_own_screens() {
    let e = entitlement(EntitlementState::Active, None);
    let p = screen_of(&e, decision(false, None), NOTICE, Lang::En);
    assert_eq!(p.screen, Screen::Account);
    assert_eq!(p.lead, "Your account is in good standing.");
    assert!(p.buttons.is_empty());
    let mut completing = decision(false, None);
    completing.release_at = Some(1_773_446_400);
    let p = screen_of(&e, completing, NOTICE, Lang::En);
    assert!(
        p.lead.contains("On 14 March 2026, once it connects"),
        "{}",
        p.lead
    );
    let mut released = decision(false, None);
    released.released = true;
    let p = screen_of(&e, released, NOTICE, Lang::Es);
    assert_eq!(p.screen, Screen::Released);
    assert_eq!(p.title, "Pagado por completo");
}

/// An overdue plan's ladder as a profile with a restricted step signs it.
fn with_ladder(private_details: bool) -> Entitlement {
    let mut e = entitlement(EntitlementState::Active, None);
    e.escalation = Some(Escalation {
        notice_at: NOTICE,
        restrict_at: Some(RESTRICT),
        notice_min_s: None,
        payment_apps: vec!["com.safaricom.mpesa".into()],
        essentials: vec!["org.example.health".into()],
        private_details,
    });
    e
}

/// The screen at `now`, from the core's decision as the preview makes it.
fn at(e: &Entitlement, now: i64, lang: Lang) -> Preview {
    screen_of(e, decide(e, now, now), now, lang)
}

#[test]
fn each_level_has_its_screen_in_the_ladders_order() {
    let e = with_ladder(false);
    let screens: Vec<Screen> = [NOTICE - DAY, NOTICE + 3600, RESTRICT + 3600, LOCK + 3600]
        .into_iter()
        .map(|t| at(&e, t, Lang::En).screen)
        .collect();
    assert_eq!(
        screens,
        [
            Screen::Account,
            Screen::Notice,
            Screen::Restricted,
            Screen::Locked
        ]
    );
}

#[test]
fn the_notice_page_says_what_happens_when_why_and_how_to_avoid_it() {
    let e = with_ladder(false);
    let p = at(&e, NOTICE + 3600, Lang::En);
    assert_eq!(p.screen, Screen::Notice);
    assert_eq!(p.title, "Important notice about your payment plan");
    assert_eq!(
        p.lead,
        "From 24 March 2026, this phone will be restricted: only calls, messages, emergency \
         calls, payment apps and essential apps will work. From 3 April 2026, this phone will \
         be locked. Emergency calls will still work."
    );
    assert_eq!(
        p.details,
        [
            "Why: a payment is overdue.",
            "How to avoid this: Pay KES\u{a0}1,500.00 before 24 March 2026.",
            "Lender: Acme, phone +254700000001",
            "Amount due: KES\u{a0}1,500.00",
            "Due date: 14 March 2026",
            "How to pay: M-Pesa paybill 123",
            "Pay with one of these apps: com.safaricom.mpesa",
            // The server cannot know the first display: the page's own words for that.
            "This notice is shown each time you unlock this phone, until you pay.",
        ]
    );
    assert_eq!(
        p.buttons,
        [
            "Emergency call",
            "Pay now",
            "Call lender +254700000001",
            "I have read this"
        ]
    );
}

#[test]
fn the_restricted_home_lists_the_apps_that_work_and_when_it_locks() {
    let e = with_ladder(false);
    let p = at(&e, RESTRICT + 3600, Lang::En);
    assert_eq!(p.screen, Screen::Restricted);
    assert_eq!(p.title, "This phone is restricted");
    assert_eq!(
        p.lead,
        "Why: a payment is overdue. Only some apps work until you pay."
    );
    assert_eq!(
        p.details,
        [
            "From 3 April 2026, this phone will be locked. Emergency calls will still work.",
            "You can use: com.safaricom.mpesa, org.example.health",
            "How to pay",
            "Lender: Acme, phone +254700000001",
            "Amount due: KES\u{a0}1,500.00",
        ]
    );
    assert_eq!(p.buttons.last().unwrap(), "Read the notice again");
    // Locked: the lock screen offers the payment apps, not the essentials.
    let p = at(&e, LOCK + 3600, Lang::En);
    assert!(
        p.details
            .contains(&"Pay with one of these apps: com.safaricom.mpesa".to_string()),
        "{:?}",
        p.details
    );
    assert!(!p.details.iter().any(|l| l.contains("org.example.health")));
}

#[test]
fn private_details_wait_behind_show_details_at_every_level() {
    let e = with_ladder(true);
    for t in [NOTICE + 3600, RESTRICT + 3600, LOCK + 3600] {
        let p = at(&e, t, Lang::En);
        let all = format!("{} {:?}", p.lead, p.details);
        assert!(
            !all.contains("1,500"),
            "{:?} shows the amount: {all}",
            p.screen
        );
        assert!(p.details.contains(&"Show details".to_string()), "{all}");
    }
    let p = at(&e, NOTICE + 3600, Lang::En);
    assert!(
        p.details
            .contains(&"How to avoid this: Pay the amount due before 24 March 2026. Tap Show details to see it.".to_string()),
        "{:?}",
        p.details
    );
}

#[test]
fn a_v1_entitlement_gives_a_days_notice_and_no_restricted_step() {
    let e = entitlement(EntitlementState::Active, None);
    assert_eq!(at(&e, LOCK - DAY - 60, Lang::En).screen, Screen::Account);
    let p = at(&e, LOCK - 3600, Lang::En);
    assert_eq!(p.screen, Screen::Notice);
    assert_eq!(
        p.lead,
        "From 3 April 2026, this phone will be locked. Emergency calls will still work."
    );
    assert_eq!(at(&e, LOCK, Lang::En).screen, Screen::Locked);
    assert_eq!(
        steps(&e, LOCK - 2 * DAY, Lang::En),
        [
            "From 2 April 2026, 00:00 UTC: the notice page at each unlock",
            "From 3 April 2026, 00:00 UTC: locked",
        ]
    );
}

#[test]
fn the_steps_name_each_level_still_to_come() {
    let e = with_ladder(false);
    assert_eq!(
        steps(&e, NOTICE - DAY, Lang::En),
        [
            "From 14 March 2026, 00:00 UTC: the notice page at each unlock",
            "From 24 March 2026, 00:00 UTC: restricted (calls, messages, payment and essential apps)",
            "From 3 April 2026, 00:00 UTC: locked",
        ]
    );
    assert_eq!(steps(&e, RESTRICT + 1, Lang::En).len(), 1);
    assert!(steps(&e, LOCK, Lang::En).is_empty());
    // A lender's lock is now, not a step.
    let mut locked = e.clone();
    locked.state = EntitlementState::Locked;
    assert!(steps(&locked, NOTICE - DAY, Lang::En).is_empty());
}

#[test]
fn every_level_speaks_every_language() {
    let e = with_ladder(false);
    for lang in Lang::ALL {
        for t in [NOTICE - DAY, NOTICE + 3600, RESTRICT + 3600, LOCK + 3600] {
            let p = at(&e, t, lang);
            let mut all = p.lines();
            all.extend(steps(&e, NOTICE - DAY, lang));
            for line in &all {
                assert!(
                    !line.contains("phone-") && !line.contains("preview-"),
                    "{} {:?}: a message id instead of words: {line}",
                    lang.code(),
                    p.screen
                );
            }
        }
    }
    let sw = at(&e, NOTICE + 3600, Lang::Sw);
    assert_eq!(sw.title, "Ilani muhimu kuhusu mpango wako wa malipo");
    assert!(sw.lead.starts_with("Kuanzia 24 Machi 2026"), "{}", sw.lead);
    let es = at(&e, RESTRICT + 3600, Lang::Es);
    assert_eq!(es.title, "Este teléfono está restringido");
}

#[test]
fn dates_in_a_zone_are_written_as_the_console_writes_them() {
    let utc = jiff::tz::TimeZone::UTC;
    for lang in Lang::ALL {
        for t in [NOTICE, RESTRICT + 3600, LOCK - 1] {
            assert_eq!(date_in(t, lang, &utc), money_format::date(t, lang));
        }
    }
    // 14 March 2026 00:00 UTC is still the 13th in Mexico City.
    let mexico = jiff::tz::TimeZone::get("America/Mexico_City").unwrap();
    assert_eq!(date_in(NOTICE, Lang::Es, &mexico), "13 de marzo de 2026");
}

#[test]
fn a_profile_that_never_locks_names_no_lock_date() {
    // The RBI draft's ladder: restricted, never locked in full (lock_at = 2^53 − 1).
    let mut e = with_ladder(true);
    e.lock_at = (1_i64 << 53) - 1;
    for t in [NOTICE + 3600, RESTRICT + 3600] {
        let p = at(&e, t, Lang::En);
        let all = p.lines().join("\n");
        assert!(!all.contains("will be locked"), "{all}");
        assert!(!all.contains("9007199254740991"), "{all}");
    }
    let p = at(&e, NOTICE + 3600, Lang::En);
    assert!(
        p.lead
            .contains("From 24 March 2026, this phone will be restricted"),
        "{}",
        p.lead
    );
    assert_eq!(
        steps(&e, NOTICE - DAY, Lang::En).len(),
        2,
        "notice and restricted only"
    );
}
