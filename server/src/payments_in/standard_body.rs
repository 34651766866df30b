//! The body of the generic endpoint (`POST /v1/notify/{lender_id}/standard`): pure.
//!
//! A Standard Webhooks payload (`type`, `timestamp`, `data`) whose `data` is one payment:
//!
//! ```json
//! { "type": "payment.received", "timestamp": "2026-01-01T10:00:05Z",
//!   "data": { "transaction_id": "TX-1001", "account_reference": "ACME-0001",
//!             "amount_minor": 250000, "currency": "KES",
//!             "paid_at": "2026-01-01T10:00:00Z" } }
//! ```
//!
//! `amount_minor` is an integer in the currency's minor units (cents: 2500.00 KES is
//! 250000), never a decimal: no float ever touches money. Fields not named here are
//! ignored (a provider may send more).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::notice::{Notice, Source, bad};
use crate::error::Result;

/// The one event type read.
pub const PAYMENT_RECEIVED: &str = "payment.received";

/// A Standard Webhooks payload reporting a payment.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(as = PaymentReceived)]
pub struct PaymentReceived {
    /// `payment.received`.
    #[serde(rename = "type")]
    #[schema(pattern = "^payment\\.received$")]
    pub type_: String,
    /// When the provider made the message (RFC 3339); not read.
    #[serde(default)]
    pub timestamp: Option<String>,
    pub data: PaymentData,
}

/// The payment.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PaymentData {
    /// The provider's transaction id: 1-128 printable ASCII characters, no spaces. One
    /// payment per id: a retry records nothing new.
    #[schema(min_length = 1, max_length = 128, pattern = "^[!-~]+$")]
    pub transaction_id: String,
    /// What the payer gave as account: the device id or the lender's customer reference
    /// (at most 128 characters; empty or unknown is held for the lender to assign).
    #[schema(max_length = 128)]
    pub account_reference: String,
    /// The amount in minor units of `currency` (an integer: 2500.00 KES is 250000).
    #[schema(minimum = 1, maximum = 9_007_199_254_740_990_u64)]
    pub amount_minor: u64,
    /// ISO 4217 code, e.g. `KES`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// When the money was paid (RFC 3339, e.g. `2026-01-01T10:00:00Z`).
    pub paid_at: String,
}

/// Reads the body; a 400 (`Error::BadRequest`) names what does not fit.
pub fn decode(body: &[u8]) -> Result<Notice> {
    let payload: PaymentReceived = crate::http::parse_json(body)?;
    if payload.type_ != PAYMENT_RECEIVED {
        return Err(bad(
            "type",
            "only payment.received notifications are read here",
        ));
    }
    let d = payload.data;
    let paid_at = d
        .paid_at
        .trim()
        .parse::<jiff::Timestamp>()
        .map_err(|_| {
            bad(
                "data.paid_at",
                "an RFC 3339 time, e.g. 2026-01-01T10:00:00Z",
            )
        })?
        .as_second();
    Notice {
        source: Source::Standard,
        transaction_id: d.transaction_id,
        account_ref: d.account_reference.trim().to_string(),
        amount_minor: d.amount_minor,
        currency: d.currency,
        paid_at,
    }
    .checked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    const BODY: &str = r#"{"type":"payment.received","timestamp":"2026-01-01T10:00:05Z",
        "data":{"transaction_id":"TX-1001","account_reference":" ACME-0001 ",
        "amount_minor":250000,"currency":"KES","paid_at":"2026-01-01T10:00:00Z",
        "extra":"ignored"}}"#;

    #[test]
    fn the_documented_body_is_read() {
        let n = decode(BODY.as_bytes()).unwrap();
        assert_eq!(
            n,
            Notice {
                source: Source::Standard,
                transaction_id: "TX-1001".into(),
                account_ref: "ACME-0001".into(),
                amount_minor: 250_000,
                currency: "KES".into(),
                paid_at: 1_767_261_600,
            }
        );
    }

    #[test]
    fn each_misfit_is_a_bad_request_naming_it() {
        for (body, names) in [
            ("", "empty"),
            ("{", "JSON"),
            (r#"{"type":"payment.received"}"#, "data"),
            (
                &BODY.replace("payment.received", "payment.refunded"),
                "type",
            ),
            (&BODY.replace("250000", "\"2500.00\""), "amount_minor"),
            (&BODY.replace("250000", "-1"), "amount_minor"),
            (&BODY.replace("250000", "0"), "amount"),
            (
                &BODY.replace("2026-01-01T10:00:00Z", "yesterday"),
                "paid_at",
            ),
            (&BODY.replace("\"KES\"", "\"kes\""), "currency"),
            (&BODY.replace("TX-1001", "TX 1001"), "transaction id"),
        ] {
            match decode(body.as_bytes()) {
                Err(Error::BadRequest(detail)) => {
                    assert!(detail.contains(names), "{body}: {detail}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
