//! One test per rule, on chains made on the spot (see `testing`), plus the shipped Google
//! roots and property tests that no input panics.

use proptest::prelude::*;
use rcgen::{Issuer, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, SerialNumber};

use super::testing::{self, CHALLENGE, IMEI, Kd, NOW, Pki, SECOND_IMEI, SERIAL, der};
use super::*;

fn anchors(pki: &Pki) -> TrustAnchors {
    TrustAnchors::from_pem(&pki.root_pem()).unwrap()
}

fn verify(pki: &Pki, chain: &[Vec<u8>]) -> Result<Attestation, AttestationError> {
    verify_chain(chain, &anchors(pki), &RevocationList::empty(), NOW)
}

fn good(pki: &Pki) -> (Vec<Vec<u8>>, rcgen::KeyPair) {
    pki.chain(Some(Kd::tee().encode()))
}

fn verify_kd(kd: &Kd) -> Result<Attestation, AttestationError> {
    let pki = Pki::new();
    let (chain, _) = pki.chain(Some(kd.encode()));
    verify(&pki, &chain)
}

/// The byte offset of the last occurrence of `needle` in `haystack`.
fn rfind(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("needle present")
}

// ---- a good chain ------------------------------------------------------------------

#[test]
fn good_tee_chain_with_imei_and_serial_passes_and_exposes_them() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    let att = verify(&pki, &chain).unwrap();
    check(&att, &Policy::default(), CHALLENGE).unwrap();

    assert_eq!(att.security_level(), SecurityLevel::TrustedEnvironment);
    assert_eq!(att.attestation_version(), 300);
    assert_eq!(att.keymint_version(), 300);
    assert_eq!(att.challenge(), CHALLENGE);
    assert_eq!(att.imeis().collect::<Vec<_>>(), [IMEI, SECOND_IMEI]);
    assert_eq!(att.serial(), Some(SERIAL));
    assert_eq!(att.brand(), Some("finphone"));
    assert_eq!(att.model(), Some("FP-1"));
    assert_eq!(att.manufacturer(), Some("Finphone Ltd"));
    assert_eq!(att.ids().device.as_deref(), Some("fp1"));
    assert_eq!(att.ids().product.as_deref(), Some("fp1_global"));
    assert_eq!(att.verified_boot_state(), Some(VerifiedBootState::Verified));
    assert_eq!(att.device_locked(), Some(true));
    assert_eq!(att.os_version(), Some(140000));
    assert_eq!(att.os_patch_level(), Some(202605));
    assert_eq!(att.anchor_fingerprint(), anchors(&pki).fingerprints()[0]);
    // The SPKI exposed is the leaf's.
    let leaf = x509_parser::parse_x509_certificate(&chain[0]).unwrap().1;
    assert_eq!(att.public_key_spki(), leaf.public_key().raw);
}

#[test]
fn attested_key_signature_binds_the_message() {
    let pki = Pki::new();
    let (chain, leaf_key) = good(&pki);
    let att = verify(&pki, &chain).unwrap();
    let message = b"enroll nonce || device key thumbprint";
    let sig = testing::sign(&leaf_key, message);
    att.verify_signature(message, &sig).unwrap();

    let err = att.verify_signature(b"another message", &sig).unwrap_err();
    assert_eq!(err, AttestationError::KeySignatureInvalid);
    let other = testing::key(&PKCS_ECDSA_P256_SHA256);
    let err = att
        .verify_signature(message, &testing::sign(&other, message))
        .unwrap_err();
    assert_eq!(err.code(), "attestation_key_signature_invalid");
    assert!(att.verify_signature(message, &[]).is_err());
}

#[test]
fn a_p384_attested_key_signs_with_sha384() {
    let pki = Pki::new();
    let leaf_key = testing::key(&PKCS_ECDSA_P384_SHA384);
    let chain = pki.chain_with_leaf(&testing::leaf_params(Some(Kd::tee().encode())), &leaf_key);
    let att = verify(&pki, &chain).unwrap();
    att.verify_signature(b"m", &testing::sign(&leaf_key, b"m"))
        .unwrap();
}

