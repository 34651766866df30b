//! Who is signed in to the console, what they may do, and that a form is really theirs.
//!
//! A console handler takes one of two extractors:
//!
//! - [`StaffAuth`] for a page (`GET`): the session of the `finlock_session` cookie, looked
//!   up in the database on every request (a logout, a disabled account or a changed role
//!   applies on every node at once). Without a session a `GET` is sent to sign in and
//!   comes back afterwards (`?next=`); any other method is refused with 403.
//! - [`StaffForm<T>`] for a state-changing `POST`: the same session, then the form's hidden
//!   `csrf` field checked against the session ([`staff::csrf_valid`]) *before* the rest of
//!   the form is even read, then the form as `T`. A missing or wrong token, or a post another
//!   website made the browser send, is a 403 and the handler never runs: nothing changes.
//!
//! A permission is checked with [`StaffAuth::require`], which answers the console's 403 page
//! (the domain operation checks the same rule again, so a forged post is refused twice):
//!
//! ```ignore
//! async fn revoke(form: StaffForm<RevokeForm>) -> Response {
//!     let StaffForm { auth, form } = form;
//!     if let Err(refused) = auth.require(Permission::ManageApiKeys) {
//!         return refused;
//!     }
//!     // … the domain operation with auth.by() / auth.session.caller() …
//! }
//! ```
//!
//! The session cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
//! page sends it), `Path=/console` (the API never sees it) and `Secure` when the server's
//! public URL is https.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::i18n::{self, Lang};
use super::page::{self, Chrome, Section};
use super::{PREFIX, login};
use crate::app::App as AppState;
use crate::http::ClientAddr;
use crate::staff::{self, By, Permission, StaffSession};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "finlock_session";

/// The sign-in form's own CSRF cookie (before any session; [`staff::sessions::login_form_cookie`]).
pub const LOGIN_FORM_COOKIE: &str = "finlock_login_form";

/// The signed-in member of staff of a console request.
pub struct StaffAuth {
    /// Who, for which lender, with the session's CSRF token.
    pub session: StaffSession,
    /// The page's language.
    pub lang: Lang,
    /// The client's address (throttling, the session list).
    pub address: Option<String>,
    /// The cookie's session token (logout, password change); never shown.
    token: String,
}

impl StaffAuth {
    /// The session token of the cookie (for [`staff::logout`] and
    /// [`staff::change_password`]).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The acting staff member, for the staff domain's operations.
    pub fn by(&self) -> By<'_> {
        By::staff(&self.session)
    }

    /// The staff member's id.
    pub fn staff_id(&self) -> &str {
        &self.session.staff.staff_id
    }

    /// The CSRF token every form of this session carries (hidden field `csrf`).
    pub fn csrf(&self) -> &str {
        &self.session.csrf
    }

    /// Whether the role grants `permission` (to show or hide a form).
    pub fn may(&self, permission: Permission) -> bool {
        self.session.may(permission)
    }

    /// `Err(403 page)` unless the role grants `permission`.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, permission: Permission) -> Result<(), Response> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(self.not_allowed())
        }
    }

    /// The console's 403 "not allowed for your role" page, with the signed-in header and
    /// menu (so the way on is one click).
    pub fn not_allowed(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            "not-allowed-title",
            "not-allowed-body",
        )
    }

    /// The console's 404 page with the signed-in header and menu: the same for "no such
    /// thing" and "another lender's".
    pub fn not_found(&self) -> Response {
        self.message(StatusCode::NOT_FOUND, "not-found-title", "not-found-body")
    }

    fn message(
        &self,
        status: StatusCode,
        title_id: &'static str,
        body_id: &'static str,
    ) -> Response {
        let page = page::MessagePage {
            chrome: self.chrome(title_id, "/console/", None),
            body_id,
            link: Some((Section::Dashboard.href(), "not-found-home")),
        };
        page::render(status, &page)
    }

    /// The header's view of who is signed in.
    pub fn header(&self) -> page::Staff {
        page::Staff {
            staff_name: self.session.staff.name.clone(),
            lender_name: self.session.lender.name.clone(),
            csrf: self.session.csrf.clone(),
        }
    }

    /// The layout of a signed-in page.
    pub fn chrome(
        &self,
        title_id: &'static str,
        path: impl Into<String>,
        section: Option<Section>,
    ) -> Chrome {
        Chrome::signed_in(self.lang, title_id, path, self.header(), section)
    }
}

