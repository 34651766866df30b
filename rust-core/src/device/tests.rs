use ring::rand::SystemRandom;

use super::*;
use crate::decision::Level;
use crate::fixtures::{self, DAY, DEVICE_ID, LENDER_ID, OFFLINE_SECRET, T0};
use crate::keys::PublicKey;
use crate::protocol::LockReason;

const SERVER: &str = fixtures::SERVER_URL;

fn at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn params() -> EnrollParams {
    fixtures::enroll_params()
}

fn provisioned() -> DeviceState {
    let mut s = DeviceState::default();
    s.provision(SERVER, fixtures::pinned_keys(), false).unwrap();
    s
}

/// What a lender's server answers to an enrollment.
fn enroll_answer(nonce: &str, mutate: impl FnOnce(&mut Entitlement)) -> Vec<u8> {
    let mut e = fixtures::entitlement(1, T0);
    mutate(&mut e);
    fixtures::enroll_answer(nonce, e)
}

fn enrolled() -> DeviceState {
    let mut s = provisioned();
    let out = s.enroll_request(&params(), &SystemRandom::new()).unwrap();
    s.complete_enrollment(&enroll_answer(&out.nonce, |_| {}), &at(T0))
        .unwrap();
    s
}

/// A check-in round trip where the server answers with `e` (nonce filled in).
fn checkin(s: &mut DeviceState, t: i64, mut e: Entitlement) -> Result<Evaluation> {
    let out = s.checkin_request(&at(t), "0.1.0", &SystemRandom::new())?;
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .unwrap();
    s.complete_checkin(&out, &body, &at(t))
}

#[test]
fn enrollment_binds_lender_and_device_and_anchors_time() {
    let s = enrolled();
    let en = s.enrolled().unwrap();
    assert_eq!(en.lender_id, LENDER_ID);
    assert_eq!(en.device_id, DEVICE_ID);
    assert_eq!(en.entitlement.seq, 1);
    assert!(s.pending_enrollment.is_none());
    assert_eq!(s.clock.verified.unwrap().time_ms, T0 * 1000);
}

#[test]
fn enroll_request_is_signed_by_the_new_key_under_its_thumbprint() {
    let mut s = provisioned();
    let out = s.enroll_request(&params(), &SystemRandom::new()).unwrap();
    let parsed = jws::parse(&out.body).unwrap();
    let payload = parsed.into_payload();
    let req: EnrollRequest = protocol::decode_payload(&payload).unwrap();
    let key = PublicKey::from_jwk(&req.device_key).unwrap();
    let set = KeySet::new(vec![key.clone()]).unwrap();
    jws::verify(&out.body, jws::typ::ENROLL, &set).unwrap();
    assert_eq!(key.kid(), key.thumbprint());
    assert_eq!(req.nonce, out.nonce);
    assert_eq!(
        req.imei_sha256.as_deref(),
        Some(protocol::imei_sha256("490154203237518").as_str())
    );
    assert!(
        !payload.windows(15).any(|w| w == b"490154203237518"),
        "IMEI travels hashed only"
    );
}

/// The `imei_sha256` an enrollment request carries for `imei`.
fn sent_imei_hash(imei: &str) -> Result<Option<String>> {
    let mut s = provisioned();
    let params = EnrollParams {
        imei: Some(imei.into()),
        ..params()
    };
    let out = s.enroll_request(&params, &SystemRandom::new())?;
    let payload = jws::parse(&out.body).unwrap().into_payload();
    Ok(protocol::decode_payload::<EnrollRequest>(&payload)
        .unwrap()
        .imei_sha256)
}

#[test]
fn the_phone_hashes_the_canonical_imei_as_the_lender_does() {
    let registered = protocol::Imei::parse("49-015420-323751-8")
        .unwrap()
        .sha256();
    for reported in [
        "490154203237518",
        "49 015420 323751 8",
        "49-015420-323751-8",
    ] {
        assert_eq!(
            sent_imei_hash(reported).unwrap().as_deref(),
            Some(registered.as_str()),
            "{reported}"
        );
    }
}

