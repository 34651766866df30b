//! Offline unlock codes (PROTOCOL §6): the customer reads out the challenge on the
//! lock screen, the lender answers with a code valid for a number of days.

use finlock_core::offline_code;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, subject};
use crate::app::App;
use crate::audit::{self, AuditEvent};
use crate::db::queries::DeviceRow;
use crate::error::{Error, Result};

/// `POST …/{id}/offline-code`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 8 digits the lock screen shows (spaces and dashes ignored).
    pub challenge: String,
    /// 1, 2, 3, 7, 14 or 30.
    pub days: u16,
}

/// The code to read back to the customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfflineCode {
    #[schema(pattern = "^[0-9]{8}$")]
    pub code: String,
    pub days: u16,
    pub counter: u64,
}

/// Finds the device's counter from the challenge, starting at the last counter the
/// device reported used, and answers the code. Audited; the code itself is not.
pub async fn answer(
    app: &App,
    by: Caller<'_>,
    device: &DeviceRow,
    req: &CodeRequest,
) -> Result<OfflineCode> {
    if !offline_code::ALLOWED_DAYS.contains(&req.days) {
        return Err(Error::invalid("days", "one of 1, 2, 3, 7, 14, 30"));
    }
    let challenge = offline_code::parse_code(&req.challenge)
        .map_err(|_| Error::invalid("challenge", "8 digits"))?;
    if device.released {
        return Err(Error::conflict("released", "this device is released"));
    }
    if device.lender_locked {
        // The phone honours an offline code only against an overdue or offline lock; a
        // lock the lender set stays until the lender lifts it (PROTOCOL §6).
        return Err(Error::conflict(
            "lender-locked",
            "an unlock code cannot lift a lock you set; unlock the device instead",
        ));
    }
    let secret = device
        .offline_secret
        .as_deref()
        .and_then(finlock_core::b64::decode)
        .ok_or_else(|| Error::conflict("not-enrolled", "this device has not enrolled yet"))?;
    let counter = offline_code::find_counter(&secret, challenge, device.offline_counter)
        .ok_or_else(|| Error::invalid("challenge", "is not a current challenge of this device"))?;
    let code = offline_code::response(&secret, counter, req.days)
        .map_err(|e| Error::Internal(format!("offline code: {e}")))?;
    let now = app.now();
    let mut tx = app.db.write.begin().await?;
    let event = AuditEvent::OfflineCodeIssued {
        counter,
        days: req.days,
    };
    audit::append(&mut tx, subject(device), now, by.actor, &event).await?;
    tx.commit().await?;
    Ok(OfflineCode {
        code: offline_code::format_code(code),
        days: req.days,
        counter,
    })
}
