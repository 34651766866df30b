//! What the server promises a device: the entitlement computed from the plan, the
//! payments, the lender's actions and the time (issue 4, "Policy").
//!
//! Pure functions only — no database, no clock, no randomness (the jitter is passed
//! in) — so every rule below is a unit test away from being checked:
//! - payments apply to installments in order, partial payments accumulate;
//! - `lock_at` = due date of the first unpaid installment + grace days;
//! - paid in full → *completing* until the time it was paid in full plus the lender's
//!   window ([`Money`], ADR 0012): unlocked, the entitlement says `release_at`; a void
//!   in the window takes it back; only after a full window with nothing voided is it
//!   `released`, which is terminal;
//! - a lender lock → `locked` (`lender_request`), unless released;
//! - `next_checkin` every 6 h ± 10 %, hourly when `lock_at` is within 72 h or the
//!   device is locked, never later than a future `lock_at`.

use finlock_core::protocol::{
    Account, Entitlement, EntitlementState, Escalation, Installment, InstallmentStatus, LenderInfo,
    LockReason, MAX_SAFE, ReminderPolicy, VERSION,
};
use serde::{Deserialize, Serialize};

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
/// The normal check-in interval.
pub const CHECKIN_EVERY_S: i64 = 6 * HOUR;
/// The interval when a lock is near or in force, so a payment lifts it within the hour.
pub const URGENT_CHECKIN_EVERY_S: i64 = HOUR;
/// How close `lock_at` must be for the urgent interval.
pub const URGENT_WITHIN_S: i64 = 72 * HOUR;
/// ± this fraction, so ten million devices enrolled in one campaign do not all call at once.
pub const JITTER_FRACTION: f64 = 0.10;
/// The offline warning never starts earlier than this before an offline lock.
pub const MAX_OFFLINE_WARNING_S: u64 = 3 * DAY as u64;
/// The completing window when the lender set none: 48 hours, as Knox Guard does.
pub const DEFAULT_COMPLETING_WINDOW_S: i64 = 48 * HOUR;
/// The longest completing window a lender may set: a paid-up customer waits at most this.
pub const MAX_COMPLETING_WINDOW_S: i64 = 30 * DAY;
/// The `lock_at` of a completing entitlement: the largest time of the protocol, so that a
/// device predating `release_at` (which ignores it) does not lock for payment either.
pub const COMPLETING_LOCK_AT: i64 = MAX_SAFE as i64 - 1;

/// Where a device's money stands, as stored (ADR 0012). The transitions below are the
/// only way it changes; the database applies their result as a compare-and-swap.
///
/// Invariants: `paid_minor` is the sum of the payments that are not voided;
/// `release_at` is set exactly while paid in full and not yet released; released is
/// reached only at `release_at`, i.e. a full window after the last payment or void that
/// left the device paid in full; nothing changes a released device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub total_minor: u64,
    pub paid_minor: u64,
    /// Completing until then.
    pub release_at: Option<i64>,
    /// Released for good (stored once the window passed, or by the lender).
    pub released: bool,
}

/// Why a change of money is refused (nothing changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyRefusal {
    /// Released (terminal): nothing is owed and nothing can be taken back.
    Released,
    /// More than is still owed, without `allow_overpayment`.
    Overpayment { owed: u64 },
    /// The amounts do not add up (a stored total out of range).
    OutOfRange,
}

impl Money {
    /// Released at `now`: for good, or because the window has passed.
    pub fn is_released(&self, now: i64) -> bool {
        self.released || self.window_end().is_some_and(|t| now >= t)
    }

    /// The release date while completing at `now`; `None` when owing or released.
    pub fn completing(&self, now: i64) -> Option<i64> {
        self.window_end().filter(|_| !self.is_released(now))
    }

    /// `release_at`, as long as the device is paid in full: a plan rescheduled to a larger
    /// total while completing owes again, and its window no longer counts.
    fn window_end(&self) -> Option<i64> {
        self.release_at
            .filter(|_| self.paid_minor >= self.total_minor)
    }

    pub fn owed(&self) -> u64 {
        self.total_minor.saturating_sub(self.paid_minor)
    }

