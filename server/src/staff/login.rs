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
    let second_factor = totp_secret.is_some();
    if let Some(secret) = totp_secret {
        let Some(code) = attempt.totp_code.filter(|c| !c.trim().is_empty()) else {
            return Err(StaffError::SecondFactorRequired);
        };
        if !use_code(db, &staff.staff_id, &secret, code, last_step, now).await? {
            let mut tx = events::begin(db, &staff.lender_id).await?;
            let event = StaffEvent::SecondFactorRefused {
                staff_id: &staff.staff_id,
            };
            events::append(&mut tx, &staff.lender_id, now, staff.actor(), &event).await?;
            tx.commit().await?;
            throttle::failed(db, &email, attempt.address, now).await?;
            return Err(StaffError::BadSecondFactor);
        }
    }
    throttle::succeeded(db, &email).await?;
    // The session and its entry in the lender's log, together: no session unlogged.
    let mut tx = events::begin(db, &staff.lender_id).await?;
    let session = sessions::create_in(&mut tx, &staff.staff_id, attempt.address, now).await?;
    let event = StaffEvent::LoggedIn {
        staff_id: &staff.staff_id,
        second_factor,
    };
    events::append(&mut tx, &staff.lender_id, now, staff.actor(), &event).await?;
    tx.commit().await?;
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
    let mut tx = events::begin(db, by.lender_id).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::testing::{Fixture, PASSWORD};
    use crate::staff::{Role, begin_totp, confirm_totp};

    fn attempt<'a>(email: &'a str, password: &'a str, code: Option<&'a str>) -> LoginAttempt<'a> {
        LoginAttempt {
            email,
            password,
            totp_code: code,
            address: Some("203.0.113.5"),
        }
    }

    /// An account with a second factor on; its secret.
    async fn with_totp(t: &Fixture, email: &str, now: i64) -> (StaffRow, Vec<u8>) {
        let staff = t.active_staff(email, Role::Agent).await;
        let s = login(&t.db, &attempt(email, PASSWORD, None), now)
            .await
            .unwrap();
        let session = super::session(&t.db, &s.session.token, now)
            .await
            .unwrap()
            .unwrap();
        let setup = begin_totp(&t.db, &session).await.unwrap();
        let secret = totp::base32_decode(&setup.secret_base32).unwrap();
        let code = totp::format_code(totp::code_at_step(&secret, totp::step_at(now)));
        confirm_totp(&t.db, &session, &code, now).await.unwrap();
        (staff, secret)
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_email_get_one_answer() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Agent).await;
        for (email, pw) in [
            ("ann@shop.example", "wrong password here"),
            ("ann@shop.example", ""),
            ("ann@shop.example", &"x".repeat(10_000)),
            ("nobody@shop.example", PASSWORD),
            ("not an email", PASSWORD),
        ] {
            let e = login(&t.db, &attempt(email, pw, None), 100)
                .await
                .unwrap_err();
            assert!(matches!(e, StaffError::BadCredentials), "{email}: {e:?}");
            assert_eq!(e.to_string(), "wrong email or password");
        }
        let ok = login(&t.db, &attempt(" ANN@shop.example ", PASSWORD, None), 100)
            .await
            .unwrap();
        assert!(ok.session.token.starts_with("fls_"));
    }

    /// The lender's log after `t`'s first `skip` entries: (actor, action, detail).
    async fn audit_after(t: &Fixture, skip: usize) -> Vec<(String, String, serde_json::Value)> {
        t.audit().await.into_iter().skip(skip).collect()
    }

    #[tokio::test]
    async fn logins_and_refused_second_factors_are_in_the_lenders_log_and_guesses_are_not() {
        let t = Fixture::new().await;
        let ann = t.active_staff("ann@shop.example", Role::Agent).await;
        let before = t.audit().await.len();
        // Guesses, right or wrong email, leave nothing in the log (it would answer a
        // guesser by its timing which emails have accounts).
        for (email, pw) in [
            ("ann@shop.example", "wrong password here"),
            ("nobody@shop.example", PASSWORD),
        ] {
            login(&t.db, &attempt(email, pw, None), 100)
                .await
                .unwrap_err();
        }
        assert_eq!(audit_after(&t, before).await, []);
        let ok = login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 100)
            .await
            .unwrap();
        let actor = format!("staff:{}", ann.staff_id);
        assert_eq!(
            audit_after(&t, before).await,
            [(
                actor.clone(),
                "staff_logged_in".to_string(),
                serde_json::json!({ "staff_id": ann.staff_id, "second_factor": false })
            )]
        );
        // The session exists: the entry and the session were written together.
        assert!(
            super::session(&t.db, &ok.session.token, 100)
                .await
                .unwrap()
                .is_some()
        );

        let now = 1_000_000;
        let (bob, secret) = with_totp(&t, "bob@shop.example", now).await;
        let before = t.audit().await.len();
        let bob_actor = format!("staff:{}", bob.staff_id);
        // No code yet: the form asks for one, nothing is logged.
        login(&t.db, &attempt("bob@shop.example", PASSWORD, None), now)
            .await
            .unwrap_err();
        assert_eq!(audit_after(&t, before).await, []);
        let wrong = totp::format_code(totp::code_at_step(&secret, totp::step_at(now) + 9));
        let refused = login(
            &t.db,
            &attempt("bob@shop.example", PASSWORD, Some(&wrong)),
            now,
        )
        .await;
        assert!(matches!(refused, Err(StaffError::BadSecondFactor)));
        let later = now + 30;
        let code = totp::format_code(totp::code_at_step(&secret, totp::step_at(later)));
        login(
            &t.db,
            &attempt("bob@shop.example", PASSWORD, Some(&code)),
            later,
        )
        .await
        .unwrap();
        assert_eq!(
            audit_after(&t, before).await,
            [
                (
                    bob_actor.clone(),
                    "staff_second_factor_refused".to_string(),
                    serde_json::json!({ "staff_id": bob.staff_id })
                ),
                (
                    bob_actor,
                    "staff_logged_in".to_string(),
                    serde_json::json!({ "staff_id": bob.staff_id, "second_factor": true })
                ),
            ]
        );
        // Nothing personal: no address, no email, no code.
        let text = format!("{:?}", t.audit().await);
        for word in [
            "203.0.113.5",
            "@shop.example",
            wrong.as_str(),
            code.as_str(),
        ] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }

    #[tokio::test]
    async fn failed_logins_throttle_the_account_until_the_window_ends() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Agent).await;
        let t0 = 9000; // a window start
        for i in 0..throttle::PER_ACCOUNT.max {
            assert!(matches!(
                login(
                    &t.db,
                    &attempt("ann@shop.example", "wrong password here", None),
                    t0 + i
                )
                .await,
                Err(StaffError::BadCredentials)
            ));
        }
        // Now even the right password is refused, with the wait.
        match login(&t.db, &attempt("ann@shop.example", PASSWORD, None), t0 + 20).await {
            Err(StaffError::Throttled { retry_after_s }) => assert_eq!(retry_after_s, 880),
            other => panic!("{other:?}"),
        }
        // Released when the window ends.
        login(
            &t.db,
            &attempt("ann@shop.example", PASSWORD, None),
            t0 + 900,
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_second_factor_is_asked_for_only_after_the_right_password() {
        let t = Fixture::new().await;
        let now = 1_000_000;
        let (staff, secret) = with_totp(&t, "ann@shop.example", now).await;
        assert!(matches!(
            login(
                &t.db,
                &attempt("ann@shop.example", "wrong password here", None),
                now
            )
            .await,
            Err(StaffError::BadCredentials)
        ));
        for empty in [None, Some(""), Some("  ")] {
            assert!(matches!(
                login(&t.db, &attempt("ann@shop.example", PASSWORD, empty), now).await,
                Err(StaffError::SecondFactorRequired)
            ));
        }
        // The code used to confirm enrollment is spent; the next step's works once.
        let spent = totp::format_code(totp::code_at_step(&secret, totp::step_at(now)));
        assert!(matches!(
            login(
                &t.db,
                &attempt("ann@shop.example", PASSWORD, Some(&spent)),
                now
            )
            .await,
            Err(StaffError::BadSecondFactor)
        ));
        let later = now + 30;
        let code = totp::format_code(totp::code_at_step(&secret, totp::step_at(later)));
        let ok = login(
            &t.db,
            &attempt("ann@shop.example", PASSWORD, Some(&code)),
            later,
        )
        .await
        .unwrap();
        assert_eq!(ok.staff.staff_id, staff.staff_id);
        assert!(matches!(
            login(
                &t.db,
                &attempt("ann@shop.example", PASSWORD, Some(&code)),
                later
            )
            .await,
            Err(StaffError::BadSecondFactor)
        ));
        // A code two steps away (a clock 60 s off) is refused; one step away is fine.
        let far = totp::format_code(totp::code_at_step(&secret, totp::step_at(later) + 3));
        assert!(matches!(
            login(
                &t.db,
                &attempt("ann@shop.example", PASSWORD, Some(&far)),
                later + 30
            )
            .await,
            Err(StaffError::BadSecondFactor)
        ));
        let near = totp::format_code(totp::code_at_step(&secret, totp::step_at(later) + 2));
        login(
            &t.db,
            &attempt("ann@shop.example", PASSWORD, Some(&near)),
            later + 30,
        )
        .await
        .unwrap();
        assert!(matches!(
            login(
                &t.db,
                &attempt(
                    "ann@shop.example",
                    PASSWORD,
                    Some(&crate::staff::testing::wrong_code(&secret, later + 60))
                ),
                later + 60
            )
            .await,
            Err(StaffError::BadSecondFactor)
        ));
    }

    #[tokio::test]
    async fn logout_everywhere_is_for_oneself_or_an_owner_and_audited() {
        let t = Fixture::new().await;
        let owner = t.active_staff("ann@shop.example", Role::Owner).await;
        let agent = t.active_staff("bob@shop.example", Role::Agent).await;
        let a1 = login(&t.db, &attempt("bob@shop.example", PASSWORD, None), 10)
            .await
            .unwrap();
        let a2 = login(&t.db, &attempt("bob@shop.example", PASSWORD, None), 11)
            .await
            .unwrap();
        let o = login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 12)
            .await
            .unwrap();
        let agent_session = session(&t.db, &a1.session.token, 13)
            .await
            .unwrap()
            .unwrap();
        // An agent cannot log an owner out.
        assert!(matches!(
            logout_everywhere(&t.db, By::staff(&agent_session), &owner.staff_id, 14).await,
            Err(StaffError::Forbidden { .. })
        ));
        assert!(
            session(&t.db, &o.session.token, 14)
                .await
                .unwrap()
                .is_some()
        );
        // But itself, everywhere.
        let ended = logout_everywhere(&t.db, By::staff(&agent_session), &agent.staff_id, 15)
            .await
            .unwrap();
        assert_eq!(ended, 2);
        for s in [&a1, &a2] {
            assert!(
                session(&t.db, &s.session.token, 16)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        let last = t.audit().await.pop().unwrap();
        assert_eq!(last.0, format!("staff:{}", agent.staff_id));
        assert_eq!(last.1, "staff_logged_out_everywhere");
        // Logout of one session; twice is fine.
        logout(&t.db, &o.session.token).await.unwrap();
        logout(&t.db, &o.session.token).await.unwrap();
        assert!(
            session(&t.db, &o.session.token, 17)
                .await
                .unwrap()
                .is_none()
        );
    }
}
