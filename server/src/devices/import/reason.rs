//! Why a row (or the file) of an import is refused: a closed set of stable codes, each
//! with the facts its message needs (a limit, a line, a currency). The JSON API answers
//! the code and its parameters beside the English text, so a program can act on the code
//! and a person can read the text; the console shows the code's message in the staff
//! member's language (`import-reason-<code>` in the Fluent catalogues, the parameters as
//! its variables).
//!
//! The English text of a reason the import decides itself is [`Reason::english`]; a rule
//! of the shared operations (registration, payments) keeps that operation's own words.

use serde::Serialize;
use utoipa::ToSchema;

/// A reason code and its parameters. Serialized as `"code": "<snake_case>"` and, when it
/// has any, `"params": {…}`. Codes are stable: a new rule gets a new code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub enum Reason {
    // ---- the file's form ---------------------------------------------------------------
    /// The file is larger than `limit` bytes.
    FileTooLarge { bytes: u64, limit: u64 },
    /// The file is not UTF-8 text.
    NotUtf8,
    /// The file has no line at all; `columns` lists the columns.
    FileEmpty { columns: String },
    /// The first line is not CSV.
    HeaderUnreadable,
    /// A column named twice in the header.
    ColumnTwice,
    /// A header cell that is no column; `columns` lists the columns.
    ColumnUnknown { name: String, columns: String },
    /// A required column is missing.
    ColumnRequired,
    /// A line that is not CSV.
    LineUnreadable,
    /// More than `limit` data rows.
    TooManyRows { limit: u64 },
    /// A row with `cells` cells where the header has `expected`.
    CellCount { cells: u64, expected: u64 },

    // ---- cells of either kind ----------------------------------------------------------
    /// Not an ISO 4217 currency code.
    CurrencyUnknown,
    /// Not a whole number.
    NotWholeNumber,
    /// The amount is missing.
    AmountRequired { example: String },
    /// The amount is negative.
    AmountNegative,
    /// Not an amount (digits with an optional decimal point).
    AmountNotNumber { example: String },
    /// More decimals than the currency has (`limit`, maybe 0).
    AmountDecimals { currency: String, limit: u64 },
    /// The amount is 0.
    AmountZero,
    /// The amount is 2^53 minor units or more.
    AmountTooLarge,

    // ---- sales -------------------------------------------------------------------------
    /// `grace_days` is missing.
    GraceDaysRequired,
    /// More than `limit` grace days.
    GraceDaysMax { limit: u64 },
    /// `offline_lock_after_days` out of `min`..=`max`.
    OfflineDaysRange { min: u64, max: u64 },
    /// `installments` out of `min`..=`max`.
    InstallmentsRange { min: u64, max: u64 },
    /// Not a date as YYYY-MM-DD.
    DateFormat,
    /// A due date outside 2000-01-01 to 2099-12-31.
    DueDateRange,
    /// The due dates run past the calendar.
    DueDatesPastCalendar,
    /// Not `month`, `week` or a number of days from `min` to `max`.
    EveryUnknown { min: u64, max: u64 },
    /// Not yes or no.
    YesNo,
    /// The plan's total is 2^53 minor units or more.
    TotalTooLarge,
    /// Not 14 to 16 digits.
    ImeiDigits,
    /// The same IMEI as an earlier `line` of the file.
    ImeiRepeated { line: u64 },
    /// The IMEI is registered to another of the lender's devices that is not released.
    ImeiRegistered,
    /// The IMEI belongs to a phone financed elsewhere.
    ImeiTaken,
    /// The customer reference is longer than `max` characters (or empty).
    CustomerRefLength { max: u64 },
    /// The customer reference holds other than printable ASCII.
    CustomerRefCharacters,
    /// A rule of the phone's own check of the plan's first entitlement (`field` names it).
    PlanRefused { field: String },
    /// The lender's compliance `profile` forbids the sale; `rule` is the profile's key (as
    /// the API's `rule`, docs/COMPLIANCE.md).
    Compliance { profile: String, rule: String },

    // ---- payments ----------------------------------------------------------------------
    /// The device cell is empty, longer than `max` or holds control characters.
    DeviceText { max: u64 },
    /// No device of the lender has this id or customer reference.
    UnknownDevice,
    /// Several of the lender's devices have this customer reference.
    CustomerRefAmbiguous,
    /// The reference is empty or longer than `max` characters.
    ReferenceLength { max: u64 },
    /// The reference holds line breaks or control characters.
    ReferenceCharacters,
    /// The same reference as an earlier `line` of the file.
    ReferenceRepeated { line: u64 },
    /// A payment with this reference is already recorded for the device with another
    /// amount (`amount` in `currency`).
    ReferenceRecorded { amount: String, currency: String },
    /// A payment with this reference was recorded for the device meanwhile.
    ReferenceTaken,
    /// `paid_at` is in the future.
    PaidAtFuture,
    /// `paid_at` is not a date or an RFC 3339 time.
    PaidAtFormat,
    /// The device's plan is in another `currency`.
    CurrencyMismatch { currency: String },
    /// More than the `owed` still owed (in `currency`).
    Overpayment { owed: String, currency: String },
    /// The device is released: nothing is owed.
    DeviceReleased,

    // ---- anything else -----------------------------------------------------------------
    /// Another rule of the shared operations (`field` names what it is about); the
    /// English text says which.
    Refused { field: String },
}

