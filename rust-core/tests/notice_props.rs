//! The notice guarantee (PROTOCOL §3.7, ADR 0017) as a property over arbitrary histories:
//! signed entitlements with any ladder, state, `lock_at`, `release_at` and `iat` (a hostile
//! server signs what it likes; each goes through the real acceptance path and may be
//! refused), wall-clock changes, uptime passing, reboots after any time powered off,
//! restarts of the process, offline codes and displays of the notice page.
//!
//! Whenever a decision is `restricted` or `locked`, the store holds a notice record and the
//! test's own model of real running time (time the phone was on, which no input to the
//! device can inflate) says the notice was first displayed at least the notice period
//! earlier. And the trusted-time rule still holds: trusted time never goes back within a
//! process except when an accepted entitlement re-anchors it.

use finlock_core::clock::ClockInput;
use finlock_core::decision::{Decision, Level};
use finlock_core::device::{Device, DeviceState};
use finlock_core::fixtures::{self, DAY, T0};
use finlock_core::offline_code;
use finlock_core::protocol::{CheckinResponse, EntitlementState, Escalation, NOTICE_FLOOR_S};
use proptest::prelude::*;
use ring::rand::SystemRandom;

/// What a ladder may say; many combinations break the field rules and are refused.
#[derive(Debug, Clone)]
struct LadderSpec {
    notice_before_lock_s: i64,
    restrict_before_lock_s: Option<i64>,
    notice_min_s: Option<u64>,
}

/// One signed entitlement, moments relative to the real time it is sent at.
#[derive(Debug, Clone)]
struct Signed {
    state: u8,
    iat_s: i64,
    lock_at_s: i64,
    completing_s: Option<i64>,
    offline_after_s: Option<u64>,
    ladder: Option<LadderSpec>,
}

#[derive(Debug, Clone)]
enum Step {
    /// The phone runs for this long (uptime and real time together).
    Run(u64),
    /// Off for `off` seconds, then on again (a new boot) and running for `up` seconds.
    Reboot { off: u64, up: u64 },
    /// The wall clock is set this far from real time (and stays so).
    Skew(i64),
    /// A check-in answered with this entitlement.
    Checkin(Signed),
    /// The shell displays the notice page.
    Shown,
    /// An offline code for this many days.
    Code(u16),
    /// The process is killed and started again (same boot).
    Restart,
}

