//! Payments in (`finlock_server::payments_in`): the Standard Webhooks header check and
//! signature verification, and the two body decoders (the generic `payment.received`
//! body and M-Pesa's C2B confirmation), over arbitrary input.
//!
//! Input: a flags byte, then NUL-separated parts (`finlock_fuzz::split`).
//! - flags & 3 == 0: the parts are `webhook-id`, `webhook-timestamp`, `webhook-signature`
//!   and the body (a missing part is a missing header). With flags & 4 the signature is
//!   replaced by the real one over the (fuzzed) id, timestamp and body, so what is judged
//!   is the headers' rules, not a 2^-256 guess. Then the body is decoded as the generic one.
//! - flags & 3 == 1: part 0 is a generic body; 2 (and 3): an M-Pesa confirmation.
//!
//! Invariants: no panic; without the real signature nothing verifies; a verified message
//! has a visible-ASCII id of at most 255 bytes and a timestamp within 5 minutes; with it,
//! any change to the body fails; a decoded notice obeys every rule (`Notice::checked`
//! accepts it again) and, written back in the format it came from, decodes to the same
//! notice.
#![no_main]

use finlock_server::payments_in::notice::Notice;
use finlock_server::payments_in::signature::{self, Headers, Refusal, Secret, TOLERANCE_S};
use finlock_server::payments_in::{mpesa, standard_body};
use libfuzzer_sys::fuzz_target;

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn text(part: Option<&&[u8]>) -> Option<String> {
    part.map(|p| String::from_utf8_lossy(p).into_owned())
}

fn check_notice(n: &Notice) {
    assert_eq!(n.clone().checked().as_ref().ok(), Some(n), "{n:?}");
}

/// The generic body: decoded, written back, decoded again the same.
fn generic(body: &[u8]) {
    let Ok(n) = standard_body::decode(body) else {
        return;
    };
    check_notice(&n);
    let paid_at = jiff::Timestamp::from_second(n.paid_at).unwrap().to_string();
    let again = serde_json::json!({ "type": "payment.received",
        "data": { "transaction_id": n.transaction_id, "account_reference": n.account_ref,
                  "amount_minor": n.amount_minor, "currency": n.currency, "paid_at": paid_at } });
    let reread = standard_body::decode(again.to_string().as_bytes()).unwrap();
    assert_eq!(reread, n);
}

/// An M-Pesa confirmation: decoded, written back, decoded again the same.
fn mpesa_body(body: &[u8]) {
    let Ok(n) = mpesa::decode(body) else {
        return;
    };
    check_notice(&n);
    assert_eq!(n.currency, "KES");
    let eat = jiff::tz::TimeZone::fixed(jiff::tz::offset(3));
    let time = jiff::Timestamp::from_second(n.paid_at)
        .unwrap()
        .to_zoned(eat)
        .strftime("%Y%m%d%H%M%S")
        .to_string();
    let amount = format!("{}.{:02}", n.amount_minor / 100, n.amount_minor % 100);
    let again = serde_json::json!({ "TransID": n.transaction_id, "TransTime": time,
        "TransAmount": amount, "BillRefNumber": n.account_ref });
    let reread = mpesa::decode(again.to_string().as_bytes()).unwrap();
    assert_eq!(reread, n);
}

fn headers(flags: u8, parts: &[&[u8]]) {
    let secret = Secret::parse(SECRET).unwrap();
    let id = text(parts.first());
    let ts = text(parts.get(1));
    let mut sig = text(parts.get(2));
    let body = parts.get(3).copied().unwrap_or(b"");
    let ts_value = ts.as_deref().and_then(|t| t.parse::<i64>().ok());
    let resigned = flags & 4 != 0;
    if resigned && let (Some(id), Some(at)) = (&id, ts_value) {
        sig = Some(signature::sign(&secret, id, at, body));
    }
    let given = Headers {
        id: id.as_deref(),
        timestamp: ts.as_deref(),
        signature: sig.as_deref(),
    };
    let verified = signature::verify(given, body, std::slice::from_ref(&secret), NOW);
    match &verified {
        Ok(v) => {
            // Only a signature made with the secret passes (the seeds carry some).
            let real = signature::sign(&secret, v.id, v.timestamp, body);
            let entries = sig.as_deref().unwrap_or("");
            assert!(
                entries.split(' ').any(|e| e == real)
                    || ts.as_deref() != Some(&v.timestamp.to_string()),
                "verified without the real signature: {given:?}"
            );
            assert!(!v.id.is_empty() && v.id.len() <= 255);
            assert!(v.id.bytes().all(|b| b.is_ascii_graphic()));
            assert!(v.timestamp.abs_diff(NOW) <= TOLERANCE_S as u64);
            // Any change to the body fails.
            let mut changed = body.to_vec();
            match changed.first_mut() {
                Some(b) => *b ^= 1,
                None => changed.push(b'x'),
            }
            assert_eq!(
                signature::verify(given, &changed, std::slice::from_ref(&secret), NOW),
                Err(Refusal::NoMatch)
            );
            // And another lender's secret verifies nothing.
            let other = Secret::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
            assert!(signature::verify(given, body, &[other], NOW).is_err());
        }
        Err(Refusal::MissingHeader(_)) => {
            assert!(id.is_none() || ts.is_none() || sig.is_none());
        }
        Err(_) => {}
    }
    generic(body);
}

fuzz_target!(|data: &[u8]| {
    let (flags, parts) = finlock_fuzz::split(data);
    match flags & 3 {
        0 => headers(flags, &parts),
        1 => generic(parts.first().copied().unwrap_or(b"")),
        _ => mpesa_body(parts.first().copied().unwrap_or(b"")),
    }
});
