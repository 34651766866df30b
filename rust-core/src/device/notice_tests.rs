//! The notice record on the device (§3.7, ADR 0017): recorded once per episode when the
//! page is displayed, measured by the monotonic clock only (reboots, wall-clock changes and
//! a hostile server's `iat` do not shorten it), persisted, reported, and cleared when the
//! episode ends.

use ring::rand::SystemRandom;

use super::*;
use crate::decision::Level;
use crate::fixtures::{self, DAY, T0};
use crate::protocol::LockReason;

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn enrolled() -> DeviceState {
    fixtures::enrolled(fixtures::entitlement(1, T0))
}

fn lock_at() -> i64 {
    fixtures::entitlement(1, T0).lock_at
}

/// Accepts `e` (signed by the lender, any `iat`) as the answer to a check-in at `clock`.
fn answer(s: &mut DeviceState, clock: &ClockInput, mut e: Entitlement) -> Evaluation {
    let out = s
        .checkin_request(clock, "0.1.0", &SystemRandom::new())
        .unwrap();
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .unwrap();
    s.complete_checkin(&out, &body, clock).unwrap()
}

/// An entitlement whose offline lock is out of the way, so only the payment rules apply.
fn staying_online(seq: u64, iat: i64) -> Entitlement {
    let mut e = fixtures::entitlement(seq, iat);
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    e
}

#[test]
fn at_normal_nothing_is_recorded() {
    let mut s = enrolled();
    assert_eq!(s.notice_shown(&at(T0 + 60)).ok(), Some(false));
    assert_eq!(s.enrolled().unwrap().notice, None);
    assert!(
        !s.enrolled()
            .unwrap()
            .pending_events
            .iter()
            .any(|e| matches!(e, Event::NoticeShown { .. }))
    );
    assert!(matches!(
        DeviceState::default().notice_shown(&at(T0)),
        Err(Error::NotEnrolled)
    ));
}

#[test]
fn the_first_display_is_recorded_once_and_reported() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    let start = lock_at() - DAY;
    assert_eq!(s.notice_shown(&at(start)).ok(), Some(true));
    // Every later display: nothing new, the first display never moves.
    assert_eq!(s.notice_shown(&at(start + 3600)).ok(), Some(false));
    assert_eq!(s.notice_shown(&at(start + 7200)).ok(), Some(false));
    let en = s.enrolled().unwrap();
    assert_eq!(en.notice.map(|n| n.first_shown_at), Some(start));
    let shown: Vec<_> = en
        .pending_events
        .iter()
        .filter(|e| matches!(e, Event::NoticeShown { .. }))
        .collect();
    assert_eq!(shown, [&Event::NoticeShown { at: start }]);
    // Reported at the next check-in, like code uses.
    let out = s
        .checkin_request(&at(start + 7300), "0.1.0", &SystemRandom::new())
        .unwrap();
    assert!(out.events_sent >= 1);
}

#[test]
fn powered_off_time_does_not_count() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    let start = lock_at() - DAY;
    fixtures::show_notice(&mut s, start);
    // Two hours on, then off for three days, then on again (a new boot) at lock_at + 2 days.
    s.evaluate(&at(start + 7200));
    let after_reboot = |since_boot_s: i64| ClockInput {
        wall_ms: (lock_at() + 2 * DAY + since_boot_s) * 1000,
        uptime_ms: since_boot_s as u64 * 1000,
        boot: 2,
    };
    let d = s.evaluate(&after_reboot(60)).decision;
    assert_eq!(d.level, Level::Notice);
    assert!(d.held_for_notice && !d.locked);
    // Only 2 h (+1 min) of the day ran: the rest must run in this boot.
    let left = DAY - 7200 - 60;
    assert_eq!(d.next_change, Some(lock_at() + 2 * DAY + 60 + left));
    assert!(
        s.evaluate(&after_reboot(60 + left - 1))
            .decision
            .held_for_notice
    );
    let d = s.evaluate(&after_reboot(60 + left)).decision;
    assert!(d.locked && d.notice_first_shown == Some(start));
}

#[test]
fn elapsed_time_survives_a_reboot_as_a_lower_bound() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    let start = lock_at() - DAY;
    fixtures::show_notice(&mut s, start);
    // Evaluations write the record's reading (at most a minute stale).
    s.evaluate(&at(start + 20 * 3600));
    let record = s.enrolled().unwrap().notice.unwrap();
    assert_eq!(record.elapsed_ms, 20 * 3600 * 1000);
    // Off for a day after that: the 20 h count, the rest of the day runs in the new boot.
    let boot2 = |since: i64| ClockInput {
        wall_ms: (start + 20 * 3600 + DAY + since) * 1000,
        uptime_ms: since as u64 * 1000,
        boot: 2,
    };
    assert!(s.evaluate(&boot2(4 * 3600 - 1)).decision.held_for_notice);
    assert!(s.evaluate(&boot2(4 * 3600)).decision.locked);
}

#[test]
fn a_wall_clock_set_forward_or_back_does_not_shorten_the_notice() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    let start = lock_at() - DAY;
    fixtures::show_notice(&mut s, start);
    // A minute later the clock is set a month ahead: trusted time is past lock_at, but the
    // notice has been on the phone for a minute.
    let forward = ClockInput {
        wall_ms: (start + 30 * DAY) * 1000,
        ..at(start + 60)
    };
    let d = s.evaluate(&forward).decision;
    assert!(d.held_for_notice && !d.locked);
    assert_eq!(d.next_change, Some(start + 30 * DAY + DAY - 60));
    // And back: no change either way until the uptime says a day.
    let back = ClockInput {
        wall_ms: (start - 30 * DAY) * 1000,
        ..at(start + DAY - 1)
    };
    assert!(s.evaluate(&back).decision.held_for_notice);
    let back = ClockInput {
        wall_ms: (start - 30 * DAY) * 1000,
        ..at(start + DAY)
    };
    assert!(s.evaluate(&back).decision.locked);
}

