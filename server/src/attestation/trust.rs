//! What the verifier trusts: root keys, and the offline list of revoked certificates.

use std::collections::HashMap;

use ring::digest;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{AttestationError, chain};

/// Google's hardware attestation roots, as shipped in `server/attestation-roots/`
/// (where the README says where each came from and its SHA-256 fingerprint).
const GOOGLE_ROOTS_PEM: &str = include_str!("../../attestation-roots/google.pem");

/// One trusted root: a key, known by the certificate it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// DER SubjectPublicKeyInfo; a chain is trusted when its top certificate carries
    /// exactly this key.
    pub spki: Vec<u8>,
    /// SHA-256 of the anchor certificate's DER, for logs and audits.
    pub fingerprint: [u8; 32],
    /// The anchor certificate is self-signed and its signature verified when it was
    /// loaded, so a chain topped by these very bytes need not verify it again.
    pub self_signature_verified: bool,
}

/// The root keys attestation chains must end at.
///
/// A chain is trusted by its top certificate's *key*, not by that certificate's bytes or
/// validity: Google re-issued its RSA root with the same key (2016, 2019, 2022), and
/// phones keep presenting whichever copy was provisioned into them at the factory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

impl TrustAnchors {
    /// Google's published hardware attestation roots (RSA-4096 and ECDSA P-384).
    pub fn google() -> TrustAnchors {
        // The shipped file is part of the build, not input; `google_roots_*` tests pin
        // that it parses and that its fingerprints are the README's.
        TrustAnchors::from_pem(GOOGLE_ROOTS_PEM).expect("the shipped Google roots parse")
    }

    /// Every `CERTIFICATE` block in `pem` becomes an anchor (text outside the blocks is
    /// ignored, so a commented file works). At least one certificate is required.
    pub fn from_pem(pem: &str) -> Result<TrustAnchors, AttestationError> {
        let mut anchors = Vec::new();
        for block in pem_blocks(pem)? {
            anchors.push(anchor_from_der(&block)?);
        }
        if anchors.is_empty() {
            return Err(malformed("no CERTIFICATE block"));
        }
        Ok(TrustAnchors { anchors })
    }

    /// These anchors and `other`'s (e.g. Google's plus an OEM root a lender configured).
    pub fn with(mut self, other: TrustAnchors) -> TrustAnchors {
        for anchor in other.anchors {
            if !self.anchors.contains(&anchor) {
                self.anchors.push(anchor);
            }
        }
        self
    }

    /// SHA-256 fingerprints of the anchor certificates, lowercase hex, in file order.
    pub fn fingerprints(&self) -> Vec<String> {
        self.anchors.iter().map(|a| hex(&a.fingerprint)).collect()
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchor whose key is `spki`, if any.
    pub(crate) fn find(&self, spki: &[u8]) -> Option<&Anchor> {
        self.anchors.iter().find(|a| a.spki == spki)
    }
}

fn malformed(detail: impl Into<String>) -> AttestationError {
    AttestationError::AnchorsMalformed {
        detail: detail.into(),
    }
}

fn anchor_from_der(der: &[u8]) -> Result<Anchor, AttestationError> {
    let cert = match X509Certificate::from_der(der) {
        Ok(([], cert)) => cert,
        _ => {
            return Err(malformed(
                "a CERTIFICATE block is not a DER X.509 certificate",
            ));
        }
    };
    Ok(Anchor {
        spki: cert.public_key().raw.to_vec(),
        fingerprint: sha256(der),
        self_signature_verified: chain::verify_self_signature(&cert),
    })
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// The DER contents of the `CERTIFICATE` blocks; other blocks are refused.
fn pem_blocks(pem: &str) -> Result<Vec<Vec<u8>>, AttestationError> {
    let mut blocks = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|_| malformed("a PEM block is not complete base64"))?;
        if block.label != "CERTIFICATE" {
            return Err(malformed("a PEM block is not a CERTIFICATE"));
        }
        blocks.push(block.contents);
    }
    Ok(blocks)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

// ---- revocation ------------------------------------------------------------------

/// One entry of the status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationEntry {
    /// `REVOKED` or `SUSPENDED` in Google's list; either refuses the chain, and so
    /// does any other status (the list names only certificates that are not good).
    pub status: String,
    /// `KEY_COMPROMISE`, `CA_COMPROMISE`, `SUPERSEDED`, `SOFTWARE_FLAW`, `UNSPECIFIED`.
    pub reason: Option<String>,
}

/// Certificates that must not be trusted, by serial number, read offline from a file in
/// the format of Google's attestation status list (developer.android.com, "Verify
/// hardware-backed key pairs with key attestation" → "Certificate revocation status
/// list"): `{"entries": {"<serial, lowercase hex>": {"status": "REVOKED", "reason": …}}}`.
///
/// Nothing here fetches the list: the lender's deployment downloads it (it changes
/// rarely) and configures its path; without one, [`RevocationList::empty`] revokes
/// nothing and the verifier says so in its docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    /// Keyed by the normalized serial: lowercase hex without leading zeroes.
    entries: HashMap<String, RevocationEntry>,
}

