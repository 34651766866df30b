//! `finlock device …`: a simulated device running exactly the code the phone runs.
//!
//! Every subcommand opens the device state in `--state DIR` with
//! [`finlock_core::device::Device`], does one thing through the same core calls the
//! Android shell makes (through the bridge), and exits: 0 when it worked, non-zero with
//! one line on stderr naming what was wrong — and then nothing stored has changed.
//!
//! Time comes from the machine (wall clock, `/proc/uptime`, the kernel's boot id), or,
//! for tests and the demo, from `FINLOCK_CLOCK="wall=<unix>,uptime_ms=<n>,boot=<id>"`.
//! Only the simulator reads that variable; the library takes clock inputs as arguments.

mod notice;
mod push;

pub use notice::framed;

use std::path::PathBuf;

use finlock_core::checkin::{self as net, Client, ClientConfig};
use finlock_core::clock::ClockInput;
use finlock_core::decision::Level;
use finlock_core::device::{Device, DeviceState, EnrollParams};
use finlock_core::keys::KeySet;
use finlock_core::protocol::{LockReason, UrlPolicy};
use serde_json::json;

/// What the simulator reports as its app version.
pub const APP_VERSION: &str = concat!("sim-", env!("CARGO_PKG_VERSION"));

/// The simulator's own options, before or after the subcommand.
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The simulated device's state directory (created when missing).
    #[arg(long, env = "FINLOCK_DEVICE_STATE", global = true, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The phone's time zone (IANA id, e.g. Africa/Nairobi) for printed times and
    /// reminders. Default: this machine's zone, else UTC.
    #[arg(long, env = "FINLOCK_DEVICE_TZ", global = true, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The phone's language (e.g. sw-KE) for what its screens say: the lender's texts, and
    /// the notice page and lock screen in the app's words (English, Swahili or Spanish;
    /// other languages in English).
    #[arg(
        long,
        env = "FINLOCK_DEVICE_LOCALE",
        global = true,
        value_name = "LANG",
        default_value = "en"
    )]
    pub locale: String,
    /// Move the phone's clock as if this much time had passed (wall clock and uptime
    /// together): +3d, -2h, +90m, +1d12h. Going back gains nothing on a phone: the
    /// trusted time never moves back.
    #[arg(
        long,
        env = "FINLOCK_CLOCK_SHIFT",
        global = true,
        value_name = "SHIFT",
        allow_hyphen_values = true
    )]
    pub clock_shift: Option<String>,
    #[command(subcommand)]
    pub command: DeviceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// Pin the lender's keys and server, and enroll with a code or a registered IMEI.
    Enroll {
        /// The lender's server, e.g. https://lender.example (http only to loopback).
        #[arg(long)]
        server: String,
        /// The lender's public JWKS file (what `finlock keys show` prints).
        #[arg(long)]
        lender_keys: PathBuf,
        /// The one-time enrollment code from the sale.
        #[arg(long, conflicts_with = "imei", required_unless_present = "imei")]
        code: Option<String>,
        /// The IMEI the lender registered (sent only hashed).
        #[arg(long)]
        imei: Option<String>,
        #[arg(long, default_value = "finlock simulator")]
        model: String,
    },
    /// Check in now; exit 0 when an entitlement was accepted.
    Checkin {
        /// "I have paid — check now": skips the backoff (at most once per 30 s).
        #[arg(long)]
        now: bool,
    },
    /// The level (normal, notice, restricted, locked), why, the dates of the steps to come,
    /// and what the lock screen would show.
    Status {
        /// One JSON object (times as Unix seconds, and in the zone under "local").
        #[arg(long)]
        json: bool,
    },
    /// Show the notice page, as the phone does at a screen unlock from the notice level on,
    /// and record that it was displayed: the phone restricts or locks only once its notice
    /// has been on it for the notice period (at least a day of running time).
    Notice {
        /// One JSON object: the level, whether the display was recorded, the page.
        #[arg(long)]
        json: bool,
    },
    /// The 8-digit offline challenge.
    Challenge,
    /// Enter an offline unlock code.
    Code { code: String },
    /// The upcoming reminders, in the phone's zone (--tz).
    Reminders {
        #[arg(long)]
        json: bool,
    },
    /// Be the phone's push distributor on loopback: register http://LISTEN/push/<random>
    /// with the server (a check-in now), and check in when a push arrives there (at most
    /// once per check-now window). The server needs --push-allow-http-loopback.
    ServePush {
        /// Where to listen (loopback only); port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Stop after this many pushes (default: until Ctrl-C).
        #[arg(long)]
        pushes: Option<u32>,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
    },
}

