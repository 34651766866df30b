//! Lender key rotation over real HTTP (ADR 0007): phones enrolled before a rotation, phones
//! several rotations behind, QR codes printed before a rotation, a leaked key retired, a
//! lost key restored from its encrypted backup, another lender's API key, two nodes.

use finlock_core::device::{DeviceState, Outgoing};
use finlock_core::jws;
use finlock_core::keys::{KeySet, LenderKey};
use finlock_core::keyset::{Chained, KeySetPayload};
use finlock_core::protocol::{CheckinResponse, EntitlementState, LockReason};
use finlock_server::{key_backup, lender_keys, lenders};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{start, start_two_nodes};
use crate::common::{self, Lender, SimDevice, TestServer, problem, rng};

const PASS: &str = "a long passphrase for the backup";

async fn rotate(server: &TestServer, lender: &Lender) -> Value {
    let r = server
        .post(lender, "/v1/lender/keys/rotate", json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.expect("json")
}

async fn key_sets(server: &TestServer, lender: &Lender) -> Value {
    let r = server.get(lender, "/v1/lender/keys").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

fn pinned_seq(phone: &SimDevice) -> u64 {
    phone
        .state
        .provisioning
        .as_ref()
        .expect("provisioned")
        .lender_keys
        .keys_seq()
}

/// The `kid` an entitlement (or any JWS) was signed under.
fn kid_of(compact: &str) -> String {
    jws::parse(compact)
        .expect("jws")
        .header()
        .kid
        .clone()
        .expect("kid")
}

/// One check-in whose raw answer is kept: (answer JSON, entitlement).
async fn checkin_raw(phone: &mut SimDevice, server: &TestServer) -> Value {
    let out = phone.checkin_body(server);
    let r = server.post_jose("/v1/checkin", out.body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    phone.accept(server, &out, &bytes);
    serde_json::from_slice(&bytes).expect("json")
}

async fn enrolled(server: &TestServer, lender: &Lender) -> (String, SimDevice) {
    let (id, code) = server.register(lender, json!({})).await;
    let mut phone = SimDevice::new(server, lender);
    phone.enroll(server, &code).await;
    (id, phone)
}

#[tokio::test]
async fn a_phone_enrolled_before_a_rotation_accepts_the_chain_at_its_next_check_in() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let (_, mut phone) = enrolled(&server, &lender).await;
    let old_kid = lender.keys().keys()[0].kid().to_string();
    let rotated = rotate(&server, &lender).await;
    assert_eq!(rotated["keys_seq"], 1);
    assert_eq!(rotated["signed_by"], old_kid.as_str());
    let new_kid = rotated["kid"].as_str().expect("kid").to_string();
    assert_ne!(new_kid, old_kid);
    // The new set holds the new key and the old one (answers signed just before verify).
    let kids: Vec<&str> = rotated["jwks"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    assert_eq!(rotated["jwks"]["keys_seq"], 1);

    server.clock.advance(60);
    let answer = checkin_raw(&mut phone, &server).await;
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 1);
    assert_eq!(
        kid_of(answer["entitlement"].as_str().expect("entitlement")),
        new_kid,
        "entitlements are signed with the newest key"
    );
    assert_eq!(pinned_seq(&phone), 1);
    // Up to date: the next answer carries no chain, and the request says where it is.
    server.clock.advance(60);
    let answer = checkin_raw(&mut phone, &server).await;
    assert!(answer.get("keys").is_none(), "{answer}");
    // Audited in the lender's key log, naming the API key.
    let sets = key_sets(&server, &lender).await;
    assert_eq!(sets["keys_seq"], 1);
    assert_eq!(sets["sets"].as_array().expect("sets").len(), 2);
    let log = sets["log"].as_array().expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["action"], "keys_rotated");
    assert_eq!(log[0]["detail"]["new_kid"], new_kid.as_str());
    assert!(log[0]["api_key_id"].as_str().is_some());
    assert!(!log[0].to_string().contains(&lender.api_key));
}

#[tokio::test]
async fn a_phone_three_rotations_behind_catches_up_in_one_check_in() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let (_, mut phone) = enrolled(&server, &lender).await;
    let mut newest = String::new();
    for _ in 0..3 {
        server.clock.advance(common::DAY); // at most 2 sets in 24 hours
        newest = rotate(&server, &lender).await["kid"]
            .as_str()
            .expect("kid")
            .to_string();
    }
    server.clock.advance(60);
    let answer = checkin_raw(&mut phone, &server).await;
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 3);
    assert_eq!(pinned_seq(&phone), 3);
    let pinned = &phone.state.provisioning.as_ref().expect("p").lender_keys;
    assert!(pinned.find(&newest).is_some());
    assert!(pinned.find(lender.keys().keys()[0].kid()).is_none());
}

