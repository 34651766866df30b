package org.finlock.app

import android.content.Context

/**
 * What is added to the clock readings the shell gives the core ([Clocks.system]). [None] in a
 * release build, always: main code has nothing else to install, and an app that is not
 * debuggable neither accepts other offsets ([install]) nor applies them ([current]). A debug
 * build installs its testers' offsets from its own source set (src/debug) when the process
 * starts.
 */
interface ClockOffsets {
    /** Added to the wall clock (ms since the epoch). */
    val wallMs: Long

    /** Added to elapsed realtime; alarms subtract it again, since they run on the real clock. */
    val elapsedMs: Long

    /** The platform's clocks as they are. */
    object None : ClockOffsets {
        override val wallMs = 0L
        override val elapsedMs = 0L
    }

    companion object {
        @Volatile
        private var installed: ClockOffsets = None

        /** The offsets in force for [context]'s app: [None] unless it is debuggable. */
        fun current(context: Context): ClockOffsets = if (context.isDebuggable) installed else None

        /** Puts [offsets] in force in a debuggable app; in any other, returns false and does nothing. */
        fun install(context: Context, offsets: ClockOffsets): Boolean {
            if (!context.isDebuggable) return false
            installed = offsets
            return true
        }

        /** Back to the platform's clocks. */
        fun clear() {
            installed = None
        }
    }
}
