//! Encrypted backups of a lender's private keys and key-set chain (`finlock keys export` /
//! `import`, ADR 0007), so a lost keys directory does not strand every financed phone.
//!
//! The file is JSON: a clear envelope (format, lender, newest `keys_seq`, KDF parameters,
//! nonce) and the ciphertext of the keys and the chain. The key is Argon2id (RFC 9106:
//! 64 MiB, 3 passes, 1 lane, a random 16-byte salt) over the passphrase; the cipher is
//! ChaCha20-Poly1305 (ring) with a random nonce and the envelope's facts as associated
//! data, so changing any of them makes the file unreadable rather than misread.
//!
//! Import checks everything before it writes anything: the chain verifies from set 0 link
//! by link as a device would verify it, every private key is a key of that chain, the
//! lender exists in this database and its stored chain agrees. Key files are written 0600
//! and never overwritten with different bytes.

use std::path::Path;

use finlock_core::b64;
use finlock_core::keys::{Jwks, KeySet, LenderKey};
use finlock_core::keyset::{self, ChainRules};
use finlock_core::protocol::EntitlementState;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{Actor, AuditEvent};
use crate::db::Db;
use crate::db::queries;
use crate::error::{Error, Result};
use crate::lender_keys;

pub const FORMAT: &str = "finlock-lender-keys";
/// Argon2id cost written into new backups.
pub const M_KIB: u32 = 64 * 1024;
pub const T_COST: u32 = 3;
/// The most a backup may ask of the machine that imports it (a crafted file must not
/// exhaust memory or time).
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
/// A passphrase shorter than this is refused.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The KDF parameters, in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    pub alg: String,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    pub salt: String,
}

/// The backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub format: String,
    pub v: u32,
    pub lender_id: String,
    pub keys_seq: u64,
    pub created_at: i64,
    pub kdf: Kdf,
    pub aead: String,
    pub nonce: String,
    pub ciphertext: String,
}

/// One stored set, as the backup keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SetCopy {
    keys_seq: u64,
    jws: String,
    jwks: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PrivateKey {
    kid: String,
    pkcs8: String,
}

/// What is encrypted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Contents {
    lender_id: String,
    /// Set 0's JWKS.
    initial_jwks: String,
    /// Sets 1…n, oldest first.
    sets: Vec<SetCopy>,
    keys: Vec<PrivateKey>,
}

fn bad(rule: &str) -> Error {
    Error::invalid("backup", rule.to_string())
}

fn check_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::invalid(
            "passphrase",
            format!("at least {MIN_PASSPHRASE_CHARS} characters"),
        ));
    }
    Ok(())
}

fn derive(passphrase: &str, kdf: &Kdf) -> Result<LessSafeKey> {
    use argon2::{Algorithm, Argon2, Params, Version};
    if kdf.alg != "argon2id"
        || kdf.m_kib > MAX_M_KIB
        || kdf.t == 0
        || kdf.t > MAX_T_COST
        || kdf.p != 1
    {
        return Err(bad("unsupported key derivation parameters"));
    }
    let salt = b64::decode(&kdf.salt)
        .filter(|s| s.len() >= 16)
        .ok_or_else(|| bad("salt"))?;
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|_| bad("unsupported key derivation parameters"))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
        .map_err(|_| bad("key derivation failed"))?;
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, &key)
        .map_err(|_| Error::Internal("aead key".into()))?;
    key.fill(0);
    Ok(LessSafeKey::new(unbound))
}

fn aad(e: &Envelope) -> String {
    format!(
        "{}:v{}:{}:{}:{}:{}",
        e.format, e.v, e.lender_id, e.keys_seq, e.created_at, e.aead
    )
}

/// Encrypts `contents` under `passphrase`.
fn seal(contents: &Contents, keys_seq: u64, passphrase: &str, now: i64) -> Result<Envelope> {
    check_passphrase(passphrase)?;
    let salt = crate::ids::secret_bytes::<16>()?;
    let nonce = crate::ids::secret_bytes::<12>()?;
    let mut envelope = Envelope {
        format: FORMAT.into(),
        v: 1,
        lender_id: contents.lender_id.clone(),
        keys_seq,
        created_at: now,
        kdf: Kdf {
            alg: "argon2id".into(),
            m_kib: M_KIB,
            t: T_COST,
            p: 1,
            salt: b64::encode(salt),
        },
        aead: "chacha20-poly1305".into(),
        nonce: b64::encode(nonce),
        ciphertext: String::new(),
    };
    let key = derive(passphrase, &envelope.kdf)?;
    let mut data =
        serde_json::to_vec(contents).map_err(|e| Error::Internal(format!("backup: {e}")))?;
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad(&envelope)),
        &mut data,
    )
    .map_err(|_| Error::Internal("sealing the backup".into()))?;
    envelope.ciphertext = b64::encode(&data);
    data.fill(0);
    Ok(envelope)
}

