//! The lender's operations on its financed devices — the domain layer under every
//! surface (the JSON API today, the console, the CLI and webhooks next).
//!
//! Each operation lives here once: it validates its input, makes its change and the
//! change's audit entry in one transaction, and returns a domain value. Surfaces only
//! extract the request, call an operation and render its answer.
//!
//! Every device read is scoped by the acting lender's id *in SQL* ([`owned`]), so
//! another lender's device answers exactly like a missing one: `NotFound`, never
//! "forbidden" (ids do not leak).
//!
//! | module | operations |
//! |---|---|
//! | [`register`] | register a financed device with its plan |
//! | [`payments`] | record a payment (idempotent), list payments |
//! | [`voids`] | void a payment before the device is released (ADR 0012) |
//! | [`completing`] | the lender's completing window; storing a release when it has passed |
//! | [`actions`] | lock, unlock, release |
//! | [`update`] | reschedule, re-provisioning on or off, cancel an unenrolled sale |
//! | [`approvals`] | enrollment requests by IMEI waiting for the lender's approval |
//! | [`offline`] | answer an offline unlock challenge (PROTOCOL §6) |
//! | [`view`] | how a device looks to its lender, one device or a filtered page |
//! | [`search`] | search, filters, orders and pages of a lender's devices in SQL; CSV export |
//! | [`import`] | bulk import of sales and payments from CSV, all rows or none |
//! | [`dashboard`] | a lender's figures: devices by state, arrears, collections, unseen phones |

pub mod actions;
pub mod approvals;
pub mod completing;
pub mod dashboard;
pub mod import;
pub mod offline;
pub mod payments;
pub mod register;
pub mod search;
pub mod update;
pub mod view;
pub mod voids;

use crate::app::App;
use crate::audit::{Actor, Subject};
use crate::db::queries::{self, DeviceRow, LenderRow};
use crate::error::{Error, Result};

/// Who asks for an operation: the lender whose data it is, and who acts for it
/// (written to the audit log).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub lender: &'a LenderRow,
    pub actor: Actor<'a>,
}

impl<'a> Caller<'a> {
    /// The lender through one of its API keys (`None`: its own tools, the CLI).
    pub fn lender(lender: &'a LenderRow, key_id: Option<&'a str>) -> Caller<'a> {
        Caller {
            lender,
            actor: Actor::Lender {
                lender_id: &lender.lender_id,
                key_id,
            },
        }
    }

    /// A staff member of the lender, in the console (`staff_id` from its session).
    pub fn staff(lender: &'a LenderRow, staff_id: &'a str) -> Caller<'a> {
        Caller {
            lender,
            actor: Actor::Staff {
                lender_id: &lender.lender_id,
                staff_id,
            },
        }
    }
}

/// The audit subject of a device row.
pub fn subject(row: &DeviceRow) -> Subject<'_> {
    Subject {
        device_id: &row.device_id,
        lender_id: &row.lender_id,
    }
}

/// The largest page of any list (devices, payments, audit entries).
pub const MAX_PAGE: u32 = 500;

/// A page size as asked: 1 to [`MAX_PAGE`], `default` when not given; anything else is
/// refused rather than silently changed.
pub fn page_size(limit: Option<u32>, default: u32) -> Result<u32> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::invalid("limit", "1 to 500 per page"));
    }
    Ok(limit)
}

/// A device of this lender; another lender's device is `NotFound` like a missing one.
/// A device whose completing window has passed is stored as released first
/// ([`completing::settle`]), so every operation sees it released.
pub async fn owned(app: &App, lender_id: &str, device_id: &str) -> Result<DeviceRow> {
    let read = || async {
        queries::lender_device(&app.db.read, lender_id, device_id)
            .await?
            .ok_or(Error::NotFound)
    };
    let row = read().await?;
    if completing::due(&row, app.now()) {
        completing::settle(app, &row).await?;
        return read().await;
    }
    Ok(row)
}
