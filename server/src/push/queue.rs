//! [`nudge`] and the sender task.
//!
//! A nudge is a device id on a bounded queue: `try_send`, never waiting, dropped when the
//! queue is full. The task pushes each device at most once per coalescing window: a
//! nudge inside the window is pushed when the window ends (one deferred push however many
//! nudges came), so the phone always learns of the last change and is never woken more
//! than once per window. At most [`MAX_IN_FLIGHT`] pushes are in flight; each reads the
//! device's endpoint when it is sent, so a phone that changed or cleared it meanwhile is
//! pushed at the new one or not at all.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use super::Settings;
use super::send::{Outcome, Sender};
use super::store;
use super::vapid::Vapid;
use crate::app::App;
use crate::db::Db;
use crate::metrics::PushCounters as Counters;

/// Pushes in flight at once.
pub const MAX_IN_FLIGHT: usize = 64;

/// Devices remembered for coalescing before the expired ones are swept.
const SWEEP_AT: usize = 10_000;

/// A started push side.
#[derive(Debug)]
pub struct Running {
    pub vapid: Arc<Vapid>,
    tx: mpsc::Sender<String>,
}

/// Asks for a wake-up push to `device_id` because its entitlement changed. Never fails,
/// never waits: without a started sender (commands other than `finlock serve`) or with a
/// full queue the nudge is dropped, and the phone learns at its next check-in.
pub fn nudge(app: &App, device_id: &str) {
    let Some(running) = app.push.running.get() else {
        return;
    };
    if let Err(mpsc::error::TrySendError::Full(_)) = running.tx.try_send(device_id.to_string()) {
        app.metrics.push.count("dropped");
        tracing::warn!(%device_id, "push queue full; the phone learns at its next check-in");
    }
}

/// Starts the sender task.
pub fn spawn(
    db: Db,
    vapid: Arc<Vapid>,
    sender: Sender,
    counters: Counters,
    settings: &Settings,
) -> Running {
    let (tx, rx) = mpsc::channel(settings.queue.max(1));
    let worker = Worker {
        db,
        sender,
        policy: settings.policy,
        counters,
    };
    tokio::spawn(run(rx, Arc::new(worker), settings.coalesce));
    Running { vapid, tx }
}

struct Worker {
    db: Db,
    sender: Sender,
    policy: super::endpoint::Policy,
    counters: Counters,
}

async fn run(mut rx: mpsc::Receiver<String>, worker: Arc<Worker>, window: Duration) {
    let (due_tx, mut due_rx) = mpsc::unbounded_channel::<String>();
    // When each device may be pushed again; devices with a push waiting for that time.
    let mut next: HashMap<String, Instant> = HashMap::new();
    let mut deferred: HashSet<String> = HashSet::new();
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let (device_id, is_due) = tokio::select! {
            biased;
            Some(id) = due_rx.recv() => (id, true),
            got = rx.recv() => match got {
                Some(id) => (id, false),
                // The App is gone: nobody can nudge any more.
                None => break,
            },
        };
        let now = Instant::now();
        if is_due {
            deferred.remove(&device_id);
        } else if let Some(&at) = next.get(&device_id)
            && at > now
        {
            // Inside the window: one push when it ends, however many nudges come.
            if deferred.insert(device_id.clone()) {
                let due_tx = due_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    let _ = due_tx.send(device_id);
                });
            }
            continue;
        }
        next.insert(device_id.clone(), now + window);
        if next.len() > SWEEP_AT {
            next.retain(|id, at| *at > now || deferred.contains(id));
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let worker = worker.clone();
        tokio::spawn(async move {
            worker.push(&device_id).await;
            drop(permit);
        });
    }
}

impl Worker {
    async fn push(&self, device_id: &str) {
        let endpoint = match store::endpoint(&self.db, device_id).await {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%device_id, error = %e, "reading the push endpoint failed");
                return;
            }
        };
        if let Err(why) = self.policy.check(&endpoint) {
            // Stored under other flags than this node's: not pushed from here.
            tracing::info!(%device_id, reason = %why, "push endpoint not used");
            return;
        }
        let outcome = self.sender.push(&endpoint).await;
        self.counters.count(match outcome {
            Outcome::Sent => "sent",
            Outcome::Gone => "gone",
            Outcome::GaveUp(_) => "gave_up",
        });
        match outcome {
            Outcome::Sent => tracing::debug!(%device_id, "wake-up push sent"),
            Outcome::Gone => match store::forget_gone(&self.db, device_id, &endpoint).await {
                Ok(_) => tracing::info!(
                    %device_id,
                    "push endpoint gone (404/410): forgotten; the phone checks in on its schedule"
                ),
                Err(e) => {
                    tracing::warn!(%device_id, error = %e, "forgetting a gone push endpoint failed")
                }
            },
            Outcome::GaveUp(why) => tracing::info!(%device_id, why, "wake-up push not delivered"),
        }
    }
}
