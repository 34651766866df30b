//! A payments file (pure): the rows' own rules first ([`parse`]), then each row against
//! its device as read ([`against`]: currency, amount in that currency's units, the
//! payment's own rules, [`payments::validate`]). What depends on the account
//! (overpayment, released, a reference already recorded) is decided when the rows are
//! stored, by the same operation as the API ([`super::apply`]).

use std::collections::HashMap;

use super::table::{self, Column, Row};
use super::{Errors, Reason, Rejected, RowError, amount};
use crate::db::queries::DeviceRow;
use crate::devices::payments::{self, PaymentRequest};
use crate::error::Error;

const DEVICE: usize = 0;
const AMOUNT: usize = 1;
const REFERENCE: usize = 2;
const CURRENCY: usize = 3;
const PAID_AT: usize = 4;

/// The columns of a payments file, in [`Row::cells`] order.
pub const SCHEMA: &[Column] = &[
    Column {
        name: "device",
        required: true,
    },
    Column {
        name: "amount",
        required: true,
    },
    Column {
        name: "reference",
        required: true,
    },
    Column {
        name: "currency",
        required: false,
    },
    Column {
        name: "paid_at",
        required: false,
    },
];

/// The longest device id or customer reference looked up.
const MAX_DEVICE: usize = 64;
/// The longest reference (the payment's own rule).
const MAX_REFERENCE: usize = 128;

/// A row that passed its own rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: u64,
    /// A device id or a customer reference, as written.
    pub device: String,
    /// The amount as written (its units depend on the device's currency).
    pub amount: String,
    /// The reference, trimmed.
    pub reference: String,
    /// Upper-cased when given.
    pub currency: Option<String>,
    /// Unix seconds, when given.
    pub paid_at: Option<i64>,
}

/// Reads a whole payments file and checks each row's own rules (references unique in
/// the file; `paid_at` not after `now`).
pub fn parse(bytes: &[u8], now: i64) -> Result<Vec<Line>, Rejected> {
    let rows = table::read(bytes, SCHEMA)?;
    let mut errors = Errors::default();
    let mut lines = Vec::with_capacity(rows.len());
    let mut references: HashMap<String, u64> = HashMap::new();
    for row in &rows {
        if let Some(line) = line(row, now, &mut errors) {
            if let Some(first) = references.get(&line.reference) {
                errors.add(
                    row.line,
                    Some("reference"),
                    Reason::ReferenceRepeated { line: *first },
                );
                continue;
            }
            references.insert(line.reference.clone(), row.line);
            lines.push(line);
        }
    }
    errors.into_result(lines)
}

fn line(row: &Row, now: i64, errors: &mut Errors) -> Option<Line> {
    let at = row.line;
    let mut ok = true;
    let mut fail = |column: usize, reason: Reason| {
        errors.add(at, Some(SCHEMA[column].name), reason);
        ok = false;
    };
    let device = row.get(DEVICE).unwrap_or("");
    if device.is_empty() || device.len() > MAX_DEVICE || device.chars().any(char::is_control) {
        fail(
            DEVICE,
            Reason::DeviceText {
                max: MAX_DEVICE as u64,
            },
        );
    }
    let amount = row.get(AMOUNT).unwrap_or("");
    if amount.is_empty() {
        fail(
            AMOUNT,
            Reason::AmountRequired {
                example: amount::example(2),
            },
        );
    }
    let reference = row.get(REFERENCE).unwrap_or("");
    if reference.is_empty() || reference.chars().count() > MAX_REFERENCE {
        fail(
            REFERENCE,
            Reason::ReferenceLength {
                max: MAX_REFERENCE as u64,
            },
        );
    } else if reference.chars().any(char::is_control) {
        fail(REFERENCE, Reason::ReferenceCharacters);
    }
    let currency = row.get(CURRENCY).map(str::to_ascii_uppercase);
    if currency
        .as_deref()
        .is_some_and(|c| amount::exponent(c).is_none())
    {
        fail(CURRENCY, Reason::CurrencyUnknown);
    }
    let paid_at = match row.get(PAID_AT) {
        None => None,
        Some(text) => match paid_at(text) {
            Some(t) if t <= now + 86_400 => Some(t),
            Some(_) => {
                fail(PAID_AT, Reason::PaidAtFuture);
                None
            }
            None => {
                fail(PAID_AT, Reason::PaidAtFormat);
                None
            }
        },
    };
    ok.then(|| Line {
        line: row.line,
        device: device.to_string(),
        amount: amount.to_string(),
        reference: reference.to_string(),
        currency,
        paid_at,
    })
}

/// A date (00:00 UTC) or an RFC 3339 time, from 2000 to before 2100.
fn paid_at(text: &str) -> Option<i64> {
    let t = if text.len() == 10 {
        let date: jiff::civil::Date = text.parse().ok()?;
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second()
    } else {
        text.parse::<jiff::Timestamp>().ok()?.as_second()
    };
    (946_684_800..4_102_444_800).contains(&t).then_some(t)
}

