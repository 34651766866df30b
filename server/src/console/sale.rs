//! `/console/sales/new`: registering a sale — the plan, as "n installments of an amount
//! every month from a date" or as a table of due dates and amounts, the currency, the
//! grace days, an optional IMEI and customer reference, automatic re-provisioning — and
//! `/console/sales/{id}`: the provisioning QR, large enough to scan from the screen, and
//! the one-time enrollment code in large characters.
//!
//! The sale is registered by [`register::register`], the JSON API's operation, with the
//! signed-in staff member as the caller; every rule of the plan is the domain's. The
//! console only reads the form: amounts as typed (in the currency's units), dates as the
//! date input sends them (midnight UTC). A refusal shows the form again with what was
//! entered and a message naming the field. The table grows by submitting "add rows"
//! (no script needed). Success leads to the QR page (a GET, so a reload registers nothing
//! twice); the QR and code are shown while the code is unused, and only to roles that may
//! register sales (the code lets a phone enroll).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::auth::{StaffAuth, StaffForm};
use super::device::refusal;
use super::i18n::Lang;
use super::money_format;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::devices::register::{self, PlanRequest, Registration};
use crate::error::Error;
use crate::policy::PlanInstallment;
use crate::provisioning::{self, QrFormat};
use crate::staff::Permission;

/// The form's path.
pub const PATH: &str = "/console/sales/new";

/// Table rows shown at first, and added by "add rows".
const ROWS_STEP: usize = 4;
/// The most rows the table grows to (the domain's most installments).
const MAX_ROWS: usize = 120;

/// One row of the table as entered.
#[derive(Clone, Default)]
pub struct Row {
    pub due: String,
    pub amount: String,
}

/// The form as entered (or empty).
#[derive(Clone)]
pub struct SaleForm {
    /// `monthly` or `table`.
    pub mode: String,
    pub count: String,
    pub amount: String,
    pub first_due: String,
    pub rows: Vec<Row>,
    pub currency: String,
    pub grace_days: String,
    pub imei: String,
    pub customer_ref: String,
    pub auto_reprovision: bool,
}

impl Default for SaleForm {
    fn default() -> SaleForm {
        SaleForm {
            mode: "monthly".into(),
            count: String::new(),
            amount: String::new(),
            first_due: String::new(),
            rows: vec![Row::default(); ROWS_STEP],
            currency: String::new(),
            grace_days: "7".into(),
            imei: String::new(),
            customer_ref: String::new(),
            auto_reprovision: false,
        }
    }
}

impl SaleForm {
    /// The form from its posted fields (unknown fields ignored).
    pub fn from_pairs(pairs: &[(String, String)]) -> SaleForm {
        let mut f = SaleForm {
            rows: Vec::new(),
            ..SaleForm::default()
        };
        let mut rows: Vec<Row> = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "mode" => f.mode = v.clone(),
                "count" => f.count = v.clone(),
                "amount" => f.amount = v.clone(),
                "first_due" => f.first_due = v.clone(),
                "currency" => f.currency = v.clone(),
                "grace_days" => f.grace_days = v.clone(),
                "imei" => f.imei = v.clone(),
                "customer_ref" => f.customer_ref = v.clone(),
                "auto_reprovision" => f.auto_reprovision = v == "yes",
                // Rows come in order: each a due date, then its amount.
                "row_due" if rows.len() < MAX_ROWS => rows.push(Row {
                    due: v.clone(),
                    amount: String::new(),
                }),
                "row_amount" => {
                    if let Some(last) = rows.last_mut() {
                        last.amount = v.clone();
                    }
                }
                _ => {}
            }
        }
        if f.mode != "table" {
            f.mode = "monthly".into();
        }
        f.rows = if rows.is_empty() {
            vec![Row::default(); ROWS_STEP]
        } else {
            rows
        };
        f
    }

    /// The domain's registration, or the field that could not be read (a message).
    pub fn registration(&self, lang: Lang) -> Result<Registration, String> {
        let bad = |label: String| lang.tr_args("error-field-invalid", &[("field", &label)]);
        let currency = self.currency.trim().to_ascii_uppercase();
        let grace_days: u32 = self
            .grace_days
            .trim()
            .parse()
            .map_err(|_| bad(lang.tr("field-grace-days")))?;
        let installments = if self.mode == "table" {
            let mut out = Vec::new();
            for (i, row) in self.rows.iter().enumerate() {
                if row.due.trim().is_empty() && row.amount.trim().is_empty() {
                    continue;
                }
                let n = (i + 1).to_string();
                let due = money_format::parse_date(&row.due)
                    .ok_or_else(|| bad(lang.tr_args("field-row-due", &[("row", &n)])))?;
                let amount_minor = money_format::parse_amount(&row.amount, &currency)
                    .ok_or_else(|| bad(lang.tr_args("field-row-amount", &[("row", &n)])))?;
                out.push(PlanInstallment { due, amount_minor });
            }
            if out.is_empty() {
                return Err(bad(lang.tr("field-installments")));
            }
            out
        } else {
            let count: u32 = self
                .count
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=MAX_ROWS as u32).contains(n))
                .ok_or_else(|| bad(lang.tr("field-count")))?;
            let amount_minor = money_format::parse_amount(&self.amount, &currency)
                .ok_or_else(|| bad(lang.tr("field-installment-amount")))?;
            money_format::monthly(&self.first_due, count)
                .ok_or_else(|| bad(lang.tr("field-first-due")))?
                .into_iter()
                .map(|due| PlanInstallment { due, amount_minor })
                .collect()
        };
        let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Registration {
            imei: optional(&self.imei),
            auto_reprovision: self.auto_reprovision,
            plan: PlanRequest {
                currency,
                grace_days,
                offline_lock_after_days: None,
                installments,
            },
            reminders: None,
            customer_ref: optional(&self.customer_ref),
        })
    }
}

