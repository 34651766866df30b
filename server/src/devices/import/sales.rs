//! A sales file (pure): each row becomes the [`Registration`] the API takes and passes
//! the same rules ([`register::prepare`]); an IMEI twice in the file is refused here,
//! one already financed in the database when the rows are stored ([`super::apply`]).

use std::collections::HashMap;

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::table::{self, Column, Row};
use super::{Errors, Reason, Rejected, RowError, amount, parse_yes_no};
use crate::devices::register::{self, PlanRequest, Prepared, Registration};
use crate::error::Error;
use crate::policy::PlanInstallment;

const CUSTOMER_REF: usize = 0;
const IMEI: usize = 1;
const CURRENCY: usize = 2;
const GRACE_DAYS: usize = 3;
const OFFLINE: usize = 4;
const INSTALLMENTS: usize = 5;
const AMOUNT: usize = 6;
const FIRST_DUE: usize = 7;
const EVERY: usize = 8;
const AUTO_REPROVISION: usize = 9;

/// The columns of a sales file, in [`Row::cells`] order.
pub const SCHEMA: &[Column] = &[
    col("customer_ref", false),
    col("imei", false),
    col("currency", true),
    col("grace_days", true),
    col("offline_lock_after_days", false),
    col("installments", true),
    col("amount", true),
    col("first_due", true),
    col("every", true),
    col("auto_reprovision", false),
];

const fn col(name: &'static str, required: bool) -> Column {
    Column { name, required }
}

/// The most installments a row may ask for (the protocol's limit).
const MAX_INSTALLMENTS: u32 = 120;

/// A good row: its line, the registration it stands for, and that registration checked.
#[derive(Debug, Clone)]
pub struct Sale {
    pub line: u64,
    pub registration: Registration,
    pub prepared: Prepared,
}

/// How often installments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Month,
    Week,
    Days(u32),
}

impl Every {
    pub fn parse(text: &str) -> Option<Every> {
        match text.to_ascii_lowercase().as_str() {
            "month" | "monthly" | "months" => Some(Every::Month),
            "week" | "weekly" | "weeks" => Some(Every::Week),
            other => {
                let days = other.strip_suffix('d').unwrap_or(other);
                let days = days.trim_end_matches(" days").trim();
                match days.parse::<u32>() {
                    Ok(n) if (1..=366).contains(&n) && days.bytes().all(|b| b.is_ascii_digit()) => {
                        Some(Every::Days(n))
                    }
                    _ => None,
                }
            }
        }
    }
}

/// The due dates: `count` dates from `first` (00:00 UTC), a month apart keeping the day
/// of the month (the 31st falls on the month's last day), or a week, or n days apart.
pub fn due_dates(first: Date, every: Every, count: u32) -> Option<Vec<i64>> {
    (0..count)
        .map(|k| {
            let k = i64::from(k);
            let date = match every {
                Every::Month => first.checked_add(k.months()).ok()?,
                Every::Week => first.checked_add((7 * k).days()).ok()?,
                Every::Days(n) => first.checked_add((i64::from(n) * k).days()).ok()?,
            };
            date.to_zoned(TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp().as_second())
        })
        .collect()
}

/// Reads and checks a whole sales file at `now`: every good row, or every reason.
pub fn parse(bytes: &[u8], now: i64) -> Result<Vec<Sale>, Rejected> {
    let rows = table::read(bytes, SCHEMA)?;
    let mut errors = Errors::default();
    let mut sales = Vec::with_capacity(rows.len());
    let mut imeis: HashMap<String, u64> = HashMap::new();
    for row in &rows {
        let Some(registration) = registration(row, &mut errors) else {
            continue;
        };
        match register::prepare(&registration, now) {
            Ok(prepared) => {
                if let Some(hash) = prepared.imei_sha256() {
                    if let Some(first) = imeis.get(hash) {
                        errors.add(
                            row.line,
                            Some("imei"),
                            Reason::ImeiRepeated { line: *first },
                        );
                        continue;
                    }
                    imeis.insert(hash.to_string(), row.line);
                }
                sales.push(Sale {
                    line: row.line,
                    registration,
                    prepared,
                });
            }
            Err(e) => errors.push(row_error(row.line, e)),
        }
    }
    errors.into_result(sales)
}

