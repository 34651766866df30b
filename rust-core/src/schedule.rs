//! When to check in next.
//!
//! The server's `next_checkin` is authoritative: it spreads millions of devices over
//! the day and asks for hourly check-ins near a deadline. After a failure the device
//! backs off exponentially from one minute with full jitter (so a fleet that lost its
//! server does not return as one wave), never waiting longer than the server's own
//! interval. "I have paid — check now" skips the backoff but is itself limited to one
//! per 30 s, so a worried customer tapping the button cannot hammer the server.
//!
//! All instants are trusted time (Unix seconds). Randomness is passed in.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The first retry waits up to this long.
pub const BACKOFF_BASE_S: i64 = 60;
/// No retry sooner than the server's per-device rate limit allows.
pub const MIN_RETRY_S: i64 = 10;
/// "Check now" at most this often.
pub const CHECK_NOW_EVERY_S: i64 = 30;
/// Used as the cap when no entitlement tells us the server's interval.
pub const DEFAULT_INTERVAL_S: i64 = 6 * 3600;

/// The persisted check-in schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CheckinSchedule {
    /// When the next check-in is due; 0 = as soon as possible.
    pub next_at: i64,
    /// Consecutive failures since the last success.
    pub failures: u32,
    /// When "check now" was last honoured.
    pub last_check_now: Option<i64>,
    /// When a wake-up push last made a check-in due (ADR 0014).
    #[serde(default)]
    pub last_push: Option<i64>,
}

impl CheckinSchedule {
    /// A check-in succeeded; the server named the next one.
    pub fn on_success(&mut self, next_checkin: i64) {
        self.next_at = next_checkin;
        self.failures = 0;
    }

    /// A check-in failed at `now`. `interval_s` is the server's usual interval (the
    /// cap), `retry_after_s` what the server asked for (429/503), `random` any u64.
    /// Returns the delay chosen.
    pub fn on_failure(
        &mut self,
        now: i64,
        interval_s: i64,
        retry_after_s: Option<u64>,
        random: u64,
    ) -> i64 {
        self.failures = self.failures.saturating_add(1);
        let delay = backoff_delay(self.failures, interval_s, retry_after_s, random);
        self.next_at = now.saturating_add(delay);
        delay
    }

    /// Whether a "check now" at `now` may go ahead; records it when it may.
    pub fn allow_check_now(&mut self, now: i64) -> Result<()> {
        if let Some(last) = self.last_check_now {
            let wait = last.saturating_add(CHECK_NOW_EVERY_S).saturating_sub(now);
            // A clock that moved back (last > now) must not lock the button forever.
            if wait > 0 && last <= now {
                return Err(Error::CheckNowTooSoon {
                    retry_after_s: wait as u64,
                });
            }
        }
        self.last_check_now = Some(now);
        Ok(())
    }
}

impl CheckinSchedule {
    /// A wake-up push (or a new push endpoint to tell the server) at `now`: whether to check
    /// in now. Yes at most once per [`CHECK_NOW_EVERY_S`], and only when no check-in is due
    /// yet: a due one (or one the shell is running) already answers the push. When yes, the
    /// check-in is made due now, so a shell killed before it runs still runs it at its next
    /// wake-up. A push carries nothing, so a storm of forged ones costs at most one check-in
    /// per window (ADR 0014).
    pub fn on_push(&mut self, now: i64) -> bool {
        if self.next_at <= now {
            return false;
        }
        if let Some(last) = self.last_push {
            // A clock that moved back (last > now) must not silence pushes for long.
            if last <= now && now < last.saturating_add(CHECK_NOW_EVERY_S) {
                return false;
            }
        }
        self.last_push = Some(now);
        self.next_at = now;
        true
    }
}

