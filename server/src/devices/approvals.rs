//! Enrollment requests waiting for the lender's approval: a phone that enrolls by IMEI
//! without hardware proof (a factory-reset phone, or the first start of a preloaded one)
//! is bound only to a key its lender approved. The lender compares the key's thumbprint
//! with what the phone shows, or knows the customer is at the counter.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Caller, subject};
use crate::app::App;
use crate::audit::{self, AuditEvent};
use crate::db::queries::{DeviceRow, Tx};
use crate::enrollment::SignedEnroll;
use crate::error::{Error, Result};
use crate::ids;

/// A request as the lender sees it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct EnrollmentRequest {
    pub request_id: String,
    /// RFC 7638 thumbprint of the key that asks (the phone can show it).
    pub key_thumbprint: String,
    pub model: String,
    pub android_sdk: i64,
    pub app_version: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub attempts: i64,
    /// pending, approved, refused or used.
    pub status: String,
    pub decided_at: Option<i64>,
}

/// Requests kept per device: an attacker who knows an IMEI cannot fill the table.
const MAX_PENDING_PER_DEVICE: i64 = 20;

/// Whether the lender approved `key_b64` for `device` (and it is not yet used).
pub async fn is_approved(app: &App, device: &DeviceRow, key_b64: &str) -> Result<bool> {
    let row = sqlx::query(
        "SELECT 1 AS x FROM enroll_requests WHERE device_id = $1 AND device_key = $2 \
         AND status = 'approved'",
    )
    .bind(&device.device_id)
    .bind(key_b64)
    .fetch_optional(&app.db.read)
    .await?;
    Ok(row.is_some())
}

/// Marks the requests for a key used, inside the transaction that binds it: an approval
/// is used once, and a request still pending for a key that bound by other proof (an
/// attestation, a code) has nothing left for the lender to decide.
pub async fn mark_used(tx: &mut Tx, device_id: &str, key_b64: &str) -> Result<()> {
    sqlx::query(
        "UPDATE enroll_requests SET status = 'used' WHERE device_id = $1 AND device_key = $2 \
         AND status IN ('approved', 'pending')",
    )
    .bind(device_id)
    .bind(key_b64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records (or refreshes) a pending request of this key for this device.
pub async fn record_pending(
    app: &App,
    device: &DeviceRow,
    signed: &SignedEnroll,
    now: i64,
) -> Result<()> {
    let key_b64 = finlock_core::b64::encode(signed.key.bytes());
    let r = &signed.request;
    let refreshed = sqlx::query(
        "UPDATE enroll_requests SET last_seen_at = $3, attempts = attempts + 1, model = $4, \
         android_sdk = $5, app_version = $6 WHERE device_id = $1 AND device_key = $2",
    )
    .bind(&device.device_id)
    .bind(&key_b64)
    .bind(now)
    .bind(&r.model)
    .bind(i64::from(r.android_sdk))
    .bind(&r.app_version)
    .execute(&app.db.write)
    .await?;
    if refreshed.rows_affected() > 0 {
        return Ok(());
    }
    let count: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM enroll_requests WHERE device_id = $1 AND status = 'pending'",
    )
    .bind(&device.device_id)
    .fetch_one(&app.db.read)
    .await?
    .try_get("n")?;
    if count >= MAX_PENDING_PER_DEVICE {
        // Keep what is there; the phone's answer stays the same.
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO enroll_requests (request_id, device_id, device_key, key_thumbprint, model, \
         android_sdk, app_version, first_seen_at, last_seen_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 'pending')",
    )
    .bind(ids::row_id("enr")?)
    .bind(&device.device_id)
    .bind(&key_b64)
    .bind(signed.key.thumbprint())
    .bind(&r.model)
    .bind(i64::from(r.android_sdk))
    .bind(&r.app_version)
    .bind(now)
    .execute(&app.db.write)
    .await;
    match inserted {
        // A concurrent try of the same key inserted it first: nothing to add.
        Err(e) if crate::db::is_unique_violation(&e) => Ok(()),
        other => other.map(|_| ()).map_err(Error::from),
    }
}

/// The device's requests, newest first.
pub async fn list(app: &App, device: &DeviceRow) -> Result<Vec<EnrollmentRequest>> {
    let rows = sqlx::query(
        "SELECT request_id, key_thumbprint, model, android_sdk, app_version, first_seen_at, \
         last_seen_at, attempts, status, decided_at FROM enroll_requests WHERE device_id = $1 \
         ORDER BY last_seen_at DESC, request_id",
    )
    .bind(&device.device_id)
    .fetch_all(&app.db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EnrollmentRequest {
                request_id: r.try_get("request_id")?,
                key_thumbprint: r.try_get("key_thumbprint")?,
                model: r.try_get("model")?,
                android_sdk: r.try_get("android_sdk")?,
                app_version: r.try_get("app_version")?,
                first_seen_at: r.try_get("first_seen_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                attempts: r.try_get("attempts")?,
                status: r.try_get("status")?,
                decided_at: r.try_get("decided_at")?,
            })
        })
        .collect()
}

/// Approves (`true`) or refuses a pending request; audited. Only a pending request of
/// this device can be decided; another device's request id is `NotFound`.
pub async fn decide(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    request_id: &str,
    approve: bool,
) -> Result<EnrollmentRequest> {
    if device.released {
        return Err(Error::conflict(
            "released",
            "this device is released; there is nothing to enroll",
        ));
    }
    let now = app.now();
    let mut tx = app.db.write.begin().await?;
    let row = sqlx::query(
        "SELECT key_thumbprint, status FROM enroll_requests WHERE device_id = $1 \
         AND request_id = $2",
    )
    .bind(&device.device_id)
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    let status: String = row.try_get("status")?;
    if status != "pending" {
        return Err(Error::conflict(
            "decided",
            format!("this request is already {status}"),
        ));
    }
    let thumbprint: String = row.try_get("key_thumbprint")?;
    sqlx::query(
        "UPDATE enroll_requests SET status = $3, decided_at = $4, decided_by = $5 \
         WHERE device_id = $1 AND request_id = $2",
    )
    .bind(&device.device_id)
    .bind(request_id)
    .bind(if approve { "approved" } else { "refused" })
    .bind(now)
    .bind(by.actor.label())
    .execute(&mut *tx)
    .await?;
    let event = if approve {
        AuditEvent::EnrollmentApproved {
            request_id,
            key_thumbprint: &thumbprint,
        }
    } else {
        AuditEvent::EnrollmentRefused {
            request_id,
            key_thumbprint: &thumbprint,
        }
    };
    audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
    tx.commit().await?;
    list(app, device)
        .await?
        .into_iter()
        .find(|r| r.request_id == request_id)
        .ok_or(Error::NotFound)
}
