//! Android only: `JNI_OnLoad` and the one `init(context)` the app makes.
//!
//! The app calls, in `Application.onCreate`:
//!
//! ```kotlin
//! package org.finlock.core
//! object FinlockNative {
//!     init { System.loadLibrary("finlock_ffi") }
//!     @JvmStatic external fun init(context: android.content.Context)
//! }
//! // Application.onCreate: FinlockNative.init(applicationContext)
//! ```
//!
//! `init` sets up, once per process: logging to logcat (tag `finlock`, Info; the core logs
//! no secrets or identifiers), rustls-platform-verifier with the application context (so
//! check-ins trust Android's certificate store; the app must also ship that crate's small
//! Kotlin component), and the tokio runtime. Calling it again is harmless. A failure or a
//! panic becomes a `RuntimeException` in Kotlin, never an abort.
//!
//! This module and rustls-platform-verifier use the same `jni` (0.22): `cargo xtask
//! check-android` checks that the .so links exactly one.
//!
//! With the `android-host` feature this module is compiled for the host too (lints only),
//! against the real `jni`, `android_logger` and this crate's runtime; only the verifier's
//! init is [`host_verifier`]'s stand-in there (the verifier has no Android module on the host).

use std::ffi::c_void;
use std::sync::OnceLock;

use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JObject};
use jni::sys::{JNI_VERSION_1_6, jint};
use jni::{EnvUnowned, JavaVM};

#[cfg(target_os = "android")]
use rustls_platform_verifier::android as verifier;

#[cfg(not(target_os = "android"))]
#[path = "android/host_verifier.rs"]
mod verifier;

static VM: OnceLock<JavaVM> = OnceLock::new();

/// Stores the process's JavaVM when the library is loaded.
///
/// # Safety
/// Called by the Android runtime with a valid `JavaVM` pointer.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut c_void,
) -> jint {
    if !vm.is_null() {
        // SAFETY: the runtime passes its own, valid, process-lifetime JavaVM.
        let _ = VM.set(unsafe { JavaVM::from_raw(vm) });
    }
    JNI_VERSION_1_6
}

/// `org.finlock.core.FinlockNative.init(Context)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_finlock_core_FinlockNative_init<'caller>(
    mut unowned_env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    context: JObject<'caller>,
) {
    unowned_env
        .with_env(|env| -> Result<(), jni::errors::Error> {
            android_logger::init_once(
                android_logger::Config::default()
                    .with_tag("finlock")
                    .with_max_level(log::LevelFilter::Info),
            );
            verifier::init_with_env(env, context)?;
            if let Err(e) = crate::runtime::runtime() {
                log::error!("finlock runtime did not start: {e}");
            }
            log::info!("finlock bridge initialised");
            Ok(())
        })
        .resolve::<ThrowRuntimeExAndDefault>()
}
