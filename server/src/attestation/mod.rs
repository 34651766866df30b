//! # Android key attestation with device-ID attestation
//!
//! Decides whether an enrolling phone proved, in hardware, that it is a genuine Android
//! device with a given IMEI, and hands back the key it proved it with. This is the only
//! gate on enrollment by IMEI without a one-time code (issue 12): whoever passes it can
//! take over the phone's entitlement, so everything here fails closed.
//!
//! The phone (Device Owner or preloaded app) generates a Keystore key with
//! `DevicePolicyManager.generateKeyPair(…, ID_TYPE_IMEI | ID_TYPE_SERIAL, …)` and an
//! attestation challenge the server issued. Its secure hardware (TEE or StrongBox) signs
//! a certificate for that key whose extension 1.3.6.1.4.1.11129.2.1.17 (the
//! KeyDescription) states the challenge, the security level, the boot state and the
//! device identifiers it checked against its factory-provisioned values. The chain above
//! that certificate ends at a root the verifier trusts (Google's, or an OEM's the lender
//! configured). The phone then signs a binding message with the attested key.
//!
//! Pure functions, no I/O: [`verify_chain`] checks the chain and reads the leaf's
//! KeyDescription into an [`Attestation`]; [`check`] applies a [`Policy`] and the
//! expected challenge; [`Attestation::verify_signature`] checks the binding signature.
//! The only inputs besides the request are [`TrustAnchors`] (PEM, loaded once) and a
//! [`RevocationList`] (JSON, loaded once).
//!
//! ## What is verified, and why
//! Following developer.android.com, "Verify hardware-backed key pairs with key
//! attestation" (*Retrieve and verify a hardware-backed key pair*, *Root certificates*,
//! *Certificate revocation status list*, *Attestation extension data schema*), and
//! source.android.com, "Key and ID attestation" (*Attestation extension*, *ID
//! attestation*), with the rules of Google's own verifier (github.com/android/
//! keyattestation, `KeyAttestationCertPathValidator`) where the docs leave a choice:
//!
//! - **Shape**: 2 to [`MAX_CHAIN_LEN`] certificates of at most [`MAX_CERT_LEN`] bytes
//!   each, leaf first, each exactly one DER certificate — before any cryptography, so an
//!   oversized request costs nothing.
//! - **Trust**: the top certificate's public key (its DER SubjectPublicKeyInfo) is one
//!   of the anchors' keys. Google re-issued its RSA root under the same key, so trust is
//!   by key, not by certificate bytes.
//! - **Signatures**: every certificate verifies under the next one's key, the top one
//!   under its own (`ring`: ECDSA P-256/P-384 with SHA-256/384, RSA PKCS#1 v1.5 with
//!   SHA-256/384/512 at 2048–8192 bits, Ed25519). The signature algorithm inside and
//!   outside the signed part must agree.
//! - **Names**: each certificate's issuer is the next one's subject (byte-equal, or
//!   equal up to string type, case and spacing as Java's `X500Principal` compares).
//! - **Validity**: see `chain::check_validity` — the leaf's and the root's are not
//!   checked (device-written; trust by key), an intermediate not yet valid is refused,
//!   an expired intermediate is refused except in factory-provisioned chains, exactly
//!   as Google's verifier does.
//! - **Revocation**: no certificate's serial (lowercase hex, as Google's status list
//!   writes it) is on the configured list, whatever its status (REVOKED, SUSPENDED).
//! - **Extension placement**: the leaf carries exactly one attestation extension and no
//!   other certificate carries any. Without this rule anyone with a genuinely attested
//!   key could sign a child certificate claiming any IMEI.
//! - **KeyDescription**: parsed strictly (DER, eight fields, interpreted
//!   AuthorizationList tags at most once, IDs as UTF-8 OCTET STRINGs). Device IDs, the
//!   root of trust and OS versions are read from `hardwareEnforced` **only**:
//!   `softwareEnforced` is whatever the Android OS claimed and proves nothing.
//! - **Policy** ([`check`]): the security level (the lower of attestation and KeyMint
//!   levels, as Google's verifier reports it) at least TEE by default; the challenge equal
//!   to the expected one (constant-time); by default a locked bootloader and a
//!   `Verified` boot state, since an unlocked or custom OS can bypass the lock app.
//!
//! ## What is not verified
//! - No network: the revocation list is read from what the deployment configured; with
//!   an empty list nothing is revoked. Fetching Google's list on a schedule is the
//!   deployment's job.
//! - The verifier trusts its anchors entirely: an OEM root a lender adds can vouch for
//!   any IMEI. The anchors' own validity dates are not checked.
//! - Key usage, basic constraints and other X.509 extensions are not enforced (old
//!   devices' chains do not conform to RFC 5280; Google's verifier does not enforce them
//!   either). The chain's integrity rests on signatures, names and the extension rule.
//! - Whether the attested IMEI is the registered one, and whether a challenge was
//!   already used, are the caller's decisions: [`verify_chain`] reports what was
//!   attested. For enrollment, [`Verifier::verify_enroll`] adds the binding signature
//!   and hashes the attested IMEIs, `challenges` issues and consumes the challenges (the
//!   one part with I/O), and `crate::enrollment` compares with the registered IMEI.
//! - Attestation application id, key purposes, patch levels: parsed where needed, not
//!   judged.

