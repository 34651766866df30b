//! The records and enums Kotlin sees, and their conversions from the core's types.
//!
//! The bridge is not the core's API: these are plain data shaped for the shell. Numbers
//! are signed (`Long`/`Int` in Kotlin, no unsigned types for Java callers) and never
//! negative; every instant is Unix **milliseconds** of trusted time, and every instant the
//! shell must wake for also comes as a delay on the elapsed-realtime clock ([`Moment`]),
//! because the wall clock is the one clock the customer controls.

use finlock_core::clock::{ClockInput, Reading};
use finlock_core::decision;
use finlock_core::device::{self, EnrollParams as CoreEnrollParams};
use finlock_core::protocol::{EntitlementState as CoreState, LockReason as CoreReason};
use finlock_core::reminders::{self, ReminderKind as CoreKind, Severity as CoreSeverity};
use finlock_core::view::{self, Payee};

use crate::error::FinlockError;

/// What the platform reports at one moment; read by the shell, never inside Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Clock {
    /// `System.currentTimeMillis()`: may be anything the customer set.
    pub wall_ms: i64,
    /// `SystemClock.elapsedRealtime()`: monotonic since boot, deep sleep included.
    pub elapsed_realtime_ms: i64,
    /// `Settings.Global.BOOT_COUNT`: identifies the boot.
    pub boot_count: i64,
}

impl Clock {
    pub(crate) fn input(&self) -> Result<ClockInput, FinlockError> {
        let uptime_ms = u64::try_from(self.elapsed_realtime_ms)
            .map_err(|_| FinlockError::invalid("clock.elapsedRealtimeMs", "invalid_field"))?;
        let boot = u64::try_from(self.boot_count)
            .map_err(|_| FinlockError::invalid("clock.bootCount", "invalid_field"))?;
        Ok(ClockInput {
            wall_ms: self.wall_ms,
            uptime_ms,
            boot,
        })
    }
}

/// An instant the shell acts on: in trusted time, and as a delay from the [`Clock`] the
/// call was given (arm `AlarmManager.ELAPSED_REALTIME_WAKEUP` at `elapsedRealtimeMs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Moment {
    /// Unix ms, trusted time.
    pub trusted_ms: i64,
    /// Milliseconds from the call's clock reading; 0 when already due.
    pub delay_ms: i64,
    /// The call's `elapsedRealtimeMs` plus `delayMs`.
    pub elapsed_realtime_ms: i64,
}

impl Moment {
    /// `at_s` (trusted Unix seconds) seen from `reading`, taken at `clock`.
    pub(crate) fn at(at_s: i64, reading: &Reading, clock: &Clock) -> Moment {
        let trusted_ms = at_s.saturating_mul(1000);
        let delay_ms = trusted_ms.saturating_sub(reading.now_ms).max(0);
        Moment {
            trusted_ms,
            delay_ms,
            elapsed_realtime_ms: clock.elapsed_realtime_ms.saturating_add(delay_ms),
        }
    }
}

/// Why the device is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LockReason {
    OverduePayment,
    LenderRequest,
    /// No check-in for longer than the lender allows.
    Offline,
}

impl From<CoreReason> for LockReason {
    fn from(r: CoreReason) -> LockReason {
        match r {
            CoreReason::OverduePayment => LockReason::OverduePayment,
            CoreReason::LenderRequest => LockReason::LenderRequest,
            CoreReason::Offline => LockReason::Offline,
        }
    }
}

/// The state the lender's last accepted entitlement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EntitlementState {
    Active,
    Locked,
    Released,
}

impl From<CoreState> for EntitlementState {
    fn from(s: CoreState) -> EntitlementState {
        match s {
            CoreState::Active => EntitlementState::Active,
            CoreState::Locked => EntitlementState::Locked,
            CoreState::Released => EntitlementState::Released,
        }
    }
}

/// How far the escalation has gone (PROTOCOL §3.7, §5): the shell enforces each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Level {
    /// Fully usable (reminders as usual).
    Normal,
    /// Fully usable; the notice page is shown at each screen unlock.
    Notice,
    /// Lock task with the restricted home: calls, messages, the payment apps and the
    /// essentials; the notice page at each unlock.
    Restricted,
    /// The lock screen (which also offers the payment apps).
    Locked,
}

impl From<decision::Level> for Level {
    fn from(l: decision::Level) -> Level {
        match l {
            decision::Level::Normal => Level::Normal,
            decision::Level::Notice => Level::Notice,
            decision::Level::Restricted => Level::Restricted,
            decision::Level::Locked => Level::Locked,
        }
    }
}

