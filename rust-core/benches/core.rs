//! Benchmarks of the hot paths a device runs: entitlement acceptance (signature +
//! decoding + field rules), the lock decision, an evaluation, and persisting state.
//!
//! `cargo bench -p finlock-core` (about a minute on two cores). Targets:
//! `verify_accept_entitlement` < 150 µs, `decision` < 2 µs.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use finlock_core::b64;
use finlock_core::clock::ClockInput;
use finlock_core::decision::{self, DecisionInput};
use finlock_core::device::DeviceState;
use finlock_core::entitlement::{self, AcceptRules};
use finlock_core::fixtures::{self, DAY, DEVICE_ID, LENDER_ID, T0};
use finlock_core::jws;
use finlock_core::protocol::{EntitlementState, UrlPolicy};
use finlock_core::store::Store;

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn enrolled() -> DeviceState {
    fixtures::enrolled(fixtures::entitlement(1, T0))
}

fn bench_entitlement(c: &mut Criterion) {
    let pinned = fixtures::pinned_keys();
    let nonce = b64::encode([9u8; 16]);
    // The fixture: 12 installments, 2 message locales, one instructions locale.
    let mut e = fixtures::entitlement(5, T0 + DAY);
    e.nonce = Some(nonce.clone());
    let compact = fixtures::sign(&e);
    // An enrolled device answering a check-in: stored seq lower, nonce outstanding.
    let rules = AcceptRules {
        pinned: &pinned,
        lender_id: Some(LENDER_ID),
        device_id: DEVICE_ID,
        stored_seq: Some(4),
        stored_state: Some(EntitlementState::Active),
        expected_nonce: Some(&nonce),
        urls: UrlPolicy::STRICT,
    };
    assert_eq!(entitlement::accept(&compact, &rules).expect("accepted"), e);

    c.bench_function("verify_accept_entitlement", |b| {
        b.iter(|| entitlement::accept(black_box(&compact), black_box(&rules)))
    });
    c.bench_function("jws_verify", |b| {
        b.iter(|| {
            jws::verify(
                black_box(&compact),
                jws::typ::ENTITLEMENT,
                black_box(&pinned),
            )
        })
    });
}

fn bench_decision(c: &mut Criterion) {
    // Active, checked in five days ago, lock_at and the offline deadline ahead.
    let input = DecisionInput {
        state: Some(EntitlementState::Active),
        lock_at: T0 + 97 * DAY,
        lock_reason: None,
        offline_lock_after_s: Some(30 * DAY as u64),
        last_successful_checkin: T0 + 60 * DAY,
        offline_extension_until: 0,
        release_at: None,
        // A full ladder with a notice displayed: every candidate moment is in play.
        ladder: decision::Ladder {
            notice_at: T0 + 80 * DAY,
            restrict_at: Some(T0 + 90 * DAY),
            notice_min_s: 3 * DAY as u64,
        },
        notice: Some(decision::NoticeSeen {
            first_shown_at: T0 + 64 * DAY,
            elapsed_s: DAY as u64,
        }),
    };
    let now = T0 + 65 * DAY;
    c.bench_function("decision", |b| {
        b.iter(|| decision::decide(black_box(&input), black_box(now), black_box(Some(now - 30))))
    });
}

fn bench_device(c: &mut Criterion) {
    let mut state = enrolled();
    let clock = at(T0 + 3 * DAY);
    c.bench_function("device_evaluate", |b| {
        b.iter(|| state.evaluate(black_box(&clock)))
    });
}

fn bench_store(c: &mut Criterion) {
    let state = enrolled();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("state")).expect("open store");
    store.save(&state).expect("first save");

    // Each save writes a temp file, fsyncs it, rotates the current copy to the
    // previous one, renames, and fsyncs the directory: the figure is dominated by
    // the fsyncs and so by the disk under the temp directory, not by the CPU.
    c.bench_function("store_save", |b| {
        b.iter(|| store.save(black_box(&state)).expect("save"))
    });

    // Reads the current copy, checks its frame and SHA-256, decodes the JSON.
    c.bench_function("store_load", |b| {
        b.iter(|| {
            store
                .load::<DeviceState>()
                .expect("load")
                .expect("saved state")
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

fn store_config() -> Criterion {
    config().sample_size(30)
}

criterion_group! {
    name = compute;
    config = config();
    targets = bench_entitlement, bench_decision, bench_device
}
criterion_group! {
    name = storage;
    config = store_config();
    targets = bench_store
}
criterion_main!(compute, storage);
