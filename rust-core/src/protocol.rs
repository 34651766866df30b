//! Wire types of protocol v1 (PROTOCOL §3) and the field rules every one of them
//! must pass before anything acts on it.
//!
//! Decoding and validation are separate steps on purpose: serde checks the *shape*
//! (types, required members), [`Entitlement::validate`] and friends check the
//! *meaning* (bounds, formats, schemes) and name the exact field that failed, so a
//! lender debugging their own server sees `lender.phone: …`, not "bad request".
//! Unknown members are ignored so later minor versions stay compatible; `v` must be 1.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::{Error, Result};
use crate::hex;
use crate::keys::Jwk;

/// The protocol version this crate speaks.
pub const VERSION: u64 = 1;
/// Times and amounts are integers in `[0, 2^53)` so every JSON implementation reads them exactly.
pub const MAX_SAFE: u64 = 1 << 53;
pub const MAX_INSTALLMENTS: usize = 120;
pub const MAX_REMINDER_OFFSETS: usize = 32;
pub const MAX_LOCALES: usize = 8;
pub const MAX_MESSAGE_CHARS: usize = 350;
pub const MAX_INSTRUCTIONS_CHARS: usize = 200;
pub const MAX_LENDER_NAME_CHARS: usize = 80;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_EVENTS: usize = 64;
/// An offline lock sooner than a day after the last check-in would lock people for
/// a weak signal, not for being out of reach (PROTOCOL.md, field rules).
pub const MIN_OFFLINE_LOCK_AFTER_S: u64 = 86_400;
/// Reminder offsets reach at most a year before (or after) a due date.
pub const MAX_REMINDER_OFFSET_S: i64 = 366 * 86_400;
/// Repeated overdue reminders: not more often than hourly, not rarer than every 90 days.
pub const MIN_OVERDUE_EVERY_S: u64 = 3_600;
pub const MAX_OVERDUE_EVERY_S: u64 = 90 * 86_400;
/// Bytes of a nonce (§3.1, §3.2).
pub const NONCE_LEN: usize = 16;
/// Bytes of the offline-code secret (§3.1).
pub const OFFLINE_SECRET_LEN: usize = 32;

/// Whether plain `http` URLs to loopback and the emulator host are acceptable.
///
/// Only debug builds and the simulator set this; release builds never do, so a
/// lender's signed payment link cannot send a customer to an unencrypted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    pub allow_insecure_loopback: bool,
}

impl UrlPolicy {
    pub const STRICT: UrlPolicy = UrlPolicy {
        allow_insecure_loopback: false,
    };
    pub const DEBUG: UrlPolicy = UrlPolicy {
        allow_insecure_loopback: true,
    };
}

