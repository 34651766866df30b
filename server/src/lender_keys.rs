//! Lender key rotation (ADR 0007, PROTOCOL §3.4): the chain of signed key sets, the
//! rotation and retirement operations, the chain every answer carries, and where the
//! private keys live.
//!
//! `lenders.jwks` is always the lender's *current* set (what a provisioning QR pins, with
//! its `keys_seq` once rotated). Before the first rotation it is set 0, whose private key is
//! `<keys>/<lender_id>.pk8` (as before rotation existed). The first rotation copies set 0
//! into `lender_key_sets` as row 0 (no message: set 0 is pinned, never signed); every later
//! set is a row holding its `finlock-keys+jws` message, and its new private key is
//! `<keys>/<lender_id>/<kid>.pk8` (directory 0700, file 0600, written and fsynced before the
//! row, removed again when the row cannot be written). The database never holds a private
//! key.
//!
//! The operations here are the one implementation behind the lender API
//! (`POST /v1/lender/keys/rotate`, `…/retire`) and the CLI (`finlock keys …`).

use std::path::{Path, PathBuf};

use finlock_core::keys::{Jwks, KeySet, LenderKey, PublicKey};
use finlock_core::keyset::{KeySetPayload, MAX_CHAIN};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::app::App;
use crate::audit::{Actor, AuditEvent};
use crate::db::Db;
use crate::db::queries::{self, LenderRow, Tx};
use crate::error::{Error, Result};

/// How long a node signs with the set it last read before it looks again (a rotation on
/// another node reaches it within this, or at once when a device names a newer set).
pub const FRESH_S: i64 = 10;

/// A lender's keys as a node uses them: the newest set and every set message after set 0.
#[derive(Debug, Clone)]
pub struct KeyState {
    /// The newest set's place in the chain.
    pub keys_seq: u64,
    /// The newest set (with its `keys_seq`): what a provisioning QR pins.
    pub current: KeySet,
    /// `chain[i]` is set `i + 1`'s `finlock-keys+jws` message.
    pub chain: Vec<String>,
    /// The kid the newest set's entitlements are signed with.
    pub signing_kid: String,
    /// The kid of set 0's key (its private key has the pre-rotation file name).
    pub initial_kid: String,
}

impl KeyState {
    /// The sets a device at `device_keys_seq` needs, oldest first. More than
    /// [`MAX_CHAIN`] behind: `409 keys-reprovision`; ahead of every set: `422`.
    pub fn chain_after(&self, device_keys_seq: u64) -> Result<Vec<String>> {
        if device_keys_seq > self.keys_seq {
            return Err(Error::invalid(
                "keys_seq",
                "is newer than any key set of this lender",
            ));
        }
        let behind = self.keys_seq - device_keys_seq;
        if behind > MAX_CHAIN as u64 {
            return Err(Error::conflict(
                REPROVISION,
                format!(
                    "the device is {behind} key rotations behind its lender (at most 8 can be \
                     caught up): provision it again"
                ),
            ));
        }
        let from = usize::try_from(device_keys_seq).map_err(|_| internal("keys_seq"))?;
        Ok(self.chain.get(from..).unwrap_or_default().to_vec())
    }
}

/// At most this many key sets in any 24 hours unless the operator forces it: a rotation
/// and an emergency retirement. A phone more than 8 sets behind must be provisioned again,
/// so a stolen API key (or a runaway script) must not be able to rotate phones out of
/// reach: nine sets take it four and a half days, in plain sight in the key log.
pub const MAX_SETS_PER_DAY: i64 = 2;

/// The problem slug of a device too far behind (PROTOCOL §3.2).
pub const REPROVISION: &str = "keys-reprovision";

fn internal(what: &str) -> Error {
    Error::Internal(format!("stored key set: {what} is not valid"))
}

