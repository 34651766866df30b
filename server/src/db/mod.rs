//! The database: one set of runtime SQL for SQLite and PostgreSQL.
//!
//! # Why the `Any` driver (decision record)
//! The server must run embedded on SQLite by default and on PostgreSQL when several
//! stateless nodes share one database, with the *same* behaviour, proven by the same
//! test suite. The choices were (a) a storage trait with two implementations, or
//! (b) sqlx's `Any` driver with one set of portable SQL. We chose (b):
//! - every query exists once, so the two back ends cannot drift apart;
//! - the SQL needed is small and portable: `$1` placeholders (SQLite reads `$N` as
//!   the N-th argument), `RETURNING` (SQLite ≥ 3.35), `ON CONFLICT`, `TEXT`/`BIGINT`
//!   columns, 0/1 integers instead of booleans, application-generated ids;
//! - what differs is set up here, once: SQLite gets WAL, `synchronous=NORMAL` (a
//!   commit survives a crash of the process; only a power loss can drop the last
//!   transactions), a busy timeout, one writer connection (SQLite has one writer
//!   anyway; queueing in the pool is cheaper than lock retries) and a few readers.
//!
//! The cost is the `Any` type system (i64, f64, text, bytes only) and a row copy per
//! query, which the load benchmark shows is not where the time goes.
//!
//! Nothing the server needs between requests lives in process memory except caches of
//! immutable data (lender keys), so PostgreSQL nodes can be added freely: the rate
//! limit is the row's `last_checkin_at`, `seq` is incremented in SQL, replay memory is
//! a column updated under an optimistic guard, payment idempotency is a unique key.

pub mod group_commit;
pub mod queries;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::error::{Error, Result};

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pools. For PostgreSQL `read` and `write` are the same pool.
#[derive(Debug, Clone)]
pub struct Db {
    pub write: AnyPool,
    pub read: AnyPool,
    pub backend: Backend,
    /// Check-ins, written in batches by one writer per node ([`group_commit`]).
    checkins: group_commit::GroupCommit,
}

/// SQLite readers per process; reads never block the writer under WAL.
const SQLITE_READERS: u32 = 4;

impl Db {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::BadRequest(
                "the database URL must start with sqlite: or postgres://".into(),
            ));
        };
        let db = match backend {
            Backend::Sqlite => {
                if let Some(path) = sqlite_path(url) {
                    private_file(&path)?;
                }
                let url = sqlite_url(url);
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let write = sqlite_pool(&url, 1).await?;
                MIGRATOR
                    .run(&write)
                    .await
                    .map_err(|e| Error::Internal(format!("migration failed: {e}")))?;
                crate::devices::search::backfill(&write).await?;
                // An in-memory database exists once per connection: read through the writer.
                let read = if memory {
                    write.clone()
                } else {
                    sqlite_pool(&url, SQLITE_READERS).await?
                };
                Db {
                    checkins: group_commit::GroupCommit::new(write.clone(), backend),
                    write,
                    read,
                    backend,
                }
            }
            Backend::Postgres => {
                let options: AnyConnectOptions = url.parse()?;
                let pool = AnyPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options.disable_statement_logging())
                    .await?;
                MIGRATOR
                    .run(&pool)
                    .await
                    .map_err(|e| Error::Internal(format!("migration failed: {e}")))?;
                crate::devices::search::backfill(&pool).await?;
                Db {
                    write: pool.clone(),
                    read: pool.clone(),
                    backend,
                    checkins: group_commit::GroupCommit::new(pool, backend),
                }
            }
        };
        Ok(db)
    }

    /// Records a check-in ([`queries::checkin`]'s compare-and-swap), committed when this
    /// returns, together with the check-ins around it ([`group_commit`]).
    pub async fn checkin(&self, c: &queries::Checkin<'_>) -> Result<group_commit::Recorded> {
        self.checkins.checkin(c).await
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// What a backup holds: the counts an operator compares with the live server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub lenders: i64,
    pub devices: i64,
    pub payments: i64,
    pub audit_entries: i64,
    pub bytes: u64,
}

/// How to back up PostgreSQL, where `finlock backup` does not apply.
pub const PG_DUMP_GUIDANCE: &str = "finlock backup copies SQLite databases; for PostgreSQL \
     use its own tools, which take a consistent snapshot while the servers run: \
     pg_dump --format=custom --file=finlock.dump \"$FINLOCK_DB\" (restore into an empty \
     database with pg_restore --dbname=URL finlock.dump), and keep the keys directory with it";

impl Db {
    /// A consistent copy of the SQLite database in a new file `to` (mode 0600), taken while
    /// the server runs: `VACUUM INTO` reads one snapshot, the committed transactions still
    /// in the WAL included (a file copy of the database alone would miss them). `to` must
    /// not exist: a backup never replaces a file. The copy is checked
    /// (`PRAGMA integrity_check`) and its rows counted before this returns.
    pub async fn backup_to(&self, to: &std::path::Path) -> Result<BackupSummary> {
        if self.backend != Backend::Sqlite {
            return Err(Error::BadRequest(PG_DUMP_GUIDANCE.into()));
        }
        let target = to.to_str().ok_or_else(|| {
            Error::invalid(
                "PATH",
                "must be valid UTF-8 (SQLite takes a text file name)",
            )
        })?;
        create_private_empty(to)?;
        let copied = async {
            // On the readers: a read transaction, which never blocks the writer.
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(&self.read)
                .await?;
            std::fs::File::open(to)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::Internal(format!("syncing {}: {e}", to.display())))?;
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                // The new directory entry survives a power loss too (best effort).
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            check_backup(to).await
        }
        .await;
        if copied.is_err() {
            let _ = std::fs::remove_file(to);
        }
        copied
    }
}

