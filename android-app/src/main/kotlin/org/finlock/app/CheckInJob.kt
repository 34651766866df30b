package org.finlock.app

import android.app.job.JobParameters
import android.app.job.JobService
import android.util.Log
import kotlinx.coroutines.launch
import org.finlock.core.FinlockException

/** A check-in, run by JobScheduler once a network is available. */
class CheckInJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val d = Shell.deps(this)
        d.scope.launch {
            try {
                Shell.apply(this@CheckInJob, d.core.checkIn(false, d.clocks.now()))
            } catch (e: FinlockException.Network) {
                // The core backed off; nextWakeup names the retry (no JobScheduler retry).
                Log.i("finlock", "check-in: network")
            } catch (e: FinlockException) {
                Log.i("finlock", "check-in: ${e.javaClass.simpleName}")
            } catch (e: RuntimeException) {
                Log.w("finlock", "check-in failed: ${e.javaClass.simpleName}")
            } finally {
                runCatching { Shell.refresh(this@CheckInJob) }
                // The answer may have brought the server's push key: register (once) for pushes.
                runCatching { UnifiedPush.sync(this@CheckInJob) }
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
