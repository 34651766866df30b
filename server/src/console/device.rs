//! `/console/devices/{id}`: one device — its facts, plan, payments, actions, audit
//! timeline and a preview of the phone's screen ([`super::lock_preview`]).
//!
//! Every change calls the domain operation the JSON API calls ([`crate::devices`]:
//! `payments::record`, `voids::void`, `actions::{lock, unlock, extend, release}`) with the
//! signed-in staff member as the caller, so the audit log names them and every rule
//! (overpayment, currency, the completing window, lender locks, released) is the domain's.
//! The console checks the role first (a viewer sees no forms, and a viewer's forged post is
//! refused before anything is read); the CSRF token is [`StaffForm`]'s.
//!
//! Lock, unlock, extend, release and void ask for a confirmation: the first post shows
//! what will happen, the second (with `confirm=yes`) does it. A payment carries an
//! idempotency key made with the page, so sending the form twice records it once. A
//! change leads back to the page with `?done=<what>` (a closed list), so a reload sends
//! nothing again. Another lender's device id is the console's 404, like an unknown one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{StaffAuth, StaffForm};
use super::i18n::Lang;
use super::lock_preview::{self, Preview};
use super::money_format;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::audit::{self, Entry};
use crate::db::queries::{DeviceRow, PaymentRow};
use crate::devices::{self, actions, payments, view, voids};
use crate::error::Error;
use crate::staff::{self, By, Permission};

/// The device pages' path prefix.
pub const PREFIX: &str = "/console/devices/";

/// The timeline shows at most this many of the newest entries.
const TIMELINE: i64 = 500;

/// What `?done=` may announce, and its message.
const NOTICES: [(&str, &str); 7] = [
    ("payment", "device-done-payment"),
    ("voided", "device-done-voided"),
    ("locked", "device-done-locked"),
    ("unlocked", "device-done-unlocked"),
    ("extended", "device-done-extended"),
    ("released", "device-done-released"),
    ("customer-ref", "device-done-customer-ref"),
];

/// The path of device `id`'s page.
pub fn path(device_id: &str) -> String {
    format!("{PREFIX}{device_id}")
}

/// One row of the plan.
pub struct InstallmentRow {
    pub due: String,
    pub amount: String,
    pub status_id: &'static str,
}

/// One payment as the page lists it.
pub struct PaymentView {
    pub payment_id: String,
    pub at: String,
    pub amount: String,
    pub reference: String,
    /// "voided on …: reason".
    pub voided: Option<String>,
    pub can_void: bool,
}

/// One audit entry: when, who (a staff member's name where one acted), what.
pub struct TimelineRow {
    pub at: String,
    pub who: String,
    pub what: String,
    pub detail: Option<String>,
}

/// What the forms hold when the page is shown again after a refusal.
#[derive(Default)]
pub struct Entered {
    pub amount: String,
    pub reference: String,
    pub lock_reason: String,
    pub extend_until: String,
    pub extend_reason: String,
    /// The payment was refused as more than is owed: offer to record it anyway.
    pub offer_overpayment: bool,
    /// The customer reference field (the device's own when nothing was entered).
    pub customer_ref: String,
}

/// The device page.
#[derive(Template)]
#[template(path = "console/device.html")]
pub struct DevicePage {
    pub chrome: Chrome,
    pub csrf: String,
    pub device_id: String,
    pub state_id: &'static str,
    /// (label, value) pairs of the facts list.
    pub facts: Vec<(String, String)>,
    pub installments: Vec<InstallmentRow>,
    pub payments: Vec<PaymentView>,
    pub timeline: Vec<TimelineRow>,
    pub preview: Preview,
    pub notice_id: Option<&'static str>,
    pub error: Option<String>,
    pub currency: String,
    pub payment_key: String,
    pub entered: Entered,
    pub can_pay: bool,
    pub can_lock: bool,
    pub can_unlock: bool,
    pub can_extend: bool,
    pub can_release: bool,
    /// Whether the customer reference may be changed (roles that register sales).
    pub can_edit_ref: bool,
    /// The earliest and latest date the extension's date input offers.
    pub extend_min: String,
    pub extend_max: String,
}

