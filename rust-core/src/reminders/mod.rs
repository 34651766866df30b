//! The reminder schedule (PROTOCOL §7): which notification fires when, in the device's
//! own time zone, and which of them the shell should show right now.
//!
//! A customer must hear about an installment before it falls due, on the day, and while
//! it is overdue — at a sensible local hour, never twice for the same thing, and still
//! when the phone has had no data for weeks. Everything needed for that is already in
//! the stored, signed entitlement, so the schedule is a pure function of it, of trusted
//! time and of the zone: the core computes, the shell arms one alarm for
//! [`FiredReminders::next_event`] and shows what [`FiredReminders::due_now`] hands it.
//!
//! # What fires
//! For every installment not yet paid:
//! - `upcoming` on the local day of `due - offset` for each positive offset that lands
//!   on an earlier local day than the due date (an offset landing on the due day is
//!   what `due_today` already says);
//! - `due_today` on the local day of the due date;
//! - `overdue` on the local day of every `due + k·overdue_every_s` (k ≥ 1) after the due
//!   day, while that moment is before the payment lock. A negative offset (allowed by
//!   §3.3: "before (or after)") is the lender asking for a nudge after the due date, so
//!   it is an `overdue` reminder too.
//!
//! These fire at `hour_local` on their local day. At most one fires per installment,
//! kind and local day, so an hourly `overdue_every_s` means a daily reminder, not 24.
//!
//! Two warnings fire at their exact moment instead, because they count down to an
//! instant, not to a calendar day:
//! - `final_warning` one calendar day before the payment lock (same local clock time the
//!   day before, so 23 or 25 hours across DST), or as soon as the entitlement was issued
//!   when the lender set the lock closer than that;
//! - `offline_warning` `offline_warning_s` before the offline lock.
//!
//! The payment lock is `max(lock_at, offline_extension_until)` and the offline lock is
//! `max(last_successful_checkin + offline_lock_after_s, offline_extension_until)`, as in
//! the lock decision (§5): an offline code postpones both, so the warnings and the
//! overdue reminders follow it. `lock_at` is always a lock moment (0 = locked already, §5.3).
//!
//! # Quiet hours
//! Every event, warnings included, respects quiet hours: one that falls inside moves
//! to the end of the window. The exception is a warning that would thereby be moved
//! past the lock it announces (a short `offline_warning_s`, or a lock set for the small
//! hours less than a day ahead): a warning after the fact is worthless, so it moves
//! back to the last minute before the window began instead, and is dropped when even
//! that is too early (before the entitlement existed). Nothing ever fires in quiet
//! hours, which is the promise customers can rely on; the lock screen explains any lock.
//!
//! Events that land on the same instant (typically two installments moved to the same
//! `quiet_end`) merge into the most severe one: one notification, the one that matters.
//!
//! # Nothing while locked or released
//! A released device has nothing to be reminded of. A locked device — `state: locked`,
//! or the payment or offline lock reached — shows the lock screen, which already says
//! what is owed and how to pay; a notification on top would repeat it and cannot be
//! read in lock task anyway. Events that would fire at or after a lock are left out
//! for the same reason; a new entitlement that moves the lock brings them back.
//!
//! # Ids
//! An id names *the thing a reminder is about*, not the moment it fires: a hash of the
//! kind, the installment (its due instant), the amount, the currency, and the instant the
//! reminder refers to (`due - offset`, `due`, `due + k·every`, the lock moment). It does
//! not depend on `now`, on `hour_local`, on quiet hours or on the zone, so:
//! - recomputing after every wake-up or check-in gives the same ids, and a new
//!   entitlement keeps the ids of every event that still applies (the shell replaces a
//!   notification instead of duplicating it);
//! - a customer who travels does not get "due tomorrow" a second time because the
//!   calendar day moved under them. (When an hourly `overdue_every_s` puts several
//!   moments on one local day, the first of them names that day's reminder, and that
//!   choice can depend on the zone.)
//!
//! A changed amount is a different message, hence a different id.
//!
//! # Missed events
//! [`FiredReminders`] remembers what was shown and up to when the backlog has been
//! dealt with. After the phone was off for days, [`FiredReminders::due_now`] returns
//! one event — the most severe, then the most recent — never a burst; showing it (or
//! [`FiredReminders::pass_backlog`]) marks everything up to now as passed.

