package org.finlock.app

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.PersistableBundle
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.finlock.core.FinlockException
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

@RunWith(RobolectricTestRunner::class)
class EnrollmentTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core)

    private fun qrBundle(
        url: String? = URL,
        keys: String? = KEYS,
        code: String? = CODE,
    ) = PersistableBundle().apply {
        url?.let { putString(ProvisioningBundle.KEY_SERVER_URL, it) }
        keys?.let { putString(ProvisioningBundle.KEY_LENDER_KEYS, it) }
        code?.let { putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, it) }
    }

    private fun withBundle(action: String, bundle: PersistableBundle?) = Intent(action).apply {
        bundle?.let { putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, it) }
    }

    private fun enrollment(bundle: PersistableBundle?): EnrollmentActivity =
        Robolectric.buildActivity(EnrollmentActivity::class.java, EnrollmentActivity.intent(context, bundle))
            .setup().get()

    private fun Activity.shown(id: Int) = findViewById<View>(id).let { it.visibility == View.VISIBLE && it.isShown }

    private fun Activity.text(id: Int) = findViewById<TextView>(id).text.toString()

    private fun sent() = core.calls.filter { it.startsWith("provision") || it.startsWith("enroll") }

    @Test
    fun `provisioning asks for a fully managed device and passes the bundle through untouched`() {
        val activity = Robolectric.buildActivity(
            ProvisioningModeActivity::class.java,
            withBundle(DevicePolicyManager.ACTION_GET_PROVISIONING_MODE, qrBundle()),
        ).setup().get()
        val shadow = shadowOf(activity)
        assertEquals(Activity.RESULT_OK, shadow.resultCode)
        assertEquals(
            DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE,
            shadow.resultIntent.getIntExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, -1),
        )
        val passed = ProvisioningBundle.from(ProvisioningBundle.adminExtras(shadow.resultIntent))
        assertEquals(ProvisioningBundle(URL, KEYS, CODE), passed)
        assertTrue(activity.isFinishing)
        assertTrue("nothing sent or stored", core.calls.isEmpty())
    }

    @Test
    fun `the IMEI and serial the setup wizard gives are enrolled with, then forgotten`() {
        Robolectric.buildActivity(
            ProvisioningModeActivity::class.java,
            withBundle(DevicePolicyManager.ACTION_GET_PROVISIONING_MODE, qrBundle())
                .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_IMEI, "490154203237518")
                .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_SERIAL_NUMBER, "R58N123ABC"),
        ).setup()
        UnfinishedSetup.keep(context, ProvisioningBundle(URL, KEYS, CODE))
        val activity = enrollment(qrBundle())
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals("490154203237518", core.enrolledWith?.imei)
        assertEquals("R58N123ABC", core.enrolledWith?.serial)
        assertEquals("enrolled: nothing kept", null, UnfinishedSetup.imei(context))
        assertEquals(null, UnfinishedSetup.serial(context))
    }

    @Test
    fun `a work profile only provisioning is refused`() {
        val intent = withBundle(DevicePolicyManager.ACTION_GET_PROVISIONING_MODE, qrBundle())
            .putIntegerArrayListExtra(
                DevicePolicyManager.EXTRA_PROVISIONING_ALLOWED_PROVISIONING_MODES,
                arrayListOf(DevicePolicyManager.PROVISIONING_MODE_MANAGED_PROFILE),
            )
        val activity = Robolectric.buildActivity(ProvisioningModeActivity::class.java, intent).setup().get()
        assertEquals(Activity.RESULT_CANCELED, shadowOf(activity).resultCode)
    }

    @Test
    fun `policy compliance hands the bundle to the enrollment screen, keeps it to resume, then lets setup finish`() {
        val controller = Robolectric.buildActivity(
            PolicyComplianceActivity::class.java,
            withBundle(DevicePolicyManager.ACTION_ADMIN_POLICY_COMPLIANCE, qrBundle()),
        ).setup()
        val activity = controller.get()
        val started = shadowOf(activity).nextStartedActivityForResult
        assertNotNull(started)
        assertEquals(EnrollmentActivity::class.java.name, started.intent.component?.className)
        assertEquals(ProvisioningBundle(URL, KEYS, CODE), ProvisioningBundle.from(ProvisioningBundle.adminExtras(started.intent)))
        assertTrue("nothing sent before the disclosure", core.calls.isEmpty())
        assertEquals("kept until enrollment is over", ProvisioningBundle(URL, KEYS, CODE), UnfinishedSetup.load(context))
        assertFalse(activity.isFinishing)
        shadowOf(activity).receiveResult(started.intent, Activity.RESULT_CANCELED, null)
        assertEquals("provisioning never fails on enrollment", Activity.RESULT_OK, shadowOf(activity).resultCode)
        assertTrue(activity.isFinishing)
    }

    @Test
    fun `the enrollment screen opens once when both provisioning signals arrive`() {
        val intent = withBundle(DevicePolicyManager.ACTION_PROVISIONING_SUCCESSFUL, qrBundle())
        val first = Robolectric.buildActivity(PolicyComplianceActivity::class.java, intent).setup().get()
        assertNotNull(shadowOf(first).nextStartedActivityForResult)
        val second = Robolectric.buildActivity(PolicyComplianceActivity::class.java, intent).setup().get()
        assertNull(shadowOf(second).nextStartedActivityForResult)
        assertEquals(Activity.RESULT_OK, shadowOf(second).resultCode)
        shadowOf(RuntimeEnvironment.getApplication()).clearNextStartedActivities()
        AdminReceiver().onProfileProvisioningComplete(context, intent)
        assertNull(shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity)
    }

    @Test
    fun `the disclosure is shown before anything is sent`() {
        val activity = enrollment(qrBundle())
        assertEquals(EnrollmentActivity.Stage.DISCLOSURE, activity.stage)
        assertTrue(activity.shown(R.id.enroll_disclosure))
        assertTrue(activity.text(R.id.enroll_lender_text).contains("cannot see your contacts"))
        assertEquals("Your lender's server: $URL", activity.text(R.id.enroll_server))
        assertTrue(activity.shown(R.id.enroll_accept))
        assertEquals("I understand, continue", activity.text(R.id.enroll_accept))
        assertFalse(activity.shown(R.id.enroll_retry))
        assertTrue("nothing sent before the user continues", core.calls.isEmpty())
        LockScreenTest.assertEveryControlDescribed(activity.window.decorView)
    }

    @Test
    fun `continue provisions and enrolls with the bundle's values, off the main thread, then says so`() {
        val activity = enrollment(qrBundle())
        var progressDuringEnroll = false
        core.enrollResult = {
            progressDuringEnroll = activity.shown(R.id.enroll_progress)
            FakeCore.unlocked()
        }
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals(listOf("provision($URL, $KEYS, false)", "enroll($CODE)"), sent())
        assertEquals(CODE, core.enrolledWith?.enrollmentCode)
        assertTrue(progressDuringEnroll)
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
        assertFalse(activity.shown(R.id.enroll_progress))
        assertEquals(
            "This device is enrolled. You can use it normally while your payments are up to date.",
            activity.text(R.id.enroll_status),
        )
        assertTrue(activity.shown(R.id.enroll_finish))
        assertTrue("the first decision is acted on", core.calls.contains("decision"))
    }

    @Test
    fun `a network error offers a retry, which enrolls again without provisioning again`() {
        val activity = enrollment(qrBundle())
        core.enrollResult = { throw FinlockException.Network("network_unreachable", null, null) }
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals(EnrollmentActivity.Stage.RETRY, activity.stage)
        assertEquals("Could not reach your lender. Connect to the internet and try again.", activity.text(R.id.enroll_status))
        assertTrue(activity.shown(R.id.enroll_retry))
        assertFalse(activity.shown(R.id.enroll_finish))
        core.enrollResult = { FakeCore.unlocked() }
        activity.findViewById<Button>(R.id.enroll_retry).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals(listOf("provision($URL, $KEYS, false)", "enroll($CODE)", "enroll($CODE)"), sent())
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
    }

    @Test
    fun `an incomplete bundle is rejected with a clear message and nothing is sent`() {
        for (bundle in listOf(null, qrBundle(keys = null), qrBundle(url = " "), PersistableBundle().apply {
            putInt(ProvisioningBundle.KEY_SERVER_URL, 42) // not a string
            putString(ProvisioningBundle.KEY_LENDER_KEYS, KEYS)
        })) {
            val activity = enrollment(bundle)
            assertEquals(EnrollmentActivity.Stage.FAILED, activity.stage)
            assertTrue(activity.text(R.id.enroll_status).startsWith("The setup information from your lender is incomplete or not valid. Nothing was saved."))
            assertFalse(activity.shown(R.id.enroll_accept))
            assertTrue(activity.shown(R.id.enroll_finish))
        }
        assertTrue(core.calls.isEmpty())
    }

    @Test
    fun `a bundle the core refuses is not enrolled and the message is clear`() {
        core.provisionResult = { throw FinlockException.InvalidInput("invalid_input", "server_url") }
        val activity = enrollment(qrBundle(url = "http://lender.example"))
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals(listOf("provision(http://lender.example, $KEYS, false)"), sent())
        assertEquals(EnrollmentActivity.Stage.FAILED, activity.stage)
        assertTrue(activity.text(R.id.enroll_status).contains("Nothing was saved"))
        assertFalse("no retry for a bad bundle", activity.shown(R.id.enroll_retry))
    }

    @Test
    fun `a device the lender refuses says so`() {
        core.enrollResult = { throw FinlockException.Rejected("enrollment_code_unknown") }
        val activity = enrollment(qrBundle())
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals("Your lender did not accept this device. Nothing was changed. Please contact your lender.", activity.text(R.id.enroll_status))
    }

    @Test
    fun `plain http is never allowed from a release build`() {
        val intent = EnrollmentActivity.intent(context, qrBundle()).putExtra(EnrollmentActivity.EXTRA_DEBUG_LOOPBACK, true)
        val activity = Robolectric.buildActivity(EnrollmentActivity::class.java, intent).setup().get()
        activity.findViewById<Button>(R.id.enroll_accept).performClick()
        assertEquals("provision($URL, $KEYS, false)", sent().first())
    }

    companion object {
        const val URL = "https://lender.example"
        const val KEYS = """{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k"}]}"""
        const val CODE = "ABCD-EFGH-JKMN"
    }
}
