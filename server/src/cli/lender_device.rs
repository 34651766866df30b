//! `finlock lender device …`: the lender's staff on the server's command line — register a
//! financed phone, print its enrollment code and provisioning QR, lock, unlock, record a
//! payment, extend, release, answer an offline code, read a device and its audit log.
//!
//! Each subcommand is a thin call of the domain operation the JSON API calls
//! ([`crate::devices`]), on the server's database directly (`--db`, `--keys`), as one
//! lender (`--lender`), audited with the actor `cli:<lender id>`
//! ([`crate::audit::Actor::Cli`]). Input is parsed here; every rule is the domain's.
//! A refusal prints one line and exits 2, and nothing stored has changed.
//!
//! Not to be confused with `finlock device`, the simulated *phone*.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::when;
use crate::app::App;
use crate::audit::Actor;
use crate::clock::SystemClock;
use crate::config::{Config, DEFAULT_ADMIN_COMPONENT, StorageArgs};
use crate::db::Db;
use crate::db::queries::{self, DeviceRow, LenderRow};
use crate::devices::register::{PlanRequest, Registration};
use crate::devices::view::{DeviceView, ListFilter};
use crate::devices::{
    self, Caller, actions, approvals, completing, offline, payments, register, update, view, voids,
};
use crate::error::{Error, Result};
use crate::policy::PlanInstallment;
use crate::provisioning::{self, QrFormat};

