//! The state file's decoder (`store::decode`, then the JSON of a `DeviceState`, as
//! `Store::load` reads them) on arbitrary bytes, and everything the phone then does with
//! whatever state decoded.
//!
//! Flags byte: bit 0 the mode (0: the rest is a whole state file; 1: the rest is a body,
//! framed here, so the JSON is what varies past the checksum); bits 1-2 the phone's
//! clocks (honest; far in the future; before 1970; a monotonic clock at its maximum).
//!
//! Invariants: no panic; a frame that decodes is exactly header + body and re-encodes to
//! itself; a body always survives encode → decode; a state that decodes survives
//! serialize → decode unchanged (it is saved again at the next change), and every
//! operation the shell can call on it (evaluate, status, lock screen, payee, reminders,
//! next wake-up, offline challenge and entry, check-in request and failure) returns
//! rather than panicking. The bytes come from flash, which rots and which a rooted phone's
//! owner can write: the phone must then fail closed with an error, never crash.
#![no_main]

use finlock_core::clock::ClockInput;
use finlock_core::device::DeviceState;
use finlock_core::fixtures::{self, DAY, T0};
use finlock_core::store;
use finlock_fuzz::split;
use libfuzzer_sys::fuzz_target;

fn clock(flags: u8) -> ClockInput {
    match (flags >> 1) & 3 {
        0 => fixtures::clock_at(T0 + 40 * DAY),
        1 => ClockInput {
            wall_ms: i64::MAX / 2,
            uptime_ms: u64::MAX / 4,
            boot: 1,
        },
        2 => ClockInput {
            wall_ms: -86_400_000,
            uptime_ms: 0,
            boot: 2,
        },
        _ => ClockInput {
            wall_ms: (T0 + DAY) * 1000,
            uptime_ms: u64::MAX,
            boot: u64::MAX,
        },
    }
}

fn exercise(state: &DeviceState, clock: &ClockInput) {
    let mut s = state.clone();
    let evaluation = s.evaluate(clock);
    let _ = s.status(&evaluation);
    let _ = s.lock_screen(&evaluation, "fil-PH");
    let _ = s.payee("en");
    let now = evaluation.reading.now();
    let _ = s.reminders("UTC", now);
    let _ = s.reminder_due("UTC", now);
    let _ = s.next_wakeup("UTC", &evaluation.reading);
    let _ = s.offline_challenge();
    let _ = s.clone().enter_offline_code("1234-5678", clock);
    let _ = s.record_checkin_failure(clock, Some(u64::MAX), u64::MAX);
    let _ = s.checkin_request(clock, "0.1.0", &ring::rand::SystemRandom::new());
}

fuzz_target!(|data: &[u8]| {
    let (flags, _) = split(data);
    let rest = data.get(1..).unwrap_or_default();
    let body = if flags & 1 == 0 {
        match store::decode(rest) {
            Ok(body) => {
                assert_eq!(store::encode(body), rest, "a frame decoded to another body");
                body.to_vec()
            }
            Err(_) => return,
        }
    } else {
        let frame = store::encode(rest);
        assert_eq!(
            store::decode(&frame).ok(),
            Some(rest),
            "a body did not survive framing"
        );
        rest.to_vec()
    };
    let Ok(state) = serde_json::from_slice::<DeviceState>(&body) else {
        return;
    };
    let again = serde_json::to_vec(&state).expect("a decoded state serializes");
    let reread: DeviceState =
        serde_json::from_slice(&again).expect("a saved state does not load again");
    assert_eq!(reread, state, "the state changed across save and load");
    exercise(&state, &clock(flags));
});
