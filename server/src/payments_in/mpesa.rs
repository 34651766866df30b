//! M-Pesa's C2B confirmation callback (Safaricom Daraja), read: pure.
//!
//! Safaricom POSTs, for every payment to the lender's paybill or till:
//!
//! ```json
//! { "TransactionType": "Pay Bill", "TransID": "RKTQDM7W6S", "TransTime": "20260101130000",
//!   "TransAmount": "2500.00", "BusinessShortCode": "600638", "BillRefNumber": "ACME-0001",
//!   "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
//!   "MSISDN": "2547 ***", "FirstName": "…", "MiddleName": "", "LastName": "" }
//! ```
//!
//! Read: `TransID` (the transaction id), `TransTime` (`YYYYMMDDHHmmss` in East Africa
//! Time, UTC+3 all year), `TransAmount` (a decimal amount in KES, as a string or a
//! number) and `BillRefNumber` (the account number the payer typed: a device id or the
//! lender's customer reference; empty for a till payment). The payer's phone number and
//! names are personal data the lender does not need to match a payment: they are never
//! read into memory, stored or logged (the lender finds the payer in its M-Pesa portal by
//! the transaction id if it must).
//!
//! The answer Safaricom expects once the notification is stored is [`ACCEPTED`].

use serde::Deserialize;
use serde_json::Value;

use super::notice::{Notice, Source, bad};
use crate::error::Result;

/// What Safaricom expects from a confirmation URL that took the payment.
pub const ACCEPTED: &str = r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#;
/// M-Pesa C2B in Kenya: Kenyan shillings.
pub const CURRENCY: &str = "KES";
/// East Africa Time (no daylight saving).
const EAT_OFFSET_HOURS: i8 = 3;

/// The fields read; every other one (MSISDN, names, balances) is skipped unread.
#[derive(Debug, Deserialize)]
#[allow(non_snake_case)]
struct Confirmation {
    TransID: String,
    TransTime: String,
    TransAmount: Value,
    #[serde(default)]
    BillRefNumber: Option<String>,
}

/// Reads a confirmation; a 400 (`Error::BadRequest`) names what does not fit.
pub fn decode(body: &[u8]) -> Result<Notice> {
    let c: Confirmation = crate::http::parse_json(body)?;
    let amount_text = match &c.TransAmount {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad("TransAmount", "a decimal amount, e.g. \"2500.00\"")),
    };
    let exponent = crate::devices::import::amount::exponent(CURRENCY).unwrap_or(2);
    let amount_minor = crate::devices::import::amount::parse(&amount_text, exponent, CURRENCY)
        .map_err(|reason| bad("TransAmount", &reason))?;
    Notice {
        source: Source::Mpesa,
        transaction_id: c.TransID.trim().to_string(),
        account_ref: c.BillRefNumber.unwrap_or_default().trim().to_string(),
        amount_minor,
        currency: CURRENCY.into(),
        paid_at: eat_time(&c.TransTime)?,
    }
    .checked()
}

/// `YYYYMMDDHHmmss` in East Africa Time → Unix seconds.
pub fn eat_time(text: &str) -> Result<i64> {
    let refuse = || bad("TransTime", "YYYYMMDDHHmmss, e.g. 20260101130000");
    let text = text.trim();
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let civil = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", text).map_err(|_| refuse())?;
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(EAT_OFFSET_HOURS));
    let zoned = civil.to_zoned(zone).map_err(|_| refuse())?;
    Ok(zoned.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    const BODY: &str = r#"{"TransactionType":"Pay Bill","TransID":"RKTQDM7W6S",
        "TransTime":"20260101130000","TransAmount":"2500.00","BusinessShortCode":"600638",
        "BillRefNumber":" ACME-0001 ","InvoiceNumber":"","OrgAccountBalance":"49197.00",
        "ThirdPartyTransID":"","MSISDN":"254708374149","FirstName":"John","MiddleName":"",
        "LastName":"Doe"}"#;

    #[test]
    fn a_confirmation_is_read_in_east_africa_time() {
        let n = decode(BODY.as_bytes()).unwrap();
        assert_eq!(
            n,
            Notice {
                source: Source::Mpesa,
                transaction_id: "RKTQDM7W6S".into(),
                account_ref: "ACME-0001".into(),
                amount_minor: 250_000,
                currency: "KES".into(),
                // 13:00 in Nairobi is 10:00 UTC.
                paid_at: 1_767_261_600,
            }
        );
        // Neither the phone number nor the names are kept anywhere in what was read.
        let kept = format!("{n:?}");
        assert!(!kept.contains("254708374149") && !kept.contains("John"));
    }

    #[test]
    fn amounts_as_numbers_and_till_payments_are_read() {
        let number = BODY.replace("\"2500.00\"", "2500.5");
        assert_eq!(decode(number.as_bytes()).unwrap().amount_minor, 250_050);
        let till = BODY.replace("\" ACME-0001 \"", "\"\"");
        assert_eq!(decode(till.as_bytes()).unwrap().account_ref, "");
        let no_ref = BODY.replace("\"BillRefNumber\":\" ACME-0001 \",", "");
        assert_eq!(decode(no_ref.as_bytes()).unwrap().account_ref, "");
    }

    #[test]
    fn each_misfit_is_a_bad_request_naming_it() {
        for (body, names) in [
            ("[]", "body"),
            (r#"{"TransID":"X"}"#, "TransTime"),
            (
                &BODY.replace("20260101130000", "2026-01-01 13:00"),
                "TransTime",
            ),
            (
                &BODY.replace("20260101130000", "20261301130000"),
                "TransTime",
            ),
            (&BODY.replace("\"2500.00\"", "\"2,500.00\""), "TransAmount"),
            (&BODY.replace("\"2500.00\"", "\"2500.001\""), "TransAmount"),
            (&BODY.replace("\"2500.00\"", "\"0\""), "TransAmount"),
            (&BODY.replace("\"2500.00\"", "true"), "TransAmount"),
            (&BODY.replace("RKTQDM7W6S", ""), "transaction id"),
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
