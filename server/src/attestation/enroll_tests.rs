//! [`Verifier::verify_enroll`] and [`Settings::load`]: one test per rule an attested
//! enrollment can break, and a property test that arbitrary proofs never pass.

use finlock_core::b64;
use finlock_core::keys::DeviceKey;
use finlock_core::protocol::{DecodedAttestation, EnrollAttestation, binding_message, imei_sha256};
use proptest::prelude::*;

use super::testing::{self, IMEI, Kd, NOW, Pki, SECOND_IMEI};
use super::*;

const CHALLENGE: [u8; 32] = [0x5c; 32];

fn nonce() -> String {
    b64::encode([0xA5; 16])
}

fn thumbprint() -> String {
    b64::encode([0x17; 32])
}

fn kd() -> Kd {
    Kd {
        challenge: CHALLENGE.to_vec(),
        ..Kd::tee()
    }
}

fn verifier(pki: &Pki) -> Verifier {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), pki.root_pem()).unwrap();
    Settings {
        extra_roots_dir: Some(dir.path().to_path_buf()),
        ..Settings::default()
    }
    .load()
    .unwrap()
}

/// A proof for `kd` under `pki`, the binding signed over (`nonce`, `thumbprint`).
fn proof_with(pki: &Pki, kd: &Kd, nonce: &str, thumbprint: &str) -> DecodedAttestation {
    let (chain, leaf_key) = pki.chain(Some(kd.encode()));
    let message = binding_message(&CHALLENGE, nonce, thumbprint).unwrap();
    DecodedAttestation {
        challenge: CHALLENGE,
        chain,
        signature: testing::sign(&leaf_key, &message),
    }
}

fn proof(pki: &Pki, kd: &Kd) -> DecodedAttestation {
    proof_with(pki, kd, &nonce(), &thumbprint())
}

fn refused(v: &Verifier, p: &DecodedAttestation) -> AttestationError {
    v.verify_enroll(p, &nonce(), &thumbprint(), NOW)
        .unwrap_err()
}

#[test]
fn a_genuine_proof_proves_both_attested_imeis_and_nothing_else() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let proven = v
        .verify_enroll(&proof(&pki, &kd()), &nonce(), &thumbprint(), NOW)
        .unwrap();
    assert!(proven.proves(&imei_sha256(IMEI)));
    assert!(proven.proves(&imei_sha256(SECOND_IMEI)));
    assert!(!proven.proves(&imei_sha256("356938035643809")));
    assert!(!proven.proves(""));
    assert_eq!(proven.security_level, SecurityLevel::TrustedEnvironment);
    assert!(v.anchor_fingerprints().contains(&proven.anchor_fingerprint));
    // Debug names no IMEI.
    assert!(!format!("{proven:?}").contains(&imei_sha256(IMEI)));
}

#[test]
fn a_chain_under_an_untrusted_root_is_refused() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let forger = Pki::new();
    assert_eq!(
        refused(&v, &proof(&forger, &kd())),
        AttestationError::UntrustedRoot
    );
    // Google's roots alone do not trust the test root either.
    let google_only = Settings::default().load().unwrap();
    assert_eq!(
        refused(&google_only, &proof(&pki, &kd())),
        AttestationError::UntrustedRoot
    );
}

#[test]
fn a_certificate_challenge_other_than_the_request_s_is_refused() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let other = Kd {
        challenge: vec![0x5d; 32],
        ..Kd::tee()
    };
    assert_eq!(
        refused(&v, &proof(&pki, &other)),
        AttestationError::ChallengeMismatch
    );
}

