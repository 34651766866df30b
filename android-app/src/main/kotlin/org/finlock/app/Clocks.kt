package org.finlock.app

import android.content.Context
import android.os.SystemClock
import android.provider.Settings
import org.finlock.core.Clock

/** The three clock readings the core takes as input (it never reads a clock itself). */
fun interface Clocks {
    fun now(): Clock

    companion object {
        /**
         * The platform's clocks: wall, elapsed realtime (deep sleep included), boot count. In
         * debuggable builds only, shifted by the testers' [ClockShift] (debug receiver).
         */
        fun system(context: Context): Clocks {
            val app = context.applicationContext
            val resolver = app.contentResolver
            val shift = if (ClockShift.enabled(app)) ClockShift(Prefs.of(app)) else null
            return Clocks {
                Clock(
                    wallMs = System.currentTimeMillis() + (shift?.wallMs ?: 0L),
                    elapsedRealtimeMs = SystemClock.elapsedRealtime() + (shift?.elapsedMs ?: 0L),
                    bootCount = Settings.Global.getLong(resolver, Settings.Global.BOOT_COUNT, 0L),
                )
            }
        }
    }
}
