//! Where the server's data lives, as the commands that use it take it: `--db` and `--keys`
//! belong to `serve`, `lender …`, `keys …` and `backup` (before or after their subcommand),
//! never to the device simulator, which keeps its own state in `--state`.
//!
//! For scripts written as `finlock --db URL serve …` the options are also read before the
//! command name (hidden there); the simulator refuses them, so nobody believes a device
//! was pointed at a database.

use std::path::PathBuf;

use crate::config::StorageArgs;

/// The default database URL and keys directory (also the server's documented defaults).
pub const DEFAULT_DB: &str = "sqlite://finlock.db";
pub const DEFAULT_KEYS: &str = "finlock-keys";

/// `--db` / `--keys` on a server command (and its subcommands).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StorageOpts {
    /// Database: `sqlite://finlock.db` (embedded, the default) or `postgres://…` (several
    /// server nodes share one PostgreSQL). Or set FINLOCK_DB.
    #[arg(long = "db", value_name = "URL", global = true)]
    pub db: Option<String>,
    /// Directory of the lenders' signing keys (one 0600 file per lender; every server node
    /// needs the same one). Default `finlock-keys`. Or set FINLOCK_KEYS.
    #[arg(long = "keys", value_name = "DIR", global = true)]
    pub keys: Option<PathBuf>,
}

/// The same options before the command name (`finlock --db URL serve`), hidden from help.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LeadingStorageOpts {
    #[arg(long = "db", value_name = "URL", hide = true)]
    pub db: Option<String>,
    #[arg(long = "keys", value_name = "DIR", hide = true)]
    pub keys: Option<PathBuf>,
}

impl LeadingStorageOpts {
    /// Whether either option was given before the command name.
    pub fn given(&self) -> bool {
        self.db.is_some() || self.keys.is_some()
    }
}

/// The storage a command uses: its own option, else the one before the command name, else
/// `FINLOCK_DB` / `FINLOCK_KEYS`, else the defaults.
pub fn resolve(leading: &LeadingStorageOpts, own: &StorageOpts) -> StorageArgs {
    resolve_with(leading, own, |name| std::env::var_os(name))
}

fn resolve_with(
    leading: &LeadingStorageOpts,
    own: &StorageOpts,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> StorageArgs {
    let db = own
        .db
        .clone()
        .or_else(|| leading.db.clone())
        .or_else(|| env("FINLOCK_DB").map(|v| v.to_string_lossy().into_owned()))
        .unwrap_or_else(|| DEFAULT_DB.into());
    let keys = own
        .keys
        .clone()
        .or_else(|| leading.keys.clone())
        .or_else(|| env("FINLOCK_KEYS").map(PathBuf::from))
        .unwrap_or_else(|| DEFAULT_KEYS.into());
    StorageArgs { db, keys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_option_wins_then_the_leading_one_then_the_environment() {
        let env = |name: &str| match name {
            "FINLOCK_DB" => Some("sqlite://env.db".into()),
            _ => None,
        };
        let none = LeadingStorageOpts::default();
        let s = resolve_with(&none, &StorageOpts::default(), env);
        assert_eq!(s.db, "sqlite://env.db");
        assert_eq!(s.keys, PathBuf::from(DEFAULT_KEYS));
        let leading = LeadingStorageOpts {
            db: Some("sqlite://lead.db".into()),
            keys: None,
        };
        assert_eq!(
            resolve_with(&leading, &StorageOpts::default(), env).db,
            "sqlite://lead.db"
        );
        let own = StorageOpts {
            db: Some("sqlite://own.db".into()),
            keys: Some("k".into()),
        };
        let s = resolve_with(&leading, &own, env);
        assert_eq!(
            (s.db.as_str(), s.keys),
            ("sqlite://own.db", PathBuf::from("k"))
        );
        let s = resolve_with(&none, &StorageOpts::default(), |_| None);
        assert_eq!(s.db, DEFAULT_DB);
    }
}
