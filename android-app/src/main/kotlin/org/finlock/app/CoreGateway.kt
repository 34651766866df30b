package org.finlock.app

import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.EnrollParams
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

    /** Network: suspends until the lender answers (call it in the shell's [ShellDeps.scope]). */
    suspend fun checkIn(force: Boolean, clock: Clock): Decision

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

    /** Network: suspends until the lender answers (call it in the shell's [ShellDeps.scope]). */
    suspend fun enroll(params: EnrollParams, clock: Clock): Decision
}
