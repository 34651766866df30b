//! `cargo xtask check-android`: what can be checked of the Android build without Gradle.
//!
//! The bridge's `#[cfg(target_os = "android")]` code (JNI_OnLoad, `init(context)`) only
//! compiles for an Android target, which needs the Rust target's standard library and a C
//! compiler for ring's C and assembly (even `cargo check` runs ring's build script).
//!
//! With the NDK's clang (`ANDROID_NDK_HOME`, `CC_aarch64_linux_android` or
//! `aarch64-linux-android<api>-clang` on PATH) that compiler is used. Without it, the host's
//! clang cross-compiles ring's C in ring's own "no libc headers" mode (`-nostdlibinc` with
//! `RING_CORE_NOSTDLIBINC`, the mode ring's build script uses for targets without a libc):
//! ring's C needs only the compiler's freestanding headers. `cargo check` never links, so
//! those objects go nowhere; what is checked is every line of Rust for the Android target.
//!
//! Where neither compiler nor the Rust target is available the type-check is listed as
//! *skipped* with the reason and the task exits with [`SKIPPED`]: it never reports a check
//! it did not do as passed.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Context;
use crate::steps::Step;

pub const TARGET: &str = "aarch64-linux-android";
/// Exit status of `check-android` when the type-check could not run here.
pub const SKIPPED: u8 = 3;

pub fn steps(cx: &Context, _extra: Vec<OsString>) -> Vec<Step> {
    // `cargo tree -i` fails when the name is ambiguous, i.e. when two jni versions would be
    // linked into the .so; it needs no Android toolchain.
    let jni_once = cx.cargo(
        "jni-once",
        [
            "tree",
            "--locked",
            "-p",
            "finlock-ffi",
            "--target",
            TARGET,
            "-e",
            "normal",
            "-i",
            "jni",
        ],
    );
    let mut check = cx.cargo(
        "android-check",
        [
            "clippy",
            "--locked",
            "-p",
            "finlock-ffi",
            "--target",
            TARGET,
            "--",
            "-D",
            "warnings",
        ],
    );
    match toolchain() {
        Ok(Compiler::Ndk) => {}
        Ok(Compiler::HostClang) => check.envs.extend(host_clang_env()),
        Err(why) => check.skip = Some(why),
    }
    vec![jni_once, host_check_step(), check]
}

/// Which C compiler builds ring's objects for the type-check.
#[derive(Debug, PartialEq)]
enum Compiler {
    Ndk,
    HostClang,
}

/// Host clang, cross-compiling ring's C without any libc headers (see the module docs).
fn host_clang_env() -> Vec<(OsString, OsString)> {
    let var = |name: &str| format!("{name}_{}", TARGET.replace('-', "_")).into();
    vec![
        (var("CC"), "clang".into()),
        (
            var("CFLAGS"),
            format!("--target={TARGET}28 -ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1")
                .into(),
        ),
        (var("AR"), "llvm-ar".into()),
    ]
}

/// The compiler for ring's C, or why the Android type-check cannot run here.
fn toolchain() -> Result<Compiler, String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        });
    match installed {
        Some(true) => {}
        Some(false) => {
            return Err(format!(
                "Rust target {TARGET} is not installed (`rustup target add {TARGET}`; it \
                 downloads from static.rust-lang.org, which CI cannot reach)"
            ));
        }
        None => return Err("rustup is not available to list installed targets".into()),
    }
    let cc_var = format!("CC_{}", TARGET.replace('-', "_"));
    let has_cc = env::var_os(&cc_var).is_some()
        || env::var_os("ANDROID_NDK_HOME").is_some()
        || env::var_os("PATH").is_some_and(|path| {
            env::split_paths(&path).any(|dir| {
                (21..=35).any(|api| {
                    Path::new(&dir)
                        .join(format!("{TARGET}{api}-clang"))
                        .is_file()
                })
            })
        });
    if has_cc {
        return Ok(Compiler::Ndk);
    }
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("clang") && runs("llvm-ar") {
        return Ok(Compiler::HostClang);
    }
    Err(format!(
        "no C compiler for ring's code, which even `cargo check` compiles: neither the NDK's \
         clang ({cc_var}, ANDROID_NDK_HOME or {TARGET}<api>-clang on PATH) nor the host's \
         clang and llvm-ar (apt-get install clang llvm)"
    ))
}

