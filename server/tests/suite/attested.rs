//! Attested re-provisioning (issue 12, ADR 0011) over real HTTP: a genuine phone with the
//! registered IMEI comes back by itself after a factory reset, and every forgery an
//! attacker can send is answered exactly like an enrollment without proof — `202
//! pending_approval` — with nothing stored changed and the real phone still checking in.
//!
//! Chains are made on the spot under a test root the server is configured to trust
//! (`--attestation-roots`), with the attestation module's own test support.

use finlock_core::device::EnrollParams;
use finlock_core::device::attested::AttestationProof;
use finlock_core::keys::DeviceKey;
use finlock_core::protocol;
use rcgen::KeyPair;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start_with;
use crate::common::{Lender, SimDevice, TestServer, rng};

#[path = "../../src/attestation/testing.rs"]
mod testing;

use testing::{IMEI, Kd, Pki, SECOND_IMEI};

/// A server that trusts `pki`'s root beside Google's, and the directory holding it.
async fn server_trusting(pki: &Pki) -> (TestServer, tempfile::TempDir) {
    let roots = tempfile::tempdir().expect("tempdir");
    std::fs::write(roots.path().join("test-root.pem"), pki.root_pem()).expect("write root");
    let dir = roots.path().to_path_buf();
    let s = start_with(move |c| c.attestation.extra_roots_dir = Some(dir)).await;
    (s, roots)
}

async fn challenge(s: &TestServer) -> Vec<u8> {
    let r = s
        .http
        .post(format!("{}/v1/enroll/challenge", s.url))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ttl_s"], 300);
    assert_eq!(v["expires_at"], s.now() + 300);
    finlock_core::b64::decode(v["challenge"].as_str().expect("challenge")).expect("b64url")
}

fn by_imei(imei: &str) -> EnrollParams {
    EnrollParams {
        enrollment_code: None,
        imei: Some(imei.into()),
        serial: None,
        model: "Finphone FP-1".into(),
        android_sdk: 34,
        app_version: "1.0.0".into(),
    }
}

/// A KeyDescription like `Kd::tee()` with this challenge.
fn kd(challenge: &[u8]) -> Kd {
    Kd {
        challenge: challenge.to_vec(),
        ..Kd::tee()
    }
}

/// What a phone after a factory reset sends: a fresh core state, the binding for
/// `challenge`, a chain from `pki` carrying `kd`, the binding signed by the leaf key
/// (`sign` may replace the message signed).
struct Attempt {
    phone: SimDevice,
    body: String,
}

fn attempt(
    s: &TestServer,
    lender: &Lender,
    imei: &str,
    pki: &Pki,
    kd: &Kd,
    sign: impl FnOnce(&KeyPair, Vec<u8>, &SimDevice) -> Vec<u8>,
) -> Attempt {
    let mut phone = SimDevice::new(s, lender);
    let message = phone
        .state
        .attestation_binding(&kd.challenge, &rng())
        .expect("binding");
    let (chain, leaf_key) = pki.chain(Some(kd.encode()));
    let signature = sign(&leaf_key, message, &phone);
    let proof = AttestationProof {
        challenge: kd.challenge.clone(),
        chain,
        signature,
    };
    let out = phone
        .state
        .enroll_request_with(&by_imei(imei), Some(&proof), &rng())
        .expect("request");
    Attempt {
        phone,
        body: out.body,
    }
}

fn honest(key: &KeyPair, message: Vec<u8>, _: &SimDevice) -> Vec<u8> {
    testing::sign(key, &message)
}

/// Status, Retry-After and body of an enroll answer.
async fn seen(r: reqwest::Response) -> (StatusCode, Option<String>, Value) {
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    (status, retry, r.json().await.expect("json"))
}

fn pending() -> (StatusCode, Option<String>, Value) {
    (
        StatusCode::ACCEPTED,
        Some("900".into()),
        json!({ "status": "pending_approval", "retry_after_s": 900 }),
    )
}

