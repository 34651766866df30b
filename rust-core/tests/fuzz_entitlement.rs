//! No panic on any input: random and mutated byte strings thrown at the entitlement
//! parser (`entitlement::accept`, `jws::parse`, `protocol::decode_payload`).
//!
//! Deterministic: a xorshift64* generator with a fixed default seed, printed with each
//! test's counts; set `FINLOCK_FUZZ_SEED` (decimal or 0x-hex) to explore other inputs.
//! A failure names the category, the case number and the seed, so the failing input
//! can be regenerated. Run with `--nocapture` to see the counts per category.
//!
//! Categories (each test owns some; together at least [`TOTAL_MIN`] inputs):
//! * random: random bytes (0..20000) read lossily as text; random base64url strings
//!   with 0..4 dots; a valid header before random payload and signature parts;
//!   JSON-like soup.
//! * byte mutations of a valid signed JWS, not re-signed: any change must be rejected.
//! * re-signed mutations: the entitlement JSON mutated (as text, or as a JSON tree with
//!   huge numbers, deep nesting, unicode, wrong types, missing, unknown and duplicated
//!   members), then signed with the pinned lender key, so the signature is valid and
//!   the JSON and field layers are what decides. `accept` must agree exactly with
//!   `decode_payload` + `validate` + the acceptance rules. Also re-signed header mutations.
//!
//! Invariant on every input: whatever `accept` returns `Ok` for is a correctly signed
//! entitlement that decodes to the same value, passes `validate` again, and satisfies
//! the rules it was judged by.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use finlock_core::b64;
use finlock_core::entitlement::{self, AcceptRules};
use finlock_core::fixtures::{self, DEVICE_ID, LENDER_ID, LENDER_KID, T0};
use finlock_core::jws::{self, MAX_JWS_LEN};
use finlock_core::keys::{KeySet, LenderKey};
use finlock_core::protocol::{self, Entitlement, EntitlementState, UrlPolicy};
use serde_json::Value;

// ---- budget -----------------------------------------------------------------------------

const RANDOM_BYTES: usize = 8_000;
const RANDOM_B64: usize = 20_000;
const RANDOM_PARTS: usize = 5_000;
const RANDOM_JSON_SOUP: usize = 12_000;
const BYTE_MUTATIONS: usize = 40_000;
const RESIGNED_TEXT: usize = 20_000;
const RESIGNED_TREE: usize = 20_000;
const RESIGNED_HEADER: usize = 4_000;

const TOTAL_MIN: usize = 100_000;
const RESIGNED_JSON_MIN: usize = 30_000;

const _: () = assert!(
    RANDOM_BYTES
        + RANDOM_B64
        + RANDOM_PARTS
        + RANDOM_JSON_SOUP
        + BYTE_MUTATIONS
        + RESIGNED_TEXT
        + RESIGNED_TREE
        + RESIGNED_HEADER
        >= TOTAL_MIN
);
const _: () = assert!(RESIGNED_TEXT + RESIGNED_TREE >= RESIGNED_JSON_MIN);

// ---- deterministic generator ----------------------------------------------------------

const DEFAULT_SEED: u64 = 0x00f1_2b0c_2026_0001;

/// xorshift64* (Vigna), seeded through splitmix64 so any seed (even 0) works.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut z = seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform enough in `0..n` for fuzzing (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// A length in `0..max`, skewed towards short ones.
    fn skewed_len(&mut self, max: usize) -> usize {
        let cap = self.below(max) + 1;
        self.below(cap)
    }
}

