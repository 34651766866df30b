//! The two levels between good standing and the lock (PROTOCOL §3.7) as the app shows them:
//! the notice page (`NoticeActivity`) and the restricted home (`RestrictedActivity`), both
//! from the core's [`NoticePage`] — the view the phone's shell reads through the bridge —
//! in the app's words (`phone-*` messages).
//!
//! Pure: the page, the language and how dates are written in. The console writes dates in
//! UTC; the simulator and the demo in the phone's zone.

use finlock_core::clock::Reading;
use finlock_core::decision::{Decision, Level};
use finlock_core::device::Evaluation;
use finlock_core::protocol::{Entitlement, LockReason};
use finlock_core::view::NoticePage;

use super::{Preview, Screen};
use crate::console::i18n::Lang;
use crate::console::money_format;

/// The core's notice page for entitlement `e` and decision `d` at `now`, lender texts for
/// `locale`: what `DeviceState::notice_page` assembles on the phone from the same
/// entitlement and decision. The console has no phone state, so it fills the view itself;
/// the first display is the phone's to know, so it is the decision's (`None` from the
/// server's preview).
pub fn page_of(e: &Entitlement, d: Decision, now: i64, locale: &str) -> NoticePage {
    let now_ms = now.saturating_mul(1000);
    let evaluation = Evaluation {
        reading: Reading {
            now_ms,
            verified_ms: Some(now_ms),
            clock_jump_s: None,
        },
        decision: d,
    };
    NoticePage::new(e, &evaluation, locale)
}

/// A moment the page can name: `None` for one no calendar has. The decision already gives
/// no `lock_from` for the protocol's "never" (`lock_at` = 2^53 − 1, §5 rule 3); this only
/// keeps a preview from printing a date jiff cannot represent.
fn dated(t: Option<i64>) -> Option<i64> {
    t.filter(|t| jiff::Timestamp::from_second(*t).is_ok())
}

/// Why the coming step comes, as the notice page says it (`NoticeActivity.reasonText`).
fn why(reason: Option<LockReason>) -> &'static str {
    match reason {
        Some(LockReason::LenderRequest) => "phone-notice-why-lender",
        Some(LockReason::Offline) => "phone-notice-why-offline",
        _ => "phone-notice-why-overdue",
    }
}

/// `Pay with one of these apps: a.b, c.d` (`title` the app's heading), or nothing when no
/// app is named. The phone lists the installed ones by their names; the preview, which
/// cannot know them, by package.
pub fn apps_line(lang: Lang, title: &str, apps: &[String]) -> Option<String> {
    (!apps.is_empty()).then(|| {
        let title = lang.tr(title);
        let title = title.trim_end_matches(':');
        format!("{title}: {}", apps.join(", "))
    })
}

/// The notice page (`NoticeActivity.show`): what happens when, why, how to avoid it, who
/// to pay and how, the payment apps, and when it was first shown.
pub fn notice_screen(p: &NoticePage, lang: Lang, date: &dyn Fn(i64) -> String) -> Preview {
    let level = p.evaluation.decision.level;
    let mut when = Vec::new();
    if level == Level::Restricted {
        when.push(lang.tr("phone-notice-restricted-now"));
    }
    // The restriction still to come (only said at the notice level).
    let restrict_from = dated(p.restrict_from).filter(|_| level == Level::Notice);
    let lock_from = dated(p.lock_from);
    if let Some(at) = restrict_from {
        when.push(lang.tr_args("phone-notice-restrict-on", &[("date", &date(at))]));
    }
    if let Some(at) = lock_from {
        when.push(lang.tr_args("phone-notice-lock-on", &[("date", &date(at))]));
    }
    // The first step still to come: what paying (or connecting) in time avoids.
    let deadline = restrict_from.or(lock_from).map(date);
    let amount = money_format::money(p.amount_due_minor, &p.currency, lang);
    let avoid = match (p.reason, p.private_details, &deadline) {
        (Some(LockReason::Offline), _, Some(d)) => {
            lang.tr_args("phone-notice-avoid-offline", &[("date", d)])
        }
        (Some(LockReason::Offline), _, None) => lang.tr("phone-notice-avoid-offline-now"),
        (_, true, Some(d)) => lang.tr_args("phone-notice-avoid-private", &[("date", d)]),
        (_, true, None) => lang.tr("phone-notice-avoid-private-now"),
        (_, false, Some(d)) => lang.tr_args(
            "phone-notice-avoid-pay",
            &[("amount", &amount), ("date", d)],
        ),
        (_, false, None) => lang.tr_args("phone-notice-avoid-pay-now", &[("amount", &amount)]),
    };
    let mut details = vec![
        lang.tr(why(p.reason)),
        format!("{}: {avoid}", lang.tr("phone-notice-avoid-title")),
        lender_line(p, lang),
    ];
    details.extend(amounts(p, lang, date));
    if let Some(apps) = apps_line(lang, "phone-payment-apps-title", &p.payment_apps) {
        details.push(apps);
    }
    details.push(match p.first_shown {
        Some(at) => lang.tr_args("phone-notice-first-shown", &[("date", &date(at))]),
        None => lang.tr("phone-notice-every-unlock"),
    });
    Preview {
        screen: if level == Level::Restricted {
            Screen::Restricted
        } else {
            Screen::Notice
        },
        title: lang.tr("phone-notice-title"),
        lead: when.join(" "),
        details,
        buttons: vec![
            lang.tr("phone-emergency-call"),
            lang.tr("phone-pay-now"),
            lang.tr_args("phone-call-lender", &[("phone", &p.payee.phone)]),
            lang.tr("phone-notice-dismiss"),
        ],
        steps: Vec::new(),
    }
}