#[test]
fn unknown_authorization_list_tags_are_skipped() {
    let mut kd = Kd::tee();
    kd.hardware
        .push(der::explicit(9999, der::octets(b"from a future KeyMint")));
    kd.software.push(der::explicit(724, der::octets(&[1; 32])));
    let att = verify_kd(&kd).unwrap();
    assert_eq!(att.imeis().next(), Some(IMEI));
}

// ---- policy --------------------------------------------------------------------------

#[test]
fn software_level_attestation_is_refused_by_the_default_policy() {
    let kd = Kd {
        security_level: 0,
        keymint_security_level: 0,
        ..Kd::tee()
    };
    let att = verify_kd(&kd).unwrap();
    let err = check(&att, &Policy::default(), CHALLENGE).unwrap_err();
    assert_eq!(
        err,
        AttestationError::SecurityLevelTooLow {
            found: SecurityLevel::Software,
            required: SecurityLevel::TrustedEnvironment,
        }
    );
    assert_eq!(err.code(), "attestation_security_level_too_low");
    let lax = Policy {
        min_security_level: SecurityLevel::Software,
        ..Policy::default()
    };
    check(&att, &lax, CHALLENGE).unwrap();
}

#[test]
fn the_lower_of_attestation_and_keymint_levels_counts() {
    let kd = Kd {
        keymint_security_level: 0,
        ..Kd::tee()
    };
    let att = verify_kd(&kd).unwrap();
    assert_eq!(
        att.attestation_security_level(),
        SecurityLevel::TrustedEnvironment
    );
    assert_eq!(att.security_level(), SecurityLevel::Software);
    let err = check(&att, &Policy::default(), CHALLENGE).unwrap_err();
    assert_eq!(err.code(), "attestation_security_level_too_low");
}

#[test]
fn strongbox_can_be_required() {
    let strongbox = Policy {
        min_security_level: SecurityLevel::StrongBox,
        ..Policy::default()
    };
    let tee = verify_kd(&Kd::tee()).unwrap();
    let err = check(&tee, &strongbox, CHALLENGE).unwrap_err();
    assert_eq!(
        err,
        AttestationError::SecurityLevelTooLow {
            found: SecurityLevel::TrustedEnvironment,
            required: SecurityLevel::StrongBox,
        }
    );
    let sb = verify_kd(&Kd {
        security_level: 2,
        keymint_security_level: 2,
        ..Kd::tee()
    })
    .unwrap();
    check(&sb, &strongbox, CHALLENGE).unwrap();
}

#[test]
fn a_wrong_challenge_is_refused() {
    let att = verify_kd(&Kd::tee()).unwrap();
    for wrong in [
        &b""[..],
        b"server-issued challenge, 32 byt",
        b"server-issued challenge, 32 bytes",
        b"Server-issued challenge, 32 byte",
    ] {
        let err = check(&att, &Policy::default(), wrong).unwrap_err();
        assert_eq!(err, AttestationError::ChallengeMismatch);
        assert_eq!(err.code(), "attestation_challenge_mismatch");
    }
}

#[test]
fn an_unlocked_bootloader_is_refused_by_default() {
    let mut kd = Kd::tee().without_hardware(testing::ROOT_OF_TRUST);
    kd.hardware.push(testing::root_of_trust(false, 2));
    let att = verify_kd(&kd).unwrap();
    assert_eq!(att.device_locked(), Some(false));
    let err = check(&att, &Policy::default(), CHALLENGE).unwrap_err();
    assert_eq!(err, AttestationError::BootloaderUnlocked);
    assert_eq!(err.code(), "attestation_bootloader_unlocked");

    let lax = Policy {
        require_locked_bootloader: false,
        require_verified_boot: false,
        ..Policy::default()
    };
    check(&att, &lax, CHALLENGE).unwrap();
}

