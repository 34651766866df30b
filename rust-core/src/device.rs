//! What a financed device does, as state transitions over [`DeviceState`], and the
//! one I/O edge that makes them durable ([`Device`]).
//!
//! Every operation works on a copy of the state and is written to disk only when it
//! succeeds ([`Device::update`]), so a rejected message, a network fault or a crash
//! in the middle leaves the stored state exactly as it was. The one deliberate
//! exception is a wrong offline code: counting it is the point, so it is stored.
//!
//! The network itself is not here: an operation produces the signed request body,
//! and takes the body of the server's HTTP 200 answer. Whoever moves the bytes
//! (the check-in client, the simulator, a test) cannot change what is decided.

use std::fmt;
use std::path::PathBuf;

use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::clock::{ClockInput, Reading, TrustedClock};
use crate::decision::{self, Decision, DecisionInput, Ladder};
use crate::entitlement::{self, AcceptRules};
use crate::error::{Error, Result};
use crate::jws;
use crate::keys::{DeviceKey, KeySet};
use crate::keyset::{self, ChainRules, KeyChain};
use crate::offline_code::{self, AcceptedCode, OfflineCodeState};
use crate::protocol::{
    self, CheckinRequest, EnrollRequest, EnrollResponse, Entitlement, EntitlementState, Event,
    Imei, UrlPolicy,
};
use crate::reminders::{self, FiredReminders, Reminder, ScheduleInput};
use crate::schedule::CheckinSchedule;
use crate::store::Store;

/// Secret material kept in the state file: printed as `<redacted>`, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn from_bytes(bytes: &[u8]) -> Secret {
        Secret(b64::encode(bytes))
    }

    pub fn bytes(&self) -> Result<Vec<u8>> {
        b64::decode(&self.0).ok_or(Error::StoreDecode {
            detail: "a stored secret is not base64url".into(),
        })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What the device is given at provisioning (QR extras or the OEM image): where its
/// lender's server is and which keys it trusts. Never learned from the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioning {
    pub server_url: String,
    /// The pinned set with its `keys_seq`: provisioning's, then each rotated set a signed
    /// chain led to (ADR 0007). A state written before rotation existed reads as set 0.
    pub lender_keys: KeySet,
    /// Debug builds and the simulator may talk plain http to loopback (§3.3).
    pub allow_insecure_loopback: bool,
}

impl Provisioning {
    pub fn url_policy(&self) -> UrlPolicy {
        UrlPolicy {
            allow_insecure_loopback: self.allow_insecure_loopback,
        }
    }
}

/// An enrollment that was sent but not yet answered. The key is kept so a retry
/// after a lost answer presents the same key (the server can recognise it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEnrollment {
    pub device_key: Secret,
    pub nonce: String,
    /// The attestation challenge `nonce` was bound to ([`DeviceState::attestation_binding`]):
    /// the next enroll request carrying that challenge's proof reuses `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_challenge: Option<String>,
    /// The push endpoint the request carried, which the server has once it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_endpoint: Option<String>,
}

/// The bound relationship with the lender, from enrollment on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub lender_id: String,
    pub device_id: String,
    pub device_key: Secret,
    pub offline_secret: Secret,
    /// The last accepted entitlement, as received (evidence) and as decoded.
    pub entitlement_jws: String,
    pub entitlement: Entitlement,
    /// Trusted time of the last accepted entitlement.
    pub last_successful_checkin: i64,
    #[serde(default)]
    pub offline: OfflineCodeState,
    /// Reported at the next check-in; cleared once an answer to it is accepted.
    #[serde(default)]
    pub pending_events: Vec<Event>,
    /// The nonce of the check-in in flight, if any.
    #[serde(default)]
    pub outstanding_nonce: Option<String>,
    /// Which reminders were already shown, so a restart does not repeat them.
    #[serde(default)]
    pub reminders: FiredReminders,
    /// The notice page displayed in this episode (§3.7); absent in stores that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<NoticeRecord>,
}

/// Everything the device persists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceState {
    pub provisioning: Option<Provisioning>,
    #[serde(default)]
    pub pending_enrollment: Option<PendingEnrollment>,
    pub enrollment: Option<Enrollment>,
    #[serde(default)]
    pub clock: TrustedClock,
    #[serde(default)]
    pub checkin: CheckinSchedule,
    /// The wake-up push registration (ADR 0014).
    #[serde(default)]
    pub push: PushState,
}

