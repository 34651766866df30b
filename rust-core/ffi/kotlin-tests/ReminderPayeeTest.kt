// A reminder names who to pay and how, from the lender's signed entitlement, so the
// notification needs no second call.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.Moment
import org.finlock.core.Reminder
import org.finlock.core.ReminderKind
import org.finlock.core.Severity
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class ReminderPayeeTest {
    @Test
    fun `every reminder names the lender, its phone and where to pay`() = runBlocking {
        val d = enrolledDevice()
        val list = d.core.reminders(d.clock.now(), "Africa/Nairobi")
        assertTrue(list.isNotEmpty())
        for (r in list) {
            assertEquals("Acme Finance", r.lenderName, r.id)
            assertEquals("+254700000001", r.lenderPhone, r.id)
            assertEquals("https://pay.acme.example/m-pesa", r.paymentUrl, r.id)
        }
        // The reference server sends no payment instructions: the reminder says what the
        // lock screen says, for the locale asked and for the default (English).
        val screen = d.core.lockScreen(d.clock.now(), "sw-KE")
        assertEquals(screen.paymentInstructions, d.core.reminders(d.clock.now(), "Africa/Nairobi", "sw-KE").first().paymentInstructions)
        assertNull(list.first().paymentInstructions)
    }

    @Test
    fun `the reminder that is due names the lender too`() = runBlocking {
        val d = enrolledDevice()
        // Four days on: the 3-days-before reminder has fired.
        val due = present(d.core.reminderDue(d.clock.advance(3 * DAY_MS), "Africa/Nairobi", "en"), "reminderDue")
        assertEquals("Acme Finance", due.lenderName)
        assertEquals("+254700000001", due.lenderPhone)
        assertEquals("https://pay.acme.example/m-pesa", due.paymentUrl)
    }

    @Test
    fun `code that builds a Reminder without the lender fields still compiles`() {
        // The shell's test fakes build reminders by name; the new fields default.
        val r = Reminder(
            id = "r", kind = ReminderKind.UPCOMING, severity = Severity.INFO, persistent = false,
            installmentDueMs = null, amountMinor = 1, currency = "KES",
            fireAt = Moment(trustedMs = 0, delayMs = 0, elapsedRealtimeMs = 0),
        )
        assertEquals("", r.lenderName)
        assertEquals("", r.lenderPhone)
        assertEquals("", r.paymentUrl)
        assertNull(r.paymentInstructions)
    }
}
