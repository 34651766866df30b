//! `finlock lender import sales|payments FILE`: the bulk import of the JSON API and the
//! console ([`crate::devices::import`]) on the server's database, audited as
//! `cli:<lender>`. A file with any bad row prints every row error (line, column,
//! reason and its code) and exits 2 with nothing stored; with `--json` the errors are
//! one JSON object on standard output (`errors`, each with `code`, `params` and
//! `reason`, and `error_count`), as the API answers them.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::app::App;
use crate::audit::Actor;
use crate::clock::SystemClock;
use crate::config::{Config, StorageArgs};
use crate::db::Db;
use crate::devices::Caller;
use crate::devices::import::apply::{self, Failure, PaymentStatus};
use crate::devices::import::{MAX_BYTES, Rejected};
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The lender (may be left out while the database has a single lender).
    #[arg(long, env = "FINLOCK_LENDER", global = true, value_name = "LENDER_ID")]
    pub lender: Option<String>,
    #[command(subcommand)]
    pub kind: ImportKind,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImportKind {
    /// Devices with their plans. Columns: currency, grace_days, installments, amount
    /// (each, in major units: 2500.00), first_due (YYYY-MM-DD), every (month, week or
    /// days); optional customer_ref, imei, offline_lock_after_days, auto_reprovision.
    /// Prints each new device's id and enrollment code.
    Sales(FileArgs),
    /// Payments (a mobile-money statement). Columns: device (id or customer reference),
    /// amount (major units), reference (the transaction id); optional currency, paid_at.
    /// Rows already recorded are reported, not counted twice.
    Payments(FileArgs),
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The CSV file (UTF-8, at most 2 MiB and 10,000 rows); `-` for standard input.
    pub file: PathBuf,
    /// Check the whole file and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `finlock lender import …`.
pub async fn run(storage: &StorageArgs, args: ImportArgs) -> Result<()> {
    let (file, sales) = match &args.kind {
        ImportKind::Sales(f) => (f, true),
        ImportKind::Payments(f) => (f, false),
    };
    let bytes = read(&file.file)?;
    let db = Db::connect(&storage.db, 2).await?;
    let config = Config::local(&storage.db, &storage.keys);
    let app = App::new(db.clone(), Arc::new(SystemClock), config, String::new());
    let done = async {
        let lender = super::lender_device::lender(&app, args.lender.as_deref()).await?;
        let by = Caller {
            lender: &lender,
            actor: Actor::Cli {
                lender_id: &lender.lender_id,
            },
        };
        if sales {
            let done = apply::import_sales(&app, by, &bytes, file.dry_run)
                .await
                .map_err(|f| refused(f, file.json))?;
            if file.json {
                println!("{}", json(&done)?);
            } else {
                println!("line,device_id,enrollment_code,customer_ref");
                for d in &done.devices {
                    println!(
                        "{},{},{},{}",
                        d.line,
                        d.device_id.as_deref().unwrap_or("-"),
                        d.enrollment_code.as_deref().unwrap_or("-"),
                        crate::devices::search::csv_field(d.customer_ref.as_deref().unwrap_or(""))
                    );
                }
                summary(file.dry_run, &format!("{} devices", done.devices.len()));
            }
        } else {
            let done = apply::import_payments(&app, by, &bytes, file.dry_run)
                .await
                .map_err(|f| refused(f, file.json))?;
            if file.json {
                println!("{}", json(&done)?);
            } else {
                for p in &done.payments {
                    let status = match p.status {
                        PaymentStatus::Recorded => "recorded",
                        PaymentStatus::AlreadyRecorded => "already recorded",
                    };
                    println!(
                        "line {}: {} {} {} {}",
                        p.line, p.device_id, p.amount_minor, p.currency, status
                    );
                }
                summary(
                    file.dry_run,
                    &format!(
                        "{} payments recorded, {} already recorded",
                        done.recorded, done.already_recorded
                    ),
                );
            }
        }
        Ok(())
    }
    .await;
    db.close().await;
    done
}

fn summary(dry_run: bool, what: &str) {
    if dry_run {
        eprintln!("dry run: the file is good ({what}); nothing was stored");
    } else {
        eprintln!("imported: {what}");
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("json: {e}")))
}

/// A refused file: every listed row error on standard error (with `--json`, the whole
/// report as JSON on standard output), then one error (exit 2).
fn refused(f: Failure, as_json: bool) -> Error {
    match f {
        Failure::Error(e) => e,
        Failure::Rows(r) => {
            if as_json {
                match json(&r) {
                    Ok(text) => println!("{text}"),
                    Err(e) => return e,
                }
            } else {
                print_rows(&r);
            }
            Error::invalid(
                "file",
                format!(
                    "{} error{} in the file; nothing was stored",
                    r.error_count,
                    if r.error_count == 1 { "" } else { "s" }
                ),
            )
        }
    }
}

fn print_rows(r: &Rejected) {
    for e in &r.errors {
        let code = e.code.code();
        match &e.column {
            Some(c) => eprintln!("line {}, {c}: {} [{code}]", e.line, e.reason),
            None => eprintln!("line {}: {} [{code}]", e.line, e.reason),
        }
    }
    if r.error_count > r.errors.len() {
        eprintln!("… and {} more", r.error_count - r.errors.len());
    }
}

/// The file's bytes (at most one byte over the limit, so the limit is reported).
fn read(path: &PathBuf) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = MAX_BYTES as u64 + 1;
    let got = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    got.map_err(|e| Error::invalid("FILE", format!("{}: {e}", path.display())))?;
    Ok(bytes)
}
