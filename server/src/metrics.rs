//! The server's Prometheus metrics, kept with the official client crate
//! (`prometheus-client`) instead of a hand-rolled registry.
//!
//! What is counted, and why:
//!
//! - `finlock_checkins_total{result}`: device check-ins by result, `ok` or the problem
//!   slug the check-in failed with (`bad-signature`, `replayed`, `stale`, ...). A fleet
//!   that stops checking in cleanly is the first sign of a lender key mix-up, a broken
//!   app release or an attack, long before phones lock.
//! - `finlock_clock_jumps_total`: wall-clock jumps devices report (PROTOCOL.md §3.2). A
//!   rising rate means people are setting phone clocks back to dodge a lock.
//! - `finlock_http_requests_total{route,status}`: every answer by route template and
//!   status, the traffic and error mix per endpoint.
//! - `finlock_http_errors_total{route}`: answers with status >= 400 per route, so an
//!   alert needs no regular expression on `status`.
//! - `finlock_http_request_duration_seconds{route}`: latency histogram per route, from
//!   0.5 ms (a check-in costs about 0.2 ms of CPU) to 2.5 s.
//!
//! Labels are only `&'static str` values (route templates, problem slugs) and status
//! codes, so the number of series is bounded by the code, never by request data: no
//! device ids, no raw paths. Metrics are per process; each node is scraped on its own.
//! [`Metrics::render`] writes the Prometheus text format 0.0.4, served with
//! [`Metrics::content_type`].

use std::time::Duration;

use axum::http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency histogram buckets, seconds.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckinResult {
    result: &'static str,
}

/// The metrics of one server process. Cheap to update from many tasks at once:
/// counters are atomics, each histogram has its own short lock.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    checkins: Family<CheckinResult, Counter>,
    clock_jumps: Counter,
    requests: Family<RouteStatus, Counter>,
    errors: Family<Route, Counter>,
    latency: Family<Route, Histogram, fn() -> Histogram>,
    /// Webhook deliveries by outcome (src/webhooks).
    pub webhooks: WebhookCounters,
    /// Wake-up pushes by result (src/push).
    pub push: PushCounters,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let checkins = Family::<CheckinResult, Counter>::default();
        let clock_jumps = Counter::default();
        let requests = Family::<RouteStatus, Counter>::default();
        let errors = Family::<Route, Counter>::default();
        let latency: Family<Route, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(BUCKETS));
        // The registry holds clones (shared handles) of the same metrics; it adds the
        // `finlock_` prefix, the counters' `_total` suffix and a final `.` to the help.
        let mut registry = Registry::with_prefix("finlock");
        registry.register(
            "checkins",
            "Device check-ins by result (ok, or the problem type)",
            checkins.clone(),
        );
        registry.register(
            "clock_jumps",
            "Clock jumps reported by devices",
            clock_jumps.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_errors",
            "HTTP answers with status >= 400",
            errors.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        let webhooks = WebhookCounters::registered(&mut registry);
        let push = PushCounters::registered(&mut registry);
        Metrics {
            registry,
            checkins,
            clock_jumps,
            requests,
            errors,
            latency,
            webhooks,
            push,
        }
    }
}

impl Metrics {
    /// One HTTP answer: `route` is the matched route template (or a fixed fallback
    /// such as `unmatched`), never the raw path.
    pub fn observe(&self, route: &'static str, status: StatusCode, elapsed: Duration) {
        let status = status.as_u16();
        self.requests
            .get_or_create(&RouteStatus { route, status })
            .inc();
        if status >= 400 {
            self.errors.get_or_create(&Route { route }).inc();
        }
        self.latency
            .get_or_create(&Route { route })
            .observe(elapsed.as_secs_f64());
    }

    /// One check-in: `Ok` or the problem slug it failed with.
    pub fn checkin(&self, result: Result<(), &'static str>) {
        let result = result.err().unwrap_or("ok");
        self.checkins.get_or_create(&CheckinResult { result }).inc();
    }

    /// One clock jump a device reported.
    pub fn clock_jump(&self) {
        self.clock_jumps.inc();
    }

