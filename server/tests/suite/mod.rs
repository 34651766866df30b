//! The black-box suite, written once and run by `api_sqlite` and `api_postgres`.
//! Each test starts its own server (fresh database, `ManualClock` at T0).

mod device_api;
mod flow;
mod lender_api;
mod ops;

use crate::common::{self, TestServer};

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut finlock_server::Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::fresh_db_url(dir.path()).await;
    common::start_in(dir, url, tweak).await
}
