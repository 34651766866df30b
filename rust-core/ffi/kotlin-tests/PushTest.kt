// The wake-up push through the bridge (ADR 0014), against a real `finlock serve`: the
// server's key arrives with enrollment, an endpoint reaches the server once, a push makes at
// most one check-in per 30 s, and a refused endpoint changes nothing.
package org.finlock.core.bridgetest

import java.util.Base64
import kotlinx.coroutines.runBlocking
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class PushTest {
    private val endpoint = "https://push.example/up/Q2xTk9a"

    @Test
    fun `the server's VAPID key arrives with enrollment`() = runBlocking {
        val d = enrolledDevice()
        val key = present(d.core.pushKey(), "pushKey")
        val point = Base64.getUrlDecoder().decode(key)
        assertEquals(65, point.size)
        assertEquals(0x04.toByte(), point[0])
        assertFalse(key.contains('='), "unpadded")
        assertEquals(key, d.core.pushStatus().pushKey)
    }

    @Test
    fun `an endpoint reaches the server with the next check-in, once`() = runBlocking {
        val d = enrolledDevice()
        assertNull(d.core.pushStatus().endpoint)
        assertTrue(d.core.pushStatus().serverHasIt, "no endpoint, none to tell")
        // New: check in now so the server learns it.
        assertTrue(d.core.setPushEndpoint(endpoint, d.clock.advance(1_000)))
        assertEquals(endpoint, d.core.pushStatus().endpoint)
        assertFalse(d.core.pushStatus().serverHasIt)
        assertFalse(d.core.checkIn(false, d.clock.advance(1_000)).locked)
        assertTrue(d.core.pushStatus().serverHasIt)
        // The same again asks for nothing.
        assertFalse(d.core.setPushEndpoint(endpoint, d.clock.advance(60_000)))
        assertTrue(d.core.pushStatus().serverHasIt)
    }

    @Test
    fun `no endpoint any more is told to the server too`() = runBlocking {
        val d = enrolledDevice()
        d.core.setPushEndpoint(endpoint, d.clock.advance(1_000))
        d.core.checkIn(false, d.clock.advance(1_000))
        // Within the push window: no check-in now, the next one carries it.
        assertFalse(d.core.setPushEndpoint("", d.clock.advance(1_000)))
        assertNull(d.core.pushStatus().endpoint)
        assertFalse(d.core.pushStatus().serverHasIt)
        d.core.checkIn(false, d.clock.advance(60_000))
        assertTrue(d.core.pushStatus().serverHasIt)
    }

    @Test
    fun `an endpoint set before enrollment goes with the enrollment`() = runBlocking {
        val reg = LocalServer.registerDevice()
        val core = FinlockCore(tempStateDir(), config())
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        val clock = PhoneClock()
        assertFalse(core.setPushEndpoint(endpoint, clock.now()), "not enrolled: nothing to check in")
        assertThrows<FinlockException.NotEnrolled> { core.pushArrived(clock.now()) }
        core.enroll(params(reg.enrollmentCode), clock.advance(1_000))
        assertTrue(core.pushStatus().serverHasIt)
    }

    @Test
    fun `a refused endpoint is InvalidInput and changes nothing`() = runBlocking {
        val d = enrolledDevice()
        d.core.setPushEndpoint(endpoint, d.clock.advance(1_000))
        val long = "https://push.example/" + "a".repeat(1024)
        for (bad in listOf("http://push.example/up", "ftp://push.example", "push.example/up", long)) {
            val e = assertThrows<FinlockException.InvalidInput> { d.core.setPushEndpoint(bad, d.clock.now()) }
            assertEquals("push_endpoint", e.field, bad)
            assertEquals(endpoint, d.core.pushStatus().endpoint, bad)
        }
    }

    @Test
    fun `a push makes one check-in due per 30 seconds`() = runBlocking {
        val d = enrolledDevice()
        assertTrue(d.core.pushArrived(d.clock.advance(1_000)))
        // Due now: the next wake-up is the check-in, at once.
        val wake = present(d.core.nextWakeup(d.clock.now(), "Africa/Nairobi"), "nextWakeup")
        assertEquals(0L, wake.at.delayMs)
        // A second push before it ran: one is due already.
        assertFalse(d.core.pushArrived(d.clock.advance(100)))
        d.core.checkIn(false, d.clock.advance(100))
        // A storm within the window: nothing.
        repeat(20) { assertFalse(d.core.pushArrived(d.clock.advance(1_000))) }
        // After the window: one more.
        assertTrue(d.core.pushArrived(d.clock.advance(10_000)))
    }
}
