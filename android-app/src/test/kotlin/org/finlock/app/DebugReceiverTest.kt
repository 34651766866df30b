package org.finlock.app

import android.app.AlarmManager
import android.content.Context
import android.content.Intent
import android.content.pm.ApplicationInfo
import android.os.SystemClock
import org.finlock.core.WakeReason
import org.finlock.core.Wakeup
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import kotlin.math.abs

/** The debug receiver (src/debug) that testers drive with adb. */
@RunWith(RobolectricTestRunner::class)
class DebugReceiverTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, debugBuild = true)

    private fun send(action: String, extras: Intent.() -> Unit = {}) =
        DebugReceiver().onReceive(context, Intent(DebugReceiver.PREFIX + action).apply(extras))

    private fun wallShift() = Clocks.system(context).now().wallMs - System.currentTimeMillis()

    private fun elapsedShift() = Clocks.system(context).now().elapsedRealtimeMs - SystemClock.elapsedRealtime()

    @Test
    fun `shift clock moves the wall and elapsed inputs and tells the core`() {
        send("SHIFT_CLOCK") {
            putExtra("wall_ms", 86_400_000L)
            putExtra("elapsed_ms", 3_600_000L)
        }
        assertTrue("wall shifted by a day: ${wallShift()}", abs(wallShift() - 86_400_000L) < 5_000L)
        assertEquals(3_600_000L, elapsedShift())
        assertTrue("the core heard of the clock change", core.calls.contains("onClockChanged"))
        send("SHIFT_CLOCK") { putExtra("wall_ms", "-86400000") } // adds up; --es works too
        assertTrue(abs(wallShift()) < 5_000L)
        assertEquals(3_600_000L, elapsedShift())
        send("SHIFT_CLOCK") { putExtra("reset", true) }
        assertEquals(0L, elapsedShift())
    }

    @Test
    fun `the alarm stays on the real clock when the elapsed input is shifted`() {
        send("SHIFT_CLOCK") { putExtra("elapsed_ms", 3_600_000) } // --ei
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 7_654_321L, delay = 100L), WakeReason.DECISION)
        Shell.armNextWakeup(context)
        val alarm = shadowOf(context.getSystemService(AlarmManager::class.java)).scheduledAlarms.single()
        assertEquals(7_654_321L - 3_600_000L, alarm.triggerAtTime)
    }

    @Test
    fun `a release build ignores a clock shift`() {
        ClockShift(Prefs.of(context)).add(86_400_000L, 3_600_000L)
        context.applicationInfo.flags = context.applicationInfo.flags and ApplicationInfo.FLAG_DEBUGGABLE.inv()
        assertTrue(abs(wallShift()) < 5_000L)
        assertEquals(0L, elapsedShift())
        assertEquals(0L, ClockOffsets.current(context).elapsedMs)
    }

    @Test
    fun `provision pins the tester's server with plain http to the host allowed`() {
        send("PROVISION") {
            putExtra("url", "http://10.0.2.2:8080")
            putExtra("keys", EnrollmentTest.KEYS)
        }
        assertTrue(core.calls.toString(), core.calls.contains("provision(http://10.0.2.2:8080, ${EnrollmentTest.KEYS}, true)"))
    }

    @Test
    fun `set server url points the enrolled device at the tester's server`() {
        send("SET_SERVER_URL") { putExtra("url", "http://10.0.2.2:8080") }
        assertTrue(core.calls.toString(), core.calls.contains("setServerUrl(http://10.0.2.2:8080, true)"))
    }

    @Test
    fun `show lock, check in and status drive the shell`() {
        send("SHOW_LOCK")
        assertEquals(
            LockActivity::class.java.name,
            shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity.component?.className,
        )
        send("CHECK_IN")
        assertTrue(core.calls.contains("checkIn(force=true)"))
        send("STATUS") // FakeCore's status throws NotEnrolled: reported, not a crash
        send("NO_SUCH_ACTION")
    }

    @Test
    fun `start enrollment opens the enrollment screen with the bundle`() {
        send("START_ENROLLMENT") {
            putExtra("url", EnrollmentTest.URL)
            putExtra("keys", EnrollmentTest.KEYS)
            putExtra("code", EnrollmentTest.CODE)
        }
        val started = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(EnrollmentActivity::class.java.name, started.component?.className)
        assertEquals(
            ProvisioningBundle(EnrollmentTest.URL, EnrollmentTest.KEYS, EnrollmentTest.CODE),
            ProvisioningBundle.from(ProvisioningBundle.adminExtras(started)),
        )
        val screen = Robolectric.buildActivity(EnrollmentActivity::class.java, started).setup().get()
        screen.findViewById<android.view.View>(R.id.enroll_accept).performClick()
        assertTrue(
            "plain http to the emulator's host, in a debug build only",
            core.calls.contains("provision(${EnrollmentTest.URL}, ${EnrollmentTest.KEYS}, true)"),
        )
    }
}
