//! The `finlock` command line. The server's commands (`serve`, `lender …`, `keys …`,
//! `backup`) take one storage configuration (`--db`, `--keys`, or `FINLOCK_DB`,
//! `FINLOCK_KEYS`; see [`storage`]); `device` and `demo` are the device simulator and the
//! walkthrough (feature `simulator`, on by default; see ADR 0008) and take only their own
//! options.

pub mod backup;
pub mod compliance;
#[cfg(feature = "simulator")]
pub mod demo;
#[cfg(feature = "simulator")]
pub mod device;
pub mod import;
pub mod keys;
pub mod lender_device;
pub mod notifications;
pub mod staff;
pub mod storage;
pub mod webhooks;
pub mod when;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::api_keys;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LogArgs, ServeArgs};
use crate::db::Db;
use crate::lenders::{self, NewLender};
use storage::{LeadingStorageOpts, StorageOpts};

#[derive(Debug, Parser)]
#[command(
    name = "finlock",
    version,
    about = "finlock: the lender server, its tools, a device simulator and a demo"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: LeadingStorageOpts,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the lender server (device API, lender API, /metrics, /openapi.json).
    Serve(ServeCommand),
    /// Manage lenders, their API keys and their financed devices.
    Lender(LenderArgs),
    /// A lender's signing keys: show, list, rotate, retire, export, import (ADR 0007).
    Keys(KeysArgs),
    /// Copy the SQLite database consistently while the server runs (PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// A lender's console accounts: add (invitation link or password), list, change a role,
    /// disable, log out everywhere.
    Staff(staff::StaffArgs),
    /// A simulated phone running the phone's own core, against a lender server.
    #[cfg(feature = "simulator")]
    Device(device::DeviceArgs),
    /// Start a server and live through a financed phone's months in seconds.
    #[cfg(feature = "simulator")]
    Demo(demo::DemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeCommand {
    #[command(flatten)]
    pub storage: StorageOpts,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, clap::Args)]