/// The restricted home (`RestrictedActivity.show`): why, when it locks, the apps that
/// work, how to pay.
pub fn restricted_screen(p: &NoticePage, lang: Lang, date: &dyn Fn(i64) -> String) -> Preview {
    let mut details = Vec::new();
    if let Some(at) = dated(p.lock_from) {
        details.push(lang.tr_args("phone-notice-lock-on", &[("date", &date(at))]));
    }
    let apps: Vec<String> = p
        .payment_apps
        .iter()
        .chain(&p.essentials)
        .cloned()
        .collect();
    if let Some(line) = apps_line(lang, "phone-restricted-apps-title", &apps) {
        details.push(line);
    }
    details.push(lang.tr("phone-restricted-pay-title"));
    details.push(lender_line(p, lang));
    if p.private_details {
        details.push(lang.tr("phone-show-details"));
    } else {
        let amount = money_format::money(p.amount_due_minor, &p.currency, lang);
        details.push(lang.tr_args("phone-amount-due", &[("amount", &amount)]));
    }
    Preview {
        screen: Screen::Restricted,
        title: lang.tr("phone-restricted-title"),
        lead: lang.tr_args(
            "phone-restricted-reason",
            &[("text", &lang.tr(why(p.reason)))],
        ),
        details,
        buttons: vec![
            lang.tr("phone-emergency-call"),
            lang.tr("phone-pay-now"),
            lang.tr_args("phone-call-lender", &[("phone", &p.payee.phone)]),
            lang.tr("phone-check-now"),
            lang.tr("phone-read-notice"),
        ],
        steps: Vec::new(),
    }
}

/// `Lender: Acme, phone +254…`.
fn lender_line(p: &NoticePage, lang: Lang) -> String {
    lang.tr_args(
        "phone-lender-name-phone",
        &[("name", &p.payee.name), ("phone", &p.payee.phone)],
    )
}

/// The notice page's details panel: the amount, the due date, the lender's message and
/// payment instructions — behind "Show details" when the lender keeps them private.
fn amounts(p: &NoticePage, lang: Lang, date: &dyn Fn(i64) -> String) -> Vec<String> {
    if p.private_details {
        return vec![lang.tr("phone-show-details")];
    }
    let amount = money_format::money(p.amount_due_minor, &p.currency, lang);
    let mut lines = vec![lang.tr_args("phone-amount-due", &[("amount", &amount)])];
    if let Some(due) = p.next_due {
        lines.push(lang.tr_args("phone-due-date", &[("date", &date(due))]));
    }
    if let Some(message) = p.message.as_deref().filter(|m| !m.trim().is_empty()) {
        lines.push(lang.tr_args(
            "phone-lender-message",
            &[("name", &p.payee.name), ("text", message)],
        ));
    }
    if let Some(how) = p
        .payee
        .payment_instructions
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        lines.push(lang.tr_args("phone-payment-instructions", &[("text", how)]));
    }
    lines
}

/// The date of `t` in `zone`, long form in `lang` — as [`money_format::date`] writes it in
/// UTC: the simulator and the demo write the phone's dates in the phone's zone.
pub fn date_in(t: i64, lang: Lang, zone: &jiff::tz::TimeZone) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t) else {
        return t.to_string();
    };
    let d = ts.to_zoned(zone.clone()).date();
    let month = lang.tr(&format!("month-{}", d.month()));
    match lang {
        Lang::Es => format!("{} de {month} de {}", d.day(), d.year()),
        Lang::En | Lang::Sw => format!("{} {month} {}", d.day(), d.year()),
    }
}
