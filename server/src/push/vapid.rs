//! VAPID (RFC 8292): how the server proves to a push service that a push comes from the
//! holder of the key the phone registered with.
//!
//! One P-256 key pair per server deployment, not per lender: the key only authenticates
//! the sender to the push service (the push carries nothing and the phone trusts nothing
//! in it), a phone learns one `push_key` from whichever lender's server it checks in with,
//! and a per-lender key would add files to back up without protecting anything more. Every
//! node must share it, like the lenders' keys: it lives in the same keys directory
//! (`webpush-vapid.pk8`, PKCS#8, mode 0600, never logged), made on the first start.
//!
//! The JWT is ES256 (`aud` = the endpoint's origin, `exp` = now + [`JWT_LIFETIME_S`],
//! `sub` = the operator's contact when configured), cached per origin until
//! [`JWT_RENEW_BEFORE_S`] before it expires. Its times come from the system clock, not
//! the server's [`crate::clock`]: the push service checks them against its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use finlock_core::b64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use crate::error::{Error, Result};

/// The key file in the keys directory.
pub const KEY_FILE: &str = "webpush-vapid.pk8";

/// A JWT's lifetime (RFC 8292 allows at most 24 h).
pub const JWT_LIFETIME_S: i64 = 12 * 3600;

/// A cached JWT is signed again when less than this is left of it.
pub const JWT_RENEW_BEFORE_S: i64 = 3600;

/// Entries of the per-origin cache before it starts over (push services are few).
const CACHE_MAX: usize = 1024;

/// The server's VAPID key and its JWT cache.
pub struct Vapid {
    key: EcdsaKeyPair,
    /// base64url (no padding) of the 65-byte uncompressed point: `push_key` and `k=`.
    public_b64: String,
    contact: Option<String>,
    rng: SystemRandom,
    cache: Mutex<HashMap<String, (String, i64)>>,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_b64)
            .finish_non_exhaustive()
    }
}

/// The key file of `keys_dir`.
pub fn key_path(keys_dir: &Path) -> PathBuf {
    keys_dir.join(KEY_FILE)
}

impl Vapid {
    /// From a PKCS#8 P-256 key.
    pub fn from_pkcs8(pkcs8: &[u8], contact: Option<String>) -> Result<Vapid> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| Error::Internal("the VAPID key is not a P-256 PKCS#8 key".into()))?;
        let public_b64 = b64::encode(key.public_key().as_ref());
        Ok(Vapid {
            key,
            public_b64,
            contact,
            rng,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Reads the deployment's key from `keys_dir`, making it first if there is none.
    /// Two nodes starting at once agree: the key is written to a file of its own and
    /// linked into place, and whoever loses the race reads the winner's.
    pub fn load_or_create(keys_dir: &Path, contact: Option<String>) -> Result<Vapid> {
        let path = key_path(keys_dir);
        if !path.exists() {
            create(&path)?;
        }
        let pkcs8 = std::fs::read(&path)
            .map_err(|e| Error::Internal(format!("reading {}: {e}", path.display())))?;
        Vapid::from_pkcs8(&pkcs8, contact)
    }

    /// `push_key` of the enroll and check-in answers, and the header's `k`.
    pub fn public_key(&self) -> &str {
        &self.public_b64
    }

    /// `Authorization: vapid t=<jwt>, k=<public key>` for a push to `origin`
    /// (`https://push.example[:port]`) at system time `now`.
    pub fn authorization(&self, origin: &str, now: i64) -> Result<String> {
        let jwt = self.jwt(origin, now)?;
        Ok(format!("vapid t={jwt}, k={}", self.public_b64))
    }

    /// The JWT for `origin`, from the cache while it has over [`JWT_RENEW_BEFORE_S`] left.
    pub fn jwt(&self, origin: &str, now: i64) -> Result<String> {
        if let Ok(cache) = self.cache.lock()
            && let Some((jwt, exp)) = cache.get(origin)
            && exp - now > JWT_RENEW_BEFORE_S
        {
            return Ok(jwt.clone());
        }
        let exp = now + JWT_LIFETIME_S;
        let jwt = self.sign(origin, exp)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(origin.to_string(), (jwt.clone(), exp));
        }
        Ok(jwt)
    }

    fn sign(&self, aud: &str, exp: i64) -> Result<String> {
        let header = b64::encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let mut claims = serde_json::json!({ "aud": aud, "exp": exp });
        if let Some(sub) = &self.contact {
            claims["sub"] = serde_json::Value::String(sub.clone());
        }
        let claims = b64::encode(claims.to_string());
        let input = format!("{header}.{claims}");
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| Error::Internal("VAPID signing failed".into()))?;
        Ok(format!("{input}.{}", b64::encode(sig.as_ref())))
    }
}

