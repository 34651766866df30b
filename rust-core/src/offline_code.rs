//! Offline unlock codes (PROTOCOL §6): a challenge–response for customers without data.
//!
//! A customer whose phone cannot reach the lender still has to be able to pay and get
//! unlocked. The phone shows an 8-digit challenge; the customer reads it to the lender
//! (phone call, agent, SMS from another phone); the lender's console answers with an
//! 8-digit response that grants 1, 2, 3, 7, 14 or 30 days. Both sides share only the
//! enrollment's `offline_secret`, so nothing needs to travel over the network.
//!
//! This module decides:
//! - which challenge to show ([`OfflineCodeState::challenge`]) and, on the lender's
//!   side, which counter a challenge belongs to ([`find_counter`]);
//! - whether a typed code is accepted ([`OfflineCodeState::enter`]), and then how far the
//!   offline extension reaches;
//! - when entry is refused ([`OfflineCodeState::lockout`]). An 8-digit code has 10⁸
//!   values and six of them are valid per counter, so unlimited guessing would succeed
//!   after ~1.7·10⁷ tries; at most 5 wrong entries per rolling 24 h and 20 between two
//!   check-ins keep the chance of a guessed code negligible while a customer who
//!   mistypes a few times is not stuck.
//!
//! A code is used once because the counter moves on when it is accepted: the next
//! challenge, and every response the lender can compute for it, are different.
//!
//! Everything here is pure: no I/O and no clock reads. `now` is always trusted Unix
//! seconds supplied by the caller (see the trusted-time rules of §4), because the
//! device's own clock is something the customer controls. Arithmetic on `now`, on
//! the counter and on persisted values never panics: a tampered or corrupt state must
//! not crash the lock screen.

use ring::hmac;

use crate::error::{Error, Result};

/// The number of days a response may grant (§6).
pub const ALLOWED_DAYS: [u16; 6] = [1, 2, 3, 7, 14, 30];
/// Wrong entries allowed in any rolling 24 h of trusted time.
pub const MAX_WRONG_PER_DAY: usize = 5;
/// Wrong entries allowed in total between two successful check-ins.
pub const MAX_WRONG_BETWEEN_CHECKINS: u32 = 20;
/// How far ahead of its last known counter the lender searches for a challenge, so a
/// device whose accepted codes the lender has not heard of yet is still found.
pub const LOOKAHEAD: u64 = 32;
/// One day in seconds.
pub const DAY_S: i64 = 86_400;

/// Domain-separation prefix of challenges, so no challenge can ever be replayed as a
/// response (they are MACs over messages that differ in their first bytes).
const CHAL_LABEL: &[u8] = b"finlock-chal";
/// Domain-separation prefix of responses.
const RESP_LABEL: &[u8] = b"finlock-resp";
/// 10⁸: codes are 8 decimal digits.
const MODULUS: u32 = 100_000_000;

/// RFC 4226 dynamic truncation of an HMAC output (any length >= 20), reduced to 8 digits.
///
/// The offset comes from the low nibble of the last byte and selects 4 bytes whose top
/// bit is cleared, as RFC 4226 §5.3 and RFC 6238 (for SHA-256) do. An input shorter than
/// 20 bytes is not an HMAC output; rather than panic, bytes beyond its end read as zero.
pub fn trunc8(mac: &[u8]) -> u32 {
    let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
    let byte = |i: usize| u32::from(mac.get(offset + i).copied().unwrap_or(0));
    let bin = ((byte(0) & 0x7f) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    bin % MODULUS
}

/// trunc8(HMAC-SHA-256(key, msg)).
pub fn hmac_trunc8(key: &[u8], msg: &[u8]) -> u32 {
    mac_trunc8(&hmac::Key::new(hmac::HMAC_SHA256, key), msg)
}

/// C = trunc8(HMAC(secret, "finlock-chal" || be64(counter))).
pub fn challenge(secret: &[u8], counter: u64) -> u32 {
    challenge_with(&key(secret), counter)
}

/// R = trunc8(HMAC(secret, "finlock-resp" || be64(counter) || be16(days))).
///
/// `Err(OfflineCodeBadDays)` unless `days` is in [`ALLOWED_DAYS`], so the lender's
/// console cannot mint a code the device would never accept.
pub fn response(secret: &[u8], counter: u64, days: u16) -> Result<u32> {
    if !ALLOWED_DAYS.contains(&days) {
        return Err(Error::OfflineCodeBadDays { days });
    }
    Ok(response_with(&key(secret), counter, days))
}

/// Formats a code as exactly 8 digits with leading zeros.
///
/// Values of 10⁸ and more are not codes; they are reduced modulo 10⁸ so the result is
/// still 8 digits (every code this module produces is already below 10⁸).
pub fn format_code(code: u32) -> String {
    format!("{:08}", code % MODULUS)
}

/// Parses what a user typed: ASCII spaces and '-' are ignored, then exactly 8 ASCII
/// digits, else `Err(OfflineCodeMalformed)`.
///
/// Only ASCII digits count: other scripts' digits (e.g. Arabic-Indic '١') are refused
/// rather than mapped, so what the device checks is exactly what the lender read out.
pub fn parse_code(input: &str) -> Result<u32> {
    let mut value: u32 = 0;
    let mut digits = 0usize;
    for c in input.chars() {
        match c {
            ' ' | '-' => {}
            '0'..='9' => {
                digits += 1;
                if digits > 8 {
                    return Err(Error::OfflineCodeMalformed);
                }
                // At most 8 digits, so this stays below 10⁸ and cannot overflow.
                value = value * 10 + (u32::from(c) - u32::from('0'));
            }
            _ => return Err(Error::OfflineCodeMalformed),
        }
    }
    if digits == 8 {
        Ok(value)
    } else {
        Err(Error::OfflineCodeMalformed)
    }
}

/// Lender side: the counter in `[last_known, last_known + LOOKAHEAD)` whose challenge
/// equals `challenge`, lowest first; `None` when none does.
///
/// The lowest match wins because the device's counter only moves forward from the last
/// counter the lender knows; a higher match would be a chance collision. Counters past
/// `u64::MAX` do not exist, so the window is cut there instead of wrapping.
pub fn find_counter(secret: &[u8], challenge: u32, last_known: u64) -> Option<u64> {
    let key = key(secret);
    (0..LOOKAHEAD)
        .map_while(|i| last_known.checked_add(i))
        .find(|&counter| challenge_with(&key, counter) == challenge)
}

fn key(secret: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret)
}