/// The row's cells as a registration; each bad cell adds its error.
fn registration(row: &Row, errors: &mut Errors) -> Option<Registration> {
    let line = row.line;
    let mut ok = true;
    let mut fail = |column: usize, reason: Reason| {
        errors.add(line, Some(SCHEMA[column].name), reason);
        ok = false;
    };
    let currency = row.get(CURRENCY).unwrap_or("").to_ascii_uppercase();
    let exponent = amount::exponent(&currency);
    if exponent.is_none() {
        fail(CURRENCY, Reason::CurrencyUnknown);
    }
    let number = |column: usize| -> Result<Option<u32>, Reason> {
        row.get(column)
            .map(|t| t.parse::<u32>().map_err(|_| Reason::NotWholeNumber))
            .transpose()
    };
    let grace_days = match number(GRACE_DAYS) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            fail(GRACE_DAYS, Reason::GraceDaysRequired);
            None
        }
        Err(e) => {
            fail(GRACE_DAYS, e);
            None
        }
    };
    let offline = number(OFFLINE).unwrap_or_else(|e| {
        fail(OFFLINE, e);
        None
    });
    let count = match number(INSTALLMENTS) {
        Ok(Some(n)) if (1..=MAX_INSTALLMENTS).contains(&n) => Some(n),
        Ok(_) => {
            fail(
                INSTALLMENTS,
                Reason::InstallmentsRange {
                    min: 1,
                    max: u64::from(MAX_INSTALLMENTS),
                },
            );
            None
        }
        Err(e) => {
            fail(INSTALLMENTS, e);
            None
        }
    };
    let each = match (exponent, row.get(AMOUNT)) {
        (exp, None) => {
            fail(
                AMOUNT,
                Reason::AmountRequired {
                    example: amount::example(exp.unwrap_or(2)),
                },
            );
            None
        }
        (None, Some(_)) => None,
        (Some(exp), Some(text)) => amount::parse_reason(text, exp, &currency)
            .map_err(|e| fail(AMOUNT, e))
            .ok(),
    };
    let first = match row.get(FIRST_DUE).map(|t| t.parse::<Date>()) {
        Some(Ok(d)) if row.get(FIRST_DUE).is_some_and(|t| t.len() == 10) => Some(d),
        _ => {
            fail(FIRST_DUE, Reason::DateFormat);
            None
        }
    };
    let every = row.get(EVERY).and_then(Every::parse);
    if every.is_none() {
        fail(EVERY, Reason::EveryUnknown { min: 1, max: 366 });
    }
    let auto_reprovision = parse_yes_no(row.get(AUTO_REPROVISION).unwrap_or(""));
    if auto_reprovision.is_none() {
        fail(AUTO_REPROVISION, Reason::YesNo);
    }
    if !ok {
        return None;
    }
    let (grace_days, count, each, first, every) = (grace_days?, count?, each?, first?, every?);
    let Some(dues) = due_dates(first, every, count) else {
        errors.add(line, Some("first_due"), Reason::DueDatesPastCalendar);
        return None;
    };
    Some(Registration {
        imei: row.get(IMEI).map(str::to_string),
        auto_reprovision: auto_reprovision?,
        plan: PlanRequest {
            currency,
            grace_days,
            offline_lock_after_days: offline,
            installments: dues
                .into_iter()
                .map(|due| PlanInstallment {
                    due,
                    amount_minor: each,
                })
                .collect(),
        },
        reminders: None,
        customer_ref: row.get(CUSTOMER_REF).map(str::to_string),
    })
}

/// A registration rule's error as a row error, in the file's columns, with its code.
/// The rules are [`register::prepare`]'s and the IMEI's owner check's; a rule without a
/// code of its own keeps its words under [`Reason::PlanRefused`] or [`Reason::Refused`].
pub fn row_error(line: u64, e: Error) -> RowError {
    match e {
        Error::Invalid { field, rule } => {
            let (column, code) = invalid(&field, &rule);
            match code {
                Some(code) => RowError::new(line, column, code),
                None if field.starts_with("plan") => {
                    RowError::with_text(line, column, Reason::PlanRefused { field }, rule)
                }
                None => RowError::with_text(line, column, Reason::Refused { field }, rule),
            }
        }
        Error::Conflict {
            slug: "imei-registered",
            ..
        } => RowError::new(line, Some("imei"), Reason::ImeiRegistered),
        Error::Conflict {
            slug: "imei-taken", ..
        } => RowError::new(line, Some("imei"), Reason::ImeiTaken),
        Error::Conflict { slug, detail } => RowError::with_text(
            line,
            None,
            Reason::Refused {
                field: slug.to_string(),
            },
            detail,
        ),
        // The lender's compliance profile forbids this row's plan: its rule and the
        // profile's own words about it.
        Error::Compliance {
            profile,
            rule,
            detail,
        } => {
            let code = Reason::Compliance {
                profile,
                rule: rule.to_string(),
            };
            let text = format!("{}: {detail}", code.english());
            RowError::with_text(line, compliance_column(rule), code, text)
        }
        other => RowError::with_text(
            line,
            None,
            Reason::Refused {
                field: "row".into(),
            },
            other.to_string(),
        ),
    }
}

