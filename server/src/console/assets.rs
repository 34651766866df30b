//! The console's static files, embedded in the binary and served from
//! `/console/assets/NAME.HASH.EXT`: the name carries a hash of the content, so a browser
//! may keep a file for a year (`immutable`) and a new release is fetched at once.
//!
//! There is no JavaScript yet: every page works without it. A script added later goes
//! here too (one small file, never inline: the Content-Security-Policy forbids that).

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An embedded file.
pub struct Asset {
    /// What the URL names: `console.0123456789ab.css`.
    pub name: String,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// The files before hashing: (stem, extension, content type, content).
const FILES: &[(&str, &str, &str, &[u8])] = &[(
    "console",
    "css",
    "text/css; charset=utf-8",
    include_bytes!("assets/console.css"),
)];

/// Every asset, named by content.
pub fn all() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|(stem, ext, content_type, body)| Asset {
                name: format!("{stem}.{}.{ext}", content_hash(body)),
                content_type,
                body,
            })
            .collect()
    })
}

/// The first 12 hex digits of the content's SHA-256: enough to tell releases apart.
fn content_hash(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    digest.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The URL of the stylesheet every page links.
pub fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let name = all()
            .iter()
            .find(|a| a.name.ends_with(".css"))
            .map_or("", |a| a.name.as_str());
        format!("{}/assets/{name}", super::PREFIX)
    })
}

/// The asset `name` with year-long caching, or `None` (the caller answers 404).
pub fn serve(name: &str) -> Option<Response> {
    let asset = all().iter().find(|a| a.name == name)?;
    let mut response = (StatusCode::OK, asset.body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let css = &all()[0];
        assert!(css.name.starts_with("console.") && css.name.ends_with(".css"));
        assert_eq!(css.name.len(), "console..css".len() + 12, "{}", css.name);
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
        assert_eq!(stylesheet_href(), format!("/console/assets/{}", css.name));
    }

    #[test]
    fn only_named_assets_are_served_with_long_caching() {
        let name = &all()[0].name;
        let response = serve(name).unwrap();
        assert_eq!(
            response.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(serve("console.css").is_none());
        assert!(serve("../console.css").is_none());
        assert!(serve("").is_none());
    }

    /// The stylesheet stays small (phones on scarce data) and plain. It is one file for
    /// every page, downloaded once and cached for a year (its name carries its hash), so
    /// the budget is for all the pages together: 12 KiB unminified (8.4 KiB with the
    /// dashboard, list, device, sale, code-desk, import, account and staff pages).
    #[test]
    fn the_stylesheet_is_small_and_uses_system_fonts() {
        let css = std::str::from_utf8(all()[0].body).unwrap();
        assert!(css.len() < 12 * 1024, "{} bytes", css.len());
        assert!(css.contains("system-ui"));
        assert!(!css.contains("@import") && !css.contains("url(http"));
    }
}