#[test]
fn an_imei_that_is_not_one_is_refused_and_changes_nothing() {
    let mut s = provisioned();
    let before = s.clone();
    let params = EnrollParams {
        imei: Some("unknown".into()),
        ..params()
    };
    match s.enroll_request(&params, &SystemRandom::new()) {
        Err(Error::InvalidField { field, .. }) => assert_eq!(field, "imei"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s, before);
    assert!(matches!(
        sent_imei_hash("35209900176148A"),
        Err(Error::InvalidField { .. })
    ));
}

#[test]
fn enroll_retry_keeps_the_key_and_changes_the_nonce() {
    let mut s = provisioned();
    let a = s.enroll_request(&params(), &SystemRandom::new()).unwrap();
    let b = s.enroll_request(&params(), &SystemRandom::new()).unwrap();
    let key = |o: &Outgoing| {
        let p = jws::parse(&o.body).unwrap().into_payload();
        protocol::decode_payload::<EnrollRequest>(&p)
            .unwrap()
            .device_key
    };
    assert_eq!(key(&a), key(&b));
    assert_ne!(a.nonce, b.nonce);
    // The answer must echo the latest nonce.
    let before = s.clone();
    let e = s
        .complete_enrollment(&enroll_answer(&a.nonce, |_| {}), &at(T0))
        .unwrap_err();
    assert!(matches!(e, Error::NonceMismatch));
    assert_eq!(s, before);
}

#[test]
fn rejected_enrollment_answers_change_nothing() {
    let mut s = provisioned();
    let out = s.enroll_request(&params(), &SystemRandom::new()).unwrap();
    let before = s.clone();
    let wrong_sub = enroll_answer(&out.nonce, |e| e.sub = "dev-9999".into());
    let impostor = {
        let mut e = fixtures::entitlement(1, T0);
        e.nonce = Some(out.nonce.clone());
        serde_json::to_vec(&EnrollResponse {
            device_id: DEVICE_ID.into(),
            entitlement: e.sign(&fixtures::impostor_key()).unwrap(),
            offline_secret: b64::encode(OFFLINE_SECRET),
            push_key: None,
        })
        .unwrap()
    };
    let short_secret = {
        let mut v: serde_json::Value =
            serde_json::from_slice(&enroll_answer(&out.nonce, |_| {})).unwrap();
        v["offline_secret"] = b64::encode([1u8; 8]).into();
        serde_json::to_vec(&v).unwrap()
    };
    for (body, code) in [
        (wrong_sub, "wrong_subject"),
        (impostor, "jws_bad_signature"),
        (short_secret, "invalid_field"),
        (b"<html>502</html>".to_vec(), "payload_not_object"),
        (b"{\"device_id\":\"x\"}".to_vec(), "payload_malformed"),
    ] {
        let e = s.complete_enrollment(&body, &at(T0)).unwrap_err();
        assert_eq!(e.code(), code);
        assert_eq!(s, before, "{code} changed the state");
    }
}

#[test]
fn provisioning_rules() {
    let mut s = DeviceState::default();
    assert!(
        s.provision("http://lender.example", fixtures::pinned_keys(), true)
            .is_err()
    );
    assert!(
        s.provision("http://127.0.0.1:8080", fixtures::pinned_keys(), false)
            .is_err()
    );
    s.provision("http://127.0.0.1:8080", fixtures::pinned_keys(), true)
        .unwrap();
    let mut s = enrolled();
    assert!(matches!(
        s.provision(SERVER, fixtures::pinned_keys(), false),
        Err(Error::AlreadyEnrolled)
    ));
    assert!(matches!(
        s.enroll_request(&params(), &SystemRandom::new()),
        Err(Error::AlreadyEnrolled)
    ));
}

#[test]
fn checkin_request_is_signed_by_the_device_key_under_the_device_id() {
    let mut s = enrolled();
    let out = s
        .checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new())
        .unwrap();
    let key = DeviceKey::from_pkcs8(
        &s.enrolled().unwrap().device_key.bytes().unwrap(),
        Some(DEVICE_ID.into()),
    )
    .unwrap()
    .public();
    let set = KeySet::new(vec![key]).unwrap();
    let v = jws::verify(&out.body, jws::typ::CHECKIN, &set).unwrap();
    let req: CheckinRequest = protocol::decode_payload(&v.payload).unwrap();
    assert_eq!(req.device_id, DEVICE_ID);
    assert_eq!(req.seq_seen, 1);
    assert_eq!(req.nonce, out.nonce);
    assert!(!req.locked);
    assert_eq!(req.wall_clock, T0 + 60);
}

