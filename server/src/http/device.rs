//! The device-facing API (PROTOCOL §3): `POST /v1/enroll`, `POST /v1/checkin`.
//!
//! Nothing from the request is believed before the signature verified: enrollment is
//! signed by the key it registers (its `kid` is that key's RFC 7638 thumbprint), a
//! check-in by the key registered for the device its `kid` names. Then the replay
//! memory, the staleness rule and the per-device rate limit; then one compare-and-swap
//! `UPDATE` issues the next `seq`, and the answer is signed from the committed row.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use finlock_core::b64;
use finlock_core::jws::{self, typ};
use finlock_core::keys::{KeySet, PublicKey};
use finlock_core::protocol::{
    self, CheckinRequest, CheckinResponse, EnrollRequest, EnrollResponse, Event, ReminderPolicy,
    UrlPolicy,
};
use serde_json::json;

use super::{AppState, Body};
use crate::audit::{self, Actor};
use crate::db::queries::{self, DeviceRow, Issued};
use crate::error::{Error, Result};
use crate::ids;
use crate::policy::{self, DeviceFacts, IssueContext, Plan};

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
    map: std::sync::Mutex<std::collections::HashMap<String, Arc<DeviceRow>>>,
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

fn seen(list: &str, nonce: &str) -> bool {
    !nonce.is_empty() && list.split(' ').any(|n| n == nonce)
}

fn body_text(body: &Body) -> Result<&str> {
    if body.0.len() > jws::MAX_JWS_LEN {
        return Err(Error::PayloadTooLarge);
    }
    std::str::from_utf8(&body.0).map_err(|_| Error::Protocol(finlock_core::Error::JwsNotThreeParts))
}

/// The header checks of §2 that come before the key: `typ` present and right, `kid` present.
fn check_header<'a>(parsed: &'a jws::Parsed<'_>, expected: &'static str) -> Result<&'a str> {
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

/// Computes, validates and signs the entitlement for `row` as committed (`issued`).
pub async fn issue(
    st: &AppState,
    row: &DeviceRow,
    issued: Issued,
    lock_reason: Option<String>,
    nonce: Option<String>,
    now: i64,
) -> Result<String> {
    let lender = st
        .lenders
        .get(&st.db, &st.config.keys_dir, &row.lender_id)
        .await?;
    let plan: Plan = serde_json::from_str(&row.plan)
        .map_err(|_| Error::Internal("stored plan is not valid".into()))?;
    let reminders: Option<ReminderPolicy> = row
        .reminders
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| Error::Internal("stored reminders are not valid".into()))?;
    let lock_reason = issued
        .lender_locked
        .then(|| lock_reason.unwrap_or_default());
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: issued.paid_minor,
        released: issued.released,
        lender_lock: lock_reason.as_deref(),
        reminders: reminders.as_ref(),
    };
    let e = policy::entitlement(
        &facts,
        &IssueContext {
            lender_id: &row.lender_id,
            device_id: &row.device_id,
            seq: issued.seq,
            now,
            nonce,
            jitter: ids::jitter(),
            lender: &lender.info,
        },
    );
    // A device would reject an entitlement that breaks a field rule; catch it here as
    // the bug it is. Loopback http is tolerated for local lenders (debug devices).
    e.validate(UrlPolicy::DEBUG)
        .map_err(|err| Error::Internal(format!("issued entitlement is invalid: {err}")))?;
    e.sign(&lender.key)
        .map_err(|err| Error::Internal(format!("signing: {err}")))
}

