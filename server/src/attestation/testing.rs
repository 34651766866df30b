//! Test support (not product): attestation chains made on the spot with `rcgen`, and a
//! small DER encoder for the KeyDescription they carry.
//!
//! Compiled into the unit tests (`#[cfg(test)]`) and, by `#[path]`, into the bench; so it
//! uses only `rcgen`, `ring` and `std`, never the module it tests.

#![allow(dead_code)]

use std::cell::OnceCell;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, SerialNumber, SignatureAlgorithm,
    SigningKey, date_time_ymd,
};

/// The time tests verify at: 2026-05-28T00:00:00Z.
pub const NOW: i64 = 1_779_926_400;
/// A test IMEI (the 3GPP example's check digit is valid) and its second-SIM sibling.
pub const IMEI: &str = "490154203237518";
pub const SECOND_IMEI: &str = "490154203237526";
pub const SERIAL: &str = "FA6AB0301234";
pub const CHALLENGE: &[u8] = b"server-issued challenge, 32 byte";

/// The Android key attestation extension's OID.
pub const KEY_ATTESTATION_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17];

/// A minimal DER encoder, enough for a KeyDescription.
pub mod der {
    /// One element: `first` is the identifier octet's class and constructed bits.
    pub fn tlv(first: u8, tag: u32, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if tag < 31 {
            out.push(first | tag as u8);
        } else {
            out.push(first | 0x1f);
            let mut groups = Vec::new();
            let mut t = tag;
            loop {
                groups.push((t & 0x7f) as u8);
                t >>= 7;
                if t == 0 {
                    break;
                }
            }
            for (i, g) in groups.iter().enumerate().rev() {
                out.push(if i == 0 { *g } else { g | 0x80 });
            }
        }
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    fn signed(tag: u32, v: i64) -> Vec<u8> {
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        tlv(0x00, tag, &bytes[start..])
    }

    pub fn integer(v: i64) -> Vec<u8> {
        signed(2, v)
    }

    pub fn enumerated(v: i64) -> Vec<u8> {
        signed(10, v)
    }

    pub fn octets(b: &[u8]) -> Vec<u8> {
        tlv(0x00, 4, b)
    }

    pub fn boolean(b: bool) -> Vec<u8> {
        tlv(0x00, 1, &[if b { 0xff } else { 0x00 }])
    }

    pub fn null() -> Vec<u8> {
        tlv(0x00, 5, &[])
    }

    pub fn sequence(items: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x20, 16, &items.concat())
    }

    pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x20, 17, &items.concat())
    }

    /// `[tag] EXPLICIT inner`
    pub fn explicit(tag: u32, inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0, tag, &inner)
    }
}

// AuthorizationList tags.
pub const PURPOSE: u32 = 1;
pub const ALGORITHM: u32 = 2;
pub const NO_AUTH_REQUIRED: u32 = 503;
pub const CREATION_DATE_TIME: u32 = 701;
pub const ORIGIN: u32 = 702;
pub const ROOT_OF_TRUST: u32 = 704;
pub const OS_VERSION: u32 = 705;
pub const OS_PATCH_LEVEL: u32 = 706;
pub const ATTESTATION_APPLICATION_ID: u32 = 709;
pub const ID_BRAND: u32 = 710;
pub const ID_DEVICE: u32 = 711;
pub const ID_PRODUCT: u32 = 712;
pub const ID_SERIAL: u32 = 713;
pub const ID_IMEI: u32 = 714;
pub const ID_MANUFACTURER: u32 = 716;
pub const ID_MODEL: u32 = 717;
pub const VENDOR_PATCH_LEVEL: u32 = 718;
pub const ID_SECOND_IMEI: u32 = 723;

/// `[tag] EXPLICIT OCTET STRING value`: an attestation ID entry.
pub fn id(tag: u32, value: &str) -> Vec<u8> {
    der::explicit(tag, der::octets(value.as_bytes()))
}

/// `[704] EXPLICIT RootOfTrust`; boot state 0 Verified, 1 SelfSigned, 2 Unverified, 3 Failed.
pub fn root_of_trust(device_locked: bool, boot_state: i64) -> Vec<u8> {
    der::explicit(
        ROOT_OF_TRUST,
        der::sequence(&[
            der::octets(&[0x5a; 32]),
            der::boolean(device_locked),
            der::enumerated(boot_state),
            der::octets(&[0xa5; 32]),
        ]),
    )
}

