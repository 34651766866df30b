//! The check-in client against a real local HTTP server that misbehaves on purpose.
//!
//! Every fault must leave the decision inputs exactly as they were (only the
//! check-in schedule moves), and a property test throws sequences of faults at a
//! device to show none of them can turn `locked` from false to true.
//! All traffic stays on 127.0.0.1, bounded in count and time.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use finlock_core::checkin::{Client, ClientConfig};
use finlock_core::clock::ClockInput;
use finlock_core::device::{Device, DeviceState, EnrollParams};
use finlock_core::fixtures::{self, DEVICE_ID, OFFLINE_SECRET, T0};
use finlock_core::protocol::{
    self, CheckinRequest, EnrollRequest, EnrollResponse, Entitlement, UrlPolicy,
};
use finlock_core::{Error, b64, jws};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake server does with the next request.
#[derive(Debug, Clone)]
enum Behaviour {
    /// A correct answer: a fresh entitlement (seq from the counter) echoing the nonce.
    Good,
    /// Accept the connection and never answer.
    Hang,
    /// Close the connection without a word.
    Close,
    Status(u16, &'static str),
    TooManyRequests {
        retry_after: u64,
    },
    Html,
    Truncated,
    Garbage,
    WrongContentType,
    Huge,
    /// A valid, properly signed entitlement for another device.
    OtherDevice,
    /// The first entitlement again (an old answer replayed).
    Replay,
    /// A properly signed entitlement that ignores the nonce.
    NoNonce,
    /// A forged "locked" entitlement.
    ForgedLock,
}

struct FakeServer {
    addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Behaviour>>>,
}

fn clock_at(t: i64) -> ClockInput {
    fixtures::clock_at(t)
}

fn first_entitlement(nonce: &str) -> Entitlement {
    let mut e = fixtures::entitlement(1, T0);
    e.nonce = Some(nonce.into());
    e
}

impl FakeServer {
    async fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script: Arc<Mutex<VecDeque<Behaviour>>> = Arc::default();
        let seq = Arc::new(Mutex::new(1u64));
        let (s2, q2) = (script.clone(), seq.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let behaviour = s2.lock().unwrap().pop_front().unwrap_or(Behaviour::Good);
                tokio::spawn(serve(stream, behaviour, q2.clone()));
            }
        });
        FakeServer { addr, script }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn then(&self, b: Behaviour) {
        self.script.lock().unwrap().push_back(b);
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            let mut body = buf[end + 4..].to_vec();
            while body.len() < len {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
            return Some((path, body));
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    extra: &str,
    body: &[u8],
) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

/// The nonce of a request body (enroll or check-in), read the way a server would.
fn request_nonce(path: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let payload = jws::parse(&text).unwrap().into_payload();
    if path.ends_with("enroll") {
        protocol::decode_payload::<EnrollRequest>(&payload)
            .unwrap()
            .nonce
    } else {
        protocol::decode_payload::<CheckinRequest>(&payload)
            .unwrap()
            .nonce
    }
}

async fn serve(mut stream: TcpStream, behaviour: Behaviour, seq: Arc<Mutex<u64>>) {
    let Some((path, body)) = read_request(&mut stream).await else {
        return;
    };
    let nonce = request_nonce(&path, &body);
    let entitlement_answer = |e: &Entitlement, key: &finlock_core::keys::LenderKey| {
        if path.ends_with("enroll") {
            serde_json::to_vec(&EnrollResponse {
                device_id: DEVICE_ID.into(),
                entitlement: e.sign(key).unwrap(),
                offline_secret: b64::encode(OFFLINE_SECRET),
                push_key: None,
            })
            .unwrap()
        } else {
            serde_json::to_vec(&protocol::CheckinResponse {
                entitlement: e.sign(key).unwrap(),
                push_key: None,
            })
            .unwrap()
        }
    };
    let next = || {
        let mut s = seq.lock().unwrap();
        *s += 1;
        let mut e = fixtures::entitlement(*s, T0 + 60);
        e.nonce = Some(nonce.clone());
        e
    };
    let json = "application/json";
    match behaviour {
        Behaviour::Good => {
            let e = if path.ends_with("enroll") {
                first_entitlement(&nonce)
            } else {
                next()
            };
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                &entitlement_answer(&e, &fixtures::lender_key()),
            )
            .await
        }
        Behaviour::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
        Behaviour::Close => {}
        Behaviour::Status(code, text) => {
            let body = format!(r#"{{"type":"about:blank","title":"{text}","status":{code}}}"#);
            respond(
                &mut stream,
                &format!("{code} {text}"),
                "application/problem+json",
                "",
                body.as_bytes(),
            )
            .await
        }
        Behaviour::TooManyRequests { retry_after } => {
            respond(
                &mut stream,
                "429 Too Many Requests",
                "application/problem+json",
                &format!("Retry-After: {retry_after}\r\n"),
                b"{}",
            )
            .await
        }
        Behaviour::Html => {
            respond(
                &mut stream,
                "200 OK",
                "text/html",
                "",
                b"<html><body>Captive portal: please log in</body></html>",
            )
            .await
        }
        Behaviour::Truncated => {
            let full = entitlement_answer(&next(), &fixtures::lender_key());
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                full.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&full[..full.len() / 2]).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Garbage => {
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                b"{\"entitlement\": 42, \xff\xfe",
            )
            .await
        }
        Behaviour::WrongContentType => {
            let body = entitlement_answer(&next(), &fixtures::lender_key());
            respond(&mut stream, "200 OK", "text/plain", "", &body).await
        }
        Behaviour::Huge => respond(&mut stream, "200 OK", json, "", &vec![b' '; 200_000]).await,
        Behaviour::OtherDevice => {
            let mut e = next();
            e.sub = "dev-someone-else".into();
            e.state = protocol::EntitlementState::Locked;
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                &entitlement_answer(&e, &fixtures::lender_key()),
            )
            .await
        }
        Behaviour::Replay => {
            let old = first_entitlement(&nonce);
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                &entitlement_answer(&old, &fixtures::lender_key()),
            )
            .await
        }
        Behaviour::NoNonce => {
            let mut e = next();
            e.nonce = None;
            e.lock_at = T0;
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                &entitlement_answer(&e, &fixtures::lender_key()),
            )
            .await
        }
        Behaviour::ForgedLock => {
            let mut e = next();
            e.state = protocol::EntitlementState::Locked;
            respond(
                &mut stream,
                "200 OK",
                json,
                "",
                &entitlement_answer(&e, &fixtures::impostor_key()),
            )
            .await
        }
    }
}

