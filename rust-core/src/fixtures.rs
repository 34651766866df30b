//! Deterministic keys and messages for tests, the conformance vectors and examples.
//!
//! Every key here is derived from a published seed, so none of them may ever be
//! used for a real device or lender.

use std::collections::BTreeMap;

use crate::keys::{DeviceKey, KeySet, LenderKey};
use crate::protocol::{
    Account, Entitlement, EntitlementState, Installment, InstallmentStatus, LenderInfo,
    ReminderPolicy, VERSION,
};

pub const LENDER_ID: &str = "acme-credit";
pub const DEVICE_ID: &str = "dev-0001";
pub const LENDER_KID: &str = "acme-2026";
/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600;
pub const DAY: i64 = 86_400;
pub const OFFLINE_SECRET: [u8; 32] = [0x5e; 32];

/// The lender key the fixture device pins.
pub fn lender_key() -> LenderKey {
    LenderKey::from_seed(&[0x11; 32], Some(LENDER_KID.into())).expect("fixed seed")
}

/// A key that claims the same `kid` but is not pinned: an impostor.
pub fn impostor_key() -> LenderKey {
    LenderKey::from_seed(&[0x22; 32], Some(LENDER_KID.into())).expect("fixed seed")
}

/// A second genuine-looking lender with its own key and id.
pub fn other_lender_key() -> LenderKey {
    LenderKey::from_seed(&[0x44; 32], Some("other-2026".into())).expect("fixed seed")
}

pub fn device_key() -> DeviceKey {
    DeviceKey::from_seed(&[0x33; 32], None).expect("fixed seed")
}

pub fn pinned_keys() -> KeySet {
    KeySet::new(vec![lender_key().public()]).expect("one key")
}

/// A valid, active entitlement: a 12-installment monthly plan starting at [`T0`],
/// the first two paid, locking 7 days after the third falls due.
pub fn entitlement(seq: u64, iat: i64) -> Entitlement {
    let installments = (0..12)
        .map(|i| Installment {
            due: T0 + (i + 1) * 30 * DAY,
            amount_minor: 250_000,
            status: if i < 2 {
                InstallmentStatus::Paid
            } else {
                InstallmentStatus::Due
            },
        })
        .collect::<Vec<_>>();
    let third_due = installments[2].due;
    Entitlement {
        v: VERSION,
        iss: LENDER_ID.into(),
        sub: DEVICE_ID.into(),
        seq,
        iat,
        nonce: None,
        state: EntitlementState::Active,
        lock_at: third_due + 7 * DAY,
        lock_reason: None,
        release_at: None,
        next_checkin: iat + 6 * 3600,
        offline_lock_after_s: Some(30 * DAY as u64),
        offline_warning_s: Some(3 * DAY as u64),
        account: Account {
            currency: "PHP".into(),
            amount_due_minor: 250_000,
            next_due: Some(third_due),
            installments,
        },
        reminders: ReminderPolicy {
            offsets_s: vec![3 * DAY, DAY],
            hour_local: 9,
            quiet_start: "21:00".into(),
            quiet_end: "08:00".into(),
            overdue_every_s: DAY as u64,
        },
        lender: LenderInfo {
            name: "Acme Credit".into(),
            phone: "+639171234567".into(),
            email: Some("help@acme-credit.example".into()),
            payment_url: "https://pay.acme-credit.example/p".into(),
            support_url: Some("https://acme-credit.example/help".into()),
            terms_url: None,
            payment_instructions: Some(BTreeMap::from([(
                "en".to_string(),
                "GCash: pay to 0917 123 4567, reference = your account number".to_string(),
            )])),
        },
        message: Some(BTreeMap::from([
            (
                "en".to_string(),
                "Thank you for paying on time.".to_string(),
            ),
            (
                "fil".to_string(),
                "Salamat sa pagbabayad sa tamang oras.".to_string(),
            ),
        ])),
        escalation: None,
    }
}

/// Signs with the pinned lender key.
pub fn sign(e: &Entitlement) -> String {
    e.sign(&lender_key()).expect("fixture serializes")
}

/// The server URL fixture devices are provisioned with.
pub const SERVER_URL: &str = "https://lender.example";

