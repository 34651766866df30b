//! Lender key rotation on the device (ADR 0007): a chain of key sets in an enrollment or
//! check-in answer is applied before the entitlement is judged, all or nothing.

use ring::rand::SystemRandom;

use super::*;
use crate::fixtures::{self, LENDER_ID, T0};

const SERVER: &str = fixtures::SERVER_URL;

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn enrolled() -> DeviceState {
    fixtures::enrolled(fixtures::entitlement(1, T0))
}

/// A check-in answer: `chain`, and `e` (nonce filled in) signed with `key`.
fn answer(out: &Outgoing, chain: &[String], mut e: Entitlement, key: &LenderKey) -> Vec<u8> {
    e.nonce = Some(out.nonce.clone());
    serde_json::to_vec(&crate::keyset::Chained {
        answer: protocol::CheckinResponse {
            entitlement: e.sign(key).unwrap(),
            push_key: None,
        },
        keys: chain.to_vec(),
    })
    .unwrap()
}

fn check_in(
    s: &mut DeviceState,
    t: i64,
    chain: &[String],
    seq: u64,
    key: &LenderKey,
) -> Result<Evaluation> {
    let out = s.checkin_request(&at(t), "0.1.0", &SystemRandom::new())?;
    let body = answer(&out, chain, fixtures::entitlement(seq, t), key);
    s.complete_checkin(&out, &body, &at(t))
}

fn pinned_seq(s: &DeviceState) -> u64 {
    s.provisioning.as_ref().unwrap().lender_keys.keys_seq()
}

/// The request payload a body carries (the signature is the core's own).
fn payload(body: &str) -> serde_json::Value {
    let part = body.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64::decode(part).unwrap()).unwrap()
}

use crate::keys::LenderKey;

#[test]
fn three_rotations_behind_catch_up_in_one_check_in() {
    let mut s = enrolled();
    let newest = fixtures::rotated_key(3);
    check_in(&mut s, T0 + 60, &fixtures::rotation_chain(3), 2, &newest).unwrap();
    assert_eq!(pinned_seq(&s), 3);
    let pinned = &s.provisioning.as_ref().unwrap().lender_keys;
    assert!(pinned.find(newest.kid()).is_some());
    assert!(pinned.find(fixtures::LENDER_KID).is_none());
    assert_eq!(s.enrolled().unwrap().entitlement.seq, 2);
    // The next request says where the device is; an empty chain keeps it there.
    let out = s
        .checkin_request(&at(T0 + 120), "0.1.0", &SystemRandom::new())
        .unwrap();
    assert_eq!(payload(&out.body)["keys_seq"], 3);
    let body = answer(&out, &[], fixtures::entitlement(3, T0 + 120), &newest);
    s.complete_checkin(&out, &body, &at(T0 + 120)).unwrap();
    assert_eq!(pinned_seq(&s), 3);
}

#[test]
fn requests_omit_keys_seq_when_never_rotated() {
    let mut s = enrolled();
    let out = s
        .checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new())
        .unwrap();
    assert!(payload(&out.body).get("keys_seq").is_none());
    let mut fresh = DeviceState::default();
    fresh
        .provision(SERVER, fixtures::pinned_keys(), false)
        .unwrap();
    let out = fresh
        .enroll_request(&fixtures::enroll_params(), &SystemRandom::new())
        .unwrap();
    assert!(payload(&out.body).get("keys_seq").is_none());
    let mut later = DeviceState::default();
    later
        .provision(SERVER, fixtures::pinned_keys().with_keys_seq(4), false)
        .unwrap();
    let out = later
        .enroll_request(&fixtures::enroll_params(), &SystemRandom::new())
        .unwrap();
    assert_eq!(payload(&out.body)["keys_seq"], 4);
}

#[test]
fn an_entitlement_signed_by_the_new_key_without_the_chain_is_refused() {
    let mut s = enrolled();
    let before = s.clone();
    let e = check_in(&mut s, T0 + 60, &[], 2, &fixtures::rotated_key(1)).unwrap_err();
    assert!(matches!(e, Error::JwsUnknownKid));
    assert_eq!(s.provisioning, before.provisioning);
    assert_eq!(
        s.enrolled().unwrap().entitlement,
        before.enrolled().unwrap().entitlement
    );
}

#[test]
fn a_bad_link_anywhere_changes_nothing() {
    let mut s = enrolled();
    let before = s.clone();
    let mut chain = fixtures::rotation_chain(3);
    // Link 3 signed by a key that is not in set 2.
    chain[2] = fixtures::key_set(3, &[&fixtures::rotated_key(3)], &fixtures::rotated_key(9));
    let e = check_in(&mut s, T0 + 60, &chain, 2, &fixtures::rotated_key(3)).unwrap_err();
    assert!(matches!(e, Error::JwsUnknownKid), "{e:?}");
    assert_eq!(s.provisioning, before.provisioning);
    // A valid chain with an entitlement that fails its own rules: nothing either.
    let e = check_in(
        &mut s,
        T0 + 60,
        &fixtures::rotation_chain(2),
        1, // not newer than the stored seq 1
        &fixtures::rotated_key(2),
    )
    .unwrap_err();
    assert!(matches!(e, Error::StaleSeq { .. }), "{e:?}");
    assert_eq!(pinned_seq(&s), 0);
    assert_eq!(s.provisioning, before.provisioning);
}

