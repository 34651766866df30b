//! Ed25519 keys: the public halves that travel as JWKs (PROTOCOL §1) and the two
//! signing sides, [`LenderKey`] (entitlements, key sets) and [`DeviceKey`]
//! (enrollment, check-ins).
//!
//! Private keys are stored as PKCS#8 v2 documents (the private seed *and* the public
//! key), which is what `ring` generates and insists on reading: a v1 document without
//! the public half could be paired with the wrong public key unnoticed.

use ring::rand::SecureRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::{Error, Result};
use crate::jws;

/// An Ed25519 public key as a JSON Web Key (RFC 8037), as pinned and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// A validated Ed25519 public key together with the `kid` it is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    kid: String,
}

impl PublicKey {
    /// Builds a key from its raw 32 bytes; the `kid` defaults to the RFC 7638 thumbprint.
    pub fn from_bytes(bytes: [u8; 32], kid: Option<String>) -> Result<PublicKey> {
        let kid = match kid {
            Some(kid) => {
                validate_kid(&kid)?;
                kid
            }
            None => thumbprint(&bytes),
        };
        Ok(PublicKey { bytes, kid })
    }

    /// Reads an `OKP`/`Ed25519` JWK. Private members (`d`) are ignored by serde and
    /// never needed: the device only ever pins public keys.
    pub fn from_jwk(jwk: &Jwk) -> Result<PublicKey> {
        if jwk.kty != "OKP" {
            return Err(Error::KeyRejected {
                reason: "kty is not OKP",
            });
        }
        if jwk.crv != "Ed25519" {
            return Err(Error::KeyRejected {
                reason: "crv is not Ed25519",
            });
        }
        let bytes = b64::decode_array::<32>(&jwk.x).ok_or(Error::KeyRejected {
            reason: "x is not 32 bytes of canonical base64url",
        })?;
        PublicKey::from_bytes(bytes, jwk.kid.clone())
    }

    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(self.bytes),
            kid: Some(self.kid.clone()),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The RFC 7638 thumbprint of this key (independent of its `kid`).
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.bytes)
    }

    /// Whether `signature` is a valid Ed25519 signature by this key over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.bytes)
            .verify(message, signature)
            .is_ok()
    }
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
pub fn thumbprint(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        b64::encode(public)
    );
    b64::encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// Key ids are ASCII tokens; bounding them keeps headers small and log-safe.
fn validate_kid(kid: &str) -> Result<()> {
    let ok = !kid.is_empty()
        && kid.len() <= 128
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Error::KeyRejected {
            reason: "kid must be 1-128 characters of [A-Za-z0-9-_.:]",
        })
    }
}

/// A set of public keys, found by `kid`: the lender keys a device pins, or the
/// device keys a server has registered. A lender's set has a place in its rotation
/// chain, `keys_seq` (ADR 0007): 0 for the set a lender started with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySet {
    keys: Vec<PublicKey>,
    keys_seq: u64,
}

/// The JWKS document (`{"keys":[…]}`) form of a [`KeySet`]. `keys_seq` is an additional
/// JWK Set member (RFC 7517 §5 lets readers ignore it), written only when not 0, so a
/// provisioning QR printed after rotations pins the set at its place in the chain and a
/// JWKS without it is set 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keys_seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many keys one pinned set may hold: a current key plus a few in rotation.
pub const MAX_KEYS: usize = 8;

impl KeySet {
    pub fn new(keys: Vec<PublicKey>) -> Result<KeySet> {
        if keys.is_empty() || keys.len() > MAX_KEYS {
            return Err(Error::KeyRejected {
                reason: "a key set holds 1 to 8 keys",
            });
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.kid == k.kid) {
                return Err(Error::KeyRejected {
                    reason: "two keys share a kid",
                });
            }
        }
        Ok(KeySet { keys, keys_seq: 0 })
    }

    /// The same keys at place `keys_seq` of the lender's rotation chain.
    pub fn with_keys_seq(mut self, keys_seq: u64) -> KeySet {
        self.keys_seq = keys_seq;
        self
    }

    /// This set's place in the lender's rotation chain (0: never rotated).
    pub fn keys_seq(&self) -> u64 {
        self.keys_seq
    }

    pub fn from_jwks(jwks: &Jwks) -> Result<KeySet> {
        if jwks.keys_seq >= crate::protocol::MAX_SAFE {
            return Err(Error::KeyRejected {
                reason: "keys_seq must be below 2^53",
            });
        }
        Ok(KeySet::new(
            jwks.keys
                .iter()
                .map(PublicKey::from_jwk)
                .collect::<Result<_>>()?,
        )?
        .with_keys_seq(jwks.keys_seq))
    }

    /// Parses a JWKS document strictly (duplicate keys rejected like any signed input).
    pub fn from_json(json: &[u8]) -> Result<KeySet> {
        KeySet::from_jwks(&crate::json::decode_object::<Jwks>(json)?)
    }

    pub fn to_jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys.iter().map(PublicKey::to_jwk).collect(),
            keys_seq: self.keys_seq,
        }
    }

    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

