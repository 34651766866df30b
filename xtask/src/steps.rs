//! A step is one external command (with a name for the summary); `run_steps` runs a list of
//! them in order, announces and times each one, stops at the first failure and prints a
//! summary table, closing with the number of tests that passed and failed.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One command of a task, e.g. `cargo clippy ...`.
pub struct Step {
    /// Short name shown in headers and in the summary table ("fmt", "clippy", ...).
    pub name: &'static str,
    /// The program to run (usually the same cargo that started xtask).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables for this step only.
    pub envs: Vec<(OsString, OsString)>,
    /// `Some(reason)` lists the step as skipped instead of running it, e.g. a PostgreSQL
    /// step when `FINLOCK_TEST_POSTGRES_URL` is not set. A skipped step is not a failure.
    pub skip: Option<String>,
    /// Whether the step prints libtest's `test result: ...` lines (`cargo test`), to be added
    /// up into the closing `tests: N passed, N failed, N skipped` line.
    pub counts_tests: bool,
}

impl Step {
    /// A step that runs `program args...` in the workspace root.
    pub fn new<I, S>(name: &'static str, program: impl Into<OsString>, args: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Step {
            name,
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            envs: Vec::new(),
            skip: None,
            counts_tests: false,
        }
    }

    /// The command line as a person would type it, for the header line.
    fn command_line(&self) -> String {
        let mut line = String::new();
        for (key, value) in &self.envs {
            let _ = write!(
                line,
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            );
        }
        // Show `cargo`, not the full path of the toolchain's cargo binary.
        let program = Path::new(&self.program)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.to_string_lossy().into_owned());
        line.push_str(&program);
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                let _ = write!(line, " '{arg}'");
            } else {
                let _ = write!(line, " {arg}");
            }
        }
        line
    }
}

/// What happened to a step.
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
    NotRun,
}

/// Runs `steps` in `root`, in order, stopping at the first failure. Returns the process exit
/// code xtask should end with: 0 when every step passed or was skipped, otherwise the failed
/// step's own exit code (or 1 if it has none).
pub fn run_steps(task: &str, root: &Path, steps: &[Step]) -> i32 {
    let total = steps.len();
    let started = Instant::now();
    let mut results: Vec<(Outcome, Option<Duration>)> = Vec::with_capacity(total);
    let mut exit_code = 0;
    let mut tests: Option<TestCounts> = None;

    for (index, step) in steps.iter().enumerate() {
        let position = format!("[{}/{total}]", index + 1);
        if exit_code != 0 {
            results.push((Outcome::NotRun, None));
            continue;
        }
        if let Some(reason) = &step.skip {
            println!("\n==> {position} {}: skipped ({reason})", step.name);
            results.push((Outcome::Skipped(reason.clone()), None));
            continue;
        }

        println!("\n==> {position} {}: {}", step.name, step.command_line());
        let step_started = Instant::now();
        let mut command = Command::new(&step.program);
        command
            .args(&step.args)
            .envs(step.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(root);
        let status = if step.counts_tests {
            let counts = tests.get_or_insert_with(TestCounts::default);
            run_counting_tests(&mut command, counts)
        } else {
            command.status()
        };
        let elapsed = step_started.elapsed();

        let outcome = match status {
            Ok(status) if status.success() => {
                println!("==> {position} {}: passed in {}", step.name, human(elapsed));
                Outcome::Passed
            }
            Ok(status) => {
                let why = describe_failure(status);
                eprintln!(
                    "==> {position} {}: FAILED ({why}) after {}",
                    step.name,
                    human(elapsed)
                );
                exit_code = exit_code_of(status);
                Outcome::Failed(why)
            }
            Err(error) => {
                let why = format!(
                    "could not start {}: {error}",
                    step.program.to_string_lossy()
                );
                eprintln!("==> {position} {}: FAILED ({why})", step.name);
                exit_code = 1;
                Outcome::Failed(why)
            }
        };
        results.push((outcome, Some(elapsed)));
    }

    print_summary(task, steps, &results, started.elapsed());
    if exit_code != 0 {
        let failed = steps
            .iter()
            .zip(&results)
            .find(|(_, (outcome, _))| matches!(outcome, Outcome::Failed(_)))
            .map(|(step, _)| step.name)
            .unwrap_or("?");
        println!("cargo xtask {task}: FAILED at step '{failed}'");
    } else {
        println!("cargo xtask {task}: all steps passed");
    }
    // Last, so it is the closing line: every test that ran, whichever step ran it.
    if let Some(tests) = tests {
        println!(
            "tests: {} passed, {} failed, {} skipped",
            tests.passed, tests.failed, tests.skipped
        );
    }
    exit_code
}

/// Tests counted from libtest's summary lines.
#[derive(Default, Debug, PartialEq)]
struct TestCounts {
    passed: u64,
    failed: u64,
    /// libtest's "ignored".
    skipped: u64,
}

impl TestCounts {
    /// Adds the counts of a line such as
    /// `test result: ok. 200 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.13s`
    /// and ignores any other line.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        let Some((_verdict, counts)) = rest.split_once(". ") else {
            return;
        };
        for part in counts.split("; ") {
            let mut words = part.split_whitespace();
            let (Some(number), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.skipped += number,
                _ => {}
            }
        }
    }
}

