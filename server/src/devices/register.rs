//! Registering a financed device: the plan is checked against the rules the device
//! itself applies to every entitlement, so nothing registered can later produce an
//! entitlement the phone would reject.

use finlock_core::protocol::{self, MAX_SAFE, ReminderPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use crate::app::App;
use crate::audit::{self, AuditEvent, Subject};
use crate::compliance;
use crate::db::is_unique_violation;
use crate::db::queries::{self, DeviceRow, Tx};
use crate::error::{Error, Result};
use crate::ids;
use crate::policy::{self, Plan, PlanInstallment};

/// The installment plan as the lender sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// ISO 4217 code, e.g. `KES`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Days after a due date before the phone locks.
    #[schema(maximum = 365)]
    pub grace_days: u32,
    /// Lock a phone that has not checked in for this many days (1–365).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub offline_lock_after_days: Option<u32>,
    #[schema(min_items = 1, max_items = 120)]
    pub installments: Vec<PlanInstallment>,
}

/// `POST /v1/lender/devices`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The IMEI registered at sale (14–16 digits; spaces and dashes ignored); stored
    /// only as its §1 hash.
    #[serde(default)]
    pub imei: Option<String>,
    /// Whether the phone may enroll again by IMEI after a factory reset.
    #[serde(default)]
    pub auto_reprovision: bool,
    pub plan: PlanRequest,
    /// Reminder policy (PROTOCOL §3.3); the defaults when absent.
    #[serde(default)]
    #[schema(value_type = Option<crate::http::openapi::ReminderPolicyDoc>)]
    pub reminders: Option<ReminderPolicy>,
    /// The lender's own customer or contract reference, to find the device by (search,
    /// the console): 1–64 printable ASCII characters, trimmed; not unique.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$"
    )]
    pub customer_ref: Option<String>,
}

/// A registered device and the one-time code its phone enrolls with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Registered {
    pub device_id: String,
    pub enrollment_code: String,
}

/// Due dates a real plan can have: 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z
/// (exclusive). The protocol takes any time below 2^53, but a due date in the year
/// 285 million is a typo that would never lock anything.
const EARLIEST_DUE: i64 = 946_684_800;
const LATEST_DUE: i64 = 4_102_444_800;
const MAX_GRACE_DAYS: u32 = 365;
const MAX_OFFLINE_DAYS: u32 = 365;

/// The plan's own rules (amounts, order, bounds): pure.
pub fn validate_plan(p: &PlanRequest) -> Result<Plan> {
    if iso_currency::Currency::from_code(&p.currency).is_none() {
        return Err(Error::invalid(
            "plan.currency",
            "an ISO 4217 currency code, e.g. KES, NGN, PHP, INR, BRL",
        ));
    }
    if p.grace_days > MAX_GRACE_DAYS {
        return Err(Error::invalid("plan.grace_days", "at most 365"));
    }
    if let Some(d) = p.offline_lock_after_days
        && !(1..=MAX_OFFLINE_DAYS).contains(&d)
    {
        return Err(Error::invalid(
            "plan.offline_lock_after_days",
            "1 to 365 (an offline lock sooner than a day locks people for a weak signal)",
        ));
    }
    if p.installments.is_empty() || p.installments.len() > protocol::MAX_INSTALLMENTS {
        return Err(Error::invalid("plan.installments", "1 to 120 installments"));
    }
    let mut total: u64 = 0;
    let mut previous = i64::MIN;
    for (i, inst) in p.installments.iter().enumerate() {
        if !(EARLIEST_DUE..LATEST_DUE).contains(&inst.due) {
            return Err(Error::invalid(
                format!("plan.installments[{i}].due"),
                "a Unix time from 2000-01-01 to before 2100-01-01",
            ));
        }
        if inst.due < previous {
            return Err(Error::invalid(
                format!("plan.installments[{i}].due"),
                "installments are in due-date order",
            ));
        }
        previous = inst.due;
        if inst.amount_minor == 0 || inst.amount_minor >= MAX_SAFE {
            return Err(Error::invalid(
                format!("plan.installments[{i}].amount_minor"),
                "between 1 and 2^53 - 1",
            ));
        }
        total = total.saturating_add(inst.amount_minor);
    }
    if total >= MAX_SAFE {
        return Err(Error::invalid(
            "plan.installments",
            "the total must stay below 2^53",
        ));
    }
    Ok(Plan {
        currency: p.currency.clone(),
        grace_days: p.grace_days,
        offline_lock_after_days: p.offline_lock_after_days,
        installments: p.installments.clone(),
    })
}

