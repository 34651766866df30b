//! The committed conformance vectors pass, and are exactly what the generator makes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use finlock_core::conformance::{self, Expected};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn committed() -> BTreeMap<String, String> {
    std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect()
}

#[test]
fn every_committed_vector_has_its_expected_outcome() {
    let files = committed();
    assert!(files.len() >= 60, "only {} vectors", files.len());
    let mut failures = Vec::new();
    for (name, text) in &files {
        if let Err(why) = conformance::check_file(text) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn committed_vectors_match_the_generator() {
    let generated: BTreeMap<String, String> = conformance::files().into_iter().collect();
    assert_eq!(
        committed().keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "vector files differ from the generator: run `cargo xtask vectors`"
    );
    for (name, text) in committed() {
        assert_eq!(
            text, generated[&name],
            "{name} drifted: run `cargo xtask vectors`"
        );
    }
}

#[test]
fn vectors_cover_every_acceptance_rule() {
    let codes: std::collections::BTreeSet<String> = conformance::vectors()
        .into_iter()
        .filter_map(|v| match v.expected {
            Expected::Reject { error } => Some(error),
            Expected::Accept { .. } => None,
        })
        .collect();
    for rule in [
        "jws_too_large",
        "jws_not_three_parts",
        "jws_bad_base64",
        "jws_header_malformed",
        "jws_alg_not_allowed",
        "jws_forbidden_header",
        "jws_unexpected_header",
        "jws_missing_header",
        "jws_wrong_typ",
        "jws_unknown_kid",
        "jws_bad_signature",
        "payload_not_object",
        "duplicate_key",
        "payload_malformed",
        "unsupported_version",
        "invalid_field",
        "wrong_issuer",
        "wrong_subject",
        "stale_seq",
        "nonce_mismatch",
        "already_released",
        "keys_chain_too_long",
        "keys_seq_not_next",
    ] {
        assert!(codes.contains(rule), "no vector for {rule}");
    }
}

#[test]
fn a_tampered_vector_fails_its_check() {
    // The checker itself must be able to fail.
    let mut v = conformance::vectors().remove(0);
    v.expected = Expected::Reject {
        error: "stale_seq".into(),
    };
    assert!(conformance::check(&v).is_err());
}
