//! The completing window (ADR 0012): a paid-in-full device is released only a lender-set
//! window after it was paid in full, so a payment that bounces can still be voided.
//!
//! The window is a lender setting (default 48 hours, 0 to 30 days). The release itself
//! is a matter of time ([`crate::policy::Money`]): the entitlement and the lender's view
//! say `released` from `release_at` on. What is stored follows at the first look after
//! it — a lender request for the device or the device's next answer — through [`settle`],
//! which writes `released` and its audit entry once, so every later statement that
//! guards on `released` (locks, codes, the IMEI's one owner) sees it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::subject;
use crate::app::App;
use crate::audit::{self, Actor, AuditEvent, ReleaseReason};
use crate::db::queries::{self, DeviceRow, Tx};
use crate::error::{Error, Result};
use crate::policy;

/// The lender's settings that decide when a paid device is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletingWindow {
    /// Seconds between paid in full and released, in which a payment can be voided:
    /// 0 (released at once, nothing can be voided after the last payment) to 2592000
    /// (30 days); 172800 (48 hours) unless set.
    #[schema(minimum = 0, maximum = 2592000, example = 172800)]
    pub completing_window_s: i64,
}

/// The lender's window.
pub async fn window(app: &App, lender_id: &str) -> Result<CompletingWindow> {
    Ok(CompletingWindow {
        completing_window_s: queries::completing_window(&app.db.read, lender_id).await?,
    })
}

/// Sets the lender's window for devices paid in full from now on (a device already
/// completing keeps its date).
pub async fn set_window(
    app: &App,
    lender_id: &str,
    window: CompletingWindow,
) -> Result<CompletingWindow> {
    if !policy::check_completing_window(window.completing_window_s) {
        return Err(Error::invalid(
            "completing_window_s",
            "0 to 2592000 seconds (30 days)",
        ));
    }
    queries::set_completing_window(&app.db.write, lender_id, window.completing_window_s).await?;
    tracing::info!(
        lender_id = %lender_id,
        completing_window_s = window.completing_window_s,
        "completing window set"
    );
    Ok(window)
}

/// Inside `tx`: stores the release of a device whose window has passed, with its entry;
/// `true` when it changed.
pub async fn settle_in(tx: &mut Tx, now: i64, device: &DeviceRow) -> Result<bool> {
    let changed = queries::settle_release(tx, &device.device_id, now).await?;
    if changed {
        super::search::refresh_in(tx, &device.device_id).await?;
        let event = AuditEvent::Released {
            reason: ReleaseReason::PaidInFull,
        };
        audit::append(tx, subject(device), now, Actor::System, &event).await?;
        crate::webhooks::record_audit(tx, device, now, &event).await?;
    }
    Ok(changed)
}

/// Whether `row` is released by time but not yet stored as released.
pub fn due(row: &DeviceRow, now: i64) -> bool {
    !row.released && row.paid_minor >= row.total_minor && row.release_at.is_some_and(|t| now >= t)
}

/// Stores the release of `row` if its window has passed (once; see the module docs);
/// `true` when it did.
pub async fn settle(app: &App, row: &DeviceRow) -> Result<bool> {
    let now = app.now();
    if !due(row, now) {
        return Ok(false);
    }
    let mut tx = app.db.write.begin().await?;
    let changed = settle_in(&mut tx, now, row).await?;
    tx.commit().await?;
    Ok(changed)
}
