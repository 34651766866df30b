//! Every command in the docs a tester follows exists and runs.
//!
//! For README.md, server/README.md, docs/EMULATOR.md, docs/OEM.md, docs/PAYMENTS-IN.md,
//! docs/WEBHOOKS.md, docs/CONSOLE.md and docs/COMPLIANCE.md (commands a lender's operator
//! types to select a profile):
//! - each ```sh (or bash, shell) block is run, the blocks of one document in order as one
//!   bash script (`set -euo pipefail`) in a fresh directory, against the real `finlock` on
//!   127.0.0.1: the documented port 8080 is replaced by a free one, `finlock` is this
//!   build, and `cargo run -p finlock-server --` is the same binary. Any other `cargo` is
//!   refused, so a block that cannot run here must say so;
//! - a block that cannot run here is marked: ```sh-android (needs a phone or the emulator),
//!   or `<!-- docs-test: skip (reason) -->` on the line before its fence;
//! - every `finlock …` named in inline code or in a marked block must be a command that
//!   exists (`finlock <subcommands> --help` succeeds).
//!
//! Bounded: each document's script is killed (with everything it started) after 120 s.

#![cfg(all(unix, feature = "simulator"))]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_finlock");
const DOCS: [&str; 8] = [
    "README.md",
    "server/README.md",
    "docs/EMULATOR.md",
    "docs/OEM.md",
    "docs/PAYMENTS-IN.md",
    "docs/WEBHOOKS.md",
    "docs/CONSOLE.md",
    "docs/COMPLIANCE.md",
];
const DEADLINE: Duration = Duration::from_secs(120);
const DOCUMENTED_PORT: &str = "127.0.0.1:8080";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// One fenced block.
#[derive(Debug)]
struct Block {
    line: usize,
    lang: String,
    skip: Option<String>,
    body: String,
}

const SHELL: [&str; 3] = ["sh", "bash", "shell"];

/// The fenced blocks of a markdown text, with the skip marker on the line before a fence.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            let indent = lines[i].len() - trimmed.len();
            let lang = info.trim().to_string();
            let skip = i
                .checked_sub(1)
                .map(|p| lines[p].trim())
                .and_then(|l| l.strip_prefix("<!-- docs-test: skip"))
                .map(|rest| rest.trim_end_matches("-->").trim().to_string());
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                let l = lines[i];
                body.push_str(
                    l.get(indent.min(l.len() - l.trim_start().len())..)
                        .unwrap_or(l),
                );
                body.push('\n');
                i += 1;
            }
            out.push(Block {
                line: start + 1,
                lang,
                skip,
                body,
            });
        }
        i += 1;
    }
    out
}

/// Inline code spans outside fences (a span may continue on the next line).
fn inline_code(text: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            // A fence ends any span: keep the backtick count even.
            prose.push_str("\n\n");
            continue;
        }
        if !in_fence {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| !code.contains("\n\n"))
        .map(|code| code.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|code| !code.is_empty())
        .collect()
}

/// The subcommand paths of `finlock …` commands in `code` (`finlock lender device qr …` →
/// `["lender", "device", "qr"]`), where `finlock` starts a command.
fn finlock_commands(code: &str) -> Vec<Vec<String>> {
    let code = code.replace("cargo run -p finlock-server --", "finlock");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    let mut before = String::new();
    while let Some(at) = rest.find("finlock ") {
        before.push_str(&rest[..at]);
        let line_before = before.rsplit('\n').next().unwrap_or("").trim_end();
        let starts_command = line_before.trim().is_empty()
            || ["$(", "|", ";", "&&", "("]
                .iter()
                .any(|end| line_before.ends_with(end));
        let after = &rest[at + "finlock ".len()..];
        if starts_command {
            let words: Vec<String> = after
                .split_whitespace()
                .take_while(|w| {
                    w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                })
                .map(String::from)
                .collect();
            found.push(words);
        }
        before.push_str("finlock ");
        rest = after;
    }
    found
}

