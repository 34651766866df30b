//! Compact JWS (RFC 7515) with Ed25519, exactly as PROTOCOL §2 allows it and no more.
//!
//! A general JOSE library accepts far more than the protocol does (other algorithms,
//! keys carried in the header, critical extensions), and every one of those has been
//! the root of a published forgery somewhere. So this module is small and closed:
//! one algorithm, three header members, a key that only ever comes from a pinned set.
//!
//! The checks run in a fixed order, each with its own [`Error`] variant:
//! size → three parts → base64url → header JSON → `alg` → forbidden members →
//! other members → `typ`/`kid` present → `typ` → `kid` known → signature.
//! The payload is only returned after the signature verified; what it must contain
//! is [`crate::protocol`]'s business.

use ring::signature::Ed25519KeyPair;

use crate::b64;
use crate::error::{Error, Result};
use crate::keys::{KeySet, PublicKey};

/// The largest compact JWS a receiver looks at (§2).
pub const MAX_JWS_LEN: usize = 16 * 1024;

/// Header members that could supply a key or demand processing we do not do.
const FORBIDDEN_MEMBERS: [&str; 5] = ["crit", "jwk", "jku", "x5u", "x5c"];

/// The algorithm named in a header. Both names mean Ed25519 here: RFC 9864's fully
/// specified `Ed25519`, which we write, and RFC 8037's polymorphic `EdDSA`, which we
/// accept because the pinned key is always Ed25519 and nothing else can be meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Ed25519,
    EdDsa,
}

/// A parsed protected header. `typ` and `kid` are optional at this layer only so
/// that RFC 8037's example (which has neither) can be checked; [`verify`] requires both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: Alg,
    pub typ: Option<String>,
    pub kid: Option<String>,
}

/// A structurally valid JWS whose signature has not been checked yet.
#[derive(Debug)]
pub struct Parsed<'a> {
    header: Header,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Parsed<'_> {
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Checks the signature over the exact received `header.payload` bytes.
    pub fn verify_with(&self, key: &PublicKey) -> Result<()> {
        if key.verifies(self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(Error::JwsBadSignature)
        }
    }

    /// The payload bytes; only meaningful once [`Parsed::verify_with`] succeeded.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

/// Parses a compact JWS and checks everything in §2 that needs no key.
pub fn parse(compact: &str) -> Result<Parsed<'_>> {
    if compact.len() > MAX_JWS_LEN {
        return Err(Error::JwsTooLarge { len: compact.len() });
    }
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::JwsNotThreeParts);
    };
    let header_bytes = b64::decode(h).ok_or(Error::JwsBadBase64 { part: "header" })?;
    let payload = b64::decode(p).ok_or(Error::JwsBadBase64 { part: "payload" })?;
    let signature = b64::decode(s).ok_or(Error::JwsBadBase64 { part: "signature" })?;
    let header = parse_header(&header_bytes)?;
    Ok(Parsed {
        header,
        signing_input: &compact[..h.len() + 1 + p.len()],
        payload,
        signature,
    })
}

fn parse_header(bytes: &[u8]) -> Result<Header> {
    crate::json::check_object_without_duplicates(bytes).map_err(|e| match e {
        Error::DuplicateKey { key } => Error::DuplicateKey { key },
        _ => Error::JwsHeaderMalformed,
    })?;
    let members: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|_| Error::JwsHeaderMalformed)?;

    let string_member = |name: &str| -> Result<Option<String>> {
        match members.get(name) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::JwsHeaderMalformed),
        }
    };
    let alg = match string_member("alg")?.as_deref() {
        None => return Err(Error::JwsMissingHeader { member: "alg" }),
        Some("Ed25519") => Alg::Ed25519,
        Some("EdDSA") => Alg::EdDsa,
        Some(other) => {
            return Err(Error::JwsAlgNotAllowed {
                alg: truncate_for_error(other),
            });
        }
    };
    if let Some(member) = FORBIDDEN_MEMBERS.iter().find(|m| members.contains_key(**m)) {
        return Err(Error::JwsForbiddenHeader {
            member: (*member).to_string(),
        });
    }
    if let Some(member) = members
        .keys()
        .find(|k| !matches!(k.as_str(), "alg" | "typ" | "kid"))
    {
        return Err(Error::JwsUnexpectedHeader {
            member: truncate_for_error(member),
        });
    }
    Ok(Header {
        alg,
        typ: string_member("typ")?,
        kid: string_member("kid")?,
    })
}

/// Header values end up in error messages; keep them short.
fn truncate_for_error(s: &str) -> String {
    s.chars().take(32).collect()
}

/// A JWS whose signature verified against a key from the given set.
#[derive(Debug)]
pub struct Verified<'k> {
    pub key: &'k PublicKey,
    pub payload: Vec<u8>,
}

