//! A lender's staff in the console: accounts with roles, passwords, an optional TOTP
//! second factor, sessions, invitations and login throttling — the domain layer under the
//! console's login and staff pages and `finlock staff`. No HTTP here: the web layer reads a
//! cookie or a form, calls one of these operations and renders its answer.
//!
//! | module | what |
//! |---|---|
//! | [`role`] | owner / agent / viewer and what each may do |
//! | [`password`] | the password policy, Argon2id hashes, the dummy verify |
//! | [`totp`] | RFC 6238 codes, replay refusal, the `otpauth://` URI |
//! | [`sessions`] | session tokens (hashed in the database), idle and absolute expiry, CSRF |
//! | [`invitations`] | 72-hour single-use links to set a password |
//! | [`throttle`] | failed logins per account and per address, across nodes |
//! | [`accounts`] | add, invite, accept, list, change role, disable, enable |
//! | [`credentials`] | change one's password, reset another's (a new link) |
//! | [`login`] | login, session lookup, logout, logout everywhere |
//! | [`second_factor`] | enrolling and removing the TOTP second factor |
//! | [`events`] | what the lender's audit log keeps of staff changes |
//!
//! Who acts is a [`By`]: a logged-in staff member (its role is checked against the
//! [`Permission`] the operation needs) or the server's command line (`cli:<lender>`, the
//! operator of the server, who may everything). Every change writes an entry to the
//! lender's audit log (`lender_audit`) in the same transaction, naming who made it.
//!
//! Rules an owner cannot break by accident: the last active owner of a lender cannot be
//! demoted or disabled (the lender would be locked out of its own console), and every
//! staff operation is scoped to the acting lender in SQL, so another lender's staff id is
//! `NotFound` like a missing one.

pub mod accounts;
pub mod credentials;
pub mod events;
pub mod invitations;
pub mod login;
pub mod password;
pub mod role;
pub mod second_factor;
pub mod sessions;
pub mod throttle;
pub mod totp;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::Actor;
use crate::error::Error;

pub use accounts::{
    InvitationView, Invited, NewStaff, accept_invitation, add_with_password, by_email, change_role,
    disable, enable, get, invitation, invite, list, reinvite,
};
pub use credentials::{change_password, reset_password};
pub use login::{LoggedIn, LoginAttempt, login, logout, logout_everywhere, session};
pub use role::{Permission, Role};
pub use second_factor::{TotpSetup, begin_totp, confirm_totp, disable_totp};
pub use sessions::{NewSession, StaffSession, csrf_token, csrf_valid};

/// A staff account as listed and as a session carries it: never its password hash or
/// TOTP secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StaffRow {
    pub staff_id: String,
    pub lender_id: String,
    /// Trimmed, lower-case.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Whether a password is set (an invitation was accepted, or it was set directly).
    pub has_password: bool,
    /// Whether a TOTP second factor is on.
    pub totp_enabled: bool,
    pub created_at: i64,
    /// `cli:<lender id>` or `staff:<staff id>`.
    pub created_by: String,
    pub disabled_at: Option<i64>,
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffStatus {
    /// Invited, no password yet.
    Invited,
    Active,
    Disabled,
}

impl StaffStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffStatus::Invited => "invited",
            StaffStatus::Active => "active",
            StaffStatus::Disabled => "disabled",
        }
    }
}

impl StaffRow {
    pub fn status(&self) -> StaffStatus {
        if self.disabled_at.is_some() {
            StaffStatus::Disabled
        } else if self.has_password {
            StaffStatus::Active
        } else {
            StaffStatus::Invited
        }
    }

    /// The audit actor of this staff member.
    pub fn actor(&self) -> Actor<'_> {
        Actor::Staff {
            lender_id: &self.lender_id,
            staff_id: &self.staff_id,
        }
    }
}

/// The columns [`staff_row`] reads (the hash and secret only to tell whether they are set).
pub(crate) const STAFF_COLUMNS: &str = "staff_id, lender_id, email, name, role, password_hash, \
     totp_secret, created_at, created_by, disabled_at";

