package org.finlock.app

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.os.SystemClock
import android.util.Log
import android.view.KeyEvent
import android.view.View
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import android.window.OnBackInvokedCallback
import android.window.OnBackInvokedDispatcher
import kotlinx.coroutines.launch
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.finlock.core.NoticePage

/**
 * The notice page (PROTOCOL §3.7): full screen, shown at each screen unlock while the core's
 * level is notice or restricted ([onUserPresent]). It says what happens when (restricted from,
 * locked from), why, and how to avoid it (the amount — behind "Show details" when the lender
 * keeps details private —, the pay link, the lender's phone, the payment apps), and when the
 * notice was first shown.
 *
 * It closes only once read: scrolled to the end and on screen at least [MIN_READ_MS]. Once per
 * display — resumed, with the core's page laid out — it tells the core ([CoreGateway.noticeShown]),
 * which measures the notice period from the first one. The core decides; this page shows and
 * records.
 */
class NoticeActivity : Activity() {
    private val main = Handler(Looper.getMainLooper())
    private val reads = CoreReads(this)

    /** The core's last answer on screen (null: none yet). */
    private var page: NoticePage? = null
    private var resumed = false

    /** This display was reported to the core (kept across a configuration change). */
    private var recorded = false

    /** Elapsed realtime when this display began (the page laid out while resumed); 0: not yet. */
    private var shownAt = 0L
    private var scrolledToEnd = false
    private var backCallback: Any? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_notice)
        recorded = savedInstanceState?.getBoolean(KEY_RECORDED) ?: false
        shownAt = savedInstanceState?.getLong(KEY_SHOWN_AT) ?: 0L
        if (Build.VERSION.SDK_INT >= 33) {
            // Back closes the page only once it has been read (predictive back included).
            val callback = OnBackInvokedCallback { if (readable()) finish() }
            onBackInvokedDispatcher.registerOnBackInvokedCallback(OnBackInvokedDispatcher.PRIORITY_OVERLAY, callback)
            backCallback = callback
        }
        find<Button>(R.id.emergency_call).setOnClickListener {
            OverlayFallback.stepAside(this)
            SafeLaunch.start(this, LockActivity.emergencyDialer(this))
        }
        find<Button>(R.id.show_details).setOnClickListener {
            find<View>(R.id.details_panel).visibility = View.VISIBLE
            it.visibility = View.GONE
            updateDismiss()
        }
        find<Button>(R.id.notice_dismiss).setOnClickListener { if (readable()) finish() }
        find<ScrollView>(R.id.notice_scroll).setOnScrollChangeListener { _, _, _, _, _ -> checkScrolled() }
        (lastNonConfigurationInstance as? NoticePage)?.let { show(it) } ?: showPlaceholder()
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        // Another unlock while the page was still open: a new display, reported again.
        recorded = false
        shownAt = 0L
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putBoolean(KEY_RECORDED, recorded)
        outState.putLong(KEY_SHOWN_AT, shownAt)
    }

    override fun onRetainNonConfigurationInstance(): Any? = page

    override fun onResume() {
        super.onResume()
        resumed = true
        reads.read({ d -> read(d) }) { answer ->
            when (answer) {
                is Read.Page -> show(answer.page)
                // Not enrolled (any more), or nothing to give notice of: nothing to show.
                Read.Gone -> finish()
                Read.Failed -> {}
            }
        }
        if (page != null) displayed()
    }

    override fun onPause() {
        super.onPause()
        resumed = false
    }

    private fun read(d: ShellDeps): Read = try {
        Read.Page(d.core.noticePage(d.clocks.now(), Shell.localeTag(this)))
    } catch (e: FinlockException.NotEnrolled) {
        Read.Gone
    } catch (e: FinlockException) {
        Log.w(TAG, "notice page not readable: ${e.javaClass.simpleName}")
        Read.Failed
    }

    private sealed interface Read {
        class Page(val page: NoticePage) : Read

        object Gone : Read

        object Failed : Read
    }

    /** Before the core's answer: the title only, nothing the core did not say. */
    private fun showPlaceholder() {
        for (id in CONTENT) find<View>(id).visibility = View.GONE
        updateDismiss()
    }

    private fun show(p: NoticePage) {
        val level = p.decision.level
        if (p.decision.released || p.decision.locked || !(level == Level.NOTICE || level == Level.RESTRICTED)) {
            // No notice to give (paid, extended) or the lock screen's turn: enforce, then leave.
            if (p.decision.locked || p.decision.released) Shell.apply(this, p.decision)
            finish()
            return
        }
        val first = page == null
        page = p
        for (id in CONTENT) find<View>(id).visibility = View.VISIBLE
        fun text(id: Int, value: String?) = find<TextView>(id).apply {
            text = value ?: ""
            visibility = if (value.isNullOrBlank()) View.GONE else View.VISIBLE
        }
        text(R.id.notice_now, if (level == Level.RESTRICTED) getString(R.string.notice_restricted_now) else null)
        val restrictFrom = p.restrictFromMs?.takeIf { level == Level.NOTICE }
        text(R.id.notice_restrict, restrictFrom?.let { getString(R.string.notice_restrict_on, Format.date(this, it)) })
        text(R.id.notice_lock, p.lockFromMs?.let { getString(R.string.notice_lock_on, Format.date(this, it)) })
        text(R.id.reason, getString(reasonText(p.reason)))
        // The first step still to come: what paying (or connecting) in time avoids.
        val deadline = restrictFrom ?: p.lockFromMs
        val avoid = when {
            p.reason == LockReason.OFFLINE ->
                deadline?.let { getString(R.string.notice_avoid_offline, Format.date(this, it)) }
                    ?: getString(R.string.notice_avoid_offline_now)
            p.privateDetails -> deadline?.let { getString(R.string.notice_avoid_private, Format.date(this, it)) }
                ?: getString(R.string.notice_avoid_private_now)
            else -> {
                val amount = Format.money(p.amountDueMinor, p.currency)
                deadline?.let { getString(R.string.notice_avoid_pay, amount, Format.date(this, it)) }
                    ?: getString(R.string.notice_avoid_pay_now, amount)
            }
        }
        text(R.id.notice_avoid, avoid)
        text(R.id.lender_name, getString(R.string.lender_name_phone, p.lenderName, p.lenderPhone))
        text(R.id.amount_due, getString(R.string.amount_due, Format.money(p.amountDueMinor, p.currency)))
        text(R.id.due_date, p.nextDueMs?.let { getString(R.string.due_date, Format.date(this, it)) })
        text(R.id.lender_message, p.message?.let { getString(R.string.lender_message, p.lenderName, it) })
        text(R.id.payment_instructions, p.paymentInstructions?.let { getString(R.string.payment_instructions, it) })
        // Private: the amounts wait behind "Show details" (a screen others may see), opened by
        // the user only; an answer read again keeps them open once opened.
        if (first) {
            find<View>(R.id.details_panel).visibility = if (p.privateDetails) View.GONE else View.VISIBLE
            find<View>(R.id.show_details).visibility = if (p.privateDetails) View.VISIBLE else View.GONE
        } else if (!p.privateDetails) {
            find<View>(R.id.details_panel).visibility = View.VISIBLE
            find<View>(R.id.show_details).visibility = View.GONE
        } else if (find<View>(R.id.details_panel).visibility != View.VISIBLE) {
            find<View>(R.id.show_details).visibility = View.VISIBLE
        }
        find<Button>(R.id.call_lender).apply {
            text = getString(R.string.call_lender, p.lenderPhone)
            contentDescription = getString(R.string.call_lender_description, p.lenderPhone)
            setOnClickListener {
                OverlayFallback.stepAside(this@NoticeActivity)
                SafeLaunch.start(this@NoticeActivity, Intent(Intent.ACTION_DIAL, Uri.fromParts("tel", p.lenderPhone, null)))
            }
        }
        find<Button>(R.id.pay_now).setOnClickListener {
            SafeLaunch.startAfterUnlock(this, WebPageActivity.intent(this, p.paymentUrl))
        }
        val apps = AllowedApps.fill(this, find<LinearLayout>(R.id.payment_apps), p.paymentApps) {
            OverlayFallback.stepAside(this)
        }
        find<View>(R.id.payment_apps_title).visibility = if (apps > 0) View.VISIBLE else View.GONE
        text(
            R.id.notice_first_shown,
            p.firstShownMs?.let { getString(R.string.notice_first_shown, Format.date(this, it)) }
                ?: getString(R.string.notice_every_unlock),
        )
        if (resumed) displayed()
    }

    /**
     * The page is on screen: once it is laid out (its size known, so "scrolled to the end" is
     * too), the display starts — the minimum reading time runs from here — and is reported to
     * the core once.
     */
    private fun displayed() {
        val root = find<View>(R.id.notice_root)
        root.post {
            if (!resumed || page == null || isFinishing) return@post
            if (shownAt == 0L) shownAt = SystemClock.elapsedRealtime()
            // Also after a recreation (the display's start is kept): the rest of the minimum.
            val remaining = MIN_READ_MS - (SystemClock.elapsedRealtime() - shownAt)
            if (remaining > 0) main.postDelayed({ updateDismiss() }, remaining)
            checkScrolled()
            if (!recorded) {
                recorded = true
                val d = Shell.deps(this)
                d.scope.launch {
                    try {
                        d.core.noticeShown(d.clocks.now())
                    } catch (e: FinlockException) {
                        // Not recorded: the core keeps waiting for a display (the safe side).
                        Log.w(TAG, "notice not recorded: ${e.javaClass.simpleName}")
                        main.post { recorded = false }
                    }
                }
            }
        }
    }

    private fun checkScrolled() {
        val scroll = find<ScrollView>(R.id.notice_scroll)
        if (!scroll.canScrollVertically(1)) scrolledToEnd = true
        updateDismiss()
    }

    /** Read: the core's page shown, scrolled to its end, and on screen at least [MIN_READ_MS]. */
    fun readable(): Boolean =
        page != null && scrolledToEnd && shownAt != 0L && SystemClock.elapsedRealtime() - shownAt >= MIN_READ_MS

    private fun updateDismiss() {
        val ok = readable()
        find<Button>(R.id.notice_dismiss).apply {
            isEnabled = ok
            alpha = if (ok) 1f else 0.5f
        }
        find<View>(R.id.notice_read_hint).visibility = if (ok || page == null) View.GONE else View.VISIBLE
    }

    override fun onDestroy() {
        main.removeCallbacksAndMessages(null)
        if (Build.VERSION.SDK_INT >= 33) {
            (backCallback as? OnBackInvokedCallback)?.let { onBackInvokedDispatcher.unregisterOnBackInvokedCallback(it) }
        }
        super.onDestroy()
    }

    @Deprecated("Back closes the page once read")
    @Suppress("DEPRECATION")
    override fun onBackPressed() {
        if (readable()) super.onBackPressed()
    }

    override fun dispatchKeyEvent(event: KeyEvent): Boolean {
        if (event.keyCode == KeyEvent.KEYCODE_BACK && !readable()) return true
        return super.dispatchKeyEvent(event)
    }

    private fun <T : View> find(id: Int): T = findViewById(id)

    companion object {
        private const val TAG = "finlock"
        private const val KEY_RECORDED = "notice.recorded"
        private const val KEY_SHOWN_AT = "notice.shown_at"

        /** The least time the page is on screen before it can be closed. */
        const val MIN_READ_MS = 5_000L

        /** What the placeholder hides until the core's page comes. */
        private val CONTENT = listOf(
            R.id.notice_now, R.id.notice_restrict, R.id.notice_lock, R.id.reason, R.id.notice_avoid_title,
            R.id.notice_avoid, R.id.lender_name, R.id.show_details, R.id.details_panel, R.id.pay_now,
            R.id.call_lender, R.id.payment_apps_title, R.id.notice_first_shown,
        )

        fun reasonText(reason: LockReason?): Int = when (reason) {
            LockReason.LENDER_REQUEST -> R.string.notice_why_lender
            LockReason.OFFLINE -> R.string.notice_why_offline
            else -> R.string.notice_why_overdue
        }

        fun intent(context: Context): Intent = Intent(context, NoticeActivity::class.java)
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP)

        /**
         * The screen was unlocked (ACTION_USER_PRESENT): at notice and restricted the page
         * comes up, every time. The decision is read off the main thread.
         */
        fun onUserPresent(context: Context) {
            val d = Shell.deps(context)
            d.scope.launch {
                val decision = try {
                    d.core.decision(d.clocks.now())
                } catch (e: FinlockException) {
                    return@launch
                }
                val level = decision.level
                if (decision.released || decision.locked || !(level == Level.NOTICE || level == Level.RESTRICTED)) return@launch
                main(context) { SafeLaunch.start(context, intent(context)) }
            }
        }

        private fun main(context: Context, work: () -> Unit) {
            if (Looper.myLooper() == Looper.getMainLooper()) work() else Handler(context.mainLooper).post(work)
        }
    }
}