/// A KeyDescription to encode; `software` and `hardware` are AuthorizationList entries
/// in the order they are written.
#[derive(Debug, Clone)]
pub struct Kd {
    pub version: i64,
    pub security_level: i64,
    pub keymint_version: i64,
    pub keymint_security_level: i64,
    pub challenge: Vec<u8>,
    pub software: Vec<Vec<u8>>,
    pub hardware: Vec<Vec<u8>>,
}

impl Kd {
    /// What a TEE phone with ID attestation of IMEI and serial writes: KeyMint 300,
    /// hardware-enforced key properties, IDs and a verified, locked boot.
    pub fn tee() -> Kd {
        Kd {
            version: 300,
            security_level: 1,
            keymint_version: 300,
            keymint_security_level: 1,
            challenge: CHALLENGE.to_vec(),
            software: vec![
                der::explicit(CREATION_DATE_TIME, der::integer(1_779_900_000_000)),
                der::explicit(
                    ATTESTATION_APPLICATION_ID,
                    der::octets(&der::sequence(&[
                        der::set(&[der::sequence(&[
                            der::octets(b"org.finlock.app"),
                            der::integer(7),
                        ])]),
                        der::set(&[der::octets(&[0x11; 32])]),
                    ])),
                ),
            ],
            hardware: vec![
                der::explicit(PURPOSE, der::set(&[der::integer(2)])),
                der::explicit(ALGORITHM, der::integer(3)),
                der::explicit(NO_AUTH_REQUIRED, der::null()),
                der::explicit(ORIGIN, der::integer(0)),
                root_of_trust(true, 0),
                der::explicit(OS_VERSION, der::integer(140000)),
                der::explicit(OS_PATCH_LEVEL, der::integer(202605)),
                id(ID_BRAND, "finphone"),
                id(ID_DEVICE, "fp1"),
                id(ID_PRODUCT, "fp1_global"),
                id(ID_SERIAL, SERIAL),
                id(ID_IMEI, IMEI),
                id(ID_MANUFACTURER, "Finphone Ltd"),
                id(ID_MODEL, "FP-1"),
                der::explicit(VENDOR_PATCH_LEVEL, der::integer(20260505)),
                id(ID_SECOND_IMEI, SECOND_IMEI),
            ],
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        der::sequence(&[
            der::integer(self.version),
            der::enumerated(self.security_level),
            der::integer(self.keymint_version),
            der::enumerated(self.keymint_security_level),
            der::octets(&self.challenge),
            der::octets(&[]),
            der::sequence(&self.software),
            der::sequence(&self.hardware),
        ])
    }

    /// Without the hardware entry whose tag is `tag`.
    pub fn without_hardware(mut self, tag: u32) -> Kd {
        let prefix = der::explicit(tag, Vec::new());
        // The identifier octets are all but the (one-byte, zero) length of `prefix`.
        let ident = &prefix[..prefix.len() - 1];
        self.hardware.retain(|e| !e.starts_with(ident));
        self
    }
}

/// A certificate to be made, with what tests vary.
pub struct CertSpec {
    pub params: CertificateParams,
    pub key: KeyPair,
}

fn name(cn: &str, serial_attr: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(s) = serial_attr {
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), s);
    }
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Test Attestation PKI");
    dn
}

pub fn key(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).expect("key generation")
}

/// CA parameters: a name, a serial and a validity from 2020 to 2040.
pub fn ca_params(cn: &str, serial: u8, serial_attr: Option<&str>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(cn, serial_attr);
    p.serial_number = Some(SerialNumber::from_slice(&[0x01, serial]));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2040, 1, 1);
    p
}

/// Leaf parameters as KeyMint writes them: the epoch to 2048, the extension attached.
pub fn leaf_params(key_description: Option<Vec<u8>>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, "Android Keystore Key");
    p.serial_number = Some(SerialNumber::from_slice(&[0x01]));
    p.not_before = date_time_ymd(1970, 1, 1);
    p.not_after = date_time_ymd(2048, 1, 1);
    if let Some(kd) = key_description {
        p.custom_extensions
            .push(CustomExtension::from_oid_content(KEY_ATTESTATION_OID, kd));
    }
    p
}

