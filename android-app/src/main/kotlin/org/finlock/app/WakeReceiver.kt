package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/** The one alarm the core asked for. */
class WakeReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Shell.ACTION_WAKE) return
        runInBackground(context) { Shell.onWake(context) }
    }
}