/// Device facts sent at enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollParams {
    pub enrollment_code: Option<String>,
    /// As the platform reports it; sent as the hash of its canonical form ([`Imei`]), the
    /// same the lender registered.
    pub imei: Option<String>,
    pub serial: Option<String>,
    pub model: String,
    pub android_sdk: u32,
    pub app_version: String,
}

/// A signed request body ready to send, with the nonce its answer must echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub nonce: String,
    /// How many pending events the body carries.
    pub events_sent: usize,
    /// The push endpoint the body carries (`Some("")`: "none any more"), if any.
    pub push_endpoint: Option<String>,
}

/// The answer of an evaluation: trusted time and the decision at that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    pub reading: Reading,
    pub decision: Decision,
}

/// Why the shell must wake next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WakeReason {
    /// The lock decision changes by itself (a lock, or a clock-suspect lock confirmed).
    Decision,
    /// A reminder is due.
    Reminder,
    /// A check-in is due.
    CheckIn,
}

/// The single alarm the shell arms: a moment in trusted time and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wakeup {
    pub at: i64,
    pub reason: WakeReason,
}

/// Pending events are bounded like the check-in that carries them.
const MAX_PENDING_EVENTS: usize = protocol::MAX_EVENTS;

fn fresh_nonce(rng: &dyn SecureRandom) -> Result<String> {
    let mut bytes = [0u8; protocol::NONCE_LEN];
    rng.fill(&mut bytes).map_err(|_| Error::KeyRejected {
        reason: "random source failed",
    })?;
    Ok(b64::encode(bytes))
}

impl DeviceState {
    /// Pins the lender's keys and server. Refused once enrolled: the binding is for good.
    pub fn provision(
        &mut self,
        server_url: &str,
        lender_keys: KeySet,
        allow_insecure_loopback: bool,
    ) -> Result<()> {
        if self.enrollment.is_some() {
            return Err(Error::AlreadyEnrolled);
        }
        check_server_url(server_url, allow_insecure_loopback)?;
        self.provisioning = Some(Provisioning {
            server_url: server_url.to_string(),
            lender_keys,
            allow_insecure_loopback,
        });
        self.pending_enrollment = None;
        Ok(())
    }

    /// Points a provisioned device (enrolled or not) at another URL of its server, for
    /// testers moving between the emulator's host and a tunnel. Only the URL and its
    /// loopback allowance change: the pinned keys, the binding and the sequence checks stay,
    /// so the wrong server can make check-ins fail but never unlock or lock anything.
    pub fn set_server_url(
        &mut self,
        server_url: &str,
        allow_insecure_loopback: bool,
    ) -> Result<()> {
        let provisioning = self.provisioning.as_mut().ok_or(Error::NotEnrolled)?;
        check_server_url(server_url, allow_insecure_loopback)?;
        provisioning.server_url = server_url.to_string();
        provisioning.allow_insecure_loopback = allow_insecure_loopback;
        Ok(())
    }

    fn provisioning(&self) -> Result<&Provisioning> {
        self.provisioning.as_ref().ok_or(Error::NotEnrolled)
    }

    /// The enrolled part, or [`Error::NotEnrolled`].
    pub fn enrolled(&self) -> Result<&Enrollment> {
        self.enrollment.as_ref().ok_or(Error::NotEnrolled)
    }

    /// Builds the signed enrollment request (§3.1), keeping the key across retries.
    pub fn enroll_request(
        &mut self,
        params: &EnrollParams,
        rng: &dyn SecureRandom,
    ) -> Result<Outgoing> {
        self.enroll_request_with(params, None, rng)
    }

