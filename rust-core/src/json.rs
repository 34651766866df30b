//! Strict JSON decoding for everything that arrives signed.
//!
//! serde_json keeps the last of two equal keys in a map and a derived struct
//! ignores a duplicated *unknown* field. Two parsers could then read one signed
//! payload differently (the lender's console one way, the device another), so
//! PROTOCOL §2 rejects duplicate keys at every depth. We walk the document once
//! looking for them, then decode into the typed structure.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, Result};

/// Decodes `bytes` as a JSON object into `T`, rejecting duplicate keys anywhere.
pub(crate) fn decode_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    check_object_without_duplicates(bytes)?;
    decode_checked(bytes)
}

/// Decodes into `T` a document that already passed [`check_object_without_duplicates`].
pub(crate) fn decode_checked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::PayloadMalformed {
            detail: format!("{path}: {}", describe(e.inner())),
        }
    })
}

/// Checks that `bytes` is one JSON object with no duplicate key at any depth.
pub(crate) fn check_object_without_duplicates(bytes: &[u8]) -> Result<()> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(Error::PayloadNotObject);
    }
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let walked = DuplicateCheck(&duplicate)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(key) = duplicate.into_inner() {
        return Err(Error::DuplicateKey { key });
    }
    walked.map_err(|_| Error::PayloadNotObject)
}

/// serde's messages can quote the offending value, which may be a secret or an
/// identifier; keep only the kind of problem and what was expected.
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" at line ") {
        Some(cut) => &text[..cut],
        None => &text[..],
    };
    for kind in [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ] {
        if text.starts_with(kind) {
            return match text.find(", expected ") {
                Some(at) => format!("{kind}{}", &text[at..]),
                None => kind.to_string(),
            };
        }
    }
    if text.starts_with("missing field") || text.starts_with("duplicate field") {
        return text.to_string();
    }
    "not the expected structure".to_string()
}

struct DuplicateCheck<'a>(&'a RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for DuplicateCheck<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DuplicateCheck<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                *self.0.borrow_mut() = Some(key);
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(DuplicateCheck(self.0))?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(DuplicateCheck(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Small {
        a: u32,
    }

    #[test]
    fn accepts_plain_object_and_ignores_unknown_fields() {
        let s: Small = decode_object(br#"{"a":1,"zzz":[1,{"q":2}]}"#).unwrap();
        assert_eq!(s.a, 1);
    }

    #[test]
    fn rejects_top_level_duplicate() {
        let e = decode_object::<Small>(br#"{"a":1,"a":2}"#).unwrap_err();
        assert!(
            matches!(e, Error::DuplicateKey { ref key } if key == "a"),
            "{e:?}"
        );
    }

    #[test]
    fn rejects_duplicate_of_unknown_field() {
        let e = decode_object::<Small>(br#"{"a":1,"x":1,"x":2}"#).unwrap_err();
        assert!(matches!(e, Error::DuplicateKey { .. }));
    }

    #[test]
    fn rejects_nested_duplicate_inside_array() {
        let e = decode_object::<Small>(br#"{"a":1,"l":[{"k":1,"k":1}]}"#).unwrap_err();
        assert!(matches!(e, Error::DuplicateKey { ref key } if key == "k"));
    }

    #[test]
    fn rejects_escaped_spelling_of_the_same_key() {
        let e = decode_object::<Small>(br#"{"a":1,"\u0061":2}"#).unwrap_err();
        assert!(matches!(e, Error::DuplicateKey { .. }));
    }

    #[test]
    fn rejects_non_objects() {
        for doc in [
            &b"[]"[..],
            b"1",
            b"\"x\"",
            b"null",
            b"",
            b"  ",
            b"{",
            b"{}x",
            b"\xff",
        ] {
            let e = decode_object::<Small>(doc).unwrap_err();
            assert!(matches!(e, Error::PayloadNotObject), "{doc:?}: {e:?}");
        }
    }

    #[test]
    fn wrong_field_type_is_malformed_and_names_the_field() {
        let e = decode_object::<Small>(br#"{"a":"secret-value"}"#).unwrap_err();
        match e {
            Error::PayloadMalformed { detail } => {
                assert!(!detail.contains("secret-value"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        let e = decode_object::<Small>(br#"{}"#).unwrap_err();
        assert!(matches!(e, Error::PayloadMalformed { ref detail } if detail.contains("`a`")));
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let mut doc = String::from("{\"a\":1,\"n\":");
        doc.push_str(&"[".repeat(10_000));
        doc.push_str(&"]".repeat(10_000));
        doc.push('}');
        assert!(decode_object::<Small>(doc.as_bytes()).is_err());
    }
}
