//! What a profile refuses, pure: a plan whose grace would restrict or lock sooner than the
//! profile allows, a reminder policy that is not quiet when the profile says so, a lender
//! lock the profile forbids. Each refusal names its rule id (the profile file's key), which
//! the API returns as the problem's `rule` (422 `compliance`).
//!
//! A plan's `grace_days` is the moment of the lender's first sanction, in days past the
//! due date: the lock, or under a profile without locks the restriction. The policy signs
//! nothing earlier than the profile allows even for a plan stored before the lender chose
//! its profile ([`crate::policy::ladder`]); these checks make a new plan say so honestly.

use finlock_core::protocol::{ReminderPolicy, parse_hhmm};

use super::Profile;
use crate::error::Error;
use crate::policy::{self, DAY, Plan};

/// A refusal: the rule id and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub detail: String,
}

impl Refusal {
    fn new(rule: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            rule,
            detail: detail.into(),
        }
    }

    /// The problem (422 `compliance`) naming the rule and the profile.
    pub fn into_error(self, profile: &Profile) -> Error {
        Error::Compliance {
            profile: profile.id.clone(),
            rule: self.rule,
            detail: self.detail,
        }
    }
}

/// The least `grace_days` a plan may have under `profile`: the first sanction comes after
/// the notice may start plus its period, and not before the level's own minimum (with a
/// required restricted step before a lock, the lock comes at least a day after it).
pub fn min_grace_days(profile: &Profile) -> (u32, &'static str) {
    let after_notice = profile
        .notice
        .min_days_past_due
        .map_or(0, |d| d + profile.notice.min_days);
    let restricted = profile
        .restricted
        .min_days_past_due
        .unwrap_or(0)
        .max(after_notice);
    if !profile.locked.allowed {
        return if restricted == after_notice && after_notice > 0 {
            (restricted, "notice.min_days")
        } else {
            (restricted, "restricted.min_days_past_due")
        };
    }
    let locked = profile.locked.min_days_past_due.unwrap_or(0);
    if profile.restricted.required && restricted + 1 > locked {
        return (restricted + 1, "restricted.required");
    }
    if locked >= after_notice {
        (locked, "locked.min_days_past_due")
    } else {
        (after_notice, "notice.min_days")
    }
}

/// A plan (registration or reschedule) under `profile`.
pub fn check_plan(profile: &Profile, plan: &Plan) -> Result<(), Refusal> {
    if !profile.locked.allowed && plan.offline_lock_after_days.is_some_and(|d| d >= 1) {
        return Err(Refusal::new(
            "locked.allowed",
            "this profile never locks a phone in full, and an offline lock is one: leave \
             plan.offline_lock_after_days out",
        ));
    }
    let (min, rule) = min_grace_days(profile);
    if plan.grace_days < min {
        let what = if profile.locked.allowed {
            "lock"
        } else {
            "restrict"
        };
        return Err(Refusal::new(
            rule,
            format!(
                "plan.grace_days must be at least {min}: this profile does not let a phone \
                 {what} sooner after a missed due date"
            ),
        ));
    }
    Ok(())
}

/// A device's reminder policy (`None` = the server's defaults) under `profile`: quiet at
/// least during the profile's quiet hours.
pub fn check_reminders(
    profile: &Profile,
    reminders: Option<&ReminderPolicy>,
) -> Result<(), Refusal> {
    let Some((start, end)) = profile.quiet_minutes() else {
        return Ok(());
    };
    let defaults = policy::default_reminders();
    let r = reminders.unwrap_or(&defaults);
    let quiet = parse_hhmm(&r.quiet_start).zip(parse_hhmm(&r.quiet_end));
    let covered = quiet.is_some_and(|(qs, qe)| {
        // Minute by minute over the profile's window: obviously right, and 1,440 steps.
        qs != qe && window(start, end).all(|m| in_window(qs, qe, m))
    });
    if covered {
        return Ok(());
    }
    Err(Refusal::new(
        "reminders.quiet_hours",
        format!(
            "reminders.quiet_start/quiet_end must cover {}–{} (local time): no reminder \
             may fire then under this profile",
            hhmm(start),
            hhmm(end)
        ),
    ))
}

/// A lender lock of a device whose first unpaid installment is due at `first_unpaid_due`
/// (`None`: nothing is owed), at `now`.
pub fn check_lender_lock(
    profile: &Profile,
    first_unpaid_due: Option<i64>,
    now: i64,
) -> Result<(), Refusal> {
    if !profile.lender_lock.allowed {
        return Err(Refusal::new(
            "lender_lock.allowed",
            "this profile does not let a lender lock a phone",
        ));
    }
    if let Some(days) = profile.lender_lock.min_days_past_due {
        let past_due = first_unpaid_due.is_some_and(|due| now - due >= i64::from(days) * DAY);
        if !past_due {
            return Err(Refusal::new(
                "lender_lock.min_days_past_due",
                format!("a lender lock only once an installment is {days} days past due"),
            ));
        }
    }
    Ok(())
}

/// The minutes of `[start, end)`, across midnight when `start > end`.
fn window(start: u16, end: u16) -> impl Iterator<Item = u16> {
    (0..1440u16).filter(move |&m| in_window(start, end, m))
}

fn in_window(start: u16, end: u16, m: u16) -> bool {
    if start > end {
        m >= start || m < end
    } else {
        start <= m && m < end
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}
