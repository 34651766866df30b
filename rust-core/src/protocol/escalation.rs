//! The escalation ladder of an entitlement (PROTOCOL §3.7, ADR 0017): between good standing
//! and locked, a *notice* and a *restricted* step, each with the moment it starts, and the
//! apps that keep working.
//!
//! These are the *signed* moments. The device never restricts or locks before them, and
//! never before the notice page has been on its own screen for at least `notice_min_s`
//! (never less than [`NOTICE_FLOOR_S`]) — that second rule is the device's, enforced from
//! its own store whatever the server signs, so it is not here but in the decision.

use serde::{Deserialize, Serialize};

use super::{Entitlement, EntitlementState, check_time, check_u64};
use crate::error::{Error, Result};

/// The least time a notice is on the phone before it may restrict or lock (§3.7). An
/// entitlement may raise it (`notice_min_s`), never lower it.
pub const NOTICE_FLOOR_S: u64 = 86_400;
/// The longest notice period an entitlement may ask for.
pub const MAX_NOTICE_MIN_S: u64 = 90 * 86_400;
/// Payment apps a lender may name (usable when restricted and when locked).
pub const MAX_PAYMENT_APPS: usize = 8;
/// Essential apps (usable when restricted).
pub const MAX_ESSENTIALS: usize = 32;
/// Bytes of an Android package name as this protocol accepts it.
pub const MAX_PACKAGE_NAME_LEN: usize = 100;

/// The ladder (§3.7). Absent from an entitlement = the v1 meaning of
/// [`Escalation::implied_by`]: a notice a floor before `lock_at`, no restricted step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// From this moment the notice page is shown at each screen unlock.
    pub notice_at: i64,
    /// From this moment the phone is *restricted* (calls, SMS, emergency, the payment apps,
    /// the essentials); absent = no restricted step, straight from notice to `lock_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_at: Option<i64>,
    /// The least time between the notice first shown on the phone and a restriction or a
    /// lock; absent = [`NOTICE_FLOOR_S`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_min_s: Option<u64>,
    /// Android package names usable while restricted and while locked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_apps: Vec<String>,
    /// Android package names usable while restricted (beside the phone's own essentials).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub essentials: Vec<String>,
    /// Amounts owed appear on a screen others may see (notice, lock screen) only after the
    /// user opens the details.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private_details: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Escalation {
    /// What an entitlement without `escalation` means (§3.7, "v1 entitlements"): the notice
    /// from a floor before `lock_at`, no restricted step, nothing else allowed.
    pub fn implied_by(lock_at: i64) -> Escalation {
        Escalation {
            notice_at: lock_at.saturating_sub(NOTICE_FLOOR_S as i64).max(0),
            restrict_at: None,
            notice_min_s: None,
            payment_apps: Vec::new(),
            essentials: Vec::new(),
            private_details: false,
        }
    }

    /// The notice period this ladder asks for, never below the floor.
    pub fn notice_min(&self) -> u64 {
        self.notice_min_s
            .unwrap_or(NOTICE_FLOOR_S)
            .max(NOTICE_FLOOR_S)
    }

    /// The §3.7 field rules, against the entitlement that carries the ladder.
    pub fn validate(&self, e: &Entitlement) -> Result<()> {
        if e.state == EntitlementState::Released {
            return Err(Error::invalid(
                "escalation",
                "absent once released (released is already final)",
            ));
        }
        check_time("escalation.notice_at", self.notice_at)?;
        if let Some(min) = self.notice_min_s {
            check_u64("escalation.notice_min_s", min)?;
            if !(NOTICE_FLOOR_S..=MAX_NOTICE_MIN_S).contains(&min) {
                return Err(Error::invalid(
                    "escalation.notice_min_s",
                    "from one day (the protocol's floor) to 90 days",
                ));
            }
        }
        // Both sums stay below 2^54: no overflow in i64.
        let earliest = self.notice_at + self.notice_min() as i64;
        match self.restrict_at {
            Some(restrict_at) => {
                check_time("escalation.restrict_at", restrict_at)?;
                if restrict_at < earliest {
                    return Err(Error::invalid(
                        "escalation.restrict_at",
                        "at least notice_min_s after notice_at (no restriction without notice)",
                    ));
                }
                if restrict_at > e.lock_at {
                    return Err(Error::invalid(
                        "escalation.restrict_at",
                        "not after lock_at",
                    ));
                }
            }
            None if e.lock_at < earliest => {
                return Err(Error::invalid(
                    "escalation.notice_at",
                    "at least notice_min_s before lock_at (no lock without notice)",
                ));
            }
            None => {}
        }
        check_packages(
            "escalation.payment_apps",
            &self.payment_apps,
            MAX_PAYMENT_APPS,
        )?;
        check_packages("escalation.essentials", &self.essentials, MAX_ESSENTIALS)
    }
}

fn check_packages(field: &str, packages: &[String], max: usize) -> Result<()> {
    if packages.len() > max {
        return Err(Error::invalid(field, "too many packages"));
    }
    for (i, package) in packages.iter().enumerate() {
        if !is_valid_package_name(package) {
            return Err(Error::invalid(
                format!("{field}[{i}]"),
                "an Android package name (a.b.c, letters, digits and _, at most 100 bytes)",
            ));
        }
        if packages[..i].contains(package) {
            return Err(Error::invalid(format!("{field}[{i}]"), "named twice"));
        }
    }
    Ok(())
}