/// The hidden command behind the `android-gradle` step of `cargo xtask test`.
pub const INTERNAL_GRADLE_CHECK: &str = "__android-gradle";

/// The ABIs' Rust targets the Gradle build links (android-app/build.gradle's `rustTriples`).
const ANDROID_TRIPLES: [&str; 3] = [
    "aarch64-linux-android",
    "armv7-linux-androideabi",
    "x86_64-linux-android",
];
const PAGE_SIZE_FLAG: &str = "max-page-size=16384";
const SIXTEEN_KB: u64 = 16 * 1024;

/// `cargo xtask test`'s static check of the Android (Gradle) build, which CI cannot run:
/// the wrapper is complete with the distribution's checksum pinned; repositories are declared
/// once, in settings.gradle; the verifier's AAR matches Cargo.lock; the Android targets link
/// 16 KB-aligned (the linker flag for every target, an NDK that defaults to it, and the ELF
/// program headers of any Android `.so` found here). Says what it could not check.
pub fn step() -> Step {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    Step::new("android-gradle", exe, [INTERNAL_GRADLE_CHECK])
}

/// Runs the checks; prints each finding; fails on the first list of problems.
pub fn run_gradle_check(root: &Path) -> std::process::ExitCode {
    match gradle_check(root) {
        Ok(notes) => {
            for note in notes {
                println!("android-gradle: {note}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in problems {
                eprintln!("android-gradle: {p}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn read(root: &Path, path: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"))
}

fn gradle_check(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut need = |r: Result<String, String>| match r {
        Ok(text) => Some(text),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let props = need(read(root, "gradle/wrapper/gradle-wrapper.properties"));
    let gradlew = need(read(root, "gradlew"));
    let gradlew_bat = need(read(root, "gradlew.bat"));
    let settings = need(read(root, "settings.gradle"));
    let app = need(read(root, "android-app/build.gradle"));
    let catalog = need(read(root, "gradle/libs.versions.toml"));
    let lock = need(read(root, "Cargo.lock"));
    let jar = std::fs::read(root.join("gradle/wrapper/gradle-wrapper.jar"));

    // The wrapper: scripts, bootstrap jar, pinned distribution.
    match jar {
        Ok(bytes) if is_wrapper_jar(&bytes) => {}
        Ok(_) => {
            problems.push("gradle/wrapper/gradle-wrapper.jar is not a Gradle wrapper jar".into())
        }
        Err(e) => problems.push(format!("gradle/wrapper/gradle-wrapper.jar: {e}")),
    }
    if let Some(g) = &gradlew
        && !g.contains("org.gradle.wrapper.GradleWrapperMain")
        && !g.contains("gradle-wrapper.jar")
    {
        problems.push("gradlew does not start the wrapper".into());
    }
    if let Some(b) = &gradlew_bat
        && !b.contains("gradle-wrapper.jar")
    {
        problems.push("gradlew.bat does not start the wrapper".into());
    }
    #[cfg(unix)]
    if gradlew.is_some() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.join("gradlew")).map(|m| m.permissions().mode());
        if mode.is_ok_and(|m| m & 0o111 == 0) {
            problems.push("gradlew is not executable".into());
        }
    }
    if let Some(p) = &props {
        problems.extend(wrapper_problems(p));
    }
    // Repositories: in settings only, the verifier's AAR from the version Cargo.lock has.
    if let Some(s) = &settings
        && !s.contains("RepositoriesMode.FAIL_ON_PROJECT_REPOS")
    {
        problems.push(
            "settings.gradle: repositoriesMode must be FAIL_ON_PROJECT_REPOS (PREFER_SETTINGS \
             silently ignores a project's repositories)"
                .into(),
        );
    }
    if let Some(a) = &app
        && a.lines()
            .any(|l| l.trim_start().starts_with("repositories"))
    {
        problems
            .push("android-app/build.gradle declares repositories: settings.gradle does".into());
    }
    if let (Some(c), Some(l)) = (&catalog, &lock) {
        let want = locked_version(l, "rustls-platform-verifier-android");
        let have = toml_value(c, "rustls-platform-verifier");
        match (want, have) {
            (Some(w), Some(h)) if w == h => {}
            (w, h) => problems.push(format!(
                "gradle/libs.versions.toml rustls-platform-verifier = {h:?}, Cargo.lock \
                 rustls-platform-verifier-android = {w:?}: they must be equal"
            )),
        }
        if !c.contains("\"org.rustls:rustls-platform-verifier\"") {
            problems.push("gradle/libs.versions.toml: the verifier's AAR is org.rustls:rustls-platform-verifier".into());
        }
    }
    // 16 KB pages.
    if let Some(a) = &app {
        problems.extend(page_size_problems(a));
    }
    let sos = android_libraries(root);
    if sos.is_empty() {
        notes.push(
            "no Android .so could be built or found here (no Android Rust target or NDK): the \
             16 KB alignment was checked in the build configuration only, not in an ELF file"
                .into(),
        );
    }
    for so in sos {
        let shown = so.strip_prefix(root).unwrap_or(&so).display().to_string();
        match std::fs::read(&so)
            .map_err(|e| e.to_string())
            .and_then(|b| min_load_alignment(&b))
        {
            Ok(align) if align >= SIXTEEN_KB => {
                notes.push(format!("{shown}: LOAD segments aligned to {align}"))
            }
            Ok(align) => problems.push(format!(
                "{shown}: LOAD segments aligned to {align}, not 16384"
            )),
            Err(e) => problems.push(format!("{shown}: {e}")),
        }
    }
    if problems.is_empty() {
        notes.insert(0, "wrapper complete, distribution checksum pinned, repositories in settings, verifier AAR = Cargo.lock, 16 KB linker flags for every Android target".into());
        notes.push(GRADLE_NOT_CHECKED.into());
        Ok(notes)
    } else {
        Err(problems)
    }
}

/// What no step here can check: Gradle itself never runs on CI (no Android SDK, AGP or Gradle
/// distribution); docs/DEVICE-CHECKLIST.md has the rows a tester runs with them.
const GRADLE_NOT_CHECKED: &str = "NOT checked here (no Android SDK, AGP or Gradle distribution): \
     that Gradle runs at all, the wrapper's download, the verifier's AAR resolving, cargo-ndk \
     with the pinned NDK, the cargo tasks' up-to-date checks, R8, a release APK starting, \
     16 KB pages on a device: docs/DEVICE-CHECKLIST.md rows B1-B8";

/// A zip with the wrapper's main class in it.
fn is_wrapper_jar(bytes: &[u8]) -> bool {
    let needle = b"org/gradle/wrapper/GradleWrapperMain.class";
    bytes.starts_with(b"PK\x03\x04") && bytes.windows(needle.len()).any(|w| w == needle)
}

fn property<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')
                .map(str::trim)
        })
}

