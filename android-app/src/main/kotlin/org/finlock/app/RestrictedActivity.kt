package org.finlock.app

import android.app.Activity
import android.app.ActivityManager
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.provider.Telephony
import android.telecom.TelecomManager
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import android.window.OnBackInvokedDispatcher
import kotlinx.coroutines.launch
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.NoticePage

/**
 * The restricted home: HOME in lock task while the core's level is restricted (the alias
 * [Lockdown.RESTRICTED_HOME_ALIAS]). Says why and when the phone locks, offers what can be
 * used — the phone, messages, the SIM menu, the lender's payment apps and essentials, those
 * installed and allowlisted ([Lockdown.allowedPackages]) — and how to pay. Calls come in as
 * always (the system dialer and Telecom are allowlisted). The notice page comes over it at each
 * unlock. It shows what the core's notice page says and decides nothing.
 */
class RestrictedActivity : Activity() {
    private val main = Handler(Looper.getMainLooper())
    private val reads = CoreReads(this)
    private var page: NoticePage? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_restricted)
        if (Build.VERSION.SDK_INT >= 33) {
            // The home screen: back does nothing (predictive back included).
            onBackInvokedDispatcher.registerOnBackInvokedCallback(OnBackInvokedDispatcher.PRIORITY_OVERLAY) {}
        }
        find<Button>(R.id.emergency_call).setOnClickListener {
            OverlayFallback.stepAside(this)
            SafeLaunch.start(this, LockActivity.emergencyDialer(this))
        }
        find<Button>(R.id.check_now).setOnClickListener { checkNow() }
        find<Button>(R.id.read_notice).setOnClickListener { SafeLaunch.start(this, NoticeActivity.intent(this)) }
        find<Button>(R.id.show_details).setOnClickListener {
            find<View>(R.id.amount_due).visibility = View.VISIBLE
            it.visibility = View.GONE
        }
        (lastNonConfigurationInstance as? NoticePage)?.let { show(it) } ?: showPlaceholder()
    }

    override fun onRetainNonConfigurationInstance(): Any? = page

    override fun onResume() {
        super.onResume()
        // Opened because the core said restricted: lock task from the first frame.
        if (page?.decision?.level ?: Level.RESTRICTED == Level.RESTRICTED && Shell.deps(this).dpm.isDeviceOwner()) {
            startLockTaskIfPermitted()
        }
        render()
    }

    /** Reads the core's page off the main thread and shows it; leaves when no longer restricted. */
    fun render() {
        reads.read({ d -> read(d) }) { answer ->
            when (answer) {
                is Read.Page -> show(answer.page)
                Read.NotEnrolled -> {
                    stopLockTaskIfRunning()
                    finish()
                }
                Read.Failed -> {}
            }
        }
    }

    private fun read(d: ShellDeps): Read = try {
        Read.Page(d.core.noticePage(d.clocks.now(), Shell.localeTag(this)))
    } catch (e: FinlockException.NotEnrolled) {
        Read.NotEnrolled
    } catch (e: FinlockException) {
        Log.w(TAG, "restricted home not readable: ${e.javaClass.simpleName}")
        Read.Failed
    }

    private sealed interface Read {
        class Page(val page: NoticePage) : Read

        object NotEnrolled : Read

        object Failed : Read
    }

    /** Before the core's answer: what works in every state (emergency, the phone). */
    private fun showPlaceholder() {
        find<TextView>(R.id.reason).text = ""
        for (id in listOf(R.id.lender_name, R.id.amount_due, R.id.show_details, R.id.notice_lock)) {
            find<View>(id).visibility = View.GONE
        }
        fillApps(LevelApps.saved(this))
    }

    private fun show(p: NoticePage) {
        val level = if (p.decision.locked) Level.LOCKED else p.decision.level
        if (p.decision.released || level != Level.RESTRICTED) {
            // Moved on (paid, or locked): enforce that answer, so nothing outlives the level.
            val apps = LevelApps(p.paymentApps, p.essentials)
            Shell.apply(this, p.decision, apps)
            stopLockTaskIfRunning()
            finish()
            return
        }
        page = p
        val d = Shell.deps(this)
        val owner = d.dpm.isDeviceOwner()
        find<View>(R.id.weaker_notice).visibility = if (owner) View.GONE else View.VISIBLE
        find<TextView>(R.id.reason).text = getString(
            R.string.restricted_reason,
            getString(NoticeActivity.reasonText(p.reason)),
        )
        find<TextView>(R.id.notice_lock).apply {
            text = p.lockFromMs?.let { getString(R.string.notice_lock_on, Format.date(this@RestrictedActivity, it)) } ?: ""
            visibility = if (p.lockFromMs == null) View.GONE else View.VISIBLE
        }
        find<TextView>(R.id.lender_name).apply {
            text = getString(R.string.lender_name_phone, p.lenderName, p.lenderPhone)
            visibility = View.VISIBLE
        }
        find<TextView>(R.id.amount_due).text = getString(R.string.amount_due, Format.money(p.amountDueMinor, p.currency))
        if (!p.privateDetails) {
            find<View>(R.id.amount_due).visibility = View.VISIBLE
            find<View>(R.id.show_details).visibility = View.GONE
        } else if (find<View>(R.id.amount_due).visibility != View.VISIBLE) {
            find<View>(R.id.show_details).visibility = View.VISIBLE
        }
        find<Button>(R.id.call_lender).apply {
            text = getString(R.string.call_lender, p.lenderPhone)
            contentDescription = getString(R.string.call_lender_description, p.lenderPhone)
            setOnClickListener {
                OverlayFallback.stepAside(this@RestrictedActivity)
                SafeLaunch.start(this@RestrictedActivity, Intent(Intent.ACTION_DIAL, Uri.fromParts("tel", p.lenderPhone, null)))
            }
        }
        find<Button>(R.id.pay_now).setOnClickListener {
            SafeLaunch.startAfterUnlock(this, WebPageActivity.intent(this, p.paymentUrl))
        }
        fillApps(LevelApps(p.paymentApps, p.essentials))
    }

    /** The apps offered: those of [offered] installed with a launcher entry. */
    private fun fillApps(apps: LevelApps) {
        AllowedApps.fill(this, find<LinearLayout>(R.id.allowed_apps), offered(this, Shell.deps(this).dpm, apps)) {
            OverlayFallback.stepAside(this)
        }
    }

    private fun checkNow() {
        val d = Shell.deps(this)
        val button = find<Button>(R.id.check_now)
        button.isEnabled = false
        showCheckResult(getString(R.string.checking))
        d.scope.launch {
            val message = try {
                val decision = d.core.checkIn(true, d.clocks.now())
                val apps = Shell.levelApps(this@RestrictedActivity, decision)
                main.post { Shell.apply(this@RestrictedActivity, decision, apps) }
                if (decision.level == Level.RESTRICTED || decision.locked) {
                    getString(R.string.check_still_locked)
                } else {
                    getString(R.string.check_unrestricted)
                }
            } catch (e: FinlockException.TooSoon) {
                getString(R.string.check_too_soon, e.retryAfterS.toInt())
            } catch (e: FinlockException.Network) {
                getString(R.string.check_network)
            } catch (e: FinlockException) {
                getString(R.string.check_failed)
            }
            main.post {
                button.isEnabled = true
                showCheckResult(message)
                render()
            }
        }
    }

    private fun showCheckResult(text: String) = find<TextView>(R.id.check_result).apply {
        this.text = text
        visibility = View.VISIBLE
    }

    private fun startLockTaskIfPermitted() {
        val am = getSystemService(ActivityManager::class.java)
        if (am.lockTaskModeState == ActivityManager.LOCK_TASK_MODE_NONE) runCatching { startLockTask() }
    }

    private fun stopLockTaskIfRunning() {
        val am = getSystemService(ActivityManager::class.java)
        if (am.lockTaskModeState != ActivityManager.LOCK_TASK_MODE_NONE) runCatching { stopLockTask() }
    }

    @Deprecated("The home screen: back does nothing")
    @Suppress("DEPRECATION", "MissingSuperCall")
    override fun onBackPressed() {
        // The home screen: back does nothing.
    }

    private fun <T : View> find(id: Int): T = findViewById(id)

    companion object {
        private const val TAG = "finlock"

        /** The restricted home, from outside an activity (new task, or brought to the front). */
        fun intent(context: Context): Intent = Intent(context, RestrictedActivity::class.java)
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_REORDER_TO_FRONT)

        /**
         * What the restricted home offers, in order: the system phone and messages apps, the SIM
         * menu, the lender's payment apps and essentials — each only if the restricted allowlist
         * has it (one rule, in [Lockdown]).
         */
        fun offered(context: Context, dpm: DpmGateway, apps: LevelApps): List<String> {
            val allowed = Lockdown(context, dpm).allowedPackages(Level.RESTRICTED, apps).toSet()
            val dialer = context.getSystemService(TelecomManager::class.java)?.systemDialerPackage
            val sms = runCatching { Telephony.Sms.getDefaultSmsPackage(context) }.getOrNull()
            return (listOfNotNull(dialer, sms) + Lockdown.SIM_TOOLKIT + apps.paymentApps + apps.essentials)
                .filter { it in allowed }
                .distinct()
        }
    }
}