/// An Android package name: at least two `.`-separated segments, each a letter followed by
/// letters, digits or `_`; at most [`MAX_PACKAGE_NAME_LEN`] bytes.
pub fn is_valid_package_name(name: &str) -> bool {
    name.len() <= MAX_PACKAGE_NAME_LEN
        && name.split('.').count() >= 2
        && name.split('.').all(|segment| {
            let mut bytes = segment.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, T0};

    const DAY: i64 = 86_400;

    fn with(escalation: Escalation) -> Entitlement {
        let mut e = fixtures::entitlement(5, T0);
        e.escalation = Some(escalation);
        e
    }

    fn ladder(lock_at: i64) -> Escalation {
        Escalation {
            notice_at: lock_at - 10 * DAY,
            restrict_at: Some(lock_at - 5 * DAY),
            notice_min_s: Some(3 * DAY as u64),
            payment_apps: vec!["com.safaricom.mpesa".into()],
            essentials: vec!["org.example.health".into()],
            private_details: true,
        }
    }

    fn field_of(e: &Entitlement) -> Option<String> {
        match e.escalation.as_ref().map(|x| x.validate(e)) {
            Some(Err(Error::InvalidField { field, .. })) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn a_full_ladder_is_valid() {
        let lock_at = fixtures::entitlement(5, T0).lock_at;
        let e = with(ladder(lock_at));
        assert!(e.escalation.as_ref().unwrap().validate(&e).is_ok());
    }

    #[test]
    fn every_rule_names_its_field() {
        let base = fixtures::entitlement(5, T0);
        let lock_at = base.lock_at;
        let cases: Vec<(Breaker, &str)> = vec![
            (
                Box::new(|e| e.state = EntitlementState::Released),
                "escalation",
            ),
            (Box::new(|e| esc(e).notice_at = -1), "escalation.notice_at"),
            (
                Box::new(|e| esc(e).notice_min_s = Some(DAY as u64 - 1)),
                "escalation.notice_min_s",
            ),
            (
                Box::new(|e| esc(e).notice_min_s = Some(91 * DAY as u64)),
                "escalation.notice_min_s",
            ),
            (
                Box::new(move |e| esc(e).restrict_at = Some(lock_at - 8 * DAY)),
                "escalation.restrict_at",
            ),
            (
                Box::new(move |e| esc(e).restrict_at = Some(lock_at + 1)),
                "escalation.restrict_at",
            ),
            (
                Box::new(|e| esc(e).restrict_at = Some(1 << 53)),
                "escalation.restrict_at",
            ),
            (
                Box::new(move |e| {
                    esc(e).restrict_at = None;
                    esc(e).notice_at = lock_at - 2 * DAY;
                }),
                "escalation.notice_at",
            ),
            (
                Box::new(|e| esc(e).payment_apps = vec!["mpesa".into()]),
                "escalation.payment_apps[0]",
            ),
            (
                Box::new(|e| esc(e).payment_apps = vec!["a.b".into(); 2]),
                "escalation.payment_apps[1]",
            ),
            (
                Box::new(|e| esc(e).payment_apps = (0..9).map(|i| format!("a.b{i}")).collect()),
                "escalation.payment_apps",
            ),
            (
                Box::new(|e| esc(e).essentials = vec!["a.1b".into()]),
                "escalation.essentials[0]",
            ),
            (
                Box::new(|e| esc(e).essentials = (0..33).map(|i| format!("a.b{i}")).collect()),
                "escalation.essentials",
            ),
        ];
        for (i, (break_it, field)) in cases.iter().enumerate() {
            let mut e = with(ladder(lock_at));
            break_it(&mut e);
            assert_eq!(field_of(&e).as_deref(), Some(*field), "case {i}");
        }
    }

    /// Breaks one rule of a valid entitlement.
    type Breaker = Box<dyn Fn(&mut Entitlement)>;

    fn esc(e: &mut Entitlement) -> &mut Escalation {
        e.escalation.as_mut().expect("a ladder")
    }

    #[test]
    fn a_v1_entitlement_means_a_notice_a_day_before_the_lock() {
        let implied = Escalation::implied_by(100 * DAY);
        assert_eq!(implied.notice_at, 99 * DAY);
        assert_eq!(implied.notice_min(), NOTICE_FLOOR_S);
        assert!(implied.restrict_at.is_none() && implied.payment_apps.is_empty());
        assert_eq!(Escalation::implied_by(5).notice_at, 0);
    }

    #[test]
    fn package_names() {
        for ok in [
            "a.b",
            "com.safaricom.mpesa",
            "A1.b_2.c3",
            &format!("a.{}", "b".repeat(98)),
        ] {
            assert!(is_valid_package_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a.",
            ".a",
            "a..b",
            "1a.b",
            "a.b-c",
            "a.b c",
            "_a.b",
            &format!("a.{}", "b".repeat(99)),
        ] {
            assert!(!is_valid_package_name(bad), "{bad}");
        }
    }
}
