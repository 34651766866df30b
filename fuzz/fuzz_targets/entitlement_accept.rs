//! Entitlement acceptance against a stored device state, with lender key-set chains
//! (PROTOCOL §3.3, ADR 0007): the only door through which anything that can lock,
//! unlock or release a phone gets in.
//!
//! Flags byte: bits 0-1 the mode, bits 2-3 the stored state, bit 4 whether a nonce is
//! expected (modes 0 and 1).
//! * mode 0: part 0 a compact entitlement, parts 1.. compact key-set links, as received;
//! * mode 1: part 0 an entitlement *payload*, parts 1.. key-set *payloads*, each signed
//!   here along the chain (see the crate docs), so the JSON and the rules decide;
//! * mode 2: a check-in answer: part 0 the envelope JSON, part 1 the entitlement payload,
//!   parts 2.. key-set payloads; signed and put into the envelope when it is an object
//!   (else the envelope's bytes are the whole answer);
//! * mode 3: the same as an enrollment answer, to a device that has not enrolled yet.
//!
//! Stored states: an active device at seq 4; the same after one rotation (set 1); one
//! whose stored entitlement is `released`; one locked by the lender.
//!
//! Invariants: no panic; a rejected input leaves the state exactly as it was; an
//! accepted entitlement verifies under the keys the state now pins, decodes to what is
//! stored, passes the field rules, is newer, names this lender and device, echoes the
//! expected nonce; the pinned set only moves forward; nothing is accepted after release;
//! without a displayed notice no accepted entitlement restricts or locks, at any later time.
#![no_main]

use std::sync::OnceLock;

use finlock_core::decision::Level;
use finlock_core::device::{DeviceState, Outgoing};
use finlock_core::fixtures::{self, T0};
use finlock_core::jws;
use finlock_core::protocol::{self, Entitlement, EntitlementState};
use finlock_fuzz::{clock, json_strings, nonce, sign_chain, sign_entitlement, split, text};
use libfuzzer_sys::fuzz_target;

/// The stored states inputs are judged against, made once.
struct States {
    by_flags: [DeviceState; 4],
    pending: DeviceState,
}

fn states() -> &'static States {
    static STATES: OnceLock<States> = OnceLock::new();
    STATES.get_or_init(|| {
        let active = fixtures::enrolled(fixtures::entitlement(4, T0));
        let mut rotated = active.clone();
        let mut e = fixtures::entitlement(5, T0 + 60);
        e.nonce = Some(nonce());
        rotated
            .accept_chained(
                &fixtures::rotation_chain(1),
                &e.sign(&fixtures::rotated_key(1)).expect("fixture signs"),
                Some(&nonce()),
                &clock(),
            )
            .expect("the fixture rotation is accepted");
        let mut released = active.clone();
        if let Some(en) = released.enrollment.as_mut() {
            en.entitlement.state = EntitlementState::Released;
        }
        let mut locked = active.clone();
        if let Some(en) = locked.enrollment.as_mut() {
            en.entitlement.state = EntitlementState::Locked;
        }
        let mut pending = DeviceState::default();
        pending
            .provision(fixtures::SERVER_URL, fixtures::pinned_keys(), false)
            .expect("fixture provisions");
        pending
            .enroll_request(&fixtures::enroll_params(), &ring::rand::SystemRandom::new())
            .expect("fixture enroll request");
        if let Some(p) = pending.pending_enrollment.as_mut() {
            p.nonce = nonce();
        }
        States {
            by_flags: [active, rotated, released, locked],
            pending,
        }
    })
}

/// The answer body of modes 2 and 3: the envelope with the signed entitlement and chain.
fn answer(parts: &[&[u8]], keys_seq: usize) -> Vec<u8> {
    let envelope = parts.first().copied().unwrap_or_default();
    let payload = parts.get(1).copied().unwrap_or_default();
    let chain = sign_chain(keys_seq, parts.get(2..).unwrap_or_default());
    match serde_json::from_slice::<serde_json::Value>(envelope) {
        Ok(serde_json::Value::Object(mut map)) => {
            let signer = keys_seq + chain.len();
            map.insert(
                "entitlement".into(),
                sign_entitlement(payload, signer).into(),
            );
            if !chain.is_empty() {
                map.insert("keys".into(), json_strings(&chain));
            }
            serde_json::to_vec(&map).expect("a map serializes")
        }
        _ => envelope.to_vec(),
    }
}