impl Serialize for KeySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_jwks().serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeySet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeySet, D::Error> {
        KeySet::from_jwks(&Jwks::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signing key with its PKCS#8 v2 document and `kid`.
struct SigningKey {
    pkcs8: Vec<u8>,
    pair: Ed25519KeyPair,
    kid: String,
}

impl SigningKey {
    fn generate(rng: &dyn SecureRandom) -> Result<SigningKey> {
        let doc = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| Error::KeyRejected {
            reason: "random source failed",
        })?;
        SigningKey::from_pkcs8(doc.as_ref(), None)
    }

    fn from_pkcs8(pkcs8: &[u8], kid: Option<String>) -> Result<SigningKey> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| Error::KeyRejected {
            reason: "not an Ed25519 PKCS#8 v2 document",
        })?;
        let public = public_bytes(&pair);
        let kid = PublicKey::from_bytes(public, kid)?.kid;
        Ok(SigningKey {
            pkcs8: pkcs8.to_vec(),
            pair,
            kid,
        })
    }

    fn from_seed(seed: &[u8; 32], kid: Option<String>) -> Result<SigningKey> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| Error::KeyRejected { reason: "bad seed" })?;
        SigningKey::from_pkcs8(&pkcs8_v2(seed, &public_bytes(&pair)), kid)
    }

    fn public(&self) -> PublicKey {
        PublicKey {
            bytes: public_bytes(&self.pair),
            kid: self.kid.clone(),
        }
    }
}

fn public_bytes(pair: &Ed25519KeyPair) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(pair.public_key().as_ref());
    out
}

/// The PKCS#8 v2 (RFC 5958 OneAsymmetricKey) encoding of an Ed25519 key, byte for
/// byte what `ring` emits, so keys made from a seed (tests, vectors) store the same way.
fn pkcs8_v2(seed: &[u8; 32], public: &[u8; 32]) -> Vec<u8> {
    const PREFIX: [u8; 16] = [
        0x30, 0x53, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    const MIDDLE: [u8; 5] = [0xa1, 0x23, 0x03, 0x21, 0x00];
    let mut out = Vec::with_capacity(85);
    out.extend_from_slice(&PREFIX);
    out.extend_from_slice(seed);
    out.extend_from_slice(&MIDDLE);
    out.extend_from_slice(public);
    out
}

macro_rules! signing_key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(SigningKey);

        impl $name {
            /// A fresh key from the system's CSPRNG.
            pub fn generate() -> Result<$name> {
                SigningKey::generate(&ring::rand::SystemRandom::new()).map($name)
            }
            /// Reads a stored PKCS#8 v2 document; `kid` defaults to the thumbprint.
            pub fn from_pkcs8(pkcs8: &[u8], kid: Option<String>) -> Result<$name> {
                SigningKey::from_pkcs8(pkcs8, kid).map($name)
            }
            /// The key of a 32-byte seed: the device's own key (a seed from the CSPRNG) and
            /// the deterministic keys of the test support.
            pub fn from_seed(seed: &[u8; 32], kid: Option<String>) -> Result<$name> {
                SigningKey::from_seed(seed, kid).map($name)
            }
            /// The PKCS#8 v2 document to store (a secret: never log it).
            pub fn pkcs8(&self) -> &[u8] {
                &self.0.pkcs8
            }
            pub fn kid(&self) -> &str {
                &self.0.kid
            }
            pub fn public(&self) -> PublicKey {
                self.0.public()
            }
            /// Signs `payload` as a compact JWS of type `typ` under this key's `kid`.
            pub fn sign_compact(&self, typ: &str, payload: &[u8]) -> String {
                jws::sign(&self.0.pair, typ, &self.0.kid, payload)
            }
            /// Signs raw bytes (for building deliberately odd test messages).
            pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
                let mut out = [0u8; 64];
                out.copy_from_slice(self.0.pair.sign(message).as_ref());
                out
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Never print the private key.
                f.debug_struct(stringify!($name)).field("kid", &self.0.kid).finish()
            }
        }
    };
}

signing_key_type!(
    /// The lender's signing key: signs entitlements and key sets.
    LenderKey
);
signing_key_type!(
    /// The device's own key, generated at enrollment; signs enrollment and check-ins.
    /// Its `kid` is its thumbprint at enrollment and the `device_id` afterwards, so
    /// [`DeviceKey::sign_as`] takes the `kid` explicitly.
    DeviceKey
);