/// What the shell enforces now, and when that changes by itself.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Decision {
    /// `level == Locked`.
    pub locked: bool,
    /// Why: for a lock, why it is locked; at `Notice` and `Restricted`, the reason of the
    /// coming step; null at `Normal`.
    pub reason: Option<LockReason>,
    /// Restricted or locked only because the device's clock says so: ask the user to check
    /// the date and time and to connect.
    pub clock_suspect: bool,
    /// Released for good: lift every restriction and disable the lock.
    pub released: bool,
    /// Trusted time of this decision, Unix ms.
    pub trusted_now_ms: i64,
    /// When the answer changes by the passage of time alone, if it will.
    pub next_change: Option<Moment>,
    /// Paid in full, not yet released: the date (Unix ms) the phone will be released on,
    /// unless the lender voids a payment first (ADR 0012). Show it ("Paid in full. This
    /// phone will be released on …"); null when released or while something is owed.
    /// Appended last with a default so Kotlin code that builds a `Decision` (test fakes)
    /// still compiles; the core always fills it.
    #[uniffi(default = None)]
    pub release_at_ms: Option<i64>,
    // The escalation ladder (PROTOCOL §3.7). Appended last; `level` has no default, so
    // every Kotlin fake states the level it means.
    /// What to enforce: the lock (`locked` is set exactly at `Locked`), the restricted home,
    /// the notice page at each unlock, or nothing.
    pub level: Level,
    /// A restriction or lock is due but waits, because the notice page has not been on this
    /// phone long enough (or not shown at all): the level is `Notice` until it has.
    #[uniffi(default = false)]
    pub held_for_notice: bool,
    /// When the notice page was first displayed (Unix ms, trusted time); null when not yet.
    #[uniffi(default = None)]
    pub notice_first_shown_ms: Option<i64>,
    /// The phone is restricted from then on (Unix ms) unless paid; null: no restricted step.
    #[uniffi(default = None)]
    pub restrict_from_ms: Option<i64>,
    /// The phone locks from then on (Unix ms) unless paid; null: no lock coming.
    #[uniffi(default = None)]
    pub lock_from_ms: Option<i64>,
}

impl Decision {
    pub(crate) fn new(d: &decision::Decision, reading: &Reading, clock: &Clock) -> Decision {
        Decision {
            locked: d.locked,
            reason: d.reason.map(LockReason::from),
            clock_suspect: d.clock_suspect,
            released: d.released,
            trusted_now_ms: reading.now_ms,
            next_change: d.next_change.map(|at| Moment::at(at, reading, clock)),
            release_at_ms: d.release_at.map(ms),
            level: d.level.into(),
            held_for_notice: d.held_for_notice,
            notice_first_shown_ms: d.notice_first_shown.map(ms),
            restrict_from_ms: d.restrict_from.map(ms),
            lock_from_ms: d.lock_from.map(ms),
        }
    }

    pub(crate) fn of(ev: &device::Evaluation, clock: &Clock) -> Decision {
        Decision::new(&ev.decision, &ev.reading, clock)
    }
}

/// Everything the lock screen shows. Texts come from the lender's signed entitlement,
/// already picked for the requested locale (exact tag, then language, then English).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockScreen {
    pub decision: Decision,
    pub lender_name: String,
    /// Always callable, even locked.
    pub lender_phone: String,
    pub lender_email: Option<String>,
    pub payment_url: String,
    pub support_url: Option<String>,
    pub terms_url: Option<String>,
    pub payment_instructions: Option<String>,
    /// Everything due now, in minor units of `currency`.
    pub amount_due_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The next (or oldest unpaid) due date, Unix ms.
    pub next_due_ms: Option<i64>,
    /// The lender's message for the locale (e.g. the reason of a lender lock).
    pub message: Option<String>,
    /// The 8-digit challenge to read out to the lender; null once released.
    pub offline_challenge: Option<String>,
    /// Wrong codes allowed right now (0 when locked out).
    pub offline_tries_left: i32,
    /// Code entry is refused now; until `offlineLockedOutUntilMs`, or, when that is null,
    /// until the next check-in.
    pub offline_locked_out: bool,
    pub offline_locked_out_until_ms: Option<i64>,
    // The escalation ladder (PROTOCOL §3.7). Appended last with defaults so Kotlin code that
    // builds a `LockScreen` (test fakes) still compiles; the core always fills them.
    /// The payment apps the lender names (package names), usable while locked: offer the
    /// installed ones.
    #[uniffi(default = [])]
    pub payment_apps: Vec<String>,
    /// "Notice first shown on …" (Unix ms, trusted time); null when never shown.
    #[uniffi(default = None)]
    pub notice_first_shown_ms: Option<i64>,
    /// Amounts only after the user opens the details (a screen others may see).
    #[uniffi(default = false)]
    pub private_details: bool,
}