mod civil;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::cmp::{Ordering, Reverse};
use std::collections::HashSet;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hex;
use crate::protocol::{Entitlement, EntitlementState, Installment, InstallmentStatus};

use civil::QuietHours;

const DAY: i64 = 86_400;
/// How far ahead [`schedule`] and [`FiredReminders::next_event`] look: more than a
/// year, so even a yearly installment is announced, while the work per call stays
/// bounded.
pub const HORIZON_S: i64 = 400 * DAY;
/// At most this many events from [`schedule`] (the earliest ones): the shell only ever
/// arms the first, the rest is for display and tests.
pub const MAX_SCHEDULED: usize = 256;
/// A missed event older than this is no longer news: the next scheduled reminder, or
/// the lock screen, says what matters better than a week-old notification.
pub const MISSED_LOOKBACK_S: i64 = 7 * DAY;
/// How long a shown id is remembered, and how many at most, so the persisted state
/// stays small. Past the lookback an id can no longer come back, so this is ample.
pub const REMEMBER_S: i64 = 35 * DAY;
pub const MAX_REMEMBERED: usize = 128;
/// Trusted time steps back when an accepted entitlement re-anchors it (§4), normally by
/// seconds. A backlog mark further ahead of `now` than this came from a clock set
/// forward and is not trusted, or it would silence every reminder until that date.
pub const MAX_CLOCK_STEP_BACK_S: i64 = DAY;
/// Candidates are generated this far around a window: quiet hours move an event by
/// less than a day either way, so every event that can land inside is seen, and ties
/// (merge, one-per-day) are decided on complete groups whatever the window.
const MARGIN_S: i64 = 2 * DAY;
/// [`FiredReminders::next_event`] looks this far ahead before looking to the horizon.
const NEXT_EVENT_FIRST_LOOK_S: i64 = 32 * DAY;
/// A bound on the days walked for one overdue series, whatever the window.
const MAX_SERIES_DAYS: usize = 2 * 410;

/// What a reminder is about. Declaration order breaks ties between equally severe
/// events that merge: `overdue` over `due_today` (the older debt), `offline_warning`
/// over `final_warning` (connecting needs no money, and the check-in it causes
/// refreshes everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    Upcoming,
    DueToday,
    Overdue,
    FinalWarning,
    OfflineWarning,
}

impl ReminderKind {
    /// The stable spelling, as in serde and in ids.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Upcoming => "upcoming",
            ReminderKind::DueToday => "due_today",
            ReminderKind::Overdue => "overdue",
            ReminderKind::FinalWarning => "final_warning",
            ReminderKind::OfflineWarning => "offline_warning",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            ReminderKind::Upcoming => Severity::Info,
            ReminderKind::DueToday | ReminderKind::Overdue => Severity::Warning,
            ReminderKind::FinalWarning | ReminderKind::OfflineWarning => Severity::Critical,
        }
    }

    /// Overdue payments and lock warnings must not be swiped away and forgotten: the
    /// consequence is a locked phone. A reminder before or on the due day can be.
    pub fn persistent(self) -> bool {
        matches!(
            self,
            ReminderKind::Overdue | ReminderKind::FinalWarning | ReminderKind::OfflineWarning
        )
    }

    fn is_warning(self) -> bool {
        matches!(
            self,
            ReminderKind::FinalWarning | ReminderKind::OfflineWarning
        )
    }
}

/// How urgent a reminder is; ordered, so merging and the backlog keep the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One notification the shell shows when [`Reminder::fire_at`] comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Stable across recomputation, new entitlements and zones (see the module docs);
    /// the shell uses it as the notification's identity.
    pub id: String,
    pub kind: ReminderKind,
    /// The due instant of the installment this is about; `None` for the offline warning,
    /// which is about connecting, not paying. A final warning names the oldest unpaid
    /// installment due before the lock.
    pub installment_due: Option<i64>,
    /// The installment's amount; for a final warning everything due
    /// (`account.amount_due_minor`); 0 for the offline warning.
    pub amount_minor: u64,
    pub currency: String,
    pub severity: Severity,
    pub persistent: bool,
    /// Unix seconds, trusted time.
    pub fire_at: i64,
}