/// An honest phone's clocks at `t`: wall clock = `t`, monotonic clock counted from
/// [`T0`], one boot.
pub fn clock_at(t: i64) -> crate::clock::ClockInput {
    crate::clock::ClockInput {
        wall_ms: t.saturating_mul(1000),
        uptime_ms: u64::try_from(t.saturating_sub(T0).saturating_mul(1000)).unwrap_or(0),
        boot: 1,
    }
}

/// The shell displays the notice page at `t` on the [`clock_at`] clocks; the device must be
/// at the notice level with nothing recorded yet (every lock needs a displayed notice at
/// least a day of uptime earlier, ADR 0017).
pub fn show_notice(s: &mut crate::device::DeviceState, t: i64) {
    let recorded = s
        .notice_shown(&clock_at(t))
        .expect("fixture device is enrolled");
    assert!(recorded, "no notice to record at {t}");
}

/// What a fixture phone sends at enrollment.
pub fn enroll_params() -> crate::device::EnrollParams {
    crate::device::EnrollParams {
        enrollment_code: Some("CODE-1234".into()),
        imei: Some("490154203237518".into()),
        serial: None,
        model: "Pixel 3a".into(),
        android_sdk: 34,
        app_version: "0.1.0".into(),
    }
}

/// The lender's answer to an enrollment: `first`, echoing `nonce`, signed with the pinned key.
pub fn enroll_answer(nonce: &str, mut first: Entitlement) -> Vec<u8> {
    first.nonce = Some(nonce.to_string());
    serde_json::to_vec(&crate::protocol::EnrollResponse {
        device_id: DEVICE_ID.into(),
        entitlement: sign(&first),
        offline_secret: crate::b64::encode(OFFLINE_SECRET),
        push_key: None,
    })
    .expect("fixture serializes")
}

/// A device provisioned with [`pinned_keys`] and enrolled with `first` (at its `iat`).
pub fn enrolled(first: Entitlement) -> crate::device::DeviceState {
    let mut s = crate::device::DeviceState::default();
    s.provision(SERVER_URL, pinned_keys(), false)
        .expect("fixture provisions");
    let out = s
        .enroll_request(&enroll_params(), &ring::rand::SystemRandom::new())
        .expect("fixture enroll request");
    let at = clock_at(first.iat);
    s.complete_enrollment(&enroll_answer(&out.nonce, first), &at)
        .expect("fixture enrollment completes");
    s
}

/// The pinned lender key under the name rotated sets give it: its thumbprint.
pub fn lender_key_by_thumbprint() -> LenderKey {
    LenderKey::from_seed(&[0x11; 32], None).expect("fixed seed")
}

/// The lender's key after `n` rotations (ADR 0007), known by its thumbprint like every
/// key of a rotated set.
pub fn rotated_key(n: u8) -> LenderKey {
    LenderKey::from_seed(&[0x60_u8.wrapping_add(n); 32], None).expect("fixed seed")
}

/// A `finlock-keys+jws` message: set `keys_seq` holding `keys`, signed by `signer`.
pub fn key_set(keys_seq: u64, keys: &[&LenderKey], signer: &LenderKey) -> String {
    crate::keyset::KeySetPayload {
        v: VERSION,
        iss: LENDER_ID.into(),
        keys_seq,
        iat: T0,
        // A rotated set names every key by its thumbprint, whatever `kid` it had before.
        keys: keys
            .iter()
            .map(|k| crate::keys::Jwk {
                kid: Some(k.public().thumbprint()),
                ..k.public().to_jwk()
            })
            .collect(),
    }
    .sign(signer)
    .expect("fixture serializes")
}

/// `n` ordinary rotations from the pinned set: set *k* = [key *k*, key *k − 1*], signed
/// by key *k − 1* (the pinned key for set 1).
pub fn rotation_chain(n: u8) -> Vec<String> {
    (1..=n)
        .map(|k| {
            let signer = if k == 1 {
                lender_key()
            } else {
                rotated_key(k - 1)
            };
            key_set(u64::from(k), &[&rotated_key(k), &signer], &signer)
        })
        .collect()
}
