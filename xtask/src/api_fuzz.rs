//! `cargo xtask api-fuzz`: schemathesis, driven by the server's own `/openapi.json`, against
//! a real `finlock serve` on a free loopback port with a real lender and its API key.
//!
//! The set-up goes through the `finlock` CLI on a fresh SQLite database under
//! `target/api-fuzz`: a lender (its API key), a spare API key, devices (one to read and
//! change, one to release, one to cancel) and a payment, so path ids exist. The server runs
//! with `--checkin-min-interval 0` and `--enroll-per-address 0`, so the fuzzer is answered,
//! not told 429. schemathesis (pinned, in the project-local virtualenv
//! [`VENV`], installed by `cargo xtask install`) runs every phase with the checks
//! [`CHECKS`]; any failure fails the task. The real ids are used for 9 requests in 10, so
//! unknown ids are tried too. A hooks file (written next to the run) sends the
//! device API's `application/jose` bodies as text, keeps the fuzzer from revoking its own
//! key or releasing the device it reads, and records every status served, so the task ends
//! with the documented statuses no request reached.
//!
//! The device endpoints take signed bodies a schema fuzzer cannot make; they are fuzzed
//! with validly signed, mutated messages by the server suite (`device_fuzz.rs`).

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::steps::human;

/// The task's name.
pub const TASK: &str = "api-fuzz";
/// The schemathesis `cargo xtask install` installs (PyPI).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// The virtualenv it is installed into, relative to the workspace root.
pub const VENV: &str = "build/schemathesis";
/// Test cases per operation of `--smoke` (the `api-fuzz` step of `cargo xtask test`).
pub const SMOKE_EXAMPLES: u32 = 50;
/// Test cases per operation when neither `--examples` nor `--seconds` is given.
const DEFAULT_EXAMPLES: u32 = 100;
/// What every response is checked for.
pub const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,ignored_auth";

pub const DETAILS: &str = "\
Usage: cargo xtask api-fuzz [--examples N | --seconds N | --smoke] [--no-install]

Builds `finlock`, sets up a lender (its API key), devices and a payment with the `finlock`
CLI on a fresh SQLite database in target/api-fuzz, starts `finlock serve` on a free
127.0.0.1 port (check-in and enrollment limits off), and runs schemathesis 4.32.5 (from
the virtualenv build/schemathesis, which `cargo xtask install` fills from PyPI) against its
/openapi.json with the lender's key: the examples, coverage, fuzzing and stateful phases,
checked for not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, response_headers_conformance and ignored_auth. Prints
schemathesis' summary, then the documented statuses that no request reached.
Fails on any failure schemathesis reports, or when the server dies.

  --examples N   test cases per operation (default 100)
  --seconds N    a time budget for the whole run instead (fuzzing and stateful phases repeat)
  --smoke        50 per operation: the `api-fuzz` step of `cargo xtask test`

The device API's signed bodies are fuzzed validly signed and mutated by the server suite
(server/tests/suite/device_fuzz.rs).";

/// How much fuzzing to do.
#[derive(Debug, PartialEq)]
enum Budget {
    Examples(u32),
    Seconds(u32),
}

fn parse_args(args: &[&OsString]) -> Result<Budget, String> {
    let mut budget = None;
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = it.next() {
        let mut number = |what: &str| -> Result<u32, String> {
            it.next()
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{what} needs a whole number above 0"))
        };
        let next = match arg.as_ref() {
            "--examples" => Budget::Examples(number("--examples")?),
            "--seconds" => Budget::Seconds(number("--seconds")?),
            "--smoke" => Budget::Examples(SMOKE_EXAMPLES),
            other => return Err(format!("unexpected argument '{other}'")),
        };
        if budget.replace(next).is_some() {
            return Err("give one of --examples, --seconds, --smoke".into());
        }
    }
    Ok(budget.unwrap_or(Budget::Examples(DEFAULT_EXAMPLES)))
}

/// The hooks schemathesis loads: `application/jose` as text, the fuzzer's own key and
/// read device protected from revocation and release, every (operation, status) recorded.
/// Run as a script, it prints the documented statuses never recorded.
const HOOKS: &str = r#"import json, os, sys, threading

