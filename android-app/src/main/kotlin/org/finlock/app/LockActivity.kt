package org.finlock.app

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.telecom.TelecomManager
import android.util.Log
import android.view.KeyEvent
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.ProgressBar
import android.widget.TextView
import android.window.OnBackInvokedDispatcher
import kotlinx.coroutines.launch
import org.finlock.core.FinlockException
import org.finlock.core.LockReason
import org.finlock.core.LockScreen

/**
 * The lock screen: HOME while locked (lock task), shown over the keyguard; back, home and
 * recents do nothing. It shows what the core's `lockScreen` returned and nothing it made up.
 */
class LockActivity : Activity() {
    private val main = Handler(Looper.getMainLooper())
    private val reads = CoreReads(this)

    /** The core's last answer on screen (null: none yet, the placeholder). */
    private var screen: LockScreen? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setShowWhenLocked(true)
        setTurnScreenOn(true)
        setContentView(R.layout.activity_lock)
        if (Build.VERSION.SDK_INT >= 33) {
            // Back does nothing while locked (predictive back included).
            onBackInvokedDispatcher.registerOnBackInvokedCallback(OnBackInvokedDispatcher.PRIORITY_OVERLAY) {}
        }
        find<Button>(R.id.emergency_call).setOnClickListener {
            // A call: the overlay fallback must not cover the dialer (OverlayFallback).
            OverlayFallback.stepAside(this)
            SafeLaunch.start(this, emergencyDialer(this))
        }
        find<Button>(R.id.check_now).setOnClickListener { checkNow() }
        find<Button>(R.id.enter_code).setOnClickListener {
            val panel = find<View>(R.id.code_panel)
            panel.visibility = if (panel.visibility == View.VISIBLE) View.GONE else View.VISIBLE
        }
        find<Button>(R.id.submit_code).setOnClickListener { submitCode() }
        // A guest page: the overlay fallback steps aside while it is in front (OverlayFallback).
        // The disclosure is direct-boot aware: it opens before the first unlock too.
        find<Button>(R.id.disclosure_link).setOnClickListener {
            SafeLaunch.start(this, Intent(this, DisclosureActivity::class.java))
        }
        find<View>(R.id.emergency_call).requestFocus()
        // Recreated: the last answer at once (then read again); first start: the placeholder.
        (lastNonConfigurationInstance as? LockScreen)?.takeIf { it.decision.locked }?.let { show(it) } ?: showPlaceholder()
        // Recreated (rotation, language, a resized window): the last answers stay on screen.
        savedInstanceState?.getCharSequence(KEY_CHECK_RESULT)?.let { showCheckResult(it.toString()) }
        savedInstanceState?.getCharSequence(KEY_CODE_RESULT)?.let { showCodeResult(it.toString()) }
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        fun keep(key: String, id: Int) {
            val view = find<TextView>(id)
            if (view.visibility == View.VISIBLE && view.text.isNotEmpty()) outState.putCharSequence(key, view.text)
        }
        keep(KEY_CHECK_RESULT, R.id.check_result)
        keep(KEY_CODE_RESULT, R.id.code_result)
    }

    /** Recreated (rotation, language, a resized window): the last answer, shown at once. */
    override fun onRetainNonConfigurationInstance(): Any? = screen

    // Without Device Owner the overlay fallback steps aside while this screen (or a page it
    // opened) is in front and comes back when the user leaves it any other way: OverlayFallback
    // follows the activity lifecycle.
    override fun onResume() {
        super.onResume()
        // Opened because the core said locked: lock task holds from the first frame, before
        // the core's lock screen is read; an answer that says otherwise ends it.
        if (screen?.decision?.locked != false && Shell.deps(this).dpm.isDeviceOwner()) startLockTaskIfPermitted()
        render()
    }

    /**
     * Reads the core's lock screen again, off the main thread (it may read the state file),
     * and shows it when it comes; meanwhile the screen keeps what it shows (the last answer,
     * or the neutral [showPlaceholder]). Leaves when no longer locked.
     */
    fun render() {
        reads.read({ d -> read(d) }) { answer ->
            when (answer) {
                is Read.Screen -> show(answer.screen)
                Read.NotEnrolled -> {
                    stopLockTaskIfRunning()
                    finish()
                }
                // The core could not answer: nothing it did not say is shown, the lock stays
                // (the last answer, or the placeholder); "check now" reads again.
                Read.Failed -> {}
            }
        }
    }

    private fun read(d: ShellDeps): Read = try {
        Read.Screen(d.core.lockScreen(d.clocks.now(), Shell.localeTag(this)))
    } catch (e: FinlockException.NotEnrolled) {
        Read.NotEnrolled
    } catch (e: FinlockException) {
        Log.w(TAG, "lock screen not readable: ${e.javaClass.simpleName}")
        Read.Failed
    }

    /** The core's answer to one read. */
    private sealed interface Read {
        class Screen(val screen: LockScreen) : Read

        object NotEnrolled : Read

        object Failed : Read
    }

    /**
     * Before the core's first answer: "This device is locked" and what works in every state
     * (emergency call, check now, about this lock); no reason, lender details or code yet.
     */
    private fun showPlaceholder() {
        find<TextView>(R.id.reason).text = ""
        for (id in AccountActivity.LENDER_DETAILS + listOf(R.id.enter_code, R.id.code_panel)) {
            find<View>(id).visibility = View.GONE
        }
    }

    private fun show(s: LockScreen) {
        screen = s
        if (!s.decision.locked) {
            // No longer locked (the core's answer moved on by itself): enforce that answer too,
            // so nothing (lock task, overlay) outlives the lock.
            Shell.apply(this, s.decision)
            stopLockTaskIfRunning()
            finish()
            return
        }
        // Lock task: started in onResume (only a resumed activity may start it).
        val d = Shell.deps(this)
        val owner = d.dpm.isDeviceOwner()
        // Android 14+ phones financed through the platform's own kiosk (DeviceLock): its role
        // holder wins lock task over any other device owner. Say so instead of failing silently.
        val financed = owner && d.dpm.isDeviceFinanced()
        find<TextView>(R.id.weaker_notice).apply {
            setText(if (financed) R.string.financed_conflict else R.string.enforcement_weaker)
            visibility = if (owner && !financed) View.GONE else View.VISIBLE
        }
        find<TextView>(R.id.reason).text = getString(reasonText(s))
        for (id in listOf(R.id.pay_now, R.id.call_lender)) find<View>(id).visibility = View.VISIBLE
        LockScreenBinder.bind(this, window.decorView, s) { OverlayFallback.stepAside(this) }
        // The lender's payment apps (lock task allows them): opened the way a call is.
        val apps = AllowedApps.fill(this, find(R.id.payment_apps), s.paymentApps) { OverlayFallback.stepAside(this) }
        find<View>(R.id.payment_apps_title).visibility = if (apps > 0) View.VISIBLE else View.GONE
        find<TextView>(R.id.notice_first_shown).apply {
            text = s.noticeFirstShownMs?.let { getString(R.string.notice_first_shown, Format.date(this@LockActivity, it)) } ?: ""
            visibility = if (s.noticeFirstShownMs == null) View.GONE else View.VISIBLE
        }
        find<TextView>(R.id.challenge).text =
            s.offlineChallenge?.let { getString(R.string.challenge, Format.challenge(it)) } ?: ""
        find<TextView>(R.id.tries_left).text =
            resources.getQuantityString(R.plurals.tries_left, s.offlineTriesLeft, s.offlineTriesLeft)
        find<Button>(R.id.enter_code).visibility = if (s.offlineChallenge != null) View.VISIBLE else View.GONE
        find<Button>(R.id.submit_code).isEnabled = !s.offlineLockedOut
        if (s.offlineLockedOut) showCodeResult(getString(R.string.code_locked_out))
    }

    private fun checkNow() {
        val d = Shell.deps(this)
        val button = find<Button>(R.id.check_now)
        button.isEnabled = false
        find<ProgressBar>(R.id.check_progress).visibility = View.VISIBLE
        showCheckResult(getString(R.string.checking))
        d.scope.launch {
            val message = try {
                val decision = d.core.checkIn(true, d.clocks.now())
                main.post { Shell.apply(this@LockActivity, decision) }
                if (decision.locked) getString(R.string.check_still_locked) else getString(R.string.check_unlocked)
            } catch (e: FinlockException.TooSoon) {
                getString(R.string.check_too_soon, e.retryAfterS.toInt())
            } catch (e: FinlockException.Network) {
                getString(R.string.check_network)
            } catch (e: FinlockException) {
                getString(R.string.check_failed)
            }
            main.post {
                find<ProgressBar>(R.id.check_progress).visibility = View.GONE
                button.isEnabled = true
                showCheckResult(message)
                render()
            }
        }
    }

    /** The code is checked off the main thread: a wrong one is counted on disk. */
    private fun submitCode() {
        val d = Shell.deps(this)
        val code = find<EditText>(R.id.code_input).text.toString()
        val submit = find<Button>(R.id.submit_code)
        submit.isEnabled = false
        d.scope.launch {
            var decision: org.finlock.core.Decision? = null
            val message = try {
                val accepted = d.core.enterOfflineCode(code, d.clocks.now())
                decision = accepted.decision
                resources.getQuantityString(R.plurals.code_accepted, accepted.days, accepted.days)
            } catch (e: FinlockException.CodeWrong) {
                getString(R.string.code_wrong) + " " +
                    resources.getQuantityString(R.plurals.tries_left, e.triesLeft, e.triesLeft)
            } catch (e: FinlockException.CodeLockedOut) {
                getString(R.string.code_locked_out)
            } catch (e: FinlockException.InvalidInput) {
                getString(R.string.code_invalid)
            } catch (e: FinlockException) {
                getString(R.string.check_failed)
            }
            main.post {
                decision?.let { Shell.apply(this@LockActivity, it) }
                submit.isEnabled = true
                showCodeResult(message)
                render()
            }
        }
    }

    private fun showCheckResult(text: String) = find<TextView>(R.id.check_result).apply {
        this.text = text
        visibility = View.VISIBLE
    }

    private fun showCodeResult(text: String) = find<TextView>(R.id.code_result).apply {
        this.text = text
        visibility = View.VISIBLE
    }

    private fun startLockTaskIfPermitted() {
        val am = getSystemService(android.app.ActivityManager::class.java)
        if (am.lockTaskModeState == android.app.ActivityManager.LOCK_TASK_MODE_NONE) {
            runCatching { startLockTask() }
        }
    }

    private fun stopLockTaskIfRunning() {
        val am = getSystemService(android.app.ActivityManager::class.java)
        if (am.lockTaskModeState != android.app.ActivityManager.LOCK_TASK_MODE_NONE) {
            runCatching { stopLockTask() }
        }
    }

    @Deprecated("Back does nothing while locked")
    @Suppress("DEPRECATION", "MissingSuperCall")
    override fun onBackPressed() {
        // Locked: back does nothing.
    }

    override fun dispatchKeyEvent(event: KeyEvent): Boolean {
        if (event.keyCode in SWALLOWED_KEYS) return true
        return super.dispatchKeyEvent(event)
    }

    /** Home or recents pressed outside lock task (no Device Owner): come straight back. */
    override fun onUserLeaveHint() {
        super.onUserLeaveHint()
        // Not known yet counts as locked: this screen is opened only when the core said so.
        if (screen?.decision?.locked != false && !Shell.deps(this).dpm.isDeviceOwner()) {
            SafeLaunch.start(this, Intent(this, LockActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_REORDER_TO_FRONT))
        }
    }

    private fun <T : View> find(id: Int): T = findViewById(id)

    companion object {
        private const val TAG = "finlock"
        private const val KEY_CHECK_RESULT = "check_result"
        private const val KEY_CODE_RESULT = "code_result"
        val SWALLOWED_KEYS = setOf(KeyEvent.KEYCODE_BACK, KeyEvent.KEYCODE_HOME, KeyEvent.KEYCODE_APP_SWITCH)

        fun reasonText(s: LockScreen): Int = when {
            s.decision.clockSuspect -> R.string.reason_clock_suspect
            s.decision.reason == LockReason.LENDER_REQUEST -> R.string.reason_lender_request
            s.decision.reason == LockReason.OFFLINE -> R.string.reason_offline
            else -> R.string.reason_overdue_payment
        }

        /** The lock screen, from outside an activity (new task, or brought to the front). */
        fun intent(context: Context): Intent = Intent(context, LockActivity::class.java)
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_REORDER_TO_FRONT)

        /** The emergency dialer (works in every state, lock task included). */
        fun emergencyDialer(context: Context): Intent {
            val telecom = context.getSystemService(TelecomManager::class.java)
            val intent = runCatching { telecom?.createLaunchEmergencyDialerIntent(null) }.getOrNull()
                ?: Intent(ACTION_EMERGENCY_DIAL)
            return intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
        }

        /** What `TelecomManager.createLaunchEmergencyDialerIntent` resolves to. */
        const val ACTION_EMERGENCY_DIAL = "android.telecom.action.EMERGENCY_DIAL"
    }
}
