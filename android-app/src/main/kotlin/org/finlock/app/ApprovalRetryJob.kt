package org.finlock.app

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.util.Log
import kotlinx.coroutines.launch
import org.finlock.core.EnrollOutcome
import org.finlock.core.FinlockException

/**
 * Waiting for the lender's approval with the enrollment screen closed (home, screen off, a
 * reboot): asks the lender's server again after the wait it gave, once a network is there,
 * without proof (the device key the lender is asked to approve stays the same), until the
 * phone is enrolled or refused. The open enrollment screen asks itself instead
 * ([EnrollmentActivity] cancels this job on start and schedules it on stop).
 */
class ApprovalRetryJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val d = Shell.deps(this)
        val context = this
        d.scope.launch {
            var again: Long? = null
            try {
                val bundle = UnfinishedSetup.load(context)
                // Nothing waits any more (enrolled meanwhile, or the setup is gone): done.
                if (bundle != null && d.core.pendingKeyThumbprint() != null) {
                    val request = UnfinishedSetup.enrollParams(context, bundle)
                    when (val outcome = d.core.requestEnrollment(request, null, d.clocks.now())) {
                        is EnrollOutcome.Enrolled -> {
                            Log.i(TAG, "enrollment approved")
                            UnfinishedSetup.clear(context)
                            runCatching { Shell.refresh(context) }
                        }
                        is EnrollOutcome.WaitingForApproval -> again = outcome.retryAfterS * 1000
                    }
                }
            } catch (e: FinlockException.Network) {
                again = (e.retryAfterS ?: EnrollmentActivity.NETWORK_RETRY_S) * 1000
            } catch (e: FinlockException.Rejected) {
                // Refused for good: nothing left to resume (the screen says the same).
                UnfinishedSetup.clear(context)
            } catch (e: FinlockException.AlreadyEnrolled) {
                UnfinishedSetup.clear(context)
            } catch (e: FinlockException) {
                Log.w(TAG, "approval retry: ${e.javaClass.simpleName}")
            } catch (e: RuntimeException) {
                Log.w(TAG, "approval retry failed: ${e.javaClass.simpleName}")
            } finally {
                jobFinished(params, false)
                again?.let { schedule(context, it) }
            }
        }
        return true
    }

    /** Stopped by the system (the network went away): JobScheduler runs it again. */
    override fun onStopJob(params: JobParameters) = true

    companion object {
        private const val TAG = "finlock"
        const val JOB_ID = 7002

        /** Asks again in [delayMs] (at least), once a network is there; replaces a pending one. */
        fun schedule(context: Context, delayMs: Long) {
            val job = JobInfo.Builder(JOB_ID, ComponentName(context, ApprovalRetryJob::class.java))
                .setMinimumLatency(delayMs.coerceAtLeast(0))
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setPersisted(true)
                .build()
            context.getSystemService(JobScheduler::class.java)?.schedule(job)
        }

        fun cancel(context: Context) {
            context.getSystemService(JobScheduler::class.java)?.cancel(JOB_ID)
        }
    }
}
