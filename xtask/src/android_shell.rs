//! The Android shell on the JVM: no Android SDK, no Gradle.
//!
//! `cargo xtask android-test`:
//!  1. fetches, once (a stamp holds the hash of `android-app/jvm-test/pom.xml`), the jars from
//!     Maven Central into `build/android-jvm/` (never into git): Robolectric 4.16.1 and its
//!     dependencies without androidx.test, JUnit 4, JNA, the android-all jar (the API 35
//!     framework, the compile classpath) and its instrumented twin (Robolectric's SDK,
//!     found offline through `robolectric.dependency.dir`);
//!  2. builds the host cdylib and the `finlock` server, and generates the Kotlin bindings into
//!     `target/android-jvm` (`RealCoreTest` runs the shell over that library and a real
//!     `finlock serve` on loopback);
//!  3. merges the debug manifest into the main one, as Gradle's debug variant does, and
//!     compiles the resources with Debian's aapt2 (`-I` the API 29 framework-res.apk of the
//!     `android-framework-res` package: its aapt2 cannot read the API 35 resource table)
//!     into `resources.apk` and `R.java`;
//!  4. compiles `R.java` (javac), then main + bindings alone (what a release build has: main
//!     code that needs `src/debug` fails here), then debug against them, then the tests
//!     (kotlinc);
//!  5. runs the tests with JUnit 4 under Robolectric (sdk 35, JDK 17, offline) and closes
//!     with `android: N passed, N failed` and a libtest-style `test result:` line.
//!
//! `cargo xtask android-screens` runs `LockScreenshots` with native graphics: PNGs of the lock
//! screen per reason and language, of enrollment, of the account screen, and of the escalation
//! levels (the notice page as it opens and scrolled whole, and the restricted home) per
//! language, in `target/android-screens/`.
//!
//! Needs: JDK 17, Maven (`mvn`), Debian's `aapt` and `android-framework-res`, kotlinc from
//! the npm package `kotlin-compiler` under `build/kotlin` (installed here when missing).

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::tools::{KOTLIN_VERSION, Paths, Result, run};

const ROBOLECTRIC_SDK: &str = "15-robolectric-13954326";
const FRAMEWORK_RES: &str = "/usr/share/android-framework-res/framework-res.apk";
const APP: &str = "android-app";
const PACKAGE: &str = "org.finlock.app";
const MIN_SDK: &str = "28";
const TARGET_SDK: &str = "35";
const SCREENSHOT_CLASS: &str = "org.finlock.app.LockScreenshots";
/// A real `finlock serve` on loopback and its lender API, shared with `cargo xtask jvm`.
const BRIDGE_TEST_SUPPORT: &str = "rust-core/ffi/kotlin-tests/Support.kt";

impl Paths {
    /// Downloads (kept across `cargo clean`).
    fn cache(&self) -> PathBuf {
        self.root.join("build/android-jvm")
    }
    fn out(&self) -> PathBuf {
        self.target.join("android-jvm")
    }
    fn sdk_jar(&self) -> PathBuf {
        self.cache()
            .join("sdk")
            .join(format!("android-all-{ROBOLECTRIC_SDK}.jar"))
    }
    fn app(&self) -> PathBuf {
        self.root.join(APP)
    }
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    passed: u64,
    failed: u64,
}

