//! `finlock device serve-push`: the simulated phone with a loopback "push distributor".
//!
//! On the phone a UnifiedPush distributor (ntfy, or one the OEM ships) gives the app a Web
//! Push endpoint and wakes it when something is POSTed there. Here the simulator is its
//! own distributor: it listens on a loopback address, registers
//! `http://127.0.0.1:PORT/push/<random>` with the device's core (which sends it to the
//! server with the next check-in, made at once), and on each POST to that path does what
//! the app does — asks the core whether to check in (`push_arrived`: at most once per
//! check-now window) and, when yes, checks in. The push's content, if any, is ignored.
//!
//! The server pushes to plain-http loopback only with `finlock serve
//! --push-allow-http-loopback`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use finlock_core::b64;
use finlock_core::device::Device;
use tokio::sync::mpsc;

use super::{SimError, check_in, describe, input};

/// What `serve-push` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub listen: SocketAddr,
    /// Stop after this many pushes (`None`: until Ctrl-C or `wait`).
    pub pushes: Option<u32>,
    /// Stop after this long.
    pub wait: Option<Duration>,
    /// The simulator's clock shift (`--clock-shift`), applied to every reading.
    pub shift_ms: i64,
}

/// Pushes waiting to be handled beyond the one being handled: more are the same wake-up.
const QUEUE: usize = 4;

pub async fn serve(device: &mut Device, opts: Options) -> Result<(), SimError> {
    if !opts.listen.ip().is_loopback() {
        return Err(input(
            "--listen",
            "must be a loopback address (127.0.0.1:PORT): the simulator's distributor is local",
        ));
    }
    device.state().enrolled()?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| input("--listen", e))?;
    let addr = listener.local_addr().map_err(|e| input("--listen", e))?;
    // A distributor's endpoint outlives its restarts: the same address keeps its path, so
    // restarting the listener registers nothing new (and spends no check-now window).
    let prefix = format!("http://{addr}");
    let path = match device.state().push.endpoint.strip_prefix(&prefix) {
        Some(path) if path.len() > "/push/".len() && path.starts_with("/push/") => path.to_string(),
        _ => {
            let token = crate::ids::secret_bytes::<16>().map_err(|e| input("random token", e))?;
            format!("/push/{}", b64::encode(token))
        }
    };
    let endpoint = format!("{prefix}{path}");
    let (tx, mut rx) = mpsc::channel::<()>(QUEUE);
    let app = axum::Router::new().route(
        &path,
        axum::routing::post(move || {
            let tx = tx.clone();
            async move {
                // A full queue already holds a wake-up: this one is the same.
                let _ = tx.try_send(());
                StatusCode::CREATED
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let clock = super::now_shifted(opts.shift_ms)?;
    let should = device.set_push_endpoint(&endpoint, &clock)?;
    if should || !device.state().push.server_has_it() {
        let eval = check_in(device, &clock, false).await?;
        if !device.state().push.server_has_it() {
            return Err(input(
                "push endpoint",
                "the check-in was accepted but the server did not take the endpoint",
            ));
        }
        println!("checked in: {}", describe(&eval.decision));
    }
    println!("push endpoint registered; waiting for pushes on {addr}");

    let deadline = opts.wait.map(|w| tokio::time::Instant::now() + w);
    let mut handled = 0u32;
    while opts.pushes.is_none_or(|n| handled < n) {
        let got = tokio::select! {
            got = rx.recv() => got,
            () = sleep_until(deadline) => None,
            _ = tokio::signal::ctrl_c() => None,
        };
        if got.is_none() {
            break;
        }
        handled += 1;
        let clock = super::now_shifted(opts.shift_ms)?;
        let now = device.evaluate(&clock)?.reading.now();
        let due = device.state().checkin.next_at <= now;
        if device.push_arrived(&clock)? || due {
            match check_in(device, &clock, false).await {
                Ok(eval) => println!(
                    "push received: checked in: seq {}, {}",
                    device.state().enrolled()?.entitlement.seq,
                    describe(&eval.decision)
                ),
                // The phone keeps running after a failed check-in: so does the simulator.
                Err(e) => println!("push received: the check-in failed: {e}"),
            }
        } else {
            println!("push received: no check-in now (at most one per check-now window)");
        }
    }
    server.abort();
    Ok(())
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