pub struct LenderArgs {
    #[command(flatten)]
    pub storage: StorageOpts,
    #[command(subcommand)]
    pub command: LenderCommand,
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub storage: StorageOpts,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum LenderCommand {
    /// Create a lender: its signing key (a 0600 file in the keys directory), its API key
    /// (printed once, stored only as a hash) and its public JWKS.
    Add(LenderAddArgs),
    /// List the lenders: id, name, active API keys.
    List {
        /// One JSON array for scripts.
        #[arg(long, conflicts_with = "quiet")]
        json: bool,
        /// Only the lender ids, one a line (`finlock keys show "$(finlock lender list -q)"`).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Manage a lender's API keys (one per integration or staff member).
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// A lender's financed phones on the server's database: register, enrollment code and
    /// QR, lock and unlock, payments and voids, extensions and reschedules, release,
    /// offline codes, enrollment requests, the audit log (audited as `cli:<lender>`).
    Device(lender_device::LenderDeviceArgs),
    /// How long after paid in full a lender's devices are released (payments can be voided
    /// until then): print it, or --set it (e.g. 48h; 0 releases at once).
    CompletingWindow(lender_device::WindowArgs),
    /// Bulk import from CSV, all rows or none: devices with plans (`sales`) or a payments
    /// statement (`payments`); every bad row is printed with its line and nothing stored.
    Import(import::ImportArgs),
    /// Payments in: notifications from payment providers (list those held, assign one to a
    /// device) and the notification secrets (list, rotate-secret, rotate-mpesa-token).
    Notifications(notifications::NotificationsArgs),
    /// Webhooks out: the lender's endpoints (add with a secret printed once, list, rotate,
    /// delete), the delivery log, redelivering a dead one, the days before device.silent.
    Webhooks(webhooks::WebhooksArgs),
    /// The compliance profile the lender's phones are signed under (the shipped profiles,
    /// show, set) and its payment apps; docs/COMPLIANCE.md.
    Compliance(compliance::ComplianceArgs),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a named API key; its secret is printed once.
    Add {
        /// The lender id.
        lender: String,
        /// Who or what uses the key (1-64 characters).
        name: String,
    },
    /// List a lender's API keys (never their secrets).
    List {
        /// The lender id.
        lender: String,
    },
    /// Replace a key by a new one with the same name; the old one stops working.
    Rotate {
        /// The lender id.
        lender: String,
        /// The key id (from `api-key list`).
        key_id: String,
    },
    /// Revoke a key at once (not the lender's last active one).
    Revoke {
        /// The lender id.
        lender: String,
        /// The key id (from `api-key list`).
        key_id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct LenderAddArgs {
    /// The lender's name as the lock screen shows it (1-80 characters).
    pub name: String,
    /// Support phone number, `+` and 6-15 digits.
    #[arg(long, env = "FINLOCK_LENDER_PHONE")]
    pub phone: String,
    /// Where customers pay (https).
    #[arg(long, env = "FINLOCK_LENDER_PAYMENT_URL")]
    pub payment_url: String,
    #[arg(long, env = "FINLOCK_LENDER_EMAIL")]
    pub email: Option<String>,
    #[arg(long, env = "FINLOCK_LENDER_SUPPORT_URL")]
    pub support_url: Option<String>,
    /// Print one JSON object `{ "lender_id", "api_key", "jwks" }` for scripts.
    #[arg(long)]
    pub json: bool,
}

pub use keys::KeysCommand;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The device simulator and the demo use reqwest with rustls; ring is its provider.
    #[cfg(feature = "simulator")]
    finlock_core::checkin::install_crypto_provider();
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("finlock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("finlock: {e}");
            if is_usage_error(e.as_ref()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A setting that would fail later, or input the command refuses (a rule broken, an
/// unknown device, a state that forbids it): the usage exit code 2, and nothing stored
/// changed. Everything else (the database unreachable, a bug) is 1.
fn is_usage_error(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.downcast_ref::<crate::SettingsError>().is_some() {
        return true;
    }
    #[cfg(feature = "simulator")]
    if let Some(sim) = e.downcast_ref::<device::SimError>() {
        return sim.is_usage();
    }
    match e.downcast_ref::<crate::Error>() {
        Some(crate::Error::Db(_) | crate::Error::Internal(_)) => false,
        Some(_) => true,
        None => false,
    }
}

/// Logs go to stderr. `FINLOCK_LOG` (or `RUST_LOG`), when set, is the filter; otherwise
/// `--log-level`, by default `info` — and `warn` for `demo` unless `-v`, so a newcomer's
/// first screen is the story, not log lines. Colour only on a terminal, never with
/// `NO_COLOR`; `--log-format json` writes one JSON object per line.
fn init_logging(cli: &Cli) {
    use std::io::IsTerminal;
    let quiet_by_default = is_demo(&cli.command) && !cli.log.verbose;
    let filter = std::env::var("FINLOCK_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| match &cli.log.log_level {
            Some(level) => level.clone(),
            None if quiet_by_default => "warn".into(),
            None => "info".into(),
        });
    let filter = tracing_subscriber::EnvFilter::new(filter);
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cli.log.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.with_ansi(colour).try_init()
    };
}

#[cfg(feature = "simulator")]
fn is_demo(command: &Command) -> bool {
    matches!(command, Command::Demo(_))
}

#[cfg(not(feature = "simulator"))]
fn is_demo(_: &Command) -> bool {
    false
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let leading = cli.storage;
    match cli.command {
        Command::Serve(ServeCommand { storage, serve }) => {
            let config = Config::new(storage::resolve(&leading, &storage), serve);
            crate::serve(config, std::sync::Arc::new(SystemClock)).await?;
        }
        Command::Lender(LenderArgs {
            storage: own,
            command,
        }) => lender_command(&storage::resolve(&leading, &own), command).await?,
        Command::Keys(KeysArgs {
            storage: own,
            command,
        }) => keys::run(&storage::resolve(&leading, &own), command).await?,
        Command::Backup(args) => {
            backup::run(&storage::resolve(&leading, &args.storage), &args).await?;
        }
        Command::Staff(args) => {
            staff::run(&storage::resolve(&leading, &args.storage), args.command).await?;
        }
        #[cfg(feature = "simulator")]
        Command::Device(args) => {
            not_for_the_simulator(&leading, "device")?;
            device::run(args).await?;
        }
        #[cfg(feature = "simulator")]
        Command::Demo(args) => {
            not_for_the_simulator(&leading, "demo")?;
            demo::run(args).await?;
        }
    }
    Ok(())
}

/// `finlock --db … device …`: the simulator has no database; say so instead of ignoring it.
#[cfg(feature = "simulator")]
fn not_for_the_simulator(
    leading: &LeadingStorageOpts,
    command: &str,
) -> Result<(), crate::SettingsError> {
    if leading.given() {
        return Err(crate::SettingsError(format!(
            "--db and --keys are the server's options; `finlock {command}` does not use them"
        )));
    }
    Ok(())
}

async fn lender_command(
    storage: &crate::config::StorageArgs,
    command: LenderCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        LenderCommand::Add(args) => {
            let db = Db::connect(&storage.db, 2).await?;
            let created = lenders::create(
                &db,
                &storage.keys,
                &NewLender {
                    name: args.name,
                    phone: args.phone,
                    email: args.email,
                    payment_url: args.payment_url,
                    support_url: args.support_url,
                },
                SystemClock.now(),
            )
            .await;
            db.close().await;
            let created = created?;
            if args.json {
                println!("{}", serde_json::to_string(&created)?);
            } else {
                println!("lender_id: {}", created.lender_id);
                println!(
                    "api_key:   {}   (shown once; only its hash is stored)",
                    created.api_key
                );
                println!("jwks:      {}", serde_json::to_string(&created.jwks)?);
            }
        }
        LenderCommand::List { json, quiet } => {
            let db = Db::connect(&storage.db, 2).await?;
            let listed = lenders::list(&db).await;
            db.close().await;
            let listed = listed?;
            if json {
                println!("{}", serde_json::to_string(&listed)?);
            } else if quiet {
                for l in listed {
                    println!("{}", l.lender_id);
                }
            } else {
                for l in listed {
                    println!(
                        "{}  {}  ({} active API keys)",
                        l.lender_id, l.name, l.active_api_keys
                    );
                }
            }
        }
        LenderCommand::ApiKey(command) => {
            let db = Db::connect(&storage.db, 2).await?;
            let done = api_key_command(&db, command).await;
            db.close().await;
            done?;
        }
        LenderCommand::Device(args) => lender_device::run(storage, args).await?,
        LenderCommand::CompletingWindow(args) => {
            lender_device::completing_window(storage, args).await?;
        }
        LenderCommand::Import(args) => import::run(storage, args).await?,
        LenderCommand::Notifications(args) => notifications::run(storage, args).await?,
        LenderCommand::Webhooks(args) => webhooks::run(storage, args).await?,
        LenderCommand::Compliance(args) => compliance::run(storage, args).await?,
    }
    Ok(())
}

async fn api_key_command(
    db: &Db,
    command: ApiKeyCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemClock.now();
    let known = |lender: &str| {
        let lender = lender.to_string();
        async move {
            match crate::db::queries::lender_by_id(&db.read, &lender).await? {
                Some(_) => Ok(lender),
                None => Err(crate::Error::invalid("lender", "no such lender")),
            }
        }
    };
    match command {
        ApiKeyCommand::Add { lender, name } => {
            let lender = known(&lender).await?;
            let key = api_keys::create(db, &lender, &name, "cli", now).await?;
            println!("key_id:  {}", key.key_id);
            println!(
                "api_key: {}   (shown once; only its hash is stored)",
                key.api_key
            );
        }
        ApiKeyCommand::List { lender } => {
            let lender = known(&lender).await?;
            for k in api_keys::list(db, &lender).await? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}  {:8}  {}", k.key_id, state, k.name);
            }
        }
        ApiKeyCommand::Rotate { lender, key_id } => {
            let lender = known(&lender).await?;
            let key = api_keys::rotate(db, &lender, &key_id, "cli", now).await?;
            println!("key_id:  {}   (replaces {key_id}, now revoked)", key.key_id);
            println!(
                "api_key: {}   (shown once; only its hash is stored)",
                key.api_key
            );
        }
        ApiKeyCommand::Revoke { lender, key_id } => {
            let lender = known(&lender).await?;
            api_keys::revoke(db, &lender, &key_id, "cli", now).await?;
            println!("revoked {key_id}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_has_an_environment_fallback_for_serve() {
        let cli = Cli::try_parse_from(["finlock", "serve", "--listen", "127.0.0.1:0"]).unwrap();
        assert!(matches!(cli.command, Command::Serve(_)));
        assert!(!cli.storage.given());
    }
}