/// Decrypts a backup; a wrong passphrase or any change to the file is the same error.
fn open(envelope: &Envelope, passphrase: &str) -> Result<Contents> {
    if envelope.format != FORMAT || envelope.v != 1 || envelope.aead != "chacha20-poly1305" {
        return Err(bad("not a finlock lender-key backup (format v1)"));
    }
    let key = derive(passphrase, &envelope.kdf)?;
    let nonce = b64::decode_array::<12>(&envelope.nonce).ok_or_else(|| bad("nonce"))?;
    let mut data = b64::decode(&envelope.ciphertext).ok_or_else(|| bad("ciphertext"))?;
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(envelope)),
            &mut data,
        )
        .map_err(|_| bad("wrong passphrase, or the file was changed"))?;
    let contents: Contents =
        serde_json::from_slice(plain).map_err(|_| bad("the decrypted contents do not decode"))?;
    data.fill(0);
    if contents.lender_id != envelope.lender_id {
        return Err(bad("lender ids differ"));
    }
    Ok(contents)
}

async fn stored_chain(db: &Db, lender_id: &str) -> Result<Vec<SetCopy>> {
    let rows = sqlx::query(
        "SELECT keys_seq, jws, jwks FROM lender_key_sets WHERE lender_id = $1 AND keys_seq > 0 \
         ORDER BY keys_seq",
    )
    .bind(lender_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SetCopy {
                keys_seq: u64::try_from(r.try_get::<i64, _>("keys_seq")?)
                    .map_err(|_| Error::Internal("stored keys_seq".into()))?,
                jws: r.try_get("jws")?,
                jwks: r.try_get("jwks")?,
            })
        })
        .collect()
}

async fn initial_jwks(db: &Db, lender_id: &str, lender_jwks: &str) -> Result<String> {
    let row = sqlx::query("SELECT jwks FROM lender_key_sets WHERE lender_id = $1 AND keys_seq = 0")
        .bind(lender_id)
        .fetch_optional(&db.read)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("jwks")?,
        None => lender_jwks.to_string(),
    })
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub lender_id: String,
    pub keys_seq: u64,
    /// The kids whose private keys are in the backup.
    pub kids: Vec<String>,
    pub envelope: Envelope,
}

/// Reads every private key of the lender's chain that is in the keys directory (the
/// current signing key must be) and seals them with the chain.
pub async fn export(
    db: &Db,
    keys_dir: &Path,
    lender_id: &str,
    passphrase: &str,
    now: i64,
) -> Result<Exported> {
    check_passphrase(passphrase)?;
    let lender = queries::lender_by_id(&db.read, lender_id)
        .await?
        .ok_or_else(|| Error::invalid("lender", "no such lender"))?;
    let state = lender_keys::state(&db.read, &lender).await?;
    lender_keys::signing_key(keys_dir, lender_id, &state)?;
    let initial_jwks = initial_jwks(db, lender_id, &lender.jwks).await?;
    let sets = stored_chain(db, lender_id).await?;
    let mut kids: Vec<String> = Vec::new();
    for json in std::iter::once(&initial_jwks).chain(sets.iter().map(|s| &s.jwks)) {
        let set = parse_set(json)?;
        for k in set.keys() {
            if !kids.iter().any(|x| x == k.kid()) {
                kids.push(k.kid().to_string());
            }
        }
    }
    let mut keys = Vec::new();
    for kid in &kids {
        let path = lender_keys::key_path(keys_dir, lender_id, &state.initial_kid, kid)?;
        // Keys of old sets whose file is gone are simply not in the backup.
        if let Ok(key) = lender_keys::read_key(&path, kid) {
            keys.push(PrivateKey {
                kid: kid.clone(),
                pkcs8: b64::encode(key.pkcs8()),
            });
        }
    }
    let contents = Contents {
        lender_id: lender_id.to_string(),
        initial_jwks,
        sets,
        keys,
    };
    let envelope = seal(&contents, state.keys_seq, passphrase, now)?;
    tracing::info!(
        lender_id,
        keys_seq = state.keys_seq,
        keys = contents.keys.len(),
        "lender keys exported"
    );
    Ok(Exported {
        lender_id: lender_id.to_string(),
        keys_seq: state.keys_seq,
        kids: contents.keys.iter().map(|k| k.kid.clone()).collect(),
        envelope,
    })
}

fn parse_set(json: &str) -> Result<KeySet> {
    let jwks: Jwks = serde_json::from_str(json).map_err(|_| bad("a key set does not decode"))?;
    KeySet::from_jwks(&jwks).map_err(|_| bad("a key set does not decode"))
}

