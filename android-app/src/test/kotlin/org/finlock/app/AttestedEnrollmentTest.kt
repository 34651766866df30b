package org.finlock.app

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.os.Looper
import android.os.PersistableBundle
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.finlock.core.EnrollOutcome
import org.finlock.core.FinlockException
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.shadows.ShadowLooper
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.time.Duration

/**
 * The DevicePolicyManager's key attestation, as a test sees it: records each request, answers
 * with a software P-256 key and a stand-in chain (the core only counts and sizes the chain;
 * the server's verifier is tested in Rust with real chains), or fails as [failure] says.
 */
class AttestingDpm(context: Context) : DpmGateway by FrameworkDpm(context) {
    class Request(val algorithm: String, val spec: KeyGenParameterSpec, val flags: Int)

    var idAttestationSupported = true
    var failure: (() -> AttestedKey?)? = null
    val requests = mutableListOf<Request>()
    val removed = mutableListOf<String>()
    val keyPair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()

    override fun isDeviceIdAttestationSupported() = idAttestationSupported

    override fun generateAttestedKey(algorithm: String, spec: KeyGenParameterSpec, idAttestationFlags: Int): AttestedKey? {
        requests += Request(algorithm, spec, idAttestationFlags)
        failure?.let { return it() }
        return AttestedKey(keyPair.private, STAND_IN_CHAIN)
    }

    override fun removeKeyPair(alias: String): Boolean {
        removed += alias
        return true
    }

    companion object {
        /** Leaf first, as the platform gives it; the core checks 2–8 certificates. */
        val STAND_IN_CHAIN = listOf("leaf", "intermediate", "root").map { "stand-in $it certificate".toByteArray() }
    }
}

@RunWith(RobolectricTestRunner::class)
class AttestedEnrollmentTest {
    private val core = FakeCore()
    private val context: Context get() = RuntimeEnvironment.getApplication()
    private lateinit var dpm: AttestingDpm

    @get:Rule
    val shell = ShellRule(deviceOwner = true) { context ->
        dpm = AttestingDpm(context)
        ShellDeps(core, dpm, FIXED_CLOCK, Inline)
    }

    /** The preloaded app's bundle after a reset: the lender's server and keys, no code. */
    private fun byImei() = PersistableBundle().apply {
        putString(ProvisioningBundle.KEY_SERVER_URL, URL)
        putString(ProvisioningBundle.KEY_LENDER_KEYS, KEYS)
    }

    private fun open(bundle: PersistableBundle = byImei()): ActivityController<EnrollmentActivity> {
        UnfinishedSetup.keep(context, ProvisioningBundle.from(bundle))
        UnfinishedSetup.keepIdentifiers(context, IMEI, SERIAL)
        return Robolectric.buildActivity(EnrollmentActivity::class.java, EnrollmentActivity.intent(context, bundle)).setup()
    }

    private fun EnrollmentActivity.accept() {
        findViewById<Button>(R.id.enroll_accept).performClick()
        ShadowLooper.idleMainLooper()
    }

    private fun Activity.shown(id: Int) = findViewById<View>(id).let { it.visibility == View.VISIBLE && it.isShown }

    private fun Activity.text(id: Int) = findViewById<TextView>(id).text.toString()

    /** Lets [seconds] pass on the main looper's clock, running what falls due. */
    private fun advance(seconds: Long) = shadowOf(Looper.getMainLooper()).idleFor(Duration.ofSeconds(seconds))

    private fun requests() = core.calls.count { it.startsWith("enroll(") }

    private fun waiting(retryAfterS: Long = 120) = EnrollOutcome.WaitingForApproval(retryAfterS, THUMBPRINT)