#[test]
fn lifecycle_reminder_time_lock_payment_release() {
    let mut s = enrolled();
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    // Regular check-ins keep the offline rule at bay.
    checkin(
        &mut s,
        lock_at - 20 * DAY,
        fixtures::entitlement(2, lock_at - 20 * DAY),
    )
    .unwrap();
    // A day before lock_at the notice starts; the shell displays it.
    assert_eq!(
        s.evaluate(&at(lock_at - DAY - 1)).decision.level,
        Level::Normal
    );
    fixtures::show_notice(&mut s, lock_at - DAY);
    // Before lock_at: unlocked, and the decision names lock_at as the next change.
    let d = s.evaluate(&at(lock_at - 10)).decision;
    assert!(!d.locked);
    assert_eq!(d.level, Level::Notice);
    assert_eq!(d.notice_first_shown, Some(lock_at - DAY));
    assert_eq!(d.next_change, Some(lock_at));
    // Time passes, no payment: locked, on verified time (not clock-suspect).
    let d = s.evaluate(&at(lock_at)).decision;
    assert!(d.locked && d.reason == Some(LockReason::OverduePayment) && !d.clock_suspect);
    // The customer pays; the next check-in brings a later lock_at.
    let mut paid = fixtures::entitlement(3, lock_at + 3600);
    paid.lock_at = lock_at + 40 * DAY;
    let d = checkin(&mut s, lock_at + 3600, paid).unwrap().decision;
    assert!(!d.locked);
    // Back in good standing: the notice episode ended, its record with it.
    assert_eq!(d.level, Level::Normal);
    assert_eq!(s.enrolled().unwrap().notice, None);
    // Paid in full: released for good.
    let mut released = fixtures::entitlement(4, lock_at + 7200);
    released.state = EntitlementState::Released;
    let d = checkin(&mut s, lock_at + 7200, released).unwrap().decision;
    assert!(d.released && !d.locked);
    // Nothing is accepted after release, not even a properly signed lock.
    let mut lock = fixtures::entitlement(5, lock_at + 9000);
    lock.state = EntitlementState::Locked;
    let before = s.clone();
    let e = checkin(&mut s, lock_at + 9000, lock).unwrap_err();
    assert!(matches!(e, Error::AlreadyReleased));
    assert_eq!(
        s.enrolled().unwrap().entitlement,
        before.enrolled().unwrap().entitlement
    );
    assert!(s.evaluate(&at(lock_at + 100 * DAY)).decision.released);
}

#[test]
fn lender_lock_and_unlock() {
    let mut s = enrolled();
    let mut lock = fixtures::entitlement(2, T0 + 100);
    lock.state = EntitlementState::Locked;
    lock.lock_reason = Some(LockReason::LenderRequest);
    let d = checkin(&mut s, T0 + 100, lock).unwrap().decision;
    // A lender lock gives notice first: held until the notice has been on the phone a day.
    assert!(!d.locked && d.held_for_notice && d.reason == Some(LockReason::LenderRequest));
    fixtures::show_notice(&mut s, T0 + 150);
    let d = s.evaluate(&at(T0 + 150 + DAY)).decision;
    assert!(d.locked && d.reason == Some(LockReason::LenderRequest));
    let d = checkin(
        &mut s,
        T0 + 200 + DAY,
        fixtures::entitlement(3, T0 + 200 + DAY),
    )
    .unwrap()
    .decision;
    assert!(!d.locked);
    assert_eq!(d.level, Level::Normal);
    assert_eq!(s.enrolled().unwrap().notice, None);
}