pub(crate) fn staff_row(r: &AnyRow) -> crate::Result<StaffRow> {
    let role: String = r.try_get("role")?;
    let password_hash: Option<String> = r.try_get("password_hash")?;
    let totp_secret: Option<String> = r.try_get("totp_secret")?;
    Ok(StaffRow {
        staff_id: r.try_get("staff_id")?,
        lender_id: r.try_get("lender_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| Error::Internal(format!("stored staff role {role:?} is unknown")))?,
        has_password: password_hash.is_some(),
        totp_enabled: totp_secret.is_some(),
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

/// Who asks for a staff operation.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub lender_id: &'a str,
    /// The acting staff member, `None` for the server's command line.
    pub staff_id: Option<&'a str>,
    /// The acting staff member's role; `None` (the command line) may everything.
    pub role: Option<Role>,
}

impl<'a> By<'a> {
    /// The staff member of a session.
    pub fn staff(session: &'a StaffSession) -> By<'a> {
        By {
            lender_id: &session.staff.lender_id,
            staff_id: Some(&session.staff.staff_id),
            role: Some(session.staff.role),
        }
    }

    /// The server's operator on the command line, for `lender_id`.
    pub fn cli(lender_id: &'a str) -> By<'a> {
        By {
            lender_id,
            staff_id: None,
            role: None,
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> Actor<'a> {
        match self.staff_id {
            Some(staff_id) => Actor::Staff {
                lender_id: self.lender_id,
                staff_id,
            },
            None => Actor::Cli {
                lender_id: self.lender_id,
            },
        }
    }

    /// `Err(Forbidden)` unless the role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), StaffError> {
        match self.role {
            Some(role) if !role.may(permission) => Err(StaffError::Forbidden { permission }),
            _ => Ok(()),
        }
    }
}

/// What a staff operation can fail with, beyond the server's common errors.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// Wrong email or password, or no such account: one answer, so a login form is no
    /// oracle for which emails have accounts.
    #[error("wrong email or password")]
    BadCredentials,
    /// The password was right and the account has a second factor: ask for the code.
    #[error("enter the 6-digit code from your authenticator app")]
    SecondFactorRequired,
    /// The password was right, the code was wrong, too old or already used.
    #[error("that code is wrong or was already used; wait for the next one")]
    BadSecondFactor,
    /// The password was right but the account is disabled.
    #[error("this account is disabled; ask an owner of your lender")]
    Disabled,
    /// Too many failed logins for the account or from the address.
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Throttled { retry_after_s: u64 },
    /// The acting staff member's role does not allow this.
    #[error("your role does not allow this")]
    Forbidden { permission: Permission },
    /// Unknown, expired or already used invitation (one answer for all three).
    #[error("this invitation link is not valid: it was used, it expired or it never existed")]
    InvitationInvalid,
    /// Anything else: invalid input, a conflict (last owner, email taken), not found, the
    /// database.
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<sqlx::Error> for StaffError {
    fn from(e: sqlx::Error) -> StaffError {
        StaffError::Other(Error::Db(e))
    }
}

/// The server's common error for a staff error (the command line's exit codes, a JSON
/// API): credentials → unauthorized, throttled → too many attempts, a refused permission
/// or an unusable invitation → a conflict naming it.
impl From<StaffError> for Error {
    fn from(e: StaffError) -> Error {
        match e {
            StaffError::BadCredentials
            | StaffError::SecondFactorRequired
            | StaffError::BadSecondFactor
            | StaffError::Disabled => Error::Unauthorized,
            StaffError::Throttled { retry_after_s } => Error::TooManyAttempts { retry_after_s },
            StaffError::Forbidden { .. } => Error::conflict("forbidden", e.to_string()),
            StaffError::InvitationInvalid => Error::conflict("invitation-invalid", e.to_string()),
            StaffError::Other(e) => e,
        }
    }
}

/// Equal contents, in time that depends on the lengths only (which are not secret).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// An email as stored: trimmed, lower-case, one `@` with something on both sides and a
/// dot in the domain, 3–254 characters, no spaces or control characters.
pub fn normalize_email(email: &str) -> crate::Result<String> {
    let email = email.trim().to_lowercase();
    let bad = || Error::invalid("email", "an email address like ann@shop.example");
    if email.len() < 3 || email.len() > 254 {
        return Err(bad());
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad());
    };
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(email)
}

/// A staff member's name as shown: 1–80 printable characters, trimmed.
pub fn check_name(name: &str) -> crate::Result<&str> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > 80 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "1 to 80 printable characters"));
    }
    Ok(name)
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Ann.Smith@Shop.Example ").unwrap(),
            "ann.smith@shop.example"
        );
        for bad in [
            "",
            "ann",
            "@shop.example",
            "ann@",
            "ann@shop",
            "ann@@shop.example",
            "ann smith@shop.example",
            "ann@shop.example.",
            "ann@.example",
            "a\u{0}n@shop.example",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@shop.example", "a".repeat(250))).is_err());
    }

    #[test]
    fn names_are_1_to_80_printable_characters() {
        assert_eq!(check_name("  Ann Smith ").unwrap(), "Ann Smith");
        assert!(check_name(&"é".repeat(80)).is_ok());
        for bad in ["", "  ", "a\nb"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(81)).is_err());
    }

    #[test]
    fn the_command_line_may_everything_staff_what_their_role_grants() {
        let cli = By::cli("lnd-1");
        for p in Permission::ALL {
            assert!(cli.require(p).is_ok());
        }
        assert_eq!(cli.actor().label(), "cli:lnd-1");
        let viewer = By {
            lender_id: "lnd-1",
            staff_id: Some("stf-1"),
            role: Some(Role::Viewer),
        };
        assert!(matches!(
            viewer.require(Permission::LockUnlock),
            Err(StaffError::Forbidden {
                permission: Permission::LockUnlock
            })
        ));
        assert!(viewer.require(Permission::Read).is_ok());
        assert_eq!(viewer.actor().label(), "staff:stf-1");
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
