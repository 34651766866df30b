package org.finlock.app

import org.finlock.core.AttestationProof
import org.finlock.core.Clock
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockConfig
import org.finlock.core.FinlockCore

/** The production gateway: the generated uniffi class over the native library. */
class UniffiCore(stateDir: String, appVersion: String) : CoreGateway {
    private val core = FinlockCore(stateDir, FinlockConfig(appVersion, null, emptyList()))

    // The primitive-argument entry point: no record to marshal on the hottest call.
    override fun decision(clock: Clock) = core.decisionAt(clock.wallMs, clock.elapsedRealtimeMs, clock.bootCount)

    override fun lockScreen(clock: Clock, locale: String) = core.lockScreen(clock, locale)

    override fun noticePage(clock: Clock, locale: String) = core.noticePage(clock, locale)

    override fun noticeShown(clock: Clock) = core.noticeShown(clock)

    override suspend fun checkIn(force: Boolean, clock: Clock) = core.checkIn(force, clock)

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

    override suspend fun enroll(params: EnrollParams, clock: Clock) = core.enroll(params, clock)

    override suspend fun enrollChallenge() = core.enrollChallenge()

    override fun attestationBinding(challenge: ByteArray) = core.attestationBinding(challenge)

    override suspend fun requestEnrollment(params: EnrollParams, proof: AttestationProof?, clock: Clock) =
        core.requestEnrollment(params, proof, clock)

    override fun pendingKeyThumbprint() = core.pendingKeyThumbprint()

    override fun setPushEndpoint(endpoint: String, clock: Clock) = core.setPushEndpoint(endpoint, clock)

    override fun pushKey() = core.pushKey()

    override fun pushArrived(clock: Clock) = core.pushArrived(clock)
}
