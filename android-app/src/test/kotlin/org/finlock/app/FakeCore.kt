package org.finlock.app

import org.finlock.core.AttestationProof
import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.EnrollChallenge
import org.finlock.core.EnrollOutcome
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.finlock.core.LockScreen
import org.finlock.core.Moment
import org.finlock.core.NoticePage
import org.finlock.core.OfflineCodeAccepted
import org.finlock.core.Reminder
import org.finlock.core.Status
import org.finlock.core.Wakeup
import java.util.Collections

/** A core that answers what the test set, and records what the shell asked. */
class FakeCore : CoreGateway {
    var decision: Decision = unlocked()
    var screen: LockScreen = screen(locked(LockReason.OVERDUE_PAYMENT))

    /** What `noticePage` answers (with [decision] in it). */
    var notice: NoticePage = notice(noticed())

    /** How many times `noticeShown` was called (it records the first display, as the core does). */
    val noticeShownCalls = java.util.concurrent.atomic.AtomicInteger()
    var checkInResult: () -> Decision = { decision }
    var codeResult: (String) -> OfflineCodeAccepted = { throw FinlockException.CodeWrong("offline_code_wrong", 4) }
    var reminder: Reminder? = null
    var wakeup: Wakeup? = null
    var provisionResult: () -> Unit = {}
    var enrollResult: () -> Decision = { decision }
    var enrolledWith: EnrollParams? = null

    /** What `enrollChallenge` answers (32 bytes from the server, in the real core). */
    var challenge = ByteArray(32) { (it * 3 + 1).toByte() }
    var challengeResult: () -> EnrollChallenge = { EnrollChallenge(challenge, NOW + 300_000) }

    /** What `attestationBinding` answers, and the challenges it was asked for. */
    var binding = ByteArray(110) { (it * 7 + 5).toByte() }
    val bindingsFor = mutableListOf<ByteArray>()

    /** What `requestEnrollment` answers for a proof (or none); by default [enrollResult]'s decision. */
    var enrollOutcome: (AttestationProof?) -> EnrollOutcome = { EnrollOutcome.Enrolled(enrollResult()) }

    /** The proofs `requestEnrollment` was sent, in order (null: none). */
    val proofs: MutableList<AttestationProof?> = Collections.synchronizedList(mutableListOf())

    /** The key waiting for the lender's approval (set by a waiting answer, cleared by enrolling). */
    @Volatile
    var pendingThumbprint: String? = null

    /** Thrown by [lockScreen] when set (a core that cannot read its state). */
    var screenError: FinlockException? = null

    /** The threads the core's reads (decision, lockScreen, status) ran on, in order. */
    val readThreads: MutableList<Thread> = Collections.synchronizedList(mutableListOf())

    /** Runs as each read starts: a test blocks here to look at a screen before the answer. */
    @Volatile
    var beforeRead: () -> Unit = {}

    private fun reading() {
        readThreads += Thread.currentThread()
        beforeRead()
    }

    /** False: the calls that need an enrolled device answer NotEnrolled (a successful enroll sets it). */
    var enrolled = true
    val calls = mutableListOf<String>()

    private fun requireEnrolled() {
        if (!enrolled) throw FinlockException.NotEnrolled("not_enrolled")
    }

    override fun decision(clock: Clock): Decision {
        calls += "decision"
        reading()
        requireEnrolled()
        return decision
    }

    override fun lockScreen(clock: Clock, locale: String): LockScreen {
        calls += "lockScreen($locale)"
        reading()
        requireEnrolled()
        screenError?.let { throw it }
        return screen.copy(decision = decision)
    }

    override fun noticePage(clock: Clock, locale: String): NoticePage {
        calls += "noticePage($locale)"
        reading()
        requireEnrolled()
        val d = decision
        return notice.copy(
            decision = d,
            restrictFromMs = d.restrictFromMs,
            lockFromMs = d.lockFromMs,
            reason = d.reason,
            firstShownMs = d.noticeFirstShownMs,
        )
    }

