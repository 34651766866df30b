//! A lender's webhook endpoints: a URL, the event kinds it wants, and its signing
//! secret — shown once when created or rotated, never listed. Deleting one stops its
//! pending deliveries (they are listed as dead with the reason) and keeps its log.
//!
//! Also the lender's one webhook setting: how many days without a check-in make a
//! device `device.silent`.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::address::{self, Rules};
use super::changes::{self, EndpointEvent};
use super::events::EventKind;
use super::signing;
use crate::audit::{self, Actor};
use crate::db::Db;
use crate::db::queries::Tx;
use crate::error::{Error, Result};
use crate::ids;

/// The most endpoints a lender may have at once.
pub const MAX_ENDPOINTS: i64 = 10;

/// `POST /v1/lender/webhooks/endpoints`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are POSTed: an https URL on the public internet.
    #[schema(max_length = 2048, example = "https://hooks.lender.example/finlock")]
    pub url: String,
    /// The event kinds to send (e.g. `["device.locked", "payment.recorded"]`); every
    /// kind when left out.
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct Endpoint {
    pub endpoint_id: String,
    pub url: String,
    /// The kinds sent; `["*"]` for every kind.
    pub events: Vec<String>,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

/// An endpoint with its secret: the answer to create and rotate, and only those.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = NewWebhookEndpoint)]
pub struct WithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: the key to verify `webhook-signature` with. Shown once: keep it now.
    pub secret: String,
}

/// The stored filter: `*`, or the kinds between commas.
fn filter(events: Option<&[String]>) -> Result<String> {
    let Some(events) = events else {
        return Ok("*".into());
    };
    if events.is_empty() {
        return Err(Error::invalid(
            "events",
            "name at least one event kind, or leave the field out for every kind",
        ));
    }
    let mut kinds = Vec::new();
    for name in events {
        if name == "*" {
            return Ok("*".into());
        }
        let kind = EventKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            Error::invalid(
                "events",
                format!("{name:?} is not an event kind; one of {}", known.join(", ")),
            )
        })?;
        kinds.push(kind);
    }
    kinds.sort_unstable();
    kinds.dedup();
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(format!(",{},", names.join(",")))
}

fn wants(filter: &str, kind: EventKind) -> bool {
    filter == "*" || filter.contains(&format!(",{},", kind.as_str()))
}

fn endpoint_row(r: &AnyRow) -> Result<Endpoint> {
    let events: String = r.try_get("events")?;
    Ok(Endpoint {
        endpoint_id: r.try_get("endpoint_id")?,
        url: r.try_get("url")?,
        events: events
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: r.try_get("created_at")?,
        rotated_at: r.try_get("rotated_at")?,
        deleted_at: r.try_get("deleted_at")?,
    })
}

const COLUMNS: &str = "endpoint_id, url, events, created_at, rotated_at, deleted_at";

/// Creates an endpoint for `lender_id` (URL checked under `rules`).
pub async fn create(
    db: &Db,
    lender_id: &str,
    new: &NewEndpoint,
    rules: Rules,
    actor: Actor<'_>,
    now: i64,
) -> Result<WithSecret> {
    let url = address::check_url(new.url.trim(), rules)?;
    let events = filter(new.events.as_deref())?;
    let mut tx = audit::begin_lender(db, lender_id).await?;
    let count: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE lender_id = $1 AND deleted_at IS NULL",
    )
    .bind(lender_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    if count >= MAX_ENDPOINTS {
        return Err(Error::conflict(
            "too-many-endpoints",
            "a lender has at most 10 webhook endpoints; delete one first",
        ));
    }
    let endpoint_id = ids::row_id("whe")?;
    let secret = signing::new_secret()?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (endpoint_id, lender_id, url, events, secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&endpoint_id)
    .bind(lender_id)
    .bind(url.as_str())
    .bind(&events)
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = EndpointEvent::Created {
        endpoint_id: &endpoint_id,
        host: url.host_str().unwrap_or_default(),
        events: &events,
    };
    changes::append(&mut tx, lender_id, now, actor, &event).await?;
    tx.commit().await?;
    tracing::info!(lender_id, endpoint_id = %endpoint_id, "webhook endpoint created");
    let endpoint = one(db, lender_id, &endpoint_id).await?;
    Ok(WithSecret { endpoint, secret })
}

/// The lender's endpoints, deleted ones last.
pub async fn list(db: &Db, lender_id: &str) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE lender_id = $1 \
         ORDER BY deleted_at IS NOT NULL, created_at, endpoint_id"
    ))
    .bind(lender_id)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(endpoint_row).collect()
}

/// One endpoint of this lender; another lender's is `NotFound` like a missing one.
pub async fn one(db: &Db, lender_id: &str, endpoint_id: &str) -> Result<Endpoint> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE lender_id = $1 AND endpoint_id = $2"
    ))
    .bind(lender_id)
    .bind(endpoint_id)
    .fetch_optional(&db.write)
    .await?
    .ok_or(Error::NotFound)?;
    endpoint_row(&row)
}

