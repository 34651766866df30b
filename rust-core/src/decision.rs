//! The lock decision (PROTOCOL §5): a pure function of stored state and trusted time.
//!
//! It also says *when* its answer can next change by the passage of time alone, so
//! the shell arms exactly one alarm instead of polling. Anything else that changes
//! the answer (an accepted entitlement, an offline code) is an event the shell
//! already knows about, and it asks again.
//!
//! A server fault cannot reach this function: only an accepted, signed entitlement
//! changes `state`, `lock_at` or the offline policy it reads.

use serde::{Deserialize, Serialize};

use crate::protocol::{EntitlementState, LockReason};

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
    /// (ADR 0012). Nothing is owed, so the payment lock (rule 3) does not apply.
    pub release_at: Option<i64>,
}

/// What the shell enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub locked: bool,
    /// Why the device is locked; `None` when unlocked.
    pub reason: Option<LockReason>,
    /// Locked only because the device clock says so; the screen asks the user to
    /// check the date and time and to connect.
    pub clock_suspect: bool,
    /// Released for good: the shell removes every restriction and disables itself.
    pub released: bool,
    /// Paid in full, not yet released: the device will be released at this time (unless
    /// a payment is voided first). The shell says so, e.g. "Paid in full — this phone will
    /// be released on 14 March". `None` when released, or when something is still owed.
    pub release_at: Option<i64>,
    /// Trusted time at which the answer changes by itself, if it will.
    pub next_change: Option<i64>,
}

impl Decision {
    const UNLOCKED_FOR_GOOD: Decision = Decision {
        locked: false,
        reason: None,
        clock_suspect: false,
        released: false,
        release_at: None,
        next_change: None,
    };
}

