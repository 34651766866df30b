package org.finlock.app

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.LockScreen

/**
 * The launcher entry, also opened from a reminder: the same details as the lock screen,
 * without the lock. Not enrolled yet with an enrollment left unfinished, it offers to finish
 * setting up (the enrollment screen, disclosure first).
 */
class AccountActivity : Activity() {
    private val reads = CoreReads(this)

    /** The answer on screen (null: none yet). */
    private var state: State? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_lock)
        findViewById<TextView>(R.id.title).setText(R.string.account_title)
        for (id in listOf(R.id.emergency_call, R.id.enter_code, R.id.code_panel, R.id.check_now)) {
            findViewById<View>(id).visibility = View.GONE
        }
        findViewById<Button>(R.id.disclosure_link).setOnClickListener {
            SafeLaunch.start(this, Intent(this, DisclosureActivity::class.java))
        }
        findViewById<Button>(R.id.finish_setup).setOnClickListener {
            SafeLaunch.start(this, EnrollmentActivity.resumeIntent(this))
        }
        (lastNonConfigurationInstance as? State)?.let { show(it) } ?: showNoDetails()
    }

    /** Recreated (rotation, language, a resized window): the last answer, shown at once. */
    override fun onRetainNonConfigurationInstance(): Any? = state

    /**
     * Reads the core off the main thread (it may read the state file; the unfinished setup is
     * in preferences on disk too) and shows the answer when it comes; meanwhile the screen
     * keeps what it shows (the last answer, or no details at all).
     */
    override fun onResume() {
        super.onResume()
        reads.read({ d -> read(d) }) { answer ->
            show(answer)
            // Reminders and the deadline need these; a Device Owner has granted itself the first.
            if (answer is State.Enrolled) Permissions.request(this)
        }
    }

    private fun read(d: ShellDeps): State = try {
        val s = d.core.lockScreen(d.clocks.now(), Shell.localeTag(this))
        // The core says enrolled: whatever was pending is over.
        UnfinishedSetup.clear(this)
        State.Enrolled(s)
    } catch (e: FinlockException.NotEnrolled) {
        State.NotEnrolled(pending = UnfinishedSetup.exists(this))
    } catch (e: FinlockException) {
        Log.w(TAG, "account not readable: ${e.javaClass.simpleName}")
        State.Unreadable
    }

    /** What the screen shows: the core's answer to one read. */
    private sealed interface State {
        class Enrolled(val screen: LockScreen) : State

        /** No lender yet; "Finish setting up" when an enrollment was left [pending]. */
        class NotEnrolled(val pending: Boolean) : State

        /** The core could not answer: no lender details, and nothing it did not say. */
        object Unreadable : State
    }

    private fun show(answer: State) {
        // A failed read after a good one keeps the good one on screen.
        if (answer is State.Unreadable && state != null && state != State.Unreadable) return
        state = answer
        when (answer) {
            is State.Enrolled -> {
                val s = answer.screen
                findViewById<View>(R.id.finish_setup).visibility = View.GONE
                for (id in LENDER_DETAILS) findViewById<View>(id).visibility = View.VISIBLE
                val reason = findViewById<TextView>(R.id.reason)
                val releaseAtMs = s.decision.releaseAtMs
                when {
                    s.decision.locked -> reason.setText(LockActivity.reasonText(s))
                    // Not in good standing, not locked (§3.7): what comes, as the notice says it.
                    s.decision.level == Level.RESTRICTED -> reason.setText(R.string.restricted_title)
                    s.decision.level == Level.NOTICE -> reason.text = s.decision.lockFromMs
                        ?.let { getString(R.string.notice_lock_on, Format.date(this, it)) }
                        ?: getString(NoticeActivity.reasonText(s.decision.reason))
                    // Paid in full, completing (ADR 0012): unlocked, and the day it becomes theirs.
                    releaseAtMs != null ->
                        reason.text = getString(R.string.account_completing, Format.date(this, releaseAtMs))
                    else -> reason.setText(R.string.account_ok)
                }
                LockScreenBinder.bind(this, window.decorView, s)
            }
            is State.NotEnrolled -> showNotEnrolled(answer.pending)
            State.Unreadable -> {
                showNoDetails()
                findViewById<TextView>(R.id.reason).setText(R.string.check_failed)
            }
        }
    }

    /** No lender yet: no lender details or actions, and "Finish setting up" when [pending]. */
    private fun showNotEnrolled(pending: Boolean) {
        val reason = if (pending) R.string.account_setup_unfinished else R.string.account_not_enrolled
        findViewById<TextView>(R.id.reason).setText(reason)
        findViewById<View>(R.id.finish_setup).visibility = if (pending) View.VISIBLE else View.GONE
        for (id in LENDER_DETAILS) findViewById<View>(id).visibility = View.GONE
    }

    /** Before the first answer (or when there is none): the title, nothing else. */
    private fun showNoDetails() {
        findViewById<TextView>(R.id.reason).text = ""
        findViewById<View>(R.id.finish_setup).visibility = View.GONE
        for (id in LENDER_DETAILS) findViewById<View>(id).visibility = View.GONE
    }

    companion object {
        private const val TAG = "finlock"

        /** What only an enrolled device has: shown from the core's lock screen, or not at all. */
        val LENDER_DETAILS = listOf(
            R.id.lender_name,
            R.id.amount_due,
            R.id.due_date,
            R.id.lender_message,
            R.id.payment_instructions,
            R.id.pay_now,
            R.id.call_lender,
            R.id.support_link,
            R.id.terms_link,
        )
    }
}
