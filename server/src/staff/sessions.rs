//! Console sessions: a random token in an `HttpOnly` cookie, its SHA-256 in the database.
//!
//! Why in the database: several `finlock serve` nodes behind one load balancer must all
//! know a session, and a logout, a "log out everywhere" or a disabled account must end it
//! on every node at once — a signed cookie could not be revoked, and process memory is not
//! shared. Only the hash is stored, so a database dump or replica holds no usable session.
//!
//! A session ends after [`IDLE_S`] without a request (sliding) and in any case
//! [`ABSOLUTE_S`] after login. `last_seen_at` is written at most once a minute per session
//! ([`TOUCH_S`]), so reading pages does not turn into a write per request. The account is
//! read with every lookup, so a changed role or a disabled account applies from the next
//! request.
//!
//! Why the CSRF token is derived: it is SHA-256 over a domain-separation label and the
//! session token, so it needs no storage, is the same on every node, changes with every
//! login, and cannot be computed without the session cookie, which a cross-site page never
//! sees. The console puts it in every form; [`csrf_valid`] compares in constant time. The
//! sign-in form, before any session, gets the same from a cookie of its own
//! ([`login_form_cookie`]).

use serde::Serialize;
use sqlx::Row;

use super::{STAFF_COLUMNS, StaffRow, staff_row};
use crate::db::Db;
use crate::db::queries::{self, LenderRow};
use crate::error::{Error, Result};
use crate::ids;
use finlock_core::b64;

/// A session ends after this long without a request: 12 hours (a shift).
pub const IDLE_S: i64 = 12 * 3600;
/// And at the latest this long after login: 7 days.
pub const ABSOLUTE_S: i64 = 7 * 86_400;
/// `last_seen_at` is written when it is older than this.
pub const TOUCH_S: i64 = 60;

/// Separates the CSRF derivation from any other use of the token.
const CSRF_LABEL: &[u8] = b"finlock console csrf v1\0";

/// A new session: `token` goes into the cookie and is never shown or stored again.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    /// The CSRF token of this session (also derivable with [`csrf_token`]).
    pub csrf: String,
    /// The absolute end (a cookie's `Max-Age` can follow it).
    pub expires_at: i64,
}

/// A logged-in staff member: who, for which lender, and the CSRF token its forms carry.
#[derive(Debug, Clone, Serialize)]
pub struct StaffSession {
    pub staff: StaffRow,
    #[serde(skip)]
    pub lender: LenderRow,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl StaffSession {
    /// Whether the staff member's role grants `permission` (read on every request, so a
    /// changed role applies from the next one).
    pub fn may(&self, permission: super::Permission) -> bool {
        self.staff.role.may(permission)
    }

    /// `Err(Forbidden)` unless the role grants `permission`.
    pub fn require(&self, permission: super::Permission) -> Result<(), super::StaffError> {
        super::By::staff(self).require(permission)
    }

    /// The caller of the lender's device operations ([`crate::devices`]): the lender, with
    /// this staff member named in the audit log.
    pub fn caller(&self) -> crate::devices::Caller<'_> {
        crate::devices::Caller::staff(&self.lender, &self.staff.staff_id)
    }
}

/// The stored form of a token.
fn token_hash(token: &str) -> String {
    ids::sha256_hex(token.as_bytes())
}

/// Whether `token` could be a session token at all (cheap refusal of junk cookies).
fn plausible(token: &str) -> bool {
    token.starts_with(ids::SESSION_TOKEN_PREFIX) && token.len() <= 128
}

/// Separates the sign-in form's token from a session's CSRF token.
const LOGIN_FORM_LABEL: &[u8] = b"finlock console login form v1\0";

/// The prefix of the sign-in form's cookie.
pub const LOGIN_FORM_PREFIX: &str = "flf_";

/// base64url(SHA-256(label ‖ secret)).
fn derive(label: &[u8], secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &[label, secret.as_bytes()].concat());
    b64::encode(digest.as_ref())
}

