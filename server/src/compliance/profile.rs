//! One compliance profile: its file format (TOML, `server/compliance/<id>.toml`) and the
//! rules a file must pass to be used. A file that breaks one is refused with its name and
//! the rule, so a bad profile can never reach a lender.

use finlock_core::protocol::{MAX_ESSENTIALS, MAX_NOTICE_MIN_S, is_valid_package_name, parse_hhmm};
use serde::{Deserialize, Serialize};

/// The longest "days past due" a profile may name (a year is already more than any text
/// we follow asks for; it keeps every sum below the protocol's largest time).
pub const MAX_DAYS_PAST_DUE: u32 = 366;

/// A profile as written in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Its name in the API and the CLI (`permissive`, `in-rbi-draft`, …); the file is
    /// `<id>.toml`.
    pub id: String,
    pub name: String,
    /// What it does, in a paragraph.
    pub summary: String,
    /// Whether any rule it follows is a draft (or a court action, not a final text).
    pub draft: bool,
    /// Android package names usable while restricted, beside the phone's base list.
    pub essentials: Vec<String>,
    /// The texts it follows, each with its date and where to read it.
    pub sources: Vec<Source>,
    pub notice: Notice,
    pub restricted: Restricted,
    pub locked: Locked,
    pub lender_lock: LenderLock,
    #[serde(default)]
    pub reminders: Reminders,
    pub screen: Screen,
}

/// A text a profile follows. Named `ComplianceSource` in the OpenAPI document: `Source` is
/// the payment notification's (utoipa keeps one schema per name, silently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ComplianceSource)]
pub struct Source {
    pub title: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: String,
    /// A URL, or a reference to the text; "as reported: …" when only a report was read.
    pub reference: String,
    /// `draft`, `in force`, `court action`, … as the profile's author found it.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The notice page (rule ids `notice.min_days_past_due`, `notice.min_days`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// The notice is not shown before this many days past the first unpaid due date;
    /// absent = a notice period before the first restriction or lock, whenever that is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_past_due: Option<u32>,
    /// The notice period (`notice_min_s`): at least 1 day (the protocol's floor), at
    /// most 90.
    pub min_days: u32,
}

/// The restricted level (rule ids `restricted.min_days_past_due`, `restricted.required`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Restricted {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_past_due: Option<u32>,
    /// A restricted step always comes before a lock (or instead of it).
    pub required: bool,
}

/// The locked level (rule ids `locked.allowed`, `locked.min_days_past_due`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// `false`: the phone is never locked in full (for payment, offline or by the
    /// lender); the restricted level is the last step.
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_past_due: Option<u32>,
}

/// A lock asked by the lender (rule ids `lender_lock.allowed`,
/// `lender_lock.min_days_past_due`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LenderLock {
    pub allowed: bool,
    /// Only when the first unpaid installment is at least this many days past due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_days_past_due: Option<u32>,
}

/// Hours in which no reminder may fire (rule id `reminders.quiet_hours`): a device's
/// reminder policy must be quiet at least from `quiet_start` to `quiet_end` (local time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_end: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    /// Amounts on the notice and lock screens only after the user opens the details.
    pub private_details: bool,
}

impl Profile {
    /// Reads and checks the file `name` (for the error) holding `text`.
    pub fn parse(name: &str, text: &str) -> Result<Profile, String> {
        let profile: Profile =
            toml::from_str(text).map_err(|e| format!("compliance profile {name}: {e}"))?;
        profile
            .check()
            .map_err(|rule| format!("compliance profile {name}: {rule}"))?;
        if name != format!("{}.toml", profile.id) {
            return Err(format!(
                "compliance profile {name}: its id is {:?}; the file must be {}.toml",
                profile.id, profile.id
            ));
        }
        Ok(profile)
    }

    /// The notice period in seconds (`notice_min_s`).
    pub fn notice_min_s(&self) -> u64 {
        u64::from(self.notice.min_days) * 86_400
    }

    /// The reminder quiet window the profile requires, in minutes of the day.
    pub fn quiet_minutes(&self) -> Option<(u16, u16)> {
        let start = parse_hhmm(self.reminders.quiet_start.as_deref()?)?;
        let end = parse_hhmm(self.reminders.quiet_end.as_deref()?)?;
        Some((start, end))
    }

    /// The rules a profile file must pass (each names the key at fault).
    fn check(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err("id: 1–32 of a–z, 0–9 and -".into());
        }
        for (key, text) in [("name", &self.name), ("summary", &self.summary)] {
            if text.trim().is_empty() {
                return Err(format!("{key}: must not be empty"));
            }
        }
        if self.sources.is_empty() {
            return Err("sources: cite at least one text".into());
        }
        for (i, s) in self.sources.iter().enumerate() {
            if s.title.trim().is_empty() || s.reference.trim().is_empty() || s.status.is_empty() {
                return Err(format!(
                    "sources[{i}]: title, reference and status are required"
                ));
            }
            if !is_date(&s.date) {
                return Err(format!("sources[{i}].date: YYYY, YYYY-MM or YYYY-MM-DD"));
            }
        }
        let notice_max = (MAX_NOTICE_MIN_S / 86_400) as u32;
        if !(1..=notice_max).contains(&self.notice.min_days) {
            return Err(format!(
                "notice.min_days: 1 (the protocol's floor) to {notice_max}"
            ));
        }
        for (key, days) in [
            ("notice.min_days_past_due", self.notice.min_days_past_due),
            (
                "restricted.min_days_past_due",
                self.restricted.min_days_past_due,
            ),
            ("locked.min_days_past_due", self.locked.min_days_past_due),
            (
                "lender_lock.min_days_past_due",
                self.lender_lock.min_days_past_due,
            ),
        ] {
            if days.is_some_and(|d| d > MAX_DAYS_PAST_DUE) {
                return Err(format!("{key}: at most {MAX_DAYS_PAST_DUE}"));
            }
        }
        if !self.locked.allowed {
            if !self.restricted.required {
                return Err(
                    "restricted.required: must be true when locked.allowed is false (the \
                     restricted level is then the only step)"
                        .into(),
                );
            }
            if self.lender_lock.allowed {
                return Err(
                    "lender_lock.allowed: a lender lock is a full lock; false when \
                     locked.allowed is false"
                        .into(),
                );
            }
        }
        match (&self.reminders.quiet_start, &self.reminders.quiet_end) {
            (None, None) => {}
            (Some(_), Some(_)) => match self.quiet_minutes() {
                Some((start, end)) if start != end => {}
                _ => return Err("reminders: quiet_start and quiet_end are distinct HH:MM".into()),
            },
            _ => return Err("reminders: quiet_start and quiet_end go together".into()),
        }
        if self.essentials.len() > MAX_ESSENTIALS {
            return Err(format!("essentials: at most {MAX_ESSENTIALS}"));
        }
        for (i, package) in self.essentials.iter().enumerate() {
            if !is_valid_package_name(package) {
                return Err(format!("essentials[{i}]: an Android package name"));
            }
            if self.essentials[..i].contains(package) {
                return Err(format!("essentials[{i}]: named twice"));
            }
        }
        Ok(())
    }
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    }
}