if __name__ != "__main__":
    import schemathesis

    schemathesis.serializer.alias("application/jose", "text/plain")

    # Hypothesis reads a filter's lambda source to narrow its strategy, parsing whole
    # schemathesis modules with `ast`; on Python 3.11 that parse can fail inside CPython
    # with "SystemError: AST constructor recursion depth mismatch" (cpython#106905), which
    # schemathesis reports as an error of the operation although no request was sent.
    # The description is only an optimisation: without it Hypothesis filters as usual.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    try:
        from hypothesis.internal import lambda_sources as _ls
        _describe = _ls._lambda_description

        def _lambda_description(f, *args, **kwargs):
            try:
                return _describe(f, *args, **kwargs)
            except (SystemError, RecursionError):
                return "lambda: <unknown>"

        _ls._lambda_description = _lambda_description
    except (ImportError, AttributeError):
        pass

    _LOCK = threading.Lock()
    _SEEN = os.environ["FINLOCK_API_FUZZ_SEEN"]
    with open(os.environ["FINLOCK_API_FUZZ_PROTECT"]) as f:
        _PROTECT = json.load(f)

    @schemathesis.hook
    def before_call(context, case, kwargs):
        # Keep the run testing: never revoke or rotate the fuzzer's own key, never
        # release or cancel the device every other operation reads.
        for rule in _PROTECT:
            if case.operation.path.startswith(rule["path"]) and \
                    (case.path_parameters or {}).get("id") == rule["id"]:
                case.path_parameters["id"] = rule["instead"]

    @schemathesis.hook
    def after_call(context, case, response):
        with _LOCK, open(_SEEN, "a") as f:
            f.write(f"{case.operation.method.upper()} {case.operation.path} {response.status_code}\n")

if __name__ == "__main__":
    doc = json.load(open(sys.argv[1]))
    seen = set(tuple(line.split()) for line in open(sys.argv[2]) if line.strip())
    missing = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status in op.get("responses", {}):
                if (method.upper(), path, status) not in seen:
                    missing.append((status, method.upper(), path))
    documented = sum(len(op.get("responses", {})) for i in doc["paths"].values() for op in i.values())
    print(f"api-fuzz: {documented - len(missing)} of {documented} documented statuses reached; not reached:")
    for status in sorted({s for s, _, _ in missing}):
        ops = [f"{m} {p}" for s, m, p in missing if s == status]
        print(f"  {status} ({len(ops)}): " + ", ".join(ops))
"#;

