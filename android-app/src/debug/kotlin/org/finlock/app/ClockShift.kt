package org.finlock.app

import android.content.SharedPreferences

/**
 * Debug builds only (src/debug): the offsets testers add to the clock inputs (`SHIFT_CLOCK` on
 * the [DebugReceiver]), kept in the shell's device-protected [Prefs] so that they outlive a
 * restart. [DebugSetup] puts them in force as the [ClockOffsets] when the process starts.
 */
class ClockShift(private val prefs: SharedPreferences) : ClockOffsets {
    override val wallMs: Long get() = prefs.getLong(KEY_WALL, 0L)
    override val elapsedMs: Long get() = prefs.getLong(KEY_ELAPSED, 0L)

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
    }
}
