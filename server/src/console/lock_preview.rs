//! The preview of a phone's screen on the device page: what the customer sees, in the
//! words the phone app uses, so an agent on the phone with them reads the same thing —
//! at every level (PROTOCOL §3.7): the account screen (normal), the notice page, the
//! restricted home, the lock screen; and the steps still to come with their dates.
//!
//! The facts are the phone's own: the server's entitlement for the device as it would be
//! issued now ([`policy::entitlement`], the function every check-in answer comes from),
//! the core's decision on it ([`decision::decide`], the function the phone runs) at the
//! server's time, and for the notice and restricted levels the core's
//! [`NoticePage`](finlock_core::view::NoticePage) view. The words are the app's
//! (`android-app/src/main/res/values*/strings.xml`), copied into the console's catalogues
//! as `phone-*` messages; a test checks them against the app's files, so the two cannot
//! drift apart unnoticed. Which text goes where follows the app's `LockActivity` and
//! `LockScreenBinder` (lock screen), `NoticeActivity` and `RestrictedActivity` ([`levels`])
//! and `AccountActivity` / `ReleasedActivity` (normal).
//!
//! What the preview cannot know: the phone's own clock, the code the customer reads out
//! (the challenge is made on the phone) and when the phone displayed its notice page. It
//! takes the notice as displayed in time, so it shows the level the signed moments ask
//! for; a phone whose notice has not been on its screen for the notice period stays at the
//! notice page longer (the steps' hint says so). A phone that has not checked in since a
//! change still shows the previous state until it does.
//!
//! The simulator (`finlock device notice`) and `finlock demo` print the same screens
//! ([`Preview::lines`]), from the simulated phone's own views.

mod levels;

use finlock_core::decision::{self, Decision, DecisionInput, Level};
use finlock_core::protocol::{Entitlement, EntitlementState, LenderInfo, LockReason, pick_locale};

use super::i18n::Lang;
use super::money_format;
use crate::db::queries::DeviceRow;
use crate::error::Result;
use crate::issue::{stored_plan, stored_reminders};
use crate::policy::{self, DeviceFacts, IssueContext};

pub use levels::{date_in, notice_screen, restricted_screen};

/// Which of the app's screens the customer has in front of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The lock screen (`LockActivity`).
    Locked,
    /// The restricted home (`RestrictedActivity`), the notice page over it at each unlock.
    Restricted,
    /// The notice page (`NoticeActivity`), at each unlock of a phone otherwise in use.
    Notice,
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
    /// The reason (lock screen, restricted home), what happens when (notice page) or the
    /// account's state line.
    pub lead: String,
    /// The screen's lines in its order (lender, amounts, how to pay, the apps offered, …);
    /// empty lines are left out, as the app hides them.
    pub details: Vec<String>,
    /// The screen's buttons, in its order.
    pub buttons: Vec<String>,
    /// The levels still to come with their signed dates (console words, not the phone's);
    /// empty when none comes by time alone.
    pub steps: Vec<String>,
}

impl Preview {
    /// Whether the customer has the lock screen in front of them.
    pub fn is_locked(&self) -> bool {
        self.screen == Screen::Locked
    }

    /// The level's name, for the page's markup (`data-level`).
    pub fn level(&self) -> &'static str {
        match self.screen {
            Screen::Locked => "locked",
            Screen::Restricted => "restricted",
            Screen::Notice => "notice",
            Screen::Account | Screen::NotEnrolled => "normal",
            Screen::Released => "released",
        }
    }

    /// The screen as plain text lines: title, lead, details, then the buttons in one line
    /// (`[ Emergency call ]  [ Pay now ]`), as the simulator and the demo print it.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.title.clone()];
        if !self.lead.is_empty() {
            lines.push(self.lead.clone());
        }
        lines.extend(self.details.iter().cloned());
        if !self.buttons.is_empty() {
            let buttons: Vec<String> = self.buttons.iter().map(|b| format!("[ {b} ]")).collect();
            lines.push(buttons.join("  "));
        }
        lines
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
            steps: Vec::new(),
        });
    }
    let e = entitlement_now(row, lender, now)?;
    let last_checkin = row.last_checkin_at.or(row.enrolled_at).unwrap_or(now);
    let mut p = screen_of(&e, decide(&e, last_checkin, now), now, lang);
    p.steps = steps(&e, now, lang);
    Ok(p)
}

