package org.finlock.app

import android.content.Context
import java.math.BigDecimal
import java.text.DateFormat
import java.text.DecimalFormat
import java.text.NumberFormat
import java.util.Currency
import java.util.Date
import java.util.Locale

/** Money and dates in the user's locale (presentation only). */
object Format {
    fun money(minor: Long, currency: String, locale: Locale = Locale.getDefault()): String {
        val cur = runCatching { Currency.getInstance(currency) }.getOrNull()
        val digits = cur?.defaultFractionDigits?.coerceAtLeast(0) ?: 2
        val amount = BigDecimal.valueOf(minor, digits)
        if (cur == null) return "$currency$NBSP${amount.toPlainString()}"
        val format = NumberFormat.getCurrencyInstance(locale)
        format.currency = cur
        format.minimumFractionDigits = digits
        format.maximumFractionDigits = digits
        (format as? DecimalFormat)?.let(::separateCode)
        return format.format(amount)
    }

    /**
     * "KES1,500.00" reads badly: where the locale's pattern glues a letter code to the
     * digits, a no-break space goes between them ("KES 1,500.00", "1.500,00 KES"). Symbols
     * such as "$" stay as the locale writes them.
     */
    private fun separateCode(format: DecimalFormat) {
        fun prefix(p: String) = if (p.lastOrNull()?.isLetter() == true) p + NBSP else p
        fun suffix(s: String) = if (s.firstOrNull()?.isLetter() == true) NBSP + s else s
        format.positivePrefix = prefix(format.positivePrefix)
        format.negativePrefix = prefix(format.negativePrefix)
        format.positiveSuffix = suffix(format.positiveSuffix)
        format.negativeSuffix = suffix(format.negativeSuffix)
    }

    /** Keeps the currency code and the amount on one line. */
    const val NBSP = "\u00A0"

    fun date(context: Context, ms: Long): String =
        DateFormat.getDateInstance(DateFormat.LONG, context.resources.configuration.locales.get(0)).format(Date(ms))

    /** "1234 5678": easier to read out over the phone. */
    fun challenge(code: String) = if (code.length == 8) code.substring(0, 4) + " " + code.substring(4) else code

    /**
     * A key thumbprint (RFC 7638, base64url, 43 characters) in groups of four, as an agent
     * reads it out and compares it with the lender's console: the same characters, in order.
     */
    fun thumbprint(t: String) = t.chunked(4).joinToString(" ")
}
