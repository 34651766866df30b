//! A lender's notification secrets, one family per [`Source`]: the Standard Webhooks
//! signing secret (`whsec_…`, stored as is: an HMAC needs it) and the M-Pesa callback
//! URL's token (stored as its SHA-256 only).
//!
//! Rotating makes a new secret, returned once, and gives every older one of the family an
//! end at `now + overlap` (24 h unless asked; 0 ends them at once, for a leaked secret),
//! so a provider can switch over without losing a notification. Secrets past their end
//! are never accepted and are deleted at the next rotation. Each rotation is audited in
//! the lender's log in the same transaction.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::events::{self, NotificationEvent};
use super::notice::Source;
use super::signature::Secret;
use crate::app::App;
use crate::db::Db;
use crate::devices::Caller;
use crate::error::{Error, Result};
use crate::ids;

/// How long the previous secret stays valid after a rotation unless asked otherwise.
pub const DEFAULT_OVERLAP_S: i64 = 86_400;
/// The longest overlap: a week.
pub const MAX_OVERLAP_S: i64 = 7 * 86_400;
/// The M-Pesa URL token's prefix (recognisable when it leaks into a log or a ticket).
pub const MPESA_TOKEN_PREFIX: &str = "fmp_";

/// `POST …/rotate`
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the previous secret stays valid: 0 (at once: a leaked secret) to 604800
    /// (a week); 86400 when left out.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 604_800)]
    pub overlap_s: Option<i64>,
}

/// A new secret, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub source: Source,
    pub secret_id: String,
    /// `whsec_…` for the Standard Webhooks endpoint; for M-Pesa the token, already in
    /// `url`. Shown once: only the server keeps it (M-Pesa: only its hash).
    pub secret: String,
    /// Where the provider sends notifications.
    pub url: String,
    /// Until when the previous secrets are still accepted; `null` when there were none.
    pub previous_valid_until: Option<i64>,
}

/// The provider's URL for a lender (M-Pesa's carries its token).
pub fn endpoint(public_url: &str, lender_id: &str, source: Source, token: Option<&str>) -> String {
    let base = public_url.trim_end_matches('/');
    match source {
        Source::Standard => format!("{base}/v1/notify/{lender_id}/standard"),
        Source::Mpesa => format!(
            "{base}/v1/notify/{lender_id}/mpesa/c2b/{}",
            token.unwrap_or("TOKEN")
        ),
    }
}

/// Makes a new secret for `source`; see the module docs.
pub async fn rotate(
    app: &App,
    by: Caller<'_>,
    source: Source,
    req: &RotateRequest,
) -> Result<RotatedSecret> {
    let overlap = req.overlap_s.unwrap_or(DEFAULT_OVERLAP_S);
    if !(0..=MAX_OVERLAP_S).contains(&overlap) {
        return Err(Error::invalid("overlap_s", "0 to 604800 seconds (a week)"));
    }
    let (secret, stored) = match source {
        Source::Standard => {
            let s = Secret::generate()?;
            (s.clone(), s)
        }
        Source::Mpesa => {
            let token = ids::bearer_token(MPESA_TOKEN_PREFIX)?;
            let hash = ids::sha256_hex(token.as_bytes());
            (token, hash)
        }
    };
    let lender_id = &by.lender.lender_id;
    let now = app.now();
    let until = now + overlap;
    let secret_id = ids::row_id("pns")?;
    let mut tx = events::begin(&app.db, lender_id).await?;
    sqlx::query(
        "DELETE FROM payment_notification_secrets WHERE lender_id = $1 AND kind = $2 \
         AND expires_at IS NOT NULL AND expires_at <= $3",
    )
    .bind(lender_id)
    .bind(source.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let ended = sqlx::query(
        "UPDATE payment_notification_secrets SET expires_at = $3 WHERE lender_id = $1 \
         AND kind = $2 AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(lender_id)
    .bind(source.as_str())
    .bind(until)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let still_valid: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM payment_notification_secrets WHERE lender_id = $1 \
         AND kind = $2 AND expires_at > $3",
    )
    .bind(lender_id)
    .bind(source.as_str())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    let previous_valid_until = (ended > 0 || still_valid > 0).then_some(until);
    sqlx::query(
        "INSERT INTO payment_notification_secrets \
         (secret_id, lender_id, kind, secret, created_at, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(&secret_id)
    .bind(lender_id)
    .bind(source.as_str())
    .bind(&stored)
    .bind(now)
    .bind(by.actor.label())
    .execute(&mut *tx)
    .await?;
    let event = NotificationEvent::SecretRotated {
        source,
        secret_id: &secret_id,
        previous_valid_until,
    };
    events::append(&mut tx, lender_id, now, by.actor, &event).await?;
    tx.commit().await?;
    tracing::info!(lender_id = %lender_id, source = source.as_str(), %secret_id,
        "payment notification secret rotated");
    let token = (source == Source::Mpesa).then_some(secret.as_str());
    Ok(RotatedSecret {
        source,
        secret_id,
        url: endpoint(&app.public_url, lender_id, source, token),
        secret,
        previous_valid_until,
    })
}

/// The stored values of the lender's valid secrets of `source` at `now`.
async fn valid(db: &Db, lender_id: &str, source: Source, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT secret FROM payment_notification_secrets WHERE lender_id = $1 AND kind = $2 \
         AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(lender_id)
    .bind(source.as_str())
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| r.try_get("secret").map_err(Error::from))
        .collect()
}

/// The lender's valid Standard Webhooks secrets (a stored one that does not read is a
/// bug: skipped and logged, never accepted).
pub async fn signing_secrets(db: &Db, lender_id: &str, now: i64) -> Result<Vec<Secret>> {
    let stored = valid(db, lender_id, Source::Standard, now).await?;
    Ok(stored
        .iter()
        .filter_map(|s| {
            let parsed = Secret::parse(s);
            if parsed.is_none() {
                tracing::error!(lender_id, "a stored notification secret does not read");
            }
            parsed
        })
        .collect())
}

/// Whether `token` is one of the lender's valid M-Pesa URL tokens, compared in constant
/// time against every valid one.
pub async fn mpesa_token_valid(db: &Db, lender_id: &str, token: &str, now: i64) -> Result<bool> {
    if !token.starts_with(MPESA_TOKEN_PREFIX) || token.len() > 128 {
        return Ok(false);
    }
    let presented = ids::sha256_hex(token.as_bytes());
    let stored = valid(db, lender_id, Source::Mpesa, now).await?;
    Ok(stored.iter().fold(false, |found, hash| {
        found | crate::staff::constant_time_eq(hash.as_bytes(), presented.as_bytes())
    }))
}

/// A secret as listed: never its value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretInfo {
    pub secret_id: String,
    pub source: Source,
    pub created_at: i64,
    pub created_by: String,
    /// `null` while current; else accepted until then.
    pub expires_at: Option<i64>,
}

/// The lender's secrets still accepted at `now`, newest first.
pub async fn list(db: &Db, lender_id: &str, now: i64) -> Result<Vec<SecretInfo>> {
    let rows = sqlx::query(
        "SELECT secret_id, kind, created_at, created_by, expires_at \
         FROM payment_notification_secrets WHERE lender_id = $1 \
         AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, secret_id",
    )
    .bind(lender_id)
    .bind(now)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(SecretInfo {
                secret_id: r.try_get("secret_id")?,
                source: Source::parse(&kind)
                    .ok_or_else(|| Error::Internal("stored secret kind".into()))?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .collect()
}
