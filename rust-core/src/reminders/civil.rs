//! Local calendar arithmetic for the schedule: which local day an instant falls on,
//! which instant a local wall-clock time names, and quiet hours.
//!
//! Every conversion can fail (a signed time may lie beyond the years jiff represents),
//! so every helper returns `Option` and the schedule simply leaves out what cannot be
//! placed on a calendar instead of panicking.
//!
//! Wall-clock times that do not exist or exist twice use jiff's *compatible*
//! disambiguation, the behaviour of RFC 5545 and of most calendars: a time inside a
//! spring-forward gap moves forward by the length of the gap (02:30 becomes 03:30),
//! a time inside an autumn fold takes its first occurrence.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

use crate::protocol::parse_hhmm;

/// Minutes in a day; a quiet-hours bound is a minute of the day.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// The local wall-clock reading of `t` in `tz`.
pub(super) fn local(tz: &TimeZone, t: i64) -> Option<DateTime> {
    Timestamp::from_second(t).ok().map(|ts| tz.to_datetime(ts))
}

/// The local calendar day `t` falls on.
pub(super) fn date_of(tz: &TimeZone, t: i64) -> Option<Date> {
    local(tz, t).map(DateTime::date)
}

/// The instant the wall clock in `tz` reads `minute_of_day` on `date` (compatible
/// disambiguation: forward through a gap, the first occurrence in a fold).
pub(super) fn at_minute(tz: &TimeZone, date: Date, minute_of_day: u16) -> Option<i64> {
    let dt = date.to_datetime(time_of(minute_of_day)?);
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .ok()
        .map(Timestamp::as_second)
}

/// Like [`at_minute`] but the *second* occurrence in a fold, for when the first one
/// lies behind an instant we must not move back before.
fn at_minute_later(tz: &TimeZone, date: Date, minute_of_day: u16) -> Option<i64> {
    let dt = date.to_datetime(time_of(minute_of_day)?);
    tz.to_ambiguous_timestamp(dt)
        .later()
        .ok()
        .map(Timestamp::as_second)
}

/// The first instant of the local day `date` (01:00 where midnight falls in a gap).
pub(super) fn start_of_day(tz: &TimeZone, date: Date) -> Option<i64> {
    at_minute(tz, date, 0)
}

/// The same local wall-clock time one calendar day earlier: "a day before" in the
/// sense a person reads it, 23 or 25 hours across a DST change.
pub(super) fn one_day_before(tz: &TimeZone, t: i64) -> Option<i64> {
    let dt = local(tz, t)?;
    let earlier = dt.date().yesterday().ok()?.to_datetime(dt.time());
    tz.to_ambiguous_timestamp(earlier)
        .compatible()
        .ok()
        .map(Timestamp::as_second)
}

fn time_of(minute_of_day: u16) -> Option<Time> {
    let hour = i8::try_from(minute_of_day / 60).ok()?;
    let minute = i8::try_from(minute_of_day % 60).ok()?;
    Time::new(hour, minute, 0, 0).ok()
}

fn minute_of_day(dt: DateTime) -> u16 {
    // hour() and minute() are within 0..24 and 0..60, so the casts cannot lose anything.
    dt.hour().unsigned_abs() as u16 * 60 + dt.minute().unsigned_abs() as u16
}

/// The window `[start, end)` of local wall-clock time in which nothing fires.
///
/// `start > end` spans midnight (21:00–08:00); `start == end` means no quiet hours,
/// since a window covering the whole day would silence every reminder for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct QuietHours {
    start: u16,
    end: u16,
}

impl QuietHours {
    /// The policy's window, or `None` for no quiet hours. A bound that is not `HH:MM`
    /// (validation rejects such an entitlement, so this only guards unvalidated input)
    /// also means no quiet hours: a reminder at an odd hour beats no reminder.
    pub(super) fn from_policy(start: &str, end: &str) -> Option<QuietHours> {
        let (start, end) = (parse_hhmm(start)?, parse_hhmm(end)?);
        (start != end && start < MINUTES_PER_DAY && end < MINUTES_PER_DAY)
            .then_some(QuietHours { start, end })
    }

    fn spans_midnight(self) -> bool {
        self.start > self.end
    }

    fn contains_minute(self, m: u16) -> bool {
        if self.spans_midnight() {
            m >= self.start || m < self.end
        } else {
            self.start <= m && m < self.end
        }
    }

    /// Whether the local wall clock at `t` reads a time inside the window.
    pub(super) fn contains(self, tz: &TimeZone, t: i64) -> bool {
        local(tz, t).is_some_and(|dt| self.contains_minute(minute_of_day(dt)))
    }