/// What a request without a session gets: a page view is sent to sign in (and brought
/// back to where it was), anything else is refused and changes nothing.
fn not_signed_in(parts: &Parts, lang: Lang) -> Response {
    if parts.method == Method::GET || parts.method == Method::HEAD {
        // The path as the browser asked for it (a nested router's own URI lacks /console).
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let here = uri
            .path_and_query()
            .map_or(PREFIX, |pq| pq.as_str())
            .to_string();
        super::see_other(&login_path_back_to(&here))
    } else {
        page::form_expired(lang)
    }
}

/// The sign-in page that leads back to `next` (plain when `next` is the start page).
pub fn login_path_back_to(next: &str) -> String {
    let next = super::safe_next(next);
    if next == "/console/" || next == PREFIX {
        login::PATH.to_string()
    } else {
        format!("{}?next={}", login::PATH, percent_encode(next))
    }
}

/// `s` with every byte but unreserved ones percent-encoded (a query value).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The session of the request's cookie, if any.
pub async fn session_of(
    parts: &Parts,
    st: &AppState,
) -> Result<Option<(StaffSession, String)>, crate::Error> {
    let Some(token) = i18n::cookie(parts, SESSION_COOKIE) else {
        return Ok(None);
    };
    let found = staff::session(&st.db, token, st.now()).await?;
    Ok(found.map(|s| (s, token.to_string())))
}

/// The client's address as the API resolves it (`--trust-forwarded-for` included).
pub async fn client_address(parts: &mut Parts, st: &AppState) -> Option<String> {
    ClientAddr::from_request_parts(parts, st)
        .await
        .ok()
        .and_then(|ClientAddr(a)| a)
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<StaffAuth, Response> {
        let Ok(lang) = Lang::from_request_parts(parts, st).await;
        let (session, token) = match session_of(parts, st).await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(not_signed_in(parts, lang)),
            Err(e) => {
                tracing::error!(error = %e, "console session lookup failed");
                return Err(page::server_error(lang));
            }
        };
        let address = client_address(parts, st).await;
        Ok(StaffAuth {
            session,
            lang,
            address,
            token,
        })
    }
}

/// Whether the browser says another website made this request (`Sec-Fetch-Site`).
pub fn cross_site(parts: &Parts) -> bool {
    parts
        .headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
}

/// A signed-in member of staff's form post, its CSRF token verified: see the module docs.
pub struct StaffForm<T> {
    pub auth: StaffAuth,
    pub form: T,
}

/// A form with no fields of its own (sign out, end sessions): only its token matters.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The form body `bytes` read as `T` (`application/x-www-form-urlencoded`).
pub async fn parse_form<T: DeserializeOwned>(bytes: Bytes) -> Option<T> {
    let req = Request::builder()
        .method(Method::POST)
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .body(Body::from(bytes))
        .ok()?;
    axum::Form::<T>::from_request(req, &())
        .await
        .ok()
        .map(|f| f.0)
}

/// The `csrf` field of a form body ("" when missing or unreadable).
pub async fn csrf_field(bytes: &Bytes) -> String {
    parse_form::<CsrfField>(bytes.clone())
        .await
        .map(|f| f.csrf)
        .unwrap_or_default()
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for StaffForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<StaffForm<T>, Response> {
        let (mut parts, body) = req.into_parts();
        let auth = StaffAuth::from_request_parts(&mut parts, st).await?;
        if cross_site(&parts) {
            return Err(page::cross_site(auth.lang));
        }
        let form_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let req = Request::from_parts(parts, body);
        let Ok(bytes) = Bytes::from_request(req, st).await else {
            return Err(page::bad_request(auth.lang));
        };
        // The token first: a forged post is refused before anything of it is read.
        let csrf = csrf_field(&bytes).await;
        if !staff::csrf_valid(&auth.token, &csrf) {
            tracing::info!(staff_id = %auth.session.staff.staff_id, "console form refused: CSRF token missing or wrong");
            return Err(page::form_expired(auth.lang));
        }
        if !form_type {
            return Err(page::bad_request(auth.lang));
        }
        let Some(form) = parse_form::<T>(bytes).await else {
            return Err(page::bad_request(auth.lang));
        };
        Ok(StaffForm { auth, form })
    }
}

