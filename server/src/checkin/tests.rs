//! One test per rule of [`judge`], plus properties over arbitrary bodies.

use finlock_core::b64;
use finlock_core::jws::typ;
use finlock_core::keys::DeviceKey;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const DEVICE: &str = "dev-judged";
const NOW: i64 = 1_767_225_600;
const RULES: Rules = Rules {
    min_interval_s: 10,
    cached: false,
};

/// One key for the whole test binary (generated: the server needs no test-support keys).
fn key() -> &'static DeviceKey {
    static KEY: std::sync::OnceLock<DeviceKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| DeviceKey::generate().unwrap())
}

fn nonce(i: u8) -> String {
    b64::encode([i; 16])
}

/// An enrolled device that has been answered `seq` 3 and reported seeing 2.
fn row() -> DeviceRow {
    DeviceRow {
        device_id: DEVICE.into(),
        lender_id: "lnd-x".into(),
        created_at: NOW - 1000,
        imei_sha256: None,
        auto_reprovision: false,
        enrollment_code: None,
        currency: "KES".into(),
        plan: "{}".into(),
        reminders: None,
        total_minor: 100,
        paid_minor: 0,
        lender_locked: false,
        lock_reason: None,
        released: false,
        device_key: Some(b64::encode(key().public().bytes())),
        offline_secret: None,
        offline_counter: 5,
        enrolled_at: Some(NOW - 900),
        code_issued_at: Some(NOW - 1000),
        app_version: Some("1.0".into()),
        seq: 3,
        seq_seen: 2,
        recent_nonces: format!("{} {}", nonce(1), nonce(2)),
        last_checkin_at: Some(NOW - 60),
        extended_until: None,
        release_at: None,
    }
}

fn request() -> Value {
    json!({ "v": 1, "device_id": DEVICE, "nonce": nonce(9), "seq_seen": 3, "state": "active",
            "locked": false, "app_version": "1.1", "wall_clock": NOW, "uptime_ms": 5,
            "events": [] })
}

fn signed(payload: &Value) -> String {
    key().sign_as(DEVICE, typ::CHECKIN, payload.to_string().as_bytes())
}

fn judged(payload: &Value) -> Result<Verdict> {
    judge(&signed(payload), &row(), NOW, RULES)
}

#[test]
fn a_good_check_in_is_accepted_and_remembered() {
    let v = judged(&request()).unwrap();
    assert_eq!(v.seq_seen, 3);
    assert_eq!(v.offline_counter, 5);
    assert!(seen(&v.new_nonces, &nonce(9)));
    assert!(seen(&v.new_nonces, &nonce(1)));
    assert_eq!(v.device_key, row().device_key.unwrap());
    assert_eq!(v.allowed_if_last_before, NOW - 10);
    assert_eq!(v.request.app_version, "1.1");
}

#[test]
fn a_device_without_a_key_is_not_authenticated() {
    let mut r = row();
    r.device_key = None;
    let e = judge(&signed(&request()), &r, NOW, RULES).unwrap_err();
    assert!(matches!(e, Error::DeviceNotAuthenticated), "{e:?}");
}

#[test]
fn a_body_signed_by_another_key_is_refused() {
    let other = DeviceKey::generate().unwrap();
    let text = other.sign_as(DEVICE, typ::CHECKIN, request().to_string().as_bytes());
    let e = judge(&text, &row(), NOW, RULES).unwrap_err();
    assert_eq!(e.slug(), "bad-signature", "{e:?}");
}

#[test]
fn another_message_type_is_refused() {
    let text = key().sign_as(DEVICE, typ::ENROLL, request().to_string().as_bytes());
    let e = judge(&text, &row(), NOW, RULES).unwrap_err();
    assert_eq!(e.slug(), "wrong-typ", "{e:?}");
}

#[test]
fn a_body_naming_another_device_is_refused() {
    let mut p = request();
    p["device_id"] = json!("dev-someone-else");
    let e = judged(&p).unwrap_err();
    assert!(
        matches!(&e, Error::Invalid { field, .. } if field == "device_id"),
        "{e:?}"
    );
}

#[test]
fn a_field_rule_of_the_request_is_enforced() {
    let mut p = request();
    p["nonce"] = json!("short");
    let e = judged(&p).unwrap_err();
    assert_eq!(e.slug(), "invalid-field", "{e:?}");
}

#[test]
fn a_remembered_nonce_is_a_replay() {
    let mut p = request();
    p["nonce"] = json!(nonce(2));
    assert!(matches!(judged(&p), Err(Error::Replayed)));
}

#[test]
fn an_older_seq_seen_is_stale() {
    let mut p = request();
    p["seq_seen"] = json!(1);
    assert!(matches!(judged(&p), Err(Error::Stale)));
}

