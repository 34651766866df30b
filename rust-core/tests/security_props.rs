//! The security invariants of the core, as properties over arbitrary message sequences
//! and clock manipulations:
//!
//! - no sequence of messages not signed by the pinned lender key can lock a device,
//!   move `lock_at` earlier, or leave `released`;
//! - setting the wall clock back never postpones a lock;
//! - trusted time never decreases (between re-anchors by accepted entitlements); the
//!   marks the store may lag behind cost at most `MARK_SLACK_MS` per restart and a minute
//!   more per reboot (ADR 0006).

use finlock_core::b64;
use finlock_core::clock::{ClockInput, MARK_MAX_UNWRITTEN_MS, MARK_SLACK_MS};
use finlock_core::device::{Device, DeviceState};
use finlock_core::fixtures::{self, DAY, T0};
use finlock_core::protocol::{CheckinResponse, Entitlement, EntitlementState, LockReason};
use proptest::prelude::*;
use ring::rand::SystemRandom;

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn enrolled(first: Entitlement) -> DeviceState {
    fixtures::enrolled(first)
}

/// Something an attacker (or a broken network) can put in front of the device.
#[derive(Debug, Clone)]
enum Hostile {
    /// A well-formed entitlement signed by a key that claims the pinned kid.
    Impostor { seq: u64, state: u8, lock_at: i64 },
    /// Signed by a real lender key that this device does not pin.
    OtherLender { seq: u64, state: u8, lock_at: i64 },
    /// A genuine, properly signed entitlement with bytes changed afterwards.
    Tampered {
        seq: u64,
        state: u8,
        lock_at: i64,
        flips: Vec<(usize, u8)>,
    },
    /// A genuine entitlement whose payload was replaced after signing.
    PayloadSwap { state: u8, lock_at: i64 },
    /// Anything at all.
    Garbage(Vec<u8>),
}

fn state_of(n: u8) -> EntitlementState {
    match n % 3 {
        0 => EntitlementState::Active,
        1 => EntitlementState::Locked,
        _ => EntitlementState::Released,
    }
}

fn entitlement(seq: u64, state: u8, lock_at: i64) -> Entitlement {
    let mut e = fixtures::entitlement(seq, T0 + 10);
    e.state = state_of(state);
    e.lock_at = lock_at;
    e.lock_reason = Some(LockReason::LenderRequest);
    e
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let seq = 2u64..1_000_000;
    let lock_at = 0i64..(T0 + 1_000 * DAY);
    prop_oneof![
        (seq.clone(), any::<u8>(), lock_at.clone()).prop_map(|(seq, state, lock_at)| {
            Hostile::Impostor {
                seq,
                state,
                lock_at,
            }
        }),
        (seq.clone(), any::<u8>(), lock_at.clone()).prop_map(|(seq, state, lock_at)| {
            Hostile::OtherLender {
                seq,
                state,
                lock_at,
            }
        }),
        (
            seq,
            any::<u8>(),
            lock_at.clone(),
            proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4)
        )
            .prop_map(|(seq, state, lock_at, flips)| Hostile::Tampered {
                seq,
                state,
                lock_at,
                flips
            }),
        (any::<u8>(), lock_at).prop_map(|(state, lock_at)| Hostile::PayloadSwap { state, lock_at }),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Hostile::Garbage),
    ]
}

