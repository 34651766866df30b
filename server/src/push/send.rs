//! One Web Push (RFC 8030) to one endpoint: an empty POST with VAPID, retried a few times
//! when the push service is busy or unreachable, then given up (the phone's hourly
//! check-in is the fallback; nothing depends on a push arriving).
//!
//! The client follows no redirect, uses no proxy, speaks rustls with the ring provider,
//! and resolves names through [`PolicyResolver`], so a name that resolves to a private
//! address is refused at connect time (no DNS-rebinding way around [`Policy`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::endpoint::Policy;
use super::vapid::Vapid;
use crate::error::{Error, Result};

/// The push's headers (RFC 8030 §5).
pub mod headers {
    /// How long the push service keeps an undelivered push: after 4 h a wake-up is
    /// pointless, the hourly check-in has happened.
    pub const TTL_S: u64 = 4 * 3600;
    /// Delivered at once, even to a phone saving battery: the customer is waiting.
    pub const URGENCY: &str = "high";
    /// One topic for every wake-up: a later push replaces one not yet delivered, so a
    /// phone offline for a while gets one wake-up, not a queue of them.
    pub const TOPIC: &str = "finlock-wake";
}

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// One attempt's limit, connection included.
    pub timeout: Duration,
    /// Attempts in all (429, 5xx, network errors are retried).
    pub attempts: u32,
    /// The first retry waits this long, each next one four times longer (1 s, 4 s, …).
    pub backoff: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

/// The longest `Retry-After` honoured; a push service asking for more is given up on.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201/202: the push service took it.
    Sent,
    /// 404/410: the subscription is gone; forget the endpoint.
    Gone,
    /// Anything else, after the retries: a status or a network error's kind.
    GaveUp(&'static str),
}

/// The push client.
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    vapid: Arc<Vapid>,
    timing: Timing,
}

impl Sender {
    pub fn new(vapid: Arc<Vapid>, policy: Policy, timing: Timing) -> Result<Sender> {
        let unusable = |what: &str| Error::Internal(format!("push client: {what}"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|_| unusable("the system's certificates"))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| unusable("TLS versions"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timing.timeout)
            .connect_timeout(timing.timeout)
            // A redirect could send the push anywhere, past the endpoint's checks.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!policy.allow_http_loopback)
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .user_agent(concat!("finlock-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| unusable("set-up"))?;
        Ok(Sender {
            http,
            vapid,
            timing,
        })
    }

    /// Sends one empty push to `endpoint` (already checked by the policy), retrying as
    /// [`Timing`] says.
    pub async fn push(&self, endpoint: &str) -> Outcome {
        let Ok(url) = reqwest::Url::parse(endpoint) else {
            return Outcome::GaveUp("bad-url");
        };
        let origin = url.origin().ascii_serialization();
        let mut delay = self.timing.backoff;
        let mut last = "none";
        for attempt in 1..=self.timing.attempts.max(1) {
            let wait = match self.attempt(url.clone(), &origin).await {
                Ok(status) if status == StatusCode::CREATED || status == StatusCode::ACCEPTED => {
                    return Outcome::Sent;
                }
                Ok(status) if status == StatusCode::NOT_FOUND || status == StatusCode::GONE => {
                    return Outcome::Gone;
                }
                Ok(status) if status.is_success() => return Outcome::Sent,
                Ok(status) if status == StatusCode::TOO_MANY_REQUESTS => {
                    last = "429";
                    delay
                }
                Ok(status) if status.is_server_error() => {
                    last = "5xx";
                    delay
                }
                Ok(status) => {
                    // 400/401/403/413…: the same push will not fare better. A 403 is a
                    // subscription made with another VAPID key: the phone re-registers
                    // when its check-in answer names a new `push_key`.
                    tracing::info!(%origin, status = status.as_u16(), "push refused by the push service");
                    return Outcome::GaveUp("refused");
                }
                Err(kind) => {
                    last = kind;
                    delay
                }
            };
            if attempt < self.timing.attempts {
                tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                delay = delay.saturating_mul(4);
            }
        }
        tracing::info!(%origin, last, "push given up; the phone checks in on its schedule");
        Outcome::GaveUp(last)
    }

    async fn attempt(
        &self,
        url: reqwest::Url,
        origin: &str,
    ) -> std::result::Result<StatusCode, &'static str> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let authorization = self.vapid.authorization(origin, now).map_err(|_| "vapid")?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header("TTL", headers::TTL_S)
            .header("Urgency", headers::URGENCY)
            .header("Topic", headers::TOPIC)
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .body(Vec::<u8>::new())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(response.status())
    }
}

/// A network error's kind, for logs (never the URL: it is a capability).
fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_builder() {
        "refused-target"
    } else {
        "network"
    }
}

/// Resolves names and keeps only addresses the [`Policy`] allows.
#[derive(Debug)]
struct PolicyResolver {
    policy: Policy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> =
                found.filter(|a| policy.allows_ip(a.ip()).is_ok()).collect();
            if allowed.is_empty() {
                return Err(
                    "the push endpoint's name resolves to no address the server may reach".into(),
                );
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}
