//! One test per rule of PROTOCOL §7 and issue 3, and a table per time zone with the
//! local times a customer would see on their phone.

use jiff::Timestamp;

use super::*;
use crate::fixtures::{self, DAY, T0};
use crate::protocol::{Account, Installment, InstallmentStatus};

const HOUR: i64 = 3_600;

fn ts(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<Timestamp>()
        .expect("RFC 3339 instant")
        .as_second()
}

fn tz(name: &str) -> TimeZone {
    zone(name).expect("bundled zone")
}

/// `2026-03-12T09:00+08:00`: what the customer's clock reads when `t` fires.
fn local(tz: &TimeZone, t: i64) -> String {
    Timestamp::from_second(t)
        .expect("in range")
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M%:z")
        .to_string()
}

/// An active plan with the given unpaid installments and a bare policy the tests
/// then adjust: no offsets, 09:00, no quiet hours, no overdue repeats, no locks.
fn plan(dues: &[i64]) -> Entitlement {
    let mut e = fixtures::entitlement(5, T0);
    e.account = Account {
        currency: "PHP".into(),
        amount_due_minor: 250_000,
        next_due: dues.first().copied(),
        installments: dues
            .iter()
            .map(|&due| Installment {
                due,
                amount_minor: 250_000,
                status: InstallmentStatus::Due,
            })
            .collect(),
    };
    e.lock_at = 4_000_000_000; // 2096: no lock in sight (0 would mean locked already)
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    e.reminders.offsets_s = vec![];
    e.reminders.hour_local = 9;
    e.reminders.quiet_start = "00:00".into();
    e.reminders.quiet_end = "00:00".into();
    e.reminders.overdue_every_s = 0;
    e
}

/// The fixture plan without its offline lock, which has tests of its own (a check-in
/// every 30 days is not what these tests are about).
fn fixture() -> Entitlement {
    let mut e = fixtures::entitlement(5, T0);
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    e
}

fn input(e: &Entitlement) -> ScheduleInput<'_> {
    ScheduleInput {
        entitlement: e,
        last_successful_checkin: e.iat,
        offline_extension_until: 0,
    }
}

/// The schedule as `kind local-time` lines, at most `n` of them.
fn table(e: &Entitlement, zone: &str, now: i64, n: usize) -> Vec<String> {
    let tz = tz(zone);
    schedule(&input(e), &tz, now)
        .iter()
        .take(n)
        .map(|r| format!("{} {}", r.kind.as_str(), local(&tz, r.fire_at)))
        .collect()
}

// ---- time zones -------------------------------------------------------------------------

