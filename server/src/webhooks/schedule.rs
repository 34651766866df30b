//! When a failed delivery is tried again: a bounded, growing schedule with jitter, then
//! the dead-letter list. The default spreads 11 retries over about three days, so a
//! receiver down for a weekend still gets every event once it is back.

/// Seconds to wait after the 1st, 2nd, … failed attempt (then: dead).
pub const DEFAULT: [u64; 11] = [
    5,
    30,
    2 * 60,
    10 * 60,
    30 * 60,
    60 * 60,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    24 * 3600,
    24 * 3600,
];

/// The largest share of a delay added as jitter (so retries of many deliveries after
/// one outage do not all arrive at the same second).
pub const JITTER: f64 = 0.2;

/// The delay before the next attempt after `failed` attempts (1-based) have failed, or
/// `None` when the schedule is spent (dead letter). `unit` in [0, 1] picks the jitter:
/// the delay is in [d, d × (1 + JITTER)].
pub fn next_delay(schedule: &[u64], failed: u32, unit: f64) -> Option<u64> {
    let index = usize::try_from(failed).ok()?.checked_sub(1)?;
    let base = *schedule.get(index)?;
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // At most 20% of a delay of at most a few days: well inside u64 and f64 precision.
    let extra = (base as f64 * JITTER * unit).floor() as u64;
    Some(base.saturating_add(extra))
}

/// The whole time a delivery may take before it is dead (without jitter).
pub fn span(schedule: &[u64]) -> u64 {
    schedule.iter().sum()
}

/// A uniform value in [0, 1] for [`next_delay`].
pub fn random_unit() -> f64 {
    (crate::ids::jitter() + 1.0) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_schedule_grows_and_ends_after_about_three_days() {
        assert!(DEFAULT.windows(2).all(|w| w[0] <= w[1]));
        let days = span(&DEFAULT) as f64 / 86_400.0;
        assert!((2.5..=3.5).contains(&days), "{days}");
        assert_eq!(next_delay(&DEFAULT, 1, 0.0), Some(5));
        assert_eq!(next_delay(&DEFAULT, 11, 0.0), Some(86_400));
        assert_eq!(next_delay(&DEFAULT, 12, 0.0), None);
        assert_eq!(next_delay(&DEFAULT, 0, 0.0), None);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth() {
        assert_eq!(next_delay(&DEFAULT, 4, 1.0), Some(720));
        assert_eq!(next_delay(&DEFAULT, 4, 0.5), Some(660));
        assert_eq!(next_delay(&DEFAULT, 4, f64::NAN), Some(600));
        assert_eq!(next_delay(&DEFAULT, 4, 7.0), Some(720));
        assert_eq!(next_delay(&[0, 0], 2, 1.0), Some(0));
    }

    proptest! {
        #[test]
        fn every_delay_is_within_its_step_and_the_schedule_is_bounded(
            failed in 0u32..40, unit in 0.0f64..=1.0
        ) {
            match next_delay(&DEFAULT, failed, unit) {
                Some(d) => {
                    let base = DEFAULT[failed as usize - 1];
                    prop_assert!(d >= base && d as f64 <= base as f64 * (1.0 + JITTER));
                }
                None => prop_assert!(failed == 0 || failed as usize > DEFAULT.len()),
            }
        }
    }
}
