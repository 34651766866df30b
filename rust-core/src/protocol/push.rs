//! The wake-up push fields (PROTOCOL "Wake-up push", ADR 0014): `push_endpoint` in the
//! enroll and check-in requests, `push_key` in their answers.
//!
//! Both sides use these rules: the device before it sends an endpoint, the server before
//! it stores one; the device when it reads the server's key, the server when it loads its
//! own. A push itself carries nothing, so nothing here is trusted with more than "check in
//! now": a forged endpoint or key can at most cost a push that is never delivered, or one
//! extra check-in.

use serde::{Deserialize, Deserializer};

use super::{UrlKind, UrlPolicy, classify_url};
use crate::b64;
use crate::error::{Error, Result};

/// Bytes of a push endpoint at most (a Web Push endpoint is a URL with one long token).
pub const MAX_PUSH_ENDPOINT_LEN: usize = 1024;
/// Bytes of the server's VAPID public key: an uncompressed P-256 point (RFC 8292 §3.2).
pub const PUSH_KEY_LEN: usize = 65;
/// The first byte of an uncompressed elliptic-curve point (SEC 1 §2.3.3).
const UNCOMPRESSED_POINT: u8 = 0x04;

/// Reads a `push_endpoint` as sent (§3.1, §3.2): `Ok(Some(url))` = "wake me at this Web Push
/// endpoint", `Ok(None)` = the empty string, "I have no push endpoint any more".
///
/// An endpoint is a URL by the rules of §8.3 (so `https`; plain `http` only to loopback and
/// only where `urls` allows it) of at most [`MAX_PUSH_ENDPOINT_LEN`] bytes. A server stores
/// what this accepts and nothing else; the device checks what its distributor gave it.
pub fn push_endpoint(text: &str, urls: UrlPolicy) -> Result<Option<&str>> {
    const FIELD: &str = "push_endpoint";
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_PUSH_ENDPOINT_LEN {
        return Err(Error::invalid(FIELD, "at most 1024 bytes"));
    }
    match classify_url(text) {
        Some(UrlKind::Https) => Ok(Some(text)),
        Some(UrlKind::HttpLocal) if urls.allow_insecure_loopback => Ok(Some(text)),
        Some(UrlKind::HttpLocal | UrlKind::HttpRemote) => {
            Err(Error::invalid(FIELD, "must be an https URL"))
        }
        None => Err(Error::invalid(FIELD, "not a valid web URL")),
    }
}

/// Reads a `push_key` (the answers of §3.1, §3.2): the server's VAPID public key, canonical
/// unpadded base64url of the 65-byte uncompressed P-256 point (`0x04 ‖ x ‖ y`).
///
/// The point is not checked to lie on the curve: the device never computes with it, it only
/// hands it to its push distributor, which refuses pushes not signed by the matching key.
pub fn push_key(text: &str) -> Result<[u8; PUSH_KEY_LEN]> {
    match b64::decode_array::<PUSH_KEY_LEN>(text) {
        Some(point) if point[0] == UNCOMPRESSED_POINT => Ok(point),
        _ => Err(Error::invalid(
            "push_key",
            "65 bytes of an uncompressed P-256 point, canonical base64url",
        )),
    }
}

