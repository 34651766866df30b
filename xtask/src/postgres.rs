//! A throw-away PostgreSQL for the server's PostgreSQL test suite.
//!
//! `FINLOCK_TEST_POSTGRES_URL`, when set, is used as it is. Otherwise xtask starts a
//! private cluster from Debian's `postgresql` package (`initdb` + `pg_ctl`) in
//! `target/xtask-postgres`, on a free loopback port, and stops it when the step is over,
//! so contributors and CI need no service set up by hand. PostgreSQL refuses to run as
//! root, so as root the cluster runs as the `postgres` user the package creates.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const URL_VAR: &str = "FINLOCK_TEST_POSTGRES_URL";

/// A running PostgreSQL, stopped when dropped (if xtask started it).
pub struct Postgres {
    pub url: String,
    started: Option<Cluster>,
}

struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    as_postgres_user: bool,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(c) = &self.started {
            let _ = c
                .command(
                    &c.pg_ctl,
                    &["-D", &c.data.to_string_lossy(), "-m", "fast", "-w", "stop"],
                )
                .status();
        }
    }
}

impl Cluster {
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program).args(args);
            c
        } else {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    }
}

/// The directory holding `initdb` and `pg_ctl`, newest version first.
fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A PostgreSQL to test against, or why there is none.
pub fn ensure(target_dir: &Path) -> Result<Postgres, String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Ok(Postgres { url, started: None });
    }
    let bin = find_bin_dir().ok_or_else(|| {
        format!(
            "PostgreSQL is not installed (apt-get install postgresql), and {URL_VAR} is not set"
        )
    })?;
    let as_postgres_user = is_root();
    let data = target_dir.join("xtask-postgres");
    if data.exists() {
        // A cluster left by an interrupted run: stop it if it runs, then start afresh.
        let stale = Cluster {
            pg_ctl: bin.join("pg_ctl"),
            data: data.clone(),
            as_postgres_user,
        };
        let _ = stale
            .command(
                &stale.pg_ctl,
                &["-D", &data.to_string_lossy(), "-m", "immediate", "stop"],
            )
            .status();
        std::fs::remove_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    }
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let cluster = Cluster {
        pg_ctl: bin.join("pg_ctl"),
        data: data.clone(),
        as_postgres_user,
    };
    if as_postgres_user {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&data)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("could not hand the cluster directory to the postgres user".into());
        }
    }
    let data_s = data.to_string_lossy().into_owned();
    let initdb = cluster
        .command(
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = free_port()?;
    // Loopback only; the socket lives in the data directory; fsync off (a test database).
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {data_s} -c fsync=off -c synchronous_commit=off -c max_connections=200"
    );
    let log = data.join("server.log").to_string_lossy().into_owned();
    let start = cluster
        .command(
            &cluster.pg_ctl,
            &[
                "-D", &data_s, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        )
        .output()
        .map_err(|e| format!("pg_ctl start: {e}"))?;
    let postgres = Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        started: Some(cluster),
    };
    if !start.status.success() {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}\n{log_text}",
            String::from_utf8_lossy(&start.stderr)
        ));
    }
    Ok(postgres)
}
