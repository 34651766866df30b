package org.finlock.app

import android.app.Activity
import android.content.Intent
import android.net.Uri
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.finlock.core.LockScreen

/** Fills the shared details (lender, amount, due date, message, instructions, actions). */
object LockScreenBinder {
    /** [calling] runs before an action opens the dialer (another app; the pages are the app's own). */
    fun bind(activity: Activity, root: View, s: LockScreen, calling: () -> Unit = {}) {
        fun text(id: Int, value: String?) {
            val view = root.findViewById<TextView>(id)
            view.text = value ?: ""
            view.visibility = if (value.isNullOrBlank()) View.GONE else View.VISIBLE
        }
        text(R.id.lender_name, activity.getString(R.string.lender_name, s.lenderName))
        text(R.id.amount_due, activity.getString(R.string.amount_due, Format.money(s.amountDueMinor, s.currency)))
        text(R.id.due_date, s.nextDueMs?.let { activity.getString(R.string.due_date, Format.date(activity, it)) })
        text(R.id.lender_message, s.message?.let { activity.getString(R.string.lender_message, s.lenderName, it) })
        text(R.id.payment_instructions, s.paymentInstructions?.let { activity.getString(R.string.payment_instructions, it) })
        // Private details (a screen others may see): the amounts only once the user opens them.
        val details = root.findViewById<Button>(R.id.show_details)
        val hidden = s.privateDetails && details.tag != OPENED
        for (id in PRIVATE) {
            val view = root.findViewById<TextView>(id)
            if (hidden) view.visibility = View.GONE
        }
        details.visibility = if (hidden) View.VISIBLE else View.GONE
        details.setOnClickListener {
            details.tag = OPENED
            bind(activity, root, s, calling)
        }

        root.findViewById<Button>(R.id.call_lender).apply {
            text = activity.getString(R.string.call_lender, s.lenderPhone)
            contentDescription = activity.getString(R.string.call_lender_description, s.lenderPhone)
            setOnClickListener {
                calling()
                SafeLaunch.start(activity, Intent(Intent.ACTION_DIAL, Uri.fromParts("tel", s.lenderPhone, null)))
            }
        }
        root.findViewById<Button>(R.id.pay_now).setOnClickListener {
            SafeLaunch.startAfterUnlock(activity, WebPageActivity.intent(activity, s.paymentUrl))
        }
        fun link(id: Int, url: String?) = root.findViewById<Button>(id).apply {
            visibility = if (url == null) View.GONE else View.VISIBLE
            setOnClickListener {
                url?.let { SafeLaunch.startAfterUnlock(activity, WebPageActivity.intent(activity, it)) }
            }
        }
        link(R.id.support_link, s.supportUrl)
        link(R.id.terms_link, s.termsUrl)
    }

    /** What private details keep behind "Show details": amounts, dates, the lender's texts. */
    val PRIVATE = listOf(R.id.amount_due, R.id.due_date, R.id.lender_message, R.id.payment_instructions)
    private const val OPENED = "opened"
}
