//! Canonical, unpadded base64url (RFC 4648 §5), the only base64 the protocol speaks.
//!
//! "Canonical" matters for security: if two spellings decoded to the same bytes, a
//! signed message could be re-encoded without invalidating anything that compares
//! strings (nonces, thumbprints). So padding and non-zero trailing bits are errors.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes canonical unpadded base64url; `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    ENGINE.decode(text).ok()
}

/// Decodes canonical base64url that must be exactly `N` bytes long.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        for len in 0..70u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn rejects_padding() {
        assert_eq!(decode("YQ"), Some(b"a".to_vec()));
        assert_eq!(decode("YQ=="), None);
        assert_eq!(decode("YQ="), None);
    }

    #[test]
    fn rejects_non_zero_trailing_bits() {
        // "YQ" is the canonical spelling of "a"; "YR" carries the same byte plus stray bits.
        assert_eq!(decode("YR"), None);
    }

    #[test]
    fn rejects_standard_alphabet_and_whitespace() {
        assert_eq!(decode("+/8"), None);
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("YQ "), None);
        assert_eq!(decode("Y Q"), None);
    }

    #[test]
    fn rejects_impossible_length() {
        assert_eq!(decode("Y"), None);
    }

    #[test]
    fn decode_array_checks_length() {
        assert_eq!(decode_array::<1>("YQ"), Some([b'a']));
        assert_eq!(decode_array::<2>("YQ"), None);
    }
}