/// Creates `path` empty and private; an existing file is refused (`VACUUM INTO` writes
/// into an empty file and keeps its mode).
fn create_private_empty(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::invalid(
            "PATH",
            format!(
                "{} exists already; a backup never replaces a file",
                path.display()
            ),
        )),
        Err(e) => Err(Error::invalid(
            "PATH",
            format!("cannot create {}: {e}", path.display()),
        )),
    }
}

/// Opens the copy read-only on its own, checks it and counts what it holds.
async fn check_backup(path: &std::path::Path) -> Result<BackupSummary> {
    use sqlx::{Connection, Row};
    let url = format!("sqlite://{}?mode=ro", path.display());
    let options: AnyConnectOptions = url.parse()?;
    let mut conn = sqlx::AnyConnection::connect_with(&options.disable_statement_logging()).await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?
        .try_get(0)?;
    if check != "ok" {
        return Err(Error::Internal(format!(
            "the copy fails its integrity check: {check}"
        )));
    }
    let mut counts = [0i64; 4];
    for (count, table) in counts
        .iter_mut()
        .zip(["lenders", "devices", "payments", "audit"])
    {
        *count = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&mut conn)
            .await?
            .try_get("n")?;
    }
    conn.close().await?;
    let bytes = std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Error::Internal(format!("reading {}: {e}", path.display())))?;
    let [lenders, devices, payments, audit_entries] = counts;
    Ok(BackupSummary {
        lenders,
        devices,
        payments,
        audit_entries,
        bytes,
    })
}

/// The file of a `sqlite:` URL, `None` for an in-memory database.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:") && !url.contains("mode=memory"))
        .then(|| std::path::PathBuf::from(path))
}

/// The database holds every device's offline-code secret: it is created mode 0600, and
/// an existing file readable by others is made 0600 (SQLite gives its WAL and shared-memory
/// files the database file's mode).
fn private_file(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |what: &str, e: std::io::Error| {
            Error::Internal(format!("{what} {}: {e}", path.display()))
        };
        match std::fs::metadata(path) {
            Ok(meta) => {
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| io("making private", e))?;
                    tracing::warn!(path = %path.display(), "database file was readable by others; now 0600");
                }
                for suffix in ["-wal", "-shm"] {
                    let side = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
                    if let Ok(m) = std::fs::metadata(&side)
                        && m.permissions().mode() & 0o077 != 0
                    {
                        std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))
                            .map_err(|e| io("making private", e))?;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| io("creating", e))?;
            }
            Err(e) => return Err(io("reading", e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `sqlite://file.db` → `sqlite://file.db?mode=rwc` (create the file when missing).
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

async fn sqlite_pool(url: &str, connections: u32) -> Result<AnyPool> {
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .min_connections(1)
        // Connections live for the process: prepared statements stay cached.
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(10))
        // No ping before each use: a SQLite connection is a file handle in this process
        // that cannot drop like a socket, and sqlx's ping is a round trip to the
        // connection's worker thread — one more thread hop per statement (a fifth of a
        // check-in's database CPU). A broken file still fails the statement itself.
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL: readers do not block the writer. NORMAL: in WAL mode a commit
                // survives a process crash (SIGKILL); only power loss may drop the tail.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        })
        .connect_with(options.disable_statement_logging())
        .await?;
    Ok(pool)
}

/// Whether an error is a unique-key violation (idempotency races on PostgreSQL).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/f.db?mode=rwc"),
            Some(std::path::PathBuf::from("data/f.db"))
        );
        assert_eq!(sqlite_path("sqlite:f.db"), Some("f.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x?mode=memory"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()), 1)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x BIGINT)")
            .execute(&db.write)
            .await
            .unwrap();
        for file in ["new.db", "new.db-wal", "new.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        db.close().await;
        // An existing file readable by others is made private at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = Db::connect(&format!("sqlite://{}", path.display()), 1)
            .await
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        db.close().await;
    }

    /// A backup holds what is committed but still only in the WAL, is private, and never
    /// replaces a file.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_backup_is_a_consistent_private_copy() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()), 1)
            .await
            .unwrap();
        // Keep the WAL from being checkpointed into the main file.
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x TEXT)")
            .execute(&db.write)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t (x) VALUES ('committed')")
            .execute(&db.write)
            .await
            .unwrap();
        let wal = std::fs::metadata(dir.path().join("live.db-wal"))
            .unwrap()
            .len();
        assert!(wal > 0, "the row is in the WAL");
        let copy = dir.path().join("copy.db");
        let summary = db.backup_to(&copy).await.unwrap();
        assert_eq!((summary.lenders, summary.devices), (0, 0));
        assert_eq!(summary.bytes, std::fs::metadata(&copy).unwrap().len());
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // An existing file is refused and left alone.
        std::fs::write(dir.path().join("taken.db"), b"keep").unwrap();
        let err = db
            .backup_to(&dir.path().join("taken.db"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        assert_eq!(std::fs::read(dir.path().join("taken.db")).unwrap(), b"keep");
        db.close().await;
        // The copy is a database of its own with the row.
        let restored = Db::connect(&format!("sqlite://{}", copy.display()), 1)
            .await
            .unwrap();
        let n: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM t WHERE x = 'committed'")
                .fetch_one(&restored.read)
                .await
                .unwrap(),
            "n",
        )
        .unwrap();
        assert_eq!(n, 1);
        restored.close().await;
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(sqlite_url("sqlite://f.db"), "sqlite://f.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://f.db?x=1"),
            "sqlite://f.db?x=1&mode=rwc"
        );
        assert_eq!(sqlite_url("sqlite://f.db?mode=ro"), "sqlite://f.db?mode=ro");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
    }
}