fn wrapper_problems(props: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match property(props, "distributionUrl") {
        Some(url) if url.starts_with("https\\://") || url.starts_with("https://") => {}
        other => problems.push(format!(
            "gradle-wrapper.properties: distributionUrl {other:?} is not https"
        )),
    }
    match property(props, "distributionSha256Sum") {
        Some(sum) if sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit()) => {}
        other => problems.push(format!(
            "gradle-wrapper.properties: distributionSha256Sum {other:?} is not a pinned SHA-256"
        )),
    }
    problems
}

/// The `version` of package `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            return lines
                .next()?
                .trim()
                .strip_prefix("version = ")?
                .trim_matches('"')
                .to_owned()
                .into();
        }
    }
    None
}

/// `key = "value"` in a TOML file (the first one).
fn toml_value(toml: &str, key: &str) -> Option<String> {
    toml.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')
                .map(str::trim)
        })
        .map(|v| v.trim_matches('"').to_owned())
}

/// The Gradle build links every Android target with 16 KB pages, on an NDK (r28+) that does too.
fn page_size_problems(app: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !app.contains(PAGE_SIZE_FLAG) {
        problems.push(format!(
            "android-app/build.gradle: no `-z {PAGE_SIZE_FLAG}` for the Android targets"
        ));
    }
    for triple in ANDROID_TRIPLES {
        if !app.contains(&format!("\"{triple}\"")) {
            problems.push(format!(
                "android-app/build.gradle: {triple} is not given the 16 KB flag"
            ));
        }
    }
    if !app.contains("CARGO_TARGET_") || !app.contains("_RUSTFLAGS") {
        problems.push(
            "android-app/build.gradle: the flag is not passed as CARGO_TARGET_<triple>_RUSTFLAGS"
                .into(),
        );
    }
    let ndk = app
        .lines()
        .find_map(|l| l.trim().strip_prefix("ndkVersion"))
        .map(|v| v.trim().trim_matches('"'));
    match ndk.and_then(|v| v.split('.').next()?.parse::<u32>().ok()) {
        Some(major) if major >= 28 => {}
        _ => problems.push(format!(
            "android-app/build.gradle: ndkVersion {ndk:?} is older than r28 (4 KB default)"
        )),
    }
    if !app.contains("ANDROID_NDK_HOME") {
        problems.push("android-app/build.gradle: the pinned NDK is not handed to cargo-ndk".into());
    }
    problems
}

