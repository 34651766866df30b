//! Changing a registered device: reschedule its plan, turn re-provisioning on or off,
//! change the lender's customer reference, cancel a sale whose phone never enrolled. (A
//! new enrollment code is [`super::register::reissue_code`].)
//!
//! A customer reference is held to the rule of registration
//! ([`super::register::check_customer_ref`]: 1–64 printable ASCII characters, trimmed) and
//! is, as at registration, not unique (two contracts of one customer may share it); the
//! old and the new reference are audited. It is the lender's bookkeeping, so it may change
//! on a released device too, the one change a released device takes.
//!
//! A reschedule is held to the rules of registration ([`validate_plan`] and the device's
//! own `PlanTerms` check) and to three more that protect the customer and the books:
//! - the currency stays (payments were recorded in it), installments the payments
//!   already cover stay as they were, and the new total stays above what is paid (a plan
//!   is ended by a release, not by shrinking it); a plan paid in full is not rescheduled;
//! - **no surprise lock**: the phone has been told when it locks (the current `lock_at`,
//!   extension included) and how long it may stay offline. A plan that would lock it
//!   earlier, or offline sooner, is refused with 409 `earlier-lock` unless the lender
//!   says so explicitly (`allow_earlier_lock: true`), and even then the new lock is at
//!   least [`MIN_NOTICE_S`] away, so the phone's reminders can warn the customer first;
//! - a reason, kept in the audit log with the new schedule.
//!
//! The new plan reaches the phone in its next entitlement: the device's `seq` moves with
//! the plan, so no node answers a check-in or an enrollment from a copy of the device
//! read before the change (see `queries::checkin`). Why these rules: ADR 0013.

use finlock_core::protocol::{self, ReminderPolicy};
use serde::Deserialize;
use utoipa::ToSchema;

use super::register::{PlanRequest, check_customer_ref, validate_plan};
use super::{Caller, owned, subject};
use crate::app::App;
use crate::audit::{self, AuditEvent};
use crate::compliance;
use crate::db::queries::{self, DeviceRow, Tx};
use crate::error::{Error, Result};
use crate::issue::{stored_plan, stored_reminders};
use crate::policy::{self, DAY, Plan, PlanInstallment};

/// An earlier lock agreed by the lender still comes at least this long after now.
pub const MIN_NOTICE_S: i64 = 3 * DAY;

/// `PATCH /v1/lender/devices/{id}`: the fields to change; absent ones stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    /// Whether the phone may enroll again by IMEI after a factory reset.
    #[serde(default)]
    pub auto_reprovision: Option<bool>,
    /// The whole new plan (reschedule): the same currency, the installments already paid
    /// unchanged, the remaining ones as agreed with the customer.
    #[serde(default)]
    pub plan: Option<PlanRequest>,
    /// Why the plan changes (audited): 1–350 characters; required with `plan`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 350)]
    pub reason: Option<String>,
    /// The lender's explicit consent to a plan that locks the phone earlier (or offline
    /// sooner) than the phone has been told; the new lock is still at least 3 days away.
    #[serde(default)]
    pub allow_earlier_lock: bool,
    /// The lender's own customer or contract reference, as at registration: 1–64
    /// printable ASCII characters, trimmed; not unique. Audited with the one it replaces.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$"
    )]
    pub customer_ref: Option<String>,
}

/// `POST /v1/lender/devices/{id}/cancel`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    /// Why the sale is cancelled (audited): 1–350 characters.
    #[schema(min_length = 1, max_length = 350)]
    pub reason: String,
}

/// A reschedule that passed every rule: what to store and what to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Reschedule {
    pub plan: Plan,
    /// The installments as they were, for the audit log.
    pub installments_before: Vec<PlanInstallment>,
    pub lock_at_before: i64,
    pub lock_at_after: i64,
    /// Whether the lock (or the offline lock) comes earlier than before.
    pub earlier: bool,
}

/// The device's state a reschedule is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub plan: &'a Plan,
    pub paid_minor: u64,
    pub extended_until: Option<i64>,
    pub reminders: Option<&'a ReminderPolicy>,
}

