package org.finlock.app

import android.content.Context
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

    fun reminderDue(clock: Clock, zoneId: String): Reminder?

    fun markReminderShown(id: String, clock: Clock)

    fun nextWakeup(clock: Clock, zoneId: String): Wakeup?

    fun onClockChanged(clock: Clock): Decision

    fun status(clock: Clock): Status

    fun provision(serverUrl: String, lenderKeysJson: String, allowInsecureLoopback: Boolean)

    /** Network: never call on the main thread. */
    fun enroll(params: EnrollParams, clock: Clock): Decision
}

/** The production gateway: the generated uniffi class over the native library. */
class UniffiCore(stateDir: String, appVersion: String) : CoreGateway {
    private val core = FinlockCore(stateDir, FinlockConfig(appVersion, null, emptyList()))

    override fun decision(clock: Clock) = core.decision(clock)

    override fun lockScreen(clock: Clock, locale: String) = core.lockScreen(clock, locale)

    override fun checkIn(force: Boolean, clock: Clock) =
        kotlinx.coroutines.runBlocking { core.checkIn(force, clock) }

    override fun enterOfflineCode(code: String, clock: Clock) = core.enterOfflineCode(code, clock)

    override fun reminderDue(clock: Clock, zoneId: String) = core.reminderDue(clock, zoneId)

    override fun markReminderShown(id: String, clock: Clock) = core.markReminderShown(id, clock)

    override fun nextWakeup(clock: Clock, zoneId: String) = core.nextWakeup(clock, zoneId)

    override fun onClockChanged(clock: Clock) = core.onClockChanged(clock)

    override fun status(clock: Clock) = core.status(clock)

    override fun provision(serverUrl: String, lenderKeysJson: String, allowInsecureLoopback: Boolean) =
        core.provision(serverUrl, lenderKeysJson, allowInsecureLoopback)

    override fun enroll(params: EnrollParams, clock: Clock) =
        kotlinx.coroutines.runBlocking { core.enroll(params, clock) }
}

/** The three clock readings the core takes as input (it never reads a clock itself). */
fun interface Clocks {
    fun now(): Clock

    companion object {
        /** The platform's clocks: wall, elapsed realtime (deep sleep included), boot count. */
        fun system(context: Context): Clocks {
            val resolver = context.applicationContext.contentResolver
            return Clocks {
                Clock(
                    wallMs = System.currentTimeMillis(),
                    elapsedRealtimeMs = SystemClock.elapsedRealtime(),
                    bootCount = Settings.Global.getLong(resolver, Settings.Global.BOOT_COUNT, 0L),
                )
            }
        }
    }
}
