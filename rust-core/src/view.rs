//! What the device shows of its state: the lock screen, the notice page (in `notice`), who
//! to pay (on both and in every reminder) and the status.
//!
//! Each is assembled here, once, from the stored state and one [`Evaluation`] (trusted
//! time and the decision at it). The Kotlin bridge converts them to its records
//! (milliseconds, signed numbers, moments on the elapsed-realtime clock) and the simulator
//! (`finlock device status`) prints them, so the simulator shows what the phone shows and
//! neither decides what a field means.
//!
//! Texts are the lender's signed ones, picked for a locale with [`pick_locale`] (exact
//! tag, then language, then English). Times are Unix seconds of trusted time.

use crate::device::{DeviceState, Evaluation};
use crate::error::{Error, Result};
use crate::protocol::{Entitlement, EntitlementState, pick_locale};

/// Who to pay and how, from the lender's signed entitlement: what the lock screen and
/// every reminder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    /// The lender's name.
    pub name: String,
    /// The lender's phone: always callable, even locked.
    pub phone: String,
    /// Where to pay.
    pub payment_url: String,
    /// The lender's payment instructions for the locale; `None` when none fits.
    pub payment_instructions: Option<String>,
}

impl Payee {
    /// The payee `e` names, instructions for `locale` (a BCP 47 tag; `_` is accepted too).
    pub fn new(e: &Entitlement, locale: &str) -> Payee {
        Payee {
            name: e.lender.name.clone(),
            phone: e.lender.phone.clone(),
            payment_url: e.lender.payment_url.clone(),
            payment_instructions: e
                .lender
                .payment_instructions
                .as_ref()
                .and_then(|m| pick_locale(m, locale))
                .map(str::to_string),
        }
    }
}

/// Everything the lock screen shows (DESIGN: who the lender is, how much is due, how to
/// pay, the offline code), texts picked for one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockScreen {
    /// The trusted time and the decision this view was assembled at.
    pub evaluation: Evaluation,
    /// The lender and how to pay them.
    pub payee: Payee,
    pub lender_email: Option<String>,
    pub support_url: Option<String>,
    pub terms_url: Option<String>,
    /// The lender's message for the locale (e.g. the reason of a lender lock).
    pub message: Option<String>,
    /// Everything due now, in minor units of `currency`.
    pub amount_due_minor: u64,
    /// ISO 4217.
    pub currency: String,
    /// The next (or oldest unpaid) due date.
    pub next_due: Option<i64>,
    pub offline: OfflineEntry,
    /// Android packages the lock screen offers (and the lock task allows): the lender's
    /// payment apps (§3.7).
    pub payment_apps: Vec<String>,
    /// When the notice page was first shown in this episode ("Notice first shown on …").
    pub notice_first_shown: Option<i64>,
    /// Amounts appear only after the user opens the details (§3.7).
    pub private_details: bool,
}

/// The offline unlock code's part of the lock screen (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineEntry {
    /// The 8-digit challenge to read out to the lender; `None` once released.
    pub challenge: Option<String>,
    /// Wrong codes allowed now (0 while locked out).
    pub tries_left: u32,
    /// Code entry is refused now: until `locked_out_until`, or, when that is `None`,
    /// until the next check-in.
    pub locked_out: bool,
    pub locked_out_until: Option<i64>,
}

/// What the device knows about itself, for settings, support and the simulator. No secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The trusted time and the decision this view was assembled at.
    pub evaluation: Evaluation,
    pub provisioned: bool,
    pub server_url: Option<String>,
    /// When the next check-in is due (0 = as soon as possible).
    pub next_checkin: i64,
    /// Consecutive failed check-ins.
    pub checkin_failures: u32,
    /// `None` until enrolled.
    pub enrollment: Option<EnrollmentStatus>,
}

/// The enrolled part of [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentStatus {
    pub lender_id: String,
    pub device_id: String,
    /// The state the stored entitlement names.
    pub state: EntitlementState,
    /// The stored entitlement's sequence number.
    pub seq: u64,
    /// The stored entitlement's payment lock.
    pub lock_at: i64,
    /// Trusted time of the last accepted check-in (or of the enrollment).
    pub last_checkin: i64,
    /// Events (codes used, clock changes) waiting for the next check-in.
    pub pending_events: usize,
}

impl DeviceState {
    /// The lock screen at `evaluation` (from [`DeviceState::evaluate`] or
    /// [`crate::device::Device::evaluate`]), texts for `locale` (a BCP 47 tag; `_` is
    /// accepted too). [`Error::NotEnrolled`] before enrollment.
    pub fn lock_screen(&self, evaluation: &Evaluation, locale: &str) -> Result<LockScreen> {
        let en = self.enrolled()?;
        let e = &en.entitlement;
        let now = evaluation.reading.now();
        let challenge = match e.state {
            EntitlementState::Released => None,
            _ => Some(self.offline_challenge()?),
        };
        let lockout = en.offline.lockout(now);
        let locked_out_until = match &lockout {
            Some(Error::OfflineCodeLockedOut { until }) => *until,
            _ => None,
        };
        Ok(LockScreen {
            evaluation: *evaluation,
            payee: Payee::new(e, locale),
            lender_email: e.lender.email.clone(),
            support_url: e.lender.support_url.clone(),
            terms_url: e.lender.terms_url.clone(),
            message: e.message_for(locale).map(str::to_string),
            amount_due_minor: e.account.amount_due_minor,
            currency: e.account.currency.clone(),
            next_due: e.account.next_due,
            offline: OfflineEntry {
                challenge,
                tries_left: en.offline.tries_left(now),
                locked_out: lockout.is_some(),
                locked_out_until,
            },
            payment_apps: e.ladder().payment_apps,
            notice_first_shown: evaluation.decision.notice_first_shown,
            private_details: e.ladder().private_details,
        })
    }

    /// Who to pay and how, instructions for `locale`. [`Error::NotEnrolled`] before
    /// enrollment.
    pub fn payee(&self, locale: &str) -> Result<Payee> {
        Ok(Payee::new(&self.enrolled()?.entitlement, locale))
    }

    /// The status at `evaluation`; available in every state, provisioned or not.
    pub fn status(&self, evaluation: &Evaluation) -> Status {
        Status {
            evaluation: *evaluation,
            provisioned: self.provisioning.is_some(),
            server_url: self.provisioning.as_ref().map(|p| p.server_url.clone()),
            next_checkin: self.checkin.next_at,
            checkin_failures: self.checkin.failures,
            enrollment: self.enrollment.as_ref().map(|en| EnrollmentStatus {
                lender_id: en.lender_id.clone(),
                device_id: en.device_id.clone(),
                state: en.entitlement.state,
                seq: en.entitlement.seq,
                lock_at: en.entitlement.lock_at,
                last_checkin: en.last_successful_checkin,
                pending_events: en.pending_events.len(),
            }),
        }
    }
}

mod notice;
pub use notice::NoticePage;

#[cfg(test)]
mod notice_tests;
#[cfg(test)]
mod tests;