/// Judges a new plan against the current one: pure.
pub fn judge_reschedule(
    current: Current<'_>,
    requested: &PlanRequest,
    allow_earlier_lock: bool,
    now: i64,
) -> Result<Reschedule> {
    let plan = validate_plan(requested)?;
    if plan.currency != current.plan.currency {
        return Err(Error::invalid(
            "plan.currency",
            format!(
                "stays {}: the payments were recorded in it",
                current.plan.currency
            ),
        ));
    }
    check_paid_installments_kept(current.plan, &plan, current.paid_minor)?;
    if plan.total_minor() <= current.paid_minor {
        return Err(Error::invalid(
            "plan.installments",
            format!(
                "must add up to more than the {} already paid; to end the plan, release \
                 the device",
                current.paid_minor
            ),
        ));
    }
    // What the phone is told, as `policy::entitlement` computes it: the first unpaid
    // installment's due date plus grace, or the extension when that is later.
    let lock_at_before = policy::first_lock_at(current.plan, current.paid_minor)
        .max(current.extended_until.unwrap_or(0));
    let lock_at_after =
        policy::first_lock_at(&plan, current.paid_minor).max(current.extended_until.unwrap_or(0));
    check_as_a_device_would(&plan, current, lock_at_after, now)?;
    let offline_sooner = offline_days(&plan) < offline_days(current.plan);
    let earlier = lock_at_after < lock_at_before || offline_sooner;
    if earlier {
        if !allow_earlier_lock {
            let what = if lock_at_after < lock_at_before {
                format!(
                    "lock the phone at {}, earlier than {} which the customer has been told",
                    utc(lock_at_after),
                    utc(lock_at_before)
                )
            } else {
                "lock the phone sooner when it is offline than the customer has been told"
                    .to_string()
            };
            return Err(Error::conflict(
                "earlier-lock",
                format!(
                    "this plan would {what}; to do that on purpose, send \
                     \"allow_earlier_lock\": true (the lock then comes no sooner than 3 days \
                     from now)"
                ),
            ));
        }
        let earliest = now.saturating_add(MIN_NOTICE_S);
        if lock_at_after < lock_at_before && lock_at_after < earliest {
            return Err(Error::invalid(
                "plan",
                format!(
                    "an earlier lock gives the customer at least 3 days' notice: this plan \
                     locks at {}, the earliest allowed is {}",
                    utc(lock_at_after),
                    utc(earliest)
                ),
            ));
        }
    }
    Ok(Reschedule {
        plan,
        installments_before: current.plan.installments.clone(),
        lock_at_before,
        lock_at_after,
        earlier,
    })
}

/// Offline lock period in days, "never" as the longest.
fn offline_days(plan: &Plan) -> u32 {
    plan.offline_lock_after_days.unwrap_or(u32::MAX)
}

/// The installments the payments cover in full stay exactly as they were: the money was
/// paid against them.
fn check_paid_installments_kept(current: &Plan, new: &Plan, paid_minor: u64) -> Result<()> {
    let mut left = paid_minor;
    for (i, old) in current.installments.iter().enumerate() {
        if left < old.amount_minor {
            break;
        }
        left -= old.amount_minor;
        if new.installments.get(i) != Some(old) {
            return Err(Error::invalid(
                format!("plan.installments[{i}]"),
                format!(
                    "is paid and stays as it was (due {}, amount {})",
                    utc(old.due),
                    old.amount_minor
                ),
            ));
        }
    }
    Ok(())
}

/// The terms the next entitlement will carry pass the device's own rules.
fn check_as_a_device_would(
    plan: &Plan,
    current: Current<'_>,
    lock_at: i64,
    now: i64,
) -> Result<()> {
    let account = plan.account(current.paid_minor, now);
    let defaults = policy::default_reminders();
    let (offline_lock_after_s, offline_warning_s) = plan.offline_policy();
    protocol::PlanTerms {
        account: &account,
        reminders: current.reminders.unwrap_or(&defaults),
        lock_at,
        offline_lock_after_s,
        offline_warning_s,
    }
    .validate()
    .map_err(|e| match e {
        finlock_core::Error::InvalidField { field, rule } => Error::invalid(field, rule),
        other => Error::invalid("plan", other.to_string()),
    })
}

