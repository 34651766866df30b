//! `finlock staff …`: a lender's console accounts on the server's command line — add
//! (an invitation link, or a password read from standard input), list, change a role,
//! disable, enable, log out everywhere, a new invitation link, reset a forgotten password,
//! turn a second factor off.
//!
//! Thin calls of [`crate::staff`] on the server's database, as the server's operator for
//! one lender (`--lender`), audited with the actor `cli:<lender id>`. A password is never
//! taken on the command line (shell history, the process list): `--password-stdin` reads
//! it. A refusal prints one line and exits 2, and nothing stored has changed.

use std::io::Read;

use serde_json::json;

use super::when;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StorageArgs};
use crate::db::Db;
use crate::db::queries;
use crate::error::{Error, Result};
use crate::staff::{self, By, NewStaff, Role, StaffError, StaffRow, invitations};

use super::storage::StorageOpts;

#[derive(Debug, clap::Args)]
pub struct StaffArgs {
    #[command(flatten)]
    pub storage: StorageOpts,
    #[command(subcommand)]
    pub command: StaffCommand,
}

/// `--lender`, for every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct LenderOpt {
    /// The lender the staff member works for (`finlock lender list`).
    #[arg(long, env = "FINLOCK_LENDER", value_name = "LENDER_ID")]
    pub lender: String,
}

/// `--lender` and `--email`: one staff member.
#[derive(Debug, Clone, clap::Args)]
pub struct Who {
    #[command(flatten)]
    pub lender: LenderOpt,
    /// The staff member's email (their login).
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
}