/// Sends `a` and completes the phone's enrollment with the 200 it must get.
async fn enrolls(s: &TestServer, mut a: Attempt) -> SimDevice {
    let r = s.post_jose("/v1/enroll", a.body).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let bytes = r.bytes().await.expect("body");
    let clock = a.phone.clock(s);
    a.phone
        .state
        .complete_enrollment(&bytes, &clock)
        .expect("the phone accepts the enrollment");
    a.phone
}

/// Everything a stranger's try must leave as it was.
async fn snapshot(s: &TestServer, lender: &Lender, id: &str) -> (Value, Vec<String>) {
    (
        s.device(lender, id).await,
        s.audit_actions(lender, id).await,
    )
}

/// A registered phone with `auto_reprovision`, enrolled by code and checked in once.
async fn enrolled_phone(
    s: &TestServer,
    lender: &Lender,
    imei: &str,
    auto_reprovision: bool,
) -> (String, SimDevice) {
    let (id, code) = s
        .register(
            lender,
            json!({ "imei": imei, "auto_reprovision": auto_reprovision }),
        )
        .await;
    let mut phone = SimDevice::new(s, lender);
    phone.enroll(s, &code).await;
    s.clock.advance(60);
    phone.checkin(s).await;
    (id, phone)
}

#[tokio::test]
async fn a_genuine_phone_comes_back_by_itself_after_a_factory_reset() {
    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    let (id, _old) = enrolled_phone(&s, &lender, IMEI, true).await;

    // The factory reset: a fresh app state, a new key, hardware proof of the IMEI.
    let c = challenge(&s).await;
    let mut phone = enrolls(&s, attempt(&s, &lender, IMEI, &pki, &kd(&c), honest)).await;
    assert_eq!(phone.device_id(), id);
    s.clock.advance(60);
    phone.checkin(&s).await;
    let actions = s.audit_actions(&lender, &id).await;
    assert!(
        actions.contains(&"reprovisioned_attested".to_string()),
        "{actions:?}"
    );
    // No pending request was needed.
    let listed: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["requests"], json!([]));
}

#[tokio::test]
async fn the_first_start_of_a_preloaded_phone_enrolls_by_attestation_and_the_second_imei_counts() {
    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    // Registered by its second SIM's IMEI, never enrolled, no auto_reprovision needed.
    let (id, _code) = s.register(&lender, json!({ "imei": SECOND_IMEI })).await;
    let c = challenge(&s).await;
    let mut phone = enrolls(&s, attempt(&s, &lender, SECOND_IMEI, &pki, &kd(&c), honest)).await;
    s.clock.advance(60);
    phone.checkin(&s).await;
    assert_eq!(
        s.audit_actions(&lender, &id)
            .await
            .last()
            .map(String::as_str),
        Some("enrolled_attested")
    );
}