/// The longest customer reference.
pub const MAX_CUSTOMER_REF: usize = 64;

/// A customer reference as the lender sent it: trimmed, 1–64 printable ASCII characters
/// (ASCII so a prefix search ignores case the same way on SQLite and PostgreSQL).
pub fn check_customer_ref(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_CUSTOMER_REF {
        return Err(Error::invalid("customer_ref", "1 to 64 characters"));
    }
    if !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(Error::invalid(
            "customer_ref",
            "printable ASCII characters only (letters, digits, punctuation, spaces)",
        ));
    }
    Ok(text.to_string())
}

/// The IMEI as typed at the counter → its §1 hash, by the core's one canonical form
/// (14–16 digits, spaces and dashes ignored; the phone hashes the same form).
pub fn imei_hash(imei: &str) -> Result<String> {
    Ok(protocol::Imei::parse(imei).map_err(field_error)?.sha256())
}

fn field_error(e: finlock_core::Error) -> Error {
    match e {
        finlock_core::Error::InvalidField { field, rule } => Error::invalid(field, rule),
        other => Error::invalid("plan", other.to_string()),
    }
}

/// The terms the first entitlement will carry must pass the device's own rules
/// (`PlanTerms::validate`, the function the phone runs on every entitlement).
fn check_as_a_device_would(
    plan: &Plan,
    reminders: Option<&ReminderPolicy>,
    now: i64,
) -> Result<()> {
    let account = plan.account(0, now);
    let defaults = policy::default_reminders();
    let (offline_lock_after_s, offline_warning_s) = plan.offline_policy();
    let terms = protocol::PlanTerms {
        account: &account,
        reminders: reminders.unwrap_or(&defaults),
        lock_at: policy::first_lock_at(plan, 0),
        offline_lock_after_s,
        offline_warning_s,
    };
    terms.validate().map_err(field_error)
}

/// A registration that passed every rule that needs no database: what
/// [`insert_in`] stores.
#[derive(Debug, Clone)]
pub struct Prepared {
    plan: Plan,
    plan_json: String,
    reminders: Option<ReminderPolicy>,
    reminders_json: Option<String>,
    imei: Option<String>,
    imei_last4: Option<String>,
    customer_ref: Option<String>,
    auto_reprovision: bool,
    columns: policy::SearchColumns,
}

impl Prepared {
    /// The §1 hash of the registered IMEI, if any.
    pub fn imei_sha256(&self) -> Option<&str> {
        self.imei.as_deref()
    }
}

/// Every rule of a registration that needs no database (pure): the plan, the IMEI, the
/// customer reference and the device's own check of the first entitlement at `now`.
pub fn prepare(req: &Registration, now: i64) -> Result<Prepared> {
    let plan = validate_plan(&req.plan)?;
    let imei = req
        .imei
        .as_deref()
        .map(|text| {
            let parsed = protocol::Imei::parse(text).map_err(field_error)?;
            let digits = parsed.digits();
            Ok::<_, Error>((parsed.sha256(), digits[digits.len() - 4..].to_string()))
        })
        .transpose()?;
    let (imei, imei_last4) = imei.unzip();
    let customer_ref = req
        .customer_ref
        .as_deref()
        .map(check_customer_ref)
        .transpose()?;
    let columns = policy::SearchColumns::of(&plan, 0, None, false);
    check_as_a_device_would(&plan, req.reminders.as_ref(), now)?;
    let plan_json =
        serde_json::to_string(&plan).map_err(|e| Error::Internal(format!("plan: {e}")))?;
    let reminders_json = req
        .reminders
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Internal(format!("reminders: {e}")))?;
    Ok(Prepared {
        plan,
        plan_json,
        reminders: req.reminders.clone(),
        reminders_json,
        imei,
        imei_last4,
        customer_ref,
        auto_reprovision: req.auto_reprovision,
        columns,
    })
}

