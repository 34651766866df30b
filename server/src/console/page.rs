//! What every console page shares, and how a page becomes a response.
//!
//! A page is an askama template that extends `console/base.html` and holds a [`Chrome`]
//! named `chrome`: the language, the title, who is signed in (lender, staff member, the
//! form token for the sign-out form) and which menu entry is current. The base layout
//! draws the header, the menu, the language picker and the `<h1>`; the page fills the
//! block `content`. [`render`] turns it into a response (`Cache-Control: no-store`; the
//! console's router adds the security headers to every response).
//!
//! A new page:
//!
//! ```ignore
//! #[derive(askama::Template)]
//! #[template(path = "console/devices.html")] // {% extends "console/base.html" %}
//! struct DevicesPage { chrome: Chrome, rows: Vec<Row> }
//!
//! let chrome = Chrome::signed_in(lang, "nav-devices", "/console/devices", staff, Some(Section::Devices));
//! page::render(StatusCode::OK, &DevicesPage { chrome, rows })
//! ```
//!
//! Every word on a page is a message id of `locales/*/console.ftl`, looked up in the
//! template with `chrome.t("id")` (or `chrome.t_arg("id", "name", value)`); askama
//! escapes every value, so a lender called `<script>` is shown as text.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;
use super::{PREFIX, assets};

/// The parts of the console's menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Devices,
    RegisterSale,
    UnlockCodes,
    Import,
    StaffKeys,
}

impl Section {
    /// In menu order.
    pub const ALL: [Section; 6] = [
        Section::Dashboard,
        Section::Devices,
        Section::RegisterSale,
        Section::UnlockCodes,
        Section::Import,
        Section::StaffKeys,
    ];

    /// Where the menu entry leads.
    pub fn href(self) -> &'static str {
        match self {
            Section::Dashboard => "/console/",
            Section::Devices => "/console/devices",
            Section::RegisterSale => "/console/sales/new",
            Section::UnlockCodes => "/console/codes",
            Section::Import => "/console/import",
            Section::StaffKeys => "/console/staff",
        }
    }

    /// The message id of its name.
    pub fn label_id(self) -> &'static str {
        match self {
            Section::Dashboard => "nav-dashboard",
            Section::Devices => "nav-devices",
            Section::RegisterSale => "nav-register-sale",
            Section::UnlockCodes => "nav-unlock-codes",
            Section::Import => "nav-import",
            Section::StaffKeys => "nav-staff-keys",
        }
    }
}

/// Who is signed in, as the header shows them.
#[derive(Clone, Debug)]
pub struct Staff {
    /// The staff member's display name.
    pub staff_name: String,
    /// The lender they work for.
    pub lender_name: String,
    /// The form token the sign-out form (and every other form) carries.
    pub csrf: String,
}

/// The layout's data: every page template has it as its field `chrome`.
pub struct Chrome {
    pub lang: Lang,
    /// The message id of the page's title (`<title>` and `<h1>`).
    pub title_id: &'static str,
    /// This page's path: the language picker comes back here.
    pub path: String,
    /// `None` on the pages before signing in (no menu, no sign-out).
    pub staff: Option<Staff>,
    /// The menu entry shown as current.
    pub section: Option<Section>,
}

/// One menu entry, ready for the template.
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// One language in the picker.
pub struct LangOption {
    pub code: &'static str,
    pub name: String,
    pub selected: bool,
}

/// Where the sign-out form posts.
pub const LOGOUT_PATH: &str = "/console/logout";
/// Where the language picker posts.
pub const LANG_PATH: &str = "/console/lang";

impl Chrome {
    /// A page seen before signing in.
    pub fn public(lang: Lang, title_id: &'static str, path: impl Into<String>) -> Chrome {
        Chrome {
            lang,
            title_id,
            path: path.into(),
            staff: None,
            section: None,
        }
    }

    /// A page of a signed-in member of staff.
    pub fn signed_in(
        lang: Lang,
        title_id: &'static str,
        path: impl Into<String>,
        staff: Staff,
        section: Option<Section>,
    ) -> Chrome {
        Chrome {
            lang,
            title_id,
            path: path.into(),
            staff: Some(staff),
            section,
        }
    }

    /// The message `id` in the page's language.
    pub fn t(&self, id: &str) -> String {
        self.lang.tr(id)
    }

    /// The message `id` with one variable.
    pub fn t_arg(&self, id: &str, name: &str, value: &str) -> String {
        self.lang.tr_args(id, &[(name, value)])
    }

    pub fn title(&self) -> String {
        self.t(self.title_id)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn stylesheet(&self) -> &'static str {
        assets::stylesheet_href()
    }

