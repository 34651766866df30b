//! Writes the committed seed corpora, `fuzz/seeds/<target>/`, from the conformance
//! vectors (rust-core/tests/vectors) and from real messages the fixture phone makes
//! (enrollment and check-in requests, answers, state files). Deterministic: the same
//! vectors give the same files, named by content.
//!
//! `cargo xtask fuzz --write-seeds` runs it (`cargo run --manifest-path fuzz/Cargo.toml
//! --no-default-features --example gen-seeds -- fuzz/seeds rust-core/tests/vectors`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use finlock_core::b64;
use finlock_core::clock::ClockInput;
use finlock_core::device::{DeviceState, Outgoing};
use finlock_core::fixtures::{self, DAY, DEVICE_ID, OFFLINE_SECRET, T0};
use finlock_core::jws;
use finlock_core::offline_code;
use finlock_core::protocol::{self, EnrollRequest, Entitlement, EntitlementState};
use finlock_core::store;
use finlock_fuzz::{join, nonce};
use serde_json::{Value, json};

/// Seeds per target, by file name.
#[derive(Default)]
struct Seeds(BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>);

impl Seeds {
    fn add(&mut self, target: &'static str, label: &str, bytes: Vec<u8>) {
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let hash: String = digest.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(48)
            .collect();
        self.0
            .entry(target)
            .or_default()
            .insert(format!("{label}-{hash}"), bytes);
    }
}

/// The middle part of a compact JWS, decoded.
fn payload_of(compact: &str) -> Option<Vec<u8>> {
    b64::decode(compact.split('.').nth(1)?)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn vectors(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = fs::read_to_string(&path).expect("vector readable");
        let value: Value = serde_json::from_str(&text).expect("vector is JSON");
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, value));
    }
    out
}

/// Fixed "randomness", so the generated seeds are the same on every run.
#[allow(deprecated)]
fn rng() -> ring::test::rand::FixedByteRandom {
    ring::test::rand::FixedByteRandom { byte: 0x5a }
}

/// [`fixtures::enrolled`] with a fixed device key and nonce.
fn enrolled(first: Entitlement) -> DeviceState {
    let mut s = DeviceState::default();
    s.provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
        .expect("fixture provisions");
    let out = s
        .enroll_request(&fixtures::enroll_params(), &rng())
        .expect("fixture enroll request");
    s.complete_enrollment(
        &fixtures::enroll_answer(&out.nonce, first.clone()),
        &fixtures::clock_at(first.iat),
    )
    .expect("fixture enrollment completes");
    s
}

fn entitlement_payload(e: &Entitlement) -> Vec<u8> {
    serde_json::to_vec(e).expect("entitlement serializes")
}

fn with_nonce(seq: u64, iat: i64) -> Entitlement {
    let mut e = fixtures::entitlement(seq, iat);
    e.nonce = Some(nonce());
    e
}

fn chain_payloads(n: u8) -> Vec<Vec<u8>> {
    fixtures::rotation_chain(n)
        .iter()
        .filter_map(|l| payload_of(l))
        .collect()
}