/// The file's column a compliance rule is about, when one is (docs/COMPLIANCE.md): a
/// plan's `grace_days` is the moment of the first sanction; a full lock the profile never
/// allows is the plan's offline lock.
fn compliance_column(rule: &str) -> Option<&'static str> {
    match rule {
        "notice.min_days"
        | "restricted.min_days_past_due"
        | "restricted.required"
        | "locked.min_days_past_due" => Some("grace_days"),
        "locked.allowed" => Some("offline_lock_after_days"),
        _ => None,
    }
}

/// Registration's limit on grace days and offline days (a test below holds it to
/// [`register::prepare`]).
const REGISTER_MAX_DAYS: u64 = 365;

/// The file's column and the code of a registration field's rule (`None`: no code).
fn invalid(field: &str, rule: &str) -> (Option<&'static str>, Option<Reason>) {
    let range = |a: u64, b: u64| (a, b);
    match field {
        "plan.currency" => (Some("currency"), Some(Reason::CurrencyUnknown)),
        "plan.grace_days" => (
            Some("grace_days"),
            Some(Reason::GraceDaysMax {
                limit: REGISTER_MAX_DAYS,
            }),
        ),
        "plan.offline_lock_after_days" => {
            let (min, max) = range(1, REGISTER_MAX_DAYS);
            (
                Some("offline_lock_after_days"),
                Some(Reason::OfflineDaysRange { min, max }),
            )
        }
        "plan.installments" if rule.contains("2^53") => {
            (Some("amount"), Some(Reason::TotalTooLarge))
        }
        "plan.installments" => (
            Some("installments"),
            Some(Reason::InstallmentsRange {
                min: 1,
                max: u64::from(MAX_INSTALLMENTS),
            }),
        ),
        "imei" => (Some("imei"), Some(Reason::ImeiDigits)),
        "customer_ref" if rule.contains("ASCII") => {
            (Some("customer_ref"), Some(Reason::CustomerRefCharacters))
        }
        "customer_ref" => (
            Some("customer_ref"),
            Some(Reason::CustomerRefLength {
                max: register::MAX_CUSTOMER_REF as u64,
            }),
        ),
        f if f.starts_with("plan.installments[") && f.ends_with(".due") => {
            (Some("first_due"), Some(Reason::DueDateRange))
        }
        f if f.starts_with("plan.installments[") && f.ends_with(".amount_minor") => {
            (Some("amount"), Some(Reason::AmountTooLarge))
        }
        f if f.starts_with("plan.lock") || f.ends_with(".due") => (Some("first_due"), None),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01.
    const NOW: i64 = 1_796_083_200;
    const HEADER: &str =
        "customer_ref,imei,currency,grace_days,installments,amount,first_due,every";

    fn file(rows: &[&str]) -> Vec<u8> {
        let mut text = format!("{HEADER}\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        text.into_bytes()
    }

    fn errors(rows: &[&str]) -> Vec<(u64, Option<String>, String)> {
        parse(&file(rows), NOW)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| (e.line, e.column, e.reason))
            .collect()
    }

    const GOOD: &str = "C-1,35-209900-176148-1,KES,7,3,2500.00,2027-01-31,month";

    #[test]
    fn a_good_row_is_the_registration_the_api_takes() {
        let sales = parse(&file(&[GOOD, "C-2,,kes,0,2,10,2027-01-01,14"]), NOW).unwrap();
        assert_eq!(sales.len(), 2);
        let plan = &sales[0].registration.plan;
        assert_eq!(plan.currency, "KES");
        assert_eq!(plan.installments.len(), 3);
        assert!(plan.installments.iter().all(|i| i.amount_minor == 250_000));
        // 2027-01-31, 2027-02-28, 2027-03-31 at 00:00 UTC.
        let dues: Vec<i64> = plan.installments.iter().map(|i| i.due).collect();
        assert_eq!(dues, vec![1_801_353_600, 1_803_772_800, 1_806_451_200]);
        assert_eq!(sales[0].registration.customer_ref.as_deref(), Some("C-1"));
        assert!(sales[0].prepared.imei_sha256().is_some());
        assert_eq!(sales[1].registration.imei, None);
        let d = &sales[1].registration.plan.installments;
        assert_eq!(d[1].due - d[0].due, 14 * 86_400);
    }

    #[test]
    fn every_bad_cell_of_every_row_is_reported() {
        let e = errors(&[
            GOOD,
            "C-3,,KES,x,3,2500,2027-01-31,month",
            "C-4,,KES,7,3,-5,2027-01-31,month",
            "C-5,,KES,7,3,2500.001,2027-01-31,month",
            "C-6,,KES,7,3,2500,31/01/2027,month",
            "C-7,,KES,7,3,2500,2027-02-30,month",
            "C-8,,KES,7,0,2500,2027-01-31,month",
            "C-9,,KES,7,3,2500,2027-01-31,fortnight",
            "C-10,,KESH,7,3,2500,2027-01-31,month",
            "C-11,,KES,400,3,2500,2027-01-31,month",
            "C-12,12345,KES,7,3,2500,2027-01-31,month",
            "C-13,,KES,7,3,2500,1999-01-31,month",
            "C-14,,KES,7,3,,2027-01-31,month",
        ]);
        let cols: Vec<(u64, &str)> = e
            .iter()
            .map(|(l, c, _)| (*l, c.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            cols,
            vec![
                (3, "grace_days"),
                (4, "amount"),
                (5, "amount"),
                (6, "first_due"),
                (7, "first_due"),
                (8, "installments"),
                (9, "every"),
                (10, "currency"),
                (11, "grace_days"),
                (12, "imei"),
                (13, "first_due"),
                (14, "amount"),
            ],
            "{e:?}"
        );
        assert!(e[1].2.contains("negative"));
        assert!(e[2].2.contains("at most 2 decimals"));
    }

    /// Registration's own rules (checked by [`register::prepare`]) come back with their
    /// codes and limits, and a customer reference with its two rules.
    #[test]
    fn registration_rules_have_their_codes() {
        let codes = |rows: &[&str]| -> Vec<(u64, Reason)> {
            parse(&file(rows), NOW)
                .unwrap_err()
                .errors
                .into_iter()
                .map(|e| (e.line, e.code))
                .collect()
        };
        let long_ref = format!("{},,KES,7,3,2500,2027-01-31,month", "x".repeat(65));
        let got = codes(&[
            "C-1,,KES,400,3,2500,2027-01-31,month",
            "C-2,12345,KES,7,3,2500,2027-01-31,month",
            "C-3,,KES,7,3,2500,1999-01-31,month",
            &long_ref,
            "C-\u{e9},,KES,7,3,2500,2027-01-31,month",
            "C-6,,KES,7,3,2500,2027-01-31,fortnight",
        ]);
        assert_eq!(
            got,
            vec![
                (2, Reason::GraceDaysMax { limit: 365 }),
                (3, Reason::ImeiDigits),
                (4, Reason::DueDateRange),
                (5, Reason::CustomerRefLength { max: 64 }),
                (6, Reason::CustomerRefCharacters),
                (7, Reason::EveryUnknown { min: 1, max: 366 }),
            ]
        );
        let text = "currency,grace_days,installments,amount,first_due,every,offline_lock_after_days\n\
                    KES,7,1,5,2027-01-01,week,0\n";
        let e = parse(text.as_bytes(), NOW).unwrap_err();
        assert_eq!(
            e.errors[0].code,
            Reason::OfflineDaysRange { min: 1, max: 365 }
        );
    }

    #[test]
    fn an_imei_twice_in_the_file_names_the_first_line() {
        let twice = "C-2,352099001761481,KES,7,3,2500.00,2027-01-31,month";
        let e = errors(&[GOOD, twice]);
        assert_eq!(
            e,
            vec![(3, Some("imei".into()), "the same IMEI as line 2".into())]
        );
    }

    #[test]
    fn optional_columns_may_be_left_out_and_required_ones_may_not() {
        let text =
            b"currency,grace_days,installments,amount,first_due,every\nKES,7,1,5,2027-01-01,week\n";
        assert_eq!(parse(text, NOW).unwrap().len(), 1);
        let e = parse(b"currency,grace_days,installments,amount,first_due\n", NOW).unwrap_err();
        assert_eq!(e.errors[0].column.as_deref(), Some("every"));
        let e = parse(&file(&["C-1,,KES,7,3,1,2027-01-01,month,extra"]), NOW).unwrap_err();
        assert_eq!(e.errors[0].line, 2);
    }

    #[test]
    fn intervals() {
        assert_eq!(Every::parse("Month"), Some(Every::Month));
        assert_eq!(Every::parse("weekly"), Some(Every::Week));
        assert_eq!(Every::parse("30"), Some(Every::Days(30)));
        assert_eq!(Every::parse("30d"), Some(Every::Days(30)));
        for bad in ["0", "367", "-1", "+3", "fortnight", ""] {
            assert_eq!(Every::parse(bad), None, "{bad}");
        }
    }
}
