//! The reschedule rules, one test per rule.

use super::*;
use crate::policy::PlanInstallment;

/// 2026-01-01.
const T0: i64 = 1_767_225_600;

/// Six monthly installments of 1000 from T0 + 30 days, grace 7 days, offline 30 days.
fn plan() -> Plan {
    Plan {
        currency: "KES".into(),
        grace_days: 7,
        offline_lock_after_days: Some(30),
        installments: (1..=6)
            .map(|i| PlanInstallment {
                due: T0 + i * 30 * DAY,
                amount_minor: 1_000,
            })
            .collect(),
    }
}

fn request(p: &Plan) -> PlanRequest {
    PlanRequest {
        currency: p.currency.clone(),
        grace_days: p.grace_days,
        offline_lock_after_days: p.offline_lock_after_days,
        installments: p.installments.clone(),
    }
}

fn current(p: &Plan, paid_minor: u64) -> Current<'_> {
    Current {
        plan: p,
        paid_minor,
        extended_until: None,
        reminders: None,
    }
}

fn invalid_field(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field,
        other => panic!("not a field error: {other:?}"),
    }
}

fn conflict_slug(e: Error) -> &'static str {
    match e {
        Error::Conflict { slug, .. } => slug,
        other => panic!("not a conflict: {other:?}"),
    }
}

#[test]
fn moving_the_remaining_installments_later_is_allowed() {
    let p = plan();
    let mut new = request(&p);
    for inst in &mut new.installments[1..] {
        inst.due += 14 * DAY;
    }
    let r = judge_reschedule(current(&p, 1_000), &new, false, T0).unwrap();
    assert_eq!(r.lock_at_before, T0 + 60 * DAY + 7 * DAY);
    assert_eq!(r.lock_at_after, T0 + 74 * DAY + 7 * DAY);
    assert!(!r.earlier);
    assert_eq!(r.plan.installments, new.installments);
}

#[test]
fn splitting_the_rest_into_more_smaller_installments_is_allowed() {
    let p = plan();
    let mut new = request(&p);
    new.installments.truncate(1);
    new.installments.extend((0..10).map(|i| PlanInstallment {
        due: T0 + 60 * DAY + i * 15 * DAY,
        amount_minor: 500,
    }));
    let r = judge_reschedule(current(&p, 1_000), &new, false, T0).unwrap();
    assert_eq!(r.plan.total_minor(), 6_000);
    assert!(!r.earlier);
}

#[test]
fn an_earlier_lock_needs_the_lenders_explicit_consent() {
    let p = plan();
    let mut new = request(&p);
    new.installments[0].due -= 10 * DAY;
    let e = judge_reschedule(current(&p, 0), &new, false, T0).unwrap_err();
    assert_eq!(conflict_slug(e), "earlier-lock");
    let r = judge_reschedule(current(&p, 0), &new, true, T0).unwrap();
    assert!(r.earlier);
    assert_eq!(r.lock_at_after, T0 + 27 * DAY);
}

#[test]
fn fewer_grace_days_are_an_earlier_lock_too() {
    let p = plan();
    let mut new = request(&p);
    new.grace_days = 2;
    let e = judge_reschedule(current(&p, 0), &new, false, T0).unwrap_err();
    assert_eq!(conflict_slug(e), "earlier-lock");
}

#[test]
fn a_sooner_offline_lock_needs_consent_and_a_later_one_does_not() {
    let p = plan();
    for sooner in [Some(29), Some(1)] {
        let mut new = request(&p);
        new.offline_lock_after_days = sooner;
        let e = judge_reschedule(current(&p, 0), &new, false, T0).unwrap_err();
        assert_eq!(conflict_slug(e), "earlier-lock");
        assert!(
            judge_reschedule(current(&p, 0), &new, true, T0)
                .unwrap()
                .earlier
        );
    }
    for later in [Some(31), None] {
        let mut new = request(&p);
        new.offline_lock_after_days = later;
        assert!(
            !judge_reschedule(current(&p, 0), &new, false, T0)
                .unwrap()
                .earlier
        );
    }
}

