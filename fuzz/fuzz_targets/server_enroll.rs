//! The server's enrollment reading and judgement (`finlock_server::enrollment::{read,
//! judge}`, PROTOCOL §3.1) over arbitrary bodies, rows and proofs.
//!
//! Flags byte: bit 0 the mode (0: part 0 is the body as received; 1: part 0 is an
//! enrollment *payload*, signed here with the fixture device key under its thumbprint,
//! so the JSON decides); bits 1-2 the row (never enrolled; enrolled with this key;
//! enrolled with another key; the same, released); bit 3 `auto_reprovision`; bit 4 the
//! code was reissued after the binding; bit 5 the binding is recent and never checked in.
//!
//! Invariants: no panic; an enrollment `read` accepts verifies under the key it
//! carries and passes the request's field rules; `judge` never binds a remembered nonce,
//! never binds a new key to a released device, never lets an attestation override a
//! device that does not allow re-provisioning, and a binding to an unenrolled row or
//! with a new key starts the device's memory over.
#![no_main]

use finlock_core::b64;
use finlock_core::fixtures::{self, DEVICE_ID, T0};
use finlock_core::jws::{self, typ};
use finlock_core::keys::KeySet;
use finlock_fuzz::split;
use finlock_server::checkin::{body_text, seen};
use finlock_server::db::queries::DeviceRow;
use finlock_server::enrollment::{Proof, judge, read};
use libfuzzer_sys::fuzz_target;

fn row(flags: u8, own_key: &str) -> DeviceRow {
    let other = b64::encode([7u8; 32]);
    let (device_key, released) = match (flags >> 1) & 3 {
        0 => (None, false),
        1 => (Some(own_key.to_string()), false),
        2 => (Some(other), false),
        _ => (Some(other), true),
    };
    let enrolled_at = device_key.as_ref().map(|_| {
        if flags & 0x20 != 0 {
            T0 - 60
        } else {
            T0 - 7200
        }
    });
    DeviceRow {
        device_id: DEVICE_ID.into(),
        lender_id: fixtures::LENDER_ID.into(),
        created_at: T0 - 10_000,
        imei_sha256: Some(finlock_core::protocol::imei_sha256("490154203237518")),
        auto_reprovision: flags & 8 != 0,
        enrollment_code: Some("CODE-1234".into()),
        currency: "PHP".into(),
        plan: "{}".into(),
        reminders: None,
        total_minor: 3_000_000,
        paid_minor: 0,
        lender_locked: false,
        lock_reason: None,
        released,
        device_key,
        offline_secret: None,
        offline_counter: 0,
        enrolled_at,
        code_issued_at: Some(if flags & 0x10 != 0 {
            T0 - 30
        } else {
            T0 - 9000
        }),
        app_version: None,
        seq: 1,
        seq_seen: 1,
        recent_nonces: b64::encode([1u8; 16]),
        last_checkin_at: None,
        extended_until: None,
        release_at: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let (flags, parts) = split(data);
    let part = parts.first().copied().unwrap_or_default();
    let body = if flags & 1 == 0 {
        match body_text(part) {
            Ok(text) => text.to_string(),
            Err(_) => return,
        }
    } else {
        let key = finlock_fuzz::device_key();
        key.sign_as(&key.public().thumbprint(), typ::ENROLL, part)
    };
    let Ok(enroll) = read(&body) else {
        return;
    };
    enroll
        .request
        .validate()
        .expect("read accepted a request that breaks a field rule");
    let carried = KeySet::new(vec![enroll.key.clone()]).expect("one key");
    jws::verify(&body, typ::ENROLL, &carried)
        .expect("read accepted a body its own key did not sign");
    let own_key = b64::encode(enroll.key.bytes());
    let row = row(flags, &own_key);
    for proof in [Proof::Code, Proof::Approved, Proof::Attested] {
        let Ok(binding) = judge(&enroll, &row, proof, T0) else {
            continue;
        };
        assert!(
            !seen(&row.recent_nonces, &enroll.request.nonce),
            "replay bound"
        );
        match row.device_key.as_deref() {
            None => assert!(binding.rebind),
            Some(k) if k == own_key => assert!(!binding.rebind),
            Some(_) => {
                assert!(binding.rebind);
                assert!(!row.released, "a new key bound to a released device");
                if proof == Proof::Attested {
                    assert!(
                        row.auto_reprovision,
                        "attestation overrode the device's rule"
                    );
                }
            }
        }
    }
});
