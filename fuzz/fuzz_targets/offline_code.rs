//! The offline-code entry (PROTOCOL §6) on the lock screen: arbitrary typed input, and
//! genuine codes the lender would read out, against stored offline-code states.
//!
//! Flags byte: bit 0 the mode (0: part 0 is what was typed; 1: part 0's first bytes
//! choose a genuine response — for the current counter or one ahead, for a grant of
//! 0-7 days, allowed or not — and the rest is spliced in as separators); bits 1-2 the
//! stored offline state (fresh; 4 wrong today; 5 wrong today, locked out; 20 wrong since
//! the last check-in); bit 3 a long code already running; bit 4 the stored entitlement
//! is `released`.
//!
//! Invariants: no panic; malformed or refused input changes no offline state; a wrong
//! code is counted and changes nothing else; an accepted code is the lender's response
//! for the current counter and an allowed grant, moves the counter by one and never
//! shortens the extension; a genuine code for the current counter with an allowed grant
//! is accepted unless entry is locked out; parse and format of codes round-trip.
#![no_main]

use std::sync::OnceLock;

use finlock_core::Error;
use finlock_core::device::DeviceState;
use finlock_core::fixtures::{self, DAY, OFFLINE_SECRET, T0};
use finlock_core::offline_code::{self, ALLOWED_DAYS};
use finlock_core::protocol::EntitlementState;
use finlock_fuzz::{clock, split, text};
use libfuzzer_sys::fuzz_target;

fn enrolled() -> &'static DeviceState {
    static STATE: OnceLock<DeviceState> = OnceLock::new();
    STATE.get_or_init(|| fixtures::enrolled(fixtures::entitlement(4, T0)))
}

fn state(flags: u8, now: i64) -> DeviceState {
    let mut s = enrolled().clone();
    let en = s.enrollment.as_mut().expect("enrolled fixture");
    en.offline.counter = 7;
    match (flags >> 1) & 3 {
        0 => {}
        1 => en.offline.wrong_at = vec![now - 3600; 4],
        2 => en.offline.wrong_at = vec![now - 3600; 5],
        _ => en.offline.wrong_since_checkin = 20,
    }
    if flags & 8 != 0 {
        en.offline.extension_until = now + 25 * DAY;
    }
    if flags & 0x10 != 0 {
        en.entitlement.state = EntitlementState::Released;
    }
    s
}

/// A genuine response chosen by `choice`, formatted with `noise` spliced in.
fn genuine(choice: &[u8], counter: u64) -> (String, u64, u16) {
    let ahead = u64::from(choice.first().copied().unwrap_or(0) & 1);
    let days = u16::from(choice.get(1).copied().unwrap_or(0) & 7);
    let code = offline_code::response(&OFFLINE_SECRET, counter + ahead, days).unwrap_or(0);
    let digits = format!("{code:08}");
    let noise = choice.get(2..).unwrap_or_default();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if let Some(&b) = noise.get(i) {
            // Spaces and dashes are allowed anywhere; anything else makes it malformed.
            match b % 8 {
                0 => out.push(' '),
                1 => out.push('-'),
                2 => out.push(char::from(b)),
                _ => {}
            }
        }
        out.push(d);
    }
    (out, ahead, days)
}

fuzz_target!(|data: &[u8]| {
    let (flags, parts) = split(data);
    let part = parts.first().copied().unwrap_or_default();
    let now_clock = clock();
    let now = enrolled().clone().evaluate(&now_clock).reading.now();
    let before = state(flags, now);
    let counter = before
        .enrollment
        .as_ref()
        .map_or(0, |en| en.offline.counter);
    let (input, genuine_choice) = if flags & 1 == 0 {
        (text(part), None)
    } else {
        let (input, ahead, days) = genuine(part, counter);
        (input, Some((ahead, days)))
    };

    if let Ok(code) = offline_code::parse_code(&input) {
        assert!(code < 100_000_000);
        assert_eq!(
            offline_code::parse_code(&offline_code::format_code(code)).ok(),
            Some(code)
        );
    }

    let mut after = before.clone();
    let outcome = after.enter_offline_code(&input, &now_clock);
    let old = &before.enrollment.as_ref().expect("enrolled").offline;
    let new = &after.enrollment.as_ref().expect("enrolled").offline;
    match &outcome {
        Ok(accepted) => {
            assert!(ALLOWED_DAYS.contains(&accepted.days));
            assert_eq!(accepted.counter, old.counter);
            assert_eq!(new.counter, old.counter + 1);
            let typed = offline_code::parse_code(&input).expect("accepted a malformed code");
            assert_eq!(
                offline_code::response(&OFFLINE_SECRET, old.counter, accepted.days).ok(),
                Some(typed),
                "accepted a code the lender did not issue"
            );
            assert!(new.extension_until >= old.extension_until);
            assert!(new.extension_until >= accepted.at + i64::from(accepted.days) * DAY);
            assert_eq!(new.wrong_at, old.wrong_at);
        }
        Err(Error::OfflineCodeWrong { .. }) => {
            assert_eq!(new.counter, old.counter);
            assert_eq!(new.extension_until, old.extension_until);
            assert_eq!(new.wrong_since_checkin, old.wrong_since_checkin + 1);
        }
        Err(_) => assert_eq!(new, old, "a refused entry changed the offline state"),
    }
    if let Some((ahead, days)) = genuine_choice {
        let typed_ok = offline_code::parse_code(&input).is_ok();
        let open = old.lockout(now).is_none()
            && before
                .enrollment
                .as_ref()
                .expect("enrolled")
                .entitlement
                .state
                != EntitlementState::Released;
        if typed_ok && open && ahead == 0 && ALLOWED_DAYS.contains(&days) {
            let accepted = outcome.as_ref().expect("a genuine code was refused");
            assert!(accepted.days <= days);
        }
    }
});
