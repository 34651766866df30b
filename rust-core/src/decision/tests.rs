//! The rules of §5 as they were before levels (rules 0–5), with the notice displayed long
//! enough before each lock: what a lock needs now (ADR 0017).

use super::*;
use proptest::prelude::*;

const DAY: i64 = 86_400;

/// A notice first shown at 70 days, on the phone for 30 days of uptime: every lock below
/// has had its notice.
pub(super) const SHOWN: NoticeSeen = NoticeSeen {
    first_shown_at: 70 * DAY,
    elapsed_s: 30 * DAY as u64,
};

pub(super) fn active() -> DecisionInput {
    DecisionInput {
        state: Some(EntitlementState::Active),
        lock_at: 100 * DAY,
        lock_reason: None,
        offline_lock_after_s: Some(30 * DAY as u64),
        last_successful_checkin: 80 * DAY,
        offline_extension_until: 0,
        release_at: None,
        ladder: Ladder::notice_from(99 * DAY),
        notice: Some(SHOWN),
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
    assert_eq!(d.level, Level::Normal);
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
    assert_eq!(d.level, Level::Normal);
    assert_eq!(d.notice_first_shown, None);
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
    assert_eq!(d.level, Level::Locked);
    input.lock_reason = None;
    assert_eq!(
        decide(&input, 0, Some(0)).reason,
        Some(LockReason::LenderRequest)
    );
    // Never the clock's doing, even without verified time.
    assert!(!decide(&input, 0, None).clock_suspect);
}

#[test]
fn rule_3_overdue_at_lock_at() {
    let input = active();
    let before = decide(&input, 100 * DAY - 1, Some(100 * DAY - 1));
    assert!(!before.locked);
    assert_eq!(before.level, Level::Notice);
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
        ladder: Ladder::notice_from(999 * DAY),
        ..active()
    };
    // The notice comes a notice period before the offline lock.
    let d = decide(&input, 109 * DAY - 1, Some(109 * DAY - 1));
    assert_eq!(d.level, Level::Normal);
    assert_eq!(d.next_change, Some(109 * DAY));
    let d = decide(&input, 110 * DAY - 1, Some(110 * DAY - 1));
    assert!(!d.locked);
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.reason, Some(LockReason::Offline));
    assert_eq!(d.next_change, Some(110 * DAY));
    let d = decide(&input, 110 * DAY, Some(110 * DAY));
    assert!(d.locked && d.reason == Some(LockReason::Offline));
}

#[test]
fn rule_4_offline_code_lifts_offline_lock_for_its_days() {
    let input = DecisionInput {
        lock_at: 1_000 * DAY,
        ladder: Ladder::notice_from(999 * DAY),
        offline_extension_until: 117 * DAY,
        ..active()
    };
    let d = decide(&input, 115 * DAY, Some(115 * DAY));
    assert!(!d.locked);
    // A notice again from a day before the code runs out.
    assert_eq!(d.next_change, Some(116 * DAY));
    assert_eq!(
        decide(&input, 116 * DAY, Some(116 * DAY)).next_change,
        Some(117 * DAY)
    );
}

#[test]
fn rule_4_absent_policy_never_locks_for_silence() {
    let input = DecisionInput {
        lock_at: 1_000 * DAY,
        ladder: Ladder::notice_from(999 * DAY),
        offline_lock_after_s: None,
        ..active()
    };
    let d = decide(&input, 998 * DAY, Some(998 * DAY));
    assert!(!d.locked && d.level == Level::Normal);
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
        ladder: Ladder::notice_from(199 * DAY),
        ..active()
    };
    // The offline lock at 110 days, so its notice from 109.
    assert_eq!(
        decide(&input, 90 * DAY, Some(90 * DAY)).next_change,
        Some(109 * DAY)
    );
}

#[test]
fn extreme_values_do_not_overflow() {
    let input = DecisionInput {
        lock_at: i64::MAX,
        ladder: Ladder {
            notice_at: i64::MAX,
            restrict_at: Some(i64::MAX),
            notice_min_s: u64::MAX,
        },
        offline_lock_after_s: Some(u64::MAX),
        last_successful_checkin: i64::MAX,
        notice: Some(NoticeSeen {
            first_shown_at: i64::MIN,
            elapsed_s: u64::MAX,
        }),
        ..active()
    };
    assert!(!decide(&input, i64::MAX - 1, Some(i64::MIN)).locked);
    let input = DecisionInput {
        lock_at: i64::MIN,
        ladder: Ladder::notice_from(i64::MIN),
        ..active()
    };
    let d = decide(&input, i64::MAX, Some(i64::MIN));
    assert!(d.locked && d.clock_suspect);
}

#[test]
fn the_largest_lock_at_is_no_payment_lock_restricted_at_most() {
    // A profile that restricts but never locks in full signs the largest time as lock_at.
    let input = DecisionInput {
        lock_at: NO_PAYMENT_LOCK,
        offline_lock_after_s: None,
        ladder: Ladder {
            notice_at: 90 * DAY,
            restrict_at: Some(95 * DAY),
            notice_min_s: NOTICE_FLOOR_S,
        },
        notice: None,
        ..active()
    };
    let notice = decide(&input, 91 * DAY, Some(91 * DAY));
    assert_eq!(notice.level, Level::Notice);
    assert_eq!(notice.restrict_from, Some(95 * DAY));
    // No date the phone would be locked from: there is none.
    assert_eq!(notice.lock_from, None);
    let shown = DecisionInput {
        notice: Some(NoticeSeen {
            first_shown_at: 91 * DAY,
            elapsed_s: 9 * DAY as u64,
        }),
        ..input
    };
    for t in [95 * DAY, 1_000 * DAY, NO_PAYMENT_LOCK, i64::MAX] {
        let d = decide(&shown, t, Some(t));
        assert_eq!(d.level, Level::Restricted, "at {t}");
        assert!(!d.locked && d.lock_from.is_none());
        assert_eq!(d.next_change, None, "nothing changes by time alone");
    }
    // One second less is an ordinary (very late) lock.
    let late = DecisionInput {
        lock_at: NO_PAYMENT_LOCK - 1,
        ..shown
    };
    assert!(decide(&late, NO_PAYMENT_LOCK, Some(NO_PAYMENT_LOCK)).locked);
}