#[test]
fn a_boot_state_other_than_verified_is_refused_by_default() {
    for (state, expected) in [
        (1, VerifiedBootState::SelfSigned),
        (2, VerifiedBootState::Unverified),
        (3, VerifiedBootState::Failed),
    ] {
        let mut kd = Kd::tee().without_hardware(testing::ROOT_OF_TRUST);
        kd.hardware.push(testing::root_of_trust(true, state));
        let att = verify_kd(&kd).unwrap();
        let err = check(&att, &Policy::default(), CHALLENGE).unwrap_err();
        assert_eq!(err, AttestationError::BootNotVerified { state: expected });
        assert_eq!(err.code(), "attestation_boot_not_verified");
    }
}

#[test]
fn a_missing_root_of_trust_is_refused_by_default() {
    let kd = Kd::tee().without_hardware(testing::ROOT_OF_TRUST);
    let att = verify_kd(&kd).unwrap();
    assert_eq!(att.verified_boot_state(), None);
    let err = check(&att, &Policy::default(), CHALLENGE).unwrap_err();
    assert_eq!(err, AttestationError::RootOfTrustMissing);
}

#[test]
fn ids_and_boot_state_only_in_software_enforced_are_not_attested() {
    let mut kd = Kd::tee()
        .without_hardware(testing::ID_IMEI)
        .without_hardware(testing::ID_SECOND_IMEI)
        .without_hardware(testing::ID_SERIAL)
        .without_hardware(testing::ID_MODEL)
        .without_hardware(testing::ROOT_OF_TRUST);
    kd.software.push(testing::root_of_trust(true, 0));
    kd.software.push(testing::id(testing::ID_SERIAL, SERIAL));
    kd.software.push(testing::id(testing::ID_IMEI, IMEI));
    kd.software.push(testing::id(testing::ID_MODEL, "FP-1"));
    let att = verify_kd(&kd).unwrap();
    assert_eq!(att.imeis().count(), 0);
    assert_eq!(att.serial(), None);
    assert_eq!(att.model(), None);
    assert_eq!(att.root_of_trust(), None);
    assert_eq!(
        check(&att, &Policy::default(), CHALLENGE),
        Err(AttestationError::RootOfTrustMissing)
    );
}

#[test]
fn debug_output_leaves_device_ids_out() {
    let att = verify_kd(&Kd::tee()).unwrap();
    let shown = format!("{att:?} {:?}", att.ids());
    assert!(shown.contains("imei_attested: true"), "{shown}");
    for secret in [IMEI, SECOND_IMEI, SERIAL] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

// ---- trust ---------------------------------------------------------------------------

#[test]
fn a_chain_to_an_untrusted_self_signed_root_is_refused() {
    let pki = Pki::new();
    // The attacker's PKI has the very same names, serials and layout, but its own keys.
    let forged = Pki::new();
    let (chain, _) = good(&forged);
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::UntrustedRoot);
    assert_eq!(err.code(), "attestation_untrusted_root");
}

#[test]
fn the_google_roots_do_not_trust_a_test_root_until_it_is_added() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    let google = TrustAnchors::google();
    let err = verify_chain(&chain, &google, &RevocationList::empty(), NOW).unwrap_err();
    assert_eq!(err, AttestationError::UntrustedRoot);
    let both = google.with(anchors(&pki));
    assert_eq!(both.len(), 3);
    verify_chain(&chain, &both, &RevocationList::empty(), NOW).unwrap();
}

#[test]
fn a_reissued_root_under_the_anchor_key_is_trusted() {
    // As Google re-issued its RSA root (2016, 2019, 2022) under one key.
    let pki = Pki::new();
    let a = anchors(&pki);
    let (mut chain, _) = good(&pki);
    let mut reissue = pki.root.params.clone();
    reissue.serial_number = Some(SerialNumber::from_slice(&[0x7f, 0x01]));
    reissue.not_before = rcgen::date_time_ymd(2016, 5, 26);
    reissue.not_after = rcgen::date_time_ymd(2026, 5, 24);
    chain[3] = reissue.self_signed(&pki.root.key).unwrap().der().to_vec();
    let att = verify_chain(&chain, &a, &RevocationList::empty(), NOW).unwrap();
    assert_eq!(att.anchor_fingerprint(), a.fingerprints()[0]);
}

