package org.finlock.app

import android.content.Context
import android.os.Looper
import android.os.PersistableBundle
import android.widget.Button
import android.widget.TextView
import org.finlock.core.EntitlementState
import org.finlock.core.bridgetest.Json
import org.finlock.core.bridgetest.LocalServer
import org.finlock.core.bridgetest.PhoneClock
import org.finlock.core.bridgetest.tempStateDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLooper
import java.time.Duration
import java.util.concurrent.Executors

/**
 * Enrollment by IMEI end to end: the shell over the REAL core (host library, generated
 * bindings) and a real `finlock serve` on loopback. The phone's attestation chain is a
 * stand-in (no Keystore here), which the server's verifier refuses exactly as it refuses no
 * proof: the phone waits for the lender's approval, shows the key the lender's API lists,
 * and is enrolled by itself once the lender approves that key.
 */
@RunWith(RobolectricTestRunner::class)
class RealAttestedEnrollmentTest {
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private val phone = PhoneClock()
    private lateinit var core: UniffiCore
    private lateinit var dpm: AttestingDpm

    @get:Rule
    val shell = ShellRule(deviceOwner = true, debugBuild = true) { context ->
        core = UniffiCore(tempStateDir(), "1.0.0-test")
        dpm = AttestingDpm(context)
        ShellDeps(core, dpm, Clocks { phone.now() }, Executors.newSingleThreadExecutor())
    }

    /** A phone the lender registered by IMEI (a preload's first start: no code to type). */
    private fun registerByImei(): String {
        val now = phone.wallMs / 1000
        val body = """{"imei":"$IMEI","auto_reprovision":true,"plan":{"currency":"KES","grace_days":2,
            "installments":[{"due":${now + 5 * 86_400},"amount_minor":1000}]}}"""
        return Json.string(LocalServer.post("/v1/lender/devices", body), "device_id")
    }

    private fun settle() {
        shell.awaitBackground()
        ShadowLooper.idleMainLooper()
    }

    @Test
    fun `a phone without an accepted proof waits, shows the key the lender approves, and enrolls once approved`() {
        val deviceId = registerByImei()
        val bundle = PersistableBundle().apply {
            putString(ProvisioningBundle.KEY_SERVER_URL, LocalServer.url)
            putString(ProvisioningBundle.KEY_LENDER_KEYS, LocalServer.lender.jwks)
        }
        UnfinishedSetup.keep(context, ProvisioningBundle.from(bundle), debugLoopback = true)
        UnfinishedSetup.keepIdentifiers(context, IMEI, "R58M12ABCDE")
        val intent = EnrollmentActivity.intent(context, bundle).putExtra(EnrollmentActivity.EXTRA_DEBUG_LOOPBACK, true)
        val activity = Robolectric.buildActivity(EnrollmentActivity::class.java, intent).setup().get()
        settle()
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        settle()

        // The attested key was asked for, with the server's own challenge; the stand-in chain
        // did not pass, and the server said only "waiting" (no oracle).
        assertEquals(1, dpm.requests.size)
        assertEquals(32, dpm.requests.single().spec.attestationChallenge.size)
        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)
        val listed = LocalServer.get("/v1/lender/devices/$deviceId/enrollment-requests", LocalServer.lender.apiKey).body()
        val thumbprint = Json.string(listed, "key_thumbprint")
        assertEquals(thumbprint, activity.waitingKey)
        val shown = activity.findViewById<TextView>(R.id.enroll_key).text.toString()
        assertTrue(shown, shown.endsWith(Format.thumbprint(thumbprint)))

        // The lender's agent compares the key and approves it; the screen asks again by itself.
        val requestId = Json.string(listed, "request_id")
        LocalServer.post("/v1/lender/devices/$deviceId/enrollment-requests/$requestId/approve", "{}")
        // Past the longest wait the core allows (the retry is on the looper's clock).
        shadowOf(Looper.getMainLooper()).idleFor(Duration.ofHours(6).plusMinutes(1))
        settle()
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
        val status = core.status(phone.now())
        assertTrue(status.enrolled)
        assertEquals(EntitlementState.ACTIVE, status.state)
        assertNotNull(status.deviceId)
        assertEquals(deviceId, status.deviceId)
    }

    companion object {
        /** A valid IMEI (Luhn), the kind a phone reports. */
        const val IMEI = "490154203237518"
    }
}