// ---- §3.3 entitlement ---------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementState {
    Active,
    Locked,
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    OverduePayment,
    LenderRequest,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallmentStatus {
    Paid,
    Due,
    Overdue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    pub due: i64,
    pub amount_minor: u64,
    pub status: InstallmentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub currency: String,
    pub amount_due_minor: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<i64>,
    pub installments: Vec<Installment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Seconds before a due date at which an `upcoming` reminder fires.
    pub offsets_s: Vec<i64>,
    pub hour_local: u8,
    pub quiet_start: String,
    pub quiet_end: String,
    /// 0 = no repeated overdue reminders.
    pub overdue_every_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LenderInfo {
    pub name: String,
    pub phone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub payment_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_instructions: Option<BTreeMap<String, String>>,
}

/// The signed statement of what a device may do (§3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    pub v: u64,
    pub iss: String,
    pub sub: String,
    pub seq: u64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub state: EntitlementState,
    pub lock_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_reason: Option<LockReason>,
    /// Paid in full, completing (ADR 0012): the device will be released at this time,
    /// unless a payment is voided first. Nothing is owed meanwhile, so no payment lock
    /// applies; the release itself still comes as a signed `released` entitlement.
    /// Absent in every other case (and in entitlements that predate it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_at: Option<i64>,
    pub next_checkin: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_lock_after_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_warning_s: Option<u64>,
    pub account: Account,
    pub reminders: ReminderPolicy,
    pub lender: LenderInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<BTreeMap<String, String>>,
    /// The ladder from good standing to locked (§3.7); absent = [`Escalation::implied_by`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

impl Entitlement {
    /// Checks every field rule of §3.3; the first broken rule is returned with its path.
    ///
    /// The envelope (version, ids, `seq`, times, nonce), then the plan's terms
    /// ([`PlanTerms::validate`]), then the lender block ([`LenderInfo::validate`]) and the
    /// message ([`check_display_text`]): each rule lives once, in the part it belongs to.
    pub fn validate(&self, urls: UrlPolicy) -> Result<()> {
        check_version(self.v)?;
        check_id("iss", &self.iss)?;
        check_id("sub", &self.sub)?;
        check_u64("seq", self.seq)?;
        check_time("iat", self.iat)?;
        if let Some(nonce) = &self.nonce {
            check_b64_len("nonce", nonce, NONCE_LEN)?;
        }
        check_time("next_checkin", self.next_checkin)?;
        if let Some(release_at) = self.release_at {
            check_time("release_at", release_at)?;
            if self.state == EntitlementState::Released {
                return Err(Error::invalid(
                    "release_at",
                    "absent once released (released is already final)",
                ));
            }
        }
        self.terms().validate()?;
        self.lender.validate(urls)?;
        if let Some(message) = &self.message {
            check_localized("message", message, MAX_MESSAGE_CHARS)?;
        }
        if let Some(escalation) = &self.escalation {
            escalation.validate(self)?;
        }
        Ok(())
    }

    /// The ladder this entitlement signs, or the one a v1 entitlement without it implies.
    pub fn ladder(&self) -> Escalation {
        self.escalation
            .clone()
            .unwrap_or_else(|| Escalation::implied_by(self.lock_at))
    }

    /// What the lender's plan put into this entitlement.
    pub fn terms(&self) -> PlanTerms<'_> {
        PlanTerms {
            account: &self.account,
            reminders: &self.reminders,
            lock_at: self.lock_at,
            offline_lock_after_s: self.offline_lock_after_s,
            offline_warning_s: self.offline_warning_s,
        }
    }

    /// The release date of a paid-in-full device that is completing (ADR 0012): the
    /// device stays unlocked and says when it will be released; `None` otherwise.
    pub fn completing_until(&self) -> Option<i64> {
        match self.state {
            EntitlementState::Released => None,
            _ => self.release_at,
        }
    }

    /// The lender's message in the best matching locale (exact tag, then language, then none).
    pub fn message_for(&self, locale: &str) -> Option<&str> {
        self.message.as_ref().and_then(|m| pick_locale(m, locale))
    }
}

/// Picks the text for `locale` from a locale map: exact tag, then same primary
/// language, then English, then nothing (never a random language).
pub fn pick_locale<'a>(texts: &'a BTreeMap<String, String>, locale: &str) -> Option<&'a str> {
    let wanted = locale.replace('_', "-");
    let primary = |tag: &str| tag.split('-').next().unwrap_or("").to_ascii_lowercase();
    texts
        .iter()
        .find(|(tag, _)| tag.eq_ignore_ascii_case(&wanted))
        .or_else(|| {
            texts
                .iter()
                .find(|(tag, _)| primary(tag) == primary(&wanted))
        })
        .or_else(|| texts.iter().find(|(tag, _)| primary(tag) == "en"))
        .map(|(_, text)| text.as_str())
}

/// What an installment plan puts into every entitlement: the account, the reminder
/// policy, the payment lock and the offline policy — everything of §3.3 but the envelope
/// (ids, `seq`, times of issue, nonce) and the lender block.
///
/// [`Entitlement::validate`] checks these parts through [`PlanTerms::validate`], so a
/// server checks a plan once, when the device is registered, with exactly the device's
/// rules and without building a probe entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTerms<'a> {
    pub account: &'a Account,
    pub reminders: &'a ReminderPolicy,
    pub lock_at: i64,
    pub offline_lock_after_s: Option<u64>,
    pub offline_warning_s: Option<u64>,
}

impl PlanTerms<'_> {
    /// The §3.3 rules on the plan's terms, each failure named by its path in the
    /// entitlement (`lock_at`, `offline_warning_s`, `account.installments[3].due`,
    /// `reminders.hour_local`, …).
    pub fn validate(&self) -> Result<()> {
        check_time("lock_at", self.lock_at)?;
        check_offline_policy(self.offline_lock_after_s, self.offline_warning_s)?;
        self.account.validate()?;
        self.reminders.validate()
    }
}