/// What must hold of a state that accepted an entitlement.
fn check_accepted(before: &DeviceState, after: &DeviceState, nonce: Option<&str>) {
    let old_keys = &before
        .provisioning
        .as_ref()
        .expect("provisioned")
        .lender_keys;
    let p = after.provisioning.as_ref().expect("still provisioned");
    let en = after
        .enrollment
        .as_ref()
        .expect("enrolled after acceptance");
    assert!(p.lender_keys.keys_seq() >= old_keys.keys_seq());
    if p.lender_keys != *old_keys {
        assert!(
            p.lender_keys.keys_seq() > old_keys.keys_seq(),
            "set changed in place"
        );
    }
    let verified = jws::verify(&en.entitlement_jws, jws::typ::ENTITLEMENT, &p.lender_keys)
        .expect("the stored entitlement does not verify under the pinned keys");
    let decoded: Entitlement =
        protocol::decode_payload(&verified.payload).expect("the stored entitlement decodes");
    assert_eq!(decoded, en.entitlement);
    decoded
        .validate(p.url_policy())
        .expect("the stored entitlement breaks a field rule");
    assert_eq!(decoded.sub, en.device_id);
    assert_eq!(decoded.iss, en.lender_id);
    if let Some(nonce) = nonce {
        assert_eq!(decoded.nonce.as_deref(), Some(nonce), "nonce not echoed");
    }
    if let Some(old) = &before.enrollment {
        assert_eq!(en.lender_id, old.lender_id);
        assert_eq!(en.device_id, old.device_id);
        assert!(
            decoded.seq > old.entitlement.seq,
            "seq did not move forward"
        );
        assert_ne!(old.entitlement.state, EntitlementState::Released);
    }
    // At enrollment the lender is whoever the pinned keys signed as `iss` (ADR 0007: "at
    // enrollment: the entitlement's iss"), asserted above; the harness signs any iss.
}

/// None of the stored states ever displayed the notice page: whatever was accepted (any
/// ladder, state, `iat`), no time — a day or years of uptime later, any wall clock — makes
/// the device restricted or locked (§3.7, ADR 0017).
fn check_no_lock_without_notice(after: &DeviceState) {
    assert!(
        after
            .enrollment
            .as_ref()
            .is_none_or(|en| en.notice.is_none())
    );
    let start = clock();
    for ahead_s in [0u64, 86_400, 4_000 * 86_400] {
        let later = finlock_core::clock::ClockInput {
            wall_ms: start.wall_ms + i64::try_from(ahead_s * 1000).unwrap_or(i64::MAX),
            uptime_ms: start.uptime_ms + ahead_s * 1000,
            boot: start.boot,
        };
        let d = after.clone().evaluate(&later).decision;
        assert!(
            d.level < Level::Restricted && !d.locked,
            "{:?} without a displayed notice",
            d.level
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (flags, parts) = split(data);
    let states = states();
    let mode = flags & 3;
    let stored = usize::from((flags >> 2) & 3);
    let expected = (flags & 0x10 != 0).then(nonce);
    let before = if mode == 3 {
        &states.pending
    } else {
        &states.by_flags[stored]
    };
    let keys_seq = before.provisioning.as_ref().map_or(0, |p| {
        usize::try_from(p.lender_keys.keys_seq()).unwrap_or(0)
    });
    let mut after = before.clone();
    let (outcome, nonce_rule) = match mode {
        0 => {
            let compact = text(parts.first().copied().unwrap_or_default());
            let chain: Vec<String> = parts.iter().skip(1).map(|p| text(p)).collect();
            let r = after.accept_chained(&chain, &compact, expected.as_deref(), &clock());
            (r, expected.clone())
        }
        1 => {
            let payload = parts.first().copied().unwrap_or_default();
            // A device at set n is sent the sets after n, the entitlement signed by the last.
            let chain = sign_chain(keys_seq, parts.get(1..).unwrap_or_default());
            let compact = sign_entitlement(payload, keys_seq + chain.len());
            let r = after.accept_chained(&chain, &compact, expected.as_deref(), &clock());
            (r, expected.clone())
        }
        2 => {
            let body = answer(&parts, keys_seq);
            let sent = Outgoing {
                body: String::new(),
                nonce: nonce(),
                events_sent: usize::from(flags >> 5),
                push_endpoint: None,
            };
            let r = after.complete_checkin(&sent, &body, &clock()).map(|_| ());
            (r, Some(nonce()))
        }
        _ => {
            let body = answer(&parts, 0);
            let r = after.complete_enrollment(&body, &clock()).map(|_| ());
            (r, Some(nonce()))
        }
    };
    match outcome {
        Ok(()) => {
            check_accepted(before, &after, nonce_rule.as_deref());
            check_no_lock_without_notice(&after);
        }
        Err(e) => {
            assert_eq!(&after, before, "rejected ({e}) yet the state changed");
            // Nothing is judged after release (modes 2 and 3 may fail on the JSON first).
            if mode < 2
                && let Some(en) = &before.enrollment
                && en.entitlement.state == EntitlementState::Released
            {
                assert!(matches!(e, finlock_core::Error::AlreadyReleased), "{e}");
            }
        }
    }
});
