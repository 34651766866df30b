//! A financed phone's life in one run, with the lender played in-process:
//! enrollment, check-ins, the notice and then the lock when a payment is missed (a lock
//! needs the notice displayed at least a day earlier, ADR 0017), an offline unlock code
//! read over the phone, the payment that brings it back and the last one that
//! releases it. No network and no server yet (that is `finlock demo`); every
//! decision is made by exactly the code the phone runs, on state persisted to a
//! temporary directory.
//!
//! `cargo run -p finlock-core --example lifecycle`

use std::process::ExitCode;

use finlock_core::b64;
use finlock_core::clock::ClockInput;
use finlock_core::device::{Device, EnrollParams, Outgoing};
use finlock_core::fixtures::{self, DAY, DEVICE_ID, OFFLINE_SECRET, T0};
use finlock_core::offline_code;
use finlock_core::protocol::{
    CheckinResponse, EnrollResponse, Entitlement, EntitlementState, InstallmentStatus,
};
use ring::rand::SystemRandom;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifecycle: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The phone's clocks at time `t`: an honest wall clock and one boot.
fn clock(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// The lender's view of the plan: which installments are paid.
struct Lender {
    seq: u64,
    paid: usize,
}

impl Lender {
    /// The entitlement the lender signs for the current plan state.
    fn entitlement(&mut self, now: i64, nonce: &str) -> Entitlement {
        self.seq += 1;
        let mut e = fixtures::entitlement(self.seq, now);
        e.nonce = Some(nonce.to_string());
        for (i, inst) in e.account.installments.iter_mut().enumerate() {
            inst.status = if i < self.paid {
                InstallmentStatus::Paid
            } else if inst.due < now {
                InstallmentStatus::Overdue
            } else {
                InstallmentStatus::Due
            };
        }
        let first_unpaid = e.account.installments.get(self.paid).map(|i| i.due);
        match first_unpaid {
            Some(due) => {
                e.lock_at = due + 7 * DAY;
                e.account.next_due = Some(due);
                e.account.amount_due_minor = e
                    .account
                    .installments
                    .iter()
                    .filter(|i| i.status == InstallmentStatus::Overdue)
                    .map(|i| i.amount_minor)
                    .sum::<u64>()
                    .max(e.account.installments[self.paid].amount_minor);
            }
            None => {
                e.state = EntitlementState::Released;
                e.account.amount_due_minor = 0;
                e.account.next_due = None;
            }
        }
        e
    }
}

fn checkin(device: &mut Device, lender: &mut Lender, t: i64) -> Result<(), String> {
    let rng = SystemRandom::new();
    let out: Outgoing = device
        .update(|s| s.checkin_request(&clock(t), "0.1.0", &rng))
        .map_err(|e| e.to_string())?;
    let e = lender.entitlement(t, &out.nonce);
    let body = serde_json::to_vec(&CheckinResponse {
        entitlement: fixtures::sign(&e),
        push_key: None,
    })
    .map_err(|e| e.to_string())?;
    let eval = device
        .update(|s| s.complete_checkin(&out, &body, &clock(t)))
        .map_err(|e| e.to_string())?;
    let verdict = if eval.decision.released {
        "RELEASED for good".to_string()
    } else if eval.decision.locked {
        format!(
            "LOCKED ({:?}), lock_at {}",
            eval.decision.reason,
            date(e.lock_at)
        )
    } else {
        format!("unlocked, lock_at {}", date(e.lock_at))
    };
    println!("{}  check-in: seq {}, {verdict}", date(t), e.seq);
    Ok(())
}

fn show_lock_screen(device: &Device) -> Result<(), String> {
    let s = device.state();
    let en = s.enrolled().map_err(|e| e.to_string())?;
    let e = &en.entitlement;
    println!("    ┌──────────────────────────────────────────────────────────");
    println!("    │ This device is locked due to an overdue installment payment");
    println!("    │ Lender: {}  ☎ {}", e.lender.name, e.lender.phone);
    println!(
        "    │ Amount due: {} {}.{:02}",
        e.account.currency,
        e.account.amount_due_minor / 100,
        e.account.amount_due_minor % 100
    );
    println!("    │ Pay: {}", e.lender.payment_url);
    println!(
        "    │ Unlock code challenge: {}",
        s.offline_challenge().map_err(|e| e.to_string())?
    );
    if let Some(n) = en.notice {
        println!("    │ Notice first shown on {}", date(n.first_shown_at));
    }
    println!("    │ [Emergency call]  [Call lender]  [I have paid — check now]");
    println!("    └──────────────────────────────────────────────────────────");
    Ok(())
}

fn run() -> Result<(), String> {
    let dir = tempfile_dir()?;
    let mut device = Device::open(&dir).map_err(|e| e.to_string())?;
    let rng = SystemRandom::new();
    let mut lender = Lender { seq: 0, paid: 0 };

    device
        .update(|s| s.provision("https://lender.example", fixtures::pinned_keys(), false))
        .map_err(|e| e.to_string())?;
    let params = EnrollParams {
        enrollment_code: Some("ACME-7F3K-2Q".into()),
        imei: Some("490154203237518".into()),
        serial: None,
        model: "Example A1".into(),
        android_sdk: 34,
        app_version: "0.1.0".into(),
    };
    let out = device
        .update(|s| s.enroll_request(&params, &rng))
        .map_err(|e| e.to_string())?;
    let first = lender.entitlement(T0, &out.nonce);
    let answer = serde_json::to_vec(&EnrollResponse {
        device_id: DEVICE_ID.into(),
        entitlement: fixtures::sign(&first),
        offline_secret: b64::encode(OFFLINE_SECRET),
        push_key: None,
    })
    .map_err(|e| e.to_string())?;
    device
        .update(|s| s.complete_enrollment(&answer, &clock(T0)))
        .map_err(|e| e.to_string())?;
    println!(
        "{}  enrolled with {} — 12 monthly installments of PHP 2,500.00",
        date(T0),
        first.lender.name
    );

    // Months 1 and 2: paid on time.
    let dues: Vec<i64> = first.account.installments.iter().map(|i| i.due).collect();
    for (i, due) in dues.iter().take(2).enumerate() {
        checkin(&mut device, &mut lender, due - 3 * DAY)?;
        lender.paid = i + 1;
        println!("{}  payment {} received", date(due - DAY), i + 1);
        checkin(&mut device, &mut lender, due - DAY + 3600)?;
    }

    // Month 3: missed. The device keeps checking in; lock_at passes.
    let due3 = dues[2];
    checkin(&mut device, &mut lender, due3 + 3 * DAY)?;
    let lock_at = device
        .state()
        .enrolled()
        .map_err(|e| e.to_string())?
        .entitlement
        .lock_at;
    // A day before the lock the notice starts; at the next screen unlock the shell shows the
    // notice page and reports it, which the core records.
    let notice = lock_at - DAY;
    let eval = device.evaluate(&clock(notice)).map_err(|e| e.to_string())?;
    let recorded = device
        .notice_shown(&clock(notice))
        .map_err(|e| e.to_string())?;
    println!(
        "{}  notice: level = {:?}, locked from {}; the page was displayed (recorded: {recorded})",
        date(notice),
        eval.decision.level,
        eval.decision
            .lock_from
            .map_or_else(|| "-".to_string(), date)
    );
    let eval = device
        .evaluate(&clock(lock_at))
        .map_err(|e| e.to_string())?;
    println!(
        "{}  lock_at reached: locked = {}, reason = {:?}",
        date(lock_at),
        eval.decision.locked,
        eval.decision.reason
    );
    show_lock_screen(&device)?;

    // The customer pays at an agent but has no data: the lender reads a code over the phone.
    let t = lock_at + 2 * 3600;
    let challenge: u32 = device
        .state()
        .offline_challenge()
        .map_err(|e| e.to_string())?
        .parse()
        .map_err(|_| "challenge is not a number".to_string())?;
    let counter = offline_code::find_counter(&OFFLINE_SECRET, challenge, 0)
        .ok_or("lender could not match the challenge")?;
    let code = offline_code::format_code(
        offline_code::response(&OFFLINE_SECRET, counter, 3).map_err(|e| e.to_string())?,
    );
    let accepted = device
        .enter_offline_code(&code, &clock(t))
        .map_err(|e| e.to_string())?;
    let eval = device.evaluate(&clock(t)).map_err(|e| e.to_string())?;
    println!(
        "{}  offline code {code} accepted: {} days; locked = {}",
        date(t),
        accepted.days,
        eval.decision.locked
    );

    // The payment reaches the lender; the next check-in moves lock_at.
    lender.paid = 3;
    checkin(&mut device, &mut lender, t + DAY)?;

    // The rest is paid; the final payment releases the phone for good.
    for (i, due) in dues.iter().enumerate().skip(3) {
        lender.paid = i + 1;
        checkin(&mut device, &mut lender, due - DAY)?;
    }
    let released = device
        .evaluate(&clock(dues[11] + 400 * DAY))
        .map_err(|e| e.to_string())?;
    println!(
        "{}  a year later: released = {}, locked = {}",
        date(dues[11] + 400 * DAY),
        released.decision.released,
        released.decision.locked
    );
    if !released.decision.released {
        return Err("the device was not released".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("finlock-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