    /// A payment of `amount` at `now`. Paying in full starts the window; a payment while
    /// completing (only with `allow_overpayment`: nothing is owed) does not move it.
    pub fn pay(
        self,
        amount: u64,
        allow_overpayment: bool,
        now: i64,
        window_s: i64,
    ) -> Result<Money, MoneyRefusal> {
        if self.is_released(now) {
            return Err(MoneyRefusal::Released);
        }
        if amount > self.owed() && !allow_overpayment {
            return Err(MoneyRefusal::Overpayment { owed: self.owed() });
        }
        let paid_minor = self
            .paid_minor
            .checked_add(amount)
            .filter(|p| *p < MAX_SAFE)
            .ok_or(MoneyRefusal::OutOfRange)?;
        let release_at = match self.window_end() {
            Some(t) => Some(t),
            None => (paid_minor >= self.total_minor).then(|| now.saturating_add(window_s)),
        };
        Ok(Money {
            paid_minor,
            release_at,
            ..self
        })
    }

    /// Voids a recorded payment of `amount` at `now`. Still paid in full afterwards, the
    /// window starts again (released only after a full window with nothing voided);
    /// otherwise the device owes again.
    pub fn void(self, amount: u64, now: i64, window_s: i64) -> Result<Money, MoneyRefusal> {
        if self.is_released(now) {
            return Err(MoneyRefusal::Released);
        }
        let paid_minor = self
            .paid_minor
            .checked_sub(amount)
            .ok_or(MoneyRefusal::OutOfRange)?;
        let release_at = (paid_minor >= self.total_minor).then(|| now.saturating_add(window_s));
        Ok(Money {
            paid_minor,
            release_at,
            ..self
        })
    }

    /// What is stored once the window has passed: released for good. `None` when there is
    /// nothing to settle (owing, completing, or released already).
    pub fn settle(self, now: i64) -> Option<Money> {
        (!self.released && self.is_released(now)).then_some(Money {
            released: true,
            ..self
        })
    }
}

/// A lender's completing window as asked: 0 (released at once, no corrections) to
/// [`MAX_COMPLETING_WINDOW_S`].
pub fn check_completing_window(window_s: i64) -> bool {
    (0..=MAX_COMPLETING_WINDOW_S).contains(&window_s)
}

/// One installment as the lender registered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanInstallment {
    /// Unix seconds, from 2000-01-01 to before 2100-01-01.
    #[schema(minimum = 946_684_800_i64, maximum = 4_102_444_799_i64)]
    pub due: i64,
    pub amount_minor: u64,
}

/// The installment plan of one financed device (stored as JSON on the device row; only
/// a reschedule, `devices::update`, changes it, under ADR 0013's rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub currency: String,
    pub grace_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_lock_after_days: Option<u32>,
    pub installments: Vec<PlanInstallment>,
}

impl Plan {
    pub fn total_minor(&self) -> u64 {
        self.installments
            .iter()
            .fold(0u64, |sum, i| sum.saturating_add(i.amount_minor))
    }

    pub fn paid_in_full(&self, paid_minor: u64) -> bool {
        paid_minor >= self.total_minor()
    }

    /// The first installment the payments do not cover, with how much of it is still open.
    pub fn first_unpaid(&self, paid_minor: u64) -> Option<(PlanInstallment, u64)> {
        let mut left = paid_minor;
        for inst in &self.installments {
            if left >= inst.amount_minor {
                left -= inst.amount_minor;
            } else {
                return Some((*inst, inst.amount_minor - left));
            }
        }
        None
    }

    /// `lock_at`: the first unpaid installment's due date plus the grace days; `None`
    /// when everything is paid.
    pub fn lock_at(&self, paid_minor: u64) -> Option<i64> {
        self.first_unpaid(paid_minor)
            .map(|(inst, _)| inst.due.saturating_add(i64::from(self.grace_days) * DAY))
    }

    /// The account as the device shows it: every installment with its status.
    pub fn account(&self, paid_minor: u64, now: i64) -> Account {
        let mut left = paid_minor;
        let mut overdue_open = 0u64;
        let mut next_open: Option<(i64, u64)> = None;
        let installments = self
            .installments
            .iter()
            .map(|inst| {
                let covered = left.min(inst.amount_minor);
                left -= covered;
                let open = inst.amount_minor - covered;
                let status = if open == 0 {
                    InstallmentStatus::Paid
                } else if now > inst.due {
                    overdue_open = overdue_open.saturating_add(open);
                    InstallmentStatus::Overdue
                } else {
                    if next_open.is_none() {
                        next_open = Some((inst.due, open));
                    }
                    InstallmentStatus::Due
                };
                Installment {
                    due: inst.due,
                    amount_minor: inst.amount_minor,
                    status,
                }
            })
            .collect();
        // What brings the account back to current: the overdue amounts if any, else
        // what is open of the next installment.
        let amount_due_minor = if overdue_open > 0 {
            overdue_open
        } else {
            next_open.map_or(0, |(_, open)| open)
        };
        Account {
            currency: self.currency.clone(),
            amount_due_minor,
            next_due: self.first_unpaid(paid_minor).map(|(inst, _)| inst.due),
            installments,
        }
    }