fn params() -> EnrollParams {
    fixtures::enroll_params()
}

fn client(server: &FakeServer) -> Client {
    let config = ClientConfig {
        deadline: Some(Duration::from_millis(800)),
        ..ClientConfig::default()
    };
    Client::new(&server.url(), UrlPolicy::DEBUG, &config).unwrap()
}

async fn enrolled_device(server: &FakeServer) -> (tempfile::TempDir, Device) {
    let dir = tempfile::tempdir().unwrap();
    let mut device = Device::open(dir.path()).unwrap();
    device
        .update(|s| s.provision(&server.url(), fixtures::pinned_keys(), true))
        .unwrap();
    client(server)
        .enroll(&mut device, &params(), || clock_at(T0))
        .await
        .unwrap();
    (dir, device)
}

/// The parts of the state a fault must never touch.
fn decision_inputs(
    s: &DeviceState,
) -> (
    Entitlement,
    i64,
    finlock_core::offline_code::OfflineCodeState,
) {
    let en = s.enrolled().unwrap();
    (
        en.entitlement.clone(),
        en.last_successful_checkin,
        en.offline.clone(),
    )
}

#[tokio::test]
async fn a_good_check_in_is_accepted_and_schedules_the_next() {
    let server = FakeServer::start().await;
    let (_dir, mut device) = enrolled_device(&server).await;
    let eval = client(&server)
        .check_in(&mut device, || clock_at(T0 + 100), "0.1.0", false)
        .await
        .unwrap();
    assert!(!eval.decision.locked);
    let s = device.state();
    assert_eq!(s.enrolled().unwrap().entitlement.seq, 2);
    assert_eq!(s.checkin.failures, 0);
    assert_eq!(
        s.checkin.next_at,
        s.enrolled().unwrap().entitlement.next_checkin
    );
}

#[tokio::test]
async fn every_fault_leaves_the_decision_inputs_alone() {
    let server = FakeServer::start().await;
    let (_dir, mut device) = enrolled_device(&server).await;
    let c = client(&server);
    let faults: Vec<(Behaviour, &str)> = vec![
        (Behaviour::Hang, "server_unreachable"),
        (Behaviour::Close, "server_unreachable"),
        (
            Behaviour::Status(500, "Internal Server Error"),
            "server_status",
        ),
        (Behaviour::Status(502, "Bad Gateway"), "server_status"),
        (Behaviour::Status(404, "Not Found"), "server_status"),
        (
            Behaviour::TooManyRequests { retry_after: 300 },
            "server_status",
        ),
        (Behaviour::Html, "server_answer_invalid"),
        (Behaviour::Truncated, "server_answer_invalid"),
        (Behaviour::Garbage, "payload_not_object"),
        (Behaviour::WrongContentType, "server_answer_invalid"),
        (Behaviour::Huge, "server_answer_invalid"),
        (Behaviour::OtherDevice, "wrong_subject"),
        (Behaviour::Replay, "stale_seq"),
        (Behaviour::NoNonce, "nonce_mismatch"),
        (Behaviour::ForgedLock, "jws_bad_signature"),
    ];
    let before = decision_inputs(device.state());
    for (i, (fault, code)) in faults.into_iter().enumerate() {
        server.then(fault.clone());
        let t = T0 + 100 + 60 * i as i64;
        let err = c
            .check_in(&mut device, || clock_at(t), "0.1.0", false)
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{fault:?}: {err}");
        assert_eq!(
            decision_inputs(device.state()),
            before,
            "{fault:?} changed the decision inputs"
        );
        assert!(
            !device
                .state()
                .clone()
                .evaluate(&clock_at(t))
                .decision
                .locked
        );
        let schedule = device.state().checkin;
        assert_eq!(schedule.failures, i as u32 + 1);
        assert!(
            schedule.next_at > t,
            "{fault:?}: next attempt must be later"
        );
        if let Behaviour::TooManyRequests { retry_after } = fault {
            assert!(
                schedule.next_at >= t + retry_after as i64,
                "Retry-After honoured"
            );
        }
    }
    // The server recovers: the next check-in works and the backoff resets.
    client(&server)
        .check_in(&mut device, || clock_at(T0 + 10_000), "0.1.0", false)
        .await
        .unwrap();
    assert_eq!(device.state().checkin.failures, 0);
}

