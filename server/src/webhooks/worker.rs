//! The delivery worker `finlock serve` runs (one per node): hands committed events to
//! the in-process hooks ([`super::fanout`]), runs the [`super::scan`] now and then, prunes
//! the outbox hourly ([`super::retention`]), and sends due deliveries, several at once,
//! each claimed with a lease ([`super::claim`]).
//!
//! It looks when an event is appended in this process (and again a few milliseconds
//! later, as the append precedes its commit), when an attempt ends (the device's next
//! event may be due), and every [`super::Settings::poll`] for what other nodes wrote.
//! It stops when the database is closed (the server's shutdown).

use std::pin::pin;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::claim::{self, Claimed, Outcome};
use super::endpoints::DELETED_ERROR;
use super::schedule;
use super::send::{self, Answer, Message};
use super::{fanout, generation, notified, retention, scan};
use crate::app::App;

/// Starts the worker on the current runtime.
pub fn spawn(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(app))
}

/// How often a node removes finished deliveries past their keeping ([`retention`]).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Re-looks after an in-process wake-up, in milliseconds.
const AFTER_WAKE_MS: [u64; 4] = [5, 20, 80, 250];

async fn run(app: App) {
    let settings = app.config.webhooks.clone();
    // Without a usable TLS set-up (e.g. no trust store on the machine) deliveries wait in
    // the outbox, but the loop still runs: the in-process hooks (the wake-up push) and
    // the silent-device scan do not depend on it.
    let client = match send::client(settings.rules, settings.timeout) {
        Ok(client) => Some(client),
        Err(e) => {
            tracing::error!(error = %e, "webhook deliveries are off");
            None
        }
    };
    let owner = crate::ids::row_id("node").unwrap_or_else(|_| "node".into());
    let concurrency = settings.concurrency.max(1);
    let mut inflight: JoinSet<()> = JoinSet::new();
    let mut last_scan: Option<Instant> = None;
    let mut last_prune: Option<Instant> = None;
    let mut quick: &[u64] = &[];
    while !app.db.write.is_closed() {
        let seen = generation();
        dispatch(&app).await;
        if last_scan.is_none_or(|t| t.elapsed() >= settings.scan_every) {
            if let Err(e) = scan::run(&app).await {
                tracing::warn!(error = %e, "webhook scan failed");
            }
            last_scan = Some(Instant::now());
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            match retention::prune(&app.db, app.now()).await {
                Ok(p) if p != retention::Pruned::default() => tracing::info!(
                    deliveries = p.deliveries,
                    events = p.events,
                    "webhook outbox pruned"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook outbox pruning failed"),
            }
            last_prune = Some(Instant::now());
        }
        let mut started = 0;
        let room = concurrency.saturating_sub(inflight.len());
        if let (true, Some(client)) = (room > 0, &client) {
            let now = app.now();
            let due = claim::due(&app.db, now, i64::try_from(room).unwrap_or(16)).await;
            for id in due.unwrap_or_else(|e| {
                if !app.db.write.is_closed() {
                    tracing::warn!(error = %e, "webhook claim failed");
                }
                Vec::new()
            }) {
                match claim::take(&app.db, &id, &owner, now, settings.lease_s()).await {
                    Ok(Some(claimed)) => {
                        inflight.spawn(deliver(app.clone(), client.clone(), claimed));
                        started += 1;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook claim failed"),
                }
            }
        }
        let mut wake = pin!(notified());
        wake.as_mut().enable();
        if started > 0 || generation() != seen {
            continue;
        }
        let pause = quick
            .first()
            .map_or(settings.poll, |ms| Duration::from_millis(*ms));
        tokio::select! {
            () = &mut wake => quick = &AFTER_WAKE_MS,
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            () = tokio::time::sleep(pause) => quick = quick.get(1..).unwrap_or(&[]),
        }
    }
    inflight.abort_all();
}

/// Hands newly committed events to the in-process hooks.
async fn dispatch(app: &App) {
    match claim::undispatched(&app.db, app.now()).await {
        Ok(events) => {
            for (_, lender_id, device_id, kind) in events {
                fanout::dispatch(app, &lender_id, &device_id, &kind).await;
            }
        }
        Err(e) if !app.db.write.is_closed() => {
            tracing::warn!(error = %e, "webhook dispatch failed");
        }
        Err(_) => {}
    }
}

/// One attempt and its outcome, written under the lease.
async fn deliver(app: App, client: reqwest::Client, claimed: Claimed) {
    let settings = &app.config.webhooks;
    let failed_before = u32::try_from(claimed.attempts).unwrap_or(u32::MAX);
    let outcome = if claimed.endpoint_deleted {
        Outcome::Dead {
            status: None,
            error: DELETED_ERROR.into(),
        }
    } else {
        let message = Message {
            url: &claimed.url,
            event_id: &claimed.event_id,
            secret: &claimed.secret,
            payload: &claimed.payload,
            timestamp: app.now(),
        };
        let answer = send::attempt(&client, settings.rules, &message).await;
        judge(
            answer,
            failed_before.saturating_add(1),
            &settings.schedule,
            app.now(),
            schedule::random_unit(),
        )
    };
    match &outcome {
        Outcome::Delivered { .. } => app.metrics.webhooks.delivered(),
        Outcome::Retry { .. } => app.metrics.webhooks.failed(),
        Outcome::Dead { .. } => app.metrics.webhooks.dead(),
    }
    tracing::info!(
        delivery_id = %claimed.delivery_id,
        kind = %claimed.kind,
        outcome = match &outcome {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead { .. } => "dead",
        },
        "webhook attempt"
    );
    match claim::finish(&app.db, &claimed, app.now(), &outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            delivery_id = %claimed.delivery_id,
            "webhook lease lost during the attempt; the other worker's outcome stands"
        ),
        Err(e) => tracing::warn!(error = %e, "webhook outcome not stored; it will be sent again"),
    }
}

/// What attempt number `attempt` (1-based) came to: delivered on 2xx; otherwise retried
/// by the schedule, or dead once it is spent.
pub fn judge(answer: Answer, attempt: u32, schedule: &[u64], now: i64, unit: f64) -> Outcome {
    let (status, error) = match answer {
        Answer::Status(code) if (200..300).contains(&code) => {
            return Outcome::Delivered { status: code };
        }
        Answer::Status(code) => (Some(code), format!("the receiver answered {code}")),
        Answer::Failed(why) => (None, why),
    };
    match schedule::next_delay(schedule, attempt, unit) {
        Some(delay) => Outcome::Retry {
            status,
            error,
            next_at: now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
        },
        None => Outcome::Dead { status, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_is_delivered_anything_else_retried_then_dead() {
        let s = [10, 20];
        assert_eq!(
            judge(Answer::Status(204), 1, &s, 100, 0.0),
            Outcome::Delivered { status: 204 }
        );
        assert!(matches!(
            judge(Answer::Status(500), 1, &s, 100, 0.0),
            Outcome::Retry {
                status: Some(500),
                next_at: 110,
                ..
            }
        ));
        assert!(matches!(
            judge(Answer::Status(301), 2, &s, 100, 0.0),
            Outcome::Retry {
                status: Some(301),
                next_at: 120,
                ..
            }
        ));
        assert!(matches!(
            judge(Answer::Failed("timeout".into()), 3, &s, 100, 0.0),
            Outcome::Dead { status: None, .. }
        ));
    }
}