/// Reads an answer's `push_key` leniently: any JSON value is accepted and only a valid key
/// is kept. The key is not signed and not needed to stay safe, so a malformed one never fails
/// the check-in that carries it (the device keeps the key it had).
pub(super) fn lenient_push_key<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        serde_json::Value::String(text) if push_key(&text).is_ok() => Some(text),
        _ => {
            log::info!("the server's push_key is malformed; ignored");
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_text() -> String {
        let mut point = [0xff; PUSH_KEY_LEN];
        point[0] = 0x04;
        b64::encode(point)
    }

    #[test]
    fn an_https_endpoint_is_accepted_as_it_is() {
        let url = "https://ntfy.example/upAbC123?up=1";
        assert_eq!(push_endpoint(url, UrlPolicy::STRICT).unwrap(), Some(url));
    }

    #[test]
    fn the_empty_string_means_no_endpoint() {
        assert_eq!(push_endpoint("", UrlPolicy::STRICT).unwrap(), None);
    }

    #[test]
    fn an_endpoint_of_1024_bytes_is_accepted_and_one_more_is_refused() {
        let base = "https://push.example/";
        let ok = format!("{base}{}", "a".repeat(MAX_PUSH_ENDPOINT_LEN - base.len()));
        assert!(push_endpoint(&ok, UrlPolicy::STRICT).is_ok());
        let long = format!("{ok}a");
        let e = push_endpoint(&long, UrlPolicy::STRICT).unwrap_err();
        assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "push_endpoint"));
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback_where_allowed() {
        for url in ["http://push.example/x", "http://192.168.1.2/x"] {
            assert!(push_endpoint(url, UrlPolicy::DEBUG).is_err(), "{url}");
        }
        let local = "http://127.0.0.1:8080/push/1";
        assert!(push_endpoint(local, UrlPolicy::STRICT).is_err());
        assert_eq!(push_endpoint(local, UrlPolicy::DEBUG).unwrap(), Some(local));
    }

    #[test]
    fn what_is_no_web_url_is_refused() {
        for text in [
            " ",
            "push.example/x",
            "ftp://push.example/x",
            "https://user@push.example/x",
            "https://push example/x",
            "https://push.example/\u{e9}",
            "https://push.example/a\nb",
        ] {
            let e = push_endpoint(text, UrlPolicy::DEBUG).unwrap_err();
            assert_eq!(e.code(), "invalid_field", "{text:?}");
        }
    }

    #[test]
    fn a_key_is_65_bytes_starting_with_4() {
        assert!(key_text().contains('_'));
        assert_eq!(push_key(&key_text()).unwrap()[0], 0x04);
        let mut compressed = [7u8; 33];
        compressed[0] = 0x02;
        let mut wrong_prefix = [7u8; PUSH_KEY_LEN];
        wrong_prefix[0] = 0x03;
        for text in [
            String::new(),
            b64::encode(compressed),
            b64::encode(wrong_prefix),
            b64::encode([4u8; 66]),
            format!("{}=", key_text()),
            // The standard alphabet's spelling of the same bytes.
            key_text().replace('_', "/"),
            "not base64!".to_string(),
        ] {
            assert!(push_key(&text).is_err(), "{text:?}");
        }
    }

    proptest! {
        /// Whatever the text, an accepted endpoint is itself, non-empty, bounded and https
        /// (or loopback http where allowed); nothing panics.
        #[test]
        fn an_accepted_endpoint_keeps_every_rule(text in ".{0,1100}", debug in any::<bool>()) {
            let urls = if debug { UrlPolicy::DEBUG } else { UrlPolicy::STRICT };
            if let Ok(Some(url)) = push_endpoint(&text, urls) {
                prop_assert_eq!(url, text.as_str());
                prop_assert!(url.len() <= MAX_PUSH_ENDPOINT_LEN);
                let lower = url.to_ascii_lowercase();
                prop_assert!(lower.starts_with("https://") || (debug && lower.starts_with("http://")));
                prop_assert!(url.bytes().all(|b| b.is_ascii_graphic()));
            }
        }

        #[test]
        fn generated_https_endpoints_are_accepted(path in "[A-Za-z0-9_-]{0,900}") {
            let url = format!("https://push.example/{path}");
            prop_assert_eq!(push_endpoint(&url, UrlPolicy::STRICT).unwrap(), Some(url.as_str()));
        }

        /// Only 65 bytes beginning with 0x04 are a key, in their one canonical spelling.
        #[test]
        fn a_key_is_exactly_an_uncompressed_point(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let text = b64::encode(&bytes);
            let valid = bytes.len() == PUSH_KEY_LEN && bytes[0] == 0x04;
            prop_assert_eq!(push_key(&text).is_ok(), valid);
        }
    }
}
