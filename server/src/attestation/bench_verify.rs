//! Not a module of the library: the criterion bench `attestation`, what one enrollment's
//! attestation verification costs. server/Cargo.toml names this file:
//!
//! ```toml
//! [[bench]]
//! name = "attestation"
//! path = "src/attestation/bench_verify.rs"
//! harness = false
//! ```
//!
//! `cargo bench -p finlock-server --bench attestation`. Chains are made here: an ECDSA
//! P-256 leaf under a P-256 intermediate (3 certificates) or under a P-256 batch key and
//! intermediate (4, as a TEE's factory chain), up to an ECDSA P-384 root; the RSA-4096
//! cost of Google's RSA root is measured on that root verifying its own self-signature.

use criterion::{Criterion, criterion_group, criterion_main};

use finlock_core::protocol::{DecodedAttestation, binding_message};
use finlock_server::attestation::{
    Policy, RevocationList, Settings, TrustAnchors, check, verify_chain,
};

#[path = "testing.rs"]
mod testing;

use testing::{CHALLENGE, Kd, NOW, Pki};

fn bench(c: &mut Criterion) {
    let pki = Pki::new();
    let (short, _) = pki.short_chain(Some(Kd::tee().encode()));
    let (chain, leaf_key) = pki.chain(Some(Kd::tee().encode()));
    let anchors = TrustAnchors::from_pem(&pki.root_pem()).expect("test root");
    let revoked = RevocationList::empty();
    let message = b"enroll nonce and device key thumbprint";
    let signature = testing::sign(&leaf_key, message);

    c.bench_function(
        "verify_chain (3 certs: P-256 leaf, P-256, P-384 root)",
        |b| b.iter(|| verify_chain(&short, &anchors, &revoked, NOW).expect("verifies")),
    );
    c.bench_function("verify_chain (4 certs, P-384 root)", |b| {
        b.iter(|| verify_chain(&chain, &anchors, &revoked, NOW).expect("verifies"))
    });
    c.bench_function(
        "enroll proof: verify_chain + check + verify_signature",
        |b| {
            b.iter(|| {
                let att = verify_chain(&chain, &anchors, &revoked, NOW).expect("verifies");
                check(&att, &Policy::default(), CHALLENGE).expect("policy");
                att.verify_signature(message, &signature)
                    .expect("signature");
            })
        },
    );

    // The enroll path's own call (ADR 0011): chain, policy, the binding signature over
    // the 110-byte message, the attested IMEIs hashed.
    let roots = std::env::temp_dir().join(format!("finlock-bench-roots-{}", std::process::id()));
    std::fs::create_dir_all(&roots).expect("temp dir");
    std::fs::write(roots.join("root.pem"), pki.root_pem()).expect("root");
    let verifier = Settings {
        extra_roots_dir: Some(roots.clone()),
        ..Settings::default()
    }
    .load()
    .expect("settings");
    let nonce = finlock_core::b64::encode([0xA5; 16]);
    let thumbprint = finlock_core::b64::encode([0x17; 32]);
    let challenge: [u8; 32] = CHALLENGE.try_into().expect("32 bytes");
    let proof = DecodedAttestation {
        challenge,
        chain: chain.clone(),
        signature: testing::sign(
            &leaf_key,
            &binding_message(&challenge, &nonce, &thumbprint).expect("message"),
        ),
    };
    c.bench_function("enroll path: Verifier::verify_enroll (4 certs)", |b| {
        b.iter(|| {
            verifier
                .verify_enroll(&proof, &nonce, &thumbprint, NOW)
                .expect("proven")
        })
    });
    let _ = std::fs::remove_dir_all(&roots);

    let google = TrustAnchors::google();
    let rsa_root = x509_parser::pem::Pem::iter_from_buffer(
        include_str!("../../attestation-roots/google.pem").as_bytes(),
    )
    .next()
    .expect("a root")
    .expect("PEM")
    .contents;
    let rsa_pair = vec![rsa_root.clone(), rsa_root];
    c.bench_function(
        "Google RSA-4096 root as a leaf: one RSA verification",
        |b| b.iter(|| verify_chain(&rsa_pair, &google, &revoked, NOW).expect_err("no extension")),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