fn mac_trunc8(key: &hmac::Key, msg: &[u8]) -> u32 {
    trunc8(hmac::sign(key, msg).as_ref())
}

fn challenge_with(key: &hmac::Key, counter: u64) -> u32 {
    let mut msg = [0u8; CHAL_LABEL.len() + 8];
    msg[..CHAL_LABEL.len()].copy_from_slice(CHAL_LABEL);
    msg[CHAL_LABEL.len()..].copy_from_slice(&counter.to_be_bytes());
    mac_trunc8(key, &msg)
}

fn response_with(key: &hmac::Key, counter: u64, days: u16) -> u32 {
    let mut msg = [0u8; RESP_LABEL.len() + 8 + 2];
    let (label, rest) = msg.split_at_mut(RESP_LABEL.len());
    label.copy_from_slice(RESP_LABEL);
    let (ctr, d) = rest.split_at_mut(8);
    ctr.copy_from_slice(&counter.to_be_bytes());
    d.copy_from_slice(&days.to_be_bytes());
    mac_trunc8(key, &msg)
}

/// Whether a wrong entry recorded at `wrong` still counts at `now`.
///
/// An entry counts while `now - wrong < DAY_S`. Trusted time only goes backwards when an
/// accepted entitlement re-anchors it (§4); an entry that then lies after `now` is counted
/// (the difference is negative) rather than forgiven, so moving the clock can never buy
/// extra guesses. The price is that such an entry keeps counting until `now` reaches
/// `wrong + DAY_S`.
fn in_window(wrong: i64, now: i64) -> bool {
    now.saturating_sub(wrong) < DAY_S
}

/// The persisted offline-code part of the device state.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct OfflineCodeState {
    /// The counter of the challenge currently shown; 0 at enrollment.
    pub counter: u64,
    /// Trusted times of counted wrong entries still inside the rolling 24 h window
    /// (pruned when a new wrong entry is recorded).
    pub wrong_at: Vec<i64>,
    /// Wrong entries since the last successful check-in.
    pub wrong_since_checkin: u32,
    /// `offline_code_extension_until` of §5 (trusted Unix seconds); 0 = none.
    pub extension_until: i64,
}

/// What an accepted code did (the caller turns it into an `offline_code_used` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedCode {
    /// The counter the code was issued for (the state has moved on to `counter + 1`).
    pub counter: u64,
    /// The days the code granted.
    pub days: u16,
    /// The trusted time at which it was entered.
    pub at: i64,
    /// The extension after this code, which may be later than `at + days` if an
    /// earlier, longer code still runs.
    pub extension_until: i64,
}

impl OfflineCodeState {
    /// The challenge to show for the current counter.
    pub fn challenge(&self, secret: &[u8]) -> u32 {
        challenge(secret, self.counter)
    }

    /// How many more wrong entries are allowed right now:
    /// `min(5 - wrong in (now-24h, now], 20 - wrong_since_checkin)`, never negative.
    ///
    /// It is 0 exactly when [`Self::lockout`] refuses entry, which includes the
    /// (unreachable in practice) exhausted counter `u64::MAX`.
    pub fn tries_left(&self, now: i64) -> u32 {
        if self.counter_exhausted() {
            return 0;
        }
        let day_left = MAX_WRONG_PER_DAY.saturating_sub(self.wrong_in_window(now));
        let day_left = u32::try_from(day_left).unwrap_or(u32::MAX);
        let total_left = MAX_WRONG_BETWEEN_CHECKINS.saturating_sub(self.wrong_since_checkin);
        day_left.min(total_left)
    }