mod chain;
pub mod challenges;
mod der;
mod error;
mod key_description;
mod settings;
mod trust;

#[cfg(test)]
mod enroll_tests;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use std::fmt;

use ring::signature::UnparsedPublicKey;

pub use error::AttestationError;
pub use key_description::{AttestedIds, RootOfTrust, SecurityLevel, VerifiedBootState};
pub use settings::{Proven, Settings, Verifier, parse_security_level};
pub use trust::{RevocationEntry, RevocationList, TrustAnchors};

use chain::KeyKind;

/// The most certificates a chain may have (real ones have 3 to 5).
pub const MAX_CHAIN_LEN: usize = 10;
/// The largest certificate accepted, in bytes (a 4096-bit RSA root is about 1.4 KiB).
pub const MAX_CERT_LEN: usize = 8 * 1024;

/// What a verified chain attests: the leaf's KeyDescription, with the device IDs and
/// root of trust taken from its hardware-enforced list, and the attested key.
///
/// `Debug` leaves the device identifiers out (they are personal data).
#[derive(Clone, PartialEq, Eq)]
pub struct Attestation {
    attestation_version: i64,
    attestation_security_level: SecurityLevel,
    keymint_version: i64,
    keymint_security_level: SecurityLevel,
    challenge: Vec<u8>,
    ids: AttestedIds,
    root_of_trust: Option<RootOfTrust>,
    os_version: Option<i64>,
    os_patch_level: Option<i64>,
    spki: Vec<u8>,
    key_kind: KeyKind,
    key: Vec<u8>,
    anchor_fingerprint: [u8; 32],
}

impl Attestation {
    /// The level the key is protected at: the lower of `attestationSecurityLevel` and
    /// `keyMintSecurityLevel`.
    pub fn security_level(&self) -> SecurityLevel {
        self.attestation_security_level
            .min(self.keymint_security_level)
    }

    pub fn attestation_security_level(&self) -> SecurityLevel {
        self.attestation_security_level
    }

    pub fn keymint_security_level(&self) -> SecurityLevel {
        self.keymint_security_level
    }

    /// 1–4 for Keymaster, 100, 200, 300, 400 for KeyMint.
    pub fn attestation_version(&self) -> i64 {
        self.attestation_version
    }

    pub fn keymint_version(&self) -> i64 {
        self.keymint_version
    }

    /// The attestation challenge, as the secure hardware signed it.
    pub fn challenge(&self) -> &[u8] {
        &self.challenge
    }

    /// Every hardware-attested identifier.
    pub fn ids(&self) -> &AttestedIds {
        &self.ids
    }

    /// The attested IMEIs (the first, then the second on dual-SIM phones); empty when
    /// the device attested none.
    pub fn imeis(&self) -> impl Iterator<Item = &str> {
        [&self.ids.imei, &self.ids.second_imei]
            .into_iter()
            .filter_map(|i| i.as_deref())
    }

    /// The attested hardware serial number.
    pub fn serial(&self) -> Option<&str> {
        self.ids.serial.as_deref()
    }

    pub fn brand(&self) -> Option<&str> {
        self.ids.brand.as_deref()
    }

    pub fn model(&self) -> Option<&str> {
        self.ids.model.as_deref()
    }

    pub fn manufacturer(&self) -> Option<&str> {
        self.ids.manufacturer.as_deref()
    }

    /// The hardware-enforced root of trust, when present.
    pub fn root_of_trust(&self) -> Option<&RootOfTrust> {
        self.root_of_trust.as_ref()
    }

    pub fn verified_boot_state(&self) -> Option<VerifiedBootState> {
        self.root_of_trust.as_ref().map(|r| r.verified_boot_state)
    }

    pub fn device_locked(&self) -> Option<bool> {
        self.root_of_trust.as_ref().map(|r| r.device_locked)
    }

    /// Hardware-enforced OS version (e.g. 140000 for Android 14), when present.
    pub fn os_version(&self) -> Option<i64> {
        self.os_version
    }

    /// Hardware-enforced OS patch level (YYYYMM), when present.
    pub fn os_patch_level(&self) -> Option<i64> {
        self.os_patch_level
    }

    /// The attested key as a DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    /// SHA-256 of the trust anchor certificate the chain ended at, lowercase hex: which
    /// root vouched for this device, for the audit log.
    pub fn anchor_fingerprint(&self) -> String {
        trust::hex(&self.anchor_fingerprint)
    }