impl DevicePage {
    /// Whether any action form is shown.
    pub fn any_action(&self) -> bool {
        self.can_lock || self.can_unlock || self.can_extend || self.can_release
    }
}

/// The confirmation step of an action.
#[derive(Template)]
#[template(path = "console/device_confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub back: String,
    pub action: String,
    pub question: String,
    pub details: Vec<String>,
    /// Hidden fields carried to the second post: (name, value).
    pub fields: Vec<(&'static str, String)>,
    pub confirm_id: &'static str,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `GET /console/devices/{id}`
pub async fn show(
    State(st): State<AppState>,
    auth: StaffAuth,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let row = match owned(&st, &auth, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let notice_id = NOTICES
        .iter()
        .find(|(k, _)| *k == q.done)
        .map(|(_, id)| *id);
    render(
        &st,
        &auth,
        &row,
        StatusCode::OK,
        notice_id,
        None,
        Entered::default(),
    )
    .await
}

/// The device `id` of the signed-in lender, or the answer to give instead (404 for an
/// unknown id and another lender's alike).
async fn owned(st: &AppState, auth: &StaffAuth, id: &str) -> Result<DeviceRow, Response> {
    auth.require(Permission::Read)?;
    devices::owned(st, &auth.session.lender.lender_id, id)
        .await
        .map_err(|e| failed(auth.lang, e))
}

/// A domain error that is no refusal to explain: 404 or 500.
fn failed(lang: Lang, e: Error) -> Response {
    match e {
        Error::NotFound => page::not_found(lang),
        other => {
            tracing::error!(error = %other, "console device page failed");
            page::server_error(lang)
        }
    }
}

/// The translated explanation of a refusal of the domain, if it is one.
pub fn refusal(lang: Lang, e: &Error) -> Option<String> {
    match e {
        Error::Conflict { slug, .. } => Some(lang.tr(match *slug {
            "released" => "device-error-released",
            "not-lender-locked" => "device-error-not-lender-locked",
            "lender-locked" => "device-error-lender-locked",
            "duplicate-reference" => "payment-error-duplicate-reference",
            "not-enrolled" => "device-error-not-enrolled",
            "concurrent" | "idempotency-key-reused" => "device-error-concurrent",
            "imei-registered" => "sale-error-imei-registered",
            "imei-taken" => "sale-error-imei-taken",
            _ => "device-error-conflict",
        })),
        Error::Invalid { field, rule } => {
            if field == "amount_minor" && rule.contains("still owed") {
                return Some(lang.tr("payment-error-overpayment"));
            }
            if field == "challenge" {
                return Some(lang.tr("codes-error-challenge"));
            }
            if field == "until" {
                return Some(lang.tr("device-error-until"));
            }
            Some(lang.tr_args(
                "error-field-invalid",
                &[("field", &lang.tr(field_label(field)))],
            ))
        }
        Error::BadRequest(_) => Some(lang.tr("bad-request-body")),
        // The lender's compliance profile forbids it: the rule named, as the API's `rule`.
        Error::Compliance { profile, rule, .. } => Some(lang.tr_args(
            "device-error-compliance",
            &[("profile", profile), ("rule", rule)],
        )),
        _ => None,
    }
}

/// The message id naming a domain field to a reader.
pub fn field_label(field: &str) -> &'static str {
    let field = field.strip_prefix("plan.").unwrap_or(field);
    match field {
        "amount_minor" => "field-amount",
        "reference" => "field-reference",
        "reason" => "field-reason",
        "until" => "field-until",
        "currency" => "field-currency",
        "grace_days" => "field-grace-days",
        "imei" => "field-imei",
        "customer_ref" => "field-customer-ref",
        "challenge" => "field-challenge",
        "days" => "field-days",
        f if f.starts_with("installments") && f.ends_with(".due") => "field-due-date",
        f if f.starts_with("installments") && f.ends_with(".amount_minor") => "field-amount",
        f if f.starts_with("installments") => "field-installments",
        _ => "field-form",
    }
}

fn state_id(state: crate::policy::DeviceStatus) -> &'static str {
    use crate::policy::DeviceStatus as S;
    match state {
        S::Current => "state-current",
        S::Overdue => "state-overdue",
        S::Locked => "state-locked",
        S::Completing => "state-completing",
        S::Released => "state-released",
    }
}

