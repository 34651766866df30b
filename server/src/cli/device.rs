//! `finlock device …`: a simulated device running exactly the code the phone runs.
//!
//! Every subcommand opens the device state in `--state DIR` with
//! [`finlock_core::device::Device`], does one thing through the same core calls the
//! Android shell makes (through the bridge), and exits: 0 when it worked, non-zero with
//! one line on stderr naming what was wrong — and then nothing stored has changed.
//!
//! Time comes from the machine (wall clock, `/proc/uptime`, the kernel's boot id), or,
//! for tests and the demo, from `FINLOCK_CLOCK="wall=<unix>,uptime_ms=<n>,boot=<id>"`.
//! Only the simulator reads that variable; the library takes clock inputs as arguments.

use std::path::PathBuf;

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::clock::ClockInput;
use finlock_core::device::{Device, DeviceState, EnrollParams};
use finlock_core::keys::KeySet;
use finlock_core::protocol::{LockReason, UrlPolicy};
use serde_json::json;

use crate::config::StorageArgs;

/// What the simulator reports as its app version.
pub const APP_VERSION: &str = concat!("sim-", env!("CARGO_PKG_VERSION"));

#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The simulated device's state directory (created when missing).
    #[arg(long, env = "FINLOCK_DEVICE_STATE")]
    pub state: PathBuf,
    #[command(subcommand)]
    pub command: DeviceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// Pin the lender's keys and server, and enroll with a code or a registered IMEI.
    Enroll {
        /// The lender's server, e.g. https://lender.example (http only to loopback).
        #[arg(long)]
        server: String,
        /// The lender's public JWKS file (what `finlock keys show` prints).
        #[arg(long)]
        lender_keys: PathBuf,
        /// The one-time enrollment code from the sale.
        #[arg(long, conflicts_with = "imei", required_unless_present = "imei")]
        code: Option<String>,
        /// The IMEI the lender registered (sent only hashed).
        #[arg(long)]
        imei: Option<String>,
        #[arg(long, default_value = "finlock simulator")]
        model: String,
    },
    /// Check in now; exit 0 when an entitlement was accepted.
    Checkin {
        /// "I have paid — check now": skips the backoff (at most once per 30 s).
        #[arg(long)]
        now: bool,
    },
    /// The decision and what the lock screen would show.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The 8-digit offline challenge.
    Challenge,
    /// Enter an offline unlock code.
    Code { code: String },
    /// The upcoming reminders in a time zone.
    Reminders {
        /// IANA time zone id (default UTC).
        #[arg(long, default_value = "UTC")]
        tz: String,
        #[arg(long)]
        json: bool,
    },
}

/// One clear line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Core(#[from] finlock_core::Error),
    #[error("{what}: {detail}")]
    Input { what: &'static str, detail: String },
    #[error("the device is locked ({0})")]
    StillLocked(String),
}

fn input(what: &'static str, detail: impl ToString) -> SimError {
    SimError::Input {
        what,
        detail: detail.to_string(),
    }
}

/// Reads `FINLOCK_CLOCK` when set, otherwise the machine's clocks.
pub fn clock_now() -> Result<ClockInput, SimError> {
    match std::env::var("FINLOCK_CLOCK") {
        Ok(spec) => parse_clock(&spec),
        Err(_) => Ok(system_clock()),
    }
}

/// `wall=<unix seconds>,uptime_ms=<n>,boot=<id>`; every part required, nothing else.
pub fn parse_clock(spec: &str) -> Result<ClockInput, SimError> {
    let bad = |detail: &str| {
        input(
            "FINLOCK_CLOCK",
            format!("{detail} (want wall=<unix>,uptime_ms=<n>,boot=<id>)"),
        )
    };
    let (mut wall, mut uptime, mut boot) = (None, None, None);
    for part in spec.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("a part without '='"))?;
        let value = value.trim();
        match key.trim() {
            "wall" => {
                wall = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| bad("wall is not an integer"))?,
                )
            }
            "uptime_ms" => {
                uptime = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("uptime_ms is not an integer"))?,
                )
            }
            "boot" => {
                boot = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("boot is not an integer"))?,
                )
            }
            _ => return Err(bad("unknown part")),
        }
    }
    match (wall, uptime, boot) {
        (Some(wall), Some(uptime_ms), Some(boot)) => Ok(ClockInput {
            wall_ms: wall.saturating_mul(1000),
            uptime_ms,
            boot,
        }),
        _ => Err(bad("missing part")),
    }
}