/// One clear line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Core(#[from] finlock_core::Error),
    #[error("{what}: {detail}")]
    Input { what: &'static str, detail: String },
    #[error("the device is locked ({0})")]
    StillLocked(String),
    /// The server refused, with its problem detail (RFC 9457) — what the lender's server
    /// says, not only its status code.
    #[error("the server refused ({status} {code}): {detail}")]
    Refused {
        status: u16,
        code: String,
        detail: String,
    },
    /// Enrollment by IMEI without proof waits for the lender (202 pending_approval); the
    /// key's thumbprint is what the lender compares with its request list.
    #[error(
        "enrollment waits for the lender's approval of this phone's key {thumbprint}: once \
         the lender approves the request (finlock lender device requests, approve), enroll again"
    )]
    PendingApproval { thumbprint: String },
}

impl SimError {
    /// Input the simulator refuses before doing anything (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, SimError::Input { .. })
    }
}

fn input(what: &'static str, detail: impl ToString) -> SimError {
    SimError::Input {
        what,
        detail: detail.to_string(),
    }
}

/// Reads `FINLOCK_CLOCK` when set, otherwise the machine's clocks.
pub fn clock_now() -> Result<ClockInput, SimError> {
    match std::env::var("FINLOCK_CLOCK") {
        Ok(spec) => parse_clock(&spec),
        Err(_) => Ok(system_clock()),
    }
}

/// `wall=<unix seconds>,uptime_ms=<n>,boot=<id>`; every part required, nothing else.
pub fn parse_clock(spec: &str) -> Result<ClockInput, SimError> {
    let bad = |detail: &str| {
        input(
            "FINLOCK_CLOCK",
            format!("{detail} (want wall=<unix>,uptime_ms=<n>,boot=<id>)"),
        )
    };
    let (mut wall, mut uptime, mut boot) = (None, None, None);
    for part in spec.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("a part without '='"))?;
        let value = value.trim();
        match key.trim() {
            "wall" => {
                wall = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| bad("wall is not an integer"))?,
                )
            }
            "uptime_ms" => {
                uptime = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("uptime_ms is not an integer"))?,
                )
            }
            "boot" => {
                boot = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| bad("boot is not an integer"))?,
                )
            }
            _ => return Err(bad("unknown part")),
        }
    }
    match (wall, uptime, boot) {
        (Some(wall), Some(uptime_ms), Some(boot)) => Ok(ClockInput {
            wall_ms: wall.saturating_mul(1000),
            uptime_ms,
            boot,
        }),
        _ => Err(bad("missing part")),
    }
}

fn system_clock() -> ClockInput {
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    // /proc/uptime counts suspend too, like Android's elapsedRealtime.
    let uptime_ms = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|secs| (secs * 1000.0) as u64)
        .unwrap_or(0);
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| {
            let d = ring::digest::digest(&ring::digest::SHA256, id.trim().as_bytes());
            let mut b = [0u8; 8];
            b.copy_from_slice(&d.as_ref()[..8]);
            u64::from_le_bytes(b)
        })
        .unwrap_or(1);
    ClockInput {
        wall_ms,
        uptime_ms,
        boot,
    }
}