#[tokio::test]
async fn every_forged_or_misused_attestation_waits_for_approval_and_changes_nothing() {
    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    let (id, mut phone) = enrolled_phone(&s, &lender, IMEI, true).await;
    let other_imei = "356938035643809";

    let mut cases: Vec<(&str, Attempt)> = Vec::new();

    // A chain under a root the server does not trust, even one named like the trusted
    // root (a forgery: same names, the attacker's keys).
    let untrusted = Pki::new();
    let c = challenge(&s).await;
    cases.push((
        "untrusted root",
        attempt(&s, &lender, IMEI, &untrusted, &kd(&c), honest),
    ));
    // A self-signed leaf that carries the extension, presented as its own root.
    let c = challenge(&s).await;
    let mut self_signed = attempt(&s, &lender, IMEI, &pki, &kd(&c), honest);
    {
        let leaf_key = testing::key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let leaf = testing::leaf_params(Some(kd(&c).encode()))
            .self_signed(&leaf_key)
            .expect("self-signed");
        let der = leaf.der().to_vec();
        let mut fresh = SimDevice::new(&s, &lender);
        let message = fresh
            .state
            .attestation_binding(&c, &rng())
            .expect("binding");
        let proof = AttestationProof {
            challenge: c.clone(),
            chain: vec![der.clone(), der],
            signature: testing::sign(&leaf_key, &message),
        };
        self_signed.body = fresh
            .state
            .enroll_request_with(&by_imei(IMEI), Some(&proof), &rng())
            .expect("request")
            .body;
        self_signed.phone = fresh;
    }
    cases.push(("self-signed chain", self_signed));
    // A genuine chain of another phone (another IMEI) naming this phone's IMEI hash.
    let c = challenge(&s).await;
    let mut another = kd(&c)
        .without_hardware(testing::ID_IMEI)
        .without_hardware(testing::ID_SECOND_IMEI);
    another
        .hardware
        .push(testing::id(testing::ID_IMEI, other_imei));
    cases.push((
        "chain for another IMEI",
        attempt(&s, &lender, IMEI, &pki, &another, honest),
    ));
    // Expired: the challenge is 301 s old when used.
    let c = challenge(&s).await;
    let expired = attempt(&s, &lender, IMEI, &pki, &kd(&c), honest);
    // Software keystore where TEE is required.
    let c = challenge(&s).await;
    let software = Kd {
        security_level: 0,
        keymint_security_level: 0,
        ..kd(&c)
    };
    cases.push((
        "software-level attestation",
        attempt(&s, &lender, IMEI, &pki, &software, honest),
    ));
    // The binding signed over another key's thumbprint (a proof lifted onto the
    // attacker's own Ed25519 key).
    let c = challenge(&s).await;
    let other_key = DeviceKey::generate().expect("key").public().thumbprint();
    cases.push((
        "binding over another key",
        attempt(&s, &lender, IMEI, &pki, &kd(&c), |key, _, phone| {
            let nonce = &phone
                .state
                .pending_enrollment
                .as_ref()
                .expect("pending")
                .nonce;
            let message =
                protocol::binding_message(&c, nonce, &other_key).expect("binding message");
            testing::sign(key, &message)
        }),
    ));
    // A challenge this server never issued.
    cases.push((
        "challenge never issued",
        attempt(&s, &lender, IMEI, &pki, &kd(&[0x42; 32]), honest),
    ));

    for (what, a) in cases {
        let before = snapshot(&s, &lender, &id).await;
        let answer = seen(s.post_jose("/v1/enroll", a.body).await).await;
        assert_eq!(answer, pending(), "{what}");
        assert_eq!(snapshot(&s, &lender, &id).await, before, "{what}");
        s.clock.advance(11);
        phone.checkin(&s).await;
    }

    s.clock.advance(301);
    let before = snapshot(&s, &lender, &id).await;
    assert_eq!(
        seen(s.post_jose("/v1/enroll", expired.body).await).await,
        pending(),
        "expired challenge"
    );
    assert_eq!(snapshot(&s, &lender, &id).await, before);
    phone.checkin(&s).await;

    // A replayed challenge: the genuine phone proves and binds with it; the same
    // challenge in a second, otherwise perfect proof for another key is refused.
    let c = challenge(&s).await;
    let genuine = attempt(&s, &lender, IMEI, &pki, &kd(&c), honest);
    let replay = attempt(&s, &lender, IMEI, &pki, &kd(&c), honest);
    let mut reset_phone = enrolls(&s, genuine).await;
    let before = snapshot(&s, &lender, &id).await;
    assert_eq!(
        seen(s.post_jose("/v1/enroll", replay.body).await).await,
        pending(),
        "replayed challenge"
    );
    assert_eq!(snapshot(&s, &lender, &id).await, before);
    s.clock.advance(60);
    reset_phone.checkin(&s).await;

    // The lender sees every refused key as a pending request, to approve or refuse.
    let listed: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["requests"].as_array().map(Vec::len), Some(8));
}

