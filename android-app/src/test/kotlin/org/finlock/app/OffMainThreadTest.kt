package org.finlock.app

import android.os.Looper
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.finlock.core.LockReason
import org.finlock.core.OfflineCodeAccepted
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.shadows.ShadowLooper
import java.util.concurrent.Executors

/** Core calls that write to disk run on the shell's background thread, never the main one. */
@RunWith(RobolectricTestRunner::class)
class OffMainThreadTest {
    private val core = FakeCore()

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        ShellDeps(core, FrameworkDpm(context), FIXED_CLOCK, Executors.newSingleThreadExecutor())
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
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
        assertEquals(false, onMain)
        assertEquals("Code accepted. Unlocked for 2 days.", activity.findViewById<TextView>(R.id.code_result).text.toString())
        assertTrue("unlocked: the lock screen leaves", activity.isFinishing)
    }
}
