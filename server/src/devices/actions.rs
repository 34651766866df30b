//! Lock, unlock and release: what the lender decides about a phone beyond its
//! payments. Each returns the device as it is after the change.

use finlock_core::protocol;

use super::{Caller, owned, subject};
use crate::app::App;
use crate::audit::{self, AuditEvent, ReleaseReason};
use crate::compliance;
use crate::db::queries::{self, DeviceRow, Tx};
use crate::error::{Error, Result};
use crate::issue::stored_plan;

/// The reason is shown on the lock screen (as the entitlement's `message`), so it obeys
/// the core's rule for any signed display text (§8.2): the same function the phone runs.
pub fn check_reason(reason: &str) -> Result<()> {
    protocol::check_display_text("reason", reason, protocol::MAX_MESSAGE_CHARS).map_err(|e| match e
    {
        finlock_core::Error::InvalidField { field, rule } => Error::invalid(field, rule),
        other => Error::invalid("reason", other.to_string()),
    })
}

/// Locks the phone at its next check-in, with `reason` on its lock screen.
pub async fn lock(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    reason: &str,
) -> Result<DeviceRow> {
    check_reason(reason)?;
    let now = app.now();
    check_compliance(app, device, now).await?;
    let mut tx = app.db.write.begin().await?;
    set_lock_in(&mut tx, now, by, device, Some(reason)).await?;
    tx.commit().await?;
    owned(app, &by.lender.lender_id, &device.device_id).await
}

/// A lender lock the lender's compliance profile forbids (never, or not this soon after
/// the first unpaid due date) is refused, naming the rule; nothing is stored.
async fn check_compliance(app: &App, device: &DeviceRow, now: i64) -> Result<()> {
    let profile = compliance::lender::read(&app.db.read, &device.lender_id)
        .await?
        .profile;
    let due = stored_plan(device)?
        .first_unpaid(device.paid_minor)
        .map(|(inst, _)| inst.due);
    compliance::rules::check_lender_lock(profile, due, now)
        .map_err(|refusal| refusal.into_error(profile))
}

/// Lifts a lender lock — and only that: a phone locked because an installment is
/// overdue is unlocked by a payment or an [`extend`]ed lock, never by a call that would
/// answer "unlocked" and leave it locked.
pub async fn unlock(app: &App, by: Caller<'_>, device: &DeviceRow) -> Result<DeviceRow> {
    if !device.lender_locked {
        return Err(Error::conflict(
            "not-lender-locked",
            "this phone has no lock of yours to lift; if it is locked for an overdue \
             installment, record the payment or agree an extension (POST …/extension) and \
             it unlocks at its next check-in",
        ));
    }
    let mut tx = app.db.write.begin().await?;
    set_lock_in(&mut tx, app.now(), by, device, None).await?;
    tx.commit().await?;
    owned(app, &by.lender.lender_id, &device.device_id).await
}

/// Sets (`Some(reason)`) or lifts (`None`) the lender lock inside `tx`, with its entry.
pub async fn set_lock_in(
    tx: &mut Tx,
    now: i64,
    by: Caller<'_>,
    device: &DeviceRow,
    reason: Option<&str>,
) -> Result<()> {
    if !queries::set_lender_lock(tx, &device.device_id, reason.is_some(), reason).await? {
        return Err(Error::conflict(
            "released",
            "this device is released for good; it cannot be locked or unlocked",
        ));
    }
    let event = match reason {
        Some(reason) => AuditEvent::Locked { reason },
        None => AuditEvent::Unlocked,
    };
    audit::append(tx, subject(device), now, by.actor, &event).await?;
    crate::webhooks::record_audit(tx, device, now, &event).await
}

/// The longest promise to pay: an extension ends at most this long after now.
pub const MAX_EXTENSION_S: i64 = 90 * 86_400;

/// A promise-to-pay extension: the lock moves to `until` (later than it is, at most
/// [`MAX_EXTENSION_S`] from now), signed into the device's next entitlement. What lenders
/// do instead of "unlocking" an overdue phone. Not for a lender-locked or released phone.
pub async fn extend(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    until: i64,
    reason: &str,
) -> Result<DeviceRow> {
    check_reason(reason)?;
    let now = app.now();
    let view = super::view::view(device, now)?;
    if device.lender_locked {
        return Err(Error::conflict(
            "lender-locked",
            "this phone is locked by you; unlock it instead of extending",
        ));
    }
    let Some(current) = view.lock_at else {
        return Err(Error::conflict(
            "released",
            "this device is released; nothing is owed",
        ));
    };
    if until <= current || until <= now {
        return Err(Error::invalid(
            "until",
            format!("must be later than the current lock ({current}) and than now"),
        ));
    }
    if until > now.saturating_add(MAX_EXTENSION_S) {
        return Err(Error::invalid("until", "at most 90 days from now"));
    }
    let mut tx = app.db.write.begin().await?;
    if !queries::extend(&mut tx, &device.device_id, until).await? {
        return Err(Error::conflict(
            "released",
            "this device is released; nothing is owed",
        ));
    }
    super::search::refresh_in(&mut tx, &device.device_id).await?;
    let event = AuditEvent::Extended { until, reason };
    audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
    crate::webhooks::record_audit(&mut tx, device, now, &event).await?;
    tx.commit().await?;
    owned(app, &by.lender.lender_id, &device.device_id).await
}

/// Releases the phone for good (terminal); releasing again changes nothing.
pub async fn release(app: &App, by: Caller<'_>, device: &DeviceRow) -> Result<DeviceRow> {
    let mut tx = app.db.write.begin().await?;
    release_in(&mut tx, app.now(), by, device).await?;
    tx.commit().await?;
    owned(app, &by.lender.lender_id, &device.device_id).await
}

/// Releases inside `tx`; `true` when it changed (the entry is written only then).
pub async fn release_in(tx: &mut Tx, now: i64, by: Caller<'_>, device: &DeviceRow) -> Result<bool> {
    let changed = queries::release(tx, &device.device_id).await?;
    if changed {
        super::search::refresh_in(tx, &device.device_id).await?;
        let event = AuditEvent::Released {
            reason: ReleaseReason::LenderRequest,
        };
        audit::append(tx, subject(device), now, by.actor, &event).await?;
        crate::webhooks::record_audit(tx, device, now, &event).await?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_display_text() {
        assert!(check_reason("Reported stolen; call us").is_ok());
        assert!(check_reason("line one\nline two").is_ok());
        assert!(check_reason(&"x".repeat(protocol::MAX_MESSAGE_CHARS)).is_ok());
        for bad in [
            String::new(),
            "x".repeat(protocol::MAX_MESSAGE_CHARS + 1),
            "bell\u{7}".into(),
            "nul\0".into(),
            "rlo\u{202E}txt".into(),
            "isolate\u{2066}x".into(),
        ] {
            assert!(check_reason(&bad).is_err(), "{bad:?}");
        }
    }
}