#[tokio::test]
async fn a_device_without_auto_reprovision_keeps_its_key_against_a_valid_attestation() {
    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    let (id, mut phone) = enrolled_phone(&s, &lender, IMEI, false).await;
    let before = snapshot(&s, &lender, &id).await;
    let c = challenge(&s).await;
    let a = attempt(&s, &lender, IMEI, &pki, &kd(&c), honest);
    assert_eq!(
        seen(s.post_jose("/v1/enroll", a.body).await).await,
        pending()
    );
    assert_eq!(snapshot(&s, &lender, &id).await, before);
    s.clock.advance(60);
    phone.checkin(&s).await;
}

#[tokio::test]
async fn an_unregistered_imei_with_a_valid_attestation_gets_the_same_answer() {
    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    let (_id, _phone) = enrolled_phone(&s, &lender, IMEI, true).await;
    // A forged proof for the registered IMEI and a genuine one for an unregistered IMEI:
    // byte for byte the same answer.
    let c = challenge(&s).await;
    let registered = attempt(&s, &lender, IMEI, &Pki::new(), &kd(&c), honest);
    let c = challenge(&s).await;
    let mut unregistered_kd = kd(&c)
        .without_hardware(testing::ID_IMEI)
        .without_hardware(testing::ID_SECOND_IMEI);
    unregistered_kd
        .hardware
        .push(testing::id(testing::ID_IMEI, "490154203237500"));
    let unregistered = attempt(
        &s,
        &lender,
        "490154203237500",
        &pki,
        &unregistered_kd,
        honest,
    );
    let a = s.post_jose("/v1/enroll", registered.body).await;
    let b = s.post_jose("/v1/enroll", unregistered.body).await;
    let (sa, ha, ba) = (a.status(), a.headers().clone(), a.bytes().await.expect("a"));
    let (sb, hb, bb) = (b.status(), b.headers().clone(), b.bytes().await.expect("b"));
    assert_eq!((sa, &ba), (sb, &bb));
    for h in ["retry-after", "content-type", "content-length"] {
        assert_eq!(ha.get(h), hb.get(h), "{h}");
    }
    assert_eq!(sa, StatusCode::ACCEPTED);
}

/// Two nodes on one database, both trusting `pki`'s root.
async fn two_nodes_trusting(pki: &Pki) -> (TestServer, TestServer, Vec<tempfile::TempDir>) {
    let roots = tempfile::tempdir().expect("tempdir");
    std::fs::write(roots.path().join("test-root.pem"), pki.root_pem()).expect("write root");
    let keys = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::fresh_db_url(dir.path()).await;
    let (k, r) = (keys.path().to_path_buf(), roots.path().to_path_buf());
    let tweak = move |c: &mut finlock_server::Config| {
        c.keys_dir = k.clone();
        c.attestation.extra_roots_dir = Some(r.clone());
    };
    let a = crate::common::start_in(dir, url.clone(), tweak.clone()).await;
    let b = crate::common::start_in(tempfile::tempdir().expect("tempdir"), url, tweak).await;
    (a, b, vec![roots, keys])
}

#[tokio::test]
async fn a_challenge_is_used_once_across_nodes_even_by_two_genuine_proofs_at_once() {
    let pki = Pki::new();
    let (a, b, _dirs) = two_nodes_trusting(&pki).await;
    let lender = a.lender("Acme").await;
    let (id, _old) = enrolled_phone(&a, &lender, IMEI, true).await;
    b.clock.advance(60);
    // Issued by node A; two perfect proofs with it, sent at once to A and to B.
    let c = challenge(&a).await;
    let first = attempt(&a, &lender, IMEI, &pki, &kd(&c), honest);
    let second = attempt(&b, &lender, IMEI, &pki, &kd(&c), honest);
    let (ra, rb) = tokio::join!(
        a.post_jose("/v1/enroll", first.body),
        b.post_jose("/v1/enroll", second.body)
    );
    let mut statuses = [ra.status(), rb.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::ACCEPTED]);
    let actions = a.audit_actions(&lender, &id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|x| *x == "reprovisioned_attested")
            .count(),
        1
    );
}