impl DeviceKey {
    /// Signs with an explicit `kid` (the `device_id` once enrolled, §3.2).
    pub fn sign_as(&self, kid: &str, typ: &str, payload: &[u8]) -> String {
        jws::sign(&self.0.pair, typ, kid, payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1 / A.2 / A.3.
    const RFC_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    fn rfc_key() -> LenderKey {
        let seed = b64::decode_array::<32>(RFC_D).unwrap();
        LenderKey::from_seed(&seed, None).unwrap()
    }

    #[test]
    fn seed_gives_the_rfc_public_key_and_thumbprint() {
        let key = rfc_key();
        assert_eq!(b64::encode(key.public().bytes()), RFC_X);
        assert_eq!(key.kid(), RFC_THUMBPRINT);
        assert_eq!(key.public().thumbprint(), RFC_THUMBPRINT);
    }

    #[test]
    fn pkcs8_from_seed_is_v2_and_round_trips() {
        let key = rfc_key();
        let again = LenderKey::from_pkcs8(key.pkcs8(), None).unwrap();
        assert_eq!(again.public(), key.public());
        assert_eq!(key.pkcs8().len(), 85);
    }

    #[test]
    fn generated_keys_round_trip_through_pkcs8() {
        let key = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_pkcs8(key.pkcs8(), None).unwrap();
        assert_eq!(again.public(), key.public());
    }

    #[test]
    fn pkcs8_v1_and_garbage_are_rejected() {
        let key = rfc_key();
        // A v1 document: version 0, no public key.
        let mut v1 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        v1.extend_from_slice(&key.pkcs8()[16..48]);
        assert!(matches!(
            LenderKey::from_pkcs8(&v1, None),
            Err(Error::KeyRejected { .. })
        ));
        assert!(LenderKey::from_pkcs8(b"not a key", None).is_err());
        let mut mismatched = key.pkcs8().to_vec();
        mismatched[84] ^= 1;
        assert!(LenderKey::from_pkcs8(&mismatched, None).is_err());
    }

    #[test]
    fn jwk_rules() {
        let good = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: RFC_X.into(),
            kid: None,
        };
        assert_eq!(PublicKey::from_jwk(&good).unwrap().kid(), RFC_THUMBPRINT);
        let mut bad = good.clone();
        bad.kty = "EC".into();
        assert!(PublicKey::from_jwk(&bad).is_err());
        let mut bad = good.clone();
        bad.crv = "X25519".into();
        assert!(PublicKey::from_jwk(&bad).is_err());
        let mut bad = good.clone();
        bad.x = format!("{RFC_X}A");
        assert!(PublicKey::from_jwk(&bad).is_err());
        let mut bad = good.clone();
        bad.kid = Some("has space".into());
        assert!(PublicKey::from_jwk(&bad).is_err());
        let mut bad = good;
        bad.kid = Some(String::new());
        assert!(PublicKey::from_jwk(&bad).is_err());
    }

    #[test]
    fn key_set_rules() {
        let a = rfc_key().public();
        assert!(KeySet::new(vec![]).is_err());
        assert!(KeySet::new(vec![a.clone(), a.clone()]).is_err());
        let many: Vec<_> = (0..9u8)
            .map(|i| LenderKey::from_seed(&[i; 32], None).unwrap().public())
            .collect();
        assert!(KeySet::new(many).is_err());
        let set = KeySet::new(vec![a.clone()]).unwrap();
        assert_eq!(set.find(a.kid()), Some(&a));
        assert_eq!(set.find("other"), None);
        let json = serde_json::to_vec(&set).unwrap();
        assert_eq!(KeySet::from_json(&json).unwrap(), set);
    }

    #[test]
    fn key_set_json_carries_keys_seq_only_when_rotated() {
        let set = KeySet::new(vec![rfc_key().public()]).unwrap();
        let json = serde_json::to_string(&set).unwrap();
        assert!(!json.contains("keys_seq"), "{json}");
        let rotated = set.clone().with_keys_seq(3);
        let json = serde_json::to_string(&rotated).unwrap();
        assert!(json.ends_with(r#""keys_seq":3}"#), "{json}");
        let back = KeySet::from_json(json.as_bytes()).unwrap();
        assert_eq!(back.keys_seq(), 3);
        assert_eq!(back, rotated);
        assert_ne!(back, set);
        let huge = json.replace(r#""keys_seq":3"#, r#""keys_seq":9007199254740992"#);
        assert!(KeySet::from_json(huge.as_bytes()).is_err());
        let float = json.replace(r#""keys_seq":3"#, r#""keys_seq":3.0"#);
        assert!(KeySet::from_json(float.as_bytes()).is_err());
    }

    #[test]
    fn key_set_json_rejects_duplicate_members() {
        let doc =
            format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC_X}","x":"{RFC_X}"}}]}}"#);
        assert!(matches!(
            KeySet::from_json(doc.as_bytes()),
            Err(Error::DuplicateKey { .. })
        ));
    }

    #[test]
    fn debug_never_prints_private_material() {
        let key = rfc_key();
        let text = format!("{key:?}");
        assert!(!text.contains(RFC_D));
        assert!(text.contains(RFC_THUMBPRINT));
    }
}
