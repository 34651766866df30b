//! The host's stand-in for rustls-platform-verifier's `android::init_with_env`, which that
//! crate compiles for Android only. Used only by the `android-host` lint build; never on a
//! phone. `cargo xtask check-android` (step `android-host-check`) compiles the verifier's own
//! `src/android.rs`, at Cargo.lock's version, on the host and checks that this function
//! has the same type, so a verifier upgrade that changes it fails there.

use jni::objects::JObject;

/// Same signature as `rustls_platform_verifier::android::init_with_env`; does nothing.
pub fn init_with_env(_env: &mut jni::Env, _context: JObject) -> Result<(), jni::errors::Error> {
    Ok(())
}