#[derive(Debug, clap::Args)]
pub struct LenderDeviceArgs {
    /// The lender whose devices these are (`finlock lender list`); may be left out while
    /// the database has a single lender.
    #[arg(long, env = "FINLOCK_LENDER", global = true, value_name = "LENDER_ID")]
    pub lender: Option<String>,
    #[command(subcommand)]
    pub command: LenderDeviceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LenderDeviceCommand {
    /// Register a financed phone with its installment plan; prints its device id and the
    /// one-time enrollment code its phone enrolls with.
    Register(RegisterArgs),
    /// A page of the lender's devices (id order), optionally of one state.
    List {
        /// current, overdue, locked or released.
        #[arg(long)]
        state: Option<String>,
        /// Devices per page, 1 to 500 (default 50).
        #[arg(long)]
        limit: Option<u32>,
        /// The `next` cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One device as its lender sees it: state, plan, payments so far, locks.
    Show {
        device: String,
        #[arg(long)]
        json: bool,
    },
    /// The device's one-time enrollment code; with --new a new one (the old one stops
    /// working), e.g. for a replaced phone.
    Code {
        device: String,
        #[arg(long)]
        new: bool,
        #[arg(long)]
        json: bool,
    },
    /// The Device Owner provisioning QR code (a factory-fresh phone's setup wizard scans
    /// it): on the terminal, as PNG or SVG, or its JSON payload.
    Qr(QrArgs),
    /// Lock the phone at its next check-in, with the reason on its lock screen.
    Lock {
        device: String,
        /// Shown on the lock screen: 1-350 characters.
        #[arg(long)]
        reason: String,
    },
    /// Lift a lock you set (an overdue phone unlocks by a payment or an extension).
    Unlock { device: String },
    /// Record a payment (once per reference: running the same command again records
    /// nothing new and prints the first answer).
    Pay(PayArgs),
    /// A promise to pay: the phone locks later, at --until (at most 90 days from now).
    Extend {
        device: String,
        /// The new lock time: a date (2027-01-04), a date and time (2027-01-04T10:00Z),
        /// Unix seconds, or from now (+7d).
        #[arg(long)]
        until: String,
        /// Why (audited), 1-350 characters.
        #[arg(long)]
        reason: String,
    },
    /// Release the phone for good (terminal: it is never locked again).
    Release {
        device: String,
        /// Confirms that the release is for good.
        #[arg(long)]
        yes: bool,
    },
    /// Answer the 8-digit challenge a locked phone without data shows.
    OfflineCode {
        device: String,
        #[arg(long)]
        challenge: String,
        /// How long the code unlocks: 1, 2, 3, 7, 14 or 30 days.
        #[arg(long)]
        days: u16,
        /// Print only the code.
        #[arg(long, short)]
        quiet: bool,
    },
    /// The device's payments, oldest first (a page), voided ones marked.
    Payments {
        device: String,
        /// Payments per page, 1 to 500 (default 100).
        #[arg(long)]
        limit: Option<u32>,
        /// The `next` cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Void a payment that should not count (a bounced transfer, a mistyped amount),
    /// before the device is released; running it again changes nothing.
    Void {
        device: String,
        /// The payment's id (`finlock lender device payments DEVICE`).
        payment: String,
        /// Why (audited), 1-350 characters.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Replace the plan with one agreed with the customer: the installments already paid
    /// stay as they are; a lock earlier than the phone was told needs --allow-earlier-lock.
    Reschedule(RescheduleArgs),
    /// Let the phone enroll again by IMEI after a factory reset (on), or not (off).
    Reprovision {
        device: String,
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
    /// Change the lender's customer or contract reference (1-64 printable ASCII
    /// characters; not unique; audited with the one it replaces).
    CustomerRef {
        device: String,
        /// The new reference.
        customer_ref: String,
    },
    /// Cancel a sale whose phone never enrolled (released, its code and IMEI freed).
    Cancel {
        device: String,
        /// Why (audited), 1-350 characters.
        #[arg(long)]
        reason: String,
    },
    /// Phones asking to enroll by the device's IMEI without proof, newest first: compare
    /// the key's thumbprint with what the phone shows, then approve or refuse.
    Requests {
        device: String,
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending enrollment request: its phone enrolls at its next try.
    Approve {
        device: String,
        /// The request's id (`finlock lender device requests DEVICE`).
        request: String,
    },
    /// Refuse a pending enrollment request.
    Refuse { device: String, request: String },
    /// The device's audit log, oldest first (a page).
    Audit {
        device: String,
        /// Entries per page, 1 to 500 (default 100).
        #[arg(long)]
        limit: Option<u32>,
        /// The entries after this number (the `next` the previous page printed).
        #[arg(long)]
        after: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// The plan's ISO 4217 currency, e.g. KES.
    #[arg(long, required_unless_present = "plan")]
    pub currency: Option<String>,
    /// Days after a due date before the phone locks (0-365).
    #[arg(long, required_unless_present = "plan")]
    pub grace_days: Option<u32>,
    /// One installment as WHEN=AMOUNT_MINOR, e.g. 2027-02-01=250000 or +30d=250000
    /// (repeat for each, in due-date order).
    #[arg(
        long = "installment",
        value_name = "WHEN=AMOUNT",
        required_unless_present = "plan"
    )]
    pub installments: Vec<String>,
    /// Lock a phone that has not checked in for this many days (1-365).
    #[arg(long)]
    pub offline_lock_after_days: Option<u32>,
    /// The IMEI recorded at sale (stored only hashed); the phone may then enroll by IMEI.
    #[arg(long)]
    pub imei: Option<String>,
    /// Let the phone enroll again by IMEI after a factory reset.
    #[arg(long)]
    pub auto_reprovision: bool,
    /// The whole registration as the API takes it (JSON file, `-` for stdin) instead of
    /// the options above.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["currency", "grace_days", "installments", "offline_lock_after_days", "imei", "auto_reprovision"])]
    pub plan: Option<PathBuf>,
    /// One JSON object `{ "device_id", "enrollment_code" }`.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Print only the device id (for scripts: `DEVICE=$(finlock lender device register … -q)`).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct RescheduleArgs {
    pub device: String,
    /// Days after a due date before the phone locks (0-365).
    #[arg(long, required_unless_present = "plan")]
    pub grace_days: Option<u32>,
    /// Every installment of the new plan as WHEN=AMOUNT_MINOR, the paid ones unchanged.
    #[arg(
        long = "installment",
        value_name = "WHEN=AMOUNT",
        required_unless_present = "plan"
    )]
    pub installments: Vec<String>,
    /// Lock a phone that has not checked in for this many days (1-365).
    #[arg(long)]
    pub offline_lock_after_days: Option<u32>,
    /// The new plan as the API takes it (JSON file, `-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["grace_days", "installments", "offline_lock_after_days"])]
    pub plan: Option<PathBuf>,
    /// Why the plan changes (audited), 1-350 characters.
    #[arg(long)]
    pub reason: String,
    /// Agree to a lock earlier than the phone was told (still at least 3 days away).
    #[arg(long)]
    pub allow_earlier_lock: bool,
}

/// `finlock lender completing-window`: how long after paid in full a device is released.
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// The lender (may be left out while the database has a single lender).
    #[arg(long, env = "FINLOCK_LENDER", value_name = "LENDER_ID")]
    pub lender: Option<String>,
    /// A new window for devices paid in full from now on: 0 (released at once) to 30d,
    /// e.g. 48h or 2d; without it the current one is printed.
    #[arg(long, value_name = "DURATION")]
    pub set: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct QrArgs {
    pub device: String,
    /// text (on the terminal), png, svg or json (the payload).
    #[arg(long, default_value = "text", value_parser = ["text", "png", "svg", "json"])]
    pub format: String,
    /// Write to this file (mode 0600: the code in it enrolls a phone) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The URL phones reach the server at, e.g. https://lender.example (the emulator
    /// reaches the host as http://10.0.2.2:8080).
    #[arg(long, env = "FINLOCK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The app's device admin receiver.
    #[arg(long, env = "FINLOCK_ADMIN_COMPONENT", default_value = DEFAULT_ADMIN_COMPONENT)]
    pub admin_component: String,
    /// Where the setup wizard downloads the app (omit when the app is preloaded).
    #[arg(long, env = "FINLOCK_APK_URL")]
    pub apk_url: Option<String>,
    /// Base64url SHA-256 of the app's signing certificate (with --apk-url).
    #[arg(long, env = "FINLOCK_APK_CHECKSUM")]
    pub apk_checksum: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PayArgs {
    pub device: String,
    /// The amount in minor units (cents): 250000 is 2,500.00.
    #[arg(long)]
    pub amount_minor: u64,
    /// The lender's own reference (receipt, transaction id); one payment per reference.
    #[arg(long)]
    pub reference: String,
    /// Default: the plan's currency.
    #[arg(long)]
    pub currency: Option<String>,
    /// Record an amount above what is still owed.
    #[arg(long)]
    pub allow_overpayment: bool,
    /// One JSON object: the payment and the account after it.
    #[arg(long)]
    pub json: bool,
}

/// Runs one `finlock lender device …` command.
pub async fn run(storage: &StorageArgs, args: LenderDeviceArgs) -> Result<()> {
    let qr_config = match &args.command {
        LenderDeviceCommand::Qr(q) => Some(qr_config(storage, q)?),
        _ => None,
    };
    let db = Db::connect(&storage.db, 2).await?;
    let config = qr_config.unwrap_or_else(|| Config::local(&storage.db, &storage.keys));
    let public_url = config.public_url.clone().unwrap_or_default();
    let app = App::new(db.clone(), Arc::new(SystemClock), config, public_url);
    let done = async {
        let lender = lender(&app, args.lender.as_deref()).await?;
        command(&app, &lender, args.command).await
    }
    .await;
    db.close().await;
    done
}

/// `finlock lender completing-window [--set DURATION]`.
pub async fn completing_window(storage: &StorageArgs, args: WindowArgs) -> Result<()> {
    let set = args
        .set
        .as_deref()
        .map(|d| {
            let d = d.trim();
            if d == "0" {
                return Ok(0);
            }
            when::duration_s(d).ok_or_else(|| {
                Error::invalid("--set", "a duration like 48h, 2d or 0 (released at once)")
            })
        })
        .transpose()?;
    let db = Db::connect(&storage.db, 2).await?;
    let config = Config::local(&storage.db, &storage.keys);
    let app = App::new(db.clone(), Arc::new(SystemClock), config, String::new());
    let done = async {
        let lender = lender(&app, args.lender.as_deref()).await?;
        let window = match set {
            Some(s) => {
                let w = completing::CompletingWindow {
                    completing_window_s: s,
                };
                completing::set_window(&app, &lender.lender_id, w).await?
            }
            None => completing::window(&app, &lender.lender_id).await?,
        };
        println!(
            "{}: a device paid in full is released {} later (payments can be voided until then)",
            lender.lender_id,
            human_duration(window.completing_window_s)
        );
        Ok(())
    }
    .await;
    db.close().await;
    done
}

fn human_duration(s: i64) -> String {
    match s {
        0 => "0 s".into(),
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s => format!("{s} s"),
    }
}

/// The provisioning settings, checked as `finlock serve` checks them.
fn qr_config(storage: &StorageArgs, q: &QrArgs) -> Result<Config> {
    let Some(public_url) = q.public_url.clone() else {
        return Err(Error::invalid(
            "--public-url",
            "the URL phones reach the server at is required for a QR code \
             (or FINLOCK_PUBLIC_URL), e.g. https://lender.example",
        ));
    };
    let mut config = Config::local(&storage.db, &storage.keys);
    config.public_url = Some(public_url);
    config.admin_component.clone_from(&q.admin_component);
    config.apk_url.clone_from(&q.apk_url);
    config.apk_checksum.clone_from(&q.apk_checksum);
    config.validate().map_err(Error::BadRequest)?;
    Ok(config)
}

/// `--lender`, or the only lender there is.
pub(super) async fn lender(app: &App, id: Option<&str>) -> Result<LenderRow> {
    if let Some(id) = id {
        return queries::lender_by_id(&app.db.read, id)
            .await?
            .ok_or_else(|| Error::invalid("--lender", format!("no lender {id:?} here")));
    }
    let all = crate::lenders::list(&app.db).await?;
    match all.as_slice() {
        [only] => queries::lender_by_id(&app.db.read, &only.lender_id)
            .await?
            .ok_or(Error::NotFound),
        [] => Err(Error::invalid(
            "--lender",
            "there is no lender yet: create one with `finlock lender add`",
        )),
        many => Err(Error::invalid(
            "--lender",
            format!(
                "this database has {} lenders: name one (`finlock lender list`)",
                many.len()
            ),
        )),
    }
}

/// The lender's device `id`; anything else is named as such.
async fn device(app: &App, lender: &LenderRow, id: &str) -> Result<DeviceRow> {
    match devices::owned(app, &lender.lender_id, id).await {
        Err(Error::NotFound) => Err(Error::invalid(
            "DEVICE",
            format!("{id:?} is not a device of lender {}", lender.lender_id),
        )),
        other => other,
    }
}

fn caller(lender: &LenderRow) -> Caller<'_> {
    Caller {
        lender,
        actor: Actor::Cli {
            lender_id: &lender.lender_id,
        },
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(v).map_err(|e| Error::Internal(format!("json: {e}")))?;
    println!("{text}");
    Ok(())
}

async fn command(app: &App, lender: &LenderRow, command: LenderDeviceCommand) -> Result<()> {
    let by = caller(lender);
    match command {
        LenderDeviceCommand::Register(args) => {
            let registration = registration(&args, app.now())?;
            let created = register::register(app, by, &registration).await?;
            if args.json {
                print_json(&created)?;
            } else if args.quiet {
                println!("{}", created.device_id);
            } else {
                println!("device_id:       {}", created.device_id);
                println!("enrollment_code: {}", created.enrollment_code);
            }
        }
        LenderDeviceCommand::List {
            state,
            limit,
            cursor,
            json,
        } => {
            let filter = ListFilter {
                state: ListFilter::parse_state(state.as_deref())?,
                limit,
                cursor,
            };
            let page = view::list(app, &lender.lender_id, filter).await?;
            if json {
                print_json(&page)?;
            } else {
                for d in &page.devices {
                    println!(
                        "{}  {:<9} {}  paid {} of {}  {}",
                        d.device_id,
                        state_name(d),
                        if d.enrolled {
                            "enrolled  "
                        } else {
                            "unenrolled"
                        },
                        money(d.paid_minor, &d.currency),
                        money(d.total_minor, &d.currency),
                        d.lock_at
                            .map(|t| format!("locks at {}", when::iso_utc(t)))
                            .unwrap_or_default()
                    );
                }
                if let Some(next) = page.next_cursor {
                    println!("next: --cursor {next}");
                }
            }
        }
        LenderDeviceCommand::Show { device: id, json } => {
            let row = device(app, lender, &id).await?;
            let v = view::view(&row, app.now())?;
            if json {
                print_json(&v)?;
            } else {
                print_view(&v);
            }
        }
        LenderDeviceCommand::Code {
            device: id,
            new,
            json,
        } => {
            let row = device(app, lender, &id).await?;
            let code = if new {
                register::reissue_code(app, by, &row).await?.enrollment_code
            } else {
                row.enrollment_code.clone().ok_or_else(|| {
                    Error::conflict(
                        "no-code",
                        "this device has no enrollment code (a phone enrolled with it); \
                         --new issues one, e.g. for a replaced phone",
                    )
                })?
            };
            if json {
                print_json(&json!({ "device_id": row.device_id, "enrollment_code": code }))?;
            } else {
                println!("{code}");
            }
        }
        LenderDeviceCommand::Qr(q) => {
            let row = device(app, lender, &q.device).await?;
            qr(app, lender, &row, &q)?;
        }
        LenderDeviceCommand::Lock { device: id, reason } => {
            let row = device(app, lender, &id).await?;
            let after = actions::lock(app, by, &row, &reason).await?;
            println!("{}: locks at its next check-in ({reason})", after.device_id);
        }
        LenderDeviceCommand::Unlock { device: id } => {
            let row = device(app, lender, &id).await?;
            let after = actions::unlock(app, by, &row).await?;
            println!(
                "{}: your lock is lifted at its next check-in",
                after.device_id
            );
        }
        LenderDeviceCommand::Pay(args) => pay(app, lender, args).await?,
        LenderDeviceCommand::Extend {
            device: id,
            until,
            reason,
        } => {
            let row = device(app, lender, &id).await?;
            let until = when::parse(&until, app.now())
                .ok_or_else(|| Error::invalid("--until", when::ACCEPTED))?;
            let after = actions::extend(app, by, &row, until, &reason).await?;
            let v = view::view(&after, app.now())?;
            println!(
                "{}: locks at {} at the earliest",
                v.device_id,
                v.lock_at.map(when::iso_utc).unwrap_or_else(|| "-".into())
            );
        }
        LenderDeviceCommand::Release { device: id, yes } => {
            if !yes {
                return Err(Error::invalid(
                    "--yes",
                    "a release is for good (the phone is never locked again); add --yes",
                ));
            }
            let row = device(app, lender, &id).await?;
            let after = actions::release(app, by, &row).await?;
            println!("{}: released for good", after.device_id);
        }
        LenderDeviceCommand::OfflineCode {
            device: id,
            challenge,
            days,
            quiet,
        } => {
            let row = device(app, lender, &id).await?;
            let answer =
                offline::answer(app, by, &row, &offline::CodeRequest { challenge, days }).await?;
            if quiet {
                println!("{}", answer.code);
            } else {
                println!(
                    "{}   (read it to the customer: unlocks for {} day(s))",
                    answer.code, answer.days
                );
            }
        }
        LenderDeviceCommand::Payments {
            device: id,
            limit,
            cursor,
            json,
        } => {
            let row = device(app, lender, &id).await?;
            let (page, next) = payments::list(app, &row, cursor.as_deref(), limit).await?;
            if json {
                print_json(
                    &json!({ "device_id": row.device_id, "payments": page, "next_cursor": next }),
                )?;
            } else {
                for p in &page {
                    println!(
                        "{}  {}  {}  {}{}",
                        p.payment_id,
                        when::iso_utc(p.created_at),
                        money(p.amount_minor, &p.currency),
                        p.reference,
                        p.voided_at
                            .map(|t| format!(
                                "  VOIDED {} ({})",
                                when::iso_utc(t),
                                p.void_reason.as_deref().unwrap_or_default()
                            ))
                            .unwrap_or_default()
                    );
                }
                if let Some(next) = next {
                    println!("next: --cursor {next}");
                }
            }
        }
        LenderDeviceCommand::Void {
            device: id,
            payment,
            reason,
            json,
        } => {
            let row = device(app, lender, &id).await?;
            let body =
                match voids::void(app, by, &row, &payment, &voids::VoidRequest { reason }).await {
                    Err(Error::NotFound) => {
                        return Err(Error::invalid(
                            "PAYMENT",
                            format!("{payment:?} is not a payment of device {}", row.device_id),
                        ));
                    }
                    other => other?,
                };
            if json {
                println!("{body}");
            } else {
                let v: Value = serde_json::from_str(&body)
                    .map_err(|e| Error::Internal(format!("void answer: {e}")))?;
                println!(
                    "{}: payment {} voided; paid so far {}{}",
                    row.device_id,
                    payment,
                    money(v["paid_minor"].as_u64().unwrap_or(0), &row.currency),
                    match v["release_at"].as_i64() {
                        Some(t) =>
                            format!("; still paid in full, released at {}", when::iso_utc(t)),
                        None => String::new(),
                    }
                );
            }
        }
        LenderDeviceCommand::Reschedule(args) => {
            let row = device(app, lender, &args.device).await?;
            let plan = match &args.plan {
                Some(path) => read_json(path)?,
                None => PlanRequest {
                    currency: row.currency.clone(),
                    grace_days: args.grace_days.unwrap_or_default(),
                    offline_lock_after_days: args.offline_lock_after_days,
                    installments: args
                        .installments
                        .iter()
                        .map(|spec| installment(spec, app.now()))
                        .collect::<Result<Vec<_>>>()?,
                },
            };
            let change = update::DeviceUpdate {
                plan: Some(plan),
                reason: Some(args.reason),
                allow_earlier_lock: args.allow_earlier_lock,
                ..Default::default()
            };
            let after = update::update(app, by, &row, &change).await?;
            let v = view::view(&after, app.now())?;
            println!(
                "{}: rescheduled; {} due now, locks at {}",
                v.device_id,
                money(v.amount_due_minor, &v.currency),
                v.lock_at.map(when::iso_utc).unwrap_or_else(|| "-".into())
            );
        }
        LenderDeviceCommand::Reprovision {
            device: id,
            setting,
        } => {
            let row = device(app, lender, &id).await?;
            let change = update::DeviceUpdate {
                auto_reprovision: Some(setting == "on"),
                ..Default::default()
            };
            let after = update::update(app, by, &row, &change).await?;
            println!(
                "{}: re-provisioning by IMEI after a reset is {}",
                after.device_id,
                if after.auto_reprovision { "on" } else { "off" }
            );
        }
        LenderDeviceCommand::CustomerRef {
            device: id,
            customer_ref,
        } => {
            let row = device(app, lender, &id).await?;
            let change = update::DeviceUpdate {
                customer_ref: Some(customer_ref.clone()),
                ..Default::default()
            };
            let after = update::update(app, by, &row, &change).await?;
            println!(
                "{}: customer reference {}",
                after.device_id,
                customer_ref.trim()
            );
        }
        LenderDeviceCommand::Cancel { device: id, reason } => {
            let row = device(app, lender, &id).await?;
            let after = update::cancel(app, by, &row, &reason).await?;
            println!(
                "{}: sale cancelled (released; its code no longer works)",
                after.device_id
            );
        }
        LenderDeviceCommand::Requests { device: id, json } => {
            let row = device(app, lender, &id).await?;
            let requests = approvals::list(app, &row).await?;
            if json {
                print_json(&json!({ "device_id": row.device_id, "requests": requests }))?;
            } else if requests.is_empty() {
                println!("{}: no enrollment requests", row.device_id);
            } else {
                for r in &requests {
                    println!(
                        "{}  {:<8}  key {}  {} (Android SDK {}, app {})  last {}  {} attempt(s)",
                        r.request_id,
                        r.status,
                        r.key_thumbprint,
                        r.model,
                        r.android_sdk,
                        r.app_version,
                        when::iso_utc(r.last_seen_at),
                        r.attempts
                    );
                }
            }
        }
        LenderDeviceCommand::Approve {
            device: id,
            request,
        } => decide(app, lender, &id, &request, true).await?,
        LenderDeviceCommand::Refuse {
            device: id,
            request,
        } => decide(app, lender, &id, &request, false).await?,
        LenderDeviceCommand::Audit {
            device: id,
            limit,
            after,
            json,
        } => {
            let row = device(app, lender, &id).await?;
            let limit = i64::from(devices::page_size(limit, payments::DEFAULT_PAGE)?);
            let entries = crate::audit::list(
                &app.db.read,
                &row.device_id,
                after.unwrap_or(0).max(0),
                limit,
            )
            .await?;
            let next = (entries.len() as i64 == limit)
                .then(|| entries.last().map(|e| e.n))
                .flatten();
            if json {
                print_json(
                    &json!({ "device_id": row.device_id, "entries": entries, "next_after": next }),
                )?;
            } else {
                for e in &entries {
                    println!(
                        "{:>4}  {}  {:<24} {:<26} {}",
                        e.n,
                        when::iso_utc(e.at),
                        e.actor,
                        e.action,
                        e.detail
                    );
                }
                if let Some(next) = next {
                    println!("next: --after {next}");
                }
            }
        }
    }
    Ok(())
}

/// Approves or refuses an enrollment request of the lender's device.
async fn decide(
    app: &App,
    lender: &LenderRow,
    id: &str,
    request: &str,
    approve: bool,
) -> Result<()> {
    let row = device(app, lender, id).await?;
    let decided = match approvals::decide(app, caller(lender), &row, request, approve).await {
        Err(Error::NotFound) => {
            return Err(Error::invalid(
                "REQUEST",
                format!("{request:?} is not an enrollment request of device {id}"),
            ));
        }
        other => other?,
    };
    println!(
        "{}: request {} {} (key {})",
        row.device_id, decided.request_id, decided.status, decided.key_thumbprint
    );
    Ok(())
}

/// The registration the options (or the --plan file) describe; the rules are the domain's.
fn registration(args: &RegisterArgs, now: i64) -> Result<Registration> {
    if let Some(path) = &args.plan {
        return read_json(path);
    }
    let installments = args
        .installments
        .iter()
        .map(|spec| installment(spec, now))
        .collect::<Result<Vec<_>>>()?;
    Ok(Registration {
        imei: args.imei.clone(),
        auto_reprovision: args.auto_reprovision,
        plan: PlanRequest {
            currency: args.currency.clone().unwrap_or_default(),
            grace_days: args.grace_days.unwrap_or_default(),
            offline_lock_after_days: args.offline_lock_after_days,
            installments,
        },
        reminders: None,
        customer_ref: None,
    })
}

/// A `--plan` file (`-`: stdin) as the API's JSON body.
fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Error::invalid("--plan", format!("reading stdin: {e}")))?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::invalid("--plan", format!("{}: {e}", path.display())))?
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            "--plan",
            format!("not a plan as the lender API takes it: {e}"),
        )
    })
}

