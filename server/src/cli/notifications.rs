//! `finlock lender notifications …`: payments in on the server's command line — list the
//! notifications providers sent (those held for assignment first of all), assign a held
//! one to a device, list and rotate the notification secrets.
//!
//! Each subcommand is a thin call of [`crate::payments_in`], the operations the JSON API
//! calls, on the server's database directly, audited as `cli:<lender id>`. A refusal
//! prints one line and exits 2, and nothing stored has changed.

use std::sync::Arc;

use super::when;
use crate::app::App;
use crate::audit::Actor;
use crate::clock::SystemClock;
use crate::config::{Config, StorageArgs};
use crate::db::Db;
use crate::devices::Caller;
use crate::error::{Error, Result};
use crate::payments_in::held::{self, Assignment};
use crate::payments_in::notice::Source;
use crate::payments_in::secrets::{self, RotateRequest};
use crate::payments_in::store::{PaymentNotification, Status};

#[derive(Debug, clap::Args)]
pub struct NotificationsArgs {
    /// The lender (may be left out while the database has a single lender).
    #[arg(long, env = "FINLOCK_LENDER", global = true, value_name = "LENDER_ID")]
    pub lender: Option<String>,
    #[command(subcommand)]
    pub command: NotificationsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum NotificationsCommand {
    /// The payment notifications providers sent, oldest first (default: those held).
    List {
        /// held, recorded, assigned, already_recorded or all.
        #[arg(long, default_value = "held")]
        status: String,
        /// Per page, 1 to 500 (default 100).
        #[arg(long)]
        limit: Option<u32>,
        /// The `next` cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Assign a held notification to a device: records its payment by the API's rules.
    Assign {
        /// The notification id (from `list`).
        notification: String,
        /// The lender's device the payment belongs to.
        device: String,
        /// Record an amount above what is still owed.
        #[arg(long)]
        allow_overpayment: bool,
        #[arg(long)]
        json: bool,
    },
    /// The notification endpoints and the secrets they accept now (never their values).
    Secrets {
        /// The server's public URL, to print the endpoints in full.
        #[arg(long, env = "FINLOCK_PUBLIC_URL")]
        public_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A new Standard Webhooks secret (whsec_…), printed once; the previous one stays valid
    /// for --overlap (default 24h; 0 ends it at once).
    RotateSecret(RotateArgs),
    /// A new M-Pesa URL token, its confirmation URL printed once; the previous token stays
    /// valid for --overlap (default 24h; 0 ends it at once).
    RotateMpesaToken(RotateArgs),
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// How long the previous secret stays valid: e.g. 24h, 2d, or 0 (at once), at most 7d.
    #[arg(long, value_name = "DURATION")]
    pub overlap: Option<String>,
    /// The server's public URL, to print the endpoint in full.
    #[arg(long, env = "FINLOCK_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(v).map_err(|e| Error::Internal(format!("json: {e}")))?;
    println!("{text}");
    Ok(())
}

fn status(text: &str) -> Result<Option<Status>> {
    Ok(Some(match text {
        "all" => return Ok(None),
        "held" => Status::Held,
        "recorded" => Status::Recorded,
        "assigned" => Status::Assigned,
        "already_recorded" => Status::AlreadyRecorded,
        _ => {
            return Err(Error::invalid(
                "--status",
                "held, recorded, assigned, already_recorded or all",
            ));
        }
    }))
}

fn overlap(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|d| match d.trim() {
        "0" => Ok(0),
        d => when::duration_s(d)
            .ok_or_else(|| Error::invalid("--overlap", "a duration like 24h, 2d or 0 (at once)")),
    })
    .transpose()
}

fn line(n: &PaymentNotification) -> String {
    let reason = n.reason.as_deref().unwrap_or("-");
    format!(
        "{}  {:16}  {:8}  {:>12} {}  {:24}  ref {:?}  {}  {}",
        n.notification_id,
        n.status.as_str(),
        n.source.as_str(),
        n.amount_minor,
        n.currency,
        n.transaction_id,
        n.account_reference,
        reason,
        n.device_id.as_deref().unwrap_or("-"),
    )
}

/// Runs `finlock lender notifications …`.
pub async fn run(storage: &StorageArgs, args: NotificationsArgs) -> Result<()> {
    let public_url = match &args.command {
        NotificationsCommand::Secrets { public_url, .. }
        | NotificationsCommand::RotateSecret(RotateArgs { public_url, .. })
        | NotificationsCommand::RotateMpesaToken(RotateArgs { public_url, .. }) => {
            public_url.clone().unwrap_or_default()
        }
        _ => String::new(),
    };
    let db = Db::connect(&storage.db, 2).await?;
    let config = Config::local(&storage.db, &storage.keys);
    let app = App::new(db.clone(), Arc::new(SystemClock), config, public_url);
    let done = command(&app, args).await;
    db.close().await;
    done
}

async fn command(app: &App, args: NotificationsArgs) -> Result<()> {
    let lender = super::lender_device::lender(app, args.lender.as_deref()).await?;
    let by = Caller {
        lender: &lender,
        actor: Actor::Cli {
            lender_id: &lender.lender_id,
        },
    };
    match args.command {
        NotificationsCommand::List {
            status: s,
            limit,
            cursor,
            json,
        } => {
            let (page, next) = held::list(
                app,
                &lender.lender_id,
                status(&s)?,
                cursor.as_deref(),
                limit,
            )
            .await?;
            if json {
                print_json(&serde_json::json!({ "notifications": page, "next_cursor": next }))?;
            } else {
                for n in &page {
                    println!("{}", line(n));
                }
                if let Some(next) = next {
                    println!("next: {next}");
                }
            }
        }
        NotificationsCommand::Assign {
            notification,
            device,
            allow_overpayment,
            json,
        } => {
            let req = Assignment {
                device_id: device,
                allow_overpayment,
            };
            let n = held::assign(app, by, notification.trim(), &req).await?;
            if json {
                print_json(&n)?;
            } else {
                println!(
                    "assigned {} to {}: payment {}",
                    n.notification_id,
                    n.device_id.as_deref().unwrap_or("-"),
                    n.payment_id.as_deref().unwrap_or("-")
                );
            }
        }
        NotificationsCommand::Secrets { json, .. } => {
            let listed = secrets::list(&app.db, &lender.lender_id, app.now()).await?;
            let standard =
                secrets::endpoint(&app.public_url, &lender.lender_id, Source::Standard, None);
            let mpesa = secrets::endpoint(&app.public_url, &lender.lender_id, Source::Mpesa, None);
            if json {
                print_json(
                    &serde_json::json!({ "standard_url": standard, "mpesa_url": mpesa,
                    "secrets": listed }),
                )?;
            } else {
                println!("standard: {standard}");
                println!("mpesa:    {mpesa}");
                for s in listed {
                    let until = s.expires_at.map_or("current".to_string(), |t| {
                        format!("until {}", when::iso_utc(t))
                    });
                    println!("{}  {:8}  {}", s.secret_id, s.source.as_str(), until);
                }
            }
        }
        NotificationsCommand::RotateSecret(a) => rotate(app, by, Source::Standard, a).await?,
        NotificationsCommand::RotateMpesaToken(a) => rotate(app, by, Source::Mpesa, a).await?,
    }
    Ok(())
}

async fn rotate(app: &App, by: Caller<'_>, source: Source, a: RotateArgs) -> Result<()> {
    let req = RotateRequest {
        overlap_s: overlap(a.overlap.as_deref())?,
    };
    let rotated = secrets::rotate(app, by, source, &req).await?;
    if a.json {
        return print_json(&rotated);
    }
    println!("secret_id: {}", rotated.secret_id);
    println!("secret:    {}   (shown once)", rotated.secret);
    println!("url:       {}", rotated.url);
    match rotated.previous_valid_until {
        Some(t) => println!("previous:  valid until {}", when::iso_utc(t)),
        None => println!("previous:  none"),
    }
    Ok(())
}
