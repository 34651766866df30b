//! The wake-up push on the device (ADR 0014): the endpoint goes to the server once, the
//! server's key is kept, a push makes at most one check-in per window, and state files
//! written before pushes existed still read.

use ring::rand::SystemRandom;

use super::*;
use crate::fixtures::{self, T0};
use crate::schedule::CHECK_NOW_EVERY_S;

const ENDPOINT: &str = "https://ntfy.example/upQ2xTk9a?up=1";
const OTHER: &str = "https://ntfy.example/upZZZ";

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn push_key() -> String {
    let mut point = [9u8; protocol::PUSH_KEY_LEN];
    point[0] = 0x04;
    b64::encode(point)
}

fn provisioned() -> DeviceState {
    let mut s = DeviceState::default();
    s.provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
        .unwrap();
    s
}

/// Enrolls; the server answers with `key` as its `push_key` member (any JSON, raw).
fn enroll(s: &mut DeviceState, key: Option<serde_json::Value>) -> Outgoing {
    let out = s
        .enroll_request(&fixtures::enroll_params(), &SystemRandom::new())
        .unwrap();
    let mut answer: serde_json::Value = serde_json::from_slice(&fixtures::enroll_answer(
        &out.nonce,
        fixtures::entitlement(1, T0),
    ))
    .unwrap();
    if let Some(key) = key {
        answer["push_key"] = key;
    }
    s.complete_enrollment(&serde_json::to_vec(&answer).unwrap(), &at(T0))
        .unwrap();
    out
}

fn enrolled() -> DeviceState {
    let mut s = provisioned();
    enroll(&mut s, None);
    s
}

/// The `push_endpoint` member of a signed request body, as sent (`None`: absent).
fn sent_endpoint(body: &str) -> Option<String> {
    let payload = jws::parse(body).unwrap().into_payload();
    let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    value
        .get("push_endpoint")
        .map(|v| v.as_str().expect("a string").to_string())
}

/// A check-in round trip at `t` answered with `push_key` (raw JSON, or absent); returns
/// what the request carried.
fn check_in(s: &mut DeviceState, t: i64, key: Option<serde_json::Value>) -> Result<Outgoing> {
    let out = s.checkin_request(&at(t), "0.1.0", &SystemRandom::new())?;
    let seq = s.enrolled()?.entitlement.seq + 1;
    let mut e = fixtures::entitlement(seq, t);
    e.nonce = Some(out.nonce.clone());
    let mut answer = serde_json::json!({ "entitlement": fixtures::sign(&e) });
    if let Some(key) = key {
        answer["push_key"] = key;
    }
    s.complete_checkin(&out, &serde_json::to_vec(&answer).unwrap(), &at(t))?;
    Ok(out)
}

#[test]
fn an_endpoint_goes_with_the_next_check_in_once() {
    let mut s = enrolled();
    assert!(s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap());
    assert!(!s.push.server_has_it());
    let first = check_in(&mut s, T0 + 20, None).unwrap();
    assert_eq!(sent_endpoint(&first.body).as_deref(), Some(ENDPOINT));
    assert!(s.push.server_has_it());
    let second = check_in(&mut s, T0 + 3_600, None).unwrap();
    assert_eq!(sent_endpoint(&second.body), None, "not on every check-in");
}

#[test]
fn the_same_endpoint_again_asks_for_nothing() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    check_in(&mut s, T0 + 20, None).unwrap();
    assert!(!s.set_push_endpoint(ENDPOINT, &at(T0 + 100)).unwrap());
    assert_eq!(
        sent_endpoint(&check_in(&mut s, T0 + 200, None).unwrap().body),
        None
    );
}

#[test]
fn no_endpoint_any_more_is_sent_as_the_empty_string() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    check_in(&mut s, T0 + 20, None).unwrap();
    assert!(s.set_push_endpoint("", &at(T0 + 100)).unwrap());
    let out = check_in(&mut s, T0 + 200, None).unwrap();
    assert_eq!(sent_endpoint(&out.body).as_deref(), Some(""));
    assert!(s.push.server_has_it());
    assert_eq!(
        sent_endpoint(&check_in(&mut s, T0 + 300, None).unwrap().body),
        None
    );
}

#[test]
fn a_device_that_never_had_an_endpoint_sends_none() {
    let mut s = enrolled();
    let out = check_in(&mut s, T0 + 20, None).unwrap();
    assert_eq!(sent_endpoint(&out.body), None);
}

#[test]
fn a_failed_check_in_sends_the_endpoint_again() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    let lost = s
        .checkin_request(&at(T0 + 20), "0.1.0", &SystemRandom::new())
        .unwrap();
    assert_eq!(sent_endpoint(&lost.body).as_deref(), Some(ENDPOINT));
    s.record_checkin_failure(&at(T0 + 25), None, 0);
    assert!(!s.push.server_has_it());
    let again = check_in(&mut s, T0 + 100, None).unwrap();
    assert_eq!(sent_endpoint(&again.body).as_deref(), Some(ENDPOINT));
}