    /// `(offline_lock_after_s, offline_warning_s)`; the warning is half the period,
    /// at most three days (PROTOCOL §8.4 requires it to be shorter than the period).
    pub fn offline_policy(&self) -> (Option<u64>, Option<u64>) {
        match self.offline_lock_after_days {
            Some(days) if days >= 1 => {
                let after = u64::from(days) * DAY as u64;
                (Some(after), Some((after / 2).min(MAX_OFFLINE_WARNING_S)))
            }
            _ => (None, None),
        }
    }
}

/// Reminders when the lender set none: 3 days and 1 day before, at 09:00, quiet
/// 21:00–08:00, an overdue reminder every day.
pub fn default_reminders() -> ReminderPolicy {
    ReminderPolicy {
        offsets_s: vec![3 * DAY, DAY],
        hour_local: 9,
        quiet_start: "21:00".into(),
        quiet_end: "08:00".into(),
        overdue_every_s: DAY as u64,
    }
}

/// When the device should call again. `jitter` in `[-1, 1]` scales ± 10 %.
pub fn next_checkin(now: i64, lock_at: i64, locked: bool, jitter: f64) -> i64 {
    let urgent = locked || lock_at <= now || lock_at - now <= URGENT_WITHIN_S;
    let base = if urgent {
        URGENT_CHECKIN_EVERY_S
    } else {
        CHECKIN_EVERY_S
    };
    let jitter = if jitter.is_finite() {
        jitter.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let spread = (base as f64 * JITTER_FRACTION * jitter).round() as i64;
    let mut at = now.saturating_add(base + spread);
    if lock_at > now {
        at = at.min(lock_at);
    }
    at.max(now.saturating_add(1))
}

/// Everything about one device the entitlement depends on, as stored.
#[derive(Debug, Clone, Copy)]
pub struct DeviceFacts<'a> {
    pub plan: &'a Plan,
    pub paid_minor: u64,
    pub released: bool,
    /// `Some(reason)` while the lender has locked the device.
    pub lender_lock: Option<&'a str>,
    pub reminders: Option<&'a ReminderPolicy>,
    /// A promise-to-pay extension: the lock is not before this time.
    pub extended_until: Option<i64>,
    /// Paid in full: completing until then, released from then on ([`Money`]).
    pub release_at: Option<i64>,
}

impl DeviceFacts<'_> {
    /// When the device locks unless paid: the plan's moment, or later with an extension.
    pub fn lock_at(&self) -> Option<i64> {
        self.plan
            .lock_at(self.paid_minor)
            .map(|t| t.max(self.extended_until.unwrap_or(t)))
    }

    /// Released is terminal: once set (or once the completing window has passed) it
    /// wins over everything else.
    pub fn is_released(&self, now: i64) -> bool {
        self.money().is_released(now)
    }

    /// The release date while completing at `now`.
    pub fn completing(&self, now: i64) -> Option<i64> {
        self.money().completing(now)
    }

    fn money(&self) -> Money {
        Money {
            total_minor: self.plan.total_minor(),
            paid_minor: self.paid_minor,
            release_at: self.release_at,
            released: self.released,
        }
    }
}

/// The columns kept beside a device's plan so its state, its days past due and its lock
/// can be filtered, sorted and counted in SQL (migration 0013, `devices::search`). Every
/// write that changes their inputs stores [`SearchColumns::of`] in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchColumns {
    /// The due date of the first installment the payments do not cover; `None` when paid
    /// in full or released (nothing is owed).
    pub first_unpaid_due: Option<i64>,
    /// [`DeviceFacts::lock_at`]: that due date plus grace, or a later extension; `None`
    /// exactly when `first_unpaid_due` is.
    pub lock_at: Option<i64>,
}