fn installment_status_id(status: finlock_core::protocol::InstallmentStatus) -> &'static str {
    use finlock_core::protocol::InstallmentStatus as I;
    match status {
        I::Paid => "installment-paid",
        I::Due => "installment-due",
        I::Overdue => "installment-overdue",
    }
}

/// Days since the first unpaid installment was due (a started day counts), 0 when none is.
fn days_past_due(v: &view::DeviceView, now: i64) -> i64 {
    v.installments
        .iter()
        .find(|i| i.status != finlock_core::protocol::InstallmentStatus::Paid)
        .filter(|i| now > i.due && v.state != crate::policy::DeviceStatus::Released)
        .map_or(0, |i| (now - i.due + 86_399) / 86_400)
}

/// The page for `row` as it is now.
async fn render(
    st: &AppState,
    auth: &StaffAuth,
    row: &DeviceRow,
    status: StatusCode,
    notice_id: Option<&'static str>,
    error: Option<String>,
    entered: Entered,
) -> Response {
    match page_data(st, auth, row, notice_id, error, entered).await {
        Ok(page) => page::render(status, &page),
        Err(e) => failed(auth.lang, e),
    }
}

async fn page_data(
    st: &AppState,
    auth: &StaffAuth,
    row: &DeviceRow,
    notice_id: Option<&'static str>,
    error: Option<String>,
    mut entered: Entered,
) -> Result<DevicePage, Error> {
    let lang = auth.lang;
    let now = st.now();
    let v = view::with_refs(st, row, view::view(row, now)?).await?;
    let money = |minor: u64| money_format::money(minor, &v.currency, lang);
    let none = || lang.tr("device-none");
    let pick = |b: bool, yes: &str, no: &str| lang.tr(if b { yes } else { no });
    let mut facts = vec![
        (lang.tr("device-state"), lang.tr(state_id(v.state))),
        (
            lang.tr("device-days-past-due"),
            days_past_due(&v, now).to_string(),
        ),
        (
            lang.tr("device-next-due"),
            v.next_due
                .map_or_else(none, |t| money_format::date(t, lang)),
        ),
        (lang.tr("device-amount-due"), money(v.amount_due_minor)),
        (lang.tr("device-paid"), money(v.paid_minor)),
        (lang.tr("device-total"), money(v.total_minor)),
        (
            lang.tr("device-lock-at"),
            v.lock_at
                .map_or_else(none, |t| money_format::date_time(t, lang)),
        ),
    ];
    if let Some(until) = v.extended_until {
        facts.push((
            lang.tr("device-extended-until"),
            money_format::date_time(until, lang),
        ));
    }
    if let Some(at) = v.release_at {
        facts.push((
            lang.tr("device-release-at"),
            money_format::date_time(at, lang),
        ));
    }
    if v.lender_locked {
        facts.push((
            lang.tr("device-lock-reason"),
            v.lock_reason.clone().unwrap_or_default(),
        ));
    }
    facts.extend([
        (
            lang.tr("device-enrolled"),
            match v.enrolled_at.filter(|_| v.enrolled) {
                Some(at) => lang.tr_args(
                    "device-enrolled-on",
                    &[("date", &money_format::date_time(at, lang))],
                ),
                None => pick(v.enrolled, "device-enrolled-yes", "device-enrolled-no"),
            },
        ),
        (
            lang.tr("device-last-checkin"),
            v.last_checkin
                .map_or_else(none, |t| money_format::date_time(t, lang)),
        ),
        (
            lang.tr("device-app-version"),
            v.app_version.clone().unwrap_or_else(none),
        ),
        (
            lang.tr("device-customer-ref"),
            v.customer_ref.clone().unwrap_or_else(none),
        ),
        (
            lang.tr("device-imei"),
            v.imei_last4
                .as_ref()
                .map(|l| format!("…{l}"))
                .unwrap_or_else(|| pick(v.imei_registered, "device-imei-yes", "device-imei-none")),
        ),
        (
            lang.tr("device-auto-reprovision"),
            pick(v.auto_reprovision, "device-on", "device-off"),
        ),
        (
            lang.tr("device-registered"),
            money_format::date_time(v.created_at, lang),
        ),
    ]);
    let installments = v
        .installments
        .iter()
        .map(|i| InstallmentRow {
            due: money_format::date(i.due, lang),
            amount: money(i.amount_minor),
            status_id: installment_status_id(i.status),
        })
        .collect();
    let released = v.state == crate::policy::DeviceStatus::Released;
    let may_void = auth.may(Permission::VoidPayments) && !released;
    let (rows, _) = payments::list(st, row, None, Some(devices::MAX_PAGE)).await?;
    let payments = rows
        .into_iter()
        .map(|p| payment_view(p, lang, may_void))
        .collect();
    let timeline = timeline(st, auth, row).await?;
    if entered.customer_ref.is_empty() {
        entered.customer_ref = v.customer_ref.clone().unwrap_or_default();
    }
    let lender = st.lender(&row.lender_id).await?;
    let preview = lock_preview::preview(row, &lender.info, now, lang)?;
    let may_lock = auth.may(Permission::LockUnlock);
    Ok(DevicePage {
        chrome: auth.chrome("device-title", path(&row.device_id), Some(Section::Devices)),
        csrf: auth.csrf().to_string(),
        device_id: row.device_id.clone(),
        state_id: state_id(v.state),
        facts,
        installments,
        payments,
        timeline,
        preview,
        notice_id,
        error,
        currency: v.currency.clone(),
        payment_key: crate::ids::row_id("ck")?,
        entered,
        can_pay: auth.may(Permission::RecordPayments) && !released,
        can_lock: may_lock && !released && !v.lender_locked,
        can_unlock: may_lock && !released && v.lender_locked,
        can_extend: auth.may(Permission::Extend)
            && !released
            && !v.lender_locked
            && v.lock_at.is_some(),
        can_release: auth.may(Permission::Release) && !released,
        can_edit_ref: auth.may(Permission::RegisterSales),
        extend_min: money_format::iso_date(now.max(v.lock_at.unwrap_or(now))),
        extend_max: money_format::iso_date(now + actions::MAX_EXTENSION_S - 86_400),
    })
}

