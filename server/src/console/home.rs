//! `GET /console/`: the signed-in start page — a welcome and the pages this member of staff
//! may open (the dashboard replaces it once it exists).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::auth::StaffAuth;
use super::page::{self, Chrome, Section};
use crate::staff::Permission;

/// The start page.
#[derive(Template)]
#[template(path = "console/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    /// "Hello, Amina".
    pub welcome: String,
    /// (href, message id of the link's text).
    pub links: Vec<(&'static str, &'static str)>,
}

/// `GET /console/`
pub async fn show(auth: StaffAuth) -> Response {
    let mut links = vec![(super::account::PATH, "home-link-account")];
    if auth.may(Permission::ManageStaff) {
        links.push((super::staff_page::PATH, "home-link-staff"));
    }
    let chrome = auth.chrome("home-title", "/console/", Some(Section::Dashboard));
    let welcome = chrome.t_arg("home-welcome", "name", &auth.session.staff.name);
    page::render(
        StatusCode::OK,
        &HomePage {
            chrome,
            welcome,
            links,
        },
    )
}