/// The compact string the device is shown, or `None` when a mutation was a no-op
/// (then the message is genuine and out of scope for this property).
fn render(h: &Hostile) -> Option<String> {
    Some(match h {
        Hostile::Impostor {
            seq,
            state,
            lock_at,
        } => entitlement(*seq, *state, *lock_at)
            .sign(&fixtures::impostor_key())
            .unwrap(),
        Hostile::OtherLender {
            seq,
            state,
            lock_at,
        } => entitlement(*seq, *state, *lock_at)
            .sign(&fixtures::other_lender_key())
            .unwrap(),
        Hostile::Tampered {
            seq,
            state,
            lock_at,
            flips,
        } => {
            let genuine = fixtures::sign(&entitlement(*seq, *state, *lock_at));
            let mut bytes = genuine.clone().into_bytes();
            for (i, x) in flips {
                let i = i % bytes.len();
                bytes[i] ^= x;
            }
            let tampered = String::from_utf8_lossy(&bytes).into_owned();
            if tampered == genuine {
                return None;
            }
            tampered
        }
        Hostile::PayloadSwap { state, lock_at } => {
            let genuine = fixtures::sign(&entitlement(2, 0, T0 + 5_000 * DAY));
            let evil = serde_json::to_vec(&entitlement(3, *state, *lock_at)).unwrap();
            let mut parts = genuine.split('.');
            let (h, _, s) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
            format!("{h}.{}.{s}", b64::encode(evil))
        }
        Hostile::Garbage(bytes) => String::from_utf8_lossy(bytes).into_owned(),
    })
}

fn facts(s: &DeviceState) -> (EntitlementState, i64, u64) {
    let e = &s.enrolled().unwrap().entitlement;
    (e.state, e.lock_at, e.seq)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Unsigned-by-the-pinned-key messages change nothing: not the entitlement, not
    /// `lock_at`, not the decision, whichever way they arrive.
    #[test]
    fn unsigned_messages_cannot_lock_or_move_lock_at(msgs in proptest::collection::vec(hostile(), 1..8)) {
        let mut s = enrolled(fixtures::entitlement(1, T0));
        let before = facts(&s);
        let probe = T0 + 20 * DAY;
        let unlocked = s.clone().evaluate(&at(probe)).decision;
        prop_assert!(!unlocked.locked);
        for (i, m) in msgs.iter().enumerate() {
            let Some(jws) = render(m) else { continue };
            let t = T0 + 100 + i as i64;
            prop_assert!(s.accept_entitlement(&jws, None, &at(t)).is_err());
            let out = s.checkin_request(&at(t), "0.1.0", &SystemRandom::new()).unwrap();
            let body = serde_json::to_vec(&CheckinResponse { entitlement: jws, push_key: None }).unwrap();
            prop_assert!(s.complete_checkin(&out, &body, &at(t)).is_err());
            prop_assert_eq!(facts(&s), before);
        }
        let after = s.clone().evaluate(&at(probe)).decision;
        prop_assert!(!after.locked, "{:?}", after);
        prop_assert_eq!(after.next_change, unlocked.next_change);
    }

    /// Released is terminal: nothing at all — not even genuine, newer, signed
    /// entitlements — moves a released device.
    #[test]
    fn nothing_leaves_released(
        msgs in proptest::collection::vec(hostile(), 1..6),
        genuine in proptest::collection::vec((2u64..1_000_000, any::<u8>(), 0i64..T0), 1..4),
    ) {
        let mut first = fixtures::entitlement(1, T0);
        first.state = EntitlementState::Released;
        let mut s = enrolled(first);
        let mut jwss: Vec<String> = msgs.iter().filter_map(render).collect();
        jwss.extend(genuine.iter().map(|(seq, st, lock_at)| fixtures::sign(&entitlement(*seq, *st, *lock_at))));
        for (i, jws) in jwss.into_iter().enumerate() {
            prop_assert!(s.accept_entitlement(&jws, None, &at(T0 + i as i64)).is_err());
            let d = s.evaluate(&at(T0 + 1_000 * DAY)).decision;
            prop_assert!(d.released && !d.locked);
        }
        prop_assert_eq!(facts(&s).0, EntitlementState::Released);
    }

    /// With the same boot and no powered-off gap, a device whose wall clock is set
    /// back (at any moments, by any amounts) locks no later than an honest one.
    #[test]
    fn setting_the_clock_back_never_postpones_a_lock(
        steps in proptest::collection::vec((1i64..(5 * DAY), proptest::option::of(0i64..(400 * DAY))), 1..40),
    ) {
        let mut honest = enrolled(fixtures::entitlement(1, T0));
        let mut cheater = honest.clone();
        let mut t = T0;
        for (dt, set_back) in steps {
            t += dt;
            let real = at(t);
            let shown = match set_back {
                Some(back) => ClockInput { wall_ms: real.wall_ms - back * 1000, ..real },
                None => real,
            };
            // Both shells display the notice page whenever there is one (a lock needs it, ADR
            // 0017), so the honest phone does lock and the property is not vacuous.
            honest.notice_shown(&real).unwrap();
            cheater.notice_shown(&shown).unwrap();
            let h = honest.evaluate(&real).decision;
            let c = cheater.evaluate(&shown).decision;
            if h.locked {
                prop_assert!(c.locked, "honest locked at {t} ({:?}) but the cheater was not", h.reason);
            }
        }
    }

    /// Trusted time never decreases across evaluations, reboots and clock changes
    /// when no entitlement re-anchors it.
    #[test]
    fn trusted_time_never_decreases(
        steps in proptest::collection::vec((0u64..(3 * DAY as u64), -400i64..400, any::<bool>()), 1..50),
    ) {
        let mut s = enrolled(fixtures::entitlement(1, T0));
        let mut input = at(T0);
        let mut last = s.evaluate(&input).reading.now_ms;
        for (dt, wall_days, reboot) in steps {
            if reboot {
                input.boot += 1;
                input.uptime_ms = dt * 1000;
            } else {
                input.uptime_ms += dt * 1000;
            }
            input.wall_ms = (T0 + wall_days * DAY) * 1000;
            let now = s.evaluate(&input).reading.now_ms;
            prop_assert!(now >= last);
            last = now;
        }
    }
}