/// Runs the task; `args` are its own options.
pub fn main(root: &Path, cargo: &OsString, args: &[&OsString]) -> ExitCode {
    let budget = match parse_args(args) {
        Ok(b) => b,
        Err(why) => {
            eprintln!("error: {why}\n\n{DETAILS}");
            return ExitCode::from(2);
        }
    };
    match run(root, cargo, &budget) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("api-fuzz: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The `finlock` binary and the run's database and keys.
struct Finlock {
    exe: PathBuf,
    dir: PathBuf,
}

impl Finlock {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.env(
            "FINLOCK_DB",
            format!("sqlite://{}", self.dir.join("finlock.db").display()),
        )
        .env("FINLOCK_KEYS", self.dir.join("keys"))
        .env("FINLOCK_LOG_LEVEL", "warn")
        .env_remove("FINLOCK_LOG")
        .env_remove("RUST_LOG");
        c
    }

    /// Runs `finlock ARGS` and returns its standard output.
    fn output(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .command()
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not run finlock: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "finlock {} failed ({})",
                args.join(" "),
                out.status
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The string value of `"key":"…"` in a flat JSON text (the CLI's `--json` output; ids and
/// keys hold no escapes).
fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// The ids the fuzzer's paths use.
struct Fixture {
    api_key: String,
    own_key_id: String,
    spare_key_id: String,
    device: String,
    release_device: String,
    cancel_device: String,
    payment: String,
}

fn set_up(finlock: &Finlock) -> Result<Fixture, String> {
    let lender = finlock.output(&[
        "lender",
        "add",
        "Fuzz Lender",
        "--phone",
        "+254700000001",
        "--payment-url",
        "https://pay.lender.example/p",
        "--json",
    ])?;
    let api_key = json_str(&lender, "api_key").ok_or("no api_key from `lender add --json`")?;
    let lender_id = json_str(&lender, "lender_id").ok_or("no lender_id")?;
    let spare = finlock.output(&["lender", "api-key", "add", &lender_id, "spare"])?;
    let spare_key_id = key_id_line(&spare).ok_or("no key_id from `api-key add`")?;
    let list = finlock.output(&["lender", "api-key", "list", &lender_id])?;
    let own_key_id = list
        .lines()
        .find(|l| l.trim_end().ends_with(" initial"))
        .and_then(|l| l.split_whitespace().next())
        .ok_or("no initial key in `api-key list`")?
        .to_string();
    let register = || {
        finlock
            .output(&[
                "lender",
                "device",
                "register",
                "--currency",
                "KES",
                "--grace-days",
                "7",
                "--offline-lock-after-days",
                "30",
                "--installment",
                "+30d=1000",
                "--installment",
                "+60d=1000",
                "-q",
            ])
            .map(|s| s.trim().to_string())
    };
    let device = register()?;
    let release_device = register()?;
    let cancel_device = register()?;
    let paid = finlock.output(&[
        "lender",
        "device",
        "pay",
        &device,
        "--amount-minor",
        "100",
        "--reference",
        "fuzz-1",
        "--json",
    ])?;
    let payment = json_str(&paid, "payment_id").ok_or("no payment_id from `pay --json`")?;
    Ok(Fixture {
        api_key,
        own_key_id,
        spare_key_id,
        device,
        release_device,
        cancel_device,
        payment,
    })
}

/// `key_id:  key-…` of `finlock lender api-key add`.
fn key_id_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("key_id:"))
        .map(|v| v.trim().to_string())
}

/// schemathesis' configuration: the hooks, and the real ids for the paths, used for 9 in
/// 10 requests (the others get generated ids, so unknown ones are tried too).
fn config(fx: &Fixture, hooks: &Path) -> String {
    let mut text = format!("hooks = \"{}\"\n", hooks.display());
    let ids = [
        ("device", &fx.device),
        ("payment", &fx.payment),
        ("spare_key", &fx.spare_key_id),
        ("release_device", &fx.release_device),
        ("cancel_device", &fx.cancel_device),
    ];
    for (name, id) in ids {
        text.push_str(&format!("\n[dictionaries.{name}]\nvalues = [\"{id}\"]\n"));
    }
    let bind = |dictionary: &str| format!("{{ dictionary = \"{dictionary}\", probability = 0.9 }}");
    text.push_str(&format!(
        "\n[parameters]\n\"path.id\" = {}\n\"path.rid\" = {}\n",
        bind("device"),
        bind("payment")
    ));
    for (path, dictionary) in [
        ("/v1/lender/api-keys/{id}/", "spare_key"),
        ("/v1/lender/devices/{id}/release", "release_device"),
        ("/v1/lender/devices/{id}/cancel", "cancel_device"),
    ] {
        text.push_str(&format!(
            "\n[[operations]]\ninclude-path-regex = \"^{}\"\nparameters = {{ \"path.id\" = {} }}\n",
            path.replace('{', "\\\\{").replace('}', "\\\\}"),
            bind(dictionary)
        ));
    }
    text
}

/// What the hooks swap: (path prefix, protected id, the id used instead).
fn protect(fx: &Fixture) -> String {
    let rule = |path: &str, id: &str, instead: &str| {
        format!("{{\"path\": \"{path}\", \"id\": \"{id}\", \"instead\": \"{instead}\"}}")
    };
    format!(
        "[{}, {}, {}]",
        rule("/v1/lender/api-keys/", &fx.own_key_id, &fx.spare_key_id),
        rule(
            "/v1/lender/devices/{id}/release",
            &fx.device,
            &fx.release_device
        ),
        rule(
            "/v1/lender/devices/{id}/cancel",
            &fx.device,
            &fx.cancel_device
        ),
    )
}

/// A `finlock serve` that is killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The status of `GET path` (HTTP/1.0, no client library), if anything answered.
fn get_status(port: u16, path: &str, bearer: Option<&str>) -> Option<u16> {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = bearer.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn run(root: &Path, cargo: &OsString, budget: &Budget) -> Result<(), String> {
    let started = Instant::now();
    let st = root.join(VENV).join("bin/schemathesis");
    let python = root.join(VENV).join("bin/python");
    if !st.is_file() {
        return Err(format!(
            "{} is missing: run `cargo xtask install` (schemathesis {SCHEMATHESIS_VERSION} from PyPI)",
            st.display()
        ));
    }
    crate::tools::run(
        Command::new(cargo)
            .args([
                "build",
                "--locked",
                "-p",
                "finlock-server",
                "--bin",
                "finlock",
            ])
            .current_dir(root),
    )?;
    let target = crate::tools::target_dir(root);
    let dir = target.join("api-fuzz");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let finlock = Finlock {
        exe: target.join("debug/finlock"),
        dir: dir.clone(),
    };
    let fx = set_up(&finlock)?;

    let port = free_port()?;
    let log = fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
    let mut serve = finlock.command();
    serve
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--checkin-min-interval", "0", "--enroll-per-address", "0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let mut server = Server(serve.spawn().map_err(|e| format!("finlock serve: {e}"))?);
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_status(port, "/healthz", None) != Some(200) {
        if Instant::now() > deadline || server.0.try_wait().ok().flatten().is_some() {
            return Err(format!(
                "finlock serve did not answer /healthz (see {})",
                dir.join("serve.log").display()
            ));
        }
        thread::sleep(Duration::from_millis(100));
    }

    let hooks = dir.join("hooks.py");
    let seen = dir.join("seen.txt");
    let protect_file = dir.join("protect.json");
    let config_file = dir.join("schemathesis.toml");
    fs::write(&hooks, HOOKS).map_err(|e| e.to_string())?;
    fs::write(&protect_file, protect(&fx)).map_err(|e| e.to_string())?;
    fs::write(&config_file, config(&fx, &hooks)).map_err(|e| e.to_string())?;
    fs::write(&seen, "").map_err(|e| e.to_string())?;

    let mut fuzz = Command::new(&st);
    fuzz.arg("--config-file")
        .arg(&config_file)
        .arg("--no-color")
        .arg("run")
        .arg(format!("http://127.0.0.1:{port}/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {}", fx.api_key)])
        .args(["--checks", CHECKS])
        .args(["--workers", "2", "--generation-database", "none"])
        .args(["--output-sanitize", "true", "--max-failures", "50"])
        .env("FINLOCK_API_FUZZ_SEEN", &seen)
        .env("FINLOCK_API_FUZZ_PROTECT", &protect_file)
        .current_dir(&dir);
    match budget {
        Budget::Examples(n) => fuzz.args(["--max-examples", &n.to_string()]),
        Budget::Seconds(s) => fuzz.args(["--max-time", &s.to_string()]),
    };
    println!(
        "api-fuzz: schemathesis {SCHEMATHESIS_VERSION} against http://127.0.0.1:{port} ({budget:?}); \
         server log in {}",
        dir.join("serve.log").display()
    );
    let status = fuzz
        .status()
        .map_err(|e| format!("could not run schemathesis: {e}"))?;
    let alive = server.0.try_wait().ok().flatten().is_none()
        && get_status(port, "/healthz", None) == Some(200);
    let key_works = get_status(port, "/v1/lender/devices", Some(&fx.api_key)) == Some(200);

    // The documented statuses no request reached.
    let doc = dir.join("openapi.json");
    let mut body = Vec::new();
    if let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
        let _ = write!(s, "GET /openapi.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let _ = s.read_to_end(&mut body);
    }
    drop(server);
    let text = String::from_utf8_lossy(&body);
    if let Some((_, json)) = text.split_once("\r\n\r\n") {
        fs::write(&doc, json).map_err(|e| e.to_string())?;
        let _ = Command::new(&python)
            .arg(&hooks)
            .arg(&doc)
            .arg(&seen)
            .status();
    }
    let requests = fs::read_to_string(&seen).map_or(0, |s| s.lines().count());
    println!(
        "api-fuzz: {requests} requests in {}",
        human(started.elapsed())
    );
    if !alive {
        return Err("the server died during the run".into());
    }
    if !key_works {
        return Err("the fuzzer's API key stopped working during the run".into());
    }
    if !status.success() {
        return Err(format!("schemathesis reported failures ({status})"));
    }
    println!("api-fuzz: passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Budget, String> {
        let owned: Vec<OsString> = list.iter().map(OsString::from).collect();
        let refs: Vec<&OsString> = owned.iter().collect();
        parse_args(&refs)
    }

    #[test]
    fn one_budget_is_read_from_the_command_line() {
        assert_eq!(args(&[]), Ok(Budget::Examples(DEFAULT_EXAMPLES)));
        assert_eq!(args(&["--examples", "7"]), Ok(Budget::Examples(7)));
        assert_eq!(args(&["--seconds", "60"]), Ok(Budget::Seconds(60)));
        assert_eq!(args(&["--smoke"]), Ok(Budget::Examples(SMOKE_EXAMPLES)));
        assert!(args(&["--examples"]).is_err());
        assert!(args(&["--examples", "0"]).is_err());
        assert!(args(&["--seconds", "x"]).is_err());
        assert!(args(&["--smoke", "--examples", "3"]).is_err());
        assert!(args(&["--fast"]).is_err());
    }

    #[test]
    fn the_clis_json_and_key_lines_are_read() {
        let lender = r#"{"lender_id":"lnd-1","api_key":"flk_x","jwks":{"keys":[]}}"#;
        assert_eq!(json_str(lender, "api_key").as_deref(), Some("flk_x"));
        assert_eq!(json_str(lender, "lender_id").as_deref(), Some("lnd-1"));
        assert_eq!(json_str(lender, "missing"), None);
        let added = "key_id:  key-6qv4\napi_key: flk_y   (shown once)\n";
        assert_eq!(key_id_line(added).as_deref(), Some("key-6qv4"));
    }
}
