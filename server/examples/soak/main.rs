//! The soak: two `finlock serve` nodes on one PostgreSQL, one SIGKILLed mid-run and
//! started again, under check-ins, payments (Idempotency-Keys, retries at the other node,
//! some raced to both nodes at once), voids, locks, unlocks and extensions; then the same
//! on SQLite with one node (SQLite is a single-node store). Run by `cargo xtask soak`.
//!
//! ```text
//! soak --finlock target/release/finlock [--postgres postgres://…] [--seconds 60]
//!      [--devices 200] [--interval 2]
//! ```
//! Checks, per backend: every payment acknowledged 2xx is stored exactly once (and
//! nothing stored that was not sent, or was refused); no device's `seq` is reused or goes
//! back in what its phone received; every entitlement is verified by the phone's core
//! against the lender keys pinned at provisioning, and the core's lock decision matches
//! the account as acknowledged to the lender (no wrong lock, no missed one); the
//! per-device check-in interval and the per-address enroll limit hold across nodes.
//! Prints those counts and each request kind's throughput and p50/p99, PostgreSQL beside
//! SQLite; exits 1 when any guarantee broke, 2 on a bad command line.

mod client;
mod cluster;
mod phone;
mod report;
mod run;
mod truth;

use std::path::PathBuf;
use std::process::ExitCode;

use run::Setup;

struct Args {
    finlock: Option<PathBuf>,
    postgres: Option<String>,
    seconds: u64,
    devices: usize,
    interval_s: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        finlock: None,
        postgres: None,
        seconds: 60,
        devices: 200,
        interval_s: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--finlock" => a.finlock = Some(PathBuf::from(value()?)),
            "--postgres" => a.postgres = Some(value()?),
            "--seconds" => a.seconds = number(value()?)?.max(5),
            "--devices" => a.devices = usize::try_from(number(value()?)?.max(1)).unwrap_or(1),
            "--interval" => a.interval_s = number(value()?)?.max(1),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(bin) = a.finlock else {
        eprintln!("soak: --finlock PATH (the `finlock` binary to serve with) is required");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut setups = Vec::new();
    if let Some(url) = a.postgres {
        setups.push(Setup {
            backend: "postgres",
            bin: bin.clone(),
            db: Some(url),
            nodes: 2,
            seconds: a.seconds,
            devices: a.devices,
            interval_s: a.interval_s,
        });
    } else {
        println!("soak: no --postgres URL; SQLite only");
    }
    setups.push(Setup {
        backend: "sqlite",
        bin,
        db: None,
        nodes: 1,
        seconds: a.seconds,
        devices: a.devices,
        interval_s: a.interval_s,
    });
    let mut reports = Vec::new();
    let mut failed = false;
    for setup in &setups {
        println!(
            "soak on {}: {} node(s), {} devices, {} s ...",
            setup.backend, setup.nodes, setup.devices, setup.seconds
        );
        match runtime.block_on(run::run(setup)) {
            Ok(report) => {
                report.print();
                let broken = report.tally.violations();
                if broken.is_empty() {
                    println!("{}: every guarantee held", report.backend);
                    let _ = std::fs::remove_dir_all(&report.logs);
                } else {
                    failed = true;
                    for (what, n) in broken {
                        println!("{}: VIOLATION: {what}: {n}", report.backend);
                    }
                    println!("{}: node logs in {}", report.backend, report.logs.display());
                }
                reports.push(report);
            }
            Err(e) => {
                failed = true;
                eprintln!("soak on {}: FAILED: {e}", setup.backend);
            }
        }
    }
    report::compare(&reports);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
