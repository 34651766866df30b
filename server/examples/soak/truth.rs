//! What a phone's lock should be, from what the lender was told: the plan and every
//! payment, void, lock, unlock and extension acknowledged 2xx. The soak compares the
//! core's decision on each accepted entitlement against this; it mirrors the server's
//! policy (ADR 0012's completing window, an extension moving the lock, a payment in full
//! lifting the lender's lock) in a few lines, independently of the server's code.

pub const DAY: i64 = 86_400;

/// The plan every soak device is registered with: two installments long overdue (the
/// phone starts locked), two far ahead; no lock moment is near the run's time.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dues: Vec<i64>,
    pub amount_minor: u64,
    pub grace_days: i64,
}

impl Plan {
    pub fn around(now: i64) -> Plan {
        Plan {
            dues: vec![
                now - 30 * DAY,
                now - 20 * DAY,
                now + 30 * DAY,
                now + 60 * DAY,
            ],
            amount_minor: 1000,
            grace_days: 7,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let installments: Vec<serde_json::Value> = self
            .dues
            .iter()
            .map(|due| serde_json::json!({ "due": due, "amount_minor": self.amount_minor }))
            .collect();
        serde_json::json!({ "currency": "KES", "grace_days": self.grace_days,
            "offline_lock_after_days": 30, "installments": installments })
    }

    pub fn total(&self) -> u64 {
        self.amount_minor * self.dues.len() as u64
    }

    /// The first unpaid installment's due date plus grace; the last one's when all is paid.
    fn plan_lock_at(&self, paid: u64) -> i64 {
        let covered = usize::try_from(paid / self.amount_minor).unwrap_or(usize::MAX);
        let due = self
            .dues
            .get(covered)
            .or(self.dues.last())
            .copied()
            .unwrap_or(0);
        due + self.grace_days * DAY
    }
}

/// The account as acknowledged to the lender.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub paid: u64,
    pub lender_locked: bool,
    pub extended_until: Option<i64>,
}

impl Account {
    /// Paid in full: completing for the lender's window (48 h, longer than any run).
    pub fn completing(&self, plan: &Plan) -> bool {
        self.paid >= plan.total()
    }

    pub fn owed(&self, plan: &Plan) -> u64 {
        plan.total().saturating_sub(self.paid)
    }

    pub fn lock_at(&self, plan: &Plan) -> i64 {
        plan.plan_lock_at(self.paid)
            .max(self.extended_until.unwrap_or(i64::MIN))
    }

    /// Whether the phone must be locked at `now`.
    pub fn should_lock(&self, plan: &Plan, now: i64) -> bool {
        if self.lender_locked {
            return true;
        }
        !self.completing(plan) && now >= self.lock_at(plan)
    }

    pub fn pay(&mut self, plan: &Plan, amount: u64) {
        let was_owing = !self.completing(plan);
        self.paid += amount;
        if was_owing && self.completing(plan) {
            // Paid in full lifts a lender lock (the server's `lift_lender_lock`).
            self.lender_locked = false;
        }
    }

    pub fn void(&mut self, amount: u64) {
        self.paid = self.paid.saturating_sub(amount);
    }
}
