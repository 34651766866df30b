//! `finlock backup PATH`: a consistent copy of the server's SQLite database, taken while it
//! serves (see [`crate::db::Db::backup_to`]); for PostgreSQL, how to use `pg_dump`.

use std::path::PathBuf;

use super::storage::StorageOpts;
use crate::config::StorageArgs;
use crate::db::{Backend, Db};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub storage: StorageOpts,
    /// The new backup file (mode 0600); refused if it exists. Back up the keys directory
    /// too: a database without its lenders' signing keys cannot sign anything.
    pub path: PathBuf,
    /// One JSON object with what the copy holds, for scripts.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(storage: &StorageArgs, args: &BackupArgs) -> Result<(), crate::Error> {
    if !["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| storage.db.starts_with(scheme))
    {
        return Err(crate::Error::invalid(
            "--db",
            "the database URL must start with sqlite: or postgres://",
        ));
    }
    if !storage.db.starts_with("sqlite:") {
        // Say how before connecting: the operator may not even have network access here.
        return Err(crate::Error::BadRequest(crate::db::PG_DUMP_GUIDANCE.into()));
    }
    match crate::db::sqlite_path(&storage.db) {
        Some(file) if file.exists() => {}
        Some(file) => {
            return Err(crate::Error::invalid(
                "--db",
                format!("there is no database at {}", file.display()),
            ));
        }
        None => {
            return Err(crate::Error::invalid(
                "--db",
                "an in-memory database has nothing to back up",
            ));
        }
    }
    let db = Db::connect(&storage.db, 2).await?;
    debug_assert_eq!(db.backend, Backend::Sqlite);
    let done = db.backup_to(&args.path).await;
    db.close().await;
    let summary = done?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&summary)
                .map_err(|e| crate::Error::Internal(format!("summary: {e}")))?
        );
    } else {
        println!(
            "backed up {} to {} ({} bytes): {} lenders, {} devices, {} payments, {} audit entries",
            storage.db,
            args.path.display(),
            summary.bytes,
            summary.lenders,
            summary.devices,
            summary.payments,
            summary.audit_entries
        );
        println!(
            "keep the lenders' keys with it (the directory {}, or finlock keys export); \
             restoring: server/README.md, \"Backup and restore\"",
            storage.keys.display()
        );
    }
    Ok(())
}
