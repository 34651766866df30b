//! What every request shares: the database, the clock, the configuration and the
//! per-node caches. The HTTP layer, the CLI and (later) the console hand an [`App`] to
//! the domain operations; nothing in it is specific to HTTP.
//!
//! Only caches live here, so any number of nodes can serve the same database: lender
//! keys (immutable) and the check-in cache (never decides anything alone, see
//! [`crate::checkin::DeviceCache`]).

use std::ops::Deref;
use std::sync::Arc;

use crate::checkin::DeviceCache;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::lenders::{LenderCache, LenderCtx};
use crate::metrics::Metrics;

/// A cheap handle (an `Arc`) on the server's shared state.
#[derive(Clone)]
pub struct App(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Config,
    /// The URL devices use to reach this server (provisioning payloads).
    pub public_url: String,
    pub lenders: LenderCache,
    /// Per-node memory of devices between check-ins.
    pub devices: DeviceCache,
    pub metrics: Metrics,
    /// Attested enrollment's verifier, loaded once from `config.attestation`.
    pub attestation: crate::attestation::Verifier,
    /// The wake-up push: off until `crate::push::start` (`finlock serve`, `spawn`).
    pub push: crate::push::Push,
}

impl App {
    pub fn new(db: Db, clock: SharedClock, config: Config, public_url: String) -> App {
        // `finlock serve` refused to start with settings that do not load
        // (`Config::validate`); an in-process server with bad ones trusts no attestation.
        let attestation = config.attestation.load().unwrap_or_else(|e| {
            tracing::error!("attested enrollment is off: {e}");
            crate::attestation::Verifier::unusable()
        });
        App(Arc::new(Inner {
            attestation,
            push: crate::push::Push::new(config.push.clone()),
            db,
            clock,
            config,
            public_url,
            lenders: LenderCache::default(),
            devices: DeviceCache::default(),
            metrics: Metrics::default(),
        }))
    }

    /// The server's time (Unix seconds); the only source of time for every operation.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A lender's signing key and details (cached per process; the key set is read again
    /// every few seconds, so a rotation on another node is used here too).
    pub async fn lender(&self, lender_id: &str) -> crate::Result<Arc<LenderCtx>> {
        self.lender_for_device(lender_id, 0).await
    }

    /// [`App::lender`] with a key set at least the one a device reports (a device that
    /// learnt a newer set from another node makes this node read it at once).
    pub async fn lender_for_device(
        &self,
        lender_id: &str,
        device_keys_seq: u64,
    ) -> crate::Result<Arc<LenderCtx>> {
        self.lenders
            .get(
                &self.db,
                &self.config.keys_dir,
                lender_id,
                self.now(),
                device_keys_seq,
            )
            .await
    }
}

impl Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
