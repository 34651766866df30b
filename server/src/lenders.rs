//! Lenders: creation (signing key, API key, JWKS) and the cache of their signing keys.
//!
//! A lender's private key is a PKCS#8 file (mode 0600) in the keys directory, not a
//! database row: a database dump or replica then never holds what forges entitlements.
//! The public JWKS is stored in the database so every node (and `finlock keys show`)
//! can publish it. Lender details never change after creation; the signing key does,
//! by rotation ([`crate::lender_keys`]), so the cache looks at the newest key set again
//! after [`crate::lender_keys::FRESH_S`] seconds, and at once when a device names a set
//! newer than the cached one — a rotation on one node reaches every other node.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use finlock_core::keys::{Jwks, KeySet, LenderKey};
use finlock_core::protocol::{LenderInfo, UrlPolicy};

use crate::compliance;
use crate::db::Db;
use crate::db::queries::{self, LenderRow};
use crate::error::{Error, Result};
use crate::ids;
use crate::lender_keys::{self, KeyState};

/// What `finlock lender add` and the library take.
#[derive(Debug, Clone)]
pub struct NewLender {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub payment_url: String,
    pub support_url: Option<String>,
}

/// The result of creating a lender. `api_key` is shown once and never stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedLender {
    pub lender_id: String,
    pub api_key: String,
    pub jwks: Jwks,
}

/// A lender's signing side, as the server uses it.
#[derive(Debug)]
pub struct LenderCtx {
    pub lender_id: String,
    /// The newest set's signing key: every entitlement is signed with it.
    pub key: LenderKey,
    pub info: LenderInfo,
    /// The key sets (the newest, and the chain a device behind it needs).
    pub keys: KeyState,
    /// The compliance profile and payment apps it signs under (migration 0018).
    pub compliance: compliance::lender::Selection,
}

fn info(row: &LenderRow) -> LenderInfo {
    LenderInfo {
        name: row.name.clone(),
        phone: row.phone.clone(),
        email: row.email.clone(),
        payment_url: row.payment_url.clone(),
        support_url: row.support_url.clone(),
        terms_url: None,
        payment_instructions: None,
    }
}

/// The lender details must pass the same field rules a device applies (§3.3, §8),
/// or every entitlement the server signs for this lender would be rejected.
/// Plain-http loopback URLs are accepted for local testing (debug devices take them).
fn validate(new: &NewLender) -> Result<()> {
    let lender = LenderInfo {
        name: new.name.clone(),
        phone: new.phone.clone(),
        email: new.email.clone(),
        payment_url: new.payment_url.clone(),
        support_url: new.support_url.clone(),
        terms_url: None,
        payment_instructions: None,
    };
    match lender.validate(UrlPolicy::DEBUG) {
        Ok(()) => Ok(()),
        Err(finlock_core::Error::InvalidField { field, rule }) => Err(Error::invalid(
            field.trim_start_matches("lender.").to_string(),
            rule,
        )),
        Err(other) => Err(Error::invalid("lender", other.to_string())),
    }
}

fn write_key(dir: &Path, lender_id: &str, pkcs8: &[u8]) -> Result<PathBuf> {
    let path = lender_keys::initial_key_path(dir, lender_id);
    lender_keys::write_private_key(&path, pkcs8)?;
    Ok(path)
}

/// Creates a lender: its signing key (a file in `keys_dir`), its API key (returned
/// once, stored as SHA-256) and its public JWKS.
pub async fn create(db: &Db, keys_dir: &Path, new: &NewLender, now: i64) -> Result<CreatedLender> {
    validate(new)?;
    let lender_id = ids::lender_id()?;
    let key = LenderKey::generate().map_err(|e| Error::Internal(format!("key generation: {e}")))?;
    let jwks = KeySet::new(vec![key.public()])
        .map_err(|e| Error::Internal(format!("jwks: {e}")))?
        .to_jwks();
    let jwks_json =
        serde_json::to_string(&jwks).map_err(|e| Error::Internal(format!("jwks: {e}")))?;
    let api_key = ids::api_key()?;
    let path = write_key(keys_dir, &lender_id, key.pkcs8())?;
    let row = LenderRow {
        lender_id: lender_id.clone(),
        name: new.name.clone(),
        phone: new.phone.clone(),
        email: new.email.clone(),
        payment_url: new.payment_url.clone(),
        support_url: new.support_url.clone(),
        jwks: jwks_json,
        created_at: now,
    };
    let inserted =
        match queries::insert_lender(&db.write, &row, &ids::sha256_hex(api_key.as_bytes())).await {
            Ok(()) => crate::api_keys::insert_first(db, &lender_id, &api_key, now).await,
            Err(e) => Err(e),
        };
    if let Err(e) = inserted {
        // No lender row, no key: do not leave an orphan signing key behind.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    tracing::info!(lender_id = %lender_id, "lender created");
    Ok(CreatedLender {
        lender_id,
        api_key,
        jwks,
    })
}

/// At `finlock serve`: the shipped compliance profiles must load, and every lender's
/// signing key must be readable, or its devices would get 500s at their next check-in. A missing keys directory is created (0700) when no
/// lender exists yet. The error names what is wrong.
pub async fn check_keys(db: &Db, keys_dir: &Path) -> std::result::Result<(), String> {
    // The compliance profiles every signature depends on: a bad shipped file stops the
    // server here, before it listens, rather than failing check-ins.
    compliance::check()?;
    let lenders = list(db)
        .await
        .map_err(|e| format!("reading lenders: {e}"))?;
    if !keys_dir.exists() {
        if lenders.is_empty() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            return builder
                .create(keys_dir)
                .map_err(|e| format!("creating the keys directory {}: {e}", keys_dir.display()));
        }
        return Err(format!(
            "the keys directory {} does not exist, but the database has {} lender(s): \
             point --keys at the directory that holds their .pk8 files",
            keys_dir.display(),
            lenders.len()
        ));
    }
    for l in &lenders {
        // The newest key set's signing key (set 0's file before any rotation).
        let row = queries::lender_by_id(&db.read, &l.lender_id)
            .await
            .map_err(|e| format!("reading lender {}: {e}", l.lender_id))?
            .ok_or_else(|| format!("lender {} vanished", l.lender_id))?;
        let state = lender_keys::state(&db.read, &row)
            .await
            .map_err(|e| format!("reading the key sets of lender {}: {e}", l.lender_id))?;
        lender_keys::signing_key(keys_dir, &l.lender_id, &state).map_err(|e| {
            format!(
                "the signing key of lender {} cannot be used: {e} (restore it with \
                 `finlock keys import`)",
                l.lender_id
            )
        })?;
    }
    Ok(())
}

