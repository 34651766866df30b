//! `finlock lender compliance …`: the lender's compliance profile on the server's command
//! line — the shipped profiles, the lender's selection, selecting one. A thin call of
//! [`crate::compliance::lender`], the operation `PUT /v1/lender/compliance` calls (audited
//! as `cli:<lender>`). A refusal prints one line and exits 2, and nothing stored has
//! changed. A running server signs under the new profile within a few seconds.

use crate::audit::Actor;
use crate::clock::{Clock, SystemClock};
use crate::compliance::{self, lender::LenderCompliance};
use crate::config::StorageArgs;
use crate::db::Db;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct ComplianceArgs {
    /// The lender (may be left out while the database has a single lender).
    #[arg(long, env = "FINLOCK_LENDER", global = true, value_name = "LENDER_ID")]
    pub lender: Option<String>,
    #[command(subcommand)]
    pub command: ComplianceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ComplianceCommand {
    /// The profiles this server ships: id, whether a rule is a draft, name.
    Profiles {
        #[arg(long)]
        json: bool,
    },
    /// The lender's profile and payment apps.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Select a profile (e.g. in-rbi-draft); the payment apps stay unless given.
    Set {
        /// A shipped profile's id (`finlock lender compliance profiles`).
        profile: String,
        /// An Android package name usable when restricted and when locked (repeat, at
        /// most 8); replaces the current list.
        #[arg(long = "payment-app", value_name = "PACKAGE")]
        payment_apps: Vec<String>,
        /// Remove every payment app.
        #[arg(long, conflicts_with = "payment_apps")]
        no_payment_apps: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(storage: &StorageArgs, args: ComplianceArgs) -> Result<()> {
    if let ComplianceCommand::Profiles { json } = args.command {
        return print_profiles(json);
    }
    let db = Db::connect(&storage.db, 2).await?;
    let done = command(&db, args).await;
    db.close().await;
    done
}

fn print_profiles(json: bool) -> Result<()> {
    let all = compliance::profiles()?;
    if json {
        println!("{}", json_text(&all)?);
        return Ok(());
    }
    for p in all {
        let draft = if p.draft { "draft" } else { "-" };
        println!("{:<14} {:<6} {}", p.id, draft, p.name);
    }
    Ok(())
}

async fn command(db: &Db, args: ComplianceArgs) -> Result<()> {
    let lender = lender_id(db, args.lender.as_deref()).await?;
    let id = lender.as_str();
    let shown = match args.command {
        ComplianceCommand::Profiles { .. } => return Ok(()),
        ComplianceCommand::Show { json } => (compliance::lender::show(db, id).await?, json),
        ComplianceCommand::Set {
            profile,
            payment_apps,
            no_payment_apps,
            json,
        } => {
            let payment_apps = if no_payment_apps || !payment_apps.is_empty() {
                payment_apps
            } else {
                compliance::lender::show(db, id).await?.payment_apps
            };
            let req = LenderCompliance {
                profile,
                payment_apps,
            };
            let actor = Actor::Cli { lender_id: id };
            let set = compliance::lender::set(db, id, &req, actor, SystemClock.now()).await?;
            (set, json)
        }
    };
    let (settings, json) = shown;
    if json {
        println!("{}", json_text(&settings)?);
    } else {
        println!("profile:      {}", settings.profile);
        println!("payment_apps: {}", settings.payment_apps.join(","));
    }
    Ok(())
}

/// The named lender, or the only one.
async fn lender_id(db: &Db, id: Option<&str>) -> Result<String> {
    let all = crate::lenders::list(db).await?;
    match (id, all.as_slice()) {
        (Some(id), _) if all.iter().any(|l| l.lender_id == id) => Ok(id.to_string()),
        (Some(id), _) => Err(Error::invalid("--lender", format!("no lender {id:?} here"))),
        (None, [only]) => Ok(only.lender_id.clone()),
        (None, []) => Err(Error::invalid(
            "--lender",
            "there is no lender yet: create one with `finlock lender add`",
        )),
        (None, many) => Err(Error::invalid(
            "--lender",
            format!(
                "this database has {} lenders: name one (`finlock lender list`)",
                many.len()
            ),
        )),
    }
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("json: {e}")))
}
