//! A lender's API keys: several named keys (one per integration or staff member),
//! created, listed (the secret is never shown again), rotated and revoked — from the
//! CLI and from the API. Every change a key makes to a device names the key in the
//! audit log.
//!
//! A key is 32 random bytes with a recognisable prefix, stored as SHA-256 (a slow
//! password hash protects guessable secrets, not these). A revoked key stops working at
//! once on every node: authentication reads this table on every request.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::Db;
use crate::db::queries::{self, LenderRow};
use crate::error::{Error, Result};
use crate::ids;

/// A key as listed: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ApiKey {
    pub key_id: String,
    pub name: String,
    pub created_at: i64,
    /// `cli`, `key:<key_id>` when made through the API, or `staff:<staff_id>` from the console.
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

/// A new key: `api_key` is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewApiKey {
    pub key_id: String,
    pub name: String,
    pub api_key: String,
}

/// The key a request authenticated with.
#[derive(Debug, Clone)]
pub struct KeyRef {
    pub key_id: String,
    pub name: String,
}

/// A key's name: 1–64 printable characters (it appears in lists and logs).
pub fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "1 to 64 printable characters"));
    }
    Ok(name)
}

/// The lender and key a presented secret belongs to, if the key is not revoked.
pub async fn authenticate(db: &Db, secret: &str) -> Result<Option<(LenderRow, KeyRef)>> {
    if !secret.starts_with(ids::API_KEY_PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let hash = ids::sha256_hex(secret.as_bytes());
    let found = queries::lender_by_api_key(&db.read, &hash).await?;
    Ok(found.map(|(lender, key_id, name)| (lender, KeyRef { key_id, name })))
}

/// Creates a key for `lender_id`. `by` is who asked (`cli`, `key:<id>` or `staff:<id>`).
pub async fn create(db: &Db, lender_id: &str, name: &str, by: &str, now: i64) -> Result<NewApiKey> {
    let name = check_name(name)?;
    let secret = ids::api_key()?;
    let key_id = ids::row_id("key")?;
    insert(db, &key_id, lender_id, name, &secret, by, now).await?;
    tracing::info!(lender_id, key_id = %key_id, by, "api key created");
    Ok(NewApiKey {
        key_id,
        name: name.to_string(),
        api_key: secret,
    })
}

async fn insert(
    db: &Db,
    key_id: &str,
    lender_id: &str,
    name: &str,
    secret: &str,
    by: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, lender_id, name, key_sha256, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key_id)
    .bind(lender_id)
    .bind(name)
    .bind(ids::sha256_hex(secret.as_bytes()))
    .bind(now)
    .bind(by)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// The first key of a new lender (its secret was made with the lender).
pub async fn insert_first(db: &Db, lender_id: &str, secret: &str, now: i64) -> Result<()> {
    let key_id = ids::row_id("key")?;
    insert(db, &key_id, lender_id, "initial", secret, "cli", now).await
}

/// Every key of the lender, newest first.
pub async fn list(db: &Db, lender_id: &str) -> Result<Vec<ApiKey>> {
    let rows = sqlx::query(
        "SELECT key_id, name, created_at, created_by, revoked_at, revoked_by FROM api_keys \
         WHERE lender_id = $1 ORDER BY created_at DESC, key_id",
    )
    .bind(lender_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ApiKey {
                key_id: r.try_get("key_id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
                revoked_at: r.try_get("revoked_at")?,
                revoked_by: r.try_get("revoked_by")?,
            })
        })
        .collect()
}

/// Revokes a key of the lender; another lender's key is `NotFound`. The lender's last
/// active key cannot be revoked (that would lock it out of its own API: make another
/// first).
pub async fn revoke(db: &Db, lender_id: &str, key_id: &str, by: &str, now: i64) -> Result<ApiKey> {
    let mut tx = db.write.begin().await?;
    let active: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM api_keys WHERE lender_id = $1 AND revoked_at IS NULL",
    )
    .bind(lender_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    let target =
        sqlx::query("SELECT revoked_at FROM api_keys WHERE lender_id = $1 AND key_id = $2")
            .bind(lender_id)
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound)?;
    let already: Option<i64> = target.try_get("revoked_at")?;
    if already.is_none() {
        if active <= 1 {
            return Err(Error::conflict(
                "last-key",
                "this is the lender's last active API key; create another before revoking it",
            ));
        }
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $3, revoked_by = $4 \
             WHERE lender_id = $1 AND key_id = $2 AND revoked_at IS NULL",
        )
        .bind(lender_id)
        .bind(key_id)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tracing::info!(lender_id, key_id, by, "api key revoked");
    }
    tx.commit().await?;
    list(db, lender_id)
        .await?
        .into_iter()
        .find(|k| k.key_id == key_id)
        .ok_or(Error::NotFound)
}

/// Replaces a key by a new one with the same name; the old one is revoked.
pub async fn rotate(
    db: &Db,
    lender_id: &str,
    key_id: &str,
    by: &str,
    now: i64,
) -> Result<NewApiKey> {
    let old = list(db, lender_id)
        .await?
        .into_iter()
        .find(|k| k.key_id == key_id)
        .ok_or(Error::NotFound)?;
    if old.revoked_at.is_some() {
        return Err(Error::conflict(
            "revoked",
            "this API key is already revoked",
        ));
    }
    let new = create(db, lender_id, &old.name, by, now).await?;
    revoke(db, lender_id, key_id, by, now).await?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_1_to_64_printable_characters() {
        assert_eq!(check_name("  Shop 12 till  ").unwrap(), "Shop 12 till");
        assert!(check_name(&"é".repeat(64)).is_ok());
        for bad in ["", "   ", "line\nbreak", "nul\0"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
