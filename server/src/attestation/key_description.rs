//! The attestation extension's content: the KeyDescription SEQUENCE.
//!
//! Schema: source.android.com, "Key and ID attestation" → "Attestation extension"
//! (KeyDescription, AuthorizationList, RootOfTrust), and developer.android.com,
//! "Verify hardware-backed key pairs with key attestation" → "Attestation extension data
//! schema". Versions 1–4 (Keymaster) and 100–400 (KeyMint) share the eight top-level
//! fields read here.
//!
//! Only the fields the enrollment decision needs are interpreted; every other
//! AuthorizationList entry is skipped after its DER structure is checked. A field that
//! is interpreted must appear at most once per list and have the schema's type, or the
//! whole extension is refused: an ambiguous attestation (two IMEIs under one tag, an
//! IMEI that is not an OCTET STRING) is not guessed at.

use super::der::{Class, DerError, Reader, TAG_SEQUENCE, Tlv};

/// Where a key lives, as the KeyDescription says (`SecurityLevel` ENUMERATED).
///
/// Ordered: `Software < TrustedEnvironment < StrongBox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityLevel {
    /// Android's software keystore: proves nothing about the device.
    Software,
    /// A Trusted Execution Environment (TEE).
    TrustedEnvironment,
    /// A separate secure element (StrongBox).
    StrongBox,
}

impl SecurityLevel {
    fn from_enum(v: i64) -> Result<Self, DerError> {
        match v {
            0 => Ok(SecurityLevel::Software),
            1 => Ok(SecurityLevel::TrustedEnvironment),
            2 => Ok(SecurityLevel::StrongBox),
            _ => Err(DerError("unknown security level")),
        }
    }

    /// `software`, `tee`, `strongbox`: the spelling used in configuration and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Software => "software",
            SecurityLevel::TrustedEnvironment => "tee",
            SecurityLevel::StrongBox => "strongbox",
        }
    }
}

/// The boot state the bootloader reported to the secure hardware (`VerifiedBootState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifiedBootState {
    /// The OS was verified with the OEM's key embedded in the device.
    Verified,
    /// The OS was verified with a key the user installed (a relocked custom OS).
    SelfSigned,
    /// The bootloader is unlocked: any OS may be running.
    Unverified,
    /// Verification failed.
    Failed,
}

impl VerifiedBootState {
    fn from_enum(v: i64) -> Result<Self, DerError> {
        match v {
            0 => Ok(VerifiedBootState::Verified),
            1 => Ok(VerifiedBootState::SelfSigned),
            2 => Ok(VerifiedBootState::Unverified),
            3 => Ok(VerifiedBootState::Failed),
            _ => Err(DerError("unknown verified boot state")),
        }
    }
}

/// `RootOfTrust` from the hardware-enforced list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootOfTrust {
    /// Hash of the key that verified the OS (all zeroes when unlocked on many devices).
    pub verified_boot_key: Vec<u8>,
    /// Whether the bootloader is locked.
    pub device_locked: bool,
    pub verified_boot_state: VerifiedBootState,
    /// Digest of the verified boot images (attestation version 3 and later).
    pub verified_boot_hash: Option<Vec<u8>>,
}

/// The identifiers a device attested in hardware (ID attestation).
///
/// Each is present only if the app asked for it (for IMEI and serial:
/// `DevicePolicyManager.generateKeyPair` with `ID_TYPE_IMEI` / `ID_TYPE_SERIAL`) and the
/// secure hardware confirmed it against the values provisioned at the factory.
///
/// `Debug` says which are present, never their values (IMEIs and serials are personal
/// data and stay out of logs).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AttestedIds {
    pub brand: Option<String>,
    pub device: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    pub imei: Option<String>,
    pub meid: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub second_imei: Option<String>,
}