/// The payment request a row stands for against its device (pure), or the row's error.
pub fn against(line: &Line, device: &DeviceRow) -> Result<PaymentRequest, RowError> {
    let err = |column: &str, code: Reason| RowError::new(line.line, Some(column), code);
    let mismatch = || Reason::CurrencyMismatch {
        currency: device.currency.clone(),
    };
    if let Some(currency) = &line.currency
        && *currency != device.currency
    {
        return Err(err("currency", mismatch()));
    }
    let exponent = amount::exponent(&device.currency).unwrap_or(0);
    let amount_minor = amount::parse_reason(&line.amount, exponent, &device.currency)
        .map_err(|reason| err("amount", reason))?;
    let request = PaymentRequest {
        amount_minor,
        currency: device.currency.clone(),
        reference: line.reference.clone(),
        allow_overpayment: false,
    };
    payments::validate(&request, device).map_err(|e| match e {
        Error::Invalid { field, .. } if field == "currency" => err("currency", mismatch()),
        other => error(line.line, other, None),
    })?;
    Ok(request)
}

/// What is still owed on a device, for an overpayment's reason: in major units, with
/// its currency.
#[derive(Debug, Clone)]
pub struct Owed {
    pub amount: String,
    pub currency: String,
}

/// A payment rule's error as a row error, in the file's columns, with its code; `owed`
/// names the amount an overpayment is measured against, when known.
pub fn error(line: u64, e: Error, owed: Option<Owed>) -> RowError {
    match e {
        Error::Invalid { field, rule } => {
            let code = match field.as_str() {
                "amount_minor" if rule.contains("still owed") => {
                    let owed = owed.unwrap_or(Owed {
                        amount: "?".into(),
                        currency: String::new(),
                    });
                    Some(Reason::Overpayment {
                        owed: owed.amount,
                        currency: owed.currency,
                    })
                }
                "amount_minor" if rule.contains("add up") => Some(Reason::TotalTooLarge),
                "amount_minor" => Some(Reason::AmountTooLarge),
                "reference" if rule.contains("printable") => Some(Reason::ReferenceCharacters),
                "reference" => Some(Reason::ReferenceLength {
                    max: MAX_REFERENCE as u64,
                }),
                _ => None,
            };
            let column = match field.as_str() {
                "amount_minor" => "amount",
                "currency" => "currency",
                "reference" => "reference",
                _ => "device",
            };
            match code {
                Some(code) => RowError::new(line, Some(column), code),
                None => RowError::with_text(line, Some(column), Reason::Refused { field }, rule),
            }
        }
        Error::Conflict {
            slug: "released", ..
        } => RowError::new(line, Some("device"), Reason::DeviceReleased),
        Error::Conflict {
            slug: "duplicate-reference",
            ..
        } => RowError::new(line, Some("reference"), Reason::ReferenceTaken),
        Error::Conflict { slug, detail } => RowError::with_text(
            line,
            Some("device"),
            Reason::Refused {
                field: slug.to_string(),
            },
            detail,
        ),
        Error::NotFound => RowError::new(line, Some("device"), Reason::UnknownDevice),
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_083_200; // 2026-12-01

    fn errors(text: &str) -> Vec<(u64, Option<String>, String)> {
        parse(text.as_bytes(), NOW)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| (e.line, e.column, e.reason))
            .collect()
    }

    #[test]
    fn good_rows_keep_what_was_written() {
        let lines = parse(
            b"Reference,Amount,Device,Paid_At\r\nQK1,2500.00,dev-1,2026-11-30\r\nQK2,10,C-9,\r\n",
            NOW,
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].device, "dev-1");
        assert_eq!(lines[0].amount, "2500.00");
        assert_eq!(lines[0].paid_at, Some(NOW - 86_400));
        assert_eq!(lines[1].paid_at, None);
    }

    #[test]
    fn each_rule_names_its_line_and_column() {
        let e = errors(
            "device,amount,reference,currency,paid_at\n\
             d,1,R1,,\n\
             ,1,R2,,\n\
             d,,R3,,\n\
             d,1,,,\n\
             d,1,R1,,\n\
             d,1,R6,KESH,\n\
             d,1,R7,,2030-01-01\n\
             d,1,R8,,yesterday\n",
        );
        let cols: Vec<(u64, &str)> = e
            .iter()
            .map(|(l, c, _)| (*l, c.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            cols,
            vec![
                (3, "device"),
                (4, "amount"),
                (5, "reference"),
                (6, "reference"),
                (7, "currency"),
                (8, "paid_at"),
                (9, "paid_at"),
            ]
        );
        assert_eq!(e[3].2, "the same reference as line 2");
    }

    #[test]
    fn an_unknown_column_or_a_missing_one_is_refused() {
        let e = errors("device,amount,reference,note\nd,1,R,x\n");
        assert!(e[0].2.starts_with("unknown column \"note\""));
        let e = errors("device,amount\nd,1\n");
        assert_eq!(e[0].1.as_deref(), Some("reference"));
    }
}
