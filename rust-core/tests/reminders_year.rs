//! A 12-installment monthly plan lived through day by day, to count how often the
//! phone wakes up: for check-ins and for reminder alarms (issue 3 targets fewer than
//! five a day on average across the plan).
//!
//! The device is modelled the way the shell drives the core: it sleeps until the
//! earlier of its next check-in and the single reminder alarm, checks in when that is
//! due (the server answers with a fresh entitlement), shows what `due_now` hands it
//! and re-arms `next_event`. The server checks the device in every 6 h (jittered),
//! hourly once the lock is within 72 h. The customer pays most installments a few
//! days late, one on time or early, and one so late that the phone locks.

use std::collections::{BTreeMap, HashSet};

use finlock_core::fixtures::{self, DAY, T0};
use finlock_core::protocol::{Entitlement, EntitlementState, InstallmentStatus};
use finlock_core::reminders::{self, FiredReminders, ReminderKind, ScheduleInput};
use jiff::Timestamp;

const HOUR: i64 = 3_600;
const INSTALLMENTS: usize = 12;
/// The installment paid so late that the phone locks (lock is 7 days after the due date).
const LATE: usize = 5;

fn due(i: usize) -> i64 {
    T0 + (i as i64 + 1) * 30 * DAY
}

/// When the customer pays installment `i`.
fn paid_at(i: usize) -> i64 {
    let after_due = match i {
        0..=2 => -DAY + 5 * HOUR,
        LATE => 10 * DAY,
        11 => 6 * HOUR,
        _ if i.is_multiple_of(2) => 3 * DAY,
        _ => 2 * DAY + 4 * HOUR,
    };
    due(i) + after_due
}

/// The lender's answer to a check-in at `t`.
fn server(seq: u64, t: i64) -> Entitlement {
    let mut e = fixtures::entitlement(seq, t);
    for (i, inst) in e.account.installments.iter_mut().enumerate() {
        inst.status = if paid_at(i) <= t {
            InstallmentStatus::Paid
        } else if inst.due <= t {
            InstallmentStatus::Overdue
        } else {
            InstallmentStatus::Due
        };
    }
    let unpaid: Vec<_> = e
        .account
        .installments
        .iter()
        .filter(|i| i.status != InstallmentStatus::Paid)
        .cloned()
        .collect();
    let overdue: u64 = unpaid
        .iter()
        .filter(|i| i.due <= t)
        .map(|i| i.amount_minor)
        .sum();
    e.account.amount_due_minor = match (overdue, unpaid.first()) {
        (0, Some(next)) => next.amount_minor,
        (sum, _) => sum,
    };
    e.account.next_due = unpaid.first().map(|i| i.due);
    match unpaid.first() {
        None => {
            e.state = EntitlementState::Released;
            e.lock_at = 0;
        }
        Some(first) => e.lock_at = first.due + 7 * DAY,
    }
    // Every 6 h ±15 min, hourly ±4 min once the lock is near (jitter deterministic).
    let jitter = (seq as i64 * 7_919) % 1_801 - 900;
    let lock_near = e.lock_at != 0 && e.lock_at - t < 72 * HOUR;
    e.next_checkin = if lock_near {
        t + HOUR + jitter / 4
    } else {
        t + 6 * HOUR + jitter
    };
    e
}

#[derive(Default, Debug)]
struct Figures {
    wake_ups: u64,
    checkins: u64,
    alarm_wake_ups: u64,
    alarm_and_checkin: u64,
    shown: BTreeMap<&'static str, u64>,
    locked_s: i64,
}

