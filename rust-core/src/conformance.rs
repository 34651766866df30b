//! Conformance vectors for entitlement acceptance (PROTOCOL §2, §3.3).
//!
//! Each vector is a self-contained JSON document: what the device already knows
//! (pinned keys, binding, stored seq and state, outstanding nonce, URL policy), a
//! compact JWS, and the expected outcome (`accept` with a few decoded facts, or
//! `reject` with the stable error code of the rule broken). Another implementation
//! of the protocol, in any language, can run itself against `rust-core/tests/vectors/`.
//!
//! A vector may also carry `keys`, a chain of `finlock-keys+jws` sets (ADR 0007) the
//! answer brought along: a device applies them first and judges the entitlement against
//! the set they lead to (`pinned_keys` names its own `keys_seq`, absent for set 0).
//!
//! The vectors are generated here (deterministic keys, deterministic Ed25519) by
//! `cargo xtask vectors`, and a test fails if the committed files drift from this code.

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::entitlement::{self, AcceptRules};
use crate::fixtures::{self, DEVICE_ID, LENDER_ID, T0};
use crate::jws;
use crate::keys::{Jwks, KeySet, LenderKey};
use crate::keyset::{self, ChainRules, KeySetPayload};
use crate::protocol::{Entitlement, EntitlementState, Escalation, UrlPolicy};

/// What the device knows when the message arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub pinned_keys: Jwks,
    /// `null` while enrolling: the first entitlement binds the lender.
    pub lender_id: Option<String>,
    pub device_id: String,
    pub stored_seq: Option<u64>,
    pub stored_state: Option<EntitlementState>,
    pub expected_nonce: Option<String>,
    pub allow_insecure_loopback: bool,
}

