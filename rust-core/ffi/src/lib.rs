//! # finlock-ffi: the bridge to Kotlin
//!
//! The Kotlin shell's whole view of the core: one object, [`FinlockCore`], declared here
//! with uniffi proc-macros; the Kotlin bindings (`org.finlock.core`) are generated from the
//! built library by the workspace's own `uniffi-bindgen`, never written by hand.
//!
//! The bridge is thin. It converts types ([`types`]), maps errors in one place
//! ([`error`]), keeps the state behind a mutex and runs the network on one process-wide
//! runtime ([`runtime`]). It decides nothing: every answer comes from `finlock-core`.
//!
//! - **Clocks are inputs.** Every call that depends on time takes a [`Clock`] the shell
//!   read (`currentTimeMillis`, `elapsedRealtime`, `BOOT_COUNT`); nothing here reads one.
//!   Each such call persists the advanced trusted-time marks (PROTOCOL §4). `decisionAt`
//!   takes the same three readings as plain numbers: from Kotlin a record argument costs a
//!   native allocation per call, measurable on the lock screen's hot path.
//! - **Async for the network only.** `enroll` and `checkIn` are `suspend` in Kotlin; they
//!   run on the `finlock-worker` threads and never block the caller. The state lock is
//!   never held across the network, so the lock screen's `decision` answers at once even
//!   while a check-in waits for a slow server. Exchanges themselves run one at a time.
//! - **No panic crosses the boundary.** Every export runs in [`runtime::guard`] or
//!   [`runtime::spawn`]; a panic comes out as `FinlockException.Internal`.
//!
//! On Android, `android` adds `JNI_OnLoad` and `FinlockNative.init(context)` (compiled on
//! the host too, for lints only, with the `android-host` feature).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use finlock_core::Error;
use finlock_core::checkin::{self, Client, ClientConfig};
use finlock_core::device::Device;
use finlock_core::keys::KeySet;
use ring::rand::SystemRandom;

#[cfg(any(target_os = "android", feature = "android-host"))]
mod android;
pub mod enroll;
pub mod error;
pub mod push;
pub mod runtime;
pub mod types;

pub use enroll::{AttestationProof, EnrollChallenge, EnrollOutcome};
pub use error::FinlockError;
pub use push::PushStatus;
pub use types::{
    Clock, Decision, EnrollParams, EntitlementState, FinlockConfig, Level, LockReason, LockScreen,
    Moment, NoticePage, OfflineCodeAccepted, Reminder, ReminderKind, Severity, Status, WakeReason,
    Wakeup,
};

use runtime::{guard, spawn};

uniffi::setup_scaffolding!();

/// The device's core, bound to its state directory. Create one per process (it is safe to
/// call from any thread) and keep it for the life of the process.
#[derive(uniffi::Object)]
pub struct FinlockCore {
    inner: Arc<Inner>,
}

struct Inner {
    device: Mutex<Device>,
    /// One network exchange at a time (an enrollment and a check-in never interleave).
    net: tokio::sync::Mutex<()>,
    app_version: String,
    client_config: ClientConfig,
    /// The client for the provisioned server, built on first use.
    client: Mutex<Option<CachedClient>>,
}

struct CachedClient {
    server_url: String,
    allow_insecure_loopback: bool,
    client: Arc<Client>,
}

/// Locks a mutex; a poisoned one is still consistent, because every change to the device
/// goes through `Device::update` (a copy, stored only on success), so a panic in the middle
/// of an operation left the previous state in place.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| {
        log::warn!("state lock was poisoned by a panic; continuing with the stored state");
        poisoned.into_inner()
    })
}

/// The locale of a call that did not name one: English, the language every locale falls
/// back to (PROTOCOL §8.2).
fn locale_or_english(locale: &Option<String>) -> &str {
    locale.as_deref().unwrap_or("en")
}

