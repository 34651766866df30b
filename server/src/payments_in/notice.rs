//! A payment notification as the server reads it, whatever the provider's format: pure.
//! The body decoders ([`super::standard_body`], [`super::mpesa`]) make one; the domain
//! ([`super::receive`]) turns it into a payment or a held notification.

use finlock_core::protocol::MAX_SAFE;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// Which endpoint a notification came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The generic endpoint, signed in the Standard Webhooks form.
    Standard,
    /// M-Pesa's C2B confirmation callback.
    Mpesa,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Standard => "standard",
            Source::Mpesa => "mpesa",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "standard" => Some(Source::Standard),
            "mpesa" => Some(Source::Mpesa),
            _ => None,
        }
    }
}

/// The facts of one payment a provider reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub source: Source,
    /// The provider's transaction id: 1-128 printable ASCII characters. It becomes the
    /// payment's `reference`, so a statement imported later with the same id is
    /// recognised as already recorded.
    pub transaction_id: String,
    /// The account reference the payer gave (a device id or the lender's customer
    /// reference), trimmed; may be empty (nothing to match).
    pub account_ref: String,
    pub amount_minor: u64,
    /// ISO 4217 code, 3 capital letters.
    pub currency: String,
    /// When the provider says it was paid (Unix seconds).
    pub paid_at: i64,
}

/// A transaction id or an account reference longer than this is refused.
pub const MAX_TEXT: usize = 128;
/// Paid-at dates from 2000-01-01 to 2099-12-31 (anything else is a provider's bug).
const PAID_AT: std::ops::RangeInclusive<i64> = 946_684_800..=4_102_444_799;

impl Notice {
    /// The payment's `Idempotency-Key`: the source and the provider's id, so a replay
    /// (or a lender's assignment after it) can never count twice.
    pub fn idempotency_key(&self) -> String {
        match self.source {
            Source::Standard => format!("notify:{}", self.transaction_id),
            Source::Mpesa => format!("mpesa:{}", self.transaction_id),
        }
    }

    /// SHA-256 of the facts: a second notification with the same transaction id must
    /// carry the same facts to be a retry.
    pub fn facts_sha256(&self) -> String {
        crate::ids::sha256_hex(
            format!(
                "{}\n{}\n{}\n{}\n{}\n{}",
                self.source.as_str(),
                self.transaction_id,
                self.account_ref,
                self.amount_minor,
                self.currency,
                self.paid_at
            )
            .as_bytes(),
        )
    }

    /// Checks every rule of the facts; the decoders call it last.
    pub fn checked(self) -> Result<Notice> {
        let id = &self.transaction_id;
        if id.is_empty() || id.len() > MAX_TEXT || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(
                "transaction id",
                "1 to 128 printable ASCII characters without spaces",
            ));
        }
        if self.account_ref.chars().count() > MAX_TEXT
            || self.account_ref.chars().any(char::is_control)
        {
            return Err(bad("account reference", "at most 128 printable characters"));
        }
        if self.amount_minor == 0 || self.amount_minor >= MAX_SAFE {
            return Err(bad("amount", "more than 0 and less than 2^53 minor units"));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("currency", "an ISO 4217 code, 3 capital letters"));
        }
        if !PAID_AT.contains(&self.paid_at) {
            return Err(bad("paid at", "a date from 2000 to 2099"));
        }
        Ok(self)
    }
}

/// A body that does not say what the endpoint reads: 400, nothing stored.
pub fn bad(field: &str, rule: &str) -> Error {
    Error::BadRequest(format!("{field}: {rule}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn notice() -> Notice {
        Notice {
            source: Source::Mpesa,
            transaction_id: "QKJ3ABCD12".into(),
            account_ref: "ACME-0001".into(),
            amount_minor: 250_000,
            currency: "KES".into(),
            paid_at: 1_767_225_600,
        }
    }

    #[test]
    fn good_facts_pass() {
        assert_eq!(notice().checked().unwrap(), notice());
        let empty_ref = Notice {
            account_ref: String::new(),
            ..notice()
        };
        assert!(
            empty_ref.checked().is_ok(),
            "nothing to match is held, not refused"
        );
    }

    #[test]
    fn each_rule_refuses_its_field() {
        let cases: [(Notice, &str); 8] = [
            (
                Notice {
                    transaction_id: String::new(),
                    ..notice()
                },
                "transaction id",
            ),
            (
                Notice {
                    transaction_id: "QK J3".into(),
                    ..notice()
                },
                "transaction id",
            ),
            (
                Notice {
                    transaction_id: "Q".repeat(129),
                    ..notice()
                },
                "transaction id",
            ),
            (
                Notice {
                    account_ref: "a\nb".into(),
                    ..notice()
                },
                "account reference",
            ),
            (
                Notice {
                    amount_minor: 0,
                    ..notice()
                },
                "amount",
            ),
            (
                Notice {
                    amount_minor: MAX_SAFE,
                    ..notice()
                },
                "amount",
            ),
            (
                Notice {
                    currency: "kes".into(),
                    ..notice()
                },
                "currency",
            ),
            (
                Notice {
                    paid_at: 0,
                    ..notice()
                },
                "paid at",
            ),
        ];
        for (n, field) in cases {
            match n.clone().checked() {
                Err(Error::BadRequest(detail)) => assert!(detail.starts_with(field), "{detail}"),
                other => panic!("{n:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_key_and_fingerprint_name_the_source_and_the_facts() {
        assert_eq!(notice().idempotency_key(), "mpesa:QKJ3ABCD12");
        let standard = Notice {
            source: Source::Standard,
            ..notice()
        };
        assert_eq!(standard.idempotency_key(), "notify:QKJ3ABCD12");
        assert_ne!(standard.facts_sha256(), notice().facts_sha256());
        let more = Notice {
            amount_minor: 250_001,
            ..notice()
        };
        assert_ne!(more.facts_sha256(), notice().facts_sha256());
        assert_eq!(notice().facts_sha256(), notice().facts_sha256());
    }
}