    pub fn logout_path(&self) -> &'static str {
        LOGOUT_PATH
    }

    pub fn lang_path(&self) -> &'static str {
        LANG_PATH
    }

    /// "Lender: Acme", when signed in.
    pub fn lender_line(&self) -> Option<String> {
        let staff = self.staff.as_ref()?;
        Some(self.t_arg("header-lender", "name", &staff.lender_name))
    }

    /// "Signed in as Amina", when signed in.
    pub fn staff_line(&self) -> Option<String> {
        let staff = self.staff.as_ref()?;
        Some(self.t_arg("header-staff", "name", &staff.staff_name))
    }

    /// The sign-out form's token, when signed in.
    pub fn csrf(&self) -> Option<&str> {
        self.staff.as_ref().map(|s| s.csrf.as_str())
    }

    /// The menu, when signed in.
    pub fn nav(&self) -> Vec<NavItem> {
        if self.staff.is_none() {
            return Vec::new();
        }
        Section::ALL
            .into_iter()
            .map(|s| NavItem {
                href: s.href(),
                label: self.t(s.label_id()),
                current: self.section == Some(s),
            })
            .collect()
    }

    /// The language picker's choices, each named in its own language.
    pub fn languages(&self) -> Vec<LangOption> {
        Lang::ALL
            .into_iter()
            .map(|l| LangOption {
                code: l.code(),
                name: self.t(&format!("language-name-{}", l.code())),
                selected: l == self.lang,
            })
            .collect()
    }
}

/// A rendered page with `status`. A template that fails to render (it cannot, short of a
/// bug: askama checked it at compile time) is logged and answered with a bare 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(error = %e, "console page failed to render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>500</title><h1>500</h1>".to_string(),
            )
        }
    }
}

/// A page's HTML alone (tests that look at a layout no route serves yet).
pub fn html(page: &impl Template) -> Result<String, askama::Error> {
    page.render()
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page that only says something: the error pages.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    /// The message id of the explanation.
    pub body_id: &'static str,
    /// A link onwards: (href, message id of its text).
    pub link: Option<(&'static str, &'static str)>,
}

/// The console's 404 page, the same for "no such page" and "not yours": another
/// lender's device id in a URL must not tell that it exists.
pub fn not_found(lang: Lang) -> Response {
    message(
        StatusCode::NOT_FOUND,
        lang,
        "not-found-title",
        "not-found-body",
        Some((Section::Dashboard.href(), "not-found-home")),
    )
}

/// 400: a form that could not be read.
pub fn bad_request(lang: Lang) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        lang,
        "bad-request-title",
        "bad-request-body",
        None,
    )
}

/// 403: a request another site made the browser send.
pub fn cross_site(lang: Lang) -> Response {
    message(
        StatusCode::FORBIDDEN,
        lang,
        "forbidden-title",
        "forbidden-body",
        None,
    )
}

/// 403: the signed-in member of staff's role does not allow this (a viewer's POST).
pub fn not_allowed(lang: Lang) -> Response {
    message(
        StatusCode::FORBIDDEN,
        lang,
        "not-allowed-title",
        "not-allowed-body",
        Some((Section::Dashboard.href(), "not-found-home")),
    )
}

/// 403: a form whose token is missing or wrong (CSRF); nothing was changed.
pub fn form_expired(lang: Lang) -> Response {
    message(
        StatusCode::FORBIDDEN,
        lang,
        "form-expired-title",
        "form-expired-body",
        None,
    )
}

/// 500: what the server could not do; the details go to the log, never to the page.
pub fn server_error(lang: Lang) -> Response {
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        "error-title",
        "error-body",
        None,
    )
}

