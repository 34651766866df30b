//! The one source of time for the server.
//!
//! Every handler reads time through the [`Clock`] in the application state and
//! nowhere else, so a test or the demo can hand in a [`ManualClock`] and live
//! through months of installments in seconds, while production uses [`SystemClock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Unix seconds, UTC.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

/// The shared handle the server keeps.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to: tests and `finlock demo`.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    pub fn new(now: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now: AtomicI64::new(now),
        })
    }

    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds` and returns the new time.
    pub fn advance(&self, seconds: i64) -> i64 {
        self.now.fetch_add(seconds, Ordering::SeqCst) + seconds
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(100);
        assert_eq!(c.now(), 100);
        assert_eq!(c.advance(50), 150);
        c.set(7);
        assert_eq!(c.now(), 7);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now() > 1_700_000_000);
    }
}
