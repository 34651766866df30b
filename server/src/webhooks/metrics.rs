//! The delivery counters on `GET /metrics`: delivered, failed (will be retried) and
//! dead attempts, by event kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Counters {
    attempts: Family<Outcome, Counter>,
}

impl Counters {
    /// The counters, registered in `registry` as `finlock_webhook_deliveries_total`.
    pub fn registered(registry: &mut Registry) -> Counters {
        let counters = Counters::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed, dead)",
            counters.attempts.clone(),
        );
        counters
    }

    pub fn delivered(&self) {
        self.count("delivered");
    }

    pub fn failed(&self) {
        self.count("failed");
    }

    pub fn dead(&self) {
        self.count("dead");
    }

    fn count(&self, outcome: &'static str) {
        self.attempts.get_or_create(&Outcome { outcome }).inc();
    }
}
