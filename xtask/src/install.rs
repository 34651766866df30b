//! What the tests need beyond the Rust toolchain, installed by xtask itself so that
//! `cargo xtask test` is the whole set-up on a fresh Debian or Ubuntu machine: Debian
//! packages through apt-get (as root, or through sudo), kotlinc from npm into
//! `build/kotlin`. One line is printed per install; nothing is run (and no network is
//! used) when everything is already there.
//!
//! Opting out, for people who manage their own packages: `--no-install` on the command
//! line or `FINLOCK_NO_INSTALL=1`; the steps then say what they miss, as before. On a
//! machine without dpkg and apt-get nothing is installed and the list is printed.

use std::env;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::tools::{KOTLIN_PREFIX, KOTLIN_VERSION};

/// The environment variable that turns installing off (any value but `0` or empty).
pub const OPT_OUT_VAR: &str = "FINLOCK_NO_INSTALL";
/// The command-line flag that turns it off.
pub const OPT_OUT_FLAG: &str = "--no-install";

/// A Debian package and why the tests need it.
pub struct Package {
    pub name: &'static str,
    pub why: &'static str,
}

const POSTGRESQL: Package = Package {
    name: "postgresql",
    why: "the server's suite runs against a real PostgreSQL too",
};
const JDK: Package = Package {
    name: "openjdk-17-jdk-headless",
    why: "the Kotlin tests run on the JVM",
};
const JUNIT5: Package = Package {
    name: "junit5",
    why: "the bridge's Kotlin tests run with JUnit 5",
};
const JNA: Package = Package {
    name: "libjna-java",
    why: "the bridge's Kotlin tests load the native library through JNA",
};
const AAPT: Package = Package {
    name: "aapt",
    why: "aapt2 compiles the Android shell's resources",
};
const FRAMEWORK_RES: Package = Package {
    name: "android-framework-res",
    why: "the framework's resource table the shell's resources link against",
};
const MAVEN: Package = Package {
    name: "maven",
    why: "fetches Robolectric, JUnit 4, JNA and android-all once",
};
const CLANG: Package = Package {
    name: "clang",
    why: "builds ring's C code for the Android type-check",
};
const LLVM: Package = Package {
    name: "llvm",
    why: "llvm-ar for the same",
};
const CHROMIUM: Package = Package {
    name: "chromium",
    why: "the lender console's browser tests run in a real headless Chromium",
};
const CHROMEDRIVER: Package = Package {
    name: "chromium-driver",
    why: "chromedriver: the WebDriver server those tests drive Chromium through",
};
/// Only to install kotlinc, and only when npm is not there already.
const NPM: Package = Package {
    name: "npm",
    why: "installs kotlinc (npm package kotlin-compiler)",
};
/// Only when `python3 -m venv` does not work (Debian splits venv out of python3).
const PYTHON_VENV: Package = Package {
    name: "python3-venv",
    why: "the virtualenv schemathesis (PyPI) is installed into",
};

/// What one task needs.
pub struct Needs {
    pub packages: &'static [Package],
    pub kotlinc: bool,
    /// cargo-fuzz (`cargo install`), for the fuzz targets (`cargo xtask fuzz`).
    pub cargo_fuzz: bool,
    /// schemathesis (PyPI) in a project-local virtualenv, for `cargo xtask api-fuzz`.
    pub schemathesis: bool,
}

/// What `task` needs installed, or `None` for a task that needs nothing beyond cargo.
pub fn needs(task: &str) -> Option<Needs> {
    const ALL: &[Package] = &[
        POSTGRESQL,
        JDK,
        JUNIT5,
        JNA,
        AAPT,
        FRAMEWORK_RES,
        MAVEN,
        CLANG,
        LLVM,
        CHROMIUM,
        CHROMEDRIVER,
    ];
    let (packages, kotlinc): (&'static [Package], bool) = match task {
        "test" | "ci" | "install" => (ALL, true),
        "postgres" => (&[POSTGRESQL], false),
        "jvm" | "bench-bridge" => (&[JDK, JUNIT5, JNA], true),
        "android-test" | "android-screens" => (&[JDK, MAVEN, AAPT, FRAMEWORK_RES], true),
        "check-android" => (&[CLANG, LLVM], false),
        "console-screens" => (&[CHROMIUM, CHROMEDRIVER], false),
        "fuzz" | "api-fuzz" => (&[], false),
        _ => return None,
    };
    let cargo_fuzz = matches!(task, "test" | "ci" | "install" | "fuzz");
    let schemathesis = matches!(task, "test" | "ci" | "install" | "api-fuzz");
    Some(Needs {
        packages,
        kotlinc,
        cargo_fuzz,
        schemathesis,
    })
}

