//! The lender console: HTML pages for a lender's staff under `/console/`, served by the same
//! `finlock serve` as the API (issue 16).
//!
//! Why it looks like this:
//! - **Server-rendered HTML** (askama templates in `server/templates/console/`, checked at
//!   compile time, HTML auto-escaping on): no front-end build, nothing to download before the
//!   first page, light pages for shop clerks on phones with scarce data. Every page works
//!   without JavaScript.
//! - **Every word from a catalogue** ([`i18n`], Project Fluent): English, Swahili and Spanish,
//!   like the phone app; the language is the picker's cookie, else `Accept-Language`.
//! - **A strict Content-Security-Policy** on every response ([`CSP`]): no inline script or
//!   style, assets only from here ([`assets`], embedded in the binary, named by content hash
//!   and cached for a year), no framing, forms only to here. Pages are `no-store`.
//! - **Not in the API's route list**: the console is its own router, nested under
//!   [`PREFIX`], so it stays out of `/openapi.json`; its requests are counted under the
//!   one metrics label [`METRICS_LABEL`].
//! - **One domain layer**: a console action calls the same domain operation as the JSON API
//!   and the CLI; this module only renders and reads forms.
//!
//! [`page`] is how a page is drawn ([`page::Chrome`], [`page::render`]); [`i18n::Lang`]
//! is the language extractor; [`login`] the sign-in page; [`auth`] who is signed in
//! ([`auth::StaffAuth`]), what they may do and the CSRF check of every form
//! ([`auth::StaffForm`]).

pub mod account;
pub mod assets;
pub mod auth;
pub mod codes;
pub mod dashboard;
pub mod device;
pub mod devices_list;
pub mod home;
pub mod i18n;
pub mod import;
pub mod invite;
pub mod lock_preview;
pub mod login;
pub mod money_format;
pub mod page;
pub mod sale;
pub mod signout;
pub mod staff_page;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App as AppState;
use i18n::Lang;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// The metrics and access-log route label of every console request (a bounded set: paths
/// with ids never become labels).
pub const METRICS_LABEL: &str = "/console/*";

/// What a console page may load and do: its own stylesheet and script, images from here
/// or `data:` (the provisioning QR), forms only to here; no framing, no `<base>`.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                       img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
                       base-uri 'none'";

/// Whether `path` is the console's (for the metrics label).
pub fn is_console_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/console/")
}

/// `router` with the console added: its routes nested under [`PREFIX`], and `/console/`
/// itself (which a nested router does not match), each with the console's headers.
pub fn mount(router: Router<AppState>) -> Router<AppState> {
    router
        .route(
            "/console/",
            get(home::show).layer(axum::middleware::from_fn(security_headers)),
        )
        .nest(PREFIX, self::router())
}

/// The console's routes, relative to [`PREFIX`].
fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(signout::logout))
        .route("/logout-everywhere", post(signout::logout_everywhere))
        .route("/invite/{token}", get(invite::show).post(invite::accept))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/totp", post(account::begin_totp))
        .route("/account/totp/confirm", post(account::confirm_totp))
        .route("/account/totp/off", post(account::disable_totp))
        .route("/staff", get(staff_page::show))
        .route("/staff/invite", post(staff_page::invite))
        .route("/staff/{id}/role", post(staff_page::change_role))
        .route("/staff/{id}/disable", post(staff_page::disable))
        .route("/staff/{id}/enable", post(staff_page::enable))
        .route(
            "/staff/{id}/reset-password",
            post(staff_page::reset_password),
        )
        .route("/staff/{id}/reinvite", post(staff_page::reinvite))
        .route(
            "/staff/{id}/logout-everywhere",
            post(staff_page::end_sessions),
        )
        .route("/staff/{id}/totp-off", post(staff_page::totp_off))
        .route("/staff/keys", post(staff_page::create_key))
        .route("/staff/keys/{id}/revoke", post(staff_page::revoke_key))
        .route("/devices", get(devices_list::show))
        .route("/devices.csv", get(devices_list::export))
        .route("/devices/{id}", get(device::show))
        .route("/devices/{id}/payments", post(device::record_payment))
        .route(
            "/devices/{id}/payments/{pid}/void",
            post(device::void_payment),
        )
        .route("/devices/{id}/lock", post(device::lock))
        .route("/devices/{id}/unlock", post(device::unlock))
        .route("/devices/{id}/extend", post(device::extend))
        .route("/devices/{id}/release", post(device::release))
        .route("/devices/{id}/customer-ref", post(device::set_customer_ref))
        .route("/sales/new", get(sale::show).post(sale::submit))
        .route("/sales/{id}", get(sale::done))
        .route("/codes", get(codes::show).post(codes::submit))
        .route(
            "/import",
            get(import::show)
                .post(import::submit)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_FORM)),
        )
        .route("/lang", post(set_language))
        .route("/assets/{name}", get(asset))
        .fallback(unknown)
        .layer(axum::middleware::from_fn(security_headers))
}