impl std::fmt::Debug for AttestedIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields = [
            ("brand", &self.brand),
            ("device", &self.device),
            ("product", &self.product),
            ("serial", &self.serial),
            ("imei", &self.imei),
            ("meid", &self.meid),
            ("manufacturer", &self.manufacturer),
            ("model", &self.model),
            ("second_imei", &self.second_imei),
        ];
        let present: Vec<&str> = fields
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(name, _)| *name)
            .collect();
        f.debug_struct("AttestedIds")
            .field("present", &present)
            .finish()
    }
}

/// The part of one AuthorizationList this verifier reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuthorizationList {
    pub ids: AttestedIds,
    pub root_of_trust: Option<RootOfTrust>,
    pub os_version: Option<i64>,
    pub os_patch_level: Option<i64>,
}

/// The parsed KeyDescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyDescription {
    pub attestation_version: i64,
    pub attestation_security_level: SecurityLevel,
    pub keymint_version: i64,
    pub keymint_security_level: SecurityLevel,
    pub challenge: Vec<u8>,
    /// Parsed only to check its structure: IDs, boot state and patch levels that appear
    /// here are not enforced by secure hardware and are never reported as attested.
    #[allow(dead_code)]
    pub software_enforced: AuthorizationList,
    pub hardware_enforced: AuthorizationList,
}

// AuthorizationList tags (KeyMint Tag.aidl numbers without their type bits).
const TAG_ROOT_OF_TRUST: u32 = 704;
const TAG_OS_VERSION: u32 = 705;
const TAG_OS_PATCH_LEVEL: u32 = 706;
const TAG_ID_BRAND: u32 = 710;
const TAG_ID_DEVICE: u32 = 711;
const TAG_ID_PRODUCT: u32 = 712;
const TAG_ID_SERIAL: u32 = 713;
const TAG_ID_IMEI: u32 = 714;
const TAG_ID_MEID: u32 = 715;
const TAG_ID_MANUFACTURER: u32 = 716;
const TAG_ID_MODEL: u32 = 717;
const TAG_ID_SECOND_IMEI: u32 = 723;

/// Parses the extension value (the DER of the KeyDescription, nothing after it).
pub(crate) fn parse(ext_value: &[u8]) -> Result<KeyDescription, DerError> {
    let mut outer = Reader::new(ext_value);
    let seq = outer.universal(TAG_SEQUENCE, "KeyDescription is not a SEQUENCE")?;
    if !outer.is_empty() {
        return Err(DerError("bytes after the KeyDescription"));
    }
    let mut r = seq.children();
    let attestation_version = r
        .expect("attestationVersion missing")?
        .integer("attestationVersion is not an INTEGER")?;
    let attestation_security_level = SecurityLevel::from_enum(
        r.expect("attestationSecurityLevel missing")?
            .enumerated("attestationSecurityLevel is not ENUMERATED")?,
    )?;
    let keymint_version = r
        .expect("keyMintVersion missing")?
        .integer("keyMintVersion is not an INTEGER")?;
    let keymint_security_level = SecurityLevel::from_enum(
        r.expect("keyMintSecurityLevel missing")?
            .enumerated("keyMintSecurityLevel is not ENUMERATED")?,
    )?;
    let challenge = r
        .expect("attestationChallenge missing")?
        .octet_string("attestationChallenge is not an OCTET STRING")?
        .to_vec();
    r.expect("uniqueId missing")?
        .octet_string("uniqueId is not an OCTET STRING")?;
    let software_enforced =
        authorization_list(r.universal(TAG_SEQUENCE, "softwareEnforced is not a SEQUENCE")?)?;
    let hardware_enforced =
        authorization_list(r.universal(TAG_SEQUENCE, "hardwareEnforced is not a SEQUENCE")?)?;
    if !r.is_empty() {
        return Err(DerError("KeyDescription has more than eight fields"));
    }
    Ok(KeyDescription {
        attestation_version,
        attestation_security_level,
        keymint_version,
        keymint_security_level,
        challenge,
        software_enforced,
        hardware_enforced,
    })
}

