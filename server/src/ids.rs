//! Identifiers and secrets the server generates: all from the OS CSPRNG, all
//! application-generated (no database sequences), so SQLite and PostgreSQL agree
//! and several nodes never collide.

use finlock_core::b64;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// Random bytes for secrets and identifiers; an RNG failure is an error, never zeros.
pub fn secret_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::Internal("the system random source failed".into()))?;
    Ok(out)
}

/// Random bytes where nothing depends on their secrecy (correlation ids, jitter);
/// falls back to zeros rather than failing a request.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    secret_bytes().unwrap_or([0u8; N])
}

/// A uniform value in `[-1, 1]` for check-in jitter.
pub fn jitter() -> f64 {
    let r = u16::from_be_bytes(random_bytes::<2>());
    f64::from(r) / f64::from(u16::MAX) * 2.0 - 1.0
}

/// Lower-case hex: the core's one encoder ([`finlock_core::hex`]).
pub fn hex(bytes: &[u8]) -> String {
    finlock_core::hex::encode(bytes)
}

/// Lower-case hex of SHA-256 (API key hashes, fingerprints).
pub fn sha256_hex(data: &[u8]) -> String {
    finlock_core::hex::sha256(&[data])
}

/// `dev-` + 16 random bytes (base64url): a protocol `device_id` (§1).
pub fn device_id() -> Result<String> {
    Ok(format!("dev-{}", b64::encode(secret_bytes::<16>()?)))
}

/// `lnd-` + 12 random bytes (base64url): a protocol lender id (`iss`, §8.1).
pub fn lender_id() -> Result<String> {
    Ok(format!("lnd-{}", b64::encode(secret_bytes::<12>()?)))
}

/// Payment and other row ids.
pub fn row_id(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}-{}", b64::encode(secret_bytes::<16>()?)))
}

/// The API key prefix, so secret scanners and people recognise a leaked key.
pub const API_KEY_PREFIX: &str = "flk_";

/// An API key: 32 random bytes. High-entropy, so a plain SHA-256 is the right
/// storage (a slow password hash protects guessable secrets, not these).
pub fn api_key() -> Result<String> {
    Ok(format!(
        "{API_KEY_PREFIX}{}",
        b64::encode(secret_bytes::<32>()?)
    ))
}

/// The console's session token prefix (a cookie value), recognisable like an API key's.
pub const SESSION_TOKEN_PREFIX: &str = "fls_";

/// The prefix of a staff invitation token (in the link `/console/invite/<token>`).
pub const INVITATION_TOKEN_PREFIX: &str = "fli_";

/// A console session token or an invitation token: 32 random bytes behind `prefix`,
/// stored as SHA-256 only (high-entropy, like an API key).
pub fn bearer_token(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", b64::encode(secret_bytes::<32>()?)))
}

/// An enrollment code people can type: 12 characters of Crockford base32 (60 bits) in
/// groups of four, e.g. `7KQ2-M9XD-4RTA`; matches the protocol's `[A-Za-z0-9-]{4,64}`.
pub fn enrollment_code() -> Result<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = secret_bytes::<12>()?;
    let mut out = String::with_capacity(14);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use finlock_core::protocol::is_valid_id;

    #[test]
    fn generated_ids_are_protocol_ids() {
        assert!(is_valid_id(&device_id().unwrap()));
        assert!(is_valid_id(&lender_id().unwrap()));
        assert_ne!(device_id().unwrap(), device_id().unwrap());
    }

    #[test]
    fn enrollment_codes_are_typable_and_valid() {
        let code = enrollment_code().unwrap();
        assert_eq!(code.len(), 14);
        assert!(
            code.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || b.is_ascii_uppercase())
        );
    }

    #[test]
    fn jitter_is_within_bounds() {
        for _ in 0..100 {
            let j = jitter();
            assert!((-1.0..=1.0).contains(&j));
        }
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(sha256_hex(b"").len(), 64);
    }
}