fn core_seeds(seeds: &mut Seeds, vectors: &[(String, Value)]) {
    for (name, v) in vectors {
        let jws_text = v.get("jws").and_then(Value::as_str).unwrap_or_default();
        let keys = strings(v.get("keys"));
        for compact in std::iter::once(jws_text).chain(keys.iter().map(String::as_str)) {
            if !compact.is_empty() {
                seeds.add("jws_parse", name, compact.as_bytes().to_vec());
            }
        }
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("entitlement");
        if kind == "enroll-request" {
            seeds.add("server_enroll", name, join(0, &[jws_text.as_bytes()]));
            if let Some(p) = payload_of(jws_text) {
                seeds.add("server_enroll", name, join(1, &[&p]));
            }
            continue;
        }
        if jws_text.is_empty() {
            continue;
        }
        let context = v.get("context");
        let expects_nonce = context
            .and_then(|c| c.get("expected_nonce"))
            .is_some_and(|n| !n.is_null());
        let nonce_flag = if expects_nonce { 0x10 } else { 0 };
        // Mode 0: as received, against the active device at seq 4.
        let mut parts: Vec<&[u8]> = vec![jws_text.as_bytes()];
        parts.extend(keys.iter().map(|k| k.as_bytes()));
        seeds.add("entitlement_accept", name, join(nonce_flag, &parts));
        // Mode 1: the payloads, re-signed along the chain.
        if let Some(p) = payload_of(jws_text) {
            let chain: Vec<Vec<u8>> = keys.iter().filter_map(|k| payload_of(k)).collect();
            let mut parts: Vec<&[u8]> = vec![&p];
            parts.extend(chain.iter().map(Vec::as_slice));
            seeds.add("entitlement_accept", name, join(1 | nonce_flag, &parts));
        }
    }

    // Fixture answers in every mode and against every stored state.
    let next = entitlement_payload(&with_nonce(5, T0 + 3600));
    let after_rotation = entitlement_payload(&with_nonce(6, T0 + 3600));
    let mut locked = with_nonce(5, T0 + 3600);
    locked.state = EntitlementState::Locked;
    let locked = entitlement_payload(&locked);
    let mut released = with_nonce(5, T0 + 3600);
    released.state = EntitlementState::Released;
    let released = entitlement_payload(&released);
    let chain2 = chain_payloads(2);
    for (stored, payload) in [(0u8, &next), (1, &after_rotation), (2, &next), (3, &locked)] {
        let flags = 0x10 | (stored << 2);
        seeds.add(
            "entitlement_accept",
            "fixture-next",
            join(1 | flags, &[payload]),
        );
        let mut parts: Vec<&[u8]> = vec![payload];
        parts.extend(chain2.iter().map(Vec::as_slice));
        seeds.add(
            "entitlement_accept",
            "fixture-two-rotations",
            join(1 | flags, &parts),
        );
        let envelope = br#"{"entitlement":""}"#;
        seeds.add(
            "entitlement_accept",
            "fixture-checkin-answer",
            join(2 | flags, &[envelope, payload]),
        );
    }
    seeds.add(
        "entitlement_accept",
        "fixture-released",
        join(0x11, &[&released]),
    );
    let enroll_envelope = serde_json::to_vec(&json!({
        "device_id": DEVICE_ID,
        "offline_secret": b64::encode(OFFLINE_SECRET),
    }))
    .expect("JSON");
    let first = entitlement_payload(&with_nonce(1, T0));
    seeds.add(
        "entitlement_accept",
        "fixture-enroll-answer",
        join(3, &[&enroll_envelope, &first]),
    );
    let chain1 = chain_payloads(1);
    let mut parts: Vec<&[u8]> = vec![&enroll_envelope, &first];
    parts.extend(chain1.iter().map(Vec::as_slice));
    seeds.add(
        "entitlement_accept",
        "fixture-enroll-answer-rotated",
        join(3, &parts),
    );
    // The real answers, as the fixture phone receives them.
    let answer = fixtures::enroll_answer(&nonce(), fixtures::entitlement(1, T0));
    seeds.add(
        "entitlement_accept",
        "fixture-enroll-answer-raw",
        join(3, &[&answer]),
    );
}