fn json_response<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// `POST /v1/enroll` (§3.1).
pub async fn enroll(State(st): State<AppState>, body: Body) -> Result<Response> {
    let text = body_text(&body)?;
    let parsed = jws::parse(text)?;
    check_header(&parsed, typ::ENROLL)?;
    // The key that signs is in the payload: read it, then verify with it before
    // believing anything else the payload says.
    let request: EnrollRequest = protocol::decode_payload(&parsed.into_payload())?;
    let key = PublicKey::from_jwk(&finlock_core::keys::Jwk {
        kid: None,
        ..request.device_key.clone()
    })?;
    let keys = KeySet::new(vec![key.clone()])?;
    jws::verify(text, typ::ENROLL, &keys)?;
    request.validate()?;

    let device = match (&request.enrollment_code, &request.imei_sha256) {
        (Some(code), _) => queries::device_by_code(&st.db.read, code).await?,
        (None, Some(imei)) => queries::devices_by_imei(&st.db.read, imei)
            .await?
            .into_iter()
            .next(),
        (None, None) => None,
    }
    .ok_or(Error::NotFound)?;

    let key_b64 = b64::encode(key.bytes());
    let same_key = device.device_key.as_deref() == Some(key_b64.as_str());
    let bound = device.device_key.is_some();
    if seen(&device.recent_nonces, &request.nonce) {
        return Err(Error::Replayed);
    }
    let (rebind, action) = if !bound {
        (true, "enrolled")
    } else if same_key {
        // The phone keeps its key across retries: the answer was lost, answer again.
        (false, "enrollment_answered_again")
    } else if device.released {
        return Err(Error::conflict(
            "released",
            "this device is released; there is nothing to enroll",
        ));
    } else if device.auto_reprovision {
        (true, "reprovisioned")
    } else {
        return Err(Error::conflict(
            "enrollment-code-used",
            "this device is already enrolled with another key",
        ));
    };
    let (offline_secret, offline_counter) = match (&device.offline_secret, rebind) {
        (Some(secret), false) => (secret.clone(), device.offline_counter),
        _ => (b64::encode(ids::secret_bytes::<32>()?), 0),
    };
    let now = st.now();
    let nonces = if rebind {
        request.nonce.clone()
    } else {
        remember(&device.recent_nonces, &request.nonce)
    };
    let mut tx = st.db.write.begin().await?;
    let issued = queries::enroll(
        &mut tx,
        &queries::Enrollment {
            device_id: &device.device_id,
            expected_seq: device.seq,
            device_key: &key_b64,
            offline_secret: &offline_secret,
            offline_counter,
            recent_nonces: &nonces,
            now,
            model: &request.model,
            android_sdk: i64::from(request.android_sdk),
            app_version: &request.app_version,
            rebind,
        },
    )
    .await?
    .ok_or_else(|| Error::conflict("concurrent", "the device changed meanwhile; retry"))?;
    audit::append(
        &mut tx,
        &device.device_id,
        &device.lender_id,
        now,
        Actor::Device,
        action,
        json!({ "key_thumbprint": key.thumbprint(), "model": request.model,
                "app_version": request.app_version }),
    )
    .await?;
    tx.commit().await?;
    st.devices.forget(&device.device_id);
    tracing::info!(device_id = %device.device_id, action, "enrollment");
    let entitlement = issue(
        &st,
        &device,
        issued.0,
        issued.1,
        Some(request.nonce.clone()),
        now,
    )
    .await?;
    Ok(json_response(&EnrollResponse {
        device_id: device.device_id,
        entitlement,
        offline_secret,
    }))
}

/// `POST /v1/checkin` (§3.2).
pub async fn checkin(State(st): State<AppState>, body: Body) -> Result<Response> {
    let result = checkin_inner(&st, &body).await;
    st.metrics
        .checkin(result.as_ref().map(|_| ()).map_err(Error::slug));
    result
}

async fn checkin_inner(st: &AppState, body: &Body) -> Result<Response> {
    let text = body_text(body)?;
    let parsed = jws::parse(text)?;
    let device_id = check_header(&parsed, typ::CHECKIN)?.to_string();
    if !protocol::is_valid_id(&device_id) {
        return Err(Error::DeviceNotAuthenticated);
    }
    if let Some(row) = st.devices.get(&device_id) {
        match checkin_with(st, text, &row, true).await {
            Err(Error::Conflict {
                slug: GUARD_FAILED, ..
            }) => st.devices.forget(&device_id),
            other => return other,
        }
    }
    let row = queries::device(&st.db.read, &device_id)
        .await?
        .ok_or(Error::DeviceNotAuthenticated)?;
    match checkin_with(st, text, &row, false).await {
        // Fresh from the database and still lost the swap: another check-in of this
        // device landed in between.
        Err(Error::Conflict {
            slug: GUARD_FAILED, ..
        }) => Err(Error::RateLimited {
            retry_after_s: st.config.checkin_min_interval_s.max(1),
            limit_s: st.config.checkin_min_interval_s,
        }),
        other => other,
    }
}

/// The compare-and-swap lost (internal: never reaches a client).
const GUARD_FAILED: &str = "guard-failed";

