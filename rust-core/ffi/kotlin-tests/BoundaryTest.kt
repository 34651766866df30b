// The boundary itself: panics come out as exceptions, async work runs on the finlock
// workers, and many Kotlin threads can call one core at once.
package org.finlock.core.bridgetest

import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.finlock.core.FinlockException
import org.finlock.core.InternalException
import org.finlock.core.debugPanic
import org.finlock.core.debugPanicAsync
import org.finlock.core.debugPanicUnguarded
import org.finlock.core.debugWorkerThreadName
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class BoundaryTest {
    @Test
    fun `a Rust panic is a FinlockException, not a crash`() {
        val e = assertThrows<FinlockException.Internal> { debugPanic("boom from Rust") }
        assertEquals("panic", e.code)
        assertEquals("boom from Rust", e.detail)
        // The library is still usable afterwards.
        assertThrows<FinlockException.Internal> { debugPanic("again") }
    }

    @Test
    fun `a panic on a worker thread is a FinlockException too`() = runBlocking {
        val e = assertThrows<FinlockException.Internal> { debugPanicAsync("async boom") }
        assertEquals("panic", e.code)
    }

    @Test
    fun `even an export without the guard cannot crash the JVM`() {
        val e = assertThrows<InternalException> { debugPanicUnguarded("unguarded boom") }
        assertTrue(e.message!!.contains("unguarded boom"), e.message)
    }

    @Test
    fun `network work runs on the finlock workers`() = runBlocking {
        assertEquals("finlock-worker", debugWorkerThreadName())
    }

    @Test
    fun `8 threads x 50 calls on one core are safe`() = runBlocking {
        val d = enrolledDevice()
        val base = d.clock.now()
        val pool = Executors.newFixedThreadPool(8)
        // A check-in in flight at the same time: the state lock is not held across it.
        val checkIn = async(Dispatchers.IO) { d.core.checkIn(false, base) }
        val tasks = (0 until 8).map { t ->
            Callable {
                var typed = 0
                for (i in 0 until 50) {
                    // Each thread's clock moves forward; threads interleave arbitrarily.
                    val clock = base.copy(
                        wallMs = base.wallMs + i * 1_000L,
                        elapsedRealtimeMs = base.elapsedRealtimeMs + i * 1_000L,
                    )
                    when ((t + i) % 3) {
                        0 -> assertFalse(d.core.decision(clock).locked)
                        1 -> assertEquals("Acme Finance", d.core.lockScreen(clock, "en").lenderName)
                        else -> try {
                            d.core.enterOfflineCode("1234567" + (i % 10), clock)
                        } catch (e: FinlockException.CodeWrong) {
                            typed++
                        } catch (e: FinlockException.CodeLockedOut) {
                            typed++
                        }
                    }
                }
                typed
            }
        }
        val typed = pool.invokeAll(tasks).sumOf { it.get(60, TimeUnit.SECONDS) }
        pool.shutdown()
        checkIn.await()
        // Every code entry was answered with a typed error (a random 8-digit code matches
        // with probability ~1e-7 per try; 5 wrong ones then lock entry out).
        assertTrue(typed >= 100, "typed answers: $typed")
        val screen = d.core.lockScreen(d.clock.advance(60_000), "en")
        assertTrue(screen.offlineLockedOut)
        assertEquals(0, screen.offlineTriesLeft)
    }
}
