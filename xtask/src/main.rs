//! `cargo xtask`: the project's own tasks, in plain Rust with no dependencies so it builds in
//! seconds. `cargo xtask test` is the one command that runs every check; `.ci/run` runs it too.
//!
//! Each task is a list of [`Step`]s (external commands run from the workspace root). To add a
//! check, add a step to the task's list below.

mod android;
mod android_shell;
mod api_fuzz;
mod console_screens;
mod fuzz;
mod install;
mod jvm;
mod postgres;
mod push_latency;
mod soak;
mod steps;
mod tools;

use std::cell::RefCell;
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
        summary: "every check: rustfmt, clippy, cargo test, PostgreSQL, Kotlin, Android shell",
        details: "\
First installs what the steps need and is missing, one line per install (see `cargo xtask
install --help`; --no-install or FINLOCK_NO_INSTALL=1 to manage packages yourself).
Then runs, in order, stopping at the first failure:
  1. fmt     cargo fmt --all --check
  2. clippy  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  3. test    cargo test --workspace --locked --features finlock-core/net [ARGS...]
             (the lender console's browser tests among them, in a real headless Chromium)
  4. postgres the server's suite against PostgreSQL: FINLOCK_TEST_POSTGRES_URL, or a
              throw-away cluster xtask starts from Debian's postgresql package
  5. jvm     the Kotlin tests of the bridge on the JVM against the real native library
             (`cargo xtask jvm`; needs a JDK, Debian's junit5 and libjna-java, kotlinc)
  6. android the Android shell's Robolectric tests against the real native library
             (`cargo xtask android-test`; needs maven, Debian's aapt and
             android-framework-res; fetches Robolectric and android-all once)
  7. server-lender-build  cargo check -p finlock-server --no-default-features --locked: a
             lender's production build, without the device simulator (ADR 0008)
  8. android-gradle  the Android (Gradle) build checked statically: the wrapper complete with
             its distribution checksum pinned, repositories only in settings.gradle, the
             verifier's AAR at Cargo.lock's version, 16 KB page alignment for every Android
             target (linker flag, NDK r28+, and the ELF headers of any Android .so found; it
             says when there is none to read)
  9. jni-once, android-host-check, android-check  `cargo xtask check-android`: the bridge's
             Android-only module compiled and linted for the host on every run (stand-ins for
             the verifier's Android init and the bridge's runtime, which it names), then
             type-checked (clippy) for aarch64-linux-android; that last one is skipped, with the
             reason, where the Rust target is not installed
 10. fuzz    `cargo xtask fuzz --smoke`: the core's fuzz targets (JWS, entitlement and key
             chains, offline code, state file) for 30 s each (cargo-fuzz on the nightly
             toolchain, no sanitizer, two at a time; the server's targets run in `cargo
             xtask fuzz`); fails on a crash, and fails saying what is missing where
             nightly or cargo-fuzz is not installed
 11. api-fuzz `cargo xtask api-fuzz --smoke`: schemathesis from /openapi.json against a real
             `finlock serve` (50 cases per operation); fails on any 5xx or schema violation
 12. soak    `cargo xtask soak --smoke`: two `finlock serve` nodes on PostgreSQL, one
             SIGKILLed and restarted, then SQLite, 20 s each; fails on any payment not stored
             exactly once, seq reused, wrong lock or rate limit broken across nodes
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
        name: "install",
        summary: "install what the tests need: Debian packages (apt-get) and kotlinc (npm)",
        details: "\
Installs what is missing, one line per install, and nothing (no network) when all is there:
  Debian packages, with apt-get (directly as root, else through sudo):
    postgresql               the server's suite against a real PostgreSQL
    openjdk-17-jdk-headless  the Kotlin tests on the JVM
    junit5, libjna-java      the bridge's Kotlin tests (JUnit 5, the library through JNA)
    aapt, android-framework-res, maven   the Android shell's Robolectric tests
    clang, llvm              ring's C code for the Android type-check
    chromium, chromium-driver  the lender console's browser tests (headless, chromedriver)
    npm                      only when kotlinc is missing and npm is not there
  kotlinc: the npm package kotlin-compiler@2.4.20 into build/kotlin.
  cargo-fuzz: cargo install cargo-fuzz --locked (`test`, `ci` and `fuzz`; the fuzz targets
    also need the nightly toolchain, which is not installed here).
  schemathesis: pip install schemathesis==4.32.5 into the virtualenv build/schemathesis
    (`test`, `ci` and `api-fuzz`; python3 -m venv, Debian's python3-venv where it is missing).
`test` and `ci` do this first; `postgres`, `jvm`, `bench-bridge`, `android-test`,
`android-screens`, `check-android` and `console-screens` install their own part. Each takes --no-install, and
FINLOCK_NO_INSTALL=1 turns installing off everywhere, for people who manage their own
packages. Without dpkg and apt-get (not Debian or Ubuntu) the list is printed instead.",
        passthrough: false,
        steps: no_steps,
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
        name: "jvm",
        summary: "the bridge's Kotlin tests on the JVM (step 5 of `test`)",
        details: "\
Builds the host cdylib (with its test hooks), the `finlock` server and uniffi-bindgen;
generates the Kotlin bindings from the library into target/jvm/bindings; compiles them with
rust-core/ffi/kotlin-tests/*.kt (kotlinc is skipped when those sources are unchanged); runs
them with JUnit 5 against the library (JNA) and a real `finlock serve` on loopback; closes
with `jvm: N passed, N failed, N skipped`.

Needs a JDK 17+, Debian's junit5 and libjna-java, and kotlinc from the npm package
kotlin-compiler under build/kotlin (installed on first use when npm is available).",
        passthrough: false,
        steps: jvm_steps,
    },
    Task {
        name: "bench-bridge",
        summary: "size of the stripped release .so and the cost of a call from Kotlin",
        details: "\
Builds the release cdylib, prints the size of a stripped copy (target: under 4 MiB), then
runs the Kotlin BridgeBench against the release library: the time of a `decision` call (and
a few others) through the bridge, printed, not asserted (target: under 50 µs).",
        passthrough: false,
        steps: bench_bridge_steps,
    },
    Task {
        name: "check-android",
        summary: "type-check the bridge for aarch64-linux-android; one jni in the .so",
        details: "\
  1. jni-once  cargo tree -i jni for aarch64-linux-android: exactly one jni version in the .so
  1b. android-host-check  rust-core/ffi/src/android.rs compiled and linted (clippy -D warnings)
               for the host in a generated crate (target/android-host-check) against the real jni
               and android_logger; rustls-platform-verifier's Android init and the bridge's
               runtime are stand-ins, and it says so. Runs everywhere.
  2. android-check  cargo clippy -p finlock-ffi --target aarch64-linux-android -- -D warnings (the
               JNI init and everything under cfg(target_os = \"android\"))
Step 2 needs the Rust target (rustup target add aarch64-linux-android) and a C compiler for
ring's C code: the NDK's clang (ANDROID_NDK_HOME, CC_aarch64_linux_android or
aarch64-linux-android*-clang on PATH), else the host's clang and llvm-ar, which build ring in
its no-libc-headers mode (objects that `cargo check` never links). When neither is there it
is listed as skipped with the reason, and the task exits with status 3
(not 0): a skipped check never passes for a done one.",
        passthrough: false,
        steps: android::steps,
    },
    Task {
        name: "bench-server",
        summary: "the server load benchmark: check-ins/s, p50/p99, CPU per check-in against the crypto floor",
        details: "\
Runs `cargo run --release -p finlock-server --example load [ARGS...]`: a server on loopback
(SQLite), simulated devices enrolled through the API, pre-signed check-ins driven for a fixed
time, then the same client against /healthz; prints requests/s, p50/p99, the server's CPU
per check-in (its runtime's threads plus SQLite's, from /proc) and that CPU as a multiple of
the floor: ring's Ed25519 verify of one of the run's check-in bodies plus sign of an
entitlement of the size served, timed in thread CPU in the same run. `--checkins-only`
skips /healthz (for `perf record`; `cargo build --profile profiling` keeps the symbols).

ARGS after `--` go to the example, e.g. `cargo xtask bench-server -- --help`.",
        passthrough: true,
        steps: bench_server_steps,
    },
    Task {
        name: "postgres",
        summary: "the server's suite against PostgreSQL only (step 4 of `test`)",
        details: "\
Runs `cargo test -p finlock-server --features postgres-tests --test api_postgres` against
FINLOCK_TEST_POSTGRES_URL, or against a throw-away cluster xtask starts (and stops) from
Debian's postgresql package in target/xtask-postgres, on a free loopback port.",
        passthrough: false,
        steps: postgres_steps,
    },
    Task {
        name: fuzz::TASK,
        summary: "coverage-guided fuzzing: each target for N s, with execs/s and coverage",
        details: fuzz::DETAILS,
        passthrough: false,
        steps: no_steps,
    },
    Task {
        name: push_latency::TASK,
        summary: "M-Pesa confirmation to a locked phone unlocked by its push: median/p99 over 100 phones",
        details: push_latency::DETAILS,
        passthrough: true,
        steps: push_latency_steps,
    },
    Task {
        name: soak::TASK,
        summary: "two nodes on PostgreSQL, one SIGKILLed, under load: payments, seq, locks",
        details: soak::DETAILS,
        passthrough: false,
        steps: no_steps,
    },
    Task {
        name: api_fuzz::TASK,
        summary: "schemathesis from /openapi.json against a real `finlock serve`",
        details: api_fuzz::DETAILS,
        passthrough: false,
        steps: no_steps,
    },
    Task {
        name: console_screens::TASK,
        summary: "PNGs of every lender-console page at 360 and 1280 px (build/console-screens)",
        details: console_screens::DETAILS,
        passthrough: false,
        steps: console_screens_steps,
    },
    Task {
        name: "vectors",
        summary: "regenerate the conformance vectors in rust-core/tests/vectors",
        details: "\
Runs `cargo run -p finlock-core --features test-support --example gen-vectors --
rust-core/tests/vectors` (the generator lives in the core's test support, which no
shipped build contains), which rewrites the JSON files of rust-core/tests/vectors/.
Commit the result together with the change that made it necessary (and, for a protocol
change, its ADR).",
        passthrough: false,
        steps: vectors_steps,
    },
    Task {
        name: "android-test",
        summary: "the Android shell's Robolectric tests on the JVM (no SDK, no Gradle)",
        details: "\
Fetches once (stamp) Robolectric 4.16.1, JUnit 4, JNA and android-all (API 35) from Maven
Central into build/android-jvm; builds the host cdylib and its Kotlin bindings; compiles the
app's resources with Debian's aapt2 (against android-framework-res) and its Kotlin (kotlinc,
against android-all); runs android-app/src/test with JUnit 4 under Robolectric (sdk 35,
offline); closes with `android: N passed, N failed`.

Needs JDK 17, maven, Debian's aapt and android-framework-res, kotlinc under build/kotlin.",
        passthrough: false,
        steps: android_shell::test_steps,
    },
    Task {
        name: "android-screens",
        summary: "PNGs of the shell's screens per level and language (target/android-screens)",
        details: "\
Builds as `android-test` does, then renders with Robolectric's native graphics, in every
shipped language, into target/android-screens/: the lock screen per lock reason (overdue
payment, lender request, offline, clock suspect), the notice page (as it opens and whole,
with private details, at the restricted level), the restricted home, the account screen and
enrollment.",
        passthrough: false,
        steps: android_shell::screens_steps,
    },
];

/// Where and with what the steps run.
struct Context {
    /// The cargo that started xtask (`$CARGO`), so every step uses the same toolchain.
    cargo: OsString,
    /// The workspace root (the parent of xtask/).
    root: PathBuf,
    /// A PostgreSQL xtask started for the server's PostgreSQL suite; stopped on drop.
    postgres: RefCell<Option<postgres::Postgres>>,
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
        Context {
            cargo,
            root,
            postgres: RefCell::new(None),
        }
    }

    fn cargo<const N: usize>(&self, name: &'static str, args: [&str; N]) -> Step {
        Step::new(name, self.cargo.clone(), args)
    }
}

/// The server's black-box suite again, against a real PostgreSQL (see `postgres.rs`).
fn postgres_step(cx: &Context) -> Step {
    match postgres::ensure(&tools::target_dir(&cx.root)) {
        Ok(pg) => {
            let mut step = cx.cargo(
                "postgres",
                [
                    "test",
                    "--locked",
                    "-p",
                    "finlock-server",
                    "--features",
                    "postgres-tests",
                    "--test",
                    "api_postgres",
                ],
            );
            step.envs
                .push((postgres::URL_VAR.into(), pg.url.clone().into()));
            step.counts_tests = true;
            *cx.postgres.borrow_mut() = Some(pg);
            step
        }
        // Never a silent pass: without PostgreSQL this step fails and says why.
        Err(why) => Step::new(
            "postgres",
            "sh",
            [
                "-c".to_string(),
                format!("echo 'postgres: {why}' >&2; exit 1"),
            ],
        ),
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
    let mut steps = vec![
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
        postgres_step(cx),
        jvm_step(cx),
        android_shell::test_step(),
        // A lender's production build, without the device simulator (ADR 0008).
        cx.cargo(
            "server-lender-build",
            [
                "check",
                "-p",
                "finlock-server",
                "--no-default-features",
                "--locked",
            ],
        ),
        android::step(),
    ];
    steps.extend(android::steps(cx, Vec::new()));
    steps.push(fuzz_smoke_step());
    // schemathesis against a real server (`test` installed its virtualenv already).
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    steps.push(Step::new(
        "api-fuzz",
        exe,
        [api_fuzz::TASK, "--smoke", install::OPT_OUT_FLAG],
    ));
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    steps.push(Step::new("soak", exe, [soak::TASK, "--smoke"]));
    steps.push(bench_server_smoke_step(cx));
    steps
}

/// `cargo xtask bench-server` in miniature (debug build, 50 phones, 1 s): the benchmark
/// and its floor still run, and a failed check-in fails the step. Its figures mean
/// nothing in a debug build; the release run's go in the notes.
fn bench_server_smoke_step(cx: &Context) -> Step {
    cx.cargo(
        "bench-server-smoke",
        [
            "run",
            "--locked",
            "-p",
            "finlock-server",
            "--features",
            "finlock-core/net",
            "--example",
            "load",
            "--",
            "--devices",
            "50",
            "--duration",
            "1",
            "--concurrency",
            "8",
        ],
    )
}

/// Runs `cargo xtask fuzz --smoke` as a step (xtask calls itself; see `fuzz.rs`).
fn fuzz_smoke_step() -> Step {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    // `test` installed what the smoke needs (cargo-fuzz) already.
    Step::new("fuzz", exe, [fuzz::TASK, "--smoke", install::OPT_OUT_FLAG])
}

/// Runs `cargo xtask jvm` as a step (xtask calls itself; see `jvm.rs`).
fn jvm_step(_cx: &Context) -> Step {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    let mut step = Step::new("jvm", exe, [INTERNAL_JVM_TESTS]);
    // It prints a libtest-style `test result:` line, so the closing tally counts its tests.
    step.counts_tests = true;
    step
}

fn jvm_steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    vec![jvm_step(cx)]
}

fn bench_bridge_steps(_cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    vec![Step::new("bench-bridge", exe, [INTERNAL_BENCH_BRIDGE])]
}

/// Hidden commands: the bodies of the `jvm` and `bench-bridge` steps, run in a child xtask.
const INTERNAL_JVM_TESTS: &str = "__jvm-tests";
const INTERNAL_BENCH_BRIDGE: &str = "__bench-bridge";

fn bench_steps(cx: &Context, extra: Vec<OsString>) -> Vec<Step> {
    let mut bench = cx.cargo("bench", ["bench", "-p", "finlock-core"]);
    bench.args.extend(extra);
    vec![bench]
}

fn bench_server_steps(cx: &Context, extra: Vec<OsString>) -> Vec<Step> {
    let mut step = cx.cargo(
        "bench-server",
        [
            "run",
            "--locked",
            "--release",
            "-p",
            "finlock-server",
            "--example",
            "load",
            "--",
        ],
    );
    step.args.extend(extra);
    vec![step]
}

fn push_latency_steps(cx: &Context, extra: Vec<OsString>) -> Vec<Step> {
    push_latency::steps(&cx.cargo, extra)
}

fn postgres_steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    vec![postgres_step(cx)]
}

fn console_screens_steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    console_screens::steps(&cx.cargo, &cx.root)
}

fn vectors_steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    vec![cx.cargo(
        "vectors",
        [
            "run",
            "-p",
            "finlock-core",
            "--features",
            "test-support",
            "--example",
            "gen-vectors",
            "--",
            "rust-core/tests/vectors",
        ],
    )]
}

/// `install` has no steps: installing happens before any task's steps (see `main`).
fn no_steps(_cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    Vec::new()
}

fn print_overview() {
    println!("cargo xtask: the project's tasks beyond plain cargo\n");
    println!("Usage: cargo xtask <COMMAND> [-- ARGS...]\n");
    println!("Commands:");
    for task in TASKS {
        println!("  {:<15} {}", task.name, task.summary);
    }
    println!(
        "  {:<15} this text; `cargo xtask help COMMAND` for one command",
        "help"
    );
    println!("\nRuns from any directory of the workspace; steps run in the workspace root.");
}

fn print_task_help(task: &Task) {
    let flag = if install::needs(task.name).is_some() {
        " [--no-install]"
    } else {
        ""
    };
    let args = if task.passthrough {
        " [-- ARGS...]"
    } else {
        ""
    };
    println!("cargo xtask {}: {}\n", task.name, task.summary);
    println!("Usage: cargo xtask {}{flag}{args}\n", task.name);
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

    if command == android_shell::INTERNAL_TESTS {
        let cx = Context::from_env();
        return android_shell::run_tests(&cx.root, &cx.cargo);
    }
    if command == android_shell::INTERNAL_SCREENS {
        let cx = Context::from_env();
        return android_shell::run_screens(&cx.root, &cx.cargo);
    }
    if command == android::INTERNAL_HOST_CHECK {
        let cx = Context::from_env();
        return android::run_host_check(&cx.root, &cx.cargo);
    }
    if command == android::INTERNAL_GRADLE_CHECK {
        let cx = Context::from_env();
        return android::run_gradle_check(&cx.root);
    }
    if command == INTERNAL_JVM_TESTS {
        let cx = Context::from_env();
        return jvm::run_tests(&cx.root, &cx.cargo);
    }
    if command == INTERNAL_BENCH_BRIDGE {
        let cx = Context::from_env();
        return jvm::run_bench(&cx.root, &cx.cargo);
    }

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

    // Before `--`: xtask's own options (--help, --no-install); after it: arguments for
    // the command.
    let split = rest.iter().position(|arg| arg == "--");
    let (own, extra) = match split {
        Some(at) => (&rest[..at], rest[at + 1..].to_vec()),
        None => (&rest[..], Vec::new()),
    };
    if own.iter().any(|arg| arg == "-h" || arg == "--help") {
        print_task_help(task);
        return ExitCode::SUCCESS;
    }
    let needs = install::needs(task.name);
    let no_install_flag = needs.is_some() && own.iter().any(|arg| arg == install::OPT_OUT_FLAG);
    let own: Vec<&OsString> = own
        .iter()
        .filter(|arg| !(no_install_flag && *arg == install::OPT_OUT_FLAG))
        .collect();
    // `fuzz` reads its own options (see `fuzz.rs`).
    if let Some(arg) = own
        .first()
        .filter(|_| ![fuzz::TASK, api_fuzz::TASK, soak::TASK].contains(&task.name))
    {
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
    if let Some(needs) = &needs {
        let var = env::var(install::OPT_OUT_VAR).ok();
        if install::opted_out(no_install_flag, var.as_deref()) {
            println!(
                "install: skipped ({})",
                if no_install_flag {
                    "--no-install given"
                } else {
                    "FINLOCK_NO_INSTALL set"
                }
            );
        } else if let Err(why) = install::run(&cx.root, needs) {
            eprintln!("install: FAILED: {why}");
            return ExitCode::FAILURE;
        }
    }
    if task.name == "install" {
        return ExitCode::SUCCESS;
    }
    if task.name == fuzz::TASK {
        return fuzz::main(&cx.root, &cx.cargo, &own);
    }
    if task.name == api_fuzz::TASK {
        return api_fuzz::main(&cx.root, &cx.cargo, &own);
    }
    if task.name == soak::TASK {
        return soak::main(&cx.root, &cx.cargo, &own);
    }
    let steps = (task.steps)(&cx, extra);
    let code = run_steps(task.name, &cx.root, &steps);
    if code == 0
        && let Some(reason) = steps.iter().find_map(|s| s.skip.as_ref())
        && task.name == "check-android"
    {
        println!("check-android: SKIPPED, not passed: {reason}");
        return ExitCode::from(android::SKIPPED);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn unknown_command(name: &str) -> ExitCode {
    eprintln!("error: unknown command '{name}'\n");
    print_overview();
    ExitCode::from(USAGE)
}