#[test]
fn manila_full_cycle_until_the_lock() {
    let due = ts("2026-03-15T17:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![3 * DAY, DAY];
    e.reminders.quiet_start = "21:00".into();
    e.reminders.quiet_end = "08:00".into();
    e.reminders.overdue_every_s = DAY as u64;
    e.lock_at = due + 3 * DAY;
    assert_eq!(
        table(&e, "Asia/Manila", ts("2026-03-01T00:00:00+08:00"), 99),
        [
            "upcoming 2026-03-12T09:00+08:00",
            "upcoming 2026-03-14T09:00+08:00",
            "due_today 2026-03-15T09:00+08:00",
            "overdue 2026-03-16T09:00+08:00",
            "overdue 2026-03-17T09:00+08:00",
            // One day before the lock at 17:00; the third overdue moment is the lock itself.
            "final_warning 2026-03-17T17:00+08:00",
        ]
    );
}

#[test]
fn kolkata_half_hour_offset() {
    let mut e = plan(&[ts("2026-03-15T00:00:00Z")]); // 05:30 IST
    e.reminders.offsets_s = vec![DAY];
    let events = schedule(&input(&e), &tz("Asia/Kolkata"), ts("2026-03-01T00:00:00Z"));
    let fire: Vec<i64> = events.iter().map(|r| r.fire_at).collect();
    assert_eq!(
        fire,
        [ts("2026-03-14T03:30:00Z"), ts("2026-03-15T03:30:00Z")]
    );
    assert_eq!(
        table(&e, "Asia/Kolkata", ts("2026-03-01T00:00:00Z"), 99),
        [
            "upcoming 2026-03-14T09:00+05:30",
            "due_today 2026-03-15T09:00+05:30",
        ]
    );
}

#[test]
fn kathmandu_quarter_hour_offset_and_local_due_day() {
    // Due 20:00 UTC on the 14th is 01:45 on the 15th in Kathmandu: the local day counts.
    let due = ts("2026-03-14T20:00:00Z");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![DAY];
    e.reminders.overdue_every_s = 2 * DAY as u64;
    e.reminders.quiet_start = "22:00".into();
    e.reminders.quiet_end = "07:00".into();
    e.lock_at = due + 5 * DAY;
    assert_eq!(
        table(&e, "Asia/Kathmandu", ts("2026-03-01T00:00:00Z"), 99),
        [
            "upcoming 2026-03-14T09:00+05:45",
            "due_today 2026-03-15T09:00+05:45",
            "overdue 2026-03-17T09:00+05:45",
            // The lock is at 01:45; one day before is in quiet hours, so 07:00.
            "final_warning 2026-03-19T07:00+05:45",
            "overdue 2026-03-19T09:00+05:45",
        ]
    );
}

#[test]
fn nairobi_hour_inside_quiet_hours_spanning_midnight() {
    let mut e = plan(&[ts("2026-03-14T22:30:00Z")]); // 01:30 EAT on the 15th
    e.reminders.offsets_s = vec![2 * DAY];
    e.reminders.hour_local = 22;
    e.reminders.quiet_start = "21:00".into();
    e.reminders.quiet_end = "07:00".into();
    e.reminders.overdue_every_s = DAY as u64;
    assert_eq!(
        table(&e, "Africa/Nairobi", ts("2026-03-01T00:00:00Z"), 5),
        [
            "upcoming 2026-03-14T07:00+03:00",
            "due_today 2026-03-16T07:00+03:00",
            "overdue 2026-03-17T07:00+03:00",
            "overdue 2026-03-18T07:00+03:00",
            "overdue 2026-03-19T07:00+03:00",
        ]
    );
}

#[test]
fn sao_paulo_due_at_local_midnight() {
    let mut e = plan(&[ts("2026-03-15T03:00:00Z")]); // 00:00 BRT
    e.reminders.offsets_s = vec![DAY, 7 * DAY];
    assert_eq!(
        table(&e, "America/Sao_Paulo", ts("2026-03-01T00:00:00Z"), 99),
        [
            "upcoming 2026-03-08T09:00-03:00",
            "upcoming 2026-03-14T09:00-03:00",
            "due_today 2026-03-15T09:00-03:00",
        ]
    );
}

/// New York springs forward on 2026-03-08: 02:00 EST becomes 03:00 EDT.
fn new_york_spring_plan() -> Entitlement {
    let due = ts("2026-03-08T12:00:00-04:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![DAY];
    e.reminders.overdue_every_s = DAY as u64;
    e.lock_at = due + 2 * DAY;
    e
}

#[test]
fn new_york_spring_gap_moves_forward() {
    let mut e = new_york_spring_plan();
    e.reminders.hour_local = 2;
    assert_eq!(
        table(&e, "America/New_York", ts("2026-03-01T00:00:00Z"), 99),
        [
            "upcoming 2026-03-07T02:00-05:00",
            // 02:00 does not exist that day: the clock reads 03:00.
            "due_today 2026-03-08T03:00-04:00",
            "overdue 2026-03-09T02:00-04:00",
            "final_warning 2026-03-09T12:00-04:00",
        ]
    );
}

#[test]
fn new_york_quiet_end_at_0230_in_the_gap() {
    let mut e = new_york_spring_plan();
    e.reminders.hour_local = 1;
    e.reminders.quiet_start = "23:00".into();
    e.reminders.quiet_end = "02:30".into();
    assert_eq!(
        table(&e, "America/New_York", ts("2026-03-01T00:00:00Z"), 99),
        [
            "upcoming 2026-03-07T02:30-05:00",
            // 02:30 does not exist on the spring-forward day: 03:30 EDT.
            "due_today 2026-03-08T03:30-04:00",
            "overdue 2026-03-09T02:30-04:00",
            "final_warning 2026-03-09T12:00-04:00",
        ]
    );
}

#[test]
fn new_york_autumn_fold_takes_the_first_occurrence() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST, so 01:00–02:00 happens twice.
    let due = ts("2026-11-01T12:00:00-05:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![DAY];
    e.reminders.overdue_every_s = DAY as u64;
    e.reminders.hour_local = 1;
    e.lock_at = due + 2 * DAY;
    assert_eq!(
        table(&e, "America/New_York", ts("2026-10-20T00:00:00Z"), 99),
        [
            "upcoming 2026-10-31T01:00-04:00",
            "due_today 2026-11-01T01:00-04:00",
            "overdue 2026-11-02T01:00-05:00",
            "final_warning 2026-11-02T12:00-05:00",
        ]
    );
}

#[test]
fn berlin_spring_gap() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST.
    let due = ts("2026-03-29T12:00:00+02:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![DAY];
    e.reminders.overdue_every_s = DAY as u64;
    e.reminders.hour_local = 2;
    e.lock_at = due + 2 * DAY;
    assert_eq!(
        table(&e, "Europe/Berlin", ts("2026-03-20T00:00:00Z"), 99),
        [
            "upcoming 2026-03-28T02:00+01:00",
            "due_today 2026-03-29T03:00+02:00",
            "overdue 2026-03-30T02:00+02:00",
            "final_warning 2026-03-30T12:00+02:00",
        ]
    );
}

#[test]
fn berlin_autumn_fold() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:00–03:00 happens twice.
    let due = ts("2026-10-25T12:00:00+01:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![DAY];
    e.reminders.overdue_every_s = DAY as u64;
    e.reminders.hour_local = 2;
    e.lock_at = due + 2 * DAY;
    assert_eq!(
        table(&e, "Europe/Berlin", ts("2026-10-15T00:00:00Z"), 99),
        [
            "upcoming 2026-10-24T02:00+02:00",
            "due_today 2026-10-25T02:00+02:00",
            "overdue 2026-10-26T02:00+01:00",
            "final_warning 2026-10-26T12:00+01:00",
        ]
    );
}

#[test]
fn berlin_final_warning_is_one_calendar_day_before_across_dst() {
    let due = ts("2026-03-20T12:00:00+01:00");
    let mut e = plan(&[due]);
    e.lock_at = ts("2026-03-29T12:00:00+02:00");
    let berlin = tz("Europe/Berlin");
    let events = schedule(&input(&e), &berlin, ts("2026-03-25T00:00:00Z"));
    let warning = events
        .iter()
        .find(|r| r.kind == ReminderKind::FinalWarning)
        .expect("a final warning");
    assert_eq!(local(&berlin, warning.fire_at), "2026-03-28T12:00+01:00");
    assert_eq!(e.lock_at - warning.fire_at, 23 * HOUR);
}

// ---- rules ------------------------------------------------------------------------------

#[test]
fn paid_installments_produce_nothing() {
    let mut e = fixture();
    e.lock_at = 4_000_000_000; // 2096: no lock in sight (0 would mean locked already)
    for inst in &mut e.account.installments {
        inst.status = InstallmentStatus::Paid;
    }
    assert_eq!(schedule(&input(&e), &tz("Asia/Manila"), T0), []);
}

#[test]
fn paid_installment_among_unpaid_is_skipped() {
    let e = fixture();
    let events = schedule(&input(&e), &tz("Asia/Manila"), T0);
    assert!(!events.is_empty());
    let paid: Vec<i64> = e.account.installments[..2].iter().map(|i| i.due).collect();
    assert!(
        events
            .iter()
            .all(|r| r.installment_due.is_none_or(|d| !paid.contains(&d)))
    );
}

#[test]
fn released_produces_nothing() {
    let mut e = fixture();
    e.state = EntitlementState::Released;
    let manila = tz("Asia/Manila");
    assert_eq!(schedule(&input(&e), &manila, T0), []);
    let fired = FiredReminders::default();
    assert_eq!(fired.due_now(&input(&e), &manila, T0 + 100 * DAY), None);
    assert_eq!(fired.next_event(&input(&e), &manila, T0), None);
}

#[test]
fn locked_state_produces_nothing() {
    let mut e = fixture();
    e.state = EntitlementState::Locked;
    let manila = tz("Asia/Manila");
    assert_eq!(schedule(&input(&e), &manila, T0), []);
    assert_eq!(
        FiredReminders::default().due_now(&input(&e), &manila, T0 + 90 * DAY),
        None
    );
}

#[test]
fn reached_payment_lock_produces_nothing() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    assert_eq!(schedule(&input(&e), &manila, e.lock_at), []);
    // The overdue reminders of the days before the lock are not shown on the lock screen.
    assert_eq!(
        FiredReminders::default().due_now(&input(&e), &manila, e.lock_at + HOUR),
        None
    );
}

#[test]
fn nothing_fires_at_or_after_the_lock() {
    let e = fixture();
    let events = schedule(&input(&e), &tz("Asia/Manila"), T0);
    assert!(events.iter().all(|r| r.fire_at < e.lock_at));
    // The fourth installment falls due after the lock: nothing about it yet.
    let fourth = e.account.installments[3].due;
    assert!(events.iter().all(|r| r.installment_due != Some(fourth)));
}

#[test]
fn offline_code_postpones_the_payment_lock() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let extended = ScheduleInput {
        offline_extension_until: e.lock_at + 3 * DAY,
        ..input(&e)
    };
    let events = schedule(&extended, &manila, e.lock_at - 2 * DAY);
    let overdue_after_lock_at = events
        .iter()
        .filter(|r| r.kind == ReminderKind::Overdue && r.fire_at >= e.lock_at)
        .count();
    assert_eq!(overdue_after_lock_at, 3);
    let warning = events
        .iter()
        .find(|r| r.kind == ReminderKind::FinalWarning)
        .expect("a final warning");
    assert_eq!(warning.fire_at, e.lock_at + 2 * DAY);
    assert!(events.iter().all(|r| r.fire_at < e.lock_at + 3 * DAY));
}

