//! The demo's push distributor: what ntfy (or an OEM's UnifiedPush distributor) is on a
//! real phone, as a tiny HTTP listener on 127.0.0.1.
//!
//! An app registers with it by the server's VAPID public key (the enrollment answer's
//! `push_key`) and gets a Web Push endpoint, `http://127.0.0.1:PORT/push/<random>`, which
//! the app hands to the core (`set_push_endpoint`). Every POST there is a push for that
//! app: like a push service (RFC 8292) the distributor checks its VAPID authorization
//! (an ES256 JWT for this origin, signed by the key the app registered with) and records
//! what arrived — how many body bytes, whether it was signed right, when. What to do about
//! a push is the phone's business (`push_arrived`), not the distributor's.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use finlock_core::b64;
use tokio::sync::mpsc;

/// A push's body is read up to this many bytes (a wake-up has none).
const MAX_BODY: usize = 4096;

/// One push as it reached the distributor.
#[derive(Debug, Clone)]
pub struct Push {
    /// The subscription it was for ([`Distributor::subscribe`]'s number).
    pub to: usize,
    /// Bytes of body: a wake-up push carries none.
    pub body_bytes: usize,
    /// Signed by the key the app registered with, for this origin.
    pub vapid: bool,
    pub at: Instant,
}

struct Subscription {
    to: usize,
    /// The server's VAPID public key (base64url of the 65-byte point).
    key: Vec<u8>,
}

#[derive(Clone)]
struct Shared {
    origin: String,
    subscriptions: Arc<Mutex<HashMap<String, Subscription>>>,
    tx: mpsc::UnboundedSender<Push>,
}

/// A running distributor; stops when dropped.
pub struct Distributor {
    origin: String,
    shared: Shared,
    rx: mpsc::UnboundedReceiver<Push>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Distributor {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Distributor {
    /// Listens on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Distributor> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Shared {
            origin: origin.clone(),
            subscriptions: Arc::new(Mutex::new(HashMap::new())),
            tx,
        };
        let app = axum::Router::new()
            .route("/push/{token}", axum::routing::post(receive))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Distributor {
            origin,
            shared,
            rx,
            server,
        })
    }

    /// An app registers with the server's VAPID key; `to` names it in the [`Push`]es.
    /// Returns the endpoint to give the core.
    pub fn subscribe(&self, to: usize, vapid_key: &str) -> Result<String, String> {
        let key = b64::decode(vapid_key)
            .filter(|k| k.len() == 65 && k[0] == 4)
            .ok_or("the server's push key is not a P-256 public key")?;
        let token = crate::ids::secret_bytes::<16>().map_err(|e| e.to_string())?;
        let token = b64::encode(token);
        let mut subs = self
            .shared
            .subscriptions
            .lock()
            .map_err(|_| "the distributor's table is unusable")?;
        subs.insert(token.clone(), Subscription { to, key });
        Ok(format!("{}/push/{token}", self.origin))
    }

    /// The next push, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Push> {
        tokio::time::timeout(within, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// A push already arrived, if any.
    pub fn try_next(&mut self) -> Option<Push> {
        self.rx.try_recv().ok()
    }
}

async fn receive(
    State(shared): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let (to, vapid) = {
        let Ok(subs) = shared.subscriptions.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR;
        };
        // An endpoint nobody registered: gone, as a push service says it.
        let Some(sub) = subs.get(&token) else {
            return StatusCode::GONE;
        };
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        (sub.to, vapid_ok(authorization, &sub.key, &shared.origin))
    };
    if body.len() > MAX_BODY {
        return StatusCode::PAYLOAD_TOO_LARGE;
    }
    let _ = shared.tx.send(Push {
        to,
        body_bytes: body.len(),
        vapid,
        at,
    });
    StatusCode::CREATED
}

/// RFC 8292: `vapid t=<ES256 JWT>, k=<key>`, `k` the key the app registered with, the JWT
/// signed by it for this origin.
fn vapid_ok(authorization: &str, key: &[u8], origin: &str) -> bool {
    let Some(rest) = authorization.strip_prefix("vapid ") else {
        return false;
    };
    let (mut jwt, mut k) = (None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => jwt = Some(v),
            Some(("k", v)) => k = Some(v),
            _ => {}
        }
    }
    let (Some(jwt), Some(k)) = (jwt, k) else {
        return false;
    };
    if b64::decode(k).as_deref() != Some(key) {
        return false;
    }
    let Some((signed, signature)) = jwt.rsplit_once('.') else {
        return false;
    };
    let Some(signature) = b64::decode(signature) else {
        return false;
    };
    let verifies =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
            .verify(signed.as_bytes(), &signature)
            .is_ok();
    let audience = signed
        .split('.')
        .nth(1)
        .and_then(b64::decode)
        .and_then(|c| serde_json::from_slice::<serde_json::Value>(&c).ok())
        .is_some_and(|c| c["aud"] == origin);
    verifies && audience
}
