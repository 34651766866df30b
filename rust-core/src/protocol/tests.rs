use super::*;
use crate::fixtures;

fn valid() -> Entitlement {
    fixtures::entitlement(5, fixtures::T0)
}

/// Asserts that `mutate` makes an otherwise valid entitlement fail on `field`.
fn rejects(field: &str, mutate: impl FnOnce(&mut Entitlement)) {
    let mut e = valid();
    mutate(&mut e);
    match e.validate(UrlPolicy::STRICT) {
        Err(Error::InvalidField { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: expected InvalidField, got {other:?}"),
    }
}

#[test]
fn the_fixture_is_valid() {
    valid().validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn version_must_be_1() {
    let mut e = valid();
    e.v = 2;
    assert!(matches!(
        e.validate(UrlPolicy::STRICT),
        Err(Error::UnsupportedVersion { found: 2 })
    ));
}

#[test]
fn ids_are_1_to_64_safe_characters() {
    rejects("iss", |e| e.iss = String::new());
    rejects("iss", |e| e.iss = "a".repeat(65));
    rejects("sub", |e| e.sub = "dev 1".into());
    rejects("sub", |e| e.sub = "dév".into());
    let mut e = valid();
    e.sub = "A-z_09".repeat(10);
    e.sub.truncate(64);
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn times_are_in_0_to_2_pow_53() {
    rejects("iat", |e| e.iat = -1);
    rejects("lock_at", |e| e.lock_at = 1 << 53);
    rejects("next_checkin", |e| e.next_checkin = i64::MAX);
    rejects("account.next_due", |e| e.account.next_due = Some(-5));
    rejects("account.installments[3].due", |e| {
        e.account.installments[3].due = -1
    });
    let mut e = valid();
    e.lock_at = (1 << 53) - 1;
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn seq_and_amounts_are_below_2_pow_53() {
    rejects("seq", |e| e.seq = 1 << 53);
    rejects("account.amount_due_minor", |e| {
        e.account.amount_due_minor = u64::MAX
    });
    rejects("account.installments[0].amount_minor", |e| {
        e.account.installments[0].amount_minor = 1 << 53
    });
}

#[test]
fn nonce_is_16_bytes_of_canonical_base64url() {
    rejects("nonce", |e| e.nonce = Some(b64::encode([0u8; 15])));
    rejects("nonce", |e| {
        e.nonce = Some(format!("{}=", b64::encode([0u8; 16])))
    });
    let mut e = valid();
    e.nonce = Some(b64::encode([7u8; 16]));
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn offline_lock_is_at_least_a_day_and_warning_is_shorter() {
    rejects("offline_lock_after_s", |e| {
        e.offline_lock_after_s = Some(3600)
    });
    rejects("offline_warning_s", |e| {
        e.offline_warning_s = e.offline_lock_after_s
    });
    rejects("offline_warning_s", |e| e.offline_lock_after_s = None);
    let mut e = valid();
    e.offline_lock_after_s = None;
    e.offline_warning_s = None;
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn currency_is_three_upper_case_letters() {
    for bad in ["php", "PH", "PHPX", "P1P", ""] {
        rejects("account.currency", |e| e.account.currency = bad.into());
    }
}

#[test]
fn at_most_120_installments() {
    rejects("account.installments", |e| {
        let one = e.account.installments[0].clone();
        e.account.installments = vec![one; 121];
    });
    let mut e = valid();
    let one = e.account.installments[0].clone();
    e.account.installments = vec![one; 120];
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn reminder_policy_rules() {
    rejects("reminders.offsets_s", |e| {
        e.reminders.offsets_s = vec![60; 33]
    });
    rejects("reminders.offsets_s[1]", |e| {
        e.reminders.offsets_s = vec![60, 400 * 86_400]
    });
    rejects("reminders.hour_local", |e| e.reminders.hour_local = 24);
    for bad in ["24:00", "9:00", "09:60", "0900", "09:00 ", "ab:cd"] {
        rejects("reminders.quiet_start", |e| {
            e.reminders.quiet_start = bad.into()
        });
        rejects("reminders.quiet_end", |e| {
            e.reminders.quiet_end = bad.into()
        });
    }
    rejects("reminders.overdue_every_s", |e| {
        e.reminders.overdue_every_s = 59
    });
    rejects("reminders.overdue_every_s", |e| {
        e.reminders.overdue_every_s = 91 * 86_400
    });
    let mut e = valid();
    e.reminders.overdue_every_s = 0;
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn lender_name_is_1_to_80_characters_without_controls() {
    rejects("lender.name", |e| e.lender.name = String::new());
    rejects("lender.name", |e| e.lender.name = "x".repeat(81));
    rejects("lender.name", |e| e.lender.name = "Acme\nCredit".into());
    rejects("lender.name", |e| {
        e.lender.name = "Acme \u{202E}tiderC".into()
    });
    let mut e = valid();
    // 80 characters of a multi-byte script fit: the bound is in characters.
    e.lender.name = "क".repeat(80);
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn phone_is_plus_and_6_to_15_digits_no_mmi_codes() {
    for bad in [
        "09171234567",
        "+12345",
        "+1234567890123456",
        "*#06#",
        "+63*917#",
        "+63 917 123 4567",
        "++639171234567",
        "+６３９１７１２３４５６７",
        "tel:+639171234567",
    ] {
        rejects("lender.phone", |e| e.lender.phone = bad.into());
    }
    for good in ["+123456", "+123456789012345"] {
        assert!(is_valid_phone(good), "{good}");
    }
}

#[test]
fn email_is_bounded_and_plausible() {
    rejects("lender.email", |e| {
        e.lender.email = Some("no-at-sign".into())
    });
    rejects("lender.email", |e| e.lender.email = Some("a@b".into()));
    rejects("lender.email", |e| {
        e.lender.email = Some("a b@c.example".into())
    });
    rejects("lender.email", |e| {
        e.lender.email = Some(format!("{}@x.example", "a".repeat(250)))
    });
}

#[test]
fn urls_must_be_https() {
    for bad in [
        "http://pay.example/p",
        "ftp://pay.example",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://bank.example@evil.example/",
        "https://pay example/",
        "https://pay.example/\u{0}",
        "https://päy.example/",
        "https://-bad.example/",
        "https://pay.example:0/",
        "https://pay.example:99999/",
        "https://1.2.3/",
        "https://[::1/",
        "//pay.example",
    ] {
        rejects("lender.payment_url", |e| e.lender.payment_url = bad.into());
    }
    rejects("lender.support_url", |e| {
        e.lender.support_url = Some("http://x.example".into())
    });
    rejects("lender.terms_url", |e| {
        e.lender.terms_url = Some("https://".into())
    });
    rejects("lender.payment_url", |e| {
        e.lender.payment_url = format!("https://x.example/{}", "a".repeat(2048))
    });
    for good in [
        "https://pay.example",
        "HTTPS://pay.example/p?x=1#f",
        "https://pay.example:8443/a%20b",
        "https://203.0.113.7/pay",
        "https://[2001:db8::1]:443/",
        "https://xn--py-via.example/",
    ] {
        let mut e = valid();
        e.lender.payment_url = good.into();
        e.validate(UrlPolicy::STRICT)
            .unwrap_or_else(|err| panic!("{good}: {err}"));
    }
}

#[test]
fn plain_http_only_to_loopback_and_only_when_allowed() {
    for local in [
        "http://127.0.0.1:8080/pay",
        "http://127.9.9.9/",
        "http://localhost:3000/",
        "http://[::1]:8080/",
        "http://10.0.2.2:8080/pay",
    ] {
        assert!(is_acceptable_url(local, UrlPolicy::DEBUG), "{local}");
        assert!(!is_acceptable_url(local, UrlPolicy::STRICT), "{local}");
    }
    for remote in [
        "http://10.0.2.3/",
        "http://192.168.1.1/",
        "http://localhost.evil.example/",
    ] {
        assert!(!is_acceptable_url(remote, UrlPolicy::DEBUG), "{remote}");
    }
}

#[test]
fn localized_texts_are_bounded() {
    rejects("message", |e| {
        e.message = Some(
            (0..9)
                .map(|i| (format!("l{i}x"), "hi".to_string()))
                .collect(),
        )
    });
    rejects("message", |e| {
        e.message = Some(BTreeMap::from([(
            "not a tag".to_string(),
            "hi".to_string(),
        )]))
    });
    rejects("message.en", |e| {
        e.message = Some(BTreeMap::from([("en".to_string(), "x".repeat(351))]))
    });
    rejects("message.en", |e| {
        e.message = Some(BTreeMap::from([("en".to_string(), String::new())]))
    });
    rejects("lender.payment_instructions.sw", |e| {
        e.lender.payment_instructions = Some(BTreeMap::from([("sw".to_string(), "x".repeat(201))]))
    });
    let mut e = valid();
    e.message = Some(BTreeMap::from([
        ("en".to_string(), "line one\nline two".to_string()),
        ("pt-BR".to_string(), "ã".repeat(350)),
    ]));
    e.validate(UrlPolicy::STRICT).unwrap();
}

#[test]
fn locale_tags() {
    for good in ["en", "fil", "pt-BR", "zh-Hant-TW", "es-419", "sw-KE"] {
        assert!(is_valid_locale_tag(good), "{good}");
    }
    for bad in ["", "e", "english", "en_US", "en-", "-en", "en--US", "e1"] {
        assert!(!is_valid_locale_tag(bad), "{bad}");
    }
}

#[test]
fn message_locale_fallback() {
    let e = valid();
    assert_eq!(
        e.message_for("fil-PH"),
        Some("Salamat sa pagbabayad sa tamang oras.")
    );
    assert_eq!(
        e.message_for("en_US"),
        Some("Thank you for paying on time.")
    );
    assert_eq!(e.message_for("sw"), Some("Thank you for paying on time."));
    let mut e = valid();
    e.message = Some(BTreeMap::from([("fil".to_string(), "x".to_string())]));
    assert_eq!(e.message_for("sw"), None);
}

#[test]
fn decode_payload_reports_unsupported_version_before_shape() {
    let e = decode_payload::<Entitlement>(br#"{"v":2,"whatever":true}"#).unwrap_err();
    assert!(matches!(e, Error::UnsupportedVersion { found: 2 }));
    let e = decode_payload::<Entitlement>(br#"{"iss":"x"}"#).unwrap_err();
    assert!(matches!(e, Error::PayloadMalformed { .. }));
}

#[test]
fn decode_payload_names_the_failing_path() {
    let mut json = serde_json::to_value(valid()).unwrap();
    json["account"]["installments"][4]["status"] = "late".into();
    let e = decode_payload::<Entitlement>(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    match e {
        Error::PayloadMalformed { detail } => {
            assert!(
                detail.starts_with("account.installments[4].status"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn decode_payload_rejects_floats_and_strings_for_integers() {
    for (field, value) in [
        ("seq", serde_json::json!(1.5)),
        ("lock_at", serde_json::json!("5")),
        ("iat", serde_json::json!(1e3)),
    ] {
        let mut json = serde_json::to_value(valid()).unwrap();
        json[field] = value;
        let e = decode_payload::<Entitlement>(&serde_json::to_vec(&json).unwrap()).unwrap_err();
        assert!(
            matches!(e, Error::PayloadMalformed { .. }),
            "{field}: {e:?}"
        );
    }
}

#[test]
fn decode_payload_ignores_unknown_fields_but_not_duplicates() {
    let mut json = serde_json::to_value(valid()).unwrap();
    json["future_field"] = serde_json::json!({"a": [1, 2]});
    let bytes = serde_json::to_vec(&json).unwrap();
    assert_eq!(decode_payload::<Entitlement>(&bytes).unwrap(), valid());
    let text = String::from_utf8(bytes).unwrap();
    let dup = text.replacen("{\"account\"", "{\"seq\":99,\"account\"", 1);
    assert!(matches!(
        decode_payload::<Entitlement>(dup.as_bytes()),
        Err(Error::DuplicateKey { .. })
    ));
}

#[test]
fn hardware_hashes_are_domain_separated() {
    let imei = imei_sha256("490154203237518");
    assert_eq!(imei.len(), 64);
    assert_ne!(imei, serial_sha256("490154203237518"));
    assert_eq!(imei, imei_sha256("490154203237518"));
    // SHA-256("finlock-imei:490154203237518"), computed independently.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"finlock-imei:490154203237518");
    let expected: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(imei, expected);
}

fn enroll_request() -> EnrollRequest {
    EnrollRequest {
        v: 1,
        enrollment_code: Some("ABCD-1234".into()),
        device_key: fixtures::device_key().public().to_jwk(),
        nonce: b64::encode([1u8; 16]),
        imei_sha256: None,
        serial_sha256: None,
        model: "Pixel 3a".into(),
        android_sdk: 34,
        app_version: "0.1.0".into(),
        keys_seq: 0,
        attestation: None,
        push_endpoint: None,
    }
}

#[test]
fn enroll_request_rules() {
    enroll_request().validate().unwrap();
    let mut r = enroll_request();
    r.enrollment_code = None;
    assert!(r.validate().is_err(), "needs a code or a hash");
    r.imei_sha256 = Some(imei_sha256("490154203237518"));
    r.validate().unwrap();
    r.imei_sha256 = Some("ABC".into());
    assert!(r.validate().is_err());
    let mut r = enroll_request();
    r.device_key.crv = "P-256".into();
    assert!(r.validate().is_err());
    let mut r = enroll_request();
    r.enrollment_code = Some("a b".into());
    assert!(r.validate().is_err());
    let mut r = enroll_request();
    r.app_version = String::new();
    assert!(r.validate().is_err());
}

#[test]
fn checkin_request_rules_and_unknown_events() {
    let json = serde_json::json!({
        "v": 1, "device_id": "dev-1", "nonce": b64::encode([2u8; 16]), "seq_seen": 4,
        "state": "active", "locked": false, "app_version": "0.1.0", "wall_clock": 1, "uptime_ms": 5,
        "events": [
            {"type": "offline_code_used", "counter": 0, "days": 3, "at": 100},
            {"type": "clock_jump", "delta_s": -3600},
            {"type": "from_the_future", "x": 1}
        ]
    });
    let r: CheckinRequest = decode_payload(&serde_json::to_vec(&json).unwrap()).unwrap();
    r.validate().unwrap();
    assert_eq!(
        r.events,
        vec![
            Event::OfflineCodeUsed {
                counter: 0,
                days: 3,
                at: 100
            },
            Event::ClockJump { delta_s: -3600 },
            Event::Unknown
        ]
    );
    let mut bad = r.clone();
    bad.events = vec![Event::ClockJump { delta_s: 1 }; 65];
    assert!(bad.validate().is_err());
    let mut bad = r;
    bad.device_id = "x".repeat(65);
    assert!(bad.validate().is_err());
}

#[test]
fn hhmm_parses_minutes() {
    assert_eq!(parse_hhmm("00:00"), Some(0));
    assert_eq!(parse_hhmm("21:30"), Some(21 * 60 + 30));
    assert_eq!(parse_hhmm("23:59"), Some(1439));
    assert_eq!(parse_hhmm("+1:00"), None);
}
