//! `finlock demo`: a financed phone's months, lived in seconds.
//!
//! One command, nothing to set up: it starts a real server in this process ([`crate::spawn`],
//! SQLite in a temporary directory, an ephemeral loopback port, a [`crate::ManualClock`]),
//! creates a lender, registers a phone with a 6-installment plan over the lender API, and
//! enrolls a simulated device that runs exactly the phone's code (`finlock_core::device`
//! and its check-in client, over HTTP). The phone's push distributor is a loopback listener
//! ([`distributor`]) it registers with by the server's VAPID key, as with UnifiedPush. Then
//! simulated time jumps from one moment that matters to the next — the device's own next
//! wake-up (a reminder, a check-in, a lock) or the next scripted event — through reminders,
//! payments, a missed payment and the whole ladder on one phone, under the lender's
//! `graded` compliance profile: overdue reminders, the notice page the phone shows at each
//! unlock from 7 days past due (and records: nothing more happens until the notice has been
//! on it for the profile's 7 days of its own running time, PROTOCOL §3.7), the restricted
//! level from 14 days past due (the restricted home), the lock from 30 days past due (the
//! lock screen with the payment app, saying when the notice was first shown), an offline
//! unlock code, the lock again when the code's day is over, the M-Pesa payment that brings
//! the phone back in milliseconds (the confirmation posted to the server's notification
//! endpoint, the payment recorded, an empty Web Push, the phone's check-in on it; real time
//! printed), and the last payment that makes it *completing* (ADR 0012), released for good
//! when the lender's window has passed.
//!
//! `finlock demo push-latency` ([`push_latency`]) measures that path over many phones.