impl LockScreen {
    pub(crate) fn new(v: view::LockScreen, clock: &Clock) -> LockScreen {
        LockScreen {
            decision: Decision::of(&v.evaluation, clock),
            lender_name: v.payee.name,
            lender_phone: v.payee.phone,
            lender_email: v.lender_email,
            payment_url: v.payee.payment_url,
            support_url: v.support_url,
            terms_url: v.terms_url,
            payment_instructions: v.payee.payment_instructions,
            amount_due_minor: to_i64(v.amount_due_minor),
            currency: v.currency,
            next_due_ms: v.next_due.map(ms),
            message: v.message,
            offline_challenge: v.offline.challenge,
            offline_tries_left: to_i32(v.offline.tries_left),
            offline_locked_out: v.offline.locked_out,
            offline_locked_out_until_ms: v.offline.locked_out_until.map(ms),
            payment_apps: v.payment_apps,
            notice_first_shown_ms: v.notice_first_shown.map(ms),
            private_details: v.private_details,
        }
    }
}

/// The notice page (PROTOCOL §3.7): what happens when, and how to avoid it. Texts are the
/// lender's signed ones for the requested locale; instants are Unix ms of trusted time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoticePage {
    pub decision: Decision,
    pub lender_name: String,
    /// Always callable.
    pub lender_phone: String,
    pub payment_url: String,
    pub payment_instructions: Option<String>,
    /// Everything due now, in minor units of `currency`.
    pub amount_due_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The next (or oldest unpaid) due date.
    pub next_due_ms: Option<i64>,
    /// Restricted from then on unless paid; null: no restricted step.
    pub restrict_from_ms: Option<i64>,
    /// Locked from then on unless paid; null: no lock coming.
    pub lock_from_ms: Option<i64>,
    /// Why the coming step would happen.
    pub reason: Option<LockReason>,
    /// When the notice page was first displayed; null when this is the first time.
    pub first_shown_ms: Option<i64>,
    /// Amounts only after the user opens the details.
    pub private_details: bool,
    /// The payment apps the lender names (package names): usable when restricted and locked.
    pub payment_apps: Vec<String>,
    /// The essentials the lender names (package names): usable when restricted.
    pub essentials: Vec<String>,
    /// The lender's message for the locale.
    pub message: Option<String>,
}

impl NoticePage {
    pub(crate) fn new(v: view::NoticePage, clock: &Clock) -> NoticePage {
        NoticePage {
            decision: Decision::of(&v.evaluation, clock),
            lender_name: v.payee.name,
            lender_phone: v.payee.phone,
            payment_url: v.payee.payment_url,
            payment_instructions: v.payee.payment_instructions,
            amount_due_minor: to_i64(v.amount_due_minor),
            currency: v.currency,
            next_due_ms: v.next_due.map(ms),
            restrict_from_ms: v.restrict_from.map(ms),
            lock_from_ms: v.lock_from.map(ms),
            reason: v.reason.map(LockReason::from),
            first_shown_ms: v.first_shown.map(ms),
            private_details: v.private_details,
            payment_apps: v.payment_apps,
            essentials: v.essentials,
            message: v.message,
        }
    }
}

/// Unix seconds to Unix milliseconds.
fn ms(s: i64) -> i64 {
    s.saturating_mul(1000)
}

fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn to_i32(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// Device facts sent at enrollment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollParams {
    /// From the provisioning QR, when the lender registered the device beforehand.
    pub enrollment_code: Option<String>,
    /// Sent only as a hash.
    pub imei: Option<String>,
    /// Sent only as a hash.
    pub serial: Option<String>,
    pub model: String,
    pub android_sdk: i32,
    pub app_version: String,
}

impl EnrollParams {
    pub(crate) fn core(&self) -> Result<CoreEnrollParams, FinlockError> {
        Ok(CoreEnrollParams {
            enrollment_code: self.enrollment_code.clone(),
            imei: self.imei.clone(),
            serial: self.serial.clone(),
            model: self.model.clone(),
            android_sdk: u32::try_from(self.android_sdk)
                .map_err(|_| FinlockError::invalid("androidSdk", "invalid_field"))?,
            app_version: self.app_version.clone(),
        })
    }
}

