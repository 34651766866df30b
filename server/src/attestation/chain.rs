//! The certificate chain: parsing, signatures, names, validity, revocation, and where
//! the attestation extension may appear.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509CertificateParser;
use x509_parser::nom::Parser;
use x509_parser::prelude::{AlgorithmIdentifier, SubjectPublicKeyInfo, X509Certificate, X509Name};

use super::trust::{RevocationList, TrustAnchors, serial_hex, sha256};
use super::{AttestationError, MAX_CERT_LEN, MAX_CHAIN_LEN};

// OIDs as the content octets of their DER encoding (checked against their dotted form
// in the tests).
/// 1.3.6.1.4.1.11129.2.1.17, the Android key attestation extension.
pub(crate) const OID_KEY_ATTESTATION: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x01, 0x11];
/// 1.2.840.10045.2.1 id-ecPublicKey
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7 secp256r1
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 1.3.132.0.34 secp384r1
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// 1.2.840.113549.1.1.1 rsaEncryption
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 1.3.101.112 Ed25519 (key and signature algorithm)
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// 1.2.840.10045.4.3.2 ecdsa-with-SHA256
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// 1.2.840.10045.4.3.3 ecdsa-with-SHA384
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
/// 1.2.840.113549.1.1.11 sha256WithRSAEncryption
const OID_RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// 1.2.840.113549.1.1.12 sha384WithRSAEncryption
const OID_RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
/// 1.2.840.113549.1.1.13 sha512WithRSAEncryption
const OID_RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
/// 2.5.4.5 serialNumber (a name attribute)
const OID_SERIAL_NUMBER_ATTR: &[u8] = &[0x55, 0x04, 0x05];

/// The kinds of public key whose signatures can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    EcP256,
    EcP384,
    Rsa,
    Ed25519,
}

/// A public key as `ring` takes it: the BIT STRING's content of the SPKI.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicKey<'a> {
    pub kind: KeyKind,
    pub bytes: &'a [u8],
}

pub(crate) fn public_key<'a>(spki: &'a SubjectPublicKeyInfo<'_>) -> Option<PublicKey<'a>> {
    if spki.subject_public_key.unused_bits != 0 {
        return None;
    }
    let bytes: &[u8] = spki.subject_public_key.data.as_ref();
    let alg = spki.algorithm.algorithm.as_bytes();
    let kind = if alg == OID_EC_PUBLIC_KEY {
        let curve = spki.algorithm.parameters.as_ref()?;
        if curve.tag() != Tag::Oid {
            return None;
        }
        match curve.data {
            c if c == OID_P256 => KeyKind::EcP256,
            c if c == OID_P384 => KeyKind::EcP384,
            _ => return None,
        }
    } else if alg == OID_RSA {
        KeyKind::Rsa
    } else if alg == OID_ED25519 {
        KeyKind::Ed25519
    } else {
        return None;
    };
    Some(PublicKey { kind, bytes })
}

/// The `ring` algorithm for a certificate signature `sig_alg` made by a key of `kind`.
fn certificate_algorithm(
    kind: KeyKind,
    sig_alg: &AlgorithmIdentifier<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    let oid = sig_alg.algorithm.as_bytes();
    let alg: &'static dyn VerificationAlgorithm = match kind {
        KeyKind::EcP256 if oid == OID_ECDSA_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeyKind::EcP256 if oid == OID_ECDSA_SHA384 => &signature::ECDSA_P256_SHA384_ASN1,
        KeyKind::EcP384 if oid == OID_ECDSA_SHA256 => &signature::ECDSA_P384_SHA256_ASN1,
        KeyKind::EcP384 if oid == OID_ECDSA_SHA384 => &signature::ECDSA_P384_SHA384_ASN1,
        KeyKind::Rsa if oid == OID_RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        KeyKind::Rsa if oid == OID_RSA_SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        KeyKind::Rsa if oid == OID_RSA_SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        KeyKind::Ed25519 if oid == OID_ED25519 => &signature::ED25519,
        _ => return None,
    };
    Some(alg)
}

/// The algorithm the attested key's own signatures are checked with: what Android
/// Keystore produces for `SHA256withECDSA` (P-256), `SHA384withECDSA` (P-384),
/// `SHA256withRSA` (PKCS#1 v1.5) and Ed25519.
pub(crate) fn message_algorithm(kind: KeyKind) -> &'static dyn VerificationAlgorithm {
    match kind {
        KeyKind::EcP256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeyKind::EcP384 => &signature::ECDSA_P384_SHA384_ASN1,
        KeyKind::Rsa => &signature::RSA_PKCS1_2048_8192_SHA256,
        KeyKind::Ed25519 => &signature::ED25519,
    }
}

/// What the chain check hands on to the extension parser.
pub(crate) struct VerifiedChain<'a> {
    pub certs: Vec<X509Certificate<'a>>,
    /// The matching anchor's certificate fingerprint.
    pub anchor: [u8; 32],
}

