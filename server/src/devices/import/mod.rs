//! Bulk import (issue 16): a CSV of sales (devices with their plans) or a CSV of
//! payments (a mobile-money statement to reconcile). The whole file is validated first;
//! every bad row is reported with its line, column and reason; nothing is stored unless
//! every row is good, and then everything is stored in ONE transaction through the same
//! domain operations as the JSON API ([`super::register::insert_in`],
//! [`super::payments::record_in`]).
//!
//! The file (both kinds): UTF-8 (a byte-order mark is allowed), LF or CRLF, RFC 4180
//! quoting, at most [`MAX_BYTES`] and [`MAX_ROWS`] data rows. The first line names the
//! columns (names case-insensitive, any order); an unknown or repeated column is refused
//! (a typo must not silently drop data). Cells are trimmed; a cell starting with `=`,
//! `+`, `-` or `@` is text like any other (nothing is evaluated). Line numbers are the
//! file's lines, as a spreadsheet numbers its rows (the header is line 1).
//!
//! **Sales** ([`sales`]): `currency`, `grace_days`, `installments` (how many),
//! `amount` (each installment, in major units: `2500.00`), `first_due` (`YYYY-MM-DD`,
//! due at 00:00 UTC), `every` (`month`, `week`, or a number of days) are required;
//! `customer_ref`, `imei`, `offline_lock_after_days`, `auto_reprovision` (`yes`/`no`)
//! are optional. Each row is the [`super::register::Registration`] the API takes.
//!
//! **Payments** ([`payments`]): `device` (a device id, or a customer reference held by
//! exactly one of the lender's devices), `amount` (major units, converted exactly with
//! the currency's exponent), `reference` (the provider's transaction id) are required;
//! `currency` (must be the device's) and `paid_at` (`YYYY-MM-DD` or RFC 3339; checked,
//! echoed in the results, not stored: a payment is recorded at the server's time, as
//! through the API) are optional. A reference already recorded for the device with the
//! same amount is reported "already recorded" and not counted again, so importing the
//! same statement twice changes nothing.

pub mod amount;
pub mod apply;
pub mod payments;
pub mod reason;
pub mod sales;
pub mod table;

use serde::Serialize;
use utoipa::ToSchema;

pub use reason::Reason;

/// The largest file.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The most data rows (the header not counted).
pub const MAX_ROWS: usize = 10_000;
/// The most row errors listed in an answer (all are counted).
pub const MAX_REPORTED: usize = 200;

/// One reason a row (or the file, at line 0) cannot be imported: where, the stable
/// code with its parameters ([`Reason`]), and the reason in plain English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The file's line (the header is 1); 0 for the file as a whole.
    pub line: u64,
    /// The column, as named in the documentation (lower case), when one cell is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `code` (stable, snake_case) and, for codes that have any, `params`.
    #[serde(flatten)]
    pub code: Reason,
    /// What is wrong, in plain English.
    pub reason: String,
}

impl RowError {
    /// A row error whose text is the code's own English.
    pub fn new(line: u64, column: Option<&str>, code: Reason) -> RowError {
        let reason = code.english();
        RowError::with_text(line, column, code, reason)
    }

    /// A row error keeping the words of the rule that refused it (a rule of the shared
    /// operations, whose text says more than its code).
    pub fn with_text(
        line: u64,
        column: Option<&str>,
        code: Reason,
        reason: impl Into<String>,
    ) -> RowError {
        RowError {
            line,
            column: column.map(str::to_string),
            code,
            reason: reason.into(),
        }
    }
}

/// A file refused: the first [`MAX_REPORTED`] errors in line order, and how many there
/// are in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Rejected {
    pub errors: Vec<RowError>,
    pub error_count: usize,
}

/// Collects row errors, keeping the first [`MAX_REPORTED`] after sorting by line.
#[derive(Debug, Default)]
pub struct Errors {
    all: Vec<RowError>,
}

impl Errors {
    pub fn push(&mut self, error: RowError) {
        self.all.push(error);
    }

    pub fn add(&mut self, line: u64, column: Option<&str>, code: Reason) {
        self.push(RowError::new(line, column, code));
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The report: sorted by line (stable, so a row's errors keep their column order).
    pub fn rejected(mut self) -> Rejected {
        self.all.sort_by_key(|e| e.line);
        let error_count = self.all.len();
        self.all.truncate(MAX_REPORTED);
        Rejected {
            errors: self.all,
            error_count,
        }
    }

    /// `Err` with the report when any error was collected.
    pub fn into_result<T>(self, value: T) -> Result<T, Rejected> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self.rejected())
        }
    }
}

/// What kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Sales,
    Payments,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sales => "sales",
            Kind::Payments => "payments",
        }
    }
}

/// A cell given as "yes/no".
pub(crate) fn parse_yes_no(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Some(false),
        "yes" | "y" | "true" | "1" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
