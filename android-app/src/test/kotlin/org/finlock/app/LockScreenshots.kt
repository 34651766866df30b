package org.finlock.app

import android.graphics.Bitmap
import android.graphics.Canvas
import org.finlock.core.LockReason
import org.junit.Assume.assumeTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowLooper
import java.io.File

/**
 * PNGs of the lock screen per reason and language, of enrollment (the disclosure, and
 * waiting for the lender's approval), of the account screen in good standing, and of the
 * escalation levels (the notice page as it opens and scrolled whole, with private details
 * closed, and the restricted home), for people to look at (`cargo xtask android-screens`, native graphics). Skipped in
 * `android-test`. The status bar (and with it lock task's system info: signal, battery, clock)
 * belongs to System UI, which Robolectric does not draw: docs/DEVICE-CHECKLIST.md, L1.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "w360dp-h800dp-xhdpi")
class LockScreenshots {
    private val dir = System.getProperty("finlock.screens.dir")

    /** Each case installs its own shell. */
    @get:Rule
    val shell = ShellRule(deviceOwner = true) { null }

    @Test
    fun `lock screen for every reason, and the account screen, in every language`() {
        assumeTrue("set finlock.screens.dir", dir != null)
        val context = RuntimeEnvironment.getApplication()
        val cases = listOf(
            "overdue_payment" to FakeCore.locked(LockReason.OVERDUE_PAYMENT),
            "lender_request" to FakeCore.locked(LockReason.LENDER_REQUEST),
            "offline" to FakeCore.locked(LockReason.OFFLINE),
            "clock_suspect" to FakeCore.locked(LockReason.OVERDUE_PAYMENT, clockSuspect = true),
        )
        installApps(context)
        // Every language the app ships (values-*/strings.xml).
        for (language in listOf("en", "es", "in", "pt-rBR", "sw", "fil", "hi")) {
            RuntimeEnvironment.setQualifiers("$language-w360dp-h800dp-xhdpi")
            for ((name, decision) in cases) {
                val core = FakeCore()
                core.decision = decision
                Shell.install(ShellDeps(core, FrameworkDpm(context), FIXED_CLOCK, Inline))
                val controller = Robolectric.buildActivity(LockActivity::class.java).setup()
                ShadowLooper.idleMainLooper()
                val view = controller.get().window.decorView
                val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
                view.draw(Canvas(bitmap))
                File(dir, "lock-$name-$language.png").outputStream().use {
                    bitmap.compress(Bitmap.CompressFormat.PNG, 100, it)
                }
                controller.pause().stop().destroy()
            }
            // The enrollment screen: the disclosure and "I understand, continue".
            val bundle = android.os.PersistableBundle().apply {
                putString(ProvisioningBundle.KEY_SERVER_URL, EnrollmentTest.URL)
                putString(ProvisioningBundle.KEY_LENDER_KEYS, EnrollmentTest.KEYS)
                putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, EnrollmentTest.CODE)
            }
            Shell.install(ShellDeps(FakeCore(), FrameworkDpm(context), FIXED_CLOCK, Inline))
            val controller = Robolectric.buildActivity(
                EnrollmentActivity::class.java,
                EnrollmentActivity.intent(context, bundle),
            ).setup()
            ShadowLooper.idleMainLooper()
            val view = controller.get().window.decorView
            val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
            view.draw(Canvas(bitmap))
            File(dir, "enroll-$language.png").outputStream().use {
                bitmap.compress(Bitmap.CompressFormat.PNG, 100, it)
            }
            controller.pause().stop().destroy()
            // Enrollment by IMEI waiting for the lender's approval, with the device key.
            val byImei = android.os.PersistableBundle().apply {
                putString(ProvisioningBundle.KEY_SERVER_URL, EnrollmentTest.URL)
                putString(ProvisioningBundle.KEY_LENDER_KEYS, EnrollmentTest.KEYS)
            }
            val waitingCore = FakeCore().apply {
                enrollOutcome = {
                    org.finlock.core.EnrollOutcome.WaitingForApproval(300, AttestedEnrollmentTest.THUMBPRINT)
                }
            }
            Shell.install(ShellDeps(waitingCore, FrameworkDpm(context), FIXED_CLOCK, Inline))
            val waiting = Robolectric.buildActivity(EnrollmentActivity::class.java, EnrollmentActivity.intent(context, byImei))
                .setup()
            waiting.get().findViewById<android.widget.Button>(R.id.enroll_accept).performClick()
            ShadowLooper.idleMainLooper()
            save(waiting.get().window.decorView, "enroll-waiting-$language.png")
            waiting.pause().stop().destroy()
            UnfinishedSetup.clear(context)
            // The account screen of a device whose enrollment was left unfinished.
            UnfinishedSetup.keep(context, ProvisioningBundle.from(bundle))
            Shell.install(ShellDeps(FakeCore().apply { enrolled = false }, FrameworkDpm(context), FIXED_CLOCK, Inline))
            val account = Robolectric.buildActivity(AccountActivity::class.java).setup()
            ShadowLooper.idleMainLooper()
            save(account.get().window.decorView, "account-unfinished-$language.png")
            account.pause().stop().destroy()
            UnfinishedSetup.clear(context)
            levels(context, language)
            // Good standing: the account screen of an enrolled device, not locked.
            Shell.install(ShellDeps(FakeCore(), FrameworkDpm(context), FIXED_CLOCK, Inline))
            val good = Robolectric.buildActivity(AccountActivity::class.java).setup()
            ShadowLooper.idleMainLooper()
            save(good.get().window.decorView, "account-good-standing-$language.png")
            good.pause().stop().destroy()
        }
    }

    /** The phone's own apps and the lender's payment app and essential, as on a real phone. */
    private fun installApps(context: android.content.Context) {
        val telecom = org.robolectric.Shadows.shadowOf(context.getSystemService(android.telecom.TelecomManager::class.java))
        telecom.setSystemDialerPackage("com.android.dialer")
        TestApps.install(context, "com.android.dialer", "Phone", system = true)
        TestApps.install(context, "com.android.messaging", "Messages", system = true)
        org.robolectric.shadows.ShadowTelephony.ShadowSms.setDefaultSmsPackage("com.android.messaging")
        TestApps.install(context, FakeCore.PAYMENT_APP, "M-Pesa")
        TestApps.install(context, FakeCore.ESSENTIAL, "Health")
    }

    /** The notice page and the restricted home (PROTOCOL §3.7) in [language]. */
    private fun levels(context: android.content.Context, language: String) {
        val cases = listOf(
            "notice" to FakeCore().apply { decision = FakeCore.noticed(firstShownMs = FakeCore.NOW - FakeCore.DAY) },
            "notice-private" to FakeCore().apply {
                decision = FakeCore.noticed()
                notice = FakeCore.notice(FakeCore.noticed(), privateDetails = true)
            },
            "notice-restricted" to FakeCore().apply { decision = FakeCore.restricted() },
        )
        for ((name, core) in cases) {
            Shell.install(ShellDeps(core, FrameworkDpm(context), FIXED_CLOCK, Inline))
            val notice = Robolectric.buildActivity(NoticeActivity::class.java).setup()
            ShadowLooper.idleMainLooper()
            save(notice.get().window.decorView, "$name-$language.png")
            saveWhole(notice.get().findViewById(R.id.notice_content), "$name-full-$language.png")
            notice.pause().stop().destroy()
        }
        Shell.install(ShellDeps(FakeCore().apply { decision = FakeCore.restricted() }, FrameworkDpm(context), FIXED_CLOCK, Inline))
        val home = Robolectric.buildActivity(RestrictedActivity::class.java).setup()
        ShadowLooper.idleMainLooper()
        save(home.get().window.decorView, "restricted-$language.png")
        saveWhole(home.get().findViewById(R.id.restricted_content), "restricted-full-$language.png")
        home.pause().stop().destroy()
    }

    /** A scroll view's whole content, as the user scrolls through it, on the screens' background. */
    private fun saveWhole(content: android.view.View, name: String) {
        val bitmap = Bitmap.createBitmap(content.width, content.height, Bitmap.Config.ARGB_8888)
        val canvas = Canvas(bitmap)
        canvas.drawColor(content.context.getColor(R.color.lock_background))
        content.draw(canvas)
        File(dir, name).outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }

    private fun save(view: android.view.View, name: String) {
        val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
        view.draw(Canvas(bitmap))
        File(dir, name).outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }
}
