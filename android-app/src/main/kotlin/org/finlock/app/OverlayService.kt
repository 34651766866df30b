package org.finlock.app

import android.app.Notification
import android.app.PendingIntent
import android.app.Service
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.ServiceInfo
import android.os.Build
import android.os.IBinder
import android.util.Log
import kotlinx.coroutines.launch

/**
 * Keeps the overlay fallback alive while locked without Device Owner: a small foreground
 * service (type specialUse) that holds the overlay window, restarted by the system if the
 * process dies. Started and stopped by [Shell.apply] only — it decides nothing; after a
 * restart it asks the core again through [Shell.refresh]. While it runs it listens for the
 * screen going off, the overlay's signal to come back after a call ([OverlayFallback]).
 */
class OverlayService : Service() {
    /** The screen-off listener, registered while the service runs. */
    private var screenOff: BroadcastReceiver? = null

    override fun onBind(intent: Intent?): IBinder? = null

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        Reminders.createChannels(this)
        val notification = notification(this)
        if (Build.VERSION.SDK_INT >= 34) {
            startForeground(NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
        } else {
            startForeground(NOTIFICATION_ID, notification)
        }
        if (screenOff == null) {
            val receiver = object : BroadcastReceiver() {
                override fun onReceive(context: Context, intent: Intent) {
                    if (intent.action == Intent.ACTION_SCREEN_OFF) OverlayFallback.onScreenOff(context)
                }
            }
            // SCREEN_OFF reaches receivers registered at run time only; it comes from the system.
            val filter = IntentFilter(Intent.ACTION_SCREEN_OFF)
            if (Build.VERSION.SDK_INT >= 33) {
                registerReceiver(receiver, filter, Context.RECEIVER_NOT_EXPORTED)
            } else {
                registerReceiver(receiver, filter)
            }
            screenOff = receiver
        }
        if (intent == null) {
            // Restarted after the process died: the core says whether the lock still holds.
            val d = Shell.deps(this)
            d.scope.launch { runCatching { Shell.refresh(this@OverlayService) } }
        } else {
            OverlayFallback.held(this)
        }
        return START_STICKY
    }

    override fun onDestroy() {
        screenOff?.let { runCatching { unregisterReceiver(it) } }
        screenOff = null
        OverlayFallback.released(this)
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