/// An offline lock at least a day after the last check-in; a warning only with an offline
/// lock, and shorter than it.
fn check_offline_policy(lock_after_s: Option<u64>, warning_s: Option<u64>) -> Result<()> {
    if let Some(after) = lock_after_s {
        check_u64("offline_lock_after_s", after)?;
        if after < MIN_OFFLINE_LOCK_AFTER_S {
            return Err(Error::invalid(
                "offline_lock_after_s",
                "must be at least one day",
            ));
        }
    }
    if let Some(warn) = warning_s {
        check_u64("offline_warning_s", warn)?;
        if lock_after_s.is_none_or(|after| warn >= after) {
            return Err(Error::invalid(
                "offline_warning_s",
                "needs offline_lock_after_s and must be shorter",
            ));
        }
    }
    Ok(())
}

impl Account {
    /// The §3.3 rules for the account block: an ISO 4217 currency, amounts and due dates
    /// in `[0, 2^53)`, at most [`MAX_INSTALLMENTS`] installments.
    pub fn validate(&self) -> Result<()> {
        check_currency("account.currency", &self.currency)?;
        check_u64("account.amount_due_minor", self.amount_due_minor)?;
        if let Some(next_due) = self.next_due {
            check_time("account.next_due", next_due)?;
        }
        if self.installments.len() > MAX_INSTALLMENTS {
            return Err(Error::invalid(
                "account.installments",
                "at most 120 installments",
            ));
        }
        for (i, inst) in self.installments.iter().enumerate() {
            check_time(&format!("account.installments[{i}].due"), inst.due)?;
            check_u64(
                &format!("account.installments[{i}].amount_minor"),
                inst.amount_minor,
            )?;
        }
        Ok(())
    }
}

impl ReminderPolicy {
    /// The §3.3 rules for the reminder policy: at most [`MAX_REMINDER_OFFSETS`] offsets of
    /// at most [`MAX_REMINDER_OFFSET_S`] either way, `hour_local` in 0..23, quiet hours as
    /// `HH:MM`, and `overdue_every_s` 0 or between [`MIN_OVERDUE_EVERY_S`] and
    /// [`MAX_OVERDUE_EVERY_S`]. A server checks a lender's policy with it when it is set.
    pub fn validate(&self) -> Result<()> {
        if self.offsets_s.len() > MAX_REMINDER_OFFSETS {
            return Err(Error::invalid("reminders.offsets_s", "at most 32 offsets"));
        }
        for (i, off) in self.offsets_s.iter().enumerate() {
            if off.unsigned_abs() > MAX_REMINDER_OFFSET_S as u64 {
                return Err(Error::invalid(
                    format!("reminders.offsets_s[{i}]"),
                    "offsets reach at most 366 days",
                ));
            }
        }
        if self.hour_local > 23 {
            return Err(Error::invalid("reminders.hour_local", "must be 0..23"));
        }
        parse_hhmm(&self.quiet_start)
            .ok_or_else(|| Error::invalid("reminders.quiet_start", "must be HH:MM"))?;
        parse_hhmm(&self.quiet_end)
            .ok_or_else(|| Error::invalid("reminders.quiet_end", "must be HH:MM"))?;
        if self.overdue_every_s != 0
            && !(MIN_OVERDUE_EVERY_S..=MAX_OVERDUE_EVERY_S).contains(&self.overdue_every_s)
        {
            return Err(Error::invalid(
                "reminders.overdue_every_s",
                "0, or between one hour and 90 days",
            ));
        }
        Ok(())
    }
}

impl LenderInfo {
    /// The §3.3/§8 rules for the lender block, on their own: a server checks a lender's
    /// details with them once, when they are entered, rather than on every entitlement.
    pub fn validate(&self, urls: UrlPolicy) -> Result<()> {
        check_text("lender.name", &self.name, 1, MAX_LENDER_NAME_CHARS, false)?;
        check_phone("lender.phone", &self.phone)?;
        if let Some(email) = &self.email {
            check_email("lender.email", email)?;
        }
        check_url("lender.payment_url", &self.payment_url, urls)?;
        if let Some(url) = &self.support_url {
            check_url("lender.support_url", url, urls)?;
        }
        if let Some(url) = &self.terms_url {
            check_url("lender.terms_url", url, urls)?;
        }
        if let Some(instructions) = &self.payment_instructions {
            check_localized(
                "lender.payment_instructions",
                instructions,
                MAX_INSTRUCTIONS_CHARS,
            )?;
        }
        Ok(())
    }
}