/// `WHEN=AMOUNT_MINOR`.
fn installment(spec: &str, now: i64) -> Result<PlanInstallment> {
    let bad = |rule: String| Error::invalid("--installment", format!("{spec:?}: {rule}"));
    let (due, amount) = spec
        .split_once('=')
        .ok_or_else(|| bad("WHEN=AMOUNT_MINOR, e.g. 2027-02-01=250000 or +30d=250000".into()))?;
    let due =
        when::parse(due, now).ok_or_else(|| bad(format!("the due date is {}", when::ACCEPTED)))?;
    let amount_minor = amount.trim().parse::<u64>().map_err(|_| {
        bad("the amount is a whole number of minor units (250000 = 2,500.00)".into())
    })?;
    Ok(PlanInstallment { due, amount_minor })
}

async fn pay(app: &App, lender: &LenderRow, args: PayArgs) -> Result<()> {
    let row = device(app, lender, &args.device).await?;
    let request = payments::PaymentRequest {
        amount_minor: args.amount_minor,
        currency: args.currency.unwrap_or_else(|| row.currency.clone()),
        reference: args.reference,
        allow_overpayment: args.allow_overpayment,
    };
    // One key per reference: the same command run again returns the first answer, and a
    // different amount with the same reference is refused as a reused key.
    let key = format!(
        "cli-{}",
        &crate::ids::sha256_hex(request.reference.trim().as_bytes())[..40]
    );
    let recorded = match payments::record(app, caller(lender), &row, &key, &request).await {
        Err(Error::Conflict {
            slug: "idempotency-key-reused",
            ..
        }) => {
            return Err(Error::conflict(
                "duplicate-reference",
                "a payment with this reference is already recorded for this device, \
                 with another amount or currency",
            ));
        }
        other => other?,
    };
    let answer: Value = serde_json::from_str(&recorded.body)
        .map_err(|e| Error::Internal(format!("payment answer: {e}")))?;
    if args.json {
        println!("{}", recorded.body);
        return Ok(());
    }
    let currency = answer["currency"].as_str().unwrap_or_default();
    let amount = |key: &str| money(answer[key].as_u64().unwrap_or(0), currency);
    println!(
        "{}: {} recorded ({}, reference {}); paid so far {}, due now {}{}",
        answer["device_id"].as_str().unwrap_or_default(),
        amount("amount_minor"),
        answer["payment_id"].as_str().unwrap_or_default(),
        answer["reference"].as_str().unwrap_or_default(),
        amount("paid_minor"),
        amount("amount_due_minor"),
        if answer["released"] == json!(true) {
            "; paid in full: released"
        } else {
            ""
        }
    );
    Ok(())
}