/// The core's decision on `e` at `now` (the phone's last check-in at `last_checkin`), with
/// the notice taken as displayed long enough ago: the server cannot know the phone's
/// notice record, so the preview shows the level the signed moments ask for, and never
/// claims a date of first display it does not know.
pub fn decide(e: &Entitlement, last_checkin: i64, now: i64) -> Decision {
    let ladder = e.ladder();
    let input = DecisionInput {
        state: Some(e.state),
        lock_at: e.lock_at,
        lock_reason: e.lock_reason,
        offline_lock_after_s: e.offline_lock_after_s,
        last_successful_checkin: last_checkin,
        offline_extension_until: 0,
        release_at: e.release_at,
        ladder: decision::Ladder {
            notice_at: ladder.notice_at,
            restrict_at: ladder.restrict_at,
            notice_min_s: ladder.notice_min(),
        },
        notice: Some(decision::NoticeSeen {
            first_shown_at: now,
            elapsed_s: u64::MAX,
        }),
    };
    Decision {
        notice_first_shown: None,
        ..decision::decide(&input, now, Some(now))
    }
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

/// The screen the app shows for entitlement `e` and the core's decision `d` at `now`: pure.
pub fn screen_of(e: &Entitlement, d: Decision, now: i64, lang: Lang) -> Preview {
    if d.released {
        return Preview {
            screen: Screen::Released,
            title: lang.tr("phone-released-title"),
            lead: lang.tr("phone-released-text"),
            details: Vec::new(),
            buttons: Vec::new(),
            steps: Vec::new(),
        };
    }
    match d.level {
        Level::Normal => account_screen(e, d, lang),
        Level::Notice | Level::Restricted => {
            let page = levels::page_of(e, d, now, lang.code());
            let date = |t: i64| money_format::date(t, lang);
            if d.level == Level::Restricted {
                restricted_screen(&page, lang, &date)
            } else {
                notice_screen(&page, lang, &date)
            }
        }
        Level::Locked => lock_screen(e, d, lang),
    }
}

/// The account screen of a phone in use (`AccountActivity`).
fn account_screen(e: &Entitlement, d: Decision, lang: Lang) -> Preview {
    let lead = match d.release_at {
        Some(at) => lang.tr_args(
            "phone-account-completing",
            &[("date", &money_format::date(at, lang))],
        ),
        None => lang.tr("phone-account-ok"),
    };
    Preview {
        screen: Screen::Account,
        title: lang.tr("phone-account-title"),
        lead,
        details: details(e, lang, false),
        buttons: Vec::new(),
        steps: Vec::new(),
    }
}

/// The lock screen (`LockActivity`, `LockScreenBinder`): the reason, the lender's details
/// (behind "Show details" when the lender keeps them private), the payment apps it offers.
fn lock_screen(e: &Entitlement, d: Decision, lang: Lang) -> Preview {
    let reason = if d.clock_suspect {
        "phone-reason-clock-suspect"
    } else {
        match d.reason {
            Some(LockReason::LenderRequest) => "phone-reason-lender-request",
            Some(LockReason::Offline) => "phone-reason-offline",
            _ => "phone-reason-overdue-payment",
        }
    };
    let ladder = e.ladder();
    let mut details = details(e, lang, ladder.private_details);
    if let Some(apps) = levels::apps_line(lang, "phone-payment-apps-title", &ladder.payment_apps) {
        details.push(apps);
    }
    let phone = e.lender.phone.as_str();
    Preview {
        screen: Screen::Locked,
        title: lang.tr("phone-lock-title"),
        lead: lang.tr(reason),
        details,
        buttons: vec![
            lang.tr("phone-emergency-call"),
            lang.tr_args("phone-call-lender", &[("phone", phone)]),
            lang.tr("phone-pay-now"),
            lang.tr("phone-check-now"),
            lang.tr("phone-enter-code"),
        ],
        steps: Vec::new(),
    }
}

/// The lender's details, as `LockScreenBinder` fills them (a blank one is hidden; with
/// `private`, everything but the lender's name waits behind "Show details").
fn details(e: &Entitlement, lang: Lang, private: bool) -> Vec<String> {
    let locale = lang.code();
    let mut lines = vec![lang.tr_args("phone-lender-name", &[("name", &e.lender.name)])];
    if private {
        lines.push(lang.tr("phone-show-details"));
        return lines;
    }
    let amount = money_format::money(e.account.amount_due_minor, &e.account.currency, lang);
    lines.push(lang.tr_args("phone-amount-due", &[("amount", &amount)]));
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

/// The levels still to come for an overdue payment, with the signed dates of the ladder
/// ([`Entitlement::ladder`]: the signed one or the one a v1 entitlement implies) and the
/// hint that the phone's own notice period may move them later. Nothing for a lender's
/// lock (locked now), a phone paid in full, or once the lock has come.
fn steps(e: &Entitlement, now: i64, lang: Lang) -> Vec<String> {
    if e.state != EntitlementState::Active || e.release_at.is_some() || e.lock_at <= now {
        return Vec::new();
    }
    let ladder = e.ladder();
    let date = |t: i64| money_format::date_time(t, lang);
    let mut steps = Vec::new();
    if ladder.notice_at > now {
        steps.push(lang.tr_args("preview-step-notice", &[("date", &date(ladder.notice_at))]));
    }
    if let Some(at) = ladder.restrict_at.filter(|at| *at > now) {
        steps.push(lang.tr_args("preview-step-restricted", &[("date", &date(at))]));
    }
    // A profile that never locks in full signs the protocol's "never" (no date to name).
    if jiff::Timestamp::from_second(e.lock_at).is_ok() {
        steps.push(lang.tr_args("preview-step-locked", &[("date", &date(e.lock_at))]));
    }
    steps
}

#[cfg(test)]
mod tests;
