//! Logging in and out.
//!
//! A login answers in one of a few ways, in this order, so it teaches a guesser nothing:
//! throttled (before any password is checked, [`throttle`]); wrong email or password (one
//! answer for both, and an unknown email costs the same Argon2 verify as a known one —
//! [`password::verify`]); and only once the password was right: disabled, second factor
//! needed, second factor wrong. A wrong password and a wrong code count as failures; a
//! missing code does not (the form simply asks for it).

use sqlx::Row;

use super::events::StaffEvent;
use super::sessions::{NewSession, StaffSession};
use super::{
    By, Permission, STAFF_COLUMNS, StaffError, StaffRow, events, normalize_email, password,
    sessions, staff_row, throttle, totp,
};
use crate::db::Db;
use crate::error::Error;

type Result<T> = std::result::Result<T, StaffError>;

/// What a login form sends.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The 6 digits from the authenticator app, when the account has a second factor.
    pub totp_code: Option<&'a str>,
    /// The client address (throttling per address; kept with the session).
    pub address: Option<&'a str>,
}

/// A successful login: the session's token goes into the cookie.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub staff: StaffRow,
    pub session: NewSession,
}

/// A password longer than this (bytes) is not hashed: it cannot be right (the policy
/// allows 128 characters of at most 4 bytes).
const MAX_PASSWORD_BYTES: usize = password::MAX_CHARS * 4;

/// Logs a staff member in. See the module docs for the order of the answers.
pub async fn login(db: &Db, attempt: &LoginAttempt<'_>, now: i64) -> Result<LoggedIn> {
    // The throttle's key: the email as typed, normalised as far as it goes.
    let email =
        normalize_email(attempt.email).unwrap_or_else(|_| attempt.email.trim().to_lowercase());
    match throttle::check(db, &email, attempt.address, now).await {
        Err(Error::TooManyAttempts { retry_after_s }) => {
            return Err(StaffError::Throttled { retry_after_s });
        }
        other => other?,
    }
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS}, totp_last_step FROM staff WHERE email = $1"
    ))
    .bind(&email)
    .fetch_optional(&db.read)
    .await?;
    let (staff, stored_hash, totp_secret, last_step) = match &row {
        Some(r) => (
            Some(staff_row(r)?),
            r.try_get::<Option<String>, _>("password_hash")?,
            r.try_get::<Option<String>, _>("totp_secret")?,
            r.try_get::<Option<i64>, _>("totp_last_step")?,
        ),
        None => (None, None, None, None),
    };
    let typed = if attempt.password.len() > MAX_PASSWORD_BYTES {
        String::new()
    } else {
        attempt.password.to_string()
    };
    let right = password::verify_blocking(typed, stored_hash).await?;
    let (Some(staff), true) = (staff, right) else {
        throttle::failed(db, &email, attempt.address, now).await?;
        return Err(StaffError::BadCredentials);
    };
    if staff.disabled_at.is_some() {
        return Err(StaffError::Disabled);
    }
    if let Some(secret) = totp_secret {
        let Some(code) = attempt.totp_code.filter(|c| !c.trim().is_empty()) else {
            return Err(StaffError::SecondFactorRequired);
        };
        if !use_code(db, &staff.staff_id, &secret, code, last_step, now).await? {
            throttle::failed(db, &email, attempt.address, now).await?;
            return Err(StaffError::BadSecondFactor);
        }
    }
    throttle::succeeded(db, &email).await?;
    let session = sessions::create(db, &staff.staff_id, attempt.address, now).await?;
    tracing::info!(lender_id = %staff.lender_id, staff_id = %staff.staff_id, "staff logged in");
    Ok(LoggedIn { staff, session })
}

/// Checks `code` against the stored secret and records its step, so it is good once (a
/// conditional update: two nodes cannot both accept the same code).
pub(crate) async fn use_code(
    db: &Db,
    staff_id: &str,
    secret_base32: &str,
    code: &str,
    last_step: Option<i64>,
    now: i64,
) -> crate::Result<bool> {
    let secret = totp::base32_decode(secret_base32)
        .ok_or_else(|| Error::Internal("a stored TOTP secret is not base32".into()))?;
    let Some(step) = totp::accepted_step(&secret, code, now, last_step) else {
        return Ok(false);
    };
    let used = sqlx::query(
        "UPDATE staff SET totp_last_step = $2 WHERE staff_id = $1 \
         AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(staff_id)
    .bind(step)
    .execute(&db.write)
    .await?;
    Ok(used.rows_affected() == 1)
}

/// The session of a cookie's token: `None` when unknown, expired or its account disabled
/// (the console then shows the login page).
pub async fn session(db: &Db, token: &str, now: i64) -> crate::Result<Option<StaffSession>> {
    sessions::lookup(db, token, now).await
}

/// Ends the session of `token` (logging out twice is fine).
pub async fn logout(db: &Db, token: &str) -> crate::Result<()> {
    sessions::end(db, token).await
}

/// Ends every session of `staff_id` (its own, or by an owner / the command line for
/// someone else's); audited. How many sessions ended.
pub async fn logout_everywhere(db: &Db, by: By<'_>, staff_id: &str, now: i64) -> Result<u64> {
    if by.staff_id != Some(staff_id) {
        by.require(Permission::ManageStaff)?;
    }
    let mut tx = db.write.begin().await?;
    let known = sqlx::query("SELECT staff_id FROM staff WHERE lender_id = $1 AND staff_id = $2")
        .bind(by.lender_id)
        .bind(staff_id)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(Error::NotFound.into());
    }
    let sessions_ended = sessions::end_all(&mut tx, staff_id).await?;
    let event = StaffEvent::LoggedOutEverywhere {
        staff_id,
        sessions_ended,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    tx.commit().await?;
    tracing::info!(
        lender_id = by.lender_id,
        staff_id,
        sessions_ended,
        "staff logged out everywhere"
    );
    Ok(sessions_ended)
}
