//! The black-box suite (tests/suite) against SQLite: a fresh database file per test.

mod common;
mod suite;

/// A fresh SQLite database in the test's own directory.
pub async fn fresh_db_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("finlock.db").display())
}
