//! `cargo xtask check-android`: what can be checked of the Android build without Gradle.
//!
//! The bridge's `#[cfg(target_os = "android")]` code (JNI_OnLoad, `init(context)`) only
//! compiles for an Android target, which needs the Rust target's standard library and,
//! for ring's C and assembly, the NDK's clang. Where either is missing the type-check is
//! listed as *skipped* with the reason and the task exits with [`SKIPPED`]: it never
//! reports a check it did not do as passed.

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
        "android",
        ["check", "--locked", "-p", "finlock-ffi", "--target", TARGET],
    );
    check.skip = missing_toolchain();
    vec![jni_once, check]
}

/// Why the Android type-check cannot run here, if it cannot.
fn missing_toolchain() -> Option<String> {
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
            return Some(format!(
                "Rust target {TARGET} is not installed (`rustup target add {TARGET}`; it \
                 downloads from static.rust-lang.org, which CI cannot reach)"
            ));
        }
        None => return Some("rustup is not available to list installed targets".into()),
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
    if !has_cc {
        return Some(format!(
            "no Android NDK clang for ring's C code, which even `cargo check` compiles \
             ({cc_var}, ANDROID_NDK_HOME or {TARGET}<api>-clang on PATH); host clang \
             lacks Android's libc headers"
        ));
    }
    None
}
