//! Who is calling the lender API: [`AuthLender`] (a valid API key) and
//! [`OwnedDevice`] (that lender's device named in the path — another lender's device
//! is a 404 exactly like a missing one).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::{AppState, PathId};
use crate::db::queries::{self, DeviceRow, LenderRow};
use crate::devices::{self, Caller};
use crate::error::{Error, Result};
use crate::ids;

/// The authenticated lender (`Authorization: Bearer <api key>`).
pub struct AuthLender(pub LenderRow);

impl AuthLender {
    pub fn caller(&self) -> Caller<'_> {
        Caller::lender(&self.0)
    }
}

impl FromRequestParts<AppState> for AuthLender {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<AuthLender> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        if !key.starts_with(ids::API_KEY_PREFIX) || key.len() > 128 {
            return Err(Error::Unauthorized);
        }
        queries::lender_by_key_hash(&st.db.read, &ids::sha256_hex(key.as_bytes()))
            .await?
            .map(AuthLender)
            .ok_or(Error::Unauthorized)
    }
}

/// The authenticated lender's device named by `{id}`.
pub struct OwnedDevice {
    pub lender: LenderRow,
    pub device: DeviceRow,
}

impl OwnedDevice {
    pub fn caller(&self) -> Caller<'_> {
        Caller::lender(&self.lender)
    }
}

impl FromRequestParts<AppState> for OwnedDevice {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<OwnedDevice> {
        let AuthLender(lender) = AuthLender::from_request_parts(parts, st).await?;
        let PathId(id) = PathId::from_request_parts(parts, st).await?;
        let device = devices::owned(st, &lender.lender_id, &id).await?;
        Ok(OwnedDevice { lender, device })
    }
}
