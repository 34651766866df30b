//! Webhooks out (issue 17, ADR 0016): the lender's systems learn what happened to its
//! devices — enrolled, locked (with why), unlocked, completing, released, extended,
//! rescheduled, silent, payments recorded and voided — signed in the Standard Webhooks
//! form, delivered at least once, in order per device.
//!
//! | module | decides |
//! |---|---|
//! | [`events`] | the event kinds and their payloads (ids, amounts, states, reasons, times; no personal data) |
//! | [`outbox`] | writing an event and its deliveries in the transaction of the change |
//! | [`endpoints`] | a lender's receivers: URL, events filter, secret (shown once, rotatable), delete; the silence setting |
//! | [`address`] | which URLs and addresses may be called (https, no private networks: SSRF) |
//! | [`signing`] | signing with the endpoint's secret (the one Standard Webhooks implementation is [`crate::standard_webhooks`]) |
//! | [`changes`] | the lender's audit entries for endpoint changes and redeliveries |
//! | [`schedule`] | when a failed delivery is tried again, and when it is dead |
//! | [`claim`] | which deliveries are due, in order per device, claimed with a lease |
//! | [`send`] | one HTTP attempt: timeout, no redirects, the body not read |
//! | [`worker`] | the loop `finlock serve` runs: woken by a commit, polling for other nodes' events |
//! | [`scan`] | events found by time: a silent device, a phone locked for an overdue installment |
//! | [`log`] | the lender's delivery log and redelivery of a dead one |
//! | [`retention`] | how long finished deliveries and events are kept (30 days; dead ones 90) |
//! | [`fanout`] | the in-process hook for entitlement changes (the wake-up push) |
//! | [`metrics`] | delivered, failed and dead counters |

pub mod address;
pub mod changes;
pub mod claim;
pub mod endpoints;
pub mod events;
pub mod fanout;
pub mod log;
pub mod metrics;
pub mod outbox;
pub mod retention;
pub mod scan;
pub mod schedule;
pub mod send;
pub mod signing;
pub mod worker;

#[cfg(test)]
mod claim_tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

pub use events::{Event, EventKind, LockCause};
pub use outbox::{record, record_audit};

/// How this server delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub rules: address::Rules,
    /// Seconds to wait after each failed attempt ([`schedule::DEFAULT`]).
    pub schedule: Vec<u64>,
    /// The longest a receiver may take to answer.
    pub timeout: Duration,
    /// How often a worker looks for deliveries another node's commits made due.
    pub poll: Duration,
    /// How often the [`scan`] for silent and overdue devices runs.
    pub scan_every: Duration,
    /// Deliveries in flight at once per node.
    pub concurrency: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            rules: address::Rules::default(),
            schedule: schedule::DEFAULT.to_vec(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            scan_every: Duration::from_secs(60),
            concurrency: 16,
        }
    }
}

impl Settings {
    /// A claim lasts the request's timeout and a margin: an attempt ends (and gives its
    /// lease back) before another node may take the delivery.
    pub fn lease_s(&self) -> i64 {
        i64::try_from(self.timeout.as_secs()).unwrap_or(60) + 5
    }
}

/// The in-process wake-up: an event appended bumps the generation and wakes the
/// workers of this process, which look at once and again a few milliseconds later (the
/// append runs just before its transaction commits). Other nodes find the event by
/// polling ([`Settings::poll`]).
static WAKE: Notify = Notify::const_new();
static GENERATION: AtomicU64 = AtomicU64::new(0);

pub(crate) fn wake() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    WAKE.notify_waiters();
}

pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// The next wake-up; `enable` it before reading [`generation`] so none is missed.
pub(crate) fn notified() -> tokio::sync::futures::Notified<'static> {
    WAKE.notified()
}
