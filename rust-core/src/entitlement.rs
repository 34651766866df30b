//! Entitlement acceptance (PROTOCOL §3.3): the only door through which anything
//! that can lock, unlock or release a device gets in.
//!
//! [`accept`] is pure: it returns the decoded entitlement or the first rule it
//! broke, and stores nothing. The caller writes the result only on success, which
//! is how "a rejected message changes nothing that was stored" holds.
//!
//! Order of checks: released (terminal, cheapest) → signature and envelope (§2) →
//! payload decoding → field rules → `iss` → `sub` → `seq` → `nonce`.

use crate::error::{Error, Result};
use crate::jws;
use crate::keys::KeySet;
use crate::protocol::{self, Entitlement, EntitlementState, UrlPolicy};

/// What the device already knows, against which a new entitlement is judged.
#[derive(Debug, Clone, Copy)]
pub struct AcceptRules<'a> {
    /// The lender keys pinned at provisioning.
    pub pinned: &'a KeySet,
    /// The bound lender id; `None` only while enrolling (the first entitlement binds it).
    pub lender_id: Option<&'a str>,
    /// This device's id.
    pub device_id: &'a str,
    /// `seq` of the stored entitlement; `None` before the first one.
    pub stored_seq: Option<u64>,
    /// The stored entitlement's state.
    pub stored_state: Option<EntitlementState>,
    /// The nonce of the outstanding request this entitlement answers.
    pub expected_nonce: Option<&'a str>,
    pub urls: UrlPolicy,
}

