//! A password's life after the first: changed by its owner, or reset by an owner of the
//! lender (or the server's operator) when it is forgotten.
//!
//! Changing needs the current password (a session left open on a shop's till must not be
//! enough to take the account over) and ends every other session of the account. A wrong
//! current password counts as a failed login, so an open session is no way around the
//! throttle.
//!
//! Resetting removes the password at once, ends the account's sessions and returns a new
//! invitation link (72 hours, single use) with which the staff member sets a new one —
//! nobody else ever learns it. A second factor stays on, and the link asks for its code
//! ([`super::accept_invitation`]). One's own password is changed, not reset.

use sqlx::Row;

use super::accounts::{Invited, fetch};
use super::events::{self, StaffEvent};
use super::{By, Permission, StaffError, StaffStatus, invitations, password, sessions, throttle};
use crate::db::Db;
use crate::error::Error;
use crate::ids;

type Result<T> = std::result::Result<T, StaffError>;

/// Changes the password of the session's account: `current` must be right, `new` must
/// meet the policy and differ from it. Every other session of the account ends (the one
/// of `session_token` stays). How many sessions ended.
pub async fn change_password(
    db: &Db,
    session_token: &str,
    current: &str,
    new: &str,
    address: Option<&str>,
    now: i64,
) -> Result<u64> {
    let session = sessions::lookup(db, session_token, now)
        .await?
        .ok_or(Error::Unauthorized)?;
    let staff = &session.staff;
    match throttle::check(db, &staff.email, address, now).await {
        Err(Error::TooManyAttempts { retry_after_s }) => {
            return Err(StaffError::Throttled { retry_after_s });
        }
        other => other?,
    }
    let stored: Option<String> = sqlx::query("SELECT password_hash FROM staff WHERE staff_id = $1")
        .bind(&staff.staff_id)
        .fetch_one(&db.read)
        .await?
        .try_get("password_hash")?;
    if !password::verify_blocking(current.to_string(), stored.clone()).await? {
        throttle::failed(db, &staff.email, address, now).await?;
        return Err(StaffError::BadCredentials);
    }
    password::check_policy(new, &staff.email)?;
    if new == current {
        return Err(Error::invalid("password", "not the current password").into());
    }
    let hash = password::hash_blocking(new.to_string()).await?;
    let mut tx = events::begin(db, &staff.lender_id).await?;
    // Only if the password is still the one checked (a reset meanwhile wins).
    let set = sqlx::query(
        "UPDATE staff SET password_hash = $2 WHERE staff_id = $1 AND password_hash = $3 \
         AND disabled_at IS NULL",
    )
    .bind(&staff.staff_id)
    .bind(&hash)
    .bind(&stored)
    .execute(&mut *tx)
    .await?;
    if set.rows_affected() != 1 {
        return Err(Error::conflict(
            "password-changed",
            "the password was changed or reset meanwhile; log in again",
        )
        .into());
    }
    let ended =
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1 AND token_sha256 <> $2")
            .bind(&staff.staff_id)
            .bind(ids::sha256_hex(session_token.as_bytes()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
    let event = StaffEvent::PasswordChanged {
        staff_id: &staff.staff_id,
        sessions_ended: ended,
    };
    events::append(&mut tx, &staff.lender_id, now, staff.actor(), &event).await?;
    tx.commit().await?;
    throttle::succeeded(db, &staff.email).await?;
    tracing::info!(lender_id = %staff.lender_id, staff_id = %staff.staff_id, "staff password changed");
    Ok(ended)
}

/// Resets the password of `staff_id`, an active account of the acting lender (not one's
/// own): the password stops working, the sessions end, and the returned link sets a new
/// one. Audited.
pub async fn reset_password(db: &Db, by: By<'_>, staff_id: &str, now: i64) -> Result<Invited> {
    by.require(Permission::ManageStaff)?;
    if by.staff_id == Some(staff_id) {
        return Err(Error::conflict(
            "own-password",
            "change your own password instead (it needs the current one)",
        )
        .into());
    }
    let mut tx = events::begin(db, by.lender_id).await?;
    let staff = fetch(&mut tx, by.lender_id, staff_id).await?;
    if staff.status() != StaffStatus::Active {
        return Err(Error::conflict(
            "not-active",
            "only an active account's password is reset; a pending one gets a new invitation, a disabled one is enabled first",
        )
        .into());
    }
    sqlx::query("UPDATE staff SET password_hash = NULL WHERE lender_id = $1 AND staff_id = $2")
        .bind(by.lender_id)
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    let sessions_ended = sessions::end_all(&mut tx, staff_id).await?;
    let (token, expires_at) =
        invitations::create(&mut tx, staff_id, by.lender_id, &by.actor().label(), now).await?;
    let event = StaffEvent::PasswordReset {
        staff_id,
        sessions_ended,
        expires_at,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    let staff = fetch(&mut tx, by.lender_id, staff_id).await?;
    tx.commit().await?;
    tracing::info!(
        lender_id = by.lender_id,
        staff_id,
        sessions_ended,
        "staff password reset"
    );
    Ok(Invited {
        staff,
        token,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::testing::{Fixture, PASSWORD};
    use crate::staff::{
        LoginAttempt, Role, accept_invitation, begin_totp, confirm_totp, login, session, totp,
    };

    fn attempt<'a>(email: &'a str, password: &'a str, code: Option<&'a str>) -> LoginAttempt<'a> {
        LoginAttempt {
            email,
            password,
            totp_code: code,
            address: None,
        }
    }

    #[tokio::test]
    async fn changing_needs_the_current_password_and_ends_the_other_sessions() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Agent).await;
        let here = login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 10)
            .await
            .unwrap();
        let elsewhere = login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 11)
            .await
            .unwrap();
        let token = &here.session.token;
        let new = "a new password for ann";
        assert!(matches!(
            change_password(&t.db, token, "wrong password!", new, None, 12).await,
            Err(StaffError::BadCredentials)
        ));
        assert!(matches!(
            change_password(&t.db, token, PASSWORD, "short", None, 12).await,
            Err(StaffError::Other(Error::Invalid { .. }))
        ));
        assert!(matches!(
            change_password(&t.db, token, PASSWORD, PASSWORD, None, 12).await,
            Err(StaffError::Other(Error::Invalid { .. }))
        ));
        assert!(matches!(
            change_password(&t.db, "fls_nope", PASSWORD, new, None, 12).await,
            Err(StaffError::Other(Error::Unauthorized))
        ));
        // Nothing of that changed the password.
        login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 13)
            .await
            .unwrap();
        let ended = change_password(&t.db, token, PASSWORD, new, None, 14)
            .await
            .unwrap();
        assert_eq!(ended, 2);
        assert!(session(&t.db, token, 15).await.unwrap().is_some());
        assert!(
            session(&t.db, &elsewhere.session.token, 15)
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            login(&t.db, &attempt("ann@shop.example", PASSWORD, None), 16).await,
            Err(StaffError::BadCredentials)
        ));
        login(&t.db, &attempt("ann@shop.example", new, None), 17)
            .await
            .unwrap();
        let mut audit = t.audit().await;
        assert_eq!(audit.pop().unwrap().1, "staff_logged_in");
        assert_eq!(audit.pop().unwrap().1, "staff_password_changed");
    }

    #[tokio::test]
    async fn a_reset_ends_the_password_and_sessions_and_the_link_sets_a_new_one() {
        let t = Fixture::new().await;
        let owner = t.active_staff("owner@shop.example", Role::Owner).await;
        let bob = t.active_staff("bob@shop.example", Role::Agent).await;
        let s = login(&t.db, &attempt("bob@shop.example", PASSWORD, None), 10)
            .await
            .unwrap();
        let owner_session = login(&t.db, &attempt("owner@shop.example", PASSWORD, None), 10)
            .await
            .unwrap();
        let by_owner = session(&t.db, &owner_session.session.token, 10)
            .await
            .unwrap()
            .unwrap();
        // Not one's own, not by an agent.
        assert!(matches!(
            reset_password(&t.db, By::staff(&by_owner), &owner.staff_id, 11).await,
            Err(StaffError::Other(Error::Conflict {
                slug: "own-password",
                ..
            }))
        ));
        let by_bob = session(&t.db, &s.session.token, 11).await.unwrap().unwrap();
        assert!(matches!(
            reset_password(&t.db, By::staff(&by_bob), &owner.staff_id, 11).await,
            Err(StaffError::Forbidden { .. })
        ));
        let reset = reset_password(&t.db, By::staff(&by_owner), &bob.staff_id, 12)
            .await
            .unwrap();
        assert_eq!(reset.staff.status(), StaffStatus::Invited);
        assert!(
            session(&t.db, &s.session.token, 13)
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            login(&t.db, &attempt("bob@shop.example", PASSWORD, None), 13).await,
            Err(StaffError::BadCredentials)
        ));
        let new = "bob's brand new password";
        accept_invitation(&t.db, &reset.token, new, None, None, 14)
            .await
            .unwrap();
        login(&t.db, &attempt("bob@shop.example", new, None), 15)
            .await
            .unwrap();
        let last = t.audit().await;
        let reset_entry = last.iter().find(|e| e.1 == "staff_password_reset").unwrap();
        assert_eq!(reset_entry.0, format!("staff:{}", owner.staff_id));
        assert_eq!(reset_entry.2["sessions_ended"], 1);
        // A pending account is not reset.
        let again = reset_password(&t.db, t.cli(), &bob.staff_id, 16)
            .await
            .unwrap();
        assert!(matches!(
            reset_password(&t.db, t.cli(), &bob.staff_id, 17).await,
            Err(StaffError::Other(Error::Conflict {
                slug: "not-active",
                ..
            }))
        ));
        drop(again);
    }

    #[tokio::test]
    async fn a_reset_link_does_not_get_past_the_second_factor() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Agent).await;
        let now = 3_000_000;
        let s = login(&t.db, &attempt("ann@shop.example", PASSWORD, None), now)
            .await
            .unwrap();
        let s = session(&t.db, &s.session.token, now)
            .await
            .unwrap()
            .unwrap();
        let setup = begin_totp(&t.db, &s).await.unwrap();
        let secret = totp::base32_decode(&setup.secret_base32).unwrap();
        let code = |at: i64| totp::format_code(totp::code_at_step(&secret, totp::step_at(at)));
        confirm_totp(&t.db, &s, &code(now), now).await.unwrap();
        let reset = reset_password(&t.db, t.cli(), &s.staff.staff_id, now + 1)
            .await
            .unwrap();
        let view = crate::staff::invitation(&t.db, &reset.token, now + 1)
            .await
            .unwrap();
        assert!(view.staff.totp_enabled);
        let new = "ann's new password";
        assert!(matches!(
            accept_invitation(&t.db, &reset.token, new, None, None, now + 30).await,
            Err(StaffError::SecondFactorRequired)
        ));
        assert!(matches!(
            accept_invitation(&t.db, &reset.token, new, Some(&code(now)), None, now + 30).await,
            Err(StaffError::BadSecondFactor)
        ));
        // The link is still good with a current code.
        accept_invitation(
            &t.db,
            &reset.token,
            new,
            Some(&code(now + 30)),
            None,
            now + 30,
        )
        .await
        .unwrap();
    }
}
