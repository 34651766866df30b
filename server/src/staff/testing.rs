//! Test fixtures: an in-memory database with a lender, and accounts on it.

use super::{By, NewStaff, Role, StaffRow, add_with_password};
use crate::db::Db;
use crate::db::queries::{self, LenderRow};

/// A 6-digit code that no step within the accepted skew of `at` has (a wrong code that is
/// wrong for certain).
pub fn wrong_code(secret: &[u8], at: i64) -> String {
    use super::totp;
    let near: Vec<String> = (-1..=1)
        .map(|d| totp::format_code(totp::code_at_step(secret, totp::step_at(at) + d)))
        .collect();
    (0..10)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap_or_default()
}

/// The password every fixture account has.
pub const PASSWORD: &str = "correct horse battery";

pub struct Fixture {
    pub db: Db,
    pub lender_id: String,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        let lender_id = Fixture::lender(&db, "lnd-test", "Acme Phones").await;
        Fixture { db, lender_id }
    }

    /// Another lender on the same database.
    pub async fn lender(db: &Db, lender_id: &str, name: &str) -> String {
        let row = LenderRow {
            lender_id: lender_id.into(),
            name: name.into(),
            phone: "+254700000000".into(),
            email: None,
            payment_url: "https://pay.example".into(),
            support_url: None,
            jwks: "{\"keys\":[]}".into(),
            created_at: 0,
        };
        queries::insert_lender(
            &db.write,
            &row,
            &crate::ids::sha256_hex(lender_id.as_bytes()),
        )
        .await
        .unwrap();
        lender_id.into()
    }

    pub fn cli(&self) -> By<'_> {
        By::cli(&self.lender_id)
    }

    /// An account with [`PASSWORD`], added on the command line.
    pub async fn active_staff(&self, email: &str, role: Role) -> StaffRow {
        let new = NewStaff {
            email,
            name: email.split('@').next().unwrap_or("x"),
            role,
        };
        add_with_password(&self.db, self.cli(), &new, PASSWORD, 0)
            .await
            .unwrap()
    }

    /// The lender's audit log: (actor, action, detail).
    pub async fn audit(&self) -> Vec<(String, String, serde_json::Value)> {
        use sqlx::Row;
        sqlx::query(
            "SELECT actor, action, detail FROM lender_audit WHERE lender_id = $1 ORDER BY n",
        )
        .bind(&self.lender_id)
        .fetch_all(&self.db.read)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail").unwrap();
            (
                r.try_get("actor").unwrap(),
                r.try_get("action").unwrap(),
                serde_json::from_str(&detail).unwrap(),
            )
        })
        .collect()
    }
}
