//! Lender key rotation (ADR 0007) as properties:
//!
//! - no chain with a link signed by a key outside the set before it changes the pinned set
//!   (nor anything else the device stored), whatever the other links, seqs and keys;
//! - a valid chain of length k from a set at `keys_seq` n lands at n + k, holding the
//!   newest key, and the device then accepts what that key signs.

use finlock_core::device::DeviceState;
use finlock_core::fixtures::{self, LENDER_ID, T0};
use finlock_core::keys::{Jwk, KeySet, LenderKey};
use finlock_core::keyset::{self, ChainRules, Chained, KeySetPayload};
use finlock_core::protocol::{CheckinResponse, EntitlementState};
use proptest::prelude::*;
use ring::rand::SystemRandom;

fn key(seed: u8) -> LenderKey {
    LenderKey::from_seed(&[seed; 32], None).expect("seed")
}

fn link(keys_seq: u64, keys: &[&LenderKey], signer: &LenderKey) -> String {
    KeySetPayload {
        v: 1,
        iss: LENDER_ID.into(),
        keys_seq,
        iat: T0,
        keys: keys
            .iter()
            .map(|k| Jwk {
                kid: Some(k.public().thumbprint()),
                ..k.public().to_jwk()
            })
            .collect(),
    }
    .sign(signer)
    .expect("signs")
}

/// Chain keys come from seeds 0..=200 except 0x11 (the pinned fixture key); rogue keys
/// from 201..=255.
fn chain_seed(i: usize, base: u8) -> u8 {
    let s = base.wrapping_add(i as u8) % 200 + 1;
    if s == 0x11 { 0 } else { s }
}

/// A valid chain of `k` links from `start` (a set at `n` holding `first`).
fn valid_chain(n: u64, first: &LenderKey, k: usize, base: u8, keep_old: bool) -> Vec<String> {
    let mut signer = LenderKey::from_pkcs8(first.pkcs8(), Some(first.kid().into())).expect("copy");
    (0..k)
        .map(|i| {
            let next = key(chain_seed(i, base));
            let l = if keep_old {
                link(n + 1 + i as u64, &[&next, &signer], &signer)
            } else {
                link(n + 1 + i as u64, &[&next], &signer)
            };
            signer = next;
            l
        })
        .collect()
}

fn enrolled() -> DeviceState {
    fixtures::enrolled(fixtures::entitlement(1, T0))
}

/// A check-in answer with `chain` and an entitlement of seq 2 signed by `signer`.
fn checkin(s: &mut DeviceState, chain: Vec<String>, signer: &LenderKey) -> bool {
    let at = fixtures::clock_at(T0 + 60);
    let out = s
        .checkin_request(&at, "1.0", &SystemRandom::new())
        .expect("request");
    let mut e = fixtures::entitlement(2, T0 + 60);
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&Chained {
        answer: CheckinResponse {
            entitlement: e.sign(signer).expect("signs"),
            push_key: None,
        },
        keys: chain,
    })
    .expect("json");
    s.complete_checkin(&out, &body, &at).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_chain_with_a_link_by_an_unpinned_key_changes_nothing(
        k in 1usize..=8,
        bad_at in 0usize..8,
        base in any::<u8>(),
        rogue in 201u8..=255,
        claim_pinned_kid in any::<bool>(),
        keys_seq_offset in 0u64..3,
    ) {
        let bad_at = bad_at % k;
        let mut chain = valid_chain(0, &fixtures::lender_key(), k, base, true);
        // Link `bad_at` is signed by a rogue key; it may claim the kid of a key of the
        // set before it (the pinned "acme-2026", or a thumbprint) and any keys_seq.
        let expected_kid = if bad_at == 0 {
            fixtures::LENDER_KID.to_string()
        } else {
            key(chain_seed(bad_at - 1, base)).public().thumbprint()
        };
        let rogue_key = if claim_pinned_kid {
            LenderKey::from_seed(&[rogue; 32], Some(expected_kid)).expect("seed")
        } else {
            key(rogue)
        };
        let next = key(chain_seed(bad_at, base));
        chain[bad_at] = link(bad_at as u64 + 1 + keys_seq_offset, &[&next, &rogue_key], &rogue_key);
        let pinned = fixtures::pinned_keys();
        let rules = ChainRules {
            pinned: &pinned,
            lender_id: Some(LENDER_ID),
            stored_state: Some(EntitlementState::Active),
        };
        prop_assert!(keyset::apply_chain(&chain, &rules).is_err());
        // On a device: refused, and the stored state is exactly what it was.
        let mut s = enrolled();
        let before = s.clone();
        let last = key(chain_seed(k - 1, base));
        prop_assert!(!checkin(&mut s, chain, &last));
        prop_assert_eq!(s.provisioning, before.provisioning);
        prop_assert_eq!(s.enrollment.map(|e| e.entitlement), before.enrollment.map(|e| e.entitlement));
    }

    #[test]
    fn a_valid_chain_of_k_from_n_lands_at_n_plus_k(
        n in 0u64..1_000_000,
        k in 0usize..=8,
        base in any::<u8>(),
        keep_old in any::<bool>(),
    ) {
        let first = key(250);
        let pinned = KeySet::new(vec![first.public()]).expect("set").with_keys_seq(n);
        let chain = valid_chain(n, &first, k, base, keep_old);
        let rules = ChainRules {
            pinned: &pinned,
            lender_id: Some(LENDER_ID),
            stored_state: Some(EntitlementState::Active),
        };
        let applied = keyset::apply_chain(&chain, &rules).expect("a valid chain applies");
        prop_assert_eq!(applied.keys.keys_seq(), n + k as u64);
        let newest = if k == 0 { first } else { key(chain_seed(k - 1, base)) };
        prop_assert!(applied.keys.find(newest.kid()).is_some());
    }

    #[test]
    fn a_device_follows_a_valid_chain_and_signs_on_with_the_newest_key(
        k in 1usize..=8,
        base in any::<u8>(),
        keep_old in any::<bool>(),
    ) {
        let mut s = enrolled();
        let chain = valid_chain(0, &fixtures::lender_key(), k, base, keep_old);
        let newest = key(chain_seed(k - 1, base));
        prop_assert!(checkin(&mut s, chain, &newest));
        let pinned = &s.provisioning.as_ref().expect("provisioned").lender_keys;
        prop_assert_eq!(pinned.keys_seq(), k as u64);
        prop_assert!(pinned.find(newest.kid()).is_some());
        // The name provisioning gave the first key is not trusted any more (rotated
        // sets name keys by thumbprint; after two links that key is gone altogether).
        prop_assert!(pinned.find(fixtures::LENDER_KID).is_none());
    }
}
