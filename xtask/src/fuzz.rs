//! `cargo xtask fuzz`: the coverage-guided fuzz targets of `fuzz/` (cargo-fuzz, libFuzzer,
//! on the nightly toolchain), each run for a fixed time, with one line of figures per
//! target read from libFuzzer's own output: executions and executions/s, corpus size,
//! coverage (edges, `cov:`) and features (`ft:`), at the start (the seeds) and at the end.
//!
//! `--smoke` is the `fuzz` step of `cargo xtask test`: the core's four targets for
//! [`SMOKE_SECONDS`] each, two at a time on a 2-core machine, without a sanitizer (Rust
//! code needs ASan only for `unsafe`; the panics and assertions that are the targets'
//! invariants abort either way). The server's three targets are left to the long runs:
//! measured cold here without a sanitizer, the core's targets build in 107 CPU-seconds,
//! all seven (the server's dependency tree: sqlx, axum, tokio, …) in about 320, which
//! with seven 30 s runs would exceed the step's ~5 minutes on two cores (with ASan the
//! whole build took 630 CPU-seconds).
//!
//! A crash fails the task, naming the target, the input libFuzzer kept and the command
//! that replays it. Without the nightly toolchain or cargo-fuzz the task fails and says
//! what to install: it never passes for a check it did not run.

use std::collections::VecDeque;
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use crate::steps::human;

/// The task's name.
pub const TASK: &str = "fuzz";

/// Seconds per target of `--smoke` (the `fuzz` step of `cargo xtask test`).
pub const SMOKE_SECONDS: u64 = 30;
/// Seconds per target when `--seconds` is not given.
pub const DEFAULT_SECONDS: u64 = 60;

/// The toolchain cargo-fuzz runs on; `FINLOCK_FUZZ_TOOLCHAIN` overrides it.
const NIGHTLY: &str = "nightly";
/// The cargo-fuzz `cargo xtask install` installs.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// A fuzz target of `fuzz/Cargo.toml` and the dictionary it reads.
struct Target {
    name: &'static str,
    dict: Option<&'static str>,
    /// Needs the server (feature `server`): not in the smoke, whose budget the server's
    /// instrumented dependency tree alone would exceed on a 2-core machine.
    server: bool,
}

const TARGETS: &[Target] = &[
    Target {
        name: "jws_parse",
        dict: Some("protocol.dict"),
        server: false,
    },
    Target {
        name: "entitlement_accept",
        dict: Some("protocol.dict"),
        server: false,
    },
    Target {
        name: "server_checkin",
        dict: Some("protocol.dict"),
        server: true,
    },
    Target {
        name: "server_enroll",
        dict: Some("protocol.dict"),
        server: true,
    },
    Target {
        name: "offline_code",
        dict: None,
        server: false,
    },
    Target {
        name: "store_decode",
        dict: Some("protocol.dict"),
        server: false,
    },
    Target {
        name: "attestation_chain",
        dict: Some("der.dict"),
        server: true,
    },
    Target {
        name: "csv_import",
        dict: None,
        server: true,
    },
    Target {
        name: "payment_notification",
        dict: None,
        server: true,
    },
];

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Options {
    seconds: u64,
    smoke: bool,
    /// `address` (cargo-fuzz's default), `none`, …; `None` = the default for the mode.
    sanitizer: Option<String>,
    jobs: usize,
    write_seeds: bool,
    targets: Vec<String>,
}