/// `cargo xtask android-test`.
pub fn run_tests(root: &Path, cargo: &OsString) -> ExitCode {
    let p = Paths::new(root, cargo);
    let started = Instant::now();
    match build(&p).and_then(|cp| junit(&p, &cp, None)) {
        Ok(counts) => {
            println!(
                "android: {} passed, {} failed",
                counts.passed, counts.failed
            );
            println!(
                "test result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s",
                if counts.failed == 0 { "ok" } else { "FAILED" },
                counts.passed,
                counts.failed,
                started.elapsed().as_secs_f64()
            );
            if counts.failed == 0 && counts.passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(why) => {
            eprintln!("android: {why}");
            println!("android: 0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask android-screens`.
pub fn run_screens(root: &Path, cargo: &OsString) -> ExitCode {
    let p = Paths::new(root, cargo);
    let dir = p.target.join("android-screens");
    let result = build(&p).and_then(|cp| {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        junit(&p, &cp, Some(&dir))
    });
    match result {
        Ok(counts) if counts.failed == 0 => {
            let mut names: Vec<_> = fs::read_dir(&dir)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                .unwrap_or_default();
            names.sort();
            for name in &names {
                println!("android-screens: {}", name.display());
            }
            println!("android-screens: {} PNG files", names.len());
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::FAILURE,
        Err(why) => {
            eprintln!("android-screens: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Everything up to runnable test classes; returns the run-time classpath.
fn build(p: &Paths) -> Result<Vec<PathBuf>> {
    require_tools(p)?;
    fetch(p)?;
    let lib_dir = p.build_bridge_for_tests()?;
    let out = p.out();
    let bindings = out.join("bindings");
    p.generate_bindings(&lib_dir, &lib_dir.join("uniffi-bindgen"), &bindings)?;

    // Resources: aapt2 compile + link, with the debug manifest, the package and the SDK levels
    // Gradle would merge in.
    let read =
        |path: &str| fs::read_to_string(p.app().join(path)).map_err(|e| format!("{path}: {e}"));
    let manifest = merge_debug_manifest(
        &read("src/main/AndroidManifest.xml")?,
        &read("src/debug/AndroidManifest.xml")?,
    )?;
    let open = "<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">";
    if !manifest.contains(open) {
        return Err("AndroidManifest.xml: unexpected <manifest> line".into());
    }
    let merged = manifest.replacen(
        open,
        &format!(
            "<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" package=\"{PACKAGE}\">\n    <uses-sdk android:minSdkVersion=\"{MIN_SDK}\" android:targetSdkVersion=\"{TARGET_SDK}\" />"
        ),
        1,
    );
    let merged_path = out.join("AndroidManifest.xml");
    write(&merged_path, merged.as_bytes())?;
    let res_zip = out.join("res.zip");
    let gen_dir = out.join("gen");
    let apk = out.join("resources.apk");
    let _ = fs::remove_dir_all(&gen_dir);
    run(Command::new("aapt2")
        .args(["compile", "--dir"])
        .arg(p.app().join("src/main/res"))
        .arg("-o")
        .arg(&res_zip))?;
    run(Command::new("aapt2")
        .arg("link")
        // Debian's aapt2 (2.19) predates <queries> (API 30), which the app declares to see the
        // UnifiedPush distributors (ADR 0014); Gradle's aapt2 knows it. Warn, do not fail.
        .arg("--warn-manifest-validation")
        .arg("-o")
        .arg(&apk)
        .arg("-I")
        .arg(FRAMEWORK_RES)
        .arg("--manifest")
        .arg(&merged_path)
        .arg(&res_zip)
        .arg("--java")
        .arg(&gen_dir))?;

    let sdk = p.sdk_jar();
    let libs = jars(&p.cache().join("lib"))?;
    let kotlin_lib = p.kotlin_home().join("lib");
    let stdlib = kotlin_lib.join("kotlin-stdlib.jar");
    let coroutines = kotlin_lib.join("kotlinx-coroutines-core-jvm.jar");

    let r_classes = out.join("r-classes");
    let _ = fs::remove_dir_all(&r_classes);
    let mut r_sources = Vec::new();
    files(&gen_dir, "java", &mut r_sources)?;
    run(Command::new("javac")
        .arg("-nowarn")
        .arg("--release")
        .arg("17")
        .arg("-cp")
        .arg(&sdk)
        .arg("-d")
        .arg(&r_classes)
        .args(&r_sources))?;

    let mut main_sources = Vec::new();
    files(&p.app().join("src/main/kotlin"), "kt", &mut main_sources)?;
    files(&bindings, "kt", &mut main_sources)?;
    let mut compile_cp = vec![sdk.clone(), r_classes.clone(), coroutines.clone()];
    compile_cp.extend(libs.iter().filter(|j| is_jar(j, "jna-")).cloned());
    // Main alone, as a release build compiles it: nothing in main may need src/debug.
    let main_classes = kotlinc(p, "main", &main_sources, &compile_cp, None)?;
    let mut debug_sources = Vec::new();
    files(&p.app().join("src/debug/kotlin"), "kt", &mut debug_sources)?;
    let mut debug_cp = compile_cp.clone();
    debug_cp.push(main_classes.clone());
    // One module with main in Gradle's debug variant: main's `internal` is visible.
    let debug_classes = kotlinc(p, "debug", &debug_sources, &debug_cp, Some(&main_classes))?;

    let mut test_sources = Vec::new();
    files(&p.app().join("src/test/kotlin"), "kt", &mut test_sources)?;
    // `RealCoreTest` starts its `finlock serve` with the bridge tests' own support code.
    test_sources.push(p.root.join(BRIDGE_TEST_SUPPORT));
    let mut test_cp = vec![
        sdk,
        r_classes.clone(),
        main_classes.clone(),
        debug_classes.clone(),
        coroutines.clone(),
    ];
    test_cp.extend(libs.iter().cloned());
    let test_classes = kotlinc(p, "test", &test_sources, &test_cp, None)?;

    // What Robolectric reads to find the app's resources and manifest.
    let config_dir = out.join("test-config");
    write(
        &config_dir.join("com/android/tools/test_config.properties"),
        format!(
            "android_resource_apk={}\nandroid_merged_manifest={}\nandroid_custom_package={PACKAGE}\n",
            apk.display(),
            merged_path.display()
        )
        .as_bytes(),
    )?;

    let mut cp = vec![
        test_classes,
        p.app().join("src/test/resources"),
        config_dir,
        main_classes,
        debug_classes,
        r_classes,
        stdlib,
        coroutines,
    ];
    cp.extend(libs);
    // Last, as AGP puts android.jar on a unit test's classpath: JUnit reflects over the test
    // classes outside the sandbox (Robolectric loads its instrumented SDK inside it).
    cp.push(p.sdk_jar());
    Ok(cp)
}

/// Runs the test classes (or, with `screens`, only the screenshot class) with JUnit 4.
fn junit(p: &Paths, cp: &[PathBuf], screens: Option<&Path>) -> Result<Counts> {
    let classes = match screens {
        Some(_) => vec![SCREENSHOT_CLASS.to_string()],
        None => {
            let mut found = Vec::new();
            files(&cp[0], "class", &mut found)?;
            let mut names: Vec<String> = found
                .iter()
                .filter_map(|f| f.strip_prefix(&cp[0]).ok())
                .map(|f| {
                    f.to_string_lossy()
                        .trim_end_matches(".class")
                        .replace('/', ".")
                })
                .filter(|n| n.ends_with("Test") && !n.contains('$'))
                .collect();
            names.sort();
            names
        }
    };
    let mut java = Command::new("java");
    for module in [
        "java.base/java.lang",
        "java.base/java.lang.reflect",
        "java.base/java.io",
        "java.base/java.net",
        "java.base/java.nio",
        "java.base/java.security",
        "java.base/java.text",
        "java.base/java.util",
        "java.base/java.util.concurrent",
        "java.base/jdk.internal.access",
        "java.desktop/java.awt.font",
    ] {
        java.arg(format!("--add-opens={module}=ALL-UNNAMED"));
    }
    java.arg("-Xmx3g")
        .arg("-Drobolectric.offline=true")
        .arg(format!(
            "-Drobolectric.dependency.dir={}",
            p.cache().join("sdk").display()
        ))
        .arg(format!(
            "-Djna.library.path={}",
            p.target.join("debug").display()
        ))
        .arg(format!(
            "-Dfinlock.bin={}",
            p.target.join("debug").join("finlock").display()
        ))
        .arg("-Drobolectric.logging.enabled=false");
    if let Some(dir) = screens {
        java.arg("-Drobolectric.graphicsMode=NATIVE")
            .arg(format!("-Dfinlock.screens.dir={}", dir.display()));
    }
    java.arg("-cp")
        .arg(env::join_paths(cp).map_err(|e| e.to_string())?)
        .arg("org.junit.runner.JUnitCore")
        .args(&classes)
        .current_dir(&p.root)
        .stdout(Stdio::piped());
    println!(
        "android: running {} test classes (JUnit 4, Robolectric)",
        classes.len()
    );
    let mut child = java
        .spawn()
        .map_err(|e| format!("could not start java: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut counts = Counts::default();
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let _ = writeln!(out, "{line}");
        read_summary(&mut counts, &line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() && counts.failed == 0 {
        return Err(format!("JUnit failed without a failed test ({status})"));
    }
    Ok(counts)
}

/// JUnitCore's last line: `OK (12 tests)` or `Tests run: 12,  Failures: 2`.
fn read_summary(counts: &mut Counts, line: &str) {
    let number = |s: &str| s.trim().trim_end_matches(',').parse::<u64>().ok();
    if let Some(rest) = line.strip_prefix("OK (") {
        if let Some(n) = rest.split_whitespace().next().and_then(number) {
            counts.passed = n;
            counts.failed = 0;
        }
    } else if let Some(rest) = line.strip_prefix("Tests run: ") {
        let mut parts = rest.split("Failures:");
        let run = parts.next().and_then(number);
        let failed = parts.next().and_then(number);
        if let (Some(run), Some(failed)) = (run, failed) {
            counts.passed = run.saturating_sub(failed);
            counts.failed = failed;
        }
    }
}

/// The debug variant's manifest as Gradle merges it: the `<application>` children of
/// `src/debug/AndroidManifest.xml` added to main's, `${applicationId}` filled in.
fn merge_debug_manifest(main: &str, debug: &str) -> Result<String> {
    let components = debug
        .split_once("<application>")
        .and_then(|(_, rest)| rest.split_once("</application>"))
        .map(|(inner, _)| inner.trim_start_matches('\n').trim_end())
        .ok_or("src/debug/AndroidManifest.xml: no <application> element")?;
    let end = main
        .rfind("    </application>")
        .ok_or("src/main/AndroidManifest.xml: no </application> line")?;
    let merged = format!(
        "{}        <!-- src/debug/AndroidManifest.xml -->\n{components}\n{}",
        &main[..end],
        &main[end..]
    );
    Ok(merged.replace("${applicationId}", PACKAGE))
}

/// Compiles `sources` into `target/android-jvm/NAME-classes`, unless a stamp says nothing
/// changed since the last compile. `friend`: classes whose `internal` declarations the
/// sources may use (the same Gradle module).
fn kotlinc(
    p: &Paths,
    name: &str,
    sources: &[PathBuf],
    cp: &[PathBuf],
    friend: Option<&Path>,
) -> Result<PathBuf> {
    let classes = p.out().join(format!("{name}-classes"));
    let stamp = p.out().join(format!("{name}-classes.stamp"));
    let mut hasher = DefaultHasher::new();
    hasher.write(KOTLIN_VERSION.as_bytes());
    let mut sorted = sources.to_vec();
    sorted.sort();
    for path in sorted.iter().chain(cp.iter().filter(|c| c.is_file())) {
        hasher.write(path.to_string_lossy().as_bytes());
        hasher.write(&fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    // Directories on the classpath (R, main classes) change with their own inputs.
    for dir in cp.iter().filter(|c| c.is_dir()) {
        let mut inner = Vec::new();
        files(dir, "class", &mut inner)?;
        inner.sort();
        for f in inner {
            hasher.write(&fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?);
        }
    }
    let hash = format!("{:016x}", hasher.finish());
    if fs::read_to_string(&stamp).ok().as_deref() == Some(hash.as_str()) && classes.is_dir() {
        println!("android: {name} sources unchanged; kotlinc skipped");
        return Ok(classes);
    }
    let _ = fs::remove_dir_all(&classes);
    let _ = fs::remove_file(&stamp);
    println!("android: kotlinc {name} ({} files)", sorted.len());
    let started = Instant::now();
    let mut kotlinc = Command::new(p.kotlin_home().join("bin/kotlinc-jvm"));
    if let Some(friend) = friend {
        kotlinc.arg(format!("-Xfriend-paths={}", friend.display()));
    }
    run(kotlinc
        .arg("-d")
        .arg(&classes)
        .args(["-jvm-target", "17", "-nowarn", "-no-reflect"])
        // android-all carries android.annotation.Nullable, which the public SDK jar turns into
        // "recently nullable" warnings: treat them the same way here.
        .arg("-Xnullability-annotations=@android.annotation:warn")
        .arg("-cp")
        .arg(env::join_paths(cp).map_err(|e| e.to_string())?)
        .args(&sorted)
        .current_dir(&p.root))?;
    println!(
        "android: kotlinc {name} took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    write(&stamp, hash.as_bytes())?;
    Ok(classes)
}

/// Downloads the jars once per version of the pom.
fn fetch(p: &Paths) -> Result<()> {
    let pom = p.app().join("jvm-test/pom.xml");
    let text = fs::read(&pom).map_err(|e| format!("{}: {e}", pom.display()))?;
    let mut hasher = DefaultHasher::new();
    hasher.write(&text);
    hasher.write(ROBOLECTRIC_SDK.as_bytes());
    let hash = format!("{:016x}", hasher.finish());
    let stamp = p.cache().join("fetched.stamp");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(hash.as_str()) {
        return Ok(());
    }
    println!("android: fetching Robolectric, JUnit 4, JNA and android-all from Maven Central");
    let repo = format!("-Dmaven.repo.local={}", p.cache().join("m2").display());
    let lib = p.cache().join("lib");
    let _ = fs::remove_dir_all(&lib);
    run(Command::new("mvn")
        .args(["-B", "-q", &repo, "dependency:copy-dependencies"])
        .arg("-DincludeScope=runtime")
        .arg(format!("-DoutputDirectory={}", lib.display()))
        .current_dir(p.app().join("jvm-test")))?;
    for artifact in [
        format!("org.robolectric:android-all:{ROBOLECTRIC_SDK}"),
        format!("org.robolectric:android-all-instrumented:{ROBOLECTRIC_SDK}-i7"),
    ] {
        run(Command::new("mvn")
            .args(["-B", "-q", &repo, "dependency:copy"])
            .arg(format!("-Dartifact={artifact}"))
            .arg(format!(
                "-DoutputDirectory={}",
                p.cache().join("sdk").display()
            ))
            .current_dir(p.app().join("jvm-test")))?;
    }
    // The jars are copied out of Maven's local repository: drop it, half a gigabyte of disk.
    let _ = fs::remove_dir_all(p.cache().join("m2"));
    write(&stamp, hash.as_bytes())
}

fn require_tools(p: &Paths) -> Result<()> {
    for (tool, arg, install) in [
        ("java", "-version", "openjdk-17-jdk-headless"),
        ("javac", "-version", "openjdk-17-jdk-headless"),
        ("mvn", "-v", "maven"),
        ("aapt2", "version", "aapt"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!("no `{tool}` on PATH (apt-get install {install})"));
        }
    }
    if !Path::new(FRAMEWORK_RES).is_file() {
        return Err(format!(
            "{FRAMEWORK_RES} is missing (apt-get install android-framework-res)"
        ));
    }
    p.ensure_kotlinc("android")?;
    Ok(())
}

fn jars(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    files(dir, "jar", &mut out)?;
    out.sort();
    Ok(out)
}

fn is_jar(path: &Path, prefix: &str) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            files(&path, ext, out)?;
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The hidden commands `cargo xtask android-test` and `android-screens` run in a child xtask
/// (the same pattern as `jvm`).
pub const INTERNAL_TESTS: &str = "__android-test";
pub const INTERNAL_SCREENS: &str = "__android-screens";

/// The step of `cargo xtask android-test` and of `cargo xtask test`.
pub(crate) fn test_step() -> crate::steps::Step {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    let mut step = crate::steps::Step::new("android", exe, [INTERNAL_TESTS]);
    step.counts_tests = true;
    step
}

pub(crate) fn test_steps(_cx: &crate::Context, _extra: Vec<OsString>) -> Vec<crate::steps::Step> {
    vec![test_step()]
}

pub(crate) fn screens_steps(
    _cx: &crate::Context,
    _extra: Vec<OsString>,
) -> Vec<crate::steps::Step> {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    vec![crate::steps::Step::new(
        "android-screens",
        exe,
        [INTERNAL_SCREENS],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_manifest_adds_its_components_to_main_application() {
        let main = "<manifest>\n    <application\n        android:name=\".App\">\n        <activity android:name=\".Main\" />\n    </application>\n</manifest>\n";
        let debug = "<manifest>\n    <application>\n        <provider\n            android:name=\".Setup\"\n            android:authorities=\"${applicationId}.setup\" />\n    </application>\n</manifest>\n";
        let merged = merge_debug_manifest(main, debug).unwrap();
        assert_eq!(
            merged,
            "<manifest>\n    <application\n        android:name=\".App\">\n        <activity android:name=\".Main\" />\n        <!-- src/debug/AndroidManifest.xml -->\n        <provider\n            android:name=\".Setup\"\n            android:authorities=\"org.finlock.app.setup\" />\n    </application>\n</manifest>\n"
        );
        assert!(merge_debug_manifest(main, "<manifest />").is_err());
    }

    #[test]
    fn junit4_summaries_are_read() {
        let mut counts = Counts::default();
        read_summary(&mut counts, "OK (27 tests)");
        assert_eq!(
            counts,
            Counts {
                passed: 27,
                failed: 0
            }
        );
        read_summary(&mut counts, "Tests run: 27,  Failures: 2");
        assert_eq!(
            counts,
            Counts {
                passed: 25,
                failed: 2
            }
        );
    }
}
