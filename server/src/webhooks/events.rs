//! What a lender's systems are told: the closed set of event kinds and their payloads.
//!
//! Each [`Event`] names its own fields, so no payload can carry personal data by
//! accident: ids, amounts, states, reasons and times only — never an IMEI, a name or a
//! phone number (the lender's own payment reference is left out too: it may be a
//! customer's name in a lender's books).

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::audit::{AuditEvent, EnrollKind, ReleaseReason};

/// The kinds of event, as sent in the payload's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
pub enum EventKind {
    #[serde(rename = "device.enrolled")]
    Enrolled,
    #[serde(rename = "device.locked")]
    Locked,
    #[serde(rename = "device.unlocked")]
    Unlocked,
    #[serde(rename = "device.completing")]
    Completing,
    #[serde(rename = "device.released")]
    Released,
    #[serde(rename = "device.extended")]
    Extended,
    #[serde(rename = "device.rescheduled")]
    Rescheduled,
    #[serde(rename = "device.silent")]
    Silent,
    #[serde(rename = "payment.recorded")]
    PaymentRecorded,
    #[serde(rename = "payment.voided")]
    PaymentVoided,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::Enrolled,
        EventKind::Locked,
        EventKind::Unlocked,
        EventKind::Completing,
        EventKind::Released,
        EventKind::Extended,
        EventKind::Rescheduled,
        EventKind::Silent,
        EventKind::PaymentRecorded,
        EventKind::PaymentVoided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Enrolled => "device.enrolled",
            EventKind::Locked => "device.locked",
            EventKind::Unlocked => "device.unlocked",
            EventKind::Completing => "device.completing",
            EventKind::Released => "device.released",
            EventKind::Extended => "device.extended",
            EventKind::Rescheduled => "device.rescheduled",
            EventKind::Silent => "device.silent",
            EventKind::PaymentRecorded => "payment.recorded",
            EventKind::PaymentVoided => "payment.voided",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the device's next entitlement differs because of this event: the phone
    /// should check in now (the wake-up push, [`super::fanout`]).
    pub fn changes_entitlement(self) -> bool {
        !matches!(self, EventKind::Enrolled | EventKind::Silent)
    }
}

/// Why a device is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockCause<'a> {
    /// The lender locked it, with the reason shown on its lock screen.
    Lender(&'a str),
    /// An installment is overdue past its grace days: locked since `lock_at`.
    Overdue { lock_at: i64 },
}

/// One event, with what its payload says beyond the device.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    Enrolled {
        kind: EnrollKind,
    },
    Locked {
        cause: LockCause<'a>,
    },
    Unlocked,
    Completing {
        release_at: i64,
    },
    Released {
        reason: ReleaseReason,
    },
    /// A sale cancelled before its phone enrolled: the device is released for good too
    /// (`device.released`, reason `sale_cancelled`), so a lender's system that waits for
    /// the enrollment stops waiting.
    SaleCancelled,
    Extended {
        until: i64,
    },
    Rescheduled {
        lock_at_before: i64,
        lock_at_after: i64,
        total_minor: u64,
    },
    Silent {
        last_seen_at: i64,
        days: i64,
    },
    PaymentRecorded {
        payment_id: &'a str,
        amount_minor: u64,
        currency: &'a str,
        paid_minor: u64,
    },
    PaymentVoided {
        payment_id: &'a str,
        amount_minor: u64,
        reason: &'a str,
        paid_minor: u64,
        release_at: Option<i64>,
    },
}