/// Everything the schedule depends on, taken from the stored state.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleInput<'a> {
    pub entitlement: &'a Entitlement,
    /// Trusted time of the last accepted check-in; the offline lock counts from it.
    pub last_successful_checkin: i64,
    /// An accepted offline code postpones both locks to this instant (§5, §6).
    pub offline_extension_until: i64,
}

impl ScheduleInput<'_> {
    /// When the payment lock (§5.3) takes effect, if one is scheduled.
    pub fn payment_lock(&self) -> Option<i64> {
        // Paid in full and completing (ADR 0012): nothing is owed, no payment lock.
        if self.entitlement.completing_until().is_some() {
            return None;
        }
        // PROTOCOL §5.3 has no "no lock" value: `lock_at` 0 means locked already,
        // exactly as the decision reads it.
        Some(self.entitlement.lock_at.max(self.offline_extension_until))
    }

    /// When the offline lock (§5.4) takes effect without a check-in, if the lender uses one.
    pub fn offline_lock(&self) -> Option<i64> {
        let after = i64::try_from(self.entitlement.offline_lock_after_s?).ok()?;
        Some(
            self.last_successful_checkin
                .saturating_add(after)
                .max(self.offline_extension_until),
        )
    }

    /// The first lock ahead, if any: nothing fires at or after it.
    fn lock_moment(&self) -> Option<i64> {
        match (self.payment_lock(), self.offline_lock()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether reminders are silent now: released, locked by the lender, or a lock reached.
    fn silent_at(&self, now: i64) -> bool {
        self.entitlement.state != EntitlementState::Active
            || self.lock_moment().is_some_and(|lock| now >= lock)
    }
}

/// Resolves the IANA zone id the shell reports (`TimeZone.getDefault().id`).
pub fn zone(id: &str) -> Result<TimeZone> {
    TimeZone::get(id).map_err(|_| Error::invalid("zone", "unknown IANA time zone"))
}

/// The events that fire at or after `now`, within [`HORIZON_S`], ordered by `fire_at`
/// (no two share an instant: they merge), at most [`MAX_SCHEDULED`].
///
/// This is what would happen if nothing changed; every check-in, payment or offline
/// code recomputes it, and ids that still apply stay the same.
pub fn schedule(input: &ScheduleInput, tz: &TimeZone, now: i64) -> Vec<Reminder> {
    if input.silent_at(now) {
        return Vec::new();
    }
    events_between(
        input,
        tz,
        (now, now.saturating_add(HORIZON_S)),
        MAX_SCHEDULED,
    )
}

/// What has been shown already, persisted by the caller inside the device state, so a
/// reboot or a recomputation never repeats a notification.
///
/// Two memories, because each alone fails somewhere: `passed_until` (everything firing
/// up to there is dealt with) keeps a missed backlog from coming back one by one, and
/// the shown ids keep a reminder from repeating after trusted time stepped back.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq, Eq)]
pub struct FiredReminders {
    #[serde(default)]
    shown: Vec<Shown>,
    #[serde(default)]
    passed_until: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
struct Shown {
    id: String,
    at: i64,
}

impl FiredReminders {
    /// What the shell should show now: at most one event.
    ///
    /// Of the events that fired within [`MISSED_LOOKBACK_S`] and are not yet passed,
    /// the most severe, then the most recent. One is enough: the events of a backlog
    /// are about the same debt, and the most severe recent one says it best; a burst of
    /// stale notifications after a week without power would only be swiped away.
    /// Show it, then call [`FiredReminders::mark_shown`], which passes the rest.
    pub fn due_now(&self, input: &ScheduleInput, tz: &TimeZone, now: i64) -> Option<Reminder> {
        if input.silent_at(now) {
            return None;
        }
        let window = (now.saturating_sub(MISSED_LOOKBACK_S), now);
        events_between(input, tz, window, usize::MAX)
            .into_iter()
            .filter(|r| !self.is_passed(r, now))
            .max_by(backlog_order)
    }

    /// Records that `id` was shown at `now` and passes the whole backlog up to `now`.
    pub fn mark_shown(&mut self, id: &str, now: i64) {
        self.shown.retain(|s| s.id != id);
        self.shown.push(Shown {
            id: id.to_owned(),
            at: now,
        });
        self.pass_backlog(now);
    }

    /// Passes everything that fired up to `now` without showing it, e.g. when the
    /// device unlocks after a lock screen that already said it all.
    pub fn pass_backlog(&mut self, now: i64) {
        self.passed_until = if self.mark_is_trusted(now) {
            self.passed_until.max(now)
        } else {
            now
        };
        let oldest = now.saturating_sub(REMEMBER_S);
        self.shown.retain(|s| s.at >= oldest);
        let excess = self.shown.len().saturating_sub(MAX_REMEMBERED);
        self.shown.drain(..excess);
    }

    /// The next event the shell must wake for (the single alarm), skipping what was
    /// shown or passed; `None` when nothing is scheduled within [`HORIZON_S`].
    ///
    /// Arm it `fire_at - now` seconds from now on the elapsed-time clock, not at
    /// `fire_at` on the wall clock, which the customer controls.
    pub fn next_event(&self, input: &ScheduleInput, tz: &TimeZone, now: i64) -> Option<Reminder> {
        if input.silent_at(now) {
            return None;
        }
        // The next month first: that is where the next event almost always is, and it
        // spares walking a year of daily overdue reminders on every wake-up.
        [NEXT_EVENT_FIRST_LOOK_S, HORIZON_S]
            .into_iter()
            .find_map(|ahead| {
                let window = (now.saturating_add(1), now.saturating_add(ahead));
                events_between(input, tz, window, usize::MAX)
                    .into_iter()
                    .find(|r| !self.is_passed(r, now))
            })
    }

    /// Whether `id` was shown (and is still remembered).
    pub fn was_shown(&self, id: &str) -> bool {
        self.shown.iter().any(|s| s.id == id)
    }

    fn mark_is_trusted(&self, now: i64) -> bool {
        self.passed_until <= now.saturating_add(MAX_CLOCK_STEP_BACK_S)
    }

    fn is_passed(&self, r: &Reminder, now: i64) -> bool {
        (self.mark_is_trusted(now) && r.fire_at <= self.passed_until) || self.was_shown(&r.id)
    }
}

// ---- computing the events ------------------------------------------------------------

/// A reminder on its way through placement, the one-per-day rule and merging; only
/// the survivors get an id.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    kind: ReminderKind,
    installment_due: Option<i64>,
    amount_minor: u64,
    /// The instant the reminder is about; with the kind and installment, its identity.
    anchor: i64,
    /// Where it fires: first the nominal moment, then the placed one.
    fire: i64,
    /// A warning is never moved back before this (the moment it could first be known).
    not_before: i64,
}

impl Candidate {
    fn into_reminder(self, currency: &str) -> Reminder {
        Reminder {
            id: reminder_id(
                self.kind,
                self.installment_due,
                self.amount_minor,
                currency,
                self.anchor,
            ),
            kind: self.kind,
            installment_due: self.installment_due,
            amount_minor: self.amount_minor,
            currency: currency.to_owned(),
            severity: self.kind.severity(),
            persistent: self.kind.persistent(),
            fire_at: self.fire,
        }
    }
}

/// The first `limit` events with `from <= fire_at <= to`, ordered by `fire_at`, after
/// quiet hours, the one-per-day rule and merging.
fn events_between(
    input: &ScheduleInput,
    tz: &TimeZone,
    (from, to): (i64, i64),
    limit: usize,
) -> Vec<Reminder> {
    let e = input.entitlement;
    if e.state != EntitlementState::Active || from > to {
        return Vec::new();
    }
    let window = (from.saturating_sub(MARGIN_S), to.saturating_add(MARGIN_S));
    let payment_lock = input.payment_lock();
    let mut candidates = Vec::new();
    for inst in &e.account.installments {
        if inst.status != InstallmentStatus::Paid {
            installment_candidates(inst, e, tz, payment_lock, window, &mut candidates);
        }
    }
    warning_candidates(input, tz, window, &mut candidates);

    let quiet = QuietHours::from_policy(&e.reminders.quiet_start, &e.reminders.quiet_end);
    let lock = input.lock_moment();
    candidates.retain_mut(|c| match place(c, tz, quiet, lock) {
        Some(fire) => {
            c.fire = fire;
            true
        }
        None => false,
    });
    one_per_local_day(&mut candidates, tz);
    merge_same_instant(&mut candidates);
    candidates
        .into_iter()
        .filter(|c| (from..=to).contains(&c.fire))
        .take(limit)
        .map(|c| c.into_reminder(&e.account.currency))
        .collect()
}

fn installment_candidates(
    inst: &Installment,
    e: &Entitlement,
    tz: &TimeZone,
    payment_lock: Option<i64>,
    (gen_from, gen_to): (i64, i64),
    out: &mut Vec<Candidate>,
) {
    let Some(due_day) = civil::date_of(tz, inst.due) else {
        return;
    };
    let hour_minute = u16::from(e.reminders.hour_local.min(23)) * 60;
    let before_lock = |t: i64| payment_lock.is_none_or(|lock| t < lock);
    let mut push = |kind, anchor, day| {
        if let Some(fire) = civil::at_minute(tz, day, hour_minute)
            && (gen_from..=gen_to).contains(&fire)
        {
            out.push(Candidate {
                kind,
                installment_due: Some(inst.due),
                amount_minor: inst.amount_minor,
                anchor,
                fire,
                not_before: i64::MIN,
            });
        }
    };

    for &offset in &e.reminders.offsets_s {
        let Some(anchor) = inst.due.checked_sub(offset) else {
            continue;
        };
        let Some(day) = civil::date_of(tz, anchor) else {
            continue;
        };
        match day.cmp(&due_day) {
            Ordering::Less => push(ReminderKind::Upcoming, anchor, day),
            Ordering::Equal => {}
            Ordering::Greater if before_lock(anchor) => push(ReminderKind::Overdue, anchor, day),
            Ordering::Greater => {}
        }
    }
    push(ReminderKind::DueToday, inst.due, due_day);

    // The overdue series, walked by local day rather than by step, so an hourly step
    // costs one iteration per day and the day's reminder is named by its first moment.
    let Ok(every) = i64::try_from(e.reminders.overdue_every_s) else {
        return;
    };
    if every <= 0 {
        return;
    }
    let Some(mut day) = civil::date_of(tz, gen_from)
        .map(|d| d.max(due_day))
        .and_then(|d| {
            if d == due_day {
                d.tomorrow().ok()
            } else {
                Some(d)
            }
        })
    else {
        return;
    };
    for _ in 0..MAX_SERIES_DAYS {
        let Some(day_start) = civil::start_of_day(tz, day) else {
            return;
        };
        let steps = day_start
            .saturating_sub(inst.due)
            .saturating_add(every - 1)
            .div_euclid(every)
            .max(1);
        let Some(moment) = steps
            .checked_mul(every)
            .and_then(|s| inst.due.checked_add(s))
        else {
            return;
        };
        let Some(moment_day) = civil::date_of(tz, moment) else {
            return;
        };
        if !before_lock(moment)
            || civil::at_minute(tz, moment_day, hour_minute).is_none_or(|f| f > gen_to)
        {
            return;
        }
        push(ReminderKind::Overdue, moment, moment_day);
        let Ok(next) = moment_day.tomorrow() else {
            return;
        };
        day = next;
    }
}

fn warning_candidates(
    input: &ScheduleInput,
    tz: &TimeZone,
    (gen_from, gen_to): (i64, i64),
    out: &mut Vec<Candidate>,
) {
    let e = input.entitlement;
    let in_window = |t: i64| (gen_from..=gen_to).contains(&t);

    if let Some(lock) = input.payment_lock()
        && let Some(day_before) = civil::one_day_before(tz, lock)
    {
        // A lock set less than a day ahead is announced as soon as it is known.
        let fire = day_before.max(e.iat);
        if fire < lock && in_window(fire) {
            let oldest_unpaid = e
                .account
                .installments
                .iter()
                .filter(|i| i.status != InstallmentStatus::Paid && i.due <= lock)
                .map(|i| i.due)
                .min();
            out.push(Candidate {
                kind: ReminderKind::FinalWarning,
                installment_due: oldest_unpaid,
                amount_minor: e.account.amount_due_minor,
                anchor: lock,
                fire,
                not_before: e.iat,
            });
        }
    }

    if let Some(lock) = input.offline_lock()
        && let Some(warn) = e.offline_warning_s.and_then(|w| i64::try_from(w).ok())
    {
        let fire = lock.saturating_sub(warn).max(input.last_successful_checkin);
        if fire < lock && in_window(fire) {
            out.push(Candidate {
                kind: ReminderKind::OfflineWarning,
                installment_due: None,
                amount_minor: 0,
                anchor: lock,
                fire,
                not_before: input.last_successful_checkin,
            });
        }
    }
}

/// Where a candidate actually fires: outside quiet hours and before the first lock,
/// or nowhere.
fn place(
    c: &Candidate,
    tz: &TimeZone,
    quiet: Option<QuietHours>,
    lock: Option<i64>,
) -> Option<i64> {
    let before_lock = |t: i64| lock.is_none_or(|lock| t < lock);
    let Some(quiet) = quiet else {
        return before_lock(c.fire).then_some(c.fire);
    };
    let deferred = quiet.defer(tz, c.fire)?;
    if before_lock(deferred) {
        return Some(deferred);
    }
    if !c.kind.is_warning() || !quiet.contains(tz, c.fire) {
        return None;
    }
    // A warning moved past its lock would come too late: give it just before the
    // window began instead.
    let earlier = quiet.window_start(tz, c.fire)?.checked_sub(60)?;
    (earlier >= c.not_before && before_lock(earlier) && !quiet.contains(tz, earlier))
        .then_some(earlier)
}

/// Keeps at most one event per installment, kind and local day (the earliest), and
/// leaves them sorted by `fire`.
fn one_per_local_day(events: &mut Vec<Candidate>, tz: &TimeZone) {
    events.sort_by_key(|c| (c.fire, c.kind, c.installment_due, c.anchor, c.amount_minor));
    let mut seen = HashSet::new();
    events.retain(|c| seen.insert((c.installment_due, c.kind, civil::date_of(tz, c.fire))));
}

/// Events on the same instant become one: the most severe ([`merge_rank`]).
/// Expects `events` sorted by `fire`.
fn merge_same_instant(events: &mut Vec<Candidate>) {
    let mut merged: Vec<Candidate> = Vec::with_capacity(events.len());
    for c in events.drain(..) {
        match merged.last_mut() {
            Some(last) if last.fire == c.fire => {
                if merge_rank(&c) > merge_rank(last) {
                    *last = c;
                }
            }
            _ => merged.push(c),
        }
    }
    *events = merged;
}

/// Severity first; then the kind (a lock warning over a payment nudge); then the older
/// installment (the older debt is the pressing one); then the earlier moment and the
/// smaller amount, so the choice never depends on the order events were generated in.
fn merge_rank(c: &Candidate) -> impl Ord + use<> {
    (
        c.kind.severity(),
        c.kind,
        Reverse(c.installment_due),
        Reverse(c.anchor),
        Reverse(c.amount_minor),
    )
}

/// The backlog's representative: most severe, then most recent (no two events of one
/// computation share an instant, so this is a total order).
fn backlog_order(a: &Reminder, b: &Reminder) -> Ordering {
    (a.severity, a.fire_at).cmp(&(b.severity, b.fire_at))
}

/// `kind-` and 16 hex digits of SHA-256 over what the reminder is about.
fn reminder_id(
    kind: ReminderKind,
    installment_due: Option<i64>,
    amount_minor: u64,
    currency: &str,
    anchor: i64,
) -> String {
    let installment = installment_due.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let text = format!(
        "finlock-reminder-v1\n{}\n{installment}\n{amount_minor}\n{currency}\n{anchor}",
        kind.as_str()
    );
    let hash = hex::sha256(&[text.as_bytes()]);
    format!("{}-{}", kind.as_str(), &hash[..16])
}