fn server_seeds(seeds: &mut Seeds) {
    // A real check-in from the fixture phone, signed with the key the fuzzed row holds.
    let mut phone = enrolled(fixtures::entitlement(4, T0));
    let Outgoing { body, .. } = phone
        .checkin_request(&fixtures::clock_at(T0 + 3600), "0.1.0", &rng())
        .expect("fixture check-in");
    let payload = payload_of(&body).expect("a JWS");
    let body = fixtures::device_key().sign_as(DEVICE_ID, jws::typ::CHECKIN, &payload);
    let mut request: Value = serde_json::from_slice(&payload).expect("JSON");
    for flags in [0u8, 2, 4, 8, 0x20, 0x40] {
        seeds.add(
            "server_checkin",
            "fixture-request",
            join(flags, &[body.as_bytes()]),
        );
    }
    request["seq_seen"] = json!(5);
    request["events"] = json!([
        {"type": "offline_code_used", "counter": 3, "days": 7, "at": T0 + 100},
        {"type": "offline_code_used", "counter": 1, "days": 1, "at": T0 + 50},
        {"type": "clock_jump", "delta_s": -3600},
        {"type": "from_the_future"}
    ]);
    request["keys_seq"] = json!(2);
    let with_events = serde_json::to_vec(&request).expect("JSON");
    for flags in [1u8, 3, 5, 9, 0x0d, 0x41] {
        seeds.add(
            "server_checkin",
            "fixture-payload",
            join(flags, &[&payload]),
        );
        seeds.add(
            "server_checkin",
            "fixture-payload-events",
            join(flags, &[&with_events]),
        );
    }

    // Enrollment requests: by code, by IMEI; signed by the fixture device key.
    let key = fixtures::device_key();
    let mut request = EnrollRequest {
        v: protocol::VERSION,
        enrollment_code: Some("CODE-1234".into()),
        device_key: key.public().to_jwk(),
        nonce: nonce(),
        imei_sha256: Some(protocol::imei_sha256("490154203237518")),
        serial_sha256: None,
        model: "Pixel 3a".into(),
        android_sdk: 34,
        app_version: "0.1.0".into(),
        keys_seq: 0,
        attestation: None,
        push_endpoint: None,
    };
    let by_code = serde_json::to_vec(&request).expect("JSON");
    request.enrollment_code = None;
    request.keys_seq = 3;
    let by_imei = serde_json::to_vec(&request).expect("JSON");
    let thumbprint = key.public().thumbprint();
    for (label, payload) in [("by-code", &by_code), ("by-imei", &by_imei)] {
        let body = key.sign_as(&thumbprint, jws::typ::ENROLL, payload);
        for row in 0u8..4 {
            seeds.add("server_enroll", label, join(row << 1, &[body.as_bytes()]));
            seeds.add(
                "server_enroll",
                label,
                join(1 | (row << 1) | 0x08, &[payload]),
            );
            seeds.add(
                "server_enroll",
                label,
                join(1 | (row << 1) | 0x30, &[payload]),
            );
        }
    }
}

fn offline_seeds(seeds: &mut Seeds) {
    let genuine = offline_code::response(&OFFLINE_SECRET, 7, 7).expect("7 days allowed");
    let formatted = offline_code::format_code(genuine);
    for typed in [
        formatted.as_str(),
        &formatted.replace(' ', ""),
        &formatted.replace(' ', "-"),
        "1234 5678",
        "0000 0000",
        "1234 567",
        "1234 56789",
        "١٢٣٤٥٦٧٨",
        " - 1 2 3 4 - 5 6 7 8 - ",
        "",
    ] {
        for flags in [0u8, 2, 4, 6, 8, 0x10] {
            seeds.add("offline_code", "typed", join(flags, &[typed.as_bytes()]));
        }
    }
    for days in 0u8..8 {
        for flags in [1u8, 3, 5, 7, 9] {
            seeds.add("offline_code", "genuine", join(flags, &[&[0, days]]));
            seeds.add(
                "offline_code",
                "genuine-spaced",
                join(flags, &[&[0, days, 8, 9, 10, 0, 9, 9, 1, 9]]),
            );
        }
        seeds.add("offline_code", "genuine-ahead", join(1, &[&[1, days]]));
    }
}

fn state_seeds(seeds: &mut Seeds) {
    let rng = rng();
    let fresh = DeviceState::default();
    let mut provisioned = DeviceState::default();
    provisioned
        .provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
        .expect("fixture provisions");
    let mut pending = provisioned.clone();
    pending
        .enroll_request(&fixtures::enroll_params(), &rng)
        .expect("fixture enroll request");
    let enrolled = enrolled(fixtures::entitlement(4, T0));
    let mut busy = enrolled.clone();
    let clock = fixtures::clock_at(T0 + 3 * DAY);
    let _ = busy.enter_offline_code("0000 0000", &clock);
    let _ = busy.evaluate(&ClockInput {
        wall_ms: (T0 + 9 * DAY) * 1000,
        ..clock
    });
    let _ = busy.checkin_request(&clock, "0.1.0", &rng);
    busy.record_checkin_failure(&clock, Some(60), 7);
    let mut rotated = enrolled.clone();
    let mut e = fixtures::entitlement(5, T0 + 60);
    e.nonce = Some(nonce());
    rotated
        .accept_chained(
            &fixtures::rotation_chain(2),
            &e.sign(&fixtures::rotated_key(2)).expect("fixture signs"),
            Some(&nonce()),
            &fixtures::clock_at(T0 + 60),
        )
        .expect("fixture rotation");
    for (label, state) in [
        ("fresh", &fresh),
        ("provisioned", &provisioned),
        ("pending", &pending),
        ("enrolled", &enrolled),
        ("busy", &busy),
        ("rotated", &rotated),
    ] {
        let body = serde_json::to_vec(state).expect("state serializes");
        let frame = store::encode(&body);
        for clock in 0u8..4 {
            seeds.add("store_decode", label, join(clock << 1, &[&frame]));
            seeds.add("store_decode", label, join(1 | (clock << 1), &[&body]));
        }
    }
    seeds.add(
        "store_decode",
        "empty-frame",
        join(0, &[&store::encode(b"")]),
    );
}

