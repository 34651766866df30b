package org.finlock.app

import android.app.Notification
import android.app.NotificationManager
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.UserManager
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import kotlinx.coroutines.runBlocking
import org.finlock.core.Clock
import org.finlock.core.EntitlementState
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.finlock.core.bridgetest.DAY_MS
import org.finlock.core.bridgetest.LocalServer
import org.finlock.core.bridgetest.PhoneClock
import org.finlock.core.bridgetest.params
import org.finlock.core.bridgetest.tempStateDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLooper
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.Executors

/**
 * The shell over the REAL core: the host build of the native library (through JNA and the
 * generated bindings, exactly the classes the app ships) and a real `finlock serve` on
 * loopback (`LocalServer` of the bridge's Kotlin tests). Everything the other tests fake —
 * the decision, the lock screen's texts, the reminder, the check-in — comes from Rust here.
 * Only the phone's clocks are the test's, so days can pass.
 */
@RunWith(RobolectricTestRunner::class)
class RealCoreTest {
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private val phone = PhoneClock()
    private lateinit var core: UniffiCore
    private lateinit var deviceId: String
    private val userManager get() = context.getSystemService(UserManager::class.java)
    private val notifications get() = shadowOf(context.getSystemService(NotificationManager::class.java))

    /** A device enrolled with the real server; a real background thread, since the real
     * core's check-in suspends on the network. */
    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        val registered = LocalServer.registerDevice(phone.wallMs)
        deviceId = registered.deviceId
        core = UniffiCore(tempStateDir(), "1.0.0-test")
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        runBlocking { core.enroll(params(registered.enrollmentCode), phone.now()) }
        ShellDeps(core, FrameworkDpm(context), Clocks { phone.now() }, Executors.newSingleThreadExecutor())
    }

    /** "I have paid — check now", and its answer on the screen. */
    private fun LockActivity.checkNow() {
        findViewById<Button>(R.id.check_now).performClick()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
    }

    private fun now(): Clock = phone.now()

    /** The lock screen, once the core's answer (read off the main thread) is on it. */
    private fun lockScreen(): LockActivity {
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        return activity
    }

    /**
     * The lender releases a paid-off phone at once (`completing_window_s` 0): the default
     * 48-hour window (ADR 0012) runs on the server's own clock, which this test cannot move.
     */
    private fun releaseAtOnceWhenPaid() {
        val put = HttpRequest.newBuilder(URI.create(LocalServer.url + "/v1/lender/settings/completing-window"))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer ${LocalServer.lender.apiKey}")
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString("""{"completing_window_s":0}"""))
            .build()
        val answer = HttpClient.newHttpClient().send(put, HttpResponse.BodyHandlers.ofString())
        assertEquals(answer.body(), 200, answer.statusCode())
    }

    private fun LockActivity.text(id: Int) = findViewById<TextView>(id).text.toString()

    /** Background work and the main looper, twice: an answer shown may start another core call. */
    private fun settle() = repeat(2) {
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
    }

    /**
     * Overdue and due to lock, but the phone has not shown its notice: held at the notice. The
     * user unlocks the screen, the notice page comes up and is displayed, and the real core
     * records it; a day of uptime later the lock holds (PROTOCOL §3.7).
     */
    private fun noticeThenLock(): org.finlock.core.Decision {
        val held = Shell.refresh(context)!!
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
        assertFalse("no lock task at the notice", lockEngaged())
        shadowOf(RuntimeEnvironment.getApplication()).clearNextStartedActivities()
        context.sendBroadcast(Intent(Intent.ACTION_USER_PRESENT))
        settle()
        val opened = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(NoticeActivity::class.java.name, opened?.component?.className)
        val notice = Robolectric.buildActivity(NoticeActivity::class.java, opened).setup()
        settle()
        val page = notice.get()
        val lockFrom = core.noticePage(now(), "en").lockFromMs!!
        assertEquals(
            "From ${Format.date(context, lockFrom)}, this phone will be locked. Emergency calls will still work.",
            page.findViewById<TextView>(R.id.notice_lock).text.toString(),
        )
        val shownAt = core.decision(now()).noticeFirstShownMs
        assertNotNull("the display was recorded by the core", shownAt)
        notice.pause().stop().destroy()
        phone.advance(DAY_MS + 60_000)
        return Shell.refresh(context)!!
    }

    @Test
    fun `a financed phone is locked when overdue, unlocked by payment and released when paid off`() {
        // Enrolled and in good standing: not locked, only anti-tamper (ADR 0009); one alarm, at the core's time.
        val fresh = Shell.refresh(context)
        assertNotNull(fresh)
        assertFalse(fresh!!.locked)
        assertFalse(lockEngaged())
        assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_FACTORY_RESET))
        val wake = core.nextWakeup(now(), Shell.zoneId())
        assertNotNull(wake)
        val alarm = shadowOf(context.getSystemService(android.app.AlarmManager::class.java)).scheduledAlarms.single()
        assertEquals(wake!!.at.elapsedRealtimeMs, alarm.triggerAtTime)

        // Eight days without a payment (5 days to the due date, 2 days' grace): the notice at
        // the next unlock, the lock a day later.
        phone.advance(8 * DAY_MS)
        val locked = noticeThenLock()
        assertTrue(locked.locked)
        assertEquals(LockReason.OVERDUE_PAYMENT, locked.reason)
        assertTrue(lockEngaged())
        val started = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(LockActivity::class.java.name, started.component?.className)

        // The lock screen shows the real lender's details from the signed entitlement.
        val activity = lockScreen()
        assertEquals("This device is locked due to an overdue installment payment.", activity.text(R.id.reason))
        assertEquals("Lender: Acme Finance", activity.text(R.id.lender_name))
        assertTrue(activity.text(R.id.amount_due), activity.text(R.id.amount_due).contains("10.00"))
        assertTrue(activity.text(R.id.call_lender), activity.text(R.id.call_lender).contains("+254700000001"))
        assertTrue(activity.text(R.id.notice_first_shown), activity.text(R.id.notice_first_shown).startsWith("This notice was first shown on "))
        val challenge = core.lockScreen(now(), "en").offlineChallenge
        assertNotNull(challenge)
        assertTrue(activity.text(R.id.challenge), activity.text(R.id.challenge).contains(Format.challenge(challenge!!)))

        // "I have paid — check now" before the money arrived: still locked, and it says so.
        phone.advance(1_000)
        activity.checkNow()
        assertEquals(context.getString(R.string.check_still_locked), activity.text(R.id.check_result))
        assertTrue(core.decision(now()).locked)

        // The overdue installment is paid; 31 s later (check-now is spaced by 30 s) it unlocks.
        LocalServer.pay(deviceId, 1000)
        phone.advance(31_000)
        activity.checkNow()
        assertEquals(context.getString(R.string.check_unlocked), activity.text(R.id.check_result))
        assertFalse(core.decision(now()).locked)
        assertFalse(lockEngaged())

        // The last installment: released for good, every restriction gone, the app disabled.
        releaseAtOnceWhenPaid()
        LocalServer.pay(deviceId, 1000)
        phone.advance(31_000)
        activity.checkNow()
        assertEquals(EntitlementState.RELEASED, core.status(now()).state)
        val notice = notifications.allNotifications.single { it.channelId == Reminders.CHANNEL_ACCOUNT }
        assertEquals("Paid in full", notice.extras.getString(Notification.EXTRA_TITLE))
        assertEquals(
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
            context.packageManager.getComponentEnabledSetting(
                android.content.ComponentName(context, LockActivity::class.java),
            ),
        )
        assertTrue(shadowOf(context.getSystemService(android.app.AlarmManager::class.java)).scheduledAlarms.isEmpty())
    }

    @Test
    fun `an unlock code read out by the lender opens the lock screen`() {
        phone.advance(8 * DAY_MS)
        assertTrue(noticeThenLock().locked)
        val activity = lockScreen()
        activity.findViewById<Button>(R.id.enter_code).performClick()

        // A wrong code costs a try, and the screen says how many are left.
        activity.findViewById<EditText>(R.id.code_input).setText("00000000")
        activity.findViewById<Button>(R.id.submit_code).performClick()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertTrue(activity.text(R.id.code_result), activity.text(R.id.code_result).startsWith("Wrong code. 4 tries left"))
        assertTrue(core.decision(now()).locked)

        val challenge = core.lockScreen(now(), "en").offlineChallenge!!
        val code = LocalServer.offlineCode(deviceId, challenge, 2)
        activity.findViewById<EditText>(R.id.code_input).setText(code)
        activity.findViewById<Button>(R.id.submit_code).performClick()
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertEquals("Code accepted. Unlocked for 2 days.", activity.text(R.id.code_result))
        assertFalse(core.decision(now()).locked)
        assertFalse(lockEngaged())
    }

    private fun lockEngaged() = Lockdown(context, FrameworkDpm(context)).engaged

    @Test
    fun `the core's reminder becomes one notification, shown once`() {
        // Three days before the due date, the core has a reminder for the shell to show.
        phone.advance(3 * DAY_MS)
        assertNotNull(core.reminderDue(now(), Shell.zoneId()))
        Shell.refresh(context)
        val posted = notifications.allNotifications
        assertEquals(1, posted.size)
        assertEquals(Reminders.CHANNEL_REMINDERS, posted.single().channelId)
        // Marked shown in the core: a second refresh posts nothing new.
        assertNull(core.reminderDue(now(), Shell.zoneId()))
        Shell.refresh(context)
        assertEquals(1, notifications.allNotifications.size)
    }
}
