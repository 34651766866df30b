package org.finlock.app

import android.app.Activity
import android.app.NotificationManager
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.os.PersistableBundle
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.TextView
import kotlinx.coroutines.launch
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockException

/**
 * Enrollment: the disclosure first (what works while locked, what the lender can and cannot
 * see or do, how to get released), then — only after "I understand, continue" — the core pins
 * the lender's server and keys and enrolls, off the main thread, with progress and a result.
 * Opened with the bundle (the hand-off) or without (resuming: the [UnfinishedSetup]'s bundle). When
 * enrollment succeeds or is refused for good the kept bundle is deleted; after a network
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
            isDebuggable

    /** Resumed from an [UnfinishedSetup] the debug receiver started. */
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
            ?: UnfinishedSetup.load(this)?.also { resumedDebugLoopback = UnfinishedSetup.debugLoopback(this) }
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
        getSystemService(NotificationManager::class.java)?.cancel(UnfinishedSetup.NOTIFICATION_ID)
    }

    /** Left before enrollment is over (back, home, screen off): a notice leads back here. */
    override fun onStop() {
        super.onStop()
        val over = stage == Stage.DONE || stage == Stage.FAILED
        if (!over && !isChangingConfigurations && UnfinishedSetup.exists(this)) UnfinishedSetup.notify(this)
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
        d.scope.launch {
            val (stage, message) = try {
                if (!provisioned) {
                    d.core.provision(b.serverUrl, b.lenderKeys, allowLoopback)
                    provisioned = true
                }
                d.core.enroll(params, d.clocks.now())
                runCatching { Shell.refresh(this@EnrollmentActivity) }
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
            if (stage != Stage.RETRY) UnfinishedSetup.clear(this@EnrollmentActivity)
            main.post {
                show(stage, getString(message))
                // Enrolled: ask for what reminders and the deadline need (Permissions).
                if (stage == Stage.DONE) Permissions.request(this@EnrollmentActivity)
            }
        }
    }

    private fun enrollParams(b: ProvisioningBundle) = EnrollParams(
        enrollmentCode = b.enrollmentCode,
        // From the setup wizard's GET_PROVISIONING_MODE (Android 12+; the shell holds no phone
        // permission). Raw to the core, which sends only their hashes (PROTOCOL §1).
        imei = UnfinishedSetup.imei(this),
        serial = UnfinishedSetup.serial(this),
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

        /** The enrollment screen for the [UnfinishedSetup] (read from storage, not the intent). */
        fun resumeIntent(context: Context): Intent = Intent(context, EnrollmentActivity::class.java)
    }
}
