//! Each shipped file loads and says what docs/COMPLIANCE.md says it does; a bad file is a
//! clear error; the rules refuse what each profile forbids.

use finlock_core::protocol::ReminderPolicy;

use super::rules::{Refusal, check_lender_lock, check_plan, check_reminders};
use super::*;
use crate::policy::{DAY, Plan, PlanInstallment, default_reminders};

const T0: i64 = 1_767_225_600;

fn profile(id: &str) -> &'static Profile {
    find(id).expect("profiles load").expect("shipped")
}

fn plan(grace_days: u32, offline: Option<u32>) -> Plan {
    Plan {
        currency: "KES".into(),
        grace_days,
        offline_lock_after_days: offline,
        installments: vec![PlanInstallment {
            due: T0 + 30 * DAY,
            amount_minor: 1_000,
        }],
    }
}

fn rule_of(r: Result<(), Refusal>) -> Option<&'static str> {
    r.err().map(|e| e.rule)
}

#[test]
fn every_shipped_file_loads_the_default_first() {
    check().expect("every shipped profile is valid");
    let ids: Vec<&str> = profiles().unwrap().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "permissive",
            "in-rbi-draft",
            "br-ce",
            "ph-sec-mc18",
            "graded"
        ]
    );
    assert_eq!(ids[0], DEFAULT_PROFILE);
    for p in profiles().unwrap() {
        assert!(!p.sources.is_empty(), "{} cites its texts", p.id);
    }
}

/// Every file in server/compliance/ is shipped (listed in FILES) and every listed file is
/// there: a profile written but not registered would silently never be offered.
#[test]
fn every_file_in_the_directory_is_shipped_and_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("compliance");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("server/compliance/ is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|(name, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for name in &on_disk {
        let text = std::fs::read_to_string(dir.join(name)).expect("readable");
        let p = Profile::parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(find(&p.id).expect("profiles load"), Some(&p), "{name}");
    }
}

#[test]
fn drafts_and_court_actions_say_so() {
    assert!(profile("in-rbi-draft").draft);
    assert!(profile("br-ce").draft);
    assert!(!profile("ph-sec-mc18").draft);
    // A recommendation, and it says so, not a rule it claims a regulator makes.
    let graded = profile("graded");
    assert!(!graded.draft);
    assert!(graded.name.contains("not a law"), "{}", graded.name);
    assert!(graded.sources[0].status.contains("recommendation"));
    assert!(profile("in-rbi-draft").sources[0].status.contains("draft"));
    assert!(profile("br-ce").sources[0].status.contains("court action"));
}

#[test]
fn each_profile_holds_the_numbers_it_cites() {
    let rbi = profile("in-rbi-draft");
    assert_eq!(rbi.notice.min_days_past_due, Some(60));
    assert_eq!(rbi.notice.min_days, 21);
    assert_eq!(rbi.restricted.min_days_past_due, Some(90));
    assert!(rbi.restricted.required && !rbi.locked.allowed && !rbi.lender_lock.allowed);
    assert!(rbi.screen.private_details);
    let br = profile("br-ce");
    assert!(br.restricted.required && !br.locked.allowed && br.notice.min_days >= 1);
    assert!(!br.essentials.is_empty());
    let ph = profile("ph-sec-mc18");
    assert_eq!(ph.quiet_minutes(), Some((22 * 60, 6 * 60)));
    assert!(ph.screen.private_details);
    let graded = profile("graded");
    assert_eq!(graded.notice.min_days_past_due, Some(7));
    assert_eq!(graded.notice.min_days, 7);
    assert_eq!(graded.restricted.min_days_past_due, Some(14));
    assert!(graded.restricted.required && graded.locked.allowed);
    assert_eq!(graded.locked.min_days_past_due, Some(30));
    assert_eq!(graded.lender_lock.min_days_past_due, Some(30));
    assert_eq!(graded.quiet_minutes(), Some((21 * 60, 7 * 60)));
    assert!(graded.screen.private_details && graded.essentials.is_empty());
    let permissive = profile("permissive");
    assert_eq!(permissive.notice.min_days, 1);
    assert!(permissive.locked.allowed && permissive.lender_lock.allowed);
}

#[test]
fn a_bad_file_is_refused_with_its_name_and_key() {
    let good = FILES[0].1;
    let cases = [
        (
            good.replace("min_days = 1", "min_days = 0"),
            "notice.min_days",
        ),
        (
            good.replace("min_days = 1", "min_days = 91"),
            "notice.min_days",
        ),
        (
            good.replace("essentials = []", "essentials = [\"mpesa\"]"),
            "essentials[0]",
        ),
        (
            good.replace("date = \"2026-12-03\"", "date = \"3 Dec\""),
            "sources[0].date",
        ),
        (
            good.replace("[locked]\nallowed = true", "[locked]\nallowed = false"),
            "restricted.required",
        ),
        (format!("{good}\nsurprise = 1\n"), "unknown field"),
        (
            good.replace("id = \"permissive\"", "id = \"other\""),
            "other.toml",
        ),
    ];
    for (text, needle) in cases {
        let err = Profile::parse("permissive.toml", &text).expect_err(needle);
        assert!(
            err.starts_with("compliance profile permissive.toml") && err.contains(needle),
            "{needle}: {err}"
        );
    }
}