fn payment_view(p: PaymentRow, lang: Lang, may_void: bool) -> PaymentView {
    let voided = p.voided_at.map(|at| {
        lang.tr_args(
            "payment-voided-on",
            &[
                ("date", &money_format::date_time(at, lang)),
                ("text", p.void_reason.as_deref().unwrap_or("")),
            ],
        )
    });
    PaymentView {
        can_void: may_void && voided.is_none(),
        at: money_format::date_time(p.created_at, lang),
        amount: money_format::money(p.amount_minor, &p.currency, lang),
        reference: p.reference,
        payment_id: p.payment_id,
        voided,
    }
}

/// The device's audit log, newest first, with staff members named.
async fn timeline(
    st: &AppState,
    auth: &StaffAuth,
    row: &DeviceRow,
) -> Result<Vec<TimelineRow>, Error> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut after = 0;
    loop {
        let page = audit::list(&st.db.read, &row.device_id, after, TIMELINE).await?;
        let full = page.len() as i64 == TIMELINE;
        after = page.last().map_or(after, |e| e.n);
        entries.extend(page);
        if !full {
            break;
        }
        // Only the newest entries are kept for the page.
        let excess = entries.len().saturating_sub(TIMELINE as usize);
        entries.drain(..excess);
    }
    // Names of the lender's staff, for every role: reading who did what is not managing
    // staff, so the names are read as the lender itself (scoped to this lender in SQL).
    let names: HashMap<String, String> =
        staff::list(&st.db, By::cli(&auth.session.lender.lender_id))
            .await
            .map_err(|e| Error::Internal(format!("staff names: {e}")))?
            .into_iter()
            .map(|s| (s.staff_id, s.name))
            .collect();
    let lang = auth.lang;
    Ok(entries
        .into_iter()
        .rev()
        .map(|e| timeline_row(&e, &names, lang))
        .collect())
}