#[test]
fn final_warning_names_the_oldest_unpaid_installment_and_all_that_is_due() {
    let e = fixture();
    let events = schedule(&input(&e), &tz("Asia/Manila"), T0);
    let warning = events
        .iter()
        .find(|r| r.kind == ReminderKind::FinalWarning)
        .expect("a final warning");
    assert_eq!(warning.installment_due, Some(e.account.installments[2].due));
    assert_eq!(warning.amount_minor, e.account.amount_due_minor);
    assert_eq!(warning.severity, Severity::Critical);
    assert!(warning.persistent);
}

#[test]
fn lock_set_less_than_a_day_ahead_is_announced_at_once() {
    let mut e = plan(&[ts("2026-03-10T12:00:00+08:00")]);
    e.iat = ts("2026-03-12T10:00:00+08:00");
    e.lock_at = ts("2026-03-12T18:00:00+08:00");
    let events = schedule(&input(&e), &tz("Asia/Manila"), e.iat);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, ReminderKind::FinalWarning);
    assert_eq!(events[0].fire_at, e.iat);
}

#[test]
fn warning_that_only_fits_in_quiet_hours_is_dropped() {
    // Issued at 23:00 for a lock at 05:00: every moment in between is quiet.
    let mut e = plan(&[ts("2026-02-10T12:00:00+08:00")]);
    e.reminders.quiet_start = "21:00".into();
    e.reminders.quiet_end = "08:00".into();
    e.iat = ts("2026-03-12T23:00:00+08:00");
    e.lock_at = ts("2026-03-13T05:00:00+08:00");
    let manila = tz("Asia/Manila");
    assert_eq!(schedule(&input(&e), &manila, e.iat), []);
    assert_eq!(
        FiredReminders::default().due_now(&input(&e), &manila, e.iat + HOUR),
        None
    );
}