fn seed() -> u64 {
    match std::env::var("FINLOCK_FUZZ_SEED") {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("FINLOCK_FUZZ_SEED={text:?} is not a u64"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

// ---- the device under test --------------------------------------------------------------

const B64_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct Fixture {
    /// The pinned lender key, to re-sign mutated payloads (built once: deriving it
    /// costs as much as a signature).
    lender: LenderKey,
    pinned: KeySet,
    nonce: String,
    /// The entitlement every mutation starts from; `rules` accept it.
    entitlement: Entitlement,
    /// Its compact JWS and payload JSON.
    jws: String,
    json: Vec<u8>,
}

impl Fixture {
    fn new() -> Fixture {
        let nonce = b64::encode([9u8; 16]);
        let mut entitlement = fixtures::entitlement(5, T0);
        entitlement.nonce = Some(nonce.clone());
        let json = serde_json::to_vec(&entitlement).expect("fixture serializes");
        let jws = fixtures::sign(&entitlement);
        let f = Fixture {
            lender: fixtures::lender_key(),
            pinned: fixtures::pinned_keys(),
            nonce,
            entitlement,
            jws,
            json,
        };
        for rules in [f.enrolled(), f.enrolling()] {
            assert_eq!(
                entitlement::accept(&f.jws, &rules).expect("the unmutated fixture is accepted"),
                f.entitlement
            );
        }
        f
    }

    /// An enrolled device answering a check-in: bound lender, stored seq 4, nonce outstanding.
    fn enrolled(&self) -> AcceptRules<'_> {
        AcceptRules {
            pinned: &self.pinned,
            lender_id: Some(LENDER_ID),
            device_id: DEVICE_ID,
            stored_seq: Some(4),
            stored_state: Some(EntitlementState::Active),
            expected_nonce: Some(&self.nonce),
            urls: UrlPolicy::STRICT,
        }
    }

    /// A device completing its enrollment: any issuer, no stored seq.
    fn enrolling(&self) -> AcceptRules<'_> {
        AcceptRules {
            pinned: &self.pinned,
            lender_id: None,
            device_id: DEVICE_ID,
            stored_seq: None,
            stored_state: None,
            expected_nonce: Some(&self.nonce),
            urls: UrlPolicy::STRICT,
        }
    }

    fn rules(&self, i: usize) -> AcceptRules<'_> {
        if i.is_multiple_of(2) {
            self.enrolled()
        } else {
            self.enrolling()
        }
    }
}

impl Fixture {
    /// Signs a payload as an entitlement with the pinned lender key.
    fn sign(&self, payload: &[u8]) -> String {
        self.lender.sign_compact(jws::typ::ENTITLEMENT, payload)
    }

    /// Signs an arbitrary header and payload with the pinned lender key.
    fn sign_with_header(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
        let sig = self.lender.sign_raw(input.as_bytes());
        format!("{input}.{}", b64::encode(sig))
    }
}

/// Whether the acceptance rules (past the field rules) admit `e`.
fn rules_admit(e: &Entitlement, rules: &AcceptRules) -> bool {
    rules.lender_id.is_none_or(|iss| iss == e.iss)
        && e.sub == rules.device_id
        && rules.stored_seq.is_none_or(|stored| e.seq > stored)
        && rules
            .expected_nonce
            .is_none_or(|n| e.nonce.as_deref() == Some(n))
}

/// Runs the parser entry points on one input and checks the invariant on acceptance.
/// Returns what `accept` returned.
fn check(compact: &str, rules: &AcceptRules) -> finlock_core::Result<Entitlement> {
    let parsed = jws::parse(compact);
    let accepted = entitlement::accept(compact, rules)?;
    let parsed = parsed.expect("an accepted JWS parses");
    assert!(compact.len() <= MAX_JWS_LEN);
    let header = parsed.header();
    assert_eq!(header.typ.as_deref(), Some(jws::typ::ENTITLEMENT));
    assert_eq!(header.kid.as_deref(), Some(LENDER_KID));
    let verified = jws::verify(compact, jws::typ::ENTITLEMENT, rules.pinned)
        .expect("an accepted JWS verifies");
    let decoded: Entitlement =
        protocol::decode_payload(&verified.payload).expect("an accepted payload decodes");
    assert_eq!(decoded, accepted, "accept returned what the payload says");
    accepted
        .validate(rules.urls)
        .expect("an accepted entitlement re-validates");
    assert!(rules_admit(&accepted, rules), "accepted against the rules");
    Ok(accepted)
}

/// Decodes raw payload bytes the way `accept` does after the signature.
fn decode(payload: &[u8]) -> finlock_core::Result<Entitlement> {
    protocol::decode_payload::<Entitlement>(payload)
}

/// Runs `f`; if it panics, panics again naming the input, so the case can be replayed.
fn guarded<R>(category: &str, case: usize, seed: u64, input: &[u8], f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            let shown = String::from_utf8_lossy(&input[..input.len().min(2000)]);
            panic!(
                "{category} case {case} (FINLOCK_FUZZ_SEED={seed:#x}) failed; input ({} bytes): {shown:?}",
                input.len()
            )
        }
    }
}