#[test]
fn a_year_of_a_monthly_plan_wakes_the_phone_less_than_five_times_a_day() {
    let tz = reminders::zone("Asia/Manila").expect("zone");
    let mut t = T0;
    let mut seq = 1;
    let mut ent = server(seq, t);
    let mut last_checkin = t;
    let mut fired = FiredReminders::default();
    let mut figures = Figures::default();
    let mut shown_ids = HashSet::new();
    let mut shown_per_installment: BTreeMap<(i64, ReminderKind), u64> = BTreeMap::new();
    let end = due(INSTALLMENTS - 1) + 60 * DAY;

    while ent.state != EntitlementState::Released {
        let input = ScheduleInput {
            entitlement: &ent,
            last_successful_checkin: last_checkin,
            offline_extension_until: 0,
        };
        let alarm = fired.next_event(&input, &tz, t).map(|r| r.fire_at);
        let locked = ent.lock_at != 0 && t >= ent.lock_at;
        let wake = alarm.map_or(ent.next_checkin, |a| a.min(ent.next_checkin));
        assert!(wake > t, "woke for nothing at {t}");
        if locked {
            figures.locked_s += wake - t;
        }
        t = wake;
        assert!(t < end, "the plan never ended");

        figures.wake_ups += 1;
        let for_alarm = alarm == Some(t);
        figures.alarm_wake_ups += u64::from(for_alarm);
        if t >= ent.next_checkin {
            figures.checkins += 1;
            figures.alarm_and_checkin += u64::from(for_alarm);
            seq += 1;
            ent = server(seq, t);
            last_checkin = t;
        }

        // The state survives a reboot at every wake-up.
        fired = serde_json::from_str(&serde_json::to_string(&fired).expect("serializes"))
            .expect("deserializes");
        let input = ScheduleInput {
            entitlement: &ent,
            last_successful_checkin: last_checkin,
            offline_extension_until: 0,
        };
        if let Some(r) = fired.due_now(&input, &tz, t) {
            assert!(shown_ids.insert(r.id.clone()), "{} shown twice", r.id);
            let local = Timestamp::from_second(r.fire_at)
                .expect("in range")
                .to_zoned(tz.clone());
            assert!(
                (8..21).contains(&local.hour()),
                "{:?} fired at {local}",
                r.kind
            );
            *figures.shown.entry(r.kind.as_str()).or_default() += 1;
            if let Some(due) = r.installment_due {
                *shown_per_installment.entry((due, r.kind)).or_default() += 1;
            }
            fired.mark_shown(&r.id, t);
        }
    }

    let days = (t - T0) as f64 / DAY as f64;
    let per_day = figures.wake_ups as f64 / days;
    eprintln!("plan of {INSTALLMENTS} monthly installments, released after {days:.1} days");
    eprintln!(
        "wake-ups: {} total = {} check-ins + {} reminder alarms ({} of them at a check-in)",
        figures.wake_ups,
        figures.checkins,
        figures.alarm_wake_ups - figures.alarm_and_checkin,
        figures.alarm_and_checkin,
    );
    eprintln!(
        "per day: {per_day:.2} wake-ups ({:.2} check-ins, {:.3} reminder alarms)",
        figures.checkins as f64 / days,
        (figures.alarm_wake_ups - figures.alarm_and_checkin) as f64 / days,
    );
    eprintln!("notifications shown: {:?}", figures.shown);
    eprintln!(
        "locked for {:.1} h (installment {} paid 10 days late)",
        figures.locked_s as f64 / HOUR as f64,
        LATE + 1
    );

    assert!(per_day < 5.0, "{per_day:.2} wake-ups a day");
    // Every installment was announced before its due date.
    for i in 0..INSTALLMENTS {
        assert!(
            shown_per_installment.contains_key(&(due(i), ReminderKind::Upcoming)),
            "installment {i} was never announced"
        );
    }
    // The late one was chased, warned about, and locked the phone until paid.
    assert!(shown_per_installment.contains_key(&(due(LATE), ReminderKind::Overdue)));
    assert!(shown_per_installment.contains_key(&(due(LATE), ReminderKind::FinalWarning)));
    assert!(figures.locked_s > 2 * DAY && figures.locked_s < 4 * DAY);
    // Those paid a few days late got overdue reminders too, never a final warning.
    assert!(shown_per_installment.contains_key(&(due(3), ReminderKind::Overdue)));
    assert_eq!(figures.shown.get("final_warning"), Some(&1));
    assert_eq!(figures.shown.get("offline_warning"), None);
}
