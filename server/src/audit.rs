//! The append-only audit log: every change to a device — who, what, when.
//!
//! Entries are numbered per device (`n` = 1, 2, …) by incrementing the device row's
//! `audit_seq` in the same transaction as the change, so the order is total and the
//! same on every node, and a change without its entry cannot be committed.
//!
//! What can be logged is the closed set of [`AuditEvent`]s: each names its own fields,
//! so no entry can carry a secret by accident — no API keys, offline secrets, codes,
//! nonces or IMEIs appear in any variant.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::db::queries::Tx;
use crate::error::{Error, Result};

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// A lender, through one of its API keys (`key_id`) or its own tools (`None`).
    Lender {
        lender_id: &'a str,
        key_id: Option<&'a str>,
    },
    /// A lender's staff on the server's command line (`finlock lender device …`), working
    /// on the database directly rather than through an API key.
    Cli { lender_id: &'a str },
    /// A lender's staff member logged in to the console (`staff_id` of its lender).
    Staff {
        lender_id: &'a str,
        staff_id: &'a str,
    },
    /// The device itself (enrollment, check-in events).
    Device,
    /// The server itself (e.g. released because the last payment arrived).
    System,
    /// A payment provider's notification, recorded without a person: `kind` is the
    /// notification's source (`standard`, `mpesa`).
    Provider { kind: &'a str },
}

impl Actor<'_> {
    /// The API key that acted, if any.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Actor::Lender { key_id, .. } => *key_id,
            _ => None,
        }
    }

    /// The stored form: `lender:<id>`, `cli:<lender id>`, `staff:<staff id>`, `device`,
    /// `system`, `provider:<kind>`.
    pub fn label(&self) -> String {
        match self {
            Actor::Lender { lender_id, .. } => format!("lender:{lender_id}"),
            Actor::Cli { lender_id } => format!("cli:{lender_id}"),
            Actor::Staff { staff_id, .. } => format!("staff:{staff_id}"),
            Actor::Device => "device".into(),
            Actor::System => "system".into(),
            Actor::Provider { kind } => format!("provider:{kind}"),
        }
    }
}

/// Why a device was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    PaidInFull,
    LenderRequest,
}

impl ReleaseReason {
    fn as_str(self) -> &'static str {
        match self {
            ReleaseReason::PaidInFull => "paid_in_full",
            ReleaseReason::LenderRequest => "lender_request",
        }
    }
}

/// How a device bound its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollKind {
    /// The first key.
    Enrolled,
    /// The same key again (the phone's answer was lost).
    AnsweredAgain,
    /// A new key replacing the old one (auto re-provisioning after a reset).
    Reprovisioned,
    /// A new key with the same code soon after a first try whose key never checked in
    /// (the phone could not use the first answer).
    Retried,
    /// A new key with a code the lender reissued after the last binding.
    Rebound,
    /// The first key of a never-enrolled device, proven by hardware attestation of its
    /// IMEI (an OEM preload's first start; ADR 0011).
    EnrolledAttested,
    /// A new key replacing the old one, proven by hardware attestation of the IMEI
    /// (a factory-reset phone with `auto_reprovision`; ADR 0011).
    ReprovisionedAttested,
}

impl EnrollKind {
    pub fn action(self) -> &'static str {
        match self {
            EnrollKind::Enrolled => "enrolled",
            EnrollKind::AnsweredAgain => "enrollment_answered_again",
            EnrollKind::Reprovisioned => "reprovisioned",
            EnrollKind::Retried => "enrollment_retried",
            EnrollKind::Rebound => "enrolled_with_reissued_code",
            EnrollKind::EnrolledAttested => "enrolled_attested",
            EnrollKind::ReprovisionedAttested => "reprovisioned_attested",
        }
    }
}

