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
import android.provider.Settings
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

    /** The foreground was refused: the window stays without the service. */
    private var keepOverlay = false

    override fun onBind(intent: Intent?): IBinder? = null

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        Reminders.createChannels(this)
        val restarted = intent == null
        // Android 15 lets an app that holds "display over other apps" start a foreground service
        // from the background only while one of its overlay windows is visible. Started by
        // [OverlayFallback.engage] the window is already there; restarted by the system after
        // the process died (no window yet), it is added first — or, without the permission,
        // the service does not enter the foreground at all.
        if (restarted && !Settings.canDrawOverlays(this)) {
            stopSelf(startId)
            decideAgain()
            return START_NOT_STICKY
        }
        OverlayFallback.held(this)
        if (!enterForeground()) {
            // Refused (a background start the platform does not allow): the overlay window, if
            // shown, stays for as long as the process lives; the next decision tries again.
            keepOverlay = true
            stopSelf(startId)
            if (restarted) decideAgain()
            return START_NOT_STICKY
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
        if (restarted) decideAgain()
        return START_STICKY
    }

    /** Restarted after the process died: the core says whether the lock still holds
     * ([Shell.apply] stops this service if not). After the window is back, never before. */
    private fun decideAgain() {
        val d = Shell.deps(this)
        d.scope.launch { runCatching { Shell.refresh(this@OverlayService) } }
    }

    /** Whether the service is in the foreground now ([startForeground] may be refused). */
    private fun enterForeground(): Boolean = try {
        val notification = notification(this)
        if (Build.VERSION.SDK_INT >= 34) {
            startForeground(NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
        } else {
            startForeground(NOTIFICATION_ID, notification)
        }
        foregroundGuard?.invoke()
        true
    } catch (e: IllegalStateException) {
        // ForegroundServiceStartNotAllowedException (Android 12+) is an IllegalStateException.
        Log.w("finlock", "overlay service not in the foreground: ${e.javaClass.simpleName}")
        false
    } catch (e: SecurityException) {
        Log.w("finlock", "overlay service not in the foreground: ${e.javaClass.simpleName}")
        false
    }

    override fun onDestroy() {
        screenOff?.let { runCatching { unregisterReceiver(it) } }
        screenOff = null
        if (!keepOverlay) OverlayFallback.released(this)
        super.onDestroy()
    }

    companion object {
        const val NOTIFICATION_ID = 3

        /** Tests only: runs after `startForeground`, and may throw as a refusing platform would. */
        @Volatile
        var foregroundGuard: (() -> Unit)? = null

        /** Through [OverlayFallback.engage]. Returns false if the system refused. */
        fun start(context: Context): Boolean {
            val intent = Intent(context, OverlayService::class.java)
            return runCatching { context.startForegroundService(intent) }
                .onFailure { Log.w("finlock", "overlay service: ${it.javaClass.simpleName}") }
                .isSuccess
        }

        fun notification(context: Context): Notification = Notification.Builder(context, Reminders.CHANNEL_LOCK)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(
                context.getString(
                    if (OverlayFallback.level == org.finlock.core.Level.RESTRICTED) R.string.restricted_title else R.string.lock_title,
                ),
            )
            .setContentText(context.getString(R.string.enforcement_weaker))
            .setStyle(Notification.BigTextStyle().bigText(context.getString(R.string.enforcement_weaker)))
            .setOngoing(true)
            .setCategory(Notification.CATEGORY_STATUS)
            .setContentIntent(
                PendingIntent.getActivity(
                    context,
                    3,
                    OverlayFallback.home(context),
                    PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
                ),
            )
            .build()
    }
}
