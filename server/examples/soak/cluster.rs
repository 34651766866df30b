//! `finlock serve` nodes as separate processes on one database and one keys directory,
//! each on its own loopback port; one can be SIGKILLed and started again on its port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    bin: PathBuf,
    db: String,
    keys: PathBuf,
    logs: PathBuf,
    interval_s: u64,
    nodes: Vec<Node>,
}

struct Node {
    port: u16,
    child: Option<Child>,
    starts: u32,
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Cluster {
    pub fn new(
        bin: &Path,
        db: &str,
        dir: &Path,
        interval_s: u64,
        count: usize,
    ) -> Result<Cluster, String> {
        let mut nodes = Vec::new();
        for _ in 0..count {
            nodes.push(Node {
                port: free_port()?,
                child: None,
                starts: 0,
            });
        }
        Ok(Cluster {
            bin: bin.to_path_buf(),
            db: db.to_string(),
            keys: dir.join("keys"),
            logs: dir.to_path_buf(),
            interval_s,
            nodes,
        })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("FINLOCK_DB", &self.db)
            .env("FINLOCK_KEYS", &self.keys)
            .env("FINLOCK_LOG_LEVEL", "warn")
            .env_remove("FINLOCK_LOG")
            .env_remove("RUST_LOG");
        c
    }

    /// `finlock lender add --json`: `{ lender_id, api_key, jwks }`.
    pub fn add_lender(&self) -> Result<serde_json::Value, String> {
        let out = self
            .command()
            .args(["lender", "add", "Soak Credit", "--phone", "+254700000001"])
            .args(["--payment-url", "https://pay.example/soak", "--json"])
            .output()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "finlock lender add: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("finlock lender add: {e}"))
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("http://127.0.0.1:{}", n.port))
            .collect()
    }

    fn spawn(&mut self, i: usize) -> Result<(), String> {
        let log_path = self.logs.join(format!("node-{i}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let port = self.nodes[i].port;
        let child = self
            .command()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--checkin-min-interval", &self.interval_s.to_string()])
            // Phones enroll from many addresses behind the soak's "proxy".
            .args(["--trust-forwarded-for", "--shutdown-grace", "0"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
        self.nodes[i].child = Some(child);
        self.nodes[i].starts += 1;
        Ok(())
    }

    /// Starts node `i` and waits until it answers `/healthz`.
    pub async fn start(&mut self, i: usize, http: &reqwest::Client) -> Result<(), String> {
        self.spawn(i)?;
        let url = format!("http://127.0.0.1:{}/healthz", self.nodes[i].port);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(child) = self.nodes[i].child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!(
                    "node {i} exited at start ({status}); see {}",
                    self.logs.join(format!("node-{i}.log")).display()
                ));
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("node {i} did not answer /healthz within 60 s"))
    }

    /// SIGKILL: no graceful shutdown, requests in flight are cut.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
