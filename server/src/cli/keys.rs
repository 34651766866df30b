//! `finlock keys …`: a lender's signing keys (ADR 0007) — show the current public set,
//! list the chain, rotate, retire a compromised key, and the encrypted backup that keeps a
//! lost keys directory from stranding every financed phone (export, import).
//!
//! The passphrase of `export`/`import` is read from `--passphrase-file` (its first line) or
//! `FINLOCK_KEYS_PASSPHRASE`, never from the command line (it would sit in shell history
//! and the process list).

use std::path::{Path, PathBuf};

use crate::audit::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::StorageArgs;
use crate::db::Db;
use crate::error::Error;
use crate::lender_keys::{self, Rotation};
use crate::{key_backup, lenders};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Print a lender's current public JWKS (what devices provisioned now pin; it names its
    /// `keys_seq` once the lender rotated).
    Show {
        /// The lender id.
        lender: String,
    },
    /// List a lender's key sets, oldest first, and its key log.
    List {
        /// The lender id.
        lender: String,
        /// One JSON object for scripts.
        #[arg(long, conflicts_with = "quiet")]
        json: bool,
        /// Only the current set's kids, one a line, the signing key first.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Rotate the signing key: a new key, the next set = [new key, current key]. Phones
    /// catch up at their next check-in (up to 8 rotations behind). Export afterwards.
    Rotate {
        /// The lender id.
        lender: String,
        #[arg(long)]
        json: bool,
        /// More than 2 key sets in 24 hours (phones more than 8 behind must be
        /// provisioned again).
        #[arg(long)]
        force: bool,
    },
    /// Retire a compromised key now: the next set holds only a fresh key, and phones that
    /// caught up accept nothing the retired key signs.
    Retire {
        /// The lender id.
        lender: String,
        /// The key to retire (a kid of the current set, from `keys list`). A kid is a
        /// base64url thumbprint and may start with `-`: it is taken as the kid anyway.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        #[arg(long)]
        json: bool,
        /// As for `rotate`.
        #[arg(long)]
        force: bool,
    },
    /// Write an encrypted backup (Argon2id + ChaCha20-Poly1305) of the lender's private
    /// keys and key-set chain to FILE (mode 0600, never overwritten).
    Export {
        /// The lender id.
        lender: String,
        /// The backup file to create.
        file: PathBuf,
        /// A file whose first line is the passphrase (at least 12 characters); otherwise
        /// FINLOCK_KEYS_PASSPHRASE.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup's private keys into the keys directory (after checking them against
    /// the lender's chain in the database), e.g. on a fresh machine.
    Import {
        /// The backup file.
        file: PathBuf,
        /// As for `export`.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
}

fn passphrase(file: Option<&Path>) -> Result<String, Error> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::invalid("--passphrase-file", e.to_string()))?,
        None => std::env::var("FINLOCK_KEYS_PASSPHRASE").map_err(|_| {
            Error::invalid(
                "passphrase",
                "give --passphrase-file FILE or set FINLOCK_KEYS_PASSPHRASE",
            )
        })?,
    };
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Writes `text` to a new file, 0600.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Error::invalid("file", format!("{}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::Internal(format!("writing the backup: {e}")))
}

async fn known(db: &Db, lender: &str) -> Result<(), Error> {
    match crate::db::queries::lender_by_id(&db.read, lender).await? {
        Some(_) => Ok(()),
        None => Err(Error::invalid("lender", "no such lender")),
    }
}

/// Runs one `finlock keys` command.
pub async fn run(
    storage: &StorageArgs,
    command: KeysCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::connect(&storage.db, 2).await?;
    let done = run_with(&db, &storage.keys, command).await;
    db.close().await;
    done
}

async fn run_with(
    db: &Db,
    keys_dir: &Path,
    command: KeysCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemClock.now();
    match command {
        KeysCommand::Show { lender } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&lenders::jwks(db, &lender).await?)?
            );
        }
        KeysCommand::List {
            lender,
            json,
            quiet,
        } => {
            known(db, &lender).await?;
            let sets = lender_keys::list(db, &lender).await?;
            if json {
                println!("{}", serde_json::to_string(&sets)?);
            } else if quiet {
                if let Some(current) = sets.sets.last() {
                    println!("{}", current.signing_kid);
                    for kid in current.kids.iter().filter(|k| **k != current.signing_kid) {
                        println!("{kid}");
                    }
                }
            } else {
                for s in &sets.sets {
                    let retired = s
                        .retired_kid
                        .as_deref()
                        .map(|k| format!("  retired {k}"))
                        .unwrap_or_default();
                    println!(
                        "set {:<3} {:<8} signs with {}  keys {}{}",
                        s.keys_seq,
                        s.kind,
                        s.signing_kid,
                        s.kids.join(","),
                        retired
                    );
                }
            }
        }
        KeysCommand::Rotate {
            ref lender,
            json,
            force,
        }
        | KeysCommand::Retire {
            ref lender,
            json,
            force,
            ..
        } => {
            let rotation = match &command {
                KeysCommand::Retire { kid, .. } => Rotation::Retire { kid },
                _ => Rotation::Rotate,
            };
            known(db, lender).await?;
            let r = lender_keys::rotate(
                db,
                keys_dir,
                lender,
                rotation,
                force,
                Actor::Lender {
                    lender_id: lender,
                    key_id: None,
                },
                "cli",
                now,
            )
            .await?;
            print_rotated(&r, json)?;
        }
        KeysCommand::Export {
            lender,
            file,
            passphrase_file,
        } => {
            let pass = passphrase(passphrase_file.as_deref())?;
            let exported = key_backup::export(db, keys_dir, &lender, &pass, now).await?;
            write_new(&file, &serde_json::to_string_pretty(&exported.envelope)?)?;
            println!(
                "exported {} private key(s) of {} up to key set {} to {}",
                exported.kids.len(),
                exported.lender_id,
                exported.keys_seq,
                file.display()
            );
        }
        KeysCommand::Import {
            file,
            passphrase_file,
        } => {
            let pass = passphrase(passphrase_file.as_deref())?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::invalid("file", format!("{}: {e}", file.display())))?;
            let imported = key_backup::import(db, keys_dir, &text, &pass, now).await?;
            println!(
                "restored {} private key(s) of {} (key set {}; {} set(s) added to the database)",
                imported.written.len(),
                imported.lender_id,
                imported.keys_seq,
                imported.sets_added
            );
        }
    }
    Ok(())
}

fn print_rotated(r: &lender_keys::Rotated, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    if json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        println!("key set {}: signs with {}", r.keys_seq, r.kid);
        if let Some(retired) = &r.retired_kid {
            println!("retired {retired}: phones that catch up accept nothing it signs");
        }
        println!("back the keys up now: finlock keys export LENDER FILE");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::KeysCommand;
    use crate::cli::{Cli, Command, KeysArgs};

    #[test]
    fn a_kid_that_starts_with_a_dash_is_a_kid() {
        // One thumbprint in 64 starts with '-' (base64url): found by the procedure test.
        let cli = Cli::try_parse_from([
            "finlock",
            "keys",
            "retire",
            "lnd-1",
            "-bY8Gb4DmFncshKmL2XLFUgw3gMGAL4-azPIW274EN0",
        ])
        .unwrap();
        match cli.command {
            Command::Keys(KeysArgs {
                command: KeysCommand::Retire { kid, force, .. },
                ..
            }) => {
                assert_eq!(kid, "-bY8Gb4DmFncshKmL2XLFUgw3gMGAL4-azPIW274EN0");
                assert!(!force);
            }
            other => panic!("{other:?}"),
        }
    }
}
