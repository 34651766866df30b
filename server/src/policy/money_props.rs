//! Property tests of the completing window and voids (issue 13, ADR 0012): arbitrary
//! sequences of payments, voids, settlements and clock moves against [`Money`] and the
//! signed entitlement, checked against a model written from the rules, not from the code:
//! - `paid_minor` always equals the sum of the payments that are not voided;
//! - released is reached only after a full window with nothing voided (the window starts
//!   when a payment makes the device paid in full, and again at every void that leaves
//!   it paid in full; a void that leaves something owed ends it);
//! - nothing after it changes a released device.

use proptest::prelude::*;

use super::*;

const TOTAL: u64 = 6_000;

fn plan() -> Plan {
    Plan {
        currency: "KES".into(),
        grace_days: 7,
        offline_lock_after_days: Some(30),
        installments: (1..=6)
            .map(|i| PlanInstallment {
                due: 1_767_225_600 + i * 30 * DAY,
                amount_minor: TOTAL / 6,
            })
            .collect(),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Pay {
        amount: u64,
        allow_overpayment: bool,
    },
    /// Voids the `pick`-th payment that is not voided yet (modulo their number).
    Void { pick: usize },
    /// Moves the clock forward.
    Wait { seconds: i64 },
    /// What the server stores once it sees the window has passed.
    Settle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..=3_500, any::<bool>())
            .prop_map(|(amount, allow_overpayment)| Op::Pay { amount, allow_overpayment }),
        2 => any::<usize>().prop_map(|pick| Op::Void { pick }),
        3 => prop_oneof![0i64..=HOUR, 0i64..=3 * DAY].prop_map(|seconds| Op::Wait { seconds }),
        1 => Just(Op::Settle),
    ]
}

/// The rules, kept independently of [`Money`].
#[derive(Debug, Clone, Default)]
struct Model {
    /// (amount, voided)
    payments: Vec<(u64, bool)>,
    /// When the current full window started (paid in full, nothing voided since).
    window_from: Option<i64>,
    released: bool,
}

impl Model {
    fn paid(&self) -> u64 {
        self.payments
            .iter()
            .filter(|(_, voided)| !voided)
            .map(|(a, _)| a)
            .sum()
    }

    /// Released once a full window has passed since `window_from`; sticky.
    fn observe(&mut self, now: i64, window: i64) {
        if self.window_from.is_some_and(|t| now >= t + window) {
            self.released = true;
        }
    }
}

fn entitlement_at(m: &Money, now: i64) -> finlock_core::protocol::Entitlement {
    let plan = plan();
    let lender = LenderInfo {
        name: "Acme".into(),
        phone: "+254700000001".into(),
        email: None,
        payment_url: "https://pay.acme.example/p".into(),
        support_url: None,
        terms_url: None,
        payment_instructions: None,
    };
    let facts = DeviceFacts {
        plan: &plan,
        paid_minor: m.paid_minor,
        released: m.released,
        lender_lock: None,
        reminders: None,
        extended_until: None,
        release_at: m.release_at,
    };
    entitlement(
        &facts,
        &IssueContext {
            lender_id: "acme",
            device_id: "dev-1",
            seq: 1,
            now,
            nonce: None,
            jitter: 0.0,
            lender: &lender,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn completing_window_and_voids_keep_their_promises(
        window in prop_oneof![Just(0i64), Just(HOUR), Just(DEFAULT_COMPLETING_WINDOW_S), 0i64..=3 * DAY],
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let mut now = 1_767_225_600 + 10 * DAY;
        let mut money = Money { total_minor: TOTAL, paid_minor: 0, release_at: None, released: false };
        let mut model = Model::default();
        // What a released device holds: nothing may change it afterwards.
        let mut frozen: Option<(u64, Vec<(u64, bool)>)> = None;

        for op in ops {
            match op {
                Op::Pay { amount, allow_overpayment } => {
                    let before = model.paid();
                    match money.pay(amount, allow_overpayment, now, window) {
                        Ok(next) => {
                            prop_assert!(!model.released, "a released device took a payment");
                            prop_assert!(allow_overpayment || amount <= TOTAL.saturating_sub(before));
                            model.payments.push((amount, false));
                            if before < TOTAL && model.paid() >= TOTAL {
                                model.window_from = Some(now);
                            }
                            money = next;
                        }
                        Err(MoneyRefusal::Released) => prop_assert!(model.released),
                        Err(MoneyRefusal::Overpayment { owed }) => {
                            prop_assert!(!model.released);
                            prop_assert_eq!(owed, TOTAL.saturating_sub(before));
                            prop_assert!(!allow_overpayment && amount > owed);
                        }
                        Err(MoneyRefusal::OutOfRange) => prop_assert!(false, "out of range"),
                    }
                }
                Op::Void { pick } => {
                    let open: Vec<usize> = (0..model.payments.len())
                        .filter(|&i| !model.payments[i].1)
                        .collect();
                    if open.is_empty() {
                        continue;
                    }
                    let i = open[pick % open.len()];
                    match money.void(model.payments[i].0, now, window) {
                        Ok(next) => {
                            prop_assert!(!model.released, "a released device took a void");
                            model.payments[i].1 = true;
                            model.window_from = (model.paid() >= TOTAL).then_some(now);
                            money = next;
                        }
                        Err(MoneyRefusal::Released) => prop_assert!(model.released),
                        Err(other) => prop_assert!(false, "{:?}", other),
                    }
                }
                Op::Wait { seconds } => now += seconds,
                Op::Settle => {
                    if let Some(settled) = money.settle(now) {
                        prop_assert!(model.window_from.is_some_and(|t| now >= t + window));
                        money = settled;
                    }
                }
            }
            model.observe(now, window);

            prop_assert_eq!(money.paid_minor, model.paid(), "paid_minor = sum of non-voided payments");
            prop_assert_eq!(money.is_released(now), model.released);
            if model.released {
                let held = (money.paid_minor, model.payments.clone());
                match &frozen {
                    None => frozen = Some(held),
                    Some(f) => prop_assert_eq!(f, &held, "a released device changed"),
                }
            } else {
                prop_assert_eq!(money.completing(now), model.window_from.map(|t| t + window));
                prop_assert_eq!(money.release_at.is_some(), money.paid_minor >= TOTAL);
            }

            // What the phone is signed: released exactly when the model says so; while
            // completing, the date; otherwise no date.
            let e = entitlement_at(&money, now);
            prop_assert_eq!(e.state == EntitlementState::Released, model.released);
            prop_assert_eq!(e.release_at, if model.released { None } else { model.window_from.map(|t| t + window) });
            prop_assert!(e.validate(finlock_core::protocol::UrlPolicy::STRICT).is_ok());
        }
    }
}
