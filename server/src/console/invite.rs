//! `/console/invite/{token}`: an invitation (or password-reset) link — the invited member of
//! staff chooses a password (and gives a current code when the account keeps its second
//! factor) and is signed in. A link works once and for 72 hours; a used, expired or
//! unknown one gets one answer.
//!
//! The form carries the sign-in form's CSRF token (a cookie of its own and a derived field):
//! another website cannot make a browser accept an invitation it holds.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{self, LOGIN_FORM_COOKIE};
use super::i18n::{self, Lang};
use super::login;
use super::page::{self, Chrome};
use crate::app::App as AppState;
use crate::error::Error;
use crate::staff::{self, InvitationView, StaffError};

/// The invitation page.
#[derive(Template)]
#[template(path = "console/invite.html")]
pub struct InvitePage {
    pub chrome: Chrome,
    /// "Amina, you were invited to the console of Acme …".
    pub intro: String,
    /// The form's own path (the token is part of it).
    pub action: String,
    /// Whether the account keeps a second factor (the form asks for its code).
    pub needs_code: bool,
    pub error: Option<String>,
    pub csrf: String,
}

fn invite_page(
    lang: Lang,
    token: &str,
    view: &InvitationView,
    error: Option<String>,
    csrf: String,
) -> InvitePage {
    let action = format!("/console/invite/{}", auth::percent_encode(token));
    let intro = lang.tr_args(
        "invite-intro",
        &[
            ("name", &view.staff.name),
            ("lender", &view.lender_name),
            ("email", &view.staff.email),
        ],
    );
    InvitePage {
        chrome: Chrome::public(lang, "invite-title", action.clone()),
        intro,
        action,
        needs_code: view.staff.totp_enabled,
        error,
        csrf,
    }
}

/// The page for a link that cannot be used (404: it tells nothing of why).
fn invalid(lang: Lang) -> Response {
    let page = page::MessagePage {
        chrome: Chrome::public(lang, "invite-invalid-title", "/console/"),
        body_id: "invite-invalid-body",
        link: Some((login::PATH, "invite-to-login")),
    };
    page::render(StatusCode::NOT_FOUND, &page)
}

/// `GET /console/invite/{token}`
pub async fn show(State(st): State<AppState>, Path(token): Path<String>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    let Ok(lang) = Lang::from_request_parts(&mut parts, &st).await;
    let view = match staff::invitation(&st.db, &token, st.now()).await {
        Ok(view) => view,
        Err(StaffError::InvitationInvalid) => return invalid(lang),
        Err(e) => {
            tracing::error!(error = %e, "console invitation lookup failed");
            return page::server_error(lang);
        }
    };
    login::with_form_token(&st, lang, StatusCode::OK, &parts, |csrf| {
        invite_page(lang, &token, &view, None, csrf)
    })
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/invite/{token}`
pub async fn accept(
    State(st): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(lang) = Lang::from_request_parts(&mut parts, &st).await;
    if auth::cross_site(&parts) {
        return page::cross_site(lang);
    }
    let address = auth::client_address(&mut parts, &st).await;
    let Ok(bytes) = Bytes::from_request(Request::new(body), &st).await else {
        return page::bad_request(lang);
    };
    let Some(form) = auth::parse_form::<AcceptForm>(bytes).await else {
        return page::bad_request(lang);
    };
    let now = st.now();
    let view = match staff::invitation(&st.db, &token, now).await {
        Ok(view) => view,
        Err(StaffError::InvitationInvalid) => return invalid(lang),
        Err(e) => {
            tracing::error!(error = %e, "console invitation lookup failed");
            return page::server_error(lang);
        }
    };
    let again = |status: StatusCode, text: String| {
        login::with_form_token(&st, lang, status, &parts, |csrf| {
            invite_page(lang, &token, &view, Some(text), csrf)
        })
    };
    let form_ok = i18n::cookie(&parts, LOGIN_FORM_COOKIE)
        .is_some_and(|cookie| staff::sessions::login_form_valid(cookie, &form.csrf));
    if !form_ok {
        return again(StatusCode::FORBIDDEN, lang.tr("login-form-expired"));
    }
    if form.password != form.confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.tr("password-mismatch"),
        );
    }
    let otp = form.otp.trim();
    let accepted = staff::accept_invitation(
        &st.db,
        &token,
        &form.password,
        (!otp.is_empty()).then_some(otp),
        address.as_deref(),
        now,
    )
    .await;
    match accepted {
        Ok(logged_in) => {
            let mut response = super::see_other("/console/");
            auth::start_session(&mut response, &st, &logged_in.session);
            response
        }
        Err(StaffError::InvitationInvalid) => invalid(lang),
        Err(StaffError::Other(Error::Invalid { field, .. })) if field == "password" => {
            again(StatusCode::UNPROCESSABLE_ENTITY, lang.tr("password-policy"))
        }
        Err(StaffError::SecondFactorRequired | StaffError::BadSecondFactor) => {
            again(StatusCode::UNAUTHORIZED, lang.tr("login-bad-code"))
        }
        Err(StaffError::Throttled { retry_after_s }) => again(
            StatusCode::TOO_MANY_REQUESTS,
            login::throttled(lang, retry_after_s),
        ),
        Err(e) => {
            tracing::error!(error = %e, "console invitation acceptance failed");
            page::server_error(lang)
        }
    }
}
