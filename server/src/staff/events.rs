//! What the lender's own audit log (`lender_audit`, beside its key rotations) keeps of
//! staff changes: who did it (the entry's actor, `staff:<id>` or `cli:<lender>`), to whom
//! (the staff id) and what. A closed set of events naming their own fields: no password,
//! hash, TOTP secret, token or email ever reaches the log (the staff id names the person;
//! staff rows are never deleted).

use serde_json::{Value, json};

use super::Role;
use crate::audit::Actor;
use crate::db::Db;
use crate::db::queries::Tx;
use crate::error::Result;

/// A change to a lender's staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent<'a> {
    /// An account with a password set at once (`finlock staff add --password-stdin`).
    Added {
        staff_id: &'a str,
        role: Role,
    },
    /// An account invited to set its password (a link valid until `expires_at`).
    Invited {
        staff_id: &'a str,
        role: Role,
        expires_at: i64,
    },
    /// The invitation was used: the account has a password now.
    InvitationAccepted {
        staff_id: &'a str,
    },
    RoleChanged {
        staff_id: &'a str,
        from: Role,
        to: Role,
    },
    /// Disabled; `sessions_ended` sessions were logged out with it.
    Disabled {
        staff_id: &'a str,
        sessions_ended: u64,
    },
    Enabled {
        staff_id: &'a str,
    },
    LoggedOutEverywhere {
        staff_id: &'a str,
        sessions_ended: u64,
    },
    /// The staff member changed its own password; its other sessions ended.
    PasswordChanged {
        staff_id: &'a str,
        sessions_ended: u64,
    },
    /// An owner (or the command line) reset the password: the old one no longer works,
    /// the sessions ended, and a link to set a new one is valid until `expires_at`.
    PasswordReset {
        staff_id: &'a str,
        sessions_ended: u64,
        expires_at: i64,
    },
    TotpEnabled {
        staff_id: &'a str,
    },
    TotpDisabled {
        staff_id: &'a str,
    },
    /// Logged in to the console (with the second factor, when the account has one).
    LoggedIn {
        staff_id: &'a str,
        second_factor: bool,
    },
    /// The right password with a wrong (or already used) second-factor code: someone
    /// holds the password. Only after the right password, so the entry (a write the
    /// answer would wait for) tells a guesser nothing about which emails have accounts.
    SecondFactorRefused {
        staff_id: &'a str,
    },
}

impl StaffEvent<'_> {
    /// The stable action name.
    pub fn action(&self) -> &'static str {
        match self {
            StaffEvent::Added { .. } => "staff_added",
            StaffEvent::Invited { .. } => "staff_invited",
            StaffEvent::InvitationAccepted { .. } => "staff_invitation_accepted",
            StaffEvent::RoleChanged { .. } => "staff_role_changed",
            StaffEvent::Disabled { .. } => "staff_disabled",
            StaffEvent::Enabled { .. } => "staff_enabled",
            StaffEvent::LoggedOutEverywhere { .. } => "staff_logged_out_everywhere",
            StaffEvent::PasswordChanged { .. } => "staff_password_changed",
            StaffEvent::PasswordReset { .. } => "staff_password_reset",
            StaffEvent::TotpEnabled { .. } => "staff_totp_enabled",
            StaffEvent::TotpDisabled { .. } => "staff_totp_disabled",
            StaffEvent::LoggedIn { .. } => "staff_logged_in",
            StaffEvent::SecondFactorRefused { .. } => "staff_second_factor_refused",
        }
    }

    /// What the entry keeps.
    pub fn detail(&self) -> Value {
        match *self {
            StaffEvent::Added { staff_id, role } => {
                json!({ "staff_id": staff_id, "role": role.as_str() })
            }
            StaffEvent::Invited {
                staff_id,
                role,
                expires_at,
            } => json!({ "staff_id": staff_id, "role": role.as_str(), "expires_at": expires_at }),
            StaffEvent::RoleChanged { staff_id, from, to } => {
                json!({ "staff_id": staff_id, "from": from.as_str(), "to": to.as_str() })
            }
            StaffEvent::Disabled {
                staff_id,
                sessions_ended,
            }
            | StaffEvent::LoggedOutEverywhere {
                staff_id,
                sessions_ended,
            }
            | StaffEvent::PasswordChanged {
                staff_id,
                sessions_ended,
            } => json!({ "staff_id": staff_id, "sessions_ended": sessions_ended }),
            StaffEvent::PasswordReset {
                staff_id,
                sessions_ended,
                expires_at,
            } => json!({ "staff_id": staff_id, "sessions_ended": sessions_ended,
                "expires_at": expires_at }),
            StaffEvent::LoggedIn {
                staff_id,
                second_factor,
            } => json!({ "staff_id": staff_id, "second_factor": second_factor }),
            StaffEvent::InvitationAccepted { staff_id }
            | StaffEvent::Enabled { staff_id }
            | StaffEvent::TotpEnabled { staff_id }
            | StaffEvent::TotpDisabled { staff_id }
            | StaffEvent::SecondFactorRefused { staff_id } => json!({ "staff_id": staff_id }),
        }
    }
}

