//! The escalation ladder's vectors (PROTOCOL §3.7, ADR 0017), numbered from
//! [`FIRST_NUMBER`]: a full ladder and one without a restricted step accepted (with the
//! effective ladder to compare), an entitlement without `escalation` and the ladder it
//! implies, and each field rule broken once — among them the ladder that tries to skip the
//! notice (a restriction sooner after the notice than the notice period allows).

use super::{Builder, Expected, base, context};
use crate::fixtures;
use crate::protocol::{EntitlementState, Escalation, NOTICE_FLOOR_S};

/// After the push vectors (116–131), which were numbered first; numbers are never reused.
const FIRST_NUMBER: usize = 132;

const DAY: i64 = 86_400;

/// The ladder of the vectors, against [`base`]'s `lock_at`: notice 10 days before the lock,
/// restricted 5 days before, a 3-day notice period, a payment app, an essential.
fn ladder(lock_at: i64) -> Escalation {
    Escalation {
        notice_at: lock_at - 10 * DAY,
        restrict_at: Some(lock_at - 5 * DAY),
        notice_min_s: Some(3 * DAY as u64),
        payment_apps: vec!["com.globe.gcash".into()],
        essentials: vec!["ph.gov.philhealth".into()],
        private_details: true,
    }
}

pub(super) fn vectors(b: &mut Builder) {
    let first = b.out.len();
    all(b);
    for (i, v) in b.out[first..].iter_mut().enumerate() {
        let rest = v.name.split_once('-').map_or("", |(_, rest)| rest);
        v.name = format!("{:03}-{rest}", FIRST_NUMBER + i);
    }
}

fn accept(b: &mut Builder, name: &str, description: &str, e: &crate::protocol::Entitlement) {
    b.push(
        name,
        description,
        context(),
        fixtures::sign(e),
        Expected::Accept {
            seq: e.seq,
            state: e.state,
            lock_at: e.lock_at,
            keys_seq: None,
            release_at: e.release_at,
            ladder: Some(e.ladder()),
        },
    );
}

/// [`Builder::reject_field`] on [`base`] carrying [`ladder`], then `mutate`.
fn reject(b: &mut Builder, name: &str, description: &str, mutate: impl FnOnce(&mut Escalation)) {
    b.reject_field(name, description, "invalid_field", |e| {
        let mut l = ladder(e.lock_at);
        mutate(&mut l);
        e.escalation = Some(l);
    });
}

fn all(b: &mut Builder) {
    let lock_at = base().lock_at;
    {
        let mut e = base();
        e.escalation = Some(ladder(lock_at));
        accept(
            b,
            "escalation-accept-full-ladder",
            "notice_at, restrict_at, notice_min_s, payment_apps, essentials, private_details.",
            &e,
        );
    }
    {
        let mut e = base();
        e.escalation = Some(Escalation {
            notice_at: lock_at - 2 * DAY,
            restrict_at: None,
            notice_min_s: None,
            payment_apps: Vec::new(),
            essentials: Vec::new(),
            private_details: false,
        });
        accept(
            b,
            "escalation-accept-no-restricted-step",
            "Without restrict_at the notice goes straight to the lock; notice_min_s absent is \
             the one-day floor.",
            &e,
        );
    }
    accept(
        b,
        "escalation-accept-v1-implied",
        "An entitlement without escalation (v1) means a notice from one day before lock_at, \
         no restricted step, no apps; the expected ladder is that implied one.",
        &base(),
    );
    {
        let mut e = base();
        e.escalation = Some(Escalation {
            notice_at: lock_at - 90 * DAY,
            restrict_at: Some(lock_at - 90 * DAY + 89 * DAY),
            notice_min_s: Some(89 * DAY as u64),
            payment_apps: (0..8).map(|i| format!("com.pay.app{i}")).collect(),
            essentials: Vec::new(),
            private_details: false,
        });
        accept(
            b,
            "escalation-accept-bounds",
            "The largest lists and a long notice period within the bounds; restrict_at exactly \
             notice_at + notice_min_s.",
            &e,
        );
    }
    reject(
        b,
        "escalation-restrict-skips-the-notice",
        "restrict_at sooner after notice_at than notice_min_s: a restriction the notice \
         period does not precede (escalation.restrict_at).",
        |l| l.restrict_at = Some(l.notice_at + 3 * DAY - 1),
    );
    reject(
        b,
        "escalation-restrict-skips-the-floor",
        "notice_min_s absent (one day) and restrict_at less than a day after notice_at \
         (escalation.restrict_at).",
        |l| {
            l.notice_min_s = None;
            l.restrict_at = Some(l.notice_at + NOTICE_FLOOR_S as i64 - 1);
        },
    );
    reject(
        b,
        "escalation-restrict-after-lock",
        "restrict_at after lock_at (escalation.restrict_at).",
        move |l| l.restrict_at = Some(lock_at + 1),
    );
    reject(
        b,
        "escalation-notice-min-below-floor",
        "notice_min_s below the protocol's one-day floor (escalation.notice_min_s).",
        |l| l.notice_min_s = Some(NOTICE_FLOOR_S - 1),
    );
    reject(
        b,
        "escalation-notice-min-above-90-days",
        "notice_min_s above 90 days (escalation.notice_min_s).",
        |l| l.notice_min_s = Some(90 * DAY as u64 + 1),
    );
    reject(
        b,
        "escalation-lock-too-soon",
        "Without restrict_at, lock_at sooner after notice_at than notice_min_s \
         (escalation.notice_at).",
        move |l| {
            l.restrict_at = None;
            l.notice_at = lock_at - 3 * DAY + 1;
        },
    );
    reject(
        b,
        "escalation-notice-at-negative",
        "notice_at is a time in [0, 2^53) (escalation.notice_at).",
        |l| l.notice_at = -1,
    );
    reject(
        b,
        "escalation-bad-package-name",
        "A payment app that is not an Android package name (escalation.payment_apps[0]).",
        |l| l.payment_apps = vec!["gcash".into()],
    );
    reject(
        b,
        "escalation-too-many-payment-apps",
        "More than 8 payment apps (escalation.payment_apps).",
        |l| l.payment_apps = (0..9).map(|i| format!("com.pay.app{i}")).collect(),
    );
    reject(
        b,
        "escalation-too-many-essentials",
        "More than 32 essentials (escalation.essentials).",
        |l| l.essentials = (0..33).map(|i| format!("org.essential.app{i}")).collect(),
    );
    reject(
        b,
        "escalation-duplicate-essential",
        "An essential named twice (escalation.essentials[1]).",
        |l| l.essentials = vec!["ph.gov.philhealth".into(), "ph.gov.philhealth".into()],
    );
    b.reject_field(
        "escalation-with-released",
        "Released is final: escalation must be absent (escalation).",
        "invalid_field",
        |e| {
            e.state = EntitlementState::Released;
            e.escalation = Some(ladder(e.lock_at));
        },
    );
}