/// One stored set after set 0.
#[derive(Debug, Clone)]
struct StoredSet {
    keys_seq: u64,
    jws: String,
    jwks: String,
    signing_kid: String,
    kind: String,
    retired_kid: Option<String>,
    created_at: i64,
    created_by: String,
}

async fn stored_sets(pool: &sqlx::AnyPool, lender_id: &str) -> Result<Vec<StoredSet>> {
    let rows = sqlx::query(
        "SELECT keys_seq, jws, jwks, signing_kid, kind, retired_kid, created_at, created_by \
         FROM lender_key_sets WHERE lender_id = $1 ORDER BY keys_seq",
    )
    .bind(lender_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredSet {
                keys_seq: u64::try_from(r.try_get::<i64, _>("keys_seq")?)
                    .map_err(|_| internal("keys_seq"))?,
                jws: r.try_get("jws")?,
                jwks: r.try_get("jwks")?,
                signing_kid: r.try_get("signing_kid")?,
                kind: r.try_get("kind")?,
                retired_kid: r.try_get("retired_kid")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// The newest `keys_seq` of a lender (0 when it never rotated): one indexed read.
pub async fn newest_seq(pool: &sqlx::AnyPool, lender_id: &str) -> Result<u64> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(keys_seq), 0) AS newest FROM lender_key_sets WHERE lender_id = $1",
    )
    .bind(lender_id)
    .fetch_one(pool)
    .await?;
    u64::try_from(row.try_get::<i64, _>("newest")?).map_err(|_| internal("keys_seq"))
}

fn initial_set(lender: &LenderRow) -> Result<KeySet> {
    let jwks: Jwks = serde_json::from_str(&lender.jwks).map_err(|_| internal("lenders.jwks"))?;
    KeySet::from_jwks(&jwks).map_err(|_| internal("lenders.jwks"))
}

fn parse_set(json: &str) -> Result<KeySet> {
    let jwks: Jwks = serde_json::from_str(json).map_err(|_| internal("jwks"))?;
    KeySet::from_jwks(&jwks).map_err(|_| internal("jwks"))
}

/// Reads a lender's key state from the database (no private key).
pub async fn state(pool: &sqlx::AnyPool, lender: &LenderRow) -> Result<KeyState> {
    let mut sets = stored_sets(pool, &lender.lender_id).await?;
    // Row 0 (set 0) exists once the lender rotated; before, lenders.jwks is set 0.
    let initial = match sets.first() {
        Some(first) if first.keys_seq == 0 => parse_set(&sets.remove(0).jwks)?,
        Some(_) => return Err(internal("keys_seq (set 0 is missing)")),
        None => initial_set(lender)?,
    };
    let initial_kid = initial
        .keys()
        .first()
        .map(|k| k.kid().to_string())
        .ok_or_else(|| internal("lenders.jwks"))?;
    let mut state = KeyState {
        keys_seq: 0,
        current: initial,
        chain: Vec::with_capacity(sets.len()),
        signing_kid: initial_kid.clone(),
        initial_kid,
    };
    for set in sets {
        if set.keys_seq != state.keys_seq + 1 {
            return Err(internal("keys_seq (a gap in the chain)"));
        }
        state.current = parse_set(&set.jwks)?;
        state.keys_seq = set.keys_seq;
        state.signing_kid = set.signing_kid;
        state.chain.push(set.jws);
    }
    Ok(state)
}

// ---- private keys on disk ------------------------------------------------------------

/// The file of set 0's private key (the name it had before rotation existed).
pub fn initial_key_path(dir: &Path, lender_id: &str) -> PathBuf {
    dir.join(format!("{lender_id}.pk8"))
}

/// Where a lender keeps every later key: `<keys>/<lender_id>/`.
pub fn lender_key_dir(dir: &Path, lender_id: &str) -> PathBuf {
    dir.join(lender_id)
}

