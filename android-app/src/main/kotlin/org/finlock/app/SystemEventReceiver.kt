package org.finlock.app

import android.app.AlarmManager
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/**
 * Boot (direct-boot aware: LOCKED_BOOT_COMPLETED runs before the user unlocks), app update,
 * and clock or time-zone changes: tell the core and restore its decision at once. After
 * BOOT_COMPLETED, an enrollment left unfinished is announced again ([UnfinishedSetup]). When the
 * user allows exact alarms (Android 12+), the next wakeup is armed again, exactly.
 */
class SystemEventReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val clockChanged = intent.action in CLOCK_EVENTS
        if (intent.action == AlarmManager.ACTION_SCHEDULE_EXACT_ALARM_PERMISSION_STATE_CHANGED) {
            // Exact alarms newly allowed: arm the deadline exactly now, not at the next event.
            runInBackground(context) { Shell.armNextWakeup(context) }
            return
        }
        if (intent.action !in HANDLED) return
        runInBackground(context) {
            val decision = Shell.refresh(context, clockChanged = clockChanged)
            // Once the user can act (not before unlock): an unfinished enrollment's notice.
            if (intent.action == Intent.ACTION_BOOT_COMPLETED) {
                UnfinishedSetup.afterBoot(context, enrolled = decision != null)
            }
            // A distributor may have been installed, removed or updated meanwhile.
            if (decision != null && intent.action in PUSH_SYNC) UnifiedPush.sync(context)
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

        /** When the push registration is brought up to date (not before the user unlocks). */
        val PUSH_SYNC = setOf(Intent.ACTION_BOOT_COMPLETED, Intent.ACTION_MY_PACKAGE_REPLACED)
    }
}
