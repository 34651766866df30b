//! Invitations: how a new staff member sets its own password, so nobody else ever knows
//! it. An owner (or `finlock staff add`) makes the account without a password and gets a
//! link `<public url>/console/invite/<token>` to pass on; whoever opens it within
//! [`VALID_S`] sets the password, once.
//!
//! The token is 32 random bytes shown once; only its SHA-256 is stored (like a session's).
//! Using it is one conditional `UPDATE … WHERE used_at IS NULL AND expires_at > now`, so
//! two nodes accepting the same link at once cannot both succeed. A new invitation for the
//! same account, and disabling it, make the older links unusable.

use sqlx::Row;

use crate::db::Db;
use crate::db::queries::Tx;
use crate::error::Result;
use crate::ids;

/// An invitation is valid for 72 hours.
pub const VALID_S: i64 = 72 * 3600;

/// The stored form of a token.
pub(crate) fn token_hash(token: &str) -> String {
    ids::sha256_hex(token.as_bytes())
}

/// The link a token is opened at (`public_url` without a trailing `/`).
pub fn link(public_url: &str, token: &str) -> String {
    format!(
        "{}/console/invite/{token}",
        public_url.trim_end_matches('/')
    )
}

/// Whether `token` could be an invitation token at all.
fn plausible(token: &str) -> bool {
    token.starts_with(ids::INVITATION_TOKEN_PREFIX) && token.len() <= 128
}

/// A fresh invitation for `staff_id` inside `tx`; the account's older unused ones stop
/// working. Returns the token (shown once) and when it expires.
pub async fn create(
    tx: &mut Tx,
    staff_id: &str,
    lender_id: &str,
    created_by: &str,
    now: i64,
) -> Result<(String, i64)> {
    revoke_all(tx, staff_id, now).await?;
    let token = ids::bearer_token(ids::INVITATION_TOKEN_PREFIX)?;
    let expires_at = now + VALID_S;
    sqlx::query(
        "INSERT INTO staff_invitations (token_sha256, staff_id, lender_id, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(staff_id)
    .bind(lender_id)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok((token, expires_at))
}

/// Makes every unused invitation of `staff_id` unusable (marked used now).
pub async fn revoke_all(tx: &mut Tx, staff_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE staff_invitations SET used_at = $2 WHERE staff_id = $1 AND used_at IS NULL",
    )
    .bind(staff_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account a usable (unused, unexpired) invitation is for: `(staff_id, expires_at)`.
pub async fn usable(db: &Db, token: &str, now: i64) -> Result<Option<(String, i64)>> {
    if !plausible(token) {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT staff_id, expires_at FROM staff_invitations \
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now)
    .fetch_optional(&db.read)
    .await?;
    row.map(|r| Ok((r.try_get("staff_id")?, r.try_get("expires_at")?)))
        .transpose()
}

/// Uses the invitation inside `tx`: the account it was for, or `None` when it is unknown,
/// used or expired (then nothing changed).
pub async fn take(tx: &mut Tx, token: &str, now: i64) -> Result<Option<String>> {
    if !plausible(token) {
        return Ok(None);
    }
    let row = sqlx::query(
        "UPDATE staff_invitations SET used_at = $2 \
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2 RETURNING staff_id",
    )
    .bind(token_hash(token))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| r.try_get("staff_id").map_err(Into::into))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_under_the_console() {
        assert_eq!(
            link("https://lender.example/", "fli_x"),
            "https://lender.example/console/invite/fli_x"
        );
        assert_eq!(
            link("http://127.0.0.1:8080", "fli_x"),
            "http://127.0.0.1:8080/console/invite/fli_x"
        );
    }

    #[test]
    fn only_prefixed_tokens_are_looked_up() {
        assert!(plausible("fli_abc"));
        assert!(!plausible("fls_abc"));
        assert!(!plausible(&format!("fli_{}", "a".repeat(130))));
    }
}