#[test]
fn an_endpoint_that_changes_while_a_check_in_is_out_goes_with_the_next() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    let out = s
        .checkin_request(&at(T0 + 20), "0.1.0", &SystemRandom::new())
        .unwrap();
    s.set_push_endpoint(OTHER, &at(T0 + 21)).unwrap();
    let mut e = fixtures::entitlement(2, T0 + 22);
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .unwrap();
    s.complete_checkin(&out, &body, &at(T0 + 22)).unwrap();
    assert_eq!(s.push.server_endpoint, ENDPOINT);
    assert!(!s.push.server_has_it());
    let next = check_in(&mut s, T0 + 100, None).unwrap();
    assert_eq!(sent_endpoint(&next.body).as_deref(), Some(OTHER));
}

#[test]
fn enrollment_carries_the_endpoint_the_device_already_has() {
    let mut s = provisioned();
    assert!(
        !s.set_push_endpoint(ENDPOINT, &at(T0)).unwrap(),
        "not enrolled: nothing to check in"
    );
    let out = enroll(&mut s, None);
    assert_eq!(sent_endpoint(&out.body).as_deref(), Some(ENDPOINT));
    assert!(s.push.server_has_it());
    assert_eq!(
        sent_endpoint(&check_in(&mut s, T0 + 60, None).unwrap().body),
        None
    );
}

#[test]
fn enrollment_without_an_endpoint_sends_no_member() {
    let mut s = provisioned();
    let out = enroll(&mut s, None);
    assert_eq!(sent_endpoint(&out.body), None);
}

#[test]
fn a_refused_endpoint_changes_nothing() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    let before = s.clone();
    let long = format!("https://push.example/{}", "a".repeat(1024));
    for bad in [
        "http://push.example/x",
        "http://127.0.0.1:9/x",
        "ftp://push.example",
        "not a url",
        long.as_str(),
    ] {
        let e = s.set_push_endpoint(bad, &at(T0 + 20)).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidField { field, .. } if field == "push_endpoint"),
            "{bad}: {e:?}"
        );
        assert_eq!(s, before, "{bad}");
    }
}

#[test]
fn a_debug_device_may_use_a_loopback_endpoint() {
    let mut s = DeviceState::default();
    s.provision("http://127.0.0.1:8080", fixtures::pinned_keys(), true)
        .unwrap();
    s.set_push_endpoint("http://127.0.0.1:8081/push/1", &at(T0))
        .unwrap();
    let out = enroll(&mut s, None);
    assert_eq!(
        sent_endpoint(&out.body).as_deref(),
        Some("http://127.0.0.1:8081/push/1")
    );
}

#[test]
fn an_endpoint_the_current_rules_refuse_is_not_sent_and_the_check_in_works() {
    let mut s = DeviceState::default();
    s.provision("http://127.0.0.1:8080", fixtures::pinned_keys(), true)
        .unwrap();
    enroll(&mut s, None);
    s.set_push_endpoint("http://127.0.0.1:8081/push/1", &at(T0 + 5))
        .unwrap();
    s.set_server_url("https://lender.example", false).unwrap();
    let out = check_in(&mut s, T0 + 60, None).unwrap();
    assert_eq!(sent_endpoint(&out.body), None);
}

#[test]
fn the_servers_push_key_is_kept_from_enrollment_and_check_ins() {
    let mut s = provisioned();
    assert_eq!(s.push_key(), None);
    enroll(&mut s, Some(serde_json::Value::String(push_key())));
    assert_eq!(s.push_key(), Some(push_key().as_str()));
    // Absent: no change.
    check_in(&mut s, T0 + 60, None).unwrap();
    assert_eq!(s.push_key(), Some(push_key().as_str()));
    // A new one replaces it.
    let mut point = [3u8; protocol::PUSH_KEY_LEN];
    point[0] = 0x04;
    let rotated = b64::encode(point);
    check_in(&mut s, T0 + 120, Some(rotated.clone().into())).unwrap();
    assert_eq!(s.push_key(), Some(rotated.as_str()));
}

#[test]
fn a_malformed_push_key_is_ignored_and_never_fails_the_check_in() {
    let mut s = enrolled();
    check_in(&mut s, T0 + 60, Some(push_key().into())).unwrap();
    let malformed = [
        serde_json::json!(42),
        serde_json::json!(null),
        serde_json::json!({ "x": 1 }),
        serde_json::json!("not base64 !"),
        serde_json::json!(b64::encode([4u8; 33])),
        serde_json::json!(format!("{}=", push_key())),
    ];
    for (i, bad) in malformed.into_iter().enumerate() {
        let t = T0 + 120 + 60 * i as i64;
        let seq_before = s.enrolled().unwrap().entitlement.seq;
        check_in(&mut s, t, Some(bad.clone())).unwrap_or_else(|e| panic!("{bad}: {e:?}"));
        assert_eq!(
            s.enrolled().unwrap().entitlement.seq,
            seq_before + 1,
            "{bad}"
        );
        assert_eq!(s.push_key(), Some(push_key().as_str()), "{bad}");
    }
    // At enrollment too.
    let mut fresh = provisioned();
    enroll(&mut fresh, Some(serde_json::json!(7)));
    assert!(fresh.enrollment.is_some());
    assert_eq!(fresh.push_key(), None);
}