#[test]
fn a_hostile_server_iat_in_the_future_does_not_shorten_the_notice() {
    let mut s = enrolled();
    // The server signs an entitlement dated a year after lock_at: trusted time jumps there.
    let far = lock_at() + 365 * DAY;
    let d = answer(&mut s, &at(T0 + 60), staying_online(2, far)).decision;
    assert_eq!(d.level, Level::Notice);
    assert!(d.held_for_notice && !d.locked && d.next_change.is_none());
    fixtures::show_notice(&mut s, T0 + 120);
    assert_eq!(
        s.enrolled().unwrap().notice.map(|n| n.first_shown_at),
        Some(far + 60)
    );
    // A second entitlement further still, and another a day "later": uptime rules.
    answer(&mut s, &at(T0 + 180), staying_online(3, far + 100 * DAY));
    assert!(s.evaluate(&at(T0 + 120 + DAY - 1)).decision.held_for_notice);
    assert!(s.evaluate(&at(T0 + 120 + DAY)).decision.locked);
}

#[test]
fn a_lender_lock_waits_for_its_notice_and_an_unlock_ends_the_episode() {
    let mut s = enrolled();
    let mut lock = staying_online(2, T0 + 60);
    lock.state = EntitlementState::Locked;
    let d = answer(&mut s, &at(T0 + 60), lock).decision;
    assert!(d.held_for_notice && d.next_change.is_none());
    fixtures::show_notice(&mut s, T0 + 100);
    let d = s.evaluate(&at(T0 + 100 + DAY - 1)).decision;
    assert_eq!(d.next_change, Some(T0 + 100 + DAY));
    assert!(s.evaluate(&at(T0 + 100 + DAY)).decision.locked);
    let d = answer(&mut s, &at(T0 + 2 * DAY), staying_online(3, T0 + 2 * DAY)).decision;
    assert_eq!(d.level, Level::Normal);
    assert_eq!(s.enrolled().unwrap().notice, None);
}

#[test]
fn an_offline_lock_waits_for_its_notice_and_a_check_in_ends_the_episode() {
    let mut s = enrolled();
    // Silent since T0: the offline notice from 29 days, the lock wanted from 30.
    let d = s.evaluate(&at(T0 + 29 * DAY)).decision;
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.reason, Some(LockReason::Offline));
    assert!(s.evaluate(&at(T0 + 31 * DAY)).decision.held_for_notice);
    fixtures::show_notice(&mut s, T0 + 31 * DAY);
    assert!(s.evaluate(&at(T0 + 32 * DAY)).decision.locked);
    // It comes back online: before the next notice, the record goes.
    let d = answer(
        &mut s,
        &at(T0 + 33 * DAY),
        fixtures::entitlement(2, T0 + 33 * DAY),
    )
    .decision;
    assert_eq!(d.level, Level::Normal);
    assert_eq!(s.enrolled().unwrap().notice, None);
}

#[test]
fn an_offline_code_that_moves_the_steps_keeps_the_notice_while_one_is_due() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    fixtures::show_notice(&mut s, lock_at() - DAY);
    assert!(s.evaluate(&at(lock_at())).decision.locked);
    let challenge: u32 = s.offline_challenge().unwrap().parse().unwrap();
    let counter = offline_code::find_counter(&fixtures::OFFLINE_SECRET, challenge, 0).unwrap();
    let code = offline_code::format_code(
        offline_code::response(&fixtures::OFFLINE_SECRET, counter, 2).unwrap(),
    );
    s.enter_offline_code(&code, &at(lock_at() + 10)).unwrap();
    let d = s.evaluate(&at(lock_at() + 20)).decision;
    // Still overdue: the notice, the lock back when the code runs out.
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.lock_from, Some(lock_at() + 10 + 2 * DAY));
    assert!(s.enrolled().unwrap().notice.is_some());
    assert!(s.evaluate(&at(lock_at() + 10 + 2 * DAY)).decision.locked);
}

#[test]
fn the_record_is_persisted_and_an_old_store_loads_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    let s = enrolled();
    d.update(|state| {
        *state = s.clone();
        Ok(())
    })
    .unwrap();
    d.update(|state| {
        answer(state, &at(T0 + 60), staying_online(2, T0 + 60));
        Ok(())
    })
    .unwrap();
    assert_eq!(d.notice_shown(&at(lock_at() - DAY)).ok(), Some(true));
    let reopened = Device::open(dir.path()).unwrap();
    assert_eq!(
        reopened.state().enrolled().unwrap().notice,
        d.state().enrolled().unwrap().notice
    );
    assert!(reopened.state().enrolled().unwrap().notice.is_some());
    // A state written before the notice existed has no `notice` key: it loads as none.
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["enrollment"].get("notice").is_none());
    let old: DeviceState = serde_json::from_value(json).unwrap();
    assert_eq!(old.enrolled().unwrap().notice, None);
}

#[test]
fn released_clears_the_record() {
    let mut s = enrolled();
    answer(&mut s, &at(T0 + 60), staying_online(2, T0 + 60));
    fixtures::show_notice(&mut s, lock_at() - DAY);
    let mut released = staying_online(3, lock_at());
    released.state = EntitlementState::Released;
    let d = answer(&mut s, &at(lock_at()), released).decision;
    assert!(d.released);
    assert_eq!(s.enrolled().unwrap().notice, None);
}