#[test]
fn software_level_is_refused_and_strongbox_can_be_required() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let software = Kd {
        security_level: 0,
        keymint_security_level: 0,
        ..kd()
    };
    assert_eq!(
        refused(&v, &proof(&pki, &software)).code(),
        "attestation_security_level_too_low"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), pki.root_pem()).unwrap();
    let strongbox = Settings {
        extra_roots_dir: Some(dir.path().to_path_buf()),
        min_security_level: SecurityLevel::StrongBox,
        ..Settings::default()
    }
    .load()
    .unwrap();
    assert_eq!(
        refused(&strongbox, &proof(&pki, &kd())),
        AttestationError::SecurityLevelTooLow {
            found: SecurityLevel::TrustedEnvironment,
            required: SecurityLevel::StrongBox
        }
    );
    let sb = Kd {
        security_level: 2,
        keymint_security_level: 2,
        ..kd()
    };
    strongbox
        .verify_enroll(&proof(&pki, &sb), &nonce(), &thumbprint(), NOW)
        .unwrap();
}

#[test]
fn an_unlocked_bootloader_is_refused() {
    let pki = Pki::new();
    let mut unlocked = kd().without_hardware(testing::ROOT_OF_TRUST);
    unlocked.hardware.push(testing::root_of_trust(false, 2));
    assert_eq!(
        refused(&verifier(&pki), &proof(&pki, &unlocked)),
        AttestationError::BootloaderUnlocked
    );
}

#[test]
fn a_binding_over_another_key_or_another_request_is_refused() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let other_key = DeviceKey::generate().unwrap().public().thumbprint();
    let lifted = proof_with(&pki, &kd(), &nonce(), &other_key);
    assert_eq!(refused(&v, &lifted), AttestationError::KeySignatureInvalid);
    let other_request = proof_with(&pki, &kd(), &b64::encode([1; 16]), &thumbprint());
    assert_eq!(
        refused(&v, &other_request),
        AttestationError::KeySignatureInvalid
    );
    // A signature by another key over the right message.
    let mut foreign = proof(&pki, &kd());
    let stranger = testing::key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let message = binding_message(&CHALLENGE, &nonce(), &thumbprint()).unwrap();
    foreign.signature = testing::sign(&stranger, &message);
    assert_eq!(refused(&v, &foreign), AttestationError::KeySignatureInvalid);
}

#[test]
fn a_proof_without_a_hardware_attested_imei_is_refused() {
    let pki = Pki::new();
    let v = verifier(&pki);
    let none = kd()
        .without_hardware(testing::ID_IMEI)
        .without_hardware(testing::ID_SECOND_IMEI);
    assert_eq!(
        refused(&v, &proof(&pki, &none)),
        AttestationError::ImeiNotAttested
    );
    // Claimed by the OS only (software-enforced): not attested.
    let mut claimed = none.clone();
    claimed.software.push(testing::id(testing::ID_IMEI, IMEI));
    assert_eq!(
        refused(&v, &proof(&pki, &claimed)),
        AttestationError::ImeiNotAttested
    );
    // Something the modem would never report as an IMEI.
    let mut garbage = none;
    garbage
        .hardware
        .push(testing::id(testing::ID_IMEI, "not-an-imei"));
    assert_eq!(
        refused(&v, &proof(&pki, &garbage)),
        AttestationError::ImeiNotAttested
    );
}

#[test]
fn a_revoked_certificate_is_refused() {
    let pki = Pki::new();
    let roots = tempfile::tempdir().unwrap();
    std::fs::write(roots.path().join("root.pem"), pki.root_pem()).unwrap();
    let list = roots.path().join("status.json");
    // The batch certificate's serial (01 03, see `testing::ca_params`).
    std::fs::write(
        &list,
        br#"{"entries": {"103": {"status": "REVOKED", "reason": "KEY_COMPROMISE"}}}"#,
    )
    .unwrap();
    let v = Settings {
        extra_roots_dir: Some(roots.path().to_path_buf()),
        revocation_file: Some(list),
        ..Settings::default()
    }
    .load()
    .unwrap();
    assert_eq!(
        refused(&v, &proof(&pki, &kd())).code(),
        "attestation_certificate_revoked"
    );
}

