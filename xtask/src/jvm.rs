//! The bridge on a real JVM: Kotlin tests against the real native library.
//!
//! `cargo xtask jvm` (and the `jvm` step of `cargo xtask test`, which runs it):
//!  1. builds the host cdylib with its test hooks, the `finlock` server and `uniffi-bindgen`;
//!  2. generates the Kotlin bindings from the built library into `target/jvm/bindings`;
//!  3. compiles bindings + `rust-core/ffi/kotlin-tests/*.kt` with kotlinc in one call, unless
//!     a stamp says those sources did not change since the last compile;
//!  4. runs them with JUnit 5's console launcher (JNA finds the library through
//!     `-Djna.library.path`; the tests start `finlock serve` on loopback);
//!  5. closes with `jvm: N passed, N failed`, read from the launcher's summary, and a libtest-
//!     style `test result:` line so `cargo xtask test`'s own tally counts these tests too;
//!  6. fails when JUnit found fewer tests than the sources declare `@Test`s: JUnit skips a
//!     test function that does not return Unit (a `= runBlocking { … }` body ending in an
//!     expression) without a word, and such a test would otherwise never run unnoticed.
//!
//! `cargo xtask bench-bridge` builds the release library, prints its stripped size, and runs
//! the Kotlin `BridgeBench` against it: the cost of one call through the bridge, each call
//! timed on its own after a JIT warm-up, as median, p90 and p99.
//!
//! Needs: JDK 17+, Debian's `junit5` and `libjna-java`, and kotlinc from the npm package
//! `kotlin-compiler` installed under `build/kotlin` (installed here if npm is available).

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::hash::Hasher;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::tools::{KOTLIN_VERSION, Paths, Result, run};

const JAVA_DIR: &str = "/usr/share/java";
const TESTS_DIR: &str = "rust-core/ffi/kotlin-tests";
const BENCH_MAIN: &str = "org.finlock.core.bridgetest.BridgeBenchKt";

impl Paths {
    fn jvm(&self) -> PathBuf {
        self.target.join("jvm")
    }

    fn kotlin_lib(&self, jar: &str) -> PathBuf {
        self.kotlin_home().join("lib").join(jar)
    }
}

