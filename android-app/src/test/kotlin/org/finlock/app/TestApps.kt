package org.finlock.app

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import org.robolectric.Shadows.shadowOf

/** Other apps on the test phone: installed, with a launcher entry, system or not. */
object TestApps {
    fun install(context: Context, pkg: String, label: String, system: Boolean = false) {
        val info = PackageInfo().apply {
            packageName = pkg
            applicationInfo = ApplicationInfo().apply {
                packageName = pkg
                nonLocalizedLabel = label
                flags = if (system) ApplicationInfo.FLAG_SYSTEM else 0
            }
        }
        val pm = shadowOf(context.packageManager)
        pm.installPackage(info)
        val main = ComponentName(pkg, "$pkg.Main")
        pm.addActivityIfNotPresent(main)
        pm.addIntentFilterForActivity(
            main,
            IntentFilter(Intent.ACTION_MAIN).apply { addCategory(Intent.CATEGORY_LAUNCHER) },
        )
    }

    /** A launcher the user installed and chose as HOME. */
    fun installLauncher(context: Context, pkg: String) {
        install(context, pkg, "Launcher")
        val pm = shadowOf(context.packageManager)
        val home = ComponentName(pkg, "$pkg.Home")
        pm.addActivityIfNotPresent(home)
        pm.addIntentFilterForActivity(
            home,
            IntentFilter(Intent.ACTION_MAIN).apply {
                addCategory(Intent.CATEGORY_HOME)
                addCategory(Intent.CATEGORY_DEFAULT)
            },
        )
    }
}
