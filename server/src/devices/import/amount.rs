//! Amounts as a statement or a spreadsheet writes them (`2500.00`, major units) to
//! minor units, exactly: digits only, never through a float.

use finlock_core::protocol::MAX_SAFE;

use super::Reason;

/// The currency's number of minor-unit digits (ISO 4217); a code without one (gold,
/// testing codes) has none.
pub fn exponent(currency: &str) -> Option<u32> {
    iso_currency::Currency::from_code(currency).map(|c| u32::from(c.exponent().unwrap_or(0)))
}

/// `text` in major units of a currency with `exponent` decimals → minor units; the
/// error is the reason in plain words.
pub fn parse(text: &str, exponent: u32, currency: &str) -> Result<u64, String> {
    parse_reason(text, exponent, currency).map_err(|r| r.english())
}

/// [`parse`] with the reason as its code.
pub fn parse_reason(text: &str, exponent: u32, currency: &str) -> Result<u64, Reason> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(Reason::AmountNegative);
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(Reason::AmountNotNumber {
            example: example(exponent),
        });
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > exponent as usize {
        return Err(Reason::AmountDecimals {
            currency: currency.to_string(),
            limit: u64::from(exponent),
        });
    }
    let mut minor: u64 = 0;
    let padded = fraction.bytes().chain(std::iter::repeat_n(
        b'0',
        exponent as usize - fraction.len(),
    ));
    for b in whole.bytes().chain(padded) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(b - b'0')))
            .ok_or(Reason::AmountTooLarge)?;
    }
    if minor == 0 {
        return Err(Reason::AmountZero);
    }
    if minor >= MAX_SAFE {
        return Err(Reason::AmountTooLarge);
    }
    Ok(minor)
}

/// Minor units as major units with the currency's decimals (`250000`, 2 → `2500.00`).
pub fn format(minor: u64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = exponent as usize
    )
}

/// An amount written right, in a currency with `exponent` decimals (`2500.00`).
pub fn example(exponent: u32) -> String {
    format(250_000 * 10u64.pow(exponent) / 100, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(parse("2500.00", 2, "KES"), Ok(250_000));
        assert_eq!(parse("2500.5", 2, "KES"), Ok(250_050));
        assert_eq!(parse("2500", 2, "KES"), Ok(250_000));
        assert_eq!(parse("007", 2, "KES"), Ok(700));
        assert_eq!(parse("1500", 0, "UGX"), Ok(1500));
        assert_eq!(parse("1.234", 3, "KWD"), Ok(1234));
        assert_eq!(exponent("KES"), Some(2));
        assert_eq!(exponent("UGX"), Some(0));
        assert_eq!(exponent("XYZ"), None);
    }

    #[test]
    fn every_other_text_is_refused_with_its_reason() {
        let reason = |t: &str, e| parse(t, e, "KES").unwrap_err();
        assert!(reason("-5", 2).contains("negative"));
        assert!(reason("0.00", 2).contains("more than 0"));
        assert!(reason("1.234", 2).contains("at most 2 decimals"));
        assert!(parse("1.5", 0, "UGX").unwrap_err().contains("no decimals"));
        for bad in [
            "", "1,000", "1 000", "+5", "KES 5", "5e3", ".5", "5.", "1.2.3", "0x10", "５", "NaN",
        ] {
            assert!(reason(bad, 2).starts_with("not an amount"), "{bad}");
        }
        assert!(reason("90071992547409.92", 2).contains("too large"));
        assert!(reason("99999999999999999999999", 2).contains("too large"));
    }

    proptest! {
        #[test]
        fn text_and_minor_units_round_trip(minor in 1u64..MAX_SAFE, exp in 0u32..=3) {
            let text = format(minor, exp);
            prop_assert_eq!(parse(&text, exp, "X"), Ok(minor));
        }

        #[test]
        fn parse_never_panics_and_answers_in_range(text in "\\PC{0,30}", exp in 0u32..=4) {
            if let Ok(minor) = parse(&text, exp, "X") {
                prop_assert!(minor > 0 && minor < MAX_SAFE);
                // The canonical form of what was read reads the same.
                prop_assert_eq!(parse(&format(minor, exp), exp, "X"), Ok(minor));
            }
        }
    }
}
