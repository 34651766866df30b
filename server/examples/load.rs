//! Load benchmark: check-ins per second against a real server on SQLite.
//!
//! ```text
//! cargo run --release -p finlock-server --example load -- [--devices 2000] [--duration 10]
//!     [--concurrency 64] [--db sqlite://…|postgres://…] [--keep-rate-limit] [--checkins-only]
//! ```
//! Starts `finlock serve` in-process (its own 2-thread runtime, SQLite in a temporary
//! directory unless `--db` is given), registers and enrolls `--devices` simulated
//! phones through the real API (each runs the phone's own core), pre-signs their
//! check-in bodies (so signing does not load the client), then drives check-ins with
//! `--concurrency` keep-alive connections for `--duration` seconds and prints
//! check-ins/s with p50/p99 latency — and the same client against `/healthz`.
//!
//! The per-device rate limit (one check-in per 10 s) would need rate × duration
//! devices (50,000 for 10 s at 5,000/s); by default the benchmark sets the server's
//! `checkin_min_interval_s` to 0 so a few thousand devices can check in repeatedly
//! — every check-in still runs the full path, including the rate-limit guard in SQL.
//! `--keep-rate-limit` keeps 10 s, so each device checks in at most once.
//!
//! **The floor.** A check-in cannot cost less than verifying the phone's signature and
//! signing the answer. After the load phases the benchmark measures exactly that with
//! ring, on one of the run's own check-in bodies and on an entitlement of the size the
//! server answered with, in the same process and hour, and prints the server's CPU per
//! check-in (its runtime's threads plus SQLite's) as a multiple of it, and the server's
//! CPU per `/healthz` (the HTTP stack, the runtime and one read, no signature) as the
//! part of any request that signature work cannot remove.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use finlock_core::clock::ClockInput;
use finlock_core::device::{DeviceState, EnrollParams};
use finlock_core::keys::KeySet;
use finlock_server::{Config, NewLender, SystemClock};
use serde_json::{Value, json};

/// The allocator of the `finlock` binary, so the benchmark measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    devices: usize,
    duration: u64,
    concurrency: usize,
    db: Option<String>,
    keep_rate_limit: bool,
    /// Skip the /healthz phase (a profile of the check-in alone).
    checkins_only: bool,
}

