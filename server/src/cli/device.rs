//! `finlock device …`: the device simulator (issue 5). It will drive
//! `finlock_core::device::Device` — the code the phone runs — against a server.
//! Until then the subcommand exists, parses its arguments loosely, and says so.

use std::path::PathBuf;

use crate::config::StorageArgs;

#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The simulated device's state directory.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The device command and its arguments (enroll, checkin, status, challenge, code, reminders).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("`finlock device` is not implemented yet (issue 5)")]
pub struct NotImplemented;

pub async fn run(_storage: &StorageArgs, _args: DeviceArgs) -> Result<(), NotImplemented> {
    Err(NotImplemented)
}