mod distributor;
mod mpesa;
pub mod push_latency;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::clock::ClockInput;
use finlock_core::decision::Level;
use finlock_core::device::{Device, EnrollParams, Evaluation};
use finlock_core::keys::KeySet;
use finlock_core::protocol::UrlPolicy;
use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::config::Config;
use crate::lenders::NewLender;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DemoArgs {
    /// A measurement instead of the story.
    #[command(subcommand)]
    pub measure: Option<DemoCommand>,
    /// A JSON timeline for machines instead of text.
    #[arg(long)]
    pub json: bool,
    /// The device's time zone (IANA id) for reminders and the timeline.
    #[arg(long, default_value = "Africa/Nairobi")]
    pub tz: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// From an M-Pesa confirmation to a locked phone unlocked by its wake-up push: the real
    /// time over many simulated phones on loopback (median, p99), beside the wait for the
    /// next scheduled check-in without a push.
    PushLatency(push_latency::Args),
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("server: {0}")]
    Server(#[from] crate::Error),
    #[error("device: {0}")]
    Device(#[from] finlock_core::Error),
    #[error("lender API: {0}")]
    Lender(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the story did not unfold as expected: {0}")]
    Story(String),
}

const DAY: i64 = 86_400;
/// 2027-01-04 00:00 UTC: the phone is sold.
const START: i64 = 1_799_020_800;
const INSTALLMENT_MINOR: u64 = 250_000;
const INSTALLMENTS: i64 = 6;
/// The plan's lock, in days past due: the least `graded` allows (its lock comes 30 days
/// past due at the earliest, after the notice at 7 and the restricted step at 14).
const GRACE_DAYS: i64 = 30;
/// M-Pesa C2B is in Kenyan shillings.
const CURRENCY: &str = "KES";
/// The compliance profile the demo's lender runs under: the ladder the server signs.
/// `graded` (finlock's recommended practice, not a law) is the shipped profile with every
/// step — notice, restricted, locked — so one phone lives them all; those that follow a
/// jurisdiction either never lock in full (`in-rbi-draft`, `br-ce`) or have no restricted
/// step (`permissive`, `ph-sec-mc18`).
const DEMO_PROFILE: &str = "graded";
/// The M-Pesa app, the lender's payment app on the phone.
const MPESA_APP: &str = "com.safaricom.mpesa";
/// The account number customers type at the paybill.
const CUSTOMER_REF: &str = "ACME-0042";
const ZONE_FALLBACK: &str = "UTC";
/// The longest the demo waits for a wake-up push (it comes in milliseconds).
const PUSH_WAIT: Duration = Duration::from_secs(10);
/// Pushes arriving this soon after the first are the same wake-up (a payment that also
/// makes the plan *completing* is two events, so two pushes).
const PUSH_SETTLE: Duration = Duration::from_millis(100);

/// The scripted events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// The customer pays an installment at the lender's M-Pesa paybill.
    Pay { installment: usize },
    /// No data: the customer calls for an unlock code.
    OfflineCode,
}

struct Timeline {
    json: bool,
    tz: String,
    events: Vec<Value>,
}

impl Timeline {
    fn local(&self, t: i64) -> String {
        let Ok(ts) = jiff::Timestamp::from_second(t) else {
            return t.to_string();
        };
        let zone = jiff::tz::TimeZone::get(&self.tz)
            .or_else(|_| jiff::tz::TimeZone::get(ZONE_FALLBACK))
            .unwrap_or(jiff::tz::TimeZone::UTC);
        ts.to_zoned(zone).strftime("%a %Y-%m-%d %H:%M").to_string()
    }

    fn say(&mut self, t: i64, kind: &str, text: String, extra: Value) {
        if self.json {
            let mut e = json!({ "t": t, "kind": kind, "text": text });
            if let (Some(obj), Value::Object(more)) = (e.as_object_mut(), extra) {
                obj.extend(more);
            }
            self.events.push(e);
        } else {
            println!("{}  {kind:<10} {text}", self.local(t));
        }
    }

    fn note(&mut self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }
}

fn money(minor: u64, currency: &str) -> String {
    let units = minor / 100;
    let mut grouped = String::new();
    for (i, c) in units.to_string().chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let grouped: String = grouped.chars().rev().collect();
    format!("{currency} {grouped}.{:02}", minor % 100)
}

fn clock_at(t: i64) -> ClockInput {
    ClockInput {
        wall_ms: t * 1000,
        uptime_ms: u64::try_from((t - START) * 1000).unwrap_or(0),
        boot: 1,
    }
}

/// Milliseconds, for the timeline.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The in-process server's settings: the phone's distributor is plain http on loopback,
/// and every push goes out at once — months pass in seconds here, and the server's
/// coalescing window (one push per device per 30 s) is real time.
fn server_config(dir: &std::path::Path) -> Config {
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("finlock.db").display());
    let mut config = Config::local(db_url, dir.join("keys"));
    config.push.policy.allow_http_loopback = true;
    config.push.coalesce = Duration::ZERO;
    config
}

struct Lender {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl Lender {
    fn new(base: &str, api_key: &str) -> Result<Lender, DemoError> {
        Ok(Lender {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| DemoError::Lender(e.to_string()))?,
            base: base.to_string(),
            api_key: api_key.to_string(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        idempotency: Option<&str>,
    ) -> Result<Value, DemoError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.api_key);
        if method != reqwest::Method::GET {
            req = req.json(&body);
        }
        if let Some(key) = idempotency {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| DemoError::Lender(e.to_string()))?;
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| DemoError::Lender(e.to_string()))?;
        if !status.is_success() {
            return Err(DemoError::Lender(format!("{path}: HTTP {status}: {value}")));
        }
        Ok(value)
    }

    /// The lender's M-Pesa confirmation URL, with a new secret token (as the lender
    /// registers it with Safaricom).
    async fn mpesa_url(&self, lender_id: &str) -> Result<String, DemoError> {
        let rotated = self
            .call(
                reqwest::Method::POST,
                "/v1/lender/payment-notifications/mpesa-token/rotate",
                json!({}),
                None,
            )
            .await?;
        let token = rotated["secret"]
            .as_str()
            .ok_or_else(|| DemoError::Lender(format!("no M-Pesa token in {rotated}")))?;
        Ok(crate::payments_in::secrets::endpoint(
            &self.base,
            lender_id,
            crate::payments_in::notice::Source::Mpesa,
            Some(token),
        ))
    }

