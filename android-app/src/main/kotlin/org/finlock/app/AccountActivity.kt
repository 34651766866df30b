package org.finlock.app

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.finlock.core.FinlockException

/**
 * The launcher entry, also opened from a reminder: the same details as the lock screen,
 * without the lock. Not enrolled yet with an enrollment left unfinished, it offers to finish
 * setting up (the enrollment screen, disclosure first).
 */
class AccountActivity : Activity() {
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
    }

    override fun onResume() {
        super.onResume()
        val d = Shell.deps(this)
        val s = try {
            d.core.lockScreen(d.clocks.now(), Shell.localeTag(this))
        } catch (e: FinlockException.NotEnrolled) {
            showNotEnrolled(pending = UnfinishedSetup.exists(this))
            return
        } catch (e: FinlockException) {
            showNotEnrolled(pending = false)
            return
        }
        // The core says enrolled: whatever was pending is over.
        UnfinishedSetup.clear(this)
        // Reminders and the deadline need these; a Device Owner has granted itself the first.
        Permissions.request(this)
        findViewById<View>(R.id.finish_setup).visibility = View.GONE
        for (id in LENDER_DETAILS) findViewById<View>(id).visibility = View.VISIBLE
        val reason = findViewById<TextView>(R.id.reason)
        reason.setText(if (s.decision.locked) LockActivity.reasonText(s) else R.string.account_ok)
        LockScreenBinder.bind(this, window.decorView, s)
    }

    /** No lender yet: no lender details or actions, and "Finish setting up" when [pending]. */
    private fun showNotEnrolled(pending: Boolean) {
        val reason = if (pending) R.string.account_setup_unfinished else R.string.account_not_enrolled
        findViewById<TextView>(R.id.reason).setText(reason)
        findViewById<View>(R.id.finish_setup).visibility = if (pending) View.VISIBLE else View.GONE
        for (id in LENDER_DETAILS) findViewById<View>(id).visibility = View.GONE
    }

    companion object {
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