#[test]
fn a_retired_key_signs_nothing_once_the_device_caught_up() {
    let mut s = enrolled();
    let leaked = fixtures::lender_key();
    let fresh = fixtures::rotated_key(1);
    // The retire set holds only the fresh key (signed by the leaked one: the only key
    // of set 0 the lender has).
    let retire = fixtures::key_set(1, &[&fresh], &leaked);
    check_in(&mut s, T0 + 60, &[retire], 2, &fresh).unwrap();
    assert_eq!(pinned_seq(&s), 1);
    // Whoever holds the leaked key can neither sign an entitlement …
    let e = check_in(&mut s, T0 + 120, &[], 3, &leaked).unwrap_err();
    assert!(matches!(e, Error::JwsUnknownKid), "{e:?}");
    // … nor a competing set 1, nor a set 2.
    let forged = fixtures::key_set(1, &[&fixtures::rotated_key(7)], &leaked);
    let e = check_in(&mut s, T0 + 180, &[forged], 3, &fixtures::rotated_key(7)).unwrap_err();
    assert!(matches!(e, Error::JwsUnknownKid), "{e:?}");
    let forged = fixtures::key_set(2, &[&fixtures::rotated_key(7)], &leaked);
    let e = check_in(&mut s, T0 + 240, &[forged], 3, &fixtures::rotated_key(7)).unwrap_err();
    assert!(matches!(e, Error::JwsUnknownKid), "{e:?}");
    assert_eq!(pinned_seq(&s), 1);
    check_in(&mut s, T0 + 300, &[], 3, &fresh).unwrap();
}

#[test]
fn nothing_is_accepted_after_release_not_even_a_chain() {
    let mut s = enrolled();
    let mut released = fixtures::entitlement(2, T0 + 60);
    released.state = EntitlementState::Released;
    let out = s
        .checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new())
        .unwrap();
    let body = answer(&out, &[], released, &fixtures::lender_key());
    s.complete_checkin(&out, &body, &at(T0 + 60)).unwrap();
    let before = s.clone();
    let e = check_in(
        &mut s,
        T0 + 120,
        &fixtures::rotation_chain(1),
        3,
        &fixtures::rotated_key(1),
    )
    .unwrap_err();
    assert!(matches!(e, Error::AlreadyReleased));
    assert_eq!(s.provisioning, before.provisioning);
}

#[test]
fn a_phone_provisioned_from_a_stale_qr_catches_up_at_enrollment() {
    let mut s = DeviceState::default();
    s.provision(SERVER, fixtures::pinned_keys(), false).unwrap();
    let out = s
        .enroll_request(&fixtures::enroll_params(), &SystemRandom::new())
        .unwrap();
    let mut first = fixtures::entitlement(1, T0);
    first.nonce = Some(out.nonce.clone());
    let newest = fixtures::rotated_key(2);
    let answer = |chain: Vec<String>, e: &Entitlement| {
        serde_json::to_vec(&crate::keyset::Chained {
            answer: protocol::EnrollResponse {
                device_id: fixtures::DEVICE_ID.into(),
                entitlement: e.sign(&newest).unwrap(),
                offline_secret: b64::encode(fixtures::OFFLINE_SECRET),
                push_key: None,
            },
            keys: chain,
        })
        .unwrap()
    };
    // Without the chain the answer cannot be used; with another lender's chain neither.
    let before = s.clone();
    assert!(matches!(
        s.complete_enrollment(&answer(vec![], &first), &at(T0)),
        Err(Error::JwsUnknownKid)
    ));
    let mut other = first.clone();
    other.iss = "other-lender".into();
    assert!(matches!(
        s.complete_enrollment(&answer(fixtures::rotation_chain(2), &other), &at(T0)),
        Err(Error::WrongIssuer)
    ));
    assert_eq!(s, before);
    s.complete_enrollment(&answer(fixtures::rotation_chain(2), &first), &at(T0))
        .unwrap();
    assert_eq!(pinned_seq(&s), 2);
    assert_eq!(s.enrolled().unwrap().lender_id, LENDER_ID);
}

#[test]
fn a_state_written_before_rotation_existed_still_loads() {
    // Enrolled at set 0, the stored state has no `keys_seq` anywhere: exactly what the
    // previous version wrote. Store it, open it as a device, and rotate.
    let dir = tempfile::tempdir().unwrap();
    let state = enrolled();
    let body = serde_json::to_vec(&state).unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("keys_seq"));
    std::fs::write(
        dir.path().join(crate::store::STATE_FILE),
        crate::store::encode(&body),
    )
    .unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    assert!(d.recovered_from().is_none());
    assert_eq!(d.state(), &state);
    assert_eq!(pinned_seq(d.state()), 0);
    let out = d
        .update(|s| s.checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new()))
        .unwrap();
    let body = answer(
        &out,
        &fixtures::rotation_chain(1),
        fixtures::entitlement(2, T0 + 60),
        &fixtures::rotated_key(1),
    );
    d.update(|s| s.complete_checkin(&out, &body, &at(T0 + 60)))
        .unwrap();
    let reopened = Device::open(dir.path()).unwrap();
    assert_eq!(pinned_seq(reopened.state()), 1);
}