impl SearchColumns {
    /// The columns of a device with this plan, paid amount, extension and stored release.
    pub fn of(
        plan: &Plan,
        paid_minor: u64,
        extended_until: Option<i64>,
        released: bool,
    ) -> SearchColumns {
        if released {
            return SearchColumns {
                first_unpaid_due: None,
                lock_at: None,
            };
        }
        let facts = DeviceFacts {
            plan,
            paid_minor,
            released,
            lender_lock: None,
            reminders: None,
            extended_until,
            release_at: None,
        };
        SearchColumns {
            first_unpaid_due: plan.first_unpaid(paid_minor).map(|(inst, _)| inst.due),
            lock_at: facts.lock_at(),
        }
    }
}

/// Who signs, for whom, when, in answer to what.
#[derive(Debug, Clone)]
pub struct IssueContext<'a> {
    pub lender_id: &'a str,
    pub device_id: &'a str,
    pub seq: u64,
    pub now: i64,
    pub nonce: Option<String>,
    /// In `[-1, 1]`, drawn by the caller.
    pub jitter: f64,
    pub lender: &'a LenderInfo,
}

/// The `lock_at` an entitlement carries while not released: the first unpaid
/// installment's due date plus grace, or the last due date plus grace when nothing is
/// unpaid yet (never negative).
pub fn first_lock_at(plan: &Plan, paid_minor: u64) -> i64 {
    let last_due = plan.installments.last().map_or(0, |i| i.due);
    let grace = i64::from(plan.grace_days) * DAY;
    plan.lock_at(paid_minor)
        .unwrap_or(last_due.saturating_add(grace))
        .max(0)
}

/// The entitlement for `facts` at `ctx.now` (unsigned), without a ladder: the v1 meaning
/// ([`finlock_core::protocol::Escalation::implied_by`]), which is what the `permissive`
/// profile signs without payment apps. What devices receive is [`entitlement_under`].
pub fn entitlement(facts: &DeviceFacts<'_>, ctx: &IssueContext<'_>) -> Entitlement {
    entitlement_with(facts, ctx, None)
}

/// The entitlement for `facts` at `ctx.now` (unsigned) under the lender's compliance
/// terms: with the escalation ladder ([`ladder::ladder`]) for every device that owes
/// something and is neither completing nor released, lender-locked ones included — left
/// out only when it is exactly what its absence means (the v1 ladder of `lock_at`).
pub fn entitlement_under(
    facts: &DeviceFacts<'_>,
    ctx: &IssueContext<'_>,
    terms: ladder::Terms<'_>,
) -> Entitlement {
    entitlement_with(facts, ctx, Some(terms))
}

fn entitlement_with(
    facts: &DeviceFacts<'_>,
    ctx: &IssueContext<'_>,
    terms: Option<ladder::Terms<'_>>,
) -> Entitlement {
    let plan = facts.plan;
    let account = plan.account(facts.paid_minor, ctx.now);
    let last_due = plan.installments.last().map_or(ctx.now, |i| i.due);
    let grace = i64::from(plan.grace_days) * DAY;
    let completing = facts.completing(ctx.now);
    let (state, lock_at, lock_reason, message) = if facts.is_released(ctx.now) {
        // lock_at is meaningless once released; the last due date keeps it a valid time.
        (
            EntitlementState::Released,
            last_due.saturating_add(grace),
            None,
            None,
        )
    } else {
        let lock_at = match completing {
            // Nothing is owed: no payment lock, for devices that predate release_at too.
            Some(_) => COMPLETING_LOCK_AT,
            None => first_lock_at(plan, facts.paid_minor).max(facts.extended_until.unwrap_or(0)),
        };
        match facts.lender_lock {
            Some(reason) => (
                EntitlementState::Locked,
                lock_at,
                Some(LockReason::LenderRequest),
                (!reason.is_empty())
                    .then(|| std::collections::BTreeMap::from([("en".into(), reason.into())])),
            ),
            None => (EntitlementState::Active, lock_at, None, None),
        }
    };
    let locked = state == EntitlementState::Locked;
    let (mut offline_lock_after_s, mut offline_warning_s) = if state == EntitlementState::Released {
        (None, None)
    } else {
        plan.offline_policy()
    };
    // The ladder: only while something is owed (not completing, not released).
    let due = plan
        .first_unpaid(facts.paid_minor)
        .map(|(inst, _)| inst.due);
    let ladder = match (terms, due) {
        (Some(terms), Some(due)) if state != EntitlementState::Released && completing.is_none() => {
            // How much later than the plan's own moment the lender's extension puts it.
            let extension_s = lock_at.saturating_sub(first_lock_at(plan, facts.paid_minor));
            Some(ladder::ladder(terms, due, lock_at, extension_s))
        }
        _ => None,
    };
    let (lock_at, escalation, urgent_at) = match ladder {
        Some(l) => {
            if !l.offline_lock {
                (offline_lock_after_s, offline_warning_s) = (None, None);
            }
            // Hourly check-ins near the first step, so a payment lifts it within the hour.
            let first_step = l.escalation.restrict_at.unwrap_or(l.lock_at);
            // Absent means exactly this ladder (§3.7, v1 entitlements): not signed twice.
            let implied = l.escalation == Escalation::implied_by(l.lock_at);
            (l.lock_at, (!implied).then_some(l.escalation), first_step)
        }
        None => (lock_at, None, lock_at),
    };
    // Completing: call again when the window ends, to be released then.
    let mut next_checkin = next_checkin(ctx.now, urgent_at, locked, ctx.jitter);
    if let Some(release_at) = completing {
        next_checkin = next_checkin.min(release_at).max(ctx.now.saturating_add(1));
    }
    Entitlement {
        v: VERSION,
        iss: ctx.lender_id.to_string(),
        sub: ctx.device_id.to_string(),
        seq: ctx.seq,
        iat: ctx.now,
        nonce: ctx.nonce.clone(),
        state,
        lock_at: lock_at.max(0),
        lock_reason,
        release_at: completing,
        next_checkin,
        offline_lock_after_s,
        offline_warning_s,
        account,
        reminders: facts.reminders.cloned().unwrap_or_else(default_reminders),
        lender: ctx.lender.clone(),
        message,
        escalation,
    }
}

