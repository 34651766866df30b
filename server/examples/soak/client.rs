//! The HTTP side of the soak: every request timed by kind, the lender's calls retried on
//! transport errors, 5xx and `concurrent` conflicts — at the other node first — until a
//! definite answer or a deadline.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

/// Requests are timed and counted per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Register,
    Enroll,
    Checkin,
    Payment,
    Void,
    Lock,
    Unlock,
    Extension,
    Read,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Enroll => "enroll",
            Kind::Checkin => "check-in",
            Kind::Payment => "payment",
            Kind::Void => "void",
            Kind::Lock => "lock",
            Kind::Unlock => "unlock",
            Kind::Extension => "extension",
            Kind::Read => "read",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct KindStats {
    /// Latency of each 2xx answer, µs.
    pub ok_us: Vec<u32>,
    /// Answers by status other than 2xx.
    pub other: BTreeMap<u16, u64>,
    /// Connection refused or reset, timeouts.
    pub transport: u64,
}

impl KindStats {
    pub fn p(&self, q: f64) -> f64 {
        let mut v = self.ok_us.clone();
        v.sort_unstable();
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        f64::from(v[i]) / 1000.0
    }
}

/// One answer, or none.
pub enum Sent {
    Answer {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<u64>,
    },
    Transport,
}

/// What a retried lender call came to.
pub enum Outcome {
    /// A definite answer; `ambiguous` when an earlier attempt may have landed.
    Done {
        status: u16,
        body: Value,
        ambiguous: bool,
    },
    /// No definite answer before the deadline: it may or may not have happened.
    Unknown,
}

pub struct Client {
    pub http: reqwest::Client,
    pub nodes: Vec<String>,
    api_key: String,
    stats: Mutex<BTreeMap<Kind, KindStats>>,
}

/// How long a lender call is retried before its outcome counts as unknown.
const RETRY_FOR: Duration = Duration::from_secs(30);

impl Client {
    pub fn new(nodes: Vec<String>, api_key: String) -> Result<Client, reqwest::Error> {
        finlock_core::checkin::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Client {
            http,
            nodes,
            api_key,
            stats: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn node(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()]
    }

    /// The figures so far, and a fresh start for the next phase.
    pub fn take_stats(&self) -> BTreeMap<Kind, KindStats> {
        self.stats
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }

    /// Sends one request, timed and counted under `kind`.
    pub async fn send(&self, kind: Kind, req: RequestBuilder) -> Sent {
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let retry_after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok());
                match r.bytes().await {
                    Ok(body) => Sent::Answer {
                        status,
                        body: body.to_vec(),
                        retry_after,
                    },
                    Err(_) => Sent::Transport,
                }
            }
            Err(_) => Sent::Transport,
        };
        let us = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        if let Ok(mut stats) = self.stats.lock() {
            let s = stats.entry(kind).or_default();
            match &answer {
                Sent::Answer { status, .. } if (200..300).contains(status) => s.ok_us.push(us),
                Sent::Answer { status, .. } => *s.other.entry(*status).or_default() += 1,
                Sent::Transport => s.transport += 1,
            }
        }
        answer
    }

    pub fn lender_request(
        &self,
        method: &Method,
        node: usize,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> RequestBuilder {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.node(node)))
            .bearer_auth(&self.api_key);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req
    }

    /// A lender call at node `prefer`, retried (alternating nodes) until a definite answer.
    pub async fn lender(
        &self,
        kind: Kind,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        prefer: usize,
    ) -> Outcome {
        let deadline = Instant::now() + RETRY_FOR;
        let mut ambiguous = false;
        let mut attempt = 0usize;
        while Instant::now() < deadline {
            let req = self.lender_request(&method, prefer + attempt, path, body, idempotency_key);
            attempt += 1;
            match self.send(kind, req).await {
                Sent::Answer { status, body, .. } => {
                    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let concurrent = status == 409 && value["code"] == "concurrent";
                    if status < 500 && !concurrent {
                        return Outcome::Done {
                            status,
                            body: value,
                            ambiguous,
                        };
                    }
                    // A 5xx may have committed before failing; `concurrent` did not.
                    ambiguous |= status >= 500;
                }
                Sent::Transport => ambiguous = true,
            }
            let backoff = 50 * u64::try_from(attempt.min(10)).unwrap_or(10);
            tokio::time::sleep(Duration::from_millis(backoff)).await;
        }
        Outcome::Unknown
    }
}