/// Runs `command` with its standard output passed through line by line, counting the tests
/// of every libtest summary line in it. Standard error is left alone.
fn run_counting_tests(command: &mut Command, counts: &mut TestCounts) -> io::Result<ExitStatus> {
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let mut output = child.stdout.take().expect("stdout is piped");
    let mut chunk = [0u8; 8192];
    let mut line = Vec::new();
    let mut stdout = io::stdout();
    loop {
        let read = match output.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        // Pass the bytes on as they come (a test may print half a line); a closed stdout
        // must not stop the tests, so write errors are ignored.
        let _ = stdout.write_all(&chunk[..read]);
        let _ = stdout.flush();
        for &byte in &chunk[..read] {
            if byte == b'\n' {
                counts.add_line(&String::from_utf8_lossy(&line));
                line.clear();
            } else {
                line.push(byte);
            }
        }
    }
    counts.add_line(&String::from_utf8_lossy(&line));
    child.wait()
}

fn print_summary(
    task: &str,
    steps: &[Step],
    results: &[(Outcome, Option<Duration>)],
    total: Duration,
) {
    let name_width = steps
        .iter()
        .map(|step| step.name.len())
        .chain(["total".len()])
        .max()
        .unwrap_or(5);
    println!("\n==> summary of cargo xtask {task}");
    println!(
        "  {:<name_width$}  {:<8}  {:>9}  note",
        "step", "result", "time"
    );
    for (step, (outcome, elapsed)) in steps.iter().zip(results) {
        let (result, note) = match outcome {
            Outcome::Passed => ("passed", String::new()),
            Outcome::Failed(why) => ("FAILED", why.clone()),
            Outcome::Skipped(reason) => ("skipped", reason.clone()),
            Outcome::NotRun => ("not run", "an earlier step failed".to_owned()),
        };
        let time = elapsed.map(human).unwrap_or_else(|| "-".to_owned());
        let line = format!(
            "  {:<name_width$}  {result:<8}  {time:>9}  {note}",
            step.name
        );
        println!("{}", line.trim_end());
    }
    println!("  {:<name_width$}  {:<8}  {:>9}", "total", "", human(total));
}

fn describe_failure(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

fn exit_code_of(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            // What a shell reports for a process killed by a signal.
            return 128 + signal;
        }
    }
    1
}

/// `0.4s`, `12.3s`, `3m05.2s`.
pub fn human(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() as u64;
    if tenths < 600 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        let rest = tenths % 600;
        format!("{}m{:02}.{}s", tenths / 600, rest / 10, rest % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(400)), "0.4s");
        assert_eq!(human(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(human(Duration::from_millis(185_200)), "3m05.2s");
        assert_eq!(human(Duration::from_millis(119_990)), "2m00.0s");
    }

    #[test]
    fn libtest_summary_lines_are_added_up() {
        let mut counts = TestCounts::default();
        for line in [
            "test result: ok. 200 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.13s",
            "test store::tests::x ... ok",
            "test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.04s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "     Running tests/store_crash.rs",
        ] {
            counts.add_line(line);
        }
        assert_eq!(
            counts,
            TestCounts {
                passed: 204,
                failed: 1,
                skipped: 3
            }
        );
    }

    #[test]
    fn command_line_hides_cargo_path_and_quotes_spaces() {
        let step = Step::new("x", "/toolchain/bin/cargo", ["test", "a b"]);
        assert_eq!(step.command_line(), "cargo test 'a b'");
    }
}
