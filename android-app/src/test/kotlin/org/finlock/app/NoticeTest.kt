package org.finlock.app

import android.content.Context
import android.content.Intent
import android.os.Looper
import android.view.KeyEvent
import android.view.View
import android.widget.Button
import android.widget.ScrollView
import android.widget.TextView
import org.finlock.core.LockReason
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.shadows.ShadowLooper
import java.time.Duration

/**
 * The notice page (PROTOCOL §3.7): at each screen unlock while the core's level is notice or
 * restricted, saying what happens when and how to avoid it; closable only once read; each
 * display reported to the core once (the core measures the notice period from the first).
 */
@RunWith(RobolectricTestRunner::class)
class NoticeTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = true)

    private fun unlock(): String? {
        shadowOf(RuntimeEnvironment.getApplication()).clearNextStartedActivities()
        context.sendBroadcast(Intent(Intent.ACTION_USER_PRESENT))
        ShadowLooper.idleMainLooper()
        return shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity?.component?.className
    }

    private fun open(): ActivityController<NoticeActivity> {
        val controller = Robolectric.buildActivity(NoticeActivity::class.java).setup()
        ShadowLooper.idleMainLooper()
        return controller
    }

    private fun NoticeActivity.text(id: Int) = findViewById<TextView>(id).text.toString()

    private fun NoticeActivity.visible(id: Int) = findViewById<View>(id).visibility == View.VISIBLE

    private fun NoticeActivity.dismiss() = findViewById<Button>(R.id.notice_dismiss)

    private fun NoticeActivity.scrollToEnd() {
        val scroll = findViewById<ScrollView>(R.id.notice_scroll)
        scroll.scrollTo(0, scroll.getChildAt(0).height)
        ShadowLooper.idleMainLooper()
    }

    @Test
    fun `each unlock at notice and at restricted brings up the notice page, never at normal or locked`() {
        core.decision = FakeCore.noticed()
        assertEquals(NoticeActivity::class.java.name, unlock())
        assertEquals("again at the next unlock", NoticeActivity::class.java.name, unlock())
        core.decision = FakeCore.restricted()
        assertEquals(NoticeActivity::class.java.name, unlock())
        core.decision = FakeCore.unlocked()
        assertNull(unlock())
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        assertNull("locked: the lock screen, not the notice", unlock())
        core.decision = FakeCore.released()
        assertNull(unlock())
    }

    @Test
    fun `a display is recorded through the core once, not at each read or resume`() {
        core.decision = FakeCore.noticed()
        val controller = open()
        assertEquals(1, core.noticeShownCalls.get())
        // The core recorded it: the page, read again, says since when.
        controller.pause().resume()
        ShadowLooper.idleMainLooper()
        assertEquals("a resume is the same display", 1, core.noticeShownCalls.get())
        assertEquals(
            "This notice was first shown on ${Format.date(context, FakeCore.NOW)}.",
            controller.get().text(R.id.notice_first_shown),
        )
        controller.recreate()
        ShadowLooper.idleMainLooper()
        assertEquals("a configuration change is the same display", 1, core.noticeShownCalls.get())
        // The next unlock while the page is still open: a new display, reported again.
        controller.newIntent(NoticeActivity.intent(context))
        controller.pause().resume()
        ShadowLooper.idleMainLooper()
        assertEquals(2, core.noticeShownCalls.get())
    }

    @Test
    fun `nothing is recorded before the core's page is on screen`() {
        core.decision = FakeCore.noticed()
        val controller = Robolectric.buildActivity(NoticeActivity::class.java).create().start()
        ShadowLooper.idleMainLooper()
        assertEquals("created, not resumed: not displayed", 0, core.noticeShownCalls.get())
        controller.resume().visible()
        ShadowLooper.idleMainLooper()
        assertEquals(1, core.noticeShownCalls.get())
    }

    @Test
    fun `the page says what happens when, why, how to avoid it and since when`() {
        core.decision = FakeCore.noticed(firstShownMs = FakeCore.NOW - FakeCore.DAY)
        val page = open().get()
        val restrictOn = Format.date(context, FakeCore.NOW + 5 * FakeCore.DAY)
        val lockOn = Format.date(context, FakeCore.NOW + 12 * FakeCore.DAY)
        assertEquals(
            "From $restrictOn, this phone will be restricted: only calls, messages, emergency calls, payment apps and essential apps will work.",
            page.text(R.id.notice_restrict),
        )
        assertEquals("From $lockOn, this phone will be locked. Emergency calls will still work.", page.text(R.id.notice_lock))
        assertEquals("Why: a payment is overdue.", page.text(R.id.reason))
        assertEquals("Pay KES${Format.NBSP}1,500.00 before $restrictOn.", page.text(R.id.notice_avoid))
        assertEquals("Lender: Jamii Phones, phone +254700123456", page.text(R.id.lender_name))
        assertTrue(page.text(R.id.call_lender).contains("+254700123456"))
        assertTrue(page.visible(R.id.pay_now))
        assertEquals(
            "This notice was first shown on ${Format.date(context, FakeCore.NOW - FakeCore.DAY)}.",
            page.text(R.id.notice_first_shown),
        )
    }

    @Test
    fun `restricted now, the page says so and how to avoid the lock`() {
        core.decision = FakeCore.restricted()
        val page = open().get()
        assertTrue(page.visible(R.id.notice_now))
        assertFalse("already restricted: no restriction to announce", page.visible(R.id.notice_restrict))
        val lockOn = Format.date(context, FakeCore.NOW + 7 * FakeCore.DAY)
        assertEquals("Pay KES${Format.NBSP}1,500.00 before $lockOn.", page.text(R.id.notice_avoid))
    }

    @Test
    fun `offline, the way out is to connect`() {
        core.decision = FakeCore.noticed(LockReason.OFFLINE)
        val page = open().get()
        assertEquals("Why: this phone has not connected to your lender for too long.", page.text(R.id.reason))
        val restrictOn = Format.date(context, FakeCore.NOW + 5 * FakeCore.DAY)
        assertEquals("Connect this phone to the internet before $restrictOn.", page.text(R.id.notice_avoid))
    }

    @Test
    fun `it cannot be closed until read to the end and on screen a short while`() {
        core.decision = FakeCore.noticed()
        val controller = open()
        val page = controller.get()
        assertFalse(page.dismiss().isEnabled)
        assertTrue(page.visible(R.id.notice_read_hint))
        page.dismiss().performClick()
        page.dispatchKeyEvent(KeyEvent(KeyEvent.ACTION_DOWN, KeyEvent.KEYCODE_BACK))
        page.dispatchKeyEvent(KeyEvent(KeyEvent.ACTION_UP, KeyEvent.KEYCODE_BACK))
        assertFalse("not read yet: it stays", page.isFinishing)
        page.scrollToEnd()
        assertFalse("scrolled, but not on screen long enough", page.dismiss().isEnabled)
        shadowOf(Looper.getMainLooper()).idleFor(Duration.ofMillis(NoticeActivity.MIN_READ_MS))
        assertTrue(page.dismiss().isEnabled)
        assertFalse(page.visible(R.id.notice_read_hint))
        page.dismiss().performClick()
        assertTrue(page.isFinishing)
    }

    @Test
    fun `time alone does not make it closable, it must be scrolled to the end`() {
        core.decision = FakeCore.noticed()
        val page = open().get()
        val scroll = page.findViewById<ScrollView>(R.id.notice_scroll)
        shadowOf(Looper.getMainLooper()).idleFor(Duration.ofMillis(NoticeActivity.MIN_READ_MS))
        // Whether the page fits the screen depends on the text's size; when it does not, the end is needed.
        assertEquals(!scroll.canScrollVertically(1), page.dismiss().isEnabled)
        page.scrollToEnd()
        assertTrue(page.dismiss().isEnabled)
    }

    @Test
    fun `private details, the amounts only after the user opens them`() {
        core.decision = FakeCore.noticed()
        core.notice = FakeCore.notice(FakeCore.noticed(), privateDetails = true)
        val page = open().get()
        val amount = Format.money(150_000, "KES")
        assertFalse(page.visible(R.id.details_panel))
        assertTrue(page.visible(R.id.show_details))
        assertFalse(page.text(R.id.notice_avoid), page.text(R.id.notice_avoid).contains(amount))
        page.findViewById<Button>(R.id.show_details).performClick()
        assertTrue(page.visible(R.id.details_panel))
        assertTrue(page.visible(R.id.amount_due))
        assertEquals("Amount due: $amount", page.text(R.id.amount_due))
        assertFalse(page.visible(R.id.show_details))
    }

    @Test
    fun `without private details the amounts are on the page`() {
        core.decision = FakeCore.noticed()
        val page = open().get()
        assertTrue(page.visible(R.id.details_panel))
        assertFalse(page.visible(R.id.show_details))
    }

    @Test
    fun `the page offers the lender's payment apps that are installed`() {
        TestApps.install(context, FakeCore.PAYMENT_APP, "M-Pesa")
        core.decision = FakeCore.noticed()
        val page = open().get()
        assertTrue(page.visible(R.id.payment_apps_title))
        val button = page.findViewById<View>(R.id.payment_apps).findViewWithTag<Button>(FakeCore.PAYMENT_APP)
        assertEquals("M-Pesa", button.text.toString())
        button.performClick()
        val opened = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(FakeCore.PAYMENT_APP, opened.component?.packageName ?: opened.`package`)
    }

    @Test
    fun `the page leaves when the core says there is nothing to give notice of`() {
        core.decision = FakeCore.unlocked()
        val page = open().get()
        assertTrue(page.isFinishing)
        assertEquals("nothing to record", 0, core.noticeShownCalls.get())
    }

    @Test
    fun `the account screen at the notice says when the lock comes, not good standing`() {
        core.decision = FakeCore.noticed()
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        ShadowLooper.idleMainLooper()
        val lockOn = Format.date(context, FakeCore.NOW + 12 * FakeCore.DAY)
        assertEquals(
            "From $lockOn, this phone will be locked. Emergency calls will still work.",
            account.findViewById<TextView>(R.id.reason).text.toString(),
        )
    }

    @Test
    fun `recreated while being read, the minimum time still runs from the first display`() {
        core.decision = FakeCore.noticed()
        val controller = open()
        controller.get().scrollToEnd()
        shadowOf(Looper.getMainLooper()).idleFor(Duration.ofMillis(NoticeActivity.MIN_READ_MS / 2))
        controller.recreate()
        ShadowLooper.idleMainLooper()
        val page = controller.get()
        page.scrollToEnd()
        assertFalse("half the time read", page.dismiss().isEnabled)
        shadowOf(Looper.getMainLooper()).idleFor(Duration.ofMillis(NoticeActivity.MIN_READ_MS / 2))
        assertTrue("the rest of the time, not a new minimum", page.dismiss().isEnabled)
    }
}
