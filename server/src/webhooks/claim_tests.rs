//! The ordering rule against the real SQL (SQLite in memory): whatever fails and however
//! often, a device's events reach an endpoint in their order, an event is sent only while
//! no earlier event of its device is pending there, and every event ends delivered or dead.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::claim::{self, Outcome};
use crate::db::Db;

/// A lender `lnd-1` with `endpoints` endpoints (`whe-0`, …) and, per device, that many
/// events with one pending delivery per endpoint.
pub(super) async fn db_with(devices: &[usize], endpoints: usize) -> Db {
    let db = Db::connect("sqlite::memory:", 1).await.unwrap();
    sqlx::query(
        "INSERT INTO lenders (lender_id, name, phone, payment_url, api_key_sha256, jwks, created_at) \
         VALUES ('lnd-1', 'L', '+1', 'https://p', 'h', '{}', 0)",
    )
    .execute(&db.write)
    .await
    .unwrap();
    for e in 0..endpoints {
        sqlx::query(
            "INSERT INTO webhook_endpoints (endpoint_id, lender_id, url, events, secret, created_at) \
             VALUES ($1, 'lnd-1', 'https://h', '*', 'whsec_AA==', 0)",
        )
        .bind(format!("whe-{e}"))
        .execute(&db.write)
        .await
        .unwrap();
    }
    // Events created interleaved across devices, as commits of several devices would be.
    let most = devices.iter().copied().max().unwrap_or(0);
    for n in 1..=most {
        for (d, count) in devices.iter().enumerate() {
            if n > *count {
                continue;
            }
            let event = format!("evt-{d}-{n}");
            sqlx::query(
                "INSERT INTO webhook_events (event_id, lender_id, device_id, device_order, kind, \
                 payload, created_at) VALUES ($1, 'lnd-1', $2, $3, 'payment.recorded', '{}', 0)",
            )
            .bind(&event)
            .bind(format!("dev-{d}"))
            .bind(n as i64)
            .execute(&db.write)
            .await
            .unwrap();
            for e in 0..endpoints {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (delivery_id, event_id, endpoint_id, \
                     lender_id, device_id, device_order, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, 'lnd-1', $4, $5, 0, 0)",
                )
                .bind(format!("dlv-{d}-{n}-{e}"))
                .bind(&event)
                .bind(format!("whe-{e}"))
                .bind(format!("dev-{d}"))
                .bind(n as i64)
                .execute(&db.write)
                .await
                .unwrap();
            }
        }
    }
    db
}

/// (device, order, endpoint) of a delivery id `dlv-d-n-e`.
fn parts(id: &str) -> (usize, i64, usize) {
    let p: Vec<&str> = id.split('-').collect();
    (
        p[1].parse().unwrap(),
        p[2].parse().unwrap(),
        p[3].parse().unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn each_devices_events_reach_each_endpoint_in_order(
        devices in proptest::collection::vec(1usize..6, 1..4),
        endpoints in 1usize..3,
        answers in proptest::collection::vec(any::<bool>(), 0..200),
        max_attempts in 1i64..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = db_with(&devices, endpoints).await;
            let mut answers = answers.into_iter();
            // (device, endpoint) → orders finished (delivered or dead), in the order finished.
            let mut finished: BTreeMap<(usize, usize), Vec<i64>> = BTreeMap::new();
            let mut attempts: BTreeMap<String, i64> = BTreeMap::new();
            for round in 0..10_000 {
                let due = claim::due(&db, 0, 50).await.unwrap();
                if due.is_empty() {
                    break;
                }
                prop_assert!(round < 9_999, "no progress");
                // Never two of one device for one endpoint at once, and only its earliest.
                let mut seen = std::collections::BTreeSet::new();
                for id in &due {
                    let (d, n, e) = parts(id);
                    prop_assert!(seen.insert((d, e)), "two of one device due: {due:?}");
                    let done = finished.get(&(d, e)).map_or(0, Vec::len) as i64;
                    prop_assert_eq!(n, done + 1, "only the earliest pending is due");
                }
                for id in due {
                    let Some(c) = claim::take(&db, &id, "node", 0, 15).await.unwrap() else {
                        continue;
                    };
                    // A second worker cannot take it while leased.
                    prop_assert!(claim::take(&db, &id, "other", 0, 15).await.unwrap().is_none());
                    let tries = attempts.entry(id.clone()).or_default();
                    *tries += 1;
                    let ok = answers.next().unwrap_or(true);
                    let outcome = if ok {
                        Outcome::Delivered { status: 200 }
                    } else if *tries >= max_attempts {
                        Outcome::Dead { status: Some(500), error: "x".into() }
                    } else {
                        Outcome::Retry { status: Some(500), error: "x".into(), next_at: 0 }
                    };
                    prop_assert!(claim::finish(&db, &c, 0, &outcome).await.unwrap());
                    if !matches!(outcome, Outcome::Retry { .. }) {
                        let (d, n, e) = parts(&id);
                        finished.entry((d, e)).or_default().push(n);
                    }
                }
            }
            for (d, count) in devices.iter().enumerate() {
                for e in 0..endpoints {
                    let want: Vec<i64> = (1..=*count as i64).collect();
                    prop_assert_eq!(finished.get(&(d, e)).cloned().unwrap_or_default(), want);
                }
            }
            Ok(())
        })?;
    }
}
