//! Decision vectors (PROTOCOL §5, §3.7, ADR 0017), `kind: "decision"`, numbered from
//! [`FIRST_NUMBER`]: the stored facts, the device's notice record as of now (first shown at,
//! seconds on the phone by its monotonic clock), trusted and verified time → the decision
//! (level, reason, held for notice, the effective moments, the next change).
//!
//! They pin down the levels another implementation must reach, the notice held for a display
//! or for the notice period, and the moments the notice page promises.

use serde::{Deserialize, Serialize};

use crate::decision::{self, Decision, DecisionInput, Ladder, NoticeSeen};
use crate::protocol::{EntitlementState, LockReason};

/// After the escalation vectors (132–147).
const FIRST_NUMBER: usize = 148;

const T: i64 = crate::fixtures::T0;
const DAY: i64 = 86_400;

/// The facts the decision reads, as a vector spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// `null` before enrollment.
    pub state: Option<EntitlementState>,
    pub lock_at: i64,
    pub lock_reason: Option<LockReason>,
    pub offline_lock_after_s: Option<u64>,
    pub last_successful_checkin: i64,
    pub offline_code_extension_until: i64,
    pub release_at: Option<i64>,
    /// The effective ladder (§3.7): `notice_min_s` as signed (the device applies the floor).
    pub notice_at: i64,
    pub restrict_at: Option<i64>,
    pub notice_min_s: u64,
    /// The notice record: `null` when the notice page was not displayed in this episode.
    pub notice: Option<Notice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub first_shown_at: i64,
    /// Seconds the notice has been on the phone, by its monotonic clock.
    pub elapsed_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionVector {
    /// Always `"decision"`.
    pub kind: String,
    pub name: String,
    pub description: String,
    pub facts: Facts,
    /// Trusted time (§4).
    pub now: i64,
    /// Verified time carried forward; `null` when the device never heard from its server.
    pub verified_now: Option<i64>,
    pub expected: Decision,
}

impl Facts {
    fn input(&self) -> DecisionInput {
        DecisionInput {
            state: self.state,
            lock_at: self.lock_at,
            lock_reason: self.lock_reason,
            offline_lock_after_s: self.offline_lock_after_s,
            last_successful_checkin: self.last_successful_checkin,
            offline_extension_until: self.offline_code_extension_until,
            release_at: self.release_at,
            ladder: Ladder {
                notice_at: self.notice_at,
                restrict_at: self.restrict_at,
                notice_min_s: self.notice_min_s,
            },
            notice: self.notice.map(|n| NoticeSeen {
                first_shown_at: n.first_shown_at,
                elapsed_s: n.elapsed_s,
            }),
        }
    }
}

pub fn is_decision_vector(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("kind")?.as_str().map(|k| k == "decision"))
        .unwrap_or(false)
}

pub fn check(v: &DecisionVector) -> Result<(), String> {
    let got = decision::decide(&v.facts.input(), v.now, v.verified_now);
    if got == v.expected {
        Ok(())
    } else {
        Err(format!("expected {:?}, got {got:?}", v.expected))
    }
}

pub fn check_text(text: &str) -> Result<(), String> {
    let v: DecisionVector = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check(&v)
}

pub fn file_name(v: &DecisionVector) -> String {
    format!("{}.json", v.name)
}

/// The exact bytes written for a vector (pretty JSON and a final newline).
pub fn render(v: &DecisionVector) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

/// Overdue: notice from 10 days before the lock, restricted 5 days before, a 2-day notice
/// period; online (no offline lock); nothing displayed yet.
fn ladder() -> Facts {
    Facts {
        state: Some(EntitlementState::Active),
        lock_at: T + 100 * DAY,
        lock_reason: None,
        offline_lock_after_s: None,
        last_successful_checkin: T + 80 * DAY,
        offline_code_extension_until: 0,
        release_at: None,
        notice_at: T + 90 * DAY,
        restrict_at: Some(T + 95 * DAY),
        notice_min_s: 2 * DAY as u64,
        notice: None,
    }
}

