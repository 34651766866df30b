//! The device API fuzzed over real HTTP with validly signed, mutated messages (issue 15):
//! the schema fuzzer (`cargo xtask api-fuzz`) cannot sign, so its `/v1/enroll` and
//! `/v1/checkin` bodies never get past the signature. Here each field of a genuine
//! enrollment and check-in is removed, nulled, given another type, an extreme or an odd
//! value, unknown fields are added and fields are combined at random (a fixed seed), and
//! every variant is signed with the phone's own key; the JWS header is mutated too (signed
//! over the mutated header). Every answer must be one the document lists for the endpoint,
//! never a 5xx, and every refusal a problem+json with its type, status and detail; the
//! genuine messages still work afterwards (a refusal changed nothing stored).

use finlock_core::b64;
use finlock_core::jws::typ;
use finlock_core::keys::DeviceKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start_with;
use crate::common::{SimDevice, TestServer};

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values of every kind, the extremes and the odd ones a field may be given instead.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(""),
        json!(" "),
        json!("x".repeat(5000)),
        json!("\u{0000}\u{202e}é\u{1f600}"),
        json!("dev-"),
        json!("../../etc/passwd"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({ "kty": "OKP", "crv": "Ed25519", "x": "AAAA" }),
        json!({ "type": "offline_code_used", "at": -5 }),
    ]
}

/// Mutations of a payload object: each field removed and given each odd value, unknown
/// fields, non-objects, then `random` random combinations.
fn mutations(genuine: &Value, rng: &mut Rng, random: usize) -> Vec<Value> {
    let fields: Vec<String> = genuine.as_object().unwrap().keys().cloned().collect();
    let odd = odd_values();
    let mut out = Vec::new();
    for f in &fields {
        let mut v = genuine.clone();
        v.as_object_mut().unwrap().remove(f);
        out.push(v);
        for value in &odd {
            let mut v = genuine.clone();
            v[f.as_str()] = value.clone();
            out.push(v);
        }
    }
    for extra in [json!({ "colour": "red" }), json!({ "v": 1, "v2": 2 })] {
        let mut v = genuine.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        out.push(v);
    }
    out.extend([json!([]), json!(5), json!("text"), Value::Null, json!({})]);
    for _ in 0..random {
        let mut v = genuine.clone();
        for _ in 0..1 + rng.below(4) {
            let f = &fields[rng.below(fields.len())];
            if rng.below(5) == 0 {
                v.as_object_mut().unwrap().remove(f);
            } else {
                v[f.as_str()] = odd[rng.below(odd.len())].clone();
            }
        }
        out.push(v);
    }
    out
}

/// A compact JWS over `header` and `payload`, signed by `key` (any header at all).
fn sign_with_header(key: &DeviceKey, header: &Value, payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(serde_json::to_vec(header).unwrap()),
        b64::encode(payload)
    );
    let sig = key.sign_raw(input.as_bytes());
    format!("{input}.{}", b64::encode(sig))
}

/// Header mutations of a message of type `t` under `kid`.
fn headers(t: &str, kid: &str) -> Vec<Value> {
    let good = json!({ "alg": "EdDSA", "typ": t, "kid": kid });
    let mut out = Vec::new();
    for (name, values) in [
        (
            "alg",
            vec![json!("none"), json!("HS256"), json!("ES256"), json!(null)],
        ),
        (
            "typ",
            vec![
                json!(typ::ENTITLEMENT),
                json!("JWT"),
                json!(""),
                json!(7),
                json!(if t == typ::ENROLL {
                    typ::CHECKIN
                } else {
                    typ::ENROLL
                }),
            ],
        ),
        (
            "kid",
            vec![
                json!(""),
                json!("dev-nobody"),
                json!(5),
                json!("x".repeat(300)),
            ],
        ),
    ] {
        for value in values {
            let mut h = good.clone();
            h[name] = value;
            out.push(h);
        }
        let mut h = good.clone();
        h.as_object_mut().unwrap().remove(name);
        out.push(h);
    }
    let mut crit = good.clone();
    crit["crit"] = json!(["b64"]);
    crit["b64"] = json!(false);
    out.push(crit);
    let mut jwk = good.clone();
    jwk["jwk"] = json!({ "kty": "OKP", "crv": "Ed25519", "x": "AAAA" });
    out.push(jwk);
    out
}

/// Random combinations per endpoint, beside the systematic mutations.
const RANDOM: usize = 1000;

/// What the document lists for a device endpoint.
const DOCUMENTED: [u16; 8] = [200, 202, 400, 401, 409, 413, 422, 429];

/// Sends `body` and checks the answer is documented, never a 5xx, and every refusal a
/// well-formed problem. Returns the status.
async fn send(s: &TestServer, path: &str, body: String, what: &str) -> StatusCode {
    let r = s.post_jose(path, body).await;
    let status = r.status();
    assert!(!status.is_server_error(), "{path} {what}: {status}");
    assert!(
        DOCUMENTED.contains(&status.as_u16()) && (path == "/v1/enroll" || status.as_u16() != 202),
        "{path} {what}: undocumented {status}"
    );
    if status.is_success() {
        return status;
    }
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json", "{path} {what}: {status}");
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["status"], status.as_u16(), "{path} {what}: {v}");
    assert!(
        v["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:finlock:problem:")),
        "{path} {what}: {v}"
    );
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{path} {what}: {v}"
    );
    status
}

fn payload_of(body: &str) -> Value {
    let p = body.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64::decode(p).unwrap()).unwrap()
}

async fn server() -> TestServer {
    start_with(|c| {
        // Answered, not limited: every mutation reaches the judgement.
        c.checkin_min_interval_s = 0;
        c.enroll_per_address = 0;
    })
    .await
}

