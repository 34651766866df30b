package org.finlock.app

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.widget.Button
import android.widget.LinearLayout

/**
 * The apps a level lets the user open (the lender's payment apps, its essentials, the phone
 * and messages), as buttons: only those installed and launchable, each named by its own
 * label. Which packages is not decided here (the core's notice page names them, [Lockdown]
 * allowlists them); this only shows them.
 */
object AllowedApps {
    /** One app to offer: its package, label and launch intent. */
    class App(val packageName: String, val label: String, val launch: Intent)

    /** The installed, launchable apps among [packages], in order, each once. */
    fun installed(context: Context, packages: List<String>): List<App> {
        val pm = context.packageManager
        return packages.distinct().mapNotNull { pkg ->
            val launch = runCatching { pm.getLaunchIntentForPackage(pkg) }.getOrNull() ?: return@mapNotNull null
            val label = runCatching {
                pm.getApplicationLabel(pm.getApplicationInfo(pkg, 0)).toString()
            }.getOrElse { if (it is PackageManager.NameNotFoundException) return@mapNotNull null else pkg }
            App(pkg, label.ifBlank { pkg }, launch.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
        }
    }

    /**
     * Fills [container] with one button per installed app of [packages]; [leaving] runs before
     * one opens (the overlay fallback steps aside for another app). Returns how many.
     */
    fun fill(activity: Activity, container: LinearLayout, packages: List<String>, leaving: () -> Unit = {}): Int {
        container.removeAllViews()
        val apps = installed(activity, packages)
        for (app in apps) {
            val button = activity.layoutInflater.inflate(R.layout.item_app_button, container, false) as Button
            button.text = app.label
            button.contentDescription = activity.getString(R.string.open_app, app.label)
            button.tag = app.packageName
            button.setOnClickListener {
                leaving()
                SafeLaunch.start(activity, app.launch)
            }
            container.addView(button)
        }
        return apps.size
    }
}