    /// `Some(lockout)` when entry is refused now.
    ///
    /// - `OfflineCodeLockedOut { until: None }` when the 20-since-check-in budget is
    ///   spent: only a check-in lifts it, so it takes precedence over a 24 h lockout
    ///   that would end sooner. The same is returned for a counter at `u64::MAX`: no
    ///   code could be accepted there, because the counter could not move on and the
    ///   code would become reusable.
    /// - `OfflineCodeLockedOut { until: Some(t) }` when the 24 h window is full, `t`
    ///   being the trusted time at which the window has room again (for the 5 entries
    ///   that [`Self::enter`] can record, the moment the oldest one leaves it).
    pub fn lockout(&self, now: i64) -> Option<Error> {
        if self.wrong_since_checkin >= MAX_WRONG_BETWEEN_CHECKINS || self.counter_exhausted() {
            return Some(Error::OfflineCodeLockedOut { until: None });
        }
        let mut counted: Vec<i64> = self
            .wrong_at
            .iter()
            .copied()
            .filter(|&w| in_window(w, now))
            .collect();
        if counted.len() < MAX_WRONG_PER_DAY {
            return None;
        }
        // Room opens once all but MAX_WRONG_PER_DAY - 1 counted entries have left, i.e.
        // when the (len - MAX + 1)-th oldest leaves. A stored state can only hold more
        // than MAX if it was written by something other than `enter`.
        counted.sort_unstable();
        let pivot = counted[counted.len() - MAX_WRONG_PER_DAY];
        Some(Error::OfflineCodeLockedOut {
            until: Some(pivot.saturating_add(DAY_S)),
        })
    }

    /// Enter a code at trusted time `now`.
    ///
    ///  1. malformed input -> `Err(OfflineCodeMalformed)`, self unchanged (a typo in
    ///     the format is not a guess);
    ///  2. locked out -> `Err(OfflineCodeLockedOut{..})`, self unchanged (refused
    ///     entries do not count, §6);
    ///  3. if the code equals `response(secret, counter, d)` for some `d` in
    ///     [`ALLOWED_DAYS`] -> `counter += 1`,
    ///     `extension_until = max(extension_until, now + d * DAY_S)`, `Ok(AcceptedCode)`;
    ///  4. else the wrong entry is recorded and `Err(OfflineCodeWrong { tries_left })`
    ///     carries the tries left after this one.
    ///
    /// All six responses are computed and compared before deciding, so the time taken
    /// does not tell which `days` matched. Should two `days` share a code for the same
    /// counter (probability ~1.5·10⁻⁷), the smaller grant wins: the device never grants
    /// more than some code the lender could have issued.
    pub fn enter(&mut self, secret: &[u8], input: &str, now: i64) -> Result<AcceptedCode> {
        let code = parse_code(input)?;
        if let Some(refused) = self.lockout(now) {
            log::debug!("offline code entry refused: locked out");
            return Err(refused);
        }

        let key = key(secret);
        let mut matched: Option<u16> = None;
        for d in ALLOWED_DAYS {
            let hit = response_with(&key, self.counter, d) == code;
            // ALLOWED_DAYS is ascending, so keeping the first hit keeps the smallest.
            matched = matched.or(hit.then_some(d));
        }

        match matched {
            // `lockout` refused `u64::MAX`, so `checked_add` cannot fail here; should it
            // anyway, the code is treated as not accepted rather than reused.
            Some(days) => match self.counter.checked_add(1) {
                Some(next) => {
                    let used = self.counter;
                    self.counter = next;
                    let granted_until = now.saturating_add(i64::from(days) * DAY_S);
                    self.extension_until = self.extension_until.max(granted_until);
                    log::debug!("offline code accepted: {days} days");
                    Ok(AcceptedCode {
                        counter: used,
                        days,
                        at: now,
                        extension_until: self.extension_until,
                    })
                }
                None => Err(Error::OfflineCodeLockedOut { until: None }),
            },
            None => {
                self.wrong_at.retain(|&w| in_window(w, now));
                self.wrong_at.push(now);
                self.wrong_since_checkin = self.wrong_since_checkin.saturating_add(1);
                let tries_left = self.tries_left(now);
                log::debug!("offline code wrong: {tries_left} tries left");
                Err(Error::OfflineCodeWrong { tries_left })
            }
        }
    }

    /// A successful check-in resets the between-check-ins budget (not the 24 h window:
    /// a check-in proves the device is in contact, not that the guesses were honest).
    pub fn on_checkin_success(&mut self) {
        self.wrong_since_checkin = 0;
    }

    fn wrong_in_window(&self, now: i64) -> usize {
        self.wrong_at.iter().filter(|&&w| in_window(w, now)).count()
    }

