package org.finlock.app

import android.app.Activity
import android.app.Notification
import android.app.Service
import android.content.Context
import android.content.Intent
import android.media.AudioManager
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import org.finlock.core.LockReason
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.shadows.ShadowLooper
import org.robolectric.shadows.ShadowSettings
import org.robolectric.shadows.ShadowWindowManagerImpl

/** Without Device Owner: the overlay window, held by a foreground service while locked. */
@RunWith(RobolectricTestRunner::class)
class OverlayTest {
    private val core = FakeCore()
    private val app get() = RuntimeEnvironment.getApplication()
    private val context: Context get() = app
    private val windows get() = shadowOf(context.getSystemService(WindowManager::class.java)) as ShadowWindowManagerImpl

    /** Without Device Owner; the overlay hidden afterwards. */
    @get:Rule
    val shell = ShellRule(core)

    @Before
    fun allowOverlays() {
        ShadowSettings.setCanDrawOverlays(true)
        assertFalse("a clean slate per process (FinlockApp)", OverlayFallback.engaged || OverlayFallback.showing)
    }

    private fun overlayViews() = windows.views.filter { it.id == R.id.overlay_root }

    private fun texts(view: View): List<String> = when (view) {
        is ViewGroup -> (0 until view.childCount).flatMap { texts(view.getChildAt(it)) }
        is android.widget.TextView -> listOf(view.text.toString())
        else -> emptyList()
    }

    @Test
    fun `a lock without device owner shows the overlay and starts its foreground service`() {
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        val overlay = overlayViews().single()
        assertEquals(
            WindowManager.LayoutParams.TYPE_APPLICATION_OVERLAY,
            (overlay.layoutParams as WindowManager.LayoutParams).type,
        )
        assertTrue("weaker enforcement is stated", texts(overlay).any { it.contains("enforced less strictly") })
        assertEquals("emergency first", R.id.emergency_call, LockScreenTest.firstFocusable(overlay)?.id)
        LockScreenTest.assertEveryControlDescribed(overlay)
        val started = shadowOf(app).nextStartedService
        assertEquals(OverlayService::class.java.name, started.component?.className)
        overlay.findViewById<View>(R.id.emergency_call).performClick()
        assertTrue(shadowOf(app).nextStartedActivity.action.orEmpty().contains("EMERGENCY"))
        assertFalse("the overlay steps aside for an emergency call", OverlayFallback.showing)
    }

    @Test
    fun `restricted without device owner, the overlay leads to the restricted home, which it steps aside for an allowed app`() {
        TestApps.install(context, FakeCore.PAYMENT_APP, "M-Pesa")
        core.decision = FakeCore.restricted()
        Shell.refresh(context)
        ShadowLooper.idleMainLooper()
        val overlay = overlayViews().single()
        assertTrue(texts(overlay).toString(), texts(overlay).contains("This phone is restricted"))
        assertTrue("weaker enforcement is stated", texts(overlay).any { it.contains("enforced less strictly") })
        shadowOf(app).clearNextStartedActivities()
        overlay.findViewById<View>(R.id.overlay_open).performClick()
        assertEquals(RestrictedActivity::class.java.name, shadowOf(app).nextStartedActivity?.component?.className)
        val home = Robolectric.buildActivity(RestrictedActivity::class.java).setup()
        ShadowLooper.idleMainLooper()
        assertFalse("a guest screen: no overlay over it", OverlayFallback.showing)
        assertEquals(View.VISIBLE, home.get().findViewById<View>(R.id.weaker_notice).visibility)
        home.get().findViewById<View>(R.id.allowed_apps).findViewWithTag<android.widget.Button>(FakeCore.PAYMENT_APP).performClick()
        home.pause().stop()
        ShadowLooper.idleMainLooper()
        assertFalse("the overlay steps aside for the payment app", OverlayFallback.showing)
        OverlayFallback.onScreenOff(context)
        ShadowLooper.idleMainLooper()
        assertTrue("back at the next screen-off", OverlayFallback.showing)
    }

    @Test
    fun `notice without device owner, no overlay, the phone is fully usable`() {
        core.decision = FakeCore.noticed()
        Shell.refresh(context)
        ShadowLooper.idleMainLooper()
        assertTrue(overlayViews().isEmpty())
        assertFalse(OverlayFallback.engaged)
    }

    @Test
    fun `the service runs in the foreground with a notice that enforcement is weaker`() {
        val controller = Robolectric.buildService(OverlayService::class.java, Intent(context, OverlayService::class.java))
        val service = controller.create().startCommand(0, 1).get()
        val notice = shadowOf(service).lastForegroundNotification
        assertNotNull(notice)
        assertEquals(Reminders.CHANNEL_LOCK, notice.channelId)
        assertTrue(notice.flags and Notification.FLAG_ONGOING_EVENT != 0)
        assertTrue(notice.extras.getCharSequence(Notification.EXTRA_TEXT).toString().contains("enforced less strictly"))
        assertTrue("the service holds the overlay", OverlayFallback.showing)
        controller.destroy()
        assertFalse("gone with the service", OverlayFallback.showing)
        assertTrue(overlayViews().isEmpty())
    }

