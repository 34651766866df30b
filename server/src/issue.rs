//! Issuing: the entitlement a device receives, computed by [`crate::policy`] from the
//! row as committed and the lender's compliance profile (its escalation ladder), checked
//! against the device's own field rules and signed with the lender's key. Every answer to
//! a device (enrollment, check-in) goes through [`issue`].

use finlock_core::protocol::{ReminderPolicy, UrlPolicy};

use crate::app::App;
use crate::db::queries::{DeviceRow, Issued};
use crate::error::{Error, Result};
use crate::ids;
use crate::policy::{self, DeviceFacts, IssueContext, Plan};

/// The stored plan of a device (validated when it was registered).
pub fn stored_plan(row: &DeviceRow) -> Result<Plan> {
    serde_json::from_str(&row.plan).map_err(|_| Error::Internal("stored plan is not valid".into()))
}

/// The stored reminder policy of a device, `None` for the defaults.
pub fn stored_reminders(row: &DeviceRow) -> Result<Option<ReminderPolicy>> {
    row.reminders
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| Error::Internal("stored reminders are not valid".into()))
}

/// Computes, validates and signs the entitlement for `row` as committed (`issued`).
pub async fn issue(
    app: &App,
    row: &DeviceRow,
    issued: Issued,
    lock_reason: Option<String>,
    nonce: Option<String>,
    now: i64,
) -> Result<String> {
    let lender = app.lender(&row.lender_id).await?;
    let plan = stored_plan(row)?;
    let reminders = stored_reminders(row)?;
    let lock_reason = issued
        .lender_locked
        .then(|| lock_reason.unwrap_or_default());
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: issued.paid_minor,
        released: issued.released,
        lender_lock: lock_reason.as_deref(),
        reminders: reminders.as_ref(),
        extended_until: issued.extended_until,
        release_at: issued.release_at,
    };
    // Under the lender's compliance profile: the escalation ladder (§3.7) it allows.
    let terms = policy::ladder::Terms {
        profile: lender.compliance.profile,
        payment_apps: &lender.compliance.payment_apps,
    };
    let e = policy::entitlement_under(
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
        terms,
    );
    // A device would reject an entitlement that breaks a field rule; catch it here as
    // the bug it is. Loopback http is tolerated for local lenders (debug devices).
    e.validate(UrlPolicy::DEBUG)
        .map_err(|err| Error::Internal(format!("issued entitlement is invalid: {err}")))?;
    let signed = e
        .sign(&lender.key)
        .map_err(|err| Error::Internal(format!("signing: {err}")))?;
    // Released by time (the completing window has passed): store it once, with its
    // entry, as the device is told (ADR 0012).
    if e.state == finlock_core::protocol::EntitlementState::Released && !issued.released {
        let row = DeviceRow {
            paid_minor: issued.paid_minor,
            release_at: issued.release_at,
            ..row.clone()
        };
        // The answer stands either way: the next look at the device stores it.
        if let Err(err) = crate::devices::completing::settle(app, &row).await {
            tracing::warn!(device_id = %row.device_id, "storing a release: {err}");
        }
    }
    Ok(signed)
}
