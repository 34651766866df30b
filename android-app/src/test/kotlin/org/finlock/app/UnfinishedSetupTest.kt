package org.finlock.app

import android.app.Activity
import android.app.Notification
import android.app.NotificationManager
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
import org.robolectric.shadows.ShadowLog
import org.robolectric.shadows.ShadowLooper

/** An enrollment left unfinished is kept, resumable (disclosure first), and deleted once over. */
@RunWith(RobolectricTestRunner::class)
class UnfinishedSetupTest {
    private val core = FakeCore().apply { enrolled = false }
    private val app get() = RuntimeEnvironment.getApplication()
    private val context: Context get() = app
    private val bundle = ProvisioningBundle(URL, KEYS, CODE)

    @get:Rule
    val shell = ShellRule(core)

    private fun qrBundle() = PersistableBundle().apply {
        putString(ProvisioningBundle.KEY_SERVER_URL, URL)
        putString(ProvisioningBundle.KEY_LENDER_KEYS, KEYS)
        putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, CODE)
    }

    /** The QR provisioning hand-off; returns the intent it opened the enrollment screen with. */
    private fun handOff(): Intent {
        val intent = Intent(DevicePolicyManager.ACTION_ADMIN_POLICY_COMPLIANCE)
            .putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, qrBundle())
        val activity = Robolectric.buildActivity(PolicyComplianceActivity::class.java, intent).setup().get()
        return shadowOf(activity).nextStartedActivityForResult.intent
    }

    /** The enrollment screen, opened as the account screen's "Finish setting up" opens it. */
    private fun resumed(): EnrollmentActivity {
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        account.findViewById<Button>(R.id.finish_setup).performClick()
        val started = shadowOf(account).nextStartedActivity
        assertEquals(EnrollmentActivity::class.java.name, started.component?.className)
        return Robolectric.buildActivity(EnrollmentActivity::class.java, started).setup().get()
    }

    private fun EnrollmentActivity.accept() {
        findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
    }

    private fun Activity.shown(id: Int) = findViewById<View>(id).let { it.visibility == View.VISIBLE && it.isShown }

    private fun Activity.text(id: Int) = findViewById<TextView>(id).text.toString()

    private fun sent() = core.calls.filter { it.startsWith("provision") || it.startsWith("enroll") }

    private fun notifications() = context.getSystemService(NotificationManager::class.java).activeNotifications
        .filter { it.id == UnfinishedSetup.NOTIFICATION_ID }

    @Test
    fun `the hand-off keeps the enrollment and leaving the screen before continuing keeps it`() {
        val intent = handOff()
        assertEquals(bundle, UnfinishedSetup.load(context))
        val controller = Robolectric.buildActivity(EnrollmentActivity::class.java, intent).setup()
        assertEquals(EnrollmentActivity.Stage.DISCLOSURE, controller.get().stage)
        assertTrue("no notice while the screen is open", notifications().isEmpty())
        controller.pause().stop().destroy() // back, home, a dead battery: the user left
        assertEquals("still there to resume", bundle, UnfinishedSetup.load(context))
        assertTrue("nothing sent", sent().isEmpty())
        val notice = notifications().single().notification
        assertEquals(
            EnrollmentActivity::class.java.name,
            shadowOf(notice.contentIntent).savedIntent.component?.className,
        )
    }

    @Test
    fun `leaving once enrollment is over posts no notice`() {
        handOff()
        val controller = Robolectric.buildActivity(EnrollmentActivity::class.java, EnrollmentActivity.resumeIntent(context))
            .setup()
        controller.get().accept()
        controller.pause().stop().destroy()
        assertTrue(notifications().isEmpty())
    }

    @Test
    fun `the account screen offers to finish setting up, and the enrollment screen opens at the disclosure`() {
        handOff()
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        assertTrue(account.shown(R.id.finish_setup))
        assertEquals("Finish setting up", account.text(R.id.finish_setup))
        assertEquals("Setting up this device with your lender is not finished yet.", account.text(R.id.reason))
        assertFalse("no lender yet, no lender actions", account.shown(R.id.pay_now))
        assertFalse(account.shown(R.id.call_lender))
        LockScreenTest.assertEveryControlDescribed(account.window.decorView)

        val enrollment = resumed()
        assertEquals(EnrollmentActivity.Stage.DISCLOSURE, enrollment.stage)
        assertTrue(enrollment.shown(R.id.enroll_disclosure))
        assertTrue(enrollment.shown(R.id.enroll_accept))
        assertEquals("Your lender's server: $URL", enrollment.text(R.id.enroll_server))
        assertTrue("nothing sent before the disclosure is accepted", sent().isEmpty())
        enrollment.accept()
        assertEquals(listOf("provision($URL, $KEYS, false)", "enroll($CODE)"), sent())
        assertEquals(EnrollmentActivity.Stage.DONE, enrollment.stage)
    }

    @Test
    fun `without an unfinished setup the account screen offers nothing to finish`() {
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        assertFalse(account.shown(R.id.finish_setup))
        assertEquals("This device is not enrolled yet.", account.text(R.id.reason))
    }

    @Test
    fun `an enrolled device's account screen offers nothing to finish and drops a leftover`() {
        UnfinishedSetup.keep(context, bundle)
        core.enrolled = true
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        assertFalse(account.shown(R.id.finish_setup))
        assertEquals("Your account is in good standing.", account.text(R.id.reason))
        assertTrue(account.shown(R.id.pay_now))
        assertNull(UnfinishedSetup.load(context))
    }

    @Test
    fun `a successful enrollment deletes the unfinished setup`() {
        handOff()
        resumed().accept()
        assertNull(UnfinishedSetup.load(context))
        assertTrue("no trace of the code", Prefs.of(context).all.values.none { it.toString().contains(CODE) })
        val account = Robolectric.buildActivity(AccountActivity::class.java).setup().get()
        assertFalse(account.shown(R.id.finish_setup))
    }

    @Test
    fun `a refusal for good deletes the unfinished setup`() {
        val refusals = listOf(
            { throw FinlockException.Rejected("enrollment_code_unknown") },
            { throw FinlockException.AlreadyEnrolled("already_enrolled") },
            { throw FinlockException.InvalidInput("invalid_input", "enrollment_code") },
        )
        for (refusal in refusals) {
            UnfinishedSetup.keep(context, bundle)
            core.enrollResult = refusal
            val enrollment = resumed()
            enrollment.accept()
            assertNull("${enrollment.stage}: deleted", UnfinishedSetup.load(context))
            assertFalse("no retry offered", enrollment.shown(R.id.enroll_retry))
        }
    }

    @Test
    fun `a network or passing error keeps the unfinished setup, and a retry later finishes it`() {
        for (error in listOf<() -> Nothing>(
            { throw FinlockException.Network("network_unreachable", null, null) },
            { throw FinlockException.Storage("storage") },
        )) {
            handOff()
            EnrollmentHandoff.reset()
            core.enrollResult = error
            val enrollment = resumed()
            enrollment.accept()
            assertEquals(EnrollmentActivity.Stage.RETRY, enrollment.stage)
            assertEquals(bundle, UnfinishedSetup.load(context))
        }
        core.enrollResult = { FakeCore.unlocked() }
        resumed().accept()
        assertNull(UnfinishedSetup.load(context))
    }

    @Test
    fun `boot with an unfinished setup posts a notice that opens the enrollment screen`() {
        UnfinishedSetup.keep(context, bundle)
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_BOOT_COMPLETED))
        ShadowLooper.idleMainLooper()
        val posted = notifications().single().notification
        assertEquals(Reminders.CHANNEL_ACCOUNT, posted.channelId)
        assertEquals("Finish setting up your payment plan", posted.extras.getCharSequence(Notification.EXTRA_TITLE).toString())
        val opens = shadowOf(posted.contentIntent).savedIntent
        assertEquals(EnrollmentActivity::class.java.name, opens.component?.className)
        assertNull("the code stays in storage, not in the intent", ProvisioningBundle.adminExtras(opens))
        assertFalse(posted.extras.toString().contains(CODE))

        val enrollment = Robolectric.buildActivity(EnrollmentActivity::class.java, opens).setup().get()
        assertEquals(EnrollmentActivity.Stage.DISCLOSURE, enrollment.stage)
        enrollment.accept()
        assertTrue("the notice goes with the unfinished setup", notifications().isEmpty())
    }

    @Test
    fun `boot posts nothing without an unfinished setup, nor before the user unlocks`() {
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_BOOT_COMPLETED))
        assertTrue(notifications().isEmpty())
        UnfinishedSetup.keep(context, bundle)
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_LOCKED_BOOT_COMPLETED))
        assertTrue(notifications().isEmpty())
        core.enrolled = true
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_BOOT_COMPLETED))
        assertTrue("enrolled: nothing to finish", notifications().isEmpty())
        assertNull("enrolled: the leftover goes", UnfinishedSetup.load(context))
    }

    @Test
    fun `a setup kept by an earlier version still loads`() {
        // The keys the shell has stored it under since before the rename: never change them.
        Prefs.of(context).edit()
            .putString("enrollment.pending.server_url", URL)
            .putString("enrollment.pending.lender_keys", KEYS)
            .putString("enrollment.pending.code", CODE)
            .putBoolean("enrollment.pending.debug_loopback", true)
            .commit()
        assertEquals(bundle, UnfinishedSetup.load(context))
        assertTrue(UnfinishedSetup.debugLoopback(context))
        UnfinishedSetup.clear(context)
        assertTrue("all gone", Prefs.of(context).all.keys.none { it.startsWith("enrollment.pending.") })
    }

    @Test
    fun `the enrollment code is never logged`() {
        handOff()
        core.enrollResult = { throw FinlockException.Storage("storage") } // the logged path
        resumed().accept()
        core.enrollResult = { throw FinlockException.Network("network_unreachable", null, null) }
        resumed().accept()
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_BOOT_COMPLETED))
        core.enrollResult = { FakeCore.unlocked() }
        resumed().accept()
        val logs = ShadowLog.getLogs()
        assertTrue("the failure was logged", logs.any { it.msg.contains("enroll: Storage") })
        assertTrue(logs.none { it.msg.contains(CODE) || it.throwable?.toString().orEmpty().contains(CODE) })
        assertFalse("not even by accident", bundle.toString().contains(CODE))
        assertNotNull(bundle.enrollmentCode)
    }

    companion object {
        const val URL = EnrollmentTest.URL
        const val KEYS = EnrollmentTest.KEYS
        const val CODE = EnrollmentTest.CODE
    }
}