// ---- §3.1 enrollment, §3.2 check-in ---------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub v: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_code: Option<String>,
    pub device_key: Jwk,
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_sha256: Option<String>,
    pub model: String,
    pub android_sdk: u32,
    pub app_version: String,
    /// The `keys_seq` of the device's pinned lender key set (ADR 0007); 0 is omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keys_seq: u64,
    /// Hardware proof for an enrollment by IMEI (§3.1, ADR 0011).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<EnrollAttestation>,
    /// Where to wake the device (PROTOCOL "Wake-up push"): a Web Push endpoint, `""` for
    /// none any more, absent for no change. Read it with [`push_endpoint`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_endpoint: Option<String>,
}

impl EnrollRequest {
    /// The field rules with `push_endpoint` held to `https` ([`UrlPolicy::STRICT`]); a
    /// receiver that allows plain http to loopback (the simulator, tests) uses
    /// [`EnrollRequest::validate_with`].
    pub fn validate(&self) -> Result<()> {
        self.validate_with(UrlPolicy::STRICT)
    }

    /// The field rules, `push_endpoint` under `urls` (§8.3).
    pub fn validate_with(&self, urls: UrlPolicy) -> Result<()> {
        check_version(self.v)?;
        if let Some(code) = &self.enrollment_code {
            check_enrollment_code("enrollment_code", code)?;
        }
        crate::keys::PublicKey::from_jwk(&self.device_key)
            .map_err(|_| Error::invalid("device_key", "not an Ed25519 public JWK"))?;
        check_b64_len("nonce", &self.nonce, NONCE_LEN)?;
        if let Some(h) = &self.imei_sha256 {
            check_hex_sha256("imei_sha256", h)?;
        }
        if let Some(h) = &self.serial_sha256 {
            check_hex_sha256("serial_sha256", h)?;
        }
        if self.enrollment_code.is_none()
            && self.imei_sha256.is_none()
            && self.serial_sha256.is_none()
        {
            return Err(Error::invalid(
                "enrollment_code",
                "an enrollment code or a hardware hash is required",
            ));
        }
        check_text("model", &self.model, 0, 64, false)?;
        if self.android_sdk > 1000 {
            return Err(Error::invalid("android_sdk", "out of range"));
        }
        check_text("app_version", &self.app_version, 1, 32, false)?;
        check_u64("keys_seq", self.keys_seq)?;
        if let Some(attestation) = &self.attestation {
            if self.imei_sha256.is_none() {
                return Err(Error::invalid(
                    "attestation",
                    "only with imei_sha256: it proves the IMEI",
                ));
            }
            attestation.decode()?;
        }
        if let Some(endpoint) = &self.push_endpoint {
            push_endpoint(endpoint, urls)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub entitlement: String,
    pub offline_secret: String,
    /// The server's VAPID public key (PROTOCOL "Wake-up push"); not signed, not trusted. A
    /// malformed one reads as absent: it never fails the answer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "push::lenient_push_key"
    )]
    pub push_key: Option<String>,
}

impl EnrollResponse {
    pub fn validate(&self) -> Result<()> {
        check_id("device_id", &self.device_id)?;
        check_b64_len("offline_secret", &self.offline_secret, OFFLINE_SECRET_LEN)?;
        Ok(())
    }
}