#[test]
fn permissive_refuses_nothing_a_plan_can_say() {
    let p = profile("permissive");
    assert_eq!(rule_of(check_plan(p, &plan(0, Some(1)))), None);
    assert_eq!(rule_of(check_reminders(p, None)), None);
    assert_eq!(rule_of(check_lender_lock(p, None, T0)), None);
}

#[test]
fn rbi_draft_refuses_a_restriction_before_90_days_and_any_full_lock() {
    let p = profile("in-rbi-draft");
    assert_eq!(
        rule_of(check_plan(p, &plan(89, None))),
        Some("restricted.min_days_past_due")
    );
    assert_eq!(rule_of(check_plan(p, &plan(90, None))), None);
    assert_eq!(
        rule_of(check_plan(p, &plan(120, Some(30)))),
        Some("locked.allowed")
    );
    assert_eq!(
        rule_of(check_lender_lock(p, Some(T0 - 200 * DAY), T0)),
        Some("lender_lock.allowed")
    );
}

#[test]
fn br_ce_refuses_a_restriction_before_the_notice_period_and_any_full_lock() {
    let p = profile("br-ce");
    assert_eq!(
        rule_of(check_plan(p, &plan(3, None))),
        Some("notice.min_days")
    );
    assert_eq!(rule_of(check_plan(p, &plan(4, None))), None);
    assert_eq!(
        rule_of(check_plan(p, &plan(7, Some(30)))),
        Some("locked.allowed")
    );
    assert_eq!(
        rule_of(check_lender_lock(p, Some(T0 - 10 * DAY), T0)),
        Some("lender_lock.allowed")
    );
}

#[test]
fn ph_refuses_reminders_that_are_not_quiet_from_22_to_6() {
    let p = profile("ph-sec-mc18");
    // The server's defaults (21:00–08:00) cover it.
    assert_eq!(rule_of(check_reminders(p, None)), None);
    let with = |start: &str, end: &str| ReminderPolicy {
        quiet_start: start.into(),
        quiet_end: end.into(),
        ..default_reminders()
    };
    for (start, end) in [("22:00", "06:00"), ("20:00", "07:30"), ("21:59", "21:58")] {
        assert_eq!(
            rule_of(check_reminders(p, Some(&with(start, end)))),
            None,
            "{start}–{end}"
        );
    }
    for (start, end) in [
        ("22:30", "06:00"),
        ("22:00", "05:59"),
        ("23:00", "08:00"),
        ("09:00", "09:00"), // no quiet hours at all
        ("01:00", "05:00"),
        ("00:00", "23:59"), // 23:59 itself is not quiet
    ] {
        assert_eq!(
            rule_of(check_reminders(p, Some(&with(start, end)))),
            Some("reminders.quiet_hours"),
            "{start}–{end}"
        );
    }
    assert_eq!(rule_of(check_plan(p, &plan(0, Some(1)))), None);
    assert_eq!(rule_of(check_lender_lock(p, None, T0)), None);
}

#[test]
fn graded_refuses_a_lock_before_30_days_and_night_reminders() {
    let p = profile("graded");
    assert_eq!(
        rule_of(check_plan(p, &plan(29, Some(30)))),
        Some("locked.min_days_past_due")
    );
    assert_eq!(rule_of(check_plan(p, &plan(30, Some(30)))), None);
    assert_eq!(
        rule_of(check_lender_lock(p, Some(T0 - 29 * DAY), T0)),
        Some("lender_lock.min_days_past_due")
    );
    assert_eq!(rule_of(check_lender_lock(p, Some(T0 - 30 * DAY), T0)), None);
    // The server's defaults (21:00–08:00) are quiet through 21:00–07:00.
    assert_eq!(rule_of(check_reminders(p, None)), None);
    let late = ReminderPolicy {
        quiet_start: "22:00".into(),
        quiet_end: "07:00".into(),
        ..default_reminders()
    };
    assert_eq!(
        rule_of(check_reminders(p, Some(&late))),
        Some("reminders.quiet_hours")
    );
}

#[test]
fn a_lender_lock_after_n_days_past_due_counts_from_the_first_unpaid_due_date() {
    let mut p = profile("permissive").clone();
    p.lender_lock.min_days_past_due = Some(30);
    let rule = Some("lender_lock.min_days_past_due");
    assert_eq!(rule_of(check_lender_lock(&p, None, T0)), rule);
    assert_eq!(
        rule_of(check_lender_lock(&p, Some(T0 - 30 * DAY + 1), T0)),
        rule
    );
    assert_eq!(
        rule_of(check_lender_lock(&p, Some(T0 - 30 * DAY), T0)),
        None
    );
}

#[test]
fn a_refusal_is_a_compliance_problem_naming_rule_and_profile() {
    let p = profile("in-rbi-draft");
    let err = check_lender_lock(p, None, T0).unwrap_err().into_error(p);
    assert_eq!(err.slug(), "compliance");
    let text = err.to_string();
    assert!(
        text.contains("in-rbi-draft") && text.contains("lender_lock.allowed"),
        "{text}"
    );
}
