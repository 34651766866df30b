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
use std::path::Path;
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
    vec![jni_once, check]
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