/// Verifies the backup's chain from set 0, link by link, as a device would.
fn verify_chain(lender_id: &str, contents: &Contents) -> Result<Vec<KeySet>> {
    let mut current = parse_set(&contents.initial_jwks)?;
    let mut all = vec![current.clone()];
    for (i, set) in contents.sets.iter().enumerate() {
        if set.keys_seq != i as u64 + 1 {
            return Err(bad("the chain has a gap"));
        }
        let applied = keyset::apply_chain(
            std::slice::from_ref(&set.jws),
            &ChainRules {
                pinned: &current,
                lender_id: Some(lender_id),
                stored_state: Some(EntitlementState::Active),
            },
        )
        .map_err(|e| Error::invalid("backup", format!("set {}: {e}", set.keys_seq)))?;
        if applied.keys != parse_set(&set.jwks)? {
            return Err(bad("a set's JWKS is not what its message says"));
        }
        current = applied.keys;
        all.push(current.clone());
    }
    Ok(all)
}

/// What an import restored.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub lender_id: String,
    pub keys_seq: u64,
    /// Key files written (others were already there with the same bytes).
    pub written: Vec<String>,
    /// Sets the database lacked and the backup added.
    pub sets_added: usize,
}

/// Restores a backup into `keys_dir` (and the sets the database lacks).
pub async fn import(
    db: &Db,
    keys_dir: &Path,
    text: &str,
    passphrase: &str,
    now: i64,
) -> Result<Imported> {
    let envelope: Envelope = serde_json::from_str(text).map_err(|_| bad("not a backup file"))?;
    let contents = open(&envelope, passphrase)?;
    let lender_id = contents.lender_id.as_str();
    let lender = queries::lender_by_id(&db.write, lender_id)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "lender",
                "is not in this database: restore the database first (finlock backup)",
            )
        })?;
    let sets = verify_chain(lender_id, &contents)?;
    let backup_seq = contents.sets.len() as u64;
    if backup_seq != envelope.keys_seq {
        return Err(bad("keys_seq does not match the chain"));
    }
    // The database's chain and the backup's must agree where both have a set.
    let stored = stored_chain(db, lender_id).await?;
    if parse_set(&initial_jwks(db, lender_id, &lender.jwks).await?)? != sets[0] {
        return Err(bad("set 0 is not this lender's"));
    }
    for s in &stored {
        match contents.sets.get((s.keys_seq as usize).wrapping_sub(1)) {
            Some(b) if b.jws == s.jws => {}
            Some(_) => return Err(bad("the database holds another chain")),
            None => {
                return Err(Error::invalid(
                    "backup",
                    format!(
                        "it ends at key set {backup_seq}, the lender is at set {}: its newest \
                         private key is not in it (use a newer backup)",
                        stored.len()
                    ),
                ));
            }
        }
    }
    // Every private key must be a key of the chain, under the kid it claims.
    let mut restored = Vec::new();
    for k in &contents.keys {
        let pkcs8 = b64::decode(&k.pkcs8).ok_or_else(|| bad("a private key"))?;
        let key = LenderKey::from_pkcs8(&pkcs8, Some(k.kid.clone()))
            .map_err(|_| bad("a private key does not decode"))?;
        if key.public().thumbprint() != k.kid || !sets.iter().any(|s| s.find(&k.kid).is_some()) {
            return Err(bad("a private key is not a key of the lender's chain"));
        }
        restored.push((k.kid.clone(), pkcs8));
    }
    let initial_kid = sets[0]
        .keys()
        .first()
        .map(|k| k.kid().to_string())
        .ok_or_else(|| bad("set 0 is empty"))?;
    // Each set's first key is the one it signs with (the new key of its rotation).
    let newest_signing = sets
        .last()
        .and_then(|s| s.keys().first())
        .map(|k| k.kid().to_string())
        .ok_or_else(|| bad("the chain is empty"))?;
    if !restored.iter().any(|(kid, _)| *kid == newest_signing) {
        return Err(bad("the newest signing key is not in it"));
    }
    // Nothing was written so far; now the files (never overwriting other bytes) …
    let mut planned = Vec::new();
    for (kid, pkcs8) in &restored {
        let path = lender_keys::key_path(keys_dir, lender_id, &initial_kid, kid)?;
        match std::fs::read(&path) {
            Ok(existing) if existing == *pkcs8 => {}
            Ok(_) => {
                return Err(Error::conflict(
                    "key-file-differs",
                    format!("{} holds another key; move it away first", path.display()),
                ));
            }
            Err(_) => planned.push((kid.clone(), path, pkcs8.clone())),
        }
    }
    let mut written = Vec::new();
    for (kid, path, pkcs8) in planned {
        lender_keys::write_private_key(&path, &pkcs8)?;
        written.push(kid);
    }
    // … then the sets the database lacks, and the log entry.
    let added = add_missing_sets(db, &lender, &contents, stored.len(), &initial_kid, now).await?;
    tracing::info!(
        lender_id,
        keys_seq = backup_seq,
        written = written.len(),
        "lender keys imported"
    );
    Ok(Imported {
        lender_id: lender_id.to_string(),
        keys_seq: backup_seq,
        written,
        sets_added: added,
    })
}

