package org.finlock.app

import android.content.Context
import android.graphics.PixelFormat
import android.provider.Settings
import android.view.Gravity
import android.view.View
import android.view.WindowManager
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import java.math.BigDecimal
import java.text.DateFormat
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
        if (cur == null) return "$currency ${amount.toPlainString()}"
        val format = NumberFormat.getCurrencyInstance(locale)
        format.currency = cur
        format.minimumFractionDigits = digits
        format.maximumFractionDigits = digits
        return format.format(amount)
    }

    fun date(context: Context, ms: Long): String =
        DateFormat.getDateInstance(DateFormat.LONG, context.resources.configuration.locales.get(0)).format(Date(ms))

    /** "1234 5678": easier to read out over the phone. */
    fun challenge(code: String) = if (code.length == 8) code.substring(0, 4) + " " + code.substring(4) else code
}

/**
 * Without Device Owner the lock cannot be enforced by the system: a full-screen overlay (if
 * the user granted "display over other apps") brings the lock screen back. Weaker, and the
 * lock screen says so.
 */
object OverlayFallback {
    private var view: View? = null

    fun show(context: Context) {
        val app = context.applicationContext
        if (view != null || !Settings.canDrawOverlays(app)) return
        val wm = app.getSystemService(WindowManager::class.java)
        val layout = LinearLayout(app).apply {
            orientation = LinearLayout.VERTICAL
            gravity = Gravity.CENTER
            setBackgroundColor(0xFF0B1F33.toInt())
            addView(TextView(app).apply {
                text = app.getString(R.string.lock_title)
                setTextColor(0xFFFFFFFF.toInt())
                textSize = 22f
            })
            addView(Button(app).apply {
                text = app.getString(R.string.overlay_open)
                contentDescription = app.getString(R.string.overlay_open)
                setOnClickListener {
                    app.startActivity(
                        android.content.Intent(app, LockActivity::class.java)
                            .addFlags(android.content.Intent.FLAG_ACTIVITY_NEW_TASK),
                    )
                }
            })
        }
        val params = WindowManager.LayoutParams(
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.TYPE_APPLICATION_OVERLAY,
            WindowManager.LayoutParams.FLAG_LAYOUT_IN_SCREEN,
            PixelFormat.OPAQUE,
        )
        wm.addView(layout, params)
        view = layout
    }

    fun hide(context: Context) {
        val v = view ?: return
        context.applicationContext.getSystemService(WindowManager::class.java).removeView(v)
        view = null
    }

    val showing: Boolean get() = view != null
}