/// Android `.so` files a build here may have left (cargo-ndk's output, cargo's target dirs).
fn android_libraries(root: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs: Vec<std::path::PathBuf> = ["arm64-v8a", "armeabi-v7a", "x86_64"]
        .iter()
        .map(|abi| root.join("android-app/build/rust/jniLibs").join(abi))
        .collect();
    for triple in ANDROID_TRIPLES {
        for profile in ["debug", "release"] {
            dirs.push(root.join("target").join(triple).join(profile));
        }
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "so") {
                found.push(p);
            }
        }
    }
    found
}

/// The smallest `p_align` of the ELF file's PT_LOAD program headers (32- or 64-bit, little endian).
fn min_load_alignment(elf: &[u8]) -> Result<u64, String> {
    if elf.len() < 52 || &elf[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if elf[5] != 1 {
        return Err("not little-endian".into());
    }
    let u16_at = |o: usize| {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u64)
    };
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as u64)
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let is64 = match elf[4] {
        1 => false,
        2 => true,
        _ => return Err("unknown ELF class".into()),
    };
    let bad = || "truncated ELF header".to_string();
    let (phoff, phentsize, phnum) = if is64 {
        (
            u64_at(32).ok_or_else(bad)?,
            u16_at(54).ok_or_else(bad)?,
            u16_at(56).ok_or_else(bad)?,
        )
    } else {
        (
            u32_at(28).ok_or_else(bad)?,
            u16_at(42).ok_or_else(bad)?,
            u16_at(44).ok_or_else(bad)?,
        )
    };
    let mut min: Option<u64> = None;
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).map_err(|_| bad())?;
        let p_type = u32_at(at).ok_or_else(bad)?;
        if p_type != 1 {
            continue; // PT_LOAD only
        }
        let align = if is64 {
            u64_at(at + 48)
        } else {
            u32_at(at + 28)
        }
        .ok_or_else(bad)?;
        min = Some(min.map_or(align, |m: u64| m.min(align)));
    }
    min.ok_or_else(|| "no LOAD segment".into())
}

/// The hidden command behind the `android-host-check` step.
pub const INTERNAL_HOST_CHECK: &str = "__android-host-check";

/// What `android-host-check` compiles and lints, and what it cannot (printed with each run).
const HOST_CHECKED: &str = "rust-core/ffi/src/android.rs (JNI_OnLoad, FinlockNative.init: \
     logcat logger, verifier init, runtime) compiled and clippy-linted for the host with \
     finlock-ffi's `android-host` feature, against the real jni, android_logger and the bridge's \
     runtime; rustls-platform-verifier's own Android init compiled for the host from its source \
     at Cargo.lock's version, and its type checked equal to the host stand-in's";
const HOST_NOT_CHECKED: &str = "the host build calls a stand-in instead of the verifier's init \
     (the types match; the call itself runs only on Android), android_logger's liblog is not \
     linked, nothing is linked or run for Android (that is `android-check`, with the Android \
     Rust target, and the device checklist)";

/// The bridge's Android-only module, compiled and linted (clippy, `-D warnings`) for the
/// host on every run, where the Android target cannot be installed:
///  1. `cargo clippy -p finlock-ffi --features android-host`: `android.rs` itself, with the
///     real `jni`, `android_logger` and the bridge's runtime. One stand-in is left: the
///     verifier compiles its `android` module for Android only, so on the host `android.rs`
///     calls `android/host_verifier.rs` (same signature, does nothing);
///  2. a generated crate compiles the verifier's own `src/android.rs` (the source Cargo.lock
///     pins, from cargo's registry) on the host and checks that its `init_with_env` and the
///     stand-in have one type: a verifier upgrade that changes the call fails here.
///
/// Linking, and running the real verifier call, are left to `android-check` (where the
/// Android target exists) and the device checklist; the step prints what it did not check.
pub fn host_check_step() -> Step {
    let exe = env::current_exe().unwrap_or_else(|_| "xtask".into());
    Step::new("android-host-check", exe, [INTERNAL_HOST_CHECK])
}

