package org.finlock.app

import android.app.job.JobParameters
import android.app.job.JobService
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.util.Log
import org.finlock.core.FinlockException

/**
 * Boot (direct-boot aware: LOCKED_BOOT_COMPLETED runs before the user unlocks), app update,
 * and clock or time-zone changes: tell the core and restore its decision at once. After
 * BOOT_COMPLETED, an enrollment left unfinished is announced again ([PendingEnrollment]).
 */
class SystemEventReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val clockChanged = intent.action in CLOCK_EVENTS
        if (intent.action !in HANDLED) return
        runInBackground(context) {
            val decision = Shell.refresh(context, clockChanged = clockChanged)
            // Once the user can act (not before unlock): an unfinished enrollment's notice.
            if (intent.action == Intent.ACTION_BOOT_COMPLETED) {
                PendingEnrollment.afterBoot(context, enrolled = decision != null)
            }
        }
    }

    companion object {
        val CLOCK_EVENTS = setOf(
            Intent.ACTION_TIME_CHANGED,
            Intent.ACTION_TIMEZONE_CHANGED,
            Intent.ACTION_LOCKED_BOOT_COMPLETED,
            Intent.ACTION_BOOT_COMPLETED,
        )
        val HANDLED = CLOCK_EVENTS + Intent.ACTION_MY_PACKAGE_REPLACED
    }
}

/** The one alarm the core asked for. */
class WakeReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Shell.ACTION_WAKE) return
        runInBackground(context) { Shell.onWake(context) }
    }
}

/** Runs [work] on the shell's background executor, keeping the broadcast alive until done. */
internal fun BroadcastReceiver.runInBackground(context: Context, work: () -> Unit) {
    val pending = goAsync()
    Shell.deps(context).background.execute {
        try {
            work()
        } catch (e: RuntimeException) {
            Log.w("finlock", "broadcast work failed: ${e.javaClass.simpleName}")
        } finally {
            pending?.finish()
        }
    }
}

/** A check-in, run by JobScheduler once a network is available. */
class CheckInJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val d = Shell.deps(this)
        d.background.execute {
            try {
                Shell.apply(this, d.core.checkIn(false, d.clocks.now()))
            } catch (e: FinlockException.Network) {
                // The core backed off; nextWakeup names the retry (no JobScheduler retry).
                Log.i("finlock", "check-in: network")
            } catch (e: FinlockException) {
                Log.i("finlock", "check-in: ${e.javaClass.simpleName}")
            } catch (e: RuntimeException) {
                Log.w("finlock", "check-in failed: ${e.javaClass.simpleName}")
            } finally {
                runCatching { Shell.refresh(this) }
                jobFinished(params, false)
            }
        }
        return true
    }

    override fun onStopJob(params: JobParameters) = false

    companion object {
        const val JOB_ID = 7001
    }
}