    /// [`DeviceState::enroll_request`], with the hardware proof of an enrollment by IMEI
    /// when there is one (§3.1, ADR 0011): its challenge must be the one the last
    /// [`DeviceState::attestation_binding`] bound, whose nonce the request then carries.
    pub fn enroll_request_with(
        &mut self,
        params: &EnrollParams,
        proof: Option<&attested::AttestationProof>,
        rng: &dyn SecureRandom,
    ) -> Result<Outgoing> {
        if self.enrollment.is_some() {
            return Err(Error::AlreadyEnrolled);
        }
        self.provisioning()?;
        let imei_sha256 = match params.imei.as_deref() {
            Some(raw) => Some(Imei::parse(raw)?.sha256()),
            None => None,
        };
        let key = match &self.pending_enrollment {
            Some(p) => DeviceKey::from_pkcs8(&p.device_key.bytes()?, None)?,
            None => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed).map_err(|_| Error::KeyRejected {
                    reason: "random source failed",
                })?;
                DeviceKey::from_seed(&seed, None)?
            }
        };
        let (nonce, attestation) = match proof {
            None => (fresh_nonce(rng)?, None),
            Some(p) => attested::bound_nonce(self.pending_enrollment.as_ref(), p)?,
        };
        let push_endpoint = self.push.for_enrollment(self.provisioning()?.url_policy());
        let request = EnrollRequest {
            v: protocol::VERSION,
            enrollment_code: params.enrollment_code.clone(),
            device_key: key.public().to_jwk(),
            nonce: nonce.clone(),
            imei_sha256,
            serial_sha256: params.serial.as_deref().map(protocol::serial_sha256),
            model: params.model.clone(),
            android_sdk: params.android_sdk,
            app_version: params.app_version.clone(),
            keys_seq: self.provisioning()?.lender_keys.keys_seq(),
            attestation,
            push_endpoint: push_endpoint.clone(),
        };
        request.validate_with(self.provisioning()?.url_policy())?;
        let body = protocol::sign_payload(&request, jws::typ::ENROLL, |typ, bytes| {
            key.sign_compact(typ, bytes)
        })?;
        // A request without proof draws a new nonce: the binding's is gone.
        let bound_challenge = proof.and_then(|_| {
            self.pending_enrollment
                .as_ref()
                .and_then(|p| p.bound_challenge.clone())
        });
        self.pending_enrollment = Some(PendingEnrollment {
            device_key: Secret::from_bytes(key.pkcs8()),
            nonce: nonce.clone(),
            bound_challenge,
            push_endpoint: push_endpoint.clone(),
        });
        Ok(Outgoing {
            body,
            nonce,
            events_sent: 0,
            push_endpoint,
        })
    }

    /// Accepts the server's HTTP 200 answer to the enrollment (§3.1): the entitlement
    /// must verify against a pinned key, echo the nonce and name the assigned id.
    pub fn complete_enrollment(
        &mut self,
        response: &[u8],
        clock: &ClockInput,
    ) -> Result<Evaluation> {
        if self.enrollment.is_some() {
            return Err(Error::AlreadyEnrolled);
        }
        let pending = self.pending_enrollment.clone().ok_or(Error::NotEnrolled)?;
        let provisioning = self.provisioning()?.clone();
        let answer: EnrollResponse = crate::json::decode_object(response)?;
        answer.validate()?;
        // Key sets the lender rotated to since this device's set was pinned (a QR printed
        // before a rotation): applied first, the entitlement judged against the result,
        // and both stored together or neither (ADR 0007).
        let chain: KeyChain = crate::json::decode_object(response)?;
        let applied = keyset::apply_chain(
            &chain.keys,
            &ChainRules {
                pinned: &provisioning.lender_keys,
                lender_id: None,
                stored_state: None,
            },
        )?;
        let rules = AcceptRules {
            pinned: &applied.keys,
            lender_id: applied.iss.as_deref(),
            device_id: &answer.device_id,
            stored_seq: None,
            stored_state: None,
            expected_nonce: Some(&pending.nonce),
            urls: provisioning.url_policy(),
        };
        let e = entitlement::accept(&answer.entitlement, &rules)?;
        let offline_secret = b64::decode(&answer.offline_secret)
            .ok_or(Error::invalid("offline_secret", "not canonical base64url"))?;
        self.clock.anchor(e.iat, clock);
        if let Some(p) = self.provisioning.as_mut() {
            p.lender_keys = applied.keys;
        }
        self.enrollment = Some(Enrollment {
            lender_id: e.iss.clone(),
            device_id: answer.device_id,
            device_key: pending.device_key,
            offline_secret: Secret::from_bytes(&offline_secret),
            entitlement_jws: answer.entitlement,
            last_successful_checkin: e.iat,
            entitlement: e,
            offline: OfflineCodeState::default(),
            pending_events: Vec::new(),
            outstanding_nonce: None,
            reminders: FiredReminders::default(),
            notice: None,
        });
        self.pending_enrollment = None;
        // A new enrollment is a new record on the server: it has what this request carried.
        self.push.server_endpoint = String::new();
        self.push
            .on_accepted(pending.push_endpoint.as_deref(), answer.push_key.as_deref());
        self.checkin = CheckinSchedule::default();
        if let Some(en) = &self.enrollment {
            self.checkin.on_success(en.entitlement.next_checkin);
        }
        log::info!("enrolled");
        Ok(self.evaluate(clock))
    }

    /// Builds the signed check-in (§3.2) with the pending events.
    pub fn checkin_request(
        &mut self,
        clock: &ClockInput,
        app_version: &str,
        rng: &dyn SecureRandom,
    ) -> Result<Outgoing> {
        let evaluation = self.evaluate(clock);
        let nonce = fresh_nonce(rng)?;
        let keys_seq = self
            .provisioning
            .as_ref()
            .map_or(0, |p| p.lender_keys.keys_seq());
        let urls = self
            .provisioning
            .as_ref()
            .map_or(UrlPolicy::STRICT, Provisioning::url_policy);
        let push_endpoint = self.push.unsent(urls);
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        let events = en.pending_events.clone();
        let request = CheckinRequest {
            v: protocol::VERSION,
            device_id: en.device_id.clone(),
            nonce: nonce.clone(),
            seq_seen: en.entitlement.seq,
            state: en.entitlement.state,
            locked: evaluation.decision.locked,
            app_version: app_version.to_string(),
            wall_clock: clock.wall_ms.div_euclid(1000),
            uptime_ms: clock.uptime_ms.min(protocol::MAX_SAFE - 1),
            events,
            keys_seq,
            push_endpoint,
        };
        request.validate_with(urls)?;
        let key = DeviceKey::from_pkcs8(&en.device_key.bytes()?, None)?;
        let body = protocol::sign_payload(&request, jws::typ::CHECKIN, |typ, bytes| {
            key.sign_as(&en.device_id, typ, bytes)
        })?;
        en.outstanding_nonce = Some(nonce.clone());
        Ok(Outgoing {
            body,
            nonce,
            events_sent: request.events.len(),
            push_endpoint: request.push_endpoint,
        })
    }

    /// Accepts the body of an HTTP 200 answer to a check-in: `{ "entitlement": …,
    /// "keys"?: [ … ] }` (the key sets after the pinned one, applied first; ADR 0007).
    pub fn complete_checkin(
        &mut self,
        sent: &Outgoing,
        response: &[u8],
        clock: &ClockInput,
    ) -> Result<Evaluation> {
        let answer: protocol::CheckinResponse = crate::json::decode_object(response)?;
        let chain: KeyChain = crate::json::decode_object(response)?;
        self.accept_chained(&chain.keys, &answer.entitlement, Some(&sent.nonce), clock)?;
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        // The nonce echo proves the server saw this request, events included.
        let delivered = sent.events_sent.min(en.pending_events.len());
        en.pending_events.drain(..delivered);
        en.outstanding_nonce = None;
        en.offline.on_checkin_success();
        let next = en.entitlement.next_checkin;
        self.checkin.on_success(next);
        self.push
            .on_accepted(sent.push_endpoint.as_deref(), answer.push_key.as_deref());
        Ok(self.evaluate(clock))
    }

    /// Records a failed check-in at `clock` (backoff with jitter from `random`).
    /// Returns the trusted time of the next attempt.
    pub fn record_checkin_failure(
        &mut self,
        clock: &ClockInput,
        retry_after_s: Option<u64>,
        random: u64,
    ) -> i64 {
        let now = self.clock.observe(clock).now();
        let interval = self
            .enrollment
            .as_ref()
            .map(|en| {
                en.entitlement
                    .next_checkin
                    .saturating_sub(en.entitlement.iat)
            })
            .filter(|i| *i > 0)
            .unwrap_or(crate::schedule::DEFAULT_INTERVAL_S);
        self.checkin
            .on_failure(now, interval, retry_after_s, random);
        self.checkin.next_at
    }

    /// Judges an entitlement and, only if it passes, makes it the stored one.
    pub fn accept_entitlement(
        &mut self,
        compact: &str,
        nonce: Option<&str>,
        clock: &ClockInput,
    ) -> Result<()> {
        self.accept_chained(&[], compact, nonce, clock)
    }

    /// Applies a chain of key sets (ADR 0007), then judges the entitlement against the
    /// resulting set; only if both pass are the new set and the entitlement stored, in
    /// the one state the caller writes. Nothing is accepted after `released`.
    pub fn accept_chained(
        &mut self,
        chain: &[String],
        compact: &str,
        nonce: Option<&str>,
        clock: &ClockInput,
    ) -> Result<()> {
        let provisioning = self.provisioning()?.clone();
        let en = self.enrollment.as_ref().ok_or(Error::NotEnrolled)?;
        let applied = keyset::apply_chain(
            chain,
            &ChainRules {
                pinned: &provisioning.lender_keys,
                lender_id: Some(&en.lender_id),
                stored_state: Some(en.entitlement.state),
            },
        )?;
        let rules = AcceptRules {
            pinned: &applied.keys,
            lender_id: Some(&en.lender_id),
            device_id: &en.device_id,
            stored_seq: Some(en.entitlement.seq),
            stored_state: Some(en.entitlement.state),
            expected_nonce: nonce,
            urls: provisioning.url_policy(),
        };
        let e = entitlement::accept(compact, &rules)?;
        if applied.keys != provisioning.lender_keys {
            log::info!("lender keys rotated to set {}", applied.keys.keys_seq());
            if let Some(p) = self.provisioning.as_mut() {
                p.lender_keys = applied.keys;
            }
        }
        let before = self.clock.read(clock).now();
        self.clock.anchor(e.iat, clock);
        let after = self.clock.read(clock).now();
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        if after < before {
            // Trusted time was ahead (a clock set forward) and server time corrected
            // it. Times recorded on the old scale move back with it, or a code entered
            // under a forward clock would extend to a date that never was verified.
            shift_back(&mut en.offline, before - after);
        }
        en.last_successful_checkin = e.iat;
        en.entitlement_jws = compact.to_string();
        if e.state == EntitlementState::Released {
            log::info!("released for good");
        }
        en.entitlement = e;
        // A payment, an extension or a lender's unlock may end the notice episode.
        let reading = self.clock.read(clock);
        self.settle_notice_at(&reading, clock);
        Ok(())
    }

    /// Evaluates trusted time (advancing the marks, noting a clock change) and decides.
    pub fn evaluate(&mut self, clock: &ClockInput) -> Evaluation {
        let reading = self.clock.observe(clock);
        if let (Some(delta_s), Some(en)) = (reading.clock_jump_s, self.enrollment.as_mut()) {
            push_event(&mut en.pending_events, Event::ClockJump { delta_s });
        }
        let decision = self.decide(&reading);
        self.settle_notice(decision.level, clock);
        Evaluation { reading, decision }
    }

    /// The decision for an already computed reading, without touching the state.
    pub fn decide(&self, reading: &Reading) -> Decision {
        decision::decide(&self.decision_input(), reading.now(), reading.verified())
    }

    pub fn decision_input(&self) -> DecisionInput {
        match &self.enrollment {
            None => DecisionInput {
                state: None,
                lock_at: 0,
                lock_reason: None,
                offline_lock_after_s: None,
                last_successful_checkin: 0,
                offline_extension_until: 0,
                release_at: None,
                ladder: Ladder::notice_from(0),
                notice: None,
            },
            Some(en) => DecisionInput {
                state: Some(en.entitlement.state),
                lock_at: en.entitlement.lock_at,
                lock_reason: en.entitlement.lock_reason,
                offline_lock_after_s: en.entitlement.offline_lock_after_s,
                last_successful_checkin: en.last_successful_checkin,
                offline_extension_until: en.offline.extension_until,
                release_at: en.entitlement.completing_until(),
                ladder: {
                    let ladder = en.entitlement.ladder();
                    Ladder {
                        notice_at: ladder.notice_at,
                        restrict_at: ladder.restrict_at,
                        notice_min_s: ladder.notice_min(),
                    }
                },
                notice: self.notice_seen(),
            },
        }
    }

    fn schedule_input(&self) -> Result<ScheduleInput<'_>> {
        let en = self.enrolled()?;
        Ok(ScheduleInput {
            entitlement: &en.entitlement,
            last_successful_checkin: en.last_successful_checkin,
            offline_extension_until: en.offline.extension_until,
        })
    }

    /// The upcoming reminders (§7) in the IANA zone `zone_id`, as of trusted time `now`.
    pub fn reminders(&self, zone_id: &str, now: i64) -> Result<Vec<Reminder>> {
        let tz = reminders::zone(zone_id)?;
        Ok(reminders::schedule(&self.schedule_input()?, &tz, now))
    }

    /// The one reminder to show now, if any (a missed backlog yields one, not a burst).
    pub fn reminder_due(&self, zone_id: &str, now: i64) -> Result<Option<Reminder>> {
        let tz = reminders::zone(zone_id)?;
        let en = self.enrolled()?;
        Ok(en.reminders.due_now(&self.schedule_input()?, &tz, now))
    }

    /// Remembers that the shell showed reminder `id` (and passes the backlog before it).
    pub fn mark_reminder_shown(&mut self, id: &str, now: i64) -> Result<()> {
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        en.reminders.mark_shown(id, now);
        Ok(())
    }

    /// The single next moment the shell must wake, and why: the earliest of the
    /// decision's next change, the next reminder and the next check-in.
    pub fn next_wakeup(&self, zone_id: &str, reading: &Reading) -> Result<Option<Wakeup>> {
        let now = reading.now();
        let decision = self.decide(reading);
        if decision.released || self.enrollment.is_none() {
            return Ok(None);
        }
        let tz = reminders::zone(zone_id)?;
        let en = self.enrolled()?;
        let reminder = en
            .reminders
            .next_event(&self.schedule_input()?, &tz, now)
            .map(|r| r.fire_at);
        let candidates = [
            decision.next_change.map(|at| (at, WakeReason::Decision)),
            reminder.map(|at| (at, WakeReason::Reminder)),
            Some((self.checkin.next_at.max(now), WakeReason::CheckIn)),
        ];
        Ok(candidates
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
            .map(|(at, reason)| Wakeup { at, reason }))
    }

    /// The 8-digit challenge the lock screen shows (§6).
    pub fn offline_challenge(&self) -> Result<String> {
        let en = self.enrolled()?;
        if en.entitlement.state == EntitlementState::Released {
            return Err(Error::AlreadyReleased);
        }
        Ok(offline_code::format_code(
            en.offline.challenge(&en.offline_secret.bytes()?),
        ))
    }

    /// Enters an offline code at trusted time; an accepted one is reported at the next check-in.
    pub fn enter_offline_code(&mut self, code: &str, clock: &ClockInput) -> Result<AcceptedCode> {
        let now = self.evaluate(clock).reading.now();
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        if en.entitlement.state == EntitlementState::Released {
            return Err(Error::AlreadyReleased);
        }
        let secret = en.offline_secret.bytes()?;
        let accepted = en.offline.enter(&secret, code, now)?;
        push_event(
            &mut en.pending_events,
            Event::OfflineCodeUsed {
                counter: accepted.counter,
                days: accepted.days,
                at: accepted.at,
            },
        );
        log::info!("offline code accepted");
        // The steps moved: the device may be back before the notice.
        let reading = self.clock.read(clock);
        self.settle_notice_at(&reading, clock);
        Ok(accepted)
    }
}