#[test]
fn faulty_answers_never_change_the_decision() {
    let mut s = enrolled();
    let before_state = s.enrolled().unwrap().clone();
    let before = s.evaluate(&at(T0 + 50)).decision;
    let out = s
        .checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new())
        .unwrap();
    let mut replay = fixtures::entitlement(1, T0);
    replay.nonce = Some(out.nonce.clone());
    let mut locked_for_other = fixtures::entitlement(9, T0);
    locked_for_other.nonce = Some(out.nonce.clone());
    locked_for_other.sub = "dev-0002".into();
    locked_for_other.state = EntitlementState::Locked;
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"<html>Bad gateway</html>".to_vec(),
        b"{\"entitlement\":".to_vec(),
        b"{\"type\":\"about:blank\",\"status\":500}".to_vec(),
        serde_json::to_vec(&serde_json::json!({"entitlement": fixtures::sign(&replay)})).unwrap(),
        serde_json::to_vec(&serde_json::json!({"entitlement": fixtures::sign(&locked_for_other)})).unwrap(),
        serde_json::to_vec(&serde_json::json!({"entitlement": fixtures::entitlement(9, T0).sign(&fixtures::impostor_key()).unwrap()})).unwrap(),
    ];
    for body in bodies {
        assert!(s.complete_checkin(&out, &body, &at(T0 + 61)).is_err());
        let en = s.enrolled().unwrap();
        assert_eq!(en.entitlement, before_state.entitlement);
        assert_eq!(
            en.last_successful_checkin,
            before_state.last_successful_checkin
        );
        assert_eq!(s.evaluate(&at(T0 + 62)).decision.locked, before.locked);
    }
}

#[test]
fn answer_without_the_outstanding_nonce_is_rejected() {
    let mut s = enrolled();
    let out = s
        .checkin_request(&at(T0 + 60), "0.1.0", &SystemRandom::new())
        .unwrap();
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&fixtures::entitlement(2, T0 + 60)),
        push_key: None,
    })
    .unwrap();
    assert!(matches!(
        s.complete_checkin(&out, &body, &at(T0 + 61)),
        Err(Error::NonceMismatch)
    ));
}

#[test]
fn offline_code_flow_with_the_lenders_answer() {
    let mut s = enrolled();
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    // Keep checking in so only the overdue rule applies.
    let mut e = fixtures::entitlement(2, lock_at);
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    fixtures::show_notice(&mut s, lock_at - DAY);
    checkin(&mut s, lock_at, e).unwrap();
    assert!(s.evaluate(&at(lock_at + 10)).decision.locked);

    let challenge: u32 = s.offline_challenge().unwrap().parse().unwrap();
    let counter = offline_code::find_counter(&OFFLINE_SECRET, challenge, 0).unwrap();
    let code =
        offline_code::format_code(offline_code::response(&OFFLINE_SECRET, counter, 3).unwrap());
    let accepted = s.enter_offline_code(&code, &at(lock_at + 20)).unwrap();
    assert_eq!(accepted.days, 3);
    let d = s.evaluate(&at(lock_at + 30)).decision;
    assert!(!d.locked);
    assert_eq!(d.next_change, Some(lock_at + 20 + 3 * DAY));
    assert!(s.evaluate(&at(lock_at + 20 + 3 * DAY)).decision.locked);
    // The same code does not work twice; the challenge moved on.
    assert!(matches!(
        s.enter_offline_code(&code, &at(lock_at + 3 * DAY + 40)),
        Err(Error::OfflineCodeWrong { .. })
    ));
    // The use is reported at the next check-in and cleared once answered.
    let en = s.enrolled().unwrap();
    assert!(en.pending_events.contains(&Event::OfflineCodeUsed {
        counter: 0,
        days: 3,
        at: lock_at + 20
    }));
    let out = s
        .checkin_request(&at(lock_at + 4 * DAY), "0.1.0", &SystemRandom::new())
        .unwrap();
    assert!(out.events_sent >= 1);
    let mut e = fixtures::entitlement(3, lock_at + 4 * DAY);
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .unwrap();
    s.complete_checkin(&out, &body, &at(lock_at + 4 * DAY))
        .unwrap();
    assert!(s.enrolled().unwrap().pending_events.is_empty());
}

