//! Who is calling the lender API: [`AuthLender`] (a valid API key) and
//! [`OwnedDevice`] (that lender's device named in the path — another lender's device
//! is a 404 exactly like a missing one).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::{AppState, PathId};
use crate::api_keys::{self, KeyRef};
use crate::db::queries::{DeviceRow, LenderRow};
use crate::devices::{self, Caller};
use crate::error::{Error, Result};

/// The authenticated lender (`Authorization: Bearer <api key>`) and the key it used.
pub struct AuthLender {
    pub lender: LenderRow,
    pub key: KeyRef,
}

impl AuthLender {
    pub fn caller(&self) -> Caller<'_> {
        Caller::lender(&self.lender, Some(&self.key.key_id))
    }

    /// How the key appears as the author of API-key changes.
    pub fn by(&self) -> String {
        format!("key:{}", self.key.key_id)
    }
}

/// The credential of `Authorization: Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110 §11.1).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for AuthLender {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<AuthLender> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or(Error::Unauthorized)?;
        let (lender, key) = api_keys::authenticate(&st.db, secret)
            .await?
            .ok_or(Error::Unauthorized)?;
        Ok(AuthLender { lender, key })
    }
}

/// The authenticated lender's device named by `{id}`.
pub struct OwnedDevice {
    pub auth: AuthLender,
    pub device: DeviceRow,
}

impl OwnedDevice {
    pub fn caller(&self) -> Caller<'_> {
        self.auth.caller()
    }

    pub fn lender(&self) -> &LenderRow {
        &self.auth.lender
    }
}

impl FromRequestParts<AppState> for OwnedDevice {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<OwnedDevice> {
        let auth = AuthLender::from_request_parts(parts, st).await?;
        let PathId(id) = PathId::from_request_parts(parts, st).await?;
        let device = devices::owned(st, &auth.lender.lender_id, &id).await?;
        Ok(OwnedDevice { auth, device })
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in [
            "Bearer flk_x",
            "bearer flk_x",
            "BEARER  flk_x ",
            " Bearer flk_x",
        ] {
            assert_eq!(bearer_token(header), Some("flk_x"), "{header:?}");
        }
        for header in ["Basic flk_x", "Bearer", "Bearer ", "Bearerflk_x", "flk_x"] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