/// The form page.
#[derive(Template)]
#[template(path = "console/sale_new.html")]
pub struct SalePage {
    pub chrome: Chrome,
    pub csrf: String,
    pub form: SaleForm,
    pub error: Option<String>,
}

impl SalePage {
    pub fn monthly(&self) -> bool {
        self.form.mode != "table"
    }
}

/// The QR page.
#[derive(Template)]
#[template(path = "console/sale_done.html")]
pub struct DonePage {
    pub chrome: Chrome,
    pub device_id: String,
    /// The QR as a `data:` URI (SVG); `None` once the code is used.
    pub qr: Option<String>,
    pub code: Option<String>,
}

fn form_page(
    auth: &StaffAuth,
    status: StatusCode,
    form: SaleForm,
    error: Option<String>,
) -> Response {
    let page = SalePage {
        chrome: auth.chrome("sale-title", PATH, Some(Section::RegisterSale)),
        csrf: auth.csrf().to_string(),
        form,
        error,
    };
    page::render(status, &page)
}

/// `GET /console/sales/new`
pub async fn show(auth: StaffAuth) -> Response {
    if let Err(refused) = auth.require(Permission::RegisterSales) {
        return refused;
    }
    form_page(&auth, StatusCode::OK, SaleForm::default(), None)
}

