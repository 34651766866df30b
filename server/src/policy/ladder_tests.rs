//! The ladder each shipped profile signs, and the properties every signed ladder has
//! whatever the plan, the payments, the extension, the lender's actions and the time: the
//! entitlement passes the device's field rules and nothing comes earlier than the profile
//! allows.

use finlock_core::protocol::{EntitlementState, Escalation, LenderInfo, UrlPolicy};
use proptest::prelude::*;

use super::ladder::{NEVER, Terms};
use super::*;
use crate::compliance::{self, Profile};

const T0: i64 = 1_767_225_600;

fn profile(id: &str) -> &'static Profile {
    compliance::find(id)
        .expect("profiles load")
        .expect("shipped")
}

fn lender() -> LenderInfo {
    LenderInfo {
        name: "Acme".into(),
        phone: "+254700000001".into(),
        email: None,
        payment_url: "https://pay.acme.example/p".into(),
        support_url: None,
        terms_url: None,
        payment_instructions: None,
    }
}

fn plan(grace_days: u32, offline: Option<u32>) -> Plan {
    Plan {
        currency: "KES".into(),
        grace_days,
        offline_lock_after_days: offline,
        installments: (1..=3)
            .map(|i| PlanInstallment {
                due: T0 + i * 30 * DAY,
                amount_minor: 1_000,
            })
            .collect(),
    }
}

fn facts(plan: &Plan) -> DeviceFacts<'_> {
    DeviceFacts {
        plan,
        paid_minor: 0,
        released: false,
        lender_lock: None,
        reminders: None,
        extended_until: None,
        release_at: None,
    }
}

fn issue_under(f: &DeviceFacts<'_>, p: &Profile, apps: &[String], now: i64) -> Entitlement {
    let lender = lender();
    let e = entitlement_under(
        f,
        &IssueContext {
            lender_id: "acme",
            device_id: "dev-1",
            seq: 3,
            now,
            nonce: None,
            jitter: 0.0,
            lender: &lender,
        },
        Terms {
            profile: p,
            payment_apps: apps,
        },
    );
    e.validate(UrlPolicy::STRICT).expect("valid entitlement");
    e
}

const DUE: i64 = T0 + 30 * DAY;

#[test]
fn permissive_signs_the_v1_meaning_with_the_lenders_payment_apps() {
    let p = plan(7, Some(30));
    let apps = vec!["com.safaricom.mpesa".to_string()];
    let e = issue_under(&facts(&p), profile("permissive"), &apps, T0);
    assert_eq!(e.lock_at, DUE + 7 * DAY);
    let x = e.escalation.expect("a ladder");
    assert_eq!(x.notice_at, DUE + 6 * DAY);
    assert_eq!((x.restrict_at, x.notice_min()), (None, DAY as u64));
    assert_eq!(x.payment_apps, apps);
    assert!(x.essentials.is_empty() && !x.private_details);
    assert_eq!(e.offline_lock_after_s, Some(30 * DAY as u64));
    // Without payment apps it is exactly what an absent ladder means: left out.
    let e = issue_under(&facts(&p), profile("permissive"), &[], T0);
    assert_eq!(e.escalation, None);
    assert_eq!(e.ladder(), Escalation::implied_by(DUE + 7 * DAY));
}

#[test]
fn rbi_draft_notices_at_60_days_restricts_at_90_and_never_locks() {
    let p = plan(90, None);
    let e = issue_under(&facts(&p), profile("in-rbi-draft"), &[], T0);
    let x = e.escalation.expect("a ladder");
    assert_eq!(x.notice_at, DUE + 60 * DAY);
    assert_eq!(x.notice_min(), 21 * DAY as u64);
    assert_eq!(x.restrict_at, Some(DUE + 90 * DAY));
    assert_eq!(e.lock_at, NEVER);
    assert!(x.private_details && !x.essentials.is_empty());
    assert_eq!(e.offline_lock_after_s, None);
}

#[test]
fn rbi_draft_holds_a_plan_stored_before_the_profile_to_its_minimums() {
    // Grace 7 and an offline lock, registered under permissive, then the lender switched.
    let p = plan(7, Some(30));
    let e = issue_under(&facts(&p), profile("in-rbi-draft"), &[], T0);
    let x = e.escalation.expect("a ladder");
    assert_eq!(x.restrict_at, Some(DUE + 90 * DAY));
    assert_eq!((e.lock_at, e.offline_lock_after_s), (NEVER, None));
}

#[test]
fn br_ce_notices_the_day_after_due_for_three_days_then_restricts() {
    let p = plan(10, None);
    let e = issue_under(&facts(&p), profile("br-ce"), &[], T0);
    let x = e.escalation.expect("a ladder");
    assert_eq!(x.notice_at, DUE + DAY);
    assert_eq!(x.notice_min(), 3 * DAY as u64);
    assert_eq!(x.restrict_at, Some(DUE + 10 * DAY));
    assert_eq!(e.lock_at, NEVER);
    assert!(x.essentials.contains(&"br.gov.meugovbr".to_string()));
}

#[test]
fn ph_keeps_the_plan_and_hides_the_amounts() {
    let p = plan(7, Some(30));
    let e = issue_under(&facts(&p), profile("ph-sec-mc18"), &[], T0);
    let x = e.escalation.expect("a ladder");
    assert_eq!(e.lock_at, DUE + 7 * DAY);
    assert_eq!(x.notice_at, DUE + 6 * DAY);
    assert!(x.private_details && x.restrict_at.is_none());
}