/// Whether the user turned installing off: the flag among `args`, or the variable.
pub fn opted_out(flag_given: bool, var: Option<&str>) -> bool {
    flag_given || var.is_some_and(|v| !v.is_empty() && v != "0")
}

/// The packages of `wanted` that `dpkg-query -W -f='${Package}\t${Status}\n' wanted...`
/// (its standard output, `listing`) does not show as installed. A package dpkg has
/// never heard of is not listed at all; one removed but with its configuration left is
/// listed as `deinstall ok config-files`: both are missing.
pub fn missing<'a>(wanted: &[&'a str], listing: &str) -> Vec<&'a str> {
    let installed: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(_, status)| status.trim() == "install ok installed")
        .map(|(name, _)| name.split(':').next().unwrap_or(name))
        .collect();
    wanted
        .iter()
        .copied()
        .filter(|w| !installed.contains(w))
        .collect()
}

/// How apt-get is run: directly as root, else through sudo, else not at all.
pub fn as_root(is_root: bool, has_sudo: bool) -> Option<Vec<&'static str>> {
    match (is_root, has_sudo) {
        (true, _) => Some(vec![]),
        (false, true) => Some(vec!["sudo"]),
        (false, false) => None,
    }
}

/// Whether the npm package in `build/kotlin` is the pinned kotlinc: its package.json
/// (`package_json`, if readable) names the version and its launcher exists.
pub fn kotlinc_ready(package_json: Option<&str>, launcher_exists: bool) -> bool {
    launcher_exists
        && package_json.is_some_and(|text| {
            text.contains(&format!("\"version\": \"{KOTLIN_VERSION}\""))
                || text.contains(&format!("\"version\":\"{KOTLIN_VERSION}\""))
        })
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs what `needs` lists and is missing. `Err` says what failed and what to do.
pub fn run(root: &Path, needs: &Needs) -> Result<(), String> {
    let mut wanted: Vec<&str> = needs.packages.iter().map(|p| p.name).collect();
    let kotlin_home = root
        .join(KOTLIN_PREFIX)
        .join("node_modules/kotlin-compiler");
    let kotlin_ok = !needs.kotlinc
        || kotlinc_ready(
            std::fs::read_to_string(kotlin_home.join("package.json"))
                .ok()
                .as_deref(),
            kotlin_home.join("bin/kotlinc-jvm").is_file(),
        );
    if !kotlin_ok && !on_path("npm") {
        wanted.push(NPM.name);
    }
    let venv = root.join(crate::api_fuzz::VENV);
    let schemathesis_ok = !needs.schemathesis || schemathesis_ready(&venv);
    if !schemathesis_ok && !venv_works() {
        wanted.extend(["python3", PYTHON_VENV.name]);
    }

    if !on_path("dpkg-query") || !on_path("apt-get") {
        if !wanted.is_empty() {
            println!(
                "install: no dpkg-query and apt-get here (not Debian or Ubuntu), so nothing is \
                 installed; the tests need: {} (or their equivalents)",
                wanted.join(" ")
            );
        }
    } else {
        let listing = Command::new("dpkg-query")
            .args(["-W", "-f=${Package}\t${Status}\n"])
            .args(&wanted)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("could not run dpkg-query: {e}"))?;
        let missing = missing(&wanted, &String::from_utf8_lossy(&listing.stdout));
        if missing.is_empty() {
            println!(
                "install: nothing to install ({} Debian packages present)",
                wanted.len()
            );
        } else {
            apt_install(&missing)?;
        }
    }

    if !kotlin_ok && !on_path("npm") {
        // Only where apt-get could not bring npm (not Debian): the Kotlin steps say so.
        println!(
            "install: kotlinc {KOTLIN_VERSION} is missing and there is no npm to install it \
             with; the Kotlin steps will fail until one of them is there"
        );
    } else if !kotlin_ok {
        println!("install: npm install kotlin-compiler@{KOTLIN_VERSION} into {KOTLIN_PREFIX}");
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                KOTLIN_PREFIX,
            ])
            .arg(format!("kotlin-compiler@{KOTLIN_VERSION}"))
            .current_dir(root)
            .status()
            .map_err(|e| format!("could not run npm: {e}"))?;
        if !status.success() {
            return Err(format!(
                "npm install kotlin-compiler@{KOTLIN_VERSION} failed ({status})"
            ));
        }
    } else if needs.kotlinc {
        println!("install: kotlinc {KOTLIN_VERSION} present in {KOTLIN_PREFIX}");
    }
    if needs.cargo_fuzz && !on_path("cargo-fuzz") {
        let version = crate::fuzz::CARGO_FUZZ_VERSION;
        println!("install: cargo install cargo-fuzz --version {version} --locked");
        let status = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["install", "cargo-fuzz", "--version", version, "--locked"])
            .status()
            .map_err(|e| format!("could not run cargo install: {e}"))?;
        if !status.success() {
            return Err(format!("cargo install cargo-fuzz failed ({status})"));
        }
    }
    if !schemathesis_ok {
        install_schemathesis(root, &venv)?;
    }
    Ok(())
}