#[test]
fn even_an_agreed_earlier_lock_gives_three_days_notice() {
    let p = plan();
    let now = T0 + 20 * DAY;
    let mut new = request(&p);
    // Locks at now + 2 days: too soon even with consent.
    new.installments[0].due = now - 5 * DAY;
    let e = judge_reschedule(current(&p, 0), &new, true, now).unwrap_err();
    assert_eq!(invalid_field(e), "plan");
    // Exactly three days is enough.
    new.installments[0].due = now - 4 * DAY;
    let r = judge_reschedule(current(&p, 0), &new, true, now).unwrap();
    assert_eq!(r.lock_at_after, now + MIN_NOTICE_S);
}

#[test]
fn an_extension_is_a_floor_the_reschedule_keeps() {
    let p = plan();
    let extended = T0 + 100 * DAY;
    let c = Current {
        extended_until: Some(extended),
        ..current(&p, 0)
    };
    // Moving the first installment earlier is no earlier lock: the extension still holds.
    let mut new = request(&p);
    new.installments[0].due -= 10 * DAY;
    let r = judge_reschedule(c, &new, false, T0).unwrap();
    assert_eq!(r.lock_at_before, extended);
    assert_eq!(r.lock_at_after, extended);
    assert!(!r.earlier);
}

#[test]
fn the_currency_stays() {
    let p = plan();
    let mut new = request(&p);
    new.currency = "NGN".into();
    let e = judge_reschedule(current(&p, 0), &new, false, T0).unwrap_err();
    assert_eq!(invalid_field(e), "plan.currency");
}

#[test]
fn paid_installments_stay_as_they_were() {
    let p = plan();
    // 2500 paid: the first two are paid, the third is partly paid.
    for (i, change) in [(0usize, 1i64), (1, 0)] {
        let mut new = request(&p);
        if change == 1 {
            new.installments[i].due += DAY;
        } else {
            new.installments[i].amount_minor = 900;
        }
        let e = judge_reschedule(current(&p, 2_500), &new, false, T0).unwrap_err();
        assert_eq!(invalid_field(e), format!("plan.installments[{i}]"));
    }
    // The partly paid one may change.
    let mut new = request(&p);
    new.installments[2].due += 5 * DAY;
    new.installments[2].amount_minor = 1_200;
    assert!(judge_reschedule(current(&p, 2_500), &new, false, T0).is_ok());
    // Dropping a paid installment is changing it.
    let mut new = request(&p);
    new.installments.remove(0);
    let e = judge_reschedule(current(&p, 2_500), &new, false, T0).unwrap_err();
    assert_eq!(invalid_field(e), "plan.installments[0]");
}

#[test]
fn the_new_total_stays_above_what_is_paid() {
    let p = plan();
    let mut new = request(&p);
    new.installments.truncate(3);
    let e = judge_reschedule(current(&p, 3_000), &new, false, T0).unwrap_err();
    assert_eq!(invalid_field(e), "plan.installments");
}

#[test]
fn the_registration_rules_apply() {
    let p = plan();
    type Change = fn(&mut PlanRequest);
    let cases: [(Change, &str); 4] = [
        (|r| r.installments.clear(), "plan.installments"),
        (
            |r| r.installments[3].amount_minor = 0,
            "plan.installments[3].amount_minor",
        ),
        (|r| r.installments[4].due = 0, "plan.installments[4].due"),
        (|r| r.grace_days = 400, "plan.grace_days"),
    ];
    for (change, field) in cases {
        let mut new = request(&p);
        change(&mut new);
        let e = judge_reschedule(current(&p, 0), &new, true, T0).unwrap_err();
        assert_eq!(invalid_field(e), field);
    }
}

#[test]
fn times_read_as_utc_dates() {
    assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc(T0), "2026-01-01 00:00 UTC");
    assert_eq!(
        utc(T0 + 59 * DAY + 13 * 3_600 + 5 * 60 + 59),
        "2026-03-01 13:05 UTC"
    );
    assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    assert_eq!(utc(4_102_444_799), "2099-12-31 23:59 UTC");
}
