//! The optional second factor: RFC 6238 TOTP as every authenticator app speaks it —
//! HMAC-SHA-1, 6 digits, 30-second steps — accepting the step before and after the
//! server's (a phone clock a little off, a code typed as it changed).
//!
//! Why ring and not a TOTP crate: the algorithm is twenty lines over HMAC (RFC 4226
//! dynamic truncation), ring is already the server's one audited crypto dependency, and
//! the RFC's own test vectors are checked below. SHA-1 is what authenticator apps use;
//! HMAC-SHA-1 remains sound as a MAC, which is all TOTP needs of it.
//!
//! A code is good once: the caller stores the step a code was accepted for and passes it
//! back as `last_used_step`, so a code seen over a shoulder (or replayed from a proxy log)
//! cannot log in again within its 90 seconds. Pure functions; no I/O.

use ring::hmac;

use crate::error::Result;
use crate::ids;

/// Seconds per step.
pub const STEP_S: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted on either side of the server's.
pub const SKEW_STEPS: i64 = 1;
/// Secret length: 160 bits, RFC 4226's recommendation for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;

/// A new secret from the OS CSPRNG.
pub fn new_secret() -> Result<[u8; SECRET_BYTES]> {
    ids::secret_bytes::<SECRET_BYTES>()
}

/// The step an instant falls in.
pub fn step_at(unix_s: i64) -> i64 {
    unix_s.div_euclid(STEP_S)
}

/// The code for one step (RFC 4226 HOTP with the step as counter).
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    binary % 10u32.pow(DIGITS)
}

/// The code as typed: 6 digits, zero-padded.
pub fn format_code(code: u32) -> String {
    format!("{code:06}")
}

/// The step `typed` is the code of, within ±[`SKEW_STEPS`] of `now` and after
/// `last_used_step`; `None` for a wrong, malformed, too old or already used code.
/// Spaces are ignored (apps show `123 456`). Each candidate is compared in constant time.
pub fn accepted_step(
    secret: &[u8],
    typed: &str,
    now: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut found = None;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        let expected = format_code(code_at_step(secret, step));
        if super::constant_time_eq(expected.as_bytes(), digits.as_bytes())
            && last_used_step.is_none_or(|last| step > last)
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (how authenticator apps take a secret).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The bytes of an unpadded base32 text (upper case, as stored); `None` if not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = BASE32.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://totp/…` URI an authenticator app scans (as a QR code) or takes typed:
/// the issuer (the lender's name, so the entry says whose console it is) and the account
/// (the staff member's email).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_S}",
        percent_encode(account),
        base32_encode(secret)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_vectors_hold_in_their_last_six_digits() {
        // (time, 8-digit TOTP from the RFC): our 6 digits are the last 6.
        for (t, totp8) in [
            (59, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(
                code_at_step(RFC_SECRET, step_at(t)),
                totp8 % 1_000_000,
                "t={t}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_either_side_only() {
        let now = 1_234_567_890;
        let step = step_at(now);
        for delta in -1..=1 {
            let code = format_code(code_at_step(RFC_SECRET, step + delta));
            assert_eq!(
                accepted_step(RFC_SECRET, &code, now, None),
                Some(step + delta)
            );
        }
        for delta in [-3, -2, 2, 3] {
            let code = format_code(code_at_step(RFC_SECRET, step + delta));
            assert_eq!(
                accepted_step(RFC_SECRET, &code, now, None),
                None,
                "skew {delta}"
            );
        }
    }

    #[test]
    fn a_used_code_or_an_older_one_is_refused() {
        let now = 1_234_567_890;
        let step = step_at(now);
        let code = format_code(code_at_step(RFC_SECRET, step));
        assert_eq!(accepted_step(RFC_SECRET, &code, now, Some(step)), None);
        assert_eq!(accepted_step(RFC_SECRET, &code, now, Some(step + 1)), None);
        let previous = format_code(code_at_step(RFC_SECRET, step - 1));
        assert_eq!(
            accepted_step(RFC_SECRET, &previous, now, Some(step - 1)),
            None
        );
        // The next step's code is still good after this one was used.
        let next = format_code(code_at_step(RFC_SECRET, step + 1));
        assert_eq!(
            accepted_step(RFC_SECRET, &next, now, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn malformed_codes_are_refused_and_spaces_ignored() {
        let now = 1_234_567_890;
        let code = format_code(code_at_step(RFC_SECRET, step_at(now)));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(accepted_step(RFC_SECRET, &spaced, now, None).is_some());
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "+12345"] {
            assert_eq!(accepted_step(RFC_SECRET, bad, now, None), None, "{bad:?}");
        }
        // Another secret's code is not this one's.
        assert_eq!(
            accepted_step(b"another secret 12345", &code, now, None),
            None
        );
    }

    #[test]
    fn base32_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("MZ1"), None);
        assert_eq!(base32_decode("mzxw6"), None);
    }

    #[test]
    fn the_otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("Acme Phones & Co", "ann@shop.example", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Phones%20%26%20Co:ann%40shop.example?secret=MZXW6YTBOI\
             &issuer=Acme%20Phones%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }

        /// A code made for a step further than one step away is never accepted, and the
        /// accepted step is always after the last used one.
        #[test]
        fn only_near_unused_steps_are_accepted(now in 0i64..4_000_000_000, delta in -5i64..=5, last in proptest::option::of(-5i64..=5)) {
            let step = step_at(now) + delta;
            let code = format_code(code_at_step(RFC_SECRET, step));
            let last = last.map(|l| step_at(now) + l);
            if let Some(accepted) = accepted_step(RFC_SECRET, &code, now, last) {
                prop_assert!((accepted - step_at(now)).abs() <= SKEW_STEPS);
                prop_assert!(last.is_none_or(|l| accepted > l));
                prop_assert_eq!(format_code(code_at_step(RFC_SECRET, accepted)), code);
            } else {
                prop_assert!(delta.abs() > SKEW_STEPS || last.is_some_and(|l| l >= step));
            }
        }
    }
}
