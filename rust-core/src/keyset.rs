//! Lender key rotation (PROTOCOL §1, ADR 0007): the `finlock-keys+jws` message and the
//! chain of them a device applies before it judges the entitlement that came with it.
//!
//! Set 0 is what provisioning pins; set *n* is signed by a key of set *n − 1*. A device
//! at `keys_seq` *n* accepts a chain only when every link is the next one (*n + 1*,
//! *n + 2*, …), verifies against the set before it, names the bound lender and holds
//! 1–4 keys whose `kid`s are their RFC 7638 thumbprints. [`apply_chain`] is pure: it
//! returns the resulting set or the first rule broken, and the caller stores the set only
//! together with the entitlement the chain came with (all or nothing).
//!
//! Order of checks for each link: released → chain length → envelope (§2, `typ`
//! `finlock-keys+jws`, `kid` in the current set) → payload (`v`, shape) → field rules →
//! `iss` → `keys_seq`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::jws;
use crate::keys::{Jwk, KeySet, LenderKey, PublicKey};
use crate::protocol::{self, EntitlementState};

/// The most links one answer carries: a device further behind re-provisions.
pub const MAX_CHAIN: usize = 8;
/// The most keys one rotated set holds: the new key and the one that signed it, plus room.
pub const MAX_SET_KEYS: usize = 4;

/// The payload of a `finlock-keys+jws` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySetPayload {
    pub v: u64,
    pub iss: String,
    /// This set's place in the chain, ≥ 1 (set 0 is pinned, never signed).
    pub keys_seq: u64,
    pub iat: i64,
    pub keys: Vec<Jwk>,
}

impl KeySetPayload {
    /// The field rules: `v` = 1, `iss` an id, `keys_seq` in [1, 2^53), `iat` a time,
    /// 1–4 Ed25519 keys each carrying its own RFC 7638 thumbprint as `kid`, no two alike.
    /// Returns the set (with its `keys_seq`).
    pub fn validate(&self) -> Result<KeySet> {
        if self.v != protocol::VERSION {
            return Err(Error::UnsupportedVersion { found: self.v });
        }
        if !protocol::is_valid_id(&self.iss) {
            return Err(Error::invalid("iss", "1-64 characters of [A-Za-z0-9_-]"));
        }
        if self.keys_seq == 0 || self.keys_seq >= protocol::MAX_SAFE {
            return Err(Error::invalid("keys_seq", "in [1, 2^53)"));
        }
        if !(0..protocol::MAX_SAFE as i64).contains(&self.iat) {
            return Err(Error::invalid("iat", "a time in [0, 2^53)"));
        }
        if self.keys.is_empty() || self.keys.len() > MAX_SET_KEYS {
            return Err(Error::invalid("keys", "1 to 4 keys"));
        }
        let mut keys = Vec::with_capacity(self.keys.len());
        for (i, jwk) in self.keys.iter().enumerate() {
            let key = PublicKey::from_jwk(jwk)
                .map_err(|_| Error::invalid(format!("keys[{i}]"), "not an Ed25519 public JWK"))?;
            if jwk.kid.as_deref() != Some(key.thumbprint().as_str()) {
                return Err(Error::invalid(
                    format!("keys[{i}].kid"),
                    "must be the key's RFC 7638 thumbprint",
                ));
            }
            if keys.iter().any(|k: &PublicKey| k.bytes() == key.bytes()) {
                return Err(Error::invalid(format!("keys[{i}]"), "a key appears twice"));
            }
            keys.push(key);
        }
        Ok(KeySet::new(keys)
            .map_err(|_| Error::invalid("keys", "1 to 4 distinct keys"))?
            .with_keys_seq(self.keys_seq))
    }

    /// Signs this set with `key` (a key of the set before it).
    pub fn sign(&self, key: &LenderKey) -> Result<String> {
        protocol::sign_payload(self, jws::typ::KEYS, |typ, bytes| {
            key.sign_compact(typ, bytes)
        })
    }
}