/// A Unix time as people read it: `2026-03-09 00:00 UTC`.
pub fn utc(t: i64) -> String {
    match jiff::Timestamp::from_second(t) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => format!("{t} (Unix seconds)"),
    }
}

/// Applies an update: every change in one transaction, each with its audit entry.
/// Returns the device as it is after the change.
pub async fn update(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    req: &DeviceUpdate,
) -> Result<DeviceRow> {
    if req.plan.is_none() && req.auto_reprovision.is_none() && req.customer_ref.is_none() {
        return Err(Error::invalid(
            "plan, auto_reprovision or customer_ref",
            "send at least one of them: there is nothing to change",
        ));
    }
    let customer_ref = req
        .customer_ref
        .as_deref()
        .map(check_customer_ref)
        .transpose()?;
    // The reference is the lender's bookkeeping; everything else ends with the release.
    if device.released && (req.plan.is_some() || req.auto_reprovision.is_some()) {
        return Err(released());
    }
    let now = app.now();
    let reschedule = match &req.plan {
        Some(requested) => {
            let reason = req.reason.as_deref().ok_or_else(|| {
                Error::invalid("reason", "is required with plan: why the plan changes")
            })?;
            super::actions::check_reason(reason)?;
            let plan = stored_plan(device)?;
            if plan.paid_in_full(device.paid_minor) {
                return Err(Error::conflict(
                    "paid-in-full",
                    "this plan is paid in full; there is nothing left to reschedule",
                ));
            }
            let reminders = stored_reminders(device)?;
            let current = Current {
                plan: &plan,
                paid_minor: device.paid_minor,
                extended_until: device.extended_until,
                reminders: reminders.as_ref(),
            };
            let judged = judge_reschedule(current, requested, req.allow_earlier_lock, now)?;
            // The lender's compliance profile: a new plan it forbids is refused too.
            let profile = compliance::lender::read(&app.db.read, &device.lender_id)
                .await?
                .profile;
            compliance::rules::check_plan(profile, &judged.plan)
                .map_err(|refusal| refusal.into_error(profile))?;
            Some((judged, reason))
        }
        None if req.reason.is_some() => {
            return Err(Error::invalid(
                "reason",
                "goes with plan: a reason is kept for a reschedule",
            ));
        }
        None if req.allow_earlier_lock => {
            return Err(Error::invalid(
                "allow_earlier_lock",
                "goes with plan: it allows a new plan to lock earlier",
            ));
        }
        None => None,
    };
    let mut tx = app.db.write.begin().await?;
    if let Some((r, reason)) = &reschedule {
        let plan_json =
            serde_json::to_string(&r.plan).map_err(|e| Error::Internal(format!("plan: {e}")))?;
        if !store_plan(&mut tx, device, &plan_json, r.plan.total_minor()).await? {
            return Err(changed_meanwhile());
        }
        super::search::refresh_in(&mut tx, &device.device_id).await?;
        let event = AuditEvent::Rescheduled {
            reason,
            installments_before: &r.installments_before,
            total_minor: r.plan.total_minor(),
            grace_days: r.plan.grace_days,
            offline_lock_after_days: r.plan.offline_lock_after_days,
            installments: &r.plan.installments,
            lock_at_before: r.lock_at_before,
            lock_at_after: r.lock_at_after,
            earlier_lock: r.earlier,
        };
        audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
        crate::webhooks::record_audit(&mut tx, device, now, &event).await?;
    }
    if let Some(on) = req.auto_reprovision
        && on != device.auto_reprovision
    {
        if !store_auto_reprovision(&mut tx, &device.device_id, on).await? {
            return Err(released());
        }
        let event = AuditEvent::AutoReprovisionSet {
            auto_reprovision: on,
        };
        audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
    }
    if let Some(new) = &customer_ref {
        // Compared with the reference as stored now, in this transaction: the entry
        // says what it replaced even after a concurrent change.
        let before = store_customer_ref(&mut tx, &device.device_id, new).await?;
        if before.as_deref() != Some(new.as_str()) {
            let event = AuditEvent::CustomerRefSet {
                before: before.as_deref(),
                after: new,
            };
            audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
        }
    }
    tx.commit().await?;
    app.devices.forget(&device.device_id);
    owned(app, &by.lender.lender_id, &device.device_id).await
}

