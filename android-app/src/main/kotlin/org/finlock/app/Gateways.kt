package org.finlock.app

import android.content.Context
import android.content.SharedPreferences
import android.content.pm.ApplicationInfo
import android.os.SystemClock
import android.provider.Settings
import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockConfig
import org.finlock.core.FinlockCore
import org.finlock.core.LockScreen
import org.finlock.core.OfflineCodeAccepted
import org.finlock.core.Reminder
import org.finlock.core.Status
import org.finlock.core.Wakeup

/**
 * Everything the shell asks the core. The shell holds no policy: each answer here is a
 * decision made in Rust. Tests replace it with a fake; [UniffiCore] is the real one.
 */
interface CoreGateway {
    fun decision(clock: Clock): Decision

    fun lockScreen(clock: Clock, locale: String): LockScreen

    /** Network: never call on the main thread. */
    fun checkIn(force: Boolean, clock: Clock): Decision

    fun enterOfflineCode(code: String, clock: Clock): OfflineCodeAccepted

    /** [locale] (BCP 47) picks the lender's payment instructions; null picks English. */
    fun reminderDue(clock: Clock, zoneId: String, locale: String? = null): Reminder?

    fun markReminderShown(id: String, clock: Clock)

    fun nextWakeup(clock: Clock, zoneId: String): Wakeup?

    fun onClockChanged(clock: Clock): Decision

    fun status(clock: Clock): Status

    fun provision(serverUrl: String, lenderKeysJson: String, allowInsecureLoopback: Boolean)

    /** Another URL of the same lender's server (keys stay pinned); debug receiver only for now. */
    fun setServerUrl(serverUrl: String, allowInsecureLoopback: Boolean)

    /** Network: never call on the main thread. */
    fun enroll(params: EnrollParams, clock: Clock): Decision
}

/** The production gateway: the generated uniffi class over the native library. */
class UniffiCore(stateDir: String, appVersion: String) : CoreGateway {
    private val core = FinlockCore(stateDir, FinlockConfig(appVersion, null, emptyList()))

    // The primitive-argument entry point: no record to marshal on the hottest call.
    override fun decision(clock: Clock) = core.decisionAt(clock.wallMs, clock.elapsedRealtimeMs, clock.bootCount)

    override fun lockScreen(clock: Clock, locale: String) = core.lockScreen(clock, locale)

    override fun checkIn(force: Boolean, clock: Clock) =
        kotlinx.coroutines.runBlocking { core.checkIn(force, clock) }

    override fun enterOfflineCode(code: String, clock: Clock) = core.enterOfflineCode(code, clock)

    override fun reminderDue(clock: Clock, zoneId: String, locale: String?) = core.reminderDue(clock, zoneId, locale)

    override fun markReminderShown(id: String, clock: Clock) = core.markReminderShown(id, clock)

    override fun nextWakeup(clock: Clock, zoneId: String) = core.nextWakeup(clock, zoneId)

    override fun onClockChanged(clock: Clock) = core.onClockChanged(clock)

    override fun status(clock: Clock) = core.status(clock)

    override fun provision(serverUrl: String, lenderKeysJson: String, allowInsecureLoopback: Boolean) =
        core.provision(serverUrl, lenderKeysJson, allowInsecureLoopback)

    override fun setServerUrl(serverUrl: String, allowInsecureLoopback: Boolean) =
        core.setServerUrl(serverUrl, allowInsecureLoopback)

    override fun enroll(params: EnrollParams, clock: Clock) =
        kotlinx.coroutines.runBlocking { core.enroll(params, clock) }
}

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