fn shift_back(offline: &mut OfflineCodeState, delta: i64) {
    if offline.extension_until > 0 {
        offline.extension_until = offline.extension_until.saturating_sub(delta).max(0);
    }
    for t in &mut offline.wrong_at {
        *t = t.saturating_sub(delta);
    }
}

/// Keeps the newest events within the bound, dropping clock jumps before codes
/// (the lender needs to know about every code used).
fn push_event(events: &mut Vec<Event>, event: Event) {
    if events.len() >= MAX_PENDING_EVENTS {
        let drop_at = events
            .iter()
            .position(|e| matches!(e, Event::ClockJump { .. }))
            .unwrap_or(0);
        events.remove(drop_at);
    }
    events.push(event);
}

/// The server URL rule of provisioning (§8.3): https, plain http only to loopback or the
/// emulator's host and only where the build allows it.
fn check_server_url(server_url: &str, allow_insecure_loopback: bool) -> Result<()> {
    let policy = UrlPolicy {
        allow_insecure_loopback,
    };
    if protocol::is_acceptable_url(server_url, policy) {
        Ok(())
    } else {
        Err(Error::invalid(
            "server_url",
            "must be https (http only to loopback in debug builds)",
        ))
    }
}

/// The device state bound to its directory: the I/O edge.
pub struct Device {
    store: Store,
    /// The state as the device sees it; equal to what is stored except for clock marks
    /// that the stored ones, carried forward, tell within [`crate::clock::MARK_SLACK_MS`]
    /// (see [`TrustedClock::needs_writing`]). The notice record's elapsed time is read
    /// from those marks' monotonic reading, so it moves on with them.
    state: DeviceState,
    /// The clock marks last written, which `evaluate` compares with the fresh ones.
    stored_clock: TrustedClock,
    recovered_from: Option<Error>,
}