fn shown(first_shown_at: i64, elapsed_s: i64) -> Option<Notice> {
    Some(Notice {
        first_shown_at,
        elapsed_s: elapsed_s as u64,
    })
}

pub fn vectors() -> Vec<DecisionVector> {
    let cases: Vec<(&str, &str, Facts, i64)> = vec![
        (
            "decision-normal-before-notice",
            "Before the notice start: normal; the next change is the notice start.",
            ladder(),
            T + 90 * DAY - 1,
        ),
        (
            "decision-notice",
            "From notice_at: the notice, with the coming step's reason and moments.",
            ladder(),
            T + 90 * DAY,
        ),
        (
            "decision-held-without-display",
            "restrict_at passed but the notice page was never displayed: notice, held, no next \
             change (only a display can change it); the steps a full notice period from now.",
            ladder(),
            T + 96 * DAY,
        ),
        (
            "decision-held-for-the-period",
            "Displayed, but on the phone for one day of a two-day period: notice, held until the \
             period is met.",
            Facts {
                notice: shown(T + 95 * DAY, DAY),
                ..ladder()
            },
            T + 96 * DAY,
        ),
        (
            "decision-restricted",
            "Displayed for the period, restrict_at passed: restricted.",
            Facts {
                notice: shown(T + 90 * DAY, 5 * DAY),
                ..ladder()
            },
            T + 96 * DAY,
        ),
        (
            "decision-locked",
            "Displayed for the period, lock_at passed: locked.",
            Facts {
                notice: shown(T + 90 * DAY, 10 * DAY),
                ..ladder()
            },
            T + 100 * DAY,
        ),
        (
            "decision-floor-over-a-shorter-period",
            "notice_min_s below the floor (never signed validly) counts as one day.",
            Facts {
                notice_min_s: 60,
                notice: shown(T + 99 * DAY, DAY - 1),
                ..ladder()
            },
            T + 100 * DAY,
        ),
        (
            "decision-lender-lock-gives-notice",
            "state locked: the notice at once, the lock held until the notice was displayed \
             a notice period earlier.",
            Facts {
                state: Some(EntitlementState::Locked),
                lock_reason: Some(LockReason::LenderRequest),
                ..ladder()
            },
            T + 10 * DAY,
        ),
        (
            "decision-offline-notice",
            "The offline lock 30 days after the last check-in: its notice a notice period before.",
            Facts {
                lock_at: T + 1_000 * DAY,
                notice_at: T + 999 * DAY,
                restrict_at: None,
                notice_min_s: 86_400,
                offline_lock_after_s: Some(30 * DAY as u64),
                ..ladder()
            },
            T + 109 * DAY,
        ),
        (
            "decision-completing-no-payment-notice",
            "Completing (release_at): no payment notice, whatever the ladder says.",
            Facts {
                release_at: Some(T + 200 * DAY),
                ..ladder()
            },
            T + 150 * DAY,
        ),
        (
            "decision-v1-implied-ladder",
            "A v1 entitlement: notice from lock_at - 1 day, locked at lock_at after a day's \
             display.",
            Facts {
                notice_at: T + 99 * DAY,
                restrict_at: None,
                notice_min_s: 86_400,
                notice: shown(T + 99 * DAY, DAY),
                ..ladder()
            },
            T + 100 * DAY,
        ),
        (
            "decision-clock-suspect-restricted",
            "Only the device clock has reached restrict_at: restricted, clock_suspect, until \
             verified time confirms it.",
            Facts {
                notice: shown(T + 90 * DAY, 5 * DAY),
                ..ladder()
            },
            T + 96 * DAY,
        ),
    ];
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (name, description, facts, now))| {
            // The clock-suspect case: verified time a day behind trusted time.
            let verified_now = if name.contains("clock-suspect") {
                Some(now - 2 * DAY)
            } else {
                Some(now)
            };
            let expected = decision::decide(&facts.input(), now, verified_now);
            DecisionVector {
                kind: "decision".into(),
                name: format!("{:03}-{name}", FIRST_NUMBER + i),
                description: description.into(),
                facts,
                now,
                verified_now,
                expected,
            }
        })
        .collect()
}