/// A lender as `finlock lender list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedLender {
    pub lender_id: String,
    pub name: String,
    pub created_at: i64,
    pub active_api_keys: i64,
}

/// Every lender, oldest first.
pub async fn list(db: &Db) -> Result<Vec<ListedLender>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT l.lender_id, l.name, l.created_at, \
         (SELECT COUNT(*) FROM api_keys k WHERE k.lender_id = l.lender_id \
          AND k.revoked_at IS NULL) AS active \
         FROM lenders l ORDER BY l.created_at, l.lender_id",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ListedLender {
                lender_id: r.try_get("lender_id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                active_api_keys: r.try_get("active")?,
            })
        })
        .collect()
}

/// The lender's current public key set (what devices provisioned now pin), with its
/// `keys_seq` once the lender rotated (a rotation rewrites `lenders.jwks`).
pub async fn jwks(db: &Db, lender_id: &str) -> Result<Jwks> {
    let row = queries::lender_by_id(&db.read, lender_id)
        .await?
        .ok_or(Error::NotFound)?;
    parse_jwks(&row.jwks)
}

pub fn parse_jwks(json: &str) -> Result<Jwks> {
    serde_json::from_str(json).map_err(|_| Error::Internal("stored JWKS is not valid".into()))
}

/// Signing keys and lender details per process; the key set is looked at again after
/// [`lender_keys::FRESH_S`] seconds of server time, or when a device names a newer set.
#[derive(Debug, Default)]
pub struct LenderCache {
    entries: RwLock<HashMap<String, Cached>>,
}

#[derive(Debug, Clone)]
struct Cached {
    ctx: Arc<LenderCtx>,
    /// Server time the newest key set was last read.
    checked_at: i64,
}

impl LenderCache {
    /// The lender at `now`, with a key set at least `min_keys_seq` when there is one.
    pub async fn get(
        &self,
        db: &Db,
        keys_dir: &Path,
        lender_id: &str,
        now: i64,
        min_keys_seq: u64,
    ) -> Result<Arc<LenderCtx>> {
        let cached = self
            .entries
            .read()
            .ok()
            .and_then(|map| map.get(lender_id).cloned());
        if let Some(c) = &cached
            && now.saturating_sub(c.checked_at) < lender_keys::FRESH_S
            && now >= c.checked_at
            && c.ctx.keys.keys_seq >= min_keys_seq
        {
            return Ok(c.ctx.clone());
        }
        let ctx = match cached {
            // Two indexed reads tell whether anything changed: the key sets, and the
            // compliance settings (which another node may have changed).
            Some(c)
                if lender_keys::newest_seq(&db.read, lender_id).await? == c.ctx.keys.keys_seq
                    && compliance::lender::read(&db.read, lender_id).await? == c.ctx.compliance =>
            {
                c.ctx
            }
            _ => Arc::new(load(db, keys_dir, lender_id).await?),
        };
        if let Ok(mut map) = self.entries.write() {
            map.insert(
                lender_id.to_string(),
                Cached {
                    ctx: ctx.clone(),
                    checked_at: now,
                },
            );
        }
        Ok(ctx)
    }

    /// Drops what this node knows of a lender (after it rotated the lender's keys).
    pub fn forget(&self, lender_id: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.remove(lender_id);
        }
    }
}

/// Reads a lender, its key sets and its newest signing key.
async fn load(db: &Db, keys_dir: &Path, lender_id: &str) -> Result<LenderCtx> {
    let row = queries::lender_by_id(&db.read, lender_id)
        .await?
        .ok_or_else(|| Error::Internal("a device names a missing lender".into()))?;
    let keys = lender_keys::state(&db.read, &row).await?;
    let key = lender_keys::signing_key(keys_dir, lender_id, &keys)?;
    let compliance = compliance::lender::read(&db.read, lender_id).await?;
    Ok(LenderCtx {
        lender_id: lender_id.to_string(),
        key,
        info: info(&row),
        keys,
        compliance,
    })
}