#[test]
fn completing_is_unlocked_past_lock_at_and_says_when_it_is_released() {
    // Paid in full: the signed lock_at means nothing while release_at is present.
    let input = DecisionInput {
        lock_at: 10 * DAY,
        ladder: Ladder::notice_from(9 * DAY),
        release_at: Some(102 * DAY),
        ..active()
    };
    let d = decide(&input, 100 * DAY, Some(100 * DAY));
    assert!(!d.locked && !d.released && d.reason.is_none());
    assert_eq!(d.level, Level::Normal);
    assert_eq!(d.release_at, Some(102 * DAY));
    // Only the offline lock can still change the answer by time alone: its notice first.
    assert_eq!(d.next_change, Some(109 * DAY));
    // The date passing releases nothing by itself: the release is signed.
    let after = decide(&input, 103 * DAY, Some(103 * DAY));
    assert!(!after.locked && !after.released);
    assert_eq!(after.release_at, Some(102 * DAY));
}

#[test]
fn completing_still_locks_offline_so_a_void_can_reach_the_phone() {
    let input = DecisionInput {
        lock_at: 10 * DAY,
        ladder: Ladder::notice_from(9 * DAY),
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

/// Moments in tenths of a day (0 to 100 days), sometimes one second off, so that every
/// rule, every tie and the notice floor are all reached.
pub(super) fn moment() -> impl Strategy<Value = i64> {
    (0i64..1_000, 0i64..2).prop_map(|(tenths, off)| tenths * (DAY / 10) + off)
}

/// Durations from nothing to 30 days, in the same steps.
pub(super) fn span() -> impl Strategy<Value = u64> {
    (0u64..300, 0u64..2).prop_map(|(tenths, off)| tenths * (DAY as u64 / 10) + off)
}

/// Arbitrary inputs over those ranges: active or lender-locked, completing or owing, with
/// or without a restricted step and a notice record.
pub(super) fn arb_input() -> impl Strategy<Value = DecisionInput> {
    (
        (
            prop_oneof![
                Just(EntitlementState::Active),
                Just(EntitlementState::Active),
                Just(EntitlementState::Locked)
            ],
            moment(),
            proptest::option::of(span()),
            moment(),
            moment(),
            proptest::option::of(moment()),
        ),
        (
            moment(),
            proptest::option::of(moment()),
            span(),
            proptest::option::of((moment(), span())),
        ),
    )
        .prop_map(
            |(
                (state, lock_at, after, last, ext, release_at),
                (notice_at, restrict_at, min, seen),
            )| {
                DecisionInput {
                    state: Some(state),
                    lock_at,
                    lock_reason: None,
                    offline_lock_after_s: after,
                    last_successful_checkin: last,
                    offline_extension_until: ext,
                    release_at,
                    ladder: Ladder {
                        notice_at,
                        restrict_at,
                        notice_min_s: min,
                    },
                    notice: seen.map(|(first_shown_at, elapsed_s)| NoticeSeen {
                        first_shown_at,
                        elapsed_s,
                    }),
                }
            },
        )
}

/// `input` as it is `ahead` seconds later: the notice has been on the phone that much longer.
pub(super) fn later(input: &DecisionInput, ahead: i64) -> DecisionInput {
    DecisionInput {
        notice: input.notice.map(|n| NoticeSeen {
            elapsed_s: n.elapsed_s + ahead as u64,
            ..n
        }),
        ..*input
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
            release_at: Some(release_at), ladder: Ladder::notice_from(0), notice: Some(SHOWN),
        };
        let d = decide(&input, now, Some(now));
        prop_assert!(d.reason != Some(LockReason::OverduePayment));
        prop_assert_eq!(d.release_at, Some(release_at));
        prop_assert!(!d.released);
    }

    /// The answer does not change before `next_change`, with the notice on the phone all
    /// along (its elapsed time advancing with trusted time).
    #[test]
    fn answer_is_stable_until_next_change(input in arb_input(), now in moment(), probe in moment()) {
        let d = decide(&input, now, Some(now));
        let t = now + probe;
        if d.next_change.is_none_or(|c| t < c) {
            let l = decide(&later(&input, probe), t, Some(t));
            prop_assert_eq!(l.level, d.level);
            prop_assert_eq!(l.reason, d.reason);
            prop_assert_eq!(l.held_for_notice, d.held_for_notice);
            prop_assert_eq!(l.clock_suspect, d.clock_suspect);
        } else {
            prop_assert!(d.next_change.is_some_and(|c| c > now));
            // And it does change there.
            let c = d.next_change.unwrap_or(now);
            let at = decide(&later(&input, c - now), c, Some(c));
            prop_assert!((at.level, at.reason, at.held_for_notice) != (d.level, d.reason, d.held_for_notice)
                || at.clock_suspect != d.clock_suspect);
        }
    }

    /// Time only ever moves a device up the ladder, never back down.
    #[test]
    fn time_alone_never_lowers_the_level(input in arb_input(), now in moment(), ahead in moment()) {
        let d = decide(&input, now, Some(now));
        let t = now + ahead;
        let l = decide(&later(&input, ahead), t, Some(t));
        prop_assert!(l.level >= d.level);
        prop_assert_eq!(l.locked, l.level == Level::Locked);
    }
}
