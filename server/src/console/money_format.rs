//! Money and dates as the console shows and reads them: pure, no I/O.
//!
//! Amounts are stored in the currency's minor units (ISO 4217's exponent: KES 2, UGX 0,
//! KWD 3). They are shown the way the phone app shows them (`Format.money`: the code and
//! the digits kept apart by a no-break space; English and Swahili group with `,` and
//! write the decimals after `.`, Spanish groups with `.`, decimals after `,` and the code
//! last) and read from what a clerk types (`1500`, `1,500.50`, `1.500,50`).
//! Dates are the long form the app uses (`14 March 2026`), in UTC, the zone the plan's
//! due dates are kept in.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::i18n::Lang;

/// The no-break space between a currency code and its digits (one line, as on the phone).
const NBSP: char = '\u{a0}';

/// The number of minor-unit digits of `currency` (2 when ISO 4217 gives none).
pub fn exponent(currency: &str) -> u32 {
    iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .map_or(2, u32::from)
}

/// `minor` units of `currency` as people read them in `lang`: `KES 1,500.00` (en, sw),
/// `1.500,00 KES` (es).
pub fn money(minor: u64, currency: &str, lang: Lang) -> String {
    let exp = exponent(currency);
    let scale = 10u64.pow(exp);
    let (whole, frac) = (minor / scale, minor % scale);
    let (group, decimal) = match lang {
        Lang::Es => ('.', ','),
        Lang::En | Lang::Sw => (',', '.'),
    };
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 8);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    if exp > 0 {
        grouped.push(decimal);
        grouped.push_str(&format!("{frac:0width$}", width = exp as usize));
    }
    match lang {
        Lang::Es => format!("{grouped}{NBSP}{currency}"),
        Lang::En | Lang::Sw => format!("{currency}{NBSP}{grouped}"),
    }
}

/// An amount as typed, in minor units of `currency`; `None` when it is not one (empty,
/// letters, more decimals than the currency has, zero is allowed here: the domain
/// refuses it with its own rule).
///
/// Spaces are ignored. With both `,` and `.` the last one is the decimal mark; with one
/// kind only, it is the decimal mark when it appears once and fewer than three digits
/// follow it (or exactly three in a three-decimal currency), else it groups thousands.
pub fn parse_amount(text: &str, currency: &str) -> Option<u64> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != NBSP && *c != '\'')
        .collect();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        return None;
    }
    let exp = exponent(currency) as usize;
    let decimal_at = match (text.rfind(','), text.rfind('.')) {
        (Some(c), Some(d)) => Some(c.max(d)),
        (Some(at), None) | (None, Some(at)) => {
            let mark = text.as_bytes()[at];
            let once = text.bytes().filter(|b| *b == mark).count() == 1;
            let after = text.len() - at - 1;
            (once && (after < 3 || (after == 3 && exp == 3))).then_some(at)
        }
        (None, None) => None,
    };
    let (whole, frac) = match decimal_at {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text.as_str(), ""),
    };
    if frac.len() > exp || frac.contains([',', '.']) || (decimal_at.is_some() && frac.is_empty()) {
        return None;
    }
    let whole_digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    if whole_digits.is_empty() && frac.is_empty() {
        return None;
    }
    // Grouping marks sit between groups of three digits only.
    if whole.contains([',', '.']) {
        let mut groups = whole.split([',', '.']);
        let first = groups.next().unwrap_or("");
        if first.is_empty() || first.len() > 3 || groups.any(|g| g.len() != 3) {
            return None;
        }
    }
    let whole: u64 = if whole_digits.is_empty() {
        0
    } else {
        whole_digits.parse().ok()?
    };
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<exp$}").parse().ok()?
    };
    whole
        .checked_mul(10u64.checked_pow(exp as u32)?)?
        .checked_add(frac_value)
}

/// The date of Unix time `t` in UTC, long form in `lang`: `14 March 2026`,
/// `14 Machi 2026`, `14 de marzo de 2026`.
pub fn date(t: i64, lang: Lang) -> String {
    let Ok(ts) = Timestamp::from_second(t) else {
        return t.to_string();
    };
    let d = ts.to_zoned(TimeZone::UTC).date();
    let month = lang.tr(&format!("month-{}", d.month()));
    match lang {
        Lang::Es => format!("{} de {month} de {}", d.day(), d.year()),
        Lang::En | Lang::Sw => format!("{} {month} {}", d.day(), d.year()),
    }
}

/// The date and the time of `t` in UTC: `14 March 2026, 09:05 UTC`.
pub fn date_time(t: i64, lang: Lang) -> String {
    let Ok(ts) = Timestamp::from_second(t) else {
        return t.to_string();
    };
    let z = ts.to_zoned(TimeZone::UTC);
    format!("{}, {:02}:{:02} UTC", date(t, lang), z.hour(), z.minute())
}

