//! Property tests of the reschedule rules (ADR 0013) over arbitrary plans, payments,
//! extensions, clocks and new plans, checked against a model written from the rules:
//! - without the lender's explicit word, an accepted plan never locks the phone earlier,
//!   nor offline sooner, than the phone is told now;
//! - with it, an earlier lock still comes at least three days after now;
//! - installments the payments cover stay, the currency stays, something stays owed;
//! - the lender's word never turns an accepted plan into a refused one.

use proptest::prelude::*;

use super::*;

/// 2026-01-01.
const T0: i64 = 1_767_225_600;

/// The lock the phone is told, from the rules: the first installment the payments do not
/// cover, its due date plus grace, or the extension when later.
fn model_lock(plan: &Plan, paid: u64, extended_until: Option<i64>) -> i64 {
    let mut covered = 0u64;
    let mut lock = None;
    for inst in &plan.installments {
        covered += inst.amount_minor;
        if covered > paid {
            lock = Some(inst.due + i64::from(plan.grace_days) * DAY);
            break;
        }
    }
    let lock = lock.expect("something is owed");
    extended_until.map_or(lock, |e| lock.max(e))
}

fn offline(plan: &Plan) -> u64 {
    plan.offline_lock_after_days.map_or(u64::MAX, u64::from)
}

prop_compose! {
    fn a_plan()(
        gaps in prop::collection::vec((1i64..=60, 1u64..=2_000), 1..=10),
        start in -90i64..=200,
        grace in 0u32..=30,
        offline in prop::option::of(1u32..=60),
    ) -> Plan {
        let mut due = T0 + start * DAY;
        let installments = gaps
            .into_iter()
            .map(|(gap, amount_minor)| {
                due += gap * DAY;
                PlanInstallment { due, amount_minor }
            })
            .collect();
        Plan { currency: "KES".into(), grace_days: grace, offline_lock_after_days: offline, installments }
    }
}

/// A new plan: mostly the current one with its unpaid part moved, sometimes another.
fn a_new_plan(current: Plan) -> impl Strategy<Value = PlanRequest> {
    let moved = (
        -60i64..=60,
        0usize..=10,
        prop::option::of(0u32..=30),
        prop::option::of(prop::option::of(1u32..=60)),
    )
        .prop_map({
            let current = current.clone();
            move |(shift, from, grace, offline)| {
                let mut p = current.clone();
                for inst in p.installments.iter_mut().skip(from) {
                    inst.due += shift * DAY;
                }
                if let Some(g) = grace {
                    p.grace_days = g;
                }
                if let Some(o) = offline {
                    p.offline_lock_after_days = o;
                }
                request(&p)
            }
        });
    prop_oneof![3 => moved, 1 => a_plan().prop_map(|p| request(&p))]
}

fn request(p: &Plan) -> PlanRequest {
    PlanRequest {
        currency: p.currency.clone(),
        grace_days: p.grace_days,
        offline_lock_after_days: p.offline_lock_after_days,
        installments: p.installments.clone(),
    }
}

fn a_case() -> impl Strategy<Value = (Plan, u64, Option<i64>, i64, PlanRequest)> {
    a_plan().prop_flat_map(|current| {
        let total = current.total_minor();
        (
            Just(current.clone()),
            0..total,
            prop::option::of(-30i64..=300),
            -30i64..=400,
            a_new_plan(current),
        )
            .prop_map(|(current, paid, ext, now, new)| {
                (
                    current,
                    paid,
                    ext.map(|d| T0 + d * DAY),
                    T0 + now * DAY,
                    new,
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_accepted_reschedule_surprises_the_customer(
        (current, paid, ext, now, new) in a_case()
    ) {
        let at = |allow| judge_reschedule(
            Current { plan: &current, paid_minor: paid, extended_until: ext, reminders: None },
            &new,
            allow,
            now,
        );
        let before = model_lock(&current, paid, ext);
        for allow in [false, true] {
            let Ok(r) = at(allow) else { continue };
            let after = model_lock(&r.plan, paid, ext);
            prop_assert_eq!((r.lock_at_before, r.lock_at_after), (before, after));
            let earlier = after < before || offline(&r.plan) < offline(&current);
            prop_assert_eq!(r.earlier, earlier);
            if !allow {
                prop_assert!(!earlier, "earlier without the lender's word: {:?}", r);
            }
            if after < before {
                prop_assert!(after >= now + MIN_NOTICE_S, "less than 3 days' notice");
            }
            // The books: currency, the paid installments, something owed.
            prop_assert_eq!(&r.plan.currency, &current.currency);
            prop_assert!(r.plan.total_minor() > paid);
            let mut covered = 0;
            for (i, inst) in current.installments.iter().enumerate() {
                covered += inst.amount_minor;
                if covered > paid {
                    break;
                }
                prop_assert_eq!(r.plan.installments.get(i), Some(inst));
            }
        }
        // The lender's explicit word never makes an accepted plan refused.
        if at(false).is_ok() {
            prop_assert!(at(true).is_ok());
        }
        // Refused only for the earlier lock: with the word, accepted or short of notice.
        if let Err(Error::Conflict { slug: "earlier-lock", .. }) = at(false) {
            match at(true) {
                Ok(_) => {}
                Err(Error::Invalid { field, .. }) => prop_assert_eq!(field, "plan"),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
