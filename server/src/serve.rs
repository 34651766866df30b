//! The server's accept loop: the router served over HTTP/1.1 with the time limits a
//! server on the internet needs, and a shutdown that finishes in-flight requests but
//! never waits forever.
//!
//! `axum::serve` has no header-read or idle timeout: five clients that send half a
//! request kept five connections (and their tasks) open indefinitely, and SIGTERM waited
//! for them. Here:
//! - a client must finish sending a request's headers within [`Limits::header_read`]
//!   (hyper's header-read timeout; it also closes an idle keep-alive connection that does
//!   not start its next request in time);
//! - a request must be answered within [`Limits::request`], body read included, else the
//!   client gets a 503 problem (see `http::deadline`);
//! - on shutdown, listening stops at once, in-flight requests get [`Limits::shutdown_grace`]
//!   to finish, and whatever is left is dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Time limits of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_read: Duration,
    pub request: Duration,
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains (see the module).
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // A failed accept (e.g. too many open files) must not end the server.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is its own business, not an error.
            let _ = connection.await;
        });
    }
    drop(listener);
    tracing::info!(
        grace_s = limits.shutdown_grace.as_secs(),
        "shutting down: no new connections; finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown deadline reached; dropping the connections left");
        }
    }
    Ok(())
}

/// The address of a served socket, for "listening on" lines.
pub fn local_addr(listener: &TcpListener) -> std::io::Result<SocketAddr> {
    listener.local_addr()
}
