package org.finlock.app

import android.app.job.JobScheduler
import android.content.Context
import android.content.Intent
import android.content.pm.ActivityInfo
import android.content.pm.ResolveInfo
import kotlinx.coroutines.runBlocking
import org.finlock.core.bridgetest.LocalServer
import org.finlock.core.bridgetest.PhoneClock
import org.finlock.core.bridgetest.params
import org.finlock.core.bridgetest.tempStateDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import java.util.concurrent.Executors

/**
 * The UnifiedPush connector over the REAL core and a real `finlock serve` on loopback: the
 * server's VAPID key reaches the REGISTER broadcast, a new endpoint is checked in, and a storm of
 * pushes costs at most one check-in per 30 s (the core's window, not the shell's).
 */
@RunWith(RobolectricTestRunner::class)
class RealPushTest {
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private val phone = PhoneClock()
    private lateinit var core: UniffiCore

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        val registered = LocalServer.registerDevice(phone.wallMs)
        core = UniffiCore(tempStateDir(), "1.0.0-test")
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        runBlocking { core.enroll(params(registered.enrollmentCode), phone.now()) }
        ShellDeps(core, FrameworkDpm(context), Clocks { phone.now() }, Executors.newSingleThreadExecutor())
    }

    private val jobs get() = context.getSystemService(JobScheduler::class.java)

    /** Whether a check-in job was scheduled since the last look (and clears it). */
    private fun takeCheckIn(): Boolean {
        val scheduled = jobs.allPendingJobs.any { it.id == CheckInJob.JOB_ID }
        jobs.cancelAll()
        return scheduled
    }

    private fun deliver(action: String, token: String, vararg extras: Pair<String, String>) {
        val intent = Intent(action).setPackage(context.packageName).putExtra(UnifiedPush.EXTRA_TOKEN, token)
        for ((k, v) in extras) intent.putExtra(k, v)
        PushReceiver().onReceive(context, intent)
        shell.awaitBackground()
    }

    @Test
    fun `registration carries the server's key, the endpoint is checked in, and pushes are limited`() {
        val info = ResolveInfo().apply {
            activityInfo = ActivityInfo().apply {
                packageName = "io.heckel.ntfy"
                name = "io.heckel.ntfy.up.RegisterReceiver"
                exported = true
            }
        }
        shadowOf(context.packageManager).addResolveInfoForIntent(Intent(UnifiedPush.ACTION_REGISTER), info)
        val key = core.pushKey()
        assertNotNull("the server sent its key with enrollment", key)
        UnifiedPush.sync(context)
        val register = shadowOf(RuntimeEnvironment.getApplication()).broadcastIntents
            .single { it.action == UnifiedPush.ACTION_REGISTER }
        assertEquals(key, register.getStringExtra(UnifiedPush.EXTRA_VAPID))
        val token = register.getStringExtra(UnifiedPush.EXTRA_TOKEN)!!

        // A new endpoint: the check-in that tells the server is scheduled; it runs and succeeds.
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, token, UnifiedPush.EXTRA_ENDPOINT to "https://push.example/up/abc")
        assertTrue(takeCheckIn())
        runBlocking { core.checkIn(false, phone.advance(1_000)) }
        // The same endpoint again: nothing to tell.
        phone.advance(60_000)
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, token, UnifiedPush.EXTRA_ENDPOINT to "https://push.example/up/abc")
        assertFalse(takeCheckIn())

        // A push: one check-in. A storm within 30 s: none more.
        deliver(UnifiedPush.ACTION_MESSAGE, token)
        assertTrue(takeCheckIn())
        runBlocking { core.checkIn(false, phone.advance(1_000)) }
        repeat(10) {
            phone.advance(2_000)
            deliver(UnifiedPush.ACTION_MESSAGE, token)
            assertFalse("push ${it + 2}", takeCheckIn())
        }
        // After the window: one more.
        phone.advance(10_000)
        deliver(UnifiedPush.ACTION_MESSAGE, token)
        assertTrue(takeCheckIn())
    }
}