impl<'a> Event<'a> {
    /// The event a change's audit entry reports, if the lender's systems are told of it
    /// (the audit entry is the one record of every change, so each surface — API,
    /// console, CLI, imports, payment notifications — reports the same events).
    pub fn from_audit(entry: &AuditEvent<'a>) -> Option<Event<'a>> {
        Some(match *entry {
            AuditEvent::Enrollment { kind, .. } if kind != EnrollKind::AnsweredAgain => {
                Event::Enrolled { kind }
            }
            AuditEvent::Locked { reason } => Event::Locked {
                cause: LockCause::Lender(reason),
            },
            AuditEvent::Unlocked => Event::Unlocked,
            AuditEvent::Completing { release_at } => Event::Completing { release_at },
            AuditEvent::Released { reason } => Event::Released { reason },
            AuditEvent::Cancelled { .. } => Event::SaleCancelled,
            AuditEvent::Extended { until, .. } => Event::Extended { until },
            AuditEvent::Rescheduled {
                lock_at_before,
                lock_at_after,
                total_minor,
                ..
            } => Event::Rescheduled {
                lock_at_before,
                lock_at_after,
                total_minor,
            },
            AuditEvent::Payment {
                payment_id,
                amount_minor,
                currency,
                paid_minor,
                ..
            } => Event::PaymentRecorded {
                payment_id,
                amount_minor,
                currency,
                paid_minor,
            },
            AuditEvent::PaymentVoided {
                payment_id,
                amount_minor,
                reason,
                paid_minor,
                release_at,
            } => Event::PaymentVoided {
                payment_id,
                amount_minor,
                reason,
                paid_minor,
                release_at,
            },
            _ => return None,
        })
    }

    pub fn kind(&self) -> EventKind {
        match self {
            Event::Enrolled { .. } => EventKind::Enrolled,
            Event::Locked { .. } => EventKind::Locked,
            Event::Unlocked => EventKind::Unlocked,
            Event::Completing { .. } => EventKind::Completing,
            Event::Released { .. } | Event::SaleCancelled => EventKind::Released,
            Event::Extended { .. } => EventKind::Extended,
            Event::Rescheduled { .. } => EventKind::Rescheduled,
            Event::Silent { .. } => EventKind::Silent,
            Event::PaymentRecorded { .. } => EventKind::PaymentRecorded,
            Event::PaymentVoided { .. } => EventKind::PaymentVoided,
        }
    }

    /// The event's own fields (the payload's `data` adds the device and its order).
    fn fields(&self) -> Value {
        match self {
            Event::Enrolled { kind } => json!({ "enrollment": kind.action() }),
            Event::Locked {
                cause: LockCause::Lender(reason),
            } => json!({ "cause": "lender", "reason": reason }),
            Event::Locked {
                cause: LockCause::Overdue { lock_at },
            } => json!({ "cause": "overdue", "lock_at": lock_at }),
            Event::Unlocked => json!({}),
            Event::Completing { release_at } => json!({ "release_at": release_at }),
            Event::Released { reason } => json!({ "reason": match reason {
                ReleaseReason::PaidInFull => "paid_in_full",
                ReleaseReason::LenderRequest => "lender_request",
            } }),
            Event::SaleCancelled => json!({ "reason": "sale_cancelled" }),
            Event::Extended { until } => json!({ "until": until }),
            Event::Rescheduled {
                lock_at_before,
                lock_at_after,
                total_minor,
            } => json!({ "lock_at_before": lock_at_before, "lock_at_after": lock_at_after,
                         "total_minor": total_minor }),
            Event::Silent { last_seen_at, days } => {
                json!({ "last_seen_at": last_seen_at, "silent_after_days": days })
            }
            Event::PaymentRecorded {
                payment_id,
                amount_minor,
                currency,
                paid_minor,
            } => json!({ "payment_id": payment_id, "amount_minor": amount_minor,
                         "currency": currency, "paid_minor": paid_minor }),
            Event::PaymentVoided {
                payment_id,
                amount_minor,
                reason,
                paid_minor,
                release_at,
            } => json!({ "payment_id": payment_id, "amount_minor": amount_minor,
                         "reason": reason, "paid_minor": paid_minor, "release_at": release_at }),
        }
    }
}

/// Where an event happened.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub event_id: &'a str,
    pub lender_id: &'a str,
    pub device_id: &'a str,
    /// The device's event number (1, 2, …).
    pub order: i64,
    pub at: i64,
}

/// The JSON body sent to the lender (the Standard Webhooks shape: `type`, `timestamp`,
/// `data`), with the event id and the device's order for deduplication and ordering.
pub fn payload(source: Source<'_>, event: &Event<'_>) -> String {
    let mut data = event.fields();
    if let Value::Object(map) = &mut data {
        map.insert("device_id".into(), source.device_id.into());
        map.insert("lender_id".into(), source.lender_id.into());
        map.insert("device_order".into(), source.order.into());
    }
    let timestamp = jiff::Timestamp::from_second(source.at)
        .map(|t| t.to_string())
        .unwrap_or_default();
    json!({
        "id": source.event_id,
        "type": event.kind().as_str(),
        "timestamp": timestamp,
        "occurred_at": source.at,
        "data": data,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let named = serde_json::to_value(kind).unwrap();
            assert_eq!(named, kind.as_str());
        }
        assert_eq!(EventKind::parse("device.exploded"), None);
    }

    #[test]
    fn a_payload_names_the_device_its_order_and_the_fields() {
        let source = Source {
            event_id: "evt-1",
            lender_id: "lnd-1",
            device_id: "dev-1",
            order: 7,
            at: 1_767_225_600,
        };
        let body = payload(
            source,
            &Event::Locked {
                cause: LockCause::Lender("Reported stolen"),
            },
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "evt-1");
        assert_eq!(v["type"], "device.locked");
        assert_eq!(v["timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(v["data"]["device_id"], "dev-1");
        assert_eq!(v["data"]["device_order"], 7);
        assert_eq!(v["data"]["cause"], "lender");
        assert_eq!(v["data"]["reason"], "Reported stolen");
    }
}
