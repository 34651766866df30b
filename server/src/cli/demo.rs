//! `finlock demo`: a financed phone's months, lived in seconds.
//!
//! One command, nothing to set up: it starts a real server in this process ([`crate::spawn`],
//! SQLite in a temporary directory, an ephemeral loopback port, a [`crate::ManualClock`]),
//! creates a lender, registers a phone with a 6-installment plan over the lender API, and
//! enrolls a simulated device that runs exactly the phone's code (`finlock_core::device`
//! and its check-in client, over HTTP). Then simulated time jumps from one moment that
//! matters to the next — the device's own next wake-up (a reminder, a check-in, a lock)
//! or the lender's next scripted action — through reminders, a payment, a missed payment,
//! overdue reminders, the lock, an offline unlock code, the payment that brings the phone
//! back, and the last payment that makes it *completing* (ADR 0012), released for good when
//! the lender's window has passed.

use std::path::PathBuf;

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::clock::ClockInput;
use finlock_core::device::{Device, EnrollParams, Evaluation};
use finlock_core::keys::KeySet;
use finlock_core::protocol::UrlPolicy;
use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::config::Config;
use crate::lenders::NewLender;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// A JSON timeline for machines instead of text.
    #[arg(long)]
    pub json: bool,
    /// The device's time zone (IANA id) for reminders and the timeline.
    #[arg(long, default_value = "Asia/Manila")]
    pub tz: String,
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
const GRACE_DAYS: i64 = 3;
const ZONE_FALLBACK: &str = "UTC";

/// The lender's scripted actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pay { installment: usize },
    OfflineCode,
    PayAndCheckNow { installment: usize },
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

struct Lender {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl Lender {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        idempotency: Option<&str>,
    ) -> Result<Value, DemoError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .json(&body);
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
}

pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let dir = scratch_dir()?;
    let result = live(&dir, &args).await;
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

