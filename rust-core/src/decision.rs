//! The decision (PROTOCOL §5): a pure function of stored state and trusted time — the
//! level the device is at (normal, notice, restricted, locked), why, and when that changes.
//!
//! It also says *when* its answer can next change by the passage of time alone, so
//! the shell arms exactly one alarm instead of polling. Anything else that changes
//! the answer (an accepted entitlement, an offline code, the notice page displayed) is an
//! event the shell already knows about, and it asks again.
//!
//! A server fault cannot reach this function: only an accepted, signed entitlement
//! changes `state`, `lock_at`, the ladder or the offline policy it reads. And the signed
//! moments alone never restrict or lock: the device's own record of the notice page on its
//! screen, measured by its own monotonic clock, must be at least the notice period old
//! (§3.7, ADR 0017) — a hostile server controls `iat` and so trusted time, never uptime.

use serde::{Deserialize, Serialize};

use crate::protocol::{EntitlementState, LockReason, MAX_SAFE, NOTICE_FLOOR_S};

/// A signed `lock_at` at the largest time of the protocol (2^53 − 1): no payment lock.
pub const NO_PAYMENT_LOCK: i64 = MAX_SAFE as i64 - 1;

/// How far the device is from ordinary use (§5). Ordered: time alone only ever moves up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Fully usable (reminders as usual).
    Normal,
    /// The notice page is shown at each screen unlock; the phone is otherwise usable.
    Notice,
    /// Calls, SMS, emergency, the payment apps and the essentials only.
    Restricted,
    /// The lock screen (with the payment apps).
    Locked,
}

/// The effective ladder (§3.7): the signed one, or the one a v1 entitlement implies
/// ([`crate::protocol::Escalation::implied_by`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    /// The notice page from then on (overdue path only).
    pub notice_at: i64,
    /// Restricted from then (overdue path only); `None`: no restricted step.
    pub restrict_at: Option<i64>,
    /// The notice period the entitlement asks for; the decision never uses less than
    /// [`NOTICE_FLOOR_S`], whatever this says.
    pub notice_min_s: u64,
}

impl Ladder {
    /// A ladder without a restricted step whose notice starts at `notice_at`.
    pub const fn notice_from(notice_at: i64) -> Ladder {
        Ladder {
            notice_at,
            restrict_at: None,
            notice_min_s: NOTICE_FLOOR_S,
        }
    }
}

/// The device's record of the notice page, as of now (§3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeSeen {
    /// Trusted time of the first display (what the screens show).
    pub first_shown_at: i64,
    /// How long the notice has been on the phone, by the device's monotonic clock (a lower
    /// bound: time powered off never counts). Never derived from trusted or wall time.
    pub elapsed_s: u64,
}

/// The stored facts the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionInput {
    /// `None` while the device is not enrolled (nothing to enforce yet).
    pub state: Option<EntitlementState>,
    pub lock_at: i64,
    pub lock_reason: Option<LockReason>,
    pub offline_lock_after_s: Option<u64>,
    /// Trusted time of the last accepted check-in (or enrollment).
    pub last_successful_checkin: i64,
    /// `offline_code_extension_until`; 0 when no code was ever accepted.
    pub offline_extension_until: i64,
    /// Paid in full and completing: released at this time unless a payment is voided
    /// (ADR 0012). Nothing is owed, so the payment steps (notice, restricted, lock) do not
    /// apply.
    pub release_at: Option<i64>,
    /// The effective ladder of the stored entitlement.
    pub ladder: Ladder,
    /// The notice record as of now; `None` when the notice page was not displayed in this
    /// episode.
    pub notice: Option<NoticeSeen>,
}

