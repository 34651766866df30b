//! How a device looks to its lender: one device, or a page of them filtered by state.
//! The state depends on time, so it is computed here from the row and `now`.

use finlock_core::protocol::InstallmentStatus;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::db::queries::{self, DeviceRow};
use crate::error::{Error, Result};
use crate::issue::stored_plan;
use crate::policy::{self, DeviceFacts, DeviceStatus};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstallmentView {
    pub due: i64,
    pub amount_minor: u64,
    #[schema(value_type = String)]
    pub status: InstallmentStatus,
}

/// A device as its lender sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Device)]
pub struct DeviceView {
    pub device_id: String,
    pub enrolled: bool,
    pub state: DeviceStatus,
    /// When the device locks unless paid; `null` once released.
    pub lock_at: Option<i64>,
    pub currency: String,
    pub total_minor: u64,
    pub paid_minor: u64,
    pub amount_due_minor: u64,
    pub next_due: Option<i64>,
    pub installments: Vec<InstallmentView>,
    pub lender_locked: bool,
    pub lock_reason: Option<String>,
    /// A promise-to-pay extension: the lock is not before this time.
    pub extended_until: Option<i64>,
    /// `completing` (paid in full): released on this date unless a payment is voided
    /// first (ADR 0012); `null` otherwise.
    pub release_at: Option<i64>,
    pub auto_reprovision: bool,
    pub imei_registered: bool,
    pub created_at: i64,
    pub enrolled_at: Option<i64>,
    pub last_checkin: Option<i64>,
    pub app_version: Option<String>,
    /// The lender's customer reference given at registration. Present in lists, searches
    /// and `GET …/devices/{id}`; absent from the answers to changes, and when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    /// The last four digits of the IMEI registered at sale; present where `customer_ref`
    /// is, when an IMEI was registered (after this field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_last4: Option<String>,
}

impl DeviceView {
    /// The view with the references stored beside the row.
    pub fn with_refs(self, customer_ref: Option<String>, imei_last4: Option<String>) -> DeviceView {
        DeviceView {
            customer_ref,
            imei_last4,
            ..self
        }
    }
}

/// The view of `row` at `now`: pure.
pub fn view(row: &DeviceRow, now: i64) -> Result<DeviceView> {
    let plan = stored_plan(row)?;
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: row.paid_minor,
        released: row.released,
        lender_lock: row
            .lender_locked
            .then_some(row.lock_reason.as_deref().unwrap_or("")),
        reminders: None,
        extended_until: row.extended_until,
        release_at: row.release_at,
    };
    let state = policy::status(&facts, now);
    let account = plan.account(row.paid_minor, now);
    let released = state == DeviceStatus::Released;
    Ok(DeviceView {
        device_id: row.device_id.clone(),
        enrolled: row.device_key.is_some(),
        state,
        lock_at: if released { None } else { facts.lock_at() },
        currency: plan.currency.clone(),
        total_minor: row.total_minor,
        paid_minor: row.paid_minor,
        amount_due_minor: if released {
            0
        } else {
            account.amount_due_minor
        },
        next_due: if released { None } else { account.next_due },
        installments: account
            .installments
            .into_iter()
            .map(|i| InstallmentView {
                due: i.due,
                amount_minor: i.amount_minor,
                status: i.status,
            })
            .collect(),
        lender_locked: row.lender_locked,
        lock_reason: row.lock_reason.clone(),
        extended_until: row.extended_until,
        release_at: facts.completing(now),
        auto_reprovision: row.auto_reprovision,
        imei_registered: row.imei_sha256.is_some(),
        created_at: row.created_at,
        enrolled_at: row.enrolled_at,
        last_checkin: row.last_checkin_at,
        app_version: row.app_version.clone(),
        customer_ref: None,
        imei_last4: None,
    })
}

/// One device of this lender, as it looks now.
pub async fn one(app: &App, lender_id: &str, device_id: &str) -> Result<DeviceView> {
    let row = super::owned(app, lender_id, device_id).await?;
    with_refs(app, &row, view(&row, app.now())?).await
}

/// `v` (the view of `row`) with the references stored beside the row.
pub async fn with_refs(app: &App, row: &DeviceRow, v: DeviceView) -> Result<DeviceView> {
    let (customer_ref, imei_last4) =
        queries::device_refs(&app.db.read, &row.lender_id, &row.device_id)
            .await?
            .unwrap_or_default();
    Ok(v.with_refs(customer_ref, imei_last4))
}

/// A page of devices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Devices per page unless asked otherwise.
pub const DEFAULT_PAGE: u32 = 50;

/// Which devices to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<DeviceStatus>,
    pub limit: Option<u32>,
    /// The last device id of the previous page.
    pub cursor: Option<String>,
}

impl ListFilter {
    /// Reads `?state=` as the lender wrote it.
    pub fn parse_state(state: Option<&str>) -> Result<Option<DeviceStatus>> {
        state
            .map(|s| {
                DeviceStatus::parse(s).ok_or_else(|| {
                    Error::invalid(
                        "state",
                        "one of current, overdue, locked, completing, released",
                    )
                })
            })
            .transpose()
    }
}

/// A page of this lender's devices in device id order, of one state or all
/// ([`super::search`] with only these).
pub async fn list(app: &App, lender_id: &str, filter: ListFilter) -> Result<DeviceList> {
    let query = super::search::DeviceQuery {
        state: filter.state,
        limit: filter.limit,
        cursor: filter.cursor,
        ..Default::default()
    };
    super::search::search(app, lender_id, &query).await
}