proptest! {
    // Each case writes real files with fsync: fewer cases than the pure properties above.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Through the store, against a state that persists every evaluation (the eager model):
    /// within one process readings never go back; a restart (killed after any step) costs at
    /// most the slack and a reboot at most the slack plus a minute, each once; the store
    /// never makes the device read a later time than the eager model.
    #[test]
    fn lazily_written_marks_lose_at_most_a_minute_per_reboot(
        steps in proptest::collection::vec(
            (0u64..(2 * DAY as u64), -3_000i64..3_000, 0u8..8, any::<bool>()),
            1..24,
        ),
    ) {
        let fail = |e: finlock_core::Error| TestCaseError::fail(e.to_string());
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut device = Device::open(dir.path()).map_err(fail)?;
        let mut eager = enrolled(fixtures::entitlement(1, T0));
        let start = eager.clone();
        device.update(|s| { *s = start; Ok(()) }).map_err(fail)?;
        let mut input = at(T0);
        let mut last = device.evaluate(&input).map_err(fail)?.reading.now_ms;
        eager.evaluate(&input);
        let slack = i64::try_from(MARK_SLACK_MS).unwrap_or(0);
        let per_reboot = slack + i64::try_from(MARK_MAX_UNWRITTEN_MS).unwrap_or(0);
        let mut allowance = 0;
        // The wall clock runs with the monotonic one, drifting by the step's milliseconds,
        // and is sometimes set a day back; sometimes the phone reboots (and so restarts).
        for (dt_s, drift_ms, event, restart) in steps {
            let dt_ms = dt_s * 1000;
            let reboot = event == 0;
            if reboot {
                input.boot += 1;
                input.uptime_ms = dt_ms;
                allowance += per_reboot;
            } else {
                input.uptime_ms += dt_ms;
            }
            input.wall_ms += i64::try_from(dt_ms).unwrap_or(i64::MAX) + drift_ms;
            if event == 1 {
                input.wall_ms -= DAY * 1000;
            }
            if reboot || restart {
                device = Device::open(dir.path()).map_err(fail)?;
                allowance += slack;
            }
            let now = device.evaluate(&input).map_err(fail)?.reading.now_ms;
            let reference = eager.evaluate(&input).reading.now_ms;
            if !(reboot || restart) {
                prop_assert!(now >= last, "went back from {last} to {now} in one process");
            }
            prop_assert!(now <= reference, "{now} ahead of the eager model's {reference}");
            prop_assert!(
                now >= reference - allowance,
                "{now} more than {allowance} ms behind the eager model's {reference}"
            );
            last = now;
        }
    }
}