    /// The first instant at or after `t` outside the window: `t` itself, or the end of
    /// the window `t` falls in. `None` when no such instant can be computed.
    pub(super) fn defer(self, tz: &TimeZone, t: i64) -> Option<i64> {
        let mut t = t;
        // One step normally suffices; a second or third is only needed where the end
        // of the window falls in a DST gap and lands inside the next window.
        for _ in 0..4 {
            let dt = local(tz, t)?;
            let m = minute_of_day(dt);
            if !self.contains_minute(m) {
                return Some(t);
            }
            let day = if self.spans_midnight() && m >= self.start {
                dt.date().tomorrow().ok()?
            } else {
                dt.date()
            };
            let mut end = at_minute(tz, day, self.end)?;
            if end <= t {
                // In a fold the first occurrence of the end can lie behind `t`.
                end = at_minute_later(tz, day, self.end)?;
            }
            t = if end > t { end } else { t.checked_add(60)? };
        }
        (!self.contains(tz, t)).then_some(t)
    }

    /// The instant the window containing `t` began (`t` must be inside a window).
    pub(super) fn window_start(self, tz: &TimeZone, t: i64) -> Option<i64> {
        let dt = local(tz, t)?;
        let day = if self.spans_midnight() && minute_of_day(dt) < self.end {
            dt.date().yesterday().ok()?
        } else {
            dt.date()
        };
        let start = at_minute(tz, day, self.start)?;
        Some(start.min(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).expect("bundled zone")
    }

    fn ts(text: &str) -> i64 {
        text.parse::<Timestamp>().expect("RFC 3339").as_second()
    }

    #[test]
    fn equal_bounds_mean_no_quiet_hours() {
        assert_eq!(QuietHours::from_policy("22:00", "22:00"), None);
        assert!(QuietHours::from_policy("22:00", "07:00").is_some());
    }

    #[test]
    fn window_spanning_midnight_covers_both_sides() {
        let q = QuietHours::from_policy("21:00", "08:00").expect("window");
        let manila = tz("Asia/Manila");
        assert!(q.contains(&manila, ts("2026-03-01T13:00:00Z"))); // 21:00 local
        assert!(q.contains(&manila, ts("2026-03-01T23:59:00Z"))); // 07:59 local
        assert!(!q.contains(&manila, ts("2026-03-02T00:00:00Z"))); // 08:00 local
        assert!(!q.contains(&manila, ts("2026-03-01T12:59:00Z"))); // 20:59 local
    }

    #[test]
    fn defer_moves_to_the_next_end_of_the_window() {
        let q = QuietHours::from_policy("21:00", "08:00").expect("window");
        let manila = tz("Asia/Manila");
        // 22:00 local moves to 08:00 the next day; 03:00 to 08:00 the same day.
        assert_eq!(
            q.defer(&manila, ts("2026-03-01T14:00:00Z")),
            Some(ts("2026-03-02T00:00:00Z"))
        );
        assert_eq!(
            q.defer(&manila, ts("2026-03-01T19:00:00Z")),
            Some(ts("2026-03-02T00:00:00Z"))
        );
    }

    #[test]
    fn an_end_inside_a_gap_moves_forward_with_the_clock() {
        // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
        let q = QuietHours::from_policy("23:00", "02:30").expect("window");
        let ny = tz("America/New_York");
        // 01:00 EST on the spring-forward day is quiet; the end 02:30 becomes 03:30 EDT.
        assert_eq!(
            q.defer(&ny, ts("2026-03-08T06:00:00Z")),
            Some(ts("2026-03-08T07:30:00Z"))
        );
    }

    #[test]
    fn an_end_inside_a_fold_never_moves_backwards() {
        // New York, 2026-11-01: 01:00–02:00 happens twice (EDT, then EST).
        let q = QuietHours::from_policy("23:00", "01:30").expect("window");
        let ny = tz("America/New_York");
        // 01:15 EDT (05:15Z) moves to the first 01:30 (EDT, 05:30Z) ...
        assert_eq!(
            q.defer(&ny, ts("2026-11-01T05:15:00Z")),
            Some(ts("2026-11-01T05:30:00Z"))
        );
        // ... and 01:15 EST (06:15Z), after the first 01:30, to the second one (06:30Z).
        assert_eq!(
            q.defer(&ny, ts("2026-11-01T06:15:00Z")),
            Some(ts("2026-11-01T06:30:00Z"))
        );
    }

    #[test]
    fn one_day_before_is_a_calendar_day_across_dst() {
        let berlin = tz("Europe/Berlin");
        // 2026-03-29T12:00+02:00 (CEST) one day before is 2026-03-28T12:00+01:00: 23 h.
        assert_eq!(
            one_day_before(&berlin, ts("2026-03-29T10:00:00Z")),
            Some(ts("2026-03-28T11:00:00Z"))
        );
    }
}
