use ring::rand::SystemRandom;

use super::*;
use crate::fixtures::{self, DAY, DEVICE_ID, LENDER_ID, T0};
use crate::protocol::{self, Entitlement, LockReason};

fn enrolled() -> DeviceState {
    fixtures::enrolled(fixtures::entitlement(1, T0))
}

fn evaluation(s: &mut DeviceState, t: i64) -> Evaluation {
    s.evaluate(&fixtures::clock_at(t))
}

/// A check-in at `t` answered with `e` (nonce filled in).
fn check_in(s: &mut DeviceState, t: i64, mut e: Entitlement) {
    let at = fixtures::clock_at(t);
    let out = s
        .checkin_request(&at, "0.1.0", &SystemRandom::new())
        .unwrap();
    e.nonce = Some(out.nonce.clone());
    let body = serde_json::to_vec(&protocol::CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .unwrap();
    s.complete_checkin(&out, &body, &at).unwrap();
}

#[test]
fn the_lock_screen_names_the_lender_what_is_due_and_how_to_pay() {
    let mut s = enrolled();
    let ev = evaluation(&mut s, T0 + 60);
    let v = s.lock_screen(&ev, "en").unwrap();
    let e = fixtures::entitlement(1, T0);
    assert_eq!(v.evaluation, ev);
    assert_eq!(v.payee, Payee::new(&e, "en"));
    assert_eq!(v.payee.name, "Acme Credit");
    assert_eq!(v.payee.phone, "+639171234567");
    assert_eq!(v.lender_email.as_deref(), Some("help@acme-credit.example"));
    assert_eq!(v.payee.payment_url, e.lender.payment_url);
    assert_eq!(v.support_url, e.lender.support_url);
    assert_eq!(v.terms_url, None);
    assert_eq!(v.amount_due_minor, 250_000);
    assert_eq!(v.currency, "PHP");
    assert_eq!(v.next_due, e.account.next_due);
}

#[test]
fn the_lock_screen_texts_follow_the_locale() {
    let mut s = enrolled();
    let ev = evaluation(&mut s, T0 + 60);
    let fil = s.lock_screen(&ev, "fil_PH").unwrap();
    assert_eq!(
        fil.message.as_deref(),
        Some("Salamat sa pagbabayad sa tamang oras.")
    );
    // No Filipino instructions: English, never nothing.
    assert!(fil.payee.payment_instructions.unwrap().starts_with("GCash"));
    let sw = s.lock_screen(&ev, "sw-KE").unwrap();
    assert_eq!(sw.message.as_deref(), Some("Thank you for paying on time."));
}

#[test]
fn the_lock_screen_carries_the_decision_it_was_assembled_at() {
    let mut s = enrolled();
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    fixtures::show_notice(&mut s, lock_at - DAY);
    let ev = evaluation(&mut s, lock_at + 60);
    let v = s.lock_screen(&ev, "en").unwrap();
    assert!(v.evaluation.decision.locked);
    assert_eq!(v.notice_first_shown, Some(lock_at - DAY));
    assert_eq!(
        v.evaluation.decision.reason,
        Some(LockReason::OverduePayment)
    );
    assert_eq!(v.evaluation.reading.now(), lock_at + 60);
}

#[test]
fn the_lock_screen_shows_the_offline_challenge_and_the_tries_left() {
    let mut s = enrolled();
    let ev = evaluation(&mut s, T0 + 60);
    let v = s.lock_screen(&ev, "en").unwrap();
    assert_eq!(v.offline.challenge, Some(s.offline_challenge().unwrap()));
    assert_eq!(v.offline.tries_left, 5);
    assert!(!v.offline.locked_out);
    assert_eq!(v.offline.locked_out_until, None);
}

#[test]
fn a_full_day_of_wrong_codes_locks_entry_out_until_the_oldest_leaves_the_window() {
    let mut s = enrolled();
    let t = T0 + 3600;
    s.enrollment.as_mut().unwrap().offline.wrong_at = vec![t; 5];
    s.enrollment.as_mut().unwrap().offline.wrong_since_checkin = 5;
    let ev = evaluation(&mut s, t + 60);
    let v = s.lock_screen(&ev, "en").unwrap();
    assert_eq!(v.offline.tries_left, 0);
    assert!(v.offline.locked_out);
    assert_eq!(v.offline.locked_out_until, Some(t + DAY));
}

#[test]
fn wrong_codes_spent_since_the_last_check_in_lock_entry_out_until_the_next_one() {
    let mut s = enrolled();
    s.enrollment.as_mut().unwrap().offline.wrong_since_checkin = 20;
    let ev = evaluation(&mut s, T0 + 60);
    let v = s.lock_screen(&ev, "en").unwrap();
    assert_eq!(v.offline.tries_left, 0);
    assert!(v.offline.locked_out);
    assert_eq!(v.offline.locked_out_until, None);
}

#[test]
fn a_released_device_shows_no_challenge() {
    let mut s = enrolled();
    let mut e = fixtures::entitlement(2, T0 + 60);
    e.state = EntitlementState::Released;
    check_in(&mut s, T0 + 60, e);
    let ev = evaluation(&mut s, T0 + 120);
    let v = s.lock_screen(&ev, "en").unwrap();
    assert!(v.evaluation.decision.released);
    assert_eq!(v.offline.challenge, None);
}

#[test]
fn no_lock_screen_before_enrollment() {
    let mut s = DeviceState::default();
    s.provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
        .unwrap();
    let ev = evaluation(&mut s, T0);
    assert!(matches!(s.lock_screen(&ev, "en"), Err(Error::NotEnrolled)));
}

#[test]
fn the_status_of_a_fresh_device_says_nothing_is_set_up() {
    let mut s = DeviceState::default();
    let ev = evaluation(&mut s, T0);
    let v = s.status(&ev);
    assert_eq!(v.evaluation, ev);
    assert!(!v.provisioned);
    assert_eq!(v.server_url, None);
    assert_eq!(v.enrollment, None);
    assert_eq!((v.next_checkin, v.checkin_failures), (0, 0));
}

#[test]
fn the_status_of_a_provisioned_device_names_its_server() {
    let mut s = DeviceState::default();
    s.provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
        .unwrap();
    let ev = evaluation(&mut s, T0);
    let v = s.status(&ev);
    assert!(v.provisioned);
    assert_eq!(v.server_url.as_deref(), Some(fixtures::SERVER_URL));
    assert_eq!(v.enrollment, None);
}

#[test]
fn the_status_of_an_enrolled_device_names_the_binding_and_the_entitlement() {
    let mut s = enrolled();
    let e = fixtures::entitlement(1, T0);
    let ev = evaluation(&mut s, T0 + 60);
    let v = s.status(&ev);
    assert_eq!(v.next_checkin, e.next_checkin);
    assert_eq!(
        v.enrollment,
        Some(EnrollmentStatus {
            lender_id: LENDER_ID.into(),
            device_id: DEVICE_ID.into(),
            state: EntitlementState::Active,
            seq: 1,
            lock_at: e.lock_at,
            last_checkin: T0,
            pending_events: 0,
        })
    );
}

#[test]
fn the_status_counts_failed_check_ins_and_pending_events() {
    let mut s = enrolled();
    s.record_checkin_failure(&fixtures::clock_at(T0 + 60), None, 7);
    s.record_checkin_failure(&fixtures::clock_at(T0 + 120), None, 7);
    s.enrollment
        .as_mut()
        .unwrap()
        .pending_events
        .push(protocol::Event::ClockJump { delta_s: 3600 });
    let ev = evaluation(&mut s, T0 + 180);
    let v = s.status(&ev);
    assert_eq!(v.checkin_failures, 2);
    assert_eq!(v.next_checkin, s.checkin.next_at);
    assert_eq!(v.enrollment.unwrap().pending_events, 1);
}

#[test]
fn a_reminder_names_the_payee_with_instructions_for_the_locale() {
    let mut e = fixtures::entitlement(1, 0);
    e.lender.payment_instructions = Some(
        [("en", "Pay by M-Pesa"), ("sw", "Lipa kwa M-Pesa")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let sw = Payee::new(&e, "sw-KE");
    assert_eq!(sw.name, e.lender.name);
    assert_eq!(sw.phone, e.lender.phone);
    assert_eq!(sw.payment_url, e.lender.payment_url);
    assert_eq!(sw.payment_instructions.as_deref(), Some("Lipa kwa M-Pesa"));
    // No French: English, never nothing and never another language.
    assert_eq!(
        Payee::new(&e, "fr").payment_instructions.as_deref(),
        Some("Pay by M-Pesa")
    );
    e.lender.payment_instructions = None;
    assert_eq!(Payee::new(&e, "sw-KE").payment_instructions, None);
}

#[test]
fn no_payee_before_enrollment() {
    assert!(matches!(
        DeviceState::default().payee("en"),
        Err(Error::NotEnrolled)
    ));
    assert_eq!(
        enrolled().payee("en").unwrap(),
        Payee::new(&fixtures::entitlement(1, T0), "en")
    );
}

#[test]
fn a_completing_device_is_unlocked_and_says_when_it_is_released_until_a_void() {
    // Overdue (lock_at passed), then paid in full: completing until release_at.
    let mut s = enrolled();
    let lock_at = fixtures::entitlement(1, T0).lock_at;
    let t = lock_at + DAY;
    fixtures::show_notice(&mut s, lock_at - DAY);
    assert!(evaluation(&mut s, t).decision.locked);
    let mut paid = fixtures::entitlement(2, t);
    paid.release_at = Some(t + 2 * DAY);
    check_in(&mut s, t + 10, paid);
    let ev = evaluation(&mut s, t + 20);
    assert!(!ev.decision.locked && !ev.decision.released);
    assert_eq!(ev.decision.release_at, Some(t + 2 * DAY));
    let screen = s.lock_screen(&ev, "en").unwrap();
    assert_eq!(screen.evaluation.decision.release_at, Some(t + 2 * DAY));
    // The offline code stays available: the phone is not released yet.
    assert!(screen.offline.challenge.is_some());
    // Completing ended the notice episode.
    assert_eq!(s.enrolled().unwrap().notice, None);
    // A payment voided in the window: the next entitlement takes it back — a new notice
    // first, locked again a day after it was displayed.
    check_in(&mut s, t + DAY, fixtures::entitlement(3, t + DAY));
    let ev = evaluation(&mut s, t + DAY + 10);
    assert!(ev.decision.held_for_notice && !ev.decision.locked);
    assert_eq!(ev.decision.release_at, None);
    fixtures::show_notice(&mut s, t + DAY + 20);
    let ev = evaluation(&mut s, t + 2 * DAY + 20);
    assert!(ev.decision.locked);
    assert_eq!(ev.decision.release_at, None);
}