/// Whether cookies of this server get `Secure` (its public URL is https).
pub fn secure_cookies(st: &AppState) -> bool {
    st.public_url.starts_with("https://")
}

/// `Set-Cookie` of a console cookie: `HttpOnly; SameSite=Strict; Path=/console`, `Secure`
/// when `secure`, and `Max-Age` when given (0 removes it).
pub fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={}", age.max(0)));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Adds a `Set-Cookie` to `response`.
pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Sets the session cookie of a new session on `response`.
pub fn start_session(response: &mut Response, st: &AppState, new: &staff::NewSession) {
    let max_age = new.expires_at - st.now();
    let cookie = cookie_header(
        SESSION_COOKIE,
        &new.token,
        Some(max_age),
        secure_cookies(st),
    );
    set_cookie(response, &cookie);
}

/// Removes the session cookie on `response`.
pub fn end_session(response: &mut Response, st: &AppState) {
    set_cookie(
        response,
        &cookie_header(SESSION_COOKIE, "", Some(0), secure_cookies(st)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_scoped_to_the_console() {
        let c = cookie_header(SESSION_COOKIE, "fls_x", Some(600), false);
        assert_eq!(
            c,
            "finlock_session=fls_x; Path=/console; HttpOnly; SameSite=Strict; Max-Age=600"
        );
        let c = cookie_header(SESSION_COOKIE, "", Some(-5), true);
        assert!(c.ends_with("; Max-Age=0; Secure"), "{c}");
    }

    #[test]
    fn sign_in_leads_back_only_into_the_console() {
        assert_eq!(login_path_back_to("/console/"), "/console/login");
        assert_eq!(
            login_path_back_to("/console/staff?x=1&y=2"),
            "/console/login?next=/console/staff%3Fx%3D1%26y%3D2"
        );
        assert_eq!(
            login_path_back_to("https://evil.example/"),
            "/console/login"
        );
    }

    fn percent_decode(s: &str) -> Vec<u8> {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn percent_encoding_is_plain_and_reversible(s in "\\PC{0,64}") {
            let encoded = percent_encode(&s);
            proptest::prop_assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~/%".contains(&b)));
            proptest::prop_assert_eq!(percent_decode(&encoded), s.as_bytes());
        }

        #[test]
        fn the_way_back_after_sign_in_never_leaves_the_console(
            next in "(\\PC{0,60})|(/console/[ -~]{0,40})|(//[a-z.]{1,20}/console/)",
        ) {
            let path = login_path_back_to(&next);
            let plain = path == "/console/login";
            proptest::prop_assert!(plain || path.starts_with("/console/login?next=/console"), "{}", path);
            proptest::prop_assert!(path.bytes().all(|b| b.is_ascii_graphic()), "{}", path);
            if !plain {
                // What the sign-in page gets back is the same safe console path.
                let back = String::from_utf8(percent_decode(&path["/console/login?next=".len()..])).unwrap();
                proptest::prop_assert_eq!(crate::console::safe_next(&back), back.as_str());
                proptest::prop_assert_eq!(back, next);
            }
        }

        #[test]
        fn any_form_body_yields_its_token_or_nothing(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let csrf = runtime.block_on(csrf_field(&Bytes::from(body.clone())));
            if !body.windows(5).any(|w| w == b"csrf=") {
                proptest::prop_assert_eq!(csrf, "");
            }
        }
    }

    #[tokio::test]
    async fn the_csrf_field_is_read_from_any_form() {
        let bytes = Bytes::from_static(b"a=1&csrf=tok%2Ben&b=2");
        assert_eq!(csrf_field(&bytes).await, "tok+en");
        assert_eq!(csrf_field(&Bytes::from_static(b"a=1")).await, "");
        assert_eq!(csrf_field(&Bytes::from_static(b"%%%")).await, "");
    }
}
