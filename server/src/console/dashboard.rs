//! `GET /console/`: the dashboard, the console's start page for every role — devices by
//! state, arrears by days past due (count and amount owed), collected this month, phones
//! not seen for days, upcoming releases ([`crate::devices::dashboard`], the figures the
//! JSON API's `GET /v1/lender/dashboard` answers). Every count links to the device list
//! filtered to the devices it counts.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::auth::StaffAuth;
use super::i18n::Lang;
use super::money_format;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::devices::dashboard::{self, Amount};
use crate::devices::search::Bucket;
use crate::staff::Permission;

/// One row of a figures table: what, how many (linking to those devices), and an amount.
pub struct FigureRow {
    pub label: String,
    pub count: String,
    pub href: String,
    pub amount: String,
}

/// One upcoming release.
pub struct ReleaseRow {
    pub device_id: String,
    pub href: String,
    pub customer_ref: String,
    pub date: String,
}

/// The dashboard.
#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    /// "Hello, Amina."
    pub welcome: String,
    /// (href, message id of the link's text).
    pub links: Vec<(&'static str, &'static str)>,
    pub states: Vec<FigureRow>,
    pub total: String,
    pub arrears: Vec<FigureRow>,
    /// "Since 1 December 2026".
    pub collected_since: String,
    pub collected_payments: String,
    pub collected_amount: String,
    /// "Not seen for 3 days or more".
    pub not_seen_label: String,
    pub not_seen_count: String,
    pub not_seen_href: String,
    /// "Released within 7 days".
    pub releases_label: String,
    pub releases_count: String,
    pub releases: Vec<ReleaseRow>,
}

/// `n` with the language's thousands separator (`12,345`; `12.345` in Spanish).
pub fn number(n: u64, lang: Lang) -> String {
    let group = match lang {
        Lang::Es => '.',
        Lang::En | Lang::Sw => ',',
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    out
}

/// Amounts in several currencies on one line; "none" when there are none.
pub fn amounts(list: &[Amount], lang: Lang) -> String {
    if list.is_empty() {
        return lang.tr("dashboard-nothing");
    }
    list.iter()
        .map(|a| money_format::money(a.amount_minor, &a.currency, lang))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message id of a days-past-due bucket's name.
pub fn bucket_label(bucket: Bucket, lang: Lang) -> String {
    match bucket.days() {
        (first, Some(last)) => lang.tr_args(
            "dashboard-days-range",
            &[("text", &format!("{first}–{last}"))],
        ),
        (first, None) => lang.tr_args("dashboard-days-over", &[("days", &(first - 1).to_string())]),
    }
}

/// `GET /console/`
pub async fn show(State(st): State<AppState>, auth: StaffAuth) -> Response {
    let lang = auth.lang;
    let mut links = vec![(super::account::PATH, "home-link-account")];
    if auth.may(Permission::ManageStaff) {
        links.push((super::staff_page::PATH, "home-link-staff"));
    }
    let chrome = auth.chrome("dashboard-title", "/console/", Some(Section::Dashboard));
    let welcome = chrome.t_arg("home-welcome", "name", &auth.session.staff.name);
    if !auth.may(Permission::Read) {
        return auth.not_allowed();
    }
    let d = match dashboard::dashboard(&st, &auth.session.lender.lender_id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "console dashboard failed");
            return page::server_error(lang);
        }
    };
    let list = "/console/devices";
    let s = &d.by_state;
    let states = [
        ("current", "state-current", s.current),
        ("overdue", "state-overdue", s.overdue),
        ("locked", "state-locked", s.locked),
        ("completing", "state-completing", s.completing),
        ("released", "state-released", s.released),
    ]
    .into_iter()
    .map(|(value, label_id, n)| FigureRow {
        label: lang.tr(label_id),
        count: number(n, lang),
        href: format!("{list}?state={value}"),
        amount: String::new(),
    })
    .collect();
    let arrears = d
        .arrears
        .iter()
        .map(|b| FigureRow {
            label: bucket_label(b.days_past_due, lang),
            count: number(b.devices, lang),
            href: format!(
                "{list}?days_past_due={}&sort=days_past_due",
                super::auth::percent_encode(b.days_past_due.as_str())
            ),
            amount: amounts(&b.owed, lang),
        })
        .collect();
    let days = d.not_seen.days.to_string();
    let releases = d
        .upcoming_releases
        .first
        .iter()
        .map(|r| ReleaseRow {
            href: format!("{list}/{}", super::auth::percent_encode(&r.device_id)),
            device_id: r.device_id.clone(),
            customer_ref: r.customer_ref.clone().unwrap_or_default(),
            date: money_format::date(r.release_at, lang),
        })
        .collect();
    let c = &d.collected_this_month;
    let page = DashboardPage {
        welcome,
        links,
        states,
        total: number(d.devices, lang),
        arrears,
        collected_since: lang.tr_args(
            "dashboard-collected-since",
            &[("date", &money_format::date(c.since, lang))],
        ),
        collected_payments: number(c.payments, lang),
        collected_amount: amounts(&c.amounts, lang),
        not_seen_label: lang.tr_args("dashboard-not-seen-days", &[("days", &days)]),
        not_seen_count: number(d.not_seen.devices, lang),
        not_seen_href: format!("{list}?not_seen_days={days}&sort=last_seen"),
        releases_label: lang.tr_args(
            "dashboard-releases-within",
            &[("days", &d.upcoming_releases.within_days.to_string())],
        ),
        releases_count: number(d.upcoming_releases.devices, lang),
        releases,
        chrome,
    };
    page::render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_as_the_language_writes_them() {
        assert_eq!(number(0, Lang::En), "0");
        assert_eq!(number(999, Lang::En), "999");
        assert_eq!(number(1_000, Lang::Sw), "1,000");
        assert_eq!(number(1_234_567, Lang::En), "1,234,567");
        assert_eq!(number(1_234_567, Lang::Es), "1.234.567");
    }

    #[test]
    fn buckets_are_named_in_the_language() {
        assert_eq!(bucket_label(Bucket::Days8To30, Lang::En), "8–30 days");
        assert_eq!(bucket_label(Bucket::Over90, Lang::En), "Over 90 days");
        assert_ne!(
            bucket_label(Bucket::Over90, Lang::Sw),
            bucket_label(Bucket::Over90, Lang::En)
        );
        assert_eq!(amounts(&[], Lang::En), Lang::En.tr("dashboard-nothing"));
    }
}
