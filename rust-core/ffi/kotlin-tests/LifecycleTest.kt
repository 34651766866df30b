// A financed phone's life, from Kotlin, against a real `finlock serve`: enroll, check in,
// the notice, the lock by the passage of time once the notice has been on the phone a day,
// an offline code, payment, release.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.FinlockCore
import org.finlock.core.FinlockException
import org.finlock.core.Level
import org.finlock.core.LockReason
import org.finlock.core.EntitlementState
import org.finlock.core.WakeReason
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class LifecycleTest {
    @Test
    fun `a phone lives through enrollment, lock, offline code, payment and release`() = runBlocking {
        val reg = LocalServer.registerDevice()
        val dir = tempStateDir()
        val core = FinlockCore(dir, config())
        val phone = PhoneClock()

        // Provisioning (the QR) and enrollment.
        assertFalse(core.status(phone.now()).provisioned)
        core.provision(LocalServer.url, LocalServer.lender.jwks, true)
        val first = core.enroll(params(reg.enrollmentCode), phone.now())
        assertFalse(first.locked)
        assertFalse(first.released)
        // The payment lock is 5 days + 2 days' grace ahead, its notice a day before (§3.7): the
        // decision says when the notice starts.
        assertEquals(Level.NORMAL, first.level)
        val change = present(first.nextChange, "nextChange")
        assertTrue(change.delayMs in 5 * DAY_MS..7 * DAY_MS, "next change in ${change.delayMs} ms")
        assertEquals(phone.elapsedMs + change.delayMs, change.elapsedRealtimeMs)
        val status = core.status(phone.now())
        assertTrue(status.enrolled)
        assertEquals(reg.deviceId, status.deviceId)
        assertEquals(EntitlementState.ACTIVE, status.state)

        // A routine check-in a minute later.
        val checked = core.checkIn(false, phone.advance(60_000))
        assertFalse(checked.locked)
        assertEquals(2L, core.status(phone.now()).entitlementSeq)

        // What the lock screen would show, picked for the locale.
        val screen = core.lockScreen(phone.now(), "sw-KE")
        assertEquals("Acme Finance", screen.lenderName)
        assertEquals("+254700000001", screen.lenderPhone)
        assertEquals("help@acme.example", screen.lenderEmail)
        assertEquals("https://pay.acme.example/m-pesa", screen.paymentUrl)
        assertEquals("https://acme.example/help", screen.supportUrl)
        assertEquals("KES", screen.currency)
        assertNotNull(screen.nextDueMs)
        assertEquals(8, screen.offlineChallenge!!.length)
        assertEquals(5, screen.offlineTriesLeft)
        assertFalse(screen.offlineLockedOut)

        // One alarm: the next reminder, check-in or lock, whichever comes first.
        val wake = present(core.nextWakeup(phone.now(), "Africa/Nairobi"), "nextWakeup")
        assertTrue(wake.at.delayMs >= 0)
        assertTrue(wake.reason in WakeReason.values())
        assertTrue(core.reminders(phone.now(), "Africa/Nairobi").isNotEmpty())

        // Eight days pass without a payment (elapsedRealtime and the wall clock both move): the
        // lock is due, but the phone has not shown its notice page yet, so it waits (§3.7).
        val held = core.decision(phone.advance(8 * DAY_MS))
        assertFalse(held.locked)
        assertEquals(Level.NOTICE, held.level)
        assertTrue(held.heldForNotice)
        // The page is displayed at the next unlock; a day of uptime later the lock holds.
        // Verified time passes lock_at, so the lock is not clock-suspect.
        val locked = core.decision(noticeThenADay(core, phone))
        assertTrue(locked.locked)
        assertEquals(Level.LOCKED, locked.level)
        assertEquals(LockReason.OVERDUE_PAYMENT, locked.reason)
        assertFalse(locked.clockSuspect)
        val lockedScreen = core.lockScreen(phone.now(), "en")
        assertTrue(lockedScreen.decision.locked)
        assertNotNull(lockedScreen.noticeFirstShownMs, "the lock screen says when the notice was first shown")
        assertTrue(lockedScreen.amountDueMinor > 0, "amount due ${lockedScreen.amountDueMinor}")

        // No data: the customer reads the challenge to the lender, who answers a 1-day code.
        val challenge = lockedScreen.offlineChallenge!!
        val wrong = assertThrows<FinlockException.CodeWrong> { core.enterOfflineCode("00000000", phone.now()) }
        assertEquals(4, wrong.triesLeft)
        assertEquals("offline_code_wrong", wrong.code)
        val code = LocalServer.offlineCode(reg.deviceId, challenge, 1)
        val accepted = core.enterOfflineCode(code, phone.now())
        assertEquals(1, accepted.days)
        assertFalse(accepted.decision.locked)
        assertTrue(accepted.extensionUntilMs > phone.wallMs)
        // The code is used up: the challenge moved on.
        assert(core.lockScreen(phone.now(), "en").offlineChallenge != challenge)
        // A day later the code's grant ends and the phone locks again: its notice was shown
        // more than a day ago (the code kept the episode open).
        assertTrue(core.decision(phone.advance(DAY_MS + 60_000)).locked)

        // The customer pays the overdue installment and presses "I have paid — check now".
        LocalServer.pay(reg.deviceId, 1000)
        val afterPayment = core.checkIn(true, phone.advance(1_000))
        assertFalse(afterPayment.locked, "unlocked after paying: $afterPayment")
        assertEquals(Level.NORMAL, afterPayment.level)
        // Pressing again at once is refused politely.
        val tooSoon = assertThrows<FinlockException.TooSoon> { core.checkIn(true, phone.advance(1_000)) }
        assertTrue(tooSoon.retryAfterS in 1L..30L)

        // The last installment: paid in full, completing for the lender's window (ADR 0012):
        // unlocked, and told the day the phone becomes the customer's.
        val paid = LocalServer.pay(reg.deviceId, 1000)
        assertFalse(Json.bool(paid, "released"))
        val releaseAtMs = Json.long(paid, "release_at") * 1000
        val completing = core.checkIn(true, phone.advance(31_000))
        assertFalse(completing.locked)
        assertFalse(completing.released)
        assertEquals(releaseAtMs, completing.releaseAtMs)
        // The payment bounces: the lender voids it, and the phone owes again.
        LocalServer.post("/v1/lender/devices/${reg.deviceId}/payments/${Json.string(paid, "payment_id")}/void",
            """{"reason":"M-Pesa reversal"}""")
        val owing = core.checkIn(true, phone.advance(31_000))
        assertNull(owing.releaseAtMs)
        assertFalse(owing.released)
        // Paid again, and released by the lender at once (the window would be 48 hours).
        assertFalse(Json.bool(LocalServer.pay(reg.deviceId, 1000), "released"))
        LocalServer.post("/v1/lender/devices/${reg.deviceId}/release", "{}")
        val released = core.checkIn(true, phone.advance(31_000))
        assertTrue(released.released)
        assertFalse(released.locked)
        assertNull(core.nextWakeup(phone.now(), "Africa/Nairobi"))
        assertNull(core.lockScreen(phone.now(), "en").offlineChallenge)
        val refused = assertThrows<FinlockException.Rejected> { core.enterOfflineCode("12345678", phone.now()) }
        assertEquals("already_released", refused.code)

        // The state survives a restart of the process (a new core on the same directory).
        core.close()
        val again = FinlockCore(dir, config())
        assertTrue(again.decision(phone.advance(1_000)).released)
        assertEquals(EntitlementState.RELEASED, again.status(phone.now()).state)
    }

    @Test
    fun `a lender lock, after the notice, shows the lender's message and a lender unlock lifts it`() = runBlocking {
        val d = enrolledDevice()
        LocalServer.post("/v1/lender/devices/${d.deviceId}/lock", """{"reason":"Please call us about your account"}""")
        // A lender's lock waits for the notice too: shown now, locked a day later.
        val held = d.core.checkIn(true, d.clock.advance(1_000))
        assertEquals(Level.NOTICE, held.level)
        assertEquals(LockReason.LENDER_REQUEST, held.reason)
        val locked = d.core.decision(noticeThenADay(d.core, d.clock))
        assertTrue(locked.locked)
        assertEquals(LockReason.LENDER_REQUEST, locked.reason)
        val screen = d.core.lockScreen(d.clock.now(), "fr-FR")
        // No French text: the English one, never nothing and never a random language.
        assertEquals("Please call us about your account", screen.message)
        LocalServer.post("/v1/lender/devices/${d.deviceId}/unlock", "{}")
        assertFalse(d.core.checkIn(true, d.clock.advance(31_000)).locked)
    }

    @Test
    fun `reminders are shown once`() = runBlocking {
        val d = enrolledDevice()
        // Four days on: the 3-days-before reminder (09:00 Nairobi) has fired.
        val phone = d.clock
        phone.advance(3 * DAY_MS)
        val due = d.core.reminderDue(phone.now(), "Africa/Nairobi")
        assertNotNull(due, "a reminder is due: ${d.core.reminders(phone.now(), "Africa/Nairobi")}")
        d.core.markReminderShown(due!!.id, phone.now())
        assertNull(d.core.reminderDue(phone.now(), "Africa/Nairobi"))
    }
}
