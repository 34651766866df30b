//! Signing in: the page (`GET /console/login`) and its form (`POST /console/login`):
//! email, password and, for an account with a second factor, the one-time code.
//!
//! The form carries its own CSRF token ([`staff::sessions::login_form_cookie`]): a cookie set with the
//! page and a hidden field derived from it, so another website cannot sign a browser in to
//! an account of its choosing. A wrong email and a wrong password get the same answer;
//! too many failures get the wait; success leads to `next` when that is a console path.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{self, LOGIN_FORM_COOKIE};
use super::i18n::{self, Lang};
use super::page::{self, Chrome};
use crate::app::App as AppState;
use crate::staff::{self, LoginAttempt, StaffError};

/// Where the sign-in form lives and posts.
pub const PATH: &str = "/console/login";

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    /// The email to fill in again after a failed attempt ("" at first).
    pub email: String,
    /// Why the last attempt failed, as a message id (`login-failed`, `login-throttled`).
    pub error_id: Option<&'static str>,
    /// Why the last attempt failed, as text (a message with a variable: the wait).
    pub alert: Option<String>,
    /// The form token, once the staff domain gives the sign-in form one.
    pub csrf: Option<String>,
    /// Where to go after signing in (a console path; "" for the start page).
    pub next: String,
}

impl LoginPage {
    /// The empty form.
    pub fn new(lang: Lang) -> LoginPage {
        LoginPage {
            chrome: Chrome::public(lang, "login-title", PATH),
            email: String::new(),
            error_id: None,
            alert: None,
            csrf: None,
            next: String::new(),
        }
    }
}

/// The sign-in form's cookie of this request if it is one we made, else a new one: the
/// cookie's value and whether it must be set.
pub(crate) fn form_cookie(parts: &axum::http::request::Parts) -> Option<(String, bool)> {
    if let Some(existing) = i18n::cookie(parts, LOGIN_FORM_COOKIE)
        && existing.starts_with(staff::sessions::LOGIN_FORM_PREFIX)
        && existing.len() <= 128
    {
        return Some((existing.to_string(), false));
    }
    staff::sessions::login_form_cookie().ok().map(|c| (c, true))
}

