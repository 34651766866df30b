package org.finlock.app

import android.app.AlarmManager
import android.app.PendingIntent
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.util.Log
import org.finlock.core.Decision
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.WakeReason
import java.io.File
import java.util.Locale
import java.util.TimeZone
import java.util.concurrent.Executors

/**
 * The shell's one controller: asks the core, then shows and enforces the answer. It holds no
 * policy — every `if` here is on a field the core decided.
 */
object Shell {
    private const val TAG = "finlock"

    @Volatile
    private var deps: ShellDeps? = null

    fun deps(context: Context): ShellDeps = deps ?: synchronized(this) {
        deps ?: production(context.applicationContext).also { deps = it }
    }

    fun install(testDeps: ShellDeps?) {
        deps = testDeps
    }

    private fun production(context: Context): ShellDeps {
        NativeLibrary.load(context)
        // Device-protected storage: the decision is known before the user unlocks the phone.
        val dir = File(context.createDeviceProtectedStorageContext().filesDir, "core")
        dir.mkdirs()
        val version = context.packageManager.getPackageInfo(context.packageName, 0).versionName ?: "0"
        return ShellDeps(
            core = UniffiCore(dir.path, version),
            dpm = FrameworkDpm(context),
            clocks = Clocks.system(context),
            background = Executors.newSingleThreadExecutor { r -> Thread(r, "finlock-shell") },
        )
    }

    fun zoneId(): String = TimeZone.getDefault().id

    fun localeTag(context: Context): String =
        context.resources.configuration.locales.get(0)?.toLanguageTag() ?: Locale.getDefault().toLanguageTag()

    /**
     * Decides again and acts: after boot, an app update, a clock change, an alarm, a check-in.
     * Returns the decision, or null when the device is not enrolled yet.
     */
    fun refresh(context: Context, clockChanged: Boolean = false): Decision? {
        val d = deps(context)
        val clock = d.clocks.now()
        val decision = try {
            if (clockChanged) d.core.onClockChanged(clock) else d.core.decision(clock)
        } catch (e: FinlockException.NotEnrolled) {
            return null
        }
        apply(context, decision, levelApps(context, decision))
        if (!decision.released) {
            Reminders.showDue(context)
            armNextWakeup(context)
        }
        return decision
    }

    /**
     * Enforces [decision] by its level: locked (lock task with the lock screen as HOME, or the
     * overlay), restricted (lock task with the restricted home, or the overlay), notice and
     * normal (nothing held: the notice page comes at the next screen unlock,
     * [NoticeActivity.onUserPresent]), or released. [apps]: the payment apps and essentials the
     * level allows, read with [levelApps] off the main thread; null keeps the ones applied last.
     */
    fun apply(context: Context, decision: Decision, apps: LevelApps? = null) {
        val d = deps(context)
        val lockdown = Lockdown(context, d.dpm)
        // Enrolled and not released: the Device Owner may post its notices (Android 13+).
        if (!decision.released) Permissions.grantAsOwner(context, d.dpm)
        val level = if (decision.locked) Level.LOCKED else decision.level
        when {
            decision.released -> release(context)
            level == Level.LOCKED || level == Level.RESTRICTED -> {
                val allowed = apps?.also { LevelApps.save(context, it) } ?: LevelApps.saved(context)
                val owner = lockdown.engage(level, allowed)
                if (owner && d.dpm.isDeviceFinanced()) {
                    // The platform's financed-device kiosk holds lock task first (Android 14+).
                    Log.w(TAG, "device is financed through the platform's kiosk: lock task may not hold")
                }
                // Without Device Owner: the overlay, held by a foreground service.
                if (!owner) OverlayFallback.engage(context, level)
                context.startActivity(
                    if (level == Level.LOCKED) LockActivity.intent(context) else RestrictedActivity.intent(context),
                )
            }
            else -> {
                lockdown.disengage()
                // Enrolled and not released: anti-tamper holds in good standing too (ADR 0009).
                lockdown.protect()
                OverlayFallback.disengage(context)
            }
        }
    }

