//! The device's record of the notice page (§3.7, ADR 0017): when it was first displayed in
//! this episode, and how long it has been on the phone since, by the monotonic clock alone.
//!
//! This record is what lets the device refuse to restrict or lock a phone whose user was
//! not warned, whatever the server signs: trusted time follows the server's `iat`, so a
//! hostile server could make it claim any time has passed; uptime is the phone's own.
//! Within one boot the elapsed time grows with uptime; after a reboot only the uptime since
//! boot is added (time powered off never counts), to the elapsed time last stored — a lower
//! bound, refreshed whenever an evaluation is written.

use serde::{Deserialize, Serialize};

use super::{DeviceState, push_event};
use crate::clock::{ClockInput, MARK_MAX_UNWRITTEN_MS, Reading};
use crate::decision::{Level, NoticeSeen};
use crate::error::{Error, Result};
use crate::protocol::Event;

/// The notice page was displayed: first at `first_shown_at`, and on the phone for at least
/// `elapsed_ms` at the monotonic reading (`boot`, `uptime_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRecord {
    /// Trusted time of the first display (Unix seconds): what the screens show.
    pub first_shown_at: i64,
    /// Running time since the first display, as of the reading below (a lower bound).
    pub elapsed_ms: u64,
    /// The boot the reading was taken in.
    pub boot: u64,
    /// Uptime at the reading.
    pub uptime_ms: u64,
}

impl NoticeRecord {
    /// A first display at trusted time `at`, read at `clock`.
    pub fn first(at: i64, clock: &ClockInput) -> NoticeRecord {
        NoticeRecord {
            first_shown_at: at,
            elapsed_ms: 0,
            boot: clock.boot,
            uptime_ms: clock.uptime_ms,
        }
    }

    /// Running time since the first display at the monotonic reading (`boot`, `uptime_ms`):
    /// within the record's boot the uptime since its reading (never negative), in a later
    /// boot only the uptime since that boot.
    pub fn elapsed_ms_at(&self, boot: u64, uptime_ms: u64) -> u64 {
        let since = if boot == self.boot {
            uptime_ms.saturating_sub(self.uptime_ms)
        } else {
            uptime_ms
        };
        self.elapsed_ms.saturating_add(since)
    }

    /// The same record read again at `clock` (what is stored, so a reboot loses at most
    /// the time since).
    pub fn advanced_to(&self, clock: &ClockInput) -> NoticeRecord {
        NoticeRecord {
            elapsed_ms: self.elapsed_ms_at(clock.boot, clock.uptime_ms),
            boot: clock.boot,
            uptime_ms: clock.uptime_ms,
            ..*self
        }
    }

    /// Whether the stored reading is worth refreshing at `clock`: another boot, or older
    /// than the clock marks may be (one write a minute at most, as for the marks).
    fn stale_at(&self, clock: &ClockInput) -> bool {
        clock.boot != self.boot
            || clock.uptime_ms.saturating_sub(self.uptime_ms) >= MARK_MAX_UNWRITTEN_MS
    }
}

impl DeviceState {
    /// The notice record as the decision sees it: elapsed time at the latest monotonic
    /// reading the state has seen (the clock's high-water mark is taken at every reading).
    pub(super) fn notice_seen(&self) -> Option<NoticeSeen> {
        let record = self.enrollment.as_ref()?.notice?;
        let elapsed_ms = match self.clock.high_water {
            Some(m) => record.elapsed_ms_at(m.boot, m.uptime_ms),
            None => record.elapsed_ms,
        };
        Some(NoticeSeen {
            first_shown_at: record.first_shown_at,
            elapsed_s: elapsed_ms / 1000,
        })
    }

    /// The shell displayed the notice page (§3.7): records the first display of this
    /// episode at trusted time, and reports it at the next check-in. Returns whether it
    /// recorded (false when already recorded — the first display never moves — or when the
    /// device is not at a notice level, where there is nothing to give notice of).
    pub fn notice_shown(&mut self, clock: &ClockInput) -> Result<bool> {
        let evaluation = self.evaluate(clock);
        let level = evaluation.decision.level;
        let en = self.enrollment.as_mut().ok_or(Error::NotEnrolled)?;
        // Restricted or locked implies a record; only a notice can be the first display.
        if level != Level::Notice || en.notice.is_some() {
            return Ok(false);
        }
        let at = evaluation.reading.now();
        en.notice = Some(NoticeRecord::first(at, clock));
        push_event(&mut en.pending_events, Event::NoticeShown { at });
        log::info!("notice displayed, recorded");
        Ok(true)
    }

    /// After an evaluation at `clock`: the record's reading refreshed when stale; the
    /// record dropped when the device is at `normal` (the episode ended: paid, extended,
    /// unlocked by the lender, back online; or released).
    pub(super) fn settle_notice(&mut self, level: Level, clock: &ClockInput) {
        let Some(en) = self.enrollment.as_mut() else {
            return;
        };
        match en.notice {
            Some(_) if level == Level::Normal => {
                log::info!("notice episode ended");
                en.notice = None;
            }
            Some(record) if record.stale_at(clock) => en.notice = Some(record.advanced_to(clock)),
            _ => {}
        }
    }

    /// [`DeviceState::settle_notice`] after something other than time changed the
    /// decision (an accepted entitlement, an offline code), at the reading it was made at.
    pub(super) fn settle_notice_at(&mut self, reading: &Reading, clock: &ClockInput) {
        let level = self.decide(reading).level;
        self.settle_notice(level, clock);
    }
}