/// What the shell enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// `level == Locked` (kept for callers that predate levels).
    pub locked: bool,
    /// The level to enforce.
    pub level: Level,
    /// Why: for `locked`, why it is locked; for `notice` and `restricted`, the reason of the
    /// coming step; `None` at `normal`.
    pub reason: Option<LockReason>,
    /// Restricted or locked only because the device clock says so; the screen asks the user
    /// to check the date and time and to connect.
    pub clock_suspect: bool,
    /// Released for good: the shell removes every restriction and disables itself.
    pub released: bool,
    /// Paid in full, not yet released: the device will be released at this time (unless
    /// a payment is voided first). The shell says so, e.g. "Paid in full — this phone will
    /// be released on 14 March". `None` when released, or when something is still owed.
    pub release_at: Option<i64>,
    /// Trusted time at which the answer changes by itself, if it will.
    pub next_change: Option<i64>,
    /// The entitlement wants `restricted` or `locked`, but the notice has not been on this
    /// phone's screen long enough (or not at all): the level is `notice` until it has.
    pub held_for_notice: bool,
    /// Trusted time the notice page was first displayed in this episode ("Notice first shown
    /// on …"); `None` at `normal` and before a display.
    pub notice_first_shown: Option<i64>,
    /// The earliest the phone is restricted, as of now (the signed moment, or later when the
    /// notice has not been on the phone long enough); `None` at `normal` or without a
    /// restricted step.
    pub restrict_from: Option<i64>,
    /// The earliest the phone is locked, as of now; `None` at `normal` or when nothing will
    /// lock it by time.
    pub lock_from: Option<i64>,
}

impl Decision {
    const UNLOCKED_FOR_GOOD: Decision = Decision {
        locked: false,
        level: Level::Normal,
        reason: None,
        clock_suspect: false,
        released: false,
        release_at: None,
        next_change: None,
        held_for_notice: false,
        notice_first_shown: None,
        restrict_from: None,
        lock_from: None,
    };
}

/// The steps an entitlement asks for, before the notice guarantee.
struct Steps {
    /// N: the notice from then (`None`: no notice ever by time alone).
    notice_start: Option<i64>,
    /// The restricted step, if any.
    restrict: Option<i64>,
    /// The lock moments in the order their reasons take precedence.
    locks: [Option<(i64, LockReason)>; 2],
    /// The notice period, never below the floor.
    floor: i64,
}

/// The answer at one moment: what `next_change` watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Core {
    level: Level,
    reason: Option<LockReason>,
    held: bool,
    clock_suspect: bool,
}

impl Steps {
    fn of(input: &DecisionInput, state: EntitlementState) -> Steps {
        let floor =
            i64::try_from(input.ladder.notice_min_s.max(NOTICE_FLOOR_S)).unwrap_or(i64::MAX);
        if state == EntitlementState::Locked {
            // A lender lock is wanted now, and its notice starts now: always, so `MIN`.
            let reason = input.lock_reason.unwrap_or(LockReason::LenderRequest);
            return Steps {
                notice_start: Some(i64::MIN),
                restrict: None,
                locks: [Some((i64::MIN, reason)), None],
                floor,
            };
        }
        let ext = input.offline_extension_until;
        // Completing (paid in full): nothing is owed, so no payment steps; the offline lock
        // still applies, so a voided payment reaches a phone that stays away.
        let owed = input.release_at.is_none();
        // The largest time means no payment lock at all (§3.7: a profile that restricts but
        // never locks in full signs it, as a completing device's server does, §3.5): no
        // locked step, and no lock date on the notice page.
        let overdue_at = owed
            .then_some(input.lock_at)
            .filter(|&lock_at| lock_at < NO_PAYMENT_LOCK)
            .map(|lock_at| lock_at.max(ext));
        let restrict = input
            .ladder
            .restrict_at
            .filter(|_| owed)
            .map(|r| r.max(ext));
        let offline_at = input.offline_lock_after_s.map(|after| {
            input
                .last_successful_checkin
                .saturating_add(i64::try_from(after).unwrap_or(i64::MAX))
                .max(ext)
        });
        let notice_start = [
            owed.then_some(input.ladder.notice_at),
            restrict.map(|m| m.saturating_sub(floor)),
            overdue_at.map(|m| m.saturating_sub(floor)),
            offline_at.map(|m| m.saturating_sub(floor)),
        ]
        .into_iter()
        .flatten()
        .min();
        Steps {
            notice_start,
            restrict,
            locks: [
                overdue_at.map(|m| (m, LockReason::OverduePayment)),
                offline_at.map(|m| (m, LockReason::Offline)),
            ],
            floor,
        }
    }

