//! The invariants of the schedule over arbitrary plans, policies, zones and times.

use std::collections::HashSet;

use jiff::Timestamp;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::fixtures::{self, DAY, T0};
use crate::protocol::{Installment, InstallmentStatus, parse_hhmm};

/// The zones of the issue, plus the odd ones: a 30-minute DST shift (Lord Howe),
/// a -03:30 zone with DST (St John's) and a +12:45 one with DST (Chatham).
const ZONES: [&str; 11] = [
    "Asia/Manila",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Africa/Nairobi",
    "America/Sao_Paulo",
    "America/New_York",
    "Europe/Berlin",
    "UTC",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
];
/// Plans reach two years past T0, across several DST changes in every DST zone.
const SPAN: i64 = 2 * 365 * DAY;

fn hhmm() -> impl Strategy<Value = String> {
    (0u16..24, prop_oneof![Just(0u16), Just(30), 0u16..60])
        .prop_map(|(h, m)| format!("{h:02}:{m:02}"))
}

prop_compose! {
    fn entitlement()(
        installments in vec((0..SPAN, any::<bool>(), 1u64..1_000_000), 0..6),
        offsets in vec(-10 * DAY..40 * DAY, 0..4),
        hour in 0u8..24,
        quiet_start in hhmm(),
        quiet_end in hhmm(),
        every in prop_oneof![
            Just(0u64),
            Just(3_600),
            Just(4 * 3_600),
            Just(DAY as u64),
            Just(3 * DAY as u64),
            3_600u64..10 * DAY as u64,
        ],
        lock_at in prop_oneof![Just(0i64), 0..SPAN],
        offline in prop_oneof![Just(None), (1u64..60, 0u64..100).prop_map(Some)],
        iat in 0..SPAN,
    ) -> Entitlement {
        let mut e = fixtures::entitlement(5, T0 + iat);
        e.account.installments = installments
            .into_iter()
            .map(|(due, paid, amount_minor)| Installment {
                due: T0 + due,
                amount_minor,
                status: if paid { InstallmentStatus::Paid } else { InstallmentStatus::Due },
            })
            .collect();
        e.reminders.offsets_s = offsets;
        e.reminders.hour_local = hour;
        e.reminders.quiet_start = quiet_start;
        e.reminders.quiet_end = quiet_end;
        e.reminders.overdue_every_s = every;
        // 0 here stands for "no lock in sight" (a lock_at of 0 itself means locked already).
        e.lock_at = if lock_at == 0 { T0 + 3_650 * 86_400 } else { T0 + lock_at };
        match offline {
            None => {
                e.offline_lock_after_s = None;
                e.offline_warning_s = None;
            }
            Some((days, percent)) => {
                let after = days * DAY as u64;
                e.offline_lock_after_s = Some(after);
                e.offline_warning_s = (percent > 0).then(|| after * percent / 100);
            }
        }
        e
    }
}

/// A stored state and a moment to compute at. The check-in, the extension and the lock
/// are mostly near `now`, where something is still scheduled.
#[derive(Debug, Clone)]
struct Case {
    e: Entitlement,
    last: i64,
    ext: i64,
    now: i64,
}

impl Case {
    fn input(&self) -> ScheduleInput<'_> {
        ScheduleInput {
            entitlement: &self.e,
            last_successful_checkin: self.last,
            offline_extension_until: self.ext,
        }
    }
}

prop_compose! {
    fn case()(
        mut e in entitlement(),
        now in -30 * DAY..SPAN,
        since_checkin in prop_oneof![3 => 0..40 * DAY, 1 => -SPAN..SPAN],
        ext in prop_oneof![Just(None), (-10 * DAY..30 * DAY).prop_map(Some)],
        lock in prop_oneof![1 => Just(None), 2 => (-5 * DAY..200 * DAY).prop_map(Some)],
    ) -> Case {
        let now = T0 + now;
        if let Some(lock) = lock {
            e.lock_at = (now + lock).max(1);
        }
        Case { e, last: now - since_checkin, ext: ext.map_or(0, |ext| now + ext), now }
    }
}

fn zone_of(i: usize) -> TimeZone {
    zone(ZONES[i % ZONES.len()]).expect("bundled zone")
}

fn local(tz: &TimeZone, t: i64) -> jiff::civil::DateTime {
    tz.to_datetime(Timestamp::from_second(t).expect("in range"))
}

/// Quiet hours checked from the policy text, independently of the module's own code.
fn in_quiet(e: &Entitlement, tz: &TimeZone, t: i64) -> bool {
    let (Some(start), Some(end)) = (
        parse_hhmm(&e.reminders.quiet_start),
        parse_hhmm(&e.reminders.quiet_end),
    ) else {
        return false;
    };
    let dt = local(tz, t);
    let m = dt.hour() as u16 * 60 + dt.minute() as u16;
    match start.cmp(&end) {
        Ordering::Equal => false,
        Ordering::Less => start <= m && m < end,
        Ordering::Greater => m >= start || m < end,
    }
}

