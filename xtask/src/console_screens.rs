//! `cargo xtask console-screens`: a PNG of every lender-console page at 360 px (a shop
//! clerk's phone) and at 1280 px (a desktop), taken by the console's browser tests in a real
//! headless Chromium against a real `finlock serve`, written to `build/console-screens/`
//! for a person to look at.
//!
//! It runs the browser test `screenshots_of_every_page` of server/tests/console_browser.rs
//! with `FINLOCK_CONSOLE_SCREENS` naming the directory (the same test writes to a throw-away
//! directory inside `cargo xtask test`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::steps::Step;

pub const TASK: &str = "console-screens";

pub const DETAILS: &str = "\
Runs `cargo test -p finlock-server --test console_browser screenshots_of_every_page` with
FINLOCK_CONSOLE_SCREENS=build/console-screens: a real `finlock serve` on loopback, Debian's
chromedriver and headless Chromium, a full-page PNG of every console page at 360 px and at
1280 px wide, named PAGE-WIDTH.png (login-sw-360.png, not-found-en-1280.png, ...). The
directory is emptied first, so what is there is what the pages look like now.

Needs Debian's chromium and chromium-driver (installed on first use).";

/// The environment variable the browser test reads.
const SCREENS_VAR: &str = "FINLOCK_CONSOLE_SCREENS";

/// Where the PNGs go.
pub fn out_dir(root: &Path) -> PathBuf {
    root.join("build").join("console-screens")
}

pub fn steps(cargo: &OsString, root: &Path) -> Vec<Step> {
    let dir = out_dir(root);
    // Pictures of pages that no longer exist would mislead whoever looks.
    let _ = std::fs::remove_dir_all(&dir);
    let mut step = Step::new(
        TASK,
        cargo.clone(),
        [
            "test",
            "--locked",
            "-p",
            "finlock-server",
            "--test",
            "console_browser",
            "screenshots_of_every_page",
        ],
    );
    step.envs.push((SCREENS_VAR.into(), dir.into_os_string()));
    step.counts_tests = true;
    vec![step]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_names_the_directory_and_the_test() {
        let root = Path::new("/tmp/xtask-console-screens-test-root");
        let steps = steps(&"cargo".into(), root);
        assert_eq!(steps.len(), 1);
        let step = &steps[0];
        assert_eq!(
            step.envs,
            [(
                OsString::from(SCREENS_VAR),
                OsString::from("/tmp/xtask-console-screens-test-root/build/console-screens")
            )]
        );
        assert!(step.args.iter().any(|a| a == "screenshots_of_every_page"));
        assert!(step.args.iter().any(|a| a == "console_browser"));
    }

    /// The variable and the test name are the browser test's own.
    #[test]
    fn the_browser_test_reads_the_same_variable() {
        let test = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join("server/tests/console_browser.rs");
        let source = std::fs::read_to_string(test).unwrap();
        assert!(source.contains(&format!("\"{SCREENS_VAR}\"")));
        assert!(source.contains("async fn screenshots_of_every_page()"));
    }
}