impl Reason {
    /// The stable code (`snake_case`), as the JSON answer's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::FileTooLarge { .. } => "file_too_large",
            Reason::NotUtf8 => "not_utf8",
            Reason::FileEmpty { .. } => "file_empty",
            Reason::HeaderUnreadable => "header_unreadable",
            Reason::ColumnTwice => "column_twice",
            Reason::ColumnUnknown { .. } => "column_unknown",
            Reason::ColumnRequired => "column_required",
            Reason::LineUnreadable => "line_unreadable",
            Reason::TooManyRows { .. } => "too_many_rows",
            Reason::CellCount { .. } => "cell_count",
            Reason::CurrencyUnknown => "currency_unknown",
            Reason::NotWholeNumber => "not_whole_number",
            Reason::AmountRequired { .. } => "amount_required",
            Reason::AmountNegative => "amount_negative",
            Reason::AmountNotNumber { .. } => "amount_not_number",
            Reason::AmountDecimals { .. } => "amount_decimals",
            Reason::AmountZero => "amount_zero",
            Reason::AmountTooLarge => "amount_too_large",
            Reason::GraceDaysRequired => "grace_days_required",
            Reason::GraceDaysMax { .. } => "grace_days_max",
            Reason::OfflineDaysRange { .. } => "offline_days_range",
            Reason::InstallmentsRange { .. } => "installments_range",
            Reason::DateFormat => "date_format",
            Reason::DueDateRange => "due_date_range",
            Reason::DueDatesPastCalendar => "due_dates_past_calendar",
            Reason::EveryUnknown { .. } => "every_unknown",
            Reason::YesNo => "yes_no",
            Reason::TotalTooLarge => "total_too_large",
            Reason::ImeiDigits => "imei_digits",
            Reason::ImeiRepeated { .. } => "imei_repeated",
            Reason::ImeiRegistered => "imei_registered",
            Reason::ImeiTaken => "imei_taken",
            Reason::CustomerRefLength { .. } => "customer_ref_length",
            Reason::CustomerRefCharacters => "customer_ref_characters",
            Reason::PlanRefused { .. } => "plan_refused",
            Reason::Compliance { .. } => "compliance",
            Reason::DeviceText { .. } => "device_text",
            Reason::UnknownDevice => "unknown_device",
            Reason::CustomerRefAmbiguous => "customer_ref_ambiguous",
            Reason::ReferenceLength { .. } => "reference_length",
            Reason::ReferenceCharacters => "reference_characters",
            Reason::ReferenceRepeated { .. } => "reference_repeated",
            Reason::ReferenceRecorded { .. } => "reference_recorded",
            Reason::ReferenceTaken => "reference_taken",
            Reason::PaidAtFuture => "paid_at_future",
            Reason::PaidAtFormat => "paid_at_format",
            Reason::CurrencyMismatch { .. } => "currency_mismatch",
            Reason::Overpayment { .. } => "overpayment",
            Reason::DeviceReleased => "device_released",
            Reason::Refused { .. } => "refused",
        }
    }

    /// The parameters as (name, value) text pairs: the variables of the code's message.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let n = |v: &u64| v.to_string();
        match self {
            Reason::FileTooLarge { bytes, limit } => vec![("bytes", n(bytes)), ("limit", n(limit))],
            Reason::FileEmpty { columns } => vec![("columns", columns.clone())],
            Reason::ColumnUnknown { name, columns } => {
                vec![("name", name.clone()), ("columns", columns.clone())]
            }
            Reason::TooManyRows { limit } => vec![("limit", n(limit))],
            Reason::CellCount { cells, expected } => {
                vec![("cells", n(cells)), ("expected", n(expected))]
            }
            Reason::AmountRequired { example } | Reason::AmountNotNumber { example } => {
                vec![("example", example.clone())]
            }
            Reason::AmountDecimals { currency, limit } => {
                vec![("currency", currency.clone()), ("limit", n(limit))]
            }
            Reason::GraceDaysMax { limit } => vec![("limit", n(limit))],
            Reason::OfflineDaysRange { min, max }
            | Reason::InstallmentsRange { min, max }
            | Reason::EveryUnknown { min, max } => vec![("min", n(min)), ("max", n(max))],
            Reason::ImeiRepeated { line } | Reason::ReferenceRepeated { line } => {
                vec![("line", n(line))]
            }
            Reason::CustomerRefLength { max }
            | Reason::DeviceText { max }
            | Reason::ReferenceLength { max } => vec![("max", n(max))],
            Reason::PlanRefused { field } | Reason::Refused { field } => {
                vec![("field", field.clone())]
            }
            Reason::Compliance { profile, rule } => {
                vec![("profile", profile.clone()), ("rule", rule.clone())]
            }
            Reason::ReferenceRecorded { amount, currency } => {
                vec![("amount", amount.clone()), ("currency", currency.clone())]
            }
            Reason::CurrencyMismatch { currency } => vec![("currency", currency.clone())],
            Reason::Overpayment { owed, currency } => {
                vec![("owed", owed.clone()), ("currency", currency.clone())]
            }
            Reason::NotUtf8
            | Reason::HeaderUnreadable
            | Reason::ColumnTwice
            | Reason::ColumnRequired
            | Reason::LineUnreadable
            | Reason::CurrencyUnknown
            | Reason::NotWholeNumber
            | Reason::AmountNegative
            | Reason::AmountZero
            | Reason::AmountTooLarge
            | Reason::GraceDaysRequired
            | Reason::DateFormat
            | Reason::DueDateRange
            | Reason::DueDatesPastCalendar
            | Reason::YesNo
            | Reason::TotalTooLarge
            | Reason::ImeiDigits
            | Reason::ImeiRegistered
            | Reason::ImeiTaken
            | Reason::CustomerRefCharacters
            | Reason::UnknownDevice
            | Reason::CustomerRefAmbiguous
            | Reason::ReferenceCharacters
            | Reason::ReferenceTaken
            | Reason::PaidAtFuture
            | Reason::PaidAtFormat
            | Reason::DeviceReleased => Vec::new(),
        }
    }

    /// The reason in plain English (the JSON answer's `reason`, the command line's).
    pub fn english(&self) -> String {
        match self {
            Reason::FileTooLarge { bytes, limit } => {
                format!("the file is {bytes} bytes; at most 2 MiB ({limit} bytes): split it")
            }
            Reason::NotUtf8 => "the file is not UTF-8 text: save it as \"CSV UTF-8\"".into(),
            Reason::FileEmpty { columns } => {
                format!("the file is empty; the first line names the columns: {columns}")
            }
            Reason::HeaderUnreadable => "the first line cannot be read as CSV".into(),
            Reason::ColumnTwice => "this column appears twice".into(),
            Reason::ColumnUnknown { name, columns } => {
                format!("unknown column \"{name}\"; the columns are: {columns}")
            }
            Reason::ColumnRequired => "this column is required".into(),
            Reason::LineUnreadable => "this line cannot be read as CSV".into(),
            Reason::TooManyRows { limit } => format!("more than {limit} rows: split the file"),
            Reason::CellCount { cells, expected } => {
                format!("{cells} cells where the header has {expected}")
            }
            Reason::CurrencyUnknown => {
                "an ISO 4217 currency code, e.g. KES, NGN, PHP, INR, BRL".into()
            }
            Reason::NotWholeNumber => "a whole number, e.g. 7".into(),
            Reason::AmountRequired { example } => format!("required, e.g. {example}"),
            Reason::AmountNegative => "a negative amount; amounts are more than 0".into(),
            Reason::AmountNotNumber { example } => format!(
                "not an amount: digits with an optional decimal point, e.g. {example} (no \
                 currency sign, no thousands separator)"
            ),
            Reason::AmountDecimals { currency, limit: 0 } => format!("{currency} has no decimals"),
            Reason::AmountDecimals { currency, limit } => {
                format!("{currency} has at most {limit} decimals")
            }
            Reason::AmountZero => "0; amounts are more than 0".into(),
            Reason::AmountTooLarge => "too large (the limit is 2^53 - 1 minor units)".into(),
            Reason::GraceDaysRequired => {
                "required: days after a due date before the phone locks".into()
            }
            Reason::GraceDaysMax { limit } => format!("at most {limit}"),
            Reason::OfflineDaysRange { min, max } => format!(
                "{min} to {max} (an offline lock sooner than a day locks people for a weak \
                 signal)"
            ),
            Reason::InstallmentsRange { min, max } => format!("{min} to {max} installments"),
            Reason::DateFormat => "a date as YYYY-MM-DD, e.g. 2027-01-31".into(),
            Reason::DueDateRange => "due dates are from 2000-01-01 to 2099-12-31".into(),
            Reason::DueDatesPastCalendar => "the due dates run past the calendar".into(),
            Reason::EveryUnknown { min, max } => {
                format!("month, week, or a number of days between installments ({min} to {max})")
            }
            Reason::YesNo => "yes or no".into(),
            Reason::TotalTooLarge => "the total must stay below 2^53 minor units".into(),
            Reason::ImeiDigits => "14 to 16 digits".into(),
            Reason::ImeiRepeated { line } => format!("the same IMEI as line {line}"),
            Reason::ImeiRegistered => {
                "this IMEI is already registered to one of your devices that is not released".into()
            }
            Reason::ImeiTaken => "this IMEI belongs to a phone financed elsewhere; it can be \
                                  registered once that account is released"
                .into(),
            Reason::CustomerRefLength { max } => format!("1 to {max} characters"),
            Reason::CustomerRefCharacters => {
                "printable ASCII characters only (letters, digits, punctuation, spaces)".into()
            }
            Reason::PlanRefused { field } => {
                format!("the plan breaks a rule the phone checks ({field})")
            }
            Reason::Compliance { profile, rule } => {
                format!("your compliance profile ({profile}) forbids this sale (rule {rule})")
            }
            Reason::DeviceText { max } => {
                format!("a device id or customer reference (1 to {max} characters)")
            }
            Reason::UnknownDevice => "no device of yours has this id or customer reference".into(),
            Reason::CustomerRefAmbiguous => {
                "several of your devices have this customer reference; use the device id".into()
            }
            Reason::ReferenceLength { max } => format!("the transaction id, 1 to {max} characters"),
            Reason::ReferenceCharacters => {
                "printable characters only (no line breaks or control characters)".into()
            }
            Reason::ReferenceRepeated { line } => format!("the same reference as line {line}"),
            Reason::ReferenceRecorded { amount, currency } => {
                format!(
                    "already recorded for this device with another amount ({amount} {currency})"
                )
            }
            Reason::ReferenceTaken => {
                "a payment with this reference is already recorded for this device".into()
            }
            Reason::PaidAtFuture => "in the future".into(),
            Reason::PaidAtFormat => "a date (2027-01-31) or a date and time with Z or an offset \
                                     (2027-01-31T10:00:00+03:00)"
                .into(),
            Reason::CurrencyMismatch { currency } => format!("the device's plan is in {currency}"),
            Reason::Overpayment { owed, currency } => {
                format!("is more than the {owed} {currency} still owed; check the amount")
            }
            Reason::DeviceReleased => "this device is released; nothing is owed".into(),
            Reason::Refused { field } => format!("refused ({field})"),
        }
    }

    /// The Fluent message id of the code: `import-reason-` and the code with dashes.
    pub fn message_id(&self) -> String {
        format!("import-reason-{}", self.code().replace('_', "-"))
    }

    /// One value of every variant, for tests that must cover them all (a new variant
    /// fails to compile in [`Reason::code`] and is then added here).
    #[cfg(test)]
    pub fn samples() -> Vec<Reason> {
        let s = |t: &str| t.to_string();
        vec![
            Reason::FileTooLarge {
                bytes: 3_000_000,
                limit: 2_097_152,
            },
            Reason::NotUtf8,
            Reason::FileEmpty {
                columns: s("device, amount"),
            },
            Reason::HeaderUnreadable,
            Reason::ColumnTwice,
            Reason::ColumnUnknown {
                name: s("note"),
                columns: s("device, amount"),
            },
            Reason::ColumnRequired,
            Reason::LineUnreadable,
            Reason::TooManyRows { limit: 10_000 },
            Reason::CellCount {
                cells: 3,
                expected: 2,
            },
            Reason::CurrencyUnknown,
            Reason::NotWholeNumber,
            Reason::AmountRequired {
                example: s("2500.00"),
            },
            Reason::AmountNegative,
            Reason::AmountNotNumber {
                example: s("2500.00"),
            },
            Reason::AmountDecimals {
                currency: s("KES"),
                limit: 2,
            },
            Reason::AmountDecimals {
                currency: s("UGX"),
                limit: 0,
            },
            Reason::AmountZero,
            Reason::AmountTooLarge,
            Reason::GraceDaysRequired,
            Reason::GraceDaysMax { limit: 365 },
            Reason::OfflineDaysRange { min: 1, max: 365 },
            Reason::InstallmentsRange { min: 1, max: 120 },
            Reason::DateFormat,
            Reason::DueDateRange,
            Reason::DueDatesPastCalendar,
            Reason::EveryUnknown { min: 1, max: 366 },
            Reason::YesNo,
            Reason::TotalTooLarge,
            Reason::ImeiDigits,
            Reason::ImeiRepeated { line: 2 },
            Reason::ImeiRegistered,
            Reason::ImeiTaken,
            Reason::CustomerRefLength { max: 64 },
            Reason::CustomerRefCharacters,
            Reason::PlanRefused {
                field: s("lock_at"),
            },
            Reason::Compliance {
                profile: s("in-rbi-draft"),
                rule: s("restricted.min_days_past_due"),
            },
            Reason::DeviceText { max: 64 },
            Reason::UnknownDevice,
            Reason::CustomerRefAmbiguous,
            Reason::ReferenceLength { max: 128 },
            Reason::ReferenceCharacters,
            Reason::ReferenceRepeated { line: 2 },
            Reason::ReferenceRecorded {
                amount: s("10.00"),
                currency: s("KES"),
            },
            Reason::ReferenceTaken,
            Reason::PaidAtFuture,
            Reason::PaidAtFormat,
            Reason::CurrencyMismatch { currency: s("KES") },
            Reason::Overpayment {
                owed: s("10.00"),
                currency: s("KES"),
            },
            Reason::DeviceReleased,
            Reason::Refused { field: s("device") },
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_distinct_and_serializes_with_its_params() {
        let mut seen = HashSet::new();
        for r in Reason::samples() {
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["code"], r.code(), "{json}");
            let params = r.params();
            if params.is_empty() {
                assert!(json.get("params").is_none(), "{json}");
            } else {
                for (name, value) in &params {
                    let got = &json["params"][*name];
                    let text = got
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| got.to_string());
                    assert_eq!(&text, value, "{json}");
                }
                assert_eq!(json["params"].as_object().unwrap().len(), params.len());
            }
            assert!(!r.english().is_empty());
            seen.insert(r.code());
        }
        // The two samples of a code with two English forms count once.
        assert_eq!(seen.len(), Reason::samples().len() - 1);
    }

    #[test]
    fn the_message_id_is_the_code_with_dashes() {
        assert_eq!(
            Reason::ImeiRepeated { line: 2 }.message_id(),
            "import-reason-imei-repeated"
        );
    }
}