#[test]
fn offline_warning_fires_before_the_offline_lock() {
    let mut e = plan(&[]);
    e.offline_lock_after_s = Some(30 * DAY as u64);
    e.offline_warning_s = Some(3 * DAY as u64);
    let last = ts("2026-03-01T14:00:00+08:00");
    let input = ScheduleInput {
        entitlement: &e,
        last_successful_checkin: last,
        offline_extension_until: 0,
    };
    let events = schedule(&input, &tz("Asia/Manila"), last);
    assert_eq!(events.len(), 1);
    let warning = &events[0];
    assert_eq!(warning.kind, ReminderKind::OfflineWarning);
    assert_eq!(warning.fire_at, last + 27 * DAY);
    assert_eq!(warning.installment_due, None);
    assert_eq!(warning.amount_minor, 0);
    assert!(warning.persistent);

    // An offline code reaching further postpones the offline lock, and the warning.
    let extended = ScheduleInput {
        offline_extension_until: last + 40 * DAY,
        ..input
    };
    let events = schedule(&extended, &tz("Asia/Manila"), last);
    assert_eq!(events[0].fire_at, last + 37 * DAY);
}

#[test]
fn warning_is_never_moved_past_its_lock() {
    // The offline lock falls at 03:00; warning an hour before is quiet, and 08:00 is
    // too late: it fires at 20:59, before the quiet hours began.
    let mut e = plan(&[]);
    e.reminders.quiet_start = "21:00".into();
    e.reminders.quiet_end = "08:00".into();
    e.offline_lock_after_s = Some(30 * DAY as u64);
    e.offline_warning_s = Some(HOUR as u64);
    let input = ScheduleInput {
        entitlement: &e,
        last_successful_checkin: ts("2026-03-01T03:00:00+08:00"),
        offline_extension_until: 0,
    };
    let manila = tz("Asia/Manila");
    let events = schedule(&input, &manila, ts("2026-03-01T03:00:00+08:00"));
    assert_eq!(events.len(), 1);
    assert_eq!(local(&manila, events[0].fire_at), "2026-03-30T20:59+08:00");
}