/// The file of the private key named `kid` (a thumbprint: `[A-Za-z0-9_-]`, path-safe).
pub fn key_path(dir: &Path, lender_id: &str, initial_kid: &str, kid: &str) -> Result<PathBuf> {
    if kid == initial_kid {
        return Ok(initial_key_path(dir, lender_id));
    }
    if kid.is_empty()
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::invalid("kid", "not a key of this lender"));
    }
    Ok(lender_key_dir(dir, lender_id).join(format!("{kid}.pk8")))
}

/// Reads the private key `kid` and checks it is that key.
pub fn read_key(path: &Path, kid: &str) -> Result<LenderKey> {
    let pkcs8 = std::fs::read(path).map_err(|e| {
        Error::Internal(format!(
            "the private key {kid} ({}) cannot be read: {e}",
            path.display()
        ))
    })?;
    let key = LenderKey::from_pkcs8(&pkcs8, Some(kid.to_string()))
        .map_err(|e| Error::Internal(format!("the private key {kid} is not valid: {e}")))?;
    if key.public().thumbprint() != kid {
        return Err(Error::Internal(format!(
            "the file of {kid} holds another key"
        )));
    }
    Ok(key)
}

/// Writes a private key file: directory 0700, file 0600, created new and fsynced.
pub fn write_private_key(path: &Path, pkcs8: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    let io = |what: &str, e: std::io::Error| Error::Internal(format!("{what}: {e}"));
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder
            .create(dir)
            .map_err(|e| io("creating the keys directory", e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .map_err(|e| io("creating the key file", e))?;
    file.write_all(pkcs8)
        .and_then(|()| file.sync_all())
        .map_err(|e| io("writing the key file", e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The newest signing key of a lender, from its file.
pub fn signing_key(keys_dir: &Path, lender_id: &str, state: &KeyState) -> Result<LenderKey> {
    let path = key_path(keys_dir, lender_id, &state.initial_kid, &state.signing_kid)?;
    read_key(&path, &state.signing_kid)
}

// ---- rotation ----------------------------------------------------------------------------

/// What to do to the current set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation<'a> {
    /// A new key; the next set = [new key, the current signing key].
    Rotate,
    /// Take `kid` out of service now: the next set = [new key] alone.
    Retire { kid: &'a str },
}

/// A rotation's result (public facts only).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
pub struct Rotated {
    /// The new set's place in the chain.
    pub keys_seq: u64,
    /// The new signing key.
    pub kid: String,
    /// The key that signed the new set (a key of the set before).
    pub signed_by: String,
    /// The retired key, for a retirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_kid: Option<String>,
    /// The new set as a JWKS (what a provisioning QR now pins).
    #[schema(value_type = Object)]
    pub jwks: Jwks,
}

/// Rotates (or retires a key of) the lender's key set: a new private key file, the new
/// set signed by a key of the current one, the row and the lender's audit entry in one
/// transaction. A concurrent rotation makes this one `409 concurrent-rotation`; more than
/// [`MAX_SETS_PER_DAY`] sets in 24 hours `409 rotation-limit`, unless `force` (the CLI's
/// `--force`, for the operator at the server; the API never forces).
#[allow(clippy::too_many_arguments)]
pub async fn rotate(
    db: &Db,
    keys_dir: &Path,
    lender_id: &str,
    rotation: Rotation<'_>,
    force: bool,
    actor: Actor<'_>,
    by: &str,
    now: i64,
) -> Result<Rotated> {
    let lender = queries::lender_by_id(&db.write, lender_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !force {
        let recent: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM lender_key_sets WHERE lender_id = $1 AND keys_seq > 0 \
             AND created_at > $2",
        )
        .bind(lender_id)
        .bind(now.saturating_sub(86_400))
        .fetch_one(&db.write)
        .await?
        .try_get("n")?;
        if recent >= MAX_SETS_PER_DAY {
            return Err(Error::conflict(
                "rotation-limit",
                "at most 2 key sets in 24 hours: every set is one more a phone must catch up, \
                 and a phone more than 8 behind must be provisioned again (the operator can \
                 override with `finlock keys rotate --force`)",
            ));
        }
    }
    let state = state(&db.write, &lender).await?;
    let new_key =
        LenderKey::generate().map_err(|e| Error::Internal(format!("key generation: {e}")))?;
    let path_of = |kid: &str| key_path(keys_dir, lender_id, &state.initial_kid, kid);
    let (keys, signer, retired) = match rotation {
        Rotation::Rotate => {
            let signer = signing_key(keys_dir, lender_id, &state)?;
            (vec![new_key.public(), signer.public()], signer, None)
        }
        Rotation::Retire { kid } => {
            if state.current.find(kid).is_none() {
                return Err(Error::invalid("kid", "is not a key of the current key set"));
            }
            // Sign with a key of the current set other than the retired one when this
            // server holds one; otherwise the retired key is the only one there is.
            let others = state
                .current
                .keys()
                .iter()
                .map(PublicKey::kid)
                .filter(|k| *k != kid)
                .chain(std::iter::once(kid));
            let signer = others
                .filter_map(|k| path_of(k).ok().map(|p| (k, p)))
                .find_map(|(k, p)| read_key(&p, k).ok())
                .ok_or_else(|| {
                    Error::conflict(
                        "no-private-key",
                        "no private key of the current key set is in the keys directory: \
                         restore it with `finlock keys import` first",
                    )
                })?;
            (vec![new_key.public()], signer, Some(kid.to_string()))
        }
    };
    let keys_seq = state.keys_seq + 1;
    let payload = KeySetPayload {
        v: finlock_core::protocol::VERSION,
        iss: lender_id.to_string(),
        keys_seq,
        iat: now,
        keys: keys
            .iter()
            .map(|k| finlock_core::keys::Jwk {
                kid: Some(k.thumbprint()),
                ..k.to_jwk()
            })
            .collect(),
    };
    // The server checks its own set as a device will (and gets the set with its kids).
    let next = payload
        .validate()
        .map_err(|e| Error::Internal(format!("new key set: {e}")))?;
    let jws = payload
        .sign(&signer)
        .map_err(|e| Error::Internal(format!("signing the key set: {e}")))?;
    let jwks = serde_json::to_string(&next.to_jwks()).map_err(|_| internal("jwks"))?;
    let new_kid = new_key.public().thumbprint();
    let path = path_of(&new_kid)?;
    write_private_key(&path, new_key.pkcs8())?;
    let written = insert(
        db,
        InsertSet {
            lender_id,
            lender_jwks: &lender.jwks,
            initial_kid: &state.initial_kid,
            initial_at: lender.created_at,
            keys_seq,
            jws: &jws,
            jwks: &jwks,
            signing_kid: &new_kid,
            retired_kid: retired.as_deref(),
            signed_by: signer.kid(),
            now,
            by,
        },
        actor,
    )
    .await;
    if let Err(e) = written {
        // No row, no key: leave no orphan private key behind.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    tracing::info!(lender_id, keys_seq, kid = %new_kid, retired = ?retired, "lender key set rotated");
    Ok(Rotated {
        keys_seq,
        kid: new_kid,
        signed_by: signer.kid().to_string(),
        retired_kid: retired,
        jwks: next.to_jwks(),
    })
}

struct InsertSet<'a> {
    lender_id: &'a str,
    /// `lenders.jwks` as read: set 0 before the first rotation, the guard of the update.
    lender_jwks: &'a str,
    initial_kid: &'a str,
    initial_at: i64,
    keys_seq: u64,
    jws: &'a str,
    jwks: &'a str,
    signing_kid: &'a str,
    retired_kid: Option<&'a str>,
    signed_by: &'a str,
    now: i64,
    by: &'a str,
}

async fn insert(db: &Db, s: InsertSet<'_>, actor: Actor<'_>) -> Result<()> {
    let keys_seq = queries::to_i64(s.keys_seq)?;
    let mut tx = db.write.begin().await?;
    let concurrent = || {
        Error::conflict(
            "concurrent-rotation",
            "another rotation of this lender's keys happened at the same time; look at the \
             key sets and try again",
        )
    };
    if s.keys_seq == 1 {
        // Set 0 moves into the table (lenders.jwks becomes the current set below).
        let inserted = sqlx::query(
            "INSERT INTO lender_key_sets (lender_id, keys_seq, jws, jwks, signing_kid, kind, \
             retired_kid, created_at, created_by) VALUES ($1, 0, '', $2, $3, 'initial', NULL, \
             $4, 'cli')",
        )
        .bind(s.lender_id)
        .bind(s.lender_jwks)
        .bind(s.initial_kid)
        .bind(s.initial_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if crate::db::is_unique_violation(&e) => return Err(concurrent()),
            Err(e) => return Err(e.into()),
        }
    }
    let inserted = sqlx::query(
        "INSERT INTO lender_key_sets (lender_id, keys_seq, jws, jwks, signing_kid, kind, \
         retired_kid, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.lender_id)
    .bind(keys_seq)
    .bind(s.jws)
    .bind(s.jwks)
    .bind(s.signing_kid)
    .bind(if s.retired_kid.is_some() {
        "retire"
    } else {
        "rotate"
    })
    .bind(s.retired_kid)
    .bind(s.now)
    .bind(s.by)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if crate::db::is_unique_violation(&e) => return Err(concurrent()),
        Err(e) => return Err(e.into()),
    }
    // What provisioning QRs pin from now on; guarded by what was read.
    let updated = sqlx::query("UPDATE lenders SET jwks = $1 WHERE lender_id = $2 AND jwks = $3")
        .bind(s.jwks)
        .bind(s.lender_id)
        .bind(s.lender_jwks)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() != 1 {
        return Err(concurrent());
    }
    let event = match s.retired_kid {
        None => AuditEvent::KeysRotated {
            keys_seq: s.keys_seq,
            new_kid: s.signing_kid,
            signed_by: s.signed_by,
        },
        Some(retired_kid) => AuditEvent::KeyRetired {
            keys_seq: s.keys_seq,
            retired_kid,
            new_kid: s.signing_kid,
            signed_by: s.signed_by,
        },
    };
    append_lender(&mut tx, s.lender_id, s.now, actor, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends an entry to the lender's own log inside `tx`.
pub async fn append_lender(
    tx: &mut Tx,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    event: &AuditEvent<'_>,
) -> Result<()> {
    crate::audit::append_lender(tx, lender_id, at, actor, event.action(), &event.detail()).await
}

// ---- reading ---------------------------------------------------------------------------

/// A set as the lender reads it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
pub struct SetInfo {
    pub keys_seq: u64,
    /// `initial`, `rotate` or `retire`.
    pub kind: String,
    /// The set's keys (their kids), the signing key first.
    pub kids: Vec<String>,
    pub signing_kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_kid: Option<String>,
    pub created_at: i64,
    /// `cli`, or `key:<key_id>` for an API key.
    pub created_by: String,
}

/// One entry of the lender's key log.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq)]
pub struct LenderAuditEntry {
    pub n: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// Every set of the lender, oldest first, and its key log.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema, PartialEq)]
pub struct KeySets {
    /// The newest set's place in the chain (what new provisioning QRs pin).
    pub keys_seq: u64,
    pub sets: Vec<SetInfo>,
    pub log: Vec<LenderAuditEntry>,
}

fn kids(set: &KeySet) -> Vec<String> {
    set.keys().iter().map(|k| k.kid().to_string()).collect()
}

/// The lender's sets and key log.
pub async fn list(db: &Db, lender_id: &str) -> Result<KeySets> {
    let lender = queries::lender_by_id(&db.read, lender_id)
        .await?
        .ok_or(Error::NotFound)?;
    let stored = stored_sets(&db.read, lender_id).await?;
    let mut sets = Vec::with_capacity(stored.len().max(1));
    if stored.is_empty() {
        let initial = initial_set(&lender)?;
        sets.push(SetInfo {
            keys_seq: 0,
            kind: "initial".into(),
            signing_kid: kids(&initial).first().cloned().unwrap_or_default(),
            kids: kids(&initial),
            retired_kid: None,
            created_at: lender.created_at,
            created_by: "cli".into(),
        });
    }
    for s in stored {
        sets.push(SetInfo {
            keys_seq: s.keys_seq,
            kind: s.kind,
            kids: kids(&parse_set(&s.jwks)?),
            signing_kid: s.signing_kid,
            retired_kid: s.retired_kid,
            created_at: s.created_at,
            created_by: s.created_by,
        });
    }
    let rows = sqlx::query(
        "SELECT n, at, actor, action, detail, api_key_id FROM lender_audit \
         WHERE lender_id = $1 ORDER BY n",
    )
    .bind(lender_id)
    .fetch_all(&db.read)
    .await?;
    let log = rows
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(LenderAuditEntry {
                n: r.try_get("n")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                detail: serde_json::from_str(&detail)
                    .map_err(|_| Error::Internal("stored audit detail is not JSON".into()))?,
                api_key_id: r.try_get("api_key_id")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(KeySets {
        keys_seq: sets.last().map_or(0, |s| s.keys_seq),
        sets,
        log,
    })
}

/// The key sets a device at `device_keys_seq` needs with its answer (checked before
/// anything is recorded: a device too far behind gets `409 keys-reprovision`).
pub async fn chain_for(app: &App, lender_id: &str, device_keys_seq: u64) -> Result<Vec<String>> {
    app.lender_for_device(lender_id, device_keys_seq)
        .await?
        .keys
        .chain_after(device_keys_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(keys_seq: u64) -> KeyState {
        KeyState {
            keys_seq,
            current: KeySet::default(),
            chain: (1..=keys_seq).map(|n| format!("set-{n}")).collect(),
            signing_kid: "k".into(),
            initial_kid: "k0".into(),
        }
    }

    #[test]
    fn the_chain_is_every_set_after_the_device_s_oldest_first() {
        let s = state(5);
        assert_eq!(s.chain_after(5).unwrap(), Vec::<String>::new());
        assert_eq!(s.chain_after(3).unwrap(), ["set-4", "set-5"]);
        assert_eq!(s.chain_after(0).unwrap().len(), 5);
    }

    #[test]
    fn more_than_eight_behind_asks_for_reprovisioning() {
        let s = state(12);
        assert_eq!(s.chain_after(4).unwrap().len(), 8);
        let e = s.chain_after(3).unwrap_err();
        assert_eq!(e.slug(), REPROVISION);
        let e = s.chain_after(13).unwrap_err();
        assert_eq!(e.slug(), "invalid-field");
    }

    #[test]
    fn key_files_are_named_by_kid_and_never_leave_the_lender_s_directory() {
        let dir = Path::new("/keys");
        assert_eq!(
            key_path(dir, "lnd-1", "k0", "k0").unwrap(),
            Path::new("/keys/lnd-1.pk8")
        );
        assert_eq!(
            key_path(dir, "lnd-1", "k0", "abc_-D").unwrap(),
            Path::new("/keys/lnd-1/abc_-D.pk8")
        );
        for bad in ["../x", "a/b", "", "a.b"] {
            assert!(key_path(dir, "lnd-1", "k0", bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn private_key_files_are_0600_in_a_0700_directory_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("keys/lnd-1/kid.pk8");
        write_private_key(&path, b"secret").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(write_private_key(&path, b"other").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
    }
}