fn timeline_row(e: &Entry, names: &HashMap<String, String>, lang: Lang) -> TimelineRow {
    let who = if let Some(id) = e.actor.strip_prefix("staff:") {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| lang.tr("actor-staff-unknown"))
    } else if e.actor.starts_with("lender:") {
        match &e.api_key_id {
            Some(key) => lang.tr_args("actor-api-key", &[("name", key)]),
            None => lang.tr("actor-api"),
        }
    } else if e.actor.starts_with("cli:") {
        lang.tr("actor-cli")
    } else if e.actor == "device" {
        lang.tr("actor-device")
    } else {
        lang.tr("actor-system")
    };
    let id = format!("audit-{}", e.action.replace('_', "-"));
    // Every action the log writes has a message; one added later shows as stored.
    let what = Some(lang.tr(&id))
        .filter(|t| *t != id)
        .unwrap_or_else(|| e.action.clone());
    let d = &e.detail;
    let text = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let currency = text("currency").unwrap_or_default();
    let detail = match e.action.as_str() {
        "payment" => d.get("amount_minor").and_then(|v| v.as_u64()).map(|a| {
            format!(
                "{} · {}",
                money_format::money(a, &currency, lang),
                text("reference").unwrap_or_default()
            )
        }),
        "locked" | "payment_voided" | "rescheduled" | "cancelled" => text("reason"),
        "extended" => d.get("until").and_then(|v| v.as_i64()).map(|t| {
            format!(
                "{} · {}",
                money_format::date_time(t, lang),
                text("reason").unwrap_or_default()
            )
        }),
        "offline_code_issued" | "offline_code_used" => d
            .get("days")
            .and_then(|v| v.as_u64())
            .map(|n| super::codes::days_text(lang, n)),
        "customer_ref_set" => Some(format!(
            "{} → {}",
            text("before").unwrap_or_else(|| "—".into()),
            text("after").unwrap_or_default()
        )),
        "completing" => d
            .get("release_at")
            .and_then(|v| v.as_i64())
            .map(|t| money_format::date_time(t, lang)),
        _ => None,
    };
    // A change an import made names the import (the same id as the lender's log).
    let detail = match (detail, text("import_id")) {
        (detail, None) => detail,
        (None, Some(id)) => Some(lang.tr_args("audit-import", &[("text", &id)])),
        (Some(d), Some(id)) => Some(format!(
            "{d} · {}",
            lang.tr_args("audit-import", &[("text", &id)])
        )),
    };
    TimelineRow {
        at: money_format::date_time(e.at, lang),
        who,
        what,
        detail,
    }
}

/// Whether the second post of a confirmation says yes.
fn confirmed(confirm: &str) -> bool {
    confirm == "yes"
}

