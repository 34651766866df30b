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
use super::{By, Permission, StaffError, StaffSession, throttle, totp};
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
    let mut tx = events::begin(db, &staff.lender_id).await?;
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
        "SELECT email, totp_secret, totp_last_step FROM staff WHERE lender_id = $1 AND staff_id = $2",
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
        // Throttled like a login: an open session is no way to guess codes.
        let email: String = row.try_get("email")?;
        match throttle::check(db, &email, None, now).await {
            Err(Error::TooManyAttempts { retry_after_s }) => {
                return Err(StaffError::Throttled { retry_after_s });
            }
            other => other?,
        }
        let code = code.ok_or(StaffError::SecondFactorRequired)?;
        if !use_code(db, staff_id, &secret, code, last_step, now).await? {
            throttle::failed(db, &email, None, now).await?;
            return Err(StaffError::BadSecondFactor);
        }
    }
    let mut tx = events::begin(db, by.lender_id).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::testing::{Fixture, PASSWORD};
    use crate::staff::{LoginAttempt, Role, login, session};

    async fn logged_in(t: &Fixture, email: &str, role: Role, now: i64) -> StaffSession {
        t.active_staff(email, role).await;
        let a = LoginAttempt {
            email,
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        let s = login(&t.db, &a, now).await.unwrap();
        session(&t.db, &s.session.token, now)
            .await
            .unwrap()
            .unwrap()
    }

    fn code(secret_base32: &str, at: i64) -> String {
        let secret = totp::base32_decode(secret_base32).unwrap();
        totp::format_code(totp::code_at_step(&secret, totp::step_at(at)))
    }

    #[tokio::test]
    async fn enrolling_needs_a_code_of_the_pending_secret() {
        let t = Fixture::new().await;
        let now = 5_000_000;
        let s = logged_in(&t, "ann@shop.example", Role::Viewer, now).await;
        assert!(matches!(
            confirm_totp(&t.db, &s, "123456", now).await,
            Err(StaffError::Other(Error::Conflict {
                slug: "no-pending-totp",
                ..
            }))
        ));
        let setup = begin_totp(&t.db, &s).await.unwrap();
        assert!(
            setup
                .otpauth_uri
                .starts_with("otpauth://totp/Acme%20Phones:ann%40shop.example?secret=")
        );
        assert!(setup.otpauth_uri.contains(&setup.secret_base32));
        // A wrong code changes nothing.
        let secret = totp::base32_decode(&setup.secret_base32).unwrap();
        let wrong = crate::staff::testing::wrong_code(&secret, now);
        assert!(matches!(
            confirm_totp(&t.db, &s, &wrong, now).await,
            Err(StaffError::BadSecondFactor)
        ));
        let s = session(&t.db, &tokenless(&t, "ann@shop.example", now).await, now)
            .await
            .unwrap()
            .unwrap();
        assert!(!s.staff.totp_enabled);
        confirm_totp(&t.db, &s, &code(&setup.secret_base32, now), now)
            .await
            .unwrap();
        let last = t.audit().await.pop().unwrap();
        assert_eq!(
            (last.0, last.1),
            (
                format!("staff:{}", s.staff.staff_id),
                "staff_totp_enabled".into()
            )
        );
        // On: another enrollment is refused until it is off.
        let s = session(
            &t.db,
            &tokenless_with(
                &t,
                "ann@shop.example",
                &code(&setup.secret_base32, now + 30),
                now + 30,
            )
            .await,
            now + 30,
        )
        .await
        .unwrap()
        .unwrap();
        assert!(s.staff.totp_enabled);
        assert!(matches!(
            begin_totp(&t.db, &s).await,
            Err(StaffError::Other(Error::Conflict {
                slug: "totp-on",
                ..
            }))
        ));
    }

    async fn tokenless(t: &Fixture, email: &str, now: i64) -> String {
        let a = LoginAttempt {
            email,
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        login(&t.db, &a, now).await.unwrap().session.token
    }

    async fn tokenless_with(t: &Fixture, email: &str, code: &str, now: i64) -> String {
        let a = LoginAttempt {
            email,
            password: PASSWORD,
            totp_code: Some(code),
            address: None,
        };
        login(&t.db, &a, now).await.unwrap().session.token
    }

    #[tokio::test]
    async fn turning_it_off_needs_a_code_from_oneself_and_not_from_an_owner() {
        let t = Fixture::new().await;
        let now = 5_000_000;
        let owner = logged_in(&t, "owner@shop.example", Role::Owner, now).await;
        let agent = logged_in(&t, "bob@shop.example", Role::Agent, now).await;
        let setup = begin_totp(&t.db, &agent).await.unwrap();
        confirm_totp(&t.db, &agent, &code(&setup.secret_base32, now), now)
            .await
            .unwrap();
        let id = agent.staff.staff_id.clone();
        // Itself: no code, a wrong one, the spent one — refused.
        assert!(matches!(
            disable_totp(&t.db, By::staff(&agent), &id, None, now + 30).await,
            Err(StaffError::SecondFactorRequired)
        ));
        assert!(matches!(
            disable_totp(
                &t.db,
                By::staff(&agent),
                &id,
                Some(&code(&setup.secret_base32, now)),
                now + 1
            )
            .await,
            Err(StaffError::BadSecondFactor)
        ));
        // Guessing codes through an open session is throttled like logins.
        let secret = totp::base32_decode(&setup.secret_base32).unwrap();
        // (The spent code above was the first failure.)
        for i in 1..throttle::PER_ACCOUNT.max {
            let at = now + 2 + i;
            let wrong = crate::staff::testing::wrong_code(&secret, at);
            assert!(matches!(
                disable_totp(&t.db, By::staff(&agent), &id, Some(&wrong), at).await,
                Err(StaffError::BadSecondFactor)
            ));
        }
        assert!(matches!(
            disable_totp(&t.db, By::staff(&agent), &id, Some("000000"), now + 20).await,
            Err(StaffError::Throttled { .. })
        ));
        crate::staff::throttle::succeeded(&t.db, "bob@shop.example")
            .await
            .unwrap();
        // An agent cannot turn off an owner's.
        assert!(matches!(
            disable_totp(&t.db, By::staff(&agent), &owner.staff.staff_id, None, now).await,
            Err(StaffError::Forbidden { .. })
        ));
        // With a fresh code it can.
        disable_totp(
            &t.db,
            By::staff(&agent),
            &id,
            Some(&code(&setup.secret_base32, now + 30)),
            now + 30,
        )
        .await
        .unwrap();
        let a = LoginAttempt {
            email: "bob@shop.example",
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        login(&t.db, &a, now + 31).await.unwrap();
        // An owner turns off someone's (lost phone) without a code.
        let s = session(
            &t.db,
            &tokenless(&t, "bob@shop.example", now + 40).await,
            now + 40,
        )
        .await
        .unwrap()
        .unwrap();
        let setup = begin_totp(&t.db, &s).await.unwrap();
        confirm_totp(&t.db, &s, &code(&setup.secret_base32, now + 40), now + 40)
            .await
            .unwrap();
        disable_totp(&t.db, By::staff(&owner), &id, None, now + 50)
            .await
            .unwrap();
        login(&t.db, &a, now + 51).await.unwrap();
        let mut audit = t.audit().await;
        assert_eq!(
            audit.pop().unwrap().2,
            serde_json::json!({ "staff_id": id, "second_factor": false })
        );
        let last = audit.pop().unwrap();
        assert_eq!(
            (last.0, last.1),
            (
                format!("staff:{}", owner.staff.staff_id),
                "staff_totp_disabled".into()
            )
        );
    }
}
