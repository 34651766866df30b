//! The device's side of the wake-up push (PROTOCOL "Wake-up push", ADR 0014): the endpoint
//! its push distributor gave it, whether the server has it, the server's key to register
//! with, and what a push does — nothing but, at most once per window, a check-in now.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DeviceState;
use crate::clock::ClockInput;
use crate::error::{Error, Result};
use crate::protocol::{self, EntitlementState, UrlPolicy};

/// What the device knows about its push registration. A state written before pushes
/// existed reads as "no endpoint, none told, no key" ([`Default`]).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushState {
    /// The endpoint the shell last reported; `""` = none.
    #[serde(default)]
    pub endpoint: String,
    /// The endpoint the server last accepted from this device (an accepted answer to the
    /// request that carried it); `""` = none, or never told.
    #[serde(default)]
    pub server_endpoint: String,
    /// The server's VAPID public key, from the last answer that carried a valid one.
    #[serde(default)]
    pub server_key: Option<String>,
}

/// An endpoint is a capability (whoever knows it can push to the device), so it is not
/// printed; whether there is one, and whether the server has it, are.
impl fmt::Debug for PushState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushState")
            .field(
                "endpoint",
                &(!self.endpoint.is_empty()).then_some("<redacted>"),
            )
            .field("server_has_it", &self.server_has_it())
            .field("server_key", &self.server_key)
            .finish()
    }
}

impl PushState {
    /// Whether the server has the endpoint the device has now.
    pub fn server_has_it(&self) -> bool {
        self.endpoint == self.server_endpoint
    }

    /// What a check-in carries: the endpoint when it changed since the server last accepted
    /// one, else nothing. An endpoint that the current URL rules refuse (stored by a debug
    /// build, then the policy tightened) is not sent: a push registration must never be
    /// what makes a check-in fail.
    pub(super) fn unsent(&self, urls: UrlPolicy) -> Option<String> {
        if self.server_has_it() || protocol::push_endpoint(&self.endpoint, urls).is_err() {
            return None;
        }
        Some(self.endpoint.clone())
    }

    /// What an enrollment carries: the endpoint, if the device has one (a new enrollment is
    /// a new record on the server, which knows no endpoint yet).
    pub(super) fn for_enrollment(&self, urls: UrlPolicy) -> Option<String> {
        match protocol::push_endpoint(&self.endpoint, urls) {
            Ok(Some(url)) => Some(url.to_string()),
            _ => None,
        }
    }

    /// The server accepted a request that carried `sent` (or, for an enrollment, `None`: it
    /// knows no endpoint), and answered with `key`.
    pub(super) fn on_accepted(&mut self, sent: Option<&str>, key: Option<&str>) {
        if let Some(sent) = sent {
            self.server_endpoint = sent.to_string();
        }
        if let Some(key) = key {
            self.server_key = Some(key.to_string());
        }
    }
}

impl DeviceState {
    /// The shell reports the endpoint its UnifiedPush distributor gave it (`""`: none any
    /// more: unregistered, or the distributor is gone). Checked by the rules of
    /// `push_endpoint` under the provisioned URL policy (strict before provisioning); a
    /// refused one changes nothing.
    ///
    /// Returns whether to check in now so the server learns it: only for an enrolled,
    /// unreleased device whose server does not have it yet, and within the push window
    /// ([`crate::schedule::CheckinSchedule::on_push`]); otherwise the next check-in carries it.
    pub fn set_push_endpoint(&mut self, endpoint: &str, clock: &ClockInput) -> Result<bool> {
        let urls = self
            .provisioning
            .as_ref()
            .map_or(UrlPolicy::STRICT, |p| p.url_policy());
        protocol::push_endpoint(endpoint, urls)?;
        self.push.endpoint = endpoint.to_string();
        if self.push.server_has_it() {
            return Ok(false);
        }
        self.push_arrived(clock).or_else(|e| match e {
            Error::NotEnrolled => Ok(false),
            e => Err(e),
        })
    }

    /// A wake-up push arrived (its content, if any, is ignored): whether to check in now.
    /// Yes at most once per [`crate::schedule::CHECK_NOW_EVERY_S`] and only when no check-in
    /// is due yet; never once released. Not enrolled is [`Error::NotEnrolled`].
    pub fn push_arrived(&mut self, clock: &ClockInput) -> Result<bool> {
        let now = self.evaluate(clock).reading.now();
        let en = self.enrolled()?;
        if en.entitlement.state == EntitlementState::Released {
            return Ok(false);
        }
        Ok(self.checkin.on_push(now))
    }

    /// The server's VAPID public key (canonical base64url of the 65-byte point) to register
    /// with the distributor, once an answer carried one.
    pub fn push_key(&self) -> Option<&str> {
        self.push.server_key.as_deref()
    }
}
