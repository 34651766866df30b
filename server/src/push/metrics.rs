//! The wake-up push counters on `GET /metrics`: `finlock_push_total{result}`, pushes by
//! what became of them (sent, gone, gave_up, dropped: the queue was full). A rising
//! `gave_up` is a push service in trouble; phones still check in hourly.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Result {
    result: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Counters {
    pushes: Family<Result, Counter>,
}

impl Counters {
    /// The counters, registered in `registry` as `finlock_push_total`.
    pub fn registered(registry: &mut Registry) -> Counters {
        let counters = Counters::default();
        registry.register(
            "push",
            "Wake-up pushes by result (sent, gone, gave_up, dropped)",
            counters.pushes.clone(),
        );
        counters
    }

    pub fn count(&self, result: &'static str) {
        self.pushes.get_or_create(&Result { result }).inc();
    }
}
