//! The process-wide tokio runtime and the panic guard of every exported call.
//!
//! One runtime per process, with [`WORKERS`] named `finlock-worker` threads, created on
//! first use (or by the Android `init`). The network never runs on the caller's thread:
//! an async export spawns its work here and the caller's coroutine awaits the join
//! handle, so Android's main thread is never blocked and no `block_on` exists.
//!
//! No panic crosses the boundary: synchronous bodies run inside [`guard`]
//! (`catch_unwind`), async bodies inside a spawned task whose panic comes back as a
//! `JoinError` ([`spawn`]); both become [`FinlockError::Internal`].

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::error::FinlockError;

/// Worker threads: check-ins are rare and short; two keep one slow server from
/// delaying an enrollment retry.
pub const WORKERS: usize = 2;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, created on first use.
pub fn runtime() -> Result<&'static Runtime, FinlockError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("finlock-worker")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| FinlockError::internal("runtime", format!("cannot start the runtime: {e}")))
}

/// Runs `future` on the runtime and awaits it from whatever executor polls the caller
/// (uniffi's, driven by Kotlin coroutines). A panic inside becomes `Internal`.
pub async fn spawn<T, F>(future: F) -> Result<T, FinlockError>
where
    F: Future<Output = Result<T, FinlockError>> + Send + 'static,
    T: Send + 'static,
{
    match runtime()?.spawn(future).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(panicked(join.into_panic())),
        Err(join) => Err(FinlockError::internal("cancelled", join.to_string())),
    }
}

/// Runs a synchronous export body; a panic becomes `Internal` instead of unwinding into
/// the foreign caller.
pub fn guard<T>(body: impl FnOnce() -> Result<T, FinlockError>) -> Result<T, FinlockError> {
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panicked(payload)))
}

fn panicked(payload: Box<dyn Any + Send>) -> FinlockError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_string());
    log::error!("panic caught at the bridge: {what}");
    FinlockError::internal("panic", what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_guarded_body_is_an_internal_error() {
        let out: Result<(), _> = guard(|| panic!("boom"));
        match out {
            Err(FinlockError::Internal { code, detail }) => {
                assert_eq!(code, "panic");
                assert_eq!(detail, "boom");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_panic_in_a_spawned_task_is_an_internal_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out: Result<(), _> = rt.block_on(spawn(async { panic!("async boom") }));
        assert!(matches!(out, Err(FinlockError::Internal { ref code, .. }) if code == "panic"));
    }

    #[test]
    fn workers_are_named() {
        let name = runtime()
            .unwrap()
            .block_on(async {
                tokio::spawn(async { std::thread::current().name().map(str::to_string) }).await
            })
            .unwrap();
        assert_eq!(name.as_deref(), Some("finlock-worker"));
    }
}