    /// What became of the notification with M-Pesa's transaction id `trans_id`.
    async fn notification(&self, trans_id: &str) -> Result<Value, DemoError> {
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let path = match &cursor {
                Some(c) => format!("/v1/lender/payment-notifications?cursor={c}"),
                None => "/v1/lender/payment-notifications".to_string(),
            };
            let page = self
                .call(reqwest::Method::GET, &path, Value::Null, None)
                .await?;
            if let Some(n) = page["notifications"]
                .as_array()
                .and_then(|all| all.iter().find(|n| n["transaction_id"] == trans_id))
            {
                return Ok(n.clone());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        Err(DemoError::Story(format!(
            "the notification {trans_id} is not in the lender's list"
        )))
    }
}

pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let dir = scratch_dir()?;
    let result = match &args.measure {
        Some(DemoCommand::PushLatency(measure)) => push_latency::run(&dir, measure).await,
        None => live(&dir, &args).await,
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn scratch_dir() -> Result<PathBuf, DemoError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("finlock-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("keys"))?;
    Ok(dir)
}

/// The simulated phone: its core, its check-in client, its push distributor.
struct Phone {
    device: Device,
    client: Client,
    pushes: distributor::Distributor,
    checkins: u32,
}

impl Phone {
    async fn check_in(&mut self, t: i64) -> Result<Evaluation, DemoError> {
        let eval = self
            .client
            .check_in(
                &mut self.device,
                || clock_at(t),
                super::device::APP_VERSION,
                false,
            )
            .await?;
        self.checkins += 1;
        Ok(eval)
    }

    /// A push arrived: what the app does — ask the core, and check in when it says so (or
    /// when a check-in is due anyway). Returns the check-in's evaluation, if one was made.
    async fn on_push(&mut self, t: i64) -> Result<Option<Evaluation>, DemoError> {
        let clock = clock_at(t);
        let now = self.device.evaluate(&clock)?.reading.now();
        let due = self.device.state().checkin.next_at <= now;
        if self.device.push_arrived(&clock)? || due {
            return Ok(Some(self.check_in(t).await?));
        }
        Ok(None)
    }
}

/// What one M-Pesa payment came to, in real time from the callback.
struct Paid {
    /// The callback's answer (the notification stored).
    answered: Duration,
    /// The first push at the distributor.
    pushed: Duration,
    body_bytes: usize,
    vapid: bool,
    /// Pushes for the same change (one wake-up).
    pushes: u32,
    /// The phone's check-in on the push, when the core allowed one.
    checked_in: Option<(Duration, Evaluation)>,
}

/// The customer pays at the paybill: M-Pesa's confirmation to the server's notification
/// endpoint, then the wake-up push at the phone and the phone's check-in on it.
async fn pay_by_mpesa(
    phone: &mut Phone,
    http: &reqwest::Client,
    url: &str,
    confirmation: &mpesa::Confirmation<'_>,
    t: i64,
) -> Result<Paid, DemoError> {
    while phone.pushes.try_next().is_some() {} // earlier wake-ups, already answered
    let started = Instant::now();
    let answered = confirmation.post(http, url).await?;
    let push = phone.pushes.next(PUSH_WAIT).await.ok_or_else(|| {
        DemoError::Story(format!(
            "no wake-up push within {} s of the payment",
            PUSH_WAIT.as_secs()
        ))
    })?;
    let checked_in = phone
        .on_push(t)
        .await?
        .map(|eval| (started.elapsed(), eval));
    let mut pushes = 1;
    let (mut body_bytes, mut vapid) = (push.body_bytes, push.vapid);
    while let Some(more) = phone.pushes.next(PUSH_SETTLE).await {
        pushes += 1;
        body_bytes = body_bytes.max(more.body_bytes);
        vapid &= more.vapid;
        // The same wake-up: the core allows no second check-in inside its window.
        phone.on_push(t).await?;
    }
    Ok(Paid {
        answered,
        pushed: push.at.saturating_duration_since(started),
        body_bytes,
        vapid,
        pushes,
        checked_in,
    })
}

async fn live(dir: &std::path::Path, args: &DemoArgs) -> Result<(), DemoError> {
    let mut tl = Timeline {
        json: args.json,
        tz: args.tz.clone(),
        events: Vec::new(),
    };
    let server_clock = ManualClock::new(START);
    let (_addr, server) = crate::spawn(server_config(dir), server_clock.clone()).await?;
    let base = server.url();

    tl.note("finlock demo — a financed phone's months, lived in seconds\n");
    let lender_created = server
        .create_lender(&NewLender {
            name: "Acme Credit".into(),
            phone: "+254711000111".into(),
            email: Some("help@acme-credit.example".into()),
            payment_url: "https://pay.acme-credit.example/p".into(),
            support_url: Some("https://acme-credit.example/help".into()),
        })
        .await?;
    let lender = Lender::new(&base, &lender_created.api_key)?;
    tl.say(
        START,
        "server",
        format!("lender server at {base} (SQLite, simulated clock)"),
        json!({ "url": base }),
    );
    let mpesa_url = lender.mpesa_url(&lender_created.lender_id).await?;
    let compliance = lender
        .call(
            reqwest::Method::PUT,
            "/v1/lender/compliance",
            json!({ "profile": DEMO_PROFILE, "payment_apps": [MPESA_APP] }),
            None,
        )
        .await?;
    tl.say(
        START,
        "compliance",
        format!(
            "the lender runs under the {} compliance profile and names its payment app \
             {MPESA_APP} (usable on a restricted or locked phone)",
            compliance["profile"].as_str().unwrap_or(DEMO_PROFILE)
        ),
        json!({ "profile": compliance["profile"], "payment_apps": compliance["payment_apps"] }),
    );
    tl.say(
        START,
        "paybill",
        "the lender registers its M-Pesa confirmation URL (the server's notification \
         endpoint, with the lender's secret token) for its paybill"
            .into(),
        json!({}),
    );

    let dues: Vec<i64> = (1..=INSTALLMENTS)
        .map(|i| START + i * 30 * DAY + 10 * 3600)
        .collect();
    let plan = json!({
        "customer_ref": CUSTOMER_REF,
        "plan": {
            "currency": CURRENCY,
            "grace_days": GRACE_DAYS,
            "offline_lock_after_days": 30,
            "installments": dues.iter().map(|d| json!({ "due": d, "amount_minor": INSTALLMENT_MINOR })).collect::<Vec<_>>(),
        }
    });
    let created = lender
        .call(reqwest::Method::POST, "/v1/lender/devices", plan, None)
        .await?;
    let device_id = created["device_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let code = created["enrollment_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    tl.say(
        START,
        "sale",
        format!(
            "{} sells a phone on {} installments of {}, monthly from {}; the customer pays \
             at the paybill with account number {CUSTOMER_REF}",
            "Acme Credit",
            INSTALLMENTS,
            money(INSTALLMENT_MINOR, CURRENCY),
            tl.local(dues[0])
        ),
        json!({ "device_id": device_id, "customer_ref": CUSTOMER_REF }),
    );

    // The phone: provisioned with the lender's keys (as by the QR code), then enrolled.
    let mut device = Device::open(dir.join("device"))?;
    let keys = KeySet::from_jwks(&lender_created.jwks)?;
    device.update(|s| s.provision(&base, keys, true))?;
    let client = Client::new(&base, UrlPolicy::DEBUG, &ClientConfig::default())?;
    let params = EnrollParams {
        enrollment_code: Some(code),
        imei: None,
        serial: None,
        model: "finlock demo phone".into(),
        android_sdk: 34,
        app_version: super::device::APP_VERSION.into(),
    };
    client
        .enroll(&mut device, &params, || clock_at(START))
        .await?;
    tl.say(
        START,
        "enrolled",
        "the phone enrolls with its one-time code; it is fully usable".into(),
        json!({}),
    );
    let mut phone = Phone {
        device,
        client,
        pushes: distributor::Distributor::start().await?,
        checkins: 0,
    };

    // UnifiedPush: the app registers with its distributor by the server's VAPID key (from
    // the enrollment answer) and hands the endpoint it gets to the core, which tells the
    // server at a check-in made for it.
    let vapid_key = phone
        .device
        .state()
        .push_key()
        .ok_or_else(|| DemoError::Story("the enrollment answer carried no push key".into()))?
        .to_string();
    let endpoint = phone
        .pushes
        .subscribe(0, &vapid_key)
        .map_err(DemoError::Story)?;
    let t_register = START + 60;
    server_clock.set(t_register);
    if phone
        .device
        .set_push_endpoint(&endpoint, &clock_at(t_register))?
    {
        phone.check_in(t_register).await?;
    }
    if !phone.device.state().push.server_has_it() {
        return Err(DemoError::Story(
            "the server did not take the push endpoint".into(),
        ));
    }
    tl.say(
        t_register,
        "push-setup",
        "the phone's push distributor (here a listener on 127.0.0.1) gives it a Web Push \
         endpoint for the server's VAPID key; the phone tells the server at a check-in"
            .into(),
        json!({ "registered": true }),
    );

    // Installment 2 goes unpaid: the notice from 7 days past due, restricted from 14,
    // locked from 30 — the day installment 3 falls due.
    let lock2 = dues[1] + GRACE_DAYS * DAY;
    let mut script: Vec<(i64, Action)> = vec![
        (dues[0] - 2 * DAY + 3 * 3600, Action::Pay { installment: 1 }),
        (lock2 + 2 * 3600, Action::OfflineCode),
        // The code's day is over and the phone locked again: the next morning the
        // customer pays at the paybill (at an odd minute: between two check-ins).
        (
            lock2 + DAY + 17 * 3600 + 17 * 60,
            Action::Pay { installment: 2 },
        ),
        // Installment 3, due the day of the lock, a few days late: well before its own
        // notice (7 days past due), so the phone stays in good standing.
        (dues[2] + 3 * DAY + 4 * 3600, Action::Pay { installment: 3 }),
    ];
    for (i, due) in dues.iter().enumerate().skip(3) {
        script.push((due - DAY + 4 * 3600, Action::Pay { installment: i + 1 }));
    }
    script.reverse(); // popped from the end

    let mut reminders_shown = 0u32;
    // The level the timeline last told (the phone's screens follow it).
    let mut was = Level::Normal;
    let (mut saw_lock, mut saw_code_unlock, mut released) = (false, false, false);
    let (mut saw_notice, mut saw_restricted) = (false, false);
    let (mut screen_shown, mut push_unlock_ms) = (false, None::<f64>);
    // Paid in full: the release date the phone was told (ADR 0012), once.
    let mut completing_told: Option<i64> = None;
    let mut t = START;
    for _ in 0..20_000 {
        let reading = phone.device.evaluate(&clock_at(t))?.reading;
        let wake = phone.device.state().next_wakeup(&args.tz, &reading)?;
        let next_action = script.last().map(|(at, _)| *at);
        let next = match (wake.map(|w| w.at), next_action) {
            (Some(w), Some(a)) => w.min(a),
            (Some(w), None) => w,
            (None, Some(a)) => a,
            (None, None) => break,
        };
        t = next.max(t + 1);
        server_clock.set(t);
        // A wake-up nobody waited for (none is expected): answered as the app would.
        while phone.pushes.try_next().is_some() {
            phone.on_push(t).await?;
        }

        // The scripted event.
        if next_action.is_some_and(|a| a <= t)
            && let Some((_, action)) = script.pop()
        {
            match action {
                Action::Pay { installment } => {
                    let locked_before = phone.device.evaluate(&clock_at(t))?.decision.locked;
                    let scheduled = phone.device.state().checkin.next_at;
                    let trans_id = mpesa::trans_id("SBR", installment);
                    let confirmation = mpesa::Confirmation {
                        trans_id: &trans_id,
                        account: CUSTOMER_REF,
                        amount_minor: INSTALLMENT_MINOR,
                        at: t,
                    };
                    let paid = pay_by_mpesa(&mut phone, &lender.http, &mpesa_url, &confirmation, t)
                        .await?;
                    let notification = lender.notification(&trans_id).await?;
                    if notification["status"] != "recorded" {
                        return Err(DemoError::Story(format!(
                            "the M-Pesa payment was not recorded: {notification}"
                        )));
                    }
                    let view = lender
                        .call(
                            reqwest::Method::GET,
                            &format!("/v1/lender/devices/{device_id}"),
                            Value::Null,
                            None,
                        )
                        .await?;
                    let paid_minor = view["paid_minor"].as_u64().unwrap_or(0);
                    tl.say(
                        t,
                        "mpesa",
                        format!(
                            "M-Pesa confirms {trans_id}: {} to the paybill, account {CUSTOMER_REF} \
                             → the server records installment {installment} of {INSTALLMENTS} \
                             (answered in {} ms); balance left: {}",
                            money(INSTALLMENT_MINOR, CURRENCY),
                            ms(paid.answered),
                            money(
                                (INSTALLMENT_MINOR * INSTALLMENTS as u64)
                                    .saturating_sub(paid_minor),
                                CURRENCY
                            )
                        ),
                        json!({
                            "installment": installment,
                            "transaction_id": trans_id,
                            "status": notification["status"],
                            "payment_id": notification["payment_id"],
                            "answered_ms": ms(paid.answered),
                        }),
                    );
                    let outcome = match &paid.checked_in {
                        Some((_, eval)) => format!(
                            "the phone checks in on it: {}",
                            super::device::describe(&eval.decision)
                        ),
                        None => "no check-in (one was made moments ago)".into(),
                    };
                    tl.say(
                        t,
                        "push",
                        format!(
                            "an empty Web Push ({} bytes, VAPID-signed{}) reaches the phone's \
                             distributor {} ms after the callback; {outcome}",
                            paid.body_bytes,
                            if paid.vapid { "" } else { " — NOT VERIFIED" },
                            ms(paid.pushed)
                        ),
                        json!({
                            "body_bytes": paid.body_bytes,
                            "vapid": paid.vapid,
                            "pushes": paid.pushes,
                            "after_callback_ms": ms(paid.pushed),
                            "checked_in": paid.checked_in.is_some(),
                        }),
                    );
                    if let Some((took, eval)) = &paid.checked_in
                        && locked_before
                        && !eval.decision.locked
                    {
                        was = eval.decision.level;
                        push_unlock_ms = Some(ms(*took));
                        tl.say(
                            t,
                            "unlocked",
                            format!(
                                "the phone is unlocked again, {} ms after M-Pesa's callback \
                                 (real time, on this machine); without the push it would have \
                                 stayed locked until its next scheduled check-in at {}, {} min \
                                 later",
                                ms(*took),
                                tl.local(scheduled),
                                (scheduled - t).max(0) / 60
                            ),
                            json!({
                                "locked": false,
                                "by": "push",
                                "after_callback_ms": ms(*took),
                                "without_push_s": (scheduled - t).max(0),
                                "next_scheduled_checkin": scheduled,
                            }),
                        );
                    }
                }
                Action::OfflineCode => {
                    let challenge = phone.device.state().offline_challenge()?;
                    let answer = lender
                        .call(
                            reqwest::Method::POST,
                            &format!("/v1/lender/devices/{device_id}/offline-code"),
                            json!({ "challenge": challenge, "days": 1 }),
                            None,
                        )
                        .await?;
                    let code = answer["code"].as_str().unwrap_or_default().to_string();
                    tl.say(t, "call", format!("no data: the customer calls the lender and reads the challenge {challenge}; the lender reads back {code}"), json!({ "challenge": challenge }));
                    let accepted = phone.device.enter_offline_code(&code, &clock_at(t))?;
                    let eval = phone.device.evaluate(&clock_at(t))?;
                    saw_code_unlock |= !eval.decision.locked;
                    was = eval.decision.level;
                    tl.say(
                        t,
                        "code",
                        format!(
                            "unlock code accepted for {} day{}: {}",
                            accepted.days,
                            if accepted.days == 1 { "" } else { "s" },
                            super::device::describe(&eval.decision)
                        ),
                        json!({ "days": accepted.days }),
                    );
                }
            }
        }

        // The phone wakes for what it asked for.
        let eval = phone.device.evaluate(&clock_at(t))?;
        let now = eval.reading.now();
        if phone.device.state().checkin.next_at <= now
            && !eval.decision.released
            && let Err(e) = phone.check_in(t).await
        {
            let code = match &e {
                DemoError::Device(e) => e.code(),
                _ => "other",
            };
            tl.say(
                t,
                "check-in",
                format!("failed: {e}"),
                json!({ "error": code }),
            );
        }
        if let Some(r) = phone.device.state().reminder_due(&args.tz, now)? {
            reminders_shown += 1;
            let due = r
                .installment_due
                .map(|d| format!(", due {}", tl.local(d)))
                .unwrap_or_default();
            tl.say(
                t,
                "reminder",
                format!(
                    "{}: {}{due}{}",
                    r.kind.as_str(),
                    money(r.amount_minor, &r.currency),
                    if r.persistent {
                        " (persistent notification)"
                    } else {
                        ""
                    }
                ),
                json!({ "reminder": r.kind.as_str() }),
            );
            phone.device.update(|s| s.mark_reminder_shown(&r.id, now))?;
        }
        let eval = phone.device.evaluate(&clock_at(t))?;
        let level = eval.decision.level;
        if level != was {
            match level {
                // A new episode's notice (after a code's day, the same episode goes on).
                Level::Notice if was == Level::Normal => {
                    saw_notice = true;
                    tl.say(
                        t,
                        "NOTICE",
                        format!(
                            "{}: the notice page now shows at each screen unlock",
                            super::device::describe(&eval.decision)
                        ),
                        json!({ "level": "notice" }),
                    );
                    screen(&mut tl, "notice_page", &phone.device, &eval, &args.tz)?;
                }
                Level::Notice => {}
                Level::Restricted => {
                    saw_restricted = true;
                    tl.say(
                        t,
                        "RESTRICTED",
                        super::device::describe(&eval.decision),
                        json!({ "level": "restricted" }),
                    );
                    screen(&mut tl, "restricted_home", &phone.device, &eval, &args.tz)?;
                }
                Level::Locked => {
                    tl.say(
                        t,
                        "LOCKED",
                        if saw_lock {
                            format!(
                                "{} — the unlock code's day is over",
                                super::device::describe(&eval.decision)
                            )
                        } else {
                            super::device::describe(&eval.decision)
                        },
                        json!({ "locked": true, "level": "locked" }),
                    );
                    saw_lock = true;
                    if !screen_shown {
                        screen_shown = true;
                        lock_screen(&mut tl, &phone.device, &eval)?;
                    }
                }
                Level::Normal => {
                    tl.say(
                        t,
                        "unlocked",
                        "the phone is in good standing again".into(),
                        json!({ "locked": false, "level": "normal" }),
                    );
                }
            }
            was = level;
        }
        if matches!(level, Level::Notice | Level::Restricted) {
            // The customer unlocks the screen: the notice page shows, and the phone records
            // its first display (the notice period runs from it, by the phone's uptime).
            phone.device.notice_shown(&clock_at(t))?;
        }
        if let Some(release_at) = eval.decision.release_at
            && completing_told != Some(release_at)
        {
            completing_told = Some(release_at);
            tl.say(
                t,
                "completing",
                format!(
                    "paid in full: unlocked, and released on {} unless the lender voids a \
                     payment first",
                    tl.local(release_at)
                ),
                json!({ "release_at": release_at }),
            );
        }
        if eval.decision.released {
            released = true;
            tl.say(
                t,
                "RELEASED",
                "paid in full: every restriction is removed, for good".into(),
                json!({ "released": true }),
            );
            break;
        }
    }
    tl.note("");
    tl.say(
        t,
        "summary",
        format!(
            "{} check-ins and {reminders_shown} reminders over {} days",
            phone.checkins,
            (t - START) / DAY
        ),
        json!({ "checkins": phone.checkins, "reminders": reminders_shown }),
    );
    drop(phone);
    server.shutdown().await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&tl.events).unwrap_or_default()
        );
    }
    if !(saw_notice
        && saw_restricted
        && saw_lock
        && saw_code_unlock
        && push_unlock_ms.is_some()
        && released
        && completing_told.is_some())
    {
        return Err(DemoError::Story(format!(
            "notice {saw_notice}, restricted {saw_restricted}, lock {saw_lock}, code unlock \
             {saw_code_unlock}, unlocked by push {}, completing {}, released {released}",
            push_unlock_ms.is_some(),
            completing_told.is_some()
        )));
    }
    Ok(())
}