/// Cancels a sale whose phone never enrolled: the device is released for good, its
/// enrollment code stops working and its IMEI is free for a new registration. A phone
/// that enrolled is financed: it is released (`POST …/release`), never cancelled; a sale
/// with payments recorded has them voided first, so the books show the refund.
pub async fn cancel(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    reason: &str,
) -> Result<DeviceRow> {
    super::actions::check_reason(reason)?;
    if device.device_key.is_some() {
        return Err(enrolled());
    }
    if device.released {
        return Err(released());
    }
    if device.paid_minor > 0 {
        return Err(has_payments());
    }
    let now = app.now();
    let mut tx = app.db.write.begin().await?;
    if !store_cancelled(&mut tx, &device.device_id, now).await? {
        // An enrollment or a release landed since the device was read.
        let row = queries::device(&app.db.read, &device.device_id).await?;
        return Err(match row {
            Some(row) if row.device_key.is_some() => enrolled(),
            Some(row) if row.paid_minor > 0 => has_payments(),
            _ => released(),
        });
    }
    super::search::refresh_in(&mut tx, &device.device_id).await?;
    let event = AuditEvent::Cancelled { reason };
    audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
    crate::webhooks::record_audit(&mut tx, device, now, &event).await?;
    tx.commit().await?;
    app.devices.forget(&device.device_id);
    owned(app, &by.lender.lender_id, &device.device_id).await
}

fn released() -> Error {
    Error::conflict(
        "released",
        "this device is released for good; it cannot be changed",
    )
}

fn enrolled() -> Error {
    Error::conflict(
        "enrolled",
        "this phone has enrolled, so the sale cannot be cancelled; to end its plan, release \
         it (POST …/release)",
    )
}

fn has_payments() -> Error {
    Error::conflict(
        "has-payments",
        "payments are recorded for this sale; void them first (they no longer count once \
         refunded), then cancel",
    )
}

fn changed_meanwhile() -> Error {
    Error::conflict(
        "concurrent",
        "the device changed meanwhile (a payment or another update); read it again and retry",
    )
}

// ---- storage --------------------------------------------------------------------------

/// Stores the new plan if the plan and the payments are still what was judged; `seq`
/// moves so no cached copy of the device (any node) answers with the old plan.
async fn store_plan(tx: &mut Tx, device: &DeviceRow, plan: &str, total_minor: u64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET plan = $2, total_minor = $3, seq = seq + 1 \
         WHERE device_id = $1 AND released = 0 AND plan = $4 AND paid_minor = $5",
    )
    .bind(&device.device_id)
    .bind(plan)
    .bind(queries::to_i64(total_minor)?)
    .bind(&device.plan)
    .bind(queries::to_i64(device.paid_minor)?)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the device's customer reference; returns the one it had (read with the row
/// locked by the write, so nothing changes it in between).
async fn store_customer_ref(tx: &mut Tx, device_id: &str, new: &str) -> Result<Option<String>> {
    sqlx::query("UPDATE devices SET customer_ref = customer_ref WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT customer_ref FROM devices WHERE device_id = $1")
            .bind(device_id)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("UPDATE devices SET customer_ref = $2 WHERE device_id = $1")
        .bind(device_id)
        .bind(new)
        .execute(&mut **tx)
        .await?;
    Ok(before)
}

async fn store_auto_reprovision(tx: &mut Tx, device_id: &str, on: bool) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET auto_reprovision = $2 WHERE device_id = $1 AND released = 0",
    )
    .bind(device_id)
    .bind(i64::from(on))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Released (so the one-owner-per-IMEI index lets the IMEI go), the code gone, `seq`
/// moved so an enrollment that read the device before this cannot bind (its
/// compare-and-swap on `seq` fails); only while no key is bound and nothing is paid.
async fn store_cancelled(tx: &mut Tx, device_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE devices SET released = 1, cancelled_at = $2, enrollment_code = NULL, \
         seq = seq + 1 WHERE device_id = $1 AND released = 0 AND device_key IS NULL \
         AND paid_minor = 0",
    )
    .bind(device_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