/// Registers a device: validates everything first, then writes the device and its
/// audit entry in one transaction.
pub async fn register(app: &App, by: Caller<'_>, req: &Registration) -> Result<Registered> {
    let now = app.now();
    let prepared = prepare(req, now)?;
    let mut tx = app.db.write.begin().await?;
    let registered = insert_in(&mut tx, now, by, &prepared).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Stores a prepared registration inside `tx` (the lender's compliance profile and the
/// IMEI checked first) with its audit entry: one device of [`register`], or one row of a
/// bulk import.
pub async fn insert_in(
    tx: &mut Tx,
    now: i64,
    by: Caller<'_>,
    prepared: &Prepared,
) -> Result<Registered> {
    // The lender's compliance profile, as of this transaction.
    let profile = compliance::lender::profile_in(tx, &by.lender.lender_id).await?;
    insert_under(tx, now, by, prepared, profile).await
}

/// [`insert_in`] under `profile`, read in the same transaction: a bulk import reads it once
/// for all its rows (10,000 rows are 10,000 fewer round trips to PostgreSQL).
pub async fn insert_under(
    tx: &mut Tx,
    now: i64,
    by: Caller<'_>,
    prepared: &Prepared,
    profile: &compliance::Profile,
) -> Result<Registered> {
    let Prepared {
        plan,
        plan_json,
        reminders,
        reminders_json,
        imei,
        imei_last4,
        customer_ref,
        auto_reprovision,
        columns,
    } = prepared;
    // A plan or a reminder policy the profile forbids is refused before anything is written.
    compliance::rules::check_plan(profile, plan)
        .and_then(|()| compliance::rules::check_reminders(profile, reminders.as_ref()))
        .map_err(|refusal| refusal.into_error(profile))?;
    let device_id = ids::device_id()?;
    let code = ids::enrollment_code()?;
    if let Some(imei) = imei {
        check_imei_free(tx, imei, &by.lender.lender_id).await?;
    }
    let inserted = queries::insert_device(
        tx,
        &queries::NewDevice {
            device_id: &device_id,
            lender_id: &by.lender.lender_id,
            created_at: now,
            imei_sha256: imei.as_deref(),
            auto_reprovision: *auto_reprovision,
            enrollment_code: &code,
            currency: &plan.currency,
            plan: plan_json,
            reminders: reminders_json.as_deref(),
            total_minor: plan.total_minor(),
            customer_ref: customer_ref.as_deref(),
            imei_last4: imei_last4.as_deref(),
            first_unpaid_due: columns.first_unpaid_due,
            lock_at: columns.lock_at,
        },
    )
    .await;
    match inserted {
        Ok(()) => {}
        // Another node registered the same IMEI between the check and the insert.
        Err(e) if is_unique_violation(&e) && imei.is_some() => return Err(imei_taken()),
        Err(e) => return Err(e.into()),
    }
    audit::append(
        tx,
        Subject {
            device_id: &device_id,
            lender_id: &by.lender.lender_id,
        },
        now,
        by.actor,
        &AuditEvent::Registered {
            currency: &plan.currency,
            total_minor: plan.total_minor(),
            installments: plan.installments.len(),
            grace_days: plan.grace_days,
            offline_lock_after_days: plan.offline_lock_after_days,
            imei_registered: imei.is_some(),
            auto_reprovision: *auto_reprovision,
        },
    )
    .await?;
    Ok(Registered {
        device_id,
        enrollment_code: code,
    })
}

/// Issues a new one-time enrollment code for a device (the old one stops working): a
/// phone that lost or could not use its first answer, or a replaced phone, enrolls with
/// it and binds a new key (see [`crate::enrollment::judge`]). Audited; the code is not.
pub async fn reissue_code(app: &App, by: Caller<'_>, device: &DeviceRow) -> Result<Registered> {
    let code = ids::enrollment_code()?;
    let now = app.now();
    let mut tx = app.db.write.begin().await?;
    if !queries::reissue_code(&mut tx, &device.device_id, &code, now).await? {
        return Err(Error::conflict(
            "released",
            "this device is released; there is nothing to enroll",
        ));
    }
    let event = AuditEvent::EnrollmentCodeReissued;
    audit::append(&mut tx, super::subject(device), now, by.actor, &event).await?;
    tx.commit().await?;
    Ok(Registered {
        device_id: device.device_id.clone(),
        enrollment_code: code,
    })
}

/// One owner per IMEI: a phone financed (registered, not released) by any lender cannot
/// be registered again. The answer names no other lender.
async fn check_imei_free(tx: &mut Tx, imei_sha256: &str, lender_id: &str) -> Result<()> {
    match queries::imei_holder(tx, imei_sha256).await? {
        None => Ok(()),
        Some(holder) if holder == lender_id => Err(Error::conflict(
            "imei-registered",
            "this IMEI is already registered to one of your devices that is not released",
        )),
        Some(_) => Err(imei_taken()),
    }
}

fn imei_taken() -> Error {
    Error::conflict(
        "imei-taken",
        "this IMEI belongs to a phone financed elsewhere; it can be registered once that \
         account is released",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01.
    const T: i64 = 1_767_225_600;

    fn plan(installments: Vec<(i64, u64)>) -> PlanRequest {
        PlanRequest {
            currency: "KES".into(),
            grace_days: 7,
            offline_lock_after_days: Some(30),
            installments: installments
                .into_iter()
                .map(|(due, amount_minor)| PlanInstallment { due, amount_minor })
                .collect(),
        }
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn a_good_plan_is_kept_as_sent() {
        let p = validate_plan(&plan(vec![(T, 5), (T + 100, 6)])).unwrap();
        assert_eq!(p.total_minor(), 11);
        assert_eq!(p.currency, "KES");
    }

    #[test]
    fn the_currency_is_an_iso_4217_code() {
        for bad in ["kes", "KE", "KESH", "K3S", "XYZ", "AAA"] {
            let mut p = plan(vec![(T, 5)]);
            p.currency = bad.into();
            assert_eq!(field_of(validate_plan(&p).unwrap_err()), "plan.currency");
        }
    }

    #[test]
    fn grace_and_offline_days_are_bounded() {
        let mut p = plan(vec![(T, 5)]);
        p.grace_days = 366;
        assert_eq!(field_of(validate_plan(&p).unwrap_err()), "plan.grace_days");
        for bad in [0, 366] {
            let mut p = plan(vec![(T, 5)]);
            p.offline_lock_after_days = Some(bad);
            assert_eq!(
                field_of(validate_plan(&p).unwrap_err()),
                "plan.offline_lock_after_days"
            );
        }
    }

    #[test]
    fn a_plan_has_one_to_120_installments() {
        assert_eq!(
            field_of(validate_plan(&plan(vec![])).unwrap_err()),
            "plan.installments"
        );
        let many = (0..121).map(|i| (T + i, 1)).collect();
        assert_eq!(
            field_of(validate_plan(&plan(many)).unwrap_err()),
            "plan.installments"
        );
    }

    #[test]
    fn due_dates_are_times_in_order() {
        for bad in [-1, 0, EARLIEST_DUE - 1, LATEST_DUE, (1 << 53) - 1] {
            assert_eq!(
                field_of(validate_plan(&plan(vec![(bad, 5)])).unwrap_err()),
                "plan.installments[0].due"
            );
        }
        assert!(validate_plan(&plan(vec![(EARLIEST_DUE, 5), (LATEST_DUE - 1, 5)])).is_ok());
        assert_eq!(
            field_of(validate_plan(&plan(vec![(T + 100, 5), (T, 5)])).unwrap_err()),
            "plan.installments[1].due"
        );
    }

    #[test]
    fn amounts_are_positive_and_the_total_stays_below_2_53() {
        assert_eq!(
            field_of(validate_plan(&plan(vec![(T, 0)])).unwrap_err()),
            "plan.installments[0].amount_minor"
        );
        let half = MAX_SAFE / 2 + 1;
        assert_eq!(
            field_of(validate_plan(&plan(vec![(T, half), (T + 100, half)])).unwrap_err()),
            "plan.installments"
        );
    }

    #[test]
    fn a_customer_ref_is_1_to_64_printable_ascii_characters() {
        assert_eq!(
            check_customer_ref("  CT-2026/0042 ").unwrap(),
            "CT-2026/0042"
        );
        assert_eq!(check_customer_ref(&"x".repeat(64)).unwrap().len(), 64);
        for bad in [
            String::new(),
            "   ".into(),
            "x".repeat(65),
            "line\nbreak".into(),
            "tab\there".into(),
            "Jos\u{e9}".into(),
            "nul\0".into(),
        ] {
            assert_eq!(
                field_of(check_customer_ref(&bad).unwrap_err()),
                "customer_ref",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_imei_is_14_to_16_digits_with_separators_ignored() {
        assert_eq!(
            imei_hash("35-209900-176148-1").unwrap(),
            imei_hash("352099001761481").unwrap()
        );
        for bad in ["1234567890123", "12345678901234567", "35209900176148a", ""] {
            assert_eq!(field_of(imei_hash(bad).unwrap_err()), "imei");
        }
    }
}
