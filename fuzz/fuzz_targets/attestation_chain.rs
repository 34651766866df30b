//! The server's Android key attestation verifier (`attestation::verify_chain`, then
//! `check` and `verify_signature`) on arbitrary DER.
//!
//! Flags byte: bit 0 the mode.
//! * 0: the parts are the chain's certificates as received (DER, leaf first), judged
//!   against Google's roots and a test root;
//! * 1: part 0 is the leaf's KeyDescription extension (the strict DER reader behind the
//!   signatures); the leaf carrying it is signed here under a test intermediate and root
//!   the verifier trusts, so what is judged is the extension, not the signatures.
//!
//! Invariants: no panic; a chain that verifies was anchored at a trusted root, and the
//! key it reports is the leaf's; a policy check that passes saw at least the policy's
//! security level, a locked bootloader and a verified boot; a signature by the attested
//! key verifies and one over another message does not.
#![no_main]

use std::sync::OnceLock;

use finlock_fuzz::split;
use finlock_server::attestation::{
    self, Policy, RevocationList, SecurityLevel, TrustAnchors, VerifiedBootState,
};
use libfuzzer_sys::fuzz_target;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, PKCS_ED25519, SerialNumber, SigningKey, date_time_ymd,
};

/// 2026-05-28T00:00:00Z, inside the test CAs' validity.
const NOW: i64 = 1_779_926_400;
const KEY_ATTESTATION_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17];
const CHALLENGE: &[u8] = b"server-issued challenge, 32 byte";

struct Pki {
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    intermediate: CertificateParams,
    intermediate_key: KeyPair,
    leaf_key: KeyPair,
    anchors: TrustAnchors,
    test_anchor: String,
}

fn ca(cn: &str, serial: u8) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Fuzz Attestation PKI");
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(&[0x01, serial]));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2040, 1, 1);
    p
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let gen_key = || KeyPair::generate_for(&PKCS_ED25519).expect("Ed25519 key");
        let (root_key, intermediate_key, leaf_key) = (gen_key(), gen_key(), gen_key());
        let root_params = ca("Fuzz Root", 1);
        let root = root_params.self_signed(&root_key).expect("root");
        let intermediate = ca("Fuzz Intermediate", 2);
        let root_issuer = Issuer::from_params(&root_params, &root_key);
        let intermediate_der = intermediate
            .signed_by(&intermediate_key, &root_issuer)
            .expect("intermediate")
            .der()
            .to_vec();
        let test = TrustAnchors::from_pem(&root.pem()).expect("test root PEM");
        let test_anchor = test.fingerprints().first().cloned().expect("one anchor");
        Pki {
            root_der: root.der().to_vec(),
            intermediate_der,
            intermediate,
            intermediate_key,
            leaf_key,
            anchors: TrustAnchors::google().with(test),
            test_anchor,
        }
    })
}

fn leaf(pki: &Pki, key_description: &[u8]) -> Option<Vec<u8>> {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, "Android Keystore Key");
    p.serial_number = Some(SerialNumber::from_slice(&[0x01]));
    p.not_before = date_time_ymd(1970, 1, 1);
    p.not_after = date_time_ymd(2048, 1, 1);
    p.custom_extensions.push(CustomExtension::from_oid_content(
        KEY_ATTESTATION_OID,
        key_description.to_vec(),
    ));
    let issuer = Issuer::from_params(&pki.intermediate, &pki.intermediate_key);
    p.signed_by(&pki.leaf_key, &issuer)
        .ok()
        .map(|c| c.der().to_vec())
}

fuzz_target!(|data: &[u8]| {
    let (flags, parts) = split(data);
    let pki = pki();
    let (chain, ours) = if flags & 1 == 0 {
        (parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>(), false)
    } else {
        let Some(leaf) = leaf(pki, parts.first().copied().unwrap_or_default()) else {
            return;
        };
        (
            vec![leaf, pki.intermediate_der.clone(), pki.root_der.clone()],
            true,
        )
    };
    let Ok(attested) =
        attestation::verify_chain(&chain, &pki.anchors, &RevocationList::empty(), NOW)
    else {
        return;
    };
    assert!(
        pki.anchors
            .fingerprints()
            .contains(&attested.anchor_fingerprint()),
        "anchored at an untrusted root"
    );
    if ours {
        assert_eq!(attested.anchor_fingerprint(), pki.test_anchor);
        let message = b"finlock-enroll-attestation-v1 fuzz";
        let signature = pki.leaf_key.sign(message).expect("sign");
        attested
            .verify_signature(message, &signature)
            .expect("the leaf key's signature does not verify under the attested key");
        assert!(
            attested
                .verify_signature(b"another message", &signature)
                .is_err()
        );
    }
    let policy = Policy::default();
    for challenge in [CHALLENGE, attested.challenge()] {
        if attestation::check(&attested, &policy, challenge).is_ok() {
            assert_eq!(attested.challenge(), challenge);
            assert!(attested.security_level() >= SecurityLevel::TrustedEnvironment);
            let rot = attested
                .root_of_trust()
                .expect("passed without a root of trust");
            assert!(rot.device_locked);
            assert_eq!(rot.verified_boot_state, VerifiedBootState::Verified);
        }
    }
});