pub const DETAILS: &str = "\
Builds the fuzz crate (fuzz/, its own workspace; cargo-fuzz on the nightly toolchain) with
debug assertions, then runs each target for N seconds (default 60) on its working corpus
fuzz/corpus/TARGET (not committed) and the committed seeds fuzz/seeds/TARGET, with its
dictionary from fuzz/dict. Prints per target: executions and executions/s, corpus size,
coverage (libFuzzer's cov: edges and ft: features) at start and end; the full libFuzzer
log is in fuzz/target/xtask-logs/TARGET.log.

Options:
  --seconds N      seconds per target (default 60; an hour in total: --seconds 520)
  --jobs J         targets run at once (default 1; --smoke: 2)
  --sanitizer S    address (default), none, memory, thread, leak
  --smoke          the `fuzz` step of `cargo xtask test`: the core's four targets for
                   30 s each, no sanitizer, two at a time (the server's three need its
                   whole dependency tree instrumented: 3x the build time)
  --write-seeds    regenerate fuzz/seeds from rust-core/tests/vectors and the fixture
                   phone's real messages (runs fuzz/examples/gen_seeds.rs), then stop
  TARGET...        only these targets

Targets: jws_parse, entitlement_accept, server_checkin, server_enroll, offline_code,
store_decode, attestation_chain, csv_import, payment_notification (see the doc comment at the top of each
fuzz/fuzz_targets/*.rs for its input layout and invariants).

A crash fails the task; libFuzzer keeps the input in fuzz/artifacts/TARGET/ and the
failure line says how to replay it. Needs the nightly toolchain and cargo-fuzz
(`cargo xtask install` installs cargo-fuzz); without them it fails and says so.";

fn parse(args: &[&OsString]) -> Result<Options, String> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        smoke: false,
        sanitizer: None,
        jobs: 1,
        write_seeds: false,
        targets: Vec::new(),
    };
    let mut seconds_given = false;
    let mut jobs_given = false;
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                options.seconds = value("--seconds")?
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or("--seconds takes a whole number of seconds above 0")?;
                seconds_given = true;
            }
            "--jobs" => {
                options.jobs = value("--jobs")?
                    .parse()
                    .ok()
                    .filter(|j| *j > 0)
                    .ok_or("--jobs takes a number above 0")?;
                jobs_given = true;
            }
            "--sanitizer" => options.sanitizer = Some(value("--sanitizer")?),
            "--smoke" => options.smoke = true,
            "--write-seeds" => options.write_seeds = true,
            flag if flag.starts_with('-') => return Err(format!("unknown option '{flag}'")),
            name => {
                if !TARGETS.iter().any(|t| t.name == name) {
                    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                    return Err(format!(
                        "unknown target '{name}' (targets: {})",
                        names.join(", ")
                    ));
                }
                options.targets.push(name.to_string());
            }
        }
    }
    if options.smoke {
        if !seconds_given {
            options.seconds = SMOKE_SECONDS;
        }
        if !jobs_given {
            options.jobs = 2;
        }
        options.sanitizer.get_or_insert_with(|| "none".into());
    }
    Ok(options)
}

/// The figures of one run, from libFuzzer's status lines and final stats.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub runs: u64,
    pub execs_per_s: u64,
    pub cov: u64,
    pub ft: u64,
    pub corpus: u64,
    pub start_cov: Option<u64>,
    pub start_ft: Option<u64>,
    pub start_corpus: Option<u64>,
    pub new_units: Option<u64>,
    pub peak_rss_mb: Option<u64>,
}

/// The number after `key` in a libFuzzer status line (`cov: 123`, `corp: 45/6Kb`).
fn field(line: &str, key: &str) -> Option<u64> {
    let rest = line.split(key).nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl Figures {
    /// Reads one line of libFuzzer's standard error.
    pub fn add_line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("stat::") {
            let (key, value) = rest.split_once(':').unwrap_or((rest, ""));
            let value = value.trim().parse().ok();
            match key.trim() {
                "number_of_executed_units" => self.runs = value.unwrap_or(self.runs),
                "average_exec_per_sec" => self.execs_per_s = value.unwrap_or(self.execs_per_s),
                "new_units_added" => self.new_units = value,
                "peak_rss_mb" => self.peak_rss_mb = value,
                _ => {}
            }
            return;
        }
        // `#1234\tNEW    cov: 56 ft: 78 corp: 9/1Kb lim: 4 exec/s: 1000 rss: 40Mb L: …`
        let Some(status) = line.strip_prefix('#') else {
            return;
        };
        let digits: String = status.chars().take_while(char::is_ascii_digit).collect();
        let Ok(runs) = digits.parse::<u64>() else {
            return;
        };
        let (Some(cov), Some(ft)) = (field(status, "cov:"), field(status, "ft:")) else {
            return;
        };
        let corpus = field(status, "corp:");
        if status.contains("INITED") {
            self.start_cov = Some(cov);
            self.start_ft = Some(ft);
            self.start_corpus = corpus;
        }
        self.runs = self.runs.max(runs);
        self.cov = self.cov.max(cov);
        self.ft = self.ft.max(ft);
        if let Some(corpus) = corpus {
            self.corpus = corpus;
        }
        if let Some(rate) = field(status, "exec/s:") {
            self.execs_per_s = rate;
        }
    }

    /// One line for the summary.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} runs ({}/s), corpus {}",
            self.runs, self.execs_per_s, self.corpus
        );
        if let Some(start) = self.start_corpus {
            let _ = write!(line, " (from {start})");
        }
        let _ = write!(line, ", cov {} edges, ft {} features", self.cov, self.ft);
        if let (Some(cov), Some(ft)) = (self.start_cov, self.start_ft) {
            let _ = write!(line, " (seeds alone: cov {cov}, ft {ft})");
        }
        if let Some(rss) = self.peak_rss_mb {
            let _ = write!(line, ", peak RSS {rss} MB");
        }
        line
    }
}

/// Lines of libFuzzer's output worth showing as they come (the rest goes to the log).
fn worth_showing(line: &str) -> bool {
    [
        "INITED",
        "DONE",
        "ERROR",
        "panicked",
        "SUMMARY",
        "Test unit written",
        "artifact_prefix",
    ]
    .iter()
    .any(|k| line.contains(k))
        || line.starts_with("==")
        || line.starts_with("thread '")
}

/// The nightly toolchain's name.
fn toolchain() -> String {
    env::var("FINLOCK_FUZZ_TOOLCHAIN").unwrap_or_else(|_| NIGHTLY.into())
}

/// `rustup run <nightly> cargo fuzz ARGS`, from the workspace root, with no trace of the
/// stable toolchain that started xtask in its environment.
fn cargo_fuzz(root: &Path) -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", &toolchain(), "cargo", "fuzz"])
        .current_dir(root);
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "CARGO_MANIFEST_DIR",
    ] {
        c.env_remove(var);
    }
    c
}

/// Why the fuzz targets cannot run here, if they cannot.
fn missing_tools(root: &Path) -> Option<String> {
    let nightly = toolchain();
    let ok = |c: &mut Command| {
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(Command::new("rustup").args(["run", &nightly, "rustc", "--version"])) {
        return Some(format!(
            "the {nightly} toolchain is not installed (rustup toolchain install {nightly}); \
             cargo-fuzz needs it for -Zsanitizer and libFuzzer's coverage instrumentation"
        ));
    }
    if !ok(cargo_fuzz(root).arg("--version")) {
        return Some(format!(
            "cargo-fuzz is not installed (cargo xtask install, or cargo install cargo-fuzz \
             --version {CARGO_FUZZ_VERSION} --locked)"
        ));
    }
    None
}

/// The target directory of a build with `sanitizer`: each sanitizer builds into its
/// own, so the smoke (none) and long runs (address) do not rebuild each other's
/// dependencies.
fn target_dir(sanitizer: Option<&str>) -> Option<String> {
    sanitizer
        .filter(|s| *s != "address")
        .map(|s| format!("fuzz/target/sanitizer-{s}"))
}

/// The flags of `cargo fuzz build` (and of the replay command a crash prints).
fn build_flags(options: &Options) -> Vec<String> {
    let mut flags = vec!["--release".into(), "--debug-assertions".into()];
    if options.smoke {
        // The core's targets only (see `Target::server`).
        flags.extend([
            "--no-default-features".into(),
            "--features".into(),
            "targets".into(),
        ]);
    }
    if let Some(s) = options.sanitizer.as_deref().filter(|s| *s != "address") {
        flags.extend(["--sanitizer".into(), s.to_string()]);
    }
    if let Some(dir) = target_dir(options.sanitizer.as_deref()) {
        flags.extend(["--target-dir".into(), dir]);
    }
    flags
}

/// Where `cargo fuzz build` put the target binaries: `<target dir>/<host>/release`.
fn binaries_dir(root: &Path, options: &Options) -> Result<PathBuf, String> {
    let output = Command::new("rustup")
        .args(["run", &toolchain(), "rustc", "-vV"])
        .output()
        .map_err(|e| format!("could not run rustup: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let host = text
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("rustc -vV names no host")?
        .trim();
    let dir = target_dir(options.sanitizer.as_deref()).unwrap_or_else(|| "fuzz/target".into());
    Ok(root.join(dir).join(host).join("release"))
}

/// Entry point of `cargo xtask fuzz ARGS` (after installing).
pub fn main(root: &Path, cargo: &OsString, args: &[&OsString]) -> ExitCode {
    let options = match parse(args) {
        Ok(o) => o,
        Err(why) => {
            eprintln!("error: {why}\nhint: cargo xtask fuzz --help");
            return ExitCode::from(2);
        }
    };
    if options.write_seeds {
        return write_seeds(root, cargo);
    }
    if let Some(why) = missing_tools(root) {
        eprintln!("fuzz: FAILED: {why}");
        return ExitCode::FAILURE;
    }
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| options.targets.is_empty() || options.targets.iter().any(|n| n == t.name))
        .filter(|t| !(options.smoke && t.server))
        .collect();
    if targets.is_empty() {
        eprintln!("fuzz: FAILED: no target to run (--smoke runs the core's targets only)");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();

    // One build of every target asked for (`cargo fuzz build` takes one target or all).
    let mut build = cargo_fuzz(root);
    build.arg("build").args(build_flags(&options));
    if let [only] = targets.as_slice() {
        build.arg(only.name);
    }
    println!(
        "fuzz: building {} target(s) (sanitizer: {}, debug assertions on)",
        targets.len(),
        options.sanitizer.as_deref().unwrap_or("address")
    );
    let build_started = Instant::now();
    match build.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("fuzz: FAILED: the fuzz crate did not build ({s})");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("fuzz: FAILED: could not run rustup: {e}");
            return ExitCode::FAILURE;
        }
    }
    let build_time = build_started.elapsed();
    println!("fuzz: built in {}", human(build_time));
    // The binaries are run directly: `cargo fuzz run` would rebuild whenever a file of
    // the shared tree changed meanwhile, and each target would then fuzz other code.
    let binaries = match binaries_dir(root, &options) {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("fuzz: FAILED: {why}");
            return ExitCode::FAILURE;
        }
    };

    let logs = root.join("fuzz/target/xtask-logs");
    let _ = fs::create_dir_all(&logs);
    let queue: Arc<Mutex<VecDeque<&'static Target>>> = Arc::new(Mutex::new(
        targets
            .iter()
            .map(|t| {
                TARGETS
                    .iter()
                    .find(|x| x.name == t.name)
                    .expect("a known target")
            })
            .collect(),
    ));
    let results: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::new()));
    let jobs = options.jobs.min(targets.len()).max(1);
    println!(
        "fuzz: {} target(s), {} s each, {jobs} at a time",
        targets.len(),
        options.seconds
    );
    thread::scope(|scope| {
        for _ in 0..jobs {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            let options = &options;
            let logs = &logs;
            let binaries = &binaries;
            scope.spawn(move || {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                    let Some(target) = next else { break };
                    let outcome = run_target(root, binaries, target, options, logs);
                    match &outcome {
                        Ok(f) => println!("fuzz: {}: {}", target.name, f.summary()),
                        Err(why) => eprintln!("fuzz: {}: FAILED: {why}", target.name),
                    }
                    if let Ok(mut r) = results.lock() {
                        r.push((target.name, outcome));
                    }
                }
            });
        }
    });

    let results = results.lock().map(|r| r.clone()).unwrap_or_default();
    println!(
        "\n==> fuzz summary ({} s per target, sanitizer {}, build {}, total {})",
        options.seconds,
        options.sanitizer.as_deref().unwrap_or("address"),
        human(build_time),
        human(started.elapsed())
    );
    let mut failed = 0;
    for target in &targets {
        match results.iter().find(|(n, _)| *n == target.name) {
            Some((_, Ok(f))) => println!("  {:<20} ok      {}", target.name, f.summary()),
            Some((_, Err(why))) => {
                failed += 1;
                println!("  {:<20} FAILED  {why}", target.name);
            }
            None => {
                failed += 1;
                println!("  {:<20} FAILED  did not run", target.name);
            }
        }
    }
    if failed > 0 {
        println!("cargo xtask fuzz: {failed} target(s) FAILED");
        ExitCode::FAILURE
    } else {
        println!("cargo xtask fuzz: no crash in {} target(s)", targets.len());
        ExitCode::SUCCESS
    }
}

/// A target's name and its figures, or why it failed.
type Outcome = (&'static str, Result<Figures, String>);

/// Runs one target for `options.seconds`; `Err` says what crashed and how to replay it.
fn run_target(
    root: &Path,
    binaries: &Path,
    target: &Target,
    options: &Options,
    logs: &Path,
) -> Result<Figures, String> {
    let corpus = root.join("fuzz/corpus").join(target.name);
    let seeds = root.join("fuzz/seeds").join(target.name);
    let artifacts = root.join("fuzz/artifacts").join(target.name);
    for dir in [&corpus, &artifacts] {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let mut command = Command::new(binaries.join(target.name));
    // As `cargo fuzz run` does: SQLite's C, linked twice over through sqlx, trips
    // AddressSanitizer's one-definition-rule check, which says nothing about our code.
    let asan = match env::var("ASAN_OPTIONS") {
        Ok(o) if !o.is_empty() => format!("{o}:detect_odr_violation=0"),
        _ => "detect_odr_violation=0".into(),
    };
    command.env("ASAN_OPTIONS", asan);
    command.current_dir(root).args([
        format!("-max_total_time={}", options.seconds),
        "-print_final_stats=1".into(),
        // Mutations may grow inputs up to the JWS limit (16 KiB) and a little beyond.
        "-max_len=20000".into(),
        "-timeout=10".into(),
        "-rss_limit_mb=2048".into(),
        format!("-artifact_prefix={}/", artifacts.display()),
    ]);
    if let Some(dict) = target.dict {
        command.arg(format!(
            "-dict={}",
            root.join("fuzz/dict").join(dict).display()
        ));
    }
    command.arg(&corpus);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let log_path = logs.join(format!("{}.log", target.name));
    let mut log = String::new();
    let mut child = command.spawn().map_err(|e| {
        format!(
            "could not run {}: {e}",
            binaries.join(target.name).display()
        )
    })?;
    let mut figures = Figures::default();
    let mut crash_input: Option<String> = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            figures.add_line(&line);
            if let Some(path) = line.split("Test unit written to ").nth(1) {
                crash_input = Some(path.trim().to_string());
            }
            if worth_showing(&line) {
                println!("  [{}] {line}", target.name);
            }
            log.push_str(&line);
            log.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for libFuzzer: {e}"))?;
    let _ = fs::write(&log_path, &log);
    if status.success() && crash_input.is_none() {
        return Ok(figures);
    }
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    eprintln!(
        "--- last lines of {} ---\n{}",
        log_path.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    Err(match crash_input {
        Some(input) => format!(
            "crashed ({status}) after {} runs; input kept at {input}; replay: cargo +{} fuzz \
             run {} {} {input}; log: {}",
            figures.runs,
            toolchain(),
            build_flags(options).join(" "),
            target.name,
            log_path.display()
        ),
        None => format!(
            "libFuzzer ended with {status} and kept no input; log: {}",
            log_path.display()
        ),
    })
}

/// `--write-seeds`: runs the seed generator (no libFuzzer, no server, any toolchain).
fn write_seeds(root: &Path, cargo: &OsString) -> ExitCode {
    let out: PathBuf = root.join("fuzz/seeds");
    let status = Command::new(cargo)
        .args([
            "run",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--no-default-features",
            "--example",
            "gen-seeds",
            "--",
        ])
        .arg(&out)
        .arg(root.join("rust-core/tests/vectors"))
        .current_dir(root)
        .status();
    match status {
        Ok(s) if s.success() => {
            println!("fuzz: seeds written to {}", out.display());
            ExitCode::SUCCESS
        }
        Ok(s) => {
            eprintln!("fuzz: FAILED: the seed generator ended with {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("fuzz: FAILED: could not run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn parsed(list: &[&str]) -> Result<Options, String> {
        let owned = args(list);
        let refs: Vec<&OsString> = owned.iter().collect();
        parse(&refs)
    }

    #[test]
    fn smoke_means_thirty_seconds_two_at_a_time_without_a_sanitizer() {
        let o = parsed(&["--smoke"]).unwrap();
        assert_eq!(o.seconds, SMOKE_SECONDS);
        assert_eq!(o.jobs, 2);
        assert_eq!(o.sanitizer.as_deref(), Some("none"));
        assert!(o.targets.is_empty());
        let o = parsed(&["--smoke", "--seconds", "5", "--sanitizer", "address"]).unwrap();
        assert_eq!((o.seconds, o.sanitizer.as_deref()), (5, Some("address")));
    }

    #[test]
    fn targets_and_seconds_are_read_and_unknown_ones_refused() {
        let o = parsed(&["--seconds", "600", "jws_parse", "store_decode"]).unwrap();
        assert_eq!(o.seconds, 600);
        assert_eq!(o.targets, ["jws_parse", "store_decode"]);
        assert_eq!((o.jobs, o.sanitizer), (1, None));
        assert!(
            parsed(&["nope"])
                .unwrap_err()
                .contains("unknown target 'nope'")
        );
        assert!(parsed(&["--seconds"]).is_err());
        assert!(parsed(&["--seconds", "0"]).is_err());
        assert!(parsed(&["--seconds", "x"]).is_err());
        assert!(parsed(&["--fast"]).unwrap_err().contains("unknown option"));
    }

    #[test]
    fn every_target_has_a_source_file_and_committed_seeds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let manifest = fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        for t in TARGETS {
            assert!(
                root.join(format!("fuzz/fuzz_targets/{}.rs", t.name))
                    .is_file(),
                "{}",
                t.name
            );
            assert!(
                manifest.contains(&format!("name = \"{}\"", t.name)),
                "{}",
                t.name
            );
            let seeds = fs::read_dir(root.join("fuzz/seeds").join(t.name)).unwrap();
            assert!(seeds.count() > 0, "{} has no seeds", t.name);
            if let Some(dict) = t.dict {
                assert!(root.join("fuzz/dict").join(dict).is_file(), "{dict}");
            }
        }
    }

    #[test]
    fn libfuzzer_lines_give_the_figures() {
        let mut f = Figures::default();
        for line in [
            "INFO: Seed: 1234",
            "#2\tINITED cov: 1200 ft: 3400 corp: 57/12Kb exec/s: 0 rss: 40Mb",
            "#4096\tpulse  cov: 1210 ft: 3500 corp: 60/13Kb lim: 400 exec/s: 2048 rss: 41Mb",
            "#9000\tNEW    cov: 1250 ft: 3601 corp: 61/13Kb lim: 400 exec/s: 3000 rss: 42Mb L: 12/300 MS: 1 ChangeByte-",
            "#91234\tDONE   cov: 1251 ft: 3650 corp: 75/15Kb lim: 900 exec/s: 3040 rss: 43Mb",
            "Done 91234 runs in 31 second(s)",
            "stat::number_of_executed_units: 91234",
            "stat::average_exec_per_sec:     2943",
            "stat::new_units_added:          18",
            "stat::slowest_unit_time_sec:    0",
            "stat::peak_rss_mb:              43",
        ] {
            f.add_line(line);
        }
        assert_eq!(
            f,
            Figures {
                runs: 91234,
                execs_per_s: 2943,
                cov: 1251,
                ft: 3650,
                corpus: 75,
                start_cov: Some(1200),
                start_ft: Some(3400),
                start_corpus: Some(57),
                new_units: Some(18),
                peak_rss_mb: Some(43),
            }
        );
        assert_eq!(
            f.summary(),
            "91234 runs (2943/s), corpus 75 (from 57), cov 1251 edges, ft 3650 features \
             (seeds alone: cov 1200, ft 3400), peak RSS 43 MB"
        );
    }
}
