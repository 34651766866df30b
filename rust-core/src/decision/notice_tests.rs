//! The levels and the notice guarantee (§5, §3.7): each rule of the ladder, decided from
//! the signed moments and the device's own record of the notice.

use super::tests::active;
use super::*;

const DAY: i64 = 86_400;

/// Notice from 90 days, restricted from 95, locked at 100 (a 2-day notice period); the
/// offline lock far away; no notice displayed yet.
fn ladder() -> DecisionInput {
    DecisionInput {
        ladder: Ladder {
            notice_at: 90 * DAY,
            restrict_at: Some(95 * DAY),
            notice_min_s: 2 * DAY as u64,
        },
        offline_lock_after_s: None,
        notice: None,
        ..active()
    }
}

fn seen(first_shown_at: i64, elapsed_s: i64) -> Option<NoticeSeen> {
    Some(NoticeSeen {
        first_shown_at,
        elapsed_s: elapsed_s as u64,
    })
}

#[test]
fn before_the_notice_start_it_is_normal_and_names_the_start() {
    let d = decide(&ladder(), 90 * DAY - 1, Some(90 * DAY - 1));
    assert_eq!(d.level, Level::Normal);
    assert!(!d.locked && d.reason.is_none() && !d.held_for_notice);
    assert_eq!(d.next_change, Some(90 * DAY));
    // Nothing about steps at normal.
    assert_eq!((d.restrict_from, d.lock_from), (None, None));
}