/// Whether `python3 -m venv` can make a virtualenv here.
fn venv_works() -> bool {
    Command::new("python3")
        .args(["-m", "venv", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the virtualenv holds the pinned schemathesis (its dist-info) and its launcher.
fn schemathesis_ready(venv: &Path) -> bool {
    let version = crate::api_fuzz::SCHEMATHESIS_VERSION;
    venv.join("bin/schemathesis").is_file()
        && std::fs::read_dir(venv.join("lib")).is_ok_and(|pythons| {
            pythons.flatten().any(|p| {
                p.path()
                    .join(format!("site-packages/schemathesis-{version}.dist-info"))
                    .is_dir()
            })
        })
}

/// `python3 -m venv` (when there is none yet), then `pip install schemathesis==VERSION`.
fn install_schemathesis(root: &Path, venv: &Path) -> Result<(), String> {
    let version = crate::api_fuzz::SCHEMATHESIS_VERSION;
    let shown = crate::api_fuzz::VENV;
    println!("install: pip install schemathesis=={version} into the virtualenv {shown}");
    if !venv.join("bin/pip").is_file() {
        crate::tools::run(Command::new("python3").arg("-m").arg("venv").arg(venv))
            .map_err(|e| format!("python3 -m venv {shown} failed: {e}"))?;
    }
    crate::tools::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={version}"))
            .current_dir(root),
    )
    .map_err(|e| format!("pip install schemathesis=={version} failed: {e}"))
}

/// `apt-get update` once, then `apt-get install` of `missing`, each announced.
fn apt_install(missing: &[&str]) -> Result<(), String> {
    let Some(prefix) = as_root(is_root(), on_path("sudo")) else {
        return Err(format!(
            "these Debian packages are missing and this user is not root and has no sudo: \
             {0}\n  install them as root (apt-get install {0}), or run with {OPT_OUT_FLAG}",
            missing.join(" ")
        ));
    };
    let via = if prefix.is_empty() {
        ""
    } else {
        " (through sudo)"
    };
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut line = prefix.clone();
        line.extend(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        line.extend(["-o", "DPkg::Lock::Timeout=300"]);
        line.extend(args);
        let status = Command::new(line[0])
            .args(&line[1..])
            .status()
            .map_err(|e| format!("could not run {}: {e}", line[0]))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "apt-get {} failed ({status}); install these yourself and run with \
                 {OPT_OUT_FLAG}: {}",
                args[0],
                missing.join(" ")
            ))
        }
    };
    println!("install: apt-get update{via}");
    apt(&["update", "-qq"])?;
    for name in missing {
        let why = [
            POSTGRESQL,
            JDK,
            JUNIT5,
            JNA,
            AAPT,
            FRAMEWORK_RES,
            MAVEN,
            CLANG,
            LLVM,
            CHROMIUM,
            CHROMEDRIVER,
            NPM,
            PYTHON_VENV,
        ]
        .into_iter()
        .find(|p| p.name == *name)
        .map_or("", |p| p.why);
        println!("install: apt-get install {name}{via}: {why}");
    }
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing);
    apt(&args)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What dpkg-query prints for a mixed machine (unknown packages print nothing on
    /// standard output, only a line on standard error).
    const LISTING: &str = "postgresql\tinstall ok installed\n\
        maven\tdeinstall ok config-files\n\
        clang\tinstall ok half-configured\n\
        libjna-java\tinstall ok installed\n\
        llvm:amd64\tinstall ok installed\n";

    #[test]
    fn only_packages_dpkg_shows_as_installed_count_as_there() {
        let wanted = [
            "postgresql",
            "maven",
            "clang",
            "libjna-java",
            "llvm",
            "aapt",
        ];
        assert_eq!(missing(&wanted, LISTING), ["maven", "clang", "aapt"]);
    }

    #[test]
    fn nothing_is_missing_when_everything_is_installed() {
        assert!(missing(&["postgresql", "libjna-java"], LISTING).is_empty());
        assert!(missing(&[], "").is_empty());
    }

    #[test]
    fn everything_is_missing_on_a_fresh_machine() {
        assert_eq!(missing(&["junit5", "aapt"], ""), ["junit5", "aapt"]);
    }

    #[test]
    fn apt_runs_as_root_else_through_sudo_else_not() {
        assert_eq!(as_root(true, false), Some(vec![]));
        assert_eq!(as_root(true, true), Some(vec![]));
        assert_eq!(as_root(false, true), Some(vec!["sudo"]));
        assert_eq!(as_root(false, false), None);
    }

    #[test]
    fn the_flag_or_the_variable_turns_installing_off() {
        assert!(opted_out(true, None));
        assert!(opted_out(false, Some("1")));
        assert!(opted_out(false, Some("yes")));
        assert!(!opted_out(false, Some("0")));
        assert!(!opted_out(false, Some("")));
        assert!(!opted_out(false, None));
    }

    #[test]
    fn kotlinc_is_ready_only_at_the_pinned_version() {
        let pinned = format!(
            "{{\n  \"name\": \"kotlin-compiler\",\n  \"version\": \"{KOTLIN_VERSION}\"\n}}"
        );
        assert!(kotlinc_ready(Some(&pinned), true));
        assert!(!kotlinc_ready(Some(&pinned), false));
        assert!(!kotlinc_ready(Some("{\"version\": \"2.0.0\"}"), true));
        assert!(!kotlinc_ready(None, true));
    }

    #[test]
    fn schemathesis_is_ready_only_at_the_pinned_version() {
        let venv = env::temp_dir().join(format!("xtask-venv-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&venv);
        let site = venv.join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        assert!(!schemathesis_ready(&venv), "empty virtualenv");
        std::fs::write(venv.join("bin/schemathesis"), "").unwrap();
        std::fs::create_dir_all(site.join("schemathesis-4.0.0.dist-info")).unwrap();
        assert!(!schemathesis_ready(&venv), "another version");
        let pinned = crate::api_fuzz::SCHEMATHESIS_VERSION;
        std::fs::create_dir_all(site.join(format!("schemathesis-{pinned}.dist-info"))).unwrap();
        assert!(schemathesis_ready(&venv));
        std::fs::remove_file(venv.join("bin/schemathesis")).unwrap();
        assert!(!schemathesis_ready(&venv), "no launcher");
        let _ = std::fs::remove_dir_all(&venv);
    }

    fn repo_file(path: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        std::fs::read_to_string(root.join(path)).unwrap()
    }

    #[test]
    fn ci_calls_the_install_task_instead_of_keeping_a_list() {
        let ci = repo_file(".ci/run");
        assert!(ci.contains("\ncargo xtask install"), "{ci}");
        assert!(!ci.contains("apt-get install") && !ci.contains("npm install"));
    }

    #[test]
    fn the_readme_names_every_package_it_installs() {
        let readme = repo_file("README.md");
        for p in needs("test").unwrap().packages {
            assert!(readme.contains(&format!("`{}`", p.name)), "{}", p.name);
        }
        for text in [
            "--no-install",
            OPT_OUT_VAR,
            KOTLIN_VERSION,
            "cargo xtask install",
        ] {
            assert!(readme.contains(text), "{text}");
        }
    }

    #[test]
    fn the_test_task_needs_what_ci_installed() {
        let all = needs("test").unwrap();
        let names: Vec<&str> = all.packages.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "postgresql",
                "openjdk-17-jdk-headless",
                "junit5",
                "libjna-java",
                "aapt",
                "android-framework-res",
                "maven",
                "clang",
                "llvm",
                "chromium",
                "chromium-driver"
            ]
        );
        assert!(all.kotlinc);
        assert!(needs("vectors").is_none() && needs("bench").is_none());
        for task in [
            "postgres",
            "jvm",
            "android-test",
            "check-android",
            "console-screens",
            "ci",
            "install",
        ] {
            assert!(needs(task).is_some(), "{task}");
        }
    }
}