/// Something the server cannot otherwise know, reported at the next check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An offline code was accepted: the counter it was computed for, the days it
    /// granted, the trusted time of entry.
    OfflineCodeUsed { counter: u64, days: u16, at: i64 },
    /// The wall clock moved by this much relative to the monotonic clock.
    ClockJump { delta_s: i64 },
    /// The notice page was first displayed at this trusted time (§3.7).
    NoticeShown { at: i64 },
    /// A type from a later minor version; servers ignore it.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinRequest {
    pub v: u64,
    pub device_id: String,
    pub nonce: String,
    pub seq_seen: u64,
    pub state: EntitlementState,
    pub locked: bool,
    pub app_version: String,
    pub wall_clock: i64,
    pub uptime_ms: u64,
    #[serde(default)]
    pub events: Vec<Event>,
    /// The `keys_seq` of the device's pinned lender key set (ADR 0007); 0 is omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keys_seq: u64,
    /// As in [`EnrollRequest::push_endpoint`]: sent when it changed since the last accepted
    /// check-in, not on every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_endpoint: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl CheckinRequest {
    /// The field rules with `push_endpoint` held to `https`; see [`EnrollRequest::validate`].
    pub fn validate(&self) -> Result<()> {
        self.validate_with(UrlPolicy::STRICT)
    }

    /// The field rules, `push_endpoint` under `urls` (§8.3).
    pub fn validate_with(&self, urls: UrlPolicy) -> Result<()> {
        check_version(self.v)?;
        check_id("device_id", &self.device_id)?;
        check_b64_len("nonce", &self.nonce, NONCE_LEN)?;
        check_u64("seq_seen", self.seq_seen)?;
        check_text("app_version", &self.app_version, 1, 32, false)?;
        // The device's wall clock is reported, not trusted: any i64 is a fact about the device.
        check_u64("uptime_ms", self.uptime_ms)?;
        check_u64("keys_seq", self.keys_seq)?;
        if self.events.len() > MAX_EVENTS {
            return Err(Error::invalid("events", "at most 64 events"));
        }
        if let Some(endpoint) = &self.push_endpoint {
            push_endpoint(endpoint, urls)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinResponse {
    pub entitlement: String,
    /// As in [`EnrollResponse::push_key`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "push::lenient_push_key"
    )]
    pub push_key: Option<String>,
}

// ---- decoding -------------------------------------------------------------------------

#[derive(Deserialize)]
struct VersionProbe {
    v: u64,
}

/// Decodes a verified payload: one JSON object, no duplicate keys, `v` = 1, then the
/// full shape of `T`. A payload from a later major version reports
/// [`Error::UnsupportedVersion`] rather than whatever field it happens to lack.
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    crate::json::check_object_without_duplicates(bytes)?;
    let probe: VersionProbe = crate::json::decode_checked(bytes)?;
    check_version(probe.v)?;
    crate::json::decode_checked(bytes)
}

// ---- identifiers ------------------------------------------------------------------------

/// Digits of an IMEI: 14 without its check digit, 15 with it, 16 for an IMEISV.
pub const IMEI_DIGITS: std::ops::RangeInclusive<usize> = 14..=16;

/// An IMEI in its one canonical form: 14 to 16 ASCII digits, nothing else.
///
/// Everyone who meets an IMEI — a clerk registering a sale, the phone enrolling — parses
/// it with [`Imei::parse`] and hashes the canonical digits with [`Imei::sha256`], so the
/// lender's hash and the phone's meet whatever either side typed or read. Plain digits are
/// their own canonical form.
///
/// An IMEI is personal data that travels only hashed (§1): `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Imei(String);

impl Imei {
    /// Reads an IMEI as people write it: 14 to 16 digits, with spaces and dashes anywhere
    /// ignored (`35-209900-176148-1`, `35 209900 176148 1`). Any other character — a
    /// letter, a dot, a non-ASCII digit — is refused (`imei`: invalid field).
    pub fn parse(text: &str) -> Result<Imei> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if IMEI_DIGITS.contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Imei(digits))
        } else {
            Err(Error::invalid("imei", "14 to 16 digits"))
        }
    }

    /// The canonical digits.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `imei_sha256` of §1 over the canonical digits.
    pub fn sha256(&self) -> String {
        imei_sha256(&self.0)
    }
}

impl fmt::Debug for Imei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Imei(<redacted>)")
    }
}

/// `imei_sha256` of §1 over exactly the text given: the IMEI never travels in the clear.
/// Hash what [`Imei::parse`] made of the input ([`Imei::sha256`]), not raw input.
pub fn imei_sha256(imei: &str) -> String {
    hex::sha256(&[b"finlock-imei:", imei.as_bytes()])
}

/// `serial_sha256` of §1.
pub fn serial_sha256(serial: &str) -> String {
    hex::sha256(&[b"finlock-serial:", serial.as_bytes()])
}

// ---- field rules ------------------------------------------------------------------------

fn check_version(v: u64) -> Result<()> {
    if v == VERSION {
        Ok(())
    } else {
        Err(Error::UnsupportedVersion { found: v })
    }
}

