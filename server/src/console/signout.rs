//! Signing out: this browser (`POST /console/logout`) or every session of the account
//! (`POST /console/logout-everywhere`, e.g. after a phone was lost). Both are forms with the
//! session's CSRF token, so another website cannot sign anyone out.

use axum::extract::State;
use axum::response::Response;

use super::auth::{self, NoFields, StaffForm};
use super::{login, page};
use crate::app::App as AppState;
use crate::staff;

/// `POST /console/logout`
pub async fn logout(State(st): State<AppState>, form: StaffForm<NoFields>) -> Response {
    let auth = form.auth;
    if let Err(e) = staff::logout(&st.db, auth.token()).await {
        tracing::error!(error = %e, "console sign-out failed");
        return page::server_error(auth.lang);
    }
    signed_out(&st)
}

/// `POST /console/logout-everywhere`: every session of the account ends, this one too.
pub async fn logout_everywhere(State(st): State<AppState>, form: StaffForm<NoFields>) -> Response {
    let auth = form.auth;
    let own = auth.staff_id().to_string();
    if let Err(e) = staff::logout_everywhere(&st.db, auth.by(), &own, st.now()).await {
        tracing::error!(error = %e, "console sign-out everywhere failed");
        return page::server_error(auth.lang);
    }
    signed_out(&st)
}

/// To the sign-in page, the cookie removed.
fn signed_out(st: &AppState) -> Response {
    let mut response = super::see_other(login::PATH);
    auth::end_session(&mut response, st);
    response
}