    /// Checks a signature made by the attested key over `message`, as Android Keystore
    /// makes them: `SHA256withECDSA` for P-256 keys and `SHA384withECDSA` for P-384 keys
    /// (ASN.1 DER signatures), `SHA256withRSA` (PKCS#1 v1.5) for RSA keys, Ed25519.
    pub fn verify_signature(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), AttestationError> {
        UnparsedPublicKey::new(chain::message_algorithm(self.key_kind), &self.key)
            .verify(message, signature)
            .map_err(|_| AttestationError::KeySignatureInvalid)
    }
}

impl fmt::Debug for Attestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |o: &Option<String>| o.is_some();
        f.debug_struct("Attestation")
            .field("attestation_version", &self.attestation_version)
            .field("security_level", &self.security_level())
            .field("challenge_len", &self.challenge.len())
            .field("imei_attested", &present(&self.ids.imei))
            .field("second_imei_attested", &present(&self.ids.second_imei))
            .field("serial_attested", &present(&self.ids.serial))
            .field(
                "root_of_trust",
                &self
                    .root_of_trust
                    .as_ref()
                    .map(|r| (r.device_locked, r.verified_boot_state)),
            )
            .field("key_kind", &self.key_kind)
            .field("anchor", &self.anchor_fingerprint())
            .finish_non_exhaustive()
    }
}

/// Verifies an attestation certificate chain (DER, leaf first) at `now_unix` (seconds)
/// and reads what its leaf attests. See the module docs for every rule.
pub fn verify_chain(
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    revoked: &RevocationList,
    now_unix: i64,
) -> Result<Attestation, AttestationError> {
    let verified = chain::verify(chain, anchors, revoked, now_unix)?;
    let leaf = verified
        .certs
        .first()
        .ok_or(AttestationError::ChainTooShort { len: 0 })?;
    let mut extensions = chain::attestation_extensions(leaf);
    let value = extensions
        .next()
        .ok_or(AttestationError::ExtensionMissing)?;
    if extensions.next().is_some() {
        return Err(AttestationError::ExtensionMalformed {
            rule: "the leaf carries the attestation extension twice",
        });
    }
    let kd = key_description::parse(value)
        .map_err(|e| AttestationError::ExtensionMalformed { rule: e.0 })?;
    let spki = leaf.public_key();
    let key = chain::public_key(spki).ok_or(AttestationError::UnsupportedKey { index: 0 })?;
    Ok(Attestation {
        attestation_version: kd.attestation_version,
        attestation_security_level: kd.attestation_security_level,
        keymint_version: kd.keymint_version,
        keymint_security_level: kd.keymint_security_level,
        challenge: kd.challenge,
        ids: kd.hardware_enforced.ids,
        root_of_trust: kd.hardware_enforced.root_of_trust,
        os_version: kd.hardware_enforced.os_version,
        os_patch_level: kd.hardware_enforced.os_patch_level,
        spki: spki.raw.to_vec(),
        key_kind: key.kind,
        key: key.bytes.to_vec(),
        anchor_fingerprint: verified.anchor,
    })
}

/// What an attestation must show beyond a valid chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The lowest acceptable [`Attestation::security_level`]. Default: TEE.
    /// `StrongBox` demands a secure element, which many low-end phones lack.
    pub min_security_level: SecurityLevel,
    /// Refuse an unlocked bootloader (`deviceLocked` false). Default: refuse.
    pub require_locked_bootloader: bool,
    /// Refuse any boot state but `Verified` (`SelfSigned`, `Unverified`, `Failed`): an OS
    /// the OEM did not sign can bypass the lock app. Default: refuse.
    pub require_verified_boot: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_security_level: SecurityLevel::TrustedEnvironment,
            require_locked_bootloader: true,
            require_verified_boot: true,
        }
    }
}

/// Applies `policy` and compares the attested challenge with `expected_challenge` in
/// constant time. Run after [`verify_chain`]; the caller still compares the attested
/// IMEI with the registered one and checks the binding signature.
pub fn check(
    attestation: &Attestation,
    policy: &Policy,
    expected_challenge: &[u8],
) -> Result<(), AttestationError> {
    if !constant_time_eq(attestation.challenge(), expected_challenge) {
        return Err(AttestationError::ChallengeMismatch);
    }
    let found = attestation.security_level();
    if found < policy.min_security_level {
        return Err(AttestationError::SecurityLevelTooLow {
            found,
            required: policy.min_security_level,
        });
    }
    if policy.require_locked_bootloader || policy.require_verified_boot {
        let rot = attestation
            .root_of_trust()
            .ok_or(AttestationError::RootOfTrustMissing)?;
        if policy.require_locked_bootloader && !rot.device_locked {
            return Err(AttestationError::BootloaderUnlocked);
        }
        if policy.require_verified_boot && rot.verified_boot_state != VerifiedBootState::Verified {
            return Err(AttestationError::BootNotVerified {
                state: rot.verified_boot_state,
            });
        }
    }
    Ok(())
}

/// Equal contents, in time that depends on the lengths only (which are not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
