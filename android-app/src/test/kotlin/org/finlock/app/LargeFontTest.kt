package org.finlock.app

import android.content.Context
import android.graphics.Rect
import android.os.Looper
import android.util.TypedValue
import android.view.View
import android.widget.Button
import android.widget.ScrollView
import org.finlock.core.LockReason
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowLooper

/** The lock screen at font scale 2.0 on a small phone: emergency first and always visible,
 * every action reachable by scrolling. */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "w320dp-h568dp-mdpi", fontScale = 2.0f)
class LargeFontTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = true)

    private fun fullyVisible(view: View): Boolean {
        val rect = Rect()
        return view.isShown && view.getGlobalVisibleRect(rect) && rect.height() == view.height && view.height > 0
    }

    @Test
    fun `at font scale 2 the emergency button is visible, first, and every action can be scrolled to`() =
        everyActionReachable(requireLongerThanScreen = true)

    @Test
    @Config(qualifiers = "w960dp-h540dp-land-mdpi")
    fun `on a large landscape screen at font scale 2 the lock screen is not pinned to portrait and every action is reachable`() {
        val info = context.packageManager.getActivityInfo(
            android.content.ComponentName(context, LockActivity::class.java),
            android.content.pm.PackageManager.MATCH_DIRECT_BOOT_AWARE,
        )
        assertEquals(android.content.pm.ActivityInfo.SCREEN_ORIENTATION_UNSPECIFIED, info.screenOrientation)
        everyActionReachable(requireLongerThanScreen = false)
    }

    @Test
    fun `at font scale 2 the notice page keeps emergency first and its close button is reached by scrolling, every control described`() {
        TestApps.install(context, FakeCore.PAYMENT_APP, "M-Pesa")
        core.decision = FakeCore.noticed()
        val page = Robolectric.buildActivity(NoticeActivity::class.java).setup().visible().get()
        ShadowLooper.idleMainLooper()
        assertTrue("emergency visible", fullyVisible(page.findViewById(R.id.emergency_call)))
        assertEquals(R.id.emergency_call, LockScreenTest.firstFocusable(page.window.decorView)?.id)
        val scroll = page.findViewById<ScrollView>(R.id.notice_scroll)
        val content = scroll.getChildAt(0)
        assertTrue("longer than the screen (${content.height} > ${scroll.height})", content.height > scroll.height)
        val dismiss = page.findViewById<Button>(R.id.notice_dismiss)
        shadowOf(Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(NoticeActivity.MIN_READ_MS))
        assertFalse("not scrolled to the end yet", dismiss.isEnabled)
        scroll.scrollTo(0, content.height)
        ShadowLooper.idleMainLooper()
        assertTrue("the close button reached", fullyVisible(dismiss))
        assertTrue("and usable once read", dismiss.isEnabled)
        LockScreenTest.assertEveryControlDescribed(page.window.decorView)
    }

    @Test
    fun `at font scale 2 the restricted home keeps emergency first and every control described`() {
        TestApps.install(context, FakeCore.PAYMENT_APP, "M-Pesa")
        core.decision = FakeCore.restricted()
        val home = Robolectric.buildActivity(RestrictedActivity::class.java).setup().visible().get()
        ShadowLooper.idleMainLooper()
        assertTrue("emergency visible", fullyVisible(home.findViewById(R.id.emergency_call)))
        assertEquals(R.id.emergency_call, LockScreenTest.firstFocusable(home.window.decorView)?.id)
        LockScreenTest.assertEveryControlDescribed(home.window.decorView)
    }

    private fun everyActionReachable(requireLongerThanScreen: Boolean, fontScale: Float = 2.0f) {
        core.decision = FakeCore.locked(LockReason.OFFLINE)
        val activity = Robolectric.buildActivity(LockActivity::class.java).setup().visible().get()
        activity.findViewById<Button>(R.id.enter_code).performClick() // the code panel open too
        ShadowLooper.idleMainLooper()
        val emergency = activity.findViewById<Button>(R.id.emergency_call)
        val scaled = TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_SP, 18f, activity.resources.displayMetrics)
        assertEquals("the text is really scaled", fontScale, activity.resources.configuration.fontScale)
        assertEquals(scaled, emergency.textSize, 0.5f)
        assertTrue("emergency visible", fullyVisible(emergency))
        assertEquals(R.id.emergency_call, LockScreenTest.firstFocusable(activity.window.decorView)?.id)

        val scroll = activity.findViewById<View>(R.id.check_now).parent.parent as ScrollView
        val content = scroll.getChildAt(0)
        if (requireLongerThanScreen) {
            assertTrue("the content is longer than the screen (${content.height} > ${scroll.height})", content.height > scroll.height)
        }
        val actions = listOf(
            R.id.check_now, R.id.pay_now, R.id.call_lender, R.id.enter_code, R.id.submit_code,
            R.id.code_input, R.id.support_link, R.id.terms_link, R.id.disclosure_link,
        )
        for (id in actions) {
            val view = activity.findViewById<View>(id)
            val rect = Rect(0, 0, view.width, view.height)
            scroll.offsetDescendantRectToMyCoords(view, rect)
            scroll.scrollTo(0, (rect.bottom - scroll.height).coerceAtLeast(0))
            ShadowLooper.idleMainLooper()
            val name = activity.resources.getResourceEntryName(id)
            assertTrue("$name reachable by scrolling", fullyVisible(view))
            assertTrue("emergency still visible with $name in view", fullyVisible(emergency))
        }
    }

    // Robolectric's legacy text layout does not wrap lines: a shorter screen stands in for
    // the disclosure's wrapped paragraphs.
    @Test
    @Config(qualifiers = "w320dp-h400dp-mdpi")
    fun `at font scale 2 the enrollment screen's continue button can be scrolled to`() {
        val bundle = android.os.PersistableBundle().apply {
            putString(ProvisioningBundle.KEY_SERVER_URL, EnrollmentTest.URL)
            putString(ProvisioningBundle.KEY_LENDER_KEYS, EnrollmentTest.KEYS)
        }
        val activity = Robolectric.buildActivity(EnrollmentActivity::class.java, EnrollmentActivity.intent(context, bundle))
            .setup().visible().get()
        val scroll = activity.findViewById<ScrollView>(R.id.enroll_root)
        val accept = activity.findViewById<View>(R.id.enroll_accept)
        val lender = activity.findViewById<android.widget.TextView>(R.id.enroll_lender_text)
        assertTrue(
            "the disclosure is longer than the screen: ${scroll.getChildAt(0).height} > ${scroll.height}; " +
                "lender text ${lender.height} px, ${lender.lineCount} lines, ${lender.textSize} px",
            scroll.getChildAt(0).height > scroll.height,
        )
        assertTrue("below the disclosure at first", !fullyVisible(accept))
        scroll.fullScroll(View.FOCUS_DOWN)
        ShadowLooper.idleMainLooper()
        assertTrue("reachable by scrolling", fullyVisible(accept))
    }
}
