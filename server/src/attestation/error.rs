//! Every reason an attestation is refused, one variant per rule.
//!
//! [`AttestationError::code`] is the stable spelling a caller logs, audits or maps onto
//! an HTTP problem; it never changes meaning. Display strings name the rule and at most
//! a certificate's position in the chain, a serial number (a batch certificate's, never
//! the device's) or a count: no IMEI, no serial of the phone, no key material.

use super::key_description::{SecurityLevel, VerifiedBootState};

/// Why a chain, a signature or a policy check was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    // ---- the chain's shape -------------------------------------------------------
    /// Fewer than two certificates: an attestation needs at least the leaf and a root.
    #[error("the attestation chain has {len} certificate(s); at least 2 are needed")]
    ChainTooShort { len: usize },
    /// More certificates than [`super::MAX_CHAIN_LEN`].
    #[error("the attestation chain has {len} certificates; at most {max} are accepted")]
    ChainTooLong { len: usize, max: usize },
    /// One certificate is larger than [`super::MAX_CERT_LEN`] bytes.
    #[error("certificate {index} is {len} bytes; at most {max} are accepted")]
    CertificateTooLarge {
        index: usize,
        len: usize,
        max: usize,
    },
    /// A certificate is not one DER X.509 certificate (or has bytes after it).
    #[error("certificate {index} is not a DER X.509 certificate")]
    CertificateMalformed { index: usize },

    // ---- signatures and names ----------------------------------------------------
    /// The signature algorithm inside the signed part differs from the one outside it.
    #[error("certificate {index} names two different signature algorithms")]
    SignatureAlgorithmMismatch { index: usize },
    /// A signature algorithm this verifier does not accept (only ECDSA P-256/P-384 with
    /// SHA-256/384, RSA PKCS#1 v1.5 with SHA-256/384/512 and Ed25519 are).
    #[error("certificate {index} is signed with an algorithm that is not accepted")]
    UnsupportedSignatureAlgorithm { index: usize },
    /// A public key of a type or curve this verifier cannot check signatures with.
    #[error("certificate {index} carries a public key of an unsupported type")]
    UnsupportedKey { index: usize },
    /// The certificate's signature does not verify under its issuer's key (the next
    /// certificate's; the root's own for the root).
    #[error("the signature of certificate {index} does not verify under its issuer's key")]
    BadSignature { index: usize },
    /// The certificate's issuer name is not its issuer's subject name.
    #[error("certificate {index} names an issuer that is not the next certificate's subject")]
    IssuerMismatch { index: usize },
    /// The top certificate's key is none of the trusted roots' keys.
    #[error("the chain does not end at a trusted root")]
    UntrustedRoot,

    // ---- time and revocation -----------------------------------------------------
    /// An intermediate certificate whose validity starts after `now`.
    #[error("certificate {index} is not valid yet")]
    CertificateNotYetValid { index: usize },
    /// An intermediate certificate of a remotely provisioned chain that has expired.
    #[error("certificate {index} has expired")]
    CertificateExpired { index: usize },
    /// A certificate's serial number is on the revocation list.
    #[error("certificate {index} (serial {serial}) is on the revocation list as {status}")]
    CertificateRevoked {
        index: usize,
        serial: String,
        status: String,
    },

    // ---- the attestation extension -----------------------------------------------
    /// The leaf certificate carries no attestation extension (1.3.6.1.4.1.11129.2.1.17).
    #[error("the leaf certificate carries no key attestation extension")]
    ExtensionMissing,
    /// A certificate other than the leaf carries an attestation extension: the chain was
    /// extended below a genuine attested key (the "chain extension" attack).
    #[error("certificate {index} is not the leaf but carries a key attestation extension")]
    ExtensionOutsideLeaf { index: usize },
    /// The KeyDescription does not parse as the Android schema says.
    #[error("the key attestation extension is malformed: {rule}")]
    ExtensionMalformed { rule: &'static str },

    // ---- policy --------------------------------------------------------------------
    /// The key lives at a lower security level than the policy requires.
    #[error("the key is attested at security level {found:?}; {required:?} is required")]
    SecurityLevelTooLow {
        found: SecurityLevel,
        required: SecurityLevel,
    },
    /// The attested challenge is not the one this server issued.
    #[error("the attestation challenge is not the expected one")]
    ChallengeMismatch,
    /// The hardware-enforced list has no rootOfTrust, so the boot state is unknown.
    #[error("the attestation says nothing about the boot state (no root of trust)")]
    RootOfTrustMissing,
    /// The bootloader is unlocked (rootOfTrust.deviceLocked is false).
    #[error("the device's bootloader is unlocked")]
    BootloaderUnlocked,
    /// Verified boot did not verify the running OS with the OEM's key.
    #[error("verified boot state is {state:?}, not Verified")]
    BootNotVerified { state: VerifiedBootState },

    // ---- the attested key's own signature ----------------------------------------
    /// The signature over the binding message does not verify under the attested key.
    #[error("the signature does not verify under the attested key")]
    KeySignatureInvalid,

    // ---- the enrollment it was sent with (ADR 0011) -------------------------------
    /// The request's challenge was not issued by this server, has expired or was used.
    #[error("the attestation challenge was not issued, has expired or was already used")]
    ChallengeNotIssued,
    /// The hardware attested no IMEI (no ID attestation, or the app may not request it).
    #[error("the attestation carries no hardware-attested IMEI")]
    ImeiNotAttested,
    /// The attested IMEIs are not the one the lender registered for this device.
    #[error("the attested IMEI is not the registered one")]
    ImeiMismatch,
    /// The attestation settings could not be loaded, so nothing is trusted.
    #[error("attestation is unavailable: its settings could not be loaded")]
    VerifierUnavailable,

    // ---- configuration -----------------------------------------------------------
    /// Trust anchors given as PEM could not be read.
    #[error("trust anchors: {detail}")]
    AnchorsMalformed { detail: String },
    /// The revocation list is not in the format of Google's attestation status list.
    #[error("revocation list: {detail}")]
    RevocationListMalformed { detail: String },
}

