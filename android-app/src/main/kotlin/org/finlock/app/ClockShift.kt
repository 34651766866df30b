package org.finlock.app

import android.content.Context
import android.content.SharedPreferences
import android.content.pm.ApplicationInfo

/**
 * Offsets testers add to the clock inputs (`SHIFT_CLOCK` on the debug receiver), kept in
 * device-protected storage. Applied only by debuggable builds: a release build ignores them
 * even if present.
 */
class ClockShift(private val prefs: SharedPreferences) {
    val wallMs: Long get() = prefs.getLong(KEY_WALL, 0L)
    val elapsedMs: Long get() = prefs.getLong(KEY_ELAPSED, 0L)

    /** Adds to the current offsets (each may be negative). */
    fun add(wallMs: Long, elapsedMs: Long) {
        prefs.edit()
            .putLong(KEY_WALL, this.wallMs + wallMs)
            .putLong(KEY_ELAPSED, this.elapsedMs + elapsedMs)
            .commit()
    }

    fun reset() {
        prefs.edit().remove(KEY_WALL).remove(KEY_ELAPSED).commit()
    }

    companion object {
        private const val KEY_WALL = "debug.clock_shift.wall_ms"
        private const val KEY_ELAPSED = "debug.clock_shift.elapsed_ms"

        fun enabled(context: Context) =
            context.applicationInfo.flags and ApplicationInfo.FLAG_DEBUGGABLE != 0

        /** The elapsed-realtime offset in force (0 in release builds): alarms are armed on
         * the real clock. */
        fun elapsedOffset(context: Context): Long =
            if (enabled(context)) ClockShift(Prefs.of(context)).elapsedMs else 0L
    }
}
