//! `finlock demo`: one command that starts a server ([`crate::spawn`] with a
//! [`crate::ManualClock`]), creates a lender ([`crate::ServerHandle::create_lender`])
//! and a financed phone, and lives through its months (issue 5). Not implemented yet.

use crate::config::StorageArgs;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// A JSON timeline for machines instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("`finlock demo` is not implemented yet (issue 5)")]
pub struct NotImplemented;

pub async fn run(_storage: &StorageArgs, _args: DemoArgs) -> Result<(), NotImplemented> {
    Err(NotImplemented)
}