/// `+3d`, `-2h`, `90m`, `+1d12h`, `30s` → milliseconds (at most ten years either way).
pub fn parse_shift(spec: &str) -> Result<i64, SimError> {
    let trimmed = spec.trim();
    let (sign, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1i64, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    super::when::duration_s(rest)
        .map(|s| sign * s * 1000)
        .ok_or_else(|| {
            input(
                "--clock-shift",
                format!("{spec:?} is not a shift like +3d, -2h, +90m, +1d12h or 30s"),
            )
        })
}

/// The clock inputs moved by a shift: the wall clock and the uptime together, as if the
/// time had passed (uptime does not go below zero).
pub fn shifted(clock: ClockInput, shift_ms: i64) -> ClockInput {
    ClockInput {
        wall_ms: clock.wall_ms.saturating_add(shift_ms),
        uptime_ms: clock.uptime_ms.saturating_add_signed(shift_ms),
        boot: clock.boot,
    }
}

/// The zone times are printed in: `--tz`, else this machine's zone, else UTC.
pub struct Zone {
    pub name: String,
    zone: jiff::tz::TimeZone,
}

impl Zone {
    pub fn new(tz: Option<&str>) -> Result<Zone, SimError> {
        match tz {
            Some(name) => {
                let zone = jiff::tz::TimeZone::get(name).map_err(|_| {
                    input(
                        "--tz",
                        format!("{name:?} is not an IANA time zone (e.g. Africa/Nairobi, UTC)"),
                    )
                })?;
                Ok(Zone {
                    name: name.to_string(),
                    zone,
                })
            }
            None => {
                let system = jiff::tz::TimeZone::try_system().ok();
                match system
                    .as_ref()
                    .and_then(|z| z.iana_name().map(String::from))
                {
                    Some(name) => Ok(Zone {
                        name,
                        zone: system.unwrap_or(jiff::tz::TimeZone::UTC),
                    }),
                    None => Ok(Zone {
                        name: "UTC".into(),
                        zone: jiff::tz::TimeZone::UTC,
                    }),
                }
            }
        }
    }

    /// The zone itself.
    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }

    /// ISO 8601 with the zone's offset, e.g. `2027-01-04T10:00:00+03:00`.
    pub fn iso(&self, t: i64) -> String {
        match jiff::Timestamp::from_second(t) {
            Ok(ts) => ts
                .to_zoned(self.zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            Err(_) => format!("{t} (not a time)"),
        }
    }
}

pub async fn run(args: DeviceArgs) -> Result<(), SimError> {
    let state = args.state.ok_or_else(|| {
        input(
            "--state",
            "the simulated device's state directory is required (or FINLOCK_DEVICE_STATE)",
        )
    })?;
    let zone = Zone::new(args.tz.as_deref())?;
    let shift_ms = args.clock_shift.as_deref().map(parse_shift).transpose()?;
    let clock = shifted(clock_now()?, shift_ms.unwrap_or(0));
    let mut device = Device::open(&state)?;
    match args.command {
        DeviceCommand::Enroll {
            server,
            lender_keys,
            code,
            imei,
            model,
        } => {
            let jwks = std::fs::read(&lender_keys).map_err(|e| input("--lender-keys", e))?;
            let keys = KeySet::from_json(&jwks)?;
            // The simulator is a debug device: plain http is fine to loopback, nowhere else.
            let transport = Transport::new(&server)?;
            // Provision unless this very provisioning is already in place (re-provisioning
            // would drop the key of an enrollment whose answer was lost).
            let same = device
                .state()
                .provisioning
                .as_ref()
                .is_some_and(|p| p.server_url == server && p.lender_keys == keys);
            if !same {
                device.update(|s| s.provision(&server, keys, true))?;
            }
            let params = EnrollParams {
                enrollment_code: code,
                imei,
                serial: None,
                model,
                android_sdk: 0,
                app_version: APP_VERSION.into(),
            };
            let out = net::begin_enroll(&mut device, &params, &ring::rand::SystemRandom::new())?;
            let (answer, problem) = transport.post("/v1/enroll", out.body).await;
            let eval = match net::finish_enroll(&mut device, answer, &clock)
                .map_err(|e| explain(e, problem))
            {
                Err(SimError::PendingApproval { .. }) => {
                    return Err(SimError::PendingApproval {
                        thumbprint: pending_thumbprint(device.state()),
                    });
                }
                other => other?,
            };
            let en = device.state().enrolled()?;
            println!(
                "enrolled as {} with {} ({})",
                en.device_id,
                en.entitlement.lender.name,
                describe(&eval.decision)
            );
        }
        DeviceCommand::Checkin { now } => {
            let eval = check_in(&mut device, &clock, now).await?;
            println!(
                "checked in: seq {}, {}",
                device.state().enrolled()?.entitlement.seq,
                describe(&eval.decision)
            );
        }
        DeviceCommand::Status { json } => {
            let eval = device.evaluate(&clock)?;
            let status = status_json(device.state(), &eval, &zone, &args.locale)?;
            if json {
                println!("{status}");
            } else {
                print_status(&status);
            }
        }
        DeviceCommand::Notice { json } => {
            notice::show(&mut device, &clock, &zone, &args.locale, json)?;
        }
        DeviceCommand::Challenge => {
            device.evaluate(&clock)?;
            println!("{}", device.state().offline_challenge()?);
        }
        DeviceCommand::Code { code } => {
            let accepted = device.enter_offline_code(&code, &clock)?;
            let eval = device.evaluate(&clock)?;
            println!(
                "code accepted: {} day(s); {}",
                accepted.days,
                describe(&eval.decision)
            );
        }
        DeviceCommand::Reminders { json } => {
            let now = device.evaluate(&clock)?.reading.now();
            let list = device.state().reminders(&zone.name, now)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&list).map_err(|e| input("json", e))?
                );
            } else if list.is_empty() {
                println!("no reminders ahead");
            } else {
                for r in list {
                    println!(
                        "{}  {:<15} {} {:.2}{}",
                        zone.iso(r.fire_at),
                        r.kind.as_str(),
                        r.currency,
                        r.amount_minor as f64 / 100.0,
                        if r.persistent { "  (persistent)" } else { "" }
                    );
                }
            }
        }
        DeviceCommand::ServePush {
            listen,
            pushes,
            wait,
        } => {
            let opts = push::Options {
                listen,
                pushes,
                wait: wait.map(std::time::Duration::from_secs),
                shift_ms: shift_ms.unwrap_or(0),
            };
            push::serve(&mut device, opts).await?;
        }
    }
    Ok(())
}