#[test]
fn a_push_makes_one_check_in_due_per_window() {
    let mut s = enrolled();
    let next = s.checkin.next_at;
    assert!(next > T0 + 100);
    assert!(s.push_arrived(&at(T0 + 100)).unwrap());
    assert_eq!(
        s.checkin.next_at,
        T0 + 100,
        "due now, even if the shell dies"
    );
    // A second push before the check-in ran: one is due already.
    assert!(!s.push_arrived(&at(T0 + 101)).unwrap());
    check_in(&mut s, T0 + 102, None).unwrap();
    assert!(!s.push_arrived(&at(T0 + 110)).unwrap(), "within the window");
    assert!(s.push_arrived(&at(T0 + 100 + CHECK_NOW_EVERY_S)).unwrap());
}

#[test]
fn a_push_while_a_check_in_is_due_changes_nothing() {
    let mut s = enrolled();
    let due = s.checkin.next_at;
    let before = s.checkin;
    assert!(!s.push_arrived(&at(due + 5)).unwrap());
    assert_eq!(s.checkin, before);
}

#[test]
fn a_new_endpoint_asks_for_a_check_in_within_the_push_window() {
    let mut s = enrolled();
    assert!(s.push_arrived(&at(T0 + 100)).unwrap());
    check_in(&mut s, T0 + 101, None).unwrap();
    assert!(
        !s.set_push_endpoint(ENDPOINT, &at(T0 + 110)).unwrap(),
        "limited like a push; the next check-in carries it"
    );
    assert_eq!(s.push.endpoint, ENDPOINT);
    assert_eq!(
        sent_endpoint(&check_in(&mut s, T0 + 200, None).unwrap().body).as_deref(),
        Some(ENDPOINT)
    );
}

#[test]
fn a_push_to_a_device_not_enrolled_or_released_does_nothing() {
    let mut s = provisioned();
    assert!(matches!(s.push_arrived(&at(T0)), Err(Error::NotEnrolled)));
    let mut released = fixtures::entitlement(1, T0);
    released.state = EntitlementState::Released;
    let mut s = fixtures::enrolled(released);
    let before = s.checkin;
    assert!(!s.push_arrived(&at(T0 + 100)).unwrap());
    assert_eq!(s.checkin, before);
}

#[test]
fn debug_output_does_not_print_the_endpoint() {
    let mut s = enrolled();
    s.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap();
    let text = format!("{s:?}");
    assert!(!text.contains("upQ2xTk9a"), "{text}");
    assert!(text.contains("server_has_it: false"));
}

#[test]
fn device_stores_a_push_and_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    d.update(|s| {
        *s = enrolled();
        Ok(())
    })
    .unwrap();
    assert!(d.set_push_endpoint(ENDPOINT, &at(T0 + 10)).unwrap());
    assert!(
        !d.push_arrived(&at(T0 + 11)).unwrap(),
        "the endpoint's check-in is due"
    );
    let reopened = Device::open(dir.path()).unwrap();
    assert_eq!(reopened.state().push.endpoint, ENDPOINT);
    assert_eq!(reopened.state().checkin.last_push, Some(T0 + 10));
    assert_eq!(reopened.state().checkin.next_at, T0 + 10);
}

#[test]
fn a_state_file_from_before_pushes_reads_without_them() {
    let mut state = provisioned();
    state
        .enroll_request(&fixtures::enroll_params(), &SystemRandom::new())
        .unwrap();
    let mut old = serde_json::to_value(&state).unwrap();
    old.as_object_mut().unwrap().remove("push");
    old["checkin"].as_object_mut().unwrap().remove("last_push");
    let pending = old["pending_enrollment"].as_object_mut().unwrap();
    pending.remove("push_endpoint");
    let text = serde_json::to_vec(&old).unwrap();
    assert!(!String::from_utf8_lossy(&text).contains("push"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(crate::store::STATE_FILE),
        crate::store::encode(&text),
    )
    .unwrap();
    let d = Device::open(dir.path()).unwrap();
    assert!(d.recovered_from().is_none());
    assert_eq!(d.state().push, PushState::default());
    assert_eq!(d.state().checkin.last_push, None);
    assert_eq!(
        d.state().pending_enrollment.as_ref().unwrap().push_endpoint,
        None
    );
    assert_eq!(d.state().provisioning, state.provisioning);
}
