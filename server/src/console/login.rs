//! The sign-in page (`GET /console/login`): email, password and an optional one-time
//! code. Checking them (and answering the form's POST) is the staff domain's work.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::Lang;
use super::page::{self, Chrome};

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
    /// The form token, once the staff domain gives the sign-in form one.
    pub csrf: Option<String>,
}

impl LoginPage {
    /// The empty form.
    pub fn new(lang: Lang) -> LoginPage {
        LoginPage {
            chrome: Chrome::public(lang, "login-title", PATH),
            email: String::new(),
            error_id: None,
            csrf: None,
        }
    }
}

/// `GET /console/login`
pub async fn show(lang: Lang) -> Response {
    page::render(StatusCode::OK, &LoginPage::new(lang))
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
