// The notice the phone guarantees (PROTOCOL §3.7, ADR 0017), from Kotlin through the real
// library: the levels, the notice page, `noticeShown`, and the rule that a restriction or a lock
// waits until the notice has been on this phone's screen for the notice period, measured by the
// phone's own elapsedRealtime (a reboot's powered-off time never counts).
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class NoticeTest {
    @Test
    fun `the notice comes before the lock, and the lock waits for a display a day old`() = runBlocking {
        val d = enrolledDevice()
        // In good standing nothing is recorded: there is nothing to give notice of.
        val normal = d.core.decision(d.clock.advance(DAY_MS))
        assertEquals(Level.NORMAL, normal.level)
        assertFalse(d.core.noticeShown(d.clock.now()))
        assertNull(d.core.decision(d.clock.now()).noticeFirstShownMs)

        // Eight days without a payment: the lock is due, but no notice was ever displayed.
        val held = d.core.decision(d.clock.advance(7 * DAY_MS))
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
        assertFalse(held.locked)
        assertEquals(LockReason.OVERDUE_PAYMENT, held.reason)
        assertNull(held.noticeFirstShownMs)
        // The page says what comes when: the lock, a full notice period from now at the earliest.
        val page = d.core.noticePage(d.clock.now(), "en")
        assertEquals("Acme Finance", page.lenderName)
        assertEquals("+254700000001", page.lenderPhone)
        assertEquals(LockReason.OVERDUE_PAYMENT, page.reason)
        assertTrue(page.amountDueMinor > 0)
        assertNull(page.firstShownMs)
        val lockFrom = present(page.lockFromMs, "lockFromMs")
        // (The core's moments are whole seconds; trusted now has milliseconds.)
        assertTrue(lockFrom >= held.trustedNowMs + DAY_MS - 1_000, "lock from $lockFrom, now ${held.trustedNowMs}")

        // The shell displayed the page: recorded once, at trusted time; the first display never moves.
        assertTrue(d.core.noticeShown(d.clock.now()))
        val shownAt = present(d.core.decision(d.clock.now()).noticeFirstShownMs, "noticeFirstShownMs")
        assertFalse(d.core.noticeShown(d.clock.advance(60_000)), "a second display records nothing")
        assertEquals(shownAt, d.core.decision(d.clock.now()).noticeFirstShownMs)
        assertEquals(shownAt, d.core.noticePage(d.clock.now(), "en").firstShownMs)

        // Half a day later: still the notice, and the alarm is for the moment the day is full.
        val halfway = d.core.decision(d.clock.advance(DAY_MS / 2))
        assertEquals(Level.NOTICE, halfway.level)
        assertTrue(halfway.heldForNotice)
        val change = present(halfway.nextChange, "nextChange")
        assertTrue(change.delayMs in 1..DAY_MS / 2, "next change in ${change.delayMs} ms")

        // A day of uptime after the first display: locked, and the lock screen says since when.
        val locked = d.core.decision(d.clock.advance(DAY_MS / 2))
        assertEquals(Level.LOCKED, locked.level)
        assertTrue(locked.locked)
        assertFalse(locked.heldForNotice)
        val screen = d.core.lockScreen(d.clock.now(), "en")
        assertEquals(shownAt, screen.noticeFirstShownMs)

        // Paid: the episode is over, the record goes with it.
        LocalServer.pay(d.deviceId, 1000)
        val paid = d.core.checkIn(true, d.clock.advance(1_000))
        assertEquals(Level.NORMAL, paid.level)
        assertNull(paid.noticeFirstShownMs)
    }

    @Test
    fun `powered-off time does not count toward the notice period`() = runBlocking {
        val d = enrolledDevice()
        assertEquals(Level.NOTICE, d.core.decision(d.clock.advance(8 * DAY_MS)).level)
        assertTrue(d.core.noticeShown(d.clock.now()))
        d.core.decision(d.clock.advance(DAY_MS / 4))
        // Switched off for three days, then on: a new boot, elapsedRealtime from near zero.
        d.clock.boot += 1
        d.clock.elapsedMs = 60_000
        d.clock.wallMs += 3 * DAY_MS
        val afterBoot = d.core.decision(d.clock.now())
        assertEquals(Level.NOTICE, afterBoot.level, "three days off are not three days of notice")
        assertTrue(afterBoot.heldForNotice)
        // The rest of the day on this boot: locked.
        assertTrue(d.core.decision(d.clock.advance(DAY_MS * 3 / 4)).locked)
    }

    @Test
    fun `a lender lock waits for the notice too`() = runBlocking {
        val d = enrolledDevice()
        LocalServer.post("/v1/lender/devices/${d.deviceId}/lock", """{"reason":"Please call us"}""")
        val held = d.core.checkIn(true, d.clock.advance(1_000))
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
        assertEquals(LockReason.LENDER_REQUEST, held.reason)
        assertTrue(d.core.noticeShown(d.clock.now()))
        val locked = d.core.decision(d.clock.advance(DAY_MS + 1_000))
        assertTrue(locked.locked)
        assertEquals(LockReason.LENDER_REQUEST, locked.reason)
    }

    @Test
    fun `noticeShown needs an enrolled device and a sane clock`() {
        val core = org.finlock.core.FinlockCore(tempStateDir(), config())
        val fresh = PhoneClock()
        assertThrows<org.finlock.core.FinlockException.NotEnrolled> { core.noticeShown(fresh.now()) }
        val bad = assertThrows<org.finlock.core.FinlockException.InvalidInput> {
            core.noticeShown(fresh.now().copy(elapsedRealtimeMs = -1))
        }
        assertEquals("clock.elapsedRealtimeMs", bad.field)
        assertNotNull(bad.code)
    }
}