/// Verifies a compact JWS of type `expected_typ` against the key its `kid` names in `keys`.
pub fn verify<'k>(
    compact: &str,
    expected_typ: &'static str,
    keys: &'k KeySet,
) -> Result<Verified<'k>> {
    let parsed = parse(compact)?;
    let typ = parsed
        .header
        .typ
        .as_deref()
        .ok_or(Error::JwsMissingHeader { member: "typ" })?;
    let kid = parsed
        .header
        .kid
        .as_deref()
        .ok_or(Error::JwsMissingHeader { member: "kid" })?;
    if typ != expected_typ {
        return Err(Error::JwsWrongTyp {
            expected: expected_typ,
            found: truncate_for_error(typ),
        });
    }
    let key = keys.find(kid).ok_or(Error::JwsUnknownKid)?;
    parsed.verify_with(key)?;
    Ok(Verified {
        key,
        payload: parsed.into_payload(),
    })
}

/// Signs `payload` as a compact JWS with header `{"alg":"Ed25519","typ":…,"kid":…}`.
pub(crate) fn sign(pair: &Ed25519KeyPair, typ: &str, kid: &str, payload: &[u8]) -> String {
    // Written by hand to fix the member order; to_string escapes the values.
    let header = format!(
        r#"{{"alg":"Ed25519","typ":{},"kid":{}}}"#,
        serde_json::Value::from(typ),
        serde_json::Value::from(kid)
    );
    let mut out = b64::encode(header);
    out.push('.');
    out.push_str(&b64::encode(payload));
    let signature = pair.sign(out.as_bytes());
    out.push('.');
    out.push_str(&b64::encode(signature.as_ref()));
    out
}

/// The `typ` values of §3, one per place a message can appear.
pub mod typ {
    pub const ENROLL: &str = "finlock-enroll+jws";
    pub const CHECKIN: &str = "finlock-checkin+jws";
    pub const ENTITLEMENT: &str = "finlock-entitlement+jws";
    pub const KEYS: &str = "finlock-keys+jws";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::LenderKey;

    /// RFC 8037 Appendix A.4: Ed25519 signing of "Example of Ed25519 signing".
    const RFC_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    const RFC_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    fn rfc_key() -> LenderKey {
        LenderKey::from_seed(&b64::decode_array(RFC_D).unwrap(), Some("rfc".into())).unwrap()
    }

    /// Builds a JWS from a raw header and payload, signed with the RFC key, so that
    /// each mutation below breaks exactly one rule and nothing else.
    fn signed(header: &str, payload: &[u8]) -> String {
        let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
        let sig = rfc_key().sign_raw(input.as_bytes());
        format!("{input}.{}", b64::encode(sig))
    }