#[test]
fn a_broken_signature_anywhere_in_the_chain_is_refused() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    for index in 0..chain.len() {
        let mut broken = chain.clone();
        let last = broken[index].len() - 1;
        broken[index][last] ^= 0x01;
        let err = verify(&pki, &broken).unwrap_err();
        assert_eq!(
            err,
            AttestationError::BadSignature { index },
            "cert {index}"
        );
        assert_eq!(err.code(), "attestation_bad_signature");
    }
}

#[test]
fn a_signed_field_changed_after_signing_is_refused() {
    // The attacker edits the IMEI inside a genuine leaf: the issuer's signature breaks.
    let pki = Pki::new();
    let (mut chain, _) = good(&pki);
    let at = rfind(&chain[0], IMEI.as_bytes());
    chain[0][at] = b'5';
    assert_eq!(
        verify(&pki, &chain).unwrap_err(),
        AttestationError::BadSignature { index: 0 }
    );
}

#[test]
fn a_leaf_not_signed_by_its_issuer_is_refused() {
    let pki = Pki::new();
    let (mut chain, _) = good(&pki);
    // Same issuer name as the batch key, another key.
    let impostor = Issuer::new(
        pki.batch.params.clone(),
        testing::key(&PKCS_ECDSA_P256_SHA256),
    );
    let leaf_key = testing::key(&PKCS_ECDSA_P256_SHA256);
    chain[0] = testing::leaf_params(Some(Kd::tee().encode()))
        .signed_by(&leaf_key, &impostor)
        .unwrap()
        .der()
        .to_vec();
    assert_eq!(
        verify(&pki, &chain).unwrap_err(),
        AttestationError::BadSignature { index: 0 }
    );
}

#[test]
fn a_certificate_whose_issuer_is_not_the_next_subject_is_refused() {
    let pki = Pki::new();
    let (mut chain, _) = good(&pki);
    // Signed by the batch key, but naming another issuer.
    let renamed = Issuer::new(testing::ca_params("Somebody Else", 3, None), &pki.batch.key);
    let leaf_key = testing::key(&PKCS_ECDSA_P256_SHA256);
    chain[0] = testing::leaf_params(Some(Kd::tee().encode()))
        .signed_by(&leaf_key, &renamed)
        .unwrap()
        .der()
        .to_vec();
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::IssuerMismatch { index: 0 });
    assert_eq!(err.code(), "attestation_issuer_mismatch");
}

#[test]
fn names_that_differ_only_in_case_and_spacing_chain() {
    let pki = Pki::new();
    let (mut chain, _) = good(&pki);
    let loose = Issuer::new(
        testing::ca_params("test  tee BATCH key", 3, None),
        &pki.batch.key,
    );
    let leaf_key = testing::key(&PKCS_ECDSA_P256_SHA256);
    chain[0] = testing::leaf_params(Some(Kd::tee().encode()))
        .signed_by(&leaf_key, &loose)
        .unwrap()
        .der()
        .to_vec();
    verify(&pki, &chain).unwrap();
}

#[test]
fn inner_and_outer_signature_algorithms_must_agree() {
    let pki = Pki::new();
    let (mut chain, _) = good(&pki);
    // ecdsa-with-SHA256 → ecdsa-with-SHA384 in the outer AlgorithmIdentifier only.
    let sha256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let at = rfind(&chain[0], &sha256);
    chain[0][at + 7] = 0x03;
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(
        err,
        AttestationError::SignatureAlgorithmMismatch { index: 0 }
    );
}

