//! The delivery counters on `GET /metrics`: delivered, failed (will be retried) and
//! dead attempts. They live in [`crate::metrics`] with the server's other metrics (its
//! benchmark compiles that file alone); this is where the webhooks code finds them.

pub use crate::metrics::WebhookCounters as Counters;
