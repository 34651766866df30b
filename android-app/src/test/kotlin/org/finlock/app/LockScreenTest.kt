package org.finlock.app

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.view.KeyEvent
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.finlock.core.FinlockException
import org.finlock.core.LockReason
import org.finlock.core.OfflineCodeAccepted
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
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

@RunWith(RobolectricTestRunner::class)
class LockScreenTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = true)

    private fun launch(reason: LockReason, clockSuspect: Boolean = false): LockActivity {
        core.decision = FakeCore.locked(reason, clockSuspect)
        return Robolectric.buildActivity(LockActivity::class.java).setup().get()
    }

    private fun Activity.text(id: Int) = findViewById<TextView>(id).text.toString()

    private fun Activity.shown(id: Int) = findViewById<View>(id).let { it.visibility == View.VISIBLE && it.isShown }

    private fun expectEveryElement(activity: LockActivity, reasonText: String) {
        assertEquals(reasonText, activity.text(R.id.reason))
        assertEquals("Lender: Jamii Phones", activity.text(R.id.lender_name))
        assertTrue(activity.text(R.id.amount_due), activity.text(R.id.amount_due).contains("1,500.00"))
        assertTrue(activity.text(R.id.due_date), activity.text(R.id.due_date).startsWith("Due date: December 29, 2025"))
        assertEquals("Message from Jamii Phones: Please pay your December installment.", activity.text(R.id.lender_message))
        assertEquals("How to pay: M-Pesa paybill 400200, account 42", activity.text(R.id.payment_instructions))
        for (id in listOf(
            R.id.emergency_call, R.id.call_lender, R.id.pay_now, R.id.check_now, R.id.enter_code,
            R.id.support_link, R.id.terms_link, R.id.disclosure_link,
        )) {
            assertTrue("view ${activity.resources.getResourceEntryName(id)} is shown", activity.shown(id))
        }
        assertEquals("Call lender +254700123456", activity.text(R.id.call_lender))
        assertEveryControlDescribed(activity.window.decorView)
        assertEquals("emergency call is first in focus order", R.id.emergency_call, firstFocusable(activity.window.decorView)?.id)
        assertTrue(activity.findViewById<View>(R.id.emergency_call).isFocused)
    }

    @Test
    fun `overdue payment shows every element`() = expectEveryElement(
        launch(LockReason.OVERDUE_PAYMENT),
        "This device is locked due to an overdue installment payment.",
    )

    @Test
    fun `lender request shows every element`() = expectEveryElement(
        launch(LockReason.LENDER_REQUEST),
        "Your lender has locked this device. Please contact them.",
    )

    @Test
    fun `offline lock asks to connect and shows every element`() = expectEveryElement(
        launch(LockReason.OFFLINE),
        "Connect to the internet to verify your account. This device could not check in for too long.",
    )

    @Test
    fun `clock suspect asks to check the date and time and shows every element`() = expectEveryElement(
        launch(LockReason.OVERDUE_PAYMENT, clockSuspect = true),
        "Check your date and time, then connect to the internet. The date on this device looks wrong.",
    )

    @Test
    fun `the lock screen is shown over the keyguard and in lock task`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        assertTrue(shadowOf(activity).showWhenLocked)
        assertTrue(shadowOf(activity).turnScreenOn)
        assertFalse("device owner: no weaker-enforcement notice", activity.shown(R.id.weaker_notice))
    }

    @Test
    fun `the emergency button launches the emergency dialer in every state`() {
        for (reason in LockReason.entries) {
            val activity = launch(reason)
            activity.findViewById<Button>(R.id.emergency_call).performClick()
            val started = shadowOf(activity).nextStartedActivity
            assertNotNull(started)
            assertTrue(started.action, started.action!!.contains("EMERGENCY"))
        }
    }

    @Test
    fun `call lender dials the lender's number`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        activity.findViewById<Button>(R.id.call_lender).performClick()
        val started = shadowOf(activity).nextStartedActivity
        assertEquals("android.intent.action.DIAL", started.action)
        assertEquals("tel:%2B254700123456", started.data.toString())
    }

    @Test
    fun `pay now opens the payment page in-app`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        activity.findViewById<Button>(R.id.pay_now).performClick()
        val started = shadowOf(activity).nextStartedActivity
        assertEquals(WebPageActivity::class.java.name, started.component!!.className)
        assertEquals("https://pay.jamii.example/device/42", started.getStringExtra(WebPageActivity.EXTRA_URL))
    }

    @Test
    fun `before the first unlock the pages say to unlock first, and about this lock still opens`() {
        shadowOf(context.getSystemService(android.os.UserManager::class.java)).setUserUnlocked(false)
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        for (id in listOf(R.id.pay_now, R.id.support_link, R.id.terms_link)) {
            activity.findViewById<Button>(id).performClick()
            assertEquals("no page before unlock", null, shadowOf(activity).nextStartedActivity)
            assertEquals(context.getString(R.string.needs_unlock), org.robolectric.shadows.ShadowToast.getTextOfLatestToast())
        }
        activity.findViewById<Button>(R.id.disclosure_link).performClick()
        assertEquals(DisclosureActivity::class.java.name, shadowOf(activity).nextStartedActivity.component!!.className)
        val disclosure = context.packageManager.getActivityInfo(
            android.content.ComponentName(context, DisclosureActivity::class.java),
            android.content.pm.PackageManager.MATCH_DIRECT_BOOT_AWARE or android.content.pm.PackageManager.MATCH_DIRECT_BOOT_UNAWARE,
        )
        assertTrue("the disclosure runs before the first unlock", disclosure.directBootAware)
    }

    @Test
    fun `a launch the system refuses does not crash the lock screen`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        // Nothing resolves the dialer or the emergency dialer here: startActivity would throw.
        shadowOf(RuntimeEnvironment.getApplication()).checkActivities(true)
        activity.findViewById<Button>(R.id.emergency_call).performClick()
        activity.findViewById<Button>(R.id.call_lender).performClick()
        assertFalse(activity.isFinishing)
    }

    @Test
    fun `check now calls the core and shows that the device is unlocked`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        core.checkInResult = { FakeCore.unlocked() }
        activity.findViewById<Button>(R.id.check_now).performClick()
        ShadowLooper.idleMainLooper()
        assertTrue(core.calls.contains("checkIn(force=true)"))
        assertEquals("Payment received. Your device is unlocked.", activity.text(R.id.check_result))
        assertTrue("the lock screen leaves once unlocked", activity.isFinishing)
    }

    @Test
    fun `the check-now answer survives a configuration change`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
        core.checkInResult = { throw FinlockException.Network("network_unreachable", null, null) }
        controller.get().findViewById<Button>(R.id.check_now).performClick()
        ShadowLooper.idleMainLooper()
        val said = controller.get().text(R.id.check_result)
        assertTrue(said.isNotEmpty())
        controller.recreate()
        assertEquals(said, controller.get().text(R.id.check_result))
        assertTrue(controller.get().shown(R.id.check_result))
    }

    @Test
    fun `check now shows progress while the core works`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        var progressDuringCall = false
        core.checkInResult = {
            progressDuringCall = activity.shown(R.id.check_progress)
            FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        }
        activity.findViewById<Button>(R.id.check_now).performClick()
        ShadowLooper.idleMainLooper()
        assertTrue(progressDuringCall)
        assertFalse(activity.shown(R.id.check_progress))
        assertTrue(activity.text(R.id.check_result).startsWith("Your payment has not arrived yet."))
        assertFalse(activity.isFinishing)
    }

    @Test
    fun `check now explains a network failure and a too-early retry`() {
        val activity = launch(LockReason.OFFLINE)
        core.checkInResult = { throw FinlockException.Network("network_unreachable", null, null) }
        activity.findViewById<Button>(R.id.check_now).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals("Could not reach your lender. Connect to the internet and try again.", activity.text(R.id.check_result))
        core.checkInResult = { throw FinlockException.TooSoon("check_now_too_soon", 25) }
        activity.findViewById<Button>(R.id.check_now).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals("Please wait 25 seconds before checking again.", activity.text(R.id.check_result))
    }

    @Test
    fun `back and home do nothing while locked`() {
        val activity = launch(LockReason.OVERDUE_PAYMENT)
        @Suppress("DEPRECATION")
        activity.onBackPressed()
        for (key in listOf(KeyEvent.KEYCODE_BACK, KeyEvent.KEYCODE_HOME, KeyEvent.KEYCODE_APP_SWITCH)) {
            assertTrue(activity.dispatchKeyEvent(KeyEvent(KeyEvent.ACTION_DOWN, key)))
            assertTrue(activity.dispatchKeyEvent(KeyEvent(KeyEvent.ACTION_UP, key)))
        }
        assertFalse(activity.isFinishing)
        assertTrue("in lock task (Device Owner)", shadowOf(activity).isLockTask)
    }

    @Test
    fun `home outside lock task brings the lock screen back`() {
        shadowOf(context.getSystemService(DevicePolicyManager::class.java)).setDeviceOwner(null)
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
        val activity = controller.get()
        assertTrue("weaker enforcement is stated", activity.shown(R.id.weaker_notice))
        assertFalse("no lock task without Device Owner", shadowOf(activity).isLockTask)
        controller.userLeaving()
        assertEquals(LockActivity::class.java.name, shadowOf(activity).nextStartedActivity.component!!.className)
    }

    @Test
    fun `the unlock code shows the challenge and tries left, and a wrong code says so`() {
        val activity = launch(LockReason.OFFLINE)
        activity.findViewById<Button>(R.id.enter_code).performClick()
        assertTrue(activity.shown(R.id.code_panel))
        assertEquals("Your request code: 1234 5678. Read it to your lender to get an unlock code.", activity.text(R.id.challenge))
        assertEquals("5 tries left", activity.text(R.id.tries_left))
        activity.findViewById<EditText>(R.id.code_input).setText("11112222")
        activity.findViewById<Button>(R.id.submit_code).performClick()
        ShadowLooper.idleMainLooper()
        assertTrue(core.calls.contains("enterOfflineCode(11112222)"))
        assertEquals("Wrong code. 4 tries left", activity.text(R.id.code_result))
    }

    @Test
    fun `an accepted unlock code unlocks`() {
        val activity = launch(LockReason.OFFLINE)
        core.codeResult = { OfflineCodeAccepted(3, FakeCore.NOW + 3 * 86_400_000L, FakeCore.unlocked()) }
        activity.findViewById<Button>(R.id.enter_code).performClick()
        activity.findViewById<EditText>(R.id.code_input).setText("87654321")
        activity.findViewById<Button>(R.id.submit_code).performClick()
        ShadowLooper.idleMainLooper()
        assertEquals("Code accepted. Unlocked for 3 days.", activity.text(R.id.code_result))
        assertTrue(activity.isFinishing)
    }

    @Test
    fun `the lock screen leaves when the core says unlocked`() {
        core.decision = FakeCore.unlocked()
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        assertTrue(activity.isFinishing)
    }

    companion object {
        fun assertEveryControlDescribed(view: View) {
            if (view is EditText && view.visibility == View.VISIBLE) {
                // TalkBack reads a field's content description instead of what was typed: a
                // field is labelled by its hint, which is read only while it is empty.
                assertEquals("field ${view.id} has no content description", null, view.contentDescription)
                assertTrue("field ${view.id} has a hint", !view.hint.isNullOrBlank())
            } else if (view is Button) {
                if (view.visibility == View.VISIBLE) {
                    val label = view.contentDescription ?: (view as TextView).text
                    assertTrue("control ${view.id} has a description", !label.isNullOrBlank())
                    assertNotNull("control ${view.id} has a content description", view.contentDescription)
                }
            }
            if (view is ViewGroup) for (i in 0 until view.childCount) assertEveryControlDescribed(view.getChildAt(i))
        }

        fun firstFocusable(view: View): View? {
            if (view.visibility != View.VISIBLE) return null
            if (view !is ViewGroup) return if (view.isFocusable) view else null
            for (i in 0 until view.childCount) firstFocusable(view.getChildAt(i))?.let { return it }
            return null
        }
    }
}