const USAGE: &str = "\
usage: load [--devices N (2000)] [--duration S (10)] [--concurrency C (64)]
            [--db sqlite://…|postgres://…] [--keep-rate-limit] [--checkins-only]
  --db               the server's database (default: SQLite in a temporary directory);
                     a postgres:// URL of a cluster on this machine adds its processes' CPU
  --keep-rate-limit  the real 10 s per-device limit (each device checks in once: use
                     enough --devices for rate × duration)
  --checkins-only    skip the /healthz phase (for perf record)";

fn args() -> Args {
    let mut a = Args {
        devices: 2_000,
        duration: 10,
        concurrency: 64,
        db: None,
        keep_rate_limit: false,
        checkins_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--devices" => a.devices = value().parse().unwrap_or(a.devices),
            "--duration" => a.duration = value().parse().unwrap_or(a.duration),
            "--concurrency" => a.concurrency = value().parse().unwrap_or(a.concurrency),
            "--db" => a.db = Some(value()),
            "--keep-rate-limit" => a.keep_rate_limit = true,
            "--checkins-only" => a.checkins_only = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

struct Phase {
    ok: u64,
    failed: u64,
    /// What the failures were: status and problem slug (or the client's error), counted.
    failures: std::collections::BTreeMap<String, u64>,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

impl Phase {
    fn report(&mut self, what: &str) {
        self.latencies_us.sort_unstable();
        let pct = |p: f64| {
            let n = self.latencies_us.len();
            if n == 0 {
                return 0.0;
            }
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
            f64::from(self.latencies_us[i]) / 1000.0
        };
        println!(
            "{what:<10} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} ok, {} failed, {:.1} s)",
            self.ok as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            self.ok,
            self.failed,
            self.elapsed.as_secs_f64()
        );
    }
}

/// Sends the requests `next(task, i)` yields from `concurrency` tasks for `duration`.
async fn drive(
    concurrency: usize,
    duration: Duration,
    make: Arc<dyn Fn(usize, usize) -> Option<reqwest::RequestBuilder> + Send + Sync>,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (stop, failed, make) = (stop.clone(), failed.clone(), make.clone());
        let failures = failures.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let Some(req) = make(t, i) else { break };
                i += 1;
                let sent = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                    other => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let what = match other {
                            Ok(r) => {
                                let status = r.status();
                                let body = r.text().await.unwrap_or_default();
                                let slug = serde_json::from_str::<Value>(&body)
                                    .ok()
                                    .and_then(|v| v["type"].as_str().map(str::to_string))
                                    .unwrap_or(body);
                                format!("{status} {slug}")
                            }
                            Err(e) => format!("client error: {e}"),
                        };
                        if let Ok(mut f) = failures.lock() {
                            *f.entry(what).or_insert(0) += 1;
                        }
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap_or_default());
    }
    let elapsed = start.elapsed();
    let failures = failures.lock().map(|f| f.clone()).unwrap_or_default();
    Phase {
        ok: latencies_us.len() as u64,
        failed: failed.load(Ordering::Relaxed),
        failures,
        latencies_us,
        elapsed,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    let dir = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("load.db").display()));
    let mut config = Config::local(db.clone(), dir.path().join("keys"));
    if !args.keep_rate_limit {
        config.checkin_min_interval_s = 0;
    }
    // Thousands of devices enroll from this one address: the per-address enroll limit
    // is not what is measured.
    config.enroll_per_address = 0;
    // The server gets its own runtime with two workers, like `finlock serve` on this machine.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()?;
    let (addr, handle) =
        server_rt.block_on(finlock_server::spawn(config, Arc::new(SystemClock)))?;
    let lender = server_rt.block_on(handle.create_lender(&NewLender {
        name: "Load Test Credit".into(),
        phone: "+254700000001".into(),
        email: None,
        payment_url: "https://pay.example/p".into(),
        support_url: None,
    }))?;
    let url = format!("http://{addr}");
    println!(
        "finlock load benchmark: {} devices, {} connections, {} s per phase, db {}",
        args.devices,
        args.concurrency,
        args.duration,
        db.split(':').next().unwrap_or("?")
    );

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("client")
        .enable_all()
        .build()?;
    client_rt.block_on(async move {
        let http = {
            finlock_core::checkin::install_crypto_provider();
            reqwest::Client::builder()
        }
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
        let keys = KeySet::from_jwks(&lender.jwks)?;
        let setup = Instant::now();
        // Register and enroll every device through the real API.
        let mut phones = Vec::with_capacity(args.devices);
        // One entitlement as the server signs them, for the floor's message size.
        let mut entitlement = String::new();
        let chunk = 64;
        for start in (0..args.devices).step_by(chunk) {
            let mut batch = Vec::new();
            for _ in start..(start + chunk).min(args.devices) {
                let (http, url, key, keys) = (
                    http.clone(),
                    url.clone(),
                    lender.api_key.clone(),
                    keys.clone(),
                );
                batch.push(tokio::spawn(async move {
                    enroll(&http, &url, &key, keys).await
                }));
            }
            for b in batch {
                let (phone, signed) = b.await?.map_err(|e| e.to_string())?;
                phones.push(phone);
                entitlement = signed;
            }
        }
        let enrolled_in = setup.elapsed();
        // Pre-sign check-in bodies: enough for the target rate with headroom.
        let per_device = if args.keep_rate_limit {
            1
        } else {
            ((8_000 * args.duration as usize) / args.devices).max(1) + 1
        };
        let sign_start = Instant::now();
        let rng = ring::rand::SystemRandom::new();
        let mut bodies: Vec<Vec<String>> = Vec::with_capacity(args.devices);
        for (n, phone) in phones.iter_mut().enumerate() {
            let mut mine = Vec::with_capacity(per_device);
            for k in 0..per_device {
                let clock = ClockInput {
                    wall_ms: now_ms(),
                    uptime_ms: 10_000 + (n * per_device + k) as u64,
                    boot: 1,
                };
                mine.push(phone.checkin_request(&clock, "1.0.0", &rng)?.body);
            }
            bodies.push(mine);
        }
        println!(
            "setup: {} devices enrolled in {:.1} s ({:.0}/s); {} check-in bodies signed in {:.1} s",
            args.devices,
            enrolled_in.as_secs_f64(),
            args.devices as f64 / enrolled_in.as_secs_f64(),
            args.devices * per_device,
            sign_start.elapsed().as_secs_f64()
        );

        // Task t owns devices t, t+C, t+2C, …: no two requests for one device at once.
        let bodies = Arc::new(bodies);
        let concurrency = args.concurrency.min(args.devices);
        let checkin_url = format!("{url}/v1/checkin");
        let make = {
            let (http, bodies) = (http.clone(), bodies.clone());
            Arc::new(move |t: usize, i: usize| {
                let mine = bodies.len().div_ceil(concurrency);
                let owned = (0..mine)
                    .map(|j| t + j * concurrency)
                    .filter(|d| *d < bodies.len())
                    .count();
                if owned == 0 {
                    return None;
                }
                let device = t + (i % owned) * concurrency;
                let round = i / owned;
                let body = bodies[device].get(round)?.clone();
                Some(
                    http.post(&checkin_url)
                        .header("content-type", "application/jose")
                        .body(body),
                )
            })
        };
        let postgres_port = db
            .strip_prefix("postgres://")
            .and_then(|rest| rest.split(['/', '?']).next())
            .and_then(|host| host.rsplit_once(':'))
            .map(|(_, port)| port.to_string());
        let cpu_before = thread_cpu();
        let pg_before = postgres_port.as_deref().map(postgres_cpu_ms);
        let mut checkins = drive(concurrency, Duration::from_secs(args.duration), make).await;
        let cpu = cpu_delta(&cpu_before, &thread_cpu());
        let pg_ms = pg_before
            .zip(postgres_port.as_deref().map(postgres_cpu_ms))
            .map(|(before, after)| after - before);
        // A benchmark of failing requests measures nothing: any failure fails the run.
        if checkins.failed > 0 || checkins.ok == 0 {
            return Err(format!(
                "{} check-ins failed, {} succeeded: {:?}",
                checkins.failed, checkins.ok, checkins.failures
            )
            .into());
        }
        let health_url = format!("{url}/healthz");
        let make = {
            let http = http.clone();
            Arc::new(move |_t: usize, _i: usize| Some(http.get(&health_url)))
        };
        checkins.report("check-ins");
        // The same connections against /healthz: what a request costs the server with no
        // signature and no write — the HTTP stack, the kernel and one read through the pool.
        let mut health_us = None;
        if !args.checkins_only {
            let before = thread_cpu();
            let mut health = drive(concurrency, Duration::from_secs(args.duration), make).await;
            let spent = cpu_delta(&before, &thread_cpu());
            health.report("/healthz");
            if health.ok > 0 {
                health_us = Some(server_ms(&spent) * 1000.0 / health.ok as f64);
            }
        }
        if checkins.ok > 0 && !cpu.is_empty() {
            let per_checkin = |ms: f64| ms * 1000.0 / checkins.ok as f64;
            let per: Vec<String> = cpu
                .iter()
                .map(|(group, ms)| format!("{group} {:.0} µs", per_checkin(*ms)))
                .collect();
            println!("CPU per check-in by thread group: {}", per.join(", "));
            let server_us = per_checkin(server_ms(&cpu));
            let request = bodies.first().and_then(|b| b.first()).cloned().unwrap_or_default();
            let floor = floor::measure(signing_input(&request), signing_input(&entitlement));
            println!(
                "floor (ring, same run): verify {:.1} µs + sign {:.1} µs = {:.1} µs per check-in",
                floor.verify_us,
                floor.sign_us,
                floor.total_us()
            );
            if let Some(health_us) = health_us {
                // Not a strict bound (a check-in writes, batched, where /healthz reads one
                // by one), but the part of a check-in no signature work can remove.
                println!(
                    "server CPU per /healthz {health_us:.0} µs (HTTP, the runtime and one read through the pool; no signature, no write) = {:.2}× the floor beside it",
                    health_us / floor.total_us()
                );
            }
            match pg_ms {
                None => println!(
                    "server CPU per check-in {server_us:.0} µs (every thread but the client's) = {:.2}× the floor",
                    server_us / floor.total_us()
                ),
                Some(pg_ms) => {
                    let pg_us = per_checkin(pg_ms);
                    println!(
                        "server CPU per check-in {server_us:.0} µs (finlock) + {pg_us:.0} µs (PostgreSQL's processes) = {:.2}× the floor ({:.2}× for finlock alone)",
                        (server_us + pg_us) / floor.total_us(),
                        server_us / floor.total_us()
                    );
                }
            }
        }
        http.get(format!("{url}/metrics"))
            .send()
            .await?
            .text()
            .await?
            .lines()
            .filter(|l| l.starts_with("finlock_checkins_total"))
            .for_each(|l| println!("  {l}"));
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    server_rt.block_on(handle.shutdown())?;
    Ok(())
}

async fn enroll(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
    keys: KeySet,
) -> Result<(DeviceState, String), Box<dyn std::error::Error + Send + Sync>> {
    let installments: Vec<Value> = (1..=12)
        .map(|i| json!({ "due": 1_900_000_000 + i * 2_592_000, "amount_minor": 250_000 }))
        .collect();
    let created: Value = http
        .post(format!("{url}/v1/lender/devices"))
        .bearer_auth(api_key)
        .json(
            &json!({ "plan": { "currency": "KES", "grace_days": 7, "offline_lock_after_days": 30,
                                 "installments": installments } }),
        )
        .send()
        .await?
        .json()
        .await?;
    let code = created["enrollment_code"]
        .as_str()
        .ok_or("no enrollment code")?;
    let mut phone = DeviceState::default();
    phone.provision(url, keys, true)?;
    let rng = ring::rand::SystemRandom::new();
    let out = phone.enroll_request(
        &EnrollParams {
            enrollment_code: Some(code.to_string()),
            imei: None,
            serial: None,
            model: "Load Phone".into(),
            android_sdk: 34,
            app_version: "1.0.0".into(),
        },
        &rng,
    )?;
    let answer = http
        .post(format!("{url}/v1/enroll"))
        .header("content-type", "application/jose")
        .body(out.body)
        .send()
        .await?
        .bytes()
        .await?;
    let clock = ClockInput {
        wall_ms: now_ms(),
        uptime_ms: 5_000,
        boot: 1,
    };
    phone.complete_enrollment(&answer, &clock)?;
    let signed = serde_json::from_slice::<Value>(&answer)?["entitlement"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok((phone, signed))
}

/// The part of a compact JWS its signature covers (`header.payload`).
fn signing_input(jws: &str) -> &[u8] {
    jws.rsplit_once('.')
        .map_or(jws, |(input, _)| input)
        .as_bytes()
}

/// What one check-in costs at the least: ring's Ed25519 verify of the request and sign
/// of the answer, each timed over many rounds on messages of the run's own sizes.
mod floor {
    use ring::signature::{self, Ed25519KeyPair, KeyPair};

    pub struct Floor {
        pub verify_us: f64,
        pub sign_us: f64,
    }

    impl Floor {
        pub fn total_us(&self) -> f64 {
            self.verify_us + self.sign_us
        }
    }

    const ROUNDS: u32 = 5_000;

    /// This thread's CPU time in seconds: the floor is CPU time like the server's figure,
    /// so a busy machine (a compile beside the run) does not inflate one side only.
    fn thread_cpu_s() -> f64 {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec; the clock id is a constant.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
        t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
    }

    pub fn measure(request: &[u8], answer: &[u8]) -> Floor {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("a fresh Ed25519 key");
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the key just made");
        let public =
            signature::UnparsedPublicKey::new(&signature::ED25519, key.public_key().as_ref());
        let signed = key.sign(request);
        let start = thread_cpu_s();
        let mut ok = 0u32;
        for _ in 0..ROUNDS {
            ok += u32::from(public.verify(request, signed.as_ref()).is_ok());
        }
        let verify_us = (thread_cpu_s() - start) * 1e6 / f64::from(ROUNDS);
        assert_eq!(ok, ROUNDS, "every verify succeeds");
        let start = thread_cpu_s();
        let mut bytes = 0usize;
        for _ in 0..ROUNDS {
            bytes += key.sign(std::hint::black_box(answer)).as_ref().len();
        }
        let sign_us = (thread_cpu_s() - start) * 1e6 / f64::from(ROUNDS);
        assert_eq!(bytes, 64 * ROUNDS as usize);
        Floor { verify_us, sign_us }
    }
}

/// CPU time (ms) per thread group of this process, from /proc (Linux only; empty elsewhere).
/// Groups: the server's runtime, the client's runtime, SQLite's worker threads, other.
fn thread_cpu() -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    let tick_ms = 10.0; // USER_HZ = 100 on Linux
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the ")" that closes comm: state is field 3; utime 14, stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        let comm = comm.trim();
        let group = if comm.starts_with("server") {
            "server"
        } else if comm.starts_with("client") {
            "client"
        } else if comm.starts_with("sqlx-sqlite") {
            "sqlite"
        } else {
            "other"
        };
        *out.entry(group.to_string()).or_insert(0.0) += ticks * tick_ms;
    }
    out
}

/// CPU time (ms) of the PostgreSQL cluster listening on `port` on this machine: its
/// postmaster (found by `-p PORT` or `port=PORT` on its command line) and every process it
/// started (backends, WAL writer, checkpointer). 0 when none is found (a remote server).
fn postgres_cpu_ms(port: &str) -> f64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut stats = Vec::new();
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let Some((comm, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        if !comm.starts_with("postgres") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid: u32 = fields.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        let ticks: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let listens = args.windows(2).any(|w| w[0] == "-p" && w[1] == port)
            || args.iter().any(|a| {
                a.split_whitespace()
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| w[0] == "-p" && w[1] == port)
                    || a == &format!("port={port}")
            });
        stats.push((pid, ppid, ticks, listens));
    }
    let Some(postmaster) = stats.iter().find(|s| s.3).map(|s| s.0) else {
        return 0.0;
    };
    stats
        .iter()
        .filter(|s| s.0 == postmaster || s.1 == postmaster)
        .map(|s| s.2 * 10.0)
        .sum()
}

/// The CPU milliseconds of every thread group but the client's: a thread the server
/// starts counts too.
fn server_ms(cpu: &[(String, f64)]) -> f64 {
    cpu.iter()
        .filter(|(group, _)| group != "client")
        .map(|(_, ms)| ms)
        .sum()
}

fn cpu_delta(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> Vec<(String, f64)> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .collect()
}
