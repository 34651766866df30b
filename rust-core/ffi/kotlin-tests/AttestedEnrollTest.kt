// Enrollment by IMEI from Kotlin against a real `finlock serve` (ADR 0010, ADR 0011): the
// attestation challenge, the binding bytes, a proof the server refuses answered as the typed
// "waiting for approval" outcome, and the approved key binding at the next try.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.AttestationProof
import org.finlock.core.EnrollOutcome
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class AttestedEnrollTest {
    /** A 15-digit IMEI no other test registered. */
    private fun freshImei(): String = "35" + (1..13).map { (0..9).random() }.joinToString("")

    private fun byImei(imei: String) = EnrollParams(
        enrollmentCode = null, imei = imei, serial = null, model = "Tecno Spark 10",
        androidSdk = 33, appVersion = "1.0.0-test")

    private fun registerByImei(imei: String): String {
        val now = System.currentTimeMillis() / 1000
        val body = """{"imei":"$imei","auto_reprovision":true,"plan":{"currency":"KES","grace_days":2,
            "installments":[{"due":${now + 5 * 86_400},"amount_minor":1000}]}}"""
        return Json.string(LocalServer.post("/v1/lender/devices", body), "device_id")
    }

    @Test
    fun `a refused proof is a typed wait, and the approved key binds at the next try`(): Unit = runBlocking {
        val imei = freshImei()
        val deviceId = registerByImei(imei)
        val core = FinlockCore(tempStateDir(), config())
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        val clock = PhoneClock()
        assertNull(core.pendingKeyThumbprint())

        val ch = core.enrollChallenge()
        assertEquals(32, ch.challenge.size)
        assertTrue(ch.expiresAtMs > System.currentTimeMillis() + 200_000, "expires in about 5 minutes")
        val message = core.attestationBinding(ch.challenge)
        assertEquals(110, message.size)
        assertArrayEquals("finlock-enroll-attestation-v1\u0000".toByteArray(), message.copyOfRange(0, 30))
        assertArrayEquals(ch.challenge, message.copyOfRange(30, 62))

        // A stand-in chain: the server cannot verify it, so the phone waits for approval.
        val proof = AttestationProof(
            challenge = ch.challenge,
            chain = listOf(ByteArray(700) { 0x30 }, ByteArray(1400) { 0x31 }),
            signature = ByteArray(71) { 0x30 })
        val waiting = core.requestEnrollment(byImei(imei), proof, clock.now())
        assertTrue(waiting is EnrollOutcome.WaitingForApproval, "$waiting")
        waiting as EnrollOutcome.WaitingForApproval
        assertEquals(900L, waiting.retryAfterS)
        assertEquals(core.pendingKeyThumbprint(), waiting.keyThumbprint)
        assertFalse(core.status(clock.now()).enrolled)

        // The lender sees the same thumbprint the phone shows, and approves it.
        val listed = LocalServer.get("/v1/lender/devices/$deviceId/enrollment-requests", LocalServer.lender.apiKey).body()
        assertEquals(waiting.keyThumbprint, Json.string(listed, "key_thumbprint"))
        val requestId = Json.string(listed, "request_id")
        LocalServer.post("/v1/lender/devices/$deviceId/enrollment-requests/$requestId/approve", "{}")

        // The next try, without proof, keeps the key: bound.
        val enrolled = core.requestEnrollment(byImei(imei), null, clock.advance(60_000))
        assertTrue(enrolled is EnrollOutcome.Enrolled, "$enrolled")
        assertFalse((enrolled as EnrollOutcome.Enrolled).decision.locked)
        assertEquals(deviceId, core.status(clock.now()).deviceId)
        assertNull(core.pendingKeyThumbprint())
        assertThrows<FinlockException.AlreadyEnrolled> { core.enrollChallenge() }
    }

    @Test
    fun `a proof without its binding or out of bounds is the caller's mistake`(): Unit = runBlocking {
        val core = FinlockCore(tempStateDir(), config())
        assertThrows<FinlockException.NotEnrolled> { core.attestationBinding(ByteArray(32)) }
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        val short = assertThrows<FinlockException.InvalidInput> { core.attestationBinding(ByteArray(31)) }
        assertEquals("challenge", short.field)
        val clock = PhoneClock()
        val unbound = AttestationProof(ByteArray(32) { 7 }, listOf(ByteArray(10), ByteArray(10)), ByteArray(8))
        val e = assertThrows<FinlockException.InvalidInput> {
            core.requestEnrollment(byImei(freshImei()), unbound, clock.now())
        }
        assertEquals("attestation.challenge", e.field)
        core.attestationBinding(unbound.challenge)
        val oneCert = AttestationProof(unbound.challenge, listOf(ByteArray(10)), ByteArray(8))
        val bounds = assertThrows<FinlockException.InvalidInput> {
            core.requestEnrollment(byImei(freshImei()), oneCert, clock.now())
        }
        assertEquals("attestation.chain", bounds.field)
    }
}