/// Inputs, acceptances and time (generation included) per category.
struct Tally {
    started: Instant,
    last: Instant,
    rows: Vec<(&'static str, usize, usize, Duration)>,
}

impl Tally {
    fn new() -> Tally {
        let now = Instant::now();
        Tally {
            started: now,
            last: now,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, category: &'static str, accepted: bool) {
        let now = Instant::now();
        let spent = now - self.last;
        self.last = now;
        match self.rows.iter_mut().find(|r| r.0 == category) {
            Some(row) => {
                row.1 += 1;
                row.2 += usize::from(accepted);
                row.3 += spent;
            }
            None => self.rows.push((category, 1, usize::from(accepted), spent)),
        }
    }

    fn total(&self) -> usize {
        self.rows.iter().map(|r| r.1).sum()
    }

    fn count(&self, category: &str) -> usize {
        self.rows
            .iter()
            .find(|r| r.0 == category)
            .map_or(0, |r| r.1)
    }

    fn report(&self, test: &str, seed: u64) {
        let mut out = format!("{test} (FINLOCK_FUZZ_SEED={seed:#x}):\n");
        for (category, n, accepted, spent) in &self.rows {
            let _ = writeln!(
                out,
                "  {category:<34} {n:>6} inputs {accepted:>6} accepted {:>8.0?}",
                spent
            );
        }
        let _ = write!(
            out,
            "  {:<34} {:>6} inputs in {:.2?}",
            "total",
            self.total(),
            self.started.elapsed()
        );
        println!("{out}");
    }
}

// ---- (a) random input -------------------------------------------------------------------

const POOL_LEN: usize = 1 << 20;

/// `len` bytes at a random offset of `pool`.
fn window<'a>(rng: &mut Rng, pool: &'a [u8], len: usize) -> &'a [u8] {
    let at = rng.below(pool.len() - len + 1);
    &pool[at..at + len]
}

const SOUP: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\"v\"",
    "\"iss\"",
    "\"account\"",
    "1",
    "0",
    "-",
    "e",
    "1e999",
    "18446744073709551616",
    "null",
    "true",
    "false",
    " ",
    "\n",
    "\\",
    "\\u0000",
    "\\ud800",
    "\"x\"",
    "é",
    "😀",
    "\u{202e}",
    "\u{feff}",
    "{\"v\":1",
    "[[[[",
    "]]]]",
];

#[test]
fn random_input_never_panics_and_is_never_accepted() {
    let seed = seed();
    let f = Fixture::new();
    let mut tally = Tally::new();
    let header = b64::encode(format!(
        r#"{{"alg":"Ed25519","typ":"{}","kid":"{LENDER_KID}"}}"#,
        jws::typ::ENTITLEMENT
    ));

    // Inputs are windows at random offsets and lengths into 1 MiB of generator output:
    // producing ~150 MB byte by byte in this unoptimised test binary would take seconds.
    let mut rng = Rng::new(seed, 1);
    let pool = rng.bytes(POOL_LEN);
    let b64_pool: Vec<u8> = pool
        .iter()
        .map(|&b| B64_ALPHABET[usize::from(b & 63)])
        .collect();
    for i in 0..RANDOM_BYTES {
        let len = rng.below(20_000);
        let bytes = window(&mut rng, &pool, len);
        let text = String::from_utf8_lossy(bytes);
        let accepted = guarded("random bytes", i, seed, bytes, || {
            let _ = decode(bytes);
            check(&text, &f.rules(i)).is_ok()
        });
        assert!(!accepted);
        tally.add("random bytes (lossy utf-8)", accepted);
    }

    for i in 0..RANDOM_B64 {
        let len = rng.skewed_len(20_000);
        let mut text = window(&mut rng, &b64_pool, len).to_vec();
        for _ in 0..rng.below(5) {
            let at = rng.below(text.len() + 1);
            text.insert(at, b'.');
        }
        let text = String::from_utf8(text).expect("ascii");
        let accepted = guarded("random base64url", i, seed, text.as_bytes(), || {
            let _ = decode(text.as_bytes());
            check(&text, &f.rules(i)).is_ok()
        });
        assert!(!accepted);
        tally.add("random base64url with dots", accepted);
    }

    // Past the envelope checks: a valid header, then random (canonical) parts, so
    // every one of these reaches the signature check.
    let mut rng = Rng::new(seed, 3);
    for i in 0..RANDOM_PARTS {
        let payload_len = rng.skewed_len(4_000);
        let payload = rng.bytes(payload_len);
        let sig_len = if rng.chance(4) { rng.below(100) } else { 64 };
        let sig = rng.bytes(sig_len);
        let text = format!("{header}.{}.{}", b64::encode(&payload), b64::encode(&sig));
        let accepted = guarded("random parts", i, seed, text.as_bytes(), || {
            let _ = decode(&payload);
            check(&text, &f.rules(i)).is_ok()
        });
        assert!(!accepted);
        tally.add("valid header, random parts", accepted);
    }

    // JSON-like soup for the payload decoder, also carried (unsigned) in a JWS.
    let mut rng = Rng::new(seed, 4);
    for i in 0..RANDOM_JSON_SOUP {
        let mut soup = String::from("{");
        for _ in 0..rng.skewed_len(400) {
            soup.push_str(rng.pick::<&str>(SOUP));
        }
        let sig = rng.bytes(64);
        let text = format!("{header}.{}.{}", b64::encode(&soup), b64::encode(sig));
        let accepted = guarded("json soup", i, seed, soup.as_bytes(), || {
            let _ = decode(soup.as_bytes());
            check(&text, &f.rules(i)).is_ok()
        });
        assert!(!accepted);
        tally.add("json soup payloads", accepted);
    }

    tally.report("random input", seed);
}

