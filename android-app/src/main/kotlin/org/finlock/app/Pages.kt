package org.finlock.app

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.view.View
import android.webkit.WebResourceRequest
import android.webkit.WebView
import android.webkit.WebViewClient
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import org.finlock.core.FinlockException

/**
 * The lender's payment, support or terms page, in-app (browsers are not allowed in lock
 * task). Navigation is restricted to the host of the URL it was opened with.
 */
class WebPageActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setShowWhenLocked(true)
        val url = intent.getStringExtra(EXTRA_URL)
        val host = url?.let { Uri.parse(it).host }
        if (url == null || host == null || !isAllowed(url, host)) {
            finish()
            return
        }
        val web = WebView(this)
        web.contentDescription = url
        web.settings.javaScriptEnabled = true
        web.settings.allowFileAccess = false
        web.webViewClient = HostOnlyClient(host)
        setContentView(web)
        web.loadUrl(url)
    }

    /** Stays on one host; everything else is refused. */
    class HostOnlyClient(private val host: String) : WebViewClient() {
        override fun shouldOverrideUrlLoading(view: WebView, request: WebResourceRequest): Boolean =
            !isAllowed(request.url.toString(), host)
    }

    companion object {
        const val EXTRA_URL = "url"

        fun intent(context: Context, url: String) =
            Intent(context, WebPageActivity::class.java).putExtra(EXTRA_URL, url)

        /** https on exactly [host] (plain http only for the emulator's host and loopback). */
        fun isAllowed(url: String, host: String): Boolean {
            val uri = Uri.parse(url)
            val local = uri.host in setOf("10.0.2.2", "127.0.0.1", "localhost")
            val schemeOk = uri.scheme == "https" || (uri.scheme == "http" && local)
            return schemeOk && uri.host.equals(host, ignoreCase = true)
        }
    }
}

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
            startActivity(Intent(this, DisclosureActivity::class.java))
        }
        findViewById<Button>(R.id.finish_setup).setOnClickListener {
            startActivity(EnrollmentActivity.resumeIntent(this))
        }
    }

    override fun onResume() {
        super.onResume()
        val d = Shell.deps(this)
        val s = try {
            d.core.lockScreen(d.clocks.now(), Shell.localeTag(this))
        } catch (e: FinlockException.NotEnrolled) {
            showNotEnrolled(pending = PendingEnrollment.exists(this))
            return
        } catch (e: FinlockException) {
            showNotEnrolled(pending = false)
            return
        }
        // The core says enrolled: whatever was pending is over.
        PendingEnrollment.clear(this)
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

/** A page of headed paragraphs, for the disclosure and the release notice. */
internal fun Activity.showPage(title: Int, vararg sections: Pair<Int, Int>, close: Boolean = true) {
    val pad = (20 * resources.displayMetrics.density).toInt()
    val column = LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        setPadding(pad, pad, pad, pad)
    }
    column.addView(TextView(this).apply {
        id = R.id.title
        setText(title)
        textSize = 24f
        isAccessibilityHeading = true
    })
    for ((heading, body) in sections) {
        column.addView(TextView(this).apply {
            setText(heading)
            textSize = 18f
            isAccessibilityHeading = true
            setPadding(0, pad, 0, 0)
        })
        column.addView(TextView(this).apply {
            setText(body)
            textSize = 16f
        })
    }
    if (close) {
        column.addView(Button(this).apply {
            setText(R.string.close)
            contentDescription = getString(R.string.close)
            setOnClickListener { finish() }
        })
    }
    setContentView(ScrollView(this).apply { addView(column) })
}

/** At enrollment and later from the app: what works while locked, what the lender can and
 * cannot see or do, how to get released. */
class DisclosureActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        showPage(
            R.string.disclosure_title,
            R.string.disclosure_works_title to R.string.disclosure_works,
            R.string.disclosure_lender_title to R.string.disclosure_lender,
            R.string.disclosure_release_title to R.string.disclosure_release,
        )
    }
}

/** The one-time "paid in full" notice. */
class ReleasedActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        showPage(R.string.released_title, R.string.released_title to R.string.released_text)
    }
}
