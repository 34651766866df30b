//! A lender's staff accounts: add (with a password, or invited to set one), accept an
//! invitation, list, change a role, disable and enable — each checked against the acting
//! [`By`]'s role, scoped to its lender in SQL, and audited in the same transaction.
//!
//! The last active owner of a lender (not disabled, with a password) can be neither
//! demoted nor disabled: the lender would be locked out of its own console, with no one
//! left to manage staff. Every staff change first writes the lender's row
//! ([`events::begin`]), which serialises them per lender on PostgreSQL (a row lock) as
//! SQLite's single writer does, so two owners demoting each other at the same moment
//! cannot both succeed.

use serde::Serialize;
use sqlx::Row;

use super::events::{self, StaffEvent};
use super::login::LoggedIn;
use super::{
    By, Permission, Role, STAFF_COLUMNS, StaffError, StaffRow, StaffStatus, check_name,
    invitations, normalize_email, password, sessions, staff_row, throttle,
};
use crate::db::queries::{self, Tx};
use crate::db::{Db, is_unique_violation};
use crate::error::Error;

/// Who to add.
#[derive(Debug, Clone, Copy)]
pub struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
}

/// An invited account and its link's token (shown once).
#[derive(Debug, Clone)]
pub struct Invited {
    pub staff: StaffRow,
    pub token: String,
    pub expires_at: i64,
}

/// What the invitation page shows before the password is set.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationView {
    pub staff: StaffRow,
    pub lender_name: String,
    pub expires_at: i64,
}

type Result<T> = std::result::Result<T, StaffError>;

