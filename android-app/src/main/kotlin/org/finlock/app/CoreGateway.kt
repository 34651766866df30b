package org.finlock.app

import org.finlock.core.AttestationProof
import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.EnrollChallenge
import org.finlock.core.EnrollOutcome
import org.finlock.core.EnrollParams
import org.finlock.core.LockScreen
import org.finlock.core.NoticePage
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

    /** The notice page (what happens when, how to avoid it; the level's apps), for [locale]. */
    fun noticePage(clock: Clock, locale: String): NoticePage

    /**
     * The notice page was displayed (resumed and laid out): the core records its first
     * display. True when it recorded now. Once per display.
     */
    fun noticeShown(clock: Clock): Boolean

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

    /** Network: a fresh, single-use attestation challenge from the lender's server. */
    suspend fun enrollChallenge(): EnrollChallenge

    /**
     * The exact bytes the attested key signs for [challenge]; fixes (and keeps) the device's
     * enrollment key and the next request's nonce. Once per challenge; no network.
     */
    fun attestationBinding(challenge: ByteArray): ByteArray

    /**
     * Network: enrolls with the hardware [proof] or without it (null). Enrolled, or waiting
     * for the lender's approval (not an error: show it and ask again after `retryAfterS`).
     */
    suspend fun requestEnrollment(params: EnrollParams, proof: AttestationProof?, clock: Clock): EnrollOutcome

    /** The thumbprint of this device's key that waits for the lender's approval, or null. */
    fun pendingKeyThumbprint(): String?

    /**
     * The endpoint the UnifiedPush distributor gave (`""`: none any more). True: check in now
     * so the server learns it (the core limits this like a push). Refused: `InvalidInput`.
     */
    fun setPushEndpoint(endpoint: String, clock: Clock): Boolean

    /** The lender server's VAPID public key to register with, or null until it sent one. */
    fun pushKey(): String?

    /** A push arrived: true when a check-in should run now (at most once per 30 s). */
    fun pushArrived(clock: Clock): Boolean
}
