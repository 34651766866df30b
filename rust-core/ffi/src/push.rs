//! The wake-up push (PROTOCOL "Wake-up push", ADR 0014): what the shell's UnifiedPush
//! connector tells the core and asks it. The connector reports the endpoint its distributor
//! gave, registers with the server's key, and on a push asks whether to check in now; the
//! core decides, within the check-now window, and remembers.

use crate::types::Clock;
use crate::{FinlockCore, FinlockError};

/// The push registration as the core knows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushStatus {
    /// The endpoint last reported with `setPushEndpoint`; null = none.
    pub endpoint: Option<String>,
    /// Whether the lender's server has that endpoint (or knows there is none): an answer
    /// to a request that carried it was accepted.
    pub server_has_it: bool,
    /// The server's VAPID public key (base64url of the 65-byte P-256 point), or null until
    /// an answer carried a valid one. Register with the distributor with it.
    pub push_key: Option<String>,
}

#[uniffi::export]
impl FinlockCore {
    /// Stores the endpoint the UnifiedPush distributor gave (`NEW_ENDPOINT`), or `""` when
    /// there is none any more (`UNREGISTERED`, the distributor uninstalled). An https URL of
    /// at most 1024 bytes (plain http to loopback only where provisioning allows it); else
    /// `InvalidInput` with field `push_endpoint`, and nothing changes. The next check-in
    /// tells the server. Returns true when that check-in should run now (an enrolled device
    /// whose server does not have it yet, at most once per 30 s together with pushes):
    /// schedule it as for a push.
    pub fn set_push_endpoint(&self, endpoint: String, clock: Clock) -> Result<bool, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            d.set_push_endpoint(&endpoint, &input)
                .map_err(FinlockError::input)
        })
    }

    /// The server's VAPID public key to register with (the distributor's `vapid` extra), or
    /// null until the server has sent one.
    pub fn push_key(&self) -> Result<Option<String>, FinlockError> {
        self.inner
            .with(|d| Ok(d.state().push_key().map(str::to_string)))
    }

    /// Where the push registration stands.
    pub fn push_status(&self) -> Result<PushStatus, FinlockError> {
        self.inner.with(|d| {
            let push = &d.state().push;
            Ok(PushStatus {
                endpoint: (!push.endpoint.is_empty()).then(|| push.endpoint.clone()),
                server_has_it: push.server_has_it(),
                push_key: push.server_key.clone(),
            })
        })
    }

    /// A push arrived (`MESSAGE`; its content is ignored): whether to check in now. True at
    /// most once per 30 s and only when no check-in is due yet (one that is due answers the
    /// push already); false once released. The yes is stored: the check-in stays due even if
    /// the process dies before running it. `NotEnrolled` before enrollment.
    pub fn push_arrived(&self, clock: Clock) -> Result<bool, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| Ok(d.push_arrived(&input)?))
    }
}