// ---- (b) byte mutations of a signed JWS, not re-signed --------------------------------------

/// A byte from `set` other than `not`.
fn other_than(rng: &mut Rng, set: &[u8], not: u8) -> u8 {
    loop {
        let b = *rng.pick(set);
        if b != not {
            return b;
        }
    }
}

/// One random edit of `s` (as bytes; invalid UTF-8 is read lossily afterwards).
fn mutate_jws(rng: &mut Rng, s: &[u8], json: &[u8]) -> (Vec<u8>, &'static str) {
    let mut out = s.to_vec();
    let parts: Vec<&[u8]> = s.split(|&b| b == b'.').collect();
    if rng.chance(500) {
        return (out, "unchanged (control)");
    }
    let kind = match rng.below(12) {
        0 => {
            let at = rng.below(out.len());
            out[at] ^= 1 << rng.below(8);
            "bit flip"
        }
        1 => {
            let at = rng.below(out.len());
            out[at] = other_than(rng, B64_ALPHABET, out[at]);
            "base64url char replaced"
        }
        2 => {
            let at = rng.below(out.len() + 1);
            let byte = if rng.chance(2) {
                *rng.pick(B64_ALPHABET)
            } else {
                rng.next_u64() as u8
            };
            out.insert(at, byte);
            "byte inserted"
        }
        3 => {
            let at = rng.below(out.len());
            let n = (rng.below(8) + 1).min(out.len() - at);
            out.drain(at..at + n);
            "bytes deleted"
        }
        4 => {
            out.truncate(rng.below(out.len()));
            "truncated"
        }
        5 => {
            let mut order = [0usize, 1, 2];
            let a = rng.below(3);
            order.swap(a, (a + 1 + rng.below(2)) % 3);
            out = order
                .iter()
                .map(|&k| parts[k])
                .collect::<Vec<_>>()
                .join(&b'.');
            "parts swapped"
        }
        6 => {
            let mut list = parts.clone();
            let k = rng.below(3);
            list.insert(rng.below(4), parts[k]);
            out = list.join(&b'.');
            "part duplicated"
        }
        7 => {
            let k = rng.below(3);
            let mut list = parts.clone();
            list[k] = b"";
            out = list.join(&b'.');
            "part emptied"
        }
        8 => {
            // Same signature over a changed payload: a one-byte JSON edit, re-encoded.
            let mut payload = json.to_vec();
            let at = rng.below(payload.len());
            payload[at] = other_than(rng, b"0123456789\" {}[],:aez", payload[at]);
            let encoded = b64::encode(&payload);
            out = [parts[0], encoded.as_bytes(), parts[2]].join(&b'.');
            "payload re-encoded, not re-signed"
        }
        9 => {
            let at = rng.below(out.len() + 1);
            let junk = *rng.pick(&["=", "==", " ", "\n", "\0", "+", "/", "é", ".", "%3D"]);
            out.splice(at..at, junk.bytes());
            "junk inserted"
        }
        10 => {
            // Swap two characters: same multiset of bytes, different message.
            let a = rng.below(out.len());
            let b = loop {
                let b = rng.below(out.len());
                if out[b] != out[a] {
                    break b;
                }
            };
            out.swap(a, b);
            "two bytes swapped"
        }
        _ => {
            for _ in 0..rng.below(4) + 2 {
                let at = rng.below(out.len().max(1));
                match rng.below(3) {
                    0 if !out.is_empty() => out[at] = *rng.pick(B64_ALPHABET),
                    1 => out.insert(at, *rng.pick(B64_ALPHABET)),
                    _ if !out.is_empty() => {
                        out.remove(at);
                    }
                    _ => {}
                }
            }
            "several edits"
        }
    };
    (out, kind)
}