fn check_u64(field: &str, value: u64) -> Result<()> {
    if value < MAX_SAFE {
        Ok(())
    } else {
        Err(Error::invalid(field, "must be below 2^53"))
    }
}

fn check_time(field: &str, t: i64) -> Result<()> {
    if (0..MAX_SAFE as i64).contains(&t) {
        Ok(())
    } else {
        Err(Error::invalid(field, "a time in [0, 2^53)"))
    }
}

/// `device_id` and lender ids: 1–64 of `[A-Za-z0-9_-]` (§1).
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_id(field: &str, id: &str) -> Result<()> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(Error::invalid(field, "1-64 characters of [A-Za-z0-9_-]"))
    }
}

fn check_enrollment_code(field: &str, code: &str) -> Result<()> {
    if (4..=64).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(())
    } else {
        Err(Error::invalid(field, "4-64 characters of [A-Za-z0-9-]"))
    }
}

fn check_b64_len(field: &str, text: &str, len: usize) -> Result<()> {
    match b64::decode(text) {
        Some(bytes) if bytes.len() == len => Ok(()),
        _ => Err(Error::invalid(
            field,
            "wrong length or not canonical base64url",
        )),
    }
}

fn check_hex_sha256(field: &str, text: &str) -> Result<()> {
    if text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Error::invalid(field, "64 lower-case hex digits"))
    }
}

fn check_currency(field: &str, code: &str) -> Result<()> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Error::invalid(field, "three upper-case letters (ISO 4217)"))
    }
}

/// A dialable number: `+` and 6–15 digits (E.164). Nothing else, so a signed
/// entitlement cannot make the lock screen dial an MMI/USSD code (`*#…#`).
pub fn is_valid_phone(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn check_phone(field: &str, phone: &str) -> Result<()> {
    if is_valid_phone(phone) {
        Ok(())
    } else {
        Err(Error::invalid(field, "+ and 6-15 digits"))
    }
}

fn check_email(field: &str, email: &str) -> Result<()> {
    let ok = email.len() <= MAX_EMAIL_CHARS
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        })
        && email.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b',' | b';')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "an e-mail address of at most 254 characters",
        ))
    }
}

/// The display-text rule (§8.2) for text a lock screen or notification shows as it is —
/// a lender's message or payment instructions, the reason of a lender lock: 1 to
/// `max_chars` characters, line breaks allowed, no other control character and no
/// bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069). `field` names the
/// text in the error.
pub fn check_display_text(field: &str, text: &str, max_chars: usize) -> Result<()> {
    check_text(field, text, 1, max_chars, true)
}

