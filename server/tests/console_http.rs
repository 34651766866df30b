//! The lender console over plain HTTP against a real `finlock serve` (issue 16): security
//! headers on every answer, the redirect to sign in, the language from the cookie or
//! `Accept-Language`, the picker's cookie and its refusals, cached assets, light pages
//! (every page's weight within its budget, printed as a table), and the console kept out
//! of the API's document and metrics labels.

#![cfg(unix)]

mod common;
#[path = "console_browser/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::console::{Agent, FORM, form_body};
use harness::{Server, http_client};
use reqwest::StatusCode;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use serde_json::Value;

const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn assert_secure_headers(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    assert_eq!(h[CONTENT_SECURITY_POLICY], CSP, "{what}");
    assert_eq!(h[X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(h[REFERRER_POLICY], "no-referrer", "{what}");
}

async fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = http_client().get(format!("{}{path}", server.url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// The stylesheet's path, read from a page.
fn stylesheet(html: &str) -> String {
    let marker = "rel=\"stylesheet\" href=\"";
    let at = html.find(marker).unwrap() + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn every_console_answer_carries_the_security_headers() {
    let server = Server::start();
    let login = get(&server, "/console/login", &[]).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_secure_headers(&login, "login");
    assert_eq!(login.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(login.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let html = login.text().await.unwrap();
    for (path, status) in [
        ("/console/", StatusCode::SEE_OTHER),
        ("/console", StatusCode::SEE_OTHER),
        ("/console/devices/dev-1", StatusCode::SEE_OTHER),
        ("/console/assets/nope.css", StatusCode::NOT_FOUND),
        (stylesheet(&html).as_str(), StatusCode::OK),
    ] {
        let r = get(&server, path, &[]).await;
        assert_eq!(r.status(), status, "{path}");
        assert_secure_headers(&r, path);
    }
    let post = http_client()
        .post(format!("{}/console/lang", server.url))
        .header(CONTENT_TYPE, FORM)
        .body(form_body(&[("lang", "sw"), ("next", "/console/login")]))
        .send()
        .await
        .unwrap();
    assert_secure_headers(&post, "POST /console/lang");
}

#[tokio::test]
async fn a_visitor_who_is_not_signed_in_is_sent_to_sign_in() {
    let server = Server::start();
    // With a lender in the database too: nothing of it shows before sign-in.
    let added = server
        .finlock()
        .args([
            "lender",
            "add",
            "<script>alert(1)</script>",
            "--phone",
            "+254700000001",
        ])
        .args(["--payment-url", "https://pay.example/p"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let login = get(&server, "/console/login", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!login.contains("alert(1)"), "{login}");
    for path in ["/console/", "/console", "/console/x/y?z=1"] {
        let r = get(&server, path, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()[LOCATION], "/console/login", "{path}");
    }
    // A page that exists is come back to after signing in.
    let r = get(&server, "/console/devices", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/console/login?next=/console/devices"
    );
    // The API keeps its own problem+json 404 outside the console.
    let r = get(&server, "/consoles", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/problem+json");
}

#[tokio::test]
async fn the_language_is_the_cookies_else_accept_language_else_english() {
    let server = Server::start();
    let page = |headers: &'static [(&'static str, &'static str)]| {
        let server = &server;
        async move {
            get(server, "/console/login", headers)
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let english = page(&[]).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains("<h1>Sign in</h1>"));
    let swahili = page(&[("accept-language", "fr;q=0.9, sw-KE;q=0.8")]).await;
    assert!(swahili.contains("<html lang=\"sw\">") && swahili.contains("<h1>Ingia</h1>"));
    let spanish = page(&[("accept-language", "sw"), ("cookie", "a=b; lang=es")]).await;
    assert!(spanish.contains("<html lang=\"es\">"));
    assert!(spanish.contains("<h1>Iniciar sesión</h1>"), "{spanish}");
    let unknown = page(&[("accept-language", "de"), ("cookie", "lang=<x>")]).await;
    assert!(unknown.contains("<html lang=\"en\">"));
    // The 404 page too.
    let r = get(&server, "/console/assets/x", &[("accept-language", "es")]).await;
    assert!(r.text().await.unwrap().contains("Página no encontrada"));
}

#[tokio::test]
async fn the_language_picker_sets_a_strict_cookie_and_only_leads_back_into_the_console() {
    let server = Server::start();
    let post = |form: Vec<(&'static str, &'static str)>, site: Option<&'static str>| {
        let url = format!("{}/console/lang", server.url);
        async move {
            let mut req = http_client()
                .post(url)
                .header(CONTENT_TYPE, FORM)
                .body(form_body(&form));
            if let Some(site) = site {
                req = req.header("sec-fetch-site", site);
            }
            req.send().await.unwrap()
        }
    };
    let r = post(
        vec![("lang", "sw"), ("next", "/console/login")],
        Some("same-origin"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/console/login");
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for part in [
        "lang=sw",
        "Path=/console",
        "SameSite=Strict",
        "HttpOnly",
        "Max-Age=",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Never an open redirect.
    for next in ["https://evil.example/", "//evil.example/x", "/v1/devices"] {
        let r = post(vec![("lang", "es"), ("next", next)], None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()[LOCATION], "/console/", "{next}");
    }
    // Another website's form: refused, no cookie.
    let r = post(
        vec![("lang", "es"), ("next", "/console/")],
        Some("cross-site"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get(SET_COOKIE).is_none());
    // A language we do not have, or no form at all: 400, no cookie.
    for form in [
        vec![("lang", "fr")],
        vec![("lang", "sw-KE")],
        vec![("next", "/console/")],
    ] {
        let r = post(form.clone(), None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert!(r.headers().get(SET_COOKIE).is_none(), "{form:?}");
    }
    let r = http_client()
        .post(format!("{}/console/lang", server.url))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"lang\":\"sw\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_are_light_and_have_no_inline_code() {
    let server = Server::start();
    let html = get(&server, "/console/login", &[])
        .await
        .text()
        .await
        .unwrap();
    for inline in ["<script", "<style", " style=", "onclick=", "javascript:"] {
        assert!(!html.contains(inline), "{inline} in {html}");
    }
    let css = get(&server, &stylesheet(&html), &[]).await;
    assert_eq!(
        css.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    let css = css.bytes().await.unwrap();
    // HTML and CSS of a page: well under 20 KB on a phone with scarce data.
    assert!(
        html.len() + css.len() < 20 * 1024,
        "{} + {} bytes",
        html.len(),
        css.len()
    );
    // The stylesheet's name changes with its content: an old name is not served.
    let r = get(&server, "/console/assets/console.000000000000.css", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_console_is_not_part_of_the_api_document_nor_a_metrics_label_per_path() {
    let server = Server::start();
    let doc: Value = get(&server, "/openapi.json", &[])
        .await
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    assert!(
        paths.keys().all(|p| !p.starts_with("/console")),
        "{paths:?}"
    );
    for path in [
        "/console/login",
        "/console/devices/dev-secret-1",
        "/console/",
    ] {
        get(&server, path, &[]).await;
    }
    let metrics = get(&server, "/metrics", &[]).await.text().await.unwrap();
    assert!(metrics.contains("route=\"/console/*\""), "{metrics}");
    assert!(!metrics.contains("dev-secret-1"), "{metrics}");
    assert!(!metrics.contains("/console/login"), "{metrics}");
}

const PASSWORD: &str = "correct horse battery staple";

/// Every console page a member of staff meets, with its budget: the bytes of its HTML
/// (the shared stylesheet is counted once beside it, [`CSS_BUDGET`]). A shop clerk on a
/// phone pays for every byte; the sale's page carries its QR code as an inline SVG.
const BUDGETS: &[(&str, usize)] = &[
    ("login", 4 * 1024),
    ("invite", 4 * 1024),
    ("dashboard", 8 * 1024),
    ("devices", 8 * 1024),
    ("device", 16 * 1024),
    ("sale-new", 8 * 1024),
    // The QR code is a PNG in a data: URI (an SVG of one path per module, percent-encoded,
    // made this page 80 KB).
    ("sale-done", 12 * 1024),
    ("codes", 6 * 1024),
    ("import", 6 * 1024),
    ("staff", 8 * 1024),
    ("account", 6 * 1024),
];

/// The stylesheet every page shares (one file, cached a year).
const CSS_BUDGET: usize = 12 * 1024;

/// The weight table: page, HTML bytes, CSS bytes, budget.
fn weight_table(rows: &[(String, usize, usize, usize)]) -> String {
    let mut out = format!(
        "{:<10} {:>10} {:>9} {:>10}\n",
        "page", "HTML bytes", "CSS bytes", "HTML budget"
    );
    for (page, html, css, budget) in rows {
        out.push_str(&format!("{page:<10} {html:>10} {css:>9} {budget:>10}\n"));
    }
    out
}

/// Every page (a lender with a device that has a plan, a payment and a timeline; an owner
/// who sees the staff page) weighs at most its budget in HTML, and the stylesheet at most
/// [`CSS_BUDGET`]. The table is printed, and written to `$FINLOCK_CONSOLE_SCREENS/
/// page-weight.txt` when set (`cargo xtask console-screens` shows it).
#[tokio::test]
async fn every_page_weighs_at_most_its_budget() {
    let server = Server::start();
    let lender = server.add_lender("Acme Device Finance Ltd");
    server.add_staff(
        &lender,
        "olive@acme.example",
        "Olive Owner",
        "owner",
        PASSWORD,
    );
    let owner = Agent::signed_in(&server.url, "olive@acme.example", PASSWORD).await;
    // A sale of 12 monthly installments, and a payment on it.
    let first_due = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let sold = owner
        .send(
            "/console/sales/new",
            &[
                ("mode", "monthly"),
                ("count", "12"),
                ("amount", "1,500"),
                ("first_due", &first_due),
                ("currency", "KES"),
                ("grace_days", "3"),
                ("customer_ref", "CT-2026/0042"),
                ("action", "register"),
            ],
        )
        .await;
    sold.expect(StatusCode::SEE_OTHER, "the sale");
    let id = sold
        .location
        .strip_prefix("/console/sales/")
        .unwrap()
        .to_string();
    let device = owner.get(&format!("/console/devices/{id}")).await;
    let paid = owner
        .send(
            &format!("/console/devices/{id}/payments"),
            &[
                ("key", &device.hidden("key")),
                ("amount", "1,500"),
                ("reference", "MPESA-QX1"),
            ],
        )
        .await;
    paid.expect(StatusCode::SEE_OTHER, "the payment");
    let invited = owner
        .send(
            "/console/staff/invite",
            &[
                ("email", "nia@acme.example"),
                ("name", "Nia Njeri"),
                ("role", "agent"),
            ],
        )
        .await;
    invited.expect(StatusCode::OK, "the invitation");
    // The link is shown once, breakable (<wbr>) to fit a phone.
    let shown = &invited.body[invited.body.find("id=\"once-value\">").unwrap()..];
    let link = shown[..shown.find("</code>").unwrap()].replace("<wbr>", "");
    let invite = &link[link.find("/console/invite/").unwrap()..];

    let anonymous = Agent::new(&server.url);
    let mut rows = Vec::new();
    let mut css_path = String::new();
    for (page, budget) in BUDGETS {
        let (who, path) = match *page {
            "login" => (&anonymous, "/console/login".to_string()),
            "invite" => (&anonymous, invite.to_string()),
            "dashboard" => (&owner, "/console/".into()),
            "devices" => (&owner, "/console/devices".into()),
            "device" => (&owner, format!("/console/devices/{id}")),
            "sale-new" => (&owner, "/console/sales/new".into()),
            "sale-done" => (&owner, format!("/console/sales/{id}")),
            "codes" => (&owner, "/console/codes".into()),
            "import" => (&owner, "/console/import".into()),
            "staff" => (&owner, "/console/staff".into()),
            "account" => (&owner, "/console/account".into()),
            other => panic!("no way to {other}"),
        };
        let answer = who.get(&path).await;
        answer.expect(StatusCode::OK, page);
        let css = stylesheet(&answer.body);
        assert!(
            css_path.is_empty() || css_path == css,
            "{page}: another stylesheet"
        );
        css_path = css;
        rows.push((page.to_string(), answer.body.len(), 0, *budget));
    }
    let css = get(&server, &css_path, &[])
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    for row in &mut rows {
        row.2 = css;
    }
    let table = weight_table(&rows);
    println!("{table}");
    if let Some(dir) = std::env::var_os("FINLOCK_CONSOLE_SCREENS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join("page-weight.txt"), &table).unwrap();
    }
    let over: Vec<&(String, usize, usize, usize)> = rows
        .iter()
        .filter(|(_, html, _, budget)| html > budget)
        .collect();
    assert!(over.is_empty(), "over budget: {over:?}\n{table}");
    assert!(css <= CSS_BUDGET, "the stylesheet is {css} bytes\n{table}");
    // Each page measured is a real one: more than the bare layout.
    assert!(rows.iter().all(|(_, html, _, _)| *html > 1024), "{table}");
}