/// `--public-url`, for invitation links.
#[derive(Debug, Clone, clap::Args)]
pub struct PublicUrl {
    /// The address the console is reached at, e.g. https://lender.example (the invitation
    /// link is <URL>/console/invite/...). Or set FINLOCK_PUBLIC_URL.
    #[arg(long, env = "FINLOCK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum StaffCommand {
    /// Add a staff member. Prints an invitation link, valid 72 hours and usable once, with
    /// which they set their own password; or, with --password-stdin, sets the password
    /// read from standard input at once.
    Add {
        #[command(flatten)]
        who: Who,
        /// Their name as the console shows it (1-80 characters).
        #[arg(long)]
        name: String,
        /// owner: everything, including staff, API keys and settings; agent: sales,
        /// payments, extensions, offline codes, lock and unlock; viewer: read only.
        #[arg(long, value_parser = ["owner", "agent", "viewer"])]
        role: String,
        /// Read the password from standard input (12-128 characters) instead of printing
        /// an invitation link, e.g. for the first owner: `finlock staff add ...
        /// --password-stdin < password.txt`.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        url: PublicUrl,
        /// One JSON object for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List a lender's staff: email, role, status (invited, active, disabled), second
    /// factor, name.
    List {
        #[command(flatten)]
        lender: LenderOpt,
        /// One JSON array for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Change a staff member's role. The lender's last active owner stays owner.
    Role {
        #[command(flatten)]
        who: Who,
        /// The new role: owner, agent or viewer.
        #[arg(long, value_parser = ["owner", "agent", "viewer"])]
        role: String,
    },
    /// Disable a staff member: their sessions end at once and they cannot log in. The
    /// lender's last active owner cannot be disabled.
    Disable {
        #[command(flatten)]
        who: Who,
    },
    /// Enable a disabled staff member again (they log in with their old password).
    Enable {
        #[command(flatten)]
        who: Who,
    },
    /// End every console session of a staff member (e.g. a phone was lost); they log in
    /// again.
    LogoutEverywhere {
        #[command(flatten)]
        who: Who,
    },
    /// A new invitation link for a staff member who has not set a password yet (the first
    /// one expired or was lost); earlier links stop working.
    Reinvite {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        url: PublicUrl,
        #[arg(long)]
        json: bool,
    },
    /// Reset a forgotten password: the old one stops working, their sessions end, and the
    /// printed link (72 hours, usable once) lets them set a new one.
    ResetPassword {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        url: PublicUrl,
        #[arg(long)]
        json: bool,
    },
    /// Turn off a staff member's second factor (their authenticator phone is lost); they
    /// can enroll a new one after logging in.
    TotpOff {
        #[command(flatten)]
        who: Who,
    },
}

/// Runs one `finlock staff …` command.
pub async fn run(storage: &StorageArgs, command: StaffCommand) -> Result<()> {
    // Everything that needs no database is checked first: a refusal stores nothing.
    let public_url = match &command {
        StaffCommand::Add {
            password_stdin: false,
            url,
            ..
        }
        | StaffCommand::Reinvite { url, .. }
        | StaffCommand::ResetPassword { url, .. } => Some(public_url(storage, url)?),
        _ => None,
    };
    let password = match &command {
        StaffCommand::Add {
            password_stdin: true,
            ..
        } => Some(read_password()?),
        _ => None,
    };
    let db = Db::connect(&storage.db, 2).await?;
    let done = command_on(&db, command, public_url.as_deref(), password.as_deref()).await;
    db.close().await;
    done
}

async fn command_on(
    db: &Db,
    command: StaffCommand,
    public_url: Option<&str>,
    password: Option<&str>,
) -> Result<()> {
    let now = SystemClock.now();
    match command {
        StaffCommand::Add {
            who,
            name,
            role,
            json,
            ..
        } => {
            let lender = lender(db, &who.lender).await?;
            let by = By::cli(&lender);
            let new = NewStaff {
                email: &who.email,
                name: &name,
                role: role_of(&role)?,
            };
            match (password, public_url) {
                (Some(password), _) => {
                    let staff = staff::add_with_password(db, by, &new, password, now)
                        .await
                        .map_err(plain)?;
                    if json {
                        print_json(&json!({ "staff": staff }))?;
                    } else {
                        println!(
                            "added {} ({}) as {}; they can log in now",
                            staff.email, staff.staff_id, staff.role
                        );
                    }
                }
                (None, Some(url)) => {
                    let invited = staff::invite(db, by, &new, now).await.map_err(plain)?;
                    print_invitation(&invited, url, json)?;
                }
                (None, None) => {
                    return Err(Error::Internal("no public URL for the invitation".into()));
                }
            }
        }
        StaffCommand::List { lender: l, json } => {
            let lender = lender(db, &l).await?;
            let listed = staff::list(db, By::cli(&lender)).await.map_err(plain)?;
            if json {
                print_json(&listed)?;
            } else if listed.is_empty() {
                println!("no staff yet: add the first owner with `finlock staff add --role owner`");
            } else {
                for s in listed {
                    println!(
                        "{:<32}  {:<6}  {:<8}  {:<7}  {}",
                        s.email,
                        s.role,
                        s.status().as_str(),
                        if s.totp_enabled { "2fa" } else { "no 2fa" },
                        s.name
                    );
                }
            }
        }
        StaffCommand::Role { who, role } => {
            let role = role_of(&role)?;
            let (lender, target) = target(db, &who).await?;
            let after = staff::change_role(db, By::cli(&lender), &target.staff_id, role, now)
                .await
                .map_err(plain)?;
            println!("{} is {} now", after.email, after.role);
        }
        StaffCommand::Disable { who } => {
            let (lender, target) = target(db, &who).await?;
            let after = staff::disable(db, By::cli(&lender), &target.staff_id, now)
                .await
                .map_err(plain)?;
            println!("{} is disabled; their sessions have ended", after.email);
        }
        StaffCommand::Enable { who } => {
            let (lender, target) = target(db, &who).await?;
            let after = staff::enable(db, By::cli(&lender), &target.staff_id, now)
                .await
                .map_err(plain)?;
            println!("{} is {} again", after.email, after.status().as_str());
        }
        StaffCommand::LogoutEverywhere { who } => {
            let (lender, target) = target(db, &who).await?;
            let ended = staff::logout_everywhere(db, By::cli(&lender), &target.staff_id, now)
                .await
                .map_err(plain)?;
            println!("{}: {ended} sessions ended", target.email);
        }
        StaffCommand::Reinvite { who, json, .. } => {
            let (lender, target) = target(db, &who).await?;
            let invited = staff::reinvite(db, By::cli(&lender), &target.staff_id, now)
                .await
                .map_err(plain)?;
            let url = public_url
                .ok_or_else(|| Error::Internal("no public URL for the invitation".into()))?;
            print_invitation(&invited, url, json)?;
        }
        StaffCommand::ResetPassword { who, json, .. } => {
            let (lender, target) = target(db, &who).await?;
            let invited = staff::reset_password(db, By::cli(&lender), &target.staff_id, now)
                .await
                .map_err(plain)?;
            let url =
                public_url.ok_or_else(|| Error::Internal("no public URL for the link".into()))?;
            let heading = format!(
                "the password of {} is reset and their sessions have ended; they set a new one with",
                invited.staff.email
            );
            print_link(&invited, url, json, &heading)?;
        }
        StaffCommand::TotpOff { who } => {
            let (lender, target) = target(db, &who).await?;
            staff::disable_totp(db, By::cli(&lender), &target.staff_id, None, now)
                .await
                .map_err(plain)?;
            println!("{}: second factor off", target.email);
        }
    }
    Ok(())
}

fn print_invitation(invited: &staff::Invited, public_url: &str, json: bool) -> Result<()> {
    let heading = format!(
        "invited {} ({}) as {}",
        invited.staff.email, invited.staff.staff_id, invited.staff.role
    );
    print_link(invited, public_url, json, &heading)
}

fn print_link(invited: &staff::Invited, public_url: &str, json: bool, heading: &str) -> Result<()> {
    let link = invitations::link(public_url, &invited.token);
    if json {
        print_json(&json!({
            "staff": invited.staff,
            "invitation_url": link,
            "expires_at": invited.expires_at,
        }))
    } else {
        println!("{heading}");
        println!(
            "link (usable once, until {}):",
            when::iso_utc(invited.expires_at)
        );
        println!("{link}");
        Ok(())
    }
}

/// The public URL, checked as `finlock serve` checks it.
fn public_url(storage: &StorageArgs, url: &PublicUrl) -> Result<String> {
    let Some(public_url) = url.public_url.clone() else {
        return Err(Error::invalid(
            "--public-url",
            "the invitation link needs the address the console is reached at (or \
             FINLOCK_PUBLIC_URL), e.g. https://lender.example; or give --password-stdin",
        ));
    };
    let mut config = Config::local(&storage.db, &storage.keys);
    config.public_url = Some(public_url.clone());
    config.validate().map_err(Error::BadRequest)?;
    Ok(public_url)
}

/// The password from standard input: all of it, less one final line break.
fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|_| Error::invalid("--password-stdin", "standard input is not UTF-8 text"))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err(Error::invalid(
            "--password-stdin",
            "standard input held no password",
        ));
    }
    Ok(text.to_string())
}

fn role_of(role: &str) -> Result<Role> {
    Role::parse(role).ok_or_else(|| Error::invalid("--role", "owner, agent or viewer"))
}

async fn lender(db: &Db, l: &LenderOpt) -> Result<String> {
    match queries::lender_by_id(&db.read, &l.lender).await? {
        Some(row) => Ok(row.lender_id),
        None => Err(Error::invalid(
            "--lender",
            format!("no lender {:?} here (`finlock lender list`)", l.lender),
        )),
    }
}

/// The lender and its staff member named by `--email`.
async fn target(db: &Db, who: &Who) -> Result<(String, StaffRow)> {
    let lender = lender(db, &who.lender).await?;
    match staff::by_email(db, By::cli(&lender), &who.email).await {
        Ok(row) => Ok((lender, row)),
        Err(StaffError::Other(Error::NotFound)) => Err(Error::invalid(
            "--email",
            format!("no staff member {:?} at lender {lender}", who.email.trim()),
        )),
        Err(e) => Err(plain(e)),
    }
}

/// A staff error as the command line reports it.
fn plain(e: StaffError) -> Error {
    e.into()
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(v).map_err(|e| Error::Internal(format!("json: {e}")))?;
    println!("{text}");
    Ok(())
}