#[test]
fn a_lender_lock_carries_the_same_ladder() {
    let p = plan(7, None);
    let f = DeviceFacts {
        lender_lock: Some("call us"),
        ..facts(&p)
    };
    let e = issue_under(&f, profile("ph-sec-mc18"), &[], T0);
    assert_eq!(e.state, EntitlementState::Locked);
    assert_eq!(e.escalation.expect("a ladder").notice_at, DUE + 6 * DAY);
}

#[test]
fn completing_and_released_devices_carry_no_ladder() {
    let p = plan(7, None);
    let completing = DeviceFacts {
        paid_minor: 3_000,
        release_at: Some(T0 + DAY),
        ..facts(&p)
    };
    assert!(
        issue_under(&completing, profile("br-ce"), &[], T0)
            .escalation
            .is_none()
    );
    let released = DeviceFacts {
        released: true,
        ..facts(&p)
    };
    assert!(
        issue_under(&released, profile("br-ce"), &[], T0)
            .escalation
            .is_none()
    );
}

#[test]
fn check_ins_are_hourly_near_the_restricted_step() {
    let p = plan(90, None);
    let e = issue_under(&facts(&p), profile("in-rbi-draft"), &[], DUE + 89 * DAY);
    assert_eq!(e.next_checkin, DUE + 89 * DAY + HOUR);
}

#[test]
fn graded_moves_the_restriction_with_an_extension() {
    let p = plan(30, None);
    let graded = profile("graded");
    let plain = issue_under(&facts(&p), graded, &[], DUE);
    let x = plain.ladder();
    assert_eq!(x.notice_at, DUE + 7 * DAY);
    assert_eq!(x.restrict_at, Some(DUE + 14 * DAY));
    assert_eq!(plain.lock_at, DUE + 30 * DAY);
    // The lender promises ten more days: restricted and locked ten days later each, the
    // notice still from its first day (the customer is warned as early as allowed).
    let f = DeviceFacts {
        extended_until: Some(DUE + 40 * DAY),
        ..facts(&p)
    };
    let extended = issue_under(&f, graded, &[], DUE);
    let y = extended.ladder();
    assert_eq!(y.notice_at, DUE + 7 * DAY);
    assert_eq!(y.restrict_at, Some(DUE + 24 * DAY));
    assert_eq!(extended.lock_at, DUE + 40 * DAY);
}

/// Any profile the file rules allow.
fn any_profile() -> impl Strategy<Value = Profile> {
    (
        0usize..compliance::profiles().expect("profiles").len(),
        proptest::option::of(0u32..120),
        1u32..=90,
        proptest::option::of(0u32..200),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0u32..200),
    )
        .prop_map(
            |(base, notice_dpd, notice_days, restricted_dpd, required, locked, locked_dpd)| {
                let mut p = compliance::profiles().expect("profiles")[base].clone();
                p.notice.min_days_past_due = notice_dpd;
                p.notice.min_days = notice_days;
                p.restricted.min_days_past_due = restricted_dpd;
                p.restricted.required = required || !locked;
                p.locked.allowed = locked;
                p.locked.min_days_past_due = locked_dpd;
                p.lender_lock.allowed = locked && p.lender_lock.allowed;
                p
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_signed_ladder_validates_and_respects_the_profile(
        p in any_profile(),
        grace in 0u32..=365,
        offline in proptest::option::of(1u32..60),
        paid in 0u64..=3_000,
        extension in proptest::option::of(0i64..400),
        lender_locked in any::<bool>(),
        now_days in -30i64..500,
    ) {
        let plan = plan(grace, offline);
        let now = T0 + now_days * DAY;
        let f = DeviceFacts {
            paid_minor: paid,
            extended_until: extension.map(|d| DUE + d * DAY),
            lender_lock: lender_locked.then_some("call us"),
            // Paid in full: completing for two days from now.
            release_at: (paid >= 3_000).then_some(now + 2 * DAY),
            ..facts(&plan)
        };
        // issue_under asserts the device's own field rules.
        let e = issue_under(&f, &p, &[], now);
        let Some((inst, _)) = plan.first_unpaid(paid) else {
            prop_assert!(e.escalation.is_none());
            return Ok(());
        };
        let due = inst.due;
        // The effective ladder: the signed one, or what its absence means (§3.7).
        prop_assert!(e.escalation.is_some() || e.ladder() == Escalation::implied_by(e.lock_at));
        let x = e.ladder();
        let day = |d: Option<u32>| due + i64::from(d.unwrap_or(0)) * DAY;
        let f_s = p.notice_min_s() as i64;
        prop_assert_eq!(x.notice_min(), p.notice_min_s());
        if let Some(d) = p.notice.min_days_past_due {
            prop_assert!(x.notice_at >= day(Some(d)));
        }
        let first = x.restrict_at.unwrap_or(e.lock_at);
        prop_assert!(first >= x.notice_at + f_s);
        prop_assert!(e.lock_at >= facts(&plan).plan.lock_at(paid).unwrap_or(0));
        if p.restricted.required {
            let r = x.restrict_at.expect("a required restricted step");
            prop_assert!(r >= day(p.restricted.min_days_past_due));
        } else {
            prop_assert!(x.restrict_at.is_none());
        }
        if p.locked.allowed {
            prop_assert!(e.lock_at >= day(p.locked.min_days_past_due));
        } else {
            prop_assert_eq!(e.lock_at, NEVER);
            prop_assert_eq!(e.offline_lock_after_s, None);
        }
        prop_assert_eq!(x.private_details, p.screen.private_details);
        prop_assert_eq!(&x.essentials, &p.essentials);
    }
}
