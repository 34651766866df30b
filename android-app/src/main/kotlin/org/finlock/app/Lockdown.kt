package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.SharedPreferences
import android.content.pm.PackageManager
import android.os.UserManager
import android.provider.Settings
import android.telecom.TelecomManager

/**
 * Applies and lifts Device Owner enforcement. What was set before a lock (lock-task
 * packages and features, user restrictions) is saved first and restored exactly on unlock;
 * nothing here decides *whether* to lock — the core did.
 */
class Lockdown(
    private val context: Context,
    private val dpm: DpmGateway,
    private val prefs: SharedPreferences = Prefs.of(context),
) {
    val engaged: Boolean get() = prefs.getBoolean(KEY_ENGAGED, false)

    /** The packages usable in lock task: ours, the dialers, cell broadcasts, the keyboard,
     * the SIM toolkit (mobile money), and what the OEM configuration adds. Never Settings. */
    fun allowedPackages(): List<String> {
        val telecom = context.getSystemService(TelecomManager::class.java)
        val keyboard = Settings.Secure.getString(context.contentResolver, Settings.Secure.DEFAULT_INPUT_METHOD)
            ?.let { ComponentName.unflattenFromString(it)?.packageName }
        val oem = context.resources.getStringArray(R.array.oem_lock_task_packages).toList()
        return (
            listOf(context.packageName, telecom?.systemDialerPackage, telecom?.defaultDialerPackage) +
                CELL_BROADCAST + listOf(keyboard) + SIM_TOOLKIT + oem
            )
            .filterNotNull()
            .filter { it.isNotBlank() && it !in NEVER_ALLOWED }
            .distinct()
    }

    /** Locks the device down (idempotent). Returns false without Device Owner. */
    fun engage(): Boolean {
        if (!dpm.isDeviceOwner()) return false
        if (!engaged) {
            val before = dpm.userRestrictions()
            prefs.edit()
                .putString(KEY_PACKAGES, dpm.lockTaskPackages().joinToString("\n"))
                .putInt(KEY_FEATURES, dpm.lockTaskFeatures())
                .putStringSet(KEY_ADDED, LOCKED_RESTRICTIONS.filter { it !in before }.toSet())
                .putBoolean(KEY_ENGAGED, true)
                .commit()
        }
        dpm.setLockTaskPackages(allowedPackages())
        dpm.setLockTaskFeatures(LOCKED_FEATURES)
        LOCKED_RESTRICTIONS.forEach(dpm::addUserRestriction)
        dpm.setUninstallBlocked(true)
        setHomeAlias(true)
        dpm.setPersistentHome(ComponentName(context, LockActivity::class.java))
        return true
    }

    /** Restores exactly what was there before [engage] (no-op when not engaged). */
    fun disengage() {
        if (!engaged || !dpm.isDeviceOwner()) return
        dpm.clearPersistentHome()
        setHomeAlias(false)
        val added = prefs.getStringSet(KEY_ADDED, emptySet()).orEmpty()
        added.forEach(dpm::clearUserRestriction)
        dpm.setLockTaskFeatures(prefs.getInt(KEY_FEATURES, 0))
        dpm.setLockTaskPackages(
            prefs.getString(KEY_PACKAGES, "").orEmpty().split("\n").filter { it.isNotEmpty() },
        )
        prefs.edit().remove(KEY_PACKAGES).remove(KEY_FEATURES).remove(KEY_ADDED)
            .putBoolean(KEY_ENGAGED, false).commit()
    }

    /** Released for good: lift everything, unblock uninstall, give up device ownership. */
    fun releaseAll() {
        disengage()
        if (dpm.isDeviceOwner()) {
            dpm.setUninstallBlocked(false)
            dpm.clearDeviceOwner()
        }
    }

    private fun setHomeAlias(enabled: Boolean) {
        val state = if (enabled) {
            PackageManager.COMPONENT_ENABLED_STATE_ENABLED
        } else {
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED
        }
        context.packageManager.setComponentEnabledSetting(
            ComponentName(context, HOME_ALIAS),
            state,
            PackageManager.DONT_KILL_APP,
        )
    }

    companion object {
        const val HOME_ALIAS = "org.finlock.app.LockHome"
        val CELL_BROADCAST = listOf("com.android.cellbroadcastreceiver", "com.google.android.cellbroadcastreceiver")
        val SIM_TOOLKIT = listOf("com.android.stk")
        val NEVER_ALLOWED = setOf("com.android.settings")
        private const val KEY_ENGAGED = "lockdown.engaged"
        private const val KEY_PACKAGES = "lockdown.saved_packages"
        private const val KEY_FEATURES = "lockdown.saved_features"
        private const val KEY_ADDED = "lockdown.added_restrictions"
    }
}

/** The restrictions a locked device gets, on top of whatever was set before. */
val LOCKED_RESTRICTIONS = listOf(
    UserManager.DISALLOW_SAFE_BOOT,
    UserManager.DISALLOW_FACTORY_RESET,
    UserManager.DISALLOW_ADD_USER,
)

/** Lock-task features while locked: the power menu (emergency, power off) and the keyguard. */
const val LOCKED_FEATURES =
    DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD or DevicePolicyManager.LOCK_TASK_FEATURE_GLOBAL_ACTIONS