impl Device {
    /// Opens the state directory; a fresh directory is a fresh, unprovisioned device.
    /// An unusable state is an error, never a silent reset.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Device> {
        let mut store = Store::open(dir)?;
        let (state, recovered_from) = match store.load::<DeviceState>()? {
            Some(loaded) => (loaded.value, loaded.recovered_from),
            None => (DeviceState::default(), None),
        };
        if let Some(e) = &recovered_from {
            log::warn!("state restored from the last good copy ({})", e.code());
        }
        Ok(Device {
            store,
            stored_clock: state.clock,
            state,
            recovered_from,
        })
    }

    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// Set when opening had to fall back to the last good copy.
    pub fn recovered_from(&self) -> Option<&Error> {
        self.recovered_from.as_ref()
    }

    /// Applies `f` to a copy of the state; stores and keeps it only if `f` succeeds.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut DeviceState) -> Result<R>) -> Result<R> {
        let mut next = self.state.clone();
        let out = f(&mut next)?;
        self.commit(next)?;
        Ok(out)
    }

    fn commit(&mut self, next: DeviceState) -> Result<()> {
        if next != self.state {
            self.store.save(&next)?;
            self.stored_clock = next.clock;
            self.state = next;
        }
        Ok(())
    }

    /// Evaluates and decides, persisting the advanced clock marks when the stored ones,
    /// carried forward, would not tell the same times (§4, ADR 0006).
    pub fn evaluate(&mut self, clock: &ClockInput) -> Result<Evaluation> {
        // The shell asks at every alarm, screen and broadcast with a clock that has moved.
        // Writing the marks each time would cost an fsync (milliseconds, on the main thread
        // of a low-end phone) for nothing a restart could not recompute from the stored
        // marks and the monotonic clock; nor would copying the whole state to find out.
        let mut marks = self.state.clock;
        let reading = marks.observe(clock);
        if reading.clock_jump_s.is_none() && !self.stored_clock.needs_writing(&marks, clock) {
            // In memory the marks move on, so this process's readings never go back; only a
            // restart falls back to the stored ones, at most the slack behind.
            self.state.clock = marks;
            return Ok(Evaluation {
                reading,
                decision: self.state.decide(&reading),
            });
        }
        self.update(|s| Ok(s.evaluate(clock)))
    }

    /// A wake-up push arrived: whether to check in now (at most once per
    /// [`crate::schedule::CHECK_NOW_EVERY_S`], never while one is due); a yes is stored, so
    /// the check-in stays due if the caller dies before running it. See
    /// [`DeviceState::push_arrived`].
    pub fn push_arrived(&mut self, clock: &ClockInput) -> Result<bool> {
        self.update(|s| s.push_arrived(clock))
    }

    /// Stores the push endpoint the distributor gave (`""`: none any more); whether to check
    /// in now so the server learns it. See [`DeviceState::set_push_endpoint`].
    pub fn set_push_endpoint(&mut self, endpoint: &str, clock: &ClockInput) -> Result<bool> {
        self.update(|s| s.set_push_endpoint(endpoint, clock))
    }

    /// The shell displayed the notice page: records its first display (stored). See
    /// [`DeviceState::notice_shown`].
    pub fn notice_shown(&mut self, clock: &ClockInput) -> Result<bool> {
        self.update(|s| s.notice_shown(clock))
    }

    /// Enters an offline code. A wrong code is stored too (that is what counts it);
    /// malformed input and refused entries change nothing.
    pub fn enter_offline_code(&mut self, code: &str, clock: &ClockInput) -> Result<AcceptedCode> {
        let mut next = self.state.clone();
        let out = next.enter_offline_code(code, clock);
        match &out {
            Ok(_) | Err(Error::OfflineCodeWrong { .. }) => self.commit(next)?,
            Err(_) => {}
        }
        out
    }
}

pub mod attested;
mod notice;
#[cfg(test)]
mod notice_tests;
mod push;
#[cfg(test)]
mod push_tests;

pub use notice::NoticeRecord;
pub use push::PushState;
#[cfg(test)]
mod key_rotation_tests;
#[cfg(test)]
mod tests;