/// Everything that can happen to a device, with what the log keeps of it.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent<'a> {
    /// The lender's signing key was rotated (ADR 0007): set `keys_seq` = [new key, the key
    /// that signed the set]. In the lender's own log (`lender_audit`), not a device's.
    KeysRotated {
        keys_seq: u64,
        new_kid: &'a str,
        signed_by: &'a str,
    },
    /// A (compromised) key was retired: set `keys_seq` holds only `new_kid`.
    KeyRetired {
        keys_seq: u64,
        retired_kid: &'a str,
        new_kid: &'a str,
        signed_by: &'a str,
    },
    /// The lender's private keys were restored from an encrypted backup (`finlock keys
    /// import`): how many, and the newest set the backup held.
    KeysImported {
        keys: usize,
        keys_seq: u64,
    },
    Registered {
        currency: &'a str,
        total_minor: u64,
        installments: usize,
        grace_days: u32,
        offline_lock_after_days: Option<u32>,
        imei_registered: bool,
        auto_reprovision: bool,
    },
    Enrollment {
        kind: EnrollKind,
        key_thumbprint: &'a str,
        model: &'a str,
        app_version: &'a str,
    },
    Payment {
        payment_id: &'a str,
        amount_minor: u64,
        currency: &'a str,
        reference: &'a str,
        paid_minor: u64,
    },
    Released {
        reason: ReleaseReason,
    },
    Locked {
        reason: &'a str,
    },
    Unlocked,
    OfflineCodeIssued {
        counter: u64,
        days: u16,
    },
    OfflineCodeUsed {
        counter: u64,
        days: u16,
        at: i64,
    },
    /// A new one-time enrollment code (the code itself is never logged).
    EnrollmentCodeReissued,
    /// The phone had seen entitlements up to `device_seq` while the database's last was
    /// `server_seq` (restored from a backup): the answer was issued past the phone's.
    SeqCaughtUp {
        server_seq: u64,
        device_seq: u64,
    },
    /// A promise-to-pay extension: the lock moved to `until`.
    Extended {
        until: i64,
        reason: &'a str,
    },
    /// The lender approved a key asking to enroll by IMEI.
    EnrollmentApproved {
        request_id: &'a str,
        key_thumbprint: &'a str,
    },
    /// The lender refused it.
    EnrollmentRefused {
        request_id: &'a str,
        key_thumbprint: &'a str,
    },
    /// Paid in full: completing, released at `release_at` unless a payment is voided
    /// first (ADR 0012).
    Completing {
        release_at: i64,
    },
    /// The lender voided a payment: it no longer counts (`paid_minor` after it);
    /// `release_at` is the new release date if still paid in full, else `None`.
    PaymentVoided {
        payment_id: &'a str,
        amount_minor: u64,
        reason: &'a str,
        paid_minor: u64,
        release_at: Option<i64>,
    },
    /// The plan was rescheduled: the new terms in full, and the lock before and after.
    Rescheduled {
        reason: &'a str,
        installments_before: &'a [crate::policy::PlanInstallment],
        total_minor: u64,
        grace_days: u32,
        offline_lock_after_days: Option<u32>,
        installments: &'a [crate::policy::PlanInstallment],
        lock_at_before: i64,
        lock_at_after: i64,
        /// The lender explicitly allowed an earlier (or sooner offline) lock.
        earlier_lock: bool,
    },
    /// Re-provisioning by IMEI after a factory reset turned on or off.
    AutoReprovisionSet {
        auto_reprovision: bool,
    },
    /// A sale cancelled before its phone enrolled (the device is released, its IMEI free).
    Cancelled {
        reason: &'a str,
    },
    /// The lender's customer reference changed (`before` `None`: there was none).
    CustomerRefSet {
        before: Option<&'a str>,
        after: &'a str,
    },
}

