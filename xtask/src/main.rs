//! `cargo xtask`: the project's own tasks, in plain Rust with no dependencies so it builds in
//! seconds. `cargo xtask test` is the one command that runs every check; `.ci/run` runs it too.
//!
//! Each task is a list of [`Step`]s (external commands run from the workspace root). To add a
//! check, add a step to the task's list below.

mod steps;

use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use steps::{Step, run_steps};

/// A subcommand of `cargo xtask`.
struct Task {
    name: &'static str,
    /// One line for the overview.
    summary: &'static str,
    /// Longer text for `cargo xtask NAME --help`.
    details: &'static str,
    /// Whether arguments after `--` are accepted (and appended to the task's last command).
    passthrough: bool,
    steps: fn(&Context, Vec<OsString>) -> Vec<Step>,
}

const TASKS: &[Task] = &[
    Task {
        name: "test",
        summary: "every check: rustfmt, clippy -D warnings, cargo test",
        details: "\
Runs, in order, stopping at the first failure:
  1. fmt     cargo fmt --all --check
  2. clippy  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  3. test    cargo test --workspace --locked --features finlock-core/net [ARGS...]
then prints a summary with each step's result and time.

ARGS after `--` go to `cargo test`, e.g.
  cargo xtask test -- store_crash          only tests whose name contains store_crash
  cargo xtask test -- -- --nocapture       show the tests' output",
        passthrough: true,
        steps: test_steps,
    },
    Task {
        name: "ci",
        summary: "what .ci/run runs after installing: the same as `test`",
        details: "Runs exactly the steps of `cargo xtask test` (see `cargo xtask test --help`).",
        passthrough: true,
        steps: test_steps,
    },
    Task {
        name: "bench",
        summary: "the benchmarks: cargo bench -p finlock-core",
        details: "\
Runs `cargo bench -p finlock-core [ARGS...]`.

ARGS after `--` go to `cargo bench`, e.g.
  cargo xtask bench -- --bench core -- decision     only benchmarks matching `decision`",
        passthrough: true,
        steps: bench_steps,
    },
    Task {
        name: "vectors",
        summary: "regenerate the conformance vectors in rust-core/tests/vectors",
        details: "\
Runs `cargo run -p finlock-core --example gen-vectors -- rust-core/tests/vectors`,
which rewrites the JSON files of rust-core/tests/vectors/. Commit the result together
with the change that made it necessary (and, for a protocol change, its ADR).",
        passthrough: false,
        steps: vectors_steps,
    },
];

/// Where and with what the steps run.
struct Context {
    /// The cargo that started xtask (`$CARGO`), so every step uses the same toolchain.
    cargo: OsString,
    /// The workspace root (the parent of xtask/).
    root: PathBuf,
}

impl Context {
    fn from_env() -> Context {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        // `cargo run` sets CARGO_MANIFEST_DIR at run time too; prefer it to the compile-time
        // value so a binary built from another checkout (shared target dir) still runs here.
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .map(PathBuf::from)
            .unwrap_or(manifest_dir);
        Context { cargo, root }
    }

    fn cargo<const N: usize>(&self, name: &'static str, args: [&str; N]) -> Step {
        Step::new(name, self.cargo.clone(), args)
    }
}