#[test]
fn google_roots_verify_their_own_rsa_and_p384_signatures() {
    // A chain of the root twice passes every signature (RSA-4096 PKCS#1 SHA-256 for the
    // first, ECDSA P-384 SHA-384 for the second) and stops only for want of an extension.
    let google = TrustAnchors::google();
    let pem = include_str!("../../attestation-roots/google.pem");
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let der = block.unwrap().contents;
        let chain = vec![der.clone(), der];
        let err = verify_chain(&chain, &google, &RevocationList::empty(), NOW).unwrap_err();
        assert_eq!(err, AttestationError::ExtensionMissing);
    }
}

#[test]
fn google_roots_match_the_readme_fingerprints() {
    let readme = include_str!("../../attestation-roots/README.md");
    let listed: Vec<String> = readme
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .map(str::to_ascii_lowercase)
        .collect();
    let shipped = TrustAnchors::google().fingerprints();
    assert_eq!(shipped.len(), 2, "RSA and P-384 roots");
    for fp in &shipped {
        assert!(listed.contains(fp), "{fp} is not in the README");
    }
    assert_eq!(
        shipped,
        [
            "cedb1cb6dc896ae5ec797348bce9286753c2b38ee71ce0fbe34a9a1248800dfc",
            "6d9db4ce6c5c0b293166d08986e05774a8776ceb525d9e4329520de12ba4bcc0",
        ]
    );
}

// ---- time -----------------------------------------------------------------------------

fn with_validity(pki: &mut Pki, which: &str, from: (i32, u8, u8), to: (i32, u8, u8)) {
    let spec = match which {
        "root" => &mut pki.root,
        "intermediate" => &mut pki.intermediate,
        _ => &mut pki.batch,
    };
    spec.params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    spec.params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
}

#[test]
fn an_intermediate_not_yet_valid_is_refused() {
    let mut pki = Pki::new();
    with_validity(&mut pki, "batch", (2027, 1, 1), (2040, 1, 1));
    let (chain, _) = good(&pki);
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::CertificateNotYetValid { index: 1 });
    assert_eq!(err.code(), "attestation_certificate_not_yet_valid");
}

#[test]
fn an_expired_intermediate_is_refused_in_a_remotely_provisioned_chain() {
    let mut pki = Pki::new();
    with_validity(&mut pki, "batch", (2020, 1, 1), (2026, 5, 1));
    let (chain, _) = good(&pki);
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::CertificateExpired { index: 1 });
    assert_eq!(err.code(), "attestation_certificate_expired");
}

#[test]
fn an_expired_intermediate_is_accepted_in_a_factory_provisioned_chain() {
    // Factory keys cannot be rotated; Google's verifier ignores their expiry and relies on
    // the revocation list. The chain is "factory" when the certificate under the root
    // names a serialNumber attribute.
    let mut pki = Pki::new();
    pki.intermediate.params = testing::ca_params("Test Intermediate", 2, Some("c6047571d8f0d17c"));
    with_validity(&mut pki, "batch", (2016, 1, 1), (2026, 1, 1));
    with_validity(&mut pki, "intermediate", (2016, 1, 1), (2026, 1, 1));
    let (chain, _) = good(&pki);
    verify(&pki, &chain).unwrap();
    // Not-yet-valid stays refused even there.
    with_validity(&mut pki, "batch", (2027, 1, 1), (2040, 1, 1));
    let (chain, _) = good(&pki);
    assert_eq!(
        verify(&pki, &chain).unwrap_err(),
        AttestationError::CertificateNotYetValid { index: 1 }
    );
}

#[test]
fn the_leaf_and_root_validity_are_not_checked() {
    let mut pki = Pki::new();
    // An expired root copy (as Google's 2016 one now is) still anchors by its key.
    with_validity(&mut pki, "root", (2016, 1, 1), (2026, 1, 1));
    let leaf_key = testing::key(&PKCS_ECDSA_P256_SHA256);
    let mut params = testing::leaf_params(Some(Kd::tee().encode()));
    params.not_before = rcgen::date_time_ymd(2030, 1, 1);
    params.not_after = rcgen::date_time_ymd(2031, 1, 1);
    let chain = pki.chain_with_leaf(&params, &leaf_key);
    verify(&pki, &chain).unwrap();
}

