package org.finlock.app

import android.Manifest
import android.content.Context
import android.provider.Settings
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowAlarmManager

/** Without Device Owner the app asks for what its notices and deadline need, once enrolled. */
@RunWith(RobolectricTestRunner::class)
class PermissionsTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = false)

    @Test
    fun `enrolled without device owner, the account screen asks for notifications and, once, for exact alarms`() {
        shadowOf(RuntimeEnvironment.getApplication()).denyPermissions(Manifest.permission.POST_NOTIFICATIONS)
        ShadowAlarmManager.setCanScheduleExactAlarms(false)
        val controller = Robolectric.buildActivity(AccountActivity::class.java).setup()
        val activity = shadowOf(controller.get())
        val asked = activity.lastRequestedPermission
        assertTrue(asked.requestedPermissions.contains(Manifest.permission.POST_NOTIFICATIONS))
        assertEquals(Permissions.REQUEST_NOTIFICATIONS, asked.requestCode)
        val started = generateSequence { activity.nextStartedActivity }.toList()
        val page = started.single { it.action == Settings.ACTION_REQUEST_SCHEDULE_EXACT_ALARM }
        assertEquals("package:${context.packageName}", page.data.toString())
        controller.pause().resume()
        assertNull("asked once each, not on every visit", activity.nextStartedActivity)
    }

    @Test
    fun `with both granted nothing is asked`() {
        ShadowAlarmManager.setCanScheduleExactAlarms(true)
        val activity = shadowOf(Robolectric.buildActivity(AccountActivity::class.java).setup().get())
        assertNull(activity.lastRequestedPermission)
        assertNull(activity.nextStartedActivity)
    }
}