#[test]
fn any_change_to_a_signed_jws_is_rejected() {
    let seed = seed();
    let f = Fixture::new();
    let mut tally = Tally::new();
    let mut rng = Rng::new(seed, 5);
    let mut no_ops = 0;
    for i in 0..BYTE_MUTATIONS {
        let (bytes, kind) = mutate_jws(&mut rng, f.jws.as_bytes(), &f.json);
        let text = String::from_utf8_lossy(&bytes);
        let rules = f.rules(i);
        let accepted = guarded(kind, i, seed, &bytes, || {
            // The payload decoder sees whatever the mutated JWS carries, signed or not.
            if let Ok(parsed) = jws::parse(&text) {
                let _ = decode(&parsed.into_payload());
            }
            check(&text, &rules).is_ok()
        });
        let unchanged = text == f.jws;
        no_ops += usize::from(unchanged);
        assert_eq!(
            accepted,
            unchanged,
            "{kind} case {i} (FINLOCK_FUZZ_SEED={seed:#x}): {} {text:?}",
            if accepted {
                "a changed JWS was accepted"
            } else {
                "the unchanged JWS was rejected"
            }
        );
        tally.add(kind, accepted);
    }
    tally.report("byte mutations, not re-signed", seed);
    println!("  ({no_ops} of them left the JWS unchanged, and only those were accepted)");
}

// ---- (c) re-signed JSON mutations ----------------------------------------------------------

/// Signs the mutated payload and holds `accept` to exactly what the layers below it say.
fn check_resigned(f: &Fixture, payload: &[u8], rules: &AcceptRules) -> bool {
    let compact = f.sign(payload);
    let decoded = decode(payload);
    let result = check(&compact, rules);
    if compact.len() > MAX_JWS_LEN {
        assert!(
            matches!(result, Err(finlock_core::Error::JwsTooLarge { .. })),
            "oversized JWS: {result:?}"
        );
        return false;
    }
    match (&decoded, &result) {
        (Err(want), Err(got)) => assert_eq!(got.code(), want.code(), "decode error differs"),
        (Err(want), Ok(_)) => panic!("accepted a payload that does not decode: {want}"),
        (Ok(e), _) => {
            let expected = e.validate(rules.urls).map(|()| rules_admit(e, rules));
            match (expected, &result) {
                (Ok(true), Ok(got)) => assert_eq!(got, e),
                (Ok(true), Err(got)) => panic!("rejected a valid entitlement: {got}"),
                (Ok(false), r) => assert!(r.is_err(), "accepted against the rules"),
                (Err(want), Err(got)) => {
                    assert_eq!(got.code(), want.code(), "validation error differs")
                }
                (Err(want), Ok(_)) => panic!("accepted an entitlement that fails {want}"),
            }
        }
    }
    let accepted = result.is_ok();
    if payload == f.json.as_slice() {
        assert!(accepted, "the unmutated payload is accepted");
    }
    accepted
}

/// Printable and special characters for JSON text edits.
const JSON_CHARS: &[u8] = b"{}[]\":,.-+eE0123456789 \t\n\\/tfnulaxzAZ_@#";

const UNICODE: &[&str] = &[
    "é",
    "e\u{301}",
    "😀",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "\u{10ffff}",
    "\u{fffd}",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "ß",
    "İ",
    "٩",
    "字",
    "\u{1f1f5}\u{1f1ed}",
];

/// Escapes and raw bytes that only make sense inside JSON text.
const RAW_SNIPPETS: &[&[u8]] = &[
    b"\\u0000",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\\u00e9",
    b"\\\"",
    b"\\\\",
    b"\\x41",
    b"\\",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\"",
    b"\",\"",
    b"\":\"",
    b"null",
    b"1e999",
    b"-0",
    b"NaN",
    b"Infinity",
];