#[test]
fn a_forward_clock_cannot_stretch_an_offline_code() {
    let mut s = enrolled();
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    // The customer sets the clock a year ahead (which could only lock clock-suspect, and
    // now not even that: no notice was displayed), then enters a code.
    let ahead = lock_at + 365 * DAY;
    let real = T0 + 10;
    let cheat = ClockInput {
        wall_ms: ahead * 1000,
        ..at(real)
    };
    let d = s.evaluate(&cheat).decision;
    assert!(d.held_for_notice && !d.locked);
    let challenge: u32 = s.offline_challenge().unwrap().parse().unwrap();
    let counter = offline_code::find_counter(&OFFLINE_SECRET, challenge, 0).unwrap();
    let code =
        offline_code::format_code(offline_code::response(&OFFLINE_SECRET, counter, 1).unwrap());
    s.enter_offline_code(&code, &cheat).unwrap();
    // The next check-in re-anchors time to the server's; the extension moves back with it.
    checkin(&mut s, real + 20, fixtures::entitlement(2, real + 20)).unwrap();
    let ext = s.enrolled().unwrap().offline.extension_until;
    assert!(
        ext <= real + 20 + DAY,
        "extension {ext} must not outlive a real day"
    );
    // And at lock_at, with the notice displayed a day before, the device locks as it should.
    fixtures::show_notice(&mut s, lock_at - DAY);
    assert!(s.evaluate(&at(lock_at)).decision.locked);
}

#[test]
fn clock_changes_are_reported_as_events() {
    let mut s = enrolled();
    s.evaluate(&at(T0 + 100));
    let back = ClockInput {
        wall_ms: (T0 - 86_400) * 1000,
        ..at(T0 + 200)
    };
    s.evaluate(&back);
    let events = &s.enrolled().unwrap().pending_events;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ClockJump { delta_s } if *delta_s < -86_000))
    );
}

#[test]
fn pending_events_are_bounded_and_keep_code_uses() {
    let mut events = vec![Event::OfflineCodeUsed {
        counter: 0,
        days: 1,
        at: 1,
    }];
    for i in 0..200 {
        push_event(&mut events, Event::ClockJump { delta_s: i });
    }
    assert_eq!(events.len(), MAX_PENDING_EVENTS);
    assert!(matches!(events[0], Event::OfflineCodeUsed { .. }));
}

#[test]
fn debug_output_redacts_secrets() {
    let s = enrolled();
    let text = format!("{s:?}");
    assert!(!text.contains(&b64::encode(OFFLINE_SECRET)));
    assert!(text.contains("<redacted>"));
}

#[test]
fn device_persists_successes_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    assert_eq!(d.state(), &DeviceState::default());
    d.update(|s| s.provision(SERVER, fixtures::pinned_keys(), false))
        .unwrap();
    let out = d
        .update(|s| s.enroll_request(&params(), &SystemRandom::new()))
        .unwrap();
    let body = enroll_answer(&out.nonce, |_| {});
    d.update(|s| s.complete_enrollment(&body, &at(T0))).unwrap();
    let saved = std::fs::read(dir.path().join(crate::store::STATE_FILE)).unwrap();
    // A rejected entitlement writes nothing.
    let mut bad = fixtures::entitlement(1, T0);
    bad.state = EntitlementState::Locked;
    let jws = fixtures::sign(&bad);
    assert!(
        d.update(|s| s.accept_entitlement(&jws, None, &at(T0 + 5)))
            .is_err()
    );
    assert_eq!(
        std::fs::read(dir.path().join(crate::store::STATE_FILE)).unwrap(),
        saved
    );
    // A malformed code writes nothing; a wrong one is counted and survives a restart.
    assert!(d.enter_offline_code("12", &at(T0 + 6)).is_err());
    assert_eq!(
        std::fs::read(dir.path().join(crate::store::STATE_FILE)).unwrap(),
        saved
    );
    assert!(matches!(
        d.enter_offline_code("00000000", &at(T0 + 7)),
        Err(Error::OfflineCodeWrong { tries_left: 4 })
    ));
    let reopened = Device::open(dir.path()).unwrap();
    assert_eq!(reopened.state(), d.state());
    assert_eq!(
        reopened
            .state()
            .enrolled()
            .unwrap()
            .offline
            .wrong_since_checkin,
        1
    );
    assert!(reopened.recovered_from().is_none());
}