/// `POST /console/sales/new`: "add rows" shows the form again with more table rows;
/// anything else registers.
pub async fn submit(
    State(st): State<AppState>,
    form: StaffForm<Vec<(String, String)>>,
) -> Response {
    let StaffForm { auth, form: pairs } = form;
    if let Err(refused) = auth.require(Permission::RegisterSales) {
        return refused;
    }
    let mut form = SaleForm::from_pairs(&pairs);
    if pairs.iter().any(|(k, v)| k == "action" && v == "add-rows") {
        form.mode = "table".into();
        let more = (form.rows.len() + ROWS_STEP).min(MAX_ROWS);
        form.rows.resize(more, Row::default());
        return form_page(&auth, StatusCode::OK, form, None);
    }
    let registration = match form.registration(auth.lang) {
        Ok(r) => r,
        Err(text) => return form_page(&auth, StatusCode::UNPROCESSABLE_ENTITY, form, Some(text)),
    };
    match register::register(&st, auth.session.caller(), &registration).await {
        Ok(done) => super::see_other(&format!("/console/sales/{}", done.device_id)),
        Err(e) => match refusal(auth.lang, &e) {
            Some(text) => {
                let status = match e {
                    Error::Conflict { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                form_page(&auth, status, form, Some(text))
            }
            None => {
                tracing::error!(error = %e, "console sale failed");
                page::server_error(auth.lang)
            }
        },
    }
}

/// `GET /console/sales/{id}`: the device's provisioning QR and one-time code.
pub async fn done(State(st): State<AppState>, auth: StaffAuth, Path(id): Path<String>) -> Response {
    if let Err(refused) = auth.require(Permission::RegisterSales) {
        return refused;
    }
    let lender = &auth.session.lender;
    let row = match crate::devices::owned(&st, &lender.lender_id, &id).await {
        Ok(row) => row,
        Err(Error::NotFound) => return page::not_found(auth.lang),
        Err(e) => {
            tracing::error!(error = %e, "console sale page failed");
            return page::server_error(auth.lang);
        }
    };
    let usable = row.device_key.is_none() && !row.released;
    let qr = match (usable, row.enrollment_code.is_some()) {
        (true, true) => match provisioning::for_device(&st, lender, &row, QrFormat::Png) {
            Ok((_, png)) => Some(provisioning::data_uri_of_png(&png)),
            Err(e) => {
                tracing::error!(error = %e, "provisioning QR failed");
                return page::server_error(auth.lang);
            }
        },
        _ => None,
    };
    let page = DonePage {
        chrome: auth.chrome(
            "sale-done-title",
            format!("/console/sales/{id}"),
            Some(Section::RegisterSale),
        ),
        device_id: row.device_id.clone(),
        code: qr.as_ref().and(row.enrollment_code.clone()),
        qr,
    };
    page::render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::device::field_label;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_monthly_plan_becomes_installments_a_month_apart() {
        let f = SaleForm::from_pairs(&pairs(&[
            ("mode", "monthly"),
            ("count", "3"),
            ("amount", "1,500.50"),
            ("first_due", "2026-01-31"),
            ("currency", "kes"),
            ("grace_days", "5"),
            ("imei", " "),
            ("auto_reprovision", "yes"),
        ]));
        let r = f.registration(Lang::En).unwrap();
        assert_eq!(r.plan.currency, "KES");
        assert_eq!(r.plan.grace_days, 5);
        assert_eq!(r.imei, None);
        assert!(r.auto_reprovision);
        let dues: Vec<String> = r
            .plan
            .installments
            .iter()
            .map(|i| money_format::iso_date(i.due))
            .collect();
        assert_eq!(dues, ["2026-01-31", "2026-02-28", "2026-03-31"]);
        assert!(
            r.plan
                .installments
                .iter()
                .all(|i| i.amount_minor == 150_050)
        );
    }

    #[test]
    fn a_table_skips_empty_rows_and_names_a_bad_one() {
        let f = SaleForm::from_pairs(&pairs(&[
            ("mode", "table"),
            ("currency", "UGX"),
            ("grace_days", "0"),
            ("row_due", "2026-02-01"),
            ("row_amount", "100,000"),
            ("row_due", ""),
            ("row_amount", ""),
            ("row_due", "2026-03-01"),
            ("row_amount", "50000"),
        ]));
        let r = f.registration(Lang::En).unwrap();
        let amounts: Vec<u64> = r.plan.installments.iter().map(|i| i.amount_minor).collect();
        assert_eq!(amounts, [100_000, 50_000]);
        let f = SaleForm::from_pairs(&pairs(&[
            ("mode", "table"),
            ("currency", "UGX"),
            ("grace_days", "0"),
            ("row_due", "2026-02-01"),
            ("row_amount", "100,000"),
            ("row_due", "01/03/2026"),
            ("row_amount", "5"),
        ]));
        let e = f.registration(Lang::En).unwrap_err();
        assert!(e.contains("row 2"), "{e}");
    }

    #[test]
    fn every_unreadable_field_is_named() {
        let good = [
            ("count", "3"),
            ("amount", "100"),
            ("first_due", "2026-01-01"),
            ("currency", "KES"),
            ("grace_days", "7"),
        ];
        assert!(
            SaleForm::from_pairs(&pairs(&good))
                .registration(Lang::En)
                .is_ok()
        );
        for (field, bad, label) in [
            ("count", "0", "field-count"),
            ("count", "121", "field-count"),
            ("amount", "12abc", "field-installment-amount"),
            ("first_due", "tomorrow", "field-first-due"),
            ("grace_days", "-1", "field-grace-days"),
        ] {
            let mut list = good.to_vec();
            list.retain(|(k, _)| *k != field);
            list.push((field, bad));
            for lang in Lang::ALL {
                let e = SaleForm::from_pairs(&pairs(&list))
                    .registration(lang)
                    .unwrap_err();
                assert!(e.contains(&lang.tr(label)), "{field}: {e}");
            }
        }
        assert_eq!(field_label("plan.grace_days"), "field-grace-days");
    }
}
