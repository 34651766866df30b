package org.finlock.app

import android.app.PendingIntent
import android.app.job.JobScheduler
import android.content.Context
import android.content.Intent
import android.content.pm.ActivityInfo
import android.content.pm.ResolveInfo
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf

/**
 * The UnifiedPush connector (ADR 0014) over a fake core: which distributor, the REGISTER
 * broadcast, the messaging receiver's token check, and what each message makes the shell do.
 * The core's own answers (the window) are proven over the real core in [RealPushTest].
 */
@RunWith(RobolectricTestRunner::class)
class UnifiedPushTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = true)

    private val jobs get() = context.getSystemService(JobScheduler::class.java)

    private fun checkInScheduled() = jobs.allPendingJobs.any { it.id == CheckInJob.JOB_ID }

    private fun registers() = shadowOf(RuntimeEnvironment.getApplication()).broadcastIntents
        .filter { it.action == UnifiedPush.ACTION_REGISTER }

    private fun sent(action: String) = shadowOf(RuntimeEnvironment.getApplication()).broadcastIntents
        .filter { it.action == action }

    /** Registered with [NTFY]: the token the connector gave it. */
    private fun registered(): String {
        installDistributor(NTFY)
        core.pushKey = KEY
        UnifiedPush.sync(context)
        return registers().last().getStringExtra(UnifiedPush.EXTRA_TOKEN)!!
    }

    private fun deliver(action: String, token: String?, vararg extras: Pair<String, String>) {
        val intent = Intent(action).setPackage(context.packageName)
        if (token != null) intent.putExtra(UnifiedPush.EXTRA_TOKEN, token)
        for ((k, v) in extras) intent.putExtra(k, v)
        PushReceiver().onReceive(context, intent)
    }

    @Test
    fun `a distributor and the server's key, REGISTER with token, application, vapid and identity`() {
        installDistributor(NTFY)
        core.pushKey = KEY
        UnifiedPush.sync(context)
        val register = registers().single()
        assertEquals(NTFY, register.`package`)
        assertEquals(context.packageName, register.getStringExtra(UnifiedPush.EXTRA_APPLICATION))
        assertEquals(KEY, register.getStringExtra(UnifiedPush.EXTRA_VAPID))
        val token = register.getStringExtra(UnifiedPush.EXTRA_TOKEN)!!
        assertTrue("a random UUIDv4: $token", Regex("[0-9a-f-]{36}").matches(token))
        val pi = register.getParcelableExtra(UnifiedPush.EXTRA_PI, PendingIntent::class.java)
        assertNotNull("AND_3 identity", pi)
        assertEquals(context.packageName, pi!!.creatorPackage)
        // Nothing changed: no second REGISTER.
        UnifiedPush.sync(context)
        assertEquals(1, registers().size)
    }

    @Test
    fun `a new server key registers again, with the same token`() {
        val token = registered()
        core.pushKey = KEY.replaceRange(10, 11, "Z")
        UnifiedPush.sync(context)
        assertEquals(2, registers().size)
        assertEquals(core.pushKey, registers().last().getStringExtra(UnifiedPush.EXTRA_VAPID))
        assertEquals(token, registers().last().getStringExtra(UnifiedPush.EXTRA_TOKEN))
    }

    @Test
    fun `no distributor, nothing is sent and the core is told nothing`() {
        core.pushKey = KEY
        UnifiedPush.sync(context)
        assertTrue(registers().isEmpty())
        assertTrue(core.pushEndpoints.isEmpty())
        assertFalse(checkInScheduled())
    }

    @Test
    fun `no server key yet, no registration`() {
        installDistributor(NTFY)
        UnifiedPush.sync(context)
        assertTrue(registers().isEmpty())
    }

    @Test
    fun `several distributors and no OEM choice, none is picked`() {
        installDistributor(NTFY)
        installDistributor("org.example.otherpush")
        core.pushKey = KEY
        assertEquals(listOf(NTFY, "org.example.otherpush").sorted(), UnifiedPush.distributors(context))
        assertNull(UnifiedPush.choose(context))
        UnifiedPush.sync(context)
        assertTrue(registers().isEmpty())
    }

    @Test
    fun `NEW_ENDPOINT with our token, the core has the endpoint and the check-in that tells the server is scheduled`() {
        val token = registered()
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, token, UnifiedPush.EXTRA_ENDPOINT to ENDPOINT)
        assertEquals(listOf(ENDPOINT), core.pushEndpoints)
        assertTrue(checkInScheduled())
    }

    @Test
    fun `NEW_ENDPOINT the core does not need to tell now schedules nothing`() {
        val token = registered()
        core.setPushEndpointResult = { false }
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, token, UnifiedPush.EXTRA_ENDPOINT to ENDPOINT)
        assertEquals(listOf(ENDPOINT), core.pushEndpoints)
        assertFalse(checkInScheduled())
    }

    @Test
    fun `a wrong token or none is ignored`() {
        val token = registered()
        for (bad in listOf("not-our-token", "", null, token.uppercase())) {
            deliver(UnifiedPush.ACTION_NEW_ENDPOINT, bad, UnifiedPush.EXTRA_ENDPOINT to "https://evil.example/x")
            core.pushAnswers.addLast(true)
            deliver(UnifiedPush.ACTION_MESSAGE, bad)
            deliver(UnifiedPush.ACTION_UNREGISTERED, bad)
        }
        assertTrue(core.pushEndpoints.isEmpty())
        assertFalse(core.calls.contains("pushArrived"))
        assertFalse(checkInScheduled())
    }

    @Test
    fun `before any registration every broadcast is ignored`() {
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, "", UnifiedPush.EXTRA_ENDPOINT to ENDPOINT)
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, null, UnifiedPush.EXTRA_ENDPOINT to ENDPOINT)
        assertTrue(core.pushEndpoints.isEmpty())
    }

    @Test
    fun `MESSAGE, a check-in when the core says so, none when it does not`() {
        val token = registered()
        core.pushAnswers.addAll(listOf(true, false))
        deliver(UnifiedPush.ACTION_MESSAGE, token)
        assertTrue(checkInScheduled())
        jobs.cancelAll()
        deliver(UnifiedPush.ACTION_MESSAGE, token)
        assertFalse(checkInScheduled())
        assertEquals(2, core.calls.count { it == "pushArrived" })
    }

    @Test
    fun `MESSAGE with an id is acknowledged to the distributor`() {
        val token = registered()
        deliver(UnifiedPush.ACTION_MESSAGE, token, UnifiedPush.EXTRA_ID to "m-17")
        val ack = sent(UnifiedPush.ACTION_MESSAGE_ACK).single()
        assertEquals(NTFY, ack.`package`)
        assertEquals(token, ack.getStringExtra(UnifiedPush.EXTRA_TOKEN))
        assertEquals("m-17", ack.getStringExtra(UnifiedPush.EXTRA_ID))
    }

    @Test
    fun `a push to a phone not enrolled does nothing`() {
        val token = registered()
        core.enrolled = false
        deliver(UnifiedPush.ACTION_MESSAGE, token)
        assertFalse(checkInScheduled())
    }

    @Test
    fun `UNREGISTERED reports no endpoint and the next sync registers afresh`() {
        val token = registered()
        deliver(UnifiedPush.ACTION_UNREGISTERED, token)
        assertEquals(listOf(""), core.pushEndpoints)
        UnifiedPush.sync(context)
        assertEquals(2, registers().size)
        assertNotEquals("a new token", token, registers().last().getStringExtra(UnifiedPush.EXTRA_TOKEN))
        // The old token is dead.
        deliver(UnifiedPush.ACTION_NEW_ENDPOINT, token, UnifiedPush.EXTRA_ENDPOINT to ENDPOINT)
        assertEquals(listOf(""), core.pushEndpoints)
    }

    @Test
    fun `REGISTRATION_FAILED reports no endpoint`() {
        val token = registered()
        deliver(UnifiedPush.ACTION_REGISTRATION_FAILED, token)
        assertEquals(listOf(""), core.pushEndpoints)
    }

    @Test
    fun `the distributor uninstalled, no endpoint any more`() {
        registered()
        shadowOf(context.packageManager).removeResolveInfosForIntent(Intent(UnifiedPush.ACTION_REGISTER), NTFY)
        UnifiedPush.sync(context)
        assertEquals(listOf(""), core.pushEndpoints)
    }

    @Test
    fun `the receiver is exported for the distributor and handles the four connector actions`() {
        val info = context.packageManager.getReceiverInfo(
            android.content.ComponentName(context, PushReceiver::class.java), 0,
        )
        assertTrue(info.exported)
        for (action in PushReceiver.HANDLED) {
            val found = context.packageManager.queryBroadcastReceivers(Intent(action).setPackage(context.packageName), 0)
            assertTrue(action, found.any { it.activityInfo.name == PushReceiver::class.java.name })
        }
    }

    private fun installDistributor(pkg: String) {
        val info = ResolveInfo().apply {
            activityInfo = ActivityInfo().apply {
                packageName = pkg
                name = "$pkg.RegisterReceiver"
                exported = true
            }
        }
        shadowOf(context.packageManager).addResolveInfoForIntent(Intent(UnifiedPush.ACTION_REGISTER), info)
    }

    companion object {
        const val NTFY = "io.heckel.ntfy"
        const val ENDPOINT = "https://ntfy.example/upQ2xTk9a?up=1"

        /** A VAPID public key as the server sends it: 65 bytes, 0x04 first, base64url. */
        val KEY: String = java.util.Base64.getUrlEncoder().withoutPadding()
            .encodeToString(ByteArray(65) { if (it == 0) 4 else (it * 7).toByte() })
    }
}