/// A minimal DER encoder for the KeyDescription seeds.
mod der {
    pub fn tlv(first: u8, tag: u32, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if tag < 31 {
            out.push(first | tag as u8);
        } else {
            out.push(first | 0x1f);
            let mut groups = Vec::new();
            let mut t = tag;
            loop {
                groups.push((t & 0x7f) as u8);
                t >>= 7;
                if t == 0 {
                    break;
                }
            }
            for (i, g) in groups.iter().enumerate().rev() {
                out.push(if i == 0 { *g } else { g | 0x80 });
            }
        }
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }
    pub fn integer(v: i64) -> Vec<u8> {
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 7
            && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
                || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
        {
            start += 1;
        }
        tlv(0x00, 2, &bytes[start..])
    }
    pub fn enumerated(v: i64) -> Vec<u8> {
        let mut out = integer(v);
        out[0] = 0x0a;
        out
    }
    pub fn octets(b: &[u8]) -> Vec<u8> {
        tlv(0x00, 4, b)
    }
    pub fn boolean(b: bool) -> Vec<u8> {
        tlv(0x00, 1, &[if b { 0xff } else { 0 }])
    }
    pub fn null() -> Vec<u8> {
        tlv(0x00, 5, &[])
    }
    pub fn sequence(items: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x20, 16, &items.concat())
    }
    pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x20, 17, &items.concat())
    }
    pub fn explicit(tag: u32, inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0, tag, &inner)
    }
}

/// A KeyDescription as a TEE phone with ID attestation writes it (the layout of the
/// server's attestation tests), with the boot state and lock as given.
fn key_description(security: i64, locked: bool, boot: i64, with_ids: bool) -> Vec<u8> {
    use der::*;
    let root_of_trust = explicit(
        704,
        sequence(&[
            octets(&[0x42; 32]),
            boolean(locked),
            enumerated(boot),
            octets(&[0x24; 32]),
        ]),
    );
    let mut hardware = vec![
        explicit(1, set(&[integer(2)])),
        explicit(2, integer(3)),
        explicit(503, null()),
        explicit(702, integer(0)),
        root_of_trust,
        explicit(705, integer(140000)),
        explicit(706, integer(202605)),
    ];
    if with_ids {
        for (tag, value) in [
            (710, "finphone"),
            (711, "fp1"),
            (712, "fp1_global"),
            (713, "FA6AB0301234"),
            (714, "490154203237518"),
            (716, "Finphone Ltd"),
            (717, "FP-1"),
            (723, "490154203237526"),
        ] {
            hardware.push(explicit(tag, octets(value.as_bytes())));
        }
    }
    hardware.push(explicit(718, integer(20260505)));
    sequence(&[
        integer(300),
        enumerated(security),
        integer(300),
        enumerated(security),
        octets(b"server-issued challenge, 32 byte"),
        octets(&[]),
        sequence(&[
            explicit(701, integer(1_779_900_000_000)),
            explicit(
                709,
                octets(&sequence(&[
                    set(&[sequence(&[octets(b"org.finlock.app"), integer(7)])]),
                    set(&[octets(&[0x11; 32])]),
                ])),
            ),
        ]),
        sequence(&hardware),
    ])
}