/// The notice page or the restricted home as the phone shows it: the core's notice page
/// in the app's English words (the console's preview of the same screens), dates in the
/// phone's zone.
fn screen(
    tl: &mut Timeline,
    kind: &str,
    device: &Device,
    eval: &Evaluation,
    tz: &str,
) -> Result<(), DemoError> {
    use crate::console::{i18n::Lang, lock_preview};
    let page = device.state().notice_page(eval, "en")?;
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let date = |t: i64| lock_preview::date_in(t, Lang::En, &zone);
    let view = if kind == "restricted_home" {
        lock_preview::restricted_screen(&page, Lang::En, &date)
    } else {
        lock_preview::notice_screen(&page, Lang::En, &date)
    };
    let lines = view.lines();
    if tl.json {
        let apps: Vec<&String> = page.payment_apps.iter().chain(&page.essentials).collect();
        tl.events.push(json!({
            "kind": kind,
            "lines": lines,
            "restrict_from": page.restrict_from,
            "lock_from": page.lock_from,
            "apps": apps,
        }));
    } else {
        for line in super::device::framed(&lines) {
            println!("                  {line}");
        }
    }
    Ok(())
}

/// The lock screen as the phone assembles it (the core's view, English texts).
fn lock_screen(tl: &mut Timeline, device: &Device, eval: &Evaluation) -> Result<(), DemoError> {
    let v = device.state().lock_screen(eval, "en")?;
    let mut lines = vec![
        "This device is locked due to an overdue installment payment".to_string(),
        format!("{}   ☎ {}", v.payee.name, v.payee.phone),
    ];
    let amount = format!("Amount due: {}", money(v.amount_due_minor, &v.currency));
    if v.private_details {
        // Others may see the screen: the amount waits behind the button (the profile's
        // private_details); the demo shows what the customer sees on tapping it.
        lines.push(format!("[ Show details ]  → tapped: {amount}"));
    } else {
        lines.push(amount);
    }
    lines.push(format!("Pay now: {}", v.payee.payment_url));
    if !v.payment_apps.is_empty() {
        lines.push(format!(
            "Pay with one of these apps: {}",
            v.payment_apps.join(", ")
        ));
    }
    lines.push(format!(
        "Unlock code challenge: {}",
        v.offline.challenge.as_deref().unwrap_or("-")
    ));
    if let Some(at) = v.notice_first_shown {
        lines.push(format!("This notice was first shown on {}.", tl.local(at)));
    }
    lines.push(
        "[ Emergency call ]  [ Call lender ]  [ I have paid — check now ]  [ Enter unlock code ]"
            .to_string(),
    );
    if tl.json {
        tl.events
            .push(json!({ "kind": "lock_screen", "lines": lines }));
    } else {
        println!(
            "                  ┌────────────────────────────────────────────────────────────────────"
        );
        for l in lines {
            println!("                  │ {l}");
        }
        println!(
            "                  └────────────────────────────────────────────────────────────────────"
        );
    }
    Ok(())
}
