package org.finlock.app

import android.Manifest
import android.app.AlarmManager
import android.app.Notification
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.app.job.JobScheduler
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.UserManager
import org.finlock.core.LockReason
import org.finlock.core.Reminder
import org.finlock.core.ReminderKind
import org.finlock.core.Severity
import org.finlock.core.WakeReason
import org.finlock.core.Wakeup
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowAlarmManager
import org.robolectric.shadows.ShadowLooper

/** A real FrameworkDpm (so the shadows see every call), except giving up device ownership. */
class RecordingDpm(context: Context) : DpmGateway by FrameworkDpm(context) {
    var clearedDeviceOwner = false
    var preferredHome: ComponentName? = null
    var userControlDisabled: List<String> = emptyList()
    var financed = false

    override fun clearDeviceOwner() {
        clearedDeviceOwner = true
    }

    override fun setPersistentHome(activity: ComponentName) {
        preferredHome = activity
    }

    override fun clearPersistentHome() {
        preferredHome = null
    }

    // Robolectric's DevicePolicyManager does not shadow these two.
    override fun setUserControlDisabledPackages(packages: List<String>) {
        userControlDisabled = packages
    }

    override fun userControlDisabledPackages() = userControlDisabled

    override fun isDeviceFinanced() = financed
}

@RunWith(RobolectricTestRunner::class)
class EnforcementTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private lateinit var dpm: RecordingDpm
    private val frameworkDpm get() = context.getSystemService(DevicePolicyManager::class.java)
    private val admin get() = AdminReceiver.component(context)
    private val userManager get() = context.getSystemService(UserManager::class.java)
    private val notifications get() = shadowOf(context.getSystemService(NotificationManager::class.java))

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        dpm = RecordingDpm(context)
        ShellDeps(core, dpm, FIXED_CLOCK, Inline)
    }

    @Test
    fun `a lock sets lock-task packages, features, restrictions and blocks uninstall`() {
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        val packages = frameworkDpm.getLockTaskPackages(admin).toList()
        assertTrue(packages.toString(), packages.containsAll(listOf(context.packageName, "com.android.stk", "com.android.cellbroadcastreceiver")))
        assertFalse("never Settings", packages.contains("com.android.settings"))
        assertEquals(
            DevicePolicyManager.LOCK_TASK_FEATURE_SYSTEM_INFO or DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD or
                DevicePolicyManager.LOCK_TASK_FEATURE_GLOBAL_ACTIONS,
            frameworkDpm.getLockTaskFeatures(admin),
        )
        assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_SAFE_BOOT))
        assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_FACTORY_RESET))
        assertTrue(frameworkDpm.isUninstallBlocked(admin, context.packageName))
        assertEquals(
            PackageManager.COMPONENT_ENABLED_STATE_ENABLED,
            context.packageManager.getComponentEnabledSetting(ComponentName(context, Lockdown.HOME_ALIAS)),
        )
        val started = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(LockActivity::class.java.name, started.component!!.className)
    }

    @Test
    fun `anti-tamper holds from enrollment in good standing, through a lock and an unlock, until release`() {
        // Enrolled, in good standing: the first decision after enrollment.
        Shell.apply(context, FakeCore.unlocked())
        val antiTamper = listOf(
            UserManager.DISALLOW_FACTORY_RESET,
            UserManager.DISALLOW_SAFE_BOOT,
            UserManager.DISALLOW_ADD_USER,
            UserManager.DISALLOW_DEBUGGING_FEATURES, // a release build (not debuggable)
        )
        fun assertProtected(state: String) {
            antiTamper.forEach { assertTrue("$it while $state", userManager.hasUserRestriction(it)) }
            assertTrue("uninstall blocked while $state", frameworkDpm.isUninstallBlocked(admin, context.packageName))
            assertEquals("no force stop while $state", listOf(context.packageName), dpm.userControlDisabled)
        }
        assertProtected("in good standing")
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        assertProtected("locked")
        Shell.apply(context, FakeCore.unlocked())
        assertProtected("unlocked again")
        core.decision = FakeCore.released()
        Shell.refresh(context)
        antiTamper.forEach { assertFalse("$it after release", userManager.hasUserRestriction(it)) }
        assertFalse(frameworkDpm.isUninstallBlocked(admin, context.packageName))
        assertTrue(dpm.userControlDisabled.isEmpty())
        assertTrue(dpm.clearedDeviceOwner)
    }

    @Test
    fun `a debug build keeps debugging available while protected`() {
        context.applicationInfo.flags = context.applicationInfo.flags or android.content.pm.ApplicationInfo.FLAG_DEBUGGABLE
        try {
            Shell.apply(context, FakeCore.unlocked())
            assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_FACTORY_RESET))
            assertFalse(userManager.hasUserRestriction(UserManager.DISALLOW_DEBUGGING_FEATURES))
        } finally {
            context.applicationInfo.flags = context.applicationInfo.flags and android.content.pm.ApplicationInfo.FLAG_DEBUGGABLE.inv()
        }
    }

    @Test
    fun `the persistent HOME is a component that has the HOME filter`() {
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        val home = dpm.preferredHome!!
        // The platform (PackageManager's persistent preferred activity lookup) keeps a
        // preferred component only if one of the resolved HOME activities has its exact
        // package and activity name; an alias resolves under its own name.
        val homes = context.packageManager.queryIntentActivities(
            Intent(Intent.ACTION_MAIN).addCategory(Intent.CATEGORY_HOME),
            PackageManager.MATCH_DEFAULT_ONLY,
        ).map { ComponentName(it.activityInfo.packageName, it.activityInfo.name) }
        assertTrue("$home among $homes", home in homes)
        Shell.apply(context, FakeCore.unlocked())
        assertEquals(null, dpm.preferredHome)
    }

    @Test
    fun `lock task allows only the system dialer and system input methods, not the user's defaults`() {
        val telecom = shadowOf(context.getSystemService(android.telecom.TelecomManager::class.java))
        telecom.setSystemDialerPackage("com.android.dialer")
        telecom.setDefaultDialerPackage("com.example.userdialer")
        android.provider.Settings.Secure.putString(
            context.contentResolver,
            android.provider.Settings.Secure.DEFAULT_INPUT_METHOD,
            "com.example.userkeyboard/.Ime",
        )
        fun ime(pkg: String, system: Boolean): android.view.inputmethod.InputMethodInfo {
            val info = android.content.pm.ResolveInfo().apply {
                serviceInfo = android.content.pm.ServiceInfo().apply {
                    packageName = pkg
                    name = "$pkg.Ime"
                    applicationInfo = android.content.pm.ApplicationInfo().apply {
                        packageName = pkg
                        flags = if (system) android.content.pm.ApplicationInfo.FLAG_SYSTEM else 0
                    }
                }
            }
            return android.view.inputmethod.InputMethodInfo(info, false, null, emptyList(), 0, false)
        }
        shadowOf(context.getSystemService(android.view.inputmethod.InputMethodManager::class.java))
            .setInputMethodInfoList(listOf(ime("com.android.inputmethod.latin", true), ime("com.example.userkeyboard", false)))
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        val packages = frameworkDpm.getLockTaskPackages(admin).toList()
        assertTrue(packages.toString(), "com.android.dialer" in packages)
        assertTrue(packages.toString(), "com.android.inputmethod.latin" in packages)
        assertFalse("the user's default dialer: $packages", "com.example.userdialer" in packages)
        assertFalse("the user's keyboard: $packages", "com.example.userkeyboard" in packages)
    }

    @Test
    fun `on a phone financed through the platform's kiosk the lock screen says that kiosk wins`() {
        dpm.financed = true
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        val activity = org.robolectric.Robolectric.buildActivity(LockActivity::class.java).setup().get()
        val notice = activity.findViewById<android.widget.TextView>(R.id.weaker_notice)
        assertEquals(android.view.View.VISIBLE, notice.visibility)
        assertEquals(context.getString(R.string.financed_conflict), notice.text.toString())
        dpm.financed = false
        activity.render()
        org.robolectric.shadows.ShadowLooper.idleMainLooper()
        assertEquals("an ordinary device owner: no notice", android.view.View.GONE, notice.visibility)
    }

    @Test
    fun `an unlock restores exactly what was there before`() {
        frameworkDpm.setLockTaskPackages(admin, arrayOf("com.example.kiosk"))
        frameworkDpm.setLockTaskFeatures(admin, DevicePolicyManager.LOCK_TASK_FEATURE_HOME)
        frameworkDpm.addUserRestriction(admin, UserManager.DISALLOW_ADD_USER) // set by someone else
        Shell.apply(context, FakeCore.locked(LockReason.LENDER_REQUEST))
        Shell.apply(context, FakeCore.locked(LockReason.LENDER_REQUEST)) // twice: saved once
        Shell.apply(context, FakeCore.unlocked())
        assertEquals(listOf("com.example.kiosk"), frameworkDpm.getLockTaskPackages(admin).toList())
        assertEquals(DevicePolicyManager.LOCK_TASK_FEATURE_HOME, frameworkDpm.getLockTaskFeatures(admin))
        assertTrue("anti-tamper stays until release", userManager.hasUserRestriction(UserManager.DISALLOW_SAFE_BOOT))
        assertTrue("anti-tamper stays until release", userManager.hasUserRestriction(UserManager.DISALLOW_FACTORY_RESET))
        assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_ADD_USER))
        assertEquals(
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
            context.packageManager.getComponentEnabledSetting(ComponentName(context, Lockdown.HOME_ALIAS)),
        )
    }

    @Test
    fun `without device owner nothing is set and the overlay is the fallback`() {
        shadowOf(frameworkDpm).setDeviceOwner(null)
        assertFalse(Lockdown(context, dpm).engage())
        assertFalse(Lockdown(context, dpm).protect())
        assertFalse(userManager.hasUserRestriction(UserManager.DISALLOW_SAFE_BOOT))
    }

    private fun reminder(kind: ReminderKind, severity: Severity, persistent: Boolean) = Reminder(
        id = "r-$kind",
        kind = kind,
        severity = severity,
        persistent = persistent,
        installmentDueMs = FakeCore.NOW,
        amountMinor = 150_000,
        currency = "KES",
        fireAt = FakeCore.moment(1_000_000L),
    )

    @Test
    fun `an overdue reminder is persistent on the overdue channel and opens the account screen`() {
        core.reminder = reminder(ReminderKind.OVERDUE, Severity.CRITICAL, persistent = true)
        Reminders.showDue(context)
        val posted = notifications.allNotifications.single()
        assertEquals(Reminders.CHANNEL_OVERDUE, posted.channelId)
        assertTrue(posted.flags and Notification.FLAG_ONGOING_EVENT != 0)
        assertEquals("Payment overdue", posted.extras.getString(Notification.EXTRA_TITLE))
        val opens = shadowOf(posted.contentIntent).savedIntent
        assertEquals(AccountActivity::class.java.name, opens.component!!.className)
        assertTrue(core.calls.contains("markReminderShown(r-OVERDUE)"))
        assertEquals(NotificationManager.IMPORTANCE_HIGH, context.getSystemService(NotificationManager::class.java).getNotificationChannel(Reminders.CHANNEL_OVERDUE).importance)
    }

    @Test
    fun `an upcoming reminder is an ordinary one on the reminders channel`() {
        core.reminder = reminder(ReminderKind.UPCOMING, Severity.INFO, persistent = false)
        Reminders.showDue(context)
        val posted = notifications.allNotifications.single()
        assertEquals(Reminders.CHANNEL_REMINDERS, posted.channelId)
        assertEquals(0, posted.flags and Notification.FLAG_ONGOING_EVENT)
        assertTrue("no lender named: no call action", posted.actions.isNullOrEmpty())
    }

    @Test
    fun `a reminder names the lender and how to pay, and can call the lender`() {
        core.reminder = reminder(ReminderKind.OVERDUE, Severity.CRITICAL, persistent = true).copy(
            lenderName = "Jamii Phones",
            lenderPhone = "+254700123456",
            paymentInstructions = "M-Pesa paybill 400200, account 42",
        )
        Reminders.showDue(context)
        assertTrue("the reminder is asked for in the user's locale", core.calls.contains("reminderDue(en-US)"))
        val posted = notifications.allNotifications.single()
        val big = posted.extras.getCharSequence(Notification.EXTRA_BIG_TEXT).toString()
        assertTrue(big, big.startsWith("KES${Format.NBSP}1,500.00 was due on"))
        assertTrue(big, big.contains("\nLender: Jamii Phones, phone +254700123456"))
        assertTrue(big, big.endsWith("\nHow to pay: M-Pesa paybill 400200, account 42"))
        val call = posted.actions.single()
        assertEquals("Call lender +254700123456", call.title.toString())
        val dial = shadowOf(call.actionIntent).savedIntent
        assertEquals(Intent.ACTION_DIAL, dial.action)
        assertEquals("tel:%2B254700123456", dial.data.toString())
    }

    @Test
    fun `the alarm is armed at exactly the core's next wakeup`() {
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 7_654_321L, delay = 6_654_321L), WakeReason.DECISION)
        Shell.armNextWakeup(context)
        val alarm = shadowOf(context.getSystemService(AlarmManager::class.java)).scheduledAlarms.single()
        assertEquals(AlarmManager.ELAPSED_REALTIME_WAKEUP, alarm.type)
        assertEquals(7_654_321L, alarm.triggerAtTime)
    }

    @Test
    fun `a reminder the user would not see is not marked shown`() {
        core.reminder = reminder(ReminderKind.OVERDUE, Severity.CRITICAL, persistent = true)
        shadowOf(RuntimeEnvironment.getApplication()).denyPermissions(Manifest.permission.POST_NOTIFICATIONS)
        Reminders.showDue(context)
        assertTrue(notifications.allNotifications.isEmpty())
        assertFalse("still due for the core", core.calls.any { it.startsWith("markReminderShown") })
        // Allowed again, but the app's notices switched off: still not shown.
        shadowOf(RuntimeEnvironment.getApplication()).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)
        notifications.setNotificationsEnabled(false)
        Reminders.showDue(context)
        assertFalse(core.calls.any { it.startsWith("markReminderShown") })
        notifications.setNotificationsEnabled(true)
        Reminders.showDue(context)
        assertTrue(core.calls.contains("markReminderShown(r-OVERDUE)"))
    }

    @Test
    fun `the device owner grants itself the notification permission once enrolled`() {
        shadowOf(RuntimeEnvironment.getApplication()).denyPermissions(Manifest.permission.POST_NOTIFICATIONS)
        Shell.apply(context, FakeCore.unlocked())
        assertEquals(
            DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED,
            frameworkDpm.getPermissionGrantState(admin, context.packageName, Manifest.permission.POST_NOTIFICATIONS),
        )
    }

    @Test
    fun `allowing exact alarms re-arms the deadline exactly`() {
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 7_654_321L, delay = 6_654_321L), WakeReason.DECISION)
        val shadowAlarms = shadowOf(context.getSystemService(AlarmManager::class.java))
        ShadowAlarmManager.setCanScheduleExactAlarms(false)
        Shell.armNextWakeup(context)
        assertTrue("inexact without the permission", shadowAlarms.scheduledAlarms.single().windowLengthMs != AlarmManager.WINDOW_EXACT)
        ShadowAlarmManager.setCanScheduleExactAlarms(true)
        SystemEventReceiver().onReceive(context, Intent(AlarmManager.ACTION_SCHEDULE_EXACT_ALARM_PERMISSION_STATE_CHANGED))
        ShadowLooper.idleMainLooper()
        val alarm = shadowAlarms.scheduledAlarms.single()
        assertEquals(AlarmManager.WINDOW_EXACT, alarm.windowLengthMs)
        assertEquals(7_654_321L, alarm.triggerAtTime)
    }

    @Test
    fun `a due check-in is a job that waits for a network`() {
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 1_000_000L), WakeReason.CHECK_IN)
        Shell.onWake(context)
        val job = context.getSystemService(JobScheduler::class.java).allPendingJobs.single()
        assertEquals(CheckInJob.JOB_ID, job.id)
        assertTrue("network constraint", job.requiredNetwork != null)
    }

    @Test
    fun `boot restores the decision at once and tells the core`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 2_000_000L, delay = 1_000_000L), WakeReason.REMINDER)
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_LOCKED_BOOT_COMPLETED))
        ShadowLooper.idleMainLooper()
        assertTrue(core.calls.contains("onClockChanged"))
        assertTrue(userManager.hasUserRestriction(UserManager.DISALLOW_SAFE_BOOT))
        val started = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(LockActivity::class.java.name, started.component!!.className)
        val alarm = shadowOf(context.getSystemService(AlarmManager::class.java)).scheduledAlarms.single()
        assertEquals(2_000_000L, alarm.triggerAtTime)
    }

    @Test
    fun `a time change tells the core`() {
        SystemEventReceiver().onReceive(context, Intent(Intent.ACTION_TIME_CHANGED))
        assertTrue(core.calls.contains("onClockChanged"))
    }

    @Test
    fun `release lifts everything, says so once and disables the app`() {
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        core.wakeup = Wakeup(FakeCore.moment(elapsed = 5_000_000L, delay = 1), WakeReason.CHECK_IN)
        Shell.armNextWakeup(context)
        core.decision = FakeCore.released()
        Shell.refresh(context)
        assertFalse(userManager.hasUserRestriction(UserManager.DISALLOW_SAFE_BOOT))
        assertFalse(frameworkDpm.isUninstallBlocked(admin, context.packageName))
        assertTrue(dpm.clearedDeviceOwner)
        assertTrue(shadowOf(context.getSystemService(AlarmManager::class.java)).scheduledAlarms.isEmpty())
        val notice = notifications.allNotifications.single()
        assertEquals("Paid in full", notice.extras.getString(Notification.EXTRA_TITLE))
        Shell.refresh(context)
        assertEquals("one notice only", 1, notifications.allNotifications.size)
        val pm = context.packageManager
        assertEquals(
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
            pm.getComponentEnabledSetting(ComponentName(context, LockActivity::class.java)),
        )
        assertEquals(
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
            pm.getComponentEnabledSetting(ComponentName(context, SystemEventReceiver::class.java)),
        )
    }

    @Test
    fun `pay now stays on the payment URL's host`() {
        val url = "https://pay.jamii.example/device/42"
        assertTrue(WebPageActivity.isAllowed("https://pay.jamii.example/confirm", "pay.jamii.example"))
        assertFalse(WebPageActivity.isAllowed("https://evil.example/", "pay.jamii.example"))
        assertFalse(WebPageActivity.isAllowed("http://pay.jamii.example/", "pay.jamii.example"))
        assertTrue(WebPageActivity.isAllowed(url, "pay.jamii.example"))
    }

    @Test
    @Config(qualifiers = "sw")
    fun `the lock screen speaks Swahili`() {
        assertEquals(
            "Kifaa hiki kimefungwa kwa sababu ya malipo ya awamu yaliyochelewa.",
            context.getString(R.string.reason_overdue_payment),
        )
    }
}