/// The clock now (`FINLOCK_CLOCK` or the machine's), moved by `--clock-shift`.
fn now_shifted(shift_ms: i64) -> Result<ClockInput, SimError> {
    Ok(shifted(clock_now()?, shift_ms))
}

/// One check-in with the provisioned server, as the phone makes it (`check_now`: the
/// customer's "check now", gated by the core).
async fn check_in(
    device: &mut Device,
    clock: &ClockInput,
    check_now: bool,
) -> Result<finlock_core::device::Evaluation, SimError> {
    let server = device
        .state()
        .provisioning
        .as_ref()
        .map(|p| p.server_url.clone())
        .ok_or(finlock_core::Error::NotEnrolled)?;
    let transport = Transport::new(&server)?;
    let rng = ring::rand::SystemRandom::new();
    let out = net::begin_check_in(device, clock, APP_VERSION, check_now, &rng)?;
    let (answer, problem) = transport.post("/v1/checkin", out.body.clone()).await;
    net::finish_check_in(device, &out, answer, clock, &rng).map_err(|e| explain(e, problem))
}

/// The RFC 7638 thumbprint of the key this phone asks to enroll with (what the lender's
/// request list shows), or `?` when there is none.
fn pending_thumbprint(state: &DeviceState) -> String {
    state
        .pending_enrollment
        .as_ref()
        .and_then(|p| p.device_key.bytes().ok())
        .and_then(|pkcs8| finlock_core::keys::DeviceKey::from_pkcs8(&pkcs8, None).ok())
        .map(|key| key.public().thumbprint())
        .unwrap_or_else(|| "?".into())
}

/// A refusal the server explained: its problem detail instead of "HTTP 409".
fn explain(e: finlock_core::Error, problem: Option<Problem>) -> SimError {
    match (&e, problem) {
        (finlock_core::Error::ServerStatus { status: 202, .. }, Some(p))
            if p.code == PENDING_APPROVAL =>
        {
            SimError::PendingApproval {
                thumbprint: String::new(),
            }
        }
        (finlock_core::Error::ServerStatus { status, .. }, Some(p)) => SimError::Refused {
            status: *status,
            code: p.code,
            detail: p.detail,
        },
        _ => SimError::Core(e),
    }
}

/// What a refusal's `application/problem+json` body said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: String,
    pub detail: String,
}

/// The largest problem body read (a problem is a few hundred bytes).
const MAX_PROBLEM_LEN: usize = 4096;

/// Moves the simulator's requests. The core's [`Client`] is what the phone uses and it
/// keeps only the status of a refusal (the phone shows its own texts); the simulator, a
/// tool for testers, also shows what the server said. Everything else is the phone's:
/// the URL rule, no proxy, no redirects, HTTP/1.1, the deadline and the answer's bounds,
/// and the answer is judged by the core (`finish_enroll`, `finish_check_in`).
struct Transport {
    http: reqwest::Client,
    base: String,
}