/// Adds the security headers to every console response, and `no-store` to any that does
/// not say how to cache itself (pages; assets say `immutable`).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// `GET /console/assets/NAME`: an embedded file, or the console's 404 page.
async fn asset(lang: Lang, Path(name): Path<String>) -> Response {
    assets::serve(&name).unwrap_or_else(|| page::not_found(lang))
}

/// Any other console path: a signed-in member of staff gets [`page::not_found`], anyone
/// else the sign-in page.
async fn unknown(
    axum::extract::State(st): axum::extract::State<AppState>,
    lang: Lang,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    match auth::session_of(&parts, &st).await {
        Ok(Some(_)) => page::not_found(lang),
        Ok(None) => see_other(login::PATH),
        Err(e) => {
            tracing::error!(error = %e, "console session lookup failed");
            page::server_error(lang)
        }
    }
}

/// 303 to a path of ours.
pub fn see_other(path: &str) -> Response {
    match HeaderValue::from_str(path) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => (
            StatusCode::SEE_OTHER,
            [(LOCATION, HeaderValue::from_static("/console/"))],
        )
            .into_response(),
    }
}

/// The language picker's form.
#[derive(serde::Deserialize)]
struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/lang`: sets the `lang` cookie for a year and goes back to the page the
/// picker was on. It changes nothing stored and needs no session (the sign-in page has
/// the picker too); a form another website makes the browser send is refused, and `next`
/// can only lead back into the console (never an open redirect).
async fn set_language(lang: Lang, req: Request) -> Response {
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return page::cross_site(lang);
    }
    let Ok(axum::Form(form)) =
        <axum::Form<LanguageForm> as axum::extract::FromRequest<()>>::from_request(req, &()).await
    else {
        return page::bad_request(lang);
    };
    let Some(chosen) = Lang::from_tag(&form.lang).filter(|l| l.code() == form.lang) else {
        return page::bad_request(lang);
    };
    let mut response = see_other(safe_next(&form.next));
    let cookie = format!(
        "{}={}; Path={PREFIX}; Max-Age=31536000; SameSite=Strict; HttpOnly",
        i18n::COOKIE_NAME,
        chosen.code()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// `next` if it is a console path (no scheme, no host, no `//` or `\` tricks, printable
/// ASCII), else the console's start: for every "go back to where you were" (the language
/// picker; sign-in).
pub fn safe_next(next: &str) -> &str {
    let inside = next == PREFIX || next.starts_with("/console/");
    let plain = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !next.contains("//")
        && !next.contains("/..")
        && next.len() <= 512;
    if inside && plain { next } else { "/console/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_get_back() {
        assert_eq!(
            safe_next("/console/devices?page=2"),
            "/console/devices?page=2"
        );
        assert_eq!(safe_next("/console"), "/console");
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/console//evil.example",
            "/console/\\evil",
            "/consoleevil",
            "/console/../v1/devices",
            "/console/\r\nSet-Cookie: a=b",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(evil), "/console/", "{evil:?}");
        }
    }

    #[test]
    fn console_paths_share_one_label() {
        assert!(is_console_path("/console"));
        assert!(is_console_path("/console/devices/dev-1"));
        assert!(!is_console_path("/consoles"));
        assert!(!is_console_path("/v1/devices"));
    }
}
