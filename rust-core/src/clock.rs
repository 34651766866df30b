//! Trusted time (PROTOCOL §4).
//!
//! The phone's wall clock is the one input a customer fully controls, so it is never
//! trusted on its own. We carry server time forward with the monotonic clock
//! (`verified`) and remember the largest time we ever computed (`high_water`);
//! `trusted_now = max(verified, high_water, wall)`. Consequences, by construction:
//! setting the clock back gains nothing (the marks keep counting), setting it
//! forward can only lock early (and the next accepted entitlement re-anchors both
//! marks to the server's `iat`, so the mistake is not permanent).
//!
//! After a reboot the monotonic clock restarts at zero and the powered-off gap is
//! unknown, so a mark advances only by the uptime since boot: `verified` may then
//! lag real time but never runs ahead of it. That is the safe direction — it can
//! only postpone a lock the wall clock does not also confirm.
//!
//! Inputs (wall clock, uptime, boot count) are passed in; nothing here reads a clock.

use serde::{Deserialize, Serialize};

/// What the platform reports at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockInput {
    /// Wall clock, Unix milliseconds (`System.currentTimeMillis()`); may be anything.
    pub wall_ms: i64,
    /// Monotonic time since boot including deep sleep (`SystemClock.elapsedRealtime()`).
    pub uptime_ms: u64,
    /// Identifies the boot (Android's `Settings.Global.BOOT_COUNT`).
    pub boot: u64,
}

/// A time taken at a known point of the monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub time_ms: i64,
    pub uptime_ms: u64,
    pub boot: u64,
}

impl Mark {
    pub fn at(time_ms: i64, input: &ClockInput) -> Mark {
        Mark {
            time_ms,
            uptime_ms: input.uptime_ms,
            boot: input.boot,
        }
    }

    /// This mark carried forward to `input` by the monotonic clock alone.
    pub fn carried_to(&self, input: &ClockInput) -> i64 {
        let elapsed = if input.boot == self.boot {
            // Same boot: uptime cannot go back; if a caller passes it backwards, we do
            // not move the mark backwards either.
            input.uptime_ms.saturating_sub(self.uptime_ms)
        } else {
            input.uptime_ms
        };
        self.time_ms
            .saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
    }
}

/// A wall-clock change larger than this is reported as a `clock_jump` (§3.2): big
/// enough to ignore NTP slews and drift, small enough to catch a manual change.
pub const CLOCK_JUMP_THRESHOLD_MS: i64 = 120_000;

/// How far the stored marks, carried forward, may differ from the marks of the latest
/// evaluation before they are written again (§4, ADR 0006). Within one boot a mark carried
/// forward by the monotonic clock tells the same time as a fresh one, so only a new boot, a
/// clock change or drift beyond this makes the marks say something new.
pub const MARK_SLACK_MS: u64 = 1_000;

/// The longest the stored marks may lag the monotonic clock before they are written anyway.
/// A reboot carries marks forward by the uptime since boot only, so it loses the time since
/// they were written (as it loses the powered-off gap): one write a minute bounds that, where
/// a write at every evaluation cost an fsync per call.
pub const MARK_MAX_UNWRITTEN_MS: u64 = 60_000;

/// The persisted trusted-time marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrustedClock {
    /// Server time (`iat` of the last accepted entitlement), carried forward.
    pub verified: Option<Mark>,
    /// The largest trusted time ever computed, carried forward.
    pub high_water: Option<Mark>,
    /// The last wall-clock reading, to notice when someone changes the clock.
    pub last_wall: Option<Mark>,
}

/// One evaluation of trusted time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// `trusted_now` in milliseconds.
    pub now_ms: i64,
    /// `verified` carried forward, if the device has ever heard from its server.
    pub verified_ms: Option<i64>,
    /// Set when the wall clock moved this many seconds relative to the monotonic clock.
    pub clock_jump_s: Option<i64>,
}

impl Reading {
    /// `trusted_now` in Unix seconds, the unit of every protocol time.
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    /// `verified` in Unix seconds.
    pub fn verified(&self) -> Option<i64> {
        self.verified_ms.map(|ms| ms.div_euclid(1000))
    }
}

