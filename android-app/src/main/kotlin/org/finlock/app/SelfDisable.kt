package org.finlock.app

import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager

/** Released: every component but the notice is disabled; the app no longer runs. */
object SelfDisable {
    val KEEP = setOf(ReleasedActivity::class.java.name, DisclosureActivity::class.java.name)

    fun run(context: Context) {
        val pm = context.packageManager
        val info = pm.getPackageInfo(
            context.packageName,
            PackageManager.GET_ACTIVITIES or PackageManager.GET_RECEIVERS or
                PackageManager.GET_SERVICES or PackageManager.MATCH_DISABLED_COMPONENTS,
        )
        val names = listOf(info.activities, info.receivers, info.services).flatMap { list -> list.orEmpty().map { it.name } }
        for (name in names.filter { it !in KEEP }) {
            pm.setComponentEnabledSetting(
                ComponentName(context, name),
                PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
                PackageManager.DONT_KILL_APP,
            )
        }
    }
}
