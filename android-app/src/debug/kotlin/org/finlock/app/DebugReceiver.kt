package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.util.Log

/**
 * Debug builds only (src/debug): drives the shell from adb. Protected by the DUMP
 * permission, which `adb shell` holds and apps do not. For example:
 *
 *     adb shell am broadcast -n org.finlock.app/.DebugReceiver -a org.finlock.app.debug.STATUS
 *
 * Actions: CHECK_IN, REFRESH, SHOW_LOCK, STATUS, PROVISION (extras `url`, `keys`),
 * CLOCK_CHANGED. Clock inputs are shifted with `adb shell date` / `cmd alarm`, then
 * CLOCK_CHANGED tells the core.
 */
class DebugReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val action = intent.action?.removePrefix(PREFIX) ?: return
        val d = Shell.deps(context)
        runInBackground(context) {
            when (action) {
                "CHECK_IN" -> Shell.apply(context, d.core.checkIn(true, d.clocks.now()))
                "REFRESH" -> Shell.refresh(context)
                "CLOCK_CHANGED" -> Shell.refresh(context, clockChanged = true)
                "SHOW_LOCK" -> context.startActivity(
                    Intent(context, LockActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
                )
                "PROVISION" -> d.core.provision(
                    intent.getStringExtra("url").orEmpty(),
                    intent.getStringExtra("keys").orEmpty(),
                    true,
                )
                "STATUS" -> Unit
                else -> Log.w(TAG, "unknown debug action $action")
            }
            Log.i(TAG, "status: ${d.core.status(d.clocks.now())}")
        }
    }

    companion object {
        const val PREFIX = "org.finlock.app.debug."
        const val TAG = "finlock-debug"
    }
}
