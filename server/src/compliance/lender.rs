//! A lender's compliance settings: the profile it runs under (default `permissive`) and
//! the payment apps its phones keep usable when restricted or locked. One operation,
//! [`set`], for the API (`PUT /v1/lender/compliance`) and the CLI (`finlock lender
//! compliance set`); audited in the lender's log.
//!
//! Stored on the lender's row (migration 0018). The signing side reads it with the
//! lender's key ([`crate::lenders::LenderCache`]), and looks again within
//! [`crate::lender_keys::FRESH_S`] seconds on every node.

use finlock_core::protocol::{MAX_PAYMENT_APPS, is_valid_package_name};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Profile, profiles, stored};
use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::{Error, Result};

/// `GET`/`PUT /v1/lender/compliance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LenderCompliance {
    /// A shipped profile's id (`GET /v1/compliance/profiles`).
    pub profile: String,
    /// Android package names usable when restricted and when locked (at most 8): the
    /// apps customers pay with. Absent in a PUT = none.
    #[serde(default)]
    pub payment_apps: Vec<String>,
}

/// What the policy signs under: the profile and the lender's payment apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub profile: &'static Profile,
    pub payment_apps: Vec<String>,
}

impl Selection {
    pub fn view(&self) -> LenderCompliance {
        LenderCompliance {
            profile: self.profile.id.clone(),
            payment_apps: self.payment_apps.clone(),
        }
    }
}

/// The lender's selection as stored.
pub async fn read(pool: &sqlx::AnyPool, lender_id: &str) -> Result<Selection> {
    let row =
        sqlx::query("SELECT compliance_profile, payment_apps FROM lenders WHERE lender_id = $1")
            .bind(lender_id)
            .fetch_optional(pool)
            .await?
            .ok_or(Error::NotFound)?;
    let id: String = row.try_get("compliance_profile")?;
    let apps: String = row.try_get("payment_apps")?;
    let payment_apps = serde_json::from_str(&apps)
        .map_err(|_| Error::Internal("stored payment_apps are not valid".into()))?;
    Ok(Selection {
        profile: stored(&id)?,
        payment_apps,
    })
}

/// The profile the lender runs under, read inside `tx` (a registration or an import checks
/// its plans against the profile of the same transaction that stores them).
pub async fn profile_in(
    tx: &mut crate::db::queries::Tx,
    lender_id: &str,
) -> Result<&'static Profile> {
    let id: String = sqlx::query("SELECT compliance_profile FROM lenders WHERE lender_id = $1")
        .bind(lender_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?
        .try_get("compliance_profile")?;
    stored(&id)
}

/// The lender's settings (`GET /v1/lender/compliance`, `finlock lender compliance show`).
pub async fn show(db: &Db, lender_id: &str) -> Result<LenderCompliance> {
    Ok(read(&db.read, lender_id).await?.view())
}

/// Checks a request against the shipped profiles and the protocol's rules for
/// `payment_apps` (pure).
pub fn check(req: &LenderCompliance) -> Result<&'static Profile> {
    let profile = profiles()?
        .iter()
        .find(|p| p.id == req.profile)
        .ok_or_else(|| {
            let ids: Vec<&str> = profiles()
                .map(|all| all.iter().map(|p| p.id.as_str()).collect())
                .unwrap_or_default();
            Error::invalid("profile", format!("one of: {}", ids.join(", ")))
        })?;
    if req.payment_apps.len() > MAX_PAYMENT_APPS {
        return Err(Error::invalid(
            "payment_apps",
            format!("at most {MAX_PAYMENT_APPS}"),
        ));
    }
    for (i, package) in req.payment_apps.iter().enumerate() {
        if !is_valid_package_name(package) {
            return Err(Error::invalid(
                format!("payment_apps[{i}]"),
                "an Android package name (a.b.c, letters, digits and _, at most 100 bytes)",
            ));
        }
        if req.payment_apps[..i].contains(package) {
            return Err(Error::invalid(format!("payment_apps[{i}]"), "named twice"));
        }
    }
    Ok(profile)
}