/// Makes a key file at `path` (mode 0600, directory 0700) unless another node did first.
fn create(path: &Path) -> Result<()> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| Error::Internal("VAPID key generation failed".into()))?;
    let suffix = b64::encode(crate::ids::secret_bytes::<9>()?);
    let tmp = path.with_extension(format!("pk8.new-{suffix}"));
    crate::lender_keys::write_private_key(&tmp, pkcs8.as_ref())?;
    // A hard link never replaces an existing file: of two nodes, one key wins.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(file = %path.display(), "made the Web Push (VAPID) key");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Internal(format!(
            "storing the VAPID key {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let p = jwt.split('.').nth(i).expect("part");
        serde_json::from_slice(&b64::decode(p).expect("b64")).expect("json")
    }

    #[test]
    fn jwt_is_es256_for_the_origin_and_verifies_with_k() {
        let dir = tempfile::tempdir().unwrap();
        let v =
            Vapid::load_or_create(dir.path(), Some("mailto:ops@lender.example".into())).unwrap();
        let now = 1_800_000_000;
        let header = v.authorization("https://push.example", now).unwrap();
        let (t, k) = header
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .expect("vapid t=…, k=…");
        assert_eq!(k, v.public_key());
        let point = b64::decode(k).unwrap();
        assert_eq!(point.len(), 65);
        assert_eq!(point[0], 0x04, "uncompressed point");
        assert!(!k.contains('=') && !k.contains('+') && !k.contains('/'));
        assert_eq!(
            part(t, 0),
            serde_json::json!({"typ": "JWT", "alg": "ES256"})
        );
        let claims = part(t, 1);
        assert_eq!(claims["aud"], "https://push.example");
        assert_eq!(claims["sub"], "mailto:ops@lender.example");
        assert_eq!(claims["exp"], now + JWT_LIFETIME_S);
        let (input, sig) = t.rsplit_once('.').unwrap();
        let sig = b64::decode(sig).unwrap();
        assert_eq!(sig.len(), 64, "fixed-size r||s");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &sig)
            .expect("signature verifies with k");
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(input.as_bytes(), &bad)
                .is_err()
        );
    }

    #[test]
    fn cached_per_origin_until_near_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vapid::load_or_create(dir.path(), None).unwrap();
        let now = 1_800_000_000;
        let a = v.jwt("https://a.example", now).unwrap();
        assert!(part(&a, 1).get("sub").is_none(), "no contact configured");
        assert_eq!(v.jwt("https://a.example", now + 60).unwrap(), a);
        let b = v.jwt("https://b.example", now).unwrap();
        assert_ne!(a, b);
        assert_eq!(part(&b, 1)["aud"], "https://b.example");
        let later = now + JWT_LIFETIME_S - JWT_RENEW_BEFORE_S;
        let renewed = v.jwt("https://a.example", later).unwrap();
        assert_ne!(renewed, a);
        assert_eq!(part(&renewed, 1)["exp"], later + JWT_LIFETIME_S);
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_kept_across_starts() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let first = Vapid::load_or_create(&keys, None).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key_path(&keys)), 0o600);
        assert_eq!(mode(&keys), 0o700);
        let again = Vapid::load_or_create(&keys, None).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        // Only the key file: no temporary left behind.
        assert_eq!(std::fs::read_dir(&keys).unwrap().count(), 1);
        assert!(!format!("{first:?}").contains("pkcs8"));
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(key_path(dir.path()), b"not a key").unwrap();
        assert!(Vapid::load_or_create(dir.path(), None).is_err());
        assert_eq!(std::fs::read(key_path(dir.path())).unwrap(), b"not a key");
    }
}