/// Display text: bounded in characters (not bytes, so every script gets the same
/// room), no control characters except line breaks where `multiline`, no bidi overrides.
/// The one implementation behind [`check_display_text`] and every name and label rule.
fn check_text(field: &str, text: &str, min: usize, max: usize, multiline: bool) -> Result<()> {
    let chars = text.chars().count();
    if chars < min || chars > max {
        return Err(Error::invalid(field, "length out of bounds"));
    }
    let bad_char = |c: char| {
        (c.is_control() && !(multiline && c == '\n'))
            // Bidi overrides can make a lock screen say something other than what was signed.
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().any(bad_char) {
        return Err(Error::invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

fn check_localized(field: &str, texts: &BTreeMap<String, String>, max: usize) -> Result<()> {
    if texts.len() > MAX_LOCALES {
        return Err(Error::invalid(field, "at most 8 locales"));
    }
    for (tag, text) in texts {
        if !is_valid_locale_tag(tag) {
            return Err(Error::invalid(field, "keys are BCP-47 language tags"));
        }
        check_display_text(&format!("{field}.{tag}"), text, max)?;
    }
    Ok(())
}

/// A BCP-47 tag in its common shape: 2–3 letter language, then 1–8 character
/// alphanumeric subtags (`en`, `pt-BR`, `sw-KE`, `zh-Hant-TW`, `es-419`).
pub fn is_valid_locale_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    lang_ok
        && tag.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `HH:MM` → minutes after midnight.
pub fn parse_hhmm(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return None;
    }
    let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Where a URL points, as far as the scheme rules care.
fn check_url(field: &str, url: &str, policy: UrlPolicy) -> Result<()> {
    match classify_url(url) {
        Some(UrlKind::Https) => Ok(()),
        Some(UrlKind::HttpLocal) if policy.allow_insecure_loopback => Ok(()),
        Some(UrlKind::HttpLocal) => Err(Error::invalid(
            field,
            "plain http is only allowed to loopback in debug builds",
        )),
        Some(UrlKind::HttpRemote) => Err(Error::invalid(field, "must be https")),
        None => Err(Error::invalid(field, "not a valid web URL")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlKind {
    Https,
    HttpLocal,
    HttpRemote,
}

/// A deliberately narrow URL grammar: `http(s)://host[:port][/path][?query][#frag]`,
/// printable ASCII only (internationalised names must arrive as punycode, which also
/// rules out look-alike hosts), no user-info (`https://bank.example@evil.example`).
fn classify_url(url: &str) -> Option<UrlKind> {
    if url.len() > MAX_URL_LEN
        || !url.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'\\' | b'<' | b'>' | b'"' | b'`' | b'{' | b'}' | b'|' | b'^'
                )
        })
    {
        return None;
    }
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (secure, rest) = if lower.starts_with("https://") {
        (true, &url[8..])
    } else if lower.starts_with("http://") {
        (false, &url[7..])
    } else {
        return None;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return None;
    }
    let (host, port) = split_host_port(authority)?;
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match port.parse::<u32>() {
            Ok(1..=65535) => {}
            _ => return None,
        }
    }
    let local = match host {
        Host::Ip(ip) => is_local_ip(ip),
        Host::Name(name) => name.eq_ignore_ascii_case("localhost"),
    };
    Some(match (secure, local) {
        (true, _) => UrlKind::Https,
        (false, true) => UrlKind::HttpLocal,
        (false, false) => UrlKind::HttpRemote,
    })
}

enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

fn split_host_port(authority: &str) -> Option<(Host<'_>, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = ip.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((Host::Ip(IpAddr::V6(ip)), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some((Host::Ip(IpAddr::V4(ip)), port));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let labels_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // An all-numeric dotted name that failed to parse as IPv4 is ambiguous (e.g. "1.2.3").
        && !name.split('.').next_back().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    labels_ok.then_some((Host::Name(host), port))
}

/// Loopback, and the Android emulator's alias for the host machine.
fn is_local_ip(ip: IpAddr) -> bool {
    ip.is_loopback() || ip == IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))
}

/// Whether `url` is acceptable under `policy` (the same rule as entitlement URLs);
/// the device uses it for its own server URL too.
pub fn is_acceptable_url(url: &str, policy: UrlPolicy) -> bool {
    check_url("url", url, policy).is_ok()
}

mod attestation;
mod enroll_answer;
mod escalation;
mod push;
#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;

pub use attestation::{
    ATTESTATION_CHALLENGE_LEN, BINDING_LABEL, BINDING_LEN, DecodedAttestation, EnrollAttestation,
    MAX_ATTESTATION_CHAIN, MAX_ATTESTATION_CHAIN_BYTES, MAX_ATTESTATION_SIGNATURE,
    MIN_ATTESTATION_CHAIN, binding_message,
};
pub use enroll_answer::{EnrollAnswer, MAX_PENDING_RETRY_S, MIN_PENDING_RETRY_S, PendingApproval};
pub use escalation::{
    Escalation, MAX_ESSENTIALS, MAX_NOTICE_MIN_S, MAX_PACKAGE_NAME_LEN, MAX_PAYMENT_APPS,
    NOTICE_FLOOR_S, is_valid_package_name,
};
pub use push::{MAX_PUSH_ENDPOINT_LEN, PUSH_KEY_LEN, push_endpoint, push_key};

/// Serializes and signs a payload as a compact JWS of type `typ`.
pub fn sign_payload<T: Serialize>(
    payload: &T,
    typ: &str,
    sign: impl FnOnce(&str, &[u8]) -> String,
) -> Result<String> {
    let bytes = serde_json::to_vec(payload).map_err(|e| Error::PayloadMalformed {
        detail: e.to_string(),
    })?;
    Ok(sign(typ, &bytes))
}

impl Entitlement {
    /// Signs this entitlement with the lender's key (`finlock-entitlement+jws`).
    pub fn sign(&self, key: &crate::keys::LenderKey) -> Result<String> {
        sign_payload(self, crate::jws::typ::ENTITLEMENT, |typ, bytes| {
            key.sign_compact(typ, bytes)
        })
    }
}
