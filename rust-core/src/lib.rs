//! # finlock-core
//!
//! The device's brain. Everything the phone decides — locked or not, why, which
//! reminder when, whether an unlock code is valid, when to check in next — is a pure
//! function in this crate over stored state and trusted time. The Android shell only
//! shows and enforces what comes out.
//!
//! Pure modules (no I/O): [`protocol`], [`jws`], [`keys`], [`keyset`], [`entitlement`], [`clock`],
//! [`decision`], [`offline_code`], [`reminders`], [`schedule`]. I/O at the edges:
//! [`store`] and, with feature `net`, `checkin`. [`device`] ties them together into the
//! operations a device performs; [`view`] is what the device shows of its state (the lock
//! screen, the status), the one assembly the bridge and the simulator both use.
//!
//! Test support — `fixtures` (keys from published seeds) and `conformance` (the vector
//! generator) — is compiled only for this crate's own tests and with feature
//! `test-support`, never into the phone's library or the server binary.
//!
//! `docs/PROTOCOL.md` is the contract; section numbers in doc comments refer to it.

pub mod b64;
#[cfg(feature = "net")]
pub mod checkin;
pub mod clock;
#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
pub mod decision;
pub mod device;
pub mod entitlement;
pub mod error;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod hex;
mod json;
pub mod jws;
pub mod keys;
pub mod keyset;
pub mod offline_code;
pub mod protocol;
pub mod reminders;
pub mod schedule;
pub mod store;
pub mod view;

pub use error::{Error, Result};