    /// The Prometheus text exposition (format 0.0.4). Families with no series yet
    /// are left out; `finlock_clock_jumps_total` is always there.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail, so neither can the encoder.
        if prometheus_text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// The `Content-Type` of [`Metrics::render`]'s output:
    /// `text/plain; version=0.0.4; charset=utf-8`.
    pub const fn content_type() -> &'static str {
        prometheus_text::CONTENT_TYPE
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookOutcome {
    outcome: &'static str,
}

/// Webhook delivery attempts by outcome: `finlock_webhook_deliveries_total{outcome=…}`
/// (delivered; failed, to be retried; dead).
#[derive(Debug, Clone, Default)]
pub struct WebhookCounters {
    attempts: Family<WebhookOutcome, Counter>,
}

impl WebhookCounters {
    fn registered(registry: &mut Registry) -> WebhookCounters {
        let counters = WebhookCounters::default();
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
        self.attempts
            .get_or_create(&WebhookOutcome { outcome })
            .inc();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushResult {
    result: &'static str,
}

/// Wake-up pushes by what became of them: `finlock_push_total{result=…}` (sent; gone, the
/// endpoint forgotten after 404/410; gave_up after the retries; dropped, the queue was
/// full). A rising `gave_up` is a push service in trouble; phones still check in hourly.
#[derive(Debug, Clone, Default)]
pub struct PushCounters {
    pushes: Family<PushResult, Counter>,
}

impl PushCounters {
    fn registered(registry: &mut Registry) -> PushCounters {
        let counters = PushCounters::default();
        registry.register(
            "push",
            "Wake-up pushes by result (sent, gone, gave_up, dropped)",
            counters.pushes.clone(),
        );
        counters
    }

    pub fn count(&self, result: &'static str) {
        self.pushes.get_or_create(&PushResult { result }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKIN: &str = "/v1/checkin";
    const DEVICES: &str = "/v1/lender/devices";

    /// The value of the sample `series` (name with its labels, exactly as rendered).
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|line| {
            let value = line.strip_prefix(series)?.strip_prefix(' ')?;
            value.parse().ok()
        })
    }

    fn series_of(text: &str, name: &str) -> usize {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .count()
    }

    #[test]
    fn counts_requests_by_route_and_status() {
        let m = Metrics::default();
        let ms = Duration::from_millis(1);
        m.observe(CHECKIN, StatusCode::OK, ms);
        m.observe(CHECKIN, StatusCode::OK, ms);
        m.observe(CHECKIN, StatusCode::UNPROCESSABLE_ENTITY, ms);
        m.observe(DEVICES, StatusCode::CREATED, ms);
        let text = m.render();
        let requests = |route: &str, status: u16| {
            sample(
                &text,
                &format!("finlock_http_requests_total{{route=\"{route}\",status=\"{status}\"}}"),
            )
        };
        assert_eq!(requests(CHECKIN, 200), Some(2.0), "{text}");
        assert_eq!(requests(CHECKIN, 422), Some(1.0), "{text}");
        assert_eq!(requests(DEVICES, 201), Some(1.0), "{text}");
        assert_eq!(requests(DEVICES, 200), None, "{text}");
        assert_eq!(series_of(&text, "finlock_http_requests_total"), 3);
    }

    #[test]
    fn counts_errors_from_status_400_up() {
        let m = Metrics::default();
        let ms = Duration::from_millis(1);
        m.observe(CHECKIN, StatusCode::OK, ms);
        m.observe(CHECKIN, StatusCode::BAD_REQUEST, ms);
        m.observe(CHECKIN, StatusCode::INTERNAL_SERVER_ERROR, ms);
        m.observe(DEVICES, StatusCode::NOT_MODIFIED, ms);
        let text = m.render();
        assert_eq!(
            sample(&text, "finlock_http_errors_total{route=\"/v1/checkin\"}"),
            Some(2.0),
            "{text}"
        );
        // No error on that route: no series at all, as before.
        assert!(!text.contains("finlock_http_errors_total{route=\"/v1/lender/devices\"}"));
    }

    #[test]
    fn histogram_buckets_count_and_sum() {
        let m = Metrics::default();
        // Bucket bounds are inclusive (`le`): 0.0005 s lands in le="0.0005".
        for secs in [0.0003, 0.0005, 0.003, 0.3, 5.0] {
            m.observe(CHECKIN, StatusCode::OK, Duration::from_secs_f64(secs));
        }
        let text = m.render();
        let bucket = |le: &str| {
            sample(
                &text,
                &format!(
                    "finlock_http_request_duration_seconds_bucket{{route=\"/v1/checkin\",le=\"{le}\"}}"
                ),
            )
        };
        let expected = [
            ("0.0005", 2.0),
            ("0.001", 2.0),
            ("0.0025", 2.0),
            ("0.005", 3.0),
            ("0.01", 3.0),
            ("0.025", 3.0),
            ("0.05", 3.0),
            ("0.1", 3.0),
            ("0.25", 3.0),
            ("0.5", 4.0),
            ("1", 4.0),
            ("2.5", 4.0),
            ("+Inf", 5.0),
        ];
        for (le, n) in expected {
            assert_eq!(bucket(le), Some(n), "le={le}\n{text}");
        }
        assert_eq!(
            series_of(&text, "finlock_http_request_duration_seconds_bucket"),
            BUCKETS.len() + 1
        );
        assert_eq!(
            sample(
                &text,
                "finlock_http_request_duration_seconds_count{route=\"/v1/checkin\"}"
            ),
            Some(5.0)
        );
        let sum = sample(
            &text,
            "finlock_http_request_duration_seconds_sum{route=\"/v1/checkin\"}",
        )
        .unwrap();
        assert!((sum - 5.3038).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn counts_checkins_by_result() {
        let m = Metrics::default();
        m.checkin(Ok(()));
        m.checkin(Ok(()));
        m.checkin(Err("malformed"));
        m.checkin(Err("bad-signature"));
        m.checkin(Err("malformed"));
        let text = m.render();
        let checkins = |result: &str| {
            sample(
                &text,
                &format!("finlock_checkins_total{{result=\"{result}\"}}"),
            )
        };
        assert_eq!(checkins("ok"), Some(2.0), "{text}");
        assert_eq!(checkins("malformed"), Some(2.0), "{text}");
        assert_eq!(checkins("bad-signature"), Some(1.0), "{text}");
        assert_eq!(series_of(&text, "finlock_checkins_total"), 3);
    }

    #[test]
    fn counts_clock_jumps_and_renders_zero() {
        let m = Metrics::default();
        assert_eq!(sample(&m.render(), "finlock_clock_jumps_total"), Some(0.0));
        m.clock_jump();
        m.clock_jump();
        m.clock_jump();
        assert_eq!(sample(&m.render(), "finlock_clock_jumps_total"), Some(3.0));
    }

    #[test]
    fn renders_the_exact_names_labels_help_and_types() {
        let m = Metrics::default();
        m.checkin(Ok(()));
        m.checkin(Err("malformed"));
        m.clock_jump();
        m.observe(CHECKIN, StatusCode::OK, Duration::from_micros(200));
        m.observe(CHECKIN, StatusCode::BAD_REQUEST, Duration::from_micros(200));
        let text = m.render();
        for line in [
            "# HELP finlock_checkins_total Device check-ins by result (ok, or the problem type).",
            "# TYPE finlock_checkins_total counter",
            "# HELP finlock_clock_jumps_total Clock jumps reported by devices.",
            "# TYPE finlock_clock_jumps_total counter",
            "# HELP finlock_http_requests_total HTTP requests by route and status.",
            "# TYPE finlock_http_requests_total counter",
            "# HELP finlock_http_errors_total HTTP answers with status >= 400.",
            "# TYPE finlock_http_errors_total counter",
            "# HELP finlock_http_request_duration_seconds Request latency by route.",
            "# TYPE finlock_http_request_duration_seconds histogram",
            // What server/tests/suite/ops.rs reads, in the same spelling.
            "finlock_checkins_total{result=\"ok\"} 1",
            "finlock_checkins_total{result=\"malformed\"} 1",
            "finlock_clock_jumps_total 1",
            "finlock_http_requests_total{route=\"/v1/checkin\",status=\"200\"} 1",
            "finlock_http_requests_total{route=\"/v1/checkin\",status=\"400\"} 1",
            "finlock_http_errors_total{route=\"/v1/checkin\"} 1",
            "finlock_http_request_duration_seconds_bucket{route=\"/v1/checkin\",le=\"0.0005\"} 2",
            "finlock_http_request_duration_seconds_bucket{route=\"/v1/checkin\",le=\"+Inf\"} 2",
            "finlock_http_request_duration_seconds_count{route=\"/v1/checkin\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Prometheus text 0.0.4, not OpenMetrics: no `# EOF`, no doubled `_total`.
        assert!(!text.contains("# EOF"));
        assert!(!text.contains("_total_total"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn label_cardinality_is_bounded_by_routes_and_statuses() {
        let m = Metrics::default();
        let routes = [CHECKIN, DEVICES, "unmatched"];
        let statuses = [StatusCode::OK, StatusCode::NOT_FOUND];
        for i in 0..10_000u64 {
            let route = routes[(i % 3) as usize];
            let status = statuses[(i / 3 % 2) as usize];
            m.observe(route, status, Duration::from_micros(i));
            m.checkin(if i % 2 == 0 { Ok(()) } else { Err("stale") });
        }
        let text = m.render();
        assert_eq!(series_of(&text, "finlock_http_requests_total"), 6);
        assert_eq!(series_of(&text, "finlock_http_errors_total"), 3);
        assert_eq!(
            series_of(&text, "finlock_http_request_duration_seconds_count"),
            3
        );
        assert_eq!(series_of(&text, "finlock_checkins_total"), 2);
        // Every observation is in exactly one series.
        let total: f64 = text
            .lines()
            .filter(|l| l.starts_with("finlock_http_requests_total{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(total, 10_000.0);
    }

    #[test]
    fn concurrent_updates_are_all_counted() {
        let m = std::sync::Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        m.observe(CHECKIN, StatusCode::OK, Duration::from_micros(200));
                        m.checkin(Ok(()));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert_eq!(
            sample(
                &text,
                "finlock_http_requests_total{route=\"/v1/checkin\",status=\"200\"}"
            ),
            Some(20_000.0)
        );
        assert_eq!(
            sample(
                &text,
                "finlock_http_request_duration_seconds_count{route=\"/v1/checkin\"}"
            ),
            Some(20_000.0)
        );
        assert_eq!(
            sample(&text, "finlock_checkins_total{result=\"ok\"}"),
            Some(20_000.0)
        );
    }

    #[test]
    fn content_type_is_prometheus_text() {
        assert_eq!(
            Metrics::content_type(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        fn shared<T: Send + Sync + 'static>() {}
        shared::<Metrics>();
    }
}
