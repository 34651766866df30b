//! A device's check-in (PROTOCOL §3.2): the protocol's judgement as a pure function,
//! and the operation that records it and answers with a fresh entitlement.
//!
//! Nothing from the request is believed before the signature verified with the key
//! registered for the device its `kid` names. Then, in [`judge`]: the request's own
//! field rules, the binding (the body names the device the key belongs to), the
//! replay memory, the staleness rule and the per-device rate limit. [`check_in`] then
//! issues the next `seq` with one compare-and-swap `UPDATE` and signs the answer
//! from the committed row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use finlock_core::b64;
use finlock_core::jws::{self, typ};
use finlock_core::keys::PublicKey;
use finlock_core::keyset::Chained;
use finlock_core::protocol::{self, CheckinRequest, CheckinResponse, Event};

use crate::app::App;
use crate::audit::{self, Actor, AuditEvent};
use crate::db::queries::{self, DeviceRow};
use crate::error::{Error, Result};
use crate::issue::issue;

/// How many recent request nonces a device row remembers (replay memory). A body
/// older than that is caught by the staleness rule (its `seq_seen` is behind).
pub const REMEMBERED_NONCES: usize = 16;

/// Adds `nonce` to the space-separated list, keeping the newest [`REMEMBERED_NONCES`].
pub fn remember(list: &str, nonce: &str) -> String {
    let mut kept: Vec<&str> = list.split(' ').filter(|s| !s.is_empty()).collect();
    if kept.len() >= REMEMBERED_NONCES {
        kept.drain(..=kept.len() - REMEMBERED_NONCES);
    }
    kept.push(nonce);
    kept.join(" ")
}

/// Whether `nonce` is in the replay memory.
pub fn seen(list: &str, nonce: &str) -> bool {
    !nonce.is_empty() && list.split(' ').any(|n| n == nonce)
}

/// The body of a device message as text, bounded by the JWS limit (§2).
pub fn body_text(body: &[u8]) -> Result<&str> {
    if body.len() > jws::MAX_JWS_LEN {
        return Err(Error::PayloadTooLarge);
    }
    std::str::from_utf8(body).map_err(|_| Error::Protocol(finlock_core::Error::JwsNotThreeParts))
}

/// The header checks of §2 that come before the key: `typ` present and right, `kid`
/// present. Returns the `kid`.
pub fn check_header<'a>(parsed: &'a jws::Parsed<'_>, expected: &'static str) -> Result<&'a str> {
    let header = parsed.header();
    let t = header
        .typ
        .as_deref()
        .ok_or(finlock_core::Error::JwsMissingHeader { member: "typ" })?;
    let kid = header
        .kid
        .as_deref()
        .ok_or(finlock_core::Error::JwsMissingHeader { member: "kid" })?;
    if t != expected {
        return Err(finlock_core::Error::JwsWrongTyp {
            expected,
            found: t.chars().take(32).collect(),
        }
        .into());
    }
    Ok(kid)
}

/// The rules a check-in is judged by besides the stored row.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Minimum seconds between two check-ins of one device.
    pub min_interval_s: u64,
    /// Whether `row` came from this node's cache (it may be behind another node).
    pub cached: bool,
}

/// An offline code the device reports having used since its last check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeUsed {
    pub counter: u64,
    pub days: u16,
    pub at: i64,
}

/// What an accepted check-in changes, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub request: CheckinRequest,
    /// The registered key (base64url) the request verified with: the swap's guard.
    pub device_key: String,
    /// The replay memory after this request.
    pub new_nonces: String,
    pub seq_seen: u64,
    /// The lender's search for the next challenge starts here (§6).
    pub offline_counter: u64,
    pub codes_used: Vec<CodeUsed>,
    pub clock_jumps: usize,
    /// The rate limit as the swap's guard: allowed if the last check-in is at or before.
    pub allowed_if_last_before: i64,
    /// The stored seq when the phone had seen a newer one (a restored database): the
    /// next seq is issued past the phone's, and the catch-up audited.
    pub caught_up_from: Option<u64>,
}

/// How far a phone's `seq_seen` may be ahead of the database's `seq` (answers issued after
/// the backup the database was restored from: an hourly check-in for over a year).
pub const MAX_SEQ_AHEAD: u64 = 10_000;

/// The cache was behind the database (internal: never reaches a client).
pub const GUARD_FAILED: &str = "guard-failed";

/// Judges one check-in body against the stored row at `now`: pure (no I/O, no clock).
pub fn judge(text: &str, row: &DeviceRow, now: i64, rules: Rules) -> Result<Verdict> {
    judge_parsed(jws::parse(text)?, row, now, rules)
}