    @Test
    fun `an enrollment by IMEI asks for an attested key with the server's challenge and the ID flags`() {
        val activity = open().get()
        activity.accept()

        val asked = dpm.requests.single()
        assertEquals(KeyProperties.KEY_ALGORITHM_EC, asked.algorithm)
        assertEquals(
            "base info, serial and IMEI",
            DevicePolicyManager.ID_TYPE_BASE_INFO or DevicePolicyManager.ID_TYPE_SERIAL or DevicePolicyManager.ID_TYPE_IMEI,
            asked.flags,
        )
        assertEquals("never the individual certificate", 0, asked.flags and DevicePolicyManager.ID_TYPE_INDIVIDUAL_ATTESTATION)
        assertArrayEquals("the server's challenge", core.challenge, asked.spec.attestationChallenge)
        assertEquals(AttestedEnrollment.KEY_ALIAS, asked.spec.keystoreAlias)
        assertEquals(KeyProperties.PURPOSE_SIGN, asked.spec.purposes)
        assertTrue(asked.spec.digests.contains(KeyProperties.DIGEST_SHA256))
        assertEquals("secp256r1", (asked.spec.algorithmParameterSpec as ECGenParameterSpec).name)

        // The core got the chain as the platform gave it, and the attested key's signature
        // over exactly the bytes it asked to be signed, for that challenge.
        val proof = core.proofs.single()
        assertNotNull(proof)
        assertArrayEquals(core.challenge, proof!!.challenge)
        assertEquals(AttestingDpm.STAND_IN_CHAIN.map { it.toList() }, proof.chain.map { it.toList() })
        assertArrayEquals(core.challenge, core.bindingsFor.single())
        val verifier = Signature.getInstance("SHA256withECDSA").apply {
            initVerify(dpm.keyPair.public)
            update(core.binding)
        }
        assertTrue("signed by the attested key over the binding", verifier.verify(proof.signature))
        val order = core.calls.filter {
            it.startsWith("provision") || it == "challenge" || it == "attestationBinding" || it.startsWith("enroll")
        }
        assertEquals(listOf("provision($URL, $KEYS, false)", "challenge", "attestationBinding", "enroll(null)"), order)
        assertEquals("IMEI and serial sent to the core", IMEI, core.enrolledWith?.imei)
        assertEquals(SERIAL, core.enrolledWith?.serial)
        assertEquals("the single-use key is deleted", listOf(AttestedEnrollment.KEY_ALIAS), dpm.removed)
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
    }