#[tokio::test]
async fn a_refused_connection_is_unreachable() {
    let server = FakeServer::start().await;
    let (_dir, mut device) = enrolled_device(&server).await;
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let c = Client::new(&url, UrlPolicy::DEBUG, &ClientConfig::default()).unwrap();
    let before = decision_inputs(device.state());
    let err = c
        .check_in(&mut device, || clock_at(T0 + 100), "0.1.0", false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ServerUnreachable { .. }), "{err}");
    assert_eq!(decision_inputs(device.state()), before);
}

#[tokio::test]
async fn check_now_is_limited_to_once_per_30_seconds() {
    let server = FakeServer::start().await;
    let (_dir, mut device) = enrolled_device(&server).await;
    let c = client(&server);
    c.check_in(&mut device, || clock_at(T0 + 100), "0.1.0", true)
        .await
        .unwrap();
    let err = c
        .check_in(&mut device, || clock_at(T0 + 110), "0.1.0", true)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CheckNowTooSoon { retry_after_s: 20 }),
        "{err}"
    );
    c.check_in(&mut device, || clock_at(T0 + 131), "0.1.0", true)
        .await
        .unwrap();
}

#[tokio::test]
async fn events_ride_along_and_clear_only_when_answered() {
    let server = FakeServer::start().await;
    let (_dir, mut device) = enrolled_device(&server).await;
    let c = client(&server);
    // A clock change creates an event.
    let back = ClockInput {
        wall_ms: (T0 - 86_400) * 1000,
        ..clock_at(T0 + 200)
    };
    device.evaluate(&back).unwrap();
    assert_eq!(device.state().enrolled().unwrap().pending_events.len(), 1);
    server.then(Behaviour::Status(503, "Service Unavailable"));
    assert!(
        c.check_in(&mut device, || clock_at(T0 + 300), "0.1.0", false)
            .await
            .is_err()
    );
    // Kept after the failure (plus a second jump: the clock was put right again).
    let kept = &device.state().enrolled().unwrap().pending_events;
    assert_eq!(kept.len(), 2, "kept after a failure: {kept:?}");
    c.check_in(&mut device, || clock_at(T0 + 400), "0.1.0", false)
        .await
        .unwrap();
    assert!(
        device.state().enrolled().unwrap().pending_events.is_empty(),
        "cleared once answered"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let config = ClientConfig::default();
    assert!(Client::new("http://lender.example", UrlPolicy::DEBUG, &config).is_err());
    assert!(Client::new("http://127.0.0.1:8080", UrlPolicy::STRICT, &config).is_err());
    assert!(Client::new("https://lender.example", UrlPolicy::STRICT, &config).is_ok());
}

fn fault() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        Just(Behaviour::Close),
        Just(Behaviour::Status(500, "Internal Server Error")),
        Just(Behaviour::TooManyRequests { retry_after: 5 }),
        Just(Behaviour::Html),
        Just(Behaviour::Truncated),
        Just(Behaviour::Garbage),
        Just(Behaviour::WrongContentType),
        Just(Behaviour::OtherDevice),
        Just(Behaviour::Replay),
        Just(Behaviour::NoNonce),
        Just(Behaviour::ForgedLock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// No sequence of faulty server responses turns `locked` from false to true.
    #[test]
    fn faulty_responses_never_lock(faults in proptest::collection::vec(fault(), 1..8)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = FakeServer::start().await;
            let (_dir, mut device) = enrolled_device(&server).await;
            let c = client(&server);
            for (i, f) in faults.into_iter().enumerate() {
                server.then(f);
                let t = T0 + 1_000 + 60 * i as i64;
                let _ = c.check_in(&mut device, || clock_at(t), "0.1.0", false).await;
                let d = device.state().clone().evaluate(&clock_at(t)).decision;
                assert!(!d.locked, "locked after a fault: {d:?}");
            }
        });
    }
}
