//! `cargo xtask soak`: the server under failure and load (issue 15). Builds `finlock` and
//! the soak driver (server/examples/soak), starts a throw-away PostgreSQL (see
//! `postgres.rs`; its own cluster in target/soak, so it never meets the `postgres` step's),
//! and runs the driver: two `finlock serve` nodes on it, one SIGKILLed mid-run and started
//! again, then the same on SQLite with one node. `--smoke` is the short run of
//! `cargo xtask test`.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::{postgres, tools};

pub const TASK: &str = "soak";

pub const DETAILS: &str = "\
Usage: cargo xtask soak [--seconds N] [--devices N] [--smoke]

Builds `finlock` and the soak driver (server/examples/soak, release; debug with --smoke),
starts a throw-away PostgreSQL (FINLOCK_TEST_POSTGRES_URL when set, else a private cluster
from Debian's postgresql package in target/soak) and runs, for N seconds each:
  postgres  two `finlock serve` nodes on the one database and keys directory; N phones
            running the real core (lender keys pinned) check in at alternating nodes; a
            lender client posts payments with Idempotency-Keys (retried at the other node on
            errors and timeouts, one in eight raced to both nodes at once), voids, locks,
            unlocks and extensions; at 40 % the second node is SIGKILLed and started again;
            at 60 % 20 devices burst 6 check-ins over both nodes and 40 enrolls come from one
            address (limit 30 a minute).
  sqlite    the same with one node (SQLite is a single-node store), killed and restarted.
Then checks: every payment acknowledged 2xx stored exactly once (none stored that was
never sent or was refused), no `seq` reused or gone back, no wrong (or missed) lock against
the account as acknowledged, the rate limits held across nodes; prints the counts and
each request kind's 2xx/s and p50/p99, PostgreSQL beside SQLite. Fails on any violation.

  --seconds N   run time per backend (default 120; --smoke: 20)
  --devices N   simulated phones (default 300; --smoke: 40)
  --smoke       the short debug-build run of `cargo xtask test`";

struct Options {
    seconds: u64,
    devices: u64,
    smoke: bool,
}

fn options(args: &[&OsString]) -> Result<Options, String> {
    let smoke = args.iter().any(|a| *a == "--smoke");
    let mut o = Options {
        seconds: if smoke { 20 } else { 120 },
        devices: if smoke { 40 } else { 300 },
        smoke,
    };
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = it.next() {
        let mut number = |name: &str| {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match arg.as_ref() {
            "--seconds" => o.seconds = number("--seconds")?,
            "--devices" => o.devices = number("--devices")?,
            "--smoke" => {}
            other => {
                return Err(format!(
                    "unexpected argument '{other}' for `cargo xtask soak`"
                ));
            }
        }
    }
    Ok(o)
}

pub fn main(root: &Path, cargo: &OsString, args: &[&OsString]) -> ExitCode {
    let o = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let target = tools::target_dir(root);
    let profile = if o.smoke { "debug" } else { "release" };
    let mut build = Command::new(cargo);
    build.current_dir(root).args([
        "build",
        "--locked",
        "-p",
        "finlock-server",
        "--bin",
        "finlock",
        "--example",
        "soak",
    ]);
    if !o.smoke {
        build.arg("--release");
    }
    println!("soak: building finlock and the soak driver ({profile})");
    if !build.status().is_ok_and(|s| s.success()) {
        eprintln!("soak: FAILED: the build failed");
        return ExitCode::FAILURE;
    }
    let pg = match postgres::ensure(&target.join("soak")) {
        Ok(pg) => pg,
        Err(why) => {
            eprintln!("soak: FAILED: no PostgreSQL: {why}");
            return ExitCode::FAILURE;
        }
    };
    let status = Command::new(target.join(profile).join("examples").join("soak"))
        .current_dir(root)
        .arg("--finlock")
        .arg(target.join(profile).join("finlock"))
        .args(["--postgres", &pg.url])
        .args(["--seconds", &o.seconds.to_string()])
        .args(["--devices", &o.devices.to_string()])
        .status();
    drop(pg);
    println!("soak: {:.0} s in all", started.elapsed().as_secs_f64());
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: FAILED: the driver did not run: {e}");
            ExitCode::FAILURE
        }
    }
}