/// Begins a transaction for a change to `lender_id`'s staff, holding the lender's row
/// first: on PostgreSQL a row lock that serialises the lender's staff changes (the
/// last-owner count and the log's next number are then read by one transaction at a time,
/// and every transaction takes its locks in the same order, lender first, so they cannot
/// deadlock); on SQLite the single writer does the same.
pub async fn begin(db: &Db, lender_id: &str) -> Result<Tx> {
    crate::audit::begin_lender(db, lender_id).await
}

/// Appends `event` to the lender's log inside `tx` (begun with [`begin`]), numbered after
/// the lender's last entry ([`crate::audit::append_lender`]).
pub async fn append(
    tx: &mut Tx,
    lender_id: &str,
    at: i64,
    actor: Actor<'_>,
    event: &StaffEvent<'_>,
) -> Result<()> {
    crate::audit::append_lender(tx, lender_id, at, actor, event.action(), &event.detail()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_stable_actions_and_no_personal_or_secret_fields() {
        let cases = [
            (
                StaffEvent::Added {
                    staff_id: "stf-1",
                    role: Role::Agent,
                },
                "staff_added",
                json!({ "staff_id": "stf-1", "role": "agent" }),
            ),
            (
                StaffEvent::Invited {
                    staff_id: "stf-1",
                    role: Role::Owner,
                    expires_at: 9,
                },
                "staff_invited",
                json!({ "staff_id": "stf-1", "role": "owner", "expires_at": 9 }),
            ),
            (
                StaffEvent::RoleChanged {
                    staff_id: "stf-1",
                    from: Role::Owner,
                    to: Role::Viewer,
                },
                "staff_role_changed",
                json!({ "staff_id": "stf-1", "from": "owner", "to": "viewer" }),
            ),
            (
                StaffEvent::Disabled {
                    staff_id: "stf-1",
                    sessions_ended: 2,
                },
                "staff_disabled",
                json!({ "staff_id": "stf-1", "sessions_ended": 2 }),
            ),
            (
                StaffEvent::PasswordReset {
                    staff_id: "stf-1",
                    sessions_ended: 1,
                    expires_at: 7,
                },
                "staff_password_reset",
                json!({ "staff_id": "stf-1", "sessions_ended": 1, "expires_at": 7 }),
            ),
            (
                StaffEvent::TotpDisabled { staff_id: "stf-1" },
                "staff_totp_disabled",
                json!({ "staff_id": "stf-1" }),
            ),
            (
                StaffEvent::LoggedIn {
                    staff_id: "stf-1",
                    second_factor: true,
                },
                "staff_logged_in",
                json!({ "staff_id": "stf-1", "second_factor": true }),
            ),
            (
                StaffEvent::SecondFactorRefused { staff_id: "stf-1" },
                "staff_second_factor_refused",
                json!({ "staff_id": "stf-1" }),
            ),
        ];
        for (event, action, detail) in cases {
            assert_eq!(event.action(), action);
            assert_eq!(event.detail(), detail);
            let text = detail.to_string();
            for word in ["email", "password", "secret", "token", "hash"] {
                assert!(!text.contains(word), "{text}");
            }
        }
    }
}