/// The page again after a refusal of the domain (its explanation shown), or 404/500.
async fn refused(
    st: &AppState,
    auth: &StaffAuth,
    row: &DeviceRow,
    e: Error,
    entered: Entered,
) -> Response {
    match refusal(auth.lang, &e) {
        Some(text) => {
            let status = match e {
                Error::Conflict { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let row = devices::owned(st, &row.lender_id, &row.device_id)
                .await
                .unwrap_or_else(|_| row.clone());
            render(st, auth, &row, status, None, Some(text), entered).await
        }
        None => failed(auth.lang, e),
    }
}

/// The device after the permission check, or the answer.
async fn for_change(
    st: &AppState,
    auth: &StaffAuth,
    permission: Permission,
    id: &str,
) -> Result<DeviceRow, Response> {
    auth.require(permission)?;
    owned(st, auth, id).await
}

fn done(device_id: &str, what: &str) -> Response {
    super::see_other(&format!("{}?done={what}", path(device_id)))
}

/// The payment form.
#[derive(Deserialize)]
pub struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    allow_overpayment: Option<String>,
}

/// `POST /console/devices/{id}/payments`
pub async fn record_payment(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<PaymentForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::RecordPayments, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let entered = Entered {
        amount: form.amount.clone(),
        reference: form.reference.clone(),
        ..Entered::default()
    };
    let Some(amount_minor) = money_format::parse_amount(&form.amount, &row.currency) else {
        let text = auth.lang.tr_args(
            "error-field-invalid",
            &[("field", &auth.lang.tr("field-amount"))],
        );
        return render(
            &st,
            &auth,
            &row,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(text),
            entered,
        )
        .await;
    };
    let key = match payments::check_idempotency_key(Some(&form.key)) {
        Ok(key) => key,
        Err(_) => match crate::ids::row_id("ck") {
            Ok(key) => key,
            Err(e) => return failed(auth.lang, e),
        },
    };
    let request = payments::PaymentRequest {
        amount_minor,
        currency: row.currency.clone(),
        reference: form.reference.clone(),
        allow_overpayment: form.allow_overpayment.as_deref() == Some("yes"),
    };
    match payments::record(&st, auth.session.caller(), &row, &key, &request).await {
        Ok(_) => done(&row.device_id, "payment"),
        Err(e) => {
            let offer_overpayment = matches!(&e, Error::Invalid { field, rule } if field == "amount_minor" && rule.contains("still owed"));
            let entered = Entered {
                offer_overpayment,
                ..entered
            };
            refused(&st, &auth, &row, e, entered).await
        }
    }
}

/// The customer reference form.
#[derive(Deserialize)]
pub struct CustomerRefForm {
    #[serde(default)]
    customer_ref: String,
}

/// `POST /console/devices/{id}/customer-ref`: the lender's reference changed through the
/// domain's update ([`devices::update::update`]: the registration's rule, audited).
pub async fn set_customer_ref(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<CustomerRefForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::RegisterSales, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let change = devices::update::DeviceUpdate {
        customer_ref: Some(form.customer_ref.clone()),
        ..Default::default()
    };
    match devices::update::update(&st, auth.session.caller(), &row, &change).await {
        Ok(_) => done(&row.device_id, "customer-ref"),
        Err(Error::Invalid { field, .. }) if field == "customer_ref" => {
            let entered = Entered {
                customer_ref: form.customer_ref,
                ..Entered::default()
            };
            let text = auth.lang.tr("customer-ref-error");
            render(
                &st,
                &auth,
                &row,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(text),
                entered,
            )
            .await
        }
        Err(e) => {
            let entered = Entered {
                customer_ref: form.customer_ref,
                ..Entered::default()
            };
            refused(&st, &auth, &row, e, entered).await
        }
    }
}

/// The void form (both steps).
#[derive(Deserialize)]
pub struct VoidForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /console/devices/{id}/payments/{payment_id}/void`
pub async fn void_payment(
    State(st): State<AppState>,
    Path((id, payment_id)): Path<(String, String)>,
    form: StaffForm<VoidForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::VoidPayments, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let lang = auth.lang;
    let reason = form.reason.trim().to_string();
    if let Err(e) = actions::check_reason(&reason) {
        return refused(&st, &auth, &row, e, Entered::default()).await;
    }
    if !confirmed(&form.confirm) {
        let (list, _) = match payments::list(&st, &row, None, Some(devices::MAX_PAGE)).await {
            Ok(list) => list,
            Err(e) => return failed(lang, e),
        };
        let Some(p) = list.into_iter().find(|p| p.payment_id == payment_id) else {
            return page::not_found(lang);
        };
        let amount = money_format::money(p.amount_minor, &p.currency, lang);
        return confirm(
            &auth,
            &row,
            format!("{}/payments/{payment_id}/void", path(&row.device_id)),
            lang.tr_args("confirm-void", &[("amount", &amount)]),
            vec![
                lang.tr_args("confirm-reference", &[("text", &p.reference)]),
                lang.tr_args("confirm-reason", &[("text", &reason)]),
                lang.tr("confirm-void-effect"),
            ],
            vec![("reason", reason)],
            "confirm-void-button",
        );
    }
    let req = voids::VoidRequest { reason };
    match voids::void(&st, auth.session.caller(), &row, &payment_id, &req).await {
        Ok(_) => done(&row.device_id, "voided"),
        Err(e) => refused(&st, &auth, &row, e, Entered::default()).await,
    }
}

fn confirm(
    auth: &StaffAuth,
    row: &DeviceRow,
    action: String,
    question: String,
    details: Vec<String>,
    fields: Vec<(&'static str, String)>,
    confirm_id: &'static str,
) -> Response {
    let page = ConfirmPage {
        chrome: auth.chrome(
            "confirm-title",
            path(&row.device_id),
            Some(Section::Devices),
        ),
        csrf: auth.csrf().to_string(),
        back: path(&row.device_id),
        action,
        question,
        details,
        fields,
        confirm_id,
    };
    page::render(StatusCode::OK, &page)
}

/// The lock form (both steps).
#[derive(Deserialize)]
pub struct LockForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /console/devices/{id}/lock`
pub async fn lock(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<LockForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::LockUnlock, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let lang = auth.lang;
    let reason = form.reason.trim().to_string();
    let entered = || Entered {
        lock_reason: form.reason.clone(),
        ..Entered::default()
    };
    if let Err(e) = actions::check_reason(&reason) {
        return refused(&st, &auth, &row, e, entered()).await;
    }
    if !confirmed(&form.confirm) {
        return confirm(
            &auth,
            &row,
            format!("{}/lock", path(&row.device_id)),
            lang.tr_args("confirm-lock", &[("name", &row.device_id)]),
            vec![
                lang.tr_args("confirm-reason", &[("text", &reason)]),
                lang.tr("confirm-lock-effect"),
            ],
            vec![("reason", reason)],
            "confirm-lock-button",
        );
    }
    match actions::lock(&st, auth.session.caller(), &row, &reason).await {
        Ok(_) => done(&row.device_id, "locked"),
        Err(e) => refused(&st, &auth, &row, e, entered()).await,
    }
}

/// A form whose only field is the confirmation.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /console/devices/{id}/unlock`
pub async fn unlock(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<ConfirmForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::LockUnlock, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    if !confirmed(&form.confirm) {
        let lang = auth.lang;
        return confirm(
            &auth,
            &row,
            format!("{}/unlock", path(&row.device_id)),
            lang.tr_args("confirm-unlock", &[("name", &row.device_id)]),
            vec![lang.tr("confirm-unlock-effect")],
            Vec::new(),
            "confirm-unlock-button",
        );
    }
    match actions::unlock(&st, auth.session.caller(), &row).await {
        Ok(_) => done(&row.device_id, "unlocked"),
        Err(e) => refused(&st, &auth, &row, e, Entered::default()).await,
    }
}

/// `POST /console/devices/{id}/release`
pub async fn release(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<ConfirmForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::Release, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    if !confirmed(&form.confirm) {
        let lang = auth.lang;
        return confirm(
            &auth,
            &row,
            format!("{}/release", path(&row.device_id)),
            lang.tr_args("confirm-release", &[("name", &row.device_id)]),
            vec![lang.tr("confirm-release-effect")],
            Vec::new(),
            "confirm-release-button",
        );
    }
    match actions::release(&st, auth.session.caller(), &row).await {
        Ok(_) => done(&row.device_id, "released"),
        Err(e) => refused(&st, &auth, &row, e, Entered::default()).await,
    }
}

/// The extension form (both steps).
#[derive(Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /console/devices/{id}/extend`: the lock moves to the end (23:59:59 UTC) of the
/// date given.
pub async fn extend(
    State(st): State<AppState>,
    Path(id): Path<String>,
    form: StaffForm<ExtendForm>,
) -> Response {
    let StaffForm { auth, form } = form;
    let row = match for_change(&st, &auth, Permission::Extend, &id).await {
        Ok(row) => row,
        Err(answer) => return answer,
    };
    let lang = auth.lang;
    let entered = || Entered {
        extend_until: form.until.clone(),
        extend_reason: form.reason.clone(),
        ..Entered::default()
    };
    let reason = form.reason.trim().to_string();
    let Some(until) = money_format::parse_date(&form.until).map(|t| t + 86_399) else {
        let e = Error::invalid("until", "a date");
        return refused(&st, &auth, &row, e, entered()).await;
    };
    if let Err(e) = actions::check_reason(&reason) {
        return refused(&st, &auth, &row, e, entered()).await;
    }
    if !confirmed(&form.confirm) {
        return confirm(
            &auth,
            &row,
            format!("{}/extend", path(&row.device_id)),
            lang.tr_args(
                "confirm-extend",
                &[("date", &money_format::date_time(until, lang))],
            ),
            vec![
                lang.tr_args("confirm-reason", &[("text", &reason)]),
                lang.tr("confirm-extend-effect"),
            ],
            vec![("until", form.until.trim().to_string()), ("reason", reason)],
            "confirm-extend-button",
        );
    }
    match actions::extend(&st, auth.session.caller(), &row, until, &reason).await {
        Ok(_) => done(&row.device_id, "extended"),
        Err(e) => refused(&st, &auth, &row, e, entered()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_explained_in_every_language() {
        for lang in Lang::ALL {
            for e in [
                Error::conflict("released", "x"),
                Error::conflict("not-lender-locked", "x"),
                Error::conflict("lender-locked", "x"),
                Error::conflict("duplicate-reference", "x"),
                Error::conflict("something-new", "x"),
                Error::invalid("amount_minor", "is more than the 5 still owed; …"),
                Error::invalid("reason", "1 to 350 characters"),
                Error::invalid("plan.installments[3].due", "in order"),
                Error::Compliance {
                    profile: "in-rbi-draft".into(),
                    rule: "lender_lock.allowed",
                    detail: "x".into(),
                },
            ] {
                let text = refusal(lang, &e).unwrap();
                assert!(!text.contains("device-error"), "{text}");
                if matches!(e, Error::Compliance { .. }) {
                    assert!(text.contains("lender_lock.allowed"), "{text}");
                    assert!(text.contains("in-rbi-draft"), "{text}");
                }
                assert!(!text.contains("field-"), "{text}");
            }
            assert_eq!(refusal(lang, &Error::NotFound), None);
        }
        assert_eq!(field_label("plan.installments[3].due"), "field-due-date");
        assert_eq!(field_label("plan.currency"), "field-currency");
    }

    #[test]
    fn days_past_due_counts_a_started_day() {
        use crate::devices::view::InstallmentView;
        use finlock_core::protocol::InstallmentStatus as I;
        let mut v = device_view();
        v.installments = vec![
            InstallmentView {
                due: 1_000,
                amount_minor: 5,
                status: I::Paid,
            },
            InstallmentView {
                due: 2_000,
                amount_minor: 5,
                status: I::Overdue,
            },
        ];
        assert_eq!(days_past_due(&v, 2_000), 0);
        assert_eq!(days_past_due(&v, 2_001), 1);
        assert_eq!(days_past_due(&v, 2_000 + 86_400), 1);
        assert_eq!(days_past_due(&v, 2_001 + 86_400), 2);
    }

    fn device_view() -> view::DeviceView {
        view::DeviceView {
            device_id: "d".into(),
            enrolled: true,
            state: crate::policy::DeviceStatus::Overdue,
            lock_at: None,
            currency: "KES".into(),
            total_minor: 10,
            paid_minor: 5,
            amount_due_minor: 5,
            next_due: None,
            installments: Vec::new(),
            lender_locked: false,
            lock_reason: None,
            extended_until: None,
            release_at: None,
            auto_reprovision: false,
            imei_registered: false,
            created_at: 0,
            enrolled_at: None,
            last_checkin: None,
            app_version: None,
            customer_ref: None,
            imei_last4: None,
        }
    }
}