impl Transport {
    fn new(server_url: &str) -> Result<Transport, SimError> {
        // The phone's rule for the URL (and TLS set-up), checked by the phone's own client.
        Client::new(server_url, UrlPolicy::DEBUG, &ClientConfig::default())?;
        finlock_core::checkin::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(net::DEADLINE)
            .connect_timeout(net::DEADLINE)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .user_agent(concat!("finlock-simulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| finlock_core::Error::ServerUnreachable {
                reason: "could not set up the HTTP client",
            })?;
        Ok(Transport {
            http,
            base: server_url.trim_end_matches('/').to_string(),
        })
    }

    /// POSTs a compact JWS: the body of a usable 200 answer, or the failure as the core
    /// names it and, for a refusal, the server's problem detail.
    async fn post(
        &self,
        path: &str,
        jws: String,
    ) -> (Result<Vec<u8>, finlock_core::Error>, Option<Problem>) {
        use finlock_core::Error as E;
        let sent = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/jose")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(jws)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                let reason = if e.is_timeout() {
                    "deadline passed"
                } else if e.is_connect() {
                    "connection failed"
                } else {
                    "transport error"
                };
                return (Err(E::ServerUnreachable { reason }), None);
            }
        };
        let status = response.status().as_u16();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if status != 200 {
            let retry_after_s = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = read_bounded(&mut response, MAX_PROBLEM_LEN).await.ok();
            let problem = body.and_then(|b| parse_problem(&b));
            return (
                Err(E::ServerStatus {
                    status,
                    retry_after_s,
                }),
                problem,
            );
        }
        if is_json.as_deref() != Some("application/json") {
            let reason = "not application/json";
            return (Err(E::ServerAnswerInvalid { reason }), None);
        }
        match read_bounded(&mut response, net::MAX_ANSWER_LEN).await {
            Ok(body) => (Ok(body), None),
            Err(reason) => (Err(E::ServerAnswerInvalid { reason }), None),
        }
    }
}

async fn read_bounded(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, &'static str> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > max => return Err("answer too large"),
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(_) => return Err("answer cut short"),
        }
    }
}

/// The `status` of a 202 answer to an enrollment by IMEI that waits for the lender.
const PENDING_APPROVAL: &str = "pending_approval";

/// `detail` and `code` of a problem body, as printable text (a hostile server could send
/// anything: control characters are dropped, the length bounded); a pending enrollment's
/// answer as the code `pending_approval`.
pub fn parse_problem(body: &[u8]) -> Option<Problem> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v.get("status").and_then(|s| s.as_str()) == Some(PENDING_APPROVAL) {
        return Some(Problem {
            code: PENDING_APPROVAL.into(),
            detail: String::new(),
        });
    }
    let clean = |s: &str, max: usize| -> String {
        s.chars().filter(|c| !c.is_control()).take(max).collect()
    };
    let detail = v.get("detail")?.as_str()?;
    let code = v.get("code").and_then(|c| c.as_str()).unwrap_or("problem");
    Some(Problem {
        code: clean(code, 64),
        detail: clean(detail, 500),
    })
}

/// The level in a few words: "unlocked", "NOTICE (overdue_payment)", "NOTICE
/// (lender_request), held: the notice page was never displayed", "RESTRICTED
/// (overdue_payment)", "LOCKED (overdue_payment), clock suspect", "released for good".
pub fn describe(d: &finlock_core::decision::Decision) -> String {
    let suspect = if d.clock_suspect {
        ", clock suspect"
    } else {
        ""
    };
    if d.released {
        return "released for good".into();
    }
    match d.level {
        Level::Normal => "unlocked".into(),
        Level::Notice => format!(
            "NOTICE ({}){}",
            reason_str(d.reason),
            match (d.held_for_notice, d.notice_first_shown) {
                (false, _) => "",
                (true, None) => ", held: the notice page was never displayed",
                (true, Some(_)) => ", held: the notice has not been on the phone long enough",
            }
        ),
        Level::Restricted => format!("RESTRICTED ({}){suspect}", reason_str(d.reason)),
        Level::Locked => format!("LOCKED ({}){suspect}", reason_str(d.reason)),
    }
}

