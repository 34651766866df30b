//! What the metrics cost per request: `observe()` + `checkin()` (what one check-in
//! records), for the hand-rolled registry the server had (one mutex, BTreeMaps; copied
//! below as `old`) and for `finlock_server::metrics` on `prometheus-client`, on one
//! thread and with two threads updating the same series at once. A check-in costs
//! about 170–235 µs of server CPU; compare the figures with that.
//!
//! `cargo bench -p finlock-server --bench metrics`

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use criterion::{Criterion, black_box, criterion_group, criterion_main};

// The module itself, not through the library, so the bench does not depend on how the
// lead wires it in (and compares exactly the file under review).
#[allow(dead_code, unused_imports)]
#[path = "../src/metrics.rs"]
mod metrics;

/// The registry `http/ops.rs` had before `prometheus-client` (render left out).
mod old {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::time::Duration;

    use axum::http::StatusCode;

    const BUCKETS: [f64; 12] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ];

    #[derive(Debug, Default, Clone)]
    struct Histogram {
        counts: [u64; BUCKETS.len()],
        count: u64,
        sum: f64,
    }

    #[derive(Debug, Default)]
    struct Registry {
        requests: BTreeMap<(&'static str, u16), u64>,
        latency: BTreeMap<&'static str, Histogram>,
        checkins: BTreeMap<&'static str, u64>,
    }

    #[derive(Debug, Default)]
    pub struct Metrics {
        registry: Mutex<Registry>,
    }

    impl Metrics {
        pub fn observe(&self, route: &'static str, status: StatusCode, elapsed: Duration) {
            let Ok(mut r) = self.registry.lock() else {
                return;
            };
            *r.requests.entry((route, status.as_u16())).or_default() += 1;
            let h = r.latency.entry(route).or_default();
            let secs = elapsed.as_secs_f64();
            h.count += 1;
            h.sum += secs;
            for (i, le) in BUCKETS.iter().enumerate() {
                if secs <= *le {
                    h.counts[i] += 1;
                }
            }
        }

        pub fn checkin(&self, result: std::result::Result<(), &'static str>) {
            if let Ok(mut r) = self.registry.lock() {
                *r.checkins.entry(result.err().unwrap_or("ok")).or_default() += 1;
            }
        }
    }
}

/// Both registries, behind one interface for the bench.
trait Record: Default + Send + Sync + 'static {
    fn record(&self, i: u64);
}

/// The routes of a realistic mix; `i` picks one so maps are not a single entry.
const ROUTES: [&str; 4] = [
    "/v1/checkin",
    "/v1/enroll",
    "/v1/lender/devices",
    "/v1/lender/devices/{id}",
];

fn request(i: u64) -> (&'static str, StatusCode, Duration) {
    let route = if i.is_multiple_of(8) {
        ROUTES[(i / 8 % 4) as usize]
    } else {
        ROUTES[0]
    };
    let status = if i % 16 == 5 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (route, status, Duration::from_micros(150 + i % 100))
}

impl Record for old::Metrics {
    fn record(&self, i: u64) {
        let (route, status, elapsed) = request(i);
        self.observe(black_box(route), status, elapsed);
        self.checkin(if status == StatusCode::OK {
            Ok(())
        } else {
            Err("stale")
        });
    }
}

impl Record for metrics::Metrics {
    fn record(&self, i: u64) {
        let (route, status, elapsed) = request(i);
        self.observe(black_box(route), status, elapsed);
        self.checkin(if status == StatusCode::OK {
            Ok(())
        } else {
            Err("stale")
        });
    }
}

fn one_thread<M: Record>(c: &mut Criterion, name: &str) {
    let m = M::default();
    let mut i = 0u64;
    c.bench_function(&format!("{name}/1 thread: observe+checkin"), |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            m.record(i);
        })
    });
}

/// Wall time per call while `threads` threads each make `iters` calls at once on the
/// same registry: the time one request spends in metrics under contention.
fn contended<M: Record>(c: &mut Criterion, name: &str, threads: usize) {
    let m = Arc::new(M::default());
    c.bench_function(&format!("{name}/{threads} threads: observe+checkin"), |b| {
        b.iter_custom(|iters| {
            let barrier = Arc::new(Barrier::new(threads + 1));
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (m, barrier) = (m.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        for i in 0..iters {
                            m.record(i.wrapping_mul(threads as u64) + t as u64);
                        }
                    })
                })
                .collect();
            barrier.wait();
            let start = Instant::now();
            for w in workers {
                w.join().unwrap();
            }
            start.elapsed()
        })
    });
}

fn render(c: &mut Criterion) {
    let m = metrics::Metrics::default();
    for i in 0..1_000 {
        m.record(i);
    }
    c.bench_function("new/render", |b| b.iter(|| black_box(m.render())));
}

fn benches(c: &mut Criterion) {
    one_thread::<old::Metrics>(c, "old");
    one_thread::<metrics::Metrics>(c, "new");
    contended::<old::Metrics>(c, "old", 2);
    contended::<metrics::Metrics>(c, "new", 2);
    render(c);
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