impl AttestationError {
    /// A stable, machine-readable name for the rule that was broken.
    pub fn code(&self) -> &'static str {
        use AttestationError as E;
        match self {
            E::ChainTooShort { .. } => "attestation_chain_too_short",
            E::ChainTooLong { .. } => "attestation_chain_too_long",
            E::CertificateTooLarge { .. } => "attestation_certificate_too_large",
            E::CertificateMalformed { .. } => "attestation_certificate_malformed",
            E::SignatureAlgorithmMismatch { .. } => "attestation_signature_algorithm_mismatch",
            E::UnsupportedSignatureAlgorithm { .. } => {
                "attestation_unsupported_signature_algorithm"
            }
            E::UnsupportedKey { .. } => "attestation_unsupported_key",
            E::BadSignature { .. } => "attestation_bad_signature",
            E::IssuerMismatch { .. } => "attestation_issuer_mismatch",
            E::UntrustedRoot => "attestation_untrusted_root",
            E::CertificateNotYetValid { .. } => "attestation_certificate_not_yet_valid",
            E::CertificateExpired { .. } => "attestation_certificate_expired",
            E::CertificateRevoked { .. } => "attestation_certificate_revoked",
            E::ExtensionMissing => "attestation_extension_missing",
            E::ExtensionOutsideLeaf { .. } => "attestation_extension_outside_leaf",
            E::ExtensionMalformed { .. } => "attestation_extension_malformed",
            E::SecurityLevelTooLow { .. } => "attestation_security_level_too_low",
            E::ChallengeMismatch => "attestation_challenge_mismatch",
            E::RootOfTrustMissing => "attestation_root_of_trust_missing",
            E::BootloaderUnlocked => "attestation_bootloader_unlocked",
            E::BootNotVerified { .. } => "attestation_boot_not_verified",
            E::KeySignatureInvalid => "attestation_key_signature_invalid",
            E::ChallengeNotIssued => "attestation_challenge_not_issued",
            E::ImeiNotAttested => "attestation_imei_not_attested",
            E::ImeiMismatch => "attestation_imei_mismatch",
            E::VerifierUnavailable => "attestation_verifier_unavailable",
            E::AnchorsMalformed { .. } => "attestation_anchors_malformed",
            E::RevocationListMalformed { .. } => "attestation_revocation_list_malformed",
        }
    }
}
