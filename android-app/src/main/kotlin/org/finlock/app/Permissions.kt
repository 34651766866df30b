package org.finlock.app

import android.Manifest
import android.app.Activity
import android.app.AlarmManager
import android.app.NotificationManager
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Build
import android.provider.Settings

/**
 * The two permissions the shell's notices and deadlines depend on:
 *
 * - `POST_NOTIFICATIONS` (Android 13+, a runtime permission): the Device Owner grants it to
 *   itself from enrollment on ([grantAsOwner]); without Device Owner the app asks ([request]).
 * - `SCHEDULE_EXACT_ALARM` (an app op, not pre-granted on Android 14+ to apps targeting 13+):
 *   a Device Owner cannot grant it, so the app opens the system's page for it once ([request]);
 *   an OEM image can exempt the app instead (docs/OEM.md). Without it the deadline alarm is
 *   inexact; when the user grants it, [SystemEventReceiver] arms the exact one at once.
 */
object Permissions {
    const val REQUEST_NOTIFICATIONS = 7
    private const val KEY_ASKED_EXACT_ALARMS = "permissions.asked_exact_alarms"
    private const val KEY_ASKED_NOTIFICATIONS = "permissions.asked_notifications"

    /** Device Owner, Android 13+: grants itself the notification permission (idempotent). */
    fun grantAsOwner(context: Context, dpm: DpmGateway) {
        if (Build.VERSION.SDK_INT >= 33 && dpm.isDeviceOwner() && !notificationPermission(context)) {
            dpm.grantOwnPermission(Manifest.permission.POST_NOTIFICATIONS)
        }
    }

    private fun notificationPermission(context: Context) = Build.VERSION.SDK_INT < 33 ||
        context.checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) == PackageManager.PERMISSION_GRANTED

    /** Whether a notification posted now would be shown (permission and app-level switch). */
    fun canPostNotifications(context: Context): Boolean =
        notificationPermission(context) &&
            context.getSystemService(NotificationManager::class.java)?.areNotificationsEnabled() == true

    fun canScheduleExactAlarms(context: Context): Boolean =
        Build.VERSION.SDK_INT < 31 || context.getSystemService(AlarmManager::class.java).canScheduleExactAlarms()

    /**
     * From a screen the user is looking at (the account screen, the end of enrollment): asks,
     * once each, for what is missing — the notification permission (the system's dialog) and
     * the exact-alarm page. Never again on every visit: a user who said no is not nagged.
     */
    fun request(activity: Activity) {
        val prefs = Prefs.of(activity)
        if (Build.VERSION.SDK_INT >= 33 && !notificationPermission(activity) &&
            !prefs.getBoolean(KEY_ASKED_NOTIFICATIONS, false)
        ) {
            prefs.edit().putBoolean(KEY_ASKED_NOTIFICATIONS, true).apply()
            activity.requestPermissions(arrayOf(Manifest.permission.POST_NOTIFICATIONS), REQUEST_NOTIFICATIONS)
        }
        if (Build.VERSION.SDK_INT >= 31 && !canScheduleExactAlarms(activity) &&
            !prefs.getBoolean(KEY_ASKED_EXACT_ALARMS, false)
        ) {
            prefs.edit().putBoolean(KEY_ASKED_EXACT_ALARMS, true).apply()
            SafeLaunch.start(
                activity,
                Intent(Settings.ACTION_REQUEST_SCHEDULE_EXACT_ALARM, Uri.fromParts("package", activity.packageName, null)),
            )
        }
    }
}