/// Adds an account whose password is set now (`finlock staff add --password-stdin`).
pub async fn add_with_password(
    db: &Db,
    by: By<'_>,
    new: &NewStaff<'_>,
    password: &str,
    now: i64,
) -> Result<StaffRow> {
    by.require(Permission::ManageStaff)?;
    let (email, name) = (normalize_email(new.email)?, check_name(new.name)?);
    password::check_policy(password, &email)?;
    let hash = password::hash_blocking(password.to_string()).await?;
    let staff_id = crate::ids::row_id("stf")?;
    let mut tx = events::begin(db, by.lender_id).await?;
    insert(
        &mut tx,
        &by,
        &staff_id,
        &email,
        name,
        new.role,
        Some(&hash),
        now,
    )
    .await?;
    let event = StaffEvent::Added {
        staff_id: &staff_id,
        role: new.role,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    let staff = fetch(&mut tx, by.lender_id, &staff_id).await?;
    tx.commit().await?;
    tracing::info!(lender_id = by.lender_id, staff_id = %staff_id, role = %new.role, "staff added");
    Ok(staff)
}

/// Adds an account without a password and an invitation for it.
pub async fn invite(db: &Db, by: By<'_>, new: &NewStaff<'_>, now: i64) -> Result<Invited> {
    by.require(Permission::ManageStaff)?;
    let (email, name) = (normalize_email(new.email)?, check_name(new.name)?);
    let staff_id = crate::ids::row_id("stf")?;
    let mut tx = events::begin(db, by.lender_id).await?;
    insert(&mut tx, &by, &staff_id, &email, name, new.role, None, now).await?;
    let (token, expires_at) =
        invitations::create(&mut tx, &staff_id, by.lender_id, &by.actor().label(), now).await?;
    let event = StaffEvent::Invited {
        staff_id: &staff_id,
        role: new.role,
        expires_at,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    let staff = fetch(&mut tx, by.lender_id, &staff_id).await?;
    tx.commit().await?;
    tracing::info!(lender_id = by.lender_id, staff_id = %staff_id, role = %new.role, "staff invited");
    Ok(Invited {
        staff,
        token,
        expires_at,
    })
}

/// A new invitation for an account that has not set its password yet (the first link
/// expired or was lost); older links stop working.
pub async fn reinvite(db: &Db, by: By<'_>, staff_id: &str, now: i64) -> Result<Invited> {
    by.require(Permission::ManageStaff)?;
    let mut tx = events::begin(db, by.lender_id).await?;
    let staff = fetch(&mut tx, by.lender_id, staff_id).await?;
    if staff.status() != StaffStatus::Invited {
        return Err(Error::conflict(
            "not-invited",
            "this account has a password already or is disabled; only a pending account gets a new invitation",
        )
        .into());
    }
    let (token, expires_at) =
        invitations::create(&mut tx, staff_id, by.lender_id, &by.actor().label(), now).await?;
    let event = StaffEvent::Invited {
        staff_id,
        role: staff.role,
        expires_at,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    tx.commit().await?;
    Ok(Invited {
        staff,
        token,
        expires_at,
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    by: &By<'_>,
    staff_id: &str,
    email: &str,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
    now: i64,
) -> Result<()> {
    let inserted = sqlx::query(
        "INSERT INTO staff (staff_id, lender_id, email, name, role, password_hash, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(staff_id)
    .bind(by.lender_id)
    .bind(email)
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .bind(by.actor().label())
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(Error::conflict(
            "email-taken",
            "an account with this email exists already (an email names one account on this server)",
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// The account `staff_id` of `lender_id`; another lender's is `NotFound`.
pub(crate) async fn fetch(tx: &mut Tx, lender_id: &str, staff_id: &str) -> Result<StaffRow> {
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE lender_id = $1 AND staff_id = $2"
    ))
    .bind(lender_id)
    .bind(staff_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(staff_row(&row)?)
}

/// The invitation `token` is for, while it can be used; else `InvitationInvalid`.
pub async fn invitation(db: &Db, token: &str, now: i64) -> Result<InvitationView> {
    let (staff_id, expires_at) = invitations::usable(db, token, now)
        .await?
        .ok_or(StaffError::InvitationInvalid)?;
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE staff_id = $1"
    ))
    .bind(&staff_id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(StaffError::InvitationInvalid)?;
    let staff = staff_row(&row)?;
    if staff.status() != StaffStatus::Invited {
        return Err(StaffError::InvitationInvalid);
    }
    let lender = queries::lender_by_id(&db.read, &staff.lender_id)
        .await?
        .ok_or(StaffError::InvitationInvalid)?;
    Ok(InvitationView {
        staff,
        lender_name: lender.name,
        expires_at,
    })
}

/// Sets the invited account's password (the policy applies; a refused password leaves the
/// invitation usable), uses the invitation up and logs the new staff member in.
///
/// An account that keeps a second factor through a password reset
/// ([`super::credentials::reset_password`]; `view.staff.totp_enabled`) must also give a
/// current code: a reset link alone does not get past the second factor. A missing or
/// wrong code leaves the invitation usable (wrong codes count as failed logins).
pub async fn accept_invitation(
    db: &Db,
    token: &str,
    new_password: &str,
    totp_code: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<LoggedIn> {
    let view = invitation(db, token, now).await?;
    password::check_policy(new_password, &view.staff.email)?;
    if view.staff.totp_enabled {
        second_factor_of(db, &view.staff, totp_code, address, now).await?;
    }
    let hash = password::hash_blocking(new_password.to_string()).await?;
    let mut tx = events::begin(db, &view.staff.lender_id).await?;
    let Some(staff_id) = invitations::take(&mut tx, token, now).await? else {
        return Err(StaffError::InvitationInvalid);
    };
    let set = sqlx::query(
        "UPDATE staff SET password_hash = $2 \
         WHERE staff_id = $1 AND password_hash IS NULL AND disabled_at IS NULL",
    )
    .bind(&staff_id)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    if set.rows_affected() != 1 {
        return Err(StaffError::InvitationInvalid);
    }
    let lender_id = view.staff.lender_id.clone();
    let actor = crate::audit::Actor::Staff {
        lender_id: &lender_id,
        staff_id: &staff_id,
    };
    let event = StaffEvent::InvitationAccepted {
        staff_id: &staff_id,
    };
    events::append(&mut tx, &lender_id, now, actor, &event).await?;
    let staff = fetch(&mut tx, &lender_id, &staff_id).await?;
    // Signed in at once, in the same transaction as the entry that says so.
    let session = sessions::create_in(&mut tx, &staff_id, address, now).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %lender_id, staff_id = %staff_id, "staff invitation accepted");
    Ok(LoggedIn { staff, session })
}

/// Checks a current code of `staff`'s second factor (throttled like a login).
async fn second_factor_of(
    db: &Db,
    staff: &StaffRow,
    code: Option<&str>,
    address: Option<&str>,
    now: i64,
) -> Result<()> {
    match throttle::check(db, &staff.email, address, now).await {
        Err(Error::TooManyAttempts { retry_after_s }) => {
            return Err(StaffError::Throttled { retry_after_s });
        }
        other => other?,
    }
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(StaffError::SecondFactorRequired);
    };
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM staff WHERE staff_id = $1")
        .bind(&staff.staff_id)
        .fetch_one(&db.read)
        .await?;
    let secret: Option<String> = row.try_get("totp_secret")?;
    let last_step: Option<i64> = row.try_get("totp_last_step")?;
    let used = match secret {
        Some(secret) => {
            super::login::use_code(db, &staff.staff_id, &secret, code, last_step, now).await?
        }
        None => true,
    };
    if !used {
        throttle::failed(db, &staff.email, address, now).await?;
        return Err(StaffError::BadSecondFactor);
    }
    Ok(())
}

/// Every account of the acting lender, by name.
pub async fn list(db: &Db, by: By<'_>) -> Result<Vec<StaffRow>> {
    by.require(Permission::ManageStaff)?;
    let rows = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE lender_id = $1 ORDER BY name, email"
    ))
    .bind(by.lender_id)
    .fetch_all(&db.read)
    .await?;
    Ok(rows.iter().map(staff_row).collect::<crate::Result<_>>()?)
}

/// The acting lender's account with this email (any case, spaces around ignored);
/// `NotFound` otherwise, also for another lender's.
pub async fn by_email(db: &Db, by: By<'_>, email: &str) -> Result<StaffRow> {
    by.require(Permission::ManageStaff)?;
    let email = normalize_email(email)?;
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE lender_id = $1 AND email = $2"
    ))
    .bind(by.lender_id)
    .bind(&email)
    .fetch_optional(&db.read)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(staff_row(&row)?)
}

/// Refuses to take the lender's last active owner away (inside a transaction begun with
/// [`events::begin`], which serialises the lender's staff changes).
async fn keep_an_owner(tx: &mut Tx, target: &StaffRow) -> Result<()> {
    if target.role != Role::Owner || target.status() != StaffStatus::Active {
        return Ok(());
    }
    let others: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM staff WHERE lender_id = $1 AND staff_id <> $2 \
         AND role = 'owner' AND disabled_at IS NULL AND password_hash IS NOT NULL",
    )
    .bind(&target.lender_id)
    .bind(&target.staff_id)
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")?;
    if others == 0 {
        return Err(Error::conflict(
            "last-owner",
            "this is the lender's last active owner; make another staff member owner first",
        )
        .into());
    }
    Ok(())
}

/// Gives `staff_id` another role. Taking the owner role from the last active owner is
/// refused (`Conflict last-owner`). The same role again changes nothing and logs nothing.
pub async fn change_role(
    db: &Db,
    by: By<'_>,
    staff_id: &str,
    role: Role,
    now: i64,
) -> Result<StaffRow> {
    by.require(Permission::ManageStaff)?;
    let mut tx = events::begin(db, by.lender_id).await?;
    let before = fetch(&mut tx, by.lender_id, staff_id).await?;
    if before.role == role {
        return Ok(before);
    }
    if role != Role::Owner {
        keep_an_owner(&mut tx, &before).await?;
    }
    sqlx::query("UPDATE staff SET role = $3 WHERE lender_id = $1 AND staff_id = $2")
        .bind(by.lender_id)
        .bind(staff_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    let event = StaffEvent::RoleChanged {
        staff_id,
        from: before.role,
        to: role,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    let after = fetch(&mut tx, by.lender_id, staff_id).await?;
    tx.commit().await?;
    tracing::info!(lender_id = by.lender_id, staff_id, role = %role, "staff role changed");
    Ok(after)
}

/// Disables `staff_id`: its sessions end at once and its invitation links stop working.
/// The last active owner cannot be disabled. Disabling a disabled account changes nothing.
pub async fn disable(db: &Db, by: By<'_>, staff_id: &str, now: i64) -> Result<StaffRow> {
    by.require(Permission::ManageStaff)?;
    let mut tx = events::begin(db, by.lender_id).await?;
    let before = fetch(&mut tx, by.lender_id, staff_id).await?;
    if before.disabled_at.is_some() {
        return Ok(before);
    }
    keep_an_owner(&mut tx, &before).await?;
    sqlx::query(
        "UPDATE staff SET disabled_at = $3, disabled_by = $4 \
         WHERE lender_id = $1 AND staff_id = $2 AND disabled_at IS NULL",
    )
    .bind(by.lender_id)
    .bind(staff_id)
    .bind(now)
    .bind(by.actor().label())
    .execute(&mut *tx)
    .await?;
    let sessions_ended = sessions::end_all(&mut tx, staff_id).await?;
    invitations::revoke_all(&mut tx, staff_id, now).await?;
    let event = StaffEvent::Disabled {
        staff_id,
        sessions_ended,
    };
    events::append(&mut tx, by.lender_id, now, by.actor(), &event).await?;
    let after = fetch(&mut tx, by.lender_id, staff_id).await?;
    tx.commit().await?;
    tracing::info!(
        lender_id = by.lender_id,
        staff_id,
        sessions_ended,
        "staff disabled"
    );
    Ok(after)
}

/// Enables a disabled account again (it logs in with its old password; an account that
/// never set one needs a new invitation, [`reinvite`]).
pub async fn enable(db: &Db, by: By<'_>, staff_id: &str, now: i64) -> Result<StaffRow> {
    by.require(Permission::ManageStaff)?;
    let mut tx = events::begin(db, by.lender_id).await?;
    let before = fetch(&mut tx, by.lender_id, staff_id).await?;
    if before.disabled_at.is_none() {
        return Ok(before);
    }
    sqlx::query(
        "UPDATE staff SET disabled_at = NULL, disabled_by = NULL WHERE lender_id = $1 AND staff_id = $2",
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
        &StaffEvent::Enabled { staff_id },
    )
    .await?;
    let after = fetch(&mut tx, by.lender_id, staff_id).await?;
    tx.commit().await?;
    tracing::info!(lender_id = by.lender_id, staff_id, "staff enabled");
    Ok(after)
}

/// The acting lender's account `staff_id` (`NotFound` for another lender's).
pub async fn get(db: &Db, by: By<'_>, staff_id: &str) -> Result<StaffRow> {
    if by.staff_id != Some(staff_id) {
        by.require(Permission::ManageStaff)?;
    }
    let row = sqlx::query(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE lender_id = $1 AND staff_id = $2"
    ))
    .bind(by.lender_id)
    .bind(staff_id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(staff_row(&row)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::testing::{Fixture, PASSWORD};
    use crate::staff::{LoginAttempt, login};

    fn new<'a>(email: &'a str, role: Role) -> NewStaff<'a> {
        NewStaff {
            email,
            name: "Ann Smith",
            role,
        }
    }

    fn conflict(e: StaffError) -> &'static str {
        match e {
            StaffError::Other(Error::Conflict { slug, .. }) => slug,
            other => panic!("{other:?}"),
        }
    }

    async fn count(t: &Fixture, sql: &str) -> i64 {
        sqlx::query(sql)
            .fetch_one(&t.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    #[tokio::test]
    async fn an_account_added_with_a_password_can_log_in_and_is_audited() {
        let t = Fixture::new().await;
        let staff = add_with_password(
            &t.db,
            t.cli(),
            &new("  Ann@Shop.Example ", Role::Agent),
            PASSWORD,
            100,
        )
        .await
        .unwrap();
        assert_eq!(staff.email, "ann@shop.example");
        assert_eq!(staff.status(), StaffStatus::Active);
        assert_eq!(staff.created_by, "cli:lnd-test");
        assert!(staff.staff_id.starts_with("stf-"));
        let audit = t.audit().await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0, "cli:lnd-test");
        assert_eq!(audit[0].1, "staff_added");
        assert_eq!(audit[0].2["staff_id"], staff.staff_id.as_str());
        let attempt = LoginAttempt {
            email: "ANN@shop.example",
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        assert_eq!(
            login(&t.db, &attempt, 200).await.unwrap().staff.staff_id,
            staff.staff_id
        );
    }

    #[tokio::test]
    async fn bad_input_is_refused_and_nothing_is_stored() {
        let t = Fixture::new().await;
        let cases: [(NewStaff<'_>, &str); 4] = [
            (new("not an email", Role::Agent), "email"),
            (
                NewStaff {
                    email: "a@shop.example",
                    name: " ",
                    role: Role::Agent,
                },
                "name",
            ),
            (new("a@shop.example", Role::Agent), "password"),
            (new("b@shop.example", Role::Agent), "password"),
        ];
        let passwords = [PASSWORD, PASSWORD, "short", "b@shop.example"];
        for ((n, field), pw) in cases.iter().zip(passwords) {
            match add_with_password(&t.db, t.cli(), n, pw, 0).await {
                Err(StaffError::Other(Error::Invalid { field: f, .. })) => assert_eq!(&f, field),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(count(&t, "SELECT COUNT(*) FROM staff").await, 0);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM lender_audit").await, 0);
    }

    #[tokio::test]
    async fn an_email_names_one_account_on_the_whole_server() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Owner).await;
        let other = Fixture::lender(&t.db, "lnd-other", "Other").await;
        let e = invite(
            &t.db,
            By::cli(&other),
            &new("ANN@shop.example", Role::Agent),
            0,
        )
        .await
        .unwrap_err();
        assert_eq!(conflict(e), "email-taken");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM staff").await, 1);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM staff_invitations").await, 0);
    }

    #[tokio::test]
    async fn an_invitation_sets_the_password_once_and_logs_in() {
        let t = Fixture::new().await;
        let invited = invite(&t.db, t.cli(), &new("bob@shop.example", Role::Viewer), 1000)
            .await
            .unwrap();
        assert!(invited.token.starts_with("fli_"));
        assert_eq!(invited.expires_at, 1000 + invitations::VALID_S);
        assert_eq!(invited.staff.status(), StaffStatus::Invited);
        // No password yet: no login.
        let attempt = LoginAttempt {
            email: "bob@shop.example",
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        assert!(matches!(
            login(&t.db, &attempt, 1001).await,
            Err(StaffError::BadCredentials)
        ));
        let view = invitation(&t.db, &invited.token, 1001).await.unwrap();
        assert_eq!(
            (view.lender_name.as_str(), view.staff.role),
            ("Acme Phones", Role::Viewer)
        );
        // A password breaking the policy leaves the invitation usable.
        let weak =
            accept_invitation(&t.db, &invited.token, "bob@shop.example", None, None, 1002).await;
        assert!(matches!(
            weak,
            Err(StaffError::Other(Error::Invalid { .. }))
        ));
        let logged_in = accept_invitation(&t.db, &invited.token, PASSWORD, None, Some("a"), 1003)
            .await
            .unwrap();
        assert_eq!(logged_in.staff.status(), StaffStatus::Active);
        assert!(
            crate::staff::session(&t.db, &logged_in.session.token, 1004)
                .await
                .unwrap()
                .is_some()
        );
        // Used: refused, and the password stays the one set.
        let again = accept_invitation(
            &t.db,
            &invited.token,
            "another password 1",
            None,
            None,
            1005,
        )
        .await;
        assert!(matches!(again, Err(StaffError::InvitationInvalid)));
        assert!(matches!(
            invitation(&t.db, &invited.token, 1005).await,
            Err(StaffError::InvitationInvalid)
        ));
        login(&t.db, &attempt, 1006).await.unwrap();
        let actions: Vec<_> = t.audit().await.into_iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(
            actions,
            [
                ("cli:lnd-test".to_string(), "staff_invited".to_string()),
                (
                    format!("staff:{}", invited.staff.staff_id),
                    "staff_invitation_accepted".to_string()
                ),
                // The later login with the password set (accepting signed in too, and
                // its own entry says so).
                (
                    format!("staff:{}", invited.staff.staff_id),
                    "staff_logged_in".to_string()
                ),
            ]
        );
    }

    #[tokio::test]
    async fn an_expired_or_unknown_or_superseded_invitation_is_refused() {
        let t = Fixture::new().await;
        let invited = invite(&t.db, t.cli(), &new("bob@shop.example", Role::Agent), 0)
            .await
            .unwrap();
        let at_expiry = invitations::VALID_S;
        assert!(matches!(
            accept_invitation(&t.db, &invited.token, PASSWORD, None, None, at_expiry).await,
            Err(StaffError::InvitationInvalid)
        ));
        for bad in ["", "fli_nope", "fls_x", &invited.token[..20]] {
            assert!(matches!(
                accept_invitation(&t.db, bad, PASSWORD, None, None, 1).await,
                Err(StaffError::InvitationInvalid)
            ));
        }
        // A new invitation works; the old one does not any more.
        let again = reinvite(&t.db, t.cli(), &invited.staff.staff_id, at_expiry)
            .await
            .unwrap();
        assert!(matches!(
            accept_invitation(&t.db, &invited.token, PASSWORD, None, None, at_expiry + 1).await,
            Err(StaffError::InvitationInvalid)
        ));
        accept_invitation(&t.db, &again.token, PASSWORD, None, None, at_expiry + 1)
            .await
            .unwrap();
        // An active account gets no invitation.
        let e = reinvite(&t.db, t.cli(), &invited.staff.staff_id, at_expiry + 2)
            .await
            .unwrap_err();
        assert_eq!(conflict(e), "not-invited");
    }

    #[tokio::test]
    async fn a_disabled_accounts_invitation_is_refused() {
        let t = Fixture::new().await;
        let invited = invite(&t.db, t.cli(), &new("bob@shop.example", Role::Agent), 0)
            .await
            .unwrap();
        disable(&t.db, t.cli(), &invited.staff.staff_id, 1)
            .await
            .unwrap();
        assert!(matches!(
            accept_invitation(&t.db, &invited.token, PASSWORD, None, None, 2).await,
            Err(StaffError::InvitationInvalid)
        ));
    }

    #[tokio::test]
    async fn the_last_active_owner_can_be_neither_demoted_nor_disabled() {
        let t = Fixture::new().await;
        let ann = t.active_staff("ann@shop.example", Role::Owner).await;
        // An invited owner without a password does not count.
        invite(&t.db, t.cli(), &new("inv@shop.example", Role::Owner), 0)
            .await
            .unwrap();
        let e = change_role(&t.db, t.cli(), &ann.staff_id, Role::Agent, 1)
            .await
            .unwrap_err();
        assert_eq!(conflict(e), "last-owner");
        let e = disable(&t.db, t.cli(), &ann.staff_id, 1).await.unwrap_err();
        assert_eq!(conflict(e), "last-owner");
        // With a second owner, one of them can go.
        let bob = t.active_staff("bob@shop.example", Role::Agent).await;
        change_role(&t.db, t.cli(), &bob.staff_id, Role::Owner, 2)
            .await
            .unwrap();
        let ann = change_role(&t.db, t.cli(), &ann.staff_id, Role::Viewer, 3)
            .await
            .unwrap();
        assert_eq!(ann.role, Role::Viewer);
        let e = disable(&t.db, t.cli(), &bob.staff_id, 4).await.unwrap_err();
        assert_eq!(conflict(e), "last-owner");
        let bob = get(&t.db, t.cli(), &bob.staff_id).await.unwrap();
        assert_eq!((bob.role, bob.status()), (Role::Owner, StaffStatus::Active));
        // A disabled owner does not count either.
        let carl = t.active_staff("carl@shop.example", Role::Owner).await;
        disable(&t.db, t.cli(), &carl.staff_id, 5).await.unwrap();
        let e = change_role(&t.db, t.cli(), &bob.staff_id, Role::Agent, 6)
            .await
            .unwrap_err();
        assert_eq!(conflict(e), "last-owner");
    }

    #[tokio::test]
    async fn only_owners_manage_staff_and_only_their_lenders() {
        let t = Fixture::new().await;
        let owner = t.active_staff("ann@shop.example", Role::Owner).await;
        let agent = t.active_staff("bob@shop.example", Role::Agent).await;
        let viewer = t.active_staff("vic@shop.example", Role::Viewer).await;
        for acting in [&agent, &viewer] {
            let by = By {
                lender_id: &t.lender_id,
                staff_id: Some(&acting.staff_id),
                role: Some(acting.role),
            };
            assert!(matches!(
                list(&t.db, by).await,
                Err(StaffError::Forbidden { .. })
            ));
            assert!(matches!(
                change_role(&t.db, by, &acting.staff_id, Role::Owner, 1).await,
                Err(StaffError::Forbidden { .. })
            ));
            assert!(matches!(
                disable(&t.db, by, &owner.staff_id, 1).await,
                Err(StaffError::Forbidden { .. })
            ));
            assert!(matches!(
                invite(&t.db, by, &new("x@shop.example", Role::Owner), 1).await,
                Err(StaffError::Forbidden { .. })
            ));
        }
        assert_eq!(
            get(&t.db, t.cli(), &agent.staff_id).await.unwrap().role,
            Role::Agent
        );
        // An owner of one lender does not see or touch another's staff.
        let other = Fixture::lender(&t.db, "lnd-other", "Other").await;
        let by_other = By::cli(&other);
        assert!(list(&t.db, by_other).await.unwrap().is_empty());
        for r in [
            disable(&t.db, by_other, &agent.staff_id, 1).await,
            change_role(&t.db, by_other, &agent.staff_id, Role::Viewer, 1).await,
            by_email(&t.db, by_other, "bob@shop.example").await,
        ] {
            assert!(
                matches!(r, Err(StaffError::Other(Error::NotFound))),
                "{r:?}"
            );
        }
        let by_owner = By {
            lender_id: &t.lender_id,
            staff_id: Some(&owner.staff_id),
            role: Some(Role::Owner),
        };
        let listed = list(&t.db, by_owner).await.unwrap();
        assert_eq!(listed.len(), 3);
        let changed = change_role(&t.db, by_owner, &viewer.staff_id, Role::Agent, 7)
            .await
            .unwrap();
        assert_eq!(changed.role, Role::Agent);
        let last = t.audit().await.pop().unwrap();
        assert_eq!(last.0, format!("staff:{}", owner.staff_id));
        assert_eq!(last.1, "staff_role_changed");
        assert_eq!(last.2["from"], "viewer");
        assert_eq!(last.2["to"], "agent");
    }

    #[tokio::test]
    async fn disabling_ends_sessions_and_logins_and_enabling_restores_logins() {
        let t = Fixture::new().await;
        t.active_staff("ann@shop.example", Role::Owner).await;
        let bob = t.active_staff("bob@shop.example", Role::Agent).await;
        let attempt = LoginAttempt {
            email: "bob@shop.example",
            password: PASSWORD,
            totp_code: None,
            address: None,
        };
        let s = login(&t.db, &attempt, 10).await.unwrap().session;
        let bob = disable(&t.db, t.cli(), &bob.staff_id, 11).await.unwrap();
        assert_eq!(bob.status(), StaffStatus::Disabled);
        assert!(
            crate::staff::session(&t.db, &s.token, 12)
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            login(&t.db, &attempt, 13).await,
            Err(StaffError::Disabled)
        ));
        let last = t.audit().await.pop().unwrap();
        assert_eq!(
            (last.1.as_str(), &last.2["sessions_ended"]),
            ("staff_disabled", &1.into())
        );
        enable(&t.db, t.cli(), &bob.staff_id, 14).await.unwrap();
        login(&t.db, &attempt, 15).await.unwrap();
    }
}
