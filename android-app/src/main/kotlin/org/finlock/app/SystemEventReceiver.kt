package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/**
 * Boot (direct-boot aware: LOCKED_BOOT_COMPLETED runs before the user unlocks), app update,
 * and clock or time-zone changes: tell the core and restore its decision at once. After
 * BOOT_COMPLETED, an enrollment left unfinished is announced again ([UnfinishedSetup]).
 */
class SystemEventReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val clockChanged = intent.action in CLOCK_EVENTS
        if (intent.action !in HANDLED) return
        runInBackground(context) {
            val decision = Shell.refresh(context, clockChanged = clockChanged)
            // Once the user can act (not before unlock): an unfinished enrollment's notice.
            if (intent.action == Intent.ACTION_BOOT_COMPLETED) {
                UnfinishedSetup.afterBoot(context, enrolled = decision != null)
            }
        }
    }

    companion object {
        val CLOCK_EVENTS = setOf(
            Intent.ACTION_TIME_CHANGED,
            Intent.ACTION_TIMEZONE_CHANGED,
            Intent.ACTION_LOCKED_BOOT_COMPLETED,
            Intent.ACTION_BOOT_COMPLETED,
        )
        val HANDLED = CLOCK_EVENTS + Intent.ACTION_MY_PACKAGE_REPLACED
    }
}
