//! `finlock demo push-latency`: how long a paying customer waits, from M-Pesa's
//! confirmation callback to a locked phone deciding it is unlocked.
//!
//! One server in this process (as the demo's: SQLite, a [`ManualClock`], the phone's
//! distributor allowed on loopback, pushes sent at once), N phones running the real core,
//! each enrolled, registered with the loopback distributor ([`super::distributor`]) and
//! locked for an overdue installment. Then, one phone after another (each phone once, so
//! each one's check-now limit is its own), an M-Pesa confirmation for its account is
//! posted to the server's notification endpoint, and the clock runs — real time — until the
//! phone, woken by the server's empty Web Push, has checked in and its decision is
//! unlocked.
//!
//! Beside it, the same customers without push: the phone learns at its next scheduled
//! check-in. That wait is simulated, from the core's own schedule
//! (`CheckinSchedule::next_at`, the server's hourly interval while locked): the callback
//! arrives at a uniformly random moment between two check-ins.

use std::path::Path;
use std::time::{Duration, Instant};

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::device::{Device, EnrollParams};
use finlock_core::keys::KeySet;
use finlock_core::protocol::UrlPolicy;
use ring::rand::SecureRandom;
use serde_json::{Value, json};

use super::{
    CURRENCY, DAY, DemoError, INSTALLMENT_MINOR, Lender, PUSH_WAIT, START, clock_at, distributor,
    mpesa, ms,
};
use crate::clock::ManualClock;
use crate::lenders::NewLender;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many locked phones, one payment each.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// One JSON object for machines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The first of two installments, which every phone misses: due a day after the sale, one
/// day's grace. (Paying it does not complete the plan: one event, one push.)
const DUE: i64 = START + DAY;
const GRACE_DAYS: i64 = 1;
/// The phones tell the server their push endpoints a minute after enrolling.
const REGISTERED_AT: i64 = START + 60;
/// The notice page (from a day before the lock: the lender runs under the permissive
/// profile) is on every phone's screen a few minutes into it; a phone locks only once it
/// has been on it for a day of running time (PROTOCOL §3.7).
const NOTICE_SHOWN_AT: i64 = DUE + GRACE_DAYS * DAY - DAY + 300;
/// The phones check in locked a few minutes after the lock (a day after the notice was
/// shown); the payments come later.
const LOCKED_AT: i64 = NOTICE_SHOWN_AT + DAY + 60;
const PAID_AT: i64 = LOCKED_AT + 600;
/// No push for this long: the wake-ups of the lock have all landed.
const QUIET: Duration = Duration::from_millis(500);

/// One phone's run.
struct Run {
    /// Callback posted → the phone's decision is unlocked.
    total: Duration,
    /// Callback posted → its answer.
    answered: Duration,
    /// Callback posted → the push at the distributor.
    pushed: Duration,
    body_bytes: usize,
    vapid: bool,
    unlocked: bool,
    /// Without push: seconds from the callback to the next scheduled check-in.
    without_push_s: f64,
    /// The scheduled interval it was drawn in.
    interval_s: i64,
}

struct Phone {
    device: Device,
    client: Client,
    account: String,
    /// What its distributor gave it.
    endpoint: String,
    /// When it last checked in (locked), and its next scheduled check-in.
    checked_in_at: i64,
}

pub async fn run(dir: &Path, args: &Args) -> Result<(), DemoError> {
    let n = usize::try_from(args.runs).unwrap_or(100);
    let server_clock = ManualClock::new(START);
    let mut config = super::server_config(dir);
    // Every phone enrolls from 127.0.0.1.
    config.enroll_per_address = 0;
    // One push per phone here: the server's own coalescing, as in production.
    config.push.coalesce = crate::push::Settings::default().coalesce;
    let (_addr, server) = crate::spawn(config, server_clock.clone()).await?;
    let base = server.url();
    let created = server
        .create_lender(&NewLender {
            name: "Acme Credit".into(),
            phone: "+254711000111".into(),
            email: None,
            payment_url: "https://pay.acme-credit.example/p".into(),
            support_url: None,
        })
        .await?;
    let lender = Lender::new(&base, &created.api_key)?;
    let mpesa_url = lender.mpesa_url(&created.lender_id).await?;
    let mut pushes = distributor::Distributor::start().await?;

    if !args.json {
        eprintln!("push-latency: enrolling {n} phones and locking them…");
    }
    let mut phones = Vec::with_capacity(n);
    for i in 0..n {
        phones.push(enroll(dir, &lender, &created.jwks, &base, &pushes, i).await?);
    }
    server_clock.set(REGISTERED_AT);
    for phone in &mut phones {
        register(phone).await?;
    }
    for phone in &mut phones {
        // The screen unlocked: the notice page shows, and the phone records it.
        if !phone.device.notice_shown(&clock_at(NOTICE_SHOWN_AT))? {
            return Err(DemoError::Story(format!(
                "phone {} did not record its notice",
                phone.account
            )));
        }
    }
    server_clock.set(LOCKED_AT);
    for phone in &mut phones {
        let eval = check_in(phone, LOCKED_AT).await?;
        if !eval.decision.locked {
            return Err(DemoError::Story(format!(
                "phone {} is not locked after its installment's grace",
                phone.account
            )));
        }
        phone.checked_in_at = LOCKED_AT;
    }

    // Any wake-up of the set-up (none is expected) lands before the measuring starts.
    let mut before = 0u32;
    while pushes.next(QUIET).await.is_some() {
        before += 1;
    }
    server_clock.set(PAID_AT);
    let mut runs = Vec::with_capacity(n);
    let mut stray = 0u32;
    for (i, phone) in phones.iter_mut().enumerate() {
        while pushes.try_next().is_some() {
            stray += 1;
        }
        runs.push(one_run(phone, i, &lender.http, &mpesa_url, &mut pushes, &mut stray).await?);
    }
    server.shutdown().await?;
    report(&runs, before, stray, args.json)
}