impl AuditEvent<'_> {
    /// The stored action name (stable: lenders filter on it).
    pub fn action(&self) -> &'static str {
        match self {
            AuditEvent::KeysRotated { .. } => "keys_rotated",
            AuditEvent::KeyRetired { .. } => "key_retired",
            AuditEvent::KeysImported { .. } => "keys_imported",
            AuditEvent::Registered { .. } => "registered",
            AuditEvent::Enrollment { kind, .. } => kind.action(),
            AuditEvent::Payment { .. } => "payment",
            AuditEvent::Released { .. } => "released",
            AuditEvent::Locked { .. } => "locked",
            AuditEvent::Unlocked => "unlocked",
            AuditEvent::OfflineCodeIssued { .. } => "offline_code_issued",
            AuditEvent::OfflineCodeUsed { .. } => "offline_code_used",
            AuditEvent::SeqCaughtUp { .. } => "seq_caught_up",
            AuditEvent::EnrollmentCodeReissued => "enrollment_code_reissued",
            AuditEvent::Extended { .. } => "extended",
            AuditEvent::EnrollmentApproved { .. } => "enrollment_approved",
            AuditEvent::EnrollmentRefused { .. } => "enrollment_refused",
            AuditEvent::Completing { .. } => "completing",
            AuditEvent::PaymentVoided { .. } => "payment_voided",
            AuditEvent::Rescheduled { .. } => "rescheduled",
            AuditEvent::AutoReprovisionSet { .. } => "auto_reprovision_set",
            AuditEvent::Cancelled { .. } => "cancelled",
            AuditEvent::CustomerRefSet { .. } => "customer_ref_set",
        }
    }

    /// The stored detail (a JSON object).
    pub fn detail(&self) -> Value {
        match *self {
            AuditEvent::KeysRotated {
                keys_seq,
                new_kid,
                signed_by,
            } => json!({ "keys_seq": keys_seq, "new_kid": new_kid, "signed_by": signed_by }),
            AuditEvent::KeyRetired {
                keys_seq,
                retired_kid,
                new_kid,
                signed_by,
            } => json!({ "keys_seq": keys_seq, "retired_kid": retired_kid,
                "new_kid": new_kid, "signed_by": signed_by }),
            AuditEvent::KeysImported { keys, keys_seq } => {
                json!({ "keys": keys, "keys_seq": keys_seq })
            }
            AuditEvent::Registered {
                currency,
                total_minor,
                installments,
                grace_days,
                offline_lock_after_days,
                imei_registered,
                auto_reprovision,
            } => json!({ "currency": currency, "total_minor": total_minor,
                "installments": installments, "grace_days": grace_days,
                "offline_lock_after_days": offline_lock_after_days,
                "imei_registered": imei_registered, "auto_reprovision": auto_reprovision }),
            AuditEvent::Enrollment {
                key_thumbprint,
                model,
                app_version,
                ..
            } => json!({ "key_thumbprint": key_thumbprint, "model": model,
                "app_version": app_version }),
            AuditEvent::Payment {
                payment_id,
                amount_minor,
                currency,
                reference,
                paid_minor,
            } => json!({ "payment_id": payment_id, "amount_minor": amount_minor,
                "currency": currency, "reference": reference, "paid_minor": paid_minor }),
            AuditEvent::Released { reason } => json!({ "reason": reason.as_str() }),
            AuditEvent::Locked { reason } => json!({ "reason": reason }),
            AuditEvent::Unlocked => json!({}),
            AuditEvent::OfflineCodeIssued { counter, days } => {
                json!({ "counter": counter, "days": days })
            }
            AuditEvent::OfflineCodeUsed { counter, days, at } => {
                json!({ "counter": counter, "days": days, "at": at })
            }
            AuditEvent::EnrollmentCodeReissued => json!({}),
            AuditEvent::SeqCaughtUp {
                server_seq,
                device_seq,
            } => json!({ "server_seq": server_seq, "device_seq": device_seq }),
            AuditEvent::Extended { until, reason } => json!({ "until": until, "reason": reason }),
            AuditEvent::EnrollmentApproved {
                request_id,
                key_thumbprint,
            }
            | AuditEvent::EnrollmentRefused {
                request_id,
                key_thumbprint,
            } => json!({ "request_id": request_id, "key_thumbprint": key_thumbprint }),
            AuditEvent::Completing { release_at } => json!({ "release_at": release_at }),
            AuditEvent::PaymentVoided {
                payment_id,
                amount_minor,
                reason,
                paid_minor,
                release_at,
            } => json!({ "payment_id": payment_id, "amount_minor": amount_minor,
                "reason": reason, "paid_minor": paid_minor, "release_at": release_at }),
            AuditEvent::Rescheduled {
                reason,
                installments_before,
                total_minor,
                grace_days,
                offline_lock_after_days,
                installments,
                lock_at_before,
                lock_at_after,
                earlier_lock,
            } => json!({ "reason": reason, "total_minor": total_minor,
                "grace_days": grace_days, "offline_lock_after_days": offline_lock_after_days,
                "installments": installments, "installments_before": installments_before,
                "lock_at_before": lock_at_before,
                "lock_at_after": lock_at_after, "earlier_lock": earlier_lock }),
            AuditEvent::AutoReprovisionSet { auto_reprovision } => {
                json!({ "auto_reprovision": auto_reprovision })
            }
            AuditEvent::Cancelled { reason } => json!({ "reason": reason }),
            AuditEvent::CustomerRefSet { before, after } => {
                json!({ "before": before, "after": after })
            }
        }
    }
}