impl Inner {
    /// Runs `f` on the device under the state lock, inside the panic guard.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Device) -> Result<T, FinlockError>,
    ) -> Result<T, FinlockError> {
        guard(|| f(&mut lock(&self.device)))
    }

    fn client(&self) -> Result<Arc<Client>, FinlockError> {
        let provisioning = lock(&self.device)
            .state()
            .provisioning
            .clone()
            .ok_or(Error::NotEnrolled)?;
        let mut cached = lock(&self.client);
        if let Some(c) = cached.as_ref()
            && c.server_url == provisioning.server_url
            && c.allow_insecure_loopback == provisioning.allow_insecure_loopback
        {
            return Ok(c.client.clone());
        }
        let client = Arc::new(
            Client::new(
                &provisioning.server_url,
                provisioning.url_policy(),
                &self.client_config,
            )
            .map_err(FinlockError::input)?,
        );
        *cached = Some(CachedClient {
            server_url: provisioning.server_url,
            allow_insecure_loopback: provisioning.allow_insecure_loopback,
            client: client.clone(),
        });
        Ok(client)
    }

    /// The core's `Client::enroll` in its three steps, with the state lock released while
    /// the request is out.
    async fn enroll(&self, params: EnrollParams, clock: Clock) -> Result<Decision, FinlockError> {
        let input = clock.input()?;
        let params = params.core()?;
        let _exchange = self.net.lock().await;
        let out = self.with(|d| Ok(checkin::begin_enroll(d, &params, &SystemRandom::new())?))?;
        let client = self.client()?;
        let answer = client.post_jws("/v1/enroll", out.body).await;
        self.with(|d| {
            // A field rule broken in the exchange or the answer is the server's: `answer`.
            let ev = checkin::finish_enroll(d, answer, &input).map_err(FinlockError::answer)?;
            Ok(Decision::of(&ev, &clock))
        })
    }

    /// The core's `Client::check_in` in its three steps, with the state lock released
    /// while the request is out. The answer is judged at the call's clock reading: trusted
    /// time then lags real time by the exchange's duration (at most the deadline), the safe
    /// direction (§4).
    async fn check_in(&self, force: bool, clock: Clock) -> Result<Decision, FinlockError> {
        let input = clock.input()?;
        let _exchange = self.net.lock().await;
        let rng = SystemRandom::new();
        let out = self.with(|d| {
            Ok(checkin::begin_check_in(
                d,
                &input,
                &self.app_version,
                force,
                &rng,
            )?)
        })?;
        let client = self.client()?;
        let answer = client.post_jws("/v1/checkin", out.body.clone()).await;
        self.with(|d| {
            // Whatever failed (the exchange or the answer), a field rule broken is the
            // server's, never the caller's: `answer`, not `input`.
            let ev = checkin::finish_check_in(d, &out, answer, &input, &rng)
                .map_err(FinlockError::answer)?;
            Ok(Decision::of(&ev, &clock))
        })
    }
}

#[uniffi::export]
impl FinlockCore {
    /// Opens (or creates) the state in `stateDir` (use a direct-boot-aware directory so the
    /// decision is known before the user unlocks). An unusable state file is an error
    /// (`Storage`), never a silent reset to unlocked.
    #[uniffi::constructor]
    pub fn new(state_dir: String, config: FinlockConfig) -> Result<Arc<FinlockCore>, FinlockError> {
        guard(|| {
            let pins = config
                .spki_sha256_pins
                .iter()
                .map(|p| types::parse_pin(p))
                .collect::<Result<Vec<_>, _>>()?;
            let deadline = match config.network_deadline_ms {
                None => None,
                Some(ms) => Some(Duration::from_millis(u64::try_from(ms).map_err(|_| {
                    FinlockError::invalid("networkDeadlineMs", "invalid_field")
                })?)),
            };
            let device = Device::open(PathBuf::from(state_dir))?;
            Ok(Arc::new(FinlockCore {
                inner: Arc::new(Inner {
                    device: Mutex::new(device),
                    net: tokio::sync::Mutex::new(()),
                    app_version: config.app_version,
                    client_config: ClientConfig {
                        spki_sha256_pins: pins,
                        extra_roots: Vec::new(),
                        deadline,
                    },
                    client: Mutex::new(None),
                }),
            }))
        })
    }

    /// Pins the lender's server and keys (from the provisioning QR or the OEM image).
    /// `lenderKeysJson` is the lender's JWKS. Refused once enrolled (`AlreadyEnrolled`).
    /// `allowInsecureLoopback` lets debug builds use plain http to loopback only.
    pub fn provision(
        &self,
        server_url: String,
        lender_keys_json: String,
        allow_insecure_loopback: bool,
    ) -> Result<(), FinlockError> {
        self.inner.with(|d| {
            let keys =
                KeySet::from_json(lender_keys_json.as_bytes()).map_err(FinlockError::input)?;
            d.update(|s| s.provision(&server_url, keys, allow_insecure_loopback))
                .map_err(FinlockError::input)
        })
    }

    /// Points the device at another URL of its lender's server (a tester's emulator host
    /// `http://10.0.2.2:8080`, a lender moving its server), enrolled or not. Only the URL
    /// changes: the pinned keys stay, so every entitlement must still be signed by them and
    /// echo the device's nonce; a wrong server can fail check-ins, never unlock. The URL
    /// follows `provision`'s rule (`InvalidInput` with field `server_url`); not provisioned
    /// is `NotEnrolled`. On error nothing changes. Takes effect at the next exchange.
    pub fn set_server_url(
        &self,
        server_url: String,
        allow_insecure_loopback: bool,
    ) -> Result<(), FinlockError> {
        self.inner.with(|d| {
            d.update(|s| s.set_server_url(&server_url, allow_insecure_loopback))
                .map_err(FinlockError::input)
        })
    }