/// `YYYY-MM-DD` of `t` in UTC (a date input's value).
pub fn iso_date(t: i64) -> String {
    Timestamp::from_second(t)
        .map(|ts| ts.to_zoned(TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

/// A date input's `YYYY-MM-DD` → its midnight in UTC (Unix seconds).
pub fn parse_date(text: &str) -> Option<i64> {
    let date: Date = text.trim().parse().ok()?;
    date.to_zoned(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// `n` dates a month apart from `first` (same day of the month; the 31st becomes the
/// last day of a shorter month), as Unix seconds at midnight UTC.
pub fn monthly(first: &str, n: u32) -> Option<Vec<i64>> {
    let start: Date = first.trim().parse().ok()?;
    (0..n)
        .map(|i| {
            let d = start
                .checked_add(jiff::Span::new().months(i64::from(i)))
                .ok()?;
            d.to_zoned(TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp().as_second())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn money_uses_the_currencys_minor_units() {
        assert_eq!(money(150_000, "KES", Lang::En), "KES\u{a0}1,500.00");
        assert_eq!(money(150_050, "KES", Lang::Sw), "KES\u{a0}1,500.50");
        assert_eq!(money(150_050, "KES", Lang::Es), "1.500,50\u{a0}KES");
        assert_eq!(money(1_500_000, "UGX", Lang::En), "UGX\u{a0}1,500,000");
        assert_eq!(money(1_500, "KWD", Lang::En), "KWD\u{a0}1.500");
        assert_eq!(money(5, "KES", Lang::En), "KES\u{a0}0.05");
        assert_eq!(money(0, "KES", Lang::En), "KES\u{a0}0.00");
    }

    #[test]
    fn amounts_are_read_as_clerks_type_them() {
        for (text, currency, minor) in [
            ("1500", "KES", 150_000),
            ("1,500", "KES", 150_000),
            ("1,500.5", "KES", 150_050),
            ("1.500,50", "KES", 150_050),
            ("1 500,50", "KES", 150_050),
            ("0.05", "KES", 5),
            ("1,500,000", "UGX", 1_500_000),
            ("1.500", "KWD", 1_500),
            ("1,234.567", "KWD", 1_234_567),
            // One mark before three digits groups thousands where the currency has fewer
            // decimals.
            ("1.505", "KES", 150_500),
        ] {
            assert_eq!(
                parse_amount(text, currency),
                Some(minor),
                "{text} {currency}"
            );
        }
        for bad in [
            "",
            "abc",
            "1.2.3",
            "1,5,0",
            "12,34,567",
            "1.",
            "-5",
            "1e3",
            "1.1234",
            ",5,",
            "99999999999999999999",
        ] {
            assert_eq!(parse_amount(bad, "KES"), None, "{bad}");
        }
        assert_eq!(parse_amount("15.5", "UGX"), None);
    }

    #[test]
    fn dates_are_long_and_in_utc() {
        // 2026-03-14T23:30:00Z
        let t = 1_773_531_000;
        assert_eq!(date(t, Lang::En), "14 March 2026");
        assert_eq!(date(t, Lang::Sw), "14 Machi 2026");
        assert_eq!(date(t, Lang::Es), "14 de marzo de 2026");
        assert_eq!(date_time(t, Lang::En), "14 March 2026, 23:30 UTC");
        assert_eq!(iso_date(t), "2026-03-14");
        assert_eq!(parse_date("2026-03-14"), Some(1_773_446_400));
        assert_eq!(parse_date("14/03/2026"), None);
    }

    #[test]
    fn monthly_dates_keep_the_day_or_take_the_months_last() {
        let dates = monthly("2026-01-31", 3).unwrap();
        let shown: Vec<String> = dates.iter().map(|t| iso_date(*t)).collect();
        assert_eq!(shown, ["2026-01-31", "2026-02-28", "2026-03-31"]);
        assert_eq!(monthly("nope", 2), None);
    }

    proptest! {
        /// What the console shows, a clerk can type back: the same amount.
        #[test]
        fn a_shown_amount_reads_back(minor in 0u64..(1u64 << 53), lang_i in 0usize..3,
                                     currency in prop::sample::select(vec!["KES", "UGX", "KWD", "USD"])) {
            let lang = Lang::ALL[lang_i];
            let shown = money(minor, currency, lang);
            let digits = shown.replace(currency, "");
            prop_assert_eq!(parse_amount(&digits, currency), Some(minor), "{}", shown);
        }
    }
}