fn system_clock() -> ClockInput {
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    // /proc/uptime counts suspend too, like Android's elapsedRealtime.
    let uptime_ms = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|secs| (secs * 1000.0) as u64)
        .unwrap_or(0);
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| {
            let d = ring::digest::digest(&ring::digest::SHA256, id.trim().as_bytes());
            let mut b = [0u8; 8];
            b.copy_from_slice(&d.as_ref()[..8]);
            u64::from_le_bytes(b)
        })
        .unwrap_or(1);
    ClockInput {
        wall_ms,
        uptime_ms,
        boot,
    }
}

pub async fn run(_storage: &StorageArgs, args: DeviceArgs) -> Result<(), SimError> {
    let clock = clock_now()?;
    let mut device = Device::open(&args.state)?;
    match args.command {
        DeviceCommand::Enroll {
            server,
            lender_keys,
            code,
            imei,
            model,
        } => {
            let jwks = std::fs::read(&lender_keys).map_err(|e| input("--lender-keys", e))?;
            let keys = KeySet::from_json(&jwks)?;
            // The simulator is a debug device: plain http is fine to loopback, nowhere else.
            // Provision unless this very provisioning is already in place (re-provisioning
            // would drop the key of an enrollment whose answer was lost).
            let same = device
                .state()
                .provisioning
                .as_ref()
                .is_some_and(|p| p.server_url == server && p.lender_keys == keys);
            if !same {
                device.update(|s| s.provision(&server, keys, true))?;
            }
            let client = Client::new(&server, UrlPolicy::DEBUG, &ClientConfig::default())?;
            let params = EnrollParams {
                enrollment_code: code,
                imei,
                serial: None,
                model,
                android_sdk: 0,
                app_version: APP_VERSION.into(),
            };
            let eval = client.enroll(&mut device, &params, || clock).await?;
            let en = device.state().enrolled()?;
            println!(
                "enrolled as {} with {} ({})",
                en.device_id,
                en.entitlement.lender.name,
                if eval.decision.locked {
                    "locked"
                } else {
                    "unlocked"
                }
            );
        }
        DeviceCommand::Checkin { now } => {
            let server = device
                .state()
                .provisioning
                .as_ref()
                .map(|p| p.server_url.clone())
                .ok_or(finlock_core::Error::NotEnrolled)?;
            let client = Client::new(&server, UrlPolicy::DEBUG, &ClientConfig::default())?;
            let eval = client
                .check_in(&mut device, || clock, APP_VERSION, now)
                .await?;
            println!(
                "checked in: seq {}, {}",
                device.state().enrolled()?.entitlement.seq,
                describe(&eval.decision)
            );
        }
        DeviceCommand::Status { json } => {
            let eval = device.evaluate(&clock)?;
            let status = status_json(device.state(), &eval)?;
            if json {
                println!("{status}");
            } else {
                print_status(&status);
            }
        }
        DeviceCommand::Challenge => {
            device.evaluate(&clock)?;
            println!("{}", device.state().offline_challenge()?);
        }
        DeviceCommand::Code { code } => {
            let accepted = device.enter_offline_code(&code, &clock)?;
            let eval = device.evaluate(&clock)?;
            println!(
                "code accepted: {} day(s); {}",
                accepted.days,
                describe(&eval.decision)
            );
        }
        DeviceCommand::Reminders { tz, json } => {
            let now = device.evaluate(&clock)?.reading.now();
            let list = device.state().reminders(&tz, now)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&list).map_err(|e| input("json", e))?
                );
            } else if list.is_empty() {
                println!("no reminders ahead");
            } else {
                for r in list {
                    println!(
                        "{}  {:<15} {} {:.2}{}",
                        local_time(r.fire_at, &tz),
                        r.kind.as_str(),
                        r.currency,
                        r.amount_minor as f64 / 100.0,
                        if r.persistent { "  (persistent)" } else { "" }
                    );
                }
            }
        }
    }
    Ok(())
}

