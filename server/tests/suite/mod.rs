//! The black-box suite, written once and run by `api_sqlite` and `api_postgres`.
//! Each test starts its own server (fresh database, `ManualClock` at T0).

mod attested;
mod compliance;
mod device_api;
mod device_fuzz;
mod flow;
mod hijack;
mod imports;
mod keys;
mod lender_api;
mod money;
mod nodes;
mod ops;
mod payments_in;
mod problems;
mod push;
mod search;
mod staff;
mod updates;
mod webhooks;

use crate::common::{self, TestServer};

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut finlock_server::Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::fresh_db_url(dir.path()).await;
    common::start_in(dir, url, tweak).await
}

/// Two server nodes on one database and one keys directory, like two `finlock serve`
/// behind a load balancer. Each has its own clock; tests move both.
pub async fn start_two_nodes() -> (TestServer, TestServer, tempfile::TempDir) {
    let keys = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::fresh_db_url(dir.path()).await;
    let shared = keys.path().to_path_buf();
    let a = common::start_in(dir, url.clone(), |c| c.keys_dir = shared.clone()).await;
    let b = common::start_in(tempfile::tempdir().expect("tempdir"), url, |c| {
        c.keys_dir = shared
    })
    .await;
    (a, b, keys)
}