/// How the bridge talks to the lender's server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FinlockConfig {
    /// Reported at every check-in.
    pub app_version: String,
    /// The whole exchange's deadline; null = the core's 10 s.
    pub network_deadline_ms: Option<i64>,
    /// Optional pins: SHA-256 of the server's SubjectPublicKeyInfo, 64 hex digits each.
    pub spki_sha256_pins: Vec<String>,
}

/// A code that was accepted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfflineCodeAccepted {
    pub days: i32,
    /// The offline extension now runs until here (Unix ms, trusted time).
    pub extension_until_ms: i64,
    pub decision: Decision,
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReminderKind {
    Upcoming,
    DueToday,
    Overdue,
    FinalWarning,
    OfflineWarning,
}

impl From<CoreKind> for ReminderKind {
    fn from(k: CoreKind) -> ReminderKind {
        match k {
            CoreKind::Upcoming => ReminderKind::Upcoming,
            CoreKind::DueToday => ReminderKind::DueToday,
            CoreKind::Overdue => ReminderKind::Overdue,
            CoreKind::FinalWarning => ReminderKind::FinalWarning,
            CoreKind::OfflineWarning => ReminderKind::OfflineWarning,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl From<CoreSeverity> for Severity {
    fn from(s: CoreSeverity) -> Severity {
        match s {
            CoreSeverity::Info => Severity::Info,
            CoreSeverity::Warning => Severity::Warning,
            CoreSeverity::Critical => Severity::Critical,
        }
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    /// Stable: use it as the notification's identity and pass it to `markReminderShown`.
    pub id: String,
    pub kind: ReminderKind,
    pub severity: Severity,
    /// Overdue payments and lock warnings must not be swipeable.
    pub persistent: bool,
    /// The installment's due date (Unix ms); null for the offline warning.
    pub installment_due_ms: Option<i64>,
    pub amount_minor: i64,
    pub currency: String,
    pub fire_at: Moment,
    // Who to pay and how, from the lender's signed entitlement, so the notification can
    // name them without a second call. Appended last with defaults so Kotlin code that
    // builds a `Reminder` itself (test fakes) still compiles; the core always fills them.
    /// The lender's name.
    #[uniffi(default = "")]
    pub lender_name: String,
    /// The lender's phone: always callable.
    #[uniffi(default = "")]
    pub lender_phone: String,
    /// Where to pay.
    #[uniffi(default = "")]
    pub payment_url: String,
    /// The lender's payment instructions for the requested locale (exact tag, then
    /// language, then English); null when the lender gave none that fits.
    #[uniffi(default = None)]
    pub payment_instructions: Option<String>,
}

impl Reminder {
    pub(crate) fn new(
        r: reminders::Reminder,
        payee: &Payee,
        reading: &Reading,
        clock: &Clock,
    ) -> Reminder {
        Reminder {
            id: r.id,
            kind: r.kind.into(),
            severity: r.severity.into(),
            persistent: r.persistent,
            installment_due_ms: r.installment_due.map(ms),
            amount_minor: to_i64(r.amount_minor),
            currency: r.currency,
            fire_at: Moment::at(r.fire_at, reading, clock),
            lender_name: payee.name.clone(),
            lender_phone: payee.phone.clone(),
            payment_url: payee.payment_url.clone(),
            payment_instructions: payee.payment_instructions.clone(),
        }
    }
}

/// Why the shell must wake next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WakeReason {
    /// The lock decision changes: ask `decision` again.
    Decision,
    /// A reminder is due: ask `reminderDue`.
    Reminder,
    /// A check-in is due: run `checkIn(force = false)` (with a network constraint).
    CheckIn,
}

impl From<device::WakeReason> for WakeReason {
    fn from(r: device::WakeReason) -> WakeReason {
        match r {
            device::WakeReason::Decision => WakeReason::Decision,
            device::WakeReason::Reminder => WakeReason::Reminder,
            device::WakeReason::CheckIn => WakeReason::CheckIn,
        }
    }
}

/// The single alarm to arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Wakeup {
    pub at: Moment,
    pub reason: WakeReason,
}

/// For the settings and about screens, support and debugging. No secrets.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Status {
    pub provisioned: bool,
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub lender_id: Option<String>,
    pub device_id: Option<String>,
    pub state: Option<EntitlementState>,
    /// The sequence number of the stored entitlement.
    pub entitlement_seq: Option<i64>,
    /// Trusted time of the last accepted check-in (or enrollment), Unix ms.
    pub last_checkin_ms: Option<i64>,
    /// When the next check-in is due (0 = as soon as possible), Unix ms.
    pub next_checkin_ms: i64,
    /// Consecutive failed check-ins.
    pub checkin_failures: i32,
    /// Events (codes used, clock changes) waiting to be reported at the next check-in.
    pub pending_events: i32,
    /// Set when the state file was unusable and its last good copy was loaded (a code).
    pub recovered_from: Option<String>,
    pub decision: Decision,
}

impl Status {
    pub(crate) fn new(v: view::Status, recovered_from: Option<String>, clock: &Clock) -> Status {
        let en = v.enrollment.as_ref();
        Status {
            provisioned: v.provisioned,
            enrolled: en.is_some(),
            server_url: v.server_url,
            lender_id: en.map(|e| e.lender_id.clone()),
            device_id: en.map(|e| e.device_id.clone()),
            state: en.map(|e| e.state.into()),
            entitlement_seq: en.map(|e| to_i64(e.seq)),
            last_checkin_ms: en.map(|e| ms(e.last_checkin)),
            next_checkin_ms: ms(v.next_checkin),
            checkin_failures: to_i32(v.checkin_failures),
            pending_events: en.map_or(0, |e| to_i32(e.pending_events)),
            recovered_from,
            decision: Decision::of(&v.evaluation, clock),
        }
    }
}

/// Parses 64 hex digits.
pub(crate) fn parse_pin(hex: &str) -> Result<[u8; 32], FinlockError> {
    let bad = || FinlockError::invalid("spkiSha256Pins", "invalid_field");
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_in_the_past_is_due_now() {
        let clock = Clock {
            wall_ms: 0,
            elapsed_realtime_ms: 5_000,
            boot_count: 1,
        };
        let reading = Reading {
            now_ms: 100_500,
            verified_ms: None,
            clock_jump_s: None,
        };
        assert_eq!(
            Moment::at(160, &reading, &clock),
            Moment {
                trusted_ms: 160_000,
                delay_ms: 59_500,
                elapsed_realtime_ms: 64_500
            }
        );
        assert_eq!(Moment::at(50, &reading, &clock).delay_ms, 0);
    }

    #[test]
    fn every_level_crosses_as_itself() {
        use decision::Level as Core;
        let pairs = [
            (Core::Normal, Level::Normal),
            (Core::Notice, Level::Notice),
            (Core::Restricted, Level::Restricted),
            (Core::Locked, Level::Locked),
        ];
        for (core, bridge) in pairs {
            assert_eq!(Level::from(core), bridge);
        }
    }

    #[test]
    fn the_notice_moments_cross_in_milliseconds() {
        let clock = Clock {
            wall_ms: 0,
            elapsed_realtime_ms: 5_000,
            boot_count: 1,
        };
        let reading = Reading {
            now_ms: 100_000,
            verified_ms: None,
            clock_jump_s: None,
        };
        let d = decision::Decision {
            locked: false,
            level: decision::Level::Notice,
            reason: Some(CoreReason::OverduePayment),
            clock_suspect: false,
            released: false,
            release_at: None,
            next_change: None,
            held_for_notice: true,
            notice_first_shown: Some(90),
            restrict_from: Some(200),
            lock_from: Some(300),
        };
        let out = Decision::new(&d, &reading, &clock);
        assert_eq!(out.level, Level::Notice);
        assert!(out.held_for_notice);
        assert_eq!(out.notice_first_shown_ms, Some(90_000));
        assert_eq!(out.restrict_from_ms, Some(200_000));
        assert_eq!(out.lock_from_ms, Some(300_000));
        assert_eq!(out.reason, Some(LockReason::OverduePayment));
    }

    #[test]
    fn negative_clock_readings_are_refused() {
        let clock = Clock {
            wall_ms: -1,
            elapsed_realtime_ms: -1,
            boot_count: 0,
        };
        assert!(matches!(
            clock.input(),
            Err(FinlockError::InvalidInput { field: Some(f), .. }) if f == "clock.elapsedRealtimeMs"
        ));
    }

    #[test]
    fn pins_are_64_hex_digits() {
        assert_eq!(parse_pin(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert!(parse_pin("ab").is_err());
        assert!(parse_pin(&"zz".repeat(32)).is_err());
    }
}
