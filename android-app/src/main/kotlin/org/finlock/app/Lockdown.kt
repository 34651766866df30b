package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.SharedPreferences
import android.content.pm.ApplicationInfo
import android.content.pm.PackageManager
import android.os.UserManager
import android.telecom.TelecomManager
import android.view.inputmethod.InputMethodManager

/**
 * Applies and lifts Device Owner enforcement, in two layers:
 *
 * - **Anti-tamper** ([protect]), from enrollment until release whatever the account's
 *   standing: no factory reset from Settings, no safe mode, no new users, no debugging in a
 *   release build, no uninstall, no "force stop"/"clear data" on this app. A financed phone
 *   that could be reset while in good standing would lose its Device Owner (ADR 0009). Cleared,
 *   every one, only at release ([releaseAll]).
 * - **Lock** ([engage]/[disengage]): lock task with the lock screen as HOME. What was set
 *   before a lock (lock-task packages and features) is saved first and restored exactly on
 *   unlock.
 *
 * Nothing here decides *whether* to lock — the core did.
 */
class Lockdown(
    private val context: Context,
    private val dpm: DpmGateway,
    private val prefs: SharedPreferences = Prefs.of(context),
) {
    val engaged: Boolean get() = prefs.getBoolean(KEY_ENGAGED, false)

    /** The anti-tamper restrictions for this build: debugging stays possible in a debug build. */
    fun antiTamperRestrictions(): List<String> =
        if (context.isDebuggable) ANTI_TAMPER_RESTRICTIONS else ANTI_TAMPER_RESTRICTIONS + RELEASE_BUILD_RESTRICTIONS

    /**
     * The packages usable in lock task: ours, the *system* dialer (and Telecom's own screens),
     * cell broadcasts, the *system* input methods, the SIM toolkit (mobile money), and what the
     * OEM configuration adds. Never an app the user chose as default (it would run with all its
     * activities inside lock task), never Settings. Emergency calls need none of them:
     * [LOCK_TASK_FEATURE_KEYGUARD][DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD] lets the
     * emergency dialer through.
     */
    fun allowedPackages(): List<String> {
        val telecom = context.getSystemService(TelecomManager::class.java)
        val oem = context.resources.getStringArray(R.array.oem_lock_task_packages).toList()
        return (
            listOf(context.packageName, telecom?.systemDialerPackage, TELECOM_PACKAGE) +
                CELL_BROADCAST + systemInputMethods() + SIM_TOOLKIT + oem
            )
            .filterNotNull()
            .filter { it.isNotBlank() && it !in NEVER_ALLOWED }
            .distinct()
    }

    /** The input methods that came with the system image (not ones the user installed). */
    private fun systemInputMethods(): List<String> {
        val imm = context.getSystemService(InputMethodManager::class.java) ?: return emptyList()
        return imm.inputMethodList
            .filter { (it.serviceInfo?.applicationInfo?.flags ?: 0) and ApplicationInfo.FLAG_SYSTEM != 0 }
            .map { it.packageName }
    }

    /**
     * Anti-tamper, from enrollment until release (idempotent; applied again on every decision
     * so a boot or an app update restores it). Returns false without Device Owner.
     */
    fun protect(): Boolean {
        if (!dpm.isDeviceOwner()) return false
        antiTamperRestrictions().forEach(dpm::addUserRestriction)
        dpm.setUninstallBlocked(true)
        // No "force stop" or "clear storage" for this app from Settings (Android 11+).
        dpm.setUserControlDisabledPackages(listOf(context.packageName))
        return true
    }

    /** Locks the device down (idempotent). Returns false without Device Owner. */
    fun engage(): Boolean {
        if (!dpm.isDeviceOwner()) return false
        if (!engaged) {
            prefs.edit()
                .putString(KEY_PACKAGES, dpm.lockTaskPackages().joinToString("\n"))
                .putInt(KEY_FEATURES, dpm.lockTaskFeatures())
                .putBoolean(KEY_ENGAGED, true)
                .commit()
        }
        protect()
        dpm.setLockTaskPackages(allowedPackages())
        dpm.setLockTaskFeatures(LOCKED_FEATURES)
        setHomeAlias(true)
        // The component with the HOME filter: the platform matches a persistent preferred
        // activity against the resolved HOME activities by the component's own name, and an
        // alias resolves under the alias's name, not its target's.
        dpm.setPersistentHome(homeComponent(context))
        return true
    }

    /** Restores exactly what was there before [engage] (no-op when not engaged). Anti-tamper stays. */
    fun disengage() {
        if (!engaged || !dpm.isDeviceOwner()) return
        dpm.clearPersistentHome()
        setHomeAlias(false)
        // Restrictions an earlier version added for the lock only, minus the anti-tamper ones.
        val added = prefs.getStringSet(KEY_ADDED, emptySet()).orEmpty()
        added.filter { it !in ANTI_TAMPER_RESTRICTIONS && it !in RELEASE_BUILD_RESTRICTIONS }
            .forEach(dpm::clearUserRestriction)
        dpm.setLockTaskFeatures(prefs.getInt(KEY_FEATURES, 0))
        dpm.setLockTaskPackages(
            prefs.getString(KEY_PACKAGES, "").orEmpty().split("\n").filter { it.isNotEmpty() },
        )
        prefs.edit().remove(KEY_PACKAGES).remove(KEY_FEATURES).remove(KEY_ADDED)
            .putBoolean(KEY_ENGAGED, false).commit()
    }

    /**
     * Released for good: lift the lock and every anti-tamper restriction (debugging included,
     * whatever the build), unblock uninstall and force stop, give up device ownership.
     */
    fun releaseAll() {
        disengage()
        if (dpm.isDeviceOwner()) {
            (ANTI_TAMPER_RESTRICTIONS + RELEASE_BUILD_RESTRICTIONS).forEach(dpm::clearUserRestriction)
            dpm.setUserControlDisabledPackages(emptyList())
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

        /** Telecom's own screens (call confirmations), part of the platform. */
        const val TELECOM_PACKAGE = "com.android.server.telecom"
        val CELL_BROADCAST = listOf("com.android.cellbroadcastreceiver", "com.google.android.cellbroadcastreceiver")
        val SIM_TOOLKIT = listOf("com.android.stk")
        val NEVER_ALLOWED = setOf("com.android.settings")
        private const val KEY_ENGAGED = "lockdown.engaged"
        private const val KEY_PACKAGES = "lockdown.saved_packages"
        private const val KEY_FEATURES = "lockdown.saved_features"
        private const val KEY_ADDED = "lockdown.added_restrictions"

        /** The persistent preferred HOME activity: the alias that carries the HOME filter. */
        fun homeComponent(context: Context) = ComponentName(context.packageName, HOME_ALIAS)
    }
}

/**
 * From enrollment until release, in good standing as while locked (ADR 0009): a reset from
 * Settings would remove the Device Owner, safe mode would start the phone without it, another
 * user would be a phone without the lock.
 */
val ANTI_TAMPER_RESTRICTIONS = listOf(
    UserManager.DISALLOW_FACTORY_RESET,
    UserManager.DISALLOW_SAFE_BOOT,
    UserManager.DISALLOW_ADD_USER,
)

/** Release builds only: no USB debugging (adb could uninstall or reset). */
val RELEASE_BUILD_RESTRICTIONS = listOf(UserManager.DISALLOW_DEBUGGING_FEATURES)

/**
 * Lock-task features while locked: the status bar's system info (signal, battery, clock: the
 * locked user is asked to "check now"), the power menu (emergency, power off) and the keyguard.
 */
const val LOCKED_FEATURES =
    DevicePolicyManager.LOCK_TASK_FEATURE_SYSTEM_INFO or
        DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD or
        DevicePolicyManager.LOCK_TASK_FEATURE_GLOBAL_ACTIONS