/// How the lender sees a device at a glance (`GET /v1/lender/devices`, `?state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Nothing is overdue.
    Current,
    /// An installment is past due, the grace period still runs.
    Overdue,
    /// Locked: by the lender, or because `lock_at` has passed.
    Locked,
    /// Paid in full, released at `release_at` unless a payment is voided first.
    Completing,
    /// Paid in full (and the completing window over) or released by the lender; terminal.
    Released,
}

impl DeviceStatus {
    pub fn parse(s: &str) -> Option<DeviceStatus> {
        match s {
            "current" => Some(DeviceStatus::Current),
            "overdue" => Some(DeviceStatus::Overdue),
            "locked" => Some(DeviceStatus::Locked),
            "completing" => Some(DeviceStatus::Completing),
            "released" => Some(DeviceStatus::Released),
            _ => None,
        }
    }
}

pub fn status(facts: &DeviceFacts<'_>, now: i64) -> DeviceStatus {
    if facts.is_released(now) {
        return DeviceStatus::Released;
    }
    if facts.lender_lock.is_some() {
        return DeviceStatus::Locked;
    }
    if facts.completing(now).is_some() {
        return DeviceStatus::Completing;
    }
    match facts.plan.first_unpaid(facts.paid_minor) {
        Some(_) if facts.lock_at().is_some_and(|t| now >= t) => DeviceStatus::Locked,
        Some((inst, _)) if now > inst.due => DeviceStatus::Overdue,
        _ => DeviceStatus::Current,
    }
}

pub mod ladder;
#[cfg(test)]
mod ladder_tests;
#[cfg(test)]
mod money_props;

#[cfg(test)]
mod tests {
    use super::*;
    use finlock_core::protocol::UrlPolicy;

    const T0: i64 = 1_767_225_600;

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

    fn issue(facts: &DeviceFacts<'_>, now: i64) -> Entitlement {
        let lender = lender();
        let e = entitlement(
            facts,
            &IssueContext {
                lender_id: "acme",
                device_id: "dev-1",
                seq: 3,
                now,
                nonce: None,
                jitter: 0.0,
                lender: &lender,
            },
        );
        e.validate(UrlPolicy::STRICT).expect("valid entitlement");
        e
    }