/// The level's name as the protocol writes it.
pub fn level_str(level: Level) -> &'static str {
    match level {
        Level::Normal => "normal",
        Level::Notice => "notice",
        Level::Restricted => "restricted",
        Level::Locked => "locked",
    }
}

fn reason_str(r: Option<LockReason>) -> &'static str {
    match r {
        Some(LockReason::OverduePayment) => "overdue_payment",
        Some(LockReason::LenderRequest) => "lender_request",
        Some(LockReason::Offline) => "offline",
        None => "none",
    }
}

/// What `status --json` prints: the decision and what the lock screen shows, from the
/// core's views ([`DeviceState::status`], [`DeviceState::lock_screen`]) — the same the
/// phone's bridge converts for the Kotlin shell.
pub fn status_json(
    s: &DeviceState,
    eval: &finlock_core::device::Evaluation,
    zone: &Zone,
    locale: &str,
) -> Result<serde_json::Value, SimError> {
    let status = s.status(eval);
    let d = &status.evaluation.decision;
    let mut out = json!({
        "enrolled": status.enrollment.is_some(),
        "level": level_str(d.level),
        "locked": d.locked,
        "reason": d.reason.map(|r| reason_str(Some(r))),
        "held_for_notice": d.held_for_notice,
        "notice_first_shown": d.notice_first_shown,
        "restrict_from": d.restrict_from,
        "lock_from": d.lock_from,
        "clock_suspect": d.clock_suspect,
        "released": d.released,
        "trusted_now": status.evaluation.reading.now(),
        "next_change": d.next_change,
        "release_at": d.release_at,
        "next_checkin": status.next_checkin,
    });
    if let Some(en) = &status.enrollment {
        let screen = s.lock_screen(eval, locale)?;
        let page = s.notice_page(eval, locale)?;
        out["payment_apps"] = json!(page.payment_apps);
        out["essentials"] = json!(page.essentials);
        out["device_id"] = json!(en.device_id);
        out["state"] = json!(en.state);
        out["seq"] = json!(en.seq);
        out["lock_at"] = json!(en.lock_at);
        out["amount_due_minor"] = json!(screen.amount_due_minor);
        out["currency"] = json!(screen.currency);
        out["next_due"] = json!(screen.next_due);
        out["lender"] = json!({
            "name": screen.payee.name,
            "phone": screen.payee.phone,
            "email": screen.lender_email,
            "payment_url": screen.payee.payment_url,
            "support_url": screen.support_url,
        });
        out["offline_tries_left"] = json!(screen.offline.tries_left);
        out["pending_events"] = json!(en.pending_events);
    }
    let local = |key: &str| out[key].as_i64().map(|t| zone.iso(t));
    out["local"] = json!({
        "tz": zone.name,
        "trusted_now": local("trusted_now"),
        "next_change": local("next_change"),
        "next_checkin": local("next_checkin"),
        "lock_at": local("lock_at"),
        "next_due": local("next_due"),
        "release_at": local("release_at"),
        "notice_first_shown": local("notice_first_shown"),
        "restrict_from": local("restrict_from"),
        "lock_from": local("lock_from"),
    });
    Ok(out)
}