#[test]
fn an_unusable_verifier_refuses_everything() {
    let pki = Pki::new();
    assert_eq!(
        refused(&Verifier::unusable(), &proof(&pki, &kd())),
        AttestationError::VerifierUnavailable
    );
}

#[test]
fn settings_that_do_not_load_name_the_setting() {
    let missing = Settings {
        extra_roots_dir: Some("/nonexistent/finlock-roots".into()),
        ..Settings::default()
    };
    assert!(missing.load().unwrap_err().contains("--attestation-roots"));
    let empty = tempfile::tempdir().unwrap();
    let e = Settings {
        extra_roots_dir: Some(empty.path().to_path_buf()),
        ..Settings::default()
    }
    .load()
    .unwrap_err();
    assert!(e.contains("no .pem file"), "{e}");
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("oem.pem"), "not a certificate").unwrap();
    let e = Settings {
        extra_roots_dir: Some(bad.path().to_path_buf()),
        ..Settings::default()
    }
    .load()
    .unwrap_err();
    assert!(e.contains("oem.pem"), "{e}");
    let list = bad.path().join("status.json");
    std::fs::write(&list, "{}").unwrap();
    let e = Settings {
        revocation_file: Some(list),
        ..Settings::default()
    }
    .load()
    .unwrap_err();
    assert!(e.contains("--attestation-revocations"), "{e}");
    assert!(parse_security_level("tee").is_ok());
    assert!(parse_security_level("software").is_err());
    // The defaults load: Google's two roots.
    assert_eq!(
        Settings::default()
            .load()
            .unwrap()
            .anchor_fingerprints()
            .len(),
        2
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    /// Whatever bytes arrive as a proof — within the protocol's bounds, so they reach the
    /// verifier — nothing is proven.
    #[test]
    fn arbitrary_attestation_bytes_never_prove_anything(
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..900), 2..8),
        signature in proptest::collection::vec(any::<u8>(), 1..512),
        challenge in any::<[u8; 32]>(),
    ) {
        thread_local! {
            static V: Verifier = verifier(&Pki::new());
        }
        let wire = EnrollAttestation::from_bytes(&challenge, &chain, &signature);
        if let Ok(decoded) = wire.decode() {
            V.with(|v| {
                prop_assert!(v.verify_enroll(&decoded, &nonce(), &thumbprint(), NOW).is_err());
                Ok(())
            })?;
        }
    }

    /// A genuine chain with arbitrary damage, or a genuine chain with an arbitrary
    /// signature, never proves anything either.
    #[test]
    fn a_damaged_genuine_proof_never_passes(
        cert in 0usize..4,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        signature in proptest::collection::vec(any::<u8>(), 1..120),
    ) {
        thread_local! {
            static FIXTURE: (Verifier, DecodedAttestation) = {
                let pki = Pki::new();
                (verifier(&pki), proof(&pki, &kd()))
            };
        }
        FIXTURE.with(|(v, good)| {
            let mut forged = good.clone();
            forged.signature = signature.clone();
            prop_assert!(v.verify_enroll(&forged, &nonce(), &thumbprint(), NOW).is_err());
            let mut damaged = good.clone();
            let c = &mut damaged.chain[cert];
            let i = at.index(c.len());
            if c[i] != byte {
                c[i] = byte;
                // Damage outside everything signed (e.g. the outer signature's DER
                // encoding slack) cannot exist in DER; any change either fails or leaves
                // the same attested facts — and then the binding still holds only for
                // this request's own key.
                if let Ok(p) = v.verify_enroll(&damaged, &nonce(), &thumbprint(), NOW) {
                    prop_assert!(p.proves(&imei_sha256(IMEI)));
                    prop_assert!(v.verify_enroll(&damaged, &nonce(), &b64::encode([0x18; 32]), NOW).is_err());
                }
            }
            Ok(())
        })?;
    }
}