/// Judges and records one check-in against `row` (cached or fresh).
async fn checkin_with(
    st: &AppState,
    text: &str,
    row: &DeviceRow,
    cached: bool,
) -> Result<Response> {
    let parsed = jws::parse(text)?;
    let key_b64 = row
        .device_key
        .as_deref()
        .ok_or(Error::DeviceNotAuthenticated)?;
    let key_bytes = b64::decode_array::<32>(key_b64)
        .ok_or_else(|| Error::Internal("stored device key is not 32 bytes".into()))?;
    let key = PublicKey::from_bytes(key_bytes, Some(row.device_id.clone()))?;
    parsed.verify_with(&key)?;
    let request: CheckinRequest = protocol::decode_payload(&parsed.into_payload())?;
    request.validate()?;
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
    if request.seq_seen > row.seq && cached {
        // Another node may have answered since this node last saw the device.
        return Err(Error::conflict(GUARD_FAILED, "the cache is behind"));
    }
    if request.seq_seen > row.seq {
        return Err(Error::invalid(
            "seq_seen",
            "is newer than any entitlement issued to this device",
        ));
    }
    let now = st.now();
    let min = i64::try_from(st.config.checkin_min_interval_s).unwrap_or(i64::MAX);
    if let Some(last) = row.last_checkin_at
        && now.saturating_sub(last) < min
    {
        return Err(Error::RateLimited {
            retry_after_s: u64::try_from(last.saturating_add(min) - now).unwrap_or(1),
            limit_s: st.config.checkin_min_interval_s,
        });
    }

    // Offline codes used since the last check-in: the lender's search for the next
    // challenge starts after the highest counter used.
    let mut offline_counter = row.offline_counter;
    let mut codes_used = Vec::new();
    let mut clock_jumps = 0;
    for event in &request.events {
        match event {
            Event::OfflineCodeUsed { counter, days, at } if *counter >= row.offline_counter => {
                offline_counter = offline_counter.max(counter.saturating_add(1));
                codes_used.push(json!({ "counter": counter, "days": days, "at": at }));
            }
            Event::ClockJump { .. } => clock_jumps += 1,
            _ => {}
        }
    }
    let new_nonces = remember(&row.recent_nonces, &request.nonce);
    let seq_seen = request.seq_seen.max(row.seq_seen);
    let update = queries::Checkin {
        device_id: &row.device_id,
        device_key: key_b64,
        now,
        allowed_if_last_before: now.saturating_sub(min),
        old_nonces: &row.recent_nonces,
        new_nonces: &new_nonces,
        seq_seen,
        offline_counter,
        app_version: &request.app_version,
    };
    let issued = if codes_used.is_empty() {
        queries::checkin(&st.db.write, &update).await?
    } else {
        let mut tx = st.db.write.begin().await?;
        let issued = queries::checkin(&mut *tx, &update).await?;
        if issued.is_some() {
            for detail in codes_used {
                audit::append(
                    &mut tx,
                    &row.device_id,
                    &row.lender_id,
                    now,
                    Actor::Device,
                    "offline_code_used",
                    detail,
                )
                .await?;
            }
        }
        tx.commit().await?;
        issued
    };
    let (issued, lock_reason) =
        issued.ok_or_else(|| Error::conflict(GUARD_FAILED, "the device changed meanwhile"))?;
    for _ in 0..clock_jumps {
        st.metrics.clock_jump();
    }
    // Remember what this node just wrote, for the device's next check-in.
    st.devices.put(DeviceRow {
        recent_nonces: new_nonces,
        seq_seen,
        last_checkin_at: Some(now),
        seq: issued.seq,
        offline_counter,
        paid_minor: issued.paid_minor,
        released: issued.released,
        lender_locked: issued.lender_locked,
        lock_reason: lock_reason.clone(),
        app_version: Some(request.app_version.clone()),
        ..row.clone()
    });
    let entitlement = issue(
        st,
        row,
        issued,
        lock_reason,
        Some(request.nonce.clone()),
        now,
    )
    .await?;
    Ok(json_response(&CheckinResponse { entitlement }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_memory_keeps_the_newest_nonces() {
        let mut list = String::new();
        for i in 0..40 {
            list = remember(&list, &format!("n{i}"));
        }
        assert_eq!(list.split(' ').count(), REMEMBERED_NONCES);
        assert!(seen(&list, "n39"));
        assert!(seen(&list, "n24"));
        assert!(!seen(&list, "n23"));
        assert!(!seen("", ""));
    }
}
