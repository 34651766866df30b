package org.finlock.app

import android.app.Activity
import android.app.Notification
import android.app.NotificationManager
import android.app.PendingIntent
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.BaseBundle
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.os.Parcelable
import android.os.PersistableBundle
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.ProgressBar
import android.widget.TextView
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockException

/**
 * What the lender's provisioning QR (server/src/provisioning.rs) puts in
 * `PROVISIONING_ADMIN_EXTRAS_BUNDLE`. The shell keeps it only as a [PendingEnrollment] until
 * enrollment is over; the core pins the server and keys when the user accepts the disclosure,
 * and validates them (a bad URL or key set is refused with a typed error and nothing is stored).
 */
data class ProvisioningBundle(
    val serverUrl: String,
    /** The lender's JWKS as a JSON string. */
    val lenderKeys: String,
    /** One-time: never logged, never put in a notification or an intent the shell builds. */
    val enrollmentCode: String?,
) {
    /** Without the enrollment code, should this ever reach a log. */
    override fun toString() =
        "ProvisioningBundle(serverUrl=$serverUrl, enrollmentCode=${if (enrollmentCode == null) "none" else "hidden"})"

    companion object {
        const val KEY_SERVER_URL = "finlock.server_url"
        const val KEY_LENDER_KEYS = "finlock.lender_keys"
        const val KEY_ENROLLMENT_CODE = "finlock.enrollment_code"

        /** The bundle's values, or null when the URL or the keys are missing (or not strings). */
        fun from(bundle: BaseBundle?): ProvisioningBundle? {
            if (bundle == null) return null
            // getString answers null for a value of another type: nothing is cast unchecked.
            val url = bundle.getString(KEY_SERVER_URL)?.trim()
            val keys = bundle.getString(KEY_LENDER_KEYS)?.trim()
            val code = bundle.getString(KEY_ENROLLMENT_CODE)?.trim()
            if (url.isNullOrEmpty() || keys.isNullOrEmpty()) return null
            return ProvisioningBundle(url, keys, code?.takeIf { it.isNotEmpty() })
        }

        /** The admin extras bundle an intent from the provisioning flow carries, if any. */
        fun adminExtras(intent: Intent?): PersistableBundle? {
            if (intent == null) return null
            val key = DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE
            return runCatching {
                if (Build.VERSION.SDK_INT >= 33) {
                    intent.getParcelableExtra(key, PersistableBundle::class.java)
                } else {
                    @Suppress("DEPRECATION")
                    intent.getParcelableExtra<Parcelable>(key) as? PersistableBundle
                }
            }.getOrNull()
        }
    }
}

/**
 * Android 10+: the setup wizard asks which mode to provision. finlock is a fully managed
 * device's owner; the admin extras pass through untouched. Stores nothing.
 */
class ProvisioningModeActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val allowed = intent?.getIntegerArrayListExtra(DevicePolicyManager.EXTRA_PROVISIONING_ALLOWED_PROVISIONING_MODES)
        val mode = DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE
        if (allowed != null && mode !in allowed) {
            // A work profile only: finlock cannot protect a financed device that way.
            setResult(RESULT_CANCELED)
        } else {
            val result = Intent().putExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, mode)
            ProvisioningBundle.adminExtras(intent)?.let {
                result.putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, it)
            }
            setResult(RESULT_OK, result)
        }
        finish()
    }
}

/**
 * The hand-off from provisioning to the enrollment screen: `ADMIN_POLICY_COMPLIANCE`
 * (Android 10+) and `PROVISIONING_SUCCESSFUL` (the Android 9 path). It keeps the bundle as a
 * [PendingEnrollment] (so an enrollment left unfinished can be resumed) and opens the
 * enrollment screen, which shows the disclosure and only then talks to the lender.
 * Provisioning itself always succeeds: an unfinished enrollment must not fail the setup.
 */
class PolicyComplianceActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        if (savedInstanceState != null) return // the enrollment screen is already open
        if (!EnrollmentHandoff.claim()) {
            setResult(RESULT_OK)
            finish()
            return
        }
        PendingEnrollment.keep(this, ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent)))
        startActivityForResult(EnrollmentActivity.intent(this, ProvisioningBundle.adminExtras(intent)), REQUEST_ENROLL)
    }

    @Deprecated("Activity results: framework API, no AndroidX")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (requestCode == REQUEST_ENROLL) {
            setResult(RESULT_OK)
            finish()
        }
    }

    companion object {
        const val REQUEST_ENROLL = 1
    }
}

/**
 * Android 9 sends both `PROVISIONING_SUCCESSFUL` (to [PolicyComplianceActivity]) and the
 * `PROFILE_PROVISIONING_COMPLETE` broadcast: whichever arrives first opens the enrollment
 * screen, once per process.
 */
object EnrollmentHandoff {
    @Volatile
    private var claimed = false

    @Synchronized
    fun claim(): Boolean {
        if (claimed) return false
        claimed = true
        return true
    }

    /** For tests: a new provisioning. */
    @Synchronized
    fun reset() {
        claimed = false
    }

    /** The broadcast path (Android 9): may start an activity from the background there. */
    fun onProvisioningComplete(context: Context, intent: Intent) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) return // the activities handle it
        if (!claim()) return
        PendingEnrollment.keep(context, ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent)))
        context.startActivity(
            EnrollmentActivity.intent(context, ProvisioningBundle.adminExtras(intent))
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
        )
    }
}

/**
 * An enrollment handed off by provisioning and not over yet: the lender's bundle (one-time
 * enrollment code included) in the shell's app-private, device-protected [Prefs], from the
 * hand-off until the enrollment succeeds or is refused for good. Never logged. While it is
 * here and the core says "not enrolled", the account screen offers to finish setting up, and
 * a notice (posted when the enrollment screen is left unfinished, and again after each boot)
 * does too; both open the enrollment screen, disclosure first.
 */
object PendingEnrollment {
    const val NOTIFICATION_ID = 5
    private const val KEY_SERVER_URL = "enrollment.pending.server_url"
    private const val KEY_LENDER_KEYS = "enrollment.pending.lender_keys"
    private const val KEY_CODE = "enrollment.pending.code"
    private const val KEY_DEBUG_LOOPBACK = "enrollment.pending.debug_loopback"
    private val KEYS = listOf(KEY_SERVER_URL, KEY_LENDER_KEYS, KEY_CODE, KEY_DEBUG_LOOPBACK)

    /** Keeps [bundle] (nothing when null: an incomplete bundle is not worth resuming).
     * [debugLoopback]: the debug receiver's plain-http permission, honoured by debug builds only. */
    fun keep(context: Context, bundle: ProvisioningBundle?, debugLoopback: Boolean = false) {
        if (bundle == null) return
        val edit = Prefs.of(context).edit()
            .putString(KEY_SERVER_URL, bundle.serverUrl)
            .putString(KEY_LENDER_KEYS, bundle.lenderKeys)
            .putBoolean(KEY_DEBUG_LOOPBACK, debugLoopback)
        if (bundle.enrollmentCode == null) edit.remove(KEY_CODE) else edit.putString(KEY_CODE, bundle.enrollmentCode)
        edit.commit()
    }

