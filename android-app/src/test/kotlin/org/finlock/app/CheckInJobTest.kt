package org.finlock.app

import android.app.job.JobParameters
import android.content.Context
import android.os.PersistableBundle
import org.finlock.core.FinlockException
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

@RunWith(RobolectricTestRunner::class)
class CheckInJobTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()

    @get:Rule
    val shell = ShellRule(core, deviceOwner = true)

    /** JobScheduler's parameters for our job (the constructor the system uses). */
    private fun params() = JobParameters(
        null, null, CheckInJob.JOB_ID, PersistableBundle(), null, null, 0,
        false, false, false, null, null, null,
    )

    private fun runJob(): CheckInJob {
        val job = Robolectric.buildService(CheckInJob::class.java).create().get()
        assertTrue("work continues off the main thread", job.onStartJob(params()))
        return job
    }

    @Test
    fun `the job checks in and applies the core's decision`() {
        core.checkInResult = { FakeCore.locked(LockReason.OVERDUE_PAYMENT) }
        val job = runJob()
        assertEquals("a scheduled check-in, not a forced one", "checkIn(force=false)", core.calls.first())
        assertTrue("the lock is enforced", Lockdown(context, FrameworkDpm(context)).engaged)
        assertTrue(shadowOf(job).isJobFinished)
        assertFalse("the core schedules retries, not JobScheduler", shadowOf(job).isRescheduleNeeded)
    }

    @Test
    fun `a network error does not crash and still finishes the job`() {
        core.decision = FakeCore.unlocked()
        core.checkInResult = { throw FinlockException.Network("network_unreachable", null, null) }
        val job = runJob()
        assertTrue(core.calls.contains("checkIn(force=false)"))
        assertTrue("the decision is restored anyway", core.calls.contains("decision"))
        assertFalse("not locked", Lockdown(context, FrameworkDpm(context)).engaged)
        assertTrue(shadowOf(job).isJobFinished)
        assertFalse(shadowOf(job).isRescheduleNeeded)
    }

    @Test
    fun `an unexpected failure still finishes the job`() {
        core.checkInResult = { throw IllegalStateException("bug") }
        val job = runJob()
        assertTrue(shadowOf(job).isJobFinished)
    }
}