#[test]
fn at_the_notice_start_the_notice_with_the_coming_step() {
    let d = decide(&ladder(), 90 * DAY, Some(90 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.reason, Some(LockReason::OverduePayment));
    assert!(!d.locked && !d.held_for_notice && !d.clock_suspect);
    // Nothing displayed yet: each step at least a notice period from now.
    assert_eq!(d.restrict_from, Some(95 * DAY));
    assert_eq!(d.lock_from, Some(100 * DAY));
    assert_eq!(d.notice_first_shown, None);
    // The next change is the restricted step's moment (it will be held, or not).
    assert_eq!(d.next_change, Some(95 * DAY));
}

#[test]
fn a_wanted_step_without_a_displayed_notice_is_held_with_nothing_to_wait_for() {
    for now in [95 * DAY, 100 * DAY, 400 * DAY] {
        let d = decide(&ladder(), now, Some(now));
        assert_eq!(d.level, Level::Notice, "at {now}");
        assert!(d.held_for_notice && !d.locked);
        // Waiting for a display, which only the shell reports: no alarm.
        assert_eq!(d.next_change, None);
        // The steps are at least a full notice period away.
        assert_eq!(d.lock_from, Some((100 * DAY).max(now + 2 * DAY)));
    }
}

#[test]
fn a_wanted_step_with_too_recent_a_notice_is_held_until_the_period_is_met() {
    let input = DecisionInput {
        notice: seen(94 * DAY, DAY / 2),
        ..ladder()
    };
    let d = decide(&input, 95 * DAY, Some(95 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert!(d.held_for_notice);
    assert_eq!(d.reason, Some(LockReason::OverduePayment));
    assert_eq!(d.next_change, Some(95 * DAY + 3 * DAY / 2));
    assert_eq!(d.restrict_from, Some(95 * DAY + 3 * DAY / 2));
    assert_eq!(d.notice_first_shown, Some(94 * DAY));
    // Once it has been on the phone for the period: restricted.
    let met = DecisionInput {
        notice: seen(94 * DAY, 2 * DAY),
        ..ladder()
    };
    let d = decide(&met, 96 * DAY + DAY / 2, Some(96 * DAY + DAY / 2));
    assert_eq!(d.level, Level::Restricted);
    assert!(!d.locked && !d.held_for_notice && !d.clock_suspect);
    // Restricted from when the period was met (now), not from the signed 95 days.
    assert_eq!(d.restrict_from, Some(96 * DAY + DAY / 2));
    assert_eq!(d.lock_from, Some(100 * DAY));
    assert_eq!(d.next_change, Some(100 * DAY));
    let d = decide(&met, 100 * DAY, Some(100 * DAY));
    assert_eq!(d.level, Level::Locked);
    assert!(d.locked && d.reason == Some(LockReason::OverduePayment));
    assert_eq!(d.notice_first_shown, Some(94 * DAY));
}

#[test]
fn the_floor_holds_whatever_the_ladder_asks() {
    // A notice period below the floor (no valid entitlement carries one) is the floor.
    let input = DecisionInput {
        ladder: Ladder {
            notice_min_s: 60,
            ..ladder().ladder
        },
        notice: seen(95 * DAY, DAY - 1),
        ..ladder()
    };
    let d = decide(&input, 99 * DAY, Some(99 * DAY));
    assert!(d.held_for_notice);
    assert_eq!(d.next_change, Some(99 * DAY + 1));
}

#[test]
fn a_lender_lock_gives_notice_first() {
    let input = DecisionInput {
        state: Some(EntitlementState::Locked),
        lock_reason: Some(LockReason::LenderRequest),
        ..ladder()
    };
    // Long before any signed moment: the notice now, the lock held until it was displayed.
    let d = decide(&input, 10 * DAY, Some(10 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert!(d.held_for_notice && d.next_change.is_none());
    assert_eq!(d.reason, Some(LockReason::LenderRequest));
    assert_eq!(d.lock_from, Some(12 * DAY));
    let shown = DecisionInput {
        notice: seen(10 * DAY, DAY),
        ..input
    };
    let d = decide(&shown, 11 * DAY, Some(11 * DAY));
    assert!(d.held_for_notice);
    assert_eq!(d.next_change, Some(12 * DAY));
    let d = decide(&later(&shown, DAY), 12 * DAY, Some(12 * DAY));
    assert_eq!(d.level, Level::Locked);
    assert!(d.locked && !d.clock_suspect);
}

fn later(input: &DecisionInput, ahead: i64) -> DecisionInput {
    super::tests::later(input, ahead)
}

#[test]
fn an_offline_lock_gives_notice_first() {
    let input = DecisionInput {
        lock_at: 1_000 * DAY,
        ladder: Ladder::notice_from(999 * DAY),
        offline_lock_after_s: Some(30 * DAY as u64),
        last_successful_checkin: 80 * DAY,
        notice: None,
        ..active()
    };
    let d = decide(&input, 109 * DAY, Some(109 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.reason, Some(LockReason::Offline));
    assert_eq!(d.lock_from, Some(110 * DAY));
    let d = decide(&input, 115 * DAY, Some(115 * DAY));
    assert!(d.held_for_notice && !d.locked);
    let shown = DecisionInput {
        notice: seen(109 * DAY, 6 * DAY),
        ..input
    };
    let d = decide(&shown, 115 * DAY, Some(115 * DAY));
    assert!(d.locked && d.reason == Some(LockReason::Offline));
}

#[test]
fn completing_has_no_payment_notice() {
    let input = DecisionInput {
        release_at: Some(200 * DAY),
        ..ladder()
    };
    for now in [90 * DAY, 95 * DAY, 150 * DAY] {
        let d = decide(&input, now, Some(now));
        assert_eq!(d.level, Level::Normal, "at {now}");
        assert!(d.reason.is_none() && d.next_change.is_none());
    }
}

#[test]
fn an_offline_code_moves_the_steps_and_their_notice() {
    let input = DecisionInput {
        offline_extension_until: 110 * DAY,
        notice: seen(90 * DAY, 10 * DAY),
        ..ladder()
    };
    // The signed notice start has passed: the notice stays; both steps wait for the code.
    let d = decide(&input, 100 * DAY, Some(100 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert!(!d.held_for_notice);
    // Restricted and lock both at the code's end: the lock, no restricted step.
    assert_eq!(d.restrict_from, None);
    assert_eq!(d.lock_from, Some(110 * DAY));
    let d = decide(&later(&input, 10 * DAY), 110 * DAY, Some(110 * DAY));
    assert_eq!(d.level, Level::Locked);
}

#[test]
fn clock_suspect_when_only_the_device_clock_reaches_a_step() {
    let input = DecisionInput {
        notice: seen(90 * DAY, 5 * DAY),
        ..ladder()
    };
    let d = decide(&input, 96 * DAY, Some(94 * DAY));
    assert_eq!(d.level, Level::Restricted);
    assert!(d.clock_suspect);
    assert_eq!(d.next_change, Some(97 * DAY));
}

#[test]
fn a_ladder_without_restricted_step_goes_from_notice_to_locked() {
    let input = DecisionInput {
        ladder: Ladder::notice_from(90 * DAY),
        notice: seen(90 * DAY, 10 * DAY),
        ..ladder()
    };
    let d = decide(&input, 99 * DAY, Some(99 * DAY));
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.restrict_from, None);
    assert_eq!(d.next_change, Some(100 * DAY));
    assert!(decide(&later(&input, DAY), 100 * DAY, Some(100 * DAY)).locked);
}

#[test]
fn a_lock_signed_too_soon_still_waits_for_the_notice_period() {
    // A v1 entitlement signed on the lock's own day (or a wrong date): the notice starts
    // now and the lock comes a period after the notice was first displayed.
    let input = DecisionInput {
        ladder: Ladder::notice_from(99 * DAY),
        notice: None,
        ..ladder()
    };
    let d = decide(&input, 100 * DAY, Some(100 * DAY));
    assert!(d.held_for_notice && d.lock_from == Some(101 * DAY));
    let shown = DecisionInput {
        notice: seen(100 * DAY, 0),
        ..input
    };
    let d = decide(&shown, 100 * DAY, Some(100 * DAY));
    assert_eq!(d.next_change, Some(101 * DAY));
}
