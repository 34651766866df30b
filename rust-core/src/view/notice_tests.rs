//! The notice page: what happens when, how to avoid it, and what the lender allows.

use super::*;
use crate::decision::Level;
use crate::fixtures::{self, DAY, T0};
use crate::protocol::{Escalation, LockReason};

/// Enrolled with a full ladder: notice 10 days before the lock, restricted 5 days before,
/// a 3-day notice period, a payment app, an essential, amounts behind "Show details".
fn with_ladder() -> (DeviceState, i64) {
    let mut e = fixtures::entitlement(1, T0);
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    let lock_at = e.lock_at;
    e.escalation = Some(Escalation {
        notice_at: lock_at - 10 * DAY,
        restrict_at: Some(lock_at - 5 * DAY),
        notice_min_s: Some(3 * DAY as u64),
        payment_apps: vec!["com.globe.gcash".into()],
        essentials: vec!["ph.gov.philhealth".into()],
        private_details: true,
    });
    (fixtures::enrolled(e), lock_at)
}

#[test]
fn the_notice_page_says_what_happens_when_and_how_to_avoid_it() {
    let (mut s, lock_at) = with_ladder();
    let ev = s.evaluate(&fixtures::clock_at(lock_at - 10 * DAY));
    assert_eq!(ev.decision.level, Level::Notice);
    let page = s.notice_page(&ev, "en").unwrap();
    assert_eq!(page.evaluation, ev);
    assert_eq!(page.payee.name, "Acme Credit");
    assert_eq!(page.amount_due_minor, 250_000);
    assert_eq!(page.currency, "PHP");
    assert_eq!(page.reason, Some(LockReason::OverduePayment));
    assert_eq!(page.restrict_from, Some(lock_at - 5 * DAY));
    assert_eq!(page.lock_from, Some(lock_at));
    assert_eq!(page.first_shown, None);
    assert!(page.private_details);
    assert_eq!(page.payment_apps, ["com.globe.gcash"]);
    assert_eq!(page.essentials, ["ph.gov.philhealth"]);
    assert_eq!(
        page.message.as_deref(),
        Some("Thank you for paying on time.")
    );
}

#[test]
fn a_late_first_display_moves_the_steps_the_page_names() {
    let (mut s, lock_at) = with_ladder();
    // First displayed only a day before the signed restriction: three days from then.
    let first = lock_at - 6 * DAY;
    fixtures::show_notice(&mut s, first);
    let ev = s.evaluate(&fixtures::clock_at(first + 60));
    let page = s.notice_page(&ev, "en").unwrap();
    assert_eq!(page.first_shown, Some(first));
    assert_eq!(page.restrict_from, Some(first + 3 * DAY));
    assert_eq!(page.lock_from, Some(lock_at));
}

#[test]
fn the_lock_screen_offers_the_payment_apps_and_says_when_the_notice_was_first_shown() {
    let (mut s, lock_at) = with_ladder();
    fixtures::show_notice(&mut s, lock_at - 10 * DAY);
    let ev = s.evaluate(&fixtures::clock_at(lock_at));
    assert!(ev.decision.locked);
    let screen = s.lock_screen(&ev, "en").unwrap();
    assert_eq!(screen.payment_apps, ["com.globe.gcash"]);
    assert_eq!(screen.notice_first_shown, Some(lock_at - 10 * DAY));
    assert!(screen.private_details);
}

#[test]
fn a_v1_entitlement_offers_no_apps_and_shows_amounts() {
    let mut s = fixtures::enrolled(fixtures::entitlement(1, T0));
    let ev = s.evaluate(&fixtures::clock_at(T0 + 60));
    let page = s.notice_page(&ev, "en").unwrap();
    assert!(page.payment_apps.is_empty() && page.essentials.is_empty());
    assert!(!page.private_details);
    let screen = s.lock_screen(&ev, "en").unwrap();
    assert!(screen.payment_apps.is_empty() && !screen.private_details);
    assert!(matches!(
        DeviceState::default().notice_page(&ev, "en"),
        Err(Error::NotEnrolled)
    ));
}