/// Renders `page` with a sign-in form token (and its cookie when it is new).
pub(crate) fn with_form_token<P: Template>(
    st: &AppState,
    lang: Lang,
    status: StatusCode,
    parts: &axum::http::request::Parts,
    fill: impl FnOnce(String) -> P,
) -> Response {
    let Some((cookie, new)) = form_cookie(parts) else {
        return page::server_error(lang);
    };
    let mut response = page::render(status, &fill(staff::sessions::login_form_token(&cookie)));
    if new {
        let header = auth::cookie_header(
            LOGIN_FORM_COOKIE,
            &cookie,
            Some(3600),
            auth::secure_cookies(st),
        );
        auth::set_cookie(&mut response, &header);
    }
    response
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The `next` a form or query names, kept only when it is a console path.
fn kept_next(next: &str) -> String {
    let safe = super::safe_next(next);
    if safe == next {
        safe.to_string()
    } else {
        String::new()
    }
}

/// `GET /console/login`: the form; someone signed in already goes on to `next`.
pub async fn show(State(st): State<AppState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    let Ok(lang) = Lang::from_request_parts(&mut parts, &st).await;
    let next = Query::<NextQuery>::from_request_parts(&mut parts, &st)
        .await
        .map(|q| q.0.next)
        .unwrap_or_default();
    if let Ok(Some(_)) = auth::session_of(&parts, &st).await {
        return super::see_other(super::safe_next(&next));
    }
    let next = kept_next(&next);
    with_form_token(&st, lang, StatusCode::OK, &parts, |csrf| LoginPage {
        csrf: Some(csrf),
        next,
        ..LoginPage::new(lang)
    })
}

/// What the sign-in form sends.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/login`.
pub async fn submit(State(st): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(lang) = Lang::from_request_parts(&mut parts, &st).await;
    if auth::cross_site(&parts) {
        return page::cross_site(lang);
    }
    let address = auth::client_address(&mut parts, &st).await;
    let Ok(bytes) = Bytes::from_request(Request::new(body), &st).await else {
        return page::bad_request(lang);
    };
    let Some(form) = auth::parse_form::<LoginForm>(bytes).await else {
        return page::bad_request(lang);
    };
    let next = kept_next(&form.next);
    let email = form.email.trim().chars().take(254).collect::<String>();
    let again = |status: StatusCode, error_id: Option<&'static str>, alert: Option<String>| {
        let email = email.clone();
        let next = next.clone();
        with_form_token(&st, lang, status, &parts, move |csrf| LoginPage {
            email,
            error_id,
            alert,
            csrf: Some(csrf),
            next,
            ..LoginPage::new(lang)
        })
    };
    let form_ok = i18n::cookie(&parts, LOGIN_FORM_COOKIE)
        .is_some_and(|cookie| staff::sessions::login_form_valid(cookie, &form.csrf));
    if !form_ok {
        // Nothing is checked: the page is drawn again with a fresh token.
        return again(StatusCode::FORBIDDEN, Some("login-form-expired"), None);
    }
    let otp = form.otp.trim();
    let attempt = LoginAttempt {
        email: &form.email,
        password: &form.password,
        totp_code: (!otp.is_empty()).then_some(otp),
        address: address.as_deref(),
    };
    match staff::login(&st.db, &attempt, st.now()).await {
        Ok(logged_in) => {
            let mut response = super::see_other(super::safe_next(&next));
            auth::start_session(&mut response, &st, &logged_in.session);
            let gone =
                auth::cookie_header(LOGIN_FORM_COOKIE, "", Some(0), auth::secure_cookies(&st));
            auth::set_cookie(&mut response, &gone);
            response
        }
        Err(StaffError::BadCredentials) => {
            again(StatusCode::UNAUTHORIZED, Some("login-failed"), None)
        }
        Err(StaffError::SecondFactorRequired) => {
            again(StatusCode::OK, Some("login-second-factor"), None)
        }
        Err(StaffError::BadSecondFactor) => {
            again(StatusCode::UNAUTHORIZED, Some("login-bad-code"), None)
        }
        Err(StaffError::Disabled) => again(StatusCode::FORBIDDEN, Some("login-disabled"), None),
        Err(StaffError::Throttled { retry_after_s }) => {
            let text = throttled(lang, retry_after_s);
            again(StatusCode::TOO_MANY_REQUESTS, None, Some(text))
        }
        Err(e) => {
            tracing::error!(error = %e, "console sign-in failed");
            page::server_error(lang)
        }
    }
}

/// "Try again in N minutes" (rounded up, at least 1).
pub fn throttled(lang: Lang, retry_after_s: u64) -> String {
    let minutes = retry_after_s.div_ceil(60).max(1).to_string();
    lang.tr_args("login-throttled-wait", &[("minutes", &minutes)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_label_and_the_form_posts_here() {
        let html = LoginPage::new(Lang::En).render().unwrap();
        for id in ["email", "password", "otp", "lang-picker"] {
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "{id}: {html}"
            );
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(html.contains(&format!("action=\"{PATH}\"")), "{html}");
        assert!(html.contains("autocomplete=\"current-password\""), "{html}");
        assert!(html.contains("autocomplete=\"one-time-code\""), "{html}");
    }

    #[test]
    fn a_failed_attempt_says_why_and_keeps_the_email_escaped() {
        let page = LoginPage {
            email: "a\"><script>x@y.z".into(),
            error_id: Some("login-throttled"),
            ..LoginPage::new(Lang::Es)
        };
        let html = page.render().unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains(&Lang::Es.tr("login-throttled")), "{html}");
        assert!(!html.contains("<script>x"), "{html}");
    }

    #[test]
    fn no_english_on_a_translated_page() {
        let english = LoginPage::new(Lang::En).render().unwrap();
        let swahili = LoginPage::new(Lang::Sw).render().unwrap();
        for id in [
            "login-title",
            "login-email",
            "login-password",
            "login-submit",
        ] {
            assert!(english.contains(&Lang::En.tr(id)), "{id}");
            assert!(swahili.contains(&Lang::Sw.tr(id)), "{id}");
        }
        assert!(!swahili.contains("Password") && !swahili.contains("Sign in"));
    }
}
