//! The preview of a phone's screen on the device page: what the customer sees, in the
//! words the phone app uses, so an agent on the phone with them reads the same thing.
//!
//! The facts are the phone's own: the server's entitlement for the device as it would be
//! issued now ([`policy::entitlement`], the function every check-in answer comes from)
//! and the core's lock decision on it ([`decision::decide`], the function the phone runs),
//! at the server's time. The words are the app's (`android-app/src/main/res/values*/
//! strings.xml`), copied into the console's catalogues as `phone-*` messages; a test
//! checks them against the app's files, so the two cannot drift apart unnoticed. Which
//! text goes where follows the app's `LockActivity` and `LockScreenBinder` (lock screen)
//! and `AccountActivity` / `ReleasedActivity` (unlocked).
//!
//! What the preview cannot know: the phone's own clock and the code the customer reads
//! out (the challenge is made on the phone). A phone that has not checked in since a
//! change still shows the previous state until it does.

use finlock_core::decision::{self, DecisionInput};
use finlock_core::protocol::{Entitlement, LenderInfo, LockReason, pick_locale};

use super::i18n::Lang;
use super::money_format;
use crate::db::queries::DeviceRow;
use crate::error::Result;
use crate::issue::{stored_plan, stored_reminders};
use crate::policy::{self, DeviceFacts, IssueContext};

/// Which of the app's screens the customer has in front of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The lock screen (`LockActivity`).
    Locked,
    /// The account screen of a phone in use (`AccountActivity`).
    Account,
    /// Released for good (`ReleasedActivity`).
    Released,
    /// Not enrolled: the app has nothing of this lender's yet.
    NotEnrolled,
}

/// The preview, every text in the page's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub screen: Screen,
    /// The screen's heading.
    pub title: String,
    /// The reason (lock screen) or the account's state line.
    pub lead: String,
    /// The lender's details as the lock screen lists them (name, amount due, due date,
    /// the lender's message, how to pay); empty lines are left out, as the app hides them.
    pub details: Vec<String>,
    /// The lock screen's buttons, in its order.
    pub buttons: Vec<String>,
}

impl Preview {
    /// Whether the customer has the lock screen in front of them.
    pub fn is_locked(&self) -> bool {
        self.screen == Screen::Locked
    }
}

/// The preview of `row`'s phone at `now`, its lender being `lender`.
pub fn preview(row: &DeviceRow, lender: &LenderInfo, now: i64, lang: Lang) -> Result<Preview> {
    if row.device_key.is_none() {
        return Ok(Preview {
            screen: Screen::NotEnrolled,
            title: lang.tr("phone-account-title"),
            lead: lang.tr("phone-account-not-enrolled"),
            details: Vec::new(),
            buttons: Vec::new(),
        });
    }
    let e = entitlement_now(row, lender, now)?;
    let input = DecisionInput {
        state: Some(e.state),
        lock_at: e.lock_at,
        lock_reason: e.lock_reason,
        offline_lock_after_s: e.offline_lock_after_s,
        last_successful_checkin: row.last_checkin_at.or(row.enrolled_at).unwrap_or(now),
        offline_extension_until: 0,
        release_at: e.release_at,
        // The server cannot know the phone's notice record: the preview assumes the notice
        // was displayed long enough ago, so it shows the level the signed moments ask for.
        ladder: {
            let ladder = e.ladder();
            decision::Ladder {
                notice_at: ladder.notice_at,
                restrict_at: ladder.restrict_at,
                notice_min_s: ladder.notice_min(),
            }
        },
        notice: Some(decision::NoticeSeen {
            first_shown_at: now,
            elapsed_s: u64::MAX,
        }),
    };
    Ok(screen_of(
        &e,
        decision::decide(&input, now, Some(now)),
        lang,
    ))
}

/// The entitlement the phone would receive at `now` (unsigned: only its facts matter).
fn entitlement_now(row: &DeviceRow, lender: &LenderInfo, now: i64) -> Result<Entitlement> {
    let plan = stored_plan(row)?;
    let reminders = stored_reminders(row)?;
    let lock_reason = row
        .lender_locked
        .then(|| row.lock_reason.clone().unwrap_or_default());
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: row.paid_minor,
        released: row.released,
        lender_lock: lock_reason.as_deref(),
        reminders: reminders.as_ref(),
        extended_until: row.extended_until,
        release_at: row.release_at,
    };
    Ok(policy::entitlement(
        &facts,
        &IssueContext {
            lender_id: &row.lender_id,
            device_id: &row.device_id,
            seq: row.seq,
            now,
            nonce: None,
            jitter: 0.0,
            lender,
        },
    ))
}

