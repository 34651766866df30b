package org.finlock.app

import android.app.Notification
import android.app.PendingIntent
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.graphics.PixelFormat
import android.os.Build
import android.os.IBinder
import android.provider.Settings
import android.util.Log
import android.view.Gravity
import android.view.View
import android.view.WindowManager
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView

/**
 * Without Device Owner the lock cannot be enforced by the system: a full-screen overlay (if
 * the user granted "display over other apps") brings the lock screen back. Weaker, and both
 * the overlay and the lock screen say so. The window steps aside while the lock screen itself
 * is in front, and when the user leaves for an emergency call.
 */
object OverlayFallback {
    private var view: View? = null

    val showing: Boolean get() = view != null

    /** Adds the overlay window (idempotent). False when the overlay permission is missing. */
    fun show(context: Context): Boolean {
        val app = context.applicationContext
        if (view != null) return true
        if (!Settings.canDrawOverlays(app)) return false
        val wm = app.getSystemService(WindowManager::class.java)
        val layout = build(app)
        val params = WindowManager.LayoutParams(
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.TYPE_APPLICATION_OVERLAY,
            WindowManager.LayoutParams.FLAG_LAYOUT_IN_SCREEN,
            PixelFormat.OPAQUE,
        )
        return runCatching { wm.addView(layout, params) }
            .onSuccess { view = layout }
            .onFailure { Log.w("finlock", "overlay: ${it.javaClass.simpleName}") }
            .isSuccess
    }

    /** Removes the overlay window (idempotent). */
    fun hide(context: Context) {
        val v = view ?: return
        view = null
        runCatching { context.applicationContext.getSystemService(WindowManager::class.java).removeView(v) }
    }

    private fun build(app: Context): View {
        val pad = (20 * app.resources.displayMetrics.density).toInt()
        return LinearLayout(app).apply {
            id = R.id.overlay_root
            orientation = LinearLayout.VERTICAL
            gravity = Gravity.CENTER
            setPadding(pad, pad, pad, pad)
            setBackgroundColor(app.getColor(R.color.lock_background))
            // Emergency first: it works in every state, the overlay included.
            addView(Button(app).apply {
                id = R.id.emergency_call
                text = app.getString(R.string.emergency_call)
                contentDescription = app.getString(R.string.emergency_call_description)
                setOnClickListener {
                    hide(app)
                    app.startActivity(LockActivity.emergencyDialer(app))
                }
            })
            addView(TextView(app).apply {
                text = app.getString(R.string.lock_title)
                setTextColor(app.getColor(R.color.lock_text))
                textSize = 22f
            })
            addView(TextView(app).apply {
                id = R.id.weaker_notice
                text = app.getString(R.string.enforcement_weaker)
                setTextColor(app.getColor(R.color.lock_notice))
                textSize = 14f
            })
            addView(Button(app).apply {
                id = R.id.overlay_open
                text = app.getString(R.string.overlay_open)
                contentDescription = app.getString(R.string.overlay_open_description)
                setOnClickListener { app.startActivity(LockActivity.intent(app)) }
            })
        }
    }
}

/**
 * Keeps the overlay fallback alive while locked without Device Owner: a small foreground
 * service (type specialUse) that holds the overlay window, restarted by the system if the
 * process dies. Started and stopped by [Shell.apply] only — it decides nothing; after a
 * restart it asks the core again through [Shell.refresh].
 */
class OverlayService : Service() {
    override fun onBind(intent: Intent?): IBinder? = null

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        Reminders.createChannels(this)
        val notification = notification(this)
        if (Build.VERSION.SDK_INT >= 34) {
            startForeground(NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
        } else {
            startForeground(NOTIFICATION_ID, notification)
        }
        if (intent == null) {
            // Restarted after the process died: the core says whether the lock still holds.
            val d = Shell.deps(this)
            d.background.execute { runCatching { Shell.refresh(this) } }
        } else {
            OverlayFallback.show(this)
        }
        return START_STICKY
    }

    override fun onDestroy() {
        OverlayFallback.hide(this)
        super.onDestroy()
    }

    companion object {
        const val NOTIFICATION_ID = 3

        /** While locked without Device Owner. Returns false if the system refused. */
        fun start(context: Context): Boolean {
            val intent = Intent(context, OverlayService::class.java)
            return runCatching { context.startForegroundService(intent) }
                .onFailure { Log.w("finlock", "overlay service: ${it.javaClass.simpleName}") }
                .isSuccess
        }

        fun stop(context: Context) {
            context.stopService(Intent(context, OverlayService::class.java))
            OverlayFallback.hide(context)
        }

        fun notification(context: Context): Notification = Notification.Builder(context, Reminders.CHANNEL_LOCK)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(context.getString(R.string.lock_title))
            .setContentText(context.getString(R.string.enforcement_weaker))
            .setStyle(Notification.BigTextStyle().bigText(context.getString(R.string.enforcement_weaker)))
            .setOngoing(true)
            .setCategory(Notification.CATEGORY_STATUS)
            .setContentIntent(
                PendingIntent.getActivity(context, 3, LockActivity.intent(context), PendingIntent.FLAG_IMMUTABLE),
            )
            .build()
    }
}
