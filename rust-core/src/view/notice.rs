//! The notice page (§3.7): shown at each screen unlock from the notice level on, it says
//! exactly what happens when and how to avoid it. The shell reports each display through
//! [`DeviceState::notice_shown`]; the decision does not restrict or lock until the first
//! one is at least the notice period old.

use super::Payee;
use crate::device::{DeviceState, Evaluation};
use crate::error::Result;
use crate::protocol::{Entitlement, LockReason};

/// Everything the notice page shows, texts picked for one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePage {
    /// The trusted time and the decision this view was assembled at (its level says
    /// whether the page is due: `notice` and `restricted`).
    pub evaluation: Evaluation,
    /// The lender and how to pay them.
    pub payee: Payee,
    /// Everything due now, in minor units of `currency`.
    pub amount_due_minor: u64,
    /// ISO 4217.
    pub currency: String,
    /// The next (or oldest unpaid) due date.
    pub next_due: Option<i64>,
    /// The earliest the phone is restricted, as of now (`None`: no restricted step).
    pub restrict_from: Option<i64>,
    /// The earliest the phone is locked, as of now.
    pub lock_from: Option<i64>,
    /// Why the coming step comes (overdue payment, the lender's request, no check-in).
    pub reason: Option<LockReason>,
    /// When this notice was first shown; `None` on its first display.
    pub first_shown: Option<i64>,
    /// Amounts only after the user opens the details.
    pub private_details: bool,
    /// The lender's payment apps: usable when restricted and when locked.
    pub payment_apps: Vec<String>,
    /// The essentials the lender names: usable when restricted.
    pub essentials: Vec<String>,
    /// The lender's message for the locale.
    pub message: Option<String>,
}

impl DeviceState {
    /// The notice page at `evaluation`, texts for `locale` (a BCP 47 tag; `_` is accepted
    /// too). [`crate::Error::NotEnrolled`] before enrollment.
    pub fn notice_page(&self, evaluation: &Evaluation, locale: &str) -> Result<NoticePage> {
        Ok(NoticePage::new(
            &self.enrolled()?.entitlement,
            evaluation,
            locale,
        ))
    }
}

impl NoticePage {
    /// The notice page of entitlement `e` at `evaluation`, texts for `locale`: what
    /// [`DeviceState::notice_page`] shows on the phone, and what a lender's preview shows
    /// from the same entitlement and decision without a phone's state.
    pub fn new(e: &Entitlement, evaluation: &Evaluation, locale: &str) -> NoticePage {
        let ladder = e.ladder();
        let d = &evaluation.decision;
        NoticePage {
            evaluation: *evaluation,
            payee: Payee::new(e, locale),
            amount_due_minor: e.account.amount_due_minor,
            currency: e.account.currency.clone(),
            next_due: e.account.next_due,
            restrict_from: d.restrict_from,
            lock_from: d.lock_from,
            reason: d.reason,
            first_shown: d.notice_first_shown,
            private_details: ladder.private_details,
            payment_apps: ladder.payment_apps,
            essentials: ladder.essentials,
            message: e.message_for(locale).map(str::to_string),
        }
    }
}
