//! `cargo xtask push-latency`: from a mobile-money confirmation to a locked phone unlocked
//! by its wake-up push, over 100 phones on loopback (issue 17's latency figure). The work is
//! `finlock demo push-latency` (server/src/cli/demo/push_latency.rs); this builds it in
//! release and runs it. Its 10-run smoke is an ordinary test
//! (server/tests/device_cli.rs, `push_latency_unlocks_every_phone_by_an_empty_push`).

use std::ffi::OsString;

use crate::steps::Step;

pub const TASK: &str = "push-latency";

pub const DETAILS: &str = "\
Runs `cargo run --release -p finlock-server -- demo push-latency [ARGS...]` (100 runs): one
server in the process (SQLite, a simulated clock, the phone's push distributor allowed on
loopback), 100 simulated phones running the real core, each enrolled, registered with a
loopback push distributor by the server's VAPID key, and locked for an overdue installment.
Then, phone after phone, an M-Pesa C2B confirmation for its account is posted to the
server's notification endpoint and the real time is taken until the phone, woken by the
server's empty Web Push, has checked in and decided `unlocked`. Prints median, p99, min and
max, the callback's answer and the push's arrival, and beside them the same customers
without push: the wait until the phone's next scheduled check-in while locked (the core's
schedule, the server's hourly interval), the callback at a uniformly random moment
(simulated time). Fails if any phone stays locked or any push carries a body or a bad
VAPID signature.

ARGS after `--` go to the command, e.g.
  cargo xtask push-latency -- --runs 300 --json";

pub fn steps(cargo: &OsString, extra: Vec<OsString>) -> Vec<Step> {
    let mut step = Step::new(
        TASK,
        cargo.clone(),
        [
            "run",
            "--locked",
            "--release",
            "-p",
            "finlock-server",
            "--bin",
            "finlock",
            "--",
            "demo",
            "push-latency",
        ],
    );
    step.args.extend(extra);
    vec![step]
}
