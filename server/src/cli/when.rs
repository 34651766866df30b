//! Times as people type them on the command line, and as the lender CLI prints them:
//! pure, parsed and printed by jiff (no time-zone database needed: UTC and offsets only).
//!
//! Accepted: Unix seconds (`1799020800`), a date (`2027-01-04`, midnight UTC), a date and
//! time with `Z` or an offset (`2027-01-04T10:00Z`, `2027-01-04T10:00:00+03:00`), or a
//! time from now (`+30d`, `+12h`, `+1d12h`, `+90m`, `+45s`). Printed: ISO 8601 in UTC.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Seconds in a duration like `3d`, `12h`, `1d12h`, `90m`, `30s` (no sign); `None` when it
/// is not one or exceeds ten years.
pub fn duration_s(spec: &str) -> Option<i64> {
    if spec.is_empty() {
        return None;
    }
    let (mut total, mut number) = (0i64, String::new());
    for c in spec.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
    }
    (number.is_empty() && total <= TEN_YEARS_S).then_some(total)
}

const TEN_YEARS_S: i64 = 3_650 * 86_400;

/// What [`parse`] accepts, for error messages.
pub const ACCEPTED: &str = "Unix seconds, a date (2027-01-04), a date and time with Z or an \
                            offset (2027-01-04T10:00:00+03:00), or a time from now (+30d, +12h)";

/// A time as typed (see the module docs), `now` for relative times; `None` if it is none.
pub fn parse(text: &str, now: i64) -> Option<i64> {
    let text = text.trim();
    if let Some(rel) = text.strip_prefix('+') {
        return now.checked_add(duration_s(rel)?);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    // A date alone is midnight UTC; anything with a time must say its offset (a time
    // without one would silently be the machine's zone).
    if text.len() == 10 {
        let date: Date = text.parse().ok()?;
        return date
            .to_zoned(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second());
    }
    let t: Timestamp = text.parse().ok()?;
    Some(t.as_second())
}

/// `t` as ISO 8601 in UTC, e.g. `2027-01-04T10:00:00Z` (Unix seconds beyond year 9999).
pub fn iso_utc(t: i64) -> String {
    match Timestamp::from_second(t) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("{t} (Unix seconds)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_799_020_800; // 2027-01-04T00:00:00Z

    #[test]
    fn the_accepted_forms() {
        assert_eq!(parse("1799020800", 0), Some(NOW));
        assert_eq!(parse("2027-01-04", 0), Some(NOW));
        assert_eq!(parse("2027-01-04T10:00Z", 0), Some(NOW + 36_000));
        assert_eq!(parse("2027-01-04T10:00:30Z", 0), Some(NOW + 36_030));
        assert_eq!(parse("2027-01-04T10:00:00+03:00", 0), Some(NOW + 25_200));
        assert_eq!(parse("2027-01-04 01:00-02:30", 0), Some(NOW + 12_600));
        assert_eq!(parse("+30d", NOW), Some(NOW + 30 * 86_400));
        assert_eq!(parse("+1d12h", NOW), Some(NOW + 36 * 3_600));
        assert_eq!(parse("2000-02-29", 0), Some(951_782_400));
    }

    #[test]
    fn what_is_not_a_time() {
        for bad in [
            "",
            "+",
            "+3",
            "-3d",
            "tomorrow",
            "2027-02-30",
            "2027-13-01",
            "2027-1-4",
            "2027-01-04T25:00Z",
            "2027-01-04T10:00",
            "2027-01-04T10:60Z",
            "2027-01-04T10:00+3",
            "2100-02-29",
            "12.5",
            "+3651d",
            "2027-01-0€",
            "€€€€€",
        ] {
            assert_eq!(parse(bad, NOW), None, "{bad}");
        }
    }

    #[test]
    fn printed_in_utc() {
        assert_eq!(iso_utc(NOW + 36_030), "2027-01-04T10:00:30Z");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
    }

    proptest! {
        #[test]
        fn printing_and_reading_back_is_the_same_time(t in -5_000_000_000i64..10_000_000_000) {
            prop_assert_eq!(parse(&iso_utc(t), 0), Some(t));
        }
    }
}