// ---- revocation -------------------------------------------------------------------------

#[test]
fn a_revoked_intermediate_is_refused() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    // The intermediate's serial is 0x0102: Google writes "102".
    for (key, status) in [("102", "REVOKED"), ("0102", "SUSPENDED")] {
        let json = format!(
            r#"{{"entries": {{"{key}": {{"status": "{status}", "reason": "KEY_COMPROMISE"}}}}}}"#
        );
        let list = RevocationList::from_json(json.as_bytes()).unwrap();
        let err = verify_chain(&chain, &anchors(&pki), &list, NOW).unwrap_err();
        assert_eq!(
            err,
            AttestationError::CertificateRevoked {
                index: 2,
                serial: "102".into(),
                status: status.into(),
            }
        );
        assert_eq!(err.code(), "attestation_certificate_revoked");
    }
    // Other serials on the list change nothing.
    let list =
        RevocationList::from_json(br#"{"entries": {"deadbeef": {"status": "REVOKED"}}}"#).unwrap();
    verify_chain(&chain, &anchors(&pki), &list, NOW).unwrap();
}

#[test]
fn a_revoked_leaf_or_batch_key_is_refused() {
    let mut pki = Pki::new();
    pki.batch.params.serial_number = Some(SerialNumber::from_slice(&[0x00, 0xc3, 0x57]));
    let (chain, _) = good(&pki);
    let list =
        RevocationList::from_json(br#"{"entries": {"c357": {"status": "REVOKED"}}}"#).unwrap();
    let err = verify_chain(&chain, &anchors(&pki), &list, NOW).unwrap_err();
    assert!(
        matches!(err, AttestationError::CertificateRevoked { index: 1, .. }),
        "{err:?}"
    );
}

// ---- the extension ----------------------------------------------------------------------

#[test]
fn a_leaf_without_the_extension_is_refused() {
    let pki = Pki::new();
    let (chain, _) = pki.chain(None);
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::ExtensionMissing);
    assert_eq!(err.code(), "attestation_extension_missing");
}

#[test]
fn a_chain_extended_below_a_genuine_attested_key_is_refused() {
    // A genuine phone's attested key signs a child certificate claiming another IMEI.
    let pki = Pki::new();
    let (genuine, genuine_key) = good(&pki);
    let mut claim = Kd::tee().without_hardware(testing::ID_IMEI);
    claim
        .hardware
        .push(testing::id(testing::ID_IMEI, "353456789012345"));
    let genuine_issuer = Issuer::new(testing::leaf_params(Some(Kd::tee().encode())), &genuine_key);
    let forged_key = testing::key(&PKCS_ECDSA_P256_SHA256);
    let forged = testing::leaf_params(Some(claim.encode()))
        .signed_by(&forged_key, &genuine_issuer)
        .unwrap();
    let mut chain = vec![forged.der().to_vec()];
    chain.extend(genuine);
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err, AttestationError::ExtensionOutsideLeaf { index: 1 });
    assert_eq!(err.code(), "attestation_extension_outside_leaf");
}

#[test]
fn a_leaf_with_two_attestation_extensions_is_refused() {
    let pki = Pki::new();
    let mut params = testing::leaf_params(Some(Kd::tee().encode()));
    params
        .custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            testing::KEY_ATTESTATION_OID,
            Kd::tee().encode(),
        ));
    let chain = pki.chain_with_leaf(&params, &testing::key(&PKCS_ECDSA_P256_SHA256));
    let err = verify(&pki, &chain).unwrap_err();
    assert_eq!(err.code(), "attestation_extension_malformed");
}