async fn live(dir: &std::path::Path, args: &DemoArgs) -> Result<(), DemoError> {
    let mut tl = Timeline {
        json: args.json,
        tz: args.tz.clone(),
        events: Vec::new(),
    };
    let server_clock = ManualClock::new(START);
    let db_url = format!("sqlite://{}?mode=rwc", dir.join("finlock.db").display());
    let (_addr, server) = crate::spawn(
        Config::local(db_url, dir.join("keys")),
        server_clock.clone(),
    )
    .await?;
    let base = server.url();

    tl.note("finlock demo — a financed phone's months, lived in seconds\n");
    let lender_created = server
        .create_lender(&NewLender {
            name: "Acme Credit".into(),
            phone: "+639171234567".into(),
            email: Some("help@acme-credit.example".into()),
            payment_url: "https://pay.acme-credit.example/p".into(),
            support_url: Some("https://acme-credit.example/help".into()),
        })
        .await?;
    let lender = Lender {
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| DemoError::Lender(e.to_string()))?,
        base: base.clone(),
        api_key: lender_created.api_key.clone(),
    };
    tl.say(
        START,
        "server",
        format!("lender server at {base} (SQLite, simulated clock)"),
        json!({ "url": base }),
    );

    let dues: Vec<i64> = (1..=INSTALLMENTS)
        .map(|i| START + i * 30 * DAY + 10 * 3600)
        .collect();
    let plan = json!({
        "plan": {
            "currency": "PHP",
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
            "{} sells a phone on {} installments of {}, monthly from {}",
            "Acme Credit",
            INSTALLMENTS,
            money(INSTALLMENT_MINOR, "PHP"),
            tl.local(dues[0])
        ),
        json!({ "device_id": device_id }),
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

    let lock2 = dues[1] + GRACE_DAYS * DAY;
    let mut script: Vec<(i64, Action)> = vec![
        (dues[0] - 2 * DAY + 3 * 3600, Action::Pay { installment: 1 }),
        (lock2 + 2 * 3600, Action::OfflineCode),
        (
            lock2 + DAY + 5 * 3600,
            Action::PayAndCheckNow { installment: 2 },
        ),
    ];
    for (i, due) in dues.iter().enumerate().skip(2) {
        script.push((due - DAY + 4 * 3600, Action::Pay { installment: i + 1 }));
    }
    script.reverse(); // popped from the end

    let (mut checkins, mut reminders_shown) = (0u32, 0u32);
    let (mut was_locked, mut saw_lock, mut saw_code_unlock, mut released) =
        (false, false, false, false);
    // Paid in full: the release date the phone was told (ADR 0012), once.
    let mut completing_told: Option<i64> = None;
    let mut t = START;
    for _ in 0..20_000 {
        let reading = device.evaluate(&clock_at(t))?.reading;
        let wake = device.state().next_wakeup(&args.tz, &reading)?;
        let next_action = script.last().map(|(at, _)| *at);
        let next = match (wake.map(|w| w.at), next_action) {
            (Some(w), Some(a)) => w.min(a),
            (Some(w), None) => w,
            (None, Some(a)) => a,
            (None, None) => break,
        };
        t = next.max(t + 1);
        server_clock.set(t);

        // The lender acts.
        if next_action.is_some_and(|a| a <= t)
            && let Some((_, action)) = script.pop()
        {
            match action {
                Action::Pay { installment } | Action::PayAndCheckNow { installment } => {
                    let paid = lender
                            .call(
                                reqwest::Method::POST,
                                &format!("/v1/lender/devices/{device_id}/payments"),
                                json!({ "amount_minor": INSTALLMENT_MINOR, "currency": "PHP", "reference": format!("GCASH-{installment:04}") }),
                                Some(&format!("demo-payment-{installment}")),
                            )
                            .await?;
                    tl.say(
                            t,
                            "payment",
                            format!(
                                "installment {installment} of {INSTALLMENTS} paid ({}); balance left: {}",
                                money(INSTALLMENT_MINOR, "PHP"),
                                money((INSTALLMENT_MINOR * INSTALLMENTS as u64).saturating_sub(paid["paid_minor"].as_u64().unwrap_or(0)), "PHP")
                            ),
                            json!({ "installment": installment }),
                        );
                    if matches!(action, Action::PayAndCheckNow { .. }) {
                        let eval = client
                            .check_in(
                                &mut device,
                                || clock_at(t),
                                super::device::APP_VERSION,
                                true,
                            )
                            .await?;
                        checkins += 1;
                        tl.say(
                            t,
                            "check-now",
                            format!(
                                "the customer taps \"I have paid — check now\": {}",
                                super::device::describe(&eval.decision)
                            ),
                            json!({ "locked": eval.decision.locked }),
                        );
                        was_locked = eval.decision.locked;
                    }
                }
                Action::OfflineCode => {
                    let challenge = device.state().offline_challenge()?;
                    let answer = lender
                        .call(
                            reqwest::Method::POST,
                            &format!("/v1/lender/devices/{device_id}/offline-code"),
                            json!({ "challenge": challenge, "days": 3 }),
                            None,
                        )
                        .await?;
                    let code = answer["code"].as_str().unwrap_or_default().to_string();
                    tl.say(t, "call", format!("no data: the customer calls the lender and reads the challenge {challenge}; the lender reads back {code}"), json!({ "challenge": challenge }));
                    let accepted = device.enter_offline_code(&code, &clock_at(t))?;
                    let eval = device.evaluate(&clock_at(t))?;
                    saw_code_unlock |= !eval.decision.locked;
                    was_locked = eval.decision.locked;
                    tl.say(
                        t,
                        "code",
                        format!(
                            "unlock code accepted for {} days: {}",
                            accepted.days,
                            super::device::describe(&eval.decision)
                        ),
                        json!({ "days": accepted.days }),
                    );
                }
            }
        }

        // The phone wakes for what it asked for.
        let eval = device.evaluate(&clock_at(t))?;
        let now = eval.reading.now();
        if device.state().checkin.next_at <= now && !eval.decision.released {
            match client
                .check_in(
                    &mut device,
                    || clock_at(t),
                    super::device::APP_VERSION,
                    false,
                )
                .await
            {
                Ok(_) => checkins += 1,
                Err(e) => tl.say(
                    t,
                    "check-in",
                    format!("failed: {e}"),
                    json!({ "error": e.code() }),
                ),
            }
        }
        if let Some(r) = device.state().reminder_due(&args.tz, now)? {
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
            device.update(|s| s.mark_reminder_shown(&r.id, now))?;
        }
        let eval = device.evaluate(&clock_at(t))?;
        if eval.decision.locked != was_locked {
            was_locked = eval.decision.locked;
            if eval.decision.locked {
                saw_lock = true;
                tl.say(
                    t,
                    "LOCKED",
                    super::device::describe(&eval.decision),
                    json!({ "locked": true }),
                );
                lock_screen(&mut tl, &device, &eval)?;
            } else {
                tl.say(
                    t,
                    "unlocked",
                    "the phone is unlocked again".into(),
                    json!({ "locked": false }),
                );
            }
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
            "{checkins} check-ins and {reminders_shown} reminders over {} days",
            (t - START) / DAY
        ),
        json!({ "checkins": checkins, "reminders": reminders_shown }),
    );
    server.shutdown().await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&tl.events).unwrap_or_default()
        );
    }
    if !(saw_lock && saw_code_unlock && released && completing_told.is_some()) {
        return Err(DemoError::Story(format!(
            "lock {saw_lock}, code unlock {saw_code_unlock}, completing {}, released {released}",
            completing_told.is_some()
        )));
    }
    Ok(())
}

/// The lock screen as the phone assembles it (the core's view, English texts).
fn lock_screen(tl: &mut Timeline, device: &Device, eval: &Evaluation) -> Result<(), DemoError> {
    let v = device.state().lock_screen(eval, "en")?;
    let lines = [
        "This device is locked due to an overdue installment payment".to_string(),
        format!("{}   ☎ {}", v.payee.name, v.payee.phone),
        format!("Amount due: {}", money(v.amount_due_minor, &v.currency)),
        format!("Pay now: {}", v.payee.payment_url),
        format!(
            "Unlock code challenge: {}",
            v.offline.challenge.as_deref().unwrap_or("-")
        ),
        "[ Emergency call ]  [ Call lender ]  [ I have paid — check now ]  [ Enter unlock code ]"
            .to_string(),
    ];
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