    @Test
    fun `restarted by the system after the process died, the service asks the core again`() {
        core.decision = FakeCore.unlocked()
        val service = Robolectric.buildService(OverlayService::class.java).create().get()
        service.onStartCommand(null, 0, 1)
        assertTrue("decided again", core.calls.contains("decision"))
        assertEquals(
            "no longer locked: the service is stopped",
            OverlayService::class.java.name,
            shadowOf(app).nextStoppedService?.component?.className,
        )
        assertFalse(OverlayFallback.showing)
    }

    @Test
    fun `restarted without the overlay permission, the service does not enter the foreground`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        ShadowSettings.setCanDrawOverlays(false)
        val service = Robolectric.buildService(OverlayService::class.java).create().get()
        assertEquals(Service.START_NOT_STICKY, service.onStartCommand(null, 0, 1))
        assertEquals("no foreground without a visible overlay (Android 15)", null, shadowOf(service).lastForegroundNotification)
        assertTrue(shadowOf(service).isStoppedBySelf)
        assertTrue("decided again", core.calls.contains("decision"))
    }

    @Test
    fun `restarted with the overlay permission, the overlay is shown before the service enters the foreground`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        var overlayWhenForeground: Boolean? = null
        OverlayService.foregroundGuard = { overlayWhenForeground = OverlayFallback.showing }
        try {
            val service = Robolectric.buildService(OverlayService::class.java).create().get()
            assertEquals(Service.START_STICKY, service.onStartCommand(null, 0, 1))
            assertEquals(true, overlayWhenForeground)
            assertNotNull(shadowOf(service).lastForegroundNotification)
        } finally {
            OverlayService.foregroundGuard = null
        }
    }

    @Test
    fun `a refused foreground start stops the service without crashing and keeps the overlay`() {
        OverlayService.foregroundGuard = { throw android.app.ForegroundServiceStartNotAllowedException("background start") }
        try {
            val controller = Robolectric.buildService(OverlayService::class.java, Intent(context, OverlayService::class.java))
            val service = controller.create().get()
            assertEquals(Service.START_NOT_STICKY, service.onStartCommand(Intent(context, OverlayService::class.java), 0, 1))
            assertTrue(shadowOf(service).isStoppedBySelf)
            controller.destroy()
            assertTrue("the window stays while the process lives", OverlayFallback.showing)
        } finally {
            OverlayService.foregroundGuard = null
        }
    }

    @Test
    fun `unlock stops the service and removes the overlay`() {
        Shell.apply(context, FakeCore.locked(LockReason.LENDER_REQUEST))
        assertTrue(OverlayFallback.showing)
        Shell.apply(context, FakeCore.unlocked())
        assertEquals(OverlayService::class.java.name, shadowOf(app).nextStoppedService?.component?.className)
        assertFalse(OverlayFallback.showing)
        assertTrue(overlayViews().isEmpty())
    }

    @Test
    fun `release stops the service too`() {
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        Shell.apply(context, FakeCore.released())
        assertEquals(OverlayService::class.java.name, shadowOf(app).nextStoppedService?.component?.className)
        assertFalse(OverlayFallback.showing)
    }

    @Test
    fun `without the overlay permission no service is started`() {
        ShadowSettings.setCanDrawOverlays(false)
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        assertFalse(OverlayFallback.showing)
        assertNull(shadowOf(app).nextStartedService)
    }

    @Test
    fun `the overlay steps aside for the lock screen and returns when it is left`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.apply(context, core.decision)
        val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
        assertFalse("the lock screen is in front", OverlayFallback.showing)
        controller.pause().stop()
        assertTrue("left by home: the overlay is back", OverlayFallback.showing)
    }

    @Test
    fun `an emergency call from the lock screen is not covered by the overlay`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.apply(context, core.decision)
        val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
        controller.get().findViewById<View>(R.id.emergency_call).performClick()
        controller.pause().stop()
        assertTrue(OverlayFallback.engaged)
        assertFalse(OverlayFallback.showing)
    }

    /** The lock screen, in front, with the lock applied without Device Owner. */
    private fun lockScreen(): ActivityController<LockActivity> {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.apply(context, core.decision)
        assertTrue("locked: the overlay is up", OverlayFallback.showing)
        val lock = Robolectric.buildActivity(LockActivity::class.java).setup()
        assertFalse("the lock screen is in front", OverlayFallback.showing)
        return lock
    }

    /** [button] on the lock screen opens an app page; the page comes to the front (the
     * framework's order: the lock screen pauses, the page starts, the lock screen stops). */
    private fun <T : Activity> openFromLockScreen(
        lock: ActivityController<LockActivity>,
        button: Int,
        page: Class<T>,
    ): ActivityController<T> {
        lock.get().findViewById<View>(button).performClick()
        val started = shadowOf(lock.get()).nextStartedActivity
        assertEquals(page.name, started.component?.className)
        lock.pause()
        val opened = Robolectric.buildActivity(page, started).setup()
        lock.stop()
        return opened
    }

    @Test
    fun `leaving through about this lock and pressing home brings the overlay back`() {
        val lock = lockScreen()
        val about = openFromLockScreen(lock, R.id.disclosure_link, DisclosureActivity::class.java)
        assertTrue(OverlayFallback.guestInFront)
        assertFalse("about this lock is readable", OverlayFallback.showing)
        about.pause().stop() // home
        assertTrue("left the lock screen's pages: the overlay is back", OverlayFallback.showing)
        assertEquals(1, overlayViews().size)
    }

    @Test
    fun `leaving through the payment page and pressing home brings the overlay back`() {
        val lock = lockScreen()
        val payment = openFromLockScreen(lock, R.id.pay_now, WebPageActivity::class.java)
        assertFalse("the payment page is usable", OverlayFallback.showing)
        payment.pause().stop()
        assertTrue(OverlayFallback.showing)
    }

    @Test
    fun `back from about this lock to the lock screen keeps the overlay away`() {
        val lock = lockScreen()
        val about = openFromLockScreen(lock, R.id.disclosure_link, DisclosureActivity::class.java)
        about.pause()
        lock.restart().resume() // back: the lock screen returns before the page stops
        about.stop().destroy()
        assertFalse(OverlayFallback.showing)
        lock.pause().stop()
        assertTrue("and leaving the lock screen itself brings it back", OverlayFallback.showing)
    }

    @Test
    fun `after a call, the overlay returns when the screen goes off outside a call`() {
        val service = Robolectric.buildService(OverlayService::class.java, Intent(context, OverlayService::class.java))
            .create().startCommand(0, 1)
        val lock = lockScreen()
        lock.get().findViewById<View>(R.id.call_lender).performClick()
        lock.pause().stop()
        assertFalse("the dialer is not covered", OverlayFallback.showing)
        val audio = context.getSystemService(AudioManager::class.java)
        audio.mode = AudioManager.MODE_IN_CALL
        context.sendBroadcast(Intent(Intent.ACTION_SCREEN_OFF))
        ShadowLooper.idleMainLooper()
        assertFalse("never over a call", OverlayFallback.showing)
        audio.mode = AudioManager.MODE_NORMAL
        context.sendBroadcast(Intent(Intent.ACTION_SCREEN_OFF))
        ShadowLooper.idleMainLooper()
        assertTrue("the call is over: back", OverlayFallback.showing)
        service.destroy()
        assertFalse(OverlayFallback.showing)
    }

    @Test
    fun `a call coming in over the lock screen is not covered, and the overlay returns after it`() {
        Robolectric.buildService(OverlayService::class.java, Intent(context, OverlayService::class.java))
            .create().startCommand(0, 1)
        val lock = lockScreen()
        val audio = context.getSystemService(AudioManager::class.java)
        audio.mode = AudioManager.MODE_RINGTONE
        lock.pause().stop() // the incoming call's screen comes to the front
        assertFalse("the call can be answered", OverlayFallback.showing)
        audio.mode = AudioManager.MODE_NORMAL
        context.sendBroadcast(Intent(Intent.ACTION_SCREEN_OFF))
        ShadowLooper.idleMainLooper()
        assertTrue(OverlayFallback.showing)
    }

    @Test
    fun `the lock screen leaving because the core says unlocked leaves no overlay behind`() {
        val lock = lockScreen()
        core.decision = FakeCore.unlocked()
        lock.pause().stop()
        assertTrue("still locked as far as the shell knew", OverlayFallback.showing)
        lock.restart().resume() // render: the core says unlocked
        ShadowLooper.idleMainLooper() // the core's answer, read off the main thread, shown
        assertTrue(lock.get().isFinishing)
        lock.pause().stop()
        assertFalse(OverlayFallback.engaged)
        assertFalse(OverlayFallback.showing)
    }

    @Test
    fun `the app's other screens do not move the overlay aside`() {
        lockScreen().pause().stop()
        assertTrue(OverlayFallback.showing)
        Robolectric.buildActivity(AccountActivity::class.java).setup()
        assertTrue("the account screen is covered: it is no way out of the lock", OverlayFallback.showing)
    }
}