impl TrustedClock {
    /// Computes trusted time without changing anything (for read-only queries).
    pub fn read(&self, input: &ClockInput) -> Reading {
        let verified_ms = self.verified.map(|m| m.carried_to(input));
        let high_ms = self.high_water.map(|m| m.carried_to(input));
        let now_ms = [verified_ms, high_ms, Some(input.wall_ms)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(input.wall_ms);
        Reading {
            now_ms,
            verified_ms,
            clock_jump_s: self.wall_jump(input),
        }
    }

    /// Computes trusted time and advances the marks; the caller persists them when
    /// [`TrustedClock::needs_writing`] says so (§4).
    pub fn observe(&mut self, input: &ClockInput) -> Reading {
        let reading = self.read(input);
        self.high_water = Some(Mark::at(reading.now_ms, input));
        self.last_wall = Some(Mark::at(input.wall_ms, input));
        reading
    }

    /// An accepted entitlement re-anchors both marks to the server's `iat`: server
    /// time supersedes whatever the marks had drifted to (§4).
    pub fn anchor(&mut self, iat_s: i64, input: &ClockInput) {
        let mark = Mark::at(iat_s.saturating_mul(1000), input);
        self.verified = Some(mark);
        self.high_water = Some(mark);
        self.last_wall = Some(Mark::at(input.wall_ms, input));
    }

    /// Whether `fresh` (the marks after observing `input`) must be written over these
    /// stored ones: unless the stored marks, carried forward to `input`, tell the same times
    /// within [`MARK_SLACK_MS`] and were taken less than [`MARK_MAX_UNWRITTEN_MS`] ago in this
    /// boot. A restart then computes the same trusted time within the slack; a reboot loses
    /// at most a minute more than it always does.
    pub fn needs_writing(&self, fresh: &TrustedClock, input: &ClockInput) -> bool {
        fn same(old: Option<Mark>, new: Option<Mark>, input: &ClockInput) -> bool {
            match (old, new) {
                (None, None) => true,
                (Some(old), Some(new)) => {
                    old.boot == new.boot
                        && old.carried_to(input).abs_diff(new.carried_to(input)) <= MARK_SLACK_MS
                }
                _ => false,
            }
        }
        let recent = self.high_water.is_some_and(|m| {
            m.boot == input.boot
                && input.uptime_ms.saturating_sub(m.uptime_ms) < MARK_MAX_UNWRITTEN_MS
        });
        !(recent
            && same(self.verified, fresh.verified, input)
            && same(self.high_water, fresh.high_water, input)
            && same(self.last_wall, fresh.last_wall, input))
    }

    /// How far the wall clock moved against the monotonic clock since the last reading.
    fn wall_jump(&self, input: &ClockInput) -> Option<i64> {
        let last = self.last_wall?;
        let expected = last.carried_to(input);
        let delta = input.wall_ms.saturating_sub(expected);
        // After a reboot the powered-off gap is unknown, so only a clock that went
        // back relative to the minimum possible elapsed time is certainly a change.
        let rebooted = input.boot != last.boot;
        let jumped = if rebooted {
            delta < -CLOCK_JUMP_THRESHOLD_MS
        } else {
            delta.saturating_abs() > CLOCK_JUMP_THRESHOLD_MS
        };
        jumped.then_some(delta / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: i64 = 1000;

    fn at(wall_s: i64, uptime_s: u64, boot: u64) -> ClockInput {
        ClockInput {
            wall_ms: wall_s * S,
            uptime_ms: uptime_s * 1000,
            boot,
        }
    }

    #[test]
    fn fresh_clock_trusts_the_wall_clock_only_as_a_floor() {
        let c = TrustedClock::default();
        let r = c.read(&at(1_000, 5, 1));
        assert_eq!(r.now(), 1_000);
        assert_eq!(r.verified(), None);
    }

    #[test]
    fn verified_advances_by_uptime_in_the_same_boot() {
        let mut c = TrustedClock::default();
        c.anchor(10_000, &at(10_000, 100, 1));
        // Clock set back by a day: trusted time keeps counting from the anchor.
        let r = c.observe(&at(10_000 - 86_400, 160, 1));
        assert_eq!(r.now(), 10_060);
        assert_eq!(r.verified(), Some(10_060));
    }

    #[test]
    fn after_reboot_verified_advances_by_uptime_since_boot_only() {
        let mut c = TrustedClock::default();
        c.anchor(10_000, &at(10_000, 5_000, 1));
        // Rebooted, phone was off for an unknown time; 30 s since boot; wall clock reset to 0.
        let r = c.read(&at(0, 30, 2));
        assert_eq!(r.verified(), Some(10_030));
        assert_eq!(r.now(), 10_030);
    }

    #[test]
    fn wall_clock_ahead_wins_but_is_not_verified() {
        let mut c = TrustedClock::default();
        c.anchor(10_000, &at(10_000, 0, 1));
        let r = c.observe(&at(50_000, 10, 1));
        assert_eq!(r.now(), 50_000);
        assert_eq!(r.verified(), Some(10_010));
    }

    #[test]
    fn high_water_holds_after_the_clock_is_set_back() {
        let mut c = TrustedClock::default();
        c.anchor(10_000, &at(10_000, 0, 1));
        c.observe(&at(50_000, 10, 1)); // clock forward
        let r = c.observe(&at(10_020, 20, 1)); // and back again
        assert_eq!(r.now(), 50_010, "trusted time never decreases");
    }

    #[test]
    fn anchor_supersedes_a_high_water_mark_from_a_bad_clock() {
        let mut c = TrustedClock::default();
        c.observe(&at(90_000, 0, 1)); // wrong network time pushed the mark ahead
        c.anchor(10_000, &at(10_000, 5, 1));
        let r = c.read(&at(10_000, 6, 1));
        assert_eq!(r.now(), 10_001);
    }

    #[test]
    fn clock_jump_detected_in_both_directions_within_a_boot() {
        let mut c = TrustedClock::default();
        c.observe(&at(10_000, 0, 1));
        assert_eq!(c.observe(&at(10_060, 60, 1)).clock_jump_s, None);
        assert_eq!(
            c.observe(&at(13_660 + 60, 120, 1)).clock_jump_s,
            Some(3_600)
        );
        assert_eq!(c.observe(&at(10_000, 180, 1)).clock_jump_s, Some(-3_780));
    }

    #[test]
    fn small_drift_is_not_a_jump() {
        let mut c = TrustedClock::default();
        c.observe(&at(10_000, 0, 1));
        assert_eq!(c.observe(&at(10_100, 0, 1)).clock_jump_s, None);
    }

    #[test]
    fn after_reboot_only_a_clock_behind_the_minimum_is_a_jump() {
        let mut c = TrustedClock::default();
        c.observe(&at(10_000, 500, 1));
        // Rebooted 60 s ago; any wall time >= 10_060 is plausible (unknown off time).
        assert_eq!(c.read(&at(99_999, 60, 2)).clock_jump_s, None);
        assert_eq!(c.read(&at(9_000, 60, 2)).clock_jump_s, Some(-1_060));
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let mut c = TrustedClock::default();
        c.anchor(i64::MAX / 1000, &at(0, 0, 1));
        let r = c.observe(&ClockInput {
            wall_ms: i64::MIN,
            uptime_ms: u64::MAX,
            boot: 1,
        });
        assert_eq!(r.now_ms, i64::MAX);
        let r = c.observe(&ClockInput {
            wall_ms: i64::MAX,
            uptime_ms: 0,
            boot: u64::MAX,
        });
        assert_eq!(r.now_ms, i64::MAX);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Advance { uptime_s: u32, wall_delta_s: i32 },
        Reboot { uptime_s: u32, wall_s: u32 },
        Anchor { iat_delta_s: i32 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0u32..100_000, -1_000_000i32..1_000_000).prop_map(|(u, w)| Step::Advance { uptime_s: u, wall_delta_s: w }),
            1 => (0u32..100_000, 0u32..2_000_000_000).prop_map(|(u, w)| Step::Reboot { uptime_s: u, wall_s: w }),
            1 => (-100_000i32..100_000).prop_map(|d| Step::Anchor { iat_delta_s: d }),
        ]
    }

    proptest! {
        /// Trusted time never decreases between anchors, whatever the wall clock does.
        #[test]
        fn trusted_time_never_decreases(steps in proptest::collection::vec(step(), 1..60)) {
            let mut c = TrustedClock::default();
            let mut input = at(1_700_000_000, 0, 1);
            let mut last = c.observe(&input).now_ms;
            for s in steps {
                match s {
                    Step::Advance { uptime_s, wall_delta_s } => {
                        input.uptime_ms += u64::from(uptime_s) * 1000;
                        input.wall_ms += i64::from(wall_delta_s) * 1000;
                    }
                    Step::Reboot { uptime_s, wall_s } => {
                        input.boot += 1;
                        input.uptime_ms = u64::from(uptime_s) * 1000;
                        input.wall_ms = i64::from(wall_s) * 1000;
                    }
                    Step::Anchor { iat_delta_s } => {
                        c.anchor(last / 1000 + i64::from(iat_delta_s), &input);
                        last = c.observe(&input).now_ms;
                        continue;
                    }
                }
                let now = c.observe(&input).now_ms;
                prop_assert!(now >= last, "{now} < {last}");
                last = now;
            }
        }

        /// Setting the wall clock back never yields an earlier trusted time than not touching it.
        #[test]
        fn setting_the_clock_back_gains_nothing(
            elapsed_s in 0u64..10_000_000,
            back_s in 0i64..100_000_000,
            reboot in any::<bool>(),
        ) {
            let mut honest = TrustedClock::default();
            let start = at(1_700_000_000, 0, 1);
            honest.anchor(1_700_000_000, &start);
            let mut cheater = honest;
            let later = ClockInput {
                wall_ms: start.wall_ms + elapsed_s as i64 * S,
                uptime_ms: elapsed_s * 1000,
                boot: if reboot { 2 } else { 1 },
            };
            let set_back = ClockInput { wall_ms: later.wall_ms - back_s * S, ..later };
            let h = honest.observe(&later).now_ms;
            let c = cheater.observe(&set_back).now_ms;
            // The cheater's trusted time equals the monotonic floor, never less than the
            // verified mark: at most the honest time, and never below what was verified.
            prop_assert!(c <= h);
            prop_assert!(c >= honest.verified.map(|m| m.carried_to(&later)).unwrap_or(i64::MIN));
        }
    }
}
