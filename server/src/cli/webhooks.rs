//! `finlock lender webhooks …`: the lender's webhook endpoints on the server's command
//! line — add one (its secret printed once), list, rotate a secret, delete; the delivery
//! log and sending a dead delivery again; the days of silence before `device.silent`.
//!
//! Each subcommand is a thin call of [`crate::webhooks`], the operations the JSON API
//! calls, on the server's database directly. A refusal prints one line and exits 2, and
//! nothing stored has changed.

use std::sync::Arc;

use crate::app::App;
use crate::audit::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StorageArgs};
use crate::db::Db;
use crate::error::Result;
use crate::webhooks::address::Rules;
use crate::webhooks::endpoints::{self, NewEndpoint, WebhookSettings, WithSecret};
use crate::webhooks::log::{self, LogQuery};

#[derive(Debug, clap::Args)]
pub struct WebhooksArgs {
    /// The lender (may be left out while the database has a single lender).
    #[arg(long, env = "FINLOCK_LENDER", global = true, value_name = "LENDER_ID")]
    pub lender: Option<String>,
    #[command(subcommand)]
    pub command: WebhooksCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint: events are POSTed to URL, signed with a secret printed once.
    Add {
        /// An https:// URL on the public internet.
        url: String,
        /// An event kind to send (repeat for more); every kind when left out.
        #[arg(long = "event", value_name = "KIND")]
        events: Vec<String>,
        /// Accept a plain-http loopback URL (tests, the demo; the server needs
        /// --webhooks-allow-http-loopback too).
        #[arg(long)]
        allow_http_loopback: bool,
        /// Accept a private address (the server needs --webhooks-allow-private-addresses).
        #[arg(long)]
        allow_private_addresses: bool,
        #[arg(long)]
        json: bool,
    },
    /// The lender's endpoints (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// A new secret for an endpoint, printed once; the old one stops signing at once.
    Rotate {
        endpoint: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an endpoint: nothing more is sent to it; its undelivered events are dead.
    Delete { endpoint: String },
    /// The delivery log, newest first.
    Deliveries {
        /// pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long)]
        device: Option<String>,
        /// Per page, 1 to 500 (default 100).
        #[arg(long)]
        limit: Option<u32>,
        /// The `next` cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Send a dead delivery again (its schedule starts over).
    Redeliver { delivery: String },
    /// Days without a check-in before device.silent: print them, or --set them (1 to 90).
    SilentAfter {
        #[arg(long, value_name = "DAYS")]
        set: Option<i64>,
    },
}

pub async fn run(storage: &StorageArgs, args: WebhooksArgs) -> Result<()> {
    let db = Db::connect(&storage.db, 2).await?;
    let config = Config::local(&storage.db, &storage.keys);
    let app = App::new(db.clone(), Arc::new(SystemClock), config, String::new());
    let done = command(&app, args).await;
    db.close().await;
    done
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| crate::error::Error::Internal(format!("json: {e}")))
}

fn print_secret(created: &WithSecret, json: bool) -> Result<()> {
    if json {
        println!("{}", json_text(created)?);
    } else {
        println!("endpoint_id: {}", created.endpoint.endpoint_id);
        println!("url:         {}", created.endpoint.url);
        println!("events:      {}", created.endpoint.events.join(","));
        println!(
            "secret:      {}   (shown once; verify webhook-signature with it)",
            created.secret
        );
    }
    Ok(())
}

async fn command(app: &App, args: WebhooksArgs) -> Result<()> {
    let lender = super::lender_device::lender(app, args.lender.as_deref()).await?;
    let id = lender.lender_id.as_str();
    let now = SystemClock.now();
    match args.command {
        WebhooksCommand::Add {
            url,
            events,
            allow_http_loopback,
            allow_private_addresses,
            json,
        } => {
            let new = NewEndpoint {
                url,
                events: (!events.is_empty()).then_some(events),
            };
            let rules = Rules {
                allow_http_loopback,
                allow_private: allow_private_addresses,
            };
            let created =
                endpoints::create(&app.db, id, &new, rules, Actor::Cli { lender_id: id }, now)
                    .await?;
            print_secret(&created, json)?;
        }
        WebhooksCommand::List { json } => {
            let list = endpoints::list(&app.db, id).await?;
            if json {
                println!("{}", json_text(&list)?);
            } else if list.is_empty() {
                println!("no webhook endpoints: add one with `finlock lender webhooks add URL`");
            }
            for e in list.iter().filter(|_| !json) {
                let state = if e.deleted_at.is_some() {
                    "deleted"
                } else {
                    "live"
                };
                println!(
                    "{}  {state}  {}  {}",
                    e.endpoint_id,
                    e.url,
                    e.events.join(",")
                );
            }
        }
        WebhooksCommand::Rotate { endpoint, json } => {
            let rotated =
                endpoints::rotate(&app.db, id, &endpoint, Actor::Cli { lender_id: id }, now)
                    .await?;
            print_secret(&rotated, json)?;
        }
        WebhooksCommand::Delete { endpoint } => {
            let deleted =
                endpoints::delete(&app.db, id, &endpoint, Actor::Cli { lender_id: id }, now)
                    .await?;
            println!(
                "{} deleted: nothing more is sent to it",
                deleted.endpoint_id
            );
        }
        WebhooksCommand::Deliveries {
            status,
            endpoint,
            device,
            limit,
            cursor,
            json,
        } => {
            let q = LogQuery {
                status,
                endpoint_id: endpoint,
                device_id: device,
                limit,
                cursor,
            };
            let page = log::list(&app.db, id, &q).await?;
            if json {
                println!("{}", json_text(&page)?);
            } else {
                for d in &page.deliveries {
                    println!(
                        "{}  {:9}  {}  {} #{}  attempts {}{}",
                        d.delivery_id,
                        d.status,
                        d.kind,
                        d.device_id,
                        d.device_order,
                        d.attempts,
                        d.last_error
                            .as_deref()
                            .map(|e| format!("  ({e})"))
                            .unwrap_or_default()
                    );
                }
                if let Some(next) = &page.next_cursor {
                    println!("next: --cursor {next}");
                }
            }
        }
        WebhooksCommand::Redeliver { delivery } => {
            let d =
                log::redeliver(&app.db, id, &delivery, Actor::Cli { lender_id: id }, now).await?;
            println!("{} is pending again", d.delivery_id);
        }
        WebhooksCommand::SilentAfter { set } => {
            let settings = match set {
                Some(days) => {
                    let s = WebhookSettings {
                        silent_after_days: days,
                    };
                    endpoints::set_settings(&app.db, id, s).await?
                }
                None => endpoints::settings(&app.db, id).await?,
            };
            println!(
                "{id}: device.silent after {} days without a check-in",
                settings.silent_after_days
            );
        }
    }
    Ok(())
}