/// Text-level edits of the entitlement JSON.
fn mutate_json_text(rng: &mut Rng, json: &[u8]) -> (Vec<u8>, &'static str) {
    let mut out = json.to_vec();
    let rounds = if rng.chance(3) { rng.below(3) + 2 } else { 1 };
    let mut kind = "";
    for _ in 0..rounds {
        if out.is_empty() {
            out.push(b'{');
        }
        kind = match rng.below(11) {
            0 => {
                let at = rng.below(out.len());
                out[at] = *rng.pick(JSON_CHARS);
                "json char replaced"
            }
            1 => {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
                "json bit flip"
            }
            2 => {
                let at = rng.below(out.len() + 1);
                out.insert(at, *rng.pick(JSON_CHARS));
                "json char inserted"
            }
            3 => {
                let at = rng.below(out.len());
                let n = (rng.below(6) + 1).min(out.len() - at);
                out.drain(at..at + n);
                "json bytes deleted"
            }
            4 => {
                out.truncate(rng.below(out.len()));
                "json truncated"
            }
            5 => {
                // Change one digit: usually still a valid entitlement, so this is what
                // exercises acceptance of re-signed payloads.
                let digits: Vec<usize> = (0..out.len())
                    .filter(|&i| out[i].is_ascii_digit())
                    .collect();
                if digits.is_empty() {
                    out.push(b'0');
                } else {
                    let at = *rng.pick(&digits);
                    out[at] = b'0' + rng.below(10) as u8;
                }
                "json digit changed"
            }
            6 => {
                // Change one letter inside a string: a field name, enum value, or text.
                let letters: Vec<usize> = (0..out.len())
                    .filter(|&i| out[i].is_ascii_alphabetic())
                    .collect();
                if letters.is_empty() {
                    out.push(b'a');
                } else {
                    let at = *rng.pick(&letters);
                    out[at] = *rng.pick(b"abcdefghijklmnopqrstuvwxyzAZ");
                }
                "json letter changed"
            }
            7 => {
                let at = rng.below(out.len() + 1);
                let snippet: Vec<u8> = if rng.chance(2) {
                    rng.pick(UNICODE).as_bytes().to_vec()
                } else {
                    rng.pick(RAW_SNIPPETS).to_vec()
                };
                out.splice(at..at, snippet);
                "json unicode/escape inserted"
            }
            8 => {
                // Whitespace between tokens: a different but equivalent document.
                let seps: Vec<usize> = (0..out.len())
                    .filter(|&i| matches!(out[i], b',' | b':' | b'{' | b'['))
                    .collect();
                let at = if seps.is_empty() {
                    0
                } else {
                    *rng.pick(&seps) + 1
                };
                let ws = *rng.pick(&[&b" "[..], b"\n", b"\t", b"\r\n  ", b"\x0c", b"\xc2\xa0"]);
                out.splice(at..at, ws.iter().copied());
                "json whitespace inserted"
            }
            9 => {
                let a = rng.below(out.len());
                let n = rng.below(40).min(out.len() - a);
                let slice = out[a..a + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, slice);
                "json slice duplicated"
            }
            _ => {
                let junk = *rng.pick(&[&b"x"[..], b"{}", b",", b"\0", b" ", b"}", b"\xef\xbb\xbf"]);
                if rng.chance(2) {
                    out.extend_from_slice(junk);
                } else {
                    out.splice(0..0, junk.iter().copied());
                }
                "json prefix/suffix"
            }
        };
    }
    if rounds > 1 {
        kind = "json several edits";
    }
    (out, kind)
}

#[test]
fn resigned_json_text_mutations_reach_the_field_layer() {
    let seed = seed();
    let f = Fixture::new();
    let mut tally = Tally::new();
    let mut rng = Rng::new(seed, 6);
    for i in 0..RESIGNED_TEXT {
        let (payload, kind) = mutate_json_text(&mut rng, &f.json);
        let rules = f.rules(i);
        let accepted = guarded(kind, i, seed, &payload, || {
            check_resigned(&f, &payload, &rules)
        });
        tally.add(kind, accepted);
    }

    // The protected header mutated and re-signed: only alg/typ/kid as §2 allows pass.
    let header = format!(
        r#"{{"alg":"Ed25519","typ":"{}","kid":"{LENDER_KID}"}}"#,
        jws::typ::ENTITLEMENT
    );
    let mut rng = Rng::new(seed, 7);
    for i in 0..RESIGNED_HEADER {
        let (h, _) = mutate_json_text(&mut rng, header.as_bytes());
        let compact = f.sign_with_header(&h, &f.json);
        let rules = f.rules(i);
        let accepted = guarded("header", i, seed, &h, || check(&compact, &rules).is_ok());
        if accepted {
            let parsed: Value = serde_json::from_slice(&h).expect("accepted header is JSON");
            let alg = parsed["alg"].as_str();
            assert!(matches!(alg, Some("Ed25519" | "EdDSA")), "{parsed}");
            assert_eq!(parsed.as_object().map(|o| o.len()), Some(3), "{parsed}");
        }
        tally.add("header mutated, re-signed", accepted);
    }
    tally.report("re-signed text mutations", seed);
    assert!(tally.total() - tally.count("header mutated, re-signed") >= RESIGNED_TEXT);
}

/// The JSON pointers of every node below the root.
fn pointers(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        _ => {}
    }
}

/// Raw JSON tokens spliced in as text (serde_json's `Value` cannot hold most of them).
fn raw_token(rng: &mut Rng) -> String {
    const TOKENS: &[&str] = &[
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "-1",
        "-0",
        "0",
        "1.0",
        "1.5",
        "1e3",
        "1E+2",
        "1e400",
        "-1e400",
        "1e-400",
        "0.0000000000000000000001",
        "253402300800",
        "-62135596801",
        "4294967296",
        "256",
        "24",
        "true",
        "null",
        "\"\"",
        "\"1\"",
        "[]",
        "{}",
        "[null]",
        "{\"v\":1}",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udfff\\ud800\"",
        "\"\\ud83d\\ude00\"",
    ];
    match rng.below(5) {
        0 => {
            // Deep nesting, within and beyond serde_json's recursion limit (128).
            let depth = rng.below(300) + 1;
            let (open, close) = if rng.chance(2) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let mut s = open.repeat(depth);
            s.push('1');
            s.push_str(&close.repeat(depth));
            s
        }
        1 => {
            // A very long integer or decimal.
            let digits = rng.below(2000) + 1;
            let mut s = if rng.chance(2) {
                "-".to_string()
            } else {
                String::new()
            };
            s.push('1');
            for _ in 0..digits {
                s.push(char::from(b'0' + rng.below(10) as u8));
            }
            if rng.chance(3) {
                s.push_str(".5");
            }
            s
        }
        _ => rng.pick(TOKENS).to_string(),
    }
}