#[test]
fn a_seq_seen_ahead_is_caught_up_when_fresh_a_guard_failure_when_cached_and_bounded() {
    // Ahead of the database (restored from a backup): accepted from a fresh row, and the
    // verdict says from where, so the next seq is issued past the phone's.
    let mut p = request();
    p["seq_seen"] = json!(4);
    let v = judged(&p).expect("a restored database catches up");
    assert_eq!((v.caught_up_from, v.seq_seen), (Some(3), 4));
    p["seq_seen"] = json!(3 + MAX_SEQ_AHEAD);
    assert_eq!(judged(&p).expect("at the bound").caught_up_from, Some(3));
    // A cached row may only be behind another node: judged again from the database.
    let cached = Rules {
        cached: true,
        ..RULES
    };
    p["seq_seen"] = json!(4);
    let e = judge(&signed(&p), &row(), NOW, cached).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Conflict {
                slug: GUARD_FAILED,
                ..
            }
        ),
        "{e:?}"
    );
    // Further ahead than a restore explains: refused, so no phone pushes its seq towards
    // the protocol's limit.
    p["seq_seen"] = json!(4 + MAX_SEQ_AHEAD);
    let e = judged(&p).unwrap_err();
    assert!(
        matches!(&e, Error::Invalid { field, .. } if field == "seq_seen"),
        "{e:?}"
    );
    // Not ahead: nothing to catch up.
    p["seq_seen"] = json!(3);
    assert_eq!(judged(&p).expect("accepted").caught_up_from, None);
}

#[test]
fn check_ins_closer_than_the_limit_are_rate_limited() {
    let mut r = row();
    r.last_checkin_at = Some(NOW - 4);
    let e = judge(&signed(&request()), &r, NOW, RULES).unwrap_err();
    assert!(
        matches!(
            e,
            Error::RateLimited {
                retry_after_s: 6,
                limit_s: 10
            }
        ),
        "{e:?}"
    );
    // Exactly the interval later is allowed.
    r.last_checkin_at = Some(NOW - 10);
    assert!(judge(&signed(&request()), &r, NOW, RULES).is_ok());
}

#[test]
fn used_offline_codes_move_the_counter_past_the_highest_and_old_ones_are_ignored() {
    let mut p = request();
    p["events"] = json!([
        { "type": "offline_code_used", "counter": 4, "days": 1, "at": NOW - 5 },
        { "type": "offline_code_used", "counter": 7, "days": 3, "at": NOW - 4 },
        { "type": "offline_code_used", "counter": 5, "days": 2, "at": NOW - 3 },
        { "type": "clock_jump", "delta_s": 3600 },
        { "type": "clock_jump", "delta_s": -3600 },
    ]);
    let v = judged(&p).unwrap();
    assert_eq!(v.offline_counter, 8);
    assert_eq!(
        v.codes_used,
        [
            CodeUsed {
                counter: 7,
                days: 3,
                at: NOW - 4
            },
            CodeUsed {
                counter: 5,
                days: 2,
                at: NOW - 3
            },
        ]
    );
    assert_eq!(v.clock_jumps, 2);
}

#[test]
fn the_replay_memory_keeps_the_newest_nonces() {
    let mut list = String::new();
    for i in 0..40 {
        list = remember(&list, &format!("n{i}"));
    }
    assert_eq!(list.split(' ').count(), REMEMBERED_NONCES);
    assert!(seen(&list, "n39"));
    assert!(seen(&list, "n24"));
    assert!(!seen(&list, "n23"));
    assert!(!seen("", ""));
}

#[test]
fn bodies_over_the_jws_limit_or_not_utf8_are_refused_before_parsing() {
    let big = vec![b'a'; jws::MAX_JWS_LEN + 1];
    assert!(matches!(body_text(&big), Err(Error::PayloadTooLarge)));
    assert!(body_text(&[0xff, 0xfe]).is_err());
}

proptest! {
    /// Whatever arrives, judging never panics, and an accepted check-in never moves
    /// the stored seq_seen or offline counter back.
    #[test]
    fn judging_arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = judge(&text, &row(), NOW, RULES);
    }

    #[test]
    fn an_accepted_verdict_never_moves_anything_back(
        seq_seen in 0u64..6,
        counters in proptest::collection::vec(0u64..20, 0..6),
        last in proptest::option::of(NOW - 100..NOW + 5),
    ) {
        let mut p = request();
        p["seq_seen"] = json!(seq_seen);
        p["events"] = Value::Array(counters.iter().map(|c| json!(
            { "type": "offline_code_used", "counter": c, "days": 1, "at": NOW })).collect());
        let mut r = row();
        r.last_checkin_at = last;
        if let Ok(v) = judge(&signed(&p), &r, NOW, RULES) {
            prop_assert!(v.seq_seen >= r.seq_seen);
            prop_assert_eq!(v.caught_up_from.is_some(), v.seq_seen > r.seq);
            prop_assert!(v.offline_counter >= r.offline_counter);
            prop_assert!(last.is_none_or(|t| NOW - t >= 10));
            prop_assert!(seen(&v.new_nonces, &nonce(9)));
        }
    }
}
