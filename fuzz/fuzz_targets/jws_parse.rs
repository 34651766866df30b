//! The compact JWS parser and verifier (PROTOCOL §2) on arbitrary text.
//!
//! Invariants: no panic; whatever `parse` accepts is three canonical base64url parts
//! (re-encoding each decoded part gives the same text: no padding, no other alphabet, no
//! stray trailing bits) with a header naming Ed25519; whatever `verify` accepts for the
//! pinned set verifies again under the key it names, with the payload `parse` read.
#![no_main]

use finlock_core::b64;
use finlock_core::jws::{self, MAX_JWS_LEN};
use libfuzzer_sys::fuzz_target;

const TYPS: [&str; 4] = [
    jws::typ::ENTITLEMENT,
    jws::typ::CHECKIN,
    jws::typ::ENROLL,
    jws::typ::KEYS,
];

fuzz_target!(|data: &[u8]| {
    let text = finlock_fuzz::text(data);
    let parsed = jws::parse(&text);
    if let Ok(parsed) = &parsed {
        assert!(text.len() <= MAX_JWS_LEN);
        let parts: Vec<&str> = text.split('.').collect();
        assert_eq!(parts.len(), 3, "parse accepted {} parts", parts.len());
        for part in &parts {
            let bytes = b64::decode(part).expect("parse accepted a part that is not base64url");
            assert_eq!(
                &b64::encode(&bytes),
                part,
                "a non-canonical part was accepted"
            );
        }
        assert!(matches!(
            parsed.header().alg,
            jws::Alg::Ed25519 | jws::Alg::EdDsa
        ));
    }
    let pinned = finlock_fuzz::pinned_keys();
    for typ in TYPS {
        if let Ok(verified) = jws::verify(&text, typ, &pinned) {
            let parsed = jws::parse(&text).expect("verify accepted what parse refuses");
            assert_eq!(parsed.header().typ.as_deref(), Some(typ));
            let kid = parsed.header().kid.clone().expect("verified without a kid");
            let key = pinned.find(&kid).expect("verified by a key not in the set");
            assert_eq!(key, verified.key);
            parsed
                .verify_with(key)
                .expect("verified once, refused again");
            assert_eq!(parsed.into_payload(), verified.payload);
        }
    }
});