async fn enroll(
    dir: &Path,
    lender: &Lender,
    jwks: &finlock_core::keys::Jwks,
    base: &str,
    pushes: &distributor::Distributor,
    i: usize,
) -> Result<Phone, DemoError> {
    let account = format!("BENCH-{i:04}");
    let plan = json!({
        "customer_ref": account,
        "plan": {
            "currency": CURRENCY,
            "grace_days": GRACE_DAYS,
            "installments": [
                { "due": DUE, "amount_minor": INSTALLMENT_MINOR },
                { "due": DUE + 30 * DAY, "amount_minor": INSTALLMENT_MINOR },
            ],
        }
    });
    let created = lender
        .call(reqwest::Method::POST, "/v1/lender/devices", plan, None)
        .await?;
    let code = created["enrollment_code"]
        .as_str()
        .ok_or_else(|| DemoError::Lender(format!("no enrollment code in {created}")))?;
    let mut device = Device::open(dir.join(format!("phone-{i}")))?;
    let keys = KeySet::from_jwks(jwks)?;
    device.update(|s| s.provision(base, keys, true))?;
    let client = Client::new(base, UrlPolicy::DEBUG, &ClientConfig::default())?;
    let params = EnrollParams {
        enrollment_code: Some(code.to_string()),
        imei: None,
        serial: None,
        model: "finlock demo phone".into(),
        android_sdk: 34,
        app_version: super::super::device::APP_VERSION.into(),
    };
    client
        .enroll(&mut device, &params, || clock_at(START))
        .await?;
    let key = device
        .state()
        .push_key()
        .ok_or_else(|| DemoError::Story("the enrollment answer carried no push key".into()))?
        .to_string();
    let endpoint = pushes.subscribe(i, &key).map_err(DemoError::Story)?;
    Ok(Phone {
        device,
        client,
        account,
        endpoint,
        checked_in_at: START,
    })
}

/// UnifiedPush: the endpoint the distributor gave goes to the core, which tells the server
/// at a check-in made for it.
async fn register(phone: &mut Phone) -> Result<(), DemoError> {
    let endpoint = phone.endpoint.clone();
    if phone
        .device
        .set_push_endpoint(&endpoint, &clock_at(REGISTERED_AT))?
    {
        check_in(phone, REGISTERED_AT).await?;
    }
    if !phone.device.state().push.server_has_it() {
        return Err(DemoError::Story(format!(
            "the server did not take phone {}'s push endpoint",
            phone.account
        )));
    }
    Ok(())
}

async fn check_in(
    phone: &mut Phone,
    t: i64,
) -> Result<finlock_core::device::Evaluation, DemoError> {
    Ok(phone
        .client
        .check_in(
            &mut phone.device,
            || clock_at(t),
            super::super::device::APP_VERSION,
            false,
        )
        .await?)
}

