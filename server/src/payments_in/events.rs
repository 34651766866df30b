//! What the lender's own audit log (`lender_audit`) keeps of payments in: a secret
//! rotated and a held notification assigned, naming who did it. A closed set of events
//! naming their own fields: no secret, token or payer detail can reach the log.

use serde_json::{Value, json};

use super::notice::Source;
use crate::audit::Actor;
use crate::db::queries::Tx;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationEvent<'a> {
    /// A new secret (or M-Pesa URL token) for `source`; the previous ones stay valid
    /// until `previous_valid_until` (`None`: there was none).
    SecretRotated {
        source: Source,
        secret_id: &'a str,
        previous_valid_until: Option<i64>,
    },
    /// A held notification assigned to a device: recorded as `payment_id`.
    Assigned {
        notification_id: &'a str,
        device_id: &'a str,
        payment_id: &'a str,
    },
}

impl NotificationEvent<'_> {
    /// The stored action name (stable: lenders filter on it).
    pub fn action(&self) -> &'static str {
        match self {
            NotificationEvent::SecretRotated { .. } => "payment_notification_secret_rotated",
            NotificationEvent::Assigned { .. } => "payment_notification_assigned",
        }
    }

    pub fn detail(&self) -> Value {
        match *self {
            NotificationEvent::SecretRotated {
                source,
                secret_id,
                previous_valid_until,
            } => json!({ "source": source.as_str(), "secret_id": secret_id,
                "previous_valid_until": previous_valid_until }),
            NotificationEvent::Assigned {
                notification_id,
                device_id,
                payment_id,
            } => json!({ "notification_id": notification_id, "device_id": device_id,
                "payment_id": payment_id }),
        }
    }
}

/// A write transaction holding the lender's row first ([`crate::audit::begin_lender`]).
pub async fn begin(db: &crate::db::Db, lender_id: &str) -> Result<Tx> {
    crate::audit::begin_lender(db, lender_id).await
}

/// Appends `event` to the lender's log inside `tx` (begun with [`begin`]).
pub async fn append(
    tx: &mut Tx,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    event: &NotificationEvent<'_>,
) -> Result<()> {
    crate::audit::append_lender(tx, lender_id, at, actor, event.action(), &event.detail()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_stable_actions_and_no_secret_fields() {
        let rotated = NotificationEvent::SecretRotated {
            source: Source::Mpesa,
            secret_id: "pns-1",
            previous_valid_until: Some(5),
        };
        assert_eq!(rotated.action(), "payment_notification_secret_rotated");
        assert_eq!(
            rotated.detail(),
            json!({ "source": "mpesa", "secret_id": "pns-1", "previous_valid_until": 5 })
        );
        let assigned = NotificationEvent::Assigned {
            notification_id: "pnt-1",
            device_id: "dev-1",
            payment_id: "pay-1",
        };
        assert_eq!(assigned.action(), "payment_notification_assigned");
        assert_eq!(
            assigned.detail(),
            json!({ "notification_id": "pnt-1", "device_id": "dev-1", "payment_id": "pay-1" })
        );
    }
}
