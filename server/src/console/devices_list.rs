//! `GET /console/devices`: the lender's devices — search (device id, customer reference,
//! IMEI digits), filters (state, days past due, not seen), order, a page at a time — and
//! `GET /console/devices.csv`: the same filtered list as a spreadsheet download.
//!
//! The form is a `GET` form, so a filtered list is a URL (shareable, bookmarkable, the
//! back button works). Its parameters are the JSON API's (`GET /v1/lender/devices`): they
//! become an [`http::devices::ListQuery`](crate::http::devices::ListQuery) and go through
//! its parser ([`ListQuery::to_query`]) into the domain's [`search`] and
//! [`search::export_csv`]. The form sends an empty value for "any", which is read as
//! absent. A parameter the domain refuses redraws the page with a translated message and
//! status 400, the form keeping what was asked.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::{StaffAuth, percent_encode};
use super::dashboard::number;
use super::i18n::Lang;
use super::money_format;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::devices::search::{self, Bucket, DeviceQuery, days_past_due};
use crate::error::Error;
use crate::http::devices::ListQuery;
use crate::policy::DeviceStatus;
use crate::staff::Permission;

/// Where the page lives.
pub const PATH: &str = "/console/devices";
/// Where its CSV export lives.
pub const CSV_PATH: &str = "/console/devices.csv";

/// The "not seen for" choices offered (days).
const NOT_SEEN_CHOICES: [u32; 5] = [1, 3, 7, 14, 30];

/// The form's parameters as sent (every one text; empty is "any").
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub days_past_due: String,
    #[serde(default)]
    pub not_seen_days: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub limit: String,
    #[serde(default)]
    pub cursor: String,
}

