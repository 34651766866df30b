//! Turning the TOTP second factor on and off.
//!
//! On is two steps, so nobody locks themselves out with a mistyped secret: [`begin_totp`]
//! makes a secret and keeps it as pending (the page shows it as a QR code and as text),
//! and [`confirm_totp`] makes it active only once a code from the app matches it. Only the
//! staff member itself can turn it on (the secret must end up on its own phone).
//!
//! Off: by the staff member itself with a current code (a stolen session alone cannot
//! remove it), or by an owner or the command line for someone whose phone is lost.

use serde::Serialize;
use sqlx::Row;

use super::events::{self, StaffEvent};
use super::login::use_code;
use super::{By, Permission, StaffError, StaffSession, totp};
use crate::db::Db;
use crate::error::Error;

type Result<T> = std::result::Result<T, StaffError>;

/// What an authenticator app needs.
#[derive(Debug, Clone, Serialize)]
pub struct TotpSetup {
    /// The secret in base32, for typing into the app.
    pub secret_base32: String,
    /// The `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Starts enrolling a second factor for the session's own account (a new pending secret
/// replaces an earlier unconfirmed one). `Conflict totp-on` when one is already on.
pub async fn begin_totp(db: &Db, session: &StaffSession) -> Result<TotpSetup> {
    if session.staff.totp_enabled {
        return Err(Error::conflict(
            "totp-on",
            "a second factor is on already; turn it off first to enroll another phone",
        )
        .into());
    }
    let secret = totp::new_secret()?;
    let secret_base32 = totp::base32_encode(&secret);
    sqlx::query("UPDATE staff SET totp_pending = $2 WHERE staff_id = $1 AND totp_secret IS NULL")
        .bind(&session.staff.staff_id)
        .bind(&secret_base32)
        .execute(&db.write)
        .await?;
    Ok(TotpSetup {
        otpauth_uri: totp::otpauth_uri(&session.lender.name, &session.staff.email, &secret),
        secret_base32,
    })
}

/// Turns the pending secret on when `code` is a current code of it (`BadSecondFactor`
/// otherwise, and nothing changes). Audited.
pub async fn confirm_totp(db: &Db, session: &StaffSession, code: &str, now: i64) -> Result<()> {
    let staff = &session.staff;
    let pending: Option<String> = sqlx::query("SELECT totp_pending FROM staff WHERE staff_id = $1")
        .bind(&staff.staff_id)
        .fetch_one(&db.read)
        .await?
        .try_get("totp_pending")?;
    let Some(pending) = pending else {
        return Err(Error::conflict(
            "no-pending-totp",
            "start enrolling the authenticator app first",
        )
        .into());
    };
    let secret = totp::base32_decode(&pending)
        .ok_or_else(|| Error::Internal("a pending TOTP secret is not base32".into()))?;
    let Some(step) = totp::accepted_step(&secret, code, now, None) else {
        return Err(StaffError::BadSecondFactor);
    };
    let mut tx = db.write.begin().await?;
    let set = sqlx::query(
        "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $3 \
         WHERE staff_id = $1 AND totp_pending = $2 AND totp_secret IS NULL",
    )
    .bind(&staff.staff_id)
    .bind(&pending)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    if set.rows_affected() != 1 {
        return Err(Error::conflict(
            "totp-changed",
            "the second factor changed meanwhile; start again",
        )
        .into());
    }
    let event = StaffEvent::TotpEnabled {
        staff_id: &staff.staff_id,
    };
    events::append(&mut tx, &staff.lender_id, now, staff.actor(), &event).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %staff.lender_id, staff_id = %staff.staff_id, "staff second factor on");
    Ok(())
}

/// Turns the second factor of `staff_id` off. The staff member itself must give a current
/// `code`; an owner (for another's lost phone) or the command line need none. Audited;
/// turning off what is off changes nothing.
pub async fn disable_totp(
    db: &Db,
    by: By<'_>,
    staff_id: &str,
    code: Option<&str>,
    now: i64,
) -> Result<()> {
    let own = by.staff_id == Some(staff_id);
    if !own {
        by.require(Permission::ManageStaff)?;
    }
    let row = sqlx::query(
        "SELECT totp_secret, totp_last_step FROM staff WHERE lender_id = $1 AND staff_id = $2",
    )
    .bind(by.lender_id)
    .bind(staff_id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(Error::NotFound)?;
    let secret: Option<String> = row.try_get("totp_secret")?;
    let last_step: Option<i64> = row.try_get("totp_last_step")?;
    let Some(secret) = secret else {
        return Ok(());
    };
    if own {
        let code = code.ok_or(StaffError::SecondFactorRequired)?;
        if !use_code(db, staff_id, &secret, code, last_step, now).await? {
            return Err(StaffError::BadSecondFactor);
        }
    }
    let mut tx = db.write.begin().await?;
    sqlx::query(
        "UPDATE staff SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
         WHERE lender_id = $1 AND staff_id = $2",
    )
    .bind(by.lender_id)
    .bind(staff_id)
    .execute(&mut *tx)
    .await?;
    events::append(
        &mut tx,
        by.lender_id,
        now,
        by.actor(),
        &StaffEvent::TotpDisabled { staff_id },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        lender_id = by.lender_id,
        staff_id,
        "staff second factor off"
    );
    Ok(())
}
