//! A small, strict DER reader for the KeyDescription (X.690 §8 and §10).
//!
//! The certificates themselves are parsed by `x509-parser`; this reads only the
//! attestation extension's content, whose AuthorizationList uses context-specific tags
//! up to [724] (high-tag-number form), which general-purpose DER crates of the
//! workspace's generation do not all accept. It takes definite lengths in their
//! shortest form only, rejects indefinite lengths, and never reads past its input:
//! every access is checked, so no input can make it panic.

/// Why a piece of DER was refused; the caller turns it into an
/// [`super::AttestationError::ExtensionMalformed`] with its own context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DerError(pub &'static str);

/// The class bits of an identifier octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Universal,
    Application,
    ContextSpecific,
    Private,
}

/// One tag-length-value element; `value` is the content octets only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub class: Class,
    pub constructed: bool,
    pub tag: u32,
    pub value: &'a [u8],
}

pub(crate) const TAG_BOOLEAN: u32 = 1;
pub(crate) const TAG_INTEGER: u32 = 2;
pub(crate) const TAG_OCTET_STRING: u32 = 4;
pub(crate) const TAG_ENUMERATED: u32 = 10;
pub(crate) const TAG_SEQUENCE: u32 = 16;

/// Reads consecutive elements from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader { rest: input }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn byte(&mut self) -> Result<u8, DerError> {
        let (&b, rest) = self
            .rest
            .split_first()
            .ok_or(DerError("truncated element"))?;
        self.rest = rest;
        Ok(b)
    }

    /// The next element, or `None` at the end of the input.
    pub fn next(&mut self) -> Result<Option<Tlv<'a>>, DerError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let first = self.byte()?;
        let class = match first >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::ContextSpecific,
            _ => Class::Private,
        };
        let constructed = first & 0x20 != 0;
        let mut tag = u32::from(first & 0x1f);
        if tag == 0x1f {
            // High-tag-number form: base-128, most significant first, no leading 0x80.
            tag = 0;
            let mut count = 0;
            loop {
                let b = self.byte()?;
                if count == 0 && b == 0x80 {
                    return Err(DerError("tag number not in its shortest form"));
                }
                count += 1;
                if count > 4 {
                    return Err(DerError("tag number too large"));
                }
                tag = (tag << 7) | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
            if tag < 0x1f {
                return Err(DerError("tag number not in its shortest form"));
            }
        }
        let len = self.length()?;
        if len > self.rest.len() {
            return Err(DerError("length runs past the end of the input"));
        }
        let (value, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Some(Tlv {
            class,
            constructed,
            tag,
            value,
        }))
    }

    fn length(&mut self) -> Result<usize, DerError> {
        let first = self.byte()?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        if count == 0 {
            return Err(DerError("indefinite length"));
        }
        if count > 4 {
            return Err(DerError("length too large"));
        }
        let mut len: usize = 0;
        for i in 0..count {
            let b = self.byte()?;
            if i == 0 && b == 0 {
                return Err(DerError("length not in its shortest form"));
            }
            len = (len << 8) | usize::from(b);
        }
        if len < 0x80 {
            return Err(DerError("length not in its shortest form"));
        }
        Ok(len)
    }

    /// The next element, which must exist.
    pub fn expect(&mut self, what: &'static str) -> Result<Tlv<'a>, DerError> {
        self.next()?.ok_or(DerError(what))
    }

    /// The next element, which must be a universal element with `tag`.
    pub fn universal(&mut self, tag: u32, what: &'static str) -> Result<Tlv<'a>, DerError> {
        let tlv = self.expect(what)?;
        if tlv.class != Class::Universal || tlv.tag != tag {
            return Err(DerError(what));
        }
        let must_be_constructed = tag == TAG_SEQUENCE;
        if tlv.constructed != must_be_constructed {
            return Err(DerError(what));
        }
        Ok(tlv)
    }
}

impl<'a> Tlv<'a> {
    /// The one element inside an EXPLICIT tag; nothing may follow it.
    pub fn explicit_inner(&self, what: &'static str) -> Result<Tlv<'a>, DerError> {
        if !self.constructed {
            return Err(DerError(what));
        }
        let mut inner = Reader::new(self.value);
        let tlv = inner.expect(what)?;
        if !inner.is_empty() {
            return Err(DerError(what));
        }
        Ok(tlv)
    }

    fn is_universal(&self, tag: u32) -> bool {
        self.class == Class::Universal && self.tag == tag && !self.constructed
    }

    /// An INTEGER (or ENUMERATED, same content rules) that fits an `i64`.
    fn signed(&self, tag: u32, what: &'static str) -> Result<i64, DerError> {
        if !self.is_universal(tag) {
            return Err(DerError(what));
        }
        let v = self.value;
        match v {
            [] => return Err(DerError(what)),
            [0x00, next, ..] if next & 0x80 == 0 => return Err(DerError(what)),
            [0xff, next, ..] if next & 0x80 != 0 => return Err(DerError(what)),
            _ => {}
        }
        if v.len() > 8 {
            return Err(DerError(what));
        }
        let negative = v.first().is_some_and(|b| b & 0x80 != 0);
        let mut n: i64 = if negative { -1 } else { 0 };
        for &b in v {
            n = (n << 8) | i64::from(b);
        }
        Ok(n)
    }

    pub fn integer(&self, what: &'static str) -> Result<i64, DerError> {
        self.signed(TAG_INTEGER, what)
    }

    pub fn enumerated(&self, what: &'static str) -> Result<i64, DerError> {
        self.signed(TAG_ENUMERATED, what)
    }

    pub fn octet_string(&self, what: &'static str) -> Result<&'a [u8], DerError> {
        if !self.is_universal(TAG_OCTET_STRING) {
            return Err(DerError(what));
        }
        Ok(self.value)
    }

    /// A BOOLEAN: DER says 0x00 or 0xFF; other non-zero octets (valid BER, seen from some
    /// Keymaster implementations) are read as true, as BouncyCastle does for Google's
    /// verifier.
    pub fn boolean(&self, what: &'static str) -> Result<bool, DerError> {
        if !self.is_universal(TAG_BOOLEAN) {
            return Err(DerError(what));
        }
        match self.value {
            [b] => Ok(*b != 0),
            _ => Err(DerError(what)),
        }
    }

    /// The elements of a SEQUENCE (or of any constructed element).
    pub fn children(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Tlv<'_>, DerError> {
        let mut r = Reader::new(bytes);
        let tlv = r.expect("element")?;
        assert!(r.is_empty());
        Ok(tlv)
    }

    #[test]
    fn reads_high_tag_numbers_like_authorization_list_tags() {
        // [714] EXPLICIT { OCTET STRING "1" }: 0xbf 0x85 0x4a = context, constructed, 714.
        let tlv = one(&[0xbf, 0x85, 0x4a, 0x03, 0x04, 0x01, b'1']).unwrap();
        assert_eq!(tlv.class, Class::ContextSpecific);
        assert!(tlv.constructed);
        assert_eq!(tlv.tag, 714);
        let inner = tlv.explicit_inner("inner").unwrap();
        assert_eq!(inner.octet_string("s").unwrap(), b"1");
    }

    #[test]
    fn refuses_non_minimal_and_indefinite_forms() {
        assert!(one(&[0x04, 0x80]).is_err(), "indefinite length");
        assert!(
            one(&[0x04, 0x81, 0x01, 0x00]).is_err(),
            "long form for a short length"
        );
        assert!(
            one(&[0x04, 0x82, 0x00, 0x80]).is_err(),
            "leading zero length octet"
        );
        assert!(
            one(&[0xbf, 0x80, 0x85, 0x4a, 0x00]).is_err(),
            "leading 0x80 in tag"
        );
        assert!(one(&[0xbf, 0x1e, 0x00]).is_err(), "high form for a low tag");
        assert!(one(&[0x04, 0x05, 0x00]).is_err(), "length past the end");
        assert!(
            one(&[0xbf, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]).is_err(),
            "tag too big"
        );
    }

    #[test]
    fn integers_are_minimal_and_bounded() {
        assert_eq!(one(&[0x02, 0x01, 0x7f]).unwrap().integer("i"), Ok(127));
        assert_eq!(
            one(&[0x02, 0x02, 0x00, 0x80]).unwrap().integer("i"),
            Ok(128)
        );
        assert_eq!(one(&[0x02, 0x01, 0xff]).unwrap().integer("i"), Ok(-1));
        assert_eq!(
            one(&[0x02, 0x02, 0x01, 0x2c]).unwrap().integer("i"),
            Ok(300)
        );
        assert!(
            one(&[0x02, 0x02, 0x00, 0x01])
                .unwrap()
                .integer("i")
                .is_err()
        );
        assert!(
            one(&[0x02, 0x02, 0xff, 0x80])
                .unwrap()
                .integer("i")
                .is_err()
        );
        assert!(one(&[0x02, 0x00]).unwrap().integer("i").is_err());
        let nine = [0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(one(&nine).unwrap().integer("i").is_err());
        assert!(
            one(&[0x0a, 0x01, 0x01]).unwrap().integer("i").is_err(),
            "enum is not int"
        );
        assert_eq!(one(&[0x0a, 0x01, 0x02]).unwrap().enumerated("e"), Ok(2));
    }
}