pub fn run_host_check(root: &Path, cargo: &OsString) -> std::process::ExitCode {
    match host_check(root, cargo) {
        Ok(()) => {
            println!("android-host-check: checked: {HOST_CHECKED}");
            println!("android-host-check: NOT checked here: {HOST_NOT_CHECKED}");
            std::process::ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("android-host-check: {why}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn host_check(root: &Path, cargo: &OsString) -> Result<(), String> {
    // 1. The bridge's Android module, for the host, with the real crates.
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "clippy",
            "--locked",
            "--quiet",
            "-p",
            "finlock-ffi",
            "--features",
            "android-host",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo clippy -p finlock-ffi --features android-host failed ({status})"
        ));
    }
    verifier_signature_check(root, cargo)
}

/// Step 2 of [`host_check_step`]: the verifier's Android init and the host stand-in agree.
fn verifier_signature_check(root: &Path, cargo: &OsString) -> Result<(), String> {
    let lock = read(root, "Cargo.lock")?;
    let version = |name: &str| {
        locked_version(&lock, name).ok_or_else(|| format!("{name} is not in Cargo.lock"))
    };
    let (jni, once_cell, verifier) = (
        version("jni")?,
        version("once_cell")?,
        version("rustls-platform-verifier")?,
    );
    let source = verifier_source(root, cargo, &verifier)?.join("src/android.rs");
    if !source.is_file() {
        return Err(format!("{}: not found", source.display()));
    }
    let stand_in = root.join("rust-core/ffi/src/android/host_verifier.rs");
    let dir = root.join("target/android-host-check");
    let write = |rel: &str, text: &str| -> Result<(), String> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // Unchanged files keep their times, so cargo does not rebuild for nothing.
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(
        "Cargo.toml",
        &format!(
            "# Generated by `cargo xtask` (android-host-check); not part of the workspace.\n\
             [workspace]\n\n[package]\nname = \"finlock-android-host-check\"\nversion = \"0.0.0\"\n\
             edition = \"2024\"\npublish = false\n\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n\
             jni = {{ version = \"={jni}\", default-features = false }}\nonce_cell = \"={once_cell}\"\n"
        ),
    )?;
    write(
        "src/lib.rs",
        &format!(
            "//! Generated by `cargo xtask` (android-host-check): rustls-platform-verifier {verifier}'s\n\
             //! own Android module and finlock-ffi's host stand-in for its init, compiled for the\n\
             //! host; the two `init_with_env` must have one type.\n\n\
             #[allow(dead_code, unused_imports, clippy::all)]\n#[path = {source:?}]\nmod verifier;\n\n\
             #[path = {stand_in:?}]\nmod stand_in;\n\n\
             type Init = fn(&mut jni::Env, jni::objects::JObject) -> Result<(), jni::errors::Error>;\n\n\
             /// Both coerce to [`Init`]: the stand-in has the verifier's signature.\n\
             pub const SAME_TYPE: [Init; 2] = [verifier::init_with_env, stand_in::init_with_env];\n",
            source = source.display().to_string(),
            stand_in = stand_in.display().to_string(),
        ),
    )?;
    // The workspace's lock file: the same jni and once_cell, resolved offline.
    if !dir.join("Cargo.lock").exists() {
        write("Cargo.lock", &lock)?;
    }
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "rustls-platform-verifier {verifier}'s android::init_with_env and \
             rust-core/ffi/src/android/host_verifier.rs do not compile to one type ({status})"
        ))
    }
}

/// The source directory of rustls-platform-verifier `version` (cargo's registry copy), from
/// `cargo metadata`, which lists every platform's packages.
fn verifier_source(root: &Path, cargo: &OsString, version: &str) -> Result<PathBuf, String> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed ({})", out.status));
    }
    manifest_dir(
        &String::from_utf8_lossy(&out.stdout),
        "rustls-platform-verifier",
        version,
    )
    .ok_or_else(|| format!("rustls-platform-verifier {version}: no source in cargo metadata"))
}