/// The phone's own check-in client over real HTTP: challenge, binding, a proof that does
/// not pass comes back as the typed wait (not an error), and one that passes binds the same
/// key.
#[tokio::test]
async fn the_phone_s_own_client_waits_typed_then_proves() {
    use finlock_core::checkin::{self, Client, EnrollOutcome};
    use finlock_core::clock::ClockInput;
    use finlock_core::device::Device;

    let pki = Pki::new();
    let (s, _roots) = server_trusting(&pki).await;
    let lender = s.lender("Acme").await;
    let (id, _old) = enrolled_phone(&s, &lender, IMEI, true).await;
    let client =
        Client::new(&s.url, protocol::UrlPolicy::DEBUG, &Default::default()).expect("client");
    let clock = || ClockInput {
        wall_ms: s.now() * 1000,
        uptime_ms: 5_000,
        boot: 1,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut phone = Device::open(dir.path()).expect("state");
    phone
        .update(|st| st.provision(&s.url, lender.keys(), true))
        .expect("provision");

    let prove = async |pki: &Pki, phone: &mut Device| {
        let c = client.enroll_challenge().await.expect("challenge");
        assert_eq!(c.expires_at, s.now() + 300);
        let message = checkin::attestation_binding(phone, &c.challenge, &rng()).expect("binding");
        let (chain, leaf) = pki.chain(Some(kd(&c.challenge).encode()));
        AttestationProof {
            challenge: c.challenge,
            chain,
            signature: testing::sign(&leaf, &message),
        }
    };
    // Under a root the server does not trust: a typed wait with the key to show.
    let refused = prove(&Pki::new(), &mut phone).await;
    match client
        .enroll_with(&mut phone, &by_imei(IMEI), Some(&refused), clock)
        .await
        .expect("an answer")
    {
        EnrollOutcome::PendingApproval {
            retry_after_s,
            key_thumbprint,
        } => {
            assert_eq!(retry_after_s, 900);
            assert_eq!(Some(key_thumbprint), phone.state().pending_key_thumbprint());
        }
        other => panic!("{other:?}"),
    }
    assert!(phone.state().enrolled().is_err());
    // Under the trusted root: bound, the same key.
    let key = phone.state().pending_key_thumbprint();
    let proven = prove(&pki, &mut phone).await;
    assert_eq!(phone.state().pending_key_thumbprint(), key);
    match client
        .enroll_with(&mut phone, &by_imei(IMEI), Some(&proven), clock)
        .await
        .expect("an answer")
    {
        EnrollOutcome::Enrolled(ev) => assert!(!ev.decision.locked),
        other => panic!("{other:?}"),
    }
    assert_eq!(phone.state().enrolled().expect("enrolled").device_id, id);
    // The request the refused proof left is not waiting for the lender any more.
    let listed: Value = s
        .get(
            &lender,
            &format!("/v1/lender/devices/{id}/enrollment-requests"),
        )
        .await
        .json()
        .await
        .expect("json");
    let statuses: Vec<&str> = listed["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["used"], "{listed}");
}

#[tokio::test]
async fn challenges_are_limited_per_address() {
    let s = start_with(|c| c.enroll_per_address = 3).await;
    for _ in 0..3 {
        challenge(&s).await;
    }
    let r = s
        .http
        .post(format!("{}/v1/enroll/challenge", s.url))
        .send()
        .await
        .expect("request");
    assert!(r.headers().get("retry-after").is_some());
    crate::common::problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts").await;
    s.clock.advance(60);
    challenge(&s).await;
}