/// The provisioning JSON of a device (what its QR code says).
async fn qr(server: &TestServer, lender: &Lender, id: &str) -> Value {
    let r = server
        .get(
            lender,
            &format!("/v1/lender/devices/{id}/provisioning?format=json"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

/// A phone provisioned from a QR payload (the keys and the code it carries).
fn from_qr(server: &TestServer, lender: &Lender, payload: &Value) -> (SimDevice, String) {
    let bundle = &payload["android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE"];
    let keys = KeySet::from_json(
        bundle["finlock.lender_keys"]
            .as_str()
            .expect("keys")
            .as_bytes(),
    )
    .expect("the QR's key set");
    let mut phone = SimDevice::new(server, lender);
    let mut state = DeviceState::default();
    state.provision(&server.url, keys, true).expect("provision");
    phone.state = state;
    let code = bundle["finlock.enrollment_code"]
        .as_str()
        .expect("code")
        .to_string();
    (phone, code)
}

#[tokio::test]
async fn a_qr_printed_before_a_rotation_still_provisions_a_phone_that_catches_up() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let (old_id, _) = server.register(&lender, json!({})).await;
    let printed = qr(&server, &lender, &old_id).await;
    rotate(&server, &lender).await;
    rotate(&server, &lender).await;
    let (mut phone, code) = from_qr(&server, &lender, &printed);
    assert_eq!(pinned_seq(&phone), 0);
    let out = phone.enroll_body(Some(&code), None);
    let r = server.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    let answer: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 2);
    let clock = phone.clock(&server);
    phone
        .state
        .complete_enrollment(&bytes, &clock)
        .expect("the phone follows the chain at enrollment");
    assert_eq!(pinned_seq(&phone), 2);
    server.clock.advance(60);
    phone.checkin(&server).await;

    // A QR printed now pins set 2 and needs no catching up.
    let (new_id, _) = server.register(&lender, json!({})).await;
    let fresh = qr(&server, &lender, &new_id).await;
    let (mut phone2, code2) = from_qr(&server, &lender, &fresh);
    assert_eq!(pinned_seq(&phone2), 2);
    let out = phone2.enroll_body(Some(&code2), None);
    let text = out.body.split('.').nth(1).expect("payload");
    let payload: Value =
        serde_json::from_slice(&finlock_core::b64::decode(text).expect("b64")).expect("json");
    assert_eq!(payload["keys_seq"], 2, "the request names the pinned set");
    let r = server.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("body");
    let answer: Value = serde_json::from_slice(&bytes).expect("json");
    assert!(answer.get("keys").is_none(), "{answer}");
    let clock = phone2.clock(&server);
    phone2
        .state
        .complete_enrollment(&bytes, &clock)
        .expect("enrolls");
}

/// An answer an attacker holding `key` forges for the phone's outstanding check-in.
fn forged(phone: &SimDevice, out: &Outgoing, key: &LenderKey, chain: Vec<String>) -> Vec<u8> {
    let en = phone.state.enrolled().expect("enrolled");
    let mut e = en.entitlement.clone();
    e.seq += 100;
    e.nonce = Some(out.nonce.clone());
    e.state = EntitlementState::Locked;
    e.lock_reason = Some(LockReason::LenderRequest);
    serde_json::to_vec(&Chained {
        answer: CheckinResponse {
            entitlement: e.sign(key).expect("signs"),
            push_key: None,
        },
        keys: chain,
    })
    .expect("json")
}

#[tokio::test]
async fn a_leaked_key_is_retired_and_a_caught_up_phone_refuses_what_it_signs() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let (_, mut phone) = enrolled(&server, &lender).await;
    // The attacker has the lender's only key (read from the keys directory).
    let keys_dir = server.dir.path().join("keys");
    let leaked_kid = lender.keys().keys()[0].kid().to_string();
    let leaked = LenderKey::from_pkcs8(
        &std::fs::read(keys_dir.join(format!("{}.pk8", lender.id))).expect("key file"),
        Some(leaked_kid.clone()),
    )
    .expect("key");

    // An unknown kid changes nothing.
    problem(
        server
            .post(&lender, "/v1/lender/keys/retire", json!({ "kid": "nope" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert_eq!(key_sets(&server, &lender).await["keys_seq"], 0);

    let r = server
        .post(
            &lender,
            "/v1/lender/keys/retire",
            json!({ "kid": leaked_kid }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let retired: Value = r.json().await.expect("json");
    assert_eq!(retired["retired_kid"], leaked_kid.as_str());
    assert_eq!(retired["jwks"]["keys"].as_array().expect("keys").len(), 1);
    let fresh_kid = retired["kid"].as_str().expect("kid").to_string();

    server.clock.advance(60);
    let answer = checkin_raw(&mut phone, &server).await;
    assert_eq!(
        kid_of(answer["entitlement"].as_str().expect("e")),
        fresh_kid
    );
    assert_eq!(pinned_seq(&phone), 1);
    let before = phone.state.clone();

    // The attacker answers the phone's next check-in: an entitlement signed by the leaked
    // key, a competing set 1, a set 2 — each refused, nothing stored.
    server.clock.advance(60);
    let out = phone.checkin_body(&server);
    let clock = phone.clock(&server);
    for chain in [
        vec![],
        vec![competing_set(&lender, 1, &leaked)],
        vec![competing_set(&lender, 2, &leaked)],
    ] {
        let body = forged(&phone, &out, &leaked, chain);
        let e = phone
            .state
            .complete_checkin(&out, &body, &clock)
            .expect_err("refused");
        assert_eq!(e.code(), "jws_unknown_kid");
        assert_eq!(phone.state.provisioning, before.provisioning);
        assert_eq!(
            phone.state.enrolled().expect("e").entitlement,
            before.enrolled().expect("e").entitlement
        );
    }
    assert!(!phone.locked(&server));
    // The server never signs with the leaked key again: the real answer still works.
    server.clock.advance(60);
    phone.checkin(&server).await;
    let log = key_sets(&server, &lender).await["log"].clone();
    assert_eq!(log[0]["action"], "key_retired");
    assert_eq!(log[0]["detail"]["retired_kid"], leaked_kid.as_str());
}

/// A key set naming a key of the attacker's, signed by `key`.
fn competing_set(lender: &Lender, keys_seq: u64, key: &LenderKey) -> String {
    let mine = LenderKey::generate().expect("key");
    KeySetPayload {
        v: 1,
        iss: lender.id.clone(),
        keys_seq,
        iat: common::T0,
        keys: vec![mine.public().to_jwk()],
    }
    .sign(key)
    .expect("signs")
}

#[tokio::test]
async fn a_lost_keys_directory_is_restored_from_its_backup_and_phones_keep_checking_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::fresh_db_url(dir.path()).await;
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys = keys_dir.path().to_path_buf();
    let server = common::start_in(dir, url.clone(), {
        let keys = keys.clone();
        move |c| c.keys_dir = keys
    })
    .await;
    let lender = server.lender("Acme").await;
    let (_, mut phone) = enrolled(&server, &lender).await;
    rotate(&server, &lender).await;
    server.clock.advance(60);
    phone.checkin(&server).await;

    // The backup, then the disaster: the keys directory is gone.
    let db = server.handle.db();
    let exported = key_backup::export(db, &keys, &lender.id, PASS, server.now())
        .await
        .expect("export");
    assert_eq!(exported.keys_seq, 1);
    assert_eq!(exported.kids.len(), 2);
    let backup = serde_json::to_string(&exported.envelope).expect("json");
    assert!(!backup.contains(&finlock_core::b64::encode(
        std::fs::read(keys.join(format!("{}.pk8", lender.id))).expect("key")
    )));
    std::fs::remove_dir_all(&keys).expect("wipe");
    std::fs::create_dir(&keys).expect("empty keys directory");
    let e = lenders::check_keys(db, &keys)
        .await
        .expect_err("keys missing");
    assert!(e.contains("finlock keys import"), "{e}");
    // A wrong passphrase restores nothing.
    assert!(
        key_backup::import(db, &keys, &backup, "not the passphrase!!", server.now())
            .await
            .is_err()
    );
    assert_eq!(std::fs::read_dir(&keys).expect("dir").count(), 0);

    // A fresh node on the same database with the empty directory cannot sign …
    let TestServer {
        handle, dir, clock, ..
    } = server;
    let now = finlock_server::Clock::now(&*clock);
    handle.shutdown().await.expect("shutdown");
    let server = common::start_in(dir, url, {
        let keys = keys.clone();
        move |c| c.keys_dir = keys
    })
    .await;
    server.clock.set(now + 120);
    let out = phone.checkin_body(&server);
    let r = server.post_jose("/v1/checkin", out.body).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // … until the backup is imported; then the phone checks in as before.
    let imported = key_backup::import(server.handle.db(), &keys, &backup, PASS, server.now())
        .await
        .expect("import");
    assert_eq!(imported.written.len(), 2);
    assert_eq!(imported.sets_added, 0);
    lenders::check_keys(server.handle.db(), &keys)
        .await
        .expect("keys back");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join(format!("{}.pk8", lender.id)))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.clock.advance(60);
    phone.checkin(&server).await;
    // Importing again writes nothing and never overwrites.
    let again = key_backup::import(server.handle.db(), &keys, &backup, PASS, server.now())
        .await
        .expect("import again");
    assert!(again.written.is_empty());
    assert_eq!(
        key_sets(&server, &lender).await["log"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|e| e["action"] == "keys_imported")
            .count(),
        2
    );
}

#[tokio::test]
async fn another_lender_s_api_key_cannot_touch_a_lender_s_keys() {
    let server = start().await;
    let acme = server.lender("Acme").await;
    let other = server.lender("Other").await;
    let (_, mut phone) = enrolled(&server, &acme).await;
    let acme_kid = acme.keys().keys()[0].kid().to_string();
    // No key, a wrong key: 401.
    let r = server
        .http
        .post(format!("{}/v1/lender/keys/rotate", server.url))
        .send()
        .await
        .expect("request");
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = server
        .http
        .post(format!("{}/v1/lender/keys/retire", server.url))
        .bearer_auth("flk_not_a_key")
        .json(&json!({ "kid": acme_kid }))
        .send()
        .await
        .expect("request");
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Another lender names Acme's key: not one of its own.
    problem(
        server
            .post(&other, "/v1/lender/keys/retire", json!({ "kid": acme_kid }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    // Its rotation is its own.
    rotate(&server, &other).await;
    assert_eq!(key_sets(&server, &acme).await["keys_seq"], 0);
    assert_eq!(key_sets(&server, &other).await["keys_seq"], 1);
    server.clock.advance(60);
    let answer = checkin_raw(&mut phone, &server).await;
    assert!(answer.get("keys").is_none());
    assert_eq!(kid_of(answer["entitlement"].as_str().expect("e")), acme_kid);
    assert_eq!(pinned_seq(&phone), 0);
}

#[tokio::test]
async fn a_phone_more_than_eight_rotations_behind_is_asked_to_reprovision() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let (id, mut phone) = enrolled(&server, &lender).await;
    for _ in 0..9 {
        server.clock.advance(common::DAY);
        rotate(&server, &lender).await;
    }
    let before = server.device(&lender, &id).await;
    server.clock.advance(60);
    let out = phone.checkin_body(&server);
    let r = server.post_jose("/v1/checkin", out.body).await;
    let p = problem(r, StatusCode::CONFLICT, "keys-reprovision").await;
    assert!(p["detail"].as_str().expect("detail").contains("9"));
    // Nothing was recorded.
    assert_eq!(server.device(&lender, &id).await, before);
    // A phone claiming a set the lender never made is refused too.
    let mut state = DeviceState::default();
    state
        .provision(&server.url, lender.keys().with_keys_seq(42), true)
        .expect("provision");
    let (_, code) = server.register(&lender, json!({})).await;
    let out = state
        .enroll_request(
            &finlock_core::device::EnrollParams {
                enrollment_code: Some(code),
                imei: None,
                serial: None,
                model: "Sim".into(),
                android_sdk: 34,
                app_version: "1.0".into(),
            },
            &rng(),
        )
        .expect("request");
    problem(
        server.post_jose("/v1/enroll", out.body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
}

#[tokio::test]
async fn a_rotation_on_one_node_is_used_by_the_other() {
    let (a, b, _keys) = start_two_nodes().await;
    let lender = a.lender("Acme").await;
    let (_, code) = a.register(&lender, json!({})).await;
    let (_, code2) = a.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&a, &lender);
    phone.enroll(&a, &code).await;
    let mut other = SimDevice::new(&a, &lender);
    other.enroll(&a, &code2).await;
    let step = |secs| {
        a.clock.advance(secs);
        b.clock.advance(secs);
    };
    step(20);
    other.checkin(&a).await; // node A has just read the key sets: set 0
    step(1);
    let first = rotate(&b, &lender).await;
    // Within A's freshness window, a phone provisioned from a QR printed at B after the
    // rotation (it pins set 1) enrolls at A: A reads the new set at once and signs with it.
    step(4);
    let (new_id, _) = b.register(&lender, json!({})).await;
    let (mut fresh, code3) = from_qr(&b, &lender, &qr(&b, &lender, &new_id).await);
    assert_eq!(pinned_seq(&fresh), 1);
    let out = fresh.enroll_body(Some(&code3), None);
    let r = a.post_jose("/v1/enroll", out.body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.expect("json");
    assert!(answer.get("keys").is_none(), "{answer}");
    assert_eq!(
        kid_of(answer["entitlement"].as_str().expect("e")),
        first["kid"]
    );
    step(6);
    let answer = checkin_raw(&mut phone, &a).await;
    assert_eq!(pinned_seq(&phone), 1);
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 1);
    assert_eq!(
        kid_of(answer["entitlement"].as_str().expect("e")),
        first["kid"]
    );
    // A second rotation on B reaches a phone checking in at A after the window.
    let second = rotate(&b, &lender).await;
    step(lender_keys::FRESH_S + 1);
    let answer = checkin_raw(&mut phone, &a).await;
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 1);
    assert_eq!(
        kid_of(answer["entitlement"].as_str().expect("e")),
        second["kid"]
    );
    assert_eq!(pinned_seq(&phone), 2);
    // The phone that never left set 0 gets both sets from A.
    let answer = checkin_raw(&mut other, &a).await;
    assert_eq!(answer["keys"].as_array().expect("chain").len(), 2);
    assert_eq!(pinned_seq(&other), 2);
}

#[tokio::test]
async fn at_most_two_key_sets_a_day_through_the_api() {
    let server = start().await;
    let lender = server.lender("Acme").await;
    let first = rotate(&server, &lender).await;
    server.clock.advance(3600);
    let r = server
        .post(
            &lender,
            "/v1/lender/keys/retire",
            json!({ "kid": first["kid"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let before = key_sets(&server, &lender).await;
    let files = std::fs::read_dir(server.dir.path().join("keys").join(&lender.id))
        .expect("dir")
        .count();
    // A third set within 24 hours is refused, and nothing changes …
    server.clock.advance(3600);
    problem(
        server
            .post(&lender, "/v1/lender/keys/rotate", json!({}))
            .await,
        StatusCode::CONFLICT,
        "rotation-limit",
    )
    .await;
    assert_eq!(key_sets(&server, &lender).await, before);
    assert_eq!(
        std::fs::read_dir(server.dir.path().join("keys").join(&lender.id))
            .expect("dir")
            .count(),
        files
    );
    // … until the first of the two is a day old.
    server.clock.set(common::T0 + common::DAY + 1);
    assert_eq!(rotate(&server, &lender).await["keys_seq"], 3);
}
