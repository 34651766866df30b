//! `/console/codes`: the unlock-code desk. A customer without data reads out the 8-digit
//! request code on their lock screen; the agent types the device (its id, or the lender's
//! customer reference), those digits and the days, and reads back the code shown in large
//! digits — or a translated refusal where the domain refuses (a lock the lender set, a
//! released or unenrolled phone, digits that are no current request of this phone).
//!
//! The code comes from [`offline::answer`], the JSON API's operation, with the agent as the
//! caller: the audit log names them (the code itself is never logged or stored). A customer
//! reference is looked up with [`search::search`] within the lender's devices; several
//! devices with the same reference are listed for the agent to pick by id.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{StaffAuth, StaffForm};
use super::device::refusal;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::db::queries::DeviceRow;
use crate::devices::offline::{self, CodeRequest};
use crate::devices::search::{self, DeviceQuery};
use crate::error::Error;
use crate::staff::Permission;
use finlock_core::offline_code::ALLOWED_DAYS;

/// The desk's path.
pub const PATH: &str = "/console/codes";

/// The days offered unless the agent picked others.
const DEFAULT_DAYS: u16 = 3;

/// The code to read back.
pub struct Answer {
    pub device_id: String,
    /// The 8 digits in two groups of four, as the customer types them.
    pub code: String,
    pub days: u16,
}

/// The desk's page.
#[derive(Template)]
#[template(path = "console/codes.html")]
pub struct CodesPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub device: String,
    pub challenge: String,
    pub days: u16,
    pub day_choices: Vec<u16>,
    pub error: Option<String>,
    /// Devices sharing the reference typed, to pick one by id.
    pub candidates: Vec<String>,
    pub answer: Option<Answer>,
}

impl CodesPage {
    pub fn days_label(&self, n: &u16) -> String {
        days_text(self.chrome.lang, u64::from(*n))
    }

    /// "It unlocks the phone for 3 days."
    pub fn answer_days(&self, a: &Answer) -> String {
        let days = days_text(self.chrome.lang, u64::from(a.days));
        self.chrome
            .lang
            .tr_args("codes-answer-days", &[("text", &days)])
    }
}

/// "1 day", "3 days" in `lang`.
pub fn days_text(lang: super::i18n::Lang, n: u64) -> String {
    if n == 1 {
        lang.tr("codes-day-one")
    } else {
        lang.tr_args("codes-days-other", &[("days", &n.to_string())])
    }
}

fn page_of(auth: &StaffAuth) -> CodesPage {
    CodesPage {
        chrome: auth.chrome("codes-title", PATH, Some(Section::UnlockCodes)),
        csrf: auth.csrf().to_string(),
        device: String::new(),
        challenge: String::new(),
        days: DEFAULT_DAYS,
        day_choices: ALLOWED_DAYS.to_vec(),
        error: None,
        candidates: Vec::new(),
        answer: None,
    }
}

/// `GET /console/codes`
pub async fn show(auth: StaffAuth) -> Response {
    if let Err(refused) = auth.require(Permission::OfflineCodes) {
        return refused;
    }
    page::render(StatusCode::OK, &page_of(&auth))
}

/// The desk's form.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    device: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    days: String,
}

/// What the device field names: one device, several (by reference), or none.
enum Found {
    One(Box<DeviceRow>),
    Several(Vec<String>),
    None,
}

/// The lender's device with this id, else the devices whose customer reference is this
/// one (ASCII case ignored).
async fn find(st: &AppState, lender_id: &str, text: &str) -> Result<Found, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Found::None);
    }
    match crate::devices::owned(st, lender_id, text).await {
        Ok(row) => return Ok(Found::One(Box::new(row))),
        Err(Error::NotFound) => {}
        Err(e) => return Err(e),
    }
    let query = DeviceQuery {
        q: Some(text.to_string()),
        limit: Some(20),
        ..DeviceQuery::default()
    };
    let page = match search::search(st, lender_id, &query).await {
        Ok(page) => page,
        // A text search refuses (too long, not printable): no device has it.
        Err(Error::Invalid { .. }) => return Ok(Found::None),
        Err(e) => return Err(e),
    };
    let ids: Vec<String> = page
        .devices
        .into_iter()
        .filter(|d| {
            d.customer_ref
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(text))
        })
        .map(|d| d.device_id)
        .collect();
    match ids.as_slice() {
        [] => Ok(Found::None),
        [one] => match crate::devices::owned(st, lender_id, one).await {
            Ok(row) => Ok(Found::One(Box::new(row))),
            Err(Error::NotFound) => Ok(Found::None),
            Err(e) => Err(e),
        },
        _ => Ok(Found::Several(ids)),
    }
}

/// `POST /console/codes`
pub async fn submit(State(st): State<AppState>, form: StaffForm<CodeForm>) -> Response {
    let StaffForm { auth, form } = form;
    if let Err(refused) = auth.require(Permission::OfflineCodes) {
        return refused;
    }
    let lang = auth.lang;
    let mut page = page_of(&auth);
    page.device = form.device.trim().to_string();
    page.challenge = form.challenge.trim().to_string();
    let days = form
        .days
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|d| ALLOWED_DAYS.contains(d));
    page.days = days.unwrap_or(DEFAULT_DAYS);
    let Some(days) = days else {
        page.error =
            Some(lang.tr_args("error-field-invalid", &[("field", &lang.tr("field-days"))]));
        return page::render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let row = match find(&st, &auth.session.lender.lender_id, &page.device).await {
        Ok(Found::One(row)) => row,
        Ok(Found::Several(ids)) => {
            page.error = Some(lang.tr("codes-error-several"));
            page.candidates = ids;
            return page::render(StatusCode::CONFLICT, &page);
        }
        Ok(Found::None) => {
            page.error = Some(lang.tr("codes-error-no-device"));
            return page::render(StatusCode::NOT_FOUND, &page);
        }
        Err(e) => {
            tracing::error!(error = %e, "console code desk lookup failed");
            return page::server_error(lang);
        }
    };
    let req = CodeRequest {
        challenge: page.challenge.clone(),
        days,
    };
    match offline::answer(&st, auth.session.caller(), &row, &req).await {
        Ok(code) => {
            page.answer = Some(Answer {
                device_id: row.device_id.clone(),
                code: grouped(&code.code),
                days: code.days,
            });
            // The next customer starts from an empty form.
            page.challenge.clear();
            page::render(StatusCode::OK, &page)
        }
        Err(e) => match refusal(lang, &e) {
            Some(text) => {
                page.error = Some(text);
                let status = match e {
                    Error::Conflict { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                page::render(status, &page)
            }
            None => {
                tracing::error!(error = %e, "console code desk failed");
                page::server_error(lang)
            }
        },
    }
}

/// `12345678` → `1234 5678`, as the phone shows its request code.
fn grouped(code: &str) -> String {
    if code.len() == 8 && code.is_ascii() {
        format!("{} {}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_out_in_two_groups() {
        assert_eq!(grouped("12345678"), "1234 5678");
        assert_eq!(grouped("1234"), "1234");
    }
}