#[test]
fn a_malformed_key_description_is_refused() {
    let tee = Kd::tee();
    let mut duplicate_imei = tee.clone();
    duplicate_imei
        .hardware
        .push(testing::id(testing::ID_IMEI, "353456789012345"));
    let mut imei_as_integer = tee.clone().without_hardware(testing::ID_IMEI);
    imei_as_integer.hardware.push(der::explicit(
        testing::ID_IMEI,
        der::integer(490154203237518),
    ));
    let mut imei_not_utf8 = tee.clone().without_hardware(testing::ID_IMEI);
    imei_not_utf8
        .hardware
        .push(der::explicit(testing::ID_IMEI, der::octets(&[0xff, 0xfe])));
    let mut implicit_entry = tee.clone();
    implicit_entry.hardware.push(der::tlv(0x80, 714, b"49"));
    let mut bad_boot_state = tee.clone().without_hardware(testing::ROOT_OF_TRUST);
    bad_boot_state
        .hardware
        .push(testing::root_of_trust(true, 7));

    let encoded = tee.encode();
    let seven_fields = {
        // Drop hardwareEnforced: rebuild the SEQUENCE from the first seven fields.
        der::sequence(&[
            der::integer(300),
            der::enumerated(1),
            der::integer(300),
            der::enumerated(1),
            der::octets(CHALLENGE),
            der::octets(&[]),
            der::sequence(&tee.software),
        ])
    };
    let mut trailing = encoded.clone();
    trailing.push(0x00);
    let truncated = encoded[..encoded.len() - 3].to_vec();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("duplicate IMEI tag", duplicate_imei.encode()),
        ("IMEI as INTEGER", imei_as_integer.encode()),
        ("IMEI not UTF-8", imei_not_utf8.encode()),
        ("IMPLICIT entry", implicit_entry.encode()),
        ("unknown boot state", bad_boot_state.encode()),
        (
            "unknown security level",
            Kd {
                security_level: 5,
                ..tee.clone()
            }
            .encode(),
        ),
        ("seven fields", seven_fields),
        ("bytes after", trailing),
        ("truncated", truncated),
        ("not a SEQUENCE", der::octets(&encoded)),
        ("empty", Vec::new()),
    ];
    for (what, kd) in cases {
        let pki = Pki::new();
        let (chain, _) = pki.chain(Some(kd));
        let err = verify(&pki, &chain).unwrap_err();
        assert_eq!(
            err.code(),
            "attestation_extension_malformed",
            "{what}: {err:?}"
        );
    }
}

// ---- shape and garbage ------------------------------------------------------------------

#[test]
fn chains_outside_the_size_bounds_are_refused() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    let a = anchors(&pki);
    let none = RevocationList::empty();

    assert_eq!(
        verify_chain(&[], &a, &none, NOW).unwrap_err(),
        AttestationError::ChainTooShort { len: 0 }
    );
    assert_eq!(
        verify_chain(&chain[..1], &a, &none, NOW).unwrap_err(),
        AttestationError::ChainTooShort { len: 1 }
    );
    let long: Vec<Vec<u8>> = chain
        .iter()
        .cycle()
        .take(MAX_CHAIN_LEN + 1)
        .cloned()
        .collect();
    let err = verify_chain(&long, &a, &none, NOW).unwrap_err();
    assert_eq!(err, AttestationError::ChainTooLong { len: 11, max: 10 });
    assert_eq!(err.code(), "attestation_chain_too_long");

    let mut big = chain.clone();
    big[1] = vec![0x30; MAX_CERT_LEN + 1];
    let err = verify_chain(&big, &a, &none, NOW).unwrap_err();
    assert_eq!(
        err,
        AttestationError::CertificateTooLarge {
            index: 1,
            len: MAX_CERT_LEN + 1,
            max: MAX_CERT_LEN
        }
    );
}

