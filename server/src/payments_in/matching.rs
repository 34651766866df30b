//! Which of the lender's devices an account reference names: its device id, or else a
//! customer reference (compared without regard to case: payers type it on a phone keypad)
//! held by exactly one of its devices, or by exactly one not yet released. Another
//! lender's device reads like a missing one.

use sqlx::Row;

use crate::app::App;
use crate::db::queries::DeviceRow;
use crate::devices;
use crate::error::{Error, Result};

/// What an account reference names.
#[derive(Debug)]
pub enum Match {
    Device(Box<DeviceRow>),
    /// No device of this lender (or nothing given).
    Unknown,
    /// Several devices share this customer reference.
    Ambiguous,
}

/// Finds the device (completing windows that have passed are settled first, like every
/// operation's read: [`devices::owned`]).
pub async fn find(app: &App, lender_id: &str, reference: &str) -> Result<Match> {
    if reference.is_empty() {
        return Ok(Match::Unknown);
    }
    if finlock_core::protocol::is_valid_id(reference) {
        match devices::owned(app, lender_id, reference).await {
            Ok(row) => return Ok(Match::Device(Box::new(row))),
            Err(Error::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    let rows = sqlx::query(
        "SELECT device_id, released FROM devices WHERE lender_id = $1 \
         AND UPPER(customer_ref) = UPPER($2) ORDER BY device_id LIMIT 8",
    )
    .bind(lender_id)
    .bind(reference)
    .fetch_all(&app.db.read)
    .await?;
    let mut all = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("device_id")?;
        let released: i64 = r.try_get("released")?;
        all.push((id, released != 0));
    }
    let open: Vec<&String> = all.iter().filter(|d| !d.1).map(|d| &d.0).collect();
    let chosen = match (all.as_slice(), open.as_slice()) {
        ([], _) => return Ok(Match::Unknown),
        ([only], _) => &only.0,
        (_, [one]) => *one,
        _ => return Ok(Match::Ambiguous),
    };
    match devices::owned(app, lender_id, chosen).await {
        Ok(row) => Ok(Match::Device(Box::new(row))),
        Err(Error::NotFound) => Ok(Match::Unknown),
        Err(e) => Err(e),
    }
}