    /// Enrolls with the provisioned server. A retry after a lost answer presents the same
    /// device key. Returns the first decision.
    pub async fn enroll(
        &self,
        params: EnrollParams,
        clock: Clock,
    ) -> Result<Decision, FinlockError> {
        let inner = self.inner.clone();
        spawn(async move { inner.enroll(params, clock).await }).await
    }

    /// One check-in. `force` is the user's "I have paid — check now": it skips the backoff
    /// but is allowed once per 30 s (`TooSoon`). A failure backs the schedule off and
    /// changes no decision input; `nextWakeup` then names the retry.
    pub async fn check_in(&self, force: bool, clock: Clock) -> Result<Decision, FinlockError> {
        let inner = self.inner.clone();
        spawn(async move { inner.check_in(force, clock).await }).await
    }

    /// Locked or not, why, and when that changes by itself (arm an elapsed-realtime alarm
    /// for `nextChange`).
    pub fn decision(&self, clock: Clock) -> Result<Decision, FinlockError> {
        let input = clock.input()?;
        self.inner
            .with(|d| Ok(Decision::of(&d.evaluate(&input)?, &clock)))
    }

    /// `decision` with the clock's three readings passed as numbers: the same answer and
    /// errors (the field names in `InvalidInput` are the same `clock.*`), cheaper from
    /// Kotlin, because a record argument costs a native allocation of its own on every call.
    /// For the hot path (screen on, every wake-up); `decision(clock)` stays as it is.
    pub fn decision_at(
        &self,
        wall_ms: i64,
        elapsed_realtime_ms: i64,
        boot_count: i64,
    ) -> Result<Decision, FinlockError> {
        self.decision(Clock {
            wall_ms,
            elapsed_realtime_ms,
            boot_count,
        })
    }

    /// Everything the lock screen shows, texts picked for `locale` (a BCP 47 tag such as
    /// `sw-KE`; `_` is accepted too).
    pub fn lock_screen(&self, clock: Clock, locale: String) -> Result<LockScreen, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let view = d.state().lock_screen(&ev, &locale)?;
            Ok(LockScreen::new(view, &clock))
        })
    }

    /// The notice page (what happens when, how to avoid it), texts for `locale` as for
    /// `lockScreen`. Available at every level once enrolled: the shell shows it at
    /// `Notice` and `Restricted`, and reads the payment apps and essentials from it.
    pub fn notice_page(&self, clock: Clock, locale: String) -> Result<NoticePage, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let view = d.state().notice_page(&ev, &locale)?;
            Ok(NoticePage::new(view, &clock))
        })
    }

    /// The notice page was on screen (resumed and laid out): the core records its first
    /// display (the moment restriction and lock are measured from, on this phone's own
    /// clock). Returns whether it recorded now; false when already recorded or when there
    /// is nothing to give notice of. Call it once per display.
    pub fn notice_shown(&self, clock: Clock) -> Result<bool, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| Ok(d.notice_shown(&input)?))
    }

    /// Enters an offline unlock code (8 digits; spaces and dashes are ignored). A wrong code
    /// is counted (`CodeWrong` with the tries left); entry may be refused (`CodeLockedOut`).
    pub fn enter_offline_code(
        &self,
        code: String,
        clock: Clock,
    ) -> Result<OfflineCodeAccepted, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let accepted = d.enter_offline_code(&code, &input)?;
            let ev = d.evaluate(&input)?;
            Ok(OfflineCodeAccepted {
                days: i32::from(accepted.days),
                extension_until_ms: accepted.extension_until.saturating_mul(1000),
                decision: Decision::of(&ev, &clock),
            })
        })
    }

    /// The upcoming reminders in the IANA zone `zoneId` (`TimeZone.getDefault().id`),
    /// ordered by `fireAt`. `locale` (a BCP 47 tag, as for `lockScreen`) picks the payment
    /// instructions; null picks English.
    #[uniffi::method(default(locale = None))]
    pub fn reminders(
        &self,
        clock: Clock,
        zone_id: String,
        locale: Option<String>,
    ) -> Result<Vec<Reminder>, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let state = d.state();
            let list = state.reminders(&zone_id, ev.reading.now())?;
            let payee = state.payee(locale_or_english(&locale))?;
            Ok(list
                .into_iter()
                .map(|r| Reminder::new(r, &payee, &ev.reading, &clock))
                .collect())
        })
    }

    /// The one reminder to show now, if any (a missed backlog yields one, not a burst).
    /// Show it, then call `markReminderShown`. `locale` as for `reminders`.
    #[uniffi::method(default(locale = None))]
    pub fn reminder_due(
        &self,
        clock: Clock,
        zone_id: String,
        locale: Option<String>,
    ) -> Result<Option<Reminder>, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let state = d.state();
            let due = state.reminder_due(&zone_id, ev.reading.now())?;
            let Some(due) = due else { return Ok(None) };
            let payee = state.payee(locale_or_english(&locale))?;
            Ok(Some(Reminder::new(due, &payee, &ev.reading, &clock)))
        })
    }

    /// Remembers that reminder `id` was shown, so it is not shown again (across restarts).
    pub fn mark_reminder_shown(&self, id: String, clock: Clock) -> Result<(), FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            Ok(d.update(|s| {
                let now = s.evaluate(&input).reading.now();
                s.mark_reminder_shown(&id, now)
            })?)
        })
    }

    /// The single next moment the shell must wake, and why; null when released or not
    /// enrolled. Arm one elapsed-realtime alarm for it; on waking, act on `reason` and ask
    /// again.
    pub fn next_wakeup(
        &self,
        clock: Clock,
        zone_id: String,
    ) -> Result<Option<Wakeup>, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let next = d.state().next_wakeup(&zone_id, &ev.reading)?;
            Ok(next.map(|w| Wakeup {
                at: Moment::at(w.at, &ev.reading, &clock),
                reason: w.reason.into(),
            }))
        })
    }

    /// Call on `ACTION_TIME_CHANGED`, `ACTION_TIMEZONE_CHANGED` and after boot: notes a
    /// clock change (reported to the lender at the next check-in) and decides again.
    pub fn on_clock_changed(&self, clock: Clock) -> Result<Decision, FinlockError> {
        self.decision(clock)
    }

    /// What the device knows about itself, for settings, support and debugging.
    pub fn status(&self, clock: Clock) -> Result<Status, FinlockError> {
        let input = clock.input()?;
        self.inner.with(|d| {
            let ev = d.evaluate(&input)?;
            let recovered_from = d.recovered_from().map(|e| e.code().to_string());
            Ok(Status::new(d.state().status(&ev), recovered_from, &clock))
        })
    }
}