/// `m` with a fresh nonce where it kept the genuine one, so a variant the server accepts
/// does not turn the rest into replays.
fn fresh_nonce(m: &Value, genuine: &Value, rng: &mut Rng) -> Value {
    let mut m = m.clone();
    if m.is_object() && m.get("nonce") == genuine.get("nonce") && genuine.get("nonce").is_some() {
        let bytes: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
        m["nonce"] = json!(b64::encode(bytes));
    }
    m
}

#[tokio::test]
async fn mutated_signed_check_ins_get_documented_answers_and_break_nothing() {
    let s = server().await;
    let lender = s.lender("Acme").await;
    let (device_id, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(60);
    let en = phone.state.enrolled().unwrap();
    let key = DeviceKey::from_pkcs8(&en.device_key.bytes().unwrap(), None).unwrap();
    let genuine = phone.checkin_body(&s);
    let payload = payload_of(&genuine.body);
    let before = s.device(&lender, &device_id).await;

    let mut rng = Rng(0x5eed_c4ec_1a00_0001);
    let (mut refused, mut accepted) = (0, 0);
    for (i, m) in mutations(&payload, &mut rng, RANDOM).iter().enumerate() {
        let m = fresh_nonce(m, &payload, &mut rng);
        let body = key.sign_as(&device_id, typ::CHECKIN, &serde_json::to_vec(&m).unwrap());
        let status = send(&s, "/v1/checkin", body, &format!("mutation {i}: {m}")).await;
        if status.is_success() {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    let raw = serde_json::to_vec(&payload).unwrap();
    for h in headers(typ::CHECKIN, &device_id) {
        let body = sign_with_header(&key, &h, &raw);
        let status = send(&s, "/v1/checkin", body, &format!("header {h}")).await;
        assert!(!status.is_success(), "header {h} was accepted");
        refused += 1;
    }
    // Payloads that are not JSON at all, signed.
    for junk in [&b""[..], b"{", b"\xff\xfe", b"[1,2", b"null", &[b'{'; 4000]] {
        let body = key.sign_as(&device_id, typ::CHECKIN, junk);
        let status = send(&s, "/v1/checkin", body, &format!("junk {junk:?}")).await;
        assert!(!status.is_success(), "junk {junk:?} was accepted");
        refused += 1;
    }
    // Most variants break a rule; a few only change what the phone reports (its app
    // version, an empty event list) and are check-ins like any other.
    assert!(
        refused > 1000 && accepted < refused / 4,
        "{refused} {accepted}"
    );

    // Nothing broke: the device is in the same state and the genuine check-in, signed
    // before all of this, is answered with an entitlement the phone accepts.
    let after = s.device(&lender, &device_id).await;
    assert_eq!(before["state"], after["state"], "{after}");
    let r = s.post_jose("/v1/checkin", genuine.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let bytes = r.bytes().await.unwrap();
    phone.accept(&s, &genuine, &bytes);
}

#[tokio::test]
async fn mutated_signed_enrollments_get_documented_answers_and_break_nothing() {
    let s = server().await;
    let lender = s.lender("Acme").await;
    let (_, mut code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    let mut payload = payload_of(&phone.enroll_body(Some(&code), None).body);
    // A key of the test's own signs every variant (the payload names it).
    let mut key = DeviceKey::generate().unwrap();
    payload["device_key"] = serde_json::to_value(key.public().to_jwk()).unwrap();

    let mut rng = Rng(0x5eed_e4a0_1100_0002);
    let (mut refused, mut accepted) = (0, 0);
    for (i, m) in mutations(&payload, &mut rng, RANDOM).iter().enumerate() {
        let m = fresh_nonce(m, &payload, &mut rng);
        let body = key.sign_compact(typ::ENROLL, &serde_json::to_vec(&m).unwrap());
        let what = format!("mutation {i}: {m}");
        let status = send(&s, "/v1/enroll", body, &what).await;
        if status == StatusCode::OK {
            // A variant that changes only what the phone says about itself (model, app
            // version) is an enrollment: the code and the key are used up, so the rest
            // go on with a new sale and a new key.
            accepted += 1;
            assert_eq!(m["enrollment_code"], json!(code), "{what} enrolled");
            code = s.register(&lender, json!({})).await.1;
            key = DeviceKey::generate().unwrap();
            payload["enrollment_code"] = json!(code);
            payload["device_key"] = serde_json::to_value(key.public().to_jwk()).unwrap();
        } else {
            refused += 1;
        }
    }
    let raw = serde_json::to_vec(&payload).unwrap();
    for h in headers(typ::ENROLL, key.kid()) {
        let body = sign_with_header(&key, &h, &raw);
        let status = send(&s, "/v1/enroll", body, &format!("header {h}")).await;
        assert!(!status.is_success(), "header {h} enrolled");
        refused += 1;
    }
    assert!(
        refused > 1000 && accepted < refused / 4,
        "{refused} {accepted}"
    );

    // Nothing broke: the current sale's code still enrolls a real phone.
    phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(60);
    phone.checkin(&s).await;
}

#[test]
fn the_mutations_cover_every_field_with_every_kind() {
    let genuine = json!({ "a": 1, "b": "x" });
    let mut rng = Rng(1);
    let all = mutations(&genuine, &mut rng, 10);
    let kinds = odd_values().len();
    // Per field: removed + each odd value; two with unknown fields; five non-objects.
    assert_eq!(all.len(), 2 * (1 + kinds) + 2 + 5 + 10);
    assert!(all.iter().any(|m| m.get("a").is_none() && m["b"] == "x"));
    assert!(all.iter().any(|m| m["a"] == Value::Null));
    assert!(
        all.iter()
            .any(|m| m.as_object().is_some_and(|o| o.len() == 3))
    );
    assert!(all.iter().any(|m| !m.is_object()));
}
