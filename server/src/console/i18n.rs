//! The console's languages and their message catalogues (Project Fluent).
//!
//! Every word a member of staff reads comes from `locales/LANG/*.ftl` ([`CATALOGUES`]), embedded
//! in the binary: English, Swahili and Spanish, the languages the phone app also speaks (the shared
//! words — locked, payment, unlock code — are the app's). The language is the `lang` cookie
//! the picker sets, else the best supported one in `Accept-Language`, else English.
//!
//! The negotiation is pure ([`Lang::negotiate`]); [`Lang`] is also an axum extractor.

use std::convert::Infallible;
use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// The name of the cookie the language picker sets.
pub const COOKIE_NAME: &str = "lang";

/// A language the console is translated into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Sw,
    Es,
}

/// A language's catalogue files: `console.ftl` (the layout, sign-in, errors) and one file
/// per group of pages, so page authors do not edit one file at once. A message id is
/// defined in one file only (a duplicate fails every test at start).
macro_rules! catalogue {
    ($lang:literal) => {
        &[
            include_str!(concat!("locales/", $lang, "/console.ftl")),
            include_str!(concat!("locales/", $lang, "/account.ftl")),
            include_str!(concat!("locales/", $lang, "/staff.ftl")),
            include_str!(concat!("locales/", $lang, "/device.ftl")),
            include_str!(concat!("locales/", $lang, "/sale.ftl")),
            include_str!(concat!("locales/", $lang, "/codes.ftl")),
            include_str!(concat!("locales/", $lang, "/import.ftl")),
            include_str!(concat!("locales/", $lang, "/import_reasons.ftl")),
            include_str!(concat!("locales/", $lang, "/device_ref.ftl")),
            include_str!(concat!("locales/", $lang, "/dashboard.ftl")),
            include_str!(concat!("locales/", $lang, "/devices.ftl")),
        ]
    };
}

/// The catalogues, in the order of [`Lang::ALL`].
const CATALOGUES: [&[&str]; 3] = [catalogue!("en"), catalogue!("sw"), catalogue!("es")];

impl Lang {
    /// Every language, English (the fallback) first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Sw, Lang::Es];

    /// The BCP 47 tag (`<html lang>`, the cookie's value).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sw => "sw",
            Lang::Es => "es",
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Sw => 1,
            Lang::Es => 2,
        }
    }

    /// The language of a tag by its primary subtag (`sw-KE` → Swahili), any case.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language of a request: the cookie's if it names one we have, else the
    /// `Accept-Language` entry with the highest weight that we have (the first on a
    /// tie), else English. Malformed parts are ignored, never an error.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = cookie.and_then(Lang::from_tag) {
            return lang;
        }
        let mut best: Option<(f32, Lang)> = None;
        for entry in accept_language.unwrap_or("").split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite() && *q > 0.0 && *q <= 1.0);
            if let Some(weight) = weight
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The message `id` in this language. A missing message (a test keeps every
    /// catalogue complete) shows its id rather than nothing.
    pub fn tr(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with its variables, e.g. `[("name", lender)]`.
    pub fn tr_args(self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, *value);
        }
        self.format(id, Some(&fluent))
    }

    fn format(self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &bundles()[self.index()];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(id, lang = self.code(), "console message missing");
            return id.to_string();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                id,
                lang = self.code(),
                ?errors,
                "console message incomplete"
            );
        }
        text.into_owned()
    }
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 3] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 3]> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.map(|lang| bundle(lang, CATALOGUES[lang.index()])))
}

/// One language's bundle. The catalogues are part of the binary and a test parses each,
/// so a syntax error here is a build that never passed its tests.
fn bundle(lang: Lang, sources: &[&'static str]) -> FluentBundle<FluentResource> {
    let id = lang
        .code()
        .parse()
        .unwrap_or_else(|e| panic!("language tag {}: {e}", lang.code()));
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The text goes into HTML, where Unicode isolation marks would only be noise (the
    // template escapes it; direction is set on the page).
    bundle.set_use_isolating(false);
    for source in sources {
        let resource = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, errors)| panic!("locales/{}: {errors:?}", lang.code()));
        bundle
            .add_resource(resource)
            .unwrap_or_else(|e| panic!("locales/{}: {e:?}", lang.code()));
    }
    bundle
}

