package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.util.Log

/**
 * The UnifiedPush connector's messaging receiver. Exported, as the spec requires (the
 * distributor is another app), so anyone can send to it: every intent must carry this app's
 * registration token, a random secret only the chosen distributor was given, or it is ignored.
 * Even a forged one that got through could do no more than one extra check-in per window.
 */
class PushReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val action = intent.action ?: return
        if (action !in HANDLED) return
        if (!UnifiedPush.isOurs(context, intent)) {
            Log.w("finlock", "push: a broadcast without our token; ignored")
            return
        }
        when (action) {
            UnifiedPush.ACTION_NEW_ENDPOINT -> {
                val endpoint = intent.getStringExtra(UnifiedPush.EXTRA_ENDPOINT) ?: return
                val id = intent.getStringExtra(UnifiedPush.EXTRA_ID)
                runInBackground(context) {
                    UnifiedPush.reportEndpoint(context, endpoint)
                    if (id != null) UnifiedPush.acknowledge(context, id)
                }
            }
            UnifiedPush.ACTION_MESSAGE -> {
                // The content (`bytesMessage`) is never read: a push means "check in now", nothing else.
                val id = intent.getStringExtra(UnifiedPush.EXTRA_ID)
                runInBackground(context) {
                    if (id != null) UnifiedPush.acknowledge(context, id)
                    UnifiedPush.onMessage(context)
                }
            }
            UnifiedPush.ACTION_UNREGISTERED, UnifiedPush.ACTION_REGISTRATION_FAILED -> {
                runInBackground(context) {
                    UnifiedPush.forget(context)
                    UnifiedPush.reportEndpoint(context, "")
                }
            }
        }
    }

    companion object {
        val HANDLED = setOf(
            UnifiedPush.ACTION_NEW_ENDPOINT,
            UnifiedPush.ACTION_MESSAGE,
            UnifiedPush.ACTION_UNREGISTERED,
            UnifiedPush.ACTION_REGISTRATION_FAILED,
        )
    }
}
