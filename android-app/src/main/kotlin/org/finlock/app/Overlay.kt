package org.finlock.app

import android.app.Notification
import android.app.PendingIntent
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.graphics.PixelFormat
import android.os.Build
import android.os.Handler
import android.os.IBinder
import android.os.Looper
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
    /** Touched on the main thread only. */
    private var view: View? = null

    /** The lock screen activity is resumed: the overlay stays out of its way. */
    @Volatile
    var lockScreenInFront = false

    val showing: Boolean get() = view != null

    /**
     * Locked without Device Owner: the overlay window, then the foreground service that keeps
     * it (in that order: a visible overlay lets a background app start its service). False
     * when the user has not allowed "display over other apps".
     */
    fun engage(context: Context): Boolean {
        val app = context.applicationContext
        if (!Settings.canDrawOverlays(app)) return false
        onMain {
            add(app)
            OverlayService.start(app)
        }
        return true
    }

    /** Unlocked or released: the service stops and the window goes. */
    fun disengage(context: Context) {
        val app = context.applicationContext
        app.stopService(Intent(app, OverlayService::class.java))
        hide(app)
    }

    /** Adds the overlay window unless it is there or the lock screen is in front. */
    fun show(context: Context) {
        val app = context.applicationContext
        if (Settings.canDrawOverlays(app)) onMain { add(app) }
    }

    /** Removes the overlay window (idempotent). */
    fun hide(context: Context) {
        val app = context.applicationContext
        onMain {
            val v = view ?: return@onMain
            view = null
            runCatching { app.getSystemService(WindowManager::class.java).removeView(v) }
        }
    }

    private fun add(app: Context) {
        if (view != null || lockScreenInFront) return
        val layout = build(app)
        val params = WindowManager.LayoutParams(
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.TYPE_APPLICATION_OVERLAY,
            WindowManager.LayoutParams.FLAG_LAYOUT_IN_SCREEN,
            PixelFormat.OPAQUE,
        )
        runCatching { app.getSystemService(WindowManager::class.java).addView(layout, params) }
            .onSuccess { view = layout }
            .onFailure { Log.w("finlock", "overlay: ${it.javaClass.simpleName}") }
    }

    /** Windows belong to the main thread; the shell often acts from its background thread. */
    private fun onMain(work: () -> Unit) {
        if (Looper.myLooper() == Looper.getMainLooper()) work() else Handler(Looper.getMainLooper()).post(work)
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

        /** Through [OverlayFallback.engage]. Returns false if the system refused. */
        fun start(context: Context): Boolean {
            val intent = Intent(context, OverlayService::class.java)
            return runCatching { context.startForegroundService(intent) }
                .onFailure { Log.w("finlock", "overlay service: ${it.javaClass.simpleName}") }
                .isSuccess
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