fn deleted() -> Error {
    Error::conflict("endpoint-deleted", "this webhook endpoint is deleted")
}

/// A new secret; the old one stops signing at once.
pub async fn rotate(
    db: &Db,
    lender_id: &str,
    endpoint_id: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<WithSecret> {
    let secret = signing::new_secret()?;
    let mut tx = audit::begin_lender(db, lender_id).await?;
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET secret = $3, rotated_at = $4 \
         WHERE lender_id = $1 AND endpoint_id = $2 AND deleted_at IS NULL",
    )
    .bind(lender_id)
    .bind(endpoint_id)
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        one(db, lender_id, endpoint_id).await?;
        return Err(deleted());
    }
    let event = EndpointEvent::SecretRotated { endpoint_id };
    changes::append(&mut tx, lender_id, now, actor, &event).await?;
    tx.commit().await?;
    tracing::info!(lender_id, endpoint_id, "webhook secret rotated");
    let endpoint = one(db, lender_id, endpoint_id).await?;
    Ok(WithSecret { endpoint, secret })
}

/// What a deleted endpoint's undelivered events say in the log.
pub const DELETED_ERROR: &str = "the endpoint was deleted";

/// Deletes an endpoint: nothing more is sent to it; its pending deliveries are dead.
pub async fn delete(
    db: &Db,
    lender_id: &str,
    endpoint_id: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<Endpoint> {
    let mut tx = audit::begin_lender(db, lender_id).await?;
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET deleted_at = $3 \
         WHERE lender_id = $1 AND endpoint_id = $2 AND deleted_at IS NULL",
    )
    .bind(lender_id)
    .bind(endpoint_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'dead', last_error = $2 \
             WHERE endpoint_id = $1 AND status = 'pending'",
        )
        .bind(endpoint_id)
        .bind(DELETED_ERROR)
        .execute(&mut *tx)
        .await?;
        let event = EndpointEvent::Deleted { endpoint_id };
        changes::append(&mut tx, lender_id, now, actor, &event).await?;
    }
    tx.commit().await?;
    let endpoint = one(db, lender_id, endpoint_id).await?;
    if done.rows_affected() != 1 {
        return Err(deleted());
    }
    tracing::info!(lender_id, endpoint_id, "webhook endpoint deleted");
    Ok(endpoint)
}

/// Inside an event's transaction: the lender's live endpoints that want `kind`.
pub async fn subscribed(tx: &mut Tx, lender_id: &str, kind: EventKind) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT endpoint_id, events FROM webhook_endpoints \
         WHERE lender_id = $1 AND deleted_at IS NULL ORDER BY endpoint_id",
    )
    .bind(lender_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut ids = Vec::new();
    for r in &rows {
        let events: String = r.try_get("events")?;
        if wants(&events, kind) {
            ids.push(r.try_get("endpoint_id")?);
        }
    }
    Ok(ids)
}

/// The lender's webhook settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookSettings)]
pub struct WebhookSettings {
    /// Days without a check-in (or since enrollment, for a phone that never checked in)
    /// before `device.silent` is sent, once per silence: 1 to 90; 3 unless set.
    #[schema(minimum = 1, maximum = 90, example = 3)]
    pub silent_after_days: i64,
}

pub async fn settings(db: &Db, lender_id: &str) -> Result<WebhookSettings> {
    let row = sqlx::query("SELECT webhook_silent_after_days FROM lenders WHERE lender_id = $1")
        .bind(lender_id)
        .fetch_optional(&db.read)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(WebhookSettings {
        silent_after_days: row.try_get("webhook_silent_after_days")?,
    })
}

pub async fn set_settings(
    db: &Db,
    lender_id: &str,
    settings: WebhookSettings,
) -> Result<WebhookSettings> {
    if !(1..=90).contains(&settings.silent_after_days) {
        return Err(Error::invalid("silent_after_days", "1 to 90 days"));
    }
    sqlx::query("UPDATE lenders SET webhook_silent_after_days = $2 WHERE lender_id = $1")
        .bind(lender_id)
        .bind(settings.silent_after_days)
        .execute(&db.write)
        .await?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_filter_keeps_known_kinds_once_and_in_order() {
        assert_eq!(filter(None).unwrap(), "*");
        assert_eq!(filter(names(&["*"]).as_deref()).unwrap(), "*");
        let f = filter(names(&["payment.recorded", "device.locked", "device.locked"]).as_deref())
            .unwrap();
        assert_eq!(f, ",device.locked,payment.recorded,");
        assert!(wants(&f, EventKind::Locked));
        assert!(wants(&f, EventKind::PaymentRecorded));
        assert!(!wants(&f, EventKind::Unlocked));
        assert!(wants("*", EventKind::Silent));
    }

    #[test]
    fn an_unknown_or_empty_filter_is_refused() {
        assert!(filter(names(&["device.exploded"]).as_deref()).is_err());
        assert!(filter(names(&[]).as_deref()).is_err());
    }
}
