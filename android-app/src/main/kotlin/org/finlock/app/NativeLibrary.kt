package org.finlock.app

import android.content.Context

/** Loads the native core and makes its one JNI init call (logger, TLS verifier, runtime). */
object NativeLibrary {
    @Volatile
    private var loaded = false

    @Synchronized
    fun load(context: Context) {
        if (loaded) return
        System.loadLibrary("finlock_ffi")
        org.finlock.core.FinlockNative.init(context.applicationContext)
        loaded = true
    }
}