fn attestation_seeds(seeds: &mut Seeds, vectors: &[(String, Value)]) {
    for (security, locked, boot, ids) in [
        (1, true, 0, true),
        (2, true, 0, true),
        (0, true, 0, true),
        (1, false, 0, true),
        (1, true, 2, true),
        (1, true, 0, false),
    ] {
        let kd = key_description(security, locked, boot, ids);
        seeds.add("attestation_chain", "key-description", join(1, &[&kd]));
    }
    // A real chain's shape (its root is not the fuzz process's, so it fails on trust),
    // from fixed keys, serials and dates so the seed is the same on every run.
    let key = |byte: u8| {
        #[allow(deprecated)]
        let rng = ring::test::rand::FixedByteRandom { byte };
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("pkcs8");
        rcgen::KeyPair::try_from(pkcs8.as_ref()).expect("rcgen reads ring's pkcs8")
    };
    let (root_key, leaf_key) = (key(1), key(2));
    let params = |serial: u8| {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&[1, serial]));
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2040, 1, 1);
        p
    };
    let mut root_params = params(1);
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let root = root_params.self_signed(&root_key).expect("root");
    let issuer = rcgen::Issuer::from_params(&root_params, &root_key);
    let mut leaf_params = params(2);
    leaf_params
        .custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17],
            key_description(1, true, 0, true),
        ));
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");
    seeds.add(
        "attestation_chain",
        "chain-shape",
        join(0, &[leaf.der().as_ref(), root.der().as_ref()]),
    );
    // The attested enrollment vectors' chains, decoded from their base64.
    for (name, v) in vectors {
        let Some(p) = v
            .get("jws")
            .and_then(Value::as_str)
            .and_then(payload_of)
            .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        else {
            continue;
        };
        let certs: Vec<Vec<u8>> = strings(p.pointer("/attestation/chain"))
            .iter()
            .filter_map(|c| b64::decode(c))
            .collect();
        if !certs.is_empty() {
            let parts: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
            seeds.add("attestation_chain", name, join(0, &parts));
        }
    }
}

/// `csv_import`: a flags byte (0 sales, 1 payments), then the file: good files (CRLF, a
/// BOM, quoting, columns in another order, optional columns left out) and files with
/// every kind of bad row.
fn csv_import_seeds(seeds: &mut Seeds) {
    let sales = [
        (
            "sales-good",
            "customer_ref,imei,currency,grace_days,installments,amount,first_due,every\nC-1,35-209900-176148-1,KES,7,3,2500.00,2027-01-31,month\nC-2,,kes,0,2,10,2027-01-01,14\n",
        ),
        (
            "sales-bom-crlf",
            "\u{feff}Every,First_Due,Amount,Installments,Grace_Days,Currency,Auto_Reprovision\r\nweek,2027-02-01,\"1500\",6,3,UGX,yes\r\n\r\n30d,2027-02-01,1,1,0,JPY,no\r\n",
        ),
        (
            "sales-bad-rows",
            "currency,grace_days,installments,amount,first_due,every,offline_lock_after_days\nKES,x,3,-5,31/01/2027,fortnight,0\nKESH,400,0,1.001,2027-02-30,367,366\n=1+2,7,3,\"1,000\",1999-01-01,month,\n",
        ),
        (
            "sales-header-errors",
            "currency,currency,colour\nKES,KES,red\n",
        ),
    ];
    for (label, text) in sales {
        seeds.add("csv_import", label, [&[0u8][..], text.as_bytes()].concat());
    }
    let payments = [
        (
            "payments-good",
            "device,amount,reference,currency,paid_at\ndev-1,2500.00,QK1,KES,2026-11-30\nC-9,10,QK2,,2026-11-30T10:00:00+03:00\n",
        ),
        (
            "payments-bad-rows",
            "reference,amount,device\nQK1,-1,d\nQK1,1.2.3,\n,5,d\n\"QK\nX\",1,d\nQK4,1,d,extra\n",
        ),
    ];
    for (label, text) in payments {
        seeds.add("csv_import", label, [&[1u8][..], text.as_bytes()].concat());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(vector_dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: gen-seeds OUT_DIR VECTORS_DIR");
        std::process::exit(2);
    };
    let vectors = vectors(Path::new(vector_dir));
    let mut seeds = Seeds::default();
    core_seeds(&mut seeds, &vectors);
    server_seeds(&mut seeds);
    offline_seeds(&mut seeds);
    state_seeds(&mut seeds);
    attestation_seeds(&mut seeds, &vectors);
    csv_import_seeds(&mut seeds);
    for (target, files) in &seeds.0 {
        let dir = Path::new(out).join(target);
        // Start over, so a seed whose source is gone does not linger.
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create seed directory");
        let mut bytes = 0;
        for (name, content) in files {
            fs::write(dir.join(name), content).expect("write seed");
            bytes += content.len();
        }
        println!("{target}: {} seeds, {bytes} bytes", files.len());
    }
}