/// An interesting string value: unicode, boundary lengths, near-miss formats.
fn interesting_string(rng: &mut Rng, current: &str) -> String {
    const STRINGS: &[&str] = &[
        "",
        " ",
        "acme-credit",
        "ACME-CREDIT",
        "acme credit",
        "dev-0001",
        "dev-0002",
        "dev-0001\u{0}",
        "active",
        "locked",
        "released",
        "Active",
        "overdue_payment",
        "lender_request",
        "offline",
        "paid",
        "due",
        "overdue",
        "PHP",
        "php",
        "PH",
        "PHPP",
        "00:00",
        "23:59",
        "24:00",
        "23:60",
        "9:00",
        "09:0",
        "٠٩:٠٠",
        "https://pay.acme-credit.example/p",
        "http://pay.acme-credit.example/p",
        "http://127.0.0.1/p",
        "https://",
        "https://a b",
        "javascript:alert(1)",
        "https://user@host/",
        "+639171234567",
        "+63917",
        "0917 123 4567",
        "help@acme-credit.example",
        "@",
        "a@b",
        "CQkJCQkJCQkJCQkJCQkJCQ",
        "CQkJCQkJCQkJCQkJCQkJCA",
        "CQkJCQkJCQkJCQkJCQkJCQ=",
        "en",
        "fil",
        "en-US",
        "zh-Hant-TW",
        "x",
    ];
    match rng.below(6) {
        0 => {
            // Insert unicode into the current value.
            let mut s = current.to_string();
            let boundaries: Vec<usize> = (0..=s.len()).filter(|&i| s.is_char_boundary(i)).collect();
            let at = *rng.pick(&boundaries);
            s.insert_str(at, rng.pick::<&str>(UNICODE));
            s
        }
        1 => {
            // Long: around and far beyond the length limits.
            let unit = if rng.chance(2) {
                "a"
            } else {
                *rng.pick(UNICODE)
            };
            let n = *rng.pick(&[
                79, 80, 81, 199, 200, 201, 254, 255, 349, 350, 351, 2048, 2049, 5000,
            ]);
            unit.repeat(n)
        }
        2 => {
            // Truncate the current value at a char boundary.
            let boundaries: Vec<usize> = (0..=current.len())
                .filter(|&i| current.is_char_boundary(i))
                .collect();
            current[..*rng.pick(&boundaries)].to_string()
        }
        3 => current.to_uppercase(),
        _ => rng.pick(STRINGS).to_string(),
    }
}

fn interesting_number(rng: &mut Rng, current: &Value) -> Value {
    let base = current.as_i64().unwrap_or(0);
    match rng.below(6) {
        0 => Value::from(base.wrapping_add(1)),
        1 => Value::from(base.wrapping_sub(1)),
        2 => Value::from(base.wrapping_neg()),
        3 => Value::from(base.wrapping_mul(1 << rng.below(20))),
        4 => Value::from(*rng.pick(&[
            0i64,
            1,
            -1,
            23,
            24,
            3_599,
            3_600,
            86_399,
            86_400,
            7_776_000,
            7_776_001,
            31_622_400,
            31_622_401,
            (1 << 53) - 1,
            1 << 53,
            i64::MAX,
            i64::MIN,
        ])),
        _ => Value::from(u64::MAX - rng.below(3) as u64),
    }
}

