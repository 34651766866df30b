//! What the fuzz targets share: how an input is cut into parts, the fixture device and
//! keys the inputs are judged against, and the signing that lets a mutated payload get
//! past the signature to the layers behind it.
//!
//! # Input layout
//! Byte 0 is a flags byte each target reads in its own way (a mode, a stored state);
//! the rest is split at every NUL byte into parts. NUL never occurs in JSON text or in a
//! compact JWS, so a seed reads as "flags, then one message per part", and libFuzzer's
//! mutations of the separator move, merge or split parts.
//!
//! # Re-signing
//! Most bytes a fuzzer invents fail the Ed25519 check, which would leave the payload,
//! field and acceptance rules unexplored. The targets therefore also take *payloads* and
//! sign them here with the key the fixture device pins (or the key a rotation chain
//! moved it to), exactly as a lender would: what is judged is then the JSON, not luck.

use std::sync::OnceLock;

use finlock_core::b64;
use finlock_core::clock::ClockInput;
use finlock_core::fixtures;
use finlock_core::jws;
use finlock_core::keys::{DeviceKey, KeySet, LenderKey};

/// Splits `data` into the flags byte and the NUL-separated parts after it.
pub fn split(data: &[u8]) -> (u8, Vec<&[u8]>) {
    match data.split_first() {
        None => (0, Vec::new()),
        Some((flags, rest)) => (*flags, rest.split(|b| *b == 0).collect()),
    }
}

/// The inverse of [`split`], for the seed generator.
pub fn join(flags: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![flags];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(part);
    }
    out
}

/// Bytes as text the way a receiver that got them off the wire would see them: invalid
/// UTF-8 replaced, so the parsers still run on everything else.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The nonce of the check-in (or enrollment) the fixture device has outstanding.
pub fn nonce() -> String {
    b64::encode([0xa5; 16])
}

/// The fixture device's trusted clocks one day after [`fixtures::T0`].
pub fn clock() -> ClockInput {
    fixtures::clock_at(fixtures::T0 + fixtures::DAY)
}

/// The key that signs set `n + 1` of a rotation chain (and the entitlement once the
/// device is at set `n`): the pinned key for set 0, else the fixtures' rotated key `n`.
/// Made once: deriving an Ed25519 key from its seed costs more than the rest of a run.
pub fn signer_at(n: usize) -> &'static LenderKey {
    static KEYS: OnceLock<Vec<LenderKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..=SIGNERS)
            .map(|n| match n {
                0 => fixtures::lender_key(),
                n => fixtures::rotated_key(n),
            })
            .collect()
    });
    &keys[n.min(usize::from(SIGNERS))]
}

/// How many rotated keys [`signer_at`] knows; a longer chain than any device accepts.
const SIGNERS: u8 = 16;

/// The fixture device's own key, made once.
pub fn device_key() -> &'static DeviceKey {
    static KEY: OnceLock<DeviceKey> = OnceLock::new();
    KEY.get_or_init(fixtures::device_key)
}

/// The fixture device's pinned lender keys (set 0), made once.
pub fn pinned_keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(fixtures::pinned_keys)
}

/// Signs `payloads` as the chain of `finlock-keys+jws` links a device at set `from`
/// is sent: set `from + k` (from 1) by [`signer_at`]`(from + k - 1)`, as
/// [`fixtures::rotation_chain`] does from set 0.
pub fn sign_chain(from: usize, payloads: &[&[u8]]) -> Vec<String> {
    payloads
        .iter()
        .enumerate()
        .map(|(k, p)| signer_at(from + k).sign_compact(jws::typ::KEYS, p))
        .collect()
}

/// Signs an entitlement payload with the key of set `keys_seq`.
pub fn sign_entitlement(payload: &[u8], keys_seq: usize) -> String {
    signer_at(keys_seq).sign_compact(jws::typ::ENTITLEMENT, payload)
}

/// A JSON array of strings, for the `keys` member of an answer.
pub fn json_strings(items: &[String]) -> serde_json::Value {
    serde_json::Value::Array(items.iter().cloned().map(Into::into).collect())
}