    fn counter_exhausted(&self) -> bool {
        self.counter == u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"offline secret for the unit tests, 32+ bytes";
    const T0: i64 = 1_750_000_000;

    fn code_for(state: &OfflineCodeState, days: u16) -> String {
        format_code(response(SECRET, state.counter, days).unwrap())
    }

    /// An 8-digit code that is no valid response for the state's counter.
    fn wrong_code(state: &OfflineCodeState) -> String {
        let valid: Vec<u32> = ALLOWED_DAYS
            .iter()
            .map(|&d| response(SECRET, state.counter, d).unwrap())
            .collect();
        let code = (0..MODULUS).find(|c| !valid.contains(c)).unwrap();
        format_code(code)
    }

    fn enter_wrong(state: &mut OfflineCodeState, now: i64) -> Result<AcceptedCode> {
        let code = wrong_code(state);
        state.enter(SECRET, &code, now)
    }

    fn until_of(e: Option<Error>) -> Option<Option<i64>> {
        match e {
            Some(Error::OfflineCodeLockedOut { until }) => Some(until),
            Some(other) => panic!("unexpected error {other:?}"),
            None => None,
        }
    }

    #[test]
    fn trunc8_matches_all_rfc6238_sha256_vectors() {
        // RFC 6238 Appendix B, SHA-256 column; the seed is the 32-byte ASCII string.
        let seed = b"12345678901234567890123456789012";
        let vectors: [(u64, u32); 6] = [
            (59, 46_119_246),
            (1_111_111_109, 68_084_774),
            (1_111_111_111, 67_062_674),
            (1_234_567_890, 91_819_424),
            (2_000_000_000, 90_698_825),
            (20_000_000_000, 77_737_706),
        ];
        for (time, expected) in vectors {
            let t = time / 30;
            assert_eq!(hmac_trunc8(seed, &t.to_be_bytes()), expected, "time {time}");
        }
    }

    #[test]
    fn trunc8_on_20_byte_macs_matches_rfc4226_vectors() {
        // RFC 4226 Appendix D (HMAC-SHA-1, the shortest MAC trunc8 must handle):
        // the 31-bit values reduced to 8 digits.
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"12345678901234567890");
        let expected: [u32; 10] = [
            84_755_224, 94_287_082, 37_359_152, 26_969_429, 40_338_314, 68_254_676, 18_287_922,
            82_162_583, 73_399_871, 45_520_489,
        ];
        for (count, want) in expected.into_iter().enumerate() {
            let mac = hmac::sign(&key, &(count as u64).to_be_bytes());
            assert_eq!(mac.as_ref().len(), 20);
            assert_eq!(trunc8(mac.as_ref()), want, "count {count}");
        }
    }

    #[test]
    fn trunc8_never_panics_on_short_input_and_stays_below_10_pow_8() {
        assert_eq!(trunc8(&[]), 0);
        assert_eq!(trunc8(&[0x0f]), 0);
        assert!(trunc8(&[0xff; 32]) < MODULUS);
        // Offset 15 with 18 bytes: the fourth byte is past the end and reads as zero.
        let mut short = [0u8; 18];
        short[15] = 0x01;
        short[17] = 0x0f;
        assert_eq!(trunc8(&short), 0x0100_0f00 % MODULUS);
    }

    #[test]
    fn challenge_and_response_are_domain_separated() {
        for counter in 0..64u64 {
            let c = challenge(SECRET, counter);
            for d in ALLOWED_DAYS {
                assert_ne!(
                    c,
                    response(SECRET, counter, d).unwrap(),
                    "counter {counter} days {d}"
                );
            }
            // The challenge is not just the bare truncated MAC of the counter.
            assert_ne!(c, hmac_trunc8(SECRET, &counter.to_be_bytes()));
        }
        // The exact message layout of §6.
        let mut msg = b"finlock-chal".to_vec();
        msg.extend_from_slice(&7u64.to_be_bytes());
        assert_eq!(challenge(SECRET, 7), hmac_trunc8(SECRET, &msg));
        let mut msg = b"finlock-resp".to_vec();
        msg.extend_from_slice(&7u64.to_be_bytes());
        msg.extend_from_slice(&14u16.to_be_bytes());
        assert_eq!(response(SECRET, 7, 14).unwrap(), hmac_trunc8(SECRET, &msg));
    }

    #[test]
    fn response_rejects_days_not_allowed() {
        for days in [0u16, 4, 5, 6, 8, 15, 29, 31, 365, 65535] {
            assert!(matches!(
                response(SECRET, 0, days),
                Err(Error::OfflineCodeBadDays { days: d }) if d == days
            ));
        }
        for days in ALLOWED_DAYS {
            assert!(response(SECRET, 0, days).is_ok());
        }
    }

    #[test]
    fn every_allowed_day_is_accepted_and_grants_exactly_that_many_days() {
        for days in ALLOWED_DAYS {
            let mut state = OfflineCodeState::default();
            let code = code_for(&state, days);
            let accepted = state.enter(SECRET, &code, T0).unwrap();
            assert_eq!(
                accepted,
                AcceptedCode {
                    counter: 0,
                    days,
                    at: T0,
                    extension_until: T0 + i64::from(days) * DAY_S,
                }
            );
            assert_eq!(state.extension_until, T0 + i64::from(days) * DAY_S);
        }
    }