/// The optional `keys` member of an enrollment or check-in answer: the sets after the
/// device's `keys_seq`, oldest first. Read from the same bytes as the answer itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChain {
    #[serde(default)]
    pub keys: Vec<String>,
}

/// An answer with the chain beside its own members (what a server sends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chained<T> {
    #[serde(flatten)]
    pub answer: T,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// What a valid chain leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The set to pin (the current one when the chain is empty).
    pub keys: KeySet,
    /// The lender the links name (`None` for an empty chain).
    pub iss: Option<String>,
}

/// What the device knows when a chain arrives.
#[derive(Debug, Clone, Copy)]
pub struct ChainRules<'a> {
    /// The pinned set, with its `keys_seq`.
    pub pinned: &'a KeySet,
    /// The bound lender; `None` while enrolling (then every link must name the same one,
    /// and the entitlement must name it too).
    pub lender_id: Option<&'a str>,
    /// The stored entitlement's state (nothing is accepted after `released`).
    pub stored_state: Option<EntitlementState>,
}

/// Verifies a chain link by link; stores nothing.
pub fn apply_chain(chain: &[String], rules: &ChainRules) -> Result<Applied> {
    if rules.stored_state == Some(EntitlementState::Released) {
        return Err(Error::AlreadyReleased);
    }
    if chain.len() > MAX_CHAIN {
        return Err(Error::KeysChainTooLong { len: chain.len() });
    }
    let mut current = rules.pinned.clone();
    let mut iss: Option<String> = rules.lender_id.map(str::to_string);
    for link in chain {
        let verified = jws::verify(link, jws::typ::KEYS, &current)?;
        let payload: KeySetPayload = protocol::decode_payload(&verified.payload)?;
        let next = payload.validate()?;
        match &iss {
            Some(bound) if *bound != payload.iss => return Err(Error::WrongIssuer),
            Some(_) => {}
            None => iss = Some(payload.iss.clone()),
        }
        let expected = current.keys_seq().saturating_add(1);
        if payload.keys_seq != expected {
            return Err(Error::KeysSeqNotNext {
                expected,
                found: payload.keys_seq,
            });
        }
        current = next;
    }
    Ok(Applied {
        keys: current,
        iss: if chain.is_empty() { None } else { iss },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, LENDER_ID, T0};

    fn key(seed: u8) -> LenderKey {
        LenderKey::from_seed(&[seed; 32], None).unwrap()
    }

    fn set(seq: u64, keys: &[&LenderKey]) -> KeySetPayload {
        KeySetPayload {
            v: 1,
            iss: LENDER_ID.into(),
            keys_seq: seq,
            iat: T0,
            keys: keys.iter().map(|k| k.public().to_jwk()).collect(),
        }
    }

    fn rules(pinned: &KeySet) -> ChainRules<'_> {
        ChainRules {
            pinned,
            lender_id: Some(LENDER_ID),
            stored_state: Some(EntitlementState::Active),
        }
    }

    /// Set 1 = [k1, pinned], signed by the pinned fixture key; set 2 = [k2, k1] by k1.
    fn two_links() -> Vec<String> {
        let pinned = fixtures::lender_key();
        let (k1, k2) = (key(0x61), key(0x62));
        vec![
            set(1, &[&k1]).sign(&pinned).unwrap(),
            set(2, &[&k2, &k1]).sign(&k1).unwrap(),
        ]
    }

    #[test]
    fn a_valid_chain_lands_at_the_last_set() {
        let pinned = fixtures::pinned_keys();
        let applied = apply_chain(&two_links(), &rules(&pinned)).unwrap();
        assert_eq!(applied.keys.keys_seq(), 2);
        assert_eq!(applied.keys.keys().len(), 2);
        assert!(applied.keys.find(key(0x62).kid()).is_some());
        assert!(applied.keys.find(fixtures::LENDER_KID).is_none());
        assert_eq!(applied.iss.as_deref(), Some(LENDER_ID));
    }

    #[test]
    fn an_empty_chain_keeps_the_pinned_set() {
        let pinned = fixtures::pinned_keys();
        let applied = apply_chain(&[], &rules(&pinned)).unwrap();
        assert_eq!(applied.keys, pinned);
        assert_eq!(applied.iss, None);
    }

    #[test]
    fn nothing_is_applied_after_release() {
        let pinned = fixtures::pinned_keys();
        let r = ChainRules {
            stored_state: Some(EntitlementState::Released),
            ..rules(&pinned)
        };
        assert!(matches!(
            apply_chain(&two_links(), &r),
            Err(Error::AlreadyReleased)
        ));
    }

    #[test]
    fn a_chain_longer_than_eight_is_refused() {
        let pinned = fixtures::pinned_keys();
        let mut links = Vec::new();
        let mut signer = fixtures::lender_key();
        for seq in 1..=9u64 {
            let next = key(0x70 + seq as u8);
            links.push(set(seq, &[&next]).sign(&signer).unwrap());
            signer = next;
        }
        assert!(matches!(
            apply_chain(&links, &rules(&pinned)),
            Err(Error::KeysChainTooLong { len: 9 })
        ));
        // Eight links are fine.
        assert_eq!(
            apply_chain(&links[..8], &rules(&pinned))
                .unwrap()
                .keys
                .keys_seq(),
            8
        );
    }

    #[test]
    fn a_link_signed_by_an_unpinned_key_is_refused() {
        let pinned = fixtures::pinned_keys();
        let link = set(1, &[&key(0x61)]).sign(&key(0x66)).unwrap();
        assert!(matches!(
            apply_chain(&[link], &rules(&pinned)),
            Err(Error::JwsUnknownKid)
        ));
        // The impostor claims the pinned kid: the signature fails.
        let link = set(1, &[&key(0x61)])
            .sign(&fixtures::impostor_key())
            .unwrap();
        assert!(matches!(
            apply_chain(&[link], &rules(&pinned)),
            Err(Error::JwsBadSignature)
        ));
    }

    #[test]
    fn a_later_link_must_be_signed_by_the_set_before_it() {
        // Set 2 signed by the pinned key, which set 1 dropped.
        let pinned = fixtures::pinned_keys();
        let k1 = key(0x61);
        let links = vec![
            set(1, &[&k1]).sign(&fixtures::lender_key()).unwrap(),
            set(2, &[&key(0x62)]).sign(&fixtures::lender_key()).unwrap(),
        ];
        assert!(matches!(
            apply_chain(&links, &rules(&pinned)),
            Err(Error::JwsUnknownKid)
        ));
    }

    #[test]
    fn another_message_type_is_refused() {
        let pinned = fixtures::pinned_keys();
        let payload = serde_json::to_vec(&set(1, &[&key(0x61)])).unwrap();
        let link = fixtures::lender_key().sign_compact(jws::typ::ENTITLEMENT, &payload);
        assert!(matches!(
            apply_chain(&[link], &rules(&pinned)),
            Err(Error::JwsWrongTyp { .. })
        ));
    }

    #[test]
    fn keys_seq_must_be_exactly_the_next() {
        let pinned = fixtures::pinned_keys();
        for seq in [2u64, 5] {
            let link = set(seq, &[&key(0x61)])
                .sign(&fixtures::lender_key())
                .unwrap();
            match apply_chain(&[link], &rules(&pinned)) {
                Err(Error::KeysSeqNotNext { expected, found }) => {
                    assert_eq!((expected, found), (1, seq))
                }
                other => panic!("{seq}: {other:?}"),
            }
        }
        // A replay of a set already pinned (seq 1 at seq 1).
        let at_one = pinned.clone().with_keys_seq(1);
        let link = set(1, &[&key(0x61)]).sign(&fixtures::lender_key()).unwrap();
        assert!(matches!(
            apply_chain(&[link], &rules(&at_one)),
            Err(Error::KeysSeqNotNext {
                expected: 2,
                found: 1
            })
        ));
    }

    #[test]
    fn another_lender_is_refused() {
        let pinned = fixtures::pinned_keys();
        let mut s = set(1, &[&key(0x61)]);
        s.iss = "other-lender".into();
        let link = s.sign(&fixtures::lender_key()).unwrap();
        assert!(matches!(
            apply_chain(std::slice::from_ref(&link), &rules(&pinned)),
            Err(Error::WrongIssuer)
        ));
        // While enrolling, the first link names the lender and the rest must agree.
        let r = ChainRules {
            lender_id: None,
            stored_state: None,
            ..rules(&pinned)
        };
        assert_eq!(
            apply_chain(std::slice::from_ref(&link), &r)
                .unwrap()
                .iss
                .as_deref(),
            Some("other-lender")
        );
        let k1 = key(0x61);
        let links = vec![
            link,
            set(2, &[&key(0x62)]).sign(&k1).unwrap(), // names acme-credit
        ];
        assert!(matches!(apply_chain(&links, &r), Err(Error::WrongIssuer)));
    }

    #[test]
    fn key_rules() {
        let pinned = fixtures::pinned_keys();
        let signer = fixtures::lender_key();
        let refused = |mutate: &dyn Fn(&mut KeySetPayload)| {
            let mut s = set(1, &[&key(0x61), &key(0x62)]);
            mutate(&mut s);
            apply_chain(&[s.sign(&signer).unwrap()], &rules(&pinned)).unwrap_err()
        };
        let field = |e: Error| match e {
            Error::InvalidField { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(refused(&|s| s.keys.clear())), "keys");
        assert_eq!(
            field(refused(
                &|s| s.keys = (0..5).map(|i| key(0x80 + i).public().to_jwk()).collect()
            )),
            "keys"
        );
        assert_eq!(
            field(refused(&|s| s.keys[1].kid = Some("my-key".into()))),
            "keys[1].kid"
        );
        assert_eq!(field(refused(&|s| s.keys[0].kid = None)), "keys[0].kid");
        assert_eq!(
            field(refused(&|s| s.keys[1] = s.keys[0].clone())),
            "keys[1]"
        );
        assert_eq!(
            field(refused(&|s| s.keys[0].crv = "X25519".into())),
            "keys[0]"
        );
        assert_eq!(field(refused(&|s| s.keys_seq = 0)), "keys_seq");
        assert_eq!(field(refused(&|s| s.iss = "a b".into())), "iss");
        assert_eq!(field(refused(&|s| s.iat = -1)), "iat");
        assert!(matches!(
            refused(&|s| s.v = 2),
            Error::UnsupportedVersion { found: 2 }
        ));
    }

    #[test]
    fn malformed_payloads_are_refused() {
        let pinned = fixtures::pinned_keys();
        let signer = fixtures::lender_key();
        for (payload, code) in [
            (&b"[1]"[..], "payload_not_object"),
            (
                br#"{"v":1,"iss":"acme-credit","keys_seq":1,"iat":1}"#,
                "payload_malformed",
            ),
            (
                br#"{"v":1,"v":1,"iss":"acme-credit","keys_seq":1,"iat":1,"keys":[]}"#,
                "duplicate_key",
            ),
            (
                br#"{"v":1,"iss":"acme-credit","keys_seq":1.0,"iat":1,"keys":[]}"#,
                "payload_malformed",
            ),
        ] {
            let link = signer.sign_compact(jws::typ::KEYS, payload);
            let e = apply_chain(&[link], &rules(&pinned)).unwrap_err();
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn a_chained_answer_serializes_flat_and_reads_back() {
        let answer = protocol::CheckinResponse {
            entitlement: "e".into(),
            push_key: None,
        };
        let plain = serde_json::to_string(&Chained {
            answer: answer.clone(),
            keys: vec![],
        })
        .unwrap();
        assert_eq!(plain, r#"{"entitlement":"e"}"#);
        let with = serde_json::to_vec(&Chained {
            answer,
            keys: vec!["a".into(), "b".into()],
        })
        .unwrap();
        let chain: KeyChain = crate::json::decode_object(&with).unwrap();
        assert_eq!(chain.keys, ["a", "b"]);
        let none: KeyChain = crate::json::decode_object(plain.as_bytes()).unwrap();
        assert!(none.keys.is_empty());
    }
}