fn authorization_list(seq: Tlv<'_>) -> Result<AuthorizationList, DerError> {
    let mut list = AuthorizationList::default();
    let mut seen: Vec<u32> = Vec::new();
    let mut r = seq.children();
    while let Some(entry) = r.next()? {
        if entry.class != Class::ContextSpecific || !entry.constructed {
            return Err(DerError("AuthorizationList entry is not an EXPLICIT tag"));
        }
        // Every entry is [tag] EXPLICIT <one value>; check that much for all of them.
        let inner = entry.explicit_inner("AuthorizationList entry is not one value")?;
        let tag = entry.tag;
        let interpreted = matches!(
            tag,
            TAG_ROOT_OF_TRUST | TAG_OS_VERSION | TAG_OS_PATCH_LEVEL | TAG_ID_BRAND
                ..=TAG_ID_MODEL | TAG_ID_SECOND_IMEI
        );
        if !interpreted {
            continue;
        }
        if seen.contains(&tag) {
            return Err(DerError("an AuthorizationList tag appears twice"));
        }
        seen.push(tag);
        match tag {
            TAG_ROOT_OF_TRUST => list.root_of_trust = Some(root_of_trust(inner)?),
            TAG_OS_VERSION => list.os_version = Some(inner.integer("osVersion")?),
            TAG_OS_PATCH_LEVEL => list.os_patch_level = Some(inner.integer("osPatchLevel")?),
            _ => {
                let value = id_string(inner)?;
                let ids = &mut list.ids;
                let slot = match tag {
                    TAG_ID_BRAND => &mut ids.brand,
                    TAG_ID_DEVICE => &mut ids.device,
                    TAG_ID_PRODUCT => &mut ids.product,
                    TAG_ID_SERIAL => &mut ids.serial,
                    TAG_ID_IMEI => &mut ids.imei,
                    TAG_ID_MEID => &mut ids.meid,
                    TAG_ID_MANUFACTURER => &mut ids.manufacturer,
                    TAG_ID_MODEL => &mut ids.model,
                    _ => &mut ids.second_imei,
                };
                *slot = Some(value);
            }
        }
    }
    Ok(list)
}

/// An attestationId* value: an OCTET STRING holding printable UTF-8 (IMEIs, serials and
/// build properties are ASCII on every device; anything else is refused).
fn id_string(tlv: Tlv<'_>) -> Result<String, DerError> {
    let bytes = tlv.octet_string("an attestation ID is not an OCTET STRING")?;
    let s = std::str::from_utf8(bytes).map_err(|_| DerError("an attestation ID is not UTF-8"))?;
    if s.is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
        return Err(DerError(
            "an attestation ID is empty, too long or has control characters",
        ));
    }
    Ok(s.to_owned())
}

fn root_of_trust(tlv: Tlv<'_>) -> Result<RootOfTrust, DerError> {
    if tlv.class != Class::Universal || tlv.tag != TAG_SEQUENCE || !tlv.constructed {
        return Err(DerError("rootOfTrust is not a SEQUENCE"));
    }
    let mut r = tlv.children();
    let verified_boot_key = r
        .expect("verifiedBootKey missing")?
        .octet_string("verifiedBootKey is not an OCTET STRING")?
        .to_vec();
    let device_locked = r
        .expect("deviceLocked missing")?
        .boolean("deviceLocked is not a BOOLEAN")?;
    let verified_boot_state = VerifiedBootState::from_enum(
        r.expect("verifiedBootState missing")?
            .enumerated("verifiedBootState is not ENUMERATED")?,
    )?;
    let verified_boot_hash = match r.next()? {
        None => None,
        Some(t) => Some(
            t.octet_string("verifiedBootHash is not an OCTET STRING")?
                .to_vec(),
        ),
    };
    if !r.is_empty() {
        return Err(DerError("rootOfTrust has more than four fields"));
    }
    Ok(RootOfTrust {
        verified_boot_key,
        device_locked,
        verified_boot_state,
        verified_boot_hash,
    })
}
