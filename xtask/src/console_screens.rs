//! `cargo xtask console-screens`: a PNG of every lender-console page at 360 px (a shop
//! clerk's phone) and at 1280 px (a desktop), taken by the console's browser tests in a real
//! headless Chromium against a real `finlock serve`, written to `build/console-screens/`
//! for a person to look at.
//!
//! It runs every browser test named `screenshots_of_…` in server/tests/console_browser*.rs
//! with `FINLOCK_CONSOLE_SCREENS` naming the directory (the same tests write to a throw-away
//! directory inside `cargo xtask test`), then the page-weight test of
//! server/tests/console_http.rs, which prints every page's weight as a table (page, HTML
//! bytes, CSS bytes, budget) and writes it beside the PNGs as `page-weight.txt`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::steps::Step;

pub const TASK: &str = "console-screens";

pub const DETAILS: &str = "\
Runs the screenshot test of every console browser test file (server/tests/console_browser*.rs,
tests named `screenshots_of_…`) with FINLOCK_CONSOLE_SCREENS=build/console-screens: a real
`finlock serve` on loopback, Debian's chromedriver and headless Chromium, a full-page PNG of
every console page at 360 px and at 1280 px wide, named PAGE-WIDTH.png (login-sw-360.png,
not-found-en-1280.png, device-device-en-360.png, ...). The directory is emptied first, so
what is there is what the pages look like now.

Then the page weight of every console page (server/tests/console_http.rs,
every_page_weighs_at_most_its_budget): a table of page, HTML bytes, CSS bytes and the page's
budget, printed and written to build/console-screens/page-weight.txt; a page over its
budget fails the step.

Needs Debian's chromium and chromium-driver (installed on first use).";

/// The environment variable the browser test reads.
const SCREENS_VAR: &str = "FINLOCK_CONSOLE_SCREENS";

/// Where the PNGs go.
pub fn out_dir(root: &Path) -> PathBuf {
    root.join("build").join("console-screens")
}

pub fn steps(cargo: &OsString, root: &Path) -> Vec<Step> {
    let dir = out_dir(root);
    let _ = std::fs::remove_dir_all(&dir);
    let mut args: Vec<OsString> = ["test", "--locked", "-p", "finlock-server"]
        .into_iter()
        .map(OsString::from)
        .collect();
    for test in browser_tests(&root.join("server").join("tests")) {
        args.push("--test".into());
        args.push(test.into());
    }
    args.push(SCREENSHOT_TESTS.into());
    let mut step = Step::new(TASK, cargo.clone(), args);
    step.envs.push((SCREENS_VAR.into(), dir.into_os_string()));
    step.counts_tests = true;
    let weight_args: Vec<OsString> = [
        "test",
        "--locked",
        "-p",
        "finlock-server",
        "--test",
        WEIGHT_FILE,
        WEIGHT_TEST,
        "--",
        "--exact",
        "--nocapture",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    let mut weight = Step::new(WEIGHT_STEP, cargo.clone(), weight_args);
    weight
        .envs
        .push((SCREENS_VAR.into(), out_dir(root).into_os_string()));
    weight.counts_tests = true;
    vec![step, weight]
}

/// The page-weight step: its name, the test file and the test that prints the table.
const WEIGHT_STEP: &str = "page-weight";
const WEIGHT_FILE: &str = "console_http";
const WEIGHT_TEST: &str = "every_page_weighs_at_most_its_budget";

/// The name every screenshot test starts with (the filter passed to the test binaries).
const SCREENSHOT_TESTS: &str = "screenshots_of_";

/// The console's browser test files (`console_browser*.rs`) that hold a screenshot test,
/// by test name, sorted; each page's author keeps its screenshots beside its flows.
fn browser_tests(tests_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tests_dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
                .filter(|n| n.starts_with("console_browser"))
                .filter(|n| {
                    std::fs::read_to_string(tests_dir.join(format!("{n}.rs")))
                        .is_ok_and(|text| text.contains(&format!("fn {SCREENSHOT_TESTS}")))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_names_the_directory_and_the_test() {
        let root = Path::new("/tmp/xtask-console-screens-test-root");
        let steps = steps(&"cargo".into(), root);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1].name, WEIGHT_STEP);
        assert!(steps[1].args.iter().any(|a| a == WEIGHT_TEST));
        assert_eq!(steps[1].envs, steps[0].envs);
        let step = &steps[0];
        assert_eq!(
            step.envs,
            [(
                OsString::from(SCREENS_VAR),
                OsString::from("/tmp/xtask-console-screens-test-root/build/console-screens")
            )]
        );
        assert!(step.args.iter().any(|a| a == SCREENSHOT_TESTS));
    }

    #[test]
    fn every_console_browser_test_file_is_run() {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join("server")
            .join("tests");
        let names = browser_tests(&tests);
        for page_tests in [
            "console_browser",
            "console_browser_auth",
            "console_browser_desk",
            "console_browser_devices",
            "console_browser_lists",
        ] {
            assert!(names.contains(&page_tests.to_string()), "{names:?}");
        }
    }

    /// The variable and the test name are the browser test's own.
    #[test]
    fn the_browser_test_reads_the_same_variable() {
        let test = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join("server/tests/console_browser.rs");
        let source = std::fs::read_to_string(&test).unwrap();
        assert!(source.contains(&format!("\"{SCREENS_VAR}\"")));
        assert!(source.contains("async fn screenshots_of_every_page()"));
        let http = test.with_file_name(format!("{WEIGHT_FILE}.rs"));
        let source = std::fs::read_to_string(http).unwrap();
        assert!(source.contains(&format!("async fn {WEIGHT_TEST}()")));
        assert!(source.contains(&format!("\"{SCREENS_VAR}\"")));
    }
}