fn qr(app: &App, lender: &LenderRow, row: &DeviceRow, q: &QrArgs) -> Result<()> {
    let format = match q.format.as_str() {
        "png" => QrFormat::Png,
        "svg" => QrFormat::Svg,
        _ => QrFormat::Json,
    };
    let (_, bytes) = provisioning::for_device(app, lender, row, format)?;
    let bytes = if q.format == "text" {
        let payload = String::from_utf8(bytes)
            .map_err(|_| Error::Internal("provisioning payload is not text".into()))?;
        terminal_qr(&payload)?.into_bytes()
    } else {
        bytes
    };
    match &q.out {
        Some(path) => write_private(path, &bytes),
        None => {
            if q.format == "png" && std::io::stdout().is_terminal() {
                return Err(Error::invalid(
                    "--out",
                    "a PNG is not for the terminal: give --out FILE or redirect stdout",
                ));
            }
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| {
                    if q.format == "png" {
                        Ok(())
                    } else {
                        out.write_all(b"\n")
                    }
                })
                .and_then(|()| out.flush())
                .map_err(|e| Error::Internal(format!("stdout: {e}")))
        }
    }
}

/// The QR code in Unicode half blocks, dark on light (scannable from a terminal).
fn terminal_qr(payload: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Writes `bytes` to `path`, mode 0600 (the enrollment code in it is a credential).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::invalid("--out", format!("{}: {e}", path.display())))
}