#[test]
fn corrupt_state_is_an_error_never_a_fresh_device() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    d.update(|s| s.provision(SERVER, fixtures::pinned_keys(), false))
        .unwrap();
    std::fs::write(dir.path().join(crate::store::STATE_FILE), b"garbage").unwrap();
    let _ = std::fs::remove_file(dir.path().join(crate::store::PREVIOUS_FILE));
    assert!(Device::open(dir.path()).is_err());
}

#[test]
fn reminders_come_from_the_stored_entitlement_and_are_remembered() {
    let mut s = enrolled();
    let upcoming = s.reminders("Asia/Manila", T0).unwrap();
    assert!(upcoming.iter().all(|r| r.fire_at >= T0));
    // Without a check-in the fixture locks for silence after 30 days; warned 3 days before.
    assert!(
        upcoming
            .iter()
            .any(|r| r.kind == crate::reminders::ReminderKind::OfflineWarning)
    );
    // After a check-in that drops the offline policy, the unpaid installment is announced.
    let mut e = fixtures::entitlement(2, T0 + 60);
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    checkin(&mut s, T0 + 60, e).unwrap();
    let first_due = fixtures::entitlement(1, T0).account.installments[2].due;
    let upcoming = s.reminders("Asia/Manila", T0 + 60).unwrap();
    assert!(
        upcoming
            .iter()
            .any(|r| r.installment_due == Some(first_due))
    );
    assert!(matches!(
        s.reminders("Mars/Olympus", T0),
        Err(Error::InvalidField { .. })
    ));
    // Once due, one reminder is shown, remembered, and not repeated.
    let first = upcoming[0].clone();
    let due = s
        .reminder_due("Asia/Manila", first.fire_at)
        .unwrap()
        .unwrap();
    s.mark_reminder_shown(&due.id, first.fire_at).unwrap();
    let again = s.reminder_due("Asia/Manila", first.fire_at + 60).unwrap();
    assert!(again.is_none_or(|r| r.id != due.id));
}

#[test]
fn next_wakeup_is_the_earliest_of_lock_reminder_and_checkin() {
    let mut s = enrolled();
    let reading = s.evaluate(&at(T0)).reading;
    let w = s.next_wakeup("Asia/Manila", &reading).unwrap().unwrap();
    // The fixture's first check-in is due 6 h after enrollment, before any reminder.
    assert_eq!(w.reason, WakeReason::CheckIn);
    assert_eq!(w.at, T0 + 6 * 3600);
    // With the check-in far away, the next reminder or the lock comes first.
    s.checkin.next_at = T0 + 1_000 * DAY;
    let w = s.next_wakeup("Asia/Manila", &reading).unwrap().unwrap();
    assert_eq!(w.reason, WakeReason::Reminder);
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    let late = s.evaluate(&at(lock_at - 60)).reading;
    let w = s.next_wakeup("Asia/Manila", &late).unwrap().unwrap();
    assert_eq!((w.at, w.reason), (lock_at, WakeReason::Decision));
}