/// Checks everything about `chain` except the attestation extension's content.
pub(crate) fn verify<'a>(
    chain: &'a [Vec<u8>],
    anchors: &TrustAnchors,
    revoked: &RevocationList,
    now_unix: i64,
) -> Result<VerifiedChain<'a>, AttestationError> {
    // Shape first, before any parsing work.
    if chain.len() < 2 {
        return Err(AttestationError::ChainTooShort { len: chain.len() });
    }
    if chain.len() > MAX_CHAIN_LEN {
        return Err(AttestationError::ChainTooLong {
            len: chain.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    for (index, der) in chain.iter().enumerate() {
        if der.len() > MAX_CERT_LEN {
            return Err(AttestationError::CertificateTooLarge {
                index,
                len: der.len(),
                max: MAX_CERT_LEN,
            });
        }
    }

    // Extensions are kept as raw bytes: only the attestation extension is read, and
    // only by this module's own parser.
    let mut parser = X509CertificateParser::new().with_deep_parse_extensions(false);
    let mut certs = Vec::with_capacity(chain.len());
    for (index, der) in chain.iter().enumerate() {
        match parser.parse(der) {
            Ok(([], cert)) => certs.push(cert),
            _ => return Err(AttestationError::CertificateMalformed { index }),
        }
    }
    for (index, cert) in certs.iter().enumerate() {
        if cert.signature_algorithm != cert.tbs_certificate.signature {
            return Err(AttestationError::SignatureAlgorithmMismatch { index });
        }
    }

    let top = certs.len() - 1;
    let anchor = anchors
        .find(certs[top].public_key().raw)
        .ok_or(AttestationError::UntrustedRoot)?;
    // The top certificate's self-signature was checked when the anchor was loaded if
    // these are the anchor's very bytes (the usual case); another copy under the same
    // key (Google's earlier root certificates) is checked here.
    let top_already_verified =
        anchor.self_signature_verified && sha256(&chain[top]) == anchor.fingerprint;

    // From the root down, as a path is validated from its anchor (RFC 5280 §6.1).
    let factory = factory_provisioned(&certs);
    for index in (0..certs.len()).rev() {
        let cert = &certs[index];
        let issuer_index = (index + 1).min(top);
        let issuer = &certs[issuer_index];
        if !names_match(cert.issuer(), issuer.subject()) {
            return Err(AttestationError::IssuerMismatch { index });
        }
        if !(index == top && top_already_verified) {
            check_signature(index, cert, issuer_index, issuer)?;
        }
        check_validity(index, top, cert, factory, now_unix)?;
        let serial = serial_hex(cert.raw_serial());
        if let Some(entry) = revoked.status(&serial) {
            return Err(AttestationError::CertificateRevoked {
                index,
                serial,
                status: entry.status.clone(),
            });
        }
    }

    // The extension belongs to the leaf alone. Anyone holding a genuinely attested key
    // can sign a certificate below it carrying a KeyDescription of their own making; a
    // verifier that reads the first certificate's extension without this rule believes
    // it (developer.android.com: the leaf is the first certificate, and Google's
    // verifier refuses CHAIN_EXTENDED_WITH_FAKE_ATTESTATION_EXTENSION).
    for (index, cert) in certs.iter().enumerate().skip(1) {
        if attestation_extensions(cert).next().is_some() {
            return Err(AttestationError::ExtensionOutsideLeaf { index });
        }
    }
    Ok(VerifiedChain {
        certs,
        anchor: anchor.fingerprint,
    })
}

/// Whether `cert` names itself as issuer and its signature verifies under its own key.
pub(crate) fn verify_self_signature(cert: &X509Certificate<'_>) -> bool {
    names_match(cert.issuer(), cert.subject()) && check_signature(0, cert, 0, cert).is_ok()
}

/// The values of the leaf's (or any certificate's) attestation extensions.
pub(crate) fn attestation_extensions<'c, 'a>(
    cert: &'c X509Certificate<'a>,
) -> impl Iterator<Item = &'a [u8]> + 'c {
    cert.extensions()
        .iter()
        .filter(|e| e.oid.as_bytes() == OID_KEY_ATTESTATION)
        .map(|e| e.value)
}

fn check_signature(
    index: usize,
    cert: &X509Certificate<'_>,
    issuer_index: usize,
    issuer: &X509Certificate<'_>,
) -> Result<(), AttestationError> {
    let key = public_key(issuer.public_key()).ok_or(AttestationError::UnsupportedKey {
        index: issuer_index,
    })?;
    let alg = certificate_algorithm(key.kind, &cert.signature_algorithm)
        .ok_or(AttestationError::UnsupportedSignatureAlgorithm { index })?;
    if cert.signature_value.unused_bits != 0 {
        return Err(AttestationError::BadSignature { index });
    }
    UnparsedPublicKey::new(alg, key.bytes)
        .verify(
            cert.tbs_certificate.as_ref(),
            cert.signature_value.data.as_ref(),
        )
        .map_err(|_| AttestationError::BadSignature { index })
}

/// Validity, as Google's verifier applies it (android/keyattestation,
/// `KeyAttestationCertPathValidator`):
/// - the leaf's is not checked: the device writes it, from a clock that may be wrong
///   or absent, and KeyMint commonly uses the epoch or 2048 as bounds;
/// - the top certificate's is not checked: trust rests on its key being an anchor, and
///   phones keep presenting the root copy they were provisioned with (Google's 2016
///   RSA root copy expired in May 2026 and still tops factory chains);
/// - an intermediate that is not valid yet is refused;
/// - an expired intermediate is refused in remotely provisioned chains (short-lived
///   certificates) but accepted in factory-provisioned ones, whose keys were burnt in
///   at the factory and cannot be rotated: the revocation list is what retires them.
fn check_validity(
    index: usize,
    top: usize,
    cert: &X509Certificate<'_>,
    factory_provisioned: bool,
    now_unix: i64,
) -> Result<(), AttestationError> {
    if index == 0 || index == top {
        return Ok(());
    }
    let validity = cert.validity();
    if now_unix < validity.not_before.timestamp() {
        return Err(AttestationError::CertificateNotYetValid { index });
    }
    if now_unix > validity.not_after.timestamp() && !factory_provisioned {
        return Err(AttestationError::CertificateExpired { index });
    }
    Ok(())
}

/// A chain whose certificate directly under the root names a serialNumber attribute in
/// its subject was provisioned at the factory (the test Google's verifier uses, from
/// the CTS): remotely provisioned chains name "Droid CA2"/"Droid CA3" instead.
fn factory_provisioned(certs: &[X509Certificate<'_>]) -> bool {
    let Some(below_root) = certs.len().checked_sub(2).and_then(|i| certs.get(i)) else {
        return false;
    };
    below_root
        .subject()
        .iter_attributes()
        .any(|a| a.attr_type().as_bytes() == OID_SERIAL_NUMBER_ATTR)
}

/// Issuer/subject chaining. Equal bytes match; otherwise the names match when they have
/// the same attributes with the same string values up to case and spacing, the way
/// Java's `X500Principal.equals` (which Google's verifier uses) compares them: older
/// Keymaster implementations re-encode the issuer with another string type.
fn names_match(issuer: &X509Name<'_>, subject: &X509Name<'_>) -> bool {
    if issuer.as_raw() == subject.as_raw() {
        return true;
    }
    let a: Vec<_> = issuer.iter_rdn().collect();
    let b: Vec<_> = subject.iter_rdn().collect();
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(&b).all(|(x, y)| {
        let xs: Vec<_> = x.iter().collect();
        let ys: Vec<_> = y.iter().collect();
        xs.len() == ys.len()
            && xs.iter().zip(&ys).all(|(p, q)| {
                p.attr_type() == q.attr_type()
                    && match (p.as_str(), q.as_str()) {
                        (Ok(s), Ok(t)) => canonical(s) == canonical(t),
                        _ => p.attr_value().data == q.attr_value().data,
                    }
            })
    })
}

fn canonical(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::der_parser::oid::Oid;

    fn oid(arcs: &[u64]) -> Vec<u8> {
        Oid::from(arcs).unwrap().as_bytes().to_vec()
    }

    #[test]
    fn oid_constants_are_the_named_oids() {
        let table: [(&[u8], &[u64]); 12] = [
            (OID_KEY_ATTESTATION, &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17]),
            (OID_EC_PUBLIC_KEY, &[1, 2, 840, 10045, 2, 1]),
            (OID_P256, &[1, 2, 840, 10045, 3, 1, 7]),
            (OID_P384, &[1, 3, 132, 0, 34]),
            (OID_RSA, &[1, 2, 840, 113549, 1, 1, 1]),
            (OID_ED25519, &[1, 3, 101, 112]),
            (OID_ECDSA_SHA256, &[1, 2, 840, 10045, 4, 3, 2]),
            (OID_ECDSA_SHA384, &[1, 2, 840, 10045, 4, 3, 3]),
            (OID_RSA_SHA256, &[1, 2, 840, 113549, 1, 1, 11]),
            (OID_RSA_SHA384, &[1, 2, 840, 113549, 1, 1, 12]),
            (OID_RSA_SHA512, &[1, 2, 840, 113549, 1, 1, 13]),
            (OID_SERIAL_NUMBER_ATTR, &[2, 5, 4, 5]),
        ];
        for (bytes, arcs) in table {
            assert_eq!(bytes, oid(arcs).as_slice(), "{arcs:?}");
        }
    }

    #[test]
    fn name_comparison_ignores_case_and_spacing_only() {
        assert_eq!(canonical("  Droid   CA2 "), "droid ca2");
        assert_ne!(canonical("Droid CA2"), canonical("Droid CA3"));
    }
}
