//! Safaricom's side in the demo: an M-Pesa C2B confirmation, posted to the lender's
//! notification URL (the one with its secret token) exactly as Daraja posts it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::DemoError;

/// One customer payment to the lender's paybill.
pub struct Confirmation<'a> {
    /// M-Pesa's transaction id (10 characters, e.g. `SBR4X1DEMO`).
    pub trans_id: &'a str,
    /// The account number the payer typed: the lender's customer reference.
    pub account: &'a str,
    /// KES in cents.
    pub amount_minor: u64,
    /// When it was paid (Unix seconds).
    pub at: i64,
}

impl Confirmation<'_> {
    /// The callback's JSON body. The payer's number and names are in it, as in Daraja's:
    /// the server never reads them.
    pub fn body(&self) -> Value {
        let eat = jiff::Timestamp::from_second(self.at)
            .map(|t| {
                t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(3)))
                    .strftime("%Y%m%d%H%M%S")
                    .to_string()
            })
            .unwrap_or_default();
        json!({
            "TransactionType": "Pay Bill",
            "TransID": self.trans_id,
            "TransTime": eat,
            "TransAmount": format!("{}.{:02}", self.amount_minor / 100, self.amount_minor % 100),
            "BusinessShortCode": "600638",
            "BillRefNumber": self.account,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": "254700000000",
            "FirstName": "Wanjiru",
            "MiddleName": "",
            "LastName": "Demo",
        })
    }

    /// Posts it to `url`; the server must answer Safaricom's `ResultCode: 0`. Returns how
    /// long the answer took.
    pub async fn post(&self, http: &reqwest::Client, url: &str) -> Result<Duration, DemoError> {
        let started = Instant::now();
        let resp = http
            .post(url)
            .json(&self.body())
            .send()
            .await
            .map_err(|e| DemoError::Lender(format!("M-Pesa callback: {e}")))?;
        let status = resp.status();
        let answer: Value = resp
            .json()
            .await
            .map_err(|e| DemoError::Lender(format!("M-Pesa callback: {e}")))?;
        if !status.is_success() || answer["ResultCode"] != json!(0) {
            return Err(DemoError::Lender(format!(
                "M-Pesa callback: HTTP {status}: {answer}"
            )));
        }
        Ok(started.elapsed())
    }
}

/// M-Pesa-like transaction ids: 10 upper-case letters and digits, distinct per `n`.
pub fn trans_id(prefix: &str, n: usize) -> String {
    format!(
        "{prefix}{n:0>width$}",
        width = 10usize.saturating_sub(prefix.len())
    )
}
