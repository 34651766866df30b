//! The append-only audit log: every change to a device — who, what, when.
//!
//! Entries are numbered per device (`n` = 1, 2, …) by incrementing the device row's
//! `audit_seq` in the same transaction as the change, so the order is total and the
//! same on every node, and a change without its entry cannot be committed.
//! Entries never hold secrets: no API keys, offline secrets, codes, nonces or IMEIs.

use serde::Serialize;
use sqlx::Row;

use crate::db::queries::Tx;
use crate::error::{Error, Result};

/// Who made a change.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    Lender(&'a str),
    Device,
    /// The server itself (e.g. released because the last payment arrived).
    System,
}

impl Actor<'_> {
    fn label(&self) -> String {
        match self {
            Actor::Lender(id) => format!("lender:{id}"),
            Actor::Device => "device".into(),
            Actor::System => "system".into(),
        }
    }
}

/// One entry as the lender reads it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Entry {
    pub n: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Appends an entry inside the transaction that makes the change.
pub async fn append(
    tx: &mut Tx,
    device_id: &str,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    action: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let row = sqlx::query(
        "UPDATE devices SET audit_seq = audit_seq + 1 WHERE device_id = $1 RETURNING audit_seq",
    )
    .bind(device_id)
    .fetch_one(&mut **tx)
    .await?;
    let n: i64 = row.try_get("audit_seq")?;
    sqlx::query(
        "INSERT INTO audit (device_id, n, lender_id, at, actor, action, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(device_id)
    .bind(n)
    .bind(lender_id)
    .bind(at)
    .bind(actor.label())
    .bind(action)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The device's log, oldest first.
pub async fn list(pool: &sqlx::AnyPool, device_id: &str) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT n, at, actor, action, detail FROM audit WHERE device_id = $1 ORDER BY n",
    )
    .bind(device_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(Entry {
                n: r.try_get("n")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                detail: serde_json::from_str(&detail)
                    .map_err(|_| Error::Internal("stored audit detail is not JSON".into()))?,
            })
        })
        .collect()
}