#[test]
fn garbage_der_is_refused() {
    let pki = Pki::new();
    let (chain, _) = good(&pki);
    let mut trailing = chain[2].clone();
    trailing.push(0);
    let cases: [(usize, Vec<u8>); 5] = [
        (0, b"not a certificate".to_vec()),
        (1, Vec::new()),
        (2, trailing),
        (3, chain[3][..chain[3].len() / 2].to_vec()),
        (0, vec![0x30, 0x80, 0x00, 0x00]),
    ];
    for (index, bad) in cases {
        let mut broken = chain.clone();
        broken[index] = bad;
        let err = verify(&pki, &broken).unwrap_err();
        assert_eq!(err, AttestationError::CertificateMalformed { index });
        assert_eq!(err.code(), "attestation_certificate_malformed");
    }
}

#[test]
fn error_codes_are_distinct() {
    use AttestationError as E;
    let all = [
        E::ChainTooShort { len: 0 },
        E::ChainTooLong { len: 0, max: 0 },
        E::CertificateTooLarge {
            index: 0,
            len: 0,
            max: 0,
        },
        E::CertificateMalformed { index: 0 },
        E::SignatureAlgorithmMismatch { index: 0 },
        E::UnsupportedSignatureAlgorithm { index: 0 },
        E::UnsupportedKey { index: 0 },
        E::BadSignature { index: 0 },
        E::IssuerMismatch { index: 0 },
        E::UntrustedRoot,
        E::CertificateNotYetValid { index: 0 },
        E::CertificateExpired { index: 0 },
        E::CertificateRevoked {
            index: 0,
            serial: String::new(),
            status: String::new(),
        },
        E::ExtensionMissing,
        E::ExtensionOutsideLeaf { index: 0 },
        E::ExtensionMalformed { rule: "" },
        E::SecurityLevelTooLow {
            found: SecurityLevel::Software,
            required: SecurityLevel::StrongBox,
        },
        E::ChallengeMismatch,
        E::RootOfTrustMissing,
        E::BootloaderUnlocked,
        E::BootNotVerified {
            state: VerifiedBootState::Failed,
        },
        E::KeySignatureInvalid,
        E::ChallengeNotIssued,
        E::ImeiNotAttested,
        E::ImeiMismatch,
        E::VerifierUnavailable,
        E::AnchorsMalformed {
            detail: String::new(),
        },
        E::RevocationListMalformed {
            detail: String::new(),
        },
    ];
    let mut codes: Vec<&str> = all.iter().map(AttestationError::code).collect();
    assert!(codes.iter().all(|c| c.starts_with("attestation_")));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
}

// ---- no input panics ---------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn arbitrary_bytes_as_a_chain_never_panic(
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..12)
    ) {
        let anchors = TrustAnchors::google();
        let _ = verify_chain(&chain, &anchors, &RevocationList::empty(), NOW);
    }

    #[test]
    fn arbitrary_bytes_as_a_key_description_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        let _ = key_description::parse(&bytes);
        let mut r = super::der::Reader::new(&bytes);
        while let Ok(Some(_)) = r.next() {}
    }

    #[test]
    fn arbitrary_status_lists_and_pem_never_panic(s in ".{0,300}") {
        let _ = RevocationList::from_json(s.as_bytes());
        let _ = TrustAnchors::from_pem(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    /// Damage to a good chain never panics, and whatever still verifies attests exactly
    /// what the undamaged chain did (the damage fell outside everything signed).
    #[test]
    fn a_damaged_good_chain_never_panics_nor_changes_what_is_attested(
        edits in proptest::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<u8>()), 1..4)
    ) {
        thread_local! {
            static FIXTURE: (Pki, Vec<Vec<u8>>) = {
                let pki = Pki::new();
                let (chain, _) = good(&pki);
                (pki, chain)
            };
        }
        FIXTURE.with(|(pki, chain)| {
            let original = verify(pki, chain).unwrap();
            let mut damaged = chain.clone();
            for (cert, at, byte) in &edits {
                let c = &mut damaged[*cert];
                let i = at.index(c.len());
                c[i] = *byte;
            }
            if let Ok(att) = verify(pki, &damaged) {
                prop_assert_eq!(att, original);
            }
            Ok(())
        })?;
    }
}
