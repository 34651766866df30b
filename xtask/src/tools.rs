//! What the JVM-based tasks (`jvm`, `android-test`) and the PostgreSQL step share: where the
//! workspace and its target directory are, the project-local kotlinc, and running a command
//! with a readable error.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T> = std::result::Result<T, String>;

/// The kotlinc the project pins (npm package `kotlin-compiler`).
pub const KOTLIN_VERSION: &str = "2.4.20";

/// Where the npm package `kotlin-compiler` (kotlinc) is installed, project-locally.
pub const KOTLIN_PREFIX: &str = "build/kotlin";

/// The cargo target directory: `CARGO_TARGET_DIR` (relative to the root when relative), or
/// `target/` in the workspace root.
pub fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"))
}

/// The workspace root, its target directory and the cargo that started xtask. Each task
/// module adds the paths of its own in an `impl Paths` block of its own.
pub struct Paths {
    pub root: PathBuf,
    pub target: PathBuf,
    pub cargo: OsString,
}

impl Paths {
    pub fn new(root: &Path, cargo: &OsString) -> Paths {
        Paths {
            root: root.to_path_buf(),
            target: target_dir(root),
            cargo: cargo.clone(),
        }
    }

    pub fn kotlin_home(&self) -> PathBuf {
        self.root
            .join(KOTLIN_PREFIX)
            .join("node_modules/kotlin-compiler")
    }

    /// The kotlinc binary, installed with npm into [`KOTLIN_PREFIX`] when missing. `task`
    /// names the caller in what is printed.
    pub fn ensure_kotlinc(&self, task: &str) -> Result<PathBuf> {
        let kotlinc = self.kotlin_home().join("bin/kotlinc-jvm");
        if !kotlinc.is_file() {
            println!("{task}: installing kotlinc {KOTLIN_VERSION} into {KOTLIN_PREFIX} (npm)");
            run(Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    KOTLIN_PREFIX,
                ])
                .arg(format!("kotlin-compiler@{KOTLIN_VERSION}"))
                .current_dir(&self.root))
            .map_err(|e| format!("kotlinc is missing and npm could not install it: {e}"))?;
        }
        Ok(kotlinc)
    }

    /// Builds what the Kotlin tests of `jvm` and `android-test` run against, with one set of
    /// packages and features so the two share one build: the debug cdylib with its test
    /// hooks, the `finlock` server and the bindgen. Returns the debug directory.
    pub fn build_bridge_for_tests(&self) -> Result<PathBuf> {
        self.cargo(&[
            "build",
            "--locked",
            "-p",
            "finlock-ffi",
            "-p",
            "finlock-server",
            "-p",
            "uniffi-bindgen",
            "--features",
            "finlock-ffi/test-hooks",
        ])?;
        Ok(self.target.join("debug"))
    }

    /// (Re)generates the Kotlin bindings of `lib_dir/libfinlock_ffi.so` into `out` with the
    /// workspace's own bindgen; they are never committed.
    pub fn generate_bindings(&self, lib_dir: &Path, bindgen: &Path, out: &Path) -> Result<()> {
        let _ = std::fs::remove_dir_all(out);
        run(Command::new(bindgen)
            .args(["generate", "--library"])
            .arg(lib_dir.join("libfinlock_ffi.so"))
            .args(["--language", "kotlin", "--no-format", "--out-dir"])
            .arg(out)
            .current_dir(&self.root))
    }

    /// Runs the same cargo with `args` in the workspace root.
    pub fn cargo(&self, args: &[&str]) -> Result<()> {
        run(Command::new(&self.cargo).args(args).current_dir(&self.root))
    }
}

/// Runs `command` with inherited output; an error names the program and how it ended.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("could not start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", command.get_program()))
    }
}