/// Verifies and judges a compact entitlement JWS; stores nothing.
pub fn accept(compact: &str, rules: &AcceptRules) -> Result<Entitlement> {
    if rules.stored_state == Some(EntitlementState::Released) {
        return Err(Error::AlreadyReleased);
    }
    let verified = jws::verify(compact, jws::typ::ENTITLEMENT, rules.pinned)?;
    let e: Entitlement = protocol::decode_payload(&verified.payload)?;
    e.validate(rules.urls)?;
    if rules.lender_id.is_some_and(|iss| iss != e.iss) {
        return Err(Error::WrongIssuer);
    }
    if e.sub != rules.device_id {
        return Err(Error::WrongSubject);
    }
    if let Some(stored) = rules.stored_seq
        && e.seq <= stored
    {
        return Err(Error::StaleSeq {
            stored,
            received: e.seq,
        });
    }
    if let Some(expected) = rules.expected_nonce
        && e.nonce.as_deref() != Some(expected)
    {
        return Err(Error::NonceMismatch);
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;
    use crate::fixtures::{self, DEVICE_ID, LENDER_ID, T0};

    fn nonce() -> String {
        b64::encode([9u8; 16])
    }

    fn rules(pinned: &KeySet) -> AcceptRules<'_> {
        AcceptRules {
            pinned,
            lender_id: Some(LENDER_ID),
            device_id: DEVICE_ID,
            stored_seq: Some(4),
            stored_state: Some(EntitlementState::Active),
            expected_nonce: None,
            urls: UrlPolicy::STRICT,
        }
    }

    fn next() -> Entitlement {
        fixtures::entitlement(5, T0)
    }

    #[test]
    fn accepts_a_valid_newer_entitlement() {
        let pinned = fixtures::pinned_keys();
        assert_eq!(
            accept(&fixtures::sign(&next()), &rules(&pinned)).unwrap(),
            next()
        );
    }

    #[test]
    fn rejects_a_foreign_signature() {
        let pinned = fixtures::pinned_keys();
        let jws = next().sign(&fixtures::impostor_key()).unwrap();
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::JwsBadSignature)
        ));
        let jws = next().sign(&fixtures::other_lender_key()).unwrap();
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::JwsUnknownKid)
        ));
    }

    #[test]
    fn rejects_another_typ() {
        let pinned = fixtures::pinned_keys();
        let payload = serde_json::to_vec(&next()).unwrap();
        let jws = fixtures::lender_key().sign_compact(jws::typ::CHECKIN, &payload);
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::JwsWrongTyp { .. })
        ));
    }

    #[test]
    fn rejects_another_issuer() {
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.iss = "other-lender".into();
        assert!(matches!(
            accept(&fixtures::sign(&e), &rules(&pinned)),
            Err(Error::WrongIssuer)
        ));
    }

    #[test]
    fn first_entitlement_binds_any_issuer_signed_by_a_pinned_key() {
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.iss = "whoever".into();
        let r = AcceptRules {
            lender_id: None,
            stored_seq: None,
            stored_state: None,
            ..rules(&pinned)
        };
        assert_eq!(accept(&fixtures::sign(&e), &r).unwrap().iss, "whoever");
    }

    #[test]
    fn rejects_another_subject() {
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.sub = "dev-0002".into();
        assert!(matches!(
            accept(&fixtures::sign(&e), &rules(&pinned)),
            Err(Error::WrongSubject)
        ));
    }

    #[test]
    fn rejects_equal_or_older_seq() {
        let pinned = fixtures::pinned_keys();
        for seq in [0, 3, 4] {
            let e = fixtures::entitlement(seq, T0);
            match accept(&fixtures::sign(&e), &rules(&pinned)) {
                Err(Error::StaleSeq {
                    stored: 4,
                    received,
                }) => assert_eq!(received, seq),
                other => panic!("{seq}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_missing_or_wrong_nonce_when_answering_a_request() {
        let pinned = fixtures::pinned_keys();
        let expected = nonce();
        let r = AcceptRules {
            expected_nonce: Some(&expected),
            ..rules(&pinned)
        };
        assert!(matches!(
            accept(&fixtures::sign(&next()), &r),
            Err(Error::NonceMismatch)
        ));
        let mut e = next();
        e.nonce = Some(b64::encode([8u8; 16]));
        assert!(matches!(
            accept(&fixtures::sign(&e), &r),
            Err(Error::NonceMismatch)
        ));
        e.nonce = Some(expected.clone());
        accept(&fixtures::sign(&e), &r).unwrap();
    }

    #[test]
    fn rejects_everything_once_released() {
        let pinned = fixtures::pinned_keys();
        let r = AcceptRules {
            stored_state: Some(EntitlementState::Released),
            ..rules(&pinned)
        };
        assert!(matches!(
            accept(&fixtures::sign(&next()), &r),
            Err(Error::AlreadyReleased)
        ));
    }

    #[test]
    fn accepts_a_completing_entitlement_and_a_void_after_it() {
        // Paid in full: released at release_at unless a payment is voided (ADR 0012).
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.release_at = Some(T0 + 2 * 86_400);
        let got = accept(&fixtures::sign(&e), &rules(&pinned)).unwrap();
        assert_eq!(got.completing_until(), Some(T0 + 2 * 86_400));
        // A void: the next entitlement no longer carries it, and is accepted.
        let mut void = fixtures::entitlement(6, T0 + 3_600);
        void.release_at = None;
        let r = AcceptRules {
            stored_seq: Some(5),
            ..rules(&pinned)
        };
        assert_eq!(
            accept(&fixtures::sign(&void), &r)
                .unwrap()
                .completing_until(),
            None
        );
    }

    #[test]
    fn an_entitlement_without_release_at_keeps_verifying() {
        // Signed by a server that predates ADR 0012: the member is simply absent.
        let pinned = fixtures::pinned_keys();
        let json = serde_json::to_value(next()).unwrap();
        assert!(json.get("release_at").is_none());
        let jws = fixtures::lender_key()
            .sign_compact(jws::typ::ENTITLEMENT, &serde_json::to_vec(&json).unwrap());
        assert_eq!(accept(&jws, &rules(&pinned)).unwrap().release_at, None);
    }

    #[test]
    fn rejects_a_release_at_out_of_range_or_beside_released() {
        let pinned = fixtures::pinned_keys();
        for bad in [-1, 1 << 53] {
            let mut e = next();
            e.release_at = Some(bad);
            match accept(&fixtures::sign(&e), &rules(&pinned)) {
                Err(Error::InvalidField { field, .. }) => assert_eq!(field, "release_at"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        let mut e = next();
        e.state = EntitlementState::Released;
        e.release_at = Some(T0);
        assert!(matches!(
            accept(&fixtures::sign(&e), &rules(&pinned)),
            Err(Error::InvalidField { .. })
        ));
        // Not an integer: the shape is wrong.
        let mut json = serde_json::to_value(next()).unwrap();
        json["release_at"] = "1767225600".into();
        let jws = fixtures::lender_key()
            .sign_compact(jws::typ::ENTITLEMENT, &serde_json::to_vec(&json).unwrap());
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::PayloadMalformed { .. })
        ));
    }

    #[test]
    fn rejects_field_rule_violations() {
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.lender.payment_url = "http://pay.example".into();
        assert!(matches!(
            accept(&fixtures::sign(&e), &rules(&pinned)),
            Err(Error::InvalidField { .. })
        ));
    }

    #[test]
    fn debug_url_policy_admits_loopback_http() {
        let pinned = fixtures::pinned_keys();
        let mut e = next();
        e.lender.payment_url = "http://10.0.2.2:8080/pay".into();
        let jws = fixtures::sign(&e);
        assert!(accept(&jws, &rules(&pinned)).is_err());
        let r = AcceptRules {
            urls: UrlPolicy::DEBUG,
            ..rules(&pinned)
        };
        accept(&jws, &r).unwrap();
    }

    #[test]
    fn rejects_unsupported_version_and_malformed_payloads() {
        let pinned = fixtures::pinned_keys();
        let key = fixtures::lender_key();
        let mut json = serde_json::to_value(next()).unwrap();
        json["v"] = 2.into();
        let jws = key.sign_compact(jws::typ::ENTITLEMENT, &serde_json::to_vec(&json).unwrap());
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::UnsupportedVersion { found: 2 })
        ));
        let jws = key.sign_compact(jws::typ::ENTITLEMENT, b"[1,2]");
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::PayloadNotObject)
        ));
        json["v"] = 1.into();
        json.as_object_mut().unwrap().remove("lender");
        let jws = key.sign_compact(jws::typ::ENTITLEMENT, &serde_json::to_vec(&json).unwrap());
        assert!(matches!(
            accept(&jws, &rules(&pinned)),
            Err(Error::PayloadMalformed { .. })
        ));
    }
}
