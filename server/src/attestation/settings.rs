//! What a deployment configures for attested enrollment (ADR 0011), and the [`Verifier`]
//! made from it once at start: Google's roots plus the lender's extra roots, the offline
//! revocation list, the lowest security level accepted.
//!
//! `finlock serve` loads the settings before it listens and exits 2 naming what is wrong
//! (a roots directory without a certificate, a status list that is not one): a typo must
//! not start a server that silently trusts nothing, or more than meant.

use std::path::{Path, PathBuf};

use finlock_core::protocol::{DecodedAttestation, Imei, binding_message};

use super::{
    AttestationError, Policy, RevocationList, SecurityLevel, TrustAnchors, check, verify_chain,
};

/// `--attestation-roots`, `--attestation-revocations`, `--attestation-security-level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A directory of `*.pem` files whose certificates are trusted beside Google's roots
    /// (an OEM's attestation root, or a test root). Every file must parse.
    pub extra_roots_dir: Option<PathBuf>,
    /// Google's attestation status list (JSON), downloaded by the deployment; without it
    /// nothing is revoked.
    pub revocation_file: Option<PathBuf>,
    /// The lowest security level accepted: TEE (the default) or StrongBox.
    pub min_security_level: SecurityLevel,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            extra_roots_dir: None,
            revocation_file: None,
            min_security_level: SecurityLevel::TrustedEnvironment,
        }
    }
}

/// Reads `tee` or `strongbox` (what `--attestation-security-level` takes).
pub fn parse_security_level(text: &str) -> Result<SecurityLevel, String> {
    match text {
        "tee" => Ok(SecurityLevel::TrustedEnvironment),
        "strongbox" => Ok(SecurityLevel::StrongBox),
        other => Err(format!(
            "--attestation-security-level {other:?} is not tee or strongbox"
        )),
    }
}

impl Settings {
    /// Loads the anchors and the revocation list; the error names the setting and what
    /// is wrong with it.
    pub fn load(&self) -> Result<Verifier, String> {
        let mut anchors = TrustAnchors::google();
        if let Some(dir) = &self.extra_roots_dir {
            anchors = anchors.with(read_roots_dir(dir)?);
        }
        let revoked = match &self.revocation_file {
            None => RevocationList::empty(),
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    format!(
                        "--attestation-revocations {}: cannot read it ({e})",
                        path.display()
                    )
                })?;
                RevocationList::from_json(&bytes)
                    .map_err(|e| format!("--attestation-revocations {}: {e}", path.display()))?
            }
        };
        Ok(Verifier {
            anchors,
            revoked,
            policy: Policy {
                min_security_level: self.min_security_level,
                ..Policy::default()
            },
            usable: true,
        })
    }
}

fn read_roots_dir(dir: &Path) -> Result<TrustAnchors, String> {
    let name = |p: &Path| format!("--attestation-roots {}", p.display());
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the directory ({e})", name(dir)))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    files.sort();
    let mut anchors: Option<TrustAnchors> = None;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("{}: cannot read {} ({e})", name(dir), file.display()))?;
        let more = TrustAnchors::from_pem(&text)
            .map_err(|e| format!("{}: {}: {e}", name(dir), file.display()))?;
        anchors = Some(match anchors {
            None => more,
            Some(a) => a.with(more),
        });
    }
    anchors.ok_or_else(|| format!("{}: no .pem file with a certificate", name(dir)))
}

/// Verifies the proof of an attested enrollment: pure, no I/O (the challenge's issue
/// and single use are the caller's, see `challenges`).
#[derive(Debug, Clone)]
pub struct Verifier {
    anchors: TrustAnchors,
    revoked: RevocationList,
    policy: Policy,
    /// False when the settings could not be loaded: every proof is refused.
    usable: bool,
}

/// What a proof established: the hardware-attested IMEIs, hashed as the protocol hashes
/// them (never kept in the clear), and which root vouched at which level.
#[derive(Clone, PartialEq, Eq)]
pub struct Proven {
    imei_sha256: Vec<String>,
    pub anchor_fingerprint: String,
    pub security_level: SecurityLevel,
}

impl std::fmt::Debug for Proven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proven")
            .field("imeis", &self.imei_sha256.len())
            .field("anchor_fingerprint", &self.anchor_fingerprint)
            .field("security_level", &self.security_level)
            .finish()
    }
}

impl Proven {
    /// Whether the hardware attested the IMEI (first or second) registered as
    /// `registered_imei_sha256`.
    pub fn proves(&self, registered_imei_sha256: &str) -> bool {
        self.imei_sha256
            .iter()
            .any(|h| constant_time_eq(h.as_bytes(), registered_imei_sha256.as_bytes()))
    }
}

#[cfg(test)]
impl Proven {
    /// What a proof of these IMEI hashes establishes (tests of the callers).
    pub fn of_imei_hashes(imei_sha256: Vec<String>) -> Proven {
        Proven {
            imei_sha256,
            anchor_fingerprint: String::new(),
            security_level: SecurityLevel::TrustedEnvironment,
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    /// A verifier that refuses every proof, for when the settings could not be loaded
    /// (`finlock serve` refuses to start then; this is the in-process fallback).
    pub fn unusable() -> Verifier {
        Verifier {
            anchors: TrustAnchors::default(),
            revoked: RevocationList::empty(),
            policy: Policy::default(),
            usable: false,
        }
    }

    /// The anchors' fingerprints (for `finlock serve`'s start-up log).
    pub fn anchor_fingerprints(&self) -> Vec<String> {
        self.anchors.fingerprints()
    }

    /// Checks, in order: the chain up to a trusted root and the revocation list, the
    /// KeyDescription's challenge against the request's (the caller checked that the
    /// server issued it and consumed it), the security level, a locked bootloader and
    /// verified boot, the attested key's signature over the binding message of this
    /// request's nonce and device key, and that at least one IMEI was attested.
    pub fn verify_enroll(
        &self,
        proof: &DecodedAttestation,
        nonce: &str,
        device_key_thumbprint: &str,
        now: i64,
    ) -> Result<Proven, AttestationError> {
        if !self.usable {
            return Err(AttestationError::VerifierUnavailable);
        }
        let attestation = verify_chain(&proof.chain, &self.anchors, &self.revoked, now)?;
        check(&attestation, &self.policy, &proof.challenge)?;
        let message = binding_message(&proof.challenge, nonce, device_key_thumbprint)
            .map_err(|_| AttestationError::KeySignatureInvalid)?;
        attestation.verify_signature(&message, &proof.signature)?;
        // The hardware reports the IMEI as the modem does; one that is not 14–16 digits
        // cannot be a registered one.
        let imei_sha256: Vec<String> = attestation
            .imeis()
            .filter_map(|i| Imei::parse(i).ok())
            .map(|i| i.sha256())
            .collect();
        if imei_sha256.is_empty() {
            return Err(AttestationError::ImeiNotAttested);
        }
        Ok(Proven {
            imei_sha256,
            anchor_fingerprint: attestation.anchor_fingerprint(),
            security_level: attestation.security_level(),
        })
    }
}
