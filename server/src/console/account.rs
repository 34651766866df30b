//! `/console/account`: one's own account — name, email and role; changing the password
//! (it needs the current one, and ends the other sessions); the authenticator-app second
//! factor (set up by scanning a QR code and confirming a code; turned off with a code);
//! signing out everywhere.
//!
//! After a change the browser is sent back to the page with `?done=<what>` (one of a
//! closed list of message ids), so reloading never sends a form twice. The TOTP secret is
//! shown only in the answer to "set up", never stored in a page or a URL.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{NoFields, StaffAuth, StaffForm, percent_encode};
use super::page::{self, Chrome};
use crate::app::App as AppState;
use crate::error::Error;
use crate::staff::{self, StaffError};

/// The account page.
pub const PATH: &str = "/console/account";

/// What `?done=` may announce on the account page.
const NOTICES: [&str; 3] = [
    "account-password-changed",
    "account-totp-enabled",
    "account-totp-disabled",
];

/// The account page.
#[derive(Template)]
#[template(path = "console/account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub name: String,
    pub email: String,
    /// Message id of the role's name.
    pub role_id: &'static str,
    pub totp_enabled: bool,
    /// What was just done (message id).
    pub notice_id: Option<&'static str>,
    /// Why the last form failed (translated text).
    pub error: Option<String>,
    pub csrf: String,
}

/// The second factor's set-up page.
#[derive(Template)]
#[template(path = "console/totp_setup.html")]
pub struct TotpSetupPage {
    pub chrome: Chrome,
    /// (QR image as a `data:` URI, the key in base32, the `otpauth://` URI), the long
    /// texts in [`breakable`] pieces; `None` after a wrong code (the pending key stays: the
    /// app has it already).
    pub setup: Option<(String, Vec<String>, Vec<String>)>,
    pub error: Option<String>,
    pub csrf: String,
}

/// The message id of a role's name.
pub fn role_id(role: staff::Role) -> &'static str {
    match role {
        staff::Role::Owner => "role-owner",
        staff::Role::Agent => "role-agent",
        staff::Role::Viewer => "role-viewer",
    }
}

