//! Times as people type them on the command line, and as the lender CLI prints them:
//! pure, no time-zone database needed (the lender's build has no simulator and no jiff).
//!
//! Accepted: Unix seconds (`1799020800`), a date (`2027-01-04`, midnight UTC), a date and
//! time with `Z` or an offset (`2027-01-04T10:00Z`, `2027-01-04T10:00:00+03:00`), or a
//! time from now (`+30d`, `+12h`, `+1d12h`, `+90m`, `+45s`). Printed: ISO 8601 in UTC.

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
    let cut = text.len().min(10);
    if !text.is_char_boundary(cut) {
        return None;
    }
    let (date, rest) = text.split_at(cut);
    let days = date_days(date)?;
    let seconds = if rest.is_empty() {
        0
    } else {
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        time_of_day(rest)?
    };
    days.checked_mul(86_400)?.checked_add(seconds)
}

/// `YYYY-MM-DD` → days since 1970-01-01.
fn date_days(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(&date[..4])?, num(&date[5..7])?, num(&date[8..])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 2027-02-30 is not a day: it must come back as itself.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// `HH:MM[:SS](Z|±HH:MM)` → seconds after midnight UTC (may be negative or past a day).
fn time_of_day(t: &str) -> Option<i64> {
    let (clock, offset_s) = if let Some(clock) = t.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = t.rfind(['+', '-'])?;
        let (clock, offset) = t.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (oh, om) = offset[1..].split_once(':')?;
        let (oh, om) = (two_digits(oh)?, two_digits(om)?);
        if oh > 23 || om > 59 {
            return None;
        }
        (clock, sign * (oh * 3_600 + om * 60))
    };
    let mut parts = clock.split(':');
    let h = two_digits(parts.next()?)?;
    let m = two_digits(parts.next()?)?;
    let s = parts.next().map(two_digits).unwrap_or(Some(0))?;
    if parts.next().is_some() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(h * 3_600 + m * 60 + s - offset_s)
}

fn two_digits(s: &str) -> Option<i64> {
    (s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `t` as ISO 8601 in UTC, e.g. `2027-01-04T10:00:00Z`.
pub fn iso_utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
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