fn state_name(v: &DeviceView) -> String {
    serde_json::to_value(v.state)
        .ok()
        .and_then(|s| s.as_str().map(String::from))
        .unwrap_or_default()
}

/// `250000` in KES → `KES 2,500.00` (the currency's own number of decimals).
pub fn money(minor: u64, currency: &str) -> String {
    let exponent = iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .unwrap_or(2);
    let scale = 10u64.pow(u32::from(exponent));
    let units = (minor / scale).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if exponent == 0 {
        format!("{currency} {grouped}")
    } else {
        format!(
            "{currency} {grouped}.{:0width$}",
            minor % scale,
            width = usize::from(exponent)
        )
    }
}

fn print_view(v: &DeviceView) {
    let t = |t: Option<i64>| t.map(when::iso_utc).unwrap_or_else(|| "-".into());
    println!("device        {}", v.device_id);
    println!("state         {}", state_name(v));
    println!(
        "enrolled      {}",
        if v.enrolled {
            format!("yes, {}", t(v.enrolled_at))
        } else {
            "no".into()
        }
    );
    println!("last check-in {}", t(v.last_checkin));
    println!(
        "paid          {} of {}; due now {}",
        money(v.paid_minor, &v.currency),
        money(v.total_minor, &v.currency),
        money(v.amount_due_minor, &v.currency)
    );
    println!("next due      {}", t(v.next_due));
    println!("locks at      {}", t(v.lock_at));
    if let Some(at) = v.release_at {
        println!(
            "released at   {} (paid in full; a void before then takes it back)",
            when::iso_utc(at)
        );
    }
    if v.lender_locked {
        println!(
            "lender lock   yes: {}",
            v.lock_reason.as_deref().unwrap_or_default()
        );
    }
    if let Some(until) = v.extended_until {
        println!("extended to   {}", when::iso_utc(until));
    }
    println!("installments");
    for i in &v.installments {
        println!(
            "  {}  {}  {}",
            when::iso_utc(i.due),
            money(i.amount_minor, &v.currency),
            serde_json::to_value(i.status)
                .ok()
                .and_then(|s| s.as_str().map(String::from))
                .unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_uses_the_currency_decimals() {
        assert_eq!(money(250_000, "KES"), "KES 2,500.00");
        assert_eq!(money(5, "KES"), "KES 0.05");
        assert_eq!(money(123_456_789, "PHP"), "PHP 1,234,567.89");
        assert_eq!(money(5_000, "JPY"), "JPY 5,000");
        assert_eq!(money(1_000, "KWD"), "KWD 1.000");
    }

    #[test]
    fn installments_are_when_equals_amount() {
        let now = 1_799_020_800;
        let i = installment("+30d=250000", now).unwrap();
        assert_eq!((i.due, i.amount_minor), (now + 30 * 86_400, 250_000));
        let i = installment("2027-02-01=5", now).unwrap();
        assert_eq!(i.due, now + 28 * 86_400);
        for bad in ["2027-02-01", "soon=5", "+30d=2.5", "+30d=-1", "=5"] {
            assert!(installment(bad, now).is_err(), "{bad}");
        }
    }
}