    fn moments(&self) -> impl Iterator<Item = i64> + '_ {
        [self.notice_start, self.restrict]
            .into_iter()
            .chain(self.locks.iter().map(|l| l.map(|(m, _)| m)))
            .flatten()
    }

    fn earliest_lock(&self) -> Option<i64> {
        self.locks.iter().flatten().map(|(m, _)| *m).min()
    }

    /// The answer at trusted time `t`, verified time `v`, notice on the phone for `elapsed`.
    fn core(&self, t: i64, v: Option<i64>, elapsed: Option<i64>) -> Core {
        let wanted = self
            .locks
            .iter()
            .flatten()
            .find(|(m, _)| t >= *m)
            .map(|&(m, reason)| (Level::Locked, reason, m))
            .or_else(|| {
                self.restrict
                    .filter(|m| t >= *m)
                    .map(|m| (Level::Restricted, LockReason::OverduePayment, m))
            });
        if let Some((level, reason, moment)) = wanted {
            if elapsed.is_some_and(|e| e >= self.floor) {
                // If only the device clock (not verified server time) has reached the
                // moment, say so.
                // A lender lock (`MIN`: wanted whatever the time) is never the clock's doing.
                let clock_suspect = moment != i64::MIN && v.is_none_or(|v| v < moment);
                return Core {
                    level,
                    reason: Some(reason),
                    held: false,
                    clock_suspect,
                };
            }
            return Core {
                level: Level::Notice,
                reason: Some(reason),
                held: true,
                clock_suspect: false,
            };
        }
        if self.notice_start.is_some_and(|n| t >= n) {
            return Core {
                level: Level::Notice,
                reason: Some(self.coming_reason()),
                held: false,
                clock_suspect: false,
            };
        }
        Core {
            level: Level::Normal,
            reason: None,
            held: false,
            clock_suspect: false,
        }
    }

    /// The reason of the next step (called only before any step is wanted).
    fn coming_reason(&self) -> LockReason {
        let restrict = self.restrict.map(|m| (m, LockReason::OverduePayment));
        // Earliest first; on a tie the lock that takes precedence (the array order).
        [restrict, self.locks[0], self.locks[1]]
            .into_iter()
            .flatten()
            .min_by_key(|(m, _)| *m)
            .map_or(LockReason::OverduePayment, |(_, reason)| reason)
    }
}

/// Decides at trusted time `now`; `verified_now` is server time carried forward
/// (None when the device never heard from its server).
pub fn decide(input: &DecisionInput, now: i64, verified_now: Option<i64>) -> Decision {
    let Some(state) = input.state else {
        return Decision::UNLOCKED_FOR_GOOD;
    };
    if state == EntitlementState::Released {
        return Decision {
            released: true,
            ..Decision::UNLOCKED_FOR_GOOD
        };
    }
    let steps = Steps::of(input, state);
    let elapsed = input
        .notice
        .map(|n| i64::try_from(n.elapsed_s).unwrap_or(i64::MAX));
    let core = steps.core(now, verified_now, elapsed);

    // The answer changes only when `now`, verified time or the notice's elapsed time crosses
    // one of these; each candidate is checked in order, the first that changes it is next.
    // Verified time and the elapsed time are taken to advance with trusted time (if the
    // wall clock runs ahead, the shell wakes early, asks again and gets a later moment).
    let mut candidates: Vec<i64> = steps
        .moments()
        .flat_map(|m| {
            let confirmed = verified_now.map(|v| now.saturating_add(m.saturating_sub(v)));
            [Some(m), confirmed]
        })
        .flatten()
        .chain(elapsed.map(|e| now.saturating_add(steps.floor.saturating_sub(e))))
        .filter(|c| *c > now)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let next_change = candidates.into_iter().find(|&c| {
        let ahead = c.saturating_sub(now);
        let v = verified_now.map(|v| v.saturating_add(ahead));
        let e = elapsed.map(|e| e.saturating_add(ahead));
        steps.core(c, v, e) != core
    });

    let at_notice = core.level != Level::Normal;
    // What the notice page promises: the signed moment, or the moment the notice period is
    // met if later (in the past once it is met; a full period from now before a display).
    let earliest = now.saturating_add(steps.floor.saturating_sub(elapsed.unwrap_or(0)));
    let lock_from = steps.earliest_lock();
    let restrict_from = steps.restrict.filter(|r| lock_from.is_none_or(|l| *r < l));
    Decision {
        locked: core.level == Level::Locked,
        level: core.level,
        reason: core.reason,
        clock_suspect: core.clock_suspect,
        released: false,
        release_at: input.release_at,
        next_change,
        held_for_notice: core.held,
        notice_first_shown: input.notice.filter(|_| at_notice).map(|n| n.first_shown_at),
        restrict_from: restrict_from.filter(|_| at_notice).map(|m| m.max(earliest)),
        lock_from: lock_from.filter(|_| at_notice).map(|m| m.max(earliest)),
    }
}

#[cfg(test)]
mod notice_tests;
#[cfg(test)]
mod tests;