fn message(
    status: StatusCode,
    lang: Lang,
    title_id: &'static str,
    body_id: &'static str,
    link: Option<(&'static str, &'static str)>,
) -> Response {
    let page = MessagePage {
        chrome: Chrome::public(lang, title_id, PREFIX.to_string() + "/"),
        body_id,
        link,
    };
    render(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(name: &str, lender: &str) -> Staff {
        Staff {
            staff_name: name.into(),
            lender_name: lender.into(),
            csrf: "tok\"en<".into(),
        }
    }

    #[derive(Template)]
    #[template(path = "console/message.html")]
    struct Probe {
        chrome: Chrome,
        body_id: &'static str,
        link: Option<(&'static str, &'static str)>,
    }

    fn signed_in_page(lang: Lang, who: Staff) -> String {
        Probe {
            chrome: Chrome::signed_in(
                lang,
                "nav-devices",
                "/console/devices",
                who,
                Some(Section::Devices),
            ),
            body_id: "not-found-body",
            link: None,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn names_from_outside_render_as_text() {
        let html = signed_in_page(
            Lang::En,
            staff("<img src=x onerror=alert(1)>", "<script>alert(1)</script>"),
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        // The token is an attribute value: its quote cannot end the attribute.
        assert!(!html.contains("tok\"en"), "{html}");
    }

    #[test]
    fn the_layout_shows_who_is_signed_in_and_the_current_menu_entry() {
        let html = signed_in_page(Lang::Sw, staff("Amina", "Acme"));
        assert!(html.contains("<html lang=\"sw\">"), "{html}");
        assert!(html.contains("Mkopeshaji: Acme"), "{html}");
        assert!(html.contains("Umeingia kama Amina"), "{html}");
        assert!(
            html.contains("<a href=\"/console/devices\" aria-current=\"page\">Vifaa</a>"),
            "{html}"
        );
        assert_eq!(html.matches("aria-current").count(), 1, "{html}");
        assert!(
            html.contains(&format!("action=\"{LOGOUT_PATH}\"")),
            "{html}"
        );
        for section in Section::ALL {
            assert!(html.contains(section.href()), "{section:?}");
        }
    }

    #[test]
    fn a_public_page_has_no_menu_and_no_sign_out() {
        let html = Probe {
            chrome: Chrome::public(Lang::Es, "not-found-title", "/console/x"),
            body_id: "not-found-body",
            link: None,
        }
        .render()
        .unwrap();
        assert!(!html.contains("<nav"), "{html}");
        assert!(!html.contains(LOGOUT_PATH), "{html}");
        assert!(html.contains("Página no encontrada"), "{html}");
        assert!(
            html.contains("<option value=\"es\" lang=\"es\" selected>"),
            "{html}"
        );
    }

    /// What a template shows a person outside `{{ … }}`: its text between tags, and the
    /// attributes people read (aria-label, title, placeholder, alt).
    fn literal_words(template: &str) -> Vec<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(c) = rest.chars().next() {
            let skip_to =
                |end: &str, from: &str| from.find(end).map_or(from.len(), |i| i + end.len());
            if rest.starts_with("{{") || rest.starts_with("{%") || rest.starts_with("{#") {
                let end = match &rest[..2] {
                    "{{" => "}}",
                    "{%" => "%}",
                    _ => "#}",
                };
                rest = &rest[skip_to(end, rest)..];
                out.push(' ');
            } else if c == '<' {
                let end = skip_to(">", rest);
                let tag = &rest[..end];
                for attr in ["aria-label=\"", "title=\"", "placeholder=\"", "alt=\""] {
                    if let Some(at) = tag.find(attr) {
                        let value = &tag[at + attr.len()..];
                        let value = &value[..value.find('"').unwrap_or(value.len())];
                        if !value.starts_with("{{") {
                            out.push_str(value);
                        }
                    }
                }
                rest = &rest[end..];
                out.push(' ');
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out.split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .map(str::to_string)
            .collect()
    }

    /// Every word on a page comes from the catalogues: no template holds text of its own.
    #[test]
    fn templates_hold_no_words_of_their_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/console");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let words = literal_words(&source);
            assert!(words.is_empty(), "{}: {words:?}", path.display());
            seen += 1;
        }
        assert!(seen >= 3, "{seen} templates in {}", dir.display());
        // The check itself finds literal text, in content and in read attributes.
        assert_eq!(
            literal_words("<p>{{ chrome.t(\"a\") }} Hello</p><b title=\"Tip\">·</b>"),
            ["Hello", "Tip"]
        );
    }

    #[test]
    fn each_error_page_has_its_status_and_words() {
        for (response, status, title) in [
            (not_found(Lang::Sw), 404, "not-found-title"),
            (bad_request(Lang::Sw), 400, "bad-request-title"),
            (cross_site(Lang::Sw), 403, "forbidden-title"),
            (not_allowed(Lang::Sw), 403, "not-allowed-title"),
            (form_expired(Lang::Sw), 403, "form-expired-title"),
            (server_error(Lang::Sw), 500, "error-title"),
        ] {
            assert_eq!(response.status().as_u16(), status, "{title}");
            let body = body_text(response);
            assert!(body.contains(&Lang::Sw.tr(title)), "{title}: {body}");
            assert!(body.contains("<html lang=\"sw\">"), "{title}");
        }
    }

    /// A response's body (these are in memory already).
    fn body_text(response: Response) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 20))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn pages_are_not_stored_and_are_html() {
        let response = not_found(Lang::En);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
