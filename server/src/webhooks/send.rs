//! One delivery attempt over HTTP: a POST of the payload with the Standard Webhooks
//! headers, answered within the timeout; 2xx is delivered, anything else (a redirect
//! too: none is followed) fails. The response body is never read: a receiver cannot
//! make the server hold or store what it answers.

use std::sync::Arc;

use super::address::{self, Rules};
use super::signing;
use crate::error::{Error, Result};

/// The delivery client: rustls with ring and the OS trust store, the resolver that
/// refuses private addresses, no redirects, no proxy from the environment.
pub fn client(rules: Rules, timeout: std::time::Duration) -> Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let unusable = |e: String| Error::Internal(format!("webhook TLS set-up: {e}"));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| unusable(e.to_string()))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unusable(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .dns_resolver(address::resolver(rules))
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("finlock-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| unusable(e.to_string()))
}

/// What one attempt got: the status (when an answer came) or why none came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    Failed(String),
}

/// One message to send.
pub struct Message<'a> {
    pub url: &'a str,
    pub event_id: &'a str,
    pub secret: &'a str,
    pub payload: &'a str,
    pub timestamp: i64,
}

/// POSTs `message` once. The URL is checked again under today's rules (an address
/// literal stored before a setting changed); names are checked by the resolver.
pub async fn attempt(client: &reqwest::Client, rules: Rules, message: &Message<'_>) -> Answer {
    if let Err(e) = address::check_url(message.url, rules) {
        return Answer::Failed(e.to_string());
    }
    let signature = match signing::sign(
        message.secret,
        message.event_id,
        message.timestamp,
        message.payload.as_bytes(),
    ) {
        Ok(s) => s,
        Err(e) => return Answer::Failed(e.to_string()),
    };
    let sent = client
        .post(message.url)
        .header("content-type", "application/json")
        .header("webhook-id", message.event_id)
        .header("webhook-timestamp", message.timestamp.to_string())
        .header("webhook-signature", signature)
        .body(message.payload.to_string())
        .send()
        .await;
    match sent {
        // Dropped unread: the connection is closed rather than drained.
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(e) => Answer::Failed(describe(&e)),
    }
}

/// A transport error in plain words, without the URL (it may carry a token in its path).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer within the timeout"
    } else if e.is_connect() {
        "could not connect (refused, unreachable, or no allowed address)"
    } else if e.is_request() {
        "the request failed"
    } else {
        "transport error"
    };
    what.to_string()
}
