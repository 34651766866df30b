// `setServerUrl` moves an enrolled device to another URL of its lender's server and nothing
// else: the same URL rule as `provision`, nothing changed on error, the pinned keys kept.
package org.finlock.core.bridgetest

import java.net.ServerSocket
import kotlinx.coroutines.runBlocking
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class ServerUrlTest {
    private fun serverUrl(d: EnrolledDevice) = d.core.status(d.clock.now()).serverUrl

    @Test
    fun `an enrolled device checks in at the new URL`() = runBlocking {
        val d = enrolledDevice()
        // First a URL where nothing listens: the next check-in goes there and fails.
        val closedPort = ServerSocket(0).use { it.localPort }
        d.core.setServerUrl("http://127.0.0.1:$closedPort", true)
        assertEquals("http://127.0.0.1:$closedPort", serverUrl(d))
        val down = assertThrows<FinlockException.Network> { d.core.checkIn(true, d.clock.advance(1_000)) }
        assertEquals("server_unreachable", down.code)
        // A failed exchange backs the schedule off, and changes no decision.
        assertEquals(1, d.core.status(d.clock.now()).checkinFailures)
        assertFalse(d.core.decision(d.clock.now()).locked)
        // Then the same server under another name: check-ins work again, still enrolled.
        val other = "http://localhost:${LocalServer.port}"
        d.core.setServerUrl(other, true)
        val checked = d.core.checkIn(true, d.clock.advance(31_000))
        assertFalse(checked.locked)
        val status = d.core.status(d.clock.now())
        assertEquals(other, status.serverUrl)
        assertTrue(status.enrolled)
        assertEquals(d.deviceId, status.deviceId)
        assertEquals(0, status.checkinFailures)
    }

    @Test
    fun `a provisioned device not yet enrolled enrolls at the new URL`() = runBlocking {
        val reg = LocalServer.registerDevice()
        val core = FinlockCore(tempStateDir(), config())
        core.provision("https://wrong.example", LocalServer.lender.jwks, true)
        core.setServerUrl(LocalServer.url, true)
        assertFalse(core.enroll(params(reg.enrollmentCode), PhoneClock().now()).locked)
        assertEquals(LocalServer.url, core.status(PhoneClock().now()).serverUrl)
    }

    @Test
    fun `https to any host is accepted without the debug allowance`() = runBlocking {
        val d = enrolledDevice()
        d.core.setServerUrl("https://lender.example:8443/finlock", false)
        assertEquals("https://lender.example:8443/finlock", serverUrl(d))
    }

    @Test
    fun `NotEnrolled before provisioning`() {
        val core = FinlockCore(tempStateDir(), config())
        val e = assertThrows<FinlockException.NotEnrolled> { core.setServerUrl(LocalServer.url, true) }
        assertEquals("not_enrolled", e.code)
        assertFalse(core.status(PhoneClock().now()).provisioned)
    }

    @Test
    fun `plain http to loopback is refused without the debug allowance, and changes nothing`() = runBlocking {
        val d = enrolledDevice()
        val before = serverUrl(d)
        val e = assertThrows<FinlockException.InvalidInput> { d.core.setServerUrl(LocalServer.url, false) }
        assertEquals("server_url", e.field)
        assertEquals(before, serverUrl(d))
        // The stored allowance is unchanged too: plain http to loopback still works.
        assertFalse(d.core.checkIn(true, d.clock.advance(1_000)).locked)
    }

    @Test
    fun `plain http to a LAN or remote host is refused even in debug builds`() = runBlocking {
        val d = enrolledDevice()
        val before = serverUrl(d)
        for (url in listOf("http://192.168.1.20:8080", "http://lender.example")) {
            val e = assertThrows<FinlockException.InvalidInput> { d.core.setServerUrl(url, true) }
            assertEquals("server_url", e.field, url)
            assertEquals(before, serverUrl(d), url)
        }
    }

    @Test
    fun `malformed URLs are refused and change nothing`() = runBlocking {
        val d = enrolledDevice()
        val before = serverUrl(d)
        for (url in listOf("", "ftp://lender.example", "https://user@lender.example", "https://lender example", "lender.example")) {
            val e = assertThrows<FinlockException.InvalidInput> { d.core.setServerUrl(url, true) }
            assertEquals("server_url", e.field, url)
            assertEquals(before, serverUrl(d), url)
        }
        assertFalse(d.core.checkIn(true, d.clock.advance(1_000)).locked)
    }

    @Test
    fun `the pinned keys stay, so a server signing with other keys is refused after the move`() = runBlocking {
        // A device of another lender, pinned to that lender's keys, moved to the server that
        // signs for Acme: the answer is refused, exactly as it would have been at provisioning.
        val other = LocalServer.addLender("Other Lender")
        val reg = LocalServer.registerDevice()
        val core = FinlockCore(tempStateDir(), config())
        core.provision("https://other-lender.example", other.jwks, false)
        core.setServerUrl(LocalServer.url, true)
        val e = assertThrows<FinlockException.Rejected> { core.enroll(params(reg.enrollmentCode), PhoneClock().now()) }
        assertTrue(e.code.startsWith("jws_") || e.code == "wrong_issuer", e.code)
        assertFalse(core.status(PhoneClock().now()).enrolled)
    }
}
