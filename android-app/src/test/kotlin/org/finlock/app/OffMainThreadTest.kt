package org.finlock.app

import android.app.Activity
import android.os.Looper
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.finlock.core.FinlockException
import org.finlock.core.LockReason
import org.finlock.core.OfflineCodeAccepted
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLooper
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * Core calls that may touch the disk run on the shell's background thread, never the main one;
 * the screens show the answer when it comes and never a state the core did not give meanwhile.
 */
@RunWith(RobolectricTestRunner::class)
class OffMainThreadTest {
    private val core = FakeCore()

    /** The shell's background thread: real, so a read on the main thread would show. */
    private val background = Executors.newSingleThreadExecutor()

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        ShellDeps(core, FrameworkDpm(context), FIXED_CLOCK, background)
    }

    /** Waits until everything queued on [background] so far has run (it runs in order). */
    private fun flushBackground() {
        background.submit {}.get(10, TimeUnit.SECONDS)
    }

    /** Holds every core read until [release]: the screen as it is before the answer. */
    private var gate = CountDownLatch(0)

    private fun holdReads() {
        val held = CountDownLatch(1)
        gate = held
        core.beforeRead = { held.await(10, TimeUnit.SECONDS) }
    }

    private fun release() {
        core.beforeRead = {}
        gate.countDown()
        // A read's answer, shown on the main looper, may start another read: twice over.
        repeat(2) {
            shell.awaitBackground()
            flushBackground()
            ShadowLooper.idleMainLooper()
        }
    }

    /**
     * Runs the background work and the main looper until [done] or 5 s have passed: an answer
     * can start another core read on the reads executor (a real thread), whose result the main
     * looper shows only once it has been posted.
     */
    private fun settle(done: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5)
        while (true) {
            shell.awaitBackground()
            flushBackground()
            ShadowLooper.idleMainLooper()
            if (done() || System.nanoTime() > deadline) return
            Thread.sleep(5)
        }
    }

    private fun Activity.text(id: Int) = findViewById<TextView>(id).text.toString()

    private fun Activity.shown(id: Int) = findViewById<View>(id).let { it.visibility == View.VISIBLE && it.isShown }

    private fun assertNoReadOnMain() {
        val threads = core.readThreads.toList()
        assertTrue("the core was read", threads.isNotEmpty())
        assertTrue("read on the main thread: $threads", threads.none { it == Looper.getMainLooper().thread })
    }

    @Test
    fun `the lock screen reads the core off the main thread and shows its answer`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        holdReads()
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        // Before the answer: locked, nothing the core has not said, lock task already held.
        assertEquals("This device is locked", activity.text(R.id.title))
        assertEquals("", activity.text(R.id.reason))
        for (id in listOf(R.id.lender_name, R.id.amount_due, R.id.pay_now, R.id.call_lender, R.id.enter_code)) {
            assertFalse("shown before the core answered: $id", activity.shown(id))
        }
        assertTrue(activity.shown(R.id.emergency_call))
        assertTrue("lock task from the first frame", shadowOf(activity).isLockTask)
        assertFalse(activity.isFinishing)

        release()
        assertNoReadOnMain()
        assertEquals("This device is locked due to an overdue installment payment.", activity.text(R.id.reason))
        assertEquals("Lender: Jamii Phones", activity.text(R.id.lender_name))
        assertTrue(activity.shown(R.id.pay_now))
        assertTrue(activity.shown(R.id.enter_code))
        assertFalse(activity.isFinishing)
    }

    @Test
    fun `the lock screen leaves only once the core's answer says unlocked`() {
        core.decision = FakeCore.unlocked()
        holdReads()
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        assertFalse("no answer yet: the lock screen stays", activity.isFinishing)
        release()
        assertNoReadOnMain()
        assertTrue(activity.isFinishing)
    }

    @Test
    fun `across a configuration change the lock screen keeps the last answer while it reads again`() {
        core.decision = FakeCore.locked(LockReason.LENDER_REQUEST)
        val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertEquals("Lender: Jamii Phones", controller.get().text(R.id.lender_name))
        val reads = core.calls.count { it.startsWith("lockScreen") }

        holdReads()
        controller.recreate()
        val recreated = controller.get()
        // The recreated screen shows the last answer at once: no placeholder, never unlocked.
        assertEquals("Your lender has locked this device. Please contact them.", recreated.text(R.id.reason))
        assertEquals("Lender: Jamii Phones", recreated.text(R.id.lender_name))
        assertTrue(recreated.shown(R.id.pay_now))
        assertFalse(recreated.isFinishing)

        core.screen = core.screen.copy(lenderName = "Jamii Phones Ltd")
        release()
        assertNoReadOnMain()
        assertTrue("read again after the change", core.calls.count { it.startsWith("lockScreen") } > reads)
        assertEquals("Lender: Jamii Phones Ltd", recreated.text(R.id.lender_name))
    }

    @Test
    fun `a core that cannot answer leaves the lock in place`() {
        core.decision = FakeCore.locked(LockReason.OFFLINE)
        core.screenError = FinlockException.Storage("state_unreadable")
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertFalse("an error is never a reason to unlock", activity.isFinishing)
        assertTrue(shadowOf(activity).isLockTask)
        assertEquals("This device is locked", activity.text(R.id.title))
        assertFalse(activity.shown(R.id.lender_name))
    }

    @Test
    fun `the account screen reads the core off the main thread and keeps its answer across a configuration change`() {
        core.decision = FakeCore.unlocked()
        holdReads()
        val controller = Robolectric.buildActivity(AccountActivity::class.java).setup()
        val activity = controller.get()
        assertEquals("", activity.text(R.id.reason))
        assertFalse(activity.shown(R.id.pay_now))
        assertFalse(activity.shown(R.id.finish_setup))

        release()
        assertNoReadOnMain()
        assertEquals("Your account is in good standing.", activity.text(R.id.reason))
        assertEquals("Lender: Jamii Phones", activity.text(R.id.lender_name))
        assertTrue(activity.shown(R.id.pay_now))

        holdReads()
        controller.recreate()
        assertEquals("shown at once after recreation", "Your account is in good standing.", controller.get().text(R.id.reason))
        assertTrue(controller.get().shown(R.id.pay_now))
        release()
        assertNoReadOnMain()
        assertEquals("Your account is in good standing.", controller.get().text(R.id.reason))
    }

    @Test
    fun `the account screen of a device not enrolled yet reads the core off the main thread`() {
        core.enrolled = false
        val activity = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertNoReadOnMain()
        assertEquals("This device is not enrolled yet.", activity.text(R.id.reason))
        assertFalse(activity.shown(R.id.pay_now))
    }

    @Test
    fun `an unlock code is checked off the main thread and its answer shown on it`() {
        core.decision = FakeCore.locked(LockReason.OFFLINE)
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        var onMain: Boolean? = null
        core.codeResult = {
            onMain = Looper.myLooper() == Looper.getMainLooper()
            OfflineCodeAccepted(2, FakeCore.NOW + 2 * 86_400_000L, FakeCore.unlocked())
        }
        activity.findViewById<EditText>(R.id.code_input).setText("87654321")
        activity.findViewById<Button>(R.id.submit_code).performClick()
        settle { activity.isFinishing }
        assertEquals(false, onMain)
        assertEquals("Code accepted. Unlocked for 2 days.", activity.findViewById<TextView>(R.id.code_result).text.toString())
        assertTrue("unlocked: the lock screen leaves", activity.isFinishing)
    }
}