fn some(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl ListForm {
    /// The domain's query through the JSON API's parser; `Err(field)` names what is wrong.
    fn to_query(&self) -> Result<DeviceQuery, String> {
        let number = |field: &str, text: &str| -> Result<Option<u32>, String> {
            some(text)
                .map(|t| t.parse::<u32>().map_err(|_| field.to_string()))
                .transpose()
        };
        let list = ListQuery {
            state: some(&self.state),
            limit: number("limit", &self.limit)?,
            cursor: some(&self.cursor),
            q: some(&self.q),
            days_past_due: some(&self.days_past_due),
            not_seen_days: number("not_seen_days", &self.not_seen_days)?,
            sort: some(&self.sort),
            format: None,
        };
        list.to_query().map_err(|e| field_of(&e))
    }

    /// The query string of this list (without the cursor): the CSV link and the next
    /// page's link start with it.
    fn query_string(&self) -> String {
        [
            ("q", &self.q),
            ("state", &self.state),
            ("days_past_due", &self.days_past_due),
            ("not_seen_days", &self.not_seen_days),
            ("sort", &self.sort),
            ("limit", &self.limit),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The parameter a domain refusal names ("" for another error).
fn field_of(e: &Error) -> String {
    match e {
        Error::Invalid { field, .. } => field.clone(),
        _ => String::new(),
    }
}

/// The message id explaining a refused parameter.
fn refusal_id(field: &str) -> &'static str {
    match field {
        "q" => "devices-bad-q",
        "state" => "devices-bad-state",
        "days_past_due" => "devices-bad-days-past-due",
        "not_seen_days" => "devices-bad-not-seen",
        "sort" => "devices-bad-sort",
        "limit" => "devices-bad-limit",
        "cursor" => "devices-bad-cursor",
        "export" => "devices-export-too-many",
        _ => "devices-bad-filter",
    }
}

/// One choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(current: &str, any_id: &str, options: Vec<(String, String)>, lang: Lang) -> Vec<Choice> {
    let current = current.trim();
    let mut out = vec![Choice {
        value: String::new(),
        label: lang.tr(any_id),
        selected: current.is_empty(),
    }];
    out.extend(options.into_iter().map(|(value, label)| Choice {
        selected: value == current,
        value,
        label,
    }));
    out
}

/// One device in the table.
pub struct Row {
    pub device_id: String,
    pub href: String,
    pub customer_ref: String,
    pub state_id: &'static str,
    pub state_class: &'static str,
    pub days_past_due: String,
    pub owed: String,
    pub last_seen: String,
    pub app_version: String,
}

/// The Devices page.
#[derive(Template)]
#[template(path = "console/devices.html")]
pub struct DevicesPage {
    pub chrome: Chrome,
    pub form: ListForm,
    pub states: Vec<Choice>,
    pub buckets: Vec<Choice>,
    pub not_seen: Vec<Choice>,
    pub sorts: Vec<Choice>,
    /// A refused parameter, explained.
    pub error: Option<String>,
    pub rows: Vec<Row>,
    pub csv_href: String,
    pub next_href: Option<String>,
    /// "Showing 50 devices"
    pub shown: String,
}

fn state_of(state: DeviceStatus) -> (&'static str, &'static str, &'static str) {
    match state {
        DeviceStatus::Current => ("current", "state-current", "state-current"),
        DeviceStatus::Overdue => ("overdue", "state-overdue", "state-overdue"),
        DeviceStatus::Locked => ("locked", "state-locked", "state-locked"),
        DeviceStatus::Completing => ("completing", "state-completing", "state-completing"),
        DeviceStatus::Released => ("released", "state-released", "state-released"),
    }
}

fn row(v: &crate::devices::view::DeviceView, now: i64, lang: Lang) -> Row {
    let (_, state_id, state_class) = state_of(v.state);
    let dpd = match (v.state, v.next_due) {
        (DeviceStatus::Released | DeviceStatus::Completing, _) | (_, None) => 0,
        (_, Some(due)) => days_past_due(due, now),
    };
    Row {
        href: format!("{PATH}/{}", percent_encode(&v.device_id)),
        device_id: v.device_id.clone(),
        customer_ref: v.customer_ref.clone().unwrap_or_default(),
        state_id,
        state_class,
        days_past_due: number(dpd.max(0) as u64, lang),
        owed: money_format::money(
            v.total_minor.saturating_sub(v.paid_minor),
            &v.currency,
            lang,
        ),
        last_seen: v
            .last_checkin
            .or(v.enrolled_at)
            .map(|t| money_format::date_time(t, lang))
            .unwrap_or_else(|| lang.tr("devices-never-seen")),
        app_version: v.app_version.clone().unwrap_or_default(),
    }
}

fn page_of(auth: &StaffAuth, form: ListForm) -> DevicesPage {
    let lang = auth.lang;
    let qs = form.query_string();
    let path = if qs.is_empty() {
        PATH.to_string()
    } else {
        format!("{PATH}?{qs}")
    };
    let states = [
        DeviceStatus::Current,
        DeviceStatus::Overdue,
        DeviceStatus::Locked,
        DeviceStatus::Completing,
        DeviceStatus::Released,
    ]
    .into_iter()
    .map(|s| {
        let (value, id, _) = state_of(s);
        (value.to_string(), lang.tr(id))
    })
    .collect();
    let buckets = Bucket::ALL
        .into_iter()
        .map(|b| {
            (
                b.as_str().to_string(),
                super::dashboard::bucket_label(b, lang),
            )
        })
        .collect();
    let mut seen: Vec<u32> = NOT_SEEN_CHOICES.to_vec();
    // A shared URL with another number keeps it as a choice.
    if let Ok(n) = form.not_seen_days.trim().parse::<u32>()
        && (1..=search::MAX_NOT_SEEN_DAYS).contains(&n)
        && !seen.contains(&n)
    {
        seen.push(n);
        seen.sort_unstable();
    }
    let not_seen = seen
        .into_iter()
        .map(|n| {
            (
                n.to_string(),
                lang.tr_args("devices-not-seen-days", &[("days", &n.to_string())]),
            )
        })
        .collect();
    let sorts = [
        ("device_id", "devices-sort-device-id"),
        ("days_past_due", "devices-sort-days-past-due"),
        ("last_seen", "devices-sort-last-seen"),
        ("registered", "devices-sort-registered"),
    ]
    .into_iter()
    .map(|(v, id)| (v.to_string(), lang.tr(id)))
    .collect();
    let csv_href = if qs.is_empty() {
        CSV_PATH.to_string()
    } else {
        format!("{CSV_PATH}?{qs}")
    };
    let chrome = auth.chrome("devices-title", path, Some(Section::Devices));
    DevicesPage {
        states: choices(&form.state, "devices-any-state", states, lang),
        buckets: choices(&form.days_past_due, "devices-any-days", buckets, lang),
        not_seen: choices(&form.not_seen_days, "devices-any-not-seen", not_seen, lang),
        sorts: choices(&form.sort, "devices-sort-default", sorts, lang)
            .into_iter()
            .skip(1)
            .collect(),
        form,
        chrome,
        error: None,
        rows: Vec::new(),
        csv_href,
        next_href: None,
        shown: String::new(),
    }
}

/// The page with a refused parameter explained (400).
fn refused(auth: &StaffAuth, form: ListForm, field: &str) -> Response {
    let mut page = page_of(auth, form);
    page.error = Some(auth.lang.tr(refusal_id(field)));
    page::render(StatusCode::BAD_REQUEST, &page)
}

/// A query string that could not be read at all (e.g. bad percent-encoding): an empty
/// form and the message.
fn unreadable(auth: &StaffAuth) -> Response {
    refused(auth, ListForm::default(), "")
}

/// `GET /console/devices`
pub async fn show(
    State(st): State<AppState>,
    auth: StaffAuth,
    form: Result<Query<ListForm>, QueryRejection>,
) -> Response {
    if let Err(refused) = auth.require(Permission::Read) {
        return refused;
    }
    let Ok(Query(form)) = form else {
        return unreadable(&auth);
    };
    let query = match form.to_query() {
        Ok(q) => q,
        Err(field) => return refused(&auth, form, &field),
    };
    let found = match search::search(&st, &auth.session.lender.lender_id, &query).await {
        Ok(found) => found,
        Err(e @ Error::Invalid { .. }) => return refused(&auth, form, &field_of(&e)),
        Err(e) => {
            tracing::error!(error = %e, "console device list failed");
            return page::server_error(auth.lang);
        }
    };
    let lang = auth.lang;
    let now = st.now();
    let mut page = page_of(&auth, form);
    page.rows = found.devices.iter().map(|v| row(v, now, lang)).collect();
    page.shown = if page.rows.is_empty() {
        lang.tr("devices-none")
    } else {
        lang.tr_args(
            "devices-shown",
            &[("text", &number(page.rows.len() as u64, lang))],
        )
    };
    page.next_href = found.next_cursor.map(|cursor| {
        let qs = page.form.query_string();
        let sep = if qs.is_empty() { "" } else { "&" };
        format!("{PATH}?{qs}{sep}cursor={}", percent_encode(&cursor))
    });
    page::render(StatusCode::OK, &page)
}

/// `GET /console/devices.csv`: every device the filters match (pages ignored) as CSV, a
/// download; a refused parameter is the page with its message.
pub async fn export(
    State(st): State<AppState>,
    auth: StaffAuth,
    form: Result<Query<ListForm>, QueryRejection>,
) -> Response {
    if let Err(refused) = auth.require(Permission::Read) {
        return refused;
    }
    let Ok(Query(mut form)) = form else {
        return unreadable(&auth);
    };
    form.cursor.clear();
    let query = match form.to_query() {
        Ok(q) => q,
        Err(field) => return refused(&auth, form, &field),
    };
    // The export has no pages, but a page size it is given must still be one.
    if query.limit.is_some()
        && let Err(e) = crate::devices::page_size(query.limit, 1)
    {
        return refused(&auth, form, &field_of(&e));
    }
    let lender = &auth.session.lender.lender_id;
    // A first small page checks every parameter (the search's own rules), so that a
    // refusal of the export itself can only be its size.
    let probe = DeviceQuery {
        limit: Some(1),
        ..query.clone()
    };
    match search::search(&st, lender, &probe).await {
        Ok(_) => {}
        Err(e @ Error::Invalid { .. }) => return refused(&auth, form, &field_of(&e)),
        Err(e) => {
            tracing::error!(error = %e, "console device export failed");
            return page::server_error(auth.lang);
        }
    }
    let csv = match search::export_csv(&st, lender, &query).await {
        Ok(csv) => csv,
        Err(Error::Invalid { .. }) => return refused(&auth, form, "export"),
        Err(e) => {
            tracing::error!(error = %e, "console device export failed");
            return page::server_error(auth.lang);
        }
    };
    let mut r = csv.into_response();
    let headers = r.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"devices.csv\""),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_any_and_bad_ones_are_named() {
        let form = ListForm::default();
        let q = form.to_query().unwrap();
        assert!(q.state.is_none() && q.days_past_due.is_none() && q.q.is_none());
        let bad = |f: ListForm| f.to_query().unwrap_err();
        let with = |edit: fn(&mut ListForm)| {
            let mut f = ListForm::default();
            edit(&mut f);
            f
        };
        assert_eq!(bad(with(|f| f.state = "lost".into())), "state");
        assert_eq!(
            bad(with(|f| f.days_past_due = "2-3".into())),
            "days_past_due"
        );
        assert_eq!(bad(with(|f| f.not_seen_days = "x".into())), "not_seen_days");
        assert_eq!(bad(with(|f| f.sort = "price".into())), "sort");
        assert_eq!(bad(with(|f| f.limit = "-1".into())), "limit");
        let ok = with(|f| {
            f.state = "overdue".into();
            f.days_past_due = "90+".into();
            f.not_seen_days = "3".into();
        })
        .to_query()
        .unwrap();
        assert_eq!(ok.state, Some(DeviceStatus::Overdue));
        assert_eq!(ok.days_past_due, Some(Bucket::Over90));
        assert_eq!(ok.not_seen_days, Some(3));
        for field in [
            "q",
            "state",
            "days_past_due",
            "not_seen_days",
            "sort",
            "limit",
            "cursor",
        ] {
            assert_ne!(refusal_id(field), "devices-bad-filter", "{field}");
        }
    }

    #[test]
    fn the_query_string_keeps_the_filters_encoded() {
        let f = ListForm {
            q: "CT 1&2".into(),
            days_past_due: "90+".into(),
            ..ListForm::default()
        };
        assert_eq!(f.query_string(), "q=CT%201%262&days_past_due=90%2B");
        assert_eq!(ListForm::default().query_string(), "");
    }
}
