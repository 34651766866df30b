//! # finlock-server
//!
//! The reference lender back end and the `finlock` command. Lenders register financed
//! phones with their installment plans, record payments, lock, unlock or release a
//! phone, and answer offline unlock codes; devices enroll and check in, and every
//! answer is a fresh entitlement signed with the lender's key (PROTOCOL.md §3).
//!
//! Layout: [`policy`] decides what an entitlement says (pure); [`http`] is the
//! surface; [`db`] holds every SQL statement, the same for SQLite and PostgreSQL;
//! [`clock`] is the only source of time. The server speaks plain HTTP: TLS is
//! terminated by the lender's reverse proxy in front of it.
//!
//! [`spawn`] starts a server in-process on an ephemeral loopback port (tests,
//! `finlock demo`); [`lenders::create`] / [`ServerHandle::create_lender`] create a
//! lender programmatically.

pub mod api_keys;
pub mod app;
pub mod attestation;
pub mod audit;
pub mod checkin;
pub mod cli;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod console;
pub mod db;
pub mod devices;
pub mod enrollment;
pub mod error;
pub mod http;
pub mod ids;
pub mod issue;
pub mod key_backup;
pub mod lender_keys;
pub mod lenders;
pub mod metrics;
pub mod payments_in;
pub mod policy;
pub mod provisioning;
pub mod push;
pub mod rate_limit;
pub mod serve;
pub mod staff;
pub mod standard_webhooks;
pub mod webhooks;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::Config;
pub use error::{Error, Result};
pub use lenders::{CreatedLender, NewLender};

use crate::app::App as AppState;
use crate::db::Db;

/// A server running in this process.
pub struct ServerHandle {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Creates a lender in this server's database and keys directory.
    pub async fn create_lender(&self, new: &NewLender) -> Result<CreatedLender> {
        lenders::create(
            &self.state.db,
            &self.state.config.keys_dir,
            new,
            self.state.now(),
        )
        .await
    }

    /// The database this server uses (tests that inspect rows).
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Stops accepting, finishes in-flight requests, closes the database.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = (&mut self.task)
            .await
            .map_err(|e| Error::Internal(format!("server task: {e}")))?;
        self.state.db.close().await;
        served.map_err(|e| Error::Internal(format!("server: {e}")))
    }
}

async fn start(config: Config, clock: SharedClock) -> Result<(TcpListener, AppState)> {
    let db = Db::connect(&config.db_url, config.db_connections).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Internal(format!("binding {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("local address: {e}")))?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    Ok((listener, AppState::new(db, clock, config, public_url)))
}

/// Starts a server on `config.listen` (port 0 = ephemeral) in the current runtime.
pub async fn spawn(config: Config, clock: SharedClock) -> Result<(SocketAddr, ServerHandle)> {
    let (listener, state) = start(config, clock).await?;
    push::start(&state)?;
    webhooks::worker::spawn(state.clone());
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("local address: {e}")))?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state.clone());
    let limits = state.config.limits;
    let task = tokio::spawn(async move {
        serve::run(listener, app, limits, async {
            let _ = rx.await;
        })
        .await
    });
    Ok((
        addr,
        ServerHandle {
            addr,
            state,
            shutdown: Some(tx),
            task,
        },
    ))
}

/// A setting that would start "fine" and fail later: `finlock serve` exits 2 with it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// Runs a server until SIGINT or SIGTERM (`finlock serve`). Every setting is checked
/// first ([`Config::validate`], the lenders' keys readable): a [`SettingsError`] then.
pub async fn serve(
    config: Config,
    clock: SharedClock,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    config.validate().map_err(SettingsError)?;
    let (listener, state) = start(config, clock).await?;
    lenders::check_keys(&state.db, &state.config.keys_dir)
        .await
        .map_err(SettingsError)?;
    // After the lenders' keys are checked: it may create the keys directory.
    push::start(&state).map_err(|e| SettingsError(format!("the Web Push key: {e}")))?;
    // Webhooks out: stops by itself when the database is closed below.
    webhooks::worker::spawn(state.clone());
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("local address: {e}")))?;
    // The handlers are installed before anyone can learn the address: a SIGTERM sent
    // right after the "listening" line must stop the server gracefully, not kill it by
    // the signal's default action (the future below would only register on first poll).
    let shutdown = shutdown_signal()?;
    // Scripts and tests read this line to find an ephemeral port.
    println!("finlock listening on http://{addr}");
    tracing::info!(%addr, backend = ?state.db.backend, "listening");
    let db = state.db.clone();
    let limits = state.config.limits;
    serve::run(listener, http::router(state), limits, shutdown)
        .await
        .map_err(|e| Error::Internal(format!("server: {e}")))?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Registers SIGINT and SIGTERM now and returns the future that ends on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