    /** The kept bundle, or null (none, or not readable as one). */
    fun load(context: Context): ProvisioningBundle? {
        val prefs = Prefs.of(context)
        // A value of another type reads as null (getString throws): nothing is cast unchecked.
        fun text(key: String) = runCatching { prefs.getString(key, null) }.getOrNull()
        val values = PersistableBundle().apply {
            putString(ProvisioningBundle.KEY_SERVER_URL, text(KEY_SERVER_URL))
            putString(ProvisioningBundle.KEY_LENDER_KEYS, text(KEY_LENDER_KEYS))
            putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, text(KEY_CODE))
        }
        // The same checks as the hand-off's bundle.
        return ProvisioningBundle.from(values)
    }

    fun exists(context: Context): Boolean = load(context) != null

    fun debugLoopback(context: Context): Boolean =
        runCatching { Prefs.of(context).getBoolean(KEY_DEBUG_LOOPBACK, false) }.getOrDefault(false)

    /** The enrollment is over (done, or refused for good): the bundle and its notice go. */
    fun clear(context: Context) {
        context.getSystemService(NotificationManager::class.java)?.cancel(NOTIFICATION_ID)
        val prefs = Prefs.of(context)
        if (KEYS.none { prefs.contains(it) }) return // nothing to write
        val edit = prefs.edit()
        KEYS.forEach { edit.remove(it) }
        edit.commit()
    }

    /**
     * After boot, with the core's answer: not enrolled ([enrolled] false) with an enrollment
     * pending, a notice that opens the enrollment screen; enrolled, a leftover bundle goes.
     */
    fun afterBoot(context: Context, enrolled: Boolean) {
        when {
            enrolled -> clear(context)
            exists(context) -> notify(context)
        }
    }

    /** "Finish setting up": opens the enrollment screen (the intent carries no code). */
    fun notify(context: Context) {
        Reminders.createChannels(context)
        val open = PendingIntent.getActivity(
            context,
            NOTIFICATION_ID,
            EnrollmentActivity.resumeIntent(context).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val text = context.getString(R.string.setup_unfinished_text)
        context.getSystemService(NotificationManager::class.java)?.notify(
            NOTIFICATION_ID,
            Notification.Builder(context, Reminders.CHANNEL_ACCOUNT)
                .setSmallIcon(R.drawable.ic_notification)
                .setContentTitle(context.getString(R.string.setup_unfinished_title))
                .setContentText(text)
                .setStyle(Notification.BigTextStyle().bigText(text))
                .setAutoCancel(true)
                .setCategory(Notification.CATEGORY_REMINDER)
                .setContentIntent(open)
                .build(),
        )
    }
}

/**
 * Enrollment: the disclosure first (what works while locked, what the lender can and cannot
 * see or do, how to get released), then — only after "I understand, continue" — the core pins
 * the lender's server and keys and enrolls, off the main thread, with progress and a result.
 * Opened with the bundle (the hand-off) or without (resuming: the [PendingEnrollment]). When
 * enrollment succeeds or is refused for good the pending bundle is deleted; after a network
 * or other passing error it stays, to be resumed later.
 */
class EnrollmentActivity : Activity() {
    enum class Stage { DISCLOSURE, WORKING, DONE, RETRY, FAILED }

    private val main = Handler(Looper.getMainLooper())
    private var bundle: ProvisioningBundle? = null

    /** Plain http to the emulator's host: only when the debug receiver opened this screen,
     * and only in a debuggable build (QR provisioning always gets the production rule). */
    private val allowLoopback: Boolean
        get() = (intent?.getBooleanExtra(EXTRA_DEBUG_LOOPBACK, false) == true || resumedDebugLoopback) &&
            ClockShift.enabled(this)

    /** Resumed from a [PendingEnrollment] the debug receiver started. */
    private var resumedDebugLoopback = false

    /** The core accepted the server and keys: a retry only enrolls again (same device key). */
    @Volatile
    private var provisioned = false

