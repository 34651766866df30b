package org.finlock.app

import android.content.Context
import android.content.pm.ApplicationInfo

/** A debuggable build (the debug build type): only there may testers' tooling act. */
internal val Context.isDebuggable: Boolean
    get() = applicationInfo.flags and ApplicationInfo.FLAG_DEBUGGABLE != 0
