package org.finlock.core

/**
 * The bridge's one JNI entry point (rust-core/ffi/src/android.rs): logger, the TLS
 * verifier with the application context, the runtime. Call once, after loading the library.
 */
object FinlockNative {
    @JvmStatic
    external fun init(context: android.content.Context)
}