    var stage = Stage.DISCLOSURE
        private set

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_enroll)
        provisioned = savedInstanceState?.getBoolean(KEY_PROVISIONED) ?: false
        bundle = ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent))
            ?: PendingEnrollment.load(this)?.also { resumedDebugLoopback = PendingEnrollment.debugLoopback(this) }
        find<Button>(R.id.enroll_accept).setOnClickListener { start() }
        find<Button>(R.id.enroll_retry).setOnClickListener { start() }
        find<Button>(R.id.enroll_finish).setOnClickListener { finish() }
        val b = bundle
        if (b == null) {
            show(Stage.FAILED, getString(R.string.enroll_bad_bundle))
        } else {
            find<TextView>(R.id.enroll_server).text = getString(R.string.enroll_server, b.serverUrl)
            show(Stage.DISCLOSURE, null)
        }
    }

    /** Back here: the "finish setting up" notice has done its job. */
    override fun onStart() {
        super.onStart()
        getSystemService(NotificationManager::class.java)?.cancel(PendingEnrollment.NOTIFICATION_ID)
    }

    /** Left before enrollment is over (back, home, screen off): a notice leads back here. */
    override fun onStop() {
        super.onStop()
        val over = stage == Stage.DONE || stage == Stage.FAILED
        if (!over && !isChangingConfigurations && PendingEnrollment.exists(this)) PendingEnrollment.notify(this)
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putBoolean(KEY_PROVISIONED, provisioned)
    }

    private fun start() {
        val b = bundle ?: return
        val d = Shell.deps(this)
        show(Stage.WORKING, getString(R.string.enroll_working))
        val params = enrollParams(b)
        d.background.execute {
            val (stage, message) = try {
                if (!provisioned) {
                    d.core.provision(b.serverUrl, b.lenderKeys, allowLoopback)
                    provisioned = true
                }
                d.core.enroll(params, d.clocks.now())
                runCatching { Shell.refresh(this) }
                Stage.DONE to R.string.enroll_done
            } catch (e: FinlockException.InvalidInput) {
                Stage.FAILED to R.string.enroll_bad_bundle
            } catch (e: FinlockException.AlreadyEnrolled) {
                Stage.DONE to R.string.enroll_already
            } catch (e: FinlockException.Network) {
                Stage.RETRY to R.string.enroll_network
            } catch (e: FinlockException.Rejected) {
                Stage.FAILED to R.string.enroll_rejected
            } catch (e: FinlockException) {
                Log.w(TAG, "enroll: ${e.javaClass.simpleName}")
                Stage.RETRY to R.string.enroll_failed
            }
            // Over (enrolled, or refused for good): nothing left to resume. RETRY keeps it.
            if (stage != Stage.RETRY) PendingEnrollment.clear(this)
            main.post { show(stage, getString(message)) }
        }
    }

    private fun enrollParams(b: ProvisioningBundle) = EnrollParams(
        enrollmentCode = b.enrollmentCode,
        // Hardware identifiers need a phone permission the shell does not ask for.
        imei = null,
        serial = null,
        model = Build.MODEL.orEmpty(),
        androidSdk = Build.VERSION.SDK_INT,
        appVersion = runCatching { packageManager.getPackageInfo(packageName, 0).versionName }.getOrNull() ?: "0",
    )

    private fun show(stage: Stage, message: String?) {
        this.stage = stage
        fun visible(id: Int, shown: Boolean) {
            find<View>(id).visibility = if (shown) View.VISIBLE else View.GONE
        }
        visible(R.id.enroll_disclosure, stage == Stage.DISCLOSURE || stage == Stage.WORKING)
        visible(R.id.enroll_accept, stage == Stage.DISCLOSURE)
        visible(R.id.enroll_progress, stage == Stage.WORKING)
        visible(R.id.enroll_retry, stage == Stage.RETRY)
        visible(R.id.enroll_finish, stage == Stage.DONE || stage == Stage.FAILED)
        visible(R.id.enroll_server, bundle != null && stage != Stage.FAILED)
        find<TextView>(R.id.enroll_status).apply {
            text = message.orEmpty()
            visibility = if (message == null) View.GONE else View.VISIBLE
        }
    }

    private fun <T : View> find(id: Int): T = findViewById(id)

    companion object {
        private const val TAG = "finlock"
        private const val KEY_PROVISIONED = "provisioned"
        const val EXTRA_DEBUG_LOOPBACK = "org.finlock.app.debug.ALLOW_LOOPBACK"

        /** The enrollment screen for [adminExtras] (null: the screen says the bundle is bad). */
        fun intent(context: Context, adminExtras: PersistableBundle?): Intent =
            Intent(context, EnrollmentActivity::class.java).apply {
                adminExtras?.let { putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, it) }
            }

        /** The enrollment screen for the [PendingEnrollment] (read from storage, not the intent). */
        fun resumeIntent(context: Context): Intent = Intent(context, EnrollmentActivity::class.java)
    }
}