/// The value of the cookie `name` among a request's `Cookie` headers.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Lang, Infallible> {
        let accept = parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Lang::negotiate(cookie(parts, COOKIE_NAME), accept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids a language's catalogue files define (lines `id = …`).
    fn ids(sources: &[&'static str]) -> Vec<&'static str> {
        sources
            .iter()
            .flat_map(|s| s.lines())
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" ="))
            .map(|(id, _)| id.trim())
            .collect()
    }

    #[test]
    fn the_cookie_wins_then_accept_language_then_english() {
        assert_eq!(Lang::negotiate(Some("es"), Some("sw")), Lang::Es);
        assert_eq!(Lang::negotiate(Some("xx"), Some("sw-KE")), Lang::Sw);
        assert_eq!(Lang::negotiate(None, Some("fr, es;q=0.5")), Lang::Es);
        assert_eq!(Lang::negotiate(None, Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
        assert_eq!(Lang::negotiate(Some(""), Some("")), Lang::En);
    }

    #[test]
    fn the_highest_weight_wins_and_the_first_on_a_tie() {
        assert_eq!(Lang::negotiate(None, Some("en;q=0.4, sw;q=0.9")), Lang::Sw);
        assert_eq!(Lang::negotiate(None, Some("es, sw")), Lang::Es);
        assert_eq!(Lang::negotiate(None, Some("sw;q=0.8, es;q=0.8")), Lang::Sw);
        assert_eq!(Lang::negotiate(None, Some("SW-tz;Q=1")), Lang::Sw);
    }

    #[test]
    fn a_refused_or_malformed_weight_does_not_count() {
        assert_eq!(Lang::negotiate(None, Some("sw;q=0, es;q=0.1")), Lang::Es);
        assert_eq!(Lang::negotiate(None, Some("sw;q=abc")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("sw;q=NaN, es;q=2")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some(";;,,-,sw")), Lang::Sw);
    }

    #[test]
    fn every_catalogue_defines_the_same_messages() {
        let english = ids(CATALOGUES[0]);
        assert!(english.len() > 20, "{english:?}");
        for lang in [Lang::Sw, Lang::Es] {
            let mut theirs = ids(CATALOGUES[lang.index()]);
            let mut ours = english.clone();
            theirs.sort_unstable();
            ours.sort_unstable();
            assert_eq!(theirs, ours, "{}", lang.code());
        }
    }

    /// Swahili and Spanish are translations, not copies: only the names of the
    /// languages themselves (each written in its own language) read the same.
    #[test]
    fn translations_are_not_english() {
        for lang in [Lang::Sw, Lang::Es] {
            for id in ids(CATALOGUES[0]) {
                if id.starts_with("language-name-") {
                    continue;
                }
                assert_ne!(lang.tr(id), Lang::En.tr(id), "{}: {id}", lang.code());
            }
        }
    }

    #[test]
    fn every_message_formats_without_errors() {
        for lang in Lang::ALL {
            let bundle = &bundles()[lang.index()];
            for id in ids(CATALOGUES[lang.index()]) {
                let pattern = bundle.get_message(id).and_then(|m| m.value());
                let pattern = pattern.unwrap_or_else(|| panic!("{}: {id}", lang.code()));
                let mut args = FluentArgs::new();
                // Every variable a message uses.
                for name in [
                    "name", "email", "lender", "date", "amount", "text", "field", "row", "phone",
                    "currency", "days", "bytes", "limit", "columns", "cells", "expected",
                    "example", "min", "max", "line", "owed", "profile", "rule",
                ] {
                    args.set(name, "X");
                }
                args.set("minutes", 5);
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{}: {id}: {errors:?}", lang.code());
                assert!(!text.trim().is_empty(), "{}: {id}", lang.code());
            }
        }
    }

    #[test]
    fn variables_are_filled_in_without_isolation_marks() {
        let text = Lang::En.tr_args("header-lender", &[("name", "Acme")]);
        assert!(text.contains("Acme"), "{text}");
        assert!(!text.contains('\u{2068}'), "{text:?}");
        assert_eq!(Lang::Sw.tr("no-such-message"), "no-such-message");
    }
}
