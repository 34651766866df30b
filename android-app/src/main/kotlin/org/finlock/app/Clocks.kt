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
         * The platform's clocks: wall, elapsed realtime (deep sleep included), boot count, plus
         * the [ClockOffsets] in force (none in a release build).
         */
        fun system(context: Context): Clocks {
            val app = context.applicationContext
            val resolver = app.contentResolver
            return Clocks {
                val offsets = ClockOffsets.current(app)
                Clock(
                    wallMs = System.currentTimeMillis() + offsets.wallMs,
                    elapsedRealtimeMs = SystemClock.elapsedRealtime() + offsets.elapsedMs,
                    bootCount = Settings.Global.getLong(resolver, Settings.Global.BOOT_COUNT, 0L),
                )
            }
        }
    }
}
