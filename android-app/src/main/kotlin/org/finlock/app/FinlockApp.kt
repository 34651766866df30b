package org.finlock.app

import android.app.Application
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build

/**
 * The application: notification channels, the overlay fallback's lifecycle feed, and the
 * screen-unlock listener that brings up the notice page ([NoticeActivity.onUserPresent]).
 *
 * ACTION_USER_PRESENT reaches only receivers registered at run time (a manifest receiver does
 * not get it since Android 8), so it is registered here, for as long as the process lives. An
 * unlock while the process is not running is missed; the process starts again at the next
 * alarm, check-in, push or boot. Missing one delays a restriction, never skips the notice: the
 * core holds restricted and locked until a display has been recorded long enough ago.
 */
class FinlockApp : Application() {
    override fun onCreate() {
        super.onCreate()
        Reminders.createChannels(this)
        OverlayFallback.attach(this)
        val unlocks = object : BroadcastReceiver() {
            override fun onReceive(context: Context, intent: Intent) {
                if (intent.action == Intent.ACTION_USER_PRESENT) NoticeActivity.onUserPresent(context)
            }
        }
        val filter = IntentFilter(Intent.ACTION_USER_PRESENT)
        if (Build.VERSION.SDK_INT >= 33) {
            registerReceiver(unlocks, filter, Context.RECEIVER_NOT_EXPORTED)
        } else {
            registerReceiver(unlocks, filter)
        }
    }
}