/// The CSRF token of the session `session_token`: base64url(SHA-256(label ‖ token)).
pub fn csrf_token(session_token: &str) -> String {
    derive(CSRF_LABEL, session_token)
}

/// Whether `presented` is the CSRF token of `session_token` (constant-time compare).
pub fn csrf_valid(session_token: &str, presented: &str) -> bool {
    super::constant_time_eq(csrf_token(session_token).as_bytes(), presented.as_bytes())
}

/// The sign-in form has no session yet, so its CSRF protection is a random cookie of its
/// own (set with the form, `SameSite=Strict`, `HttpOnly`) and a form field derived from
/// it ([`login_form_token`]): a cross-site page can make a browser post the form but
/// cannot read the cookie to compute the field, so nobody is logged in to an attacker's
/// account unawares.
pub fn login_form_cookie() -> Result<String> {
    ids::bearer_token(LOGIN_FORM_PREFIX)
}

/// The sign-in form's hidden field for the cookie `cookie`.
pub fn login_form_token(cookie: &str) -> String {
    derive(LOGIN_FORM_LABEL, cookie)
}

/// Whether `presented` is the form field of `cookie` (constant-time); a cookie that is not
/// one [`login_form_cookie`] makes never passes.
pub fn login_form_valid(cookie: &str, presented: &str) -> bool {
    let shaped =
        cookie.starts_with(LOGIN_FORM_PREFIX) && cookie.len() > LOGIN_FORM_PREFIX.len() + 20;
    let equal = super::constant_time_eq(login_form_token(cookie).as_bytes(), presented.as_bytes());
    shaped && equal
}

/// Starts a session for `staff_id`; `address` is the client address (for the list of a
/// staff member's sessions). The staff member's sessions that have expired are removed.
pub async fn create(
    db: &Db,
    staff_id: &str,
    address: Option<&str>,
    now: i64,
) -> Result<NewSession> {
    let mut tx = db.write.begin().await?;
    let session = create_in(&mut tx, staff_id, address, now).await?;
    tx.commit().await?;
    Ok(session)
}

/// [`create`] inside `tx`: the session exists only if what else `tx` writes (a login's
/// audit entry) does too.
pub async fn create_in(
    tx: &mut queries::Tx,
    staff_id: &str,
    address: Option<&str>,
    now: i64,
) -> Result<NewSession> {
    let token = ids::bearer_token(ids::SESSION_TOKEN_PREFIX)?;
    let expires_at = now + ABSOLUTE_S;
    sqlx::query(
        "DELETE FROM staff_sessions WHERE staff_id = $1 AND (expires_at <= $2 OR last_seen_at <= $3)",
    )
    .bind(staff_id)
    .bind(now)
    .bind(now - IDLE_S)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO staff_sessions (token_sha256, staff_id, created_at, last_seen_at, expires_at, address) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .bind(address)
    .execute(&mut **tx)
    .await?;
    let csrf = csrf_token(&token);
    Ok(NewSession {
        token,
        csrf,
        expires_at,
    })
}

/// The session of `token`, if it exists, has not expired (idle or absolute) and its staff
/// member is not disabled; an expired one is removed. Sliding: the idle timeout restarts.
pub async fn lookup(db: &Db, token: &str, now: i64) -> Result<Option<StaffSession>> {
    if !plausible(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let columns = STAFF_COLUMNS
        .split(", ")
        .map(|c| format!("st.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let row = sqlx::query(&format!(
        "SELECT {columns}, s.created_at AS session_created_at, s.last_seen_at, s.expires_at \
         FROM staff_sessions s JOIN staff st ON st.staff_id = s.staff_id \
         WHERE s.token_sha256 = $1"
    ))
    .bind(&hash)
    .fetch_optional(&db.read)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let staff = staff_row(&row)?;
    let last_seen_at: i64 = row.try_get("last_seen_at")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let created_at: i64 = row.try_get("session_created_at")?;
    if now >= expires_at || now >= last_seen_at + IDLE_S || staff.disabled_at.is_some() {
        sqlx::query("DELETE FROM staff_sessions WHERE token_sha256 = $1")
            .bind(&hash)
            .execute(&db.write)
            .await?;
        return Ok(None);
    }
    if now - last_seen_at >= TOUCH_S {
        sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = $2 WHERE token_sha256 = $1 AND last_seen_at < $2",
        )
        .bind(&hash)
        .bind(now)
        .execute(&db.write)
        .await?;
    }
    let lender = queries::lender_by_id(&db.read, &staff.lender_id)
        .await?
        .ok_or_else(|| Error::Internal("a staff member's lender is missing".into()))?;
    Ok(Some(StaffSession {
        staff,
        lender,
        csrf: csrf_token(token),
        created_at,
        expires_at,
    }))
}

