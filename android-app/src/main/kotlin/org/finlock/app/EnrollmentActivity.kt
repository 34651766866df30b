package org.finlock.app

import android.app.Activity
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.os.PersistableBundle
import android.os.SystemClock
import android.text.SpannableString
import android.text.Spanned
import android.text.style.RelativeSizeSpan
import android.text.style.TypefaceSpan
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.TextView
import kotlinx.coroutines.launch
import org.finlock.core.EnrollOutcome
import org.finlock.core.FinlockException

/**
 * Enrollment: the disclosure first (what works while locked, what the lender can and cannot
 * see or do, how to get released), then — only after "I understand, continue" — the core pins
 * the lender's server and keys and enrolls, off the main thread, with progress and a result.
 * Opened with the bundle (the hand-off) or without (resuming: the [UnfinishedSetup]'s bundle). When
 * enrollment succeeds or is refused for good the kept bundle is deleted; after a network
 * or other passing error, or while the lender has not approved yet, it stays, to be resumed.
 *
 * Enrollment by IMEI (no code: an OEM preload, or the phone back after a factory reset) goes
 * with hardware proof where the phone can give one ([AttestedEnrollment]). Without a proof the
 * lender accepts, the server answers "waiting for the lender's approval": the screen says so,
 * shows the device key's thumbprint a call-centre agent compares with the console's list, and
 * asks again by itself after the time the server gave (without proof: the same device key, so
 * the lender's approval binds it). Opened again later, it goes straight back to waiting.
 */
class EnrollmentActivity : Activity() {
    enum class Stage { DISCLOSURE, WORKING, WAITING, DONE, RETRY, FAILED }

    private val main = Handler(Looper.getMainLooper())
    private val reads = CoreReads(this)
    private var bundle: ProvisioningBundle? = null

    /** Waiting for the lender's approval: the thumbprint of the key the lender approves. */
    var waitingKey: String? = null
        private set

    /** When the waiting screen asks again ([SystemClock.elapsedRealtime]). */
    private var retryAt = 0L
    private val retry = Runnable { send(attest = false) }

    /** A request is on its way: no second one (a tap, the timed retry) meanwhile. */
    private var sending = false

    /** Between onStart and onStop: this screen's timer asks again; otherwise JobScheduler. */
    private var started = false

    /** Plain http to the emulator's host: only when the debug receiver opened this screen,
     * and only in a debuggable build (QR provisioning always gets the production rule). */
    private val allowLoopback: Boolean
        get() = (intent?.getBooleanExtra(EXTRA_DEBUG_LOOPBACK, false) == true || resumedDebugLoopback) &&
            isDebuggable

    /** Resumed from an [UnfinishedSetup] the debug receiver started. */
    private var resumedDebugLoopback = false

    /** The core accepted the server and keys: a retry only enrolls again (same device key). */
    @Volatile
    private var provisioned = false

