//! `/console/import`: bulk import — a CSV of sales or of payments uploaded (or pasted),
//! "check only" (a dry run) or "import". The file goes to the JSON API's operation
//! ([`crate::devices::import::apply`]) with the signed-in staff member as the caller:
//! every bad row is listed (line, column, reason) and nothing is stored unless every
//! row is good; an import of sales lists the new devices with their one-time codes and
//! offers them as a CSV download.
//!
//! The form is `multipart/form-data` (a file input), read whole up to the import's
//! 2 MiB (plus the form's own fields) on this route only; the CSRF token is checked
//! before anything of the upload is used. Only roles with [`Permission::Import`].

use askama::Template;
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::auth::{StaffAuth, cross_site};
use super::i18n::Lang;
use super::page::{self, Chrome, Section};
use crate::app::App as AppState;
use crate::devices::import::apply::{self, Failure, ImportedPayment, ImportedSale, PaymentStatus};
use crate::devices::import::{MAX_BYTES, RowError};
use crate::devices::search::csv_field;
use crate::staff::{self, Permission};

/// The page's path.
pub const PATH: &str = "/console/import";

/// The largest form body: the file and a few small fields.
pub const MAX_FORM: usize = MAX_BYTES + 16 * 1024;

/// The page: the form, and the last attempt's errors or results.
#[derive(Template)]
#[template(path = "console/import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub csrf: String,
    /// `sales` or `payments`.
    pub kind: String,
    /// A message for the whole form (no file, unreadable upload).
    pub error: Option<String>,
    pub errors: Vec<RowError>,
    pub error_count: usize,
    pub dry_run: bool,
    pub sales: Vec<ImportedSale>,
    pub payments: Vec<ImportedPayment>,
    /// Whether the last attempt was good (then `sales` or `payments` holds its rows).
    pub done: bool,
    /// The new devices and their codes as a `data:` URI CSV.
    pub codes_csv: Option<String>,
}

impl ImportPage {
    fn new(auth: &StaffAuth, kind: &str) -> ImportPage {
        ImportPage {
            chrome: auth.chrome("import-title", PATH, Some(Section::Import)),
            csrf: auth.csrf().to_string(),
            kind: kind.to_string(),
            error: None,
            errors: Vec::new(),
            error_count: 0,
            dry_run: false,
            sales: Vec::new(),
            payments: Vec::new(),
            done: false,
            codes_csv: None,
        }
    }

    pub fn is_sales(&self) -> bool {
        self.kind != "payments"
    }

    pub fn more_errors(&self) -> String {
        (self.error_count - self.errors.len()).to_string()
    }

    pub fn error_heading(&self) -> String {
        self.chrome.t_arg(
            "import-errors-heading",
            "text",
            &self.error_count.to_string(),
        )
    }

    pub fn done_heading(&self) -> String {
        let (id, n) = match (self.is_sales(), self.dry_run) {
            (true, true) => ("import-checked-sales", self.sales.len()),
            (true, false) => ("import-done-sales", self.sales.len()),
            (false, true) => ("import-checked-payments", self.payments.len()),
            (false, false) => ("import-done-payments", self.payments.len()),
        };
        self.chrome.t_arg(id, "text", &n.to_string())
    }

    pub fn status(&self, p: &ImportedPayment) -> String {
        self.chrome.t(match p.status {
            PaymentStatus::Recorded if self.dry_run => "import-status-would-record",
            PaymentStatus::Recorded => "import-status-recorded",
            PaymentStatus::AlreadyRecorded => "import-status-already",
        })
    }

    /// A row error in the reader's language: its code's message with its parameters.
    pub fn reason(&self, e: &RowError) -> String {
        reason_text(self.chrome.lang, e)
    }

    pub fn column(&self, e: &RowError) -> String {
        e.column.clone().unwrap_or_else(|| "—".into())
    }

    pub fn or_dash(&self, text: &Option<String>) -> String {
        text.clone().unwrap_or_else(|| "—".into())
    }
}

/// `GET /console/import`
pub async fn show(auth: StaffAuth) -> Response {
    if let Err(refused) = auth.require(Permission::Import) {
        return refused;
    }
    page::render(StatusCode::OK, &ImportPage::new(&auth, "sales"))
}

/// What the form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    kind: String,
    dry_run: bool,
    file: Vec<u8>,
    pasted: String,
}

async fn read_upload(req: Request, st: &AppState) -> Option<Upload> {
    let mut multipart = Multipart::from_request(req, st).await.ok()?;
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field.bytes().await.ok()?;
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "kind" => upload.kind = String::from_utf8_lossy(&bytes).into_owned(),
            "action" => upload.dry_run = bytes.as_ref() != b"import",
            "file" => upload.file = bytes.to_vec(),
            "text" => upload.pasted = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    Some(upload)
}