/// `finlock <path> --help` succeeds: the command exists (a positional value on the path,
/// like a device id, still shows the command's help).
fn exists(path: &[String]) -> bool {
    Command::new(BIN)
        .args(path)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A directory with `finlock` (this build) and a `cargo` that runs only the server.
fn shims(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("finlock")).unwrap();
    let cargo = "#!/bin/sh\n\
        # The docs test's cargo: `cargo run [--release] -p finlock-server -- ARGS` is this build.\n\
        if [ \"$1\" = run ]; then shift; [ \"$1\" = --release ] && shift\n\
          if [ \"$1\" = -p ] && [ \"$2\" = finlock-server ] && [ \"$3\" = -- ]; then shift 3; exec finlock \"$@\"; fi\n\
          if [ \"$1\" = -p ] && [ \"$2\" = finlock-server ] && [ $# -eq 2 ]; then exec finlock; fi\n\
        fi\n\
        echo \"docs test: 'cargo $*' does not run here; mark its block <!-- docs-test: skip (why) -->\" >&2\n\
        exit 97\n";
    let path = bin.join("cargo");
    std::fs::write(&path, cargo).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs one document's runnable blocks as one script; returns (ran blocks, success, log).
fn run_document(name: &str, runnable: &[&Block]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = shims(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let port = free_port();
    let mut script = String::from(
        "set -euo pipefail\n\
         trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n",
    );
    for b in runnable {
        script.push_str(&format!(
            "echo '>>> {name}:{} (```{})' >&2\n",
            b.line, b.lang
        ));
        script.push_str(
            &b.body
                .replace(DOCUMENTED_PORT, &format!("127.0.0.1:{port}")),
        );
        script.push('\n');
    }
    script.push_str("echo '>>> all blocks ran' >&2\n");
    let log = dir.path().join("log");
    let log_file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("FINLOCK_LOG", "warn")
        .env("NO_COLOR", "1")
        .env_remove("FINLOCK_DB")
        .env_remove("FINLOCK_KEYS")
        .env_remove("FINLOCK_LENDER")
        .env_remove("FINLOCK_PUBLIC_URL")
        .env_remove("FINLOCK_DEVICE_STATE")
        .env_remove("FINLOCK_CLOCK")
        .env_remove("FINLOCK_CLOCK_SHIFT")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Whatever the script left behind (a server it started) goes with it.
    // SAFETY: killpg on the group this test created; no memory is involved.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(s) => (s.success(), text),
        None => (false, format!("{text}\n(killed after {DEADLINE:?})")),
    }
}

#[test]
fn every_documented_command_exists_and_the_runnable_blocks_run() {
    let mut failures = Vec::new();
    for name in DOCS {
        let text = std::fs::read_to_string(repo().join(name)).unwrap();
        let all = blocks(&text);
        let mut runnable = Vec::new();
        for b in &all {
            let shell = SHELL.contains(&b.lang.as_str());
            let marked = b.lang == "sh-android" || b.skip.is_some();
            if let Some(reason) = &b.skip {
                assert!(
                    reason.starts_with('(') && reason.len() > 2,
                    "{name}:{}: a skipped block says why: <!-- docs-test: skip (why) -->",
                    b.line
                );
            }
            if shell && b.skip.is_none() {
                runnable.push(b);
            } else if marked || shell {
                for path in finlock_commands(&b.body) {
                    if !exists(&path) {
                        failures.push(format!(
                            "{name}:{}: no command `finlock {}`",
                            b.line,
                            path.join(" ")
                        ));
                    }
                }
            }
            assert!(
                !b.lang.starts_with("sh") || shell || b.lang == "sh-android",
                "{name}:{}: unknown block kind ```{}",
                b.line,
                b.lang
            );
        }
        for code in inline_code(&text) {
            for path in finlock_commands(&code) {
                if !exists(&path) {
                    failures.push(format!(
                        "{name}: no command `finlock {}` (in `{code}`)",
                        path.join(" ")
                    ));
                }
            }
        }
        if !runnable.is_empty() {
            let (ok, log) = run_document(name, &runnable);
            if !ok {
                failures.push(format!("{name}: a block failed:\n{log}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_docs_the_tester_follows_run_something() {
    // The lender's and the tester's documents have commands the test runs (not only
    // marked ones), and the emulator guide marks what needs Android.
    for name in [
        "server/README.md",
        "docs/EMULATOR.md",
        "docs/OEM.md",
        "README.md",
    ] {
        let text = std::fs::read_to_string(repo().join(name)).unwrap();
        let runs = blocks(&text)
            .iter()
            .filter(|b| SHELL.contains(&b.lang.as_str()) && b.skip.is_none())
            .count();
        assert!(runs > 0, "{name} has no block the test runs");
    }
    let emulator = std::fs::read_to_string(repo().join("docs/EMULATOR.md")).unwrap();
    assert!(blocks(&emulator).iter().any(|b| b.lang == "sh-android"));
}

#[test]
fn the_parsers_find_blocks_markers_and_commands() {
    let md = "text `finlock lender device qr D` and `finlock.server_url`\n\
              <!-- docs-test: skip (needs root) -->\n```sh\napt-get install x\n```\n\
              ```sh-android\nadb shell \"am start --es code $(finlock lender device code \\\"$D\\\")\"\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].skip.as_deref(), Some("(needs root)"));
    assert_eq!(b[1].lang, "sh-android");
    assert_eq!(
        finlock_commands(&b[1].body),
        vec![vec!["lender".to_string(), "device".into(), "code".into()]]
    );
    assert_eq!(
        inline_code(md),
        vec![
            "finlock lender device qr D".to_string(),
            "finlock.server_url".into()
        ]
    );
    assert_eq!(
        finlock_commands("finlock.server_url"),
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        finlock_commands("adb logcat -s finlock finlock-debug"),
        Vec::<Vec<String>>::new()
    );
    assert!(exists(&["lender".into(), "device".into(), "qr".into()]));
    assert!(!exists(&["lender".into(), "qr".into()]));
}