fn print_status(v: &serde_json::Value) {
    if v["enrolled"] != json!(true) {
        println!("not enrolled");
        return;
    }
    let reason = v["reason"].as_str().unwrap_or("?");
    let state = if v["released"] == json!(true) {
        "released for good".to_string()
    } else if let Some(at) = v["local"]["release_at"].as_str() {
        format!("unlocked; paid in full, released for good at {at}")
    } else {
        match v["level"].as_str() {
            Some("locked") => format!("LOCKED ({reason})"),
            Some("restricted") => format!("RESTRICTED ({reason})"),
            Some("notice") if v["held_for_notice"] == json!(true) => format!(
                "NOTICE ({reason}); held until the notice has been on the phone for its notice period"
            ),
            Some("notice") => format!("NOTICE ({reason})"),
            _ => "unlocked".to_string(),
        }
    };
    let local = |key: &str| v["local"][key].as_str().unwrap_or("-").to_string();
    println!(
        "device        {}  seq {}",
        v["device_id"].as_str().unwrap_or("?"),
        v["seq"]
    );
    println!(
        "state         {state}{}",
        if v["clock_suspect"] == json!(true) {
            " — check the date and time"
        } else {
            ""
        }
    );
    println!(
        "lender        {}  {}",
        v["lender"]["name"].as_str().unwrap_or("?"),
        v["lender"]["phone"].as_str().unwrap_or("?")
    );
    println!(
        "due           {}",
        super::lender_device::money(
            v["amount_due_minor"].as_u64().unwrap_or(0),
            v["currency"].as_str().unwrap_or("?")
        )
    );
    println!(
        "pay at        {}",
        v["lender"]["payment_url"].as_str().unwrap_or("?")
    );
    println!("now           {}", local("trusted_now"));
    println!("next due      {}", local("next_due"));
    println!("locks at      {}", local("lock_at"));
    if v["level"] != json!("normal") && v["released"] != json!(true) {
        println!(
            "notice shown  {}",
            v["local"]["notice_first_shown"]
                .as_str()
                .unwrap_or("never (shown at the next screen unlock: finlock device notice)")
        );
        println!("restricted    {}", local("restrict_from"));
        println!("locked from   {}", local("lock_from"));
    }
    let apps = |key: &str| {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|a| !a.is_empty())
    };
    if let Some(apps) = apps("payment_apps") {
        println!("payment apps  {apps}");
    }
    if let Some(apps) = apps("essentials") {
        println!("essentials    {apps}");
    }
    println!("next change   {}", local("next_change"));
    println!("next check-in {}", local("next_checkin"));
    println!(
        "time zone     {}",
        v["local"]["tz"].as_str().unwrap_or("UTC")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_spec_parses_and_rejects() {
        let c = parse_clock("wall=1767225600,uptime_ms=5000,boot=3").unwrap();
        assert_eq!(
            (c.wall_ms, c.uptime_ms, c.boot),
            (1_767_225_600_000, 5000, 3)
        );
        for bad in [
            "",
            "wall=1",
            "wall=x,uptime_ms=1,boot=1",
            "wall=1,uptime_ms=-1,boot=1",
            "wall=1,uptime_ms=1,boot=1,zone=2",
            "wall:1",
        ] {
            assert!(parse_clock(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clock_shifts_parse_with_sign_and_units() {
        assert_eq!(parse_shift("+3d").unwrap(), 3 * 86_400_000);
        assert_eq!(parse_shift("3d").unwrap(), 3 * 86_400_000);
        assert_eq!(parse_shift("-2h").unwrap(), -2 * 3_600_000);
        assert_eq!(parse_shift("+90m").unwrap(), 90 * 60_000);
        assert_eq!(parse_shift("1d12h").unwrap(), 36 * 3_600_000);
        assert_eq!(parse_shift("30s").unwrap(), 30_000);
        for bad in [
            "",
            "+",
            "3",
            "3x",
            "d",
            "+-3d",
            "3d4",
            "99999999999999999999d",
            "3651d",
        ] {
            assert!(parse_shift(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shift_moves_wall_and_uptime_together() {
        let c = ClockInput {
            wall_ms: 1_000_000,
            uptime_ms: 5_000,
            boot: 7,
        };
        let later = shifted(c, 60_000);
        assert_eq!(
            (later.wall_ms, later.uptime_ms, later.boot),
            (1_060_000, 65_000, 7)
        );
        let earlier = shifted(c, -60_000);
        assert_eq!((earlier.wall_ms, earlier.uptime_ms), (940_000, 0));
    }

    #[test]
    fn times_are_iso_8601_in_the_zone() {
        let nairobi = Zone::new(Some("Africa/Nairobi")).unwrap();
        assert_eq!(nairobi.iso(1_799_020_800), "2027-01-04T03:00:00+03:00");
        let utc = Zone::new(Some("UTC")).unwrap();
        assert_eq!(utc.iso(0), "1970-01-01T00:00:00+00:00");
        assert!(Zone::new(Some("Mars/Olympus")).is_err());
        assert!(!Zone::new(None).unwrap().name.is_empty());
    }

    #[test]
    fn a_problem_body_gives_its_detail_as_printable_text() {
        let p = parse_problem(
            br#"{"type":"urn:finlock:problem:released","code":"released","detail":"this device is released\u001b[31m"}"#,
        )
        .unwrap();
        assert_eq!(p.code, "released");
        assert_eq!(p.detail, "this device is released[31m");
        assert!(parse_problem(b"<html>").is_none());
        assert!(parse_problem(br#"{"code":"x"}"#).is_none());
    }
}