#[test]
fn evaluating_twice_at_the_same_moment_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    d.update(|s| s.provision(SERVER, fixtures::pinned_keys(), false))
        .unwrap();
    let first = d.evaluate(&at(T0 + 10)).unwrap();
    let path = dir.path().join(crate::store::STATE_FILE);
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let again = d.evaluate(&at(T0 + 10)).unwrap();
    assert_eq!(first, again);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written
    );
    // Half a minute on both clocks: the stored marks, carried forward, already tell it.
    let later = d.evaluate(&at(T0 + 40)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let reopened = Device::open(dir.path())
        .unwrap()
        .evaluate(&at(T0 + 40))
        .unwrap();
    assert_eq!(reopened.reading.now_ms, later.reading.now_ms);
}

/// Each way the marks can move beyond what the stored ones carry forward to, written once.
#[test]
fn marks_are_written_when_a_restart_could_not_recompute_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Device::open(dir.path()).unwrap();
    d.update(|s| s.provision(SERVER, fixtures::pinned_keys(), false))
        .unwrap();
    let path = dir.path().join(crate::store::STATE_FILE);
    d.evaluate(&at(T0)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mut written = |what: &str, clock: ClockInput, expected: bool| {
        d.evaluate(&clock).unwrap();
        let now = std::fs::read(&path).unwrap();
        assert_eq!(now != bytes, expected, "{what}: written");
        bytes = now;
        // Whatever was (not) written, a restart computes the same trusted time within the
        // slack.
        let reopened = Device::open(dir.path()).unwrap().state().clock.read(&clock);
        let live = d.state().clock.read(&clock);
        assert!(
            reopened.now_ms.abs_diff(live.now_ms) <= crate::clock::MARK_SLACK_MS,
            "{what}: {reopened:?} vs {live:?}"
        );
    };
    written("half a minute on both clocks", at(T0 + 30), false);
    let mut drift = at(T0 + 45);
    drift.wall_ms += 900;
    written("0.9 s of drift", drift, false);
    drift = at(T0 + 50);
    drift.wall_ms += 1_500;
    written("1.5 s of drift", drift, true);
    let mut minute = at(T0 + 111);
    minute.wall_ms += 1_500;
    written("a minute since the last write", minute, true);
    let mut forward = at(T0 + 130);
    forward.wall_ms += 3_600_000;
    written("the clock set an hour forward", forward, true);
    let mut reboot = at(T0 + 20_000);
    reboot.boot = 2;
    reboot.uptime_ms = 30_000;
    written("a new boot", reboot, true);
    reboot.uptime_ms += 20_000;
    reboot.wall_ms += 20_000;
    written("20 s into the new boot", reboot, false);
}

#[test]
fn the_server_url_moves_and_nothing_else_does() {
    let mut s = enrolled();
    let before = s.clone();
    s.set_server_url("https://other.lender.example/finlock", false)
        .unwrap();
    let p = s.provisioning.as_ref().unwrap();
    assert_eq!(p.server_url, "https://other.lender.example/finlock");
    assert_eq!(
        p.lender_keys,
        before.provisioning.as_ref().unwrap().lender_keys
    );
    assert_eq!(s.enrollment, before.enrollment);
    // Plain http to the emulator's host only where the build allows it.
    s.set_server_url("http://10.0.2.2:8080", true).unwrap();
    assert!(s.provisioning.as_ref().unwrap().allow_insecure_loopback);
}

#[test]
fn a_refused_server_url_changes_nothing() {
    let mut s = enrolled();
    let before = s.clone();
    for (url, loopback) in [
        ("http://10.0.2.2:8080", false),
        ("http://192.168.1.20:8080", true),
        ("ftp://lender.example/", true),
        ("https://", false),
        ("not a url", false),
    ] {
        let err = s.set_server_url(url, loopback).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidField { field, .. } if field == "server_url"),
            "{url}: {err:?}"
        );
        assert_eq!(s, before, "{url}");
    }
    let mut fresh = DeviceState::default();
    assert!(matches!(
        fresh.set_server_url("https://lender.example/", false),
        Err(Error::NotEnrolled)
    ));
    assert_eq!(fresh, DeviceState::default());
}