#[derive(serde::Deserialize)]
struct StatusFile {
    entries: HashMap<String, StatusEntry>,
}

#[derive(serde::Deserialize)]
struct StatusEntry {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

impl RevocationList {
    /// A list that revokes nothing.
    pub fn empty() -> RevocationList {
        RevocationList::default()
    }

    /// Reads a status list. Fails closed: a file that is not the expected JSON, or a key
    /// that is not a hexadecimal serial number, is an error rather than an empty list.
    pub fn from_json(bytes: &[u8]) -> Result<RevocationList, AttestationError> {
        let file: StatusFile = serde_json::from_slice(bytes).map_err(|e| {
            AttestationError::RevocationListMalformed {
                detail: format!("not a status list: line {} column {}", e.line(), e.column()),
            }
        })?;
        let mut entries = HashMap::with_capacity(file.entries.len());
        for (serial, entry) in file.entries {
            let key = normalize_serial(&serial).ok_or_else(|| {
                AttestationError::RevocationListMalformed {
                    detail: "an entry's key is not a hexadecimal serial number".into(),
                }
            })?;
            entries.insert(
                key,
                RevocationEntry {
                    status: entry.status,
                    reason: entry.reason,
                },
            );
        }
        Ok(RevocationList { entries })
    }

    /// The entry for a serial number written as Google writes it (hex, any case,
    /// leading zeroes ignored).
    pub fn status(&self, serial_hex: &str) -> Option<&RevocationEntry> {
        normalize_serial(serial_hex).and_then(|k| self.entries.get(&k))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lowercase hex without leading zeroes ("0" for zero); `None` if not hex at all.
fn normalize_serial(s: &str) -> Option<String> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let body = if trimmed.is_empty() { "0" } else { trimmed };
    Some(format!("{sign}{}", body.to_ascii_lowercase()))
}

/// A certificate's serial as Java's `BigInteger.toString(16)` writes it, the spelling of
/// Google's status list: the DER INTEGER's two's-complement value in lowercase hex,
/// without leading zeroes, with `-` for a (non-conforming but parseable) negative one.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for byte in m.iter_mut().rev() {
            let (v, carry) = byte.overflowing_add(1);
            *byte = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        raw.to_vec()
    };
    let digits = hex(&magnitude);
    let trimmed = digits.trim_start_matches('0');
    let body = if trimmed.is_empty() { "0" } else { trimmed };
    if negative {
        format!("-{body}")
    } else {
        body.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_written_as_google_writes_them() {
        assert_eq!(serial_hex(&[0x00, 0xe8, 0xfa]), "e8fa");
        assert_eq!(serial_hex(&[0x0f, 0x01]), "f01");
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[0xff]), "-1");
        assert_eq!(serial_hex(&[0xff, 0x00]), "-100");
        assert_eq!(normalize_serial("00E8fa").as_deref(), Some("e8fa"));
        assert_eq!(normalize_serial("xyz"), None);
        assert_eq!(normalize_serial(""), None);
    }

    #[test]
    fn revocation_list_reads_google_format_and_fails_closed() {
        let json = br#"{"entries": {
            "2C8CDDDFD5E03BFC": {"status": "REVOKED", "reason": "KEY_COMPROMISE"},
            "c35747a084470c3135aeefe2b8d40cd6": {"status": "SUSPENDED", "reason": "SOFTWARE_FLAW",
                "comment": "extra fields are ignored", "expires": "2030-01-01"}
        }}"#;
        let list = RevocationList::from_json(json).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.status("2c8cdddfd5e03bfc").unwrap().status, "REVOKED");
        assert_eq!(
            list.status("00C35747A084470C3135AEEFE2B8D40CD6")
                .unwrap()
                .reason
                .as_deref(),
            Some("SOFTWARE_FLAW")
        );
        assert!(list.status("1234").is_none());

        for bad in [
            &b"not json"[..],
            b"{}",
            br#"{"entries": []}"#,
            br#"{"entries": {"zz": {"status": "REVOKED"}}}"#,
            br#"{"entries": {"12": {"reason": "KEY_COMPROMISE"}}}"#,
        ] {
            let err = RevocationList::from_json(bad).unwrap_err();
            assert_eq!(err.code(), "attestation_revocation_list_malformed");
        }
    }

    #[test]
    fn trust_anchors_from_pem_refuse_what_is_not_a_certificate() {
        for bad in [
            "",
            "no blocks here",
            "-----BEGIN CERTIFICATE-----\nTWFu\n",
            "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nTWFu\n-----END PRIVATE KEY-----\n",
        ] {
            let err = TrustAnchors::from_pem(bad).unwrap_err();
            assert_eq!(err.code(), "attestation_anchors_malformed", "{bad:?}");
        }
    }
}