/// Full-jitter exponential backoff: uniform in `[MIN_RETRY_S, min(cap, 60 s · 2^(n-1))]`,
/// and never sooner than the server's `Retry-After`.
pub fn backoff_delay(
    failures: u32,
    interval_s: i64,
    retry_after_s: Option<u64>,
    random: u64,
) -> i64 {
    let cap = interval_s.max(BACKOFF_BASE_S);
    let exp = BACKOFF_BASE_S.saturating_mul(1i64 << failures.saturating_sub(1).min(20));
    let ceiling = exp.min(cap).max(MIN_RETRY_S);
    let span = (ceiling - MIN_RETRY_S + 1) as u64;
    let jittered = MIN_RETRY_S + (random % span) as i64;
    let asked = retry_after_s.map_or(0, |r| {
        i64::try_from(r).unwrap_or(i64::MAX).min(cap.max(24 * 3600))
    });
    jittered.max(asked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn success_adopts_the_servers_next_checkin() {
        let mut s = CheckinSchedule {
            failures: 4,
            ..Default::default()
        };
        s.on_success(12_345);
        assert_eq!((s.next_at, s.failures), (12_345, 0));
    }

    #[test]
    fn first_failure_retries_within_a_minute() {
        for r in [0, 1, 49, 50, 51, u64::MAX] {
            let d = backoff_delay(1, 21_600, None, r);
            assert!((MIN_RETRY_S..=60).contains(&d), "{d}");
        }
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_servers_interval() {
        let max = |n| backoff_delay(n, 21_600, None, u64::MAX - 1);
        // The largest draw for failure n is the ceiling min(cap, 60·2^(n-1)) (modulo the span).
        let ceilings: Vec<i64> = (1..=12)
            .map(|n| {
                (0..2000u64)
                    .map(|r| backoff_delay(n, 21_600, None, r * 7919))
                    .max()
                    .unwrap()
            })
            .collect();
        assert!(ceilings[0] <= 60 && ceilings[1] <= 120 && ceilings[2] <= 240);
        assert!(ceilings[2] > 120, "grows: {ceilings:?}");
        assert!(ceilings.iter().all(|c| *c <= 21_600));
        assert!(
            ceilings[11] > 10_000,
            "reaches the cap region: {ceilings:?}"
        );
        assert!(max(30) <= 21_600);
    }

    #[test]
    fn retry_after_is_honoured() {
        assert_eq!(backoff_delay(1, 21_600, Some(600), 0), 600);
        // Absurd Retry-After values are bounded (a day at most).
        assert_eq!(backoff_delay(1, 21_600, Some(u64::MAX), 0), 24 * 3600);
    }

    #[test]
    fn failure_moves_next_at_and_counts() {
        let mut s = CheckinSchedule::default();
        let d = s.on_failure(1_000, 21_600, None, 5);
        assert_eq!(s.next_at, 1_000 + d);
        assert_eq!(s.failures, 1);
    }

    #[test]
    fn check_now_at_most_every_30_s() {
        let mut s = CheckinSchedule::default();
        s.allow_check_now(1_000).unwrap();
        assert!(matches!(
            s.allow_check_now(1_010),
            Err(Error::CheckNowTooSoon { retry_after_s: 20 })
        ));
        assert!(matches!(
            s.allow_check_now(1_029),
            Err(Error::CheckNowTooSoon { retry_after_s: 1 })
        ));
        s.allow_check_now(1_030).unwrap();
    }

    #[test]
    fn check_now_survives_a_clock_that_moved_back() {
        let mut s = CheckinSchedule {
            last_check_now: Some(1_000_000),
            ..Default::default()
        };
        s.allow_check_now(5).unwrap();
    }

    #[test]
    fn a_push_makes_a_check_in_due_once_per_window() {
        let mut s = CheckinSchedule {
            next_at: 10_000,
            ..Default::default()
        };
        assert!(s.on_push(1_000));
        assert_eq!((s.next_at, s.last_push), (1_000, Some(1_000)));
        // The check-in ran and the server named the next one; pushes within the window wait.
        s.on_success(10_000);
        assert!(!s.on_push(1_001));
        assert!(!s.on_push(1_029));
        assert_eq!(s.next_at, 10_000, "a refused push changes nothing");
        assert!(s.on_push(1_030));
        assert_eq!(s.next_at, 1_030);
    }

    #[test]
    fn a_push_while_a_check_in_is_due_changes_nothing() {
        let mut s = CheckinSchedule {
            next_at: 900,
            ..Default::default()
        };
        let before = s;
        assert!(!s.on_push(1_000));
        assert!(!s.on_push(900));
        assert_eq!(s, before);
    }

    #[test]
    fn a_push_is_not_silenced_by_a_clock_that_moved_back() {
        let mut s = CheckinSchedule {
            next_at: 10_000_000,
            last_push: Some(5_000_000),
            ..Default::default()
        };
        assert!(s.on_push(5));
    }

    #[test]
    fn pushes_and_the_check_now_button_are_limited_apart() {
        let mut s = CheckinSchedule {
            next_at: 10_000,
            ..Default::default()
        };
        s.allow_check_now(1_000).unwrap();
        assert!(
            s.on_push(1_001),
            "a push right after the button still counts once"
        );
        s.on_success(10_000);
        assert!(s.allow_check_now(1_031).is_ok());
    }

    proptest! {
        /// However many pushes arrive, at whatever times, at most one per window makes a
        /// check-in due (the shell runs one check-in per `true`).
        #[test]
        fn a_push_storm_costs_at_most_one_check_in_per_window(
            mut times in proptest::collection::vec(0i64..100_000, 1..200),
            interval in 31i64..100_000,
        ) {
            times.sort_unstable();
            let mut s = CheckinSchedule { next_at: i64::MAX, ..Default::default() };
            let mut yes: Vec<i64> = Vec::new();
            for t in times {
                if s.on_push(t) {
                    yes.push(t);
                    // The check-in it asked for runs and succeeds.
                    s.on_success(t.saturating_add(interval));
                }
            }
            for pair in yes.windows(2) {
                prop_assert!(pair[1] - pair[0] >= CHECK_NOW_EVERY_S, "{:?}", yes);
            }
            prop_assert!(!yes.is_empty());
        }
    }

    proptest! {
        #[test]
        fn delay_is_bounded(n in 0u32..100, interval in 0i64..1_000_000, ra in proptest::option::of(any::<u64>()), r in any::<u64>()) {
            let d = backoff_delay(n, interval, ra, r);
            prop_assert!(d >= MIN_RETRY_S);
            prop_assert!(d <= interval.max(BACKOFF_BASE_S).max(24 * 3600));
            if ra.is_none() {
                prop_assert!(d <= interval.max(BACKOFF_BASE_S));
            }
        }
    }
}