/// [`judge`] of a body already parsed (the server parses it once, to find the device).
pub fn judge_parsed(
    parsed: jws::Parsed<'_>,
    row: &DeviceRow,
    now: i64,
    rules: Rules,
) -> Result<Verdict> {
    check_header(&parsed, typ::CHECKIN)?;
    let key_b64 = row
        .device_key
        .as_deref()
        .ok_or(Error::DeviceNotAuthenticated)?;
    let key_bytes = b64::decode_array::<32>(key_b64)
        .ok_or_else(|| Error::Internal("stored device key is not 32 bytes".into()))?;
    let key = PublicKey::from_bytes(key_bytes, Some(row.device_id.clone()))?;
    parsed.verify_with(&key)?;
    let request: CheckinRequest = protocol::decode_payload(&parsed.into_payload())?;
    // `push_endpoint` may be plain http to loopback here: whether the server uses it is
    // `--push-allow-http-loopback`'s decision (crate::push::endpoint), not a reason to
    // refuse the check-in.
    request.validate_with(protocol::UrlPolicy::DEBUG)?;
    if request.device_id != row.device_id {
        return Err(Error::invalid(
            "device_id",
            "is not the device the signing key belongs to",
        ));
    }
    if seen(&row.recent_nonces, &request.nonce) {
        return Err(Error::Replayed);
    }
    if request.seq_seen < row.seq_seen {
        return Err(Error::Stale);
    }
    if request.seq_seen > row.seq && rules.cached {
        // Another node may have answered since this node last saw the device.
        return Err(Error::conflict(GUARD_FAILED, "the cache is behind"));
    }
    // Fresh from the database and still behind the phone: the database was restored from
    // a backup taken before the phone's last answers. The phone's own key signed this, so
    // issuing past what it has seen is the only way it can accept an answer again (a
    // phone refused for good would lock at the end of its offline lease, paying or not).
    // Bounded, so a phone cannot push its seq towards the protocol's limit.
    let caught_up_from = (request.seq_seen > row.seq).then_some(row.seq);
    if request.seq_seen > row.seq.saturating_add(MAX_SEQ_AHEAD) {
        return Err(Error::invalid(
            "seq_seen",
            "is further ahead of the entitlements issued to this device than a restore explains",
        ));
    }
    let min = i64::try_from(rules.min_interval_s).unwrap_or(i64::MAX);
    if let Some(last) = row.last_checkin_at
        && now.saturating_sub(last) < min
    {
        return Err(Error::RateLimited {
            retry_after_s: u64::try_from(last.saturating_add(min) - now).unwrap_or(1),
            limit_s: rules.min_interval_s,
        });
    }
    // Offline codes used since the last check-in: the lender's search for the next
    // challenge starts after the highest counter used.
    let mut offline_counter = row.offline_counter;
    let mut codes_used = Vec::new();
    let mut clock_jumps = 0;
    for event in &request.events {
        match *event {
            Event::OfflineCodeUsed { counter, days, at } if counter >= row.offline_counter => {
                offline_counter = offline_counter.max(counter.saturating_add(1));
                codes_used.push(CodeUsed { counter, days, at });
            }
            Event::ClockJump { .. } => clock_jumps += 1,
            _ => {}
        }
    }
    Ok(Verdict {
        caught_up_from,
        new_nonces: remember(&row.recent_nonces, &request.nonce),
        seq_seen: request.seq_seen.max(row.seq_seen),
        device_key: key_b64.to_string(),
        offline_counter,
        codes_used,
        clock_jumps,
        allowed_if_last_before: now.saturating_sub(min),
        request,
    })
}

/// What this node remembers of a device between its check-ins, so the common case is
/// one `UPDATE` instead of a `SELECT` and an `UPDATE`.
///
/// Safe with several nodes because nothing is *decided* from the cache alone: the
/// check-in `UPDATE` is a compare-and-swap on the device key and the replay memory
/// as cached. If another node (or a re-enrollment) changed either, the swap fails, the
/// entry is dropped, and the check-in is judged again from a fresh `SELECT`. Money,
/// locks and release come from the `UPDATE … RETURNING`, never from the cache.
#[derive(Debug, Default)]
pub struct DeviceCache {
    map: Mutex<HashMap<String, Arc<DeviceRow>>>,
}

/// Entries kept per node before the cache starts over (≈ 1 KiB each).
const DEVICE_CACHE_MAX: usize = 200_000;

impl DeviceCache {
    fn get(&self, device_id: &str) -> Option<Arc<DeviceRow>> {
        self.map.lock().ok()?.get(device_id).cloned()
    }

    fn put(&self, row: DeviceRow) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= DEVICE_CACHE_MAX {
                map.clear();
            }
            map.insert(row.device_id.clone(), Arc::new(row));
        }
    }

    pub fn forget(&self, device_id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(device_id);
        }
    }
}