/// The directory of `name-version/Cargo.toml` among `cargo metadata`'s `manifest_path`s.
fn manifest_dir(metadata: &str, name: &str, version: &str) -> Option<PathBuf> {
    let tail = format!("{name}-{version}/Cargo.toml\"");
    let end = metadata.find(&tail)? + tail.len() - 1;
    let start = metadata[..end].rfind('"')? + 1;
    let manifest = PathBuf::from(metadata[start..end].replace("\\\\", "\\"));
    manifest.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod gradle_check_tests {
    use super::*;

    /// A 64-bit little-endian ELF header with PT_LOAD headers of the given alignments.
    fn elf64(aligns: &[u64]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(aligns.len() as u16).to_le_bytes());
        for a in aligns {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&1u32.to_le_bytes());
            ph[48..56].copy_from_slice(&a.to_le_bytes());
            b.extend(ph);
        }
        b
    }

    #[test]
    fn a_4k_aligned_library_is_found_out_and_a_16k_one_passes() {
        assert_eq!(min_load_alignment(&elf64(&[16384, 16384])), Ok(16384));
        assert_eq!(min_load_alignment(&elf64(&[16384, 4096])), Ok(4096));
        assert!(
            min_load_alignment(b"not an elf file at all, no, not at all, really no....").is_err()
        );
    }

    #[test]
    fn the_wrapper_needs_an_https_url_and_a_pinned_checksum() {
        let ok = "distributionUrl=https\\://services.gradle.org/distributions/gradle-8.11.1-bin.zip\n\
                  distributionSha256Sum=f397b287023acdba1e9f6fc5ea72d22dd63669d59ed4a289a29b1a76eee151c6\n";
        assert!(wrapper_problems(ok).is_empty());
        let unpinned =
            "distributionUrl=https\\://services.gradle.org/distributions/gradle-8.11.1-bin.zip\n";
        assert_eq!(wrapper_problems(unpinned).len(), 1);
        let commented: String = ok.lines().map(|l| format!("# {l}\n")).collect();
        assert_eq!(wrapper_problems(&commented).len(), 2);
    }

    #[test]
    fn versions_are_read_from_the_lock_file_and_the_catalog() {
        let lock =
            "[[package]]\nname = \"rustls-platform-verifier-android\"\nversion = \"0.2.0\"\n";
        assert_eq!(
            locked_version(lock, "rustls-platform-verifier-android").as_deref(),
            Some("0.2.0")
        );
        assert_eq!(
            toml_value(
                "[versions]\nrustls-platform-verifier = \"0.2.0\"\n",
                "rustls-platform-verifier"
            )
            .as_deref(),
            Some("0.2.0")
        );
    }

    #[test]
    fn an_old_ndk_or_a_missing_flag_is_a_problem() {
        let good = "ndkVersion \"28.2.13676358\"\n\"aarch64-linux-android\" \"armv7-linux-androideabi\" \"x86_64-linux-android\"\n\
                    CARGO_TARGET_X_RUSTFLAGS -z max-page-size=16384 ANDROID_NDK_HOME";
        assert!(
            page_size_problems(good).is_empty(),
            "{:?}",
            page_size_problems(good)
        );
        assert!(!page_size_problems(&good.replace("28.2", "27.2")).is_empty());
        assert!(!page_size_problems(&good.replace("max-page-size=16384", "")).is_empty());
    }

    #[test]
    fn the_verifier_source_is_found_in_cargo_metadata() {
        let json = r#"{"packages":[{"name":"x","manifest_path":"/r/x-1.0.0/Cargo.toml"},{"name":"rustls-platform-verifier","manifest_path":"/home/u/.cargo/registry/src/i/rustls-platform-verifier-0.7.1/Cargo.toml"}]}"#;
        assert_eq!(
            manifest_dir(json, "rustls-platform-verifier", "0.7.1"),
            Some(PathBuf::from(
                "/home/u/.cargo/registry/src/i/rustls-platform-verifier-0.7.1"
            ))
        );
        assert_eq!(
            manifest_dir(json, "rustls-platform-verifier", "0.7.2"),
            None
        );
    }

    #[test]
    fn the_repository_passes_its_own_check() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert!(gradle_check(root).is_ok(), "{:?}", gradle_check(root));
    }
}