async fn add_missing_sets(
    db: &Db,
    lender: &queries::LenderRow,
    contents: &Contents,
    stored: usize,
    initial_kid: &str,
    now: i64,
) -> Result<usize> {
    let mut tx = db.write.begin().await?;
    let missing = &contents.sets[stored.min(contents.sets.len())..];
    if !missing.is_empty() && stored == 0 {
        sqlx::query(
            "INSERT INTO lender_key_sets (lender_id, keys_seq, jws, jwks, signing_kid, kind, \
             retired_kid, created_at, created_by) VALUES ($1, 0, '', $2, $3, 'initial', NULL, \
             $4, 'cli')",
        )
        .bind(&lender.lender_id)
        .bind(&contents.initial_jwks)
        .bind(initial_kid)
        .bind(lender.created_at)
        .execute(&mut *tx)
        .await?;
    }
    for s in missing {
        let set = parse_set(&s.jwks)?;
        let signing = set
            .keys()
            .first()
            .map(|k| k.kid().to_string())
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO lender_key_sets (lender_id, keys_seq, jws, jwks, signing_kid, kind, \
             retired_kid, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, \
             'import')",
        )
        .bind(&lender.lender_id)
        .bind(queries::to_i64(s.keys_seq)?)
        .bind(&s.jws)
        .bind(&s.jwks)
        .bind(signing)
        .bind(if set.keys().len() == 1 {
            "retire"
        } else {
            "rotate"
        })
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(last) = missing.last() {
        sqlx::query("UPDATE lenders SET jwks = $1 WHERE lender_id = $2")
            .bind(&last.jwks)
            .bind(&lender.lender_id)
            .execute(&mut *tx)
            .await?;
    }
    lender_keys::append_lender(
        &mut tx,
        &lender.lender_id,
        now,
        Actor::Lender {
            lender_id: &lender.lender_id,
            key_id: None,
        },
        &AuditEvent::KeysImported {
            keys: contents.keys.len(),
            keys_seq: contents.sets.len() as u64,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents() -> Contents {
        Contents {
            lender_id: "lnd-1".into(),
            initial_jwks: "{}".into(),
            sets: vec![],
            keys: vec![PrivateKey {
                kid: "k".into(),
                pkcs8: "c2VjcmV0".into(),
            }],
        }
    }

    const PASS: &str = "correct horse battery staple";

    #[test]
    fn a_sealed_backup_opens_with_its_passphrase_only() {
        let e = seal(&contents(), 0, PASS, 5).unwrap();
        assert!(!e.ciphertext.contains("c2VjcmV0"));
        assert_eq!(open(&e, PASS).unwrap().keys[0].pkcs8, "c2VjcmV0");
        assert_eq!(
            open(&e, "correct horse battery stapler")
                .unwrap_err()
                .to_string(),
            "backup: wrong passphrase, or the file was changed"
        );
    }

    #[test]
    fn any_change_to_the_envelope_or_ciphertext_is_refused() {
        let e = seal(&contents(), 0, PASS, 5).unwrap();
        let mut changed = e.clone();
        changed.keys_seq = 1;
        assert!(open(&changed, PASS).is_err());
        let mut changed = e.clone();
        changed.lender_id = "lnd-2".into();
        assert!(open(&changed, PASS).is_err());
        let mut changed = e.clone();
        changed.created_at = 6;
        assert!(open(&changed, PASS).is_err());
        let mut changed = e.clone();
        let mut bytes = b64::decode(&changed.ciphertext).unwrap();
        bytes[3] ^= 1;
        changed.ciphertext = b64::encode(bytes);
        assert!(open(&changed, PASS).is_err());
    }

    #[test]
    fn short_passphrases_and_costly_parameters_are_refused() {
        assert!(seal(&contents(), 0, "short", 5).is_err());
        let e = seal(&contents(), 0, PASS, 5).unwrap();
        let mut costly = e.clone();
        costly.kdf.m_kib = MAX_M_KIB + 1;
        assert!(open(&costly, PASS).is_err());
        let mut costly = e;
        costly.kdf.t = 1000;
        assert!(open(&costly, PASS).is_err());
    }
}
