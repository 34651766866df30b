//! The public rules a server applies on its own (display text, the reminder policy, a
//! plan's terms, the IMEI): one test per rejection rule, named after it.

use proptest::prelude::*;

use super::*;
use crate::fixtures::{self, DAY, T0};

/// Asserts that `result` is an `InvalidField` error naming `field`.
fn names(field: &str, result: Result<()>) {
    match result {
        Err(Error::InvalidField { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: expected InvalidField, got {other:?}"),
    }
}

// ---- the display-text rule ---------------------------------------------------------------

#[test]
fn display_text_is_at_least_one_character() {
    names("reason", check_display_text("reason", "", 350));
    check_display_text("reason", "x", 350).unwrap();
}

#[test]
fn display_text_is_at_most_max_chars_counted_in_characters() {
    names(
        "reason",
        check_display_text("reason", &"x".repeat(351), 350),
    );
    check_display_text("reason", &"x".repeat(350), 350).unwrap();
    // 350 characters of a multi-byte script fit: the bound is not in bytes.
    check_display_text("reason", &"ท".repeat(350), 350).unwrap();
    names(
        "reason",
        check_display_text("reason", &"ท".repeat(351), 350),
    );
}

#[test]
fn display_text_allows_line_breaks_but_no_other_control_character() {
    check_display_text("reason", "overdue\nsince March", 350).unwrap();
    for bad in [
        "a\rb",
        "a\tb",
        "a\u{0}b",
        "a\u{1b}[2Jb",
        "a\u{7f}b",
        "a\u{85}b",
    ] {
        names("reason", check_display_text("reason", bad, 350));
    }
}

#[test]
fn display_text_has_no_bidirectional_override_or_isolate() {
    for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
        names(
            "reason",
            check_display_text("reason", &format!("Acme {c}tiderC"), 350),
        );
    }
    // Right-to-left text itself is fine; only the invisible overrides are not.
    check_display_text("reason", "شركة أكمي للائتمان", 350).unwrap();
}

#[test]
fn display_text_is_the_rule_of_signed_messages() {
    let mut e = fixtures::entitlement(5, T0);
    let text = "Acme \u{2067}tiderC";
    e.message = Some(BTreeMap::from([("en".to_string(), text.to_string())]));
    names("message.en", e.validate(UrlPolicy::STRICT));
    names(
        "message.en",
        check_display_text("message.en", text, MAX_MESSAGE_CHARS),
    );
}

// ---- the reminder policy -----------------------------------------------------------------

fn policy() -> ReminderPolicy {
    fixtures::entitlement(5, T0).reminders
}

fn policy_names(field: &str, mutate: impl FnOnce(&mut ReminderPolicy)) {
    let mut p = policy();
    mutate(&mut p);
    names(field, p.validate());
}

#[test]
fn reminder_policy_of_the_fixture_is_valid() {
    policy().validate().unwrap();
}

#[test]
fn reminder_policy_has_at_most_32_offsets() {
    policy_names("reminders.offsets_s", |p| p.offsets_s = vec![DAY; 33]);
    let mut p = policy();
    p.offsets_s = vec![DAY; 32];
    p.validate().unwrap();
}

#[test]
fn reminder_offsets_reach_at_most_366_days_either_way() {
    policy_names("reminders.offsets_s[1]", |p| {
        p.offsets_s = vec![DAY, 367 * DAY]
    });
    policy_names("reminders.offsets_s[0]", |p| p.offsets_s = vec![-367 * DAY]);
    let mut p = policy();
    p.offsets_s = vec![366 * DAY, -366 * DAY, 0];
    p.validate().unwrap();
}

#[test]
fn reminder_hour_is_0_to_23() {
    policy_names("reminders.hour_local", |p| p.hour_local = 24);
    let mut p = policy();
    p.hour_local = 23;
    p.validate().unwrap();
}

#[test]
fn reminder_quiet_hours_are_hh_mm() {
    for bad in ["24:00", "9:00", "09:60", "0900", "09:00 ", ""] {
        policy_names("reminders.quiet_start", |p| p.quiet_start = bad.into());
        policy_names("reminders.quiet_end", |p| p.quiet_end = bad.into());
    }
}

#[test]
fn reminder_overdue_repeat_is_off_or_an_hour_to_90_days() {
    policy_names("reminders.overdue_every_s", |p| p.overdue_every_s = 3_599);
    policy_names("reminders.overdue_every_s", |p| {
        p.overdue_every_s = 90 * DAY as u64 + 1
    });
    for good in [0, 3_600, 90 * DAY as u64] {
        let mut p = policy();
        p.overdue_every_s = good;
        p.validate().unwrap();
    }
}

// ---- a plan's terms ----------------------------------------------------------------------

fn terms_names(field: &str, mutate: impl FnOnce(&mut Entitlement)) {
    let mut e = fixtures::entitlement(5, T0);
    mutate(&mut e);
    names(field, e.terms().validate());
    // The entitlement names the same field: its terms are checked by the same function.
    names(field, e.validate(UrlPolicy::STRICT));
}

#[test]
fn plan_terms_of_the_fixture_are_valid() {
    fixtures::entitlement(5, T0).terms().validate().unwrap();
}

#[test]
fn plan_terms_need_no_envelope() {
    // What a server has before any device exists: no ids, no seq, no time of issue.
    let e = fixtures::entitlement(5, T0);
    let terms = PlanTerms {
        account: &e.account,
        reminders: &e.reminders,
        lock_at: e.lock_at,
        offline_lock_after_s: None,
        offline_warning_s: None,
    };
    terms.validate().unwrap();
}

#[test]
fn plan_lock_at_is_a_time_in_0_to_2_pow_53() {
    terms_names("lock_at", |e| e.lock_at = -1);
    terms_names("lock_at", |e| e.lock_at = MAX_SAFE as i64);
}

#[test]
fn plan_offline_lock_is_at_least_a_day() {
    terms_names("offline_lock_after_s", |e| {
        e.offline_lock_after_s = Some(DAY as u64 - 1);
        e.offline_warning_s = None;
    });
    terms_names("offline_lock_after_s", |e| {
        e.offline_lock_after_s = Some(MAX_SAFE)
    });
}

#[test]
fn plan_offline_warning_needs_an_offline_lock_and_is_shorter() {
    terms_names("offline_warning_s", |e| e.offline_lock_after_s = None);
    terms_names("offline_warning_s", |e| {
        e.offline_warning_s = e.offline_lock_after_s
    });
    terms_names("offline_warning_s", |e| {
        e.offline_warning_s = Some(MAX_SAFE)
    });
}

#[test]
fn plan_currency_is_three_upper_case_letters() {
    terms_names("account.currency", |e| e.account.currency = "kes".into());
}

#[test]
fn plan_amount_due_is_below_2_pow_53() {
    terms_names("account.amount_due_minor", |e| {
        e.account.amount_due_minor = MAX_SAFE
    });
}

#[test]
fn plan_next_due_is_a_time() {
    terms_names("account.next_due", |e| e.account.next_due = Some(-1));
}

#[test]
fn plan_has_at_most_120_installments() {
    terms_names("account.installments", |e| {
        let one = e.account.installments[0].clone();
        e.account.installments = vec![one; 121];
    });
}

#[test]
fn plan_installment_due_dates_are_times() {
    terms_names("account.installments[2].due", |e| {
        e.account.installments[2].due = MAX_SAFE as i64
    });
}

#[test]
fn plan_installment_amounts_are_below_2_pow_53() {
    terms_names("account.installments[0].amount_minor", |e| {
        e.account.installments[0].amount_minor = MAX_SAFE
    });
}

#[test]
fn plan_reminder_policy_follows_its_rules() {
    terms_names("reminders.hour_local", |e| e.reminders.hour_local = 24);
}

// ---- the IMEI ----------------------------------------------------------------------------

#[test]
fn imei_is_14_to_16_digits() {
    for bad in ["", "1234567890123", "12345678901234567"] {
        names("imei", Imei::parse(bad).map(|_| ()));
    }
    for good in ["12345678901234", "490154203237518", "3520990017614823"] {
        assert_eq!(Imei::parse(good).unwrap().digits(), good);
    }
}

#[test]
fn imei_ignores_spaces_and_dashes() {
    for typed in [
        "49-015420-323751-8",
        "49 015420 323751 8",
        " 490154203237518 ",
        "4-9-0-1-5-4-2-0-3-2-3-7-5-1-8",
    ] {
        assert_eq!(Imei::parse(typed).unwrap().digits(), "490154203237518");
    }
    // Separators do not count as digits.
    names("imei", Imei::parse("1234567890123 -").map(|_| ()));
}

#[test]
fn imei_refuses_any_other_character() {
    for bad in [
        "49015420323751A",
        "49.015420.323751.8",
        "49_015420_323751_8",
        "490154203237518\n",
        "49\t0154203237518",
        "+490154203237518",
        // Full-width digits are digits to Unicode, not to an IMEI.
        "４９０１５４２０３２３７５１８",
    ] {
        names("imei", Imei::parse(bad).map(|_| ()));
    }
}

#[test]
fn imei_hash_is_the_section_1_hash_of_the_canonical_digits() {
    let plain = Imei::parse("490154203237518").unwrap();
    assert_eq!(plain.sha256(), imei_sha256("490154203237518"));
    assert_eq!(
        Imei::parse("49-015420-323751-8").unwrap().sha256(),
        plain.sha256()
    );
}

#[test]
fn imei_debug_does_not_print_the_digits() {
    let imei = Imei::parse("490154203237518").unwrap();
    assert!(!format!("{imei:?}").contains("490154"));
}

/// 14–16 digits with spaces and dashes sprinkled anywhere.
fn typed_imei() -> impl Strategy<Value = (String, String)> {
    (
        proptest::collection::vec(0u8..10, 14..=16),
        proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just(" - ")], 17),
    )
        .prop_map(|(digits, seps)| {
            let canonical: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let mut typed = String::from(seps[0]);
            for (c, sep) in canonical.chars().zip(&seps[1..]) {
                typed.push(c);
                typed.push_str(sep);
            }
            (canonical, typed)
        })
}

proptest! {
    #[test]
    fn imei_canonical_form_is_idempotent(text in "[0-9 -]{0,24}") {
        if let Ok(imei) = Imei::parse(&text) {
            prop_assert_eq!(Imei::parse(imei.digits()).unwrap(), imei.clone());
            prop_assert!(imei.digits().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn imei_separators_are_ignored((canonical, typed) in typed_imei()) {
        let imei = Imei::parse(&typed).unwrap();
        prop_assert_eq!(imei.digits(), canonical.as_str());
        prop_assert_eq!(imei.sha256(), imei_sha256(&canonical));
    }

    #[test]
    fn imei_any_other_character_is_refused(
        (_, typed) in typed_imei(),
        at in any::<prop::sample::Index>(),
        c in any::<char>().prop_filter("not a digit or a separator", |c| {
            !c.is_ascii_digit() && !matches!(c, ' ' | '-')
        }),
    ) {
        let mut chars: Vec<char> = typed.chars().collect();
        let i = at.index(chars.len() + 1);
        chars.insert(i, c);
        let text: String = chars.into_iter().collect();
        prop_assert!(Imei::parse(&text).is_err(), "{:?} accepted", text);
    }
}