/// A root (P-384), an intermediate (P-256, factory style when `factory`) and the
/// attestation signing key (P-256) under it, as a TEE's factory-provisioned chain is laid
/// out: root → intermediate → batch attestation key → leaf.
///
/// The root certificate is made once, on first use (ECDSA signatures are randomized, so
/// re-making it would change its fingerprint): change `root.params` before that.
pub struct Pki {
    pub root: CertSpec,
    pub intermediate: CertSpec,
    pub batch: CertSpec,
    root_der: OnceCell<Vec<u8>>,
}

impl Pki {
    pub fn new() -> Pki {
        Pki {
            root: CertSpec {
                params: ca_params("Test Attestation Root", 1, None),
                key: key(&PKCS_ECDSA_P384_SHA384),
            },
            intermediate: CertSpec {
                params: ca_params("Test Intermediate", 2, None),
                key: key(&PKCS_ECDSA_P256_SHA256),
            },
            batch: CertSpec {
                params: ca_params("Test TEE Batch Key", 3, None),
                key: key(&PKCS_ECDSA_P256_SHA256),
            },
            root_der: OnceCell::new(),
        }
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> Vec<u8> {
        self.root_der
            .get_or_init(|| {
                let cert = self.root.params.self_signed(&self.root.key).expect("root");
                cert.der().to_vec()
            })
            .clone()
    }

    /// The root certificate as PEM, to make trust anchors from.
    pub fn root_pem(&self) -> String {
        let b64 = base64(&self.root_der());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// `[leaf, batch, intermediate, root]`, DER, with a fresh P-256 leaf key carrying
    /// `key_description` (or no extension when `None`).
    pub fn chain(&self, key_description: Option<Vec<u8>>) -> (Vec<Vec<u8>>, KeyPair) {
        let leaf_key = key(&PKCS_ECDSA_P256_SHA256);
        let chain = self.chain_with_leaf(&leaf_params(key_description), &leaf_key);
        (chain, leaf_key)
    }

    /// The chain for a leaf made from `params` with `leaf_key`.
    pub fn chain_with_leaf(&self, params: &CertificateParams, leaf_key: &KeyPair) -> Vec<Vec<u8>> {
        let root_issuer = Issuer::from_params(&self.root.params, &self.root.key);
        let intermediate = self
            .intermediate
            .params
            .signed_by(&self.intermediate.key, &root_issuer)
            .expect("intermediate");
        let int_issuer = Issuer::from_params(&self.intermediate.params, &self.intermediate.key);
        let batch = self
            .batch
            .params
            .signed_by(&self.batch.key, &int_issuer)
            .expect("batch");
        let batch_issuer = Issuer::from_params(&self.batch.params, &self.batch.key);
        let leaf = params.signed_by(leaf_key, &batch_issuer).expect("leaf");
        vec![
            leaf.der().to_vec(),
            batch.der().to_vec(),
            intermediate.der().to_vec(),
            self.root_der(),
        ]
    }

    /// `[leaf, intermediate, root]`: the three-certificate layout of a chain whose
    /// attestation key is certified directly under the root's intermediate.
    pub fn short_chain(&self, key_description: Option<Vec<u8>>) -> (Vec<Vec<u8>>, KeyPair) {
        let leaf_key = key(&PKCS_ECDSA_P256_SHA256);
        let root_issuer = Issuer::from_params(&self.root.params, &self.root.key);
        let intermediate = self
            .intermediate
            .params
            .signed_by(&self.intermediate.key, &root_issuer)
            .expect("intermediate");
        let int_issuer = Issuer::from_params(&self.intermediate.params, &self.intermediate.key);
        let leaf = leaf_params(key_description)
            .signed_by(&leaf_key, &int_issuer)
            .expect("leaf");
        let chain = vec![
            leaf.der().to_vec(),
            intermediate.der().to_vec(),
            self.root_der(),
        ];
        (chain, leaf_key)
    }

    /// A certificate for `params`/`key` signed by the batch key (a second leaf).
    pub fn issue_from_batch(&self, params: &CertificateParams, key: &KeyPair) -> Vec<u8> {
        let batch_issuer = Issuer::from_params(&self.batch.params, &self.batch.key);
        params
            .signed_by(key, &batch_issuer)
            .expect("cert")
            .der()
            .to_vec()
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

/// Standard base64 with padding (PEM's), so the fixtures need no base64 crate.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A signature by `key` over `message` (DER ECDSA for EC keys), as Keystore makes it.
pub fn sign(key: &KeyPair, message: &[u8]) -> Vec<u8> {
    key.sign(message).expect("sign")
}