/// The expected outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Expected {
    Accept {
        seq: u64,
        state: EntitlementState,
        lock_at: i64,
        /// The pinned set's `keys_seq` afterwards, for vectors with a key chain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keys_seq: Option<u64>,
        /// The release date of a completing entitlement (ADR 0012); absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release_at: Option<i64>,
        /// The effective escalation ladder (§3.7): the signed one, or for an entitlement
        /// without `escalation` the one it implies; only in the escalation vectors.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ladder: Option<Escalation>,
    },
    Reject {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vector {
    pub name: String,
    pub description: String,
    pub context: Context,
    /// Key sets that came with the entitlement, oldest first (ADR 0007).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    pub jws: String,
    pub expected: Expected,
}

/// Runs one vector through [`keyset::apply_chain`] and [`entitlement::accept`]; `Err`
/// describes a mismatch.
pub fn check(v: &Vector) -> Result<(), String> {
    let pinned =
        KeySet::from_jwks(&v.context.pinned_keys).map_err(|e| format!("bad pinned keys: {e}"))?;
    let applied = keyset::apply_chain(
        &v.keys,
        &ChainRules {
            pinned: &pinned,
            lender_id: v.context.lender_id.as_deref(),
            stored_state: v.context.stored_state,
        },
    );
    let applied = match (&v.expected, applied) {
        (_, Ok(applied)) => applied,
        (Expected::Reject { error }, Err(e)) if e.code() == error => return Ok(()),
        (expected, Err(e)) => {
            return Err(format!(
                "expected {expected:?}, the key chain failed with {}",
                e.code()
            ));
        }
    };
    let rules = AcceptRules {
        pinned: &applied.keys,
        lender_id: v.context.lender_id.as_deref().or(applied.iss.as_deref()),
        device_id: &v.context.device_id,
        stored_seq: v.context.stored_seq,
        stored_state: v.context.stored_state,
        expected_nonce: v.context.expected_nonce.as_deref(),
        urls: UrlPolicy {
            allow_insecure_loopback: v.context.allow_insecure_loopback,
        },
    };
    let got = entitlement::accept(&v.jws, &rules);
    match (&v.expected, got) {
        (
            Expected::Accept {
                seq,
                state,
                lock_at,
                keys_seq,
                release_at,
                ladder,
            },
            Ok(e),
        ) => {
            let pinned_seq = applied.keys.keys_seq();
            if (e.seq, e.state, e.lock_at) == (*seq, *state, *lock_at)
                && keys_seq.unwrap_or(0) == pinned_seq
                && e.release_at == *release_at
                && ladder.as_ref().is_none_or(|l| *l == e.ladder())
            {
                Ok(())
            } else {
                Err(format!(
                    "accepted with different facts: seq {} state {:?} lock_at {} keys_seq {} \
                     release_at {:?}",
                    e.seq, e.state, e.lock_at, pinned_seq, e.release_at
                ))
            }
        }
        (Expected::Reject { error }, Err(e)) if e.code() == error => Ok(()),
        (expected, got) => Err(format!(
            "expected {expected:?}, got {:?}",
            got.map(|e| e.seq).map_err(|e| e.code())
        )),
    }
}

fn context() -> Context {
    Context {
        pinned_keys: fixtures::pinned_keys().to_jwks(),
        lender_id: Some(LENDER_ID.into()),
        device_id: DEVICE_ID.into(),
        stored_seq: Some(4),
        stored_state: Some(EntitlementState::Active),
        expected_nonce: Some(nonce()),
        allow_insecure_loopback: false,
    }
}

fn nonce() -> String {
    b64::encode([0xA5; 16])
}

/// The entitlement every vector starts from: valid in [`context`].
fn base() -> Entitlement {
    let mut e = fixtures::entitlement(5, T0 + 3_600);
    e.nonce = Some(nonce());
    e
}

/// Signs arbitrary header and payload bytes with `key`, for messages our own
/// signer would never produce.
fn raw(key: &LenderKey, header: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = key.sign_raw(input.as_bytes());
    format!("{input}.{}", b64::encode(sig))
}

fn header(alg: &str) -> String {
    format!(
        r#"{{"alg":"{alg}","typ":"{}","kid":"{}"}}"#,
        jws::typ::ENTITLEMENT,
        fixtures::LENDER_KID
    )
}

fn json(e: &Entitlement) -> serde_json::Value {
    serde_json::to_value(e).unwrap_or_default()
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

struct Builder {
    out: Vec<Vector>,
}

impl Builder {
    fn push(
        &mut self,
        name: &str,
        description: &str,
        context: Context,
        jws: String,
        expected: Expected,
    ) {
        self.push_chained(name, description, context, Vec::new(), jws, expected);
    }

    fn push_chained(
        &mut self,
        name: &str,
        description: &str,
        context: Context,
        keys: Vec<String>,
        jws: String,
        expected: Expected,
    ) {
        self.out.push(Vector {
            name: format!("{:03}-{name}", self.out.len() + 1),
            description: description.into(),
            context,
            keys,
            jws,
            expected,
        });
    }

    fn accept(
        &mut self,
        name: &str,
        description: &str,
        context: Context,
        e: &Entitlement,
        jws: String,
    ) {
        let expected = Expected::Accept {
            seq: e.seq,
            state: e.state,
            lock_at: e.lock_at,
            keys_seq: None,
            release_at: e.release_at,
            ladder: None,
        };
        self.push(name, description, context, jws, expected);
    }

    fn reject(
        &mut self,
        name: &str,
        description: &str,
        context: Context,
        jws: String,
        error: &str,
    ) {
        self.push(
            name,
            description,
            context,
            jws,
            Expected::Reject {
                error: error.into(),
            },
        );
    }

    /// A rejection of an otherwise valid entitlement changed by `mutate`.
    fn reject_field(
        &mut self,
        name: &str,
        description: &str,
        error: &str,
        mutate: impl FnOnce(&mut Entitlement),
    ) {
        let mut e = base();
        mutate(&mut e);
        self.reject(name, description, context(), fixtures::sign(&e), error);
    }
}

/// Every vector, in a stable order.
pub fn vectors() -> Vec<Vector> {
    let key = fixtures::lender_key();
    let good = fixtures::sign(&base());
    let (gh, rest) = good.split_once('.').unwrap_or_default();
    let (gp, gs) = rest.split_once('.').unwrap_or_default();
    let payload = bytes(&json(&base()));
    let mut b = Builder { out: Vec::new() };

    // ---- accepted ----------------------------------------------------------------
    b.accept(
        "accept-basic",
        "A valid entitlement answering the outstanding check-in.",
        context(),
        &base(),
        good.clone(),
    );
    b.accept(
        "accept-alg-eddsa",
        "The polymorphic RFC 8037 name `EdDSA` is accepted as Ed25519.",
        context(),
        &base(),
        raw(&key, &header("EdDSA"), &payload),
    );
    b.accept(
        "accept-first-binding",
        "While enrolling no lender is bound and no seq is stored yet.",
        Context {
            lender_id: None,
            stored_seq: None,
            stored_state: None,
            ..context()
        },
        &base(),
        good.clone(),
    );
    {
        let mut v = json(&base());
        v["a_field_from_v1_1"] = serde_json::json!({"anything": [1, 2, 3]});
        b.accept(
            "accept-unknown-fields-ignored",
            "Unknown members are ignored so later minor versions stay compatible.",
            context(),
            &base(),
            raw(&key, &header("Ed25519"), &bytes(&v)),
        );
    }
    {
        let mut e = base();
        let one = e.account.installments[0].clone();
        e.account.installments = vec![one; 120];
        b.accept(
            "accept-120-installments",
            "120 installments is the maximum.",
            context(),
            &e,
            fixtures::sign(&e),
        );
    }
    {
        let mut e = base();
        e.lender.payment_url = "http://10.0.2.2:8080/pay".into();
        let ctx = Context {
            allow_insecure_loopback: true,
            ..context()
        };
        b.accept(
            "accept-debug-emulator-http",
            "A debug build accepts plain http to the emulator host.",
            ctx,
            &e,
            fixtures::sign(&e),
        );
    }
    {
        let mut e = base();
        e.state = EntitlementState::Released;
        b.accept(
            "accept-release",
            "Paid in full: the release is accepted (and is terminal afterwards).",
            context(),
            &e,
            fixtures::sign(&e),
        );
    }
    {
        let mut e = base();
        e.seq = 1_000_000;
        b.accept(
            "accept-seq-gap",
            "seq only has to be greater, not consecutive.",
            context(),
            &e,
            fixtures::sign(&e),
        );
    }

    // ---- §2 envelope ---------------------------------------------------------------
    {
        let mut e = base();
        e.message = Some(
            (0..8)
                .map(|i| (format!("l{i}a"), "ü".repeat(350)))
                .collect(),
        );
        e.lender.payment_url = format!("https://pay.example/{}", "a".repeat(2000));
        let big = fixtures::sign(&e);
        let big = if big.len() > jws::MAX_JWS_LEN {
            big
        } else {
            format!("{big}{}", "A".repeat(jws::MAX_JWS_LEN))
        };
        b.reject(
            "jws-too-large",
            "Larger than 16 KiB.",
            context(),
            big,
            "jws_too_large",
        );
    }
    b.reject(
        "jws-two-parts",
        "Not three parts.",
        context(),
        format!("{gh}.{gp}"),
        "jws_not_three_parts",
    );
    b.reject(
        "jws-four-parts",
        "Not three parts.",
        context(),
        format!("{good}.{gs}"),
        "jws_not_three_parts",
    );
    b.reject(
        "jws-padded-signature",
        "Base64url padding is not canonical.",
        context(),
        format!("{good}=="),
        "jws_bad_base64",
    );
    b.reject(
        "jws-standard-alphabet",
        "The standard base64 alphabet (+ /) is not base64url.",
        context(),
        format!(
            "{gh}.{}.{gs}",
            b64::encode(&payload).replace('-', "+").replace('_', "/") + "+"
        ),
        "jws_bad_base64",
    );
    b.reject(
        "jws-non-zero-trailing-bits",
        "A last character with non-zero unused bits is not canonical.",
        context(),
        format!("{gh}.{gp}.{}h", &gs[..gs.len() - 1]),
        "jws_bad_base64",
    );
    b.reject(
        "jws-header-not-json",
        "The header is not a JSON object.",
        context(),
        raw(&key, "not json", &payload),
        "jws_header_malformed",
    );
    b.reject(
        "jws-header-kid-not-string",
        "Header members are strings.",
        context(),
        raw(
            &key,
            &format!(
                r#"{{"alg":"Ed25519","typ":"{}","kid":7}}"#,
                jws::typ::ENTITLEMENT
            ),
            &payload,
        ),
        "jws_header_malformed",
    );
    for alg in ["none", "HS256", "ES256", "RS256"] {
        b.reject(
            &format!("jws-alg-{}", alg.to_lowercase()),
            "Only Ed25519 (or EdDSA) is allowed.",
            context(),
            raw(&key, &header(alg), &payload),
            "jws_alg_not_allowed",
        );
    }
    for member in ["crit", "jwk", "jku", "x5u", "x5c"] {
        let h = format!(
            r#"{{"alg":"Ed25519","typ":"{}","kid":"{}","{member}":{}}}"#,
            jws::typ::ENTITLEMENT,
            fixtures::LENDER_KID,
            if member == "crit" || member == "x5c" {
                "[\"x\"]"
            } else if member == "jwk" {
                "{}"
            } else {
                "\"https://keys.example\""
            }
        );
        b.reject(
            &format!("jws-header-{member}"),
            "No key may be supplied by the message, and no extension demanded.",
            context(),
            raw(&key, &h, &payload),
            "jws_forbidden_header",
        );
    }
    b.reject(
        "jws-header-extra-member",
        "The protected header is exactly alg, typ, kid.",
        context(),
        raw(
            &key,
            &format!(
                r#"{{"alg":"Ed25519","typ":"{}","kid":"{}","cty":"json"}}"#,
                jws::typ::ENTITLEMENT,
                fixtures::LENDER_KID
            ),
            &payload,
        ),
        "jws_unexpected_header",
    );
    b.reject(
        "jws-header-duplicate-alg",
        "Duplicate header members are rejected.",
        context(),
        raw(
            &key,
            &format!(
                r#"{{"alg":"Ed25519","alg":"none","typ":"{}","kid":"{}"}}"#,
                jws::typ::ENTITLEMENT,
                fixtures::LENDER_KID
            ),
            &payload,
        ),
        "duplicate_key",
    );
    b.reject(
        "jws-missing-typ",
        "typ is required.",
        context(),
        raw(
            &key,
            &format!(r#"{{"alg":"Ed25519","kid":"{}"}}"#, fixtures::LENDER_KID),
            &payload,
        ),
        "jws_missing_header",
    );
    b.reject(
        "jws-missing-kid",
        "kid is required.",
        context(),
        raw(
            &key,
            &format!(r#"{{"alg":"Ed25519","typ":"{}"}}"#, jws::typ::ENTITLEMENT),
            &payload,
        ),
        "jws_missing_header",
    );
    b.reject(
        "jws-wrong-typ",
        "A check-in body is not an entitlement.",
        context(),
        key.sign_compact(jws::typ::CHECKIN, &payload),
        "jws_wrong_typ",
    );
    b.reject(
        "jws-unknown-kid",
        "Signed by a key that is not pinned.",
        context(),
        base()
            .sign(&fixtures::other_lender_key())
            .unwrap_or_default(),
        "jws_unknown_kid",
    );
    b.reject(
        "jws-impostor-same-kid",
        "A different key claiming the pinned kid.",
        context(),
        base().sign(&fixtures::impostor_key()).unwrap_or_default(),
        "jws_bad_signature",
    );
    {
        let mut v = json(&base());
        v["lock_at"] = serde_json::json!(T0);
        b.reject(
            "jws-payload-swapped",
            "A payload changed after signing.",
            context(),
            format!("{gh}.{}.{gs}", b64::encode(bytes(&v))),
            "jws_bad_signature",
        );
    }
    b.reject(
        "jws-header-respaced",
        "The signature covers the exact bytes received, not their meaning.",
        context(),
        format!(
            "{}.{gp}.{gs}",
            b64::encode(format!(
                r#"{{"alg":"Ed25519", "typ":"{}","kid":"{}"}}"#,
                jws::typ::ENTITLEMENT,
                fixtures::LENDER_KID
            ))
        ),
        "jws_bad_signature",
    );

    // ---- §2 payload ------------------------------------------------------------------
    b.reject(
        "payload-array",
        "The payload is not a JSON object.",
        context(),
        raw(&key, &header("Ed25519"), b"[1]"),
        "payload_not_object",
    );
    b.reject(
        "payload-not-json",
        "The payload is not JSON.",
        context(),
        raw(&key, &header("Ed25519"), b"lock everything"),
        "payload_not_object",
    );
    {
        let text = String::from_utf8(payload.clone()).unwrap_or_default();
        let dup = text.replacen("{", r#"{"state":"locked","#, 1);
        b.reject(
            "payload-duplicate-top-level",
            "A duplicated key (the first says locked).",
            context(),
            raw(&key, &header("Ed25519"), dup.as_bytes()),
            "duplicate_key",
        );
        let nested = text.replacen(r#""name":"#, r#""phone":"+10000000","name":"#, 1);
        b.reject(
            "payload-duplicate-nested",
            "A duplicated key inside lender.",
            context(),
            raw(&key, &header("Ed25519"), nested.as_bytes()),
            "duplicate_key",
        );
    }
    for (name, field, value, error) in [
        (
            "payload-v2",
            "v",
            serde_json::json!(2),
            "unsupported_version",
        ),
        (
            "payload-seq-float",
            "seq",
            serde_json::json!(5.5),
            "payload_malformed",
        ),
        (
            "payload-lock-at-string",
            "lock_at",
            serde_json::json!("1767225600"),
            "payload_malformed",
        ),
        (
            "payload-state-unknown",
            "state",
            serde_json::json!("frozen"),
            "payload_malformed",
        ),
        (
            "payload-seq-negative",
            "seq",
            serde_json::json!(-1),
            "payload_malformed",
        ),
    ] {
        let mut v = json(&base());
        v[field] = value;
        b.reject(
            name,
            "A field of the wrong type or value.",
            context(),
            raw(&key, &header("Ed25519"), &bytes(&v)),
            error,
        );
    }
    {
        let mut v = json(&base());
        if let Some(o) = v.as_object_mut() {
            o.remove("lender");
        }
        b.reject(
            "payload-missing-lender",
            "lender is required.",
            context(),
            raw(&key, &header("Ed25519"), &bytes(&v)),
            "payload_malformed",
        );
    }

    // ---- §3.3 field rules ----------------------------------------------------------------
    b.reject_field(
        "field-phone-mmi",
        "A phone number that is an MMI code.",
        "invalid_field",
        |e| e.lender.phone = "*#06#".into(),
    );
    b.reject_field(
        "field-phone-short",
        "Fewer than 6 digits.",
        "invalid_field",
        |e| e.lender.phone = "+12345".into(),
    );
    b.reject_field(
        "field-payment-url-http",
        "Plain http to a remote host.",
        "invalid_field",
        |e| e.lender.payment_url = "http://pay.example/p".into(),
    );
    b.reject_field(
        "field-payment-url-userinfo",
        "User-info in a URL hides the real host.",
        "invalid_field",
        |e| e.lender.payment_url = "https://pay.example@evil.example/".into(),
    );
    b.reject_field(
        "field-support-url-javascript",
        "Only http(s) URLs.",
        "invalid_field",
        |e| e.lender.support_url = Some("javascript:alert(1)".into()),
    );
    b.reject_field(
        "field-http-loopback-release-build",
        "http to loopback without the debug flag.",
        "invalid_field",
        |e| e.lender.payment_url = "http://127.0.0.1:8080/pay".into(),
    );
    b.reject_field(
        "field-121-installments",
        "More than 120 installments.",
        "invalid_field",
        |e| {
            let one = e.account.installments[0].clone();
            e.account.installments = vec![one; 121];
        },
    );
    b.reject_field(
        "field-message-351-chars",
        "A message longer than 350 characters.",
        "invalid_field",
        |e| e.message = Some([("en".to_string(), "x".repeat(351))].into()),
    );
    b.reject_field(
        "field-message-9-locales",
        "More than 8 message locales.",
        "invalid_field",
        |e| {
            e.message = Some(
                (0..9)
                    .map(|i| (format!("l{i}a"), "hi".to_string()))
                    .collect(),
            )
        },
    );
    b.reject_field(
        "field-instructions-201-chars",
        "Payment instructions longer than 200 characters.",
        "invalid_field",
        |e| e.lender.payment_instructions = Some([("en".to_string(), "x".repeat(201))].into()),
    );
    b.reject_field(
        "field-name-81-chars",
        "A lender name longer than 80 characters.",
        "invalid_field",
        |e| e.lender.name = "x".repeat(81),
    );
    b.reject_field(
        "field-currency-lowercase",
        "Currency is three upper-case letters.",
        "invalid_field",
        |e| e.account.currency = "php".into(),
    );
    b.reject_field(
        "field-amount-2-pow-53",
        "Amounts are below 2^53.",
        "invalid_field",
        |e| e.account.amount_due_minor = 1 << 53,
    );
    b.reject_field(
        "field-lock-at-negative",
        "Times are in [0, 2^53).",
        "invalid_field",
        |e| e.lock_at = -1,
    );
    b.reject_field(
        "field-hour-24",
        "hour_local is 0..23.",
        "invalid_field",
        |e| e.reminders.hour_local = 24,
    );
    b.reject_field(
        "field-quiet-start-bad",
        "quiet_start is HH:MM.",
        "invalid_field",
        |e| e.reminders.quiet_start = "9pm".into(),
    );
    b.reject_field(
        "field-33-offsets",
        "At most 32 reminder offsets.",
        "invalid_field",
        |e| e.reminders.offsets_s = vec![3600; 33],
    );
    b.reject_field(
        "field-nonce-short",
        "A nonce is 16 bytes.",
        "invalid_field",
        |e| e.nonce = Some(b64::encode([1u8; 8])),
    );
    b.reject_field(
        "field-offline-lock-one-hour",
        "An offline lock needs at least a day of silence.",
        "invalid_field",
        |e| e.offline_lock_after_s = Some(3600),
    );

    // ---- §3.3 acceptance -------------------------------------------------------------------
    b.reject_field(
        "accept-wrong-issuer",
        "Another lender's id, even signed by a pinned key.",
        "wrong_issuer",
        |e| e.iss = "other-lender".into(),
    );
    b.reject_field(
        "accept-wrong-subject",
        "An entitlement for another device.",
        "wrong_subject",
        |e| e.sub = "dev-0002".into(),
    );
    b.reject_field(
        "accept-replayed-seq",
        "seq equal to the stored one (a replay).",
        "stale_seq",
        |e| e.seq = 4,
    );
    b.reject_field(
        "accept-older-seq",
        "seq lower than the stored one.",
        "stale_seq",
        |e| e.seq = 1,
    );
    b.reject_field(
        "accept-missing-nonce",
        "An answer that does not echo the check-in nonce.",
        "nonce_mismatch",
        |e| e.nonce = None,
    );
    b.reject_field(
        "accept-wrong-nonce",
        "An answer to another request.",
        "nonce_mismatch",
        |e| e.nonce = Some(b64::encode([1u8; 16])),
    );
    b.reject(
        "accept-after-release",
        "Released is terminal: nothing is accepted afterwards.",
        Context {
            stored_state: Some(EntitlementState::Released),
            ..context()
        },
        good,
        "already_released",
    );
    key_rotation(&mut b);
    completing(&mut b);
    escalation::vectors(&mut b);
    b.out
}

/// The number of the first completing vector: they come after the enrollment vectors
/// (097–109, `conformance/enroll.rs`), which were numbered first; numbers are never reused.
const COMPLETING_FIRST_NUMBER: usize = 110;

/// Paid in full, completing (ADR 0012): `release_at` and its rules, numbered from
/// [`COMPLETING_FIRST_NUMBER`].
fn completing(b: &mut Builder) {
    let first = b.out.len();
    completing_vectors(b);
    for (i, v) in b.out[first..].iter_mut().enumerate() {
        let rest = v.name.split_once('-').map_or("", |(_, rest)| rest);
        v.name = format!("{:03}-{rest}", COMPLETING_FIRST_NUMBER + i);
    }
}

fn completing_vectors(b: &mut Builder) {
    let release_at = T0 + 3_600 + 2 * 86_400;
    let completing = || {
        let mut e = base();
        // What a server signs while completing: nothing owed, no payment lock.
        e.release_at = Some(release_at);
        e.lock_at = crate::protocol::MAX_SAFE as i64 - 1;
        e.account.amount_due_minor = 0;
        e.account.next_due = None;
        for inst in &mut e.account.installments {
            inst.status = crate::protocol::InstallmentStatus::Paid;
        }
        e
    };
    b.accept(
        "completing-accept",
        "Paid in full: released at release_at unless a payment is voided first (ADR 0012).",
        context(),
        &completing(),
        fixtures::sign(&completing()),
    );
    {
        let mut e = completing();
        e.state = EntitlementState::Locked;
        b.accept(
            "completing-accept-lender-locked",
            "A completing phone the lender locks keeps its release date.",
            context(),
            &e,
            fixtures::sign(&e),
        );
    }
    b.reject_field(
        "completing-release-at-negative",
        "release_at is a time in [0, 2^53).",
        "invalid_field",
        |e| e.release_at = Some(-1),
    );
    b.reject_field(
        "completing-release-at-2-pow-53",
        "release_at is a time in [0, 2^53).",
        "invalid_field",
        |e| e.release_at = Some(1 << 53),
    );
    b.reject_field(
        "completing-release-at-with-released",
        "Released is final: release_at must be absent.",
        "invalid_field",
        |e| {
            e.state = EntitlementState::Released;
            e.release_at = Some(release_at);
        },
    );
    {
        let mut v = json(&base());
        v["release_at"] = serde_json::json!(release_at.to_string());
        b.reject(
            "completing-release-at-string",
            "release_at is a JSON integer.",
            context(),
            raw(&fixtures::lender_key(), &header("Ed25519"), &bytes(&v)),
            "payload_malformed",
        );
    }
}

/// The entitlement of [`base`] signed by `key`.
fn signed_by(key: &LenderKey) -> String {
    base().sign(key).unwrap_or_default()
}

/// A key set payload naming `keys` by their thumbprints.
fn set_payload(keys_seq: u64, keys: &[&LenderKey]) -> KeySetPayload {
    KeySetPayload {
        v: 1,
        iss: LENDER_ID.into(),
        keys_seq,
        iat: T0,
        keys: keys
            .iter()
            .map(|k| crate::keys::Jwk {
                kid: Some(k.public().thumbprint()),
                ..k.public().to_jwk()
            })
            .collect(),
    }
}

/// A key-set link from an arbitrary payload value, signed by `key` as `typ`.
fn link_from(key: &LenderKey, typ: &str, payload: &serde_json::Value) -> String {
    key.sign_compact(typ, &bytes(payload))
}

/// Lender key rotation (ADR 0007): chains that lead to a new set, and each rule that
/// refuses one.
fn key_rotation(b: &mut Builder) {
    let k0 = fixtures::lender_key();
    let (k1, k2, k3) = (
        fixtures::rotated_key(1),
        fixtures::rotated_key(2),
        fixtures::rotated_key(3),
    );
    let chain1 = fixtures::rotation_chain(1);
    let accept = |keys_seq| Expected::Accept {
        seq: base().seq,
        state: base().state,
        lock_at: base().lock_at,
        keys_seq: Some(keys_seq),
        release_at: None,
        ladder: None,
    };
    let reject = |error: &str| Expected::Reject {
        error: error.into(),
    };
    b.push_chained(
        "keys-accept-one-rotation",
        "Set 1 = [new key, the pinned key] signed by the pinned key; the entitlement is signed by the new key.",
        context(),
        chain1.clone(),
        signed_by(&k1),
        accept(1),
    );
    b.push_chained(
        "keys-accept-three-rotations",
        "A device three rotations behind applies sets 1, 2, 3 in one answer.",
        context(),
        fixtures::rotation_chain(3),
        signed_by(&k3),
        accept(3),
    );
    b.push_chained(
        "keys-accept-old-key-still-in-the-set",
        "After an ordinary rotation the key that signed the new set is still in it (by its thumbprint, as every key of a rotated set): an answer signed just before the rotation verifies.",
        context(),
        chain1.clone(),
        signed_by(&fixtures::lender_key_by_thumbprint()),
        accept(1),
    );
    b.push_chained(
        "keys-accept-retire",
        "Retiring a compromised key: set 1 holds only a fresh key.",
        context(),
        vec![fixtures::key_set(1, &[&k1], &k0)],
        signed_by(&k1),
        accept(1),
    );
    {
        let pinned_at_2 = KeySet::new(vec![k2.public(), k1.public()])
            .unwrap_or_default()
            .with_keys_seq(2);
        b.push_chained(
            "keys-accept-from-set-2",
            "A device pinned at set 2 (its QR was printed then) takes set 3.",
            Context {
                pinned_keys: pinned_at_2.to_jwks(),
                ..context()
            },
            vec![fixtures::key_set(3, &[&k3, &k2], &k2)],
            signed_by(&k3),
            accept(3),
        );
    }
    b.push_chained(
        "keys-accept-stale-qr-enrollment",
        "Enrolling from a QR printed before two rotations: the chain comes with the first entitlement.",
        Context {
            lender_id: None,
            stored_seq: None,
            stored_state: None,
            ..context()
        },
        fixtures::rotation_chain(2),
        signed_by(&k2),
        accept(2),
    );
    b.push_chained(
        "keys-entitlement-by-new-key-without-chain",
        "An entitlement signed by a key the device has not been led to.",
        context(),
        Vec::new(),
        signed_by(&k1),
        reject("jws_unknown_kid"),
    );
    b.push_chained(
        "keys-entitlement-by-retired-key",
        "After a retire set, the retired key signs nothing the device accepts.",
        context(),
        vec![fixtures::key_set(1, &[&k1], &k0)],
        fixtures::sign(&base()),
        reject("jws_unknown_kid"),
    );
    b.push_chained(
        "keys-signed-by-unpinned-key",
        "A set signed by a key that is not in the pinned set.",
        context(),
        vec![fixtures::key_set(1, &[&k1], &fixtures::other_lender_key())],
        signed_by(&k1),
        reject("jws_unknown_kid"),
    );
    b.push_chained(
        "keys-impostor-same-kid",
        "A set signed by another key claiming the pinned kid.",
        context(),
        vec![fixtures::key_set(1, &[&k1], &fixtures::impostor_key())],
        signed_by(&k1),
        reject("jws_bad_signature"),
    );
    b.push_chained(
        "keys-second-link-by-dropped-key",
        "Set 2 signed by the pinned key, which set 1 no longer holds.",
        context(),
        vec![
            fixtures::key_set(1, &[&k1], &k0),
            fixtures::key_set(2, &[&k2], &k0),
        ],
        signed_by(&k2),
        reject("jws_unknown_kid"),
    );
    b.push_chained(
        "keys-wrong-typ",
        "A key set must be typ finlock-keys+jws.",
        context(),
        vec![link_from(
            &k0,
            jws::typ::ENTITLEMENT,
            &serde_json::to_value(set_payload(1, &[&k1])).unwrap_or_default(),
        )],
        signed_by(&k1),
        reject("jws_wrong_typ"),
    );
    b.push_chained(
        "keys-seq-gap",
        "Set 2 where set 1 is next: every link is exactly the next one.",
        context(),
        vec![fixtures::key_set(2, &[&k2], &k0)],
        signed_by(&k2),
        reject("keys_seq_not_next"),
    );
    {
        let pinned_at_1 = KeySet::new(vec![k1.public(), k0.public()])
            .unwrap_or_default()
            .with_keys_seq(1);
        b.push_chained(
            "keys-seq-replayed",
            "Set 1 again at set 1: a replayed rotation.",
            Context {
                pinned_keys: pinned_at_1.to_jwks(),
                ..context()
            },
            vec![fixtures::key_set(1, &[&k2], &k1)],
            signed_by(&k2),
            reject("keys_seq_not_next"),
        );
    }
    {
        let mut p = set_payload(1, &[&k1]);
        p.iss = "other-lender".into();
        b.push_chained(
            "keys-wrong-issuer",
            "A set naming another lender.",
            context(),
            vec![p.sign(&k0).unwrap_or_default()],
            signed_by(&k1),
            reject("wrong_issuer"),
        );
    }
    let field = |b: &mut Builder,
                 name: &str,
                 description: &str,
                 mutate: &dyn Fn(&mut serde_json::Value),
                 error: &str| {
        let mut p = serde_json::to_value(set_payload(1, &[&k1, &k0])).unwrap_or_default();
        mutate(&mut p);
        b.push_chained(
            name,
            description,
            context(),
            vec![link_from(&k0, jws::typ::KEYS, &p)],
            signed_by(&k1),
            reject(error),
        );
    };
    field(
        b,
        "keys-kid-not-thumbprint",
        "Every key of a rotated set is named by its RFC 7638 thumbprint.",
        &|p| p["keys"][0]["kid"] = "acme-2027".into(),
        "invalid_field",
    );
    field(
        b,
        "keys-five-keys",
        "A rotated set holds 1 to 4 keys.",
        &|p| {
            p["keys"] = (0..5u8)
                .map(|i| {
                    let k = fixtures::rotated_key(20 + i);
                    serde_json::to_value(crate::keys::Jwk {
                        kid: Some(k.public().thumbprint()),
                        ..k.public().to_jwk()
                    })
                    .unwrap_or_default()
                })
                .collect()
        },
        "invalid_field",
    );
    field(
        b,
        "keys-empty",
        "A set without keys.",
        &|p| p["keys"] = serde_json::json!([]),
        "invalid_field",
    );
    field(
        b,
        "keys-duplicate-key",
        "The same key twice.",
        &|p| p["keys"][1] = p["keys"][0].clone(),
        "invalid_field",
    );
    field(
        b,
        "keys-not-ed25519",
        "Only Ed25519 OKP keys.",
        &|p| p["keys"][0]["crv"] = "X25519".into(),
        "invalid_field",
    );
    field(
        b,
        "keys-v2",
        "v must be 1.",
        &|p| p["v"] = 2.into(),
        "unsupported_version",
    );
    field(
        b,
        "keys-missing-keys",
        "keys is required.",
        &|p| {
            if let Some(o) = p.as_object_mut() {
                o.remove("keys");
            }
        },
        "payload_malformed",
    );
    field(
        b,
        "keys-seq-float",
        "keys_seq is an integer.",
        &|p| p["keys_seq"] = serde_json::json!(1.0),
        "payload_malformed",
    );
    {
        let p = serde_json::to_value(set_payload(1, &[&k1])).unwrap_or_default();
        let text = bytes(&p);
        let text = String::from_utf8_lossy(&text).replacen(r#""v":1"#, r#""v":1,"v":1"#, 1);
        let header = format!(
            r#"{{"alg":"Ed25519","typ":"{}","kid":"{}"}}"#,
            jws::typ::KEYS,
            fixtures::LENDER_KID
        );
        b.push_chained(
            "keys-duplicate-member",
            "A set payload with a duplicate member.",
            context(),
            vec![raw(&k0, &header, text.as_bytes())],
            signed_by(&k1),
            reject("duplicate_key"),
        );
    }
    {
        let mut links = Vec::new();
        let mut signer = fixtures::lender_key();
        for seq in 1..=9u8 {
            let next = fixtures::rotated_key(seq);
            links.push(fixtures::key_set(u64::from(seq), &[&next], &signer));
            signer = next;
        }
        b.push_chained(
            "keys-chain-too-long",
            "More than 8 sets in one answer: a device that far behind re-provisions.",
            context(),
            links,
            signed_by(&fixtures::rotated_key(9)),
            reject("keys_chain_too_long"),
        );
    }
    b.push_chained(
        "keys-after-release",
        "Released is terminal: not even a key set is accepted afterwards.",
        Context {
            stored_state: Some(EntitlementState::Released),
            ..context()
        },
        chain1,
        signed_by(&k1),
        reject("already_released"),
    );
}

/// The file name of a vector.
pub fn file_name(v: &Vector) -> String {
    format!("{}.json", v.name)
}

/// The exact bytes written for a vector (pretty JSON and a final newline).
pub fn render(v: &Vector) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

pub mod decision;
pub mod enroll;
mod escalation;
pub mod push;

/// Every vector file the generator writes, entitlement and enrollment vectors alike:
/// (file name, exact contents).
pub fn files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vectors()
        .iter()
        .map(|v| (file_name(v), render(v)))
        .collect();
    out.extend(
        enroll::vectors()
            .iter()
            .map(|v| (enroll::file_name(v), enroll::render(v))),
    );
    out.extend(
        push::vectors()
            .iter()
            .map(|v| (push::file_name(v), push::render(v))),
    );
    out.extend(
        decision::vectors()
            .iter()
            .map(|v| (decision::file_name(v), decision::render(v))),
    );
    out
}

/// Runs a committed vector file of any kind (enrollment and push vectors name their `kind`).
pub fn check_file(text: &str) -> Result<(), String> {
    if push::is_push_vector(text) {
        return push::check_text(text);
    }
    if decision::is_decision_vector(text) {
        return decision::check_text(text);
    }
    if enroll::is_enroll_vector(text) {
        return enroll::check_text(text);
    }
    let v: Vector = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check(&v)
}