async fn one_run(
    phone: &mut Phone,
    i: usize,
    http: &reqwest::Client,
    mpesa_url: &str,
    pushes: &mut distributor::Distributor,
    stray: &mut u32,
) -> Result<Run, DemoError> {
    let interval_s = phone.device.state().checkin.next_at - phone.checked_in_at;
    let trans_id = mpesa::trans_id("BNC", i);
    let confirmation = mpesa::Confirmation {
        trans_id: &trans_id,
        account: &phone.account,
        amount_minor: INSTALLMENT_MINOR,
        at: PAID_AT,
    };
    let started = Instant::now();
    let answered = confirmation.post(http, mpesa_url).await?;
    let push = loop {
        let push = pushes.next(PUSH_WAIT).await.ok_or_else(|| {
            DemoError::Story(format!(
                "phone {}: no wake-up push within {} s",
                phone.account,
                PUSH_WAIT.as_secs()
            ))
        })?;
        if push.to == i {
            break push;
        }
        *stray += 1;
    };
    // What the app does on a push: ask the core, check in when it says so.
    let clock = clock_at(PAID_AT);
    let unlocked = if phone.device.push_arrived(&clock)? {
        !check_in(phone, PAID_AT).await?.decision.locked
    } else {
        false
    };
    let total = started.elapsed();
    Ok(Run {
        total,
        answered,
        pushed: push.at.saturating_duration_since(started),
        body_bytes: push.body_bytes,
        vapid: push.vapid,
        unlocked,
        without_push_s: interval_s as f64 * (1.0 - uniform()?),
        interval_s,
    })
}

/// Uniform in [0, 1).
fn uniform() -> Result<f64, DemoError> {
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DemoError::Story("no randomness".into()))?;
    Ok((u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: usize) -> f64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

fn summary(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    json!({
        "median": round(percentile(&values, 50)),
        "p99": round(percentile(&values, 99)),
        "min": round(values.first().copied().unwrap_or(f64::NAN)),
        "max": round(values.last().copied().unwrap_or(f64::NAN)),
    })
}

fn report(runs: &[Run], before: u32, stray: u32, as_json: bool) -> Result<(), DemoError> {
    let count = |f: fn(&Run) -> bool| runs.iter().filter(|r| f(r)).count();
    let unlocked = count(|r| r.unlocked);
    let empty = count(|r| r.body_bytes == 0);
    let vapid = count(|r| r.vapid);
    let with_push = summary(runs.iter().map(|r| ms(r.total)).collect());
    let answered = summary(runs.iter().map(|r| ms(r.answered)).collect());
    let pushed = summary(runs.iter().map(|r| ms(r.pushed)).collect());
    let without = summary(runs.iter().map(|r| r.without_push_s).collect());
    let intervals: Vec<i64> = runs.iter().map(|r| r.interval_s).collect();
    let (lo, hi) = (
        intervals.iter().min().copied().unwrap_or(0),
        intervals.iter().max().copied().unwrap_or(0),
    );
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    if as_json {
        let out = json!({
            "runs": runs.len(),
            "build": build,
            "unlocked": unlocked,
            "pushes_empty": empty,
            "pushes_vapid_verified": vapid,
            "pushes_before_payments": before,
            "stray_pushes": stray,
            "with_push_ms": with_push,
            "callback_answered_ms": answered,
            "push_at_phone_ms": pushed,
            "without_push_s": without,
            "checkin_interval_s": { "min": lo, "max": hi },
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let row = |v: &Value, unit: &str, div: f64| {
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN) / div;
            format!(
                "median {:>6.1} {unit}   p99 {:>6.1} {unit}   min {:>6.1} {unit}   max {:>6.1} {unit}",
                f("median"),
                f("p99"),
                f("min"),
                f("max")
            )
        };
        println!(
            "push latency: {} locked phones on loopback, one M-Pesa confirmation each ({build} build)",
            runs.len()
        );
        println!(
            "  with push      {}   callback → the phone's decision is unlocked (real time)",
            row(&with_push, "ms", 1.0)
        );
        println!(
            "                 median: callback answered {} ms, empty push at the phone {} ms",
            answered["median"], pushed["median"]
        );
        let interval = if lo == hi {
            format!("every {lo} s")
        } else {
            format!("every {lo}-{hi} s")
        };
        println!(
            "  without push   {}   until the next scheduled check-in ({interval} while locked, \
             the callback at a uniformly random moment; simulated time)",
            row(&without, "min", 60.0)
        );
        println!(
            "  {unlocked} of {} unlocked by their push; {empty} pushes empty, {vapid} VAPID-signed",
            runs.len()
        );
        println!(
            "  other wake-ups (not measured): {before} before the payments, {stray} during the runs"
        );
    }
    if unlocked != runs.len() || empty != runs.len() || vapid != runs.len() {
        return Err(DemoError::Story(format!(
            "{unlocked} of {} phones unlocked, {empty} pushes empty, {vapid} VAPID-signed",
            runs.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), 50.0);
        assert_eq!(percentile(&v, 99), 99.0);
        assert_eq!(percentile(&[7.0], 99), 7.0);
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 99), 10.0);
        assert_eq!(percentile(&ten, 50), 5.0);
    }

    #[test]
    fn uniform_is_in_the_unit_interval() {
        for _ in 0..1000 {
            let u = uniform().unwrap();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
