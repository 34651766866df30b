package org.finlock.app

import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockException
import org.finlock.core.LockReason
import org.finlock.core.LockScreen
import org.finlock.core.Moment
import org.finlock.core.OfflineCodeAccepted
import org.finlock.core.Reminder
import org.finlock.core.Status
import org.finlock.core.Wakeup

/** A core that answers what the test set, and records what the shell asked. */
class FakeCore : CoreGateway {
    var decision: Decision = unlocked()
    var screen: LockScreen = screen(locked(LockReason.OVERDUE_PAYMENT))
    var checkInResult: () -> Decision = { decision }
    var codeResult: (String) -> OfflineCodeAccepted = { throw FinlockException.CodeWrong("offline_code_wrong", 4) }
    var reminder: Reminder? = null
    var wakeup: Wakeup? = null
    var provisionResult: () -> Unit = {}
    var enrollResult: () -> Decision = { decision }
    var enrolledWith: EnrollParams? = null

    /** False: the calls that need an enrolled device answer NotEnrolled (a successful enroll sets it). */
    var enrolled = true
    val calls = mutableListOf<String>()

    private fun requireEnrolled() {
        if (!enrolled) throw FinlockException.NotEnrolled("not_enrolled")
    }

    override fun decision(clock: Clock): Decision {
        calls += "decision"
        requireEnrolled()
        return decision
    }

    override fun lockScreen(clock: Clock, locale: String): LockScreen {
        calls += "lockScreen($locale)"
        requireEnrolled()
        return screen.copy(decision = decision)
    }

    override suspend fun checkIn(force: Boolean, clock: Clock): Decision {
        calls += "checkIn(force=$force)"
        return checkInResult().also { decision = it }
    }

    override fun enterOfflineCode(code: String, clock: Clock): OfflineCodeAccepted {
        calls += "enterOfflineCode($code)"
        return codeResult(code).also { decision = it.decision }
    }

    override fun reminderDue(clock: Clock, zoneId: String, locale: String?) = reminder.also { calls += "reminderDue($locale)" }

    override fun markReminderShown(id: String, clock: Clock) {
        calls += "markReminderShown($id)"
        reminder = null
    }

    override fun nextWakeup(clock: Clock, zoneId: String) = wakeup.also { calls += "nextWakeup" }

    override fun onClockChanged(clock: Clock): Decision {
        calls += "onClockChanged"
        requireEnrolled()
        return decision
    }

    override fun status(clock: Clock): Status = throw FinlockException.NotEnrolled("not_enrolled")

    override fun provision(serverUrl: String, lenderKeysJson: String, allowInsecureLoopback: Boolean) {
        calls += "provision($serverUrl, $lenderKeysJson, $allowInsecureLoopback)"
        provisionResult()
    }

    override fun setServerUrl(serverUrl: String, allowInsecureLoopback: Boolean) {
        calls += "setServerUrl($serverUrl, $allowInsecureLoopback)"
    }

    override suspend fun enroll(params: EnrollParams, clock: Clock): Decision {
        calls += "enroll(${params.enrollmentCode})"
        enrolledWith = params
        return enrollResult().also {
            decision = it
            enrolled = true
        }
    }

    companion object {
        const val NOW = 1_767_225_600_000L // 2026-01-01T00:00:00Z

        fun unlocked() = Decision(false, null, false, false, NOW, null)

        fun locked(reason: LockReason, clockSuspect: Boolean = false) =
            Decision(true, reason, clockSuspect, false, NOW, null)

        fun released() = Decision(false, null, false, true, NOW, null)

        fun moment(elapsed: Long, delay: Long = 0) = Moment(NOW + delay, delay, elapsed)

        fun screen(decision: Decision) = LockScreen(
            decision = decision,
            lenderName = "Jamii Phones",
            lenderPhone = "+254700123456",
            lenderEmail = "help@jamii.example",
            paymentUrl = "https://pay.jamii.example/device/42",
            supportUrl = "https://jamii.example/support",
            termsUrl = "https://jamii.example/terms",
            paymentInstructions = "M-Pesa paybill 400200, account 42",
            amountDueMinor = 150_000,
            currency = "KES",
            nextDueMs = NOW - 3 * 86_400_000L,
            message = "Please pay your December installment.",
            offlineChallenge = "12345678",
            offlineTriesLeft = 5,
            offlineLockedOut = false,
            offlineLockedOutUntilMs = null,
        )
    }
}