/// Ends the session of `token` (whether or not it exists).
pub async fn end(db: &Db, token: &str) -> Result<()> {
    if plausible(token) {
        sqlx::query("DELETE FROM staff_sessions WHERE token_sha256 = $1")
            .bind(token_hash(token))
            .execute(&db.write)
            .await?;
    }
    Ok(())
}

/// Ends every session of `staff_id` inside `tx`; how many there were.
pub async fn end_all(tx: &mut queries::Tx, staff_id: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::testing;
    use proptest::prelude::*;

    #[tokio::test]
    async fn a_session_is_found_by_its_token_only() {
        let t = testing::Fixture::new().await;
        let staff = t
            .active_staff("ann@shop.example", crate::staff::Role::Agent)
            .await;
        let s = create(&t.db, &staff.staff_id, Some("203.0.113.9"), 1000)
            .await
            .unwrap();
        assert!(s.token.starts_with("fls_"));
        assert_eq!(s.expires_at, 1000 + ABSOLUTE_S);
        let found = lookup(&t.db, &s.token, 1001).await.unwrap().unwrap();
        assert_eq!(found.staff.staff_id, staff.staff_id);
        assert_eq!(found.lender.lender_id, t.lender_id);
        assert_eq!(found.csrf, s.csrf);
        assert!(found.may(crate::staff::Permission::LockUnlock));
        assert!(!found.may(crate::staff::Permission::ManageStaff));
        assert!(
            found
                .require(crate::staff::Permission::ManageApiKeys)
                .is_err()
        );
        assert_eq!(
            found.caller().actor.label(),
            format!("staff:{}", staff.staff_id)
        );
        assert_eq!(found.caller().lender.lender_id, t.lender_id);
        // The token is not stored, only its hash.
        let stored: String = sqlx::query("SELECT token_sha256 FROM staff_sessions")
            .fetch_one(&t.db.read)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_ne!(stored, s.token);
        assert!(!stored.contains(&s.token[4..]));
        // Junk and a changed token find nothing.
        for bad in [
            "",
            "fls_",
            "abc",
            &s.token[..s.token.len() - 1],
            &format!("{}A", s.token),
        ] {
            assert!(lookup(&t.db, bad, 1001).await.unwrap().is_none(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn an_idle_session_expires_and_activity_keeps_it() {
        let t = testing::Fixture::new().await;
        let staff = t
            .active_staff("ann@shop.example", crate::staff::Role::Agent)
            .await;
        let s = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        // Seen every 11 hours: alive past 12 hours after login.
        for at in [11 * 3600, 22 * 3600, 33 * 3600] {
            assert!(
                lookup(&t.db, &s.token, at).await.unwrap().is_some(),
                "at {at}"
            );
        }
        // 12 hours of silence end it, and it stays ended.
        assert!(lookup(&t.db, &s.token, 45 * 3600).await.unwrap().is_none());
        assert!(
            lookup(&t.db, &s.token, 33 * 3600 + 60)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_session_ends_at_its_absolute_limit_however_active() {
        let t = testing::Fixture::new().await;
        let staff = t
            .active_staff("ann@shop.example", crate::staff::Role::Agent)
            .await;
        let s = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        let mut at = 0;
        while at + 3600 < ABSOLUTE_S {
            at += 3600;
            assert!(lookup(&t.db, &s.token, at).await.unwrap().is_some());
        }
        assert!(lookup(&t.db, &s.token, ABSOLUTE_S).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_session_of_a_disabled_account_is_gone() {
        let t = testing::Fixture::new().await;
        let staff = t
            .active_staff("ann@shop.example", crate::staff::Role::Agent)
            .await;
        let s = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        sqlx::query("UPDATE staff SET disabled_at = 5 WHERE staff_id = $1")
            .bind(&staff.staff_id)
            .execute(&t.db.write)
            .await
            .unwrap();
        assert!(lookup(&t.db, &s.token, 10).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn logout_ends_one_session_and_end_all_every_one() {
        let t = testing::Fixture::new().await;
        let staff = t
            .active_staff("ann@shop.example", crate::staff::Role::Agent)
            .await;
        let a = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        let b = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        let c = create(&t.db, &staff.staff_id, None, 0).await.unwrap();
        end(&t.db, &a.token).await.unwrap();
        assert!(lookup(&t.db, &a.token, 1).await.unwrap().is_none());
        assert!(lookup(&t.db, &b.token, 1).await.unwrap().is_some());
        let mut tx = t.db.write.begin().await.unwrap();
        assert_eq!(end_all(&mut tx, &staff.staff_id).await.unwrap(), 2);
        tx.commit().await.unwrap();
        for s in [&b, &c] {
            assert!(lookup(&t.db, &s.token, 1).await.unwrap().is_none());
        }
    }

    #[test]
    fn the_csrf_token_is_derived_and_checked() {
        let token = "fls_abc";
        let csrf = csrf_token(token);
        assert_eq!(csrf, csrf_token(token));
        assert_ne!(csrf, csrf_token("fls_abd"));
        assert!(!csrf.contains("abc"));
        assert!(csrf_valid(token, &csrf));
        assert!(!csrf_valid(token, ""));
        assert!(!csrf_valid(token, &csrf[1..]));
        assert!(!csrf_valid(token, &format!("{csrf}=")));
        assert!(!csrf_valid(token, token));
    }

    #[test]
    fn the_login_form_token_belongs_to_its_cookie_only() {
        let cookie = login_form_cookie().unwrap();
        assert!(cookie.starts_with("flf_"));
        let field = login_form_token(&cookie);
        assert!(login_form_valid(&cookie, &field));
        assert!(!login_form_valid(&cookie, ""));
        assert!(!login_form_valid(&login_form_cookie().unwrap(), &field));
        // A session's CSRF token is not a form token, nor the other way round.
        assert!(!login_form_valid(&cookie, &csrf_token(&cookie)));
        assert!(!csrf_valid(&cookie, &field));
        // Made-up cookies never pass, even with their own derived field.
        for made_up in ["", "flf_", "flf_short", "x"] {
            assert!(
                !login_form_valid(made_up, &login_form_token(made_up)),
                "{made_up:?}"
            );
        }
    }

    proptest! {
        /// A form token is never accepted for another cookie.
        #[test]
        fn a_login_form_token_never_passes_for_another_cookie(a in "flf_[A-Za-z0-9_-]{22,43}", b in "flf_[A-Za-z0-9_-]{22,43}") {
            prop_assume!(a != b);
            prop_assert!(login_form_valid(&a, &login_form_token(&a)));
            prop_assert!(!login_form_valid(&b, &login_form_token(&a)));
        }

        /// A CSRF token is never accepted for another session.
        #[test]
        fn a_csrf_token_never_passes_for_another_session(a in "fls_[A-Za-z0-9_-]{1,43}", b in "fls_[A-Za-z0-9_-]{1,43}") {
            prop_assume!(a != b);
            prop_assert!(csrf_valid(&a, &csrf_token(&a)));
            prop_assert!(!csrf_valid(&b, &csrf_token(&a)));
            prop_assert!(!csrf_valid(&a, &a));
        }
    }
}