    var stage = Stage.DISCLOSURE
        private set

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_enroll)
        provisioned = savedInstanceState?.getBoolean(KEY_PROVISIONED) ?: false
        bundle = ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent))
            ?: UnfinishedSetup.load(this)?.also { resumedDebugLoopback = UnfinishedSetup.debugLoopback(this) }
        find<Button>(R.id.enroll_accept).setOnClickListener { start() }
        find<Button>(R.id.enroll_retry).setOnClickListener { start() }
        find<Button>(R.id.enroll_finish).setOnClickListener { finish() }
        val b = bundle
        val waiting = savedInstanceState?.getString(KEY_WAITING_KEY)
        when {
            b == null -> show(Stage.FAILED, getString(R.string.enroll_bad_bundle))
            // Recreated while waiting: still waiting, asking again when it was going to.
            waiting != null -> {
                find<TextView>(R.id.enroll_server).text = getString(R.string.enroll_server, b.serverUrl)
                waitForApproval(waiting, savedInstanceState.getLong(KEY_RETRY_AT) - SystemClock.elapsedRealtime())
            }
            else -> {
                find<TextView>(R.id.enroll_server).text = getString(R.string.enroll_server, b.serverUrl)
                show(Stage.DISCLOSURE, null)
                // Opened again while a request waits for the lender (the disclosure was
                // accepted then): back to waiting, and ask at once.
                if (savedInstanceState == null) {
                    reads.read({ d -> d.core.pendingKeyThumbprint() }) { key ->
                        if (key != null && stage == Stage.DISCLOSURE) waitForApproval(key, 0)
                    }
                }
            }
        }
    }

    override fun onDestroy() {
        main.removeCallbacks(retry)
        super.onDestroy()
    }

    /** Back here: the "finish setting up" notice has done its job. */
    override fun onStart() {
        super.onStart()
        started = true
        getSystemService(NotificationManager::class.java)?.cancel(UnfinishedSetup.NOTIFICATION_ID)
        // Back on the waiting screen: it asks again itself, when it was going to.
        ApprovalRetryJob.cancel(this)
        if (stage == Stage.WAITING && !sending) {
            main.removeCallbacks(retry)
            main.postDelayed(retry, (retryAt - SystemClock.elapsedRealtime()).coerceAtLeast(0))
        }
    }

    /** Left before enrollment is over (back, home, screen off): a notice leads back here. */
    override fun onStop() {
        super.onStop()
        started = false
        val over = stage == Stage.DONE || stage == Stage.FAILED
        if (!over && !isChangingConfigurations && UnfinishedSetup.exists(this)) UnfinishedSetup.notify(this)
        // Left while waiting for the lender: JobScheduler asks again (with a network, after
        // a reboot too) instead of this screen's timer, which a sleeping phone would hold up.
        if (stage == Stage.WAITING && !isChangingConfigurations) {
            main.removeCallbacks(retry)
            ApprovalRetryJob.schedule(this, retryAt - SystemClock.elapsedRealtime())
        }
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putBoolean(KEY_PROVISIONED, provisioned)
        if (stage == Stage.WAITING) {
            outState.putString(KEY_WAITING_KEY, waitingKey)
            outState.putLong(KEY_RETRY_AT, retryAt)
        }
    }

    /** "I understand, continue" and "Try again": with hardware proof where it can be given. */
    private fun start() = send(attest = true)

    /** The core's answer to one enrollment request, for the main thread. */
    private sealed interface Answer {
        class Over(val stage: Stage, val message: Int) : Answer

        class Waiting(val key: String, val retryAfterMs: Long) : Answer
    }

    /**
     * Sends one enrollment request off the main thread: by code, or by IMEI with a proof when
     * [attest] (the first try; the waiting screen's retries go without, keeping the device key
     * the lender is asked to approve).
     */
    private fun send(attest: Boolean) {
        val b = bundle ?: return
        if (sending) return
        sending = true
        main.removeCallbacks(retry)
        val d = Shell.deps(this)
        val wasWaiting = waitingKey.takeIf { stage == Stage.WAITING }
        if (wasWaiting == null) show(Stage.WORKING, getString(R.string.enroll_working))
        d.scope.launch {
            val answer: Answer = try {
                // Read here: the identifiers are in preferences on disk.
                val params = enrollParams(b)
                if (!provisioned) {
                    d.core.provision(b.serverUrl, b.lenderKeys, allowLoopback)
                    provisioned = true
                }
                val proof = if (attest && params.enrollmentCode == null) AttestedEnrollment.prove(d.core, d.dpm) else null
                when (val outcome = d.core.requestEnrollment(params, proof, d.clocks.now())) {
                    is EnrollOutcome.Enrolled -> {
                        runCatching { Shell.refresh(this@EnrollmentActivity) }
                        runCatching { UnifiedPush.sync(this@EnrollmentActivity) }
                        Answer.Over(Stage.DONE, R.string.enroll_done)
                    }
                    is EnrollOutcome.WaitingForApproval ->
                        Answer.Waiting(outcome.keyThumbprint, outcome.retryAfterS * 1000)
                }
            } catch (e: FinlockException.InvalidInput) {
                Answer.Over(Stage.FAILED, R.string.enroll_bad_bundle)
            } catch (e: FinlockException.AlreadyEnrolled) {
                // While waiting: approved and enrolled meanwhile (by ApprovalRetryJob).
                Answer.Over(Stage.DONE, if (wasWaiting != null) R.string.enroll_done else R.string.enroll_already)
            } catch (e: FinlockException.Network) {
                // Waiting already: keep waiting, and ask again when the server said (or later).
                if (wasWaiting != null) {
                    Answer.Waiting(wasWaiting, (e.retryAfterS ?: NETWORK_RETRY_S) * 1000)
                } else {
                    Answer.Over(Stage.RETRY, R.string.enroll_network)
                }
            } catch (e: FinlockException.Rejected) {
                Answer.Over(Stage.FAILED, R.string.enroll_rejected)
            } catch (e: FinlockException) {
                Log.w(TAG, "enroll: ${e.javaClass.simpleName}")
                Answer.Over(Stage.RETRY, R.string.enroll_failed)
            }
            // Over (enrolled, or refused for good): nothing left to resume. RETRY and
            // waiting for the lender keep it.
            if (answer is Answer.Over && answer.stage != Stage.RETRY) UnfinishedSetup.clear(this@EnrollmentActivity)
            main.post {
                sending = false
                if (isDestroyed) return@post
                when (answer) {
                    is Answer.Waiting -> waitForApproval(answer.key, answer.retryAfterMs)
                    is Answer.Over -> {
                        waitingKey = null
                        show(answer.stage, getString(answer.message))
                        // Enrolled: ask for what reminders and the deadline need (Permissions).
                        if (answer.stage == Stage.DONE) Permissions.request(this@EnrollmentActivity)
                    }
                }
            }
        }
    }

    /** Waiting for the lender's approval of [key]; asks again in [delayMs]. */
    private fun waitForApproval(key: String, delayMs: Long) {
        val delay = delayMs.coerceAtLeast(0)
        waitingKey = key
        retryAt = SystemClock.elapsedRealtime() + delay
        show(Stage.WAITING, getString(R.string.enroll_waiting))
        main.removeCallbacks(retry)
        if (started) main.postDelayed(retry, delay) else ApprovalRetryJob.schedule(this, delay)
    }

    private fun enrollParams(b: ProvisioningBundle) = UnfinishedSetup.enrollParams(this, b)

    private fun show(stage: Stage, message: String?) {
        this.stage = stage
        fun visible(id: Int, shown: Boolean) {
            find<View>(id).visibility = if (shown) View.VISIBLE else View.GONE
        }
        visible(R.id.enroll_disclosure, stage == Stage.DISCLOSURE || stage == Stage.WORKING)
        visible(R.id.enroll_accept, stage == Stage.DISCLOSURE)
        visible(R.id.enroll_progress, stage == Stage.WORKING || stage == Stage.WAITING)
        visible(R.id.enroll_key, stage == Stage.WAITING)
        find<TextView>(R.id.enroll_key).text = waitingKey?.takeIf { stage == Stage.WAITING }?.let(::keyText) ?: ""
        visible(R.id.enroll_retry, stage == Stage.RETRY)
        visible(R.id.enroll_finish, stage == Stage.DONE || stage == Stage.FAILED)
        visible(R.id.enroll_server, bundle != null && stage != Stage.FAILED)
        find<TextView>(R.id.enroll_status).apply {
            text = message.orEmpty()
            visibility = if (message == null) View.GONE else View.VISIBLE
        }
    }

    /** "Device key, for your lender's agent: NzbL sXh8 …", the key monospaced and larger. */
    private fun keyText(key: String): CharSequence {
        val grouped = Format.thumbprint(key)
        val text = SpannableString(getString(R.string.enroll_key, grouped))
        val at = text.lastIndexOf(grouped)
        if (at >= 0) {
            text.setSpan(TypefaceSpan("monospace"), at, at + grouped.length, Spanned.SPAN_EXCLUSIVE_EXCLUSIVE)
            text.setSpan(RelativeSizeSpan(1.25f), at, at + grouped.length, Spanned.SPAN_EXCLUSIVE_EXCLUSIVE)
        }
        return text
    }

    private fun <T : View> find(id: Int): T = findViewById(id)

    companion object {
        private const val TAG = "finlock"
        private const val KEY_PROVISIONED = "provisioned"
        private const val KEY_WAITING_KEY = "waiting_key"
        private const val KEY_RETRY_AT = "retry_at"

        /** Waiting, and the server could not be reached: ask again after this (seconds). */
        const val NETWORK_RETRY_S = 60L
        const val EXTRA_DEBUG_LOOPBACK = "org.finlock.app.debug.ALLOW_LOOPBACK"

        /** The enrollment screen for [adminExtras] (null: the screen says the bundle is bad). */
        fun intent(context: Context, adminExtras: PersistableBundle?): Intent =
            Intent(context, EnrollmentActivity::class.java).apply {
                adminExtras?.let { putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, it) }
            }

        /** The enrollment screen for the [UnfinishedSetup] (read from storage, not the intent). */
        fun resumeIntent(context: Context): Intent = Intent(context, EnrollmentActivity::class.java)
    }
}
