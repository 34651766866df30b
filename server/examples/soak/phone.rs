//! A simulated phone: the real core (`DeviceState`) with the lender's keys pinned at
//! provisioning. Every answer is verified by the core before it counts; the soak keeps
//! each entitlement's `seq` and `iat` to check them across nodes.

use std::time::Instant;

use finlock_core::clock::ClockInput;
use finlock_core::device::{DeviceState, EnrollParams, Outgoing};
use finlock_core::jws;
use finlock_core::keys::KeySet;
use finlock_core::protocol::{self, Entitlement, UrlPolicy};

pub struct Phone {
    pub state: DeviceState,
    pub device_id: String,
    pinned: KeySet,
    booted: Instant,
    /// `seq` of every entitlement answered 200 (accepted by the core or not).
    pub answered: Vec<u64>,
    /// `iat` of every entitlement answered 200: the server's check-in times.
    pub iats: Vec<i64>,
    /// `seq` of the last entitlement the core accepted.
    pub last_seq: u64,
}

/// What one accepted answer came to.
pub struct Accepted {
    pub seq: u64,
    /// The core's decision right after accepting it.
    pub locked: bool,
    /// The decision wants a lock: locked, or held at the notice until the notice page has
    /// been on the phone a day (§3.7) — which a soak of minutes never reaches, so a lock
    /// the account calls for shows as this.
    pub lock_wanted: bool,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn rng() -> ring::rand::SystemRandom {
    ring::rand::SystemRandom::new()
}

impl Phone {
    pub fn provisioned(url: &str, keys: KeySet) -> Result<Phone, String> {
        let mut state = DeviceState::default();
        state
            .provision(url, keys.clone(), true)
            .map_err(|e| e.to_string())?;
        Ok(Phone {
            state,
            device_id: String::new(),
            pinned: keys,
            booted: Instant::now(),
            answered: Vec::new(),
            iats: Vec::new(),
            last_seq: 0,
        })
    }

    /// An honest clock: the wall clock, uptime since this phone was made.
    pub fn clock(&self) -> ClockInput {
        ClockInput {
            wall_ms: now_ms(),
            uptime_ms: 10_000 + u64::try_from(self.booted.elapsed().as_millis()).unwrap_or(0),
            boot: 1,
        }
    }

    pub fn enroll_body(&mut self, code: &str) -> Result<Outgoing, String> {
        self.state
            .enroll_request(
                &EnrollParams {
                    enrollment_code: Some(code.to_string()),
                    imei: None,
                    serial: None,
                    model: "Soak Phone".into(),
                    android_sdk: 34,
                    app_version: "1.0.0".into(),
                },
                &rng(),
            )
            .map_err(|e| e.to_string())
    }

    pub fn complete_enrollment(&mut self, answer: &[u8]) -> Result<(), String> {
        let clock = self.clock();
        self.state
            .complete_enrollment(answer, &clock)
            .map_err(|e| e.to_string())?;
        let en = self.state.enrolled().map_err(|e| e.to_string())?;
        self.device_id = en.device_id.clone();
        self.last_seq = en.entitlement.seq;
        Ok(())
    }

    pub fn checkin_body(&mut self) -> Result<Outgoing, String> {
        let clock = self.clock();
        self.state
            .checkin_request(&clock, "1.0.0", &rng())
            .map_err(|e| e.to_string())
    }

    /// Records a 200 answer to `sent` and hands it to the core. `Err` says why the core
    /// (or the pinned-key signature check before it) refused it.
    pub fn accept(&mut self, sent: &Outgoing, answer: &[u8]) -> Result<Accepted, String> {
        let v: serde_json::Value =
            serde_json::from_slice(answer).map_err(|e| format!("answer: {e}"))?;
        let compact = v["entitlement"].as_str().ok_or("no entitlement")?;
        let verified = jws::verify(compact, jws::typ::ENTITLEMENT, &self.pinned)
            .map_err(|e| format!("signature: {e}"))?;
        let e: Entitlement =
            protocol::decode_payload(&verified.payload).map_err(|e| format!("payload: {e}"))?;
        e.validate(UrlPolicy::STRICT)
            .map_err(|e| format!("field rules: {e}"))?;
        self.answered.push(e.seq);
        self.iats.push(e.iat);
        let clock = self.clock();
        self.state
            .complete_checkin(sent, answer, &clock)
            .map_err(|err| format!("core refused seq {} (had {}): {err}", e.seq, self.last_seq))?;
        self.last_seq = e.seq;
        let decision = self.state.evaluate(&self.clock()).decision;
        Ok(Accepted {
            seq: e.seq,
            locked: decision.locked,
            lock_wanted: decision.locked || decision.held_for_notice,
        })
    }
}