/// Judges and records one check-in body and answers with the next entitlement.
pub async fn check_in(app: &App, body: &[u8]) -> Result<Chained<CheckinResponse>> {
    let text = body_text(body)?;
    let parsed = jws::parse(text)?;
    let device_id = check_header(&parsed, typ::CHECKIN)?.to_string();
    if !protocol::is_valid_id(&device_id) {
        return Err(Error::DeviceNotAuthenticated);
    }
    let mut parsed = Some(parsed);
    if let Some(row) = app.devices.get(&device_id) {
        match record(app, parsed.take(), text, &row, true).await {
            Err(Error::Conflict {
                slug: GUARD_FAILED, ..
            }) => app.devices.forget(&device_id),
            other => return other,
        }
    }
    let row = queries::device(&app.db.read, &device_id)
        .await?
        .ok_or(Error::DeviceNotAuthenticated)?;
    match record(app, parsed, text, &row, false).await {
        // Fresh from the database and still lost the swap: another check-in of this
        // device landed in between.
        Err(Error::Conflict {
            slug: GUARD_FAILED, ..
        }) => Err(Error::RateLimited {
            retry_after_s: app.config.checkin_min_interval_s.max(1),
            limit_s: app.config.checkin_min_interval_s,
        }),
        other => other,
    }
}

/// Judges one check-in against `row` (cached or fresh) and records it. `parsed` is `text`
/// parsed, when not used up by an earlier attempt.
async fn record(
    app: &App,
    parsed: Option<jws::Parsed<'_>>,
    text: &str,
    row: &DeviceRow,
    cached: bool,
) -> Result<Chained<CheckinResponse>> {
    let now = app.now();
    let rules = Rules {
        min_interval_s: app.config.checkin_min_interval_s,
        cached,
    };
    let parsed = match parsed {
        Some(parsed) => parsed,
        None => jws::parse(text)?,
    };
    let v = judge_parsed(parsed, row, now, rules)?;
    let push = crate::push::registration::asked(v.request.push_endpoint.as_deref())?;
    // The lender's key sets after the device's (ADR 0007); a device too far behind is
    // refused here, before anything is recorded.
    let keys = crate::lender_keys::chain_for(app, &row.lender_id, v.request.keys_seq).await?;
    let update = queries::Checkin {
        device_id: &row.device_id,
        device_key: &v.device_key,
        now,
        allowed_if_last_before: v.allowed_if_last_before,
        old_nonces: &row.recent_nonces,
        new_nonces: &v.new_nonces,
        seq_seen: v.seq_seen,
        offline_counter: v.offline_counter,
        app_version: &v.request.app_version,
        seq: row.seq,
    };
    let issued = if v.codes_used.is_empty() && v.caught_up_from.is_none() {
        app.db.checkin(&update).await?
    } else {
        let mut tx = app.db.write.begin().await?;
        let issued = queries::checkin(&mut *tx, &update).await?;
        if issued.is_some() {
            let subject = crate::devices::subject(row);
            if let Some(server_seq) = v.caught_up_from {
                tracing::warn!(
                    server_seq,
                    device_seq = v.seq_seen,
                    "a phone had seen newer entitlements than the database (restored?): issuing past them"
                );
                let event = AuditEvent::SeqCaughtUp {
                    server_seq,
                    device_seq: v.seq_seen,
                };
                audit::append(&mut tx, subject, now, Actor::Device, &event).await?;
            }
            for used in &v.codes_used {
                let event = AuditEvent::OfflineCodeUsed {
                    counter: used.counter,
                    days: used.days,
                    at: used.at,
                };
                audit::append(&mut tx, subject, now, Actor::Device, &event).await?;
            }
        }
        tx.commit().await?;
        issued
    };
    let (issued, lock_reason) =
        issued.ok_or_else(|| Error::conflict(GUARD_FAILED, "the device changed meanwhile"))?;
    for _ in 0..v.clock_jumps {
        app.metrics.clock_jump();
    }
    // Remember what this node just wrote, for the device's next check-in.
    app.devices.put(DeviceRow {
        recent_nonces: v.new_nonces,
        seq_seen: v.seq_seen,
        last_checkin_at: Some(now),
        seq: issued.seq,
        offline_counter: v.offline_counter,
        paid_minor: issued.paid_minor,
        released: issued.released,
        lender_locked: issued.lender_locked,
        lock_reason: lock_reason.clone(),
        extended_until: issued.extended_until,
        app_version: Some(v.request.app_version.clone()),
        ..row.clone()
    });
    let entitlement = issue(app, row, issued, lock_reason, Some(v.request.nonce), now).await?;
    crate::push::registration::apply(app, &row.device_id, push, false).await;
    Ok(Chained {
        answer: CheckinResponse {
            entitlement,
            push_key: app.push.public_key(),
        },
        keys,
    })
}

#[cfg(test)]
mod tests;
