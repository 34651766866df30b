//! Compliance profiles (issue 18 item 3, docs/COMPLIANCE.md): named bounds on what the
//! server signs for a lender — the least days past due before the notice, the restricted
//! level and the lock, the notice period, reminder quiet hours, essential apps, whether
//! amounts appear on a screen others may see, and when a lender may lock a phone.
//!
//! Profiles are data files shipped inside the binary (`server/compliance/*.toml`), each
//! citing the text it follows with its date and saying where a rule is a draft. They are
//! parsed once and checked at `finlock serve` ([`check`]); a bad file stops the server with
//! its name and the rule. A lender selects one ([`lender`]); `permissive` is the default.
//!
//! - [`profile`]: the file format and its rules;
//! - [`rules`]: what a profile refuses (a plan, a reminder policy, a lender lock), pure;
//! - [`lender`]: a lender's selection and its payment apps (the one domain operation the
//!   API and the CLI call).
//!
//! What the profile makes the server *sign* is [`crate::policy::ladder`].

pub mod lender;
pub mod profile;
pub mod rules;

use std::sync::LazyLock;

pub use profile::Profile;

use crate::error::{Error, Result};

/// The profile of a lender that chose none.
pub const DEFAULT_PROFILE: &str = "permissive";

/// The shipped files: (file name, text), the default first.
const FILES: [(&str, &str); 5] = [
    (
        "permissive.toml",
        include_str!("../../compliance/permissive.toml"),
    ),
    (
        "in-rbi-draft.toml",
        include_str!("../../compliance/in-rbi-draft.toml"),
    ),
    ("br-ce.toml", include_str!("../../compliance/br-ce.toml")),
    (
        "ph-sec-mc18.toml",
        include_str!("../../compliance/ph-sec-mc18.toml"),
    ),
    // finlock's recommendation where no jurisdiction's rule applies (not a law).
    ("graded.toml", include_str!("../../compliance/graded.toml")),
];

static PROFILES: LazyLock<std::result::Result<Vec<Profile>, String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, text)| Profile::parse(name, text))
        .collect()
});

/// Every shipped profile parses and passes its rules (called by `finlock serve` before it
/// listens, so a bad file is a start-up error, never a 500 at a check-in).
pub fn check() -> std::result::Result<(), String> {
    PROFILES.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// The shipped profiles, the default first.
pub fn profiles() -> Result<&'static [Profile]> {
    PROFILES
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| Error::Internal(e.clone()))
}

/// The shipped profile `id`; `None` when there is no such profile.
pub fn find(id: &str) -> Result<Option<&'static Profile>> {
    Ok(profiles()?.iter().find(|p| p.id == id))
}

/// The profile a stored selection names (a selection is only stored for a shipped
/// profile; one removed from a later release is a configuration bug, reported as such).
pub fn stored(id: &str) -> Result<&'static Profile> {
    find(id)?.ok_or_else(|| {
        Error::Internal(format!(
            "a lender runs under compliance profile {id:?}, which this server does not ship"
        ))
    })
}

#[cfg(test)]
mod tests;
