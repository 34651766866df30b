//! The server's pure check-in judgement (`finlock_server::checkin::judge`, PROTOCOL §3.2)
//! over arbitrary bodies and stored rows.
//!
//! Flags byte: bit 0 the mode (0: part 0 is the body as received, through the same
//! `body_text` the endpoint uses; 1: part 0 is a check-in *payload*, signed here with
//! the fixture device's key so the JSON and the rules decide); bit 1 the row came from
//! the node's cache; bit 2 no earlier check-in; bits 3-4 the row's `seq`/`seq_seen`;
//! bit 5 the row has no key (never enrolled); bits 6-7 how long since the last check-in.
//!
//! Invariants: no panic; an accepted check-in verified under the row's key, passes the
//! request's field rules, names the row's device, is not a remembered nonce, reports a
//! `seq_seen` no older than what the device reported before and ahead of what it was
//! issued only on a fresh row, by at most `MAX_SEQ_AHEAD`, recorded as a catch-up
//! (a database restored from a backup), respects the rate limit; the replay memory then holds its
//! nonce and at most 16; the offline counter only moves forward, past every code used.
#![no_main]

use finlock_core::b64;
use finlock_core::fixtures::{self, DEVICE_ID, T0};
use finlock_core::jws::{self, typ};
use finlock_core::keys::PublicKey;
use finlock_fuzz::split;
use finlock_server::checkin::{MAX_SEQ_AHEAD, REMEMBERED_NONCES, Rules, body_text, judge, seen};
use finlock_server::db::queries::DeviceRow;
use libfuzzer_sys::fuzz_target;

const MIN_INTERVAL_S: u64 = 10;

fn row(flags: u8) -> DeviceRow {
    let (seq, seq_seen) = match (flags >> 3) & 3 {
        0 => (5, 4),
        1 => (5, 5),
        2 => (0, 0),
        _ => (u64::MAX, u64::MAX - 1),
    };
    let since = [60, 5, 10, 0][usize::from(flags >> 6)];
    DeviceRow {
        device_id: DEVICE_ID.into(),
        lender_id: fixtures::LENDER_ID.into(),
        created_at: T0 - 1000,
        imei_sha256: None,
        auto_reprovision: false,
        enrollment_code: None,
        currency: "PHP".into(),
        plan: "{}".into(),
        reminders: None,
        total_minor: 3_000_000,
        paid_minor: 0,
        lender_locked: false,
        lock_reason: None,
        released: false,
        device_key: (flags & 0x20 == 0)
            .then(|| b64::encode(finlock_fuzz::device_key().public().bytes())),
        offline_secret: Some(b64::encode(fixtures::OFFLINE_SECRET)),
        offline_counter: 3,
        enrolled_at: Some(T0 - 900),
        code_issued_at: Some(T0 - 1000),
        app_version: Some("0.1.0".into()),
        seq,
        seq_seen,
        recent_nonces: format!("{} {}", b64::encode([1u8; 16]), b64::encode([2u8; 16])),
        last_checkin_at: (flags & 4 == 0).then_some(T0 - since),
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
        finlock_fuzz::device_key().sign_as(DEVICE_ID, typ::CHECKIN, part)
    };
    let row = row(flags);
    let rules = Rules {
        min_interval_s: MIN_INTERVAL_S,
        cached: flags & 2 != 0,
    };
    let Ok(v) = judge(&body, &row, T0, rules) else {
        return;
    };
    let key_b64 = row.device_key.as_deref().expect("accepted without a key");
    assert_eq!(v.device_key, key_b64);
    let key = PublicKey::from_bytes(b64::decode_array(key_b64).expect("32 bytes"), None)
        .expect("the row's key");
    jws::parse(&body)
        .expect("accepted what the JWS parser refuses")
        .verify_with(&key)
        .expect("accepted a body the device key did not sign");
    let r = &v.request;
    r.validate()
        .expect("accepted a request that breaks a field rule");
    assert_eq!(r.device_id, row.device_id);
    assert!(
        !seen(&row.recent_nonces, &r.nonce),
        "a replayed nonce was accepted"
    );
    assert!(seen(&v.new_nonces, &r.nonce));
    assert!(v.new_nonces.split(' ').count() <= REMEMBERED_NONCES);
    assert!(
        r.seq_seen >= row.seq_seen,
        "an older report than the last was accepted"
    );
    if r.seq_seen > row.seq {
        // Ahead of what this row issued: only a row fresh from a restored database, and
        // only by a bounded amount, with the catch-up recorded.
        assert!(!rules.cached, "a cached row answered a phone ahead of it");
        assert!(r.seq_seen - row.seq <= MAX_SEQ_AHEAD, "caught up too far");
        assert_eq!(v.caught_up_from, Some(row.seq));
    } else {
        assert_eq!(v.caught_up_from, None);
    }
    assert_eq!(v.seq_seen, r.seq_seen);
    if let Some(last) = row.last_checkin_at {
        assert!(T0 - last >= MIN_INTERVAL_S as i64, "rate limit not applied");
    }
    assert!(v.offline_counter >= row.offline_counter);
    for used in &v.codes_used {
        assert!(used.counter >= row.offline_counter);
        assert!(v.offline_counter > used.counter || used.counter == u64::MAX);
    }
});
