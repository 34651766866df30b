//! The escalation ladder the server signs (PROTOCOL §3.7, ADR 0017, issue 18): the
//! moments of the notice, the restricted step and the lock, computed from the first unpaid
//! due date, the plan's lock (grace, extension) and the lender's compliance profile. Pure.
//!
//! With D the first unpaid installment's due date, T the plan's moment (D + grace days, or
//! a later extension) and F the profile's notice period:
//! - a profile with a required restricted step and no full lock (`in-rbi-draft`, `br-ce`):
//!   restricted at max(T, D + restricted minimum, notice start + F); the signed `lock_at`
//!   is [`NEVER`] and the offline lock is dropped;
//! - a required restricted step before a lock (`graded`): restricted at max(D + restricted
//!   minimum, notice start + F) plus the lender's extension, if any (an extension moves the
//!   restriction as it moves the lock), locked at max(T, D + locked minimum, restricted);
//! - no restricted step (`permissive`, `ph-sec-mc18`): locked at max(T, D + locked minimum,
//!   notice start + F);
//! - the notice starts at D + the profile's notice minimum when it names one (as early as
//!   allowed: the customer is warned longest), else F before the first step — for
//!   `permissive` exactly the v1 meaning ([`Escalation::implied_by`]).
//!
//! So whatever the stored plan says (one stored before the lender chose its profile too),
//! nothing signed comes earlier than the profile allows, and the field rules of §3.7 hold
//! by construction: restricted ≥ notice + F, restricted ≤ lock, lock ≥ notice + F.

use finlock_core::protocol::{Escalation, NOTICE_FLOOR_S};

use super::{COMPLETING_LOCK_AT, DAY};
use crate::compliance::Profile;

/// The signed `lock_at` of a profile that never locks in full: the protocol's largest
/// time, as for a completing device.
pub const NEVER: i64 = COMPLETING_LOCK_AT;

/// What a lender signs under: its profile and its payment apps.
#[derive(Debug, Clone, Copy)]
pub struct Terms<'a> {
    pub profile: &'a Profile,
    pub payment_apps: &'a [String],
}

/// The ladder for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    /// The signed `lock_at` (≥ the plan's).
    pub lock_at: i64,
    pub escalation: Escalation,
    /// Whether the plan's offline lock may be signed (not under a profile without locks).
    pub offline_lock: bool,
}

/// The ladder for a device whose first unpaid installment is due at `due` and whose plan
/// locks at `plan_lock_at` (grace and extension included), `extension_s` of it being the
/// lender's extension beyond the plan's own moment.
///
/// An extension (a promise to pay) moves every step it reaches: under a profile with a
/// restricted step before a lock, the restriction comes as much later as the lock does, so
/// an extended customer is not restricted in the middle of the time the lender granted.
///
/// The entitlement leaves out a ladder equal to the v1 meaning of its `lock_at`
/// ([`Escalation::implied_by`], what `permissive` without payment apps signs): by §3.7 an
/// absent ladder means exactly that, and the check-in answer stays within its 2 KiB budget.
pub fn ladder(terms: Terms<'_>, due: i64, plan_lock_at: i64, extension_s: i64) -> Ladder {
    let p = terms.profile;
    let f = p.notice_min_s() as i64;
    let days = |d: Option<u32>| due.saturating_add(i64::from(d.unwrap_or(0)) * DAY);
    // The earliest the notice may be, when the profile names it.
    let notice_from = p.notice.min_days_past_due.map(|d| days(Some(d)));
    let after_notice = notice_from.map_or(i64::MIN, |n| n.saturating_add(f));
    let (restrict_at, lock_at) = if p.restricted.required {
        let restricted_min = days(p.restricted.min_days_past_due).max(after_notice);
        if p.locked.allowed {
            let restrict_at = restricted_min.saturating_add(extension_s.max(0));
            let lock_at = plan_lock_at
                .max(days(p.locked.min_days_past_due))
                .max(restrict_at);
            (Some(restrict_at), lock_at)
        } else {
            (Some(restricted_min.max(plan_lock_at)), NEVER)
        }
    } else {
        let lock_at = plan_lock_at
            .max(days(p.locked.min_days_past_due))
            .max(after_notice);
        (None, lock_at)
    };
    let first_step = restrict_at.unwrap_or(lock_at);
    // Never later than a floor before the first step (the field rules), and a time.
    let notice_at = notice_from
        .unwrap_or(first_step.saturating_sub(f))
        .min(first_step.saturating_sub(f))
        .max(0);
    Ladder {
        lock_at,
        escalation: Escalation {
            notice_at,
            restrict_at,
            // Absent means the floor (§3.7): a few bytes less in every check-in answer.
            notice_min_s: (p.notice_min_s() != NOTICE_FLOOR_S).then_some(p.notice_min_s()),
            payment_apps: terms.payment_apps.to_vec(),
            essentials: p.essentials.clone(),
            private_details: p.screen.private_details,
        },
        offline_lock: p.locked.allowed,
    }
}