#[test]
fn events_on_the_same_instant_merge_into_the_most_severe() {
    // Installment A is overdue on the day installment B is "upcoming": both at 09:00.
    let a = ts("2026-03-10T12:00:00+08:00");
    let b = ts("2026-03-13T12:00:00+08:00");
    let mut e = plan(&[a, b]);
    e.reminders.offsets_s = vec![2 * DAY];
    e.reminders.overdue_every_s = DAY as u64;
    e.lock_at = ts("2026-03-12T18:00:00+08:00");
    let manila = tz("Asia/Manila");
    let events = schedule(&input(&e), &manila, ts("2026-03-01T00:00:00Z"));
    let at_11th: Vec<&Reminder> = events
        .iter()
        .filter(|r| local(&manila, r.fire_at) == "2026-03-11T09:00+08:00")
        .collect();
    assert_eq!(at_11th.len(), 1);
    assert_eq!(at_11th[0].kind, ReminderKind::Overdue);
    assert_eq!(at_11th[0].installment_due, Some(a));
}

#[test]
fn quiet_hours_collapse_merges_into_the_warning() {
    // The final warning (01:00) moves to 08:00, where the 08:00 overdue reminder is.
    let due = ts("2026-03-10T12:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.hour_local = 8;
    e.reminders.quiet_start = "21:00".into();
    e.reminders.quiet_end = "08:00".into();
    e.reminders.overdue_every_s = DAY as u64;
    e.lock_at = ts("2026-03-14T01:00:00+08:00");
    let manila = tz("Asia/Manila");
    let events = schedule(&input(&e), &manila, ts("2026-03-01T00:00:00Z"));
    let at_13th: Vec<&Reminder> = events
        .iter()
        .filter(|r| local(&manila, r.fire_at) == "2026-03-13T08:00+08:00")
        .collect();
    assert_eq!(at_13th.len(), 1);
    assert_eq!(at_13th[0].kind, ReminderKind::FinalWarning);
}

#[test]
fn hourly_overdue_repeats_once_a_day() {
    let due = ts("2026-03-10T12:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.overdue_every_s = HOUR as u64;
    e.lock_at = due + 5 * DAY;
    assert_eq!(
        table(&e, "Asia/Manila", ts("2026-03-01T00:00:00Z"), 99),
        [
            "due_today 2026-03-10T09:00+08:00",
            "overdue 2026-03-11T09:00+08:00",
            "overdue 2026-03-12T09:00+08:00",
            "overdue 2026-03-13T09:00+08:00",
            "overdue 2026-03-14T09:00+08:00",
            "final_warning 2026-03-14T12:00+08:00",
            "overdue 2026-03-15T09:00+08:00",
        ]
    );
}

#[test]
fn overdue_every_zero_means_no_repeats() {
    let due = ts("2026-03-10T12:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.overdue_every_s = 0;
    assert_eq!(
        table(&e, "Asia/Manila", ts("2026-03-01T00:00:00Z"), 99),
        ["due_today 2026-03-10T09:00+08:00"]
    );
}

#[test]
fn negative_offset_is_an_overdue_nudge_and_same_day_offset_is_due_today() {
    let due = ts("2026-03-10T17:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.offsets_s = vec![-2 * DAY, 2 * HOUR];
    assert_eq!(
        table(&e, "Asia/Manila", ts("2026-03-01T00:00:00Z"), 99),
        [
            "due_today 2026-03-10T09:00+08:00",
            "overdue 2026-03-12T09:00+08:00",
        ]
    );
}

#[test]
fn schedule_is_sorted_in_the_future_and_bounded() {
    // 120 installments, daily overdue, no lock: far more than the bound.
    let dues: Vec<i64> = (0..120).map(|i| T0 + i * 3 * DAY).collect();
    let mut e = plan(&dues);
    e.reminders.offsets_s = (1..=32).map(|d| d * HOUR * 7).collect();
    e.reminders.overdue_every_s = DAY as u64;
    let now = T0 + 30 * DAY + 1;
    let events = schedule(&input(&e), &tz("Asia/Manila"), now);
    assert_eq!(events.len(), MAX_SCHEDULED);
    assert!(events.windows(2).all(|w| w[0].fire_at < w[1].fire_at));
    assert!(events.iter().all(|r| r.fire_at >= now));
}

#[test]
fn unknown_zone_is_a_typed_error() {
    let err = zone("Mars/Olympus_Mons").expect_err("no such zone");
    assert_eq!(err.code(), "invalid_field");
    assert!(matches!(err, Error::InvalidField { ref field, .. } if field == "zone"));
    assert!(zone("Asia/Kathmandu").is_ok());
}

#[test]
fn kinds_and_severities_serialize_snake_case() {
    assert_eq!(
        serde_json::to_string(&ReminderKind::FinalWarning).expect("serializes"),
        "\"final_warning\""
    );
    assert_eq!(
        serde_json::to_string(&Severity::Critical).expect("serializes"),
        "\"critical\""
    );
    assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
}

// ---- ids --------------------------------------------------------------------------------

fn ids(events: &[Reminder]) -> Vec<(ReminderKind, Option<i64>, String)> {
    events
        .iter()
        .map(|r| (r.kind, r.installment_due, r.id.clone()))
        .collect()
}

#[test]
fn ids_do_not_depend_on_the_zone_when_travelling() {
    // Due 02:00 UTC: the 15th in Manila, still the 14th in São Paulo.
    let mut e = plan(&[ts("2026-03-15T02:00:00Z")]);
    e.reminders.offsets_s = vec![3 * DAY];
    let now = ts("2026-03-01T00:00:00Z");
    let manila = schedule(&input(&e), &tz("Asia/Manila"), now);
    let sao_paulo = schedule(&input(&e), &tz("America/Sao_Paulo"), now);
    assert_eq!(ids(&manila), ids(&sao_paulo));
    assert_eq!(manila[1].fire_at, ts("2026-03-15T01:00:00Z"));
    assert_eq!(sao_paulo[1].fire_at, ts("2026-03-14T12:00:00Z"));
}

#[test]
fn a_reminder_seen_before_a_flight_is_not_repeated_after_it() {
    // Shown in Manila on the 12th at 09:00 (01:00Z); the customer flies to São Paulo
    // where the same reminder would fire at 09:00 BRT on the 12th (12:00Z).
    let mut e = plan(&[ts("2026-03-15T02:00:00Z")]);
    e.reminders.offsets_s = vec![3 * DAY];
    let mut fired = FiredReminders::default();
    let shown_at = ts("2026-03-12T01:00:00Z");
    let upcoming = fired
        .due_now(&input(&e), &tz("Asia/Manila"), shown_at)
        .expect("the upcoming reminder");
    assert_eq!(upcoming.kind, ReminderKind::Upcoming);
    fired.mark_shown(&upcoming.id, shown_at);
    let next = fired
        .next_event(&input(&e), &tz("America/Sao_Paulo"), shown_at + HOUR)
        .expect("due today");
    assert_eq!(next.kind, ReminderKind::DueToday);
}

#[test]
fn ids_do_not_depend_on_now_or_hour_or_quiet_hours() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let early = schedule(&input(&e), &manila, T0);
    let later = schedule(&input(&e), &manila, T0 + 65 * DAY);
    assert!(!later.is_empty());
    assert!(later.iter().all(|r| early.contains(r)));

    let mut moved = e.clone();
    moved.reminders.hour_local = 18;
    moved.reminders.quiet_start = "00:00".into();
    moved.reminders.quiet_end = "00:00".into();
    let moved = schedule(&input(&moved), &manila, T0);
    assert_eq!(ids(&early), ids(&moved));
}

/// Three unpaid installments before the lock, and the same plan with the first of
/// them paid, as the server sends it with the next seq.
fn before_and_after_a_payment(overdue_every_s: u64) -> (Entitlement, Entitlement) {
    let mut e = fixture();
    e.lock_at = e.account.installments[4].due + 7 * DAY;
    e.reminders.overdue_every_s = overdue_every_s;
    let mut paid = e.clone();
    paid.seq = 6;
    paid.iat = T0 + DAY;
    paid.account.installments[2].status = InstallmentStatus::Paid;
    (e, paid)
}

#[test]
fn new_entitlement_replaces_the_schedule_cleanly() {
    let (e, paid) = before_and_after_a_payment(0);
    let manila = tz("Asia/Manila");
    let before = schedule(&input(&e), &manila, T0);
    let after = schedule(&input(&paid), &manila, T0 + DAY);

    let third = Some(e.account.installments[2].due);
    assert!(after.iter().all(|r| r.installment_due != third));
    // Everything else still applies, with the same id at the same moment.
    let kept: Vec<&Reminder> = before
        .iter()
        .filter(|r| r.installment_due != third)
        .collect();
    assert_eq!(kept.len(), 6); // 2 × (upcoming ×2, due today)
    for r in kept {
        assert!(after.contains(r), "{r:?} was dropped");
    }
    // The final warning named the paid installment; the new one names the next: a new
    // message, so a new id.
    let warning = |events: &[Reminder]| {
        events
            .iter()
            .find(|r| r.kind == ReminderKind::FinalWarning)
            .cloned()
            .expect("a final warning")
    };
    let (old, new) = (warning(&before), warning(&after));
    assert_eq!(new.installment_due, Some(e.account.installments[3].due));
    assert_ne!(old.id, new.id);
}

#[test]
fn a_payment_brings_back_what_its_overdue_reminders_had_merged_away() {
    // Daily overdue reminders for the third installment share 09:00 with every
    // reminder of the fourth, and win; once it is paid, the fourth's are back.
    let (e, paid) = before_and_after_a_payment(DAY as u64);
    let manila = tz("Asia/Manila");
    let fourth = Some(e.account.installments[3].due);
    let about_fourth = |e: &Entitlement, now: i64| {
        schedule(&input(e), &manila, now)
            .into_iter()
            .filter(|r| r.installment_due == fourth)
            .map(|r| r.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(about_fourth(&e, T0), []);
    assert_eq!(
        about_fourth(&paid, T0 + DAY)[..3],
        [
            ReminderKind::Upcoming,
            ReminderKind::Upcoming,
            ReminderKind::DueToday
        ]
    );
}

#[test]
fn a_changed_amount_is_a_new_reminder() {
    let e = fixture();
    let mut changed = e.clone();
    changed.account.installments[2].amount_minor = 100_000;
    let manila = tz("Asia/Manila");
    let a = schedule(&input(&e), &manila, T0);
    let b = schedule(&input(&changed), &manila, T0);
    let third = Some(e.account.installments[2].due);
    let due_today = |events: &[Reminder]| {
        events
            .iter()
            .find(|r| r.kind == ReminderKind::DueToday && r.installment_due == third)
            .map(|r| r.id.clone())
            .expect("due today")
    };
    assert_ne!(due_today(&a), due_today(&b));
}

// ---- fired reminders --------------------------------------------------------------------

#[test]
fn due_now_returns_the_event_that_just_fired() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let fired = FiredReminders::default();
    let first = schedule(&input(&e), &manila, T0)[0].clone();
    assert_eq!(
        fired.next_event(&input(&e), &manila, T0),
        Some(first.clone())
    );
    assert_eq!(fired.due_now(&input(&e), &manila, first.fire_at - 1), None);
    assert_eq!(
        fired.due_now(&input(&e), &manila, first.fire_at),
        Some(first.clone())
    );
}

#[test]
fn a_missed_backlog_fires_once_not_as_a_burst() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let third = e.account.installments[2].due;
    // The phone was off from before the upcoming reminders until two days after the
    // due date: upcoming ×2, due today, overdue ×2 were missed.
    let now = third + 2 * DAY + HOUR;
    let mut fired = FiredReminders::default();
    fired.pass_backlog(third - 4 * DAY);
    let shown = fired
        .due_now(&input(&e), &manila, now)
        .expect("one reminder for the backlog");
    assert_eq!(shown.kind, ReminderKind::Overdue);
    let missed = schedule(&input(&e), &manila, third - 4 * DAY);
    let latest_overdue = missed
        .iter()
        .filter(|r| r.fire_at <= now)
        .max_by_key(|r| r.fire_at)
        .expect("missed events");
    assert_eq!(&shown, latest_overdue);

    fired.mark_shown(&shown.id, now);
    assert_eq!(fired.due_now(&input(&e), &manila, now), None);
    assert_eq!(fired.due_now(&input(&e), &manila, now + HOUR), None);
    let next = fired.next_event(&input(&e), &manila, now).expect("more");
    assert!(next.fire_at > now);
}

#[test]
fn backlog_prefers_the_most_severe_then_the_most_recent() {
    // A final warning at 17:00 on the 17th and an overdue reminder at 09:00 on the 18th
    // both missed: the warning is shown.
    let due = ts("2026-03-15T17:00:00+08:00");
    let mut e = plan(&[due]);
    e.reminders.overdue_every_s = DAY as u64;
    e.lock_at = due + 3 * DAY;
    let manila = tz("Asia/Manila");
    let mut fired = FiredReminders::default();
    fired.pass_backlog(ts("2026-03-17T10:00:00+08:00"));
    let shown = fired
        .due_now(&input(&e), &manila, ts("2026-03-18T12:00:00+08:00"))
        .expect("the warning");
    assert_eq!(shown.kind, ReminderKind::FinalWarning);
}

#[test]
fn missed_events_older_than_the_lookback_are_not_news() {
    let due = ts("2026-03-15T17:00:00+08:00");
    let e = plan(&[due]);
    let manila = tz("Asia/Manila");
    let fired = FiredReminders::default();
    let due_today = ts("2026-03-15T09:00:00+08:00");
    assert!(
        fired
            .due_now(&input(&e), &manila, due_today + MISSED_LOOKBACK_S)
            .is_some()
    );
    assert_eq!(
        fired.due_now(&input(&e), &manila, due_today + MISSED_LOOKBACK_S + 1),
        None
    );
}

#[test]
fn a_reboot_does_not_repeat_what_was_shown() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let mut fired = FiredReminders::default();
    let first = fired.next_event(&input(&e), &manila, T0).expect("first");
    fired.mark_shown(&first.id, first.fire_at + 5);
    let stored = serde_json::to_string(&fired).expect("serializes");
    let restored: FiredReminders = serde_json::from_str(&stored).expect("deserializes");
    assert_eq!(restored, fired);
    assert_eq!(
        restored.due_now(&input(&e), &manila, first.fire_at + 60),
        None
    );
    assert!(
        restored
            .next_event(&input(&e), &manila, first.fire_at + 60)
            .is_some_and(|r| r.id != first.id)
    );
    // An older state without the fields still loads.
    let empty: FiredReminders = serde_json::from_str("{}").expect("defaults");
    assert_eq!(empty, FiredReminders::default());
}

#[test]
fn remembered_ids_stay_bounded() {
    let mut fired = FiredReminders::default();
    for i in 0..1_000 {
        fired.mark_shown(&format!("overdue-{i}"), T0 + i * HOUR);
    }
    assert!(fired.shown.len() <= MAX_REMEMBERED);
    assert!(fired.was_shown("overdue-999"));
    assert!(!fired.was_shown("overdue-0"));
    let mut aged = FiredReminders::default();
    aged.mark_shown("upcoming-a", T0);
    aged.pass_backlog(T0 + REMEMBER_S + 1);
    assert!(!aged.was_shown("upcoming-a"));
}

#[test]
fn a_clock_set_forward_does_not_silence_reminders_for_good() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let mut fired = FiredReminders::default();
    // The customer set the clock a year ahead; a reminder was shown then.
    fired.pass_backlog(T0 + 365 * DAY);
    // Back to real time, the next reminders still fire.
    let first = schedule(&input(&e), &manila, T0)[0].clone();
    assert_eq!(
        fired.due_now(&input(&e), &manila, first.fire_at),
        Some(first.clone())
    );
    assert_eq!(fired.next_event(&input(&e), &manila, T0), Some(first));
}

#[test]
fn a_small_step_back_of_trusted_time_repeats_nothing() {
    let e = fixture();
    let manila = tz("Asia/Manila");
    let mut fired = FiredReminders::default();
    let first = schedule(&input(&e), &manila, T0)[0].clone();
    // Shown two minutes late by a fast wall clock; the check-in then re-anchors
    // trusted time a few minutes back.
    fired.pass_backlog(first.fire_at + 120);
    assert_eq!(fired.due_now(&input(&e), &manila, first.fire_at + 30), None);
    assert!(
        fired
            .next_event(&input(&e), &manila, first.fire_at - 30)
            .is_some_and(|r| r.fire_at > first.fire_at)
    );
}

// ---- completing (ADR 0012) ----------------------------------------------------------------

#[test]
fn completing_has_no_payment_lock_and_no_final_warning() {
    let due = ts("2026-03-15T17:00:00+08:00");
    let mut e = plan(&[due]);
    for inst in &mut e.account.installments {
        inst.status = InstallmentStatus::Paid;
    }
    e.account.amount_due_minor = 0;
    e.account.next_due = None;
    e.lock_at = due + 3 * DAY;
    let now = ts("2026-03-16T12:00:00+08:00");
    // Without release_at, the (stale) lock_at still announces itself.
    assert_eq!(
        table(&e, "Asia/Manila", now, 9),
        ["final_warning 2026-03-17T17:00+08:00"]
    );
    e.release_at = Some(now + 2 * DAY);
    assert_eq!(input(&e).payment_lock(), None);
    assert!(table(&e, "Asia/Manila", now, 9).is_empty());
}