/// Test-only exports, compiled with feature `test-hooks` (the host JVM tests) and never
/// into a shipped library: they prove that a panic comes out as an exception.
#[cfg(feature = "test-hooks")]
mod test_hooks {
    use super::*;

    /// Panics inside a guarded export.
    #[uniffi::export]
    pub fn debug_panic(detail: String) -> Result<(), FinlockError> {
        guard(|| panic!("{detail}"))
    }

    /// Panics inside an async export, on a `finlock-worker` thread.
    #[uniffi::export]
    pub async fn debug_panic_async(detail: String) -> Result<(), FinlockError> {
        spawn(async move { panic!("{detail}") }).await
    }

    /// Panics without the bridge's guard: uniffi's own catch turns it into
    /// `InternalException`, so even an export that forgot the guard cannot crash the app.
    #[uniffi::export]
    pub fn debug_panic_unguarded(detail: String) -> bool {
        panic!("{detail}")
    }

    /// One call through JNA with nothing to convert (a free function: no handle clone).
    /// The benchmark's floor.
    #[uniffi::export]
    pub fn debug_echo(value: i64) -> i64 {
        value
    }

    /// As `debug_echo`, plus lowering a `Clock` record (a RustBuffer allocated by a call of
    /// its own, filled in Kotlin, read here).
    #[uniffi::export]
    pub fn debug_echo_clock(clock: Clock) -> i64 {
        clock.wall_ms
    }

    /// As `debug_echo`, plus lifting a `Decision` record (a RustBuffer returned by value,
    /// read in Kotlin, freed by a call of its own).
    #[uniffi::export]
    pub fn debug_decision_record(value: i64) -> Decision {
        Decision {
            locked: false,
            reason: None,
            clock_suspect: false,
            released: false,
            trusted_now_ms: value,
            next_change: Some(Moment {
                trusted_ms: value,
                delay_ms: 0,
                elapsed_realtime_ms: value,
            }),
            release_at_ms: None,
            level: types::Level::Normal,
            held_for_notice: false,
            notice_first_shown_ms: None,
            restrict_from_ms: None,
            lock_from_ms: None,
        }
    }

    #[uniffi::export]
    impl FinlockCore {
        /// As `debug_echo`, as a method: adds the handle clone (a call of its own).
        pub fn debug_echo_method(&self, value: i64) -> i64 {
            value
        }
    }

    /// The name of the thread async work runs on (`finlock-worker`).
    #[uniffi::export]
    pub async fn debug_worker_thread_name() -> Result<String, FinlockError> {
        spawn(async {
            Ok(std::thread::current()
                .name()
                .unwrap_or_default()
                .to_string())
        })
        .await
    }
}