    fn rfc_payload() -> &'static [u8] {
        b"Example of Ed25519 signing"
    }

    fn keys() -> KeySet {
        KeySet::new(vec![rfc_key().public()]).unwrap()
    }

    const GOOD_HEADER: &str = r#"{"alg":"Ed25519","typ":"t","kid":"rfc"}"#;

    #[test]
    fn rfc8037_example_verifies() {
        let parsed = parse(RFC_JWS).unwrap();
        assert_eq!(parsed.header().alg, Alg::EdDsa);
        parsed.verify_with(&rfc_key().public()).unwrap();
        assert_eq!(parsed.into_payload(), rfc_payload());
    }

    #[test]
    fn rfc8037_example_signs_identically() {
        // Ed25519 is deterministic: re-signing the RFC input reproduces the RFC signature.
        assert_eq!(signed(r#"{"alg":"EdDSA"}"#, rfc_payload()), RFC_JWS);
    }

    #[test]
    fn our_own_signatures_verify_with_full_header() {
        let jws = rfc_key().sign_compact("t", b"{}");
        let pinned = keys();
        let v = verify(&jws, "t", &pinned).unwrap();
        assert_eq!(v.payload, b"{}");
        assert_eq!(v.key.kid(), "rfc");
        assert_eq!(signed(GOOD_HEADER, b"{}"), jws);
    }

    #[test]
    fn accepts_both_alg_names() {
        for alg in ["Ed25519", "EdDSA"] {
            let jws = signed(
                &format!(r#"{{"alg":"{alg}","typ":"t","kid":"rfc"}}"#),
                b"{}",
            );
            verify(&jws, "t", &keys()).unwrap();
        }
    }

    #[test]
    fn rejects_oversized() {
        let big = vec![b'a'; MAX_JWS_LEN];
        let jws = signed(GOOD_HEADER, &big);
        assert!(matches!(parse(&jws), Err(Error::JwsTooLarge { .. })));
        let mut padded = RFC_JWS.to_string();
        padded.push_str(&"A".repeat(MAX_JWS_LEN + 1 - padded.len()));
        assert!(matches!(parse(&padded), Err(Error::JwsTooLarge { .. })));
    }

    #[test]
    fn rejects_not_three_parts() {
        let (a, rest) = RFC_JWS.split_once('.').unwrap();
        let (b, c) = rest.split_once('.').unwrap();
        for bad in [
            format!("{a}.{b}"),
            format!("{a}.{b}.{c}.{c}"),
            format!("{a}{b}{c}"),
            String::new(),
            format!("{a}.{b}.{c}."),
        ] {
            assert!(matches!(parse(&bad), Err(Error::JwsNotThreeParts)), "{bad}");
        }
    }

    #[test]
    fn rejects_non_canonical_base64_in_each_part() {
        let (a, rest) = RFC_JWS.split_once('.').unwrap();
        let (b, c) = rest.split_once('.').unwrap();
        let cases = [
            (format!("{a}=.{b}.{c}"), "header"),
            (format!("{a}.{b}=.{c}"), "payload"),
            (format!("{a}.{b}.{c}=="), "signature"),
            (format!("{}.{b}.{c}", a.replace('J', "+")), "header"),
            // A trailing character with non-zero unused bits ("g" → "h").
            (format!("{a}.{b}.{}h", &c[..c.len() - 1]), "signature"),
        ];
        for (bad, which) in cases {
            match parse(&bad) {
                Err(Error::JwsBadBase64 { part }) => assert_eq!(part, which, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_header_that_is_not_an_object() {
        for header in [
            "[]",
            "\"alg\"",
            "{",
            r#"{"alg":1}"#,
            r#"{"alg":"EdDSA","kid":5}"#,
        ] {
            let jws = signed(header, rfc_payload());
            assert!(
                matches!(parse(&jws), Err(Error::JwsHeaderMalformed)),
                "{header}"
            );
        }
    }

    #[test]
    fn rejects_duplicate_header_member() {
        let jws = signed(
            r#"{"alg":"Ed25519","alg":"none","typ":"t","kid":"rfc"}"#,
            b"{}",
        );
        assert!(matches!(parse(&jws), Err(Error::DuplicateKey { .. })));
    }

    #[test]
    fn rejects_every_other_algorithm() {
        for alg in [
            "none", "None", "HS256", "ES256", "RS256", "PS256", "ES256K", "ed25519", "EDDSA",
            "Ed448", "",
        ] {
            let jws = signed(
                &format!(r#"{{"alg":"{alg}","typ":"t","kid":"rfc"}}"#),
                b"{}",
            );
            assert!(
                matches!(parse(&jws), Err(Error::JwsAlgNotAllowed { .. })),
                "{alg}"
            );
        }
    }

    #[test]
    fn rejects_missing_alg() {
        let jws = signed(r#"{"typ":"t","kid":"rfc"}"#, b"{}");
        assert!(matches!(
            parse(&jws),
            Err(Error::JwsMissingHeader { member: "alg" })
        ));
    }

    #[test]
    fn rejects_each_forbidden_member() {
        for member in FORBIDDEN_MEMBERS {
            let jws = signed(
                &format!(r#"{{"alg":"Ed25519","typ":"t","kid":"rfc","{member}":{{}}}}"#),
                b"{}",
            );
            match parse(&jws) {
                Err(Error::JwsForbiddenHeader { member: m }) => assert_eq!(m, member),
                other => panic!("{member}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_members_beyond_alg_typ_kid() {
        for member in ["cty", "b64", "x5t", "zip", "enc", "nonce"] {
            let jws = signed(
                &format!(r#"{{"alg":"Ed25519","typ":"t","kid":"rfc","{member}":"x"}}"#),
                b"{}",
            );
            assert!(
                matches!(parse(&jws), Err(Error::JwsUnexpectedHeader { .. })),
                "{member}"
            );
        }
    }

    #[test]
    fn verify_requires_typ_and_kid() {
        // The RFC example itself has neither: structurally fine, not acceptable as a message.
        assert!(matches!(
            verify(RFC_JWS, "t", &keys()),
            Err(Error::JwsMissingHeader { member: "typ" })
        ));
        let jws = signed(r#"{"alg":"Ed25519","typ":"t"}"#, b"{}");
        assert!(matches!(
            verify(&jws, "t", &keys()),
            Err(Error::JwsMissingHeader { member: "kid" })
        ));
    }

    #[test]
    fn rejects_wrong_typ() {
        let jws = rfc_key().sign_compact(typ::CHECKIN, b"{}");
        assert!(matches!(
            verify(&jws, typ::ENTITLEMENT, &keys()),
            Err(Error::JwsWrongTyp { .. })
        ));
    }

    #[test]
    fn rejects_unknown_kid() {
        let jws = signed(r#"{"alg":"Ed25519","typ":"t","kid":"someone-else"}"#, b"{}");
        assert!(matches!(
            verify(&jws, "t", &keys()),
            Err(Error::JwsUnknownKid)
        ));
    }

    #[test]
    fn rejects_a_key_that_is_not_pinned_even_with_a_pinned_kid() {
        let other = LenderKey::from_seed(&[7; 32], Some("rfc".into())).unwrap();
        let jws = other.sign_compact("t", b"{}");
        assert!(matches!(
            verify(&jws, "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
    }

    #[test]
    fn rejects_any_change_to_the_signed_bytes() {
        let jws = rfc_key().sign_compact("t", br#"{"a":1}"#);
        let (h, rest) = jws.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let other_payload = b64::encode(br#"{"a":2}"#);
        let tampered = format!("{h}.{other_payload}.{s}");
        assert!(matches!(
            verify(&tampered, "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
        // Same header meaning, different bytes (whitespace): still a different message.
        let respaced = signed(r#"{"alg":"Ed25519", "typ":"t","kid":"rfc"}"#, br#"{"a":1}"#);
        let (_, rest2) = respaced.split_once('.').unwrap();
        let rest2 = rest2.to_string();
        let (_, s2) = rest2.split_once('.').unwrap();
        assert!(matches!(
            verify(&format!("{h}.{p}.{s2}"), "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
        let mut sig = b64::decode(s).unwrap();
        sig[10] ^= 0x40;
        let sig = sig;
        let flipped = format!("{h}.{p}.{}", b64::encode(&sig));
        assert!(matches!(
            verify(&flipped, "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
        let short = format!("{h}.{p}.{}", b64::encode(&sig[..63]));
        assert!(matches!(
            verify(&short, "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
        let empty = format!("{h}.{p}.");
        assert!(matches!(
            verify(&empty, "t", &keys()),
            Err(Error::JwsBadSignature)
        ));
    }

    #[test]
    fn rfc_example_mutated_for_every_rule() {
        // One mutated copy of the RFC 8037 example per §2 rule, each expected to fail
        // with exactly that rule's error.
        let (a, rest) = RFC_JWS.split_once('.').unwrap();
        let (b, c) = rest.split_once('.').unwrap();
        let p = rfc_payload();
        let cases: Vec<(String, &str)> = vec![
            (
                format!("{RFC_JWS}{}", "A".repeat(MAX_JWS_LEN)),
                "jws_too_large",
            ),
            (format!("{a}.{b}"), "jws_not_three_parts"),
            (format!("{a}.{b}.{c}="), "jws_bad_base64"),
            (signed("{", p), "jws_header_malformed"),
            (signed(r#"{"alg":"none"}"#, p), "jws_alg_not_allowed"),
            (signed(r#"{"alg":"HS256"}"#, p), "jws_alg_not_allowed"),
            (
                signed(r#"{"alg":"EdDSA","crit":["b64"]}"#, p),
                "jws_forbidden_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","jwk":{}}"#, p),
                "jws_forbidden_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","jku":"https://x"}"#, p),
                "jws_forbidden_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","x5u":"https://x"}"#, p),
                "jws_forbidden_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","x5c":[]}"#, p),
                "jws_forbidden_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","cty":"x"}"#, p),
                "jws_unexpected_header",
            ),
            (
                signed(r#"{"alg":"EdDSA","alg":"EdDSA"}"#, p),
                "duplicate_key",
            ),
            (RFC_JWS.to_string(), "jws_missing_header"),
            (
                signed(r#"{"alg":"EdDSA","typ":"x","kid":"rfc"}"#, p),
                "jws_wrong_typ",
            ),
            (
                signed(r#"{"alg":"EdDSA","typ":"t","kid":"nope"}"#, p),
                "jws_unknown_kid",
            ),
            (
                format!("{a}.{}.{c}", b64::encode(b"Example of Ed25519 signinG")),
                "jws_missing_header",
            ),
            (
                {
                    let good = signed(r#"{"alg":"EdDSA","typ":"t","kid":"rfc"}"#, p);
                    let (h2, rest2) = good.split_once('.').unwrap();
                    let (_, s2) = rest2.split_once('.').unwrap();
                    format!("{h2}.{}.{s2}", b64::encode(b"Example of Ed25519 signinG"))
                },
                "jws_bad_signature",
            ),
        ];
        for (jws, code) in cases {
            let got = verify(&jws, "t", &keys()).unwrap_err();
            assert_eq!(got.code(), code, "{jws}");
        }
    }
}