fn account_page(
    auth: &StaffAuth,
    notice_id: Option<&'static str>,
    error: Option<String>,
) -> AccountPage {
    let staff = &auth.session.staff;
    AccountPage {
        chrome: auth.chrome("account-title", PATH, None),
        name: staff.name.clone(),
        email: staff.email.clone(),
        role_id: role_id(staff.role),
        totp_enabled: staff.totp_enabled,
        notice_id,
        error,
        csrf: auth.csrf().to_string(),
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /console/account`
pub async fn show(
    auth: StaffAuth,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let done = done.map(|q| q.0.done).unwrap_or_default();
    let notice = NOTICES.into_iter().find(|n| *n == done);
    page::render(StatusCode::OK, &account_page(&auth, notice, None))
}

/// The account page again with `error_id`'s text (or the throttle's wait) and `status`.
fn refused(auth: &StaffAuth, e: StaffError) -> Response {
    let lang = auth.lang;
    let (status, text) = match e {
        StaffError::BadCredentials => (StatusCode::UNAUTHORIZED, lang.tr("account-password-wrong")),
        StaffError::BadSecondFactor | StaffError::SecondFactorRequired => {
            (StatusCode::UNAUTHORIZED, lang.tr("login-bad-code"))
        }
        StaffError::Throttled { retry_after_s } => (
            StatusCode::TOO_MANY_REQUESTS,
            super::login::throttled(lang, retry_after_s),
        ),
        StaffError::Other(Error::Invalid { field, rule }) if field == "password" => {
            let id = if rule.starts_with("not the current") {
                "password-same"
            } else {
                "password-policy"
            };
            (StatusCode::UNPROCESSABLE_ENTITY, lang.tr(id))
        }
        StaffError::Other(Error::Conflict { .. }) => {
            (StatusCode::CONFLICT, lang.tr("account-changed-meanwhile"))
        }
        other => {
            tracing::error!(error = %other, "console account change failed");
            return page::server_error(lang);
        }
    };
    page::render(status, &account_page(auth, None, Some(text)))
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /console/account/password`
pub async fn change_password(
    State(st): State<AppState>,
    form: StaffForm<PasswordForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    if form.new != form.confirm {
        let text = auth.lang.tr("password-mismatch");
        return page::render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &account_page(&auth, None, Some(text)),
        );
    }
    let changed = staff::change_password(
        &st.db,
        auth.token(),
        &form.current,
        &form.new,
        auth.address.as_deref(),
        st.now(),
    )
    .await;
    match changed {
        Ok(_) => done("account-password-changed"),
        Err(e) => refused(&auth, e),
    }
}

fn done(notice: &str) -> Response {
    super::see_other(&format!("{PATH}?done={}", percent_encode(notice)))
}

/// The QR code of `uri` as a `data:` URI (a PNG; the CSP allows `data:` images).
fn qr_data_uri(uri: &str) -> crate::Result<String> {
    crate::provisioning::png_data_uri(uri)
}

/// `POST /console/account/totp`: a new pending key, shown as a QR code and as text.
pub async fn begin_totp(State(st): State<AppState>, form: StaffForm<NoFields>) -> Response {
    let auth = form.auth;
    let setup = match staff::begin_totp(&st.db, &auth.session).await {
        Ok(setup) => setup,
        Err(StaffError::Other(Error::Conflict { .. })) => {
            // On already (another tab): the account page says so.
            return super::see_other(PATH);
        }
        Err(e) => return refused(&auth, e),
    };
    let qr = match qr_data_uri(&setup.otpauth_uri) {
        Ok(qr) => qr,
        Err(e) => {
            tracing::error!(error = %e, "TOTP QR code failed");
            return page::server_error(auth.lang);
        }
    };
    let page = TotpSetupPage {
        chrome: auth.chrome("account-totp-setup-title", PATH, None),
        setup: Some((
            qr,
            key_groups(&setup.secret_base32),
            breakable(&setup.otpauth_uri),
        )),
        error: None,
        csrf: auth.csrf().to_string(),
    };
    page::render(StatusCode::OK, &page)
}

/// A form with a one-time code.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /console/account/totp/confirm`
pub async fn confirm_totp(State(st): State<AppState>, form: StaffForm<CodeForm>) -> Response {
    let StaffForm { auth, form } = form;
    match staff::confirm_totp(&st.db, &auth.session, form.code.trim(), st.now()).await {
        Ok(()) => done("account-totp-enabled"),
        Err(StaffError::BadSecondFactor) => {
            let page = TotpSetupPage {
                chrome: auth.chrome("account-totp-setup-title", PATH, None),
                setup: None,
                error: Some(auth.lang.tr("login-bad-code")),
                csrf: auth.csrf().to_string(),
            };
            page::render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => refused(&auth, e),
    }
}

/// `POST /console/account/totp/off`: with a current code.
pub async fn disable_totp(State(st): State<AppState>, form: StaffForm<CodeForm>) -> Response {
    let StaffForm { auth, form } = form;
    let own = auth.staff_id().to_string();
    let code = form.code.trim();
    let code = (!code.is_empty()).then_some(code);
    match staff::disable_totp(&st.db, auth.by(), &own, code, st.now()).await {
        Ok(()) => done("account-totp-disabled"),
        Err(e) => refused(&auth, e),
    }
}

/// A long unspaced text (a key, a link) in pieces of 16 characters, so a page can let it
/// wrap between them (`<wbr>`) on a 360 px phone; copying it still gives the whole.
pub fn breakable(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(16).map(|c| c.iter().collect()).collect()
}

/// A key to type by hand in groups of four (`42EP MFDF …`; authenticator apps ignore the
/// spaces).
pub fn key_groups(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    let last = groups.len().saturating_sub(1);
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| if i < last { g + " " } else { g })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_a_png_data_uri_without_quotes_or_angle_brackets() {
        let uri =
            qr_data_uri("otpauth://totp/Acme:ann%40shop.example?secret=ABC&issuer=Acme").unwrap();
        assert!(uri.starts_with("data:image/png;base64,"), "{uri}");
        assert!(!uri.contains(['"', '<', '>', '#', ' ']), "{uri}");
    }

    #[test]
    fn long_texts_break_into_pieces_that_join_to_the_whole() {
        let text = "otpauth://totp/é".repeat(5);
        let pieces = breakable(&text);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.iter().all(|p| p.chars().count() <= 16));
        assert!(breakable("").is_empty());
    }

    #[test]
    fn a_key_is_shown_in_groups_of_four() {
        assert_eq!(key_groups("ABCDEFGHIJ").concat(), "ABCD EFGH IJ");
        assert_eq!(key_groups("ABCD").concat(), "ABCD");
        assert!(key_groups("").is_empty());
    }
}