/// The screen the app shows for entitlement `e` and the core's decision `d`: pure.
pub fn screen_of(e: &Entitlement, d: decision::Decision, lang: Lang) -> Preview {
    if d.released {
        return Preview {
            screen: Screen::Released,
            title: lang.tr("phone-released-title"),
            lead: lang.tr("phone-released-text"),
            details: Vec::new(),
            buttons: Vec::new(),
        };
    }
    if !d.locked {
        let lead = match d.release_at {
            Some(at) => lang.tr_args(
                "phone-account-completing",
                &[("date", &money_format::date(at, lang))],
            ),
            None => lang.tr("phone-account-ok"),
        };
        return Preview {
            screen: Screen::Account,
            title: lang.tr("phone-account-title"),
            lead,
            details: details(e, lang),
            buttons: Vec::new(),
        };
    }
    let reason = if d.clock_suspect {
        "phone-reason-clock-suspect"
    } else {
        match d.reason {
            Some(LockReason::LenderRequest) => "phone-reason-lender-request",
            Some(LockReason::Offline) => "phone-reason-offline",
            _ => "phone-reason-overdue-payment",
        }
    };
    let phone = e.lender.phone.as_str();
    Preview {
        screen: Screen::Locked,
        title: lang.tr("phone-lock-title"),
        lead: lang.tr(reason),
        details: details(e, lang),
        buttons: vec![
            lang.tr("phone-emergency-call"),
            lang.tr_args("phone-call-lender", &[("phone", phone)]),
            lang.tr("phone-pay-now"),
            lang.tr("phone-check-now"),
            lang.tr("phone-enter-code"),
        ],
    }
}

/// The lender's details, as `LockScreenBinder` fills them (a blank one is hidden).
fn details(e: &Entitlement, lang: Lang) -> Vec<String> {
    let locale = lang.code();
    let amount = money_format::money(e.account.amount_due_minor, &e.account.currency, lang);
    let mut lines = vec![
        lang.tr_args("phone-lender-name", &[("name", &e.lender.name)]),
        lang.tr_args("phone-amount-due", &[("amount", &amount)]),
    ];
    if let Some(due) = e.account.next_due {
        let date = money_format::date(due, lang);
        lines.push(lang.tr_args("phone-due-date", &[("date", &date)]));
    }
    if let Some(message) = e.message_for(locale).filter(|m| !m.trim().is_empty()) {
        lines.push(lang.tr_args(
            "phone-lender-message",
            &[("name", &e.lender.name), ("text", message)],
        ));
    }
    if let Some(how) = e
        .lender
        .payment_instructions
        .as_ref()
        .and_then(|m| pick_locale(m, locale))
        .filter(|m| !m.trim().is_empty())
    {
        lines.push(lang.tr_args("phone-payment-instructions", &[("text", how)]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use finlock_core::decision::Decision;
    use finlock_core::protocol::{Account, EntitlementState};
    use std::collections::BTreeMap;

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
            lock_at: 100,
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
        let p = screen_of(&e, decision(true, Some(LockReason::Offline)), Lang::Es);
        assert!(p.lead.starts_with("Conéctate a internet"), "{}", p.lead);
        assert!(
            p.details
                .contains(&"Cómo pagar: M-Pesa paybill 123".to_string())
        );
    }

    #[test]
    fn unlocked_completing_and_released_phones_show_their_own_screens() {
        let e = entitlement(EntitlementState::Active, None);
        let p = screen_of(&e, decision(false, None), Lang::En);
        assert_eq!(p.screen, Screen::Account);
        assert_eq!(p.lead, "Your account is in good standing.");
        assert!(p.buttons.is_empty());
        let mut completing = decision(false, None);
        completing.release_at = Some(1_773_446_400);
        let p = screen_of(&e, completing, Lang::En);
        assert!(
            p.lead.contains("On 14 March 2026, once it connects"),
            "{}",
            p.lead
        );
        let mut released = decision(false, None);
        released.released = true;
        let p = screen_of(&e, released, Lang::Es);
        assert_eq!(p.screen, Screen::Released);
        assert_eq!(p.title, "Pagado por completo");
    }
}