/// `cargo xtask jvm`: the Kotlin tests. Exit code 0 only when every test passed.
pub fn run_tests(root: &Path, cargo: &OsString) -> ExitCode {
    let paths = Paths::new(root, cargo);
    match tests(&paths) {
        Ok(counts) if counts.failed == 0 && counts.passed > 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(why) => {
            eprintln!("jvm: {why}");
            println!("jvm: 0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask bench-bridge`: the release library's size and the cost of a call.
pub fn run_bench(root: &Path, cargo: &OsString) -> ExitCode {
    let paths = Paths::new(root, cargo);
    match bench(&paths) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("bench-bridge: {why}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    found: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
}

fn tests(p: &Paths) -> Result<Counts> {
    let started = Instant::now();
    require_tools(p)?;
    let (lib_dir, classes) = build_and_compile(p)?;

    let mut cp = vec![classes];
    cp.extend(runtime_jars(p));
    let mut java = Command::new("java");
    java.arg(format!("-Djna.library.path={}", lib_dir.display()))
        .arg(format!(
            "-Dfinlock.bin={}",
            lib_dir.join("finlock").display()
        ))
        .arg("-jar")
        .arg(Path::new(JAVA_DIR).join("junit-platform-console-standalone.jar"))
        // The panic tests' panics are expected: no backtraces in the log.
        .env("RUST_BACKTRACE", "0")
        .arg("--disable-banner")
        .arg("--disable-ansi-colors")
        .arg("--details=tree")
        .arg("--fail-if-no-tests")
        .arg("--class-path")
        .arg(join_paths(&cp)?)
        .arg("--scan-class-path")
        .arg(&cp[0])
        .current_dir(&p.root);
    println!("jvm: running the Kotlin tests (JUnit 5)");
    let (status, mut counts) = run_junit(&mut java)?;
    let declared = declared_tests(&p.root.join(TESTS_DIR))?;
    if counts.found < declared {
        // Counted as failures, so every tally downstream shows them.
        eprintln!(
            "jvm: the sources declare {declared} @Test functions but JUnit found {}: a test \
             function that does not return Unit is skipped silently (declare `: Unit`)",
            counts.found
        );
        counts.failed += declared - counts.found;
    }
    println!(
        "jvm: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    );
    // The same counts as libtest prints them, for `cargo xtask test`'s closing tally.
    println!(
        "test result: {}. {} passed; {} failed; {} ignored; 0 measured; 0 filtered out; finished in {:.2}s",
        if counts.failed == 0 { "ok" } else { "FAILED" },
        counts.passed,
        counts.failed,
        counts.skipped,
        started.elapsed().as_secs_f64()
    );
    if !status && counts.failed == 0 {
        return Err("the JUnit launcher failed without a failed test (see above)".into());
    }
    Ok(counts)
}

fn bench(p: &Paths) -> Result<()> {
    require_tools(p)?;
    // What ships: no test hooks, built with the `mobile` profile the app uses (size first).
    p.cargo(&[
        "build",
        "--locked",
        "--profile",
        "mobile",
        "-p",
        "finlock-ffi",
    ])?;
    let release = p.target.join("release");
    let shipped = p.jvm().join("shipped");
    fs::create_dir_all(&shipped).map_err(|e| format!("{}: {e}", shipped.display()))?;
    let stripped = shipped.join("libfinlock_ffi.so");
    fs::copy(p.target.join("mobile").join("libfinlock_ffi.so"), &stripped)
        .map_err(|e| format!("copying the mobile library: {e}"))?;
    run(Command::new("strip").arg("--strip-all").arg(&stripped))?;
    let size = fs::metadata(&stripped)
        .map_err(|e| format!("{}: {e}", stripped.display()))?
        .len();
    println!(
        "bench-bridge: stripped libfinlock_ffi.so, profile mobile (x86_64 Linux): {} bytes = {:.2} MiB (target < 4 MiB)",
        size,
        size as f64 / (1024.0 * 1024.0)
    );

    // The timing runs against the release library with the hooks the test bindings expect.
    p.cargo(&[
        "build",
        "--locked",
        "--release",
        "-p",
        "finlock-ffi",
        "--features",
        "finlock-ffi/test-hooks",
    ])?;
    // The release profile strips symbols, UniFFI's metadata with them: the bindings come
    // from the debug library with the same features (same API, same checksums).
    let (debug, classes) = build_and_compile(p)?;
    let mut cp = vec![classes];
    cp.extend(runtime_jars(p));
    run(Command::new("java")
        .arg(format!("-Djna.library.path={}", release.display()))
        .arg(format!("-Dfinlock.bin={}", debug.join("finlock").display()))
        .arg("-cp")
        .arg(join_paths(&cp)?)
        .arg(BENCH_MAIN)
        .current_dir(&p.root))
}

/// Builds the debug library with its test hooks, the `finlock` server and the bindgen, then
/// compiles bindings and tests; returns the debug directory and the classes directory.
fn build_and_compile(p: &Paths) -> Result<(PathBuf, PathBuf)> {
    let debug = p.build_bridge_for_tests()?;
    let classes = compile(p, &debug, &debug.join("uniffi-bindgen"))?;
    Ok((debug, classes))
}

/// Generates the bindings from the library in `lib_dir` and compiles them with the tests;
/// returns the classes directory. Skips kotlinc when its inputs are unchanged.
fn compile(p: &Paths, lib_dir: &Path, bindgen: &Path) -> Result<PathBuf> {
    let bindings = p.jvm().join("bindings");
    p.generate_bindings(lib_dir, bindgen, &bindings)?;

    let mut sources = kotlin_files(&bindings)?;
    sources.extend(kotlin_files(&p.root.join(TESTS_DIR))?);
    sources.sort();
    let compile_cp = [
        p.kotlin_lib("kotlinx-coroutines-core-jvm.jar"),
        Path::new(JAVA_DIR).join("jna.jar"),
        Path::new(JAVA_DIR).join("junit-jupiter-api.jar"),
        Path::new(JAVA_DIR).join("apiguardian-api.jar"),
        Path::new(JAVA_DIR).join("opentest4j.jar"),
    ];

    let classes = p.jvm().join("classes");
    let stamp = p.jvm().join("classes.stamp");
    let mut hasher = DefaultHasher::new();
    hasher.write(KOTLIN_VERSION.as_bytes());
    for path in sources.iter().chain(&compile_cp) {
        hasher.write(path.to_string_lossy().as_bytes());
        hasher.write(&fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let hash = format!("{:016x}", hasher.finish());
    if fs::read_to_string(&stamp).ok().as_deref() == Some(hash.as_str()) && classes.is_dir() {
        println!(
            "jvm: Kotlin sources unchanged since the last compile (stamp {hash}); kotlinc skipped"
        );
        return Ok(classes);
    }

    let _ = fs::remove_dir_all(&classes);
    let _ = fs::remove_file(&stamp);
    println!("jvm: kotlinc {} source files", sources.len());
    let started = Instant::now();
    run(Command::new(p.kotlin_home().join("bin/kotlinc-jvm"))
        .arg("-d")
        .arg(&classes)
        .arg("-jvm-target")
        .arg("17")
        .arg("-nowarn")
        .arg("-cp")
        .arg(join_paths(&compile_cp)?)
        .args(&sources)
        .current_dir(&p.root))?;
    println!("jvm: kotlinc took {:.1}s", started.elapsed().as_secs_f64());
    fs::write(&stamp, &hash).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(classes)
}

fn runtime_jars(p: &Paths) -> Vec<PathBuf> {
    vec![
        p.kotlin_lib("kotlin-stdlib.jar"),
        p.kotlin_lib("kotlinx-coroutines-core-jvm.jar"),
        Path::new(JAVA_DIR).join("jna.jar"),
    ]
}

/// Fails with what to install when a tool is missing; installs kotlinc (project-local,
/// from npm) when it is the only thing missing.
fn require_tools(p: &Paths) -> Result<()> {
    if Command::new("java")
        .arg("-version")
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        return Err(
            "no `java` on PATH (JDK 17+ is needed: apt-get install openjdk-17-jdk-headless)".into(),
        );
    }
    for jar in [
        "junit-platform-console-standalone.jar",
        "junit-jupiter-api.jar",
        "jna.jar",
    ] {
        if !Path::new(JAVA_DIR).join(jar).is_file() {
            return Err(format!(
                "{JAVA_DIR}/{jar} is missing: apt-get install junit5 libjna-java"
            ));
        }
    }
    p.ensure_kotlinc("jvm")?;
    Ok(())
}

fn kotlin_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            out.extend(kotlin_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "kt") {
            out.push(path);
        }
    }
    Ok(out)
}

/// How many `@Test` functions the Kotlin sources under `dir` declare.
fn declared_tests(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for path in kotlin_files(dir)? {
        let source = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        n += count_test_annotations(&source);
    }
    Ok(n)
}

/// Lines that are exactly the `@Test` annotation (not `@TestFactory`, not in a comment).
fn count_test_annotations(source: &str) -> u64 {
    source.lines().filter(|l| l.trim() == "@Test").count() as u64
}

fn join_paths(paths: &[PathBuf]) -> Result<OsString> {
    env::join_paths(paths).map_err(|e| e.to_string())
}

/// Runs the launcher with its output passed through, and reads its summary box.
fn run_junit(command: &mut Command) -> Result<(bool, Counts)> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start java: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut counts = Counts::default();
    let mut out = io::stdout();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let _ = writeln!(out, "{line}");
        add_summary_line(&mut counts, &line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), counts))
}

/// Reads a line of the launcher's summary, e.g. `[        17 tests successful      ]`.
/// Aborted tests (a failed assumption) count as skipped, containers are ignored.
fn add_summary_line(counts: &mut Counts, line: &str) {
    let Some(inner) = line
        .trim()
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
    else {
        return;
    };
    let mut words = inner.split_whitespace();
    let (Some(number), Some("tests"), Some(what)) = (words.next(), words.next(), words.next())
    else {
        return;
    };
    let Ok(number) = number.parse::<u64>() else {
        return;
    };
    match what {
        "found" => counts.found += number,
        "successful" => counts.passed += number,
        "failed" => counts.failed += number,
        "skipped" | "aborted" => counts.skipped += number,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_summary_is_read() {
        let mut counts = Counts::default();
        for line in [
            "[         4 containers found      ]",
            "[        17 tests found           ]",
            "[         1 tests skipped         ]",
            "[        15 tests successful      ]",
            "[         1 tests failed          ]",
            "[         0 tests aborted         ]",
            "│  ✔ `a Rust panic is a FinlockException, not a crash`()",
        ] {
            add_summary_line(&mut counts, line);
        }
        assert_eq!(
            counts,
            Counts {
                found: 17,
                passed: 15,
                failed: 1,
                skipped: 1
            }
        );
    }

    #[test]
    fn only_test_annotations_count_as_declared_tests() {
        let source = "class T {\n    @Test\n    fun a() {}\n    @TestFactory\n    fun b() = listOf()\n    // @Test is an annotation\n  @Test\n    fun c(): Unit = runBlocking { 1 }\n}\n";
        assert_eq!(count_test_annotations(source), 2);
    }
}
