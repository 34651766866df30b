// Every public error reaches Kotlin as its own typed exception, with the core's stable code.
package org.finlock.core.bridgetest

import java.io.File
import java.net.ServerSocket
import kotlinx.coroutines.runBlocking
import org.finlock.core.Clock
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

// A `@Test` function must return Unit: JUnit silently skips one whose `runBlocking` block ends
// in an expression (such as `assertThrows`), hence the explicit `: Unit` where that happens.
class ErrorsTest {
    @Test
    fun `NotEnrolled before enrollment`(): Unit = runBlocking {
        val core = FinlockCore(tempStateDir(), config())
        // The decision itself is fine (nothing to enforce yet)...
        assertFalse(core.decision(PhoneClock().now()).locked)
        // ...but there is no lock screen, and no check-in without a server.
        val e = assertThrows<FinlockException.NotEnrolled> { core.lockScreen(PhoneClock().now(), "en") }
        assertEquals("not_enrolled", e.code)
        assertThrows<FinlockException.NotEnrolled> { core.checkIn(false, PhoneClock().now()) }
        assertThrows<FinlockException.NotEnrolled> { core.enroll(params(null), PhoneClock().now()) }
    }

    @Test
    fun `AlreadyEnrolled for a second provisioning or enrollment`(): Unit = runBlocking {
        val d = enrolledDevice()
        val e = assertThrows<FinlockException.AlreadyEnrolled> {
            d.core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        }
        assertEquals("already_enrolled", e.code)
        assertThrows<FinlockException.AlreadyEnrolled> { d.core.enroll(params(null), d.clock.now()) }
    }

    @Test
    fun `Rejected when the server signs with a key the device does not pin`() = runBlocking {
        val other = LocalServer.addLender("Other Lender")
        val reg = LocalServer.registerDevice()
        val core = FinlockCore(tempStateDir(), config())
        // Pinned: the other lender's keys; the server signs with Acme's.
        core.provision(LocalServer.url, other.jwks, true)
        val e = assertThrows<FinlockException.Rejected> { core.enroll(params(reg.enrollmentCode), PhoneClock().now()) }
        assertTrue(e.code.startsWith("jws_") || e.code == "wrong_issuer", e.code)
        // Nothing stored changed: still not enrolled.
        assertFalse(core.status(PhoneClock().now()).enrolled)
    }

    @Test
    fun `Network when the server is unreachable or answers an error status`() = runBlocking {
        val closedPort = ServerSocket(0).use { it.localPort }
        val core = FinlockCore(tempStateDir(), config(deadlineMs = 3_000))
        core.provision("http://127.0.0.1:$closedPort", LocalServer.lender.jwks, true)
        val down = assertThrows<FinlockException.Network> { core.enroll(params("nope"), PhoneClock().now()) }
        assertEquals("server_unreachable", down.code)

        val core2 = FinlockCore(tempStateDir(), config())
        core2.provision(LocalServer.url, LocalServer.lender.jwks, true)
        val status = assertThrows<FinlockException.Network> {
            core2.enroll(params("not-a-real-enrollment-code"), PhoneClock().now())
        }
        assertEquals("server_status", status.code)
        assertTrue(status.httpStatus!! in 400..499, "HTTP ${status.httpStatus}")
    }

    @Test
    fun `InvalidInput names what the caller got wrong`() = runBlocking {
        val core = FinlockCore(tempStateDir(), config())
        val url = assertThrows<FinlockException.InvalidInput> {
            core.provision("http://lender.example", LocalServer.lender.jwks, false)
        }
        assertEquals("server_url", url.field)
        assertThrows<FinlockException.InvalidInput> { core.provision(LocalServer.url, "{not json", true) }
        val clock = assertThrows<FinlockException.InvalidInput> {
            core.decision(Clock(wallMs = 0, elapsedRealtimeMs = -5, bootCount = 1))
        }
        assertEquals("clock.elapsedRealtimeMs", clock.field)
        assertThrows<FinlockException.InvalidInput> {
            FinlockCore(tempStateDir(), config().copy(spkiSha256Pins = listOf("zz")))
        }

        val d = enrolledDevice()
        val zone = assertThrows<FinlockException.InvalidInput> { d.core.reminders(d.clock.now(), "Mars/Olympus_Mons") }
        assertEquals("zone", zone.field)
        val code = assertThrows<FinlockException.InvalidInput> { d.core.enterOfflineCode("12", d.clock.now()) }
        assertEquals("offline_code_malformed", code.code)
    }

    @Test
    fun `Storage when the state cannot be read`() {
        // A state directory that is a regular file.
        val file = File.createTempFile("finlock-not-a-dir", ".tmp")
        val e = assertThrows<FinlockException.Storage> { FinlockCore(file.path, config()) }
        assertTrue(e.code.startsWith("store_"), e.code)
    }

    @Test
    fun `CodeWrong counts down and CodeLockedOut says until when`() = runBlocking {
        val d = enrolledDevice()
        val left = (1..5).map {
            assertThrows<FinlockException.CodeWrong> { d.core.enterOfflineCode("0000000$it", d.clock.now()) }.triesLeft
        }
        assertEquals(listOf(4, 3, 2, 1, 0), left)
        val out = assertThrows<FinlockException.CodeLockedOut> { d.core.enterOfflineCode("00000009", d.clock.now()) }
        assertEquals("offline_code_locked_out", out.code)
        val until = present(out.untilMs, "untilMs")
        assertTrue(until > d.clock.wallMs && until <= d.clock.wallMs + DAY_MS + 1_000)
        val screen = d.core.lockScreen(d.clock.now(), "en")
        assertTrue(screen.offlineLockedOut)
        assertEquals(0, screen.offlineTriesLeft)
        assertEquals(until, screen.offlineLockedOutUntilMs)
    }

    @Test
    fun `TooSoon for check now twice within 30 s`() = runBlocking {
        val d = enrolledDevice()
        d.core.checkIn(true, d.clock.advance(1_000))
        val e = assertThrows<FinlockException.TooSoon> { d.core.checkIn(true, d.clock.advance(5_000)) }
        assertEquals("check_now_too_soon", e.code)
        assertTrue(e.retryAfterS in 20L..30L, "retry after ${e.retryAfterS}")
    }
}