/// "unlocked", "locked (overdue_payment)", "released".
pub fn describe(d: &finlock_core::decision::Decision) -> String {
    if d.released {
        "released for good".into()
    } else if d.locked {
        format!(
            "LOCKED ({}){}",
            reason_str(d.reason),
            if d.clock_suspect {
                ", clock suspect"
            } else {
                ""
            }
        )
    } else {
        "unlocked".into()
    }
}

fn reason_str(r: Option<LockReason>) -> &'static str {
    match r {
        Some(LockReason::OverduePayment) => "overdue_payment",
        Some(LockReason::LenderRequest) => "lender_request",
        Some(LockReason::Offline) => "offline",
        None => "none",
    }
}

/// What `status --json` prints: the decision and what the lock screen shows, from the
/// core's views ([`DeviceState::status`], [`DeviceState::lock_screen`]) — the same the
/// phone's bridge converts for the Kotlin shell.
pub fn status_json(
    s: &DeviceState,
    eval: &finlock_core::device::Evaluation,
) -> Result<serde_json::Value, SimError> {
    let status = s.status(eval);
    let d = &status.evaluation.decision;
    let mut out = json!({
        "enrolled": status.enrollment.is_some(),
        "locked": d.locked,
        "reason": d.reason.map(|r| reason_str(Some(r))),
        "clock_suspect": d.clock_suspect,
        "released": d.released,
        "trusted_now": status.evaluation.reading.now(),
        "next_change": d.next_change,
        "next_checkin": status.next_checkin,
    });
    if let Some(en) = &status.enrollment {
        let screen = s.lock_screen(eval, "en")?;
        out["device_id"] = json!(en.device_id);
        out["state"] = json!(en.state);
        out["seq"] = json!(en.seq);
        out["lock_at"] = json!(en.lock_at);
        out["amount_due_minor"] = json!(screen.amount_due_minor);
        out["currency"] = json!(screen.currency);
        out["next_due"] = json!(screen.next_due);
        out["lender"] = json!({
            "name": screen.payee.name,
            "phone": screen.payee.phone,
            "email": screen.lender_email,
            "payment_url": screen.payee.payment_url,
            "support_url": screen.support_url,
        });
        out["offline_tries_left"] = json!(screen.offline.tries_left);
        out["pending_events"] = json!(en.pending_events);
    }
    Ok(out)
}

fn print_status(v: &serde_json::Value) {
    if v["enrolled"] != json!(true) {
        println!("not enrolled");
        return;
    }
    let state = if v["released"] == json!(true) {
        "released for good".to_string()
    } else if v["locked"] == json!(true) {
        format!("LOCKED ({})", v["reason"].as_str().unwrap_or("?"))
    } else {
        "unlocked".to_string()
    };
    println!(
        "device   {}  seq {}",
        v["device_id"].as_str().unwrap_or("?"),
        v["seq"]
    );
    println!(
        "state    {state}{}",
        if v["clock_suspect"] == json!(true) {
            " — check the date and time"
        } else {
            ""
        }
    );
    println!(
        "lender   {}  {}",
        v["lender"]["name"].as_str().unwrap_or("?"),
        v["lender"]["phone"].as_str().unwrap_or("?")
    );
    let due = v["amount_due_minor"].as_u64().unwrap_or(0);
    println!(
        "due      {} {}.{:02}",
        v["currency"].as_str().unwrap_or("?"),
        due / 100,
        due % 100
    );
    println!(
        "pay at   {}",
        v["lender"]["payment_url"].as_str().unwrap_or("?")
    );
    println!("lock_at  {}", v["lock_at"]);
}

fn local_time(t: i64, tz: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t) else {
        return t.to_string();
    };
    match jiff::tz::TimeZone::get(tz) {
        Ok(zone) => ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_spec_parses_and_rejects() {
        let c = parse_clock("wall=1767225600,uptime_ms=5000,boot=3").unwrap();
        assert_eq!(
            (c.wall_ms, c.uptime_ms, c.boot),
            (1_767_225_600_000, 5000, 3)
        );
        for bad in [
            "",
            "wall=1",
            "wall=x,uptime_ms=1,boot=1",
            "wall=1,uptime_ms=-1,boot=1",
            "wall=1,uptime_ms=1,boot=1,zone=2",
            "wall:1",
        ] {
            assert!(parse_clock(bad).is_err(), "{bad}");
        }
    }
}
