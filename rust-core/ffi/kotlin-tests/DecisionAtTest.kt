// `decisionAt(wallMs, elapsedRealtimeMs, bootCount)`, the cheap call for the hot path, is
// `decision(clock)` with the record spelled out: the same answer in every state, the same
// errors. Each case first checks it is the state it names, so a case cannot pass vacuously.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.Clock
import org.finlock.core.Decision
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class DecisionAtTest {
    /** Both calls at `clock`, in both orders (the first call of a new reading persists the
     * advanced marks; the answer must not depend on which entry point did it). */
    private fun sameAnswer(core: FinlockCore, clock: Clock): Decision {
        val at = core.decisionAt(clock.wallMs, clock.elapsedRealtimeMs, clock.bootCount)
        val viaRecord = core.decision(clock)
        assertEquals(viaRecord, at, "at $clock")
        assertEquals(core.decisionAt(clock.wallMs, clock.elapsedRealtimeMs, clock.bootCount), core.decision(clock))
        return at
    }

    @Test
    fun `decisionAt answers as decision before provisioning`() {
        val core = FinlockCore(tempStateDir(), config())
        val d = sameAnswer(core, PhoneClock().now())
        assertFalse(d.locked)
        assertFalse(d.released)
        assertNull(d.nextChange)
    }

    @Test
    fun `decisionAt answers as decision unlocked, locked for an overdue payment and after a payment`() = runBlocking {
        val d = enrolledDevice()
        val unlocked = sameAnswer(d.core, d.clock.advance(1_000))
        assertFalse(unlocked.locked)
        // The payment lock ahead is named, as an alarm to arm.
        assertNotNull(unlocked.nextChange)

        // Due, but held for the notice (§3.7): the same answer both ways.
        val held = sameAnswer(d.core, d.clock.advance(8 * DAY_MS))
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
        val locked = sameAnswer(d.core, noticeThenADay(d.core, d.clock))
        assertTrue(locked.locked)
        assertEquals(LockReason.OVERDUE_PAYMENT, locked.reason)
        assertFalse(locked.clockSuspect)

        LocalServer.pay(d.deviceId, 1000)
        assertFalse(d.core.checkIn(true, d.clock.advance(1_000)).locked)
        assertFalse(sameAnswer(d.core, d.clock.advance(1_000)).locked)
    }

    @Test
    fun `decisionAt answers as decision when only the device clock says locked`() = runBlocking {
        val d = enrolledDevice()
        // A real lock first (overdue, the notice shown a day earlier), then a 2-day unlock code.
        d.clock.advance(8 * DAY_MS)
        assertTrue(d.core.decision(noticeThenADay(d.core, d.clock)).locked)
        val challenge = present(d.core.lockScreen(d.clock.now(), "en").offlineChallenge, "offlineChallenge")
        val extended = d.core.enterOfflineCode(LocalServer.offlineCode(d.deviceId, challenge, 2), d.clock.now())
        assertFalse(extended.decision.locked)
        // The customer sets the wall clock 3 days ahead; elapsedRealtime barely moves: only the
        // device clock has passed the code's end.
        val jumped = d.clock.now().let { it.copy(wallMs = it.wallMs + 3 * DAY_MS, elapsedRealtimeMs = it.elapsedRealtimeMs + 1_000) }
        val suspect = sameAnswer(d.core, jumped)
        assertTrue(suspect.locked)
        assertTrue(suspect.clockSuspect)
    }

    @Test
    fun `decisionAt answers as decision when the device clock alone would skip the notice`() = runBlocking {
        val d = enrolledDevice()
        // The customer (or a wrong clock) sets the wall clock 8 days ahead; elapsedRealtime
        // barely moves: no notice was shown, so nothing locks.
        val jumped = d.clock.now().let { it.copy(wallMs = it.wallMs + 8 * DAY_MS, elapsedRealtimeMs = it.elapsedRealtimeMs + 1_000) }
        val held = sameAnswer(d.core, jumped)
        assertFalse(held.locked)
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
    }

    @Test
    fun `decisionAt answers as decision under a lender lock`() = runBlocking {
        val d = enrolledDevice()
        LocalServer.post("/v1/lender/devices/${d.deviceId}/lock", """{"reason":"Please call us"}""")
        assertEquals(Level.NOTICE, d.core.checkIn(true, d.clock.advance(1_000)).level)
        val locked = sameAnswer(d.core, noticeThenADay(d.core, d.clock))
        assertTrue(locked.locked)
        assertEquals(LockReason.LENDER_REQUEST, locked.reason)
    }

    @Test
    fun `decisionAt answers as decision once released`() = runBlocking {
        val d = enrolledDevice()
        val paid = LocalServer.pay(d.deviceId, 2000)
        // Paid in full: completing (ADR 0012), the same answer both ways, with its date.
        assertFalse(d.core.checkIn(true, d.clock.advance(1_000)).released)
        val completing = sameAnswer(d.core, d.clock.advance(1_000))
        assertEquals(Json.long(paid, "release_at") * 1000, completing.releaseAtMs)
        assertFalse(completing.locked)
        // Released by the lender before the window ends.
        LocalServer.post("/v1/lender/devices/${d.deviceId}/release", "{}")
        assertTrue(d.core.checkIn(true, d.clock.advance(31_000)).released)
        val released = sameAnswer(d.core, d.clock.advance(DAY_MS))
        assertTrue(released.released)
        assertFalse(released.locked)
        // Still released long after every due date.
        assertTrue(sameAnswer(d.core, d.clock.advance(400 * DAY_MS)).released)
    }

    @Test
    fun `decisionAt refuses negative readings with the same errors as decision`() = runBlocking {
        val d = enrolledDevice()
        val c = d.clock.now()
        val viaRecord = assertThrows<FinlockException.InvalidInput> { d.core.decision(c.copy(elapsedRealtimeMs = -1)) }
        val at = assertThrows<FinlockException.InvalidInput> { d.core.decisionAt(c.wallMs, -1, c.bootCount) }
        assertEquals("clock.elapsedRealtimeMs", at.field)
        assertEquals(viaRecord.code, at.code)
        assertEquals(viaRecord.field, at.field)
        val boot = assertThrows<FinlockException.InvalidInput> { d.core.decisionAt(c.wallMs, c.elapsedRealtimeMs, -1) }
        assertEquals("clock.bootCount", boot.field)
        // A refused reading changed nothing: the next good one answers as before.
        assertFalse(sameAnswer(d.core, d.clock.advance(1_000)).locked)
    }
}
