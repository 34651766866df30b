//! What the lender's own audit log (`lender_audit`) keeps of its webhook endpoints: one
//! entry per create, secret rotation, delete and redelivery, naming who did it. A closed
//! set of events naming their own fields: never a secret, and of a URL only its host (a
//! path or query may carry the receiver's own token).

use serde_json::{Value, json};

use crate::audit::{self, Actor};
use crate::db::queries::Tx;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent<'a> {
    Created {
        endpoint_id: &'a str,
        host: &'a str,
        events: &'a str,
    },
    SecretRotated {
        endpoint_id: &'a str,
    },
    Deleted {
        endpoint_id: &'a str,
    },
    Redelivered {
        delivery_id: &'a str,
    },
}

impl EndpointEvent<'_> {
    /// The stored action name (stable: lenders filter on it).
    pub fn action(&self) -> &'static str {
        match self {
            EndpointEvent::Created { .. } => "webhook_endpoint_created",
            EndpointEvent::SecretRotated { .. } => "webhook_secret_rotated",
            EndpointEvent::Deleted { .. } => "webhook_endpoint_deleted",
            EndpointEvent::Redelivered { .. } => "webhook_redelivered",
        }
    }

    pub fn detail(&self) -> Value {
        match *self {
            EndpointEvent::Created {
                endpoint_id,
                host,
                events,
            } => json!({ "endpoint_id": endpoint_id, "host": host, "events": events }),
            EndpointEvent::SecretRotated { endpoint_id }
            | EndpointEvent::Deleted { endpoint_id } => {
                json!({ "endpoint_id": endpoint_id })
            }
            EndpointEvent::Redelivered { delivery_id } => json!({ "delivery_id": delivery_id }),
        }
    }
}

/// Appends `event` to the lender's log inside `tx` (begun with
/// [`crate::audit::begin_lender`]).
pub async fn append(
    tx: &mut Tx,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    event: &EndpointEvent<'_>,
) -> Result<()> {
    audit::append_lender(tx, lender_id, at, actor, event.action(), &event.detail()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_stable_actions_and_no_secret_or_path() {
        let created = EndpointEvent::Created {
            endpoint_id: "whe-1",
            host: "hooks.example.com",
            events: "device.locked",
        };
        assert_eq!(created.action(), "webhook_endpoint_created");
        assert_eq!(
            created.detail(),
            json!({ "endpoint_id": "whe-1", "host": "hooks.example.com", "events": "device.locked" })
        );
        let rotated = EndpointEvent::SecretRotated {
            endpoint_id: "whe-1",
        };
        assert_eq!(rotated.action(), "webhook_secret_rotated");
        assert_eq!(rotated.detail(), json!({ "endpoint_id": "whe-1" }));
        let deleted = EndpointEvent::Deleted {
            endpoint_id: "whe-1",
        };
        assert_eq!(deleted.action(), "webhook_endpoint_deleted");
        let again = EndpointEvent::Redelivered {
            delivery_id: "whd-1",
        };
        assert_eq!(again.action(), "webhook_redelivered");
        assert_eq!(again.detail(), json!({ "delivery_id": "whd-1" }));
    }
}