    fn facts(plan: &Plan, paid: u64) -> DeviceFacts<'_> {
        DeviceFacts {
            plan,
            paid_minor: paid,
            released: false,
            lender_lock: None,
            reminders: None,
            extended_until: None,
            release_at: None,
        }
    }

    #[test]
    fn lock_at_is_first_unpaid_due_plus_grace() {
        let p = plan();
        assert_eq!(p.lock_at(0), Some(T0 + 30 * DAY + 7 * DAY));
        assert_eq!(p.lock_at(1_000), Some(T0 + 60 * DAY + 7 * DAY));
    }

    #[test]
    fn partial_payments_accumulate_in_order() {
        let p = plan();
        assert_eq!(p.lock_at(999), Some(T0 + 37 * DAY));
        assert_eq!(p.first_unpaid(1_500), Some((p.installments[1], 500)));
        assert_eq!(p.lock_at(1_500 + 500), Some(T0 + 97 * DAY));
    }

    #[test]
    fn account_statuses_are_paid_due_overdue() {
        let p = plan();
        let a = p.account(1_200, T0 + 61 * DAY);
        let st: Vec<_> = a.installments.iter().map(|i| i.status).collect();
        assert_eq!(
            st[..3],
            [
                InstallmentStatus::Paid,
                InstallmentStatus::Overdue,
                InstallmentStatus::Due
            ]
        );
        assert_eq!(a.amount_due_minor, 800);
        assert_eq!(a.next_due, Some(T0 + 60 * DAY));
        let before = p.account(1_200, T0 + 10 * DAY);
        assert_eq!(before.amount_due_minor, 800);
        assert_eq!(p.account(0, T0).amount_due_minor, 1_000);
    }

    #[test]
    fn paid_in_full_completes_then_is_released_after_the_window() {
        let p = plan();
        let release_at = T0 + 2 * DAY;
        let f = DeviceFacts {
            release_at: Some(release_at),
            ..facts(&p, 6_000)
        };
        // Completing: unlocked, told the date, nothing owed, no payment lock, and asked
        // to call again when the window ends.
        assert_eq!(issue(&f, T0).next_checkin, T0 + CHECKIN_EVERY_S);
        let e = issue(&f, release_at - HOUR);
        assert_eq!(e.state, EntitlementState::Active);
        assert_eq!(e.release_at, Some(release_at));
        assert_eq!(e.lock_at, COMPLETING_LOCK_AT);
        assert_eq!(e.account.amount_due_minor, 0);
        assert_eq!(e.account.next_due, None);
        assert_eq!(e.offline_lock_after_s, Some(30 * DAY as u64));
        assert_eq!(e.next_checkin, release_at);
        assert_eq!(status(&f, release_at - 1), DeviceStatus::Completing);
        // The window over: released (terminal), signed as before.
        let e = issue(&f, release_at);
        assert_eq!(e.state, EntitlementState::Released);
        assert_eq!(e.release_at, None);
        assert_eq!(e.offline_lock_after_s, None);
        assert_eq!(status(&f, release_at), DeviceStatus::Released);
    }

    #[test]
    fn a_completing_device_that_was_overdue_is_unlocked_on_the_phone() {
        let p = plan();
        let now = T0 + 100 * DAY; // far past the first lock
        let f = DeviceFacts {
            release_at: Some(now + 2 * DAY),
            ..facts(&p, 6_000)
        };
        let e = issue(&f, now);
        let input = finlock_core::decision::DecisionInput {
            state: Some(e.state),
            lock_at: e.lock_at,
            lock_reason: e.lock_reason,
            offline_lock_after_s: e.offline_lock_after_s,
            last_successful_checkin: now,
            offline_extension_until: 0,
            release_at: e.completing_until(),
            ladder: finlock_core::decision::Ladder::notice_from(e.ladder().notice_at),
            notice: None,
        };
        let d = finlock_core::decision::decide(&input, now, Some(now));
        assert!(!d.locked && d.release_at == Some(now + 2 * DAY));
        // A device that ignores release_at (it predates it) does not lock for payment.
        let old = finlock_core::decision::DecisionInput {
            release_at: None,
            ..input
        };
        let later = now + 20 * DAY;
        assert!(!finlock_core::decision::decide(&old, later, Some(later)).locked);
        let much_later = now + 365 * DAY;
        let d = finlock_core::decision::decide(&old, much_later, Some(much_later));
        assert_ne!(d.reason, Some(LockReason::OverduePayment));
    }

    #[test]
    fn a_lender_lock_while_completing_keeps_the_date_and_ends_with_the_release() {
        let p = plan();
        let release_at = T0 + 2 * DAY;
        let f = DeviceFacts {
            release_at: Some(release_at),
            lender_lock: Some("reported stolen"),
            ..facts(&p, 6_000)
        };
        let e = issue(&f, T0);
        assert_eq!(e.state, EntitlementState::Locked);
        assert_eq!(e.release_at, Some(release_at));
        assert_eq!(status(&f, T0), DeviceStatus::Locked);
        assert_eq!(issue(&f, release_at).state, EntitlementState::Released);
        assert_eq!(status(&f, release_at), DeviceStatus::Released);
    }

    #[test]
    fn money_pays_in_full_then_voids_back_or_restarts_the_window() {
        let w = 2 * DAY;
        let m = Money {
            total_minor: 6_000,
            paid_minor: 5_000,
            release_at: None,
            released: false,
        };
        assert_eq!(
            m.pay(2_000, false, T0, w),
            Err(MoneyRefusal::Overpayment { owed: 1_000 })
        );
        let full = m.pay(1_000, false, T0, w).unwrap();
        assert_eq!(full.release_at, Some(T0 + w));
        assert_eq!(full.completing(T0 + w - 1), Some(T0 + w));
        // Nothing is owed while completing: another payment is an overpayment.
        assert_eq!(
            full.pay(1, false, T0 + 10, w),
            Err(MoneyRefusal::Overpayment { owed: 0 })
        );
        let extra = full.pay(500, true, T0 + 10, w).unwrap();
        assert_eq!(
            extra.release_at,
            Some(T0 + w),
            "an extra payment does not move it"
        );
        // Voiding the extra keeps it paid in full: a full window starts again.
        let again = extra.void(500, T0 + DAY, w).unwrap();
        assert_eq!(again.paid_minor, 6_000);
        assert_eq!(again.release_at, Some(T0 + DAY + w));
        // Voiding a real payment: owing again.
        let back = again.void(1_000, T0 + DAY + 1, w).unwrap();
        assert_eq!((back.paid_minor, back.release_at), (5_000, None));
        assert_eq!(back.settle(T0 + 100 * DAY), None);
        // The window over: settled as released; nothing changes it afterwards.
        let done = full.settle(T0 + w).unwrap();
        assert!(done.released);
        assert_eq!(full.settle(T0 + w - 1), None);
        assert_eq!(done.settle(T0 + 10 * w), None);
        assert_eq!(full.void(1_000, T0 + w, w), Err(MoneyRefusal::Released));
        assert_eq!(done.pay(1, true, T0 + w, w), Err(MoneyRefusal::Released));
        // A plan rescheduled to a larger total while completing owes again: its window no
        // longer counts, and paying in full again starts a new one.
        let rescheduled = Money {
            total_minor: 7_000,
            ..full
        };
        assert!(!rescheduled.is_released(T0 + 10 * w));
        assert_eq!(rescheduled.completing(T0), None);
        let repaid = rescheduled.pay(1_000, false, T0 + 5 * w, w).unwrap();
        assert_eq!(repaid.release_at, Some(T0 + 6 * w));
        // A window of 0 releases at once, as before ADR 0012.
        assert!(m.pay(1_000, false, T0, 0).unwrap().is_released(T0));
        assert!(check_completing_window(0) && check_completing_window(MAX_COMPLETING_WINDOW_S));
        assert!(
            !check_completing_window(-1) && !check_completing_window(MAX_COMPLETING_WINDOW_S + 1)
        );
    }

    #[test]
    fn released_wins_over_a_lender_lock() {
        let p = plan();
        let f = DeviceFacts {
            released: true,
            lender_lock: Some("stolen"),
            ..facts(&p, 0)
        };
        assert_eq!(issue(&f, T0).state, EntitlementState::Released);
        assert_eq!(status(&f, T0), DeviceStatus::Released);
    }

    #[test]
    fn lender_lock_is_locked_with_reason_and_message() {
        let p = plan();
        let f = DeviceFacts {
            lender_lock: Some("Please call us"),
            ..facts(&p, 0)
        };
        let e = issue(&f, T0);
        assert_eq!(e.state, EntitlementState::Locked);
        assert_eq!(e.lock_reason, Some(LockReason::LenderRequest));
        assert_eq!(e.message_for("en"), Some("Please call us"));
        assert_eq!(e.next_checkin, T0 + HOUR);
    }

    #[test]
    fn next_checkin_is_six_hours_plus_minus_ten_percent() {
        let far = T0 + 100 * DAY;
        assert_eq!(next_checkin(T0, far, false, 0.0), T0 + 6 * HOUR);
        assert_eq!(next_checkin(T0, far, false, 1.0), T0 + 6 * HOUR + 2_160);
        assert_eq!(next_checkin(T0, far, false, -1.0), T0 + 6 * HOUR - 2_160);
        assert_eq!(next_checkin(T0, far, false, 5.0), T0 + 6 * HOUR + 2_160);
        assert_eq!(next_checkin(T0, far, false, f64::NAN), T0 + 6 * HOUR);
    }

    #[test]
    fn next_checkin_is_hourly_near_a_lock_or_when_locked() {
        let near = T0 + 72 * HOUR;
        assert_eq!(next_checkin(T0, near, false, 0.0), T0 + HOUR);
        assert_eq!(next_checkin(T0, T0 + 100 * DAY, true, 0.0), T0 + HOUR);
        assert_eq!(next_checkin(T0, T0 - DAY, false, 0.0), T0 + HOUR);
        assert_eq!(next_checkin(T0, T0 + 73 * HOUR, false, 0.0), T0 + 6 * HOUR);
    }

    #[test]
    fn next_checkin_is_never_later_than_lock_at() {
        assert_eq!(next_checkin(T0, T0 + 600, false, 1.0), T0 + 600);
        assert_eq!(next_checkin(T0, T0 + 1, false, 0.0), T0 + 1);
    }

    #[test]
    fn offline_policy_follows_the_plan_and_protocol_bounds() {
        let mut p = plan();
        assert_eq!(
            p.offline_policy(),
            (Some(30 * DAY as u64), Some(3 * DAY as u64))
        );
        p.offline_lock_after_days = Some(1);
        assert_eq!(p.offline_policy(), (Some(DAY as u64), Some(DAY as u64 / 2)));
        p.offline_lock_after_days = None;
        assert_eq!(p.offline_policy(), (None, None));
        issue(&facts(&p, 0), T0);
    }

    #[test]
    fn default_reminders_are_three_days_and_one_day_before() {
        let e = issue(&facts(&plan(), 0), T0);
        assert_eq!(e.reminders.offsets_s, vec![3 * DAY, DAY]);
        assert_eq!(e.reminders.hour_local, 9);
        assert_eq!(e.reminders.overdue_every_s, DAY as u64);
    }

    #[test]
    fn status_moves_current_overdue_locked_released() {
        let p = plan();
        let f = facts(&p, 0);
        assert_eq!(status(&f, T0), DeviceStatus::Current);
        assert_eq!(status(&f, T0 + 31 * DAY), DeviceStatus::Overdue);
        assert_eq!(status(&f, T0 + 37 * DAY), DeviceStatus::Locked);
        let paid = DeviceFacts {
            release_at: Some(T0 + 2 * DAY),
            ..facts(&p, 6_000)
        };
        assert_eq!(status(&paid, T0), DeviceStatus::Completing);
        assert_eq!(status(&paid, T0 + 2 * DAY), DeviceStatus::Released);
    }

    #[test]
    fn an_overdue_device_stays_active_with_lock_at_in_the_past() {
        // The device decides the lock from lock_at and trusted time (PROTOCOL §5.3).
        let e = issue(&facts(&plan(), 0), T0 + 40 * DAY);
        assert_eq!(e.state, EntitlementState::Active);
        assert!(e.lock_at < T0 + 40 * DAY);
        assert_eq!(e.next_checkin, T0 + 40 * DAY + HOUR);
    }

    #[test]
    fn an_extension_moves_the_lock_later_never_earlier() {
        let p = plan();
        let due_lock = T0 + 37 * DAY;
        let later = DeviceFacts {
            extended_until: Some(due_lock + 5 * DAY),
            ..facts(&p, 0)
        };
        assert_eq!(later.lock_at(), Some(due_lock + 5 * DAY));
        assert_eq!(issue(&later, due_lock + DAY).lock_at, due_lock + 5 * DAY);
        assert_eq!(status(&later, due_lock + DAY), DeviceStatus::Overdue);
        assert_eq!(status(&later, due_lock + 5 * DAY), DeviceStatus::Locked);
        // An extension before the plan's moment changes nothing.
        let earlier = DeviceFacts {
            extended_until: Some(due_lock - DAY),
            ..facts(&p, 0)
        };
        assert_eq!(issue(&earlier, T0).lock_at, due_lock);
        // Paying the overdue installment moves the lock to the next one's, past the extension.
        let paid = DeviceFacts {
            extended_until: Some(due_lock + 5 * DAY),
            ..facts(&p, 1000)
        };
        assert_eq!(paid.lock_at(), Some(T0 + 67 * DAY));
    }
}