    @Test
    fun `without device ID attestation no key is asked for and the enrollment waits for the lender`() {
        dpm.idAttestationSupported = false
        core.enrollOutcome = { waiting() }
        val activity = open().get()
        activity.accept()
        assertTrue(dpm.requests.isEmpty())
        assertFalse("no challenge used", core.calls.contains("challenge"))
        assertEquals(listOf(null), core.proofs.toList())
        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)
    }

    @Test
    fun `when the platform gives no attested key the enrollment goes without proof`() {
        val failures: List<() -> AttestedKey?> = listOf(
            { throw UnsupportedOperationException("Device ID attestation is not supported") },
            { null },
            { throw StrongBoxUnavailableException() },
            { throw SecurityException("not the device owner") },
            { throw java.security.ProviderException("keystore") },
        )
        core.enrollOutcome = { waiting() }
        for ((i, failure) in failures.withIndex()) {
            dpm.failure = failure
            val controller = open()
            controller.get().accept()
            assertEquals("failure $i: asked", i + 1, dpm.requests.size)
            assertNull("failure $i: no proof", core.proofs.last())
            assertEquals("failure $i: waits for the lender", EnrollmentActivity.Stage.WAITING, controller.get().stage)
            assertEquals("failure $i: nothing left in the Keystore", AttestedEnrollment.KEY_ALIAS, dpm.removed.last())
            controller.pause().stop().destroy()
            core.pendingThumbprint = null
        }
    }

    @Test
    fun `without device owner no key is asked for`() {
        shadowOf(context.getSystemService(DevicePolicyManager::class.java)).setDeviceOwner(null)
        core.enrollOutcome = { waiting() }
        open().get().accept()
        assertTrue(dpm.requests.isEmpty())
        assertEquals(listOf(null), core.proofs.toList())
    }

    @Test
    fun `an enrollment by code sends no proof`() {
        val bundle = byImei().apply { putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, "ABCD-2345") }
        val activity = open(bundle).get()
        activity.accept()
        assertTrue(dpm.requests.isEmpty())
        assertEquals(listOf(null), core.proofs.toList())
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
    }

    @Test
    fun `a network failure for the challenge is retried as a whole, nothing half done`() {
        core.challengeResult = { throw FinlockException.Network("network_unreachable", null, null) }
        val activity = open().get()
        activity.accept()
        assertEquals(EnrollmentActivity.Stage.RETRY, activity.stage)
        assertTrue("no key without a challenge", dpm.requests.isEmpty())
        assertEquals("no request sent", 0, requests())
        assertEquals("still there to resume", ProvisioningBundle(URL, KEYS, null), UnfinishedSetup.load(context))
    }

    @Test
    fun `waiting for approval shows the device key and asks again after retry_after until approved`() {
        var answers = listOf(waiting(120), waiting(60))
        core.enrollOutcome = {
            answers.firstOrNull()?.also { answers = answers.drop(1) } ?: EnrollOutcome.Enrolled(FakeCore.unlocked())
        }
        val activity = open().get()
        activity.accept()

        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)
        assertEquals(
            "Waiting for your lender's approval. This device has asked to be enrolled; your lender approves it after " +
                "checking that it is yours. This screen checks again by itself.",
            activity.text(R.id.enroll_status),
        )
        assertTrue(activity.shown(R.id.enroll_key))
        assertEquals("Device key, for your lender's agent: $THUMBPRINT_SHOWN", activity.text(R.id.enroll_key))
        assertFalse("nothing to press while waiting", activity.shown(R.id.enroll_accept) || activity.shown(R.id.enroll_retry))
        assertEquals("kept to resume", ProvisioningBundle(URL, KEYS, null), UnfinishedSetup.load(context))
        assertEquals(1, requests())

        advance(119)
        assertEquals("not before retry_after", 1, requests())
        advance(1)
        assertEquals("asked again at retry_after", 2, requests())
        assertNull("again without proof: the same device key, so the approval binds", core.proofs[1])
        assertEquals(1, dpm.requests.size)
        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)

        advance(60)
        assertEquals(3, requests())
        assertEquals("approved: enrolled", EnrollmentActivity.Stage.DONE, activity.stage)
        assertFalse(activity.shown(R.id.enroll_key))
        assertNull("over: nothing left to resume", UnfinishedSetup.load(context))
        advance(Duration.ofHours(1).seconds)
        assertEquals("no request after enrolling", 3, requests())
    }

    @Test
    fun `a network failure while waiting keeps waiting and asks again later`() {
        core.enrollOutcome = { waiting(60) }
        val activity = open().get()
        activity.accept()
        core.enrollOutcome = { throw FinlockException.Network("network_unreachable", null, 90L) }
        advance(60)
        assertEquals(2, requests())
        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)
        assertEquals("Device key, for your lender's agent: $THUMBPRINT_SHOWN", activity.text(R.id.enroll_key))
        core.enrollOutcome = { EnrollOutcome.Enrolled(FakeCore.unlocked()) }
        advance(89)
        assertEquals("the server's retry-after holds", 2, requests())
        advance(1)
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
    }

    @Test
    fun `the waiting screen survives a configuration change and keeps its time`() {
        core.enrollOutcome = { waiting(120) }
        val controller = open()
        controller.get().accept()
        advance(100)
        controller.recreate()
        val recreated = controller.get()
        assertEquals(EnrollmentActivity.Stage.WAITING, recreated.stage)
        assertEquals("Device key, for your lender's agent: $THUMBPRINT_SHOWN", recreated.text(R.id.enroll_key))
        assertEquals(1, requests())
        advance(20)
        assertEquals("asked again at the original time", 2, requests())
    }

    @Test
    fun `opened again while a request waits, the screen goes back to waiting and asks at once`() {
        core.pendingThumbprint = THUMBPRINT
        core.enrollOutcome = { waiting(300) }
        val activity = open().get()
        ShadowLooper.idleMainLooper()
        assertEquals(EnrollmentActivity.Stage.WAITING, activity.stage)
        assertEquals("Device key, for your lender's agent: $THUMBPRINT_SHOWN", activity.text(R.id.enroll_key))
        assertEquals(1, requests())
        assertNull("asked again without proof", core.proofs.single())
        assertTrue("no new key", dpm.requests.isEmpty())
    }

    private fun pendingJob(): android.app.job.JobInfo? =
        context.getSystemService(JobScheduler::class.java).allPendingJobs.singleOrNull { it.id == ApprovalRetryJob.JOB_ID }

    /** JobScheduler's parameters for the approval job (the constructor the system uses). */
    private fun runApprovalJob(): ApprovalRetryJob {
        val params = JobParameters(
            null, null, ApprovalRetryJob.JOB_ID, PersistableBundle(), null, null, 0,
            false, false, false, null, null, null,
        )
        val job = Robolectric.buildService(ApprovalRetryJob::class.java).create().get()
        assertTrue("work continues off the main thread", job.onStartJob(params))
        return job
    }

    @Test
    fun `the waiting screen left, JobScheduler asks again after retry_after and the phone enrolls`() {
        core.enrollOutcome = { waiting(120) }
        val controller = open()
        controller.get().accept()
        assertNull("the open screen asks itself", pendingJob())
        advance(20)
        controller.pause().stop() // home, or the screen goes off
        val job = pendingJob()
        assertNotNull("left while waiting: a job asks again", job)
        // At the time the screen would have asked (the lifecycle's few ms of looper time aside).
        assertTrue("${job!!.minLatencyMillis}", job.minLatencyMillis in 99_000L..100_000L)
        assertEquals(JobInfo.NETWORK_TYPE_ANY, @Suppress("DEPRECATION") job.networkType)
        assertTrue("after a reboot too", job.isPersisted)
        advance(600)
        assertEquals("the stopped screen's timer does not ask", 1, requests())

        // Still waiting: the job asks again after the server's new wait.
        core.enrollOutcome = { waiting(300) }
        assertTrue(shadowOf(runApprovalJob()).isJobFinished)
        assertEquals(2, requests())
        assertNull("again without proof", core.proofs[1])
        assertEquals(300_000L, pendingJob()!!.minLatencyMillis)

        // Approved: enrolled, nothing left to resume, no job. (The system dequeues the job it
        // runs; Robolectric's scheduler keeps it listed, so the test takes it off first.)
        core.enrollOutcome = { EnrollOutcome.Enrolled(FakeCore.unlocked()) }
        context.getSystemService(JobScheduler::class.java).cancel(ApprovalRetryJob.JOB_ID)
        runApprovalJob()
        assertEquals(3, requests())
        assertNull(UnfinishedSetup.load(context))
        assertNull(pendingJob())
    }

    @Test
    fun `back on the waiting screen, the job is cancelled and the screen asks itself`() {
        core.enrollOutcome = { waiting(120) }
        val controller = open()
        controller.get().accept()
        controller.pause().stop()
        assertNotNull(pendingJob())
        advance(200)
        controller.restart().resume()
        assertNull("cancelled", pendingJob())
        ShadowLooper.idleMainLooper()
        assertEquals("overdue: asked at once", 2, requests())
    }

    @Test
    fun `enrolled meanwhile by the job, the waiting screen says enrolled`() {
        core.enrollOutcome = { waiting(60) }
        val activity = open().get()
        activity.accept()
        core.enrollOutcome = { throw FinlockException.AlreadyEnrolled("already_enrolled") }
        advance(60)
        assertEquals(EnrollmentActivity.Stage.DONE, activity.stage)
        assertEquals(context.getString(R.string.enroll_done), activity.text(R.id.enroll_status))
        assertNull(UnfinishedSetup.load(context))
    }

    @Test
    fun `the approval job does nothing when nothing waits`() {
        UnfinishedSetup.keep(context, ProvisioningBundle.from(byImei()))
        core.pendingThumbprint = null
        assertTrue(shadowOf(runApprovalJob()).isJobFinished)
        assertEquals(0, requests())
        assertNull(pendingJob())
    }

    @Test
    fun `the thumbprint is shown whole, in groups of four`() {
        assertEquals(THUMBPRINT_SHOWN, Format.thumbprint(THUMBPRINT))
        assertEquals(THUMBPRINT, Format.thumbprint(THUMBPRINT).replace(" ", ""))
    }

    companion object {
        const val URL = "https://lender.example"
        const val KEYS = """{"keys":[]}"""
        const val IMEI = "490154203237518"
        const val SERIAL = "R58M12ABCDE"

        /** RFC 7638's example thumbprint (43 characters of base64url). */
        const val THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        const val THUMBPRINT_SHOWN = "NzbL sXh8 uDCc d-6M NwXF 4W_7 noWX FZAf HkxZ sRGC 9Xs"
    }
}
