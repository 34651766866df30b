//! The black-box suite (tests/suite) against PostgreSQL: `cargo test -p finlock-server
//! --features postgres-tests` with `FINLOCK_TEST_POSTGRES_URL` set to a server the
//! tests may create databases on. Each test gets its own fresh database, so tests run
//! in parallel.

mod common;
mod suite;

use sqlx::Connection;

/// Creates a fresh database and returns its URL. Fails loudly without the URL: a
/// feature-enabled run that silently tested nothing would be worse than a failure.
pub async fn fresh_db_url(_dir: &std::path::Path) -> String {
    let base = std::env::var("FINLOCK_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("the postgres-tests feature is on but FINLOCK_TEST_POSTGRES_URL is not set")
    });
    sqlx::any::install_default_drivers();
    let name = format!(
        "finlock_t_{}",
        finlock_server::ids::hex(&finlock_server::ids::random_bytes::<8>())
    );
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .expect("connect to FINLOCK_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let _ = conn.close().await;
    with_database(&base, &name)
}

/// `postgres://u@h:p/db?x` → `postgres://u@h:p/NAME?x`
fn with_database(base: &str, name: &str) -> String {
    let (url, query) = match base.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (base, None),
    };
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let root = match url[scheme_end..].find('/') {
        Some(i) => &url[..scheme_end + i],
        None => url,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}