/// Selects a profile and the payment apps, with an entry in the lender's log. Refused
/// (nothing stored) for an unknown profile, bad package names, a profile that forbids
/// lender locks while one of the lender's phones is locked by it (unlock it first), or a
/// profile whose reminder quiet hours a phone's stored reminder policy does not cover
/// (the signed reminders come from that policy). Plans need no such check: the policy
/// never signs a step earlier than the profile allows, whatever the plan says.
pub async fn set(
    db: &Db,
    lender_id: &str,
    req: &LenderCompliance,
    actor: Actor<'_>,
    now: i64,
) -> Result<LenderCompliance> {
    let profile = check(req)?;
    let mut tx = audit::begin_lender(db, lender_id).await?;
    let before: String = sqlx::query("SELECT compliance_profile FROM lenders WHERE lender_id = $1")
        .bind(lender_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?
        .try_get("compliance_profile")?;
    if !profile.lender_lock.allowed {
        let locked: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM devices WHERE lender_id = $1 AND lender_locked <> 0 \
             AND released = 0",
        )
        .bind(lender_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if locked > 0 {
            return Err(Error::Compliance {
                profile: profile.id.clone(),
                rule: "lender_lock.allowed",
                detail: format!(
                    "{locked} of your phones are locked by you and this profile forbids \
                     lender locks: unlock them first"
                ),
            });
        }
    }
    if profile.quiet_minutes().is_some() {
        check_stored_reminders(&mut tx, lender_id, profile).await?;
    }
    let apps = serde_json::to_string(&req.payment_apps)
        .map_err(|e| Error::Internal(format!("payment_apps: {e}")))?;
    sqlx::query(
        "UPDATE lenders SET compliance_profile = $2, payment_apps = $3 WHERE lender_id = $1",
    )
    .bind(lender_id)
    .bind(&profile.id)
    .bind(&apps)
    .execute(&mut *tx)
    .await?;
    audit::append_lender(
        &mut tx,
        lender_id,
        now,
        actor,
        "compliance.set",
        &serde_json::json!({
            "profile_before": before,
            "profile": profile.id,
            "payment_apps": req.payment_apps,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(LenderCompliance {
        profile: profile.id.clone(),
        payment_apps: req.payment_apps.clone(),
    })
}

/// Every phone of the lender that still owes: its reminder policy (or the defaults) must
/// be quiet during the profile's quiet hours.
async fn check_stored_reminders(
    tx: &mut crate::db::queries::Tx,
    lender_id: &str,
    profile: &'static Profile,
) -> Result<()> {
    // Phones on the server's defaults (reminders NULL) are judged once, the others one by
    // one: most lenders never set a policy, so this reads only the few that did.
    let defaults_ok = super::rules::check_reminders(profile, None).is_ok();
    let sql = if defaults_ok {
        "SELECT reminders FROM devices WHERE lender_id = $1 AND released = 0 \
         AND reminders IS NOT NULL"
    } else {
        "SELECT reminders FROM devices WHERE lender_id = $1 AND released = 0"
    };
    let rows = sqlx::query(sql)
        .bind(lender_id)
        .fetch_all(&mut **tx)
        .await?;
    for row in rows {
        let stored: Option<String> = row.try_get("reminders")?;
        let reminders: Option<finlock_core::protocol::ReminderPolicy> = stored
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| Error::Internal("stored reminders are not valid".into()))?;
        if let Err(refusal) = super::rules::check_reminders(profile, reminders.as_ref()) {
            return Err(super::rules::Refusal {
                detail: format!(
                    "a phone of yours has reminders that are not quiet when this profile                      requires: {}",
                    refusal.detail
                ),
                ..refusal
            }
            .into_error(profile));
        }
    }
    Ok(())
}