fn test_steps(cx: &Context, extra: Vec<OsString>) -> Vec<Step> {
    let mut fmt = cx.cargo("fmt", ["fmt", "--all", "--check"]);
    // rustfmt does not read CARGO_TERM_COLOR; pass it on so CI logs carry no escape codes.
    if let Some(color) = env::var_os("CARGO_TERM_COLOR") {
        fmt.args.extend(["--".into(), "--color".into(), color]);
    }
    // The check-in client (finlock-core's `net` feature) is part of what we ship.
    let mut test = cx.cargo(
        "test",
        [
            "test",
            "--workspace",
            "--locked",
            "--features",
            "finlock-core/net",
        ],
    );
    test.args.extend(extra);
    test.counts_tests = true;
    vec![
        fmt,
        cx.cargo(
            "clippy",
            [
                "clippy",
                "--workspace",
                "--all-targets",
                // Lints every feature-gated target too (net client, PostgreSQL tests).
                "--all-features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        test,
        // Later issues add their steps here, in the order they should run, e.g.:
        // - the Kotlin/JVM tests (Gradle);
        // - the server's tests against PostgreSQL, with
        //   `skip: Some("FINLOCK_TEST_POSTGRES_URL is not set".into())` when that variable is
        //   absent (a skipped step shows in the summary and does not fail the run);
        // - the Android checks.
    ]
}

fn bench_steps(cx: &Context, extra: Vec<OsString>) -> Vec<Step> {
    let mut bench = cx.cargo("bench", ["bench", "-p", "finlock-core"]);
    bench.args.extend(extra);
    vec![bench]
}

fn vectors_steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    vec![cx.cargo(
        "vectors",
        [
            "run",
            "-p",
            "finlock-core",
            "--example",
            "gen-vectors",
            "--",
            "rust-core/tests/vectors",
        ],
    )]
}

fn print_overview() {
    println!("cargo xtask: the project's tasks beyond plain cargo\n");
    println!("Usage: cargo xtask <COMMAND> [-- ARGS...]\n");
    println!("Commands:");
    for task in TASKS {
        println!("  {:<9} {}", task.name, task.summary);
    }
    println!(
        "  {:<9} this text; `cargo xtask help COMMAND` for one command",
        "help"
    );
    println!("\nRuns from any directory of the workspace; steps run in the workspace root.");
}

fn print_task_help(task: &Task) {
    let args = if task.passthrough {
        " [-- ARGS...]"
    } else {
        ""
    };
    println!("cargo xtask {}: {}\n", task.name, task.summary);
    println!("Usage: cargo xtask {}{args}\n", task.name);
    println!("{}", task.details);
}

fn find_task(name: &str) -> Option<&'static Task> {
    TASKS.iter().find(|task| task.name == name)
}

/// Exit code for a wrong command line.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(command) = args.next() else {
        print_overview();
        return ExitCode::from(USAGE);
    };
    let command = command.to_string_lossy().into_owned();
    let rest: Vec<OsString> = args.collect();

    if matches!(command.as_str(), "help" | "-h" | "--help") {
        match rest.first().map(|arg| arg.to_string_lossy()) {
            None => print_overview(),
            Some(name) => match find_task(&name) {
                Some(task) => print_task_help(task),
                None => return unknown_command(&name),
            },
        }
        return ExitCode::SUCCESS;
    }
    let Some(task) = find_task(&command) else {
        return unknown_command(&command);
    };

    // Before `--`: xtask's own options (only --help); after it: arguments for the command.
    let split = rest.iter().position(|arg| arg == "--");
    let (own, extra) = match split {
        Some(at) => (&rest[..at], rest[at + 1..].to_vec()),
        None => (&rest[..], Vec::new()),
    };
    if own.iter().any(|arg| arg == "-h" || arg == "--help") {
        print_task_help(task);
        return ExitCode::SUCCESS;
    }
    if let Some(arg) = own.first() {
        eprintln!(
            "error: unexpected argument '{}' for `cargo xtask {}`",
            arg.to_string_lossy(),
            task.name
        );
        if task.passthrough {
            eprintln!(
                "hint: arguments for cargo go after `--`: cargo xtask {} -- ARGS",
                task.name
            );
        }
        return ExitCode::from(USAGE);
    }
    if !extra.is_empty() && !task.passthrough {
        eprintln!("error: `cargo xtask {}` takes no arguments", task.name);
        return ExitCode::from(USAGE);
    }

    let cx = Context::from_env();
    let steps = (task.steps)(&cx, extra);
    let code = run_steps(task.name, &cx.root, &steps);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn unknown_command(name: &str) -> ExitCode {
    eprintln!("error: unknown command '{name}'\n");
    print_overview();
    ExitCode::from(USAGE)
}