/// `POST /console/import` (multipart): check or import the file.
pub async fn submit(State(st): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let auth = match StaffAuth::from_request_parts(&mut parts, &st).await {
        Ok(auth) => auth,
        Err(refused) => return refused,
    };
    if cross_site(&parts) {
        return page::cross_site(auth.lang);
    }
    let req = Request::from_parts(parts, body);
    let Some(upload) = read_upload(req, &st).await else {
        return page::bad_request(auth.lang);
    };
    // The token before anything of the upload is used.
    if !staff::csrf_valid(auth.token(), &upload.csrf) {
        tracing::info!(staff_id = %auth.staff_id(), "console import refused: CSRF token missing or wrong");
        return page::form_expired(auth.lang);
    }
    if let Err(refused) = auth.require(Permission::Import) {
        return refused;
    }
    let kind = if upload.kind == "payments" {
        "payments"
    } else {
        "sales"
    };
    let mut page = ImportPage::new(&auth, kind);
    page.dry_run = upload.dry_run;
    let bytes = if upload.file.is_empty() {
        upload.pasted.into_bytes()
    } else {
        upload.file
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        page.error = Some(auth.lang.tr("import-error-no-file"));
        return page::render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let by = auth.session.caller();
    let result = if kind == "sales" {
        apply::import_sales(&st, by, &bytes, upload.dry_run)
            .await
            .map(|done| page.sales = done.devices)
    } else {
        apply::import_payments(&st, by, &bytes, upload.dry_run)
            .await
            .map(|done| page.payments = done.payments)
    };
    match result {
        Ok(()) => {
            page.done = true;
            if !page.dry_run && !page.sales.is_empty() {
                page.codes_csv = Some(codes_csv(&page.sales));
            }
            page::render(StatusCode::OK, &page)
        }
        Err(Failure::Rows(rejected)) => {
            page.error_count = rejected.error_count;
            page.errors = rejected.errors;
            page::render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(Failure::Error(e)) => match super::device::refusal(auth.lang, &e) {
            Some(text) => {
                page.error = Some(text);
                page::render(StatusCode::CONFLICT, &page)
            }
            None => {
                tracing::error!(error = %e, "console import failed");
                page::server_error(auth.lang)
            }
        },
    }
}

/// A row error in `lang`: the message `import-reason-<code>` with the code's parameters.
/// A rule of the shared operations without a code of its own ([`crate::devices::import::Reason::Refused`]) is
/// named by its field, its English words kept only in the JSON answer.
pub fn reason_text(lang: Lang, e: &RowError) -> String {
    let params = e.code.params();
    let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    lang.tr_args(&e.code.message_id(), &args)
}

/// The new devices as a CSV (`line,device_id,enrollment_code,customer_ref`) in a
/// `data:` URI, percent-encoded.
pub fn codes_csv(sales: &[ImportedSale]) -> String {
    let mut csv = String::from("line,device_id,enrollment_code,customer_ref\r\n");
    for s in sales {
        csv.push_str(&format!(
            "{},{},{},{}\r\n",
            s.line,
            s.device_id.as_deref().unwrap_or(""),
            s.enrollment_code.as_deref().unwrap_or(""),
            csv_field(s.customer_ref.as_deref().unwrap_or(""))
        ));
    }
    let mut out = String::from("data:text/csv;charset=utf-8,");
    for b in csv.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::import::Reason;

    /// Every reason code has its message in every language, every parameter filled in,
    /// and Swahili and Spanish are not the English text.
    #[test]
    fn every_row_error_reads_in_every_language() {
        for code in Reason::samples() {
            let e = RowError::new(2, Some("amount"), code.clone());
            let english = reason_text(Lang::En, &e);
            assert_ne!(english, code.message_id(), "missing in en: {code:?}");
            for (_, value) in code.params() {
                assert!(english.contains(&value), "{english} lacks {value}");
            }
            for lang in [Lang::Sw, Lang::Es] {
                let text = reason_text(lang, &e);
                assert_ne!(
                    text,
                    code.message_id(),
                    "missing in {}: {code:?}",
                    lang.code()
                );
                assert_ne!(text, english, "{} left in English: {code:?}", lang.code());
                for (_, value) in code.params() {
                    assert!(
                        text.contains(&value),
                        "{}: {text} lacks {value}",
                        lang.code()
                    );
                }
            }
        }
    }

    #[test]
    fn the_codes_download_is_a_csv_with_formula_cells_guarded() {
        let uri = codes_csv(&[ImportedSale {
            line: 2,
            device_id: Some("dev-1".into()),
            enrollment_code: Some("ABCD-1234".into()),
            customer_ref: Some("=cmd".into()),
        }]);
        assert!(uri.starts_with("data:text/csv;charset=utf-8,line,device_id"));
        assert!(uri.contains("2,dev-1,ABCD-1234,%27%3Dcmd%0D%0A"), "{uri}");
        assert!(!uri.contains(['<', '>', '"', '\'', ' ']));
    }
}
