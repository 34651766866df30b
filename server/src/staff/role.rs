//! What a staff member may do: three roles and the closed set of permissions they grant.
//!
//! The console asks [`Role::may`] before every action, and the domain operations of
//! [`crate::staff`] ask it again, so a forged form post from a viewer is refused by the
//! same rule that hides the button. One table, no per-page exceptions.

use serde::{Deserialize, Serialize};

/// A staff member's role at its lender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including staff, API keys and the lender's settings.
    Owner,
    /// The day's work: sales, payments, extensions, offline codes, lock and unlock.
    Agent,
    /// Reads only.
    Viewer,
}

/// Something a role may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ManageStaff,
    ManageApiKeys,
    ManageSettings,
    RegisterSales,
    RecordPayments,
    VoidPayments,
    Extend,
    OfflineCodes,
    LockUnlock,
    Release,
    Import,
    Read,
}

impl Permission {
    /// Every permission (tests, the console's role table).
    pub const ALL: [Permission; 12] = [
        Permission::ManageStaff,
        Permission::ManageApiKeys,
        Permission::ManageSettings,
        Permission::RegisterSales,
        Permission::RecordPayments,
        Permission::VoidPayments,
        Permission::Extend,
        Permission::OfflineCodes,
        Permission::LockUnlock,
        Permission::Release,
        Permission::Import,
        Permission::Read,
    ];
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Agent, Role::Viewer];

    /// Whether this role grants `permission`: an owner everything, an agent everything
    /// but staff, API keys and settings, a viewer only reading.
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Agent => !matches!(permission, ManageStaff | ManageApiKeys | ManageSettings),
            Role::Viewer => permission == Read,
        }
    }

    /// The stored and typed form: `owner`, `agent`, `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s` (exactly as [`Role::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_may_everything_agents_the_daily_work_viewers_only_read() {
        for p in Permission::ALL {
            assert!(Role::Owner.may(p), "{p:?}");
            assert_eq!(Role::Viewer.may(p), p == Permission::Read, "{p:?}");
        }
        for p in [
            Permission::ManageStaff,
            Permission::ManageApiKeys,
            Permission::ManageSettings,
        ] {
            assert!(!Role::Agent.may(p), "{p:?}");
        }
        for p in [
            Permission::RegisterSales,
            Permission::RecordPayments,
            Permission::VoidPayments,
            Permission::Extend,
            Permission::OfflineCodes,
            Permission::LockUnlock,
            Permission::Release,
            Permission::Import,
            Permission::Read,
        ] {
            assert!(Role::Agent.may(p), "{p:?}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names_and_nothing_else_parses() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(r.to_string(), r.as_str());
        }
        for bad in ["", "Owner", " owner", "admin", "root"] {
            assert_eq!(Role::parse(bad), None, "{bad:?}");
        }
    }
}