    /** As the core: records the first display at the notice levels, once. */
    override fun noticeShown(clock: Clock): Boolean {
        calls += "noticeShown"
        noticeShownCalls.incrementAndGet()
        requireEnrolled()
        val d = decision
        val noticeLevel = d.level == Level.NOTICE || d.level == Level.RESTRICTED
        if (!noticeLevel || d.noticeFirstShownMs != null) return false
        decision = d.copy(noticeFirstShownMs = clock.wallMs)
        return true
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

    override fun status(clock: Clock): Status {
        reading()
        throw FinlockException.NotEnrolled("not_enrolled")
    }

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

    override suspend fun enrollChallenge(): EnrollChallenge {
        calls += "challenge"
        return challengeResult()
    }

    override fun attestationBinding(challenge: ByteArray): ByteArray {
        calls += "attestationBinding"
        bindingsFor += challenge
        return binding
    }

    /** Recorded as `enroll(code)`, like [enroll]: the shell's one way to enroll. */
    override suspend fun requestEnrollment(params: EnrollParams, proof: AttestationProof?, clock: Clock): EnrollOutcome {
        calls += "enroll(${params.enrollmentCode})"
        enrolledWith = params
        proofs += proof
        return enrollOutcome(proof).also {
            when (it) {
                is EnrollOutcome.Enrolled -> {
                    decision = it.decision
                    enrolled = true
                    pendingThumbprint = null
                }
                is EnrollOutcome.WaitingForApproval -> pendingThumbprint = it.keyThumbprint
            }
        }
    }

    /** A read, not a request: counted apart from [calls] ("nothing sent" stays empty). */
    override fun pendingKeyThumbprint(): String? {
        thumbprintReads.incrementAndGet()
        reading()
        return pendingThumbprint
    }

    val thumbprintReads = java.util.concurrent.atomic.AtomicInteger()

    /** The endpoints reported, in order; what `setPushEndpoint` answers. */
    val pushEndpoints = mutableListOf<String>()
    var setPushEndpointResult: (String) -> Boolean = { true }
    var pushKey: String? = null

    /** What `pushArrived` answers, in turn (then false); each call is recorded as `pushArrived`. */
    val pushAnswers = ArrayDeque<Boolean>()

    override fun setPushEndpoint(endpoint: String, clock: Clock): Boolean {
        calls += "setPushEndpoint($endpoint)"
        pushEndpoints += endpoint
        return setPushEndpointResult(endpoint)
    }

    override fun pushKey(): String? = pushKey

    override fun pushArrived(clock: Clock): Boolean {
        calls += "pushArrived"
        requireEnrolled()
        return pushAnswers.removeFirstOrNull() ?: false
    }

    companion object {
        const val NOW = 1_767_225_600_000L // 2026-01-01T00:00:00Z

        const val DAY = 86_400_000L

        fun unlocked() = Decision(false, null, false, false, NOW, null, level = Level.NORMAL)

        fun locked(reason: LockReason, clockSuspect: Boolean = false) = Decision(
            true, reason, clockSuspect, false, NOW, null,
            level = Level.LOCKED,
            noticeFirstShownMs = NOW - 3 * DAY,
        )

        fun released() = Decision(false, null, false, true, NOW, null, level = Level.NORMAL)

        /** The notice: restricted in 5 days, locked in 12, unless paid ([reason] of the coming step). */
        fun noticed(reason: LockReason = LockReason.OVERDUE_PAYMENT, firstShownMs: Long? = null) = Decision(
            false, reason, false, false, NOW, null,
            level = Level.NOTICE,
            noticeFirstShownMs = firstShownMs,
            restrictFromMs = NOW + 5 * DAY,
            lockFromMs = NOW + 12 * DAY,
        )

        /** Restricted since 2 days, locked in 7, unless paid. */
        fun restricted(reason: LockReason = LockReason.OVERDUE_PAYMENT) = Decision(
            false, reason, false, false, NOW, null,
            level = Level.RESTRICTED,
            noticeFirstShownMs = NOW - 3 * DAY,
            restrictFromMs = NOW - 2 * DAY,
            lockFromMs = NOW + 7 * DAY,
        )

        /** The lender's payment app and essential of [notice] (installed by the tests that open them). */
        const val PAYMENT_APP = "com.example.mpesa"
        const val ESSENTIAL = "com.example.health"

        fun notice(decision: Decision, privateDetails: Boolean = false) = NoticePage(
            decision = decision,
            lenderName = "Jamii Phones",
            lenderPhone = "+254700123456",
            paymentUrl = "https://pay.jamii.example/device/42",
            paymentInstructions = "M-Pesa paybill 400200, account 42",
            amountDueMinor = 150_000,
            currency = "KES",
            nextDueMs = NOW - 3 * DAY,
            restrictFromMs = decision.restrictFromMs,
            lockFromMs = decision.lockFromMs,
            reason = decision.reason,
            firstShownMs = decision.noticeFirstShownMs,
            privateDetails = privateDetails,
            paymentApps = listOf(PAYMENT_APP),
            essentials = listOf(ESSENTIAL),
            message = "Please pay your December installment.",
        )

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
            paymentApps = listOf(PAYMENT_APP),
            noticeFirstShownMs = NOW - 3 * DAY,
        )
    }
}