    #[test]
    fn code_is_used_once() {
        let mut state = OfflineCodeState::default();
        let code = code_for(&state, 7);
        state.enter(SECRET, &code, T0).unwrap();
        let before = state.clone();
        let again = state.enter(SECRET, &code, T0 + 10);
        assert!(matches!(
            again,
            Err(Error::OfflineCodeWrong { tries_left: 4 })
        ));
        assert_eq!(state.counter, before.counter);
        assert_eq!(state.extension_until, before.extension_until);
        assert_eq!(state.wrong_since_checkin, 1);
    }

    #[test]
    fn accepted_code_increments_counter_and_changes_challenge() {
        let mut state = OfflineCodeState::default();
        let first = state.challenge(SECRET);
        for expected in 1..=3u64 {
            let code = code_for(&state, 1);
            let accepted = state.enter(SECRET, &code, T0).unwrap();
            assert_eq!(accepted.counter, expected - 1);
            assert_eq!(state.counter, expected);
        }
        assert_eq!(state.challenge(SECRET), challenge(SECRET, 3));
        assert_ne!(state.challenge(SECRET), first);
    }

    #[test]
    fn extension_takes_the_max() {
        let mut state = OfflineCodeState::default();
        let code = code_for(&state, 30);
        state.enter(SECRET, &code, T0).unwrap();
        let code = code_for(&state, 1);
        let accepted = state.enter(SECRET, &code, T0 + DAY_S).unwrap();
        assert_eq!(accepted.days, 1);
        assert_eq!(accepted.extension_until, T0 + 30 * DAY_S);
        assert_eq!(state.extension_until, T0 + 30 * DAY_S);
        // A later code that reaches further does extend.
        let code = code_for(&state, 2);
        state.enter(SECRET, &code, T0 + 29 * DAY_S).unwrap();
        assert_eq!(state.extension_until, T0 + 31 * DAY_S);
    }

    #[test]
    fn parse_code_accepts_8_ascii_digits_with_spaces_and_dashes() {
        assert_eq!(parse_code("00000042").unwrap(), 42);
        assert_eq!(parse_code("12345678").unwrap(), 12_345_678);
        assert_eq!(parse_code("1234 5678").unwrap(), 12_345_678);
        assert_eq!(parse_code("1234-5678").unwrap(), 12_345_678);
        assert_eq!(parse_code(" 12-34 56-78 ").unwrap(), 12_345_678);
        assert_eq!(parse_code("--0 0 0 0 0 0 0 7--").unwrap(), 7);
        assert_eq!(parse_code("99999999").unwrap(), 99_999_999);
    }

