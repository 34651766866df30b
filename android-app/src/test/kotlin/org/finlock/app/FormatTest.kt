package org.finlock.app

import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import java.util.Locale

/** Money reads with a space between a currency code and the amount, in every locale. */
@RunWith(RobolectricTestRunner::class)
class FormatTest {
    private val nbsp = Format.NBSP

    @Test
    fun `a currency code and the amount are separated`() {
        assertEquals("KES${nbsp}1,500.00", Format.money(150_000, "KES", Locale.US))
        assertEquals("-KES${nbsp}1,500.00", Format.money(-150_000, "KES", Locale.US))
    }

    @Test
    fun `a symbol stays as the locale writes it`() {
        assertEquals("$1,500.00", Format.money(150_000, "USD", Locale.US))
    }

    @Test
    fun `a code after the amount is separated once`() {
        val text = Format.money(150_000, "KES", Locale.GERMANY)
        assertEquals("1.500,00${nbsp}KES", text)
    }

    @Test
    fun `zero-decimal currencies and unknown codes`() {
        assertEquals("¥1,500", Format.money(1_500, "JPY", Locale.US))
        assertEquals("XYZ${nbsp}1500.00", Format.money(150_000, "XYZ", Locale.US))
    }
}