fn signed() -> impl Strategy<Value = Signed> {
    let span = -40 * DAY..120 * DAY;
    let ladder = (
        0..30 * DAY,
        proptest::option::of(0..20 * DAY),
        proptest::option::of(prop_oneof![
            Just(0u64),
            Just(NOTICE_FLOOR_S - 1),
            NOTICE_FLOOR_S..(10 * DAY as u64),
            Just(200 * DAY as u64),
        ]),
    )
        .prop_map(|(n, r, min)| LadderSpec {
            notice_before_lock_s: n,
            restrict_before_lock_s: r,
            notice_min_s: min,
        });
    (
        0u8..7,
        prop_oneof![
            3 => -DAY..DAY,
            1 => -100 * DAY..3_000 * DAY,
        ],
        span.clone(),
        proptest::option::of(0..10 * DAY),
        proptest::option::of(prop_oneof![Just(0u64), DAY as u64..(40 * DAY as u64)]),
        proptest::option::of(ladder),
    )
        .prop_map(
            |(state, iat_s, lock_at_s, completing_s, offline_after_s, ladder)| Signed {
                state,
                iat_s,
                lock_at_s,
                completing_s,
                offline_after_s,
                ladder,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop_oneof![0u64..3_600, 0u64..(3 * DAY as u64)].prop_map(Step::Run),
        1 => (0u64..(10 * DAY as u64), 0u64..(2 * 3_600)).prop_map(|(off, up)| Step::Reboot { off, up }),
        1 => (-400 * DAY..400 * DAY).prop_map(Step::Skew),
        3 => signed().prop_map(Step::Checkin),
        4 => Just(Step::Shown),
        1 => (1u16..10).prop_map(Step::Code),
        1 => Just(Step::Restart),
    ]
}

/// The device under test: in memory, or through its store (restarts reopen the directory).
enum Phone {
    Memory(Box<DeviceState>),
    Stored(tempfile::TempDir, Box<Device>),
}

impl Phone {
    fn state(&self) -> &DeviceState {
        match self {
            Phone::Memory(s) => s,
            Phone::Stored(_, d) => d.state(),
        }
    }

    fn with<R>(
        &mut self,
        f: impl FnOnce(&mut DeviceState) -> finlock_core::Result<R>,
    ) -> finlock_core::Result<R> {
        match self {
            Phone::Memory(s) => {
                // As the store does: a failed operation leaves the state as it was.
                let mut next = (**s).clone();
                let out = f(&mut next)?;
                **s = next;
                Ok(out)
            }
            Phone::Stored(_, d) => d.update(f),
        }
    }

    fn evaluate(&mut self, clock: &ClockInput) -> (i64, Decision) {
        let ev = match self {
            Phone::Memory(s) => s.evaluate(clock),
            Phone::Stored(_, d) => d.evaluate(clock).expect("the store writes"),
        };
        (ev.reading.now_ms, ev.decision)
    }

    fn notice_shown(&mut self, clock: &ClockInput) -> bool {
        match self {
            Phone::Memory(s) => s.notice_shown(clock).expect("enrolled"),
            Phone::Stored(_, d) => d.notice_shown(clock).expect("enrolled"),
        }
    }

    fn restart(&mut self) {
        if let Phone::Stored(dir, d) = self {
            **d = Device::open(dir.path()).expect("the store reopens");
        }
    }
}

/// The world: real time, the phone's real running time, and what its clocks report.
struct World {
    real_ms: i64,
    running_ms: u64,
    skew_ms: i64,
    boot: u64,
    uptime_ms: u64,
    seq: u64,
}

impl World {
    fn clock(&self) -> ClockInput {
        ClockInput {
            wall_ms: self.real_ms + self.skew_ms,
            uptime_ms: self.uptime_ms,
            boot: self.boot,
        }
    }

    fn run(&mut self, ms: u64) {
        self.real_ms += ms as i64;
        self.running_ms += ms;
        self.uptime_ms += ms;
    }

    fn real_s(&self) -> i64 {
        self.real_ms.div_euclid(1000)
    }
}

fn entitlement(w: &World, seq: u64, s: &Signed) -> finlock_core::protocol::Entitlement {
    let now = w.real_s();
    let mut e = fixtures::entitlement(seq, now + s.iat_s);
    e.state = match s.state {
        0 => EntitlementState::Locked,
        1 => EntitlementState::Released,
        _ => EntitlementState::Active,
    };
    e.lock_at = (now + s.lock_at_s).max(0);
    e.release_at = s.completing_s.map(|c| now + c);
    e.offline_lock_after_s = s.offline_after_s;
    // The warning needs a longer offline lock (§3.3): otherwise every such answer is refused.
    e.offline_warning_s = e
        .offline_warning_s
        .filter(|w| s.offline_after_s.is_some_and(|a| a > *w));
    e.escalation = s.ladder.as_ref().map(|l| Escalation {
        notice_at: (e.lock_at - l.notice_before_lock_s).max(0),
        restrict_at: l.restrict_before_lock_s.map(|r| (e.lock_at - r).max(0)),
        notice_min_s: l.notice_min_s,
        payment_apps: vec!["com.example.pay".into()],
        essentials: Vec::new(),
        private_details: false,
    });
    e
}

/// Runs `steps`; checks the guarantee after every decision and the trusted-time rule.
fn run(mut phone: Phone, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut w = World {
        real_ms: T0 * 1000,
        running_ms: 0,
        skew_ms: 0,
        boot: 1,
        uptime_ms: 0,
        seq: 1,
    };
    // The model's own record of the first display in the current episode.
    let mut first_shown_running: Option<u64> = None;
    let (mut last_now, _) = phone.evaluate(&w.clock());
    // For NOTICE_PROPS_STATS: how often the histories reach the interesting cases.
    let (mut displays, mut reached, mut accepted) = (0, 0, 0);
    for step in steps {
        let mut reanchored = false;
        let mut decisions = Vec::new();
        match step {
            Step::Run(s) => w.run(s * 1000),
            Step::Reboot { off, up } => {
                w.real_ms += *off as i64 * 1000;
                w.boot += 1;
                w.uptime_ms = 0;
                w.run(up * 1000);
                phone.restart();
                reanchored = true; // a new process: the lazily written marks may lag
            }
            Step::Skew(s) => w.skew_ms = s * 1000,
            Step::Checkin(s) => {
                w.seq += 1;
                let mut e = entitlement(&w, w.seq, s);
                let clock = w.clock();
                let before = phone.state().enrolled().ok().map(|en| en.entitlement.seq);
                let answer = phone.with(|st| {
                    let out = st.checkin_request(&clock, "0.1.0", &SystemRandom::new())?;
                    e.nonce = Some(out.nonce.clone());
                    let body = serde_json::to_vec(&CheckinResponse {
                        entitlement: fixtures::sign(&e),
                        push_key: None,
                    })
                    .expect("a response serializes");
                    st.complete_checkin(&out, &body, &clock)
                });
                if let Ok(ev) = answer {
                    decisions.push(ev.decision);
                }
                reanchored = phone.state().enrolled().ok().map(|en| en.entitlement.seq) != before;
                accepted += usize::from(reanchored);
            }
            Step::Shown => {
                if phone.notice_shown(&w.clock()) {
                    prop_assert!(
                        first_shown_running.is_none(),
                        "recorded twice in one episode"
                    );
                    first_shown_running = Some(w.running_ms);
                    displays += 1;
                }
            }
            Step::Code(days) => {
                let clock = w.clock();
                let secret = fixtures::OFFLINE_SECRET;
                // The lender's answer to the challenge on the screen (none once released).
                let code = phone
                    .state()
                    .offline_challenge()
                    .ok()
                    .and_then(|c| c.parse::<u32>().ok())
                    .and_then(|c| offline_code::find_counter(&secret, c, 0))
                    .and_then(|n| offline_code::response(&secret, n, *days).ok())
                    .map(offline_code::format_code);
                if let Some(code) = code {
                    let _ = phone.with(|st| st.enter_offline_code(&code, &clock));
                }
            }
            Step::Restart => {
                phone.restart();
                reanchored = true;
            }
        }
        let (now, d) = phone.evaluate(&w.clock());
        decisions.push(d);
        if !reanchored {
            prop_assert!(
                now >= last_now,
                "trusted time went back from {last_now} to {now}"
            );
        }
        last_now = now;
        // The model follows the store: an ended episode forgets its display.
        let record = phone.state().enrolled().ok().and_then(|en| en.notice);
        if record.is_none() {
            first_shown_running = None;
        }
        let floor = phone
            .state()
            .enrolled()
            .map(|en| en.entitlement.ladder().notice_min())
            .unwrap_or(NOTICE_FLOOR_S)
            .max(NOTICE_FLOOR_S);
        for d in decisions {
            prop_assert_eq!(d.locked, d.level == Level::Locked);
            if d.level >= Level::Restricted {
                reached += 1;
                prop_assert!(!d.held_for_notice);
                prop_assert!(record.is_some(), "{:?} without a notice record", d.level);
                let shown = first_shown_running
                    .ok_or_else(|| TestCaseError::fail("a record the shell never made"))?;
                let on_screen_s = (w.running_ms - shown) / 1000;
                prop_assert!(
                    on_screen_s >= floor,
                    "{:?} after the notice ran {on_screen_s} s (< {floor} s)",
                    d.level
                );
            }
        }
    }
    if std::env::var_os("NOTICE_PROPS_STATS").is_some() {
        eprintln!("stats displays={displays} reached={reached} accepted={accepted}");
    }
    Ok(())
}

fn first() -> DeviceState {
    let mut e = fixtures::entitlement(1, T0);
    e.lock_at = T0 + 5 * DAY;
    fixtures::enrolled(e)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// In memory: many long histories.
    #[test]
    fn no_restriction_or_lock_without_a_notice_displayed_long_enough(
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        run(Phone::Memory(Box::new(first())), &steps)?;
    }
}

proptest! {
    // Each case writes real files with fsync: fewer cases.
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Through the store, killed and restarted at any step: the stored record (written
    /// lazily, like the clock marks) never counts more than the phone ran.
    #[test]
    fn the_guarantee_survives_restarts_and_reboots(
        steps in proptest::collection::vec(step(), 1..30),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut device = Device::open(dir.path()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let start = first();
        device.update(|s| { *s = start; Ok(()) }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        run(Phone::Stored(dir, Box::new(device)), &steps)?;
    }
}

/// The property is not vacuous: an honest history with displays does reach every level.
#[test]
fn an_honest_history_reaches_restricted_and_locked() {
    let mut e = fixtures::entitlement(2, T0);
    let lock_at = T0 + 20 * DAY;
    e.lock_at = lock_at;
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    e.escalation = Some(Escalation {
        notice_at: lock_at - 10 * DAY,
        restrict_at: Some(lock_at - 5 * DAY),
        notice_min_s: Some(2 * DAY as u64),
        payment_apps: Vec::new(),
        essentials: Vec::new(),
        private_details: false,
    });
    let mut s = fixtures::enrolled(e);
    let mut levels = Vec::new();
    for day in 0..25 {
        let clock = fixtures::clock_at(T0 + day * DAY);
        s.notice_shown(&clock).expect("enrolled");
        levels.push(s.evaluate(&clock).decision.level);
    }
    assert_eq!(levels[9], Level::Normal);
    assert_eq!(levels[10], Level::Notice);
    assert_eq!(levels[15], Level::Restricted);
    assert_eq!(levels[20], Level::Locked);
}