    /**
     * The apps [decision]'s level allows beyond the base (the lender's payment apps and
     * essentials, from the core's notice page); null below restricted, or when the core could
     * not answer (the last ones applied stay). Reads the core: never on the main thread.
     */
    fun levelApps(context: Context, decision: Decision): LevelApps? {
        if (decision.released || !(decision.locked || decision.level == Level.RESTRICTED)) return null
        val d = deps(context)
        return try {
            val page = d.core.noticePage(d.clocks.now(), localeTag(context))
            LevelApps(page.paymentApps, page.essentials)
        } catch (e: FinlockException) {
            Log.w(TAG, "notice page not readable: ${e.javaClass.simpleName}")
            null
        }
    }

    /** Arms exactly one alarm, at the core's `nextWakeup` (elapsed realtime). */
    fun armNextWakeup(context: Context) {
        val d = deps(context)
        val alarms = context.getSystemService(AlarmManager::class.java)
        val wake = try {
            d.core.nextWakeup(d.clocks.now(), zoneId())
        } catch (e: FinlockException) {
            Log.w(TAG, "nextWakeup failed: ${e.javaClass.simpleName}")
            null
        }
        val pending = wakeIntent(context)
        if (wake == null) {
            alarms.cancel(pending)
            return
        }
        // The core's moment is on the input clock (offset in debug builds); the alarm is on the real one.
        val at = wake.at.elapsedRealtimeMs - ClockOffsets.current(context).elapsedMs
        if (alarms.canScheduleExactAlarms()) {
            alarms.setExactAndAllowWhileIdle(AlarmManager.ELAPSED_REALTIME_WAKEUP, at, pending)
        } else {
            alarms.setAndAllowWhileIdle(AlarmManager.ELAPSED_REALTIME_WAKEUP, at, pending)
        }
        if (wake.reason == WakeReason.CHECK_IN && wake.at.delayMs == 0L) scheduleCheckIn(context)
    }

    /** The alarm fired: act on whatever is due now, then arm the next one. */
    fun onWake(context: Context) {
        val d = deps(context)
        val wake = runCatching { d.core.nextWakeup(d.clocks.now(), zoneId()) }.getOrNull()
        if (wake?.reason == WakeReason.CHECK_IN && wake.at.delayMs == 0L) scheduleCheckIn(context)
        refresh(context)
    }

    /** A check-in as soon as there is a network (JobScheduler's constraint, no polling). */
    fun scheduleCheckIn(context: Context) {
        val jobs = context.getSystemService(JobScheduler::class.java)
        val job = JobInfo.Builder(CheckInJob.JOB_ID, ComponentName(context, CheckInJob::class.java))
            .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
            .setPersisted(true)
            .build()
        jobs.schedule(job)
    }

    /** Released: lift every restriction, stop every alarm and job, say so once, disable. */
    fun release(context: Context) {
        val d = deps(context)
        Lockdown(context, d.dpm).releaseAll()
        OverlayFallback.disengage(context)
        context.getSystemService(AlarmManager::class.java).cancel(wakeIntent(context))
        context.getSystemService(JobScheduler::class.java).cancelAll()
        Reminders.clearAll(context)
        val prefs = Prefs.of(context)
        if (!prefs.getBoolean(KEY_RELEASE_NOTICE, false)) {
            Reminders.showReleased(context)
            prefs.edit().putBoolean(KEY_RELEASE_NOTICE, true).commit()
        }
        SelfDisable.run(context)
    }

    fun wakeIntent(context: Context): PendingIntent = PendingIntent.getBroadcast(
        context,
        0,
        Intent(context, WakeReceiver::class.java).setAction(ACTION_WAKE),
        PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
    )

    const val ACTION_WAKE = "org.finlock.app.action.WAKE"
    private const val KEY_RELEASE_NOTICE = "released.notice_shown"
}