/// Tree-level edits of the entitlement; the result may still carry placeholders.
fn mutate_tree(rng: &mut Rng, v: &mut Value, splices: &mut Vec<(String, String)>) -> &'static str {
    let mut all = Vec::new();
    pointers(v, "", &mut all);
    let target = rng.pick(&all).clone();
    let (parent_ptr, key) = target.rsplit_once('/').expect("below the root");
    let key = key.replace("~1", "/").replace("~0", "~");
    let marker = format!("@@FUZZ{}@@", splices.len());
    match rng.below(10) {
        0 | 1 => {
            splices.push((format!("\"{marker}\""), raw_token(rng)));
            *v.pointer_mut(&target).expect("exists") = Value::String(marker);
            "tree raw token (huge/deep/odd)"
        }
        2 | 3 => {
            let node = v.pointer_mut(&target).expect("exists");
            if let Value::String(s) = node {
                *s = interesting_string(rng, s);
                "tree string changed"
            } else if node.is_number() {
                *node = interesting_number(rng, node);
                "tree number changed"
            } else {
                *node = Value::Null;
                "tree node nulled"
            }
        }
        4 => {
            // Type confusion: another node's value here.
            let other = rng.pick(&all).clone();
            let value = v.pointer(&other).expect("exists").clone();
            *v.pointer_mut(&target).expect("exists") = value;
            "tree node replaced by another"
        }
        5 => {
            match v.pointer_mut(parent_ptr).expect("exists") {
                Value::Object(map) => {
                    map.remove(&key);
                }
                Value::Array(items) => {
                    let i: usize = key.parse().expect("index");
                    items.remove(i);
                }
                _ => unreachable!("a parent is a container"),
            }
            "tree member removed"
        }
        6 => {
            match v.pointer_mut(parent_ptr).expect("exists") {
                Value::Object(map) => {
                    if rng.chance(2) {
                        // Duplicate a member: spliced as text, since a map cannot hold it.
                        let dup = format!("@@DUP{}@@", splices.len());
                        let value = if rng.chance(2) {
                            map[&key].clone()
                        } else {
                            Value::from(rng.pick(&["x", "1"]).to_string())
                        };
                        splices.push((format!("\"{dup}\""), Value::from(key).to_string()));
                        map.insert(dup, value);
                        "tree duplicate member"
                    } else {
                        let name = rng
                            .pick(&["zzz", "extra", "V", "ISS", "alg", "__proto__", "é", ""])
                            .to_string();
                        map.insert(name, Value::from(rng.below(3)));
                        "tree unknown member"
                    }
                }
                Value::Array(items) => {
                    let i: usize = key.parse().expect("index");
                    let item = items[i].clone();
                    let copies = if rng.chance(4) { rng.below(130) } else { 1 };
                    for _ in 0..copies {
                        items.push(item.clone());
                    }
                    "tree array element duplicated"
                }
                _ => unreachable!("a parent is a container"),
            }
        }
        7 => {
            // Rename a member: a near-miss of a required or optional field name.
            if let Value::Object(map) = v.pointer_mut(parent_ptr).expect("exists")
                && let Some(value) = map.remove(&key)
            {
                let renamed = match rng.below(3) {
                    0 => key.to_uppercase(),
                    1 => format!("{key}_"),
                    _ => key.chars().rev().collect(),
                };
                map.insert(renamed, value);
                "tree member renamed"
            } else {
                *v.pointer_mut(&target).expect("exists") = Value::Array(vec![]);
                "tree node emptied"
            }
        }
        8 => {
            // Wrap in a container.
            let node = v.pointer_mut(&target).expect("exists");
            let inner = node.take();
            *node = if rng.chance(2) {
                Value::Array(vec![inner])
            } else {
                serde_json::json!({ "value": inner })
            };
            "tree node wrapped"
        }
        _ => {
            let node = v.pointer_mut(&target).expect("exists");
            *node = match rng.below(4) {
                0 => Value::Bool(rng.chance(2)),
                1 => Value::Array(vec![]),
                2 => Value::Object(serde_json::Map::new()),
                _ => Value::from(1.5),
            };
            "tree wrong type"
        }
    }
}

#[test]
fn resigned_json_tree_mutations_reach_the_field_layer() {
    let seed = seed();
    let f = Fixture::new();
    let base: Value = serde_json::from_slice(&f.json).expect("fixture is JSON");
    let mut tally = Tally::new();
    let mut rng = Rng::new(seed, 8);
    for i in 0..RESIGNED_TREE {
        let mut v = base.clone();
        let mut splices = Vec::new();
        let rounds = if rng.chance(4) { rng.below(3) + 2 } else { 1 };
        let mut kind = "";
        for _ in 0..rounds {
            kind = mutate_tree(&mut rng, &mut v, &mut splices);
        }
        if rounds > 1 {
            kind = "tree several edits";
        }
        let mut text = serde_json::to_string(&v).expect("serializes");
        for (marker, raw) in &splices {
            text = text.replace(marker, raw);
        }
        let payload = text.into_bytes();
        let rules = f.rules(i);
        let accepted = guarded(kind, i, seed, &payload, || {
            check_resigned(&f, &payload, &rules)
        });
        tally.add(kind, accepted);
    }
    tally.report("re-signed tree mutations", seed);
    assert_eq!(tally.total(), RESIGNED_TREE);
}
