//! Wake-up push without Google (issue 17 item 3, ADR on UnifiedPush/Web Push): when a
//! device's entitlement changes, the server sends an empty, VAPID-authenticated Web Push
//! (RFC 8030, RFC 8292) to the endpoint the phone registered at enrollment or check-in
//! (a UnifiedPush distributor on the phone). The push carries nothing; it only makes the
//! phone check in now, within its check-now limit, so a forged or replayed push can at
//! most cause one extra check-in.
//!
//! - [`endpoint`]: which endpoints the server accepts and will reach (the SSRF rules);
//! - [`registration`]: `push_endpoint` in enrollment and check-in requests;
//! - [`vapid`]: the deployment's P-256 key and the JWTs;
//! - [`send`]: one push with its retries;
//! - [`queue`]: [`nudge`] and the sender task: bounded, coalesced per device.
//!
//! Nothing here can fail or slow a lender's action or a check-in: [`nudge`] only puts the
//! device on a bounded queue (dropped when full: the hourly check-in is the fallback).

pub mod endpoint;
pub mod queue;
pub mod registration;
pub mod send;
pub mod store;
pub mod vapid;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::app::App;
use crate::error::Result;

pub use queue::nudge;

/// How the server pushes (`finlock serve` flags; tests shorten the times).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The VAPID `sub`: `mailto:` or `https:` contact for push services' operators.
    pub contact: Option<String>,
    pub policy: endpoint::Policy,
    pub timing: send::Timing,
    /// At most one push per device per this long; a change inside it is pushed when it
    /// ends (never lost, never more often).
    pub coalesce: Duration,
    /// Devices waiting to be pushed, beyond which a nudge is dropped.
    pub queue: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            contact: None,
            policy: endpoint::Policy::default(),
            timing: send::Timing::default(),
            coalesce: Duration::from_secs(30),
            queue: 10_000,
        }
    }
}

impl Settings {
    /// Refuses a contact a push service could not use.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if let Some(c) = &self.contact {
            let ok = (c.starts_with("mailto:") && c.len() > "mailto:".len() && c.contains('@'))
                || (c.starts_with("https://") && c.len() > "https://".len());
            if !ok || c.len() > 256 || c.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
                return Err(format!(
                    "--push-contact {c:?} must be mailto:someone@example or an https:// URL"
                ));
            }
        }
        Ok(())
    }
}

/// The server's push side, in [`App`]: off until [`start`] (commands other than
/// `finlock serve` never push and answer no device).
#[derive(Debug)]
pub struct Push {
    settings: Settings,
    running: OnceLock<queue::Running>,
}

impl Push {
    pub fn new(settings: Settings) -> Push {
        Push {
            settings,
            running: OnceLock::new(),
        }
    }

    /// `push_key` for enroll and check-in answers: the VAPID public key, once started.
    pub fn public_key(&self) -> Option<String> {
        self.running.get().map(|r| r.vapid.public_key().to_string())
    }

    pub fn policy(&self) -> endpoint::Policy {
        self.settings.policy
    }
}

/// Loads (or makes) the VAPID key and starts the sender task; again is a no-op. An error
/// means the key could not be read or made: `finlock serve` refuses to start with it.
/// Without a usable TLS client the server runs with pushes off (logged as an error).
pub fn start(app: &App) -> Result<()> {
    if app.push.running.get().is_some() {
        return Ok(());
    }
    let settings = &app.push.settings;
    let vapid = Arc::new(vapid::Vapid::load_or_create(
        &app.config.keys_dir,
        settings.contact.clone(),
    )?);
    // No TLS set-up (a machine without CA certificates): the server runs without pushes
    // and answers no `push_key`, so phones register nothing and keep their schedule.
    let sender = match send::Sender::new(vapid.clone(), settings.policy, settings.timing) {
        Ok(sender) => sender,
        Err(e) => {
            tracing::error!(error = %e, "wake-up pushes are off");
            return Ok(());
        }
    };
    let counters = app.metrics.push.clone();
    let running = queue::spawn(app.db.clone(), vapid, sender, counters, settings);
    // Two starts racing: the loser's task ends when its queue is dropped here.
    let _ = app.push.running.set(running);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_is_mailto_or_https() {
        let with = |c: &str| Settings {
            contact: Some(c.into()),
            ..Settings::default()
        };
        assert!(Settings::default().validate().is_ok());
        for good in [
            "mailto:ops@lender.example",
            "https://lender.example/contact",
        ] {
            assert!(with(good).validate().is_ok(), "{good}");
        }
        for bad in [
            "ops@lender.example",
            "mailto:",
            "mailto:nobody",
            "http://lender.example",
            "https://",
            "mailto:ops@lender.example\n",
            "https://lender.example/ x",
        ] {
            assert!(with(bad).validate().is_err(), "{bad:?}");
        }
    }
}