    #[test]
    fn parse_code_rejects_everything_else() {
        for bad in [
            "",
            "   ",
            "--",
            "1234567",
            "123456789",
            "1234567a",
            "abcdefgh",
            "1234_5678",
            "1234\t5678",
            "1234\n5678",
            "+12345678",
            "١٢٣٤٥٦٧٨",
            "1234567١",
            "１２３４５６７８",
            "12345678\u{0}",
        ] {
            assert!(
                matches!(parse_code(bad), Err(Error::OfflineCodeMalformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn format_code_pads_to_8_digits() {
        assert_eq!(format_code(0), "00000000");
        assert_eq!(format_code(42), "00000042");
        assert_eq!(format_code(12_345_678), "12345678");
        assert_eq!(format_code(99_999_999), "99999999");
        assert_eq!(format_code(u32::MAX).len(), 8);
        assert_eq!(parse_code(&format_code(1_234)).unwrap(), 1_234);
    }

    #[test]
    fn find_counter_searches_exactly_the_lookahead_window() {
        for last_known in [0u64, 5, 1_000] {
            for counter in last_known..last_known + LOOKAHEAD {
                let c = challenge(SECRET, counter);
                let found = find_counter(SECRET, c, last_known).unwrap();
                // Lowest first: a chance collision below `counter` would win.
                assert!(found <= counter);
                assert_eq!(challenge(SECRET, found), c);
            }
            // last_known + LOOKAHEAD is outside; so is anything before last_known.
            let outside = challenge(SECRET, last_known + LOOKAHEAD);
            let in_window: Vec<u32> = (last_known..last_known + LOOKAHEAD)
                .map(|n| challenge(SECRET, n))
                .collect();
            assert!(!in_window.contains(&outside));
            assert_eq!(find_counter(SECRET, outside, last_known), None);
        }
        let before = challenge(SECRET, 9);
        assert_eq!(find_counter(SECRET, before, 10), None);
        assert_eq!(find_counter(SECRET, before, 9), Some(9));
        // Near u64::MAX the window is cut, not wrapped.
        assert_eq!(
            find_counter(SECRET, challenge(SECRET, 0), u64::MAX - 3),
            None
        );
        assert_eq!(
            find_counter(SECRET, challenge(SECRET, u64::MAX), u64::MAX - 3),
            Some(u64::MAX)
        );
    }

    #[test]
    fn five_wrong_in_24h_lock_out_until_the_oldest_leaves_the_window() {
        let mut state = OfflineCodeState::default();
        for i in 0..5i64 {
            let r = enter_wrong(&mut state, T0 + i * 100);
            let left = 4 - i as u32;
            assert!(matches!(r, Err(Error::OfflineCodeWrong { tries_left }) if tries_left == left));
        }
        assert_eq!(until_of(state.lockout(T0 + 500)), Some(Some(T0 + DAY_S)));
        assert_eq!(
            until_of(state.lockout(T0 + DAY_S - 1)),
            Some(Some(T0 + DAY_S))
        );
    }

    #[test]
    fn entry_during_lockout_is_refused_and_not_counted() {
        let mut state = OfflineCodeState::default();
        for i in 0..5 {
            let _ = enter_wrong(&mut state, T0 + i);
        }
        let before = state.clone();
        let r = enter_wrong(&mut state, T0 + 1_000);
        assert!(
            matches!(r, Err(Error::OfflineCodeLockedOut { until: Some(t) }) if t == T0 + DAY_S)
        );
        assert_eq!(state, before);
        assert_eq!(state.wrong_since_checkin, 5);
        assert_eq!(state.wrong_at.len(), 5);
    }

    #[test]
    fn entry_works_again_after_the_window_passes() {
        let mut state = OfflineCodeState::default();
        for i in 0..5 {
            let _ = enter_wrong(&mut state, T0 + i * 10);
        }
        // The oldest entry leaves at exactly T0 + DAY_S: one try opens up.
        assert!(state.lockout(T0 + DAY_S).is_none());
        assert_eq!(state.tries_left(T0 + DAY_S), 1);
        let r = enter_wrong(&mut state, T0 + DAY_S);
        assert!(matches!(r, Err(Error::OfflineCodeWrong { tries_left: 0 })));
        // The old entry was pruned; the next lockout ends when the second-oldest leaves.
        assert_eq!(state.wrong_at.len(), 5);
        assert_eq!(
            until_of(state.lockout(T0 + DAY_S)),
            Some(Some(T0 + 10 + DAY_S))
        );
        // Much later, a correct code is accepted.
        let code = code_for(&state, 3);
        let accepted = state.enter(SECRET, &code, T0 + 3 * DAY_S).unwrap();
        assert_eq!(accepted.extension_until, T0 + 6 * DAY_S);
    }

    #[test]
    fn twenty_wrong_between_checkins_lock_out_until_checkin_even_over_many_days() {
        let mut state = OfflineCodeState::default();
        for day in 0..5i64 {
            for i in 0..4i64 {
                let now = T0 + day * 2 * DAY_S + i * 60;
                assert!(state.lockout(now).is_none(), "day {day} entry {i}");
                assert!(matches!(
                    enter_wrong(&mut state, now),
                    Err(Error::OfflineCodeWrong { .. })
                ));
            }
        }
        assert_eq!(state.wrong_since_checkin, 20);
        let later = T0 + 100 * DAY_S;
        assert_eq!(state.tries_left(later), 0);
        assert_eq!(until_of(state.lockout(later)), Some(None));
        // A correct code is refused too, and nothing is counted.
        let before = state.clone();
        let code = code_for(&state, 30);
        let r = state.enter(SECRET, &code, later);
        assert!(matches!(
            r,
            Err(Error::OfflineCodeLockedOut { until: None })
        ));
        assert_eq!(state, before);
    }

    #[test]
    fn checkin_success_lifts_the_between_checkins_lockout() {
        let mut state = OfflineCodeState {
            wrong_since_checkin: 20,
            ..Default::default()
        };
        assert_eq!(until_of(state.lockout(T0)), Some(None));
        state.on_checkin_success();
        assert_eq!(state.wrong_since_checkin, 0);
        assert!(state.lockout(T0).is_none());
        assert_eq!(state.tries_left(T0), 5);
        let code = code_for(&state, 2);
        assert_eq!(state.enter(SECRET, &code, T0).unwrap().days, 2);
    }

    #[test]
    fn checkin_success_does_not_reset_the_24h_window() {
        let mut state = OfflineCodeState::default();
        for i in 0..5 {
            let _ = enter_wrong(&mut state, T0 + i);
        }
        state.on_checkin_success();
        assert_eq!(until_of(state.lockout(T0 + 10)), Some(Some(T0 + DAY_S)));
        assert_eq!(state.wrong_at.len(), 5);
    }

    #[test]
    fn correct_code_during_24h_lockout_is_refused() {
        let mut state = OfflineCodeState::default();
        for i in 0..5 {
            let _ = enter_wrong(&mut state, T0 + i);
        }
        let before = state.clone();
        let code = code_for(&state, 30);
        let r = state.enter(SECRET, &code, T0 + 60);
        assert!(matches!(
            r,
            Err(Error::OfflineCodeLockedOut { until: Some(_) })
        ));
        assert_eq!(state, before);
        assert_eq!(state.counter, 0);
        assert_eq!(state.extension_until, 0);
    }

    #[test]
    fn malformed_input_does_not_count() {
        let mut state = OfflineCodeState::default();
        let before = state.clone();
        for bad in ["", "1234567", "abcdefgh", "123456789"] {
            assert!(matches!(
                state.enter(SECRET, bad, T0),
                Err(Error::OfflineCodeMalformed)
            ));
        }
        assert_eq!(state, before);
        assert_eq!(state.tries_left(T0), 5);
    }

    #[test]
    fn malformed_input_is_reported_as_malformed_even_when_locked_out() {
        let mut state = OfflineCodeState {
            wrong_since_checkin: 20,
            ..Default::default()
        };
        let before = state.clone();
        assert!(matches!(
            state.enter(SECRET, "12", T0),
            Err(Error::OfflineCodeMalformed)
        ));
        assert_eq!(state, before);
    }

    #[test]
    fn tries_left_is_the_smaller_of_the_two_budgets() {
        let mut state = OfflineCodeState::default();
        assert_eq!(state.tries_left(T0), 5);
        let _ = enter_wrong(&mut state, T0);
        assert_eq!(state.tries_left(T0), 4);
        // The between-check-ins budget binds when it is smaller.
        state.wrong_since_checkin = 18;
        assert_eq!(state.tries_left(T0), 2);
        assert_eq!(state.tries_left(T0 + DAY_S), 2);
        state.wrong_since_checkin = 25;
        assert_eq!(state.tries_left(T0), 0);
        // The 24 h budget binds when it is smaller, and frees up as entries age out.
        state.wrong_since_checkin = 3;
        state.wrong_at = vec![T0, T0 + 1, T0 + 2];
        assert_eq!(state.tries_left(T0 + 2), 2);
        assert_eq!(state.tries_left(T0 + DAY_S), 3);
        assert_eq!(state.tries_left(T0 + DAY_S + 2), 5);
    }

    #[test]
    fn wrong_entries_after_now_count_as_inside_the_window() {
        // After a §4 re-anchor a stored entry can lie after `now`; it must make entry
        // stricter, not looser.
        let state = OfflineCodeState {
            wrong_at: vec![T0 + 10 * DAY_S; 5],
            wrong_since_checkin: 5,
            ..Default::default()
        };
        assert_eq!(state.tries_left(T0), 0);
        assert_eq!(until_of(state.lockout(T0)), Some(Some(T0 + 11 * DAY_S)));
    }

    #[test]
    fn oversized_window_from_a_foreign_state_locks_until_enough_entries_leave() {
        let state = OfflineCodeState {
            wrong_at: vec![T0 + 6, T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5],
            ..Default::default()
        };
        // 7 counted: room opens when 3 have left, i.e. when T0 + 2 leaves.
        assert_eq!(until_of(state.lockout(T0 + 10)), Some(Some(T0 + 2 + DAY_S)));
        assert!(state.lockout(T0 + 2 + DAY_S).is_none());
        assert_eq!(state.tries_left(T0 + 2 + DAY_S), 1);
    }

    #[test]
    fn exhausted_counter_refuses_entry_instead_of_reusing_codes() {
        let mut state = OfflineCodeState {
            counter: u64::MAX,
            ..Default::default()
        };
        let before = state.clone();
        let code = code_for(&state, 1);
        let r = state.enter(SECRET, &code, T0);
        assert!(matches!(
            r,
            Err(Error::OfflineCodeLockedOut { until: None })
        ));
        assert_eq!(state, before);
        assert_eq!(state.tries_left(T0), 0);
        // One below is still fine and moves to u64::MAX.
        let mut state = OfflineCodeState {
            counter: u64::MAX - 1,
            ..Default::default()
        };
        let code = code_for(&state, 1);
        assert_eq!(
            state.enter(SECRET, &code, T0).unwrap().counter,
            u64::MAX - 1
        );
        assert_eq!(state.counter, u64::MAX);
    }

    #[test]
    fn extension_saturates_at_the_end_of_time() {
        let mut state = OfflineCodeState::default();
        let code = code_for(&state, 30);
        let accepted = state.enter(SECRET, &code, i64::MAX - 5).unwrap();
        assert_eq!(accepted.extension_until, i64::MAX);
        let mut state = OfflineCodeState::default();
        for _ in 0..5 {
            let _ = enter_wrong(&mut state, i64::MAX - 5);
        }
        assert_eq!(until_of(state.lockout(i64::MAX)), Some(Some(i64::MAX)));
    }

    #[test]
    fn default_state_is_the_enrollment_state() {
        // §6: the counter starts at 0 at enrollment, with no wrong entries and no extension.
        let state = OfflineCodeState::default();
        assert_eq!(state.counter, 0);
        assert_eq!(state.extension_until, 0);
        assert!(state.wrong_at.is_empty());
        assert_eq!(state.wrong_since_checkin, 0);
    }

    fn arb_state() -> impl Strategy<Value = OfflineCodeState> {
        (
            any::<u64>(),
            proptest::collection::vec(any::<i64>(), 0..12),
            any::<u32>(),
            any::<i64>(),
        )
            .prop_map(
                |(counter, wrong_at, wrong_since_checkin, extension_until)| OfflineCodeState {
                    counter,
                    wrong_at,
                    wrong_since_checkin,
                    extension_until,
                },
            )
    }

    proptest! {
        #[test]
        fn prop_correct_response_is_always_accepted(
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            counter in 0..u64::MAX,
            idx in 0..ALLOWED_DAYS.len(),
            now in -1_000_000_000_000i64..1_000_000_000_000,
        ) {
            let days = ALLOWED_DAYS[idx];
            let code = response(&secret, counter, days).unwrap();
            let mut state = OfflineCodeState { counter, ..Default::default() };
            let accepted = state.enter(&secret, &format_code(code), now).unwrap();
            // A smaller `days` can only win on a chance collision of two responses.
            let smallest = ALLOWED_DAYS
                .iter()
                .copied()
                .find(|&d| response(&secret, counter, d).unwrap() == code)
                .unwrap();
            prop_assert_eq!(accepted.days, smallest);
            prop_assert_eq!(accepted.counter, counter);
            prop_assert_eq!(state.counter, counter + 1);
            prop_assert!(state.extension_until >= now + i64::from(accepted.days) * DAY_S);
        }

        #[test]
        fn prop_exactly_one_code_per_counter_grants_given_days(
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            counter in 0..u64::MAX,
            idx in 0..ALLOWED_DAYS.len(),
            other in 0..MODULUS,
        ) {
            let days = ALLOWED_DAYS[idx];
            let right = response(&secret, counter, days).unwrap();
            prop_assume!(other != right);
            let valid: Vec<u32> = ALLOWED_DAYS
                .iter()
                .map(|&d| response(&secret, counter, d).unwrap())
                .collect();
            let mut state = OfflineCodeState { counter, ..Default::default() };
            match state.enter(&secret, &format_code(other), T0) {
                Ok(a) => {
                    prop_assert!(valid.contains(&other));
                    prop_assert_ne!(a.days, days);
                }
                Err(Error::OfflineCodeWrong { .. }) => prop_assert!(!valid.contains(&other)),
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
            // The same input is deterministic: the right code on a fresh state gives `days`
            // unless a smaller `days` collides with it.
            let mut fresh = OfflineCodeState { counter, ..Default::default() };
            let a = fresh.enter(&secret, &format_code(right), T0).unwrap();
            prop_assert!(a.days <= days);
            prop_assert_eq!(response(&secret, counter, a.days).unwrap(), right);
        }

        #[test]
        fn prop_wrong_codes_never_extend(
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            mut state in arb_state(),
            code in 0..MODULUS,
            now in any::<i64>(),
        ) {
            prop_assume!(state.counter < u64::MAX);
            let valid = ALLOWED_DAYS
                .iter()
                .any(|&d| response(&secret, state.counter, d).unwrap() == code);
            prop_assume!(!valid);
            let before = state.clone();
            let r = state.enter(&secret, &format_code(code), now);
            prop_assert!(r.is_err());
            prop_assert_eq!(state.extension_until, before.extension_until);
            prop_assert_eq!(state.counter, before.counter);
        }

        #[test]
        fn prop_state_never_panics_and_keeps_its_invariants(
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            mut state in arb_state(),
            inputs in proptest::collection::vec((".{0,12}|[0-9 -]{6,12}", any::<i64>()), 1..8),
        ) {
            for (input, now) in inputs {
                let before = state.clone();
                let tries = state.tries_left(now);
                prop_assert!(tries <= MAX_WRONG_PER_DAY as u32);
                prop_assert_eq!(tries == 0, state.lockout(now).is_some());
                let _ = state.challenge(&secret);
                match state.enter(&secret, &input, now) {
                    Ok(a) => {
                        prop_assert_eq!(a.counter, before.counter);
                        prop_assert_eq!(state.counter, before.counter + 1);
                        prop_assert!(state.extension_until >= before.extension_until);
                    }
                    Err(Error::OfflineCodeWrong { tries_left }) => {
                        prop_assert_eq!(tries_left, tries - 1);
                        prop_assert_eq!(tries_left, state.tries_left(now));
                        prop_assert_eq!(
                            state.wrong_since_checkin,
                            before.wrong_since_checkin.saturating_add(1)
                        );
                        prop_assert_eq!(state.extension_until, before.extension_until);
                        prop_assert_eq!(state.counter, before.counter);
                    }
                    Err(Error::OfflineCodeMalformed | Error::OfflineCodeLockedOut { .. }) => {
                        prop_assert_eq!(&state, &before);
                    }
                    Err(e) => prop_assert!(false, "unexpected {:?}", e),
                }
                prop_assert!(state.tries_left(now) <= MAX_WRONG_PER_DAY as u32);
            }
        }

        #[test]
        fn prop_parse_code_round_trips_format_code(code in 0..MODULUS) {
            let text = format_code(code);
            prop_assert_eq!(text.len(), 8);
            prop_assert_eq!(parse_code(&text).unwrap(), code);
        }

        #[test]
        fn prop_find_counter_finds_every_counter_in_the_window(
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            last_known in 0..u64::MAX - LOOKAHEAD,
            step in 0..LOOKAHEAD,
        ) {
            let c = challenge(&secret, last_known + step);
            let found = find_counter(&secret, c, last_known).unwrap();
            prop_assert!(found >= last_known && found <= last_known + step);
            prop_assert_eq!(challenge(&secret, found), c);
        }
    }
}