/// Decides at trusted time `now`; `verified_now` is server time carried forward
/// (None when the device never heard from its server).
pub fn decide(input: &DecisionInput, now: i64, verified_now: Option<i64>) -> Decision {
    let Some(state) = input.state else {
        return Decision::UNLOCKED_FOR_GOOD;
    };
    match state {
        EntitlementState::Released => {
            return Decision {
                released: true,
                ..Decision::UNLOCKED_FOR_GOOD
            };
        }
        EntitlementState::Locked => {
            return Decision {
                locked: true,
                reason: Some(input.lock_reason.unwrap_or(LockReason::LenderRequest)),
                release_at: input.release_at,
                ..Decision::UNLOCKED_FOR_GOOD
            };
        }
        EntitlementState::Active => {}
    }

    let ext = input.offline_extension_until;
    // Completing (paid in full): nothing is owed, so no payment lock; the offline lock
    // still applies, so a voided payment reaches a phone that stays away.
    let overdue_at = match input.release_at {
        Some(_) => None,
        None => Some(input.lock_at.max(ext)),
    };
    let offline_at = input.offline_lock_after_s.map(|after| {
        input
            .last_successful_checkin
            .saturating_add(i64::try_from(after).unwrap_or(i64::MAX))
            .max(ext)
    });

    for (moment, reason) in [
        (overdue_at, LockReason::OverduePayment),
        (offline_at, LockReason::Offline),
    ] {
        let Some(moment) = moment else { continue };
        if now >= moment {
            // Locked; if only the device clock (not verified server time) has reached
            // the moment, say so, and note when verified time will confirm it.
            let (clock_suspect, confirmed_at) = match verified_now {
                Some(v) if v >= moment => (false, None),
                Some(v) => (true, Some(now.saturating_add(moment.saturating_sub(v)))),
                None => (true, None),
            };
            // An offline lock turns into an overdue one when `lock_at` passes: the
            // screen's reason changes, so that moment counts too.
            let reason_changes_at = overdue_at.filter(|_| reason == LockReason::Offline);
            let next_change = [confirmed_at, reason_changes_at]
                .into_iter()
                .flatten()
                .min();
            return Decision {
                locked: true,
                reason: Some(reason),
                clock_suspect,
                released: false,
                release_at: input.release_at,
                next_change,
            };
        }
    }

    let next_change = [overdue_at, offline_at].into_iter().flatten().min();
    Decision {
        release_at: input.release_at,
        next_change,
        ..Decision::UNLOCKED_FOR_GOOD
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;

    fn active() -> DecisionInput {
        DecisionInput {
            state: Some(EntitlementState::Active),
            lock_at: 100 * DAY,
            lock_reason: None,
            offline_lock_after_s: Some(30 * DAY as u64),
            last_successful_checkin: 80 * DAY,
            offline_extension_until: 0,
            release_at: None,
        }
    }

    #[test]
    fn rule_0_not_enrolled_is_unlocked_with_nothing_to_wait_for() {
        let d = decide(
            &DecisionInput {
                state: None,
                ..active()
            },
            200 * DAY,
            None,
        );
        assert!(!d.locked && !d.released && d.next_change.is_none());
    }

    #[test]
    fn rule_1_released_is_unlocked_for_good() {
        let input = DecisionInput {
            state: Some(EntitlementState::Released),
            lock_at: 0,
            ..active()
        };
        let d = decide(&input, 1_000 * DAY, Some(1_000 * DAY));
        assert!(d.released && !d.locked && d.reason.is_none() && d.next_change.is_none());
    }

    #[test]
    fn rule_2_locked_state_locks_with_its_reason() {
        let mut input = DecisionInput {
            state: Some(EntitlementState::Locked),
            lock_reason: Some(LockReason::OverduePayment),
            ..active()
        };
        let d = decide(&input, 0, Some(0));
        assert!(d.locked && d.reason == Some(LockReason::OverduePayment) && !d.clock_suspect);
        input.lock_reason = None;
        assert_eq!(
            decide(&input, 0, Some(0)).reason,
            Some(LockReason::LenderRequest)
        );
    }

    #[test]
    fn rule_3_overdue_at_lock_at() {
        let input = active();
        let before = decide(&input, 100 * DAY - 1, Some(100 * DAY - 1));
        assert!(!before.locked);
        assert_eq!(before.next_change, Some(100 * DAY));
        let at = decide(&input, 100 * DAY, Some(100 * DAY));
        assert!(at.locked && at.reason == Some(LockReason::OverduePayment) && !at.clock_suspect);
        assert_eq!(at.next_change, None);
    }

    #[test]
    fn rule_3_offline_code_extension_postpones_overdue_lock() {
        let input = DecisionInput {
            offline_extension_until: 103 * DAY,
            ..active()
        };
        assert!(!decide(&input, 102 * DAY, Some(102 * DAY)).locked);
        assert_eq!(
            decide(&input, 102 * DAY, Some(102 * DAY)).next_change,
            Some(103 * DAY)
        );
        assert!(decide(&input, 103 * DAY, Some(103 * DAY)).locked);
    }

    #[test]
    fn rule_3_clock_suspect_when_only_the_device_clock_says_so() {
        let input = active();
        let d = decide(&input, 100 * DAY + 10, Some(99 * DAY));
        assert!(d.locked && d.clock_suspect);
        // Verified time confirms it one day later (in trusted time).
        assert_eq!(d.next_change, Some(101 * DAY + 10));
        let d = decide(&input, 100 * DAY, None);
        assert!(d.locked && d.clock_suspect && d.next_change.is_none());
    }

    #[test]
    fn rule_4_offline_lock_after_the_allowed_silence() {
        let input = DecisionInput {
            lock_at: 1_000 * DAY,
            ..active()
        };
        let d = decide(&input, 110 * DAY - 1, Some(110 * DAY - 1));
        assert!(!d.locked);
        assert_eq!(d.next_change, Some(110 * DAY));
        let d = decide(&input, 110 * DAY, Some(110 * DAY));
        assert!(d.locked && d.reason == Some(LockReason::Offline));
    }

    #[test]
    fn rule_4_offline_code_lifts_offline_lock_for_its_days() {
        let input = DecisionInput {
            lock_at: 1_000 * DAY,
            offline_extension_until: 117 * DAY,
            ..active()
        };
        let d = decide(&input, 115 * DAY, Some(115 * DAY));
        assert!(!d.locked);
        assert_eq!(d.next_change, Some(117 * DAY));
    }

    #[test]
    fn rule_4_absent_policy_never_locks_for_silence() {
        let input = DecisionInput {
            lock_at: 1_000 * DAY,
            offline_lock_after_s: None,
            ..active()
        };
        assert!(!decide(&input, 999 * DAY, Some(999 * DAY)).locked);
    }

    #[test]
    fn overdue_takes_precedence_over_offline() {
        let input = DecisionInput {
            lock_at: 100 * DAY,
            last_successful_checkin: 0,
            ..active()
        };
        let d = decide(&input, 100 * DAY, Some(100 * DAY));
        assert_eq!(d.reason, Some(LockReason::OverduePayment));
    }

    #[test]
    fn rule_5_unlocked_names_the_earliest_next_change() {
        let input = DecisionInput {
            lock_at: 200 * DAY,
            ..active()
        };
        assert_eq!(
            decide(&input, 90 * DAY, Some(90 * DAY)).next_change,
            Some(110 * DAY)
        );
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let input = DecisionInput {
            lock_at: i64::MAX,
            offline_lock_after_s: Some(u64::MAX),
            last_successful_checkin: i64::MAX,
            ..active()
        };
        assert!(!decide(&input, i64::MAX - 1, Some(i64::MIN)).locked);
        let input = DecisionInput {
            lock_at: i64::MIN,
            ..active()
        };
        let d = decide(&input, i64::MAX, Some(i64::MIN));
        assert!(d.locked && d.clock_suspect);
    }

    #[test]
    fn completing_is_unlocked_past_lock_at_and_says_when_it_is_released() {
        // Paid in full: the signed lock_at means nothing while release_at is present.
        let input = DecisionInput {
            lock_at: 10 * DAY,
            release_at: Some(102 * DAY),
            ..active()
        };
        let d = decide(&input, 100 * DAY, Some(100 * DAY));
        assert!(!d.locked && !d.released && d.reason.is_none());
        assert_eq!(d.release_at, Some(102 * DAY));
        // Only the offline lock can still change the answer by time alone.
        assert_eq!(d.next_change, Some(110 * DAY));
        // The date passing releases nothing by itself: the release is signed.
        let after = decide(&input, 103 * DAY, Some(103 * DAY));
        assert!(!after.locked && !after.released);
        assert_eq!(after.release_at, Some(102 * DAY));
    }

    #[test]
    fn completing_still_locks_offline_so_a_void_can_reach_the_phone() {
        let input = DecisionInput {
            lock_at: 10 * DAY,
            release_at: Some(120 * DAY),
            ..active()
        };
        let d = decide(&input, 110 * DAY, Some(110 * DAY));
        assert!(d.locked && d.reason == Some(LockReason::Offline));
        // No overdue lock behind it to change the reason later.
        assert_eq!(d.next_change, None);
        let no_policy = DecisionInput {
            offline_lock_after_s: None,
            ..input
        };
        let d = decide(&no_policy, 500 * DAY, Some(500 * DAY));
        assert!(!d.locked && d.next_change.is_none());
        assert_eq!(d.release_at, Some(120 * DAY));
    }

    #[test]
    fn without_release_at_the_payment_lock_applies_as_before() {
        // A void took the device back: the next entitlement has no release_at.
        let d = decide(&active(), 100 * DAY, Some(100 * DAY));
        assert!(d.locked && d.reason == Some(LockReason::OverduePayment));
        assert_eq!(d.release_at, None);
    }

    #[test]
    fn released_and_unenrolled_carry_no_release_date() {
        for state in [Some(EntitlementState::Released), None] {
            let input = DecisionInput {
                state,
                release_at: Some(5 * DAY),
                ..active()
            };
            assert_eq!(decide(&input, 0, Some(0)).release_at, None);
        }
    }

    proptest! {
        /// Completing never locks for payment, whatever lock_at and the clock say.
        #[test]
        fn completing_never_locks_for_payment(
            lock_at in 0i64..1_000, release_at in 0i64..1_000, after in proptest::option::of(1u64..500),
            last in 0i64..500, now in 0i64..2_000,
        ) {
            let input = DecisionInput {
                state: Some(EntitlementState::Active), lock_at, lock_reason: None,
                offline_lock_after_s: after, last_successful_checkin: last, offline_extension_until: 0,
                release_at: Some(release_at),
            };
            let d = decide(&input, now, Some(now));
            prop_assert!(d.reason != Some(LockReason::OverduePayment));
            prop_assert_eq!(d.release_at, Some(release_at));
            prop_assert!(!d.released);
        }

        /// The answer does not change before `next_change`.
        #[test]
        fn answer_is_stable_until_next_change(
            lock_at in 0i64..1_000, after in proptest::option::of(1u64..500),
            last in 0i64..500, ext in 0i64..1_000, now in 0i64..1_000, probe in 0i64..1_000,
        ) {
            let input = DecisionInput {
                state: Some(EntitlementState::Active), lock_at, lock_reason: None,
                offline_lock_after_s: after, last_successful_checkin: last, offline_extension_until: ext,
                release_at: None,
            };
            let d = decide(&input, now, Some(now));
            let later = now + probe;
            if d.next_change.is_none_or(|t| later < t) {
                let l = decide(&input, later, Some(later));
                prop_assert_eq!(l.locked, d.locked);
                prop_assert_eq!(l.reason, d.reason);
            } else {
                prop_assert!(d.next_change.is_some_and(|t| t > now));
            }
        }

        /// Time only ever moves a device towards locked, never back to unlocked.
        #[test]
        fn time_alone_never_unlocks(
            lock_at in 0i64..1_000, after in proptest::option::of(1u64..500),
            last in 0i64..500, ext in 0i64..1_000, now in 0i64..1_000, later in 0i64..1_000,
        ) {
            let input = DecisionInput {
                state: Some(EntitlementState::Active), lock_at, lock_reason: None,
                offline_lock_after_s: after, last_successful_checkin: last, offline_extension_until: ext,
                release_at: None,
            };
            if decide(&input, now, Some(now)).locked {
                prop_assert!(decide(&input, now + later, Some(now + later)).locked);
            }
        }
    }
}