/// The device an entry belongs to (the log is per device, scoped to its lender).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub device_id: &'a str,
    pub lender_id: &'a str,
}

/// One entry as the lender reads it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Entry {
    /// 1, 2, … per device.
    pub n: i64,
    /// Server time, Unix seconds.
    pub at: i64,
    /// `lender:<id>` (the API), `cli:<lender id>` (the server's command line),
    /// `staff:<staff id>` (the console), `device` or `system`.
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: Value,
    /// The API key that made the change (lender changes through the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
}

/// Appends an entry inside the transaction that makes the change.
pub async fn append(
    tx: &mut Tx,
    subject: Subject<'_>,
    at: i64,
    actor: Actor<'_>,
    event: &AuditEvent<'_>,
) -> Result<()> {
    let row = sqlx::query(
        "UPDATE devices SET audit_seq = audit_seq + 1 WHERE device_id = $1 RETURNING audit_seq",
    )
    .bind(subject.device_id)
    .fetch_one(&mut **tx)
    .await?;
    let n: i64 = row.try_get("audit_seq")?;
    sqlx::query(
        "INSERT INTO audit (device_id, n, lender_id, at, actor, action, detail, api_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(subject.device_id)
    .bind(n)
    .bind(subject.lender_id)
    .bind(at)
    .bind(actor.label())
    .bind(event.action())
    .bind(event.detail().to_string())
    .bind(actor.key_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Begins a transaction for a lender-level change, holding the lender's row first so the
/// lender's log (`lender_audit`) is numbered one change at a time (on PostgreSQL a row
/// lock; on SQLite the single writer does the same).
pub async fn begin_lender(db: &crate::db::Db, lender_id: &str) -> Result<Tx> {
    let mut tx = db.write.begin().await?;
    sqlx::query("UPDATE lenders SET name = name WHERE lender_id = $1")
        .bind(lender_id)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Appends a lender-level entry (`action`, `detail`) to the lender's log inside `tx`
/// (begun with [`begin_lender`]), numbered after the lender's last entry. Callers pass a
/// closed event type's action and detail, so no secret can reach the log.
pub async fn append_lender(
    tx: &mut Tx,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    action: &str,
    detail: &Value,
) -> Result<()> {
    let last: i64 =
        sqlx::query("SELECT COALESCE(MAX(n), 0) AS last FROM lender_audit WHERE lender_id = $1")
            .bind(lender_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("last")?;
    sqlx::query(
        "INSERT INTO lender_audit (lender_id, n, at, actor, action, detail, api_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(lender_id)
    .bind(last + 1)
    .bind(at)
    .bind(actor.label())
    .bind(action)
    .bind(detail.to_string())
    .bind(actor.key_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A page of the device's log, oldest first: the entries numbered after `after`.
pub async fn list(
    pool: &sqlx::AnyPool,
    device_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT n, at, actor, action, detail, api_key_id FROM audit WHERE device_id = $1 \
         AND n > $2 ORDER BY n LIMIT $3",
    )
    .bind(device_id)
    .bind(after)
    .bind(limit)
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
                api_key_id: r.try_get("api_key_id")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_stored_as_labels() {
        let by_key = Actor::Lender {
            lender_id: "lnd-1",
            key_id: Some("key-1"),
        };
        assert_eq!(by_key.label(), "lender:lnd-1");
        assert_eq!(by_key.key_id(), Some("key-1"));
        assert_eq!(Actor::Device.label(), "device");
        let cli = Actor::Cli { lender_id: "lnd-1" };
        assert_eq!((cli.label().as_str(), cli.key_id()), ("cli:lnd-1", None));
        assert_eq!(Actor::System.label(), "system");
        assert_eq!(Actor::Provider { kind: "mpesa" }.label(), "provider:mpesa");
        assert_eq!(Actor::Provider { kind: "mpesa" }.key_id(), None);
        let staff = Actor::Staff {
            lender_id: "lnd-1",
            staff_id: "stf-1",
        };
        assert_eq!(
            (staff.label().as_str(), staff.key_id()),
            ("staff:stf-1", None)
        );
    }

    #[test]
    fn each_event_has_its_stable_action_and_detail() {
        let cases = [
            (
                AuditEvent::Released {
                    reason: ReleaseReason::PaidInFull,
                },
                "released",
                json!({ "reason": "paid_in_full" }),
            ),
            (
                AuditEvent::Released {
                    reason: ReleaseReason::LenderRequest,
                },
                "released",
                json!({ "reason": "lender_request" }),
            ),
            (
                AuditEvent::Locked { reason: "stolen" },
                "locked",
                json!({ "reason": "stolen" }),
            ),
            (AuditEvent::Unlocked, "unlocked", json!({})),
            (
                AuditEvent::Completing { release_at: 9 },
                "completing",
                json!({ "release_at": 9 }),
            ),
            (
                AuditEvent::PaymentVoided {
                    payment_id: "pay-1",
                    amount_minor: 5,
                    reason: "bounced",
                    paid_minor: 0,
                    release_at: None,
                },
                "payment_voided",
                json!({ "payment_id": "pay-1", "amount_minor": 5, "reason": "bounced",
                    "paid_minor": 0, "release_at": null }),
            ),
            (
                AuditEvent::OfflineCodeIssued {
                    counter: 3,
                    days: 7,
                },
                "offline_code_issued",
                json!({ "counter": 3, "days": 7 }),
            ),
            (
                AuditEvent::OfflineCodeUsed {
                    counter: 3,
                    days: 7,
                    at: 9,
                },
                "offline_code_used",
                json!({ "counter": 3, "days": 7, "at": 9 }),
            ),
            (
                AuditEvent::SeqCaughtUp {
                    server_seq: 4,
                    device_seq: 9,
                },
                "seq_caught_up",
                json!({ "server_seq": 4, "device_seq": 9 }),
            ),
            (
                AuditEvent::Enrollment {
                    kind: EnrollKind::Reprovisioned,
                    key_thumbprint: "t",
                    model: "m",
                    app_version: "1",
                },
                "reprovisioned",
                json!({ "key_thumbprint": "t", "model": "m", "app_version": "1" }),
            ),
            (
                AuditEvent::Rescheduled {
                    reason: "harvest",
                    installments_before: &[crate::policy::PlanInstallment {
                        due: 10,
                        amount_minor: 5,
                    }],
                    total_minor: 5,
                    grace_days: 7,
                    offline_lock_after_days: None,
                    installments: &[crate::policy::PlanInstallment {
                        due: 20,
                        amount_minor: 5,
                    }],
                    lock_at_before: 11,
                    lock_at_after: 21,
                    earlier_lock: false,
                },
                "rescheduled",
                json!({ "reason": "harvest", "total_minor": 5, "grace_days": 7,
                    "offline_lock_after_days": null,
                    "installments": [{ "due": 20, "amount_minor": 5 }],
                    "installments_before": [{ "due": 10, "amount_minor": 5 }],
                    "lock_at_before": 11, "lock_at_after": 21, "earlier_lock": false }),
            ),
            (
                AuditEvent::AutoReprovisionSet {
                    auto_reprovision: true,
                },
                "auto_reprovision_set",
                json!({ "auto_reprovision": true }),
            ),
            (
                AuditEvent::Cancelled {
                    reason: "walked away",
                },
                "cancelled",
                json!({ "reason": "walked away" }),
            ),
            (
                AuditEvent::CustomerRefSet {
                    before: None,
                    after: "CT-9",
                },
                "customer_ref_set",
                json!({ "before": null, "after": "CT-9" }),
            ),
        ];
        for (event, action, detail) in cases {
            assert_eq!(event.action(), action);
            assert_eq!(event.detail(), detail);
        }
    }

    #[test]
    fn no_event_detail_has_a_secret_field() {
        let payment = AuditEvent::Payment {
            payment_id: "pay-1",
            amount_minor: 5,
            currency: "KES",
            reference: "r",
            paid_minor: 5,
        };
        let registered = AuditEvent::Registered {
            currency: "KES",
            total_minor: 5,
            installments: 1,
            grace_days: 0,
            offline_lock_after_days: None,
            imei_registered: true,
            auto_reprovision: false,
        };
        for event in [payment, registered] {
            let text = event.detail().to_string();
            for secret in [
                "imei_sha256",
                "api_key",
                "offline_secret",
                "nonce",
                "code\"",
            ] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }
}