/// The part of a schedule that is complete: up to the horizon, or up to its last
/// event when it was cut at [`MAX_SCHEDULED`].
fn complete_until(events: &[Reminder], now: i64) -> i64 {
    if events.len() == MAX_SCHEDULED {
        events.last().map_or(now, |r| r.fire_at)
    } else {
        now + HORIZON_S
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn ids_are_stable_under_recomputation_and_moving_now_forward(
        c in case(),
        forward in 0..90 * DAY,
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (now, input) = (c.now, c.input());
        let first = schedule(&input, &tz, now);
        prop_assert_eq!(&first, &schedule(&input, &tz, now));

        let later = now + forward;
        let second = schedule(&input, &tz, later);
        let until = complete_until(&first, now).min(complete_until(&second, later));
        let overlap = |events: &[Reminder]| -> Vec<Reminder> {
            events.iter().filter(|r| r.fire_at >= later && r.fire_at <= until).cloned().collect()
        };
        prop_assert_eq!(overlap(&first), overlap(&second));
    }

    #[test]
    fn events_are_sorted_in_the_future_and_outside_quiet_hours(
        c in case(),
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (e, now, input) = (&c.e, c.now, c.input());
        let events = schedule(&input, &tz, now);
        prop_assert!(events.len() <= MAX_SCHEDULED);
        prop_assert!(events.windows(2).all(|w| w[0].fire_at < w[1].fire_at));
        for r in &events {
            prop_assert!(r.fire_at >= now && r.fire_at <= now + HORIZON_S);
            prop_assert!(!in_quiet(e, &tz, r.fire_at), "{:?} at {} is in quiet hours", r.kind, local(&tz, r.fire_at));
            prop_assert_eq!(r.severity, r.kind.severity());
            prop_assert_eq!(r.persistent, r.kind.persistent());
            if let Some(lock) = input.lock_moment() {
                prop_assert!(r.fire_at < lock);
            }
        }
    }

    #[test]
    fn at_most_one_event_per_installment_kind_and_local_day(
        c in case(),
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (now, input) = (c.now, c.input());
        let mut seen = HashSet::new();
        for r in schedule(&input, &tz, now) {
            let day = local(&tz, r.fire_at).date();
            prop_assert!(seen.insert((r.installment_due, r.kind, day)), "two {:?} on {}", r.kind, day);
        }
    }

    #[test]
    fn paid_installments_never_appear(
        c in case(),
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (e, now, input) = (&c.e, c.now, c.input());
        let unpaid: HashSet<i64> = e.account.installments.iter()
            .filter(|i| i.status != InstallmentStatus::Paid)
            .map(|i| i.due)
            .collect();
        for r in schedule(&input, &tz, now) {
            if let Some(due) = r.installment_due {
                prop_assert!(unpaid.contains(&due));
            }
        }
    }

    #[test]
    fn due_today_ids_do_not_depend_on_the_zone(
        c in case(),
        a in 0..ZONES.len(),
        b in 0..ZONES.len(),
    ) {
        let (now, input) = (c.now, c.input());
        let due_today = |z: usize| -> Vec<(Option<i64>, u64, String)> {
            schedule(&input, &zone_of(z), now).into_iter()
                .filter(|r| r.kind == ReminderKind::DueToday)
                .map(|r| (r.installment_due, r.amount_minor, r.id))
                .collect()
        };
        let (in_a, in_b) = (due_today(a), due_today(b));
        for (due, amount, id) in &in_a {
            for (due_b, amount_b, id_b) in &in_b {
                if due == due_b && amount == amount_b {
                    prop_assert_eq!(id, id_b);
                }
            }
        }
    }

    #[test]
    fn wake_ups_show_at_most_one_event_each_and_never_twice(
        c in case(),
        steps in vec(0..4 * DAY, 1..24),
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (e, now, input) = (&c.e, c.now, c.input());
        let mut fired = FiredReminders::default();
        let mut shown = HashSet::new();
        let mut now = now;
        for step in steps {
            now += step;
            // The type bounds due_now to one event; what it returns is real and new.
            if let Some(r) = fired.due_now(&input, &tz, now) {
                prop_assert!(r.fire_at <= now && r.fire_at >= now - MISSED_LOOKBACK_S);
                prop_assert!(!in_quiet(e, &tz, r.fire_at));
                prop_assert!(shown.insert(r.id.clone()), "{} shown twice", r.id);
                fired.mark_shown(&r.id, now);
                // No burst: the rest of the backlog is passed.
                prop_assert_eq!(fired.due_now(&input, &tz, now), None);
            }
            if let Some(next) = fired.next_event(&input, &tz, now) {
                prop_assert!(next.fire_at > now);
                prop_assert!(!fired.was_shown(&next.id));
            }
        }
    }

    #[test]
    fn next_event_is_the_first_scheduled_event_after_now(
        c in case(),
        z in 0..ZONES.len(),
    ) {
        let tz = zone_of(z);
        let (now, input) = (c.now, c.input());
        let expected = schedule(&input, &tz, now).into_iter().find(|r| r.fire_at > now);
        prop_assert_eq!(FiredReminders::default().next_event(&input, &tz, now), expected);
    }
}
