package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager
import android.telecom.TelecomManager
import android.widget.Button
import android.widget.LinearLayout
import org.finlock.app.FakeCore.Companion.ESSENTIAL
import org.finlock.app.FakeCore.Companion.PAYMENT_APP
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLooper
import org.robolectric.shadows.ShadowTelephony

/**
 * Each level's lock task (PROTOCOL §3.7), through the real DevicePolicyManager gateway: none at
 * normal and notice; at restricted the base (ours, the system dialer and Telecom, cell
 * broadcasts, system keyboards, the SIM toolkit, the OEM's) plus the system SMS app, the
 * lender's payment apps and essentials; at locked the base plus the payment apps. Never
 * Settings, never the user's own launcher, dialer or SMS app.
 */
@RunWith(RobolectricTestRunner::class)
class LevelsTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private lateinit var dpm: RecordingDpm
    private val frameworkDpm get() = context.getSystemService(DevicePolicyManager::class.java)
    private val admin get() = AdminReceiver.component(context)
    private val apps = LevelApps(listOf(PAYMENT_APP), listOf(ESSENTIAL))

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        dpm = RecordingDpm(context)
        ShellDeps(core, dpm, FIXED_CLOCK, Inline)
    }

    @Before
    fun phone() {
        val telecom = shadowOf(context.getSystemService(TelecomManager::class.java))
        telecom.setSystemDialerPackage(DIALER)
        telecom.setDefaultDialerPackage(DIALER)
        TestApps.install(context, DIALER, "Phone", system = true)
        TestApps.install(context, SMS, "Messages", system = true)
        ShadowTelephony.ShadowSms.setDefaultSmsPackage(SMS)
        TestApps.install(context, PAYMENT_APP, "M-Pesa")
        TestApps.install(context, ESSENTIAL, "Health")
        TestApps.install(context, "com.example.game", "A game")
    }

    private fun packages() = frameworkDpm.getLockTaskPackages(admin).toList()

    private fun base() = listOf(context.packageName, DIALER, Lockdown.TELECOM_PACKAGE, "com.android.stk", "com.android.cellbroadcastreceiver")

    private fun startedActivity() = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity?.component?.className

    private fun enabled(alias: String) =
        context.packageManager.getComponentEnabledSetting(ComponentName(context, alias)) == PackageManager.COMPONENT_ENABLED_STATE_ENABLED

    @Test
    fun `normal and notice engage no lock task`() {
        for (decision in listOf(FakeCore.unlocked(), FakeCore.noticed())) {
            core.decision = decision
            Shell.refresh(context)
            assertTrue("${decision.level}: ${packages()}", packages().isEmpty())
            assertFalse(Lockdown(context, dpm).engaged)
            assertNull(dpm.preferredHome)
            assertFalse(enabled(Lockdown.HOME_ALIAS))
            assertFalse(enabled(Lockdown.RESTRICTED_HOME_ALIAS))
            assertNull("no screen forced at ${decision.level}", startedActivity())
            assertTrue("anti-tamper holds at ${decision.level}", frameworkDpm.isUninstallBlocked(admin, context.packageName))
        }
    }

    @Test
    fun `restricted allows the base, the system SMS app, the payment apps and the essentials`() {
        core.decision = FakeCore.restricted()
        Shell.refresh(context)
        val packages = packages()
        assertTrue(packages.toString(), packages.containsAll(base() + SMS + PAYMENT_APP + ESSENTIAL))
        assertFalse(packages.toString(), "com.example.game" in packages)
        assertFalse(packages.toString(), "com.android.settings" in packages)
        assertTrue("the apps were read from the core", core.calls.any { it.startsWith("noticePage(") })
        assertEquals(RESTRICTED_FEATURES, frameworkDpm.getLockTaskFeatures(admin))
        assertEquals(Lockdown.homeComponent(context, Level.RESTRICTED), dpm.preferredHome)
        assertTrue(enabled(Lockdown.RESTRICTED_HOME_ALIAS))
        assertFalse("one HOME only", enabled(Lockdown.HOME_ALIAS))
        assertEquals(RestrictedActivity::class.java.name, startedActivity())
    }

    @Test
    fun `locked allows the base and the payment apps, not the essentials nor messages`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.refresh(context)
        val packages = packages()
        assertTrue(packages.toString(), packages.containsAll(base() + PAYMENT_APP))
        assertFalse(packages.toString(), ESSENTIAL in packages)
        assertFalse(packages.toString(), SMS in packages)
        assertEquals(LOCKED_FEATURES, frameworkDpm.getLockTaskFeatures(admin))
        assertEquals(Lockdown.homeComponent(context, Level.LOCKED), dpm.preferredHome)
        assertTrue(enabled(Lockdown.HOME_ALIAS))
        assertFalse(enabled(Lockdown.RESTRICTED_HOME_ALIAS))
        assertEquals(LockActivity::class.java.name, startedActivity())
    }

    @Test
    fun `an incoming call and a payment app are usable restricted and locked`() {
        for (decision in listOf(FakeCore.restricted(), FakeCore.locked(LockReason.OVERDUE_PAYMENT))) {
            core.decision = decision
            Shell.refresh(context)
            // Telecom's incoming-call screens and the system dialer's in-call UI run in lock task.
            for (pkg in listOf(DIALER, Lockdown.TELECOM_PACKAGE, PAYMENT_APP)) {
                assertTrue("$pkg at ${decision.level}", frameworkDpm.isLockTaskPermitted(pkg))
            }
            assertFalse(frameworkDpm.isLockTaskPermitted("com.example.game"))
        }
    }

    @Test
    fun `never Settings, the user's launcher, a user-installed SMS app or a user dialer, whatever the lender names`() {
        TestApps.installLauncher(context, "com.example.launcher")
        TestApps.install(context, "com.example.sms", "My SMS")
        ShadowTelephony.ShadowSms.setDefaultSmsPackage("com.example.sms")
        shadowOf(context.getSystemService(TelecomManager::class.java)).setDefaultDialerPackage("com.example.userdialer")
        core.decision = FakeCore.restricted()
        core.notice = FakeCore.notice(FakeCore.restricted()).copy(
            paymentApps = listOf(PAYMENT_APP, "com.android.settings"),
            essentials = listOf("com.example.launcher", ESSENTIAL),
        )
        Shell.refresh(context)
        val packages = packages()
        for (never in listOf("com.android.settings", "com.example.launcher", "com.example.sms", "com.example.userdialer")) {
            assertFalse("$never in $packages", never in packages)
        }
        assertTrue(packages.toString(), packages.containsAll(listOf(PAYMENT_APP, ESSENTIAL)))
    }

    @Test
    fun `restricted then locked then paid restores exactly what was there before`() {
        frameworkDpm.setLockTaskPackages(admin, arrayOf("com.example.kiosk"))
        frameworkDpm.setLockTaskFeatures(admin, DevicePolicyManager.LOCK_TASK_FEATURE_HOME)
        core.decision = FakeCore.restricted()
        Shell.refresh(context)
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.refresh(context)
        assertFalse("locked drops the essentials", ESSENTIAL in packages())
        core.decision = FakeCore.unlocked()
        Shell.refresh(context)
        assertEquals(listOf("com.example.kiosk"), packages())
        assertEquals(DevicePolicyManager.LOCK_TASK_FEATURE_HOME, frameworkDpm.getLockTaskFeatures(admin))
        assertFalse(enabled(Lockdown.HOME_ALIAS))
        assertFalse(enabled(Lockdown.RESTRICTED_HOME_ALIAS))
        assertNull(dpm.preferredHome)
    }

    @Test
    fun `a decision applied without reading the core keeps the apps applied last`() {
        core.decision = FakeCore.restricted()
        Shell.refresh(context)
        // From a screen, on the main thread: no core read, the same payment apps.
        Shell.apply(context, FakeCore.locked(LockReason.OVERDUE_PAYMENT))
        assertTrue(packages().toString(), PAYMENT_APP in packages())
    }

    @Test
    fun `the restricted home offers the phone, messages, the payment apps and the essentials installed, and opens them`() {
        core.decision = FakeCore.restricted()
        val home = Robolectric.buildActivity(RestrictedActivity::class.java).setup().get()
        ShadowLooper.idleMainLooper()
        val list = home.findViewById<LinearLayout>(R.id.allowed_apps)
        val offered = (0 until list.childCount).map { list.getChildAt(it).tag as String }
        assertEquals(listOf(DIALER, SMS, PAYMENT_APP, ESSENTIAL), offered)
        val labels = (0 until list.childCount).map { (list.getChildAt(it) as Button).text.toString() }
        assertEquals(listOf("Phone", "Messages", "M-Pesa", "Health"), labels)
        list.findViewWithTag<Button>(PAYMENT_APP).performClick()
        val opened = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(PAYMENT_APP, opened.component?.packageName ?: opened.`package`)
        // Why, and when it locks.
        val reason = home.findViewById<android.widget.TextView>(R.id.reason).text.toString()
        assertTrue(reason, reason.startsWith("Why: a payment is overdue."))
        val lock = home.findViewById<android.widget.TextView>(R.id.notice_lock).text.toString()
        assertEquals("From ${Format.date(context, FakeCore.NOW + 7 * FakeCore.DAY)}, this phone will be locked. Emergency calls will still work.", lock)
    }

    @Test
    fun `the lock screen offers the payment apps, which lock task allows`() {
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        Shell.refresh(context)
        val lock = Robolectric.buildActivity(LockActivity::class.java).setup().get()
        ShadowLooper.idleMainLooper()
        val list = lock.findViewById<LinearLayout>(R.id.payment_apps)
        assertEquals(1, list.childCount)
        val button = list.getChildAt(0) as Button
        assertEquals("M-Pesa", button.text.toString())
        assertTrue(frameworkDpm.isLockTaskPermitted(PAYMENT_APP))
        button.performClick()
        val opened = shadowOf(RuntimeEnvironment.getApplication()).nextStartedActivity
        assertEquals(PAYMENT_APP, opened.component?.packageName ?: opened.`package`)
        val first = lock.findViewById<android.widget.TextView>(R.id.notice_first_shown).text.toString()
        assertEquals("This notice was first shown on ${Format.date(context, FakeCore.NOW - 3 * FakeCore.DAY)}.", first)
    }

    @Test
    fun `the restricted home leaves and the lock screen comes when the core says locked`() {
        core.decision = FakeCore.restricted()
        val controller = Robolectric.buildActivity(RestrictedActivity::class.java).setup()
        ShadowLooper.idleMainLooper()
        shadowOf(RuntimeEnvironment.getApplication()).clearNextStartedActivities()
        core.decision = FakeCore.locked(LockReason.OVERDUE_PAYMENT)
        controller.get().render()
        ShadowLooper.idleMainLooper()
        assertTrue(controller.get().isFinishing)
        assertEquals(LockActivity::class.java.name, startedActivity())
        assertEquals(Lockdown.homeComponent(context, Level.LOCKED), dpm.preferredHome)
    }

    companion object {
        const val DIALER = "com.android.dialer"
        const val SMS = "com.android.messaging"
    }
}
