package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.SharedPreferences
import android.content.pm.ApplicationInfo
import android.content.pm.PackageManager
import android.content.Intent
import android.os.UserManager
import android.provider.Telephony
import android.telecom.TelecomManager
import android.view.inputmethod.InputMethodManager
import org.finlock.core.Level

/**
 * Applies and lifts Device Owner enforcement, in two layers:
 *
 * - **Anti-tamper** ([protect]), from enrollment until release whatever the account's
 *   standing: no factory reset from Settings, no safe mode, no new users, no debugging in a
 *   release build, no uninstall, no "force stop"/"clear data" on this app. A financed phone
 *   that could be reset while in good standing would lose its Device Owner (ADR 0009). Cleared,
 *   every one, only at release ([releaseAll]).
 * - **Lock task** ([engage]/[disengage]), at the core's `Restricted` and `Locked` levels:
 *   lock task with the level's home (the restricted home, or the lock screen) as HOME and the
 *   level's allowlist ([allowedPackages]). What was set before (lock-task packages and
 *   features) is saved first and restored exactly when the level drops below restricted.
 *
 * Nothing here decides *whether* to restrict or lock — the core did.
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
     * The packages usable in lock task at [level] ([Level.RESTRICTED] or [Level.LOCKED]):
     *
     * - **base**, at both: ours, the *system* dialer (and Telecom's own screens: incoming and
     *   outgoing calls), cell broadcasts, the *system* input methods, the SIM toolkit (mobile
     *   money by USSD), and what the OEM configuration adds;
     * - **restricted** adds the default SMS app when it came with the system image, the
     *   lender's [LevelApps.paymentApps] and [LevelApps.essentials];
     * - **locked** adds the [LevelApps.paymentApps] (the lock screen offers them).
     *
     * Never an app the user chose as default dialer or launcher (it would run with all its
     * activities inside lock task), never Settings, whatever the lender or the OEM lists.
     * Emergency calls need none of them:
     * [LOCK_TASK_FEATURE_KEYGUARD][DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD] lets the
     * emergency dialer through.
     */
    fun allowedPackages(level: Level = Level.LOCKED, apps: LevelApps = LevelApps.NONE): List<String> {
        val telecom = context.getSystemService(TelecomManager::class.java)
        val oem = context.resources.getStringArray(R.array.oem_lock_task_packages).toList()
        val base = listOf(context.packageName, telecom?.systemDialerPackage, TELECOM_PACKAGE) +
            CELL_BROADCAST + systemInputMethods() + SIM_TOOLKIT + oem
        val extra = when (level) {
            Level.RESTRICTED -> listOf(systemSmsApp()) + apps.paymentApps + apps.essentials
            Level.LOCKED -> apps.paymentApps
            Level.NORMAL, Level.NOTICE -> emptyList()
        }
        val never = NEVER_ALLOWED + userLauncher()
        return (base + extra)
            .filterNotNull()
            .filter { it.isNotBlank() && it !in never }
            .distinct()
    }

    /** The default SMS app, when it came with the system image (a user-installed one never). */
    private fun systemSmsApp(): String? {
        val sms = runCatching { Telephony.Sms.getDefaultSmsPackage(context) }.getOrNull() ?: return null
        return sms.takeIf { isSystemApp(it) }
    }

    private fun isSystemApp(pkg: String): Boolean = runCatching {
        context.packageManager.getApplicationInfo(pkg, 0).flags and ApplicationInfo.FLAG_SYSTEM != 0
    }.getOrDefault(false)

    /**
     * The launcher HOME resolves to, when it is not ours: a lender listing it by mistake would
     * put the user's whole home screen inside lock task.
     */
    private fun userLauncher(): Set<String> {
        val home = Intent(Intent.ACTION_MAIN).addCategory(Intent.CATEGORY_HOME)
        val pkg = runCatching {
            context.packageManager.resolveActivity(home, PackageManager.MATCH_DEFAULT_ONLY)?.activityInfo?.packageName
        }.getOrNull()
        return setOfNotNull(pkg?.takeIf { it != context.packageName && it != "android" })
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

    /**
     * Lock task at [level] ([Level.RESTRICTED] or [Level.LOCKED]; idempotent, and moving
     * between the two only changes the allowlist, the features and HOME). Returns false
     * without Device Owner.
     */
    fun engage(level: Level = Level.LOCKED, apps: LevelApps = LevelApps.NONE): Boolean {
        require(level == Level.RESTRICTED || level == Level.LOCKED) { "lock task is for restricted and locked" }
        if (!dpm.isDeviceOwner()) return false
        if (!engaged) {
            prefs.edit()
                .putString(KEY_PACKAGES, dpm.lockTaskPackages().joinToString("\n"))
                .putInt(KEY_FEATURES, dpm.lockTaskFeatures())
                .putBoolean(KEY_ENGAGED, true)
                .commit()
        }
        protect()
        dpm.setLockTaskPackages(allowedPackages(level, apps))
        dpm.setLockTaskFeatures(if (level == Level.RESTRICTED) RESTRICTED_FEATURES else LOCKED_FEATURES)
        // The other level's HOME off first: two enabled HOME aliases would ask the user.
        setHomeAlias(otherHome(level), false)
        setHomeAlias(homeAlias(level), true)
        // The component with the HOME filter: the platform matches a persistent preferred
        // activity against the resolved HOME activities by the component's own name, and an
        // alias resolves under the alias's name, not its target's.
        dpm.setPersistentHome(homeComponent(context, level))
        prefs.edit().putString(KEY_LEVEL, level.name).commit()
        return true
    }

    /** The level lock task was engaged at (null: not engaged). */
    val engagedLevel: Level?
        get() = if (!engaged) null else prefs.getString(KEY_LEVEL, null)?.let { runCatching { Level.valueOf(it) }.getOrNull() } ?: Level.LOCKED

    /** Restores exactly what was there before [engage] (no-op when not engaged). Anti-tamper stays. */
    fun disengage() {
        if (!engaged || !dpm.isDeviceOwner()) return
        dpm.clearPersistentHome()
        setHomeAlias(HOME_ALIAS, false)
        setHomeAlias(RESTRICTED_HOME_ALIAS, false)
        // Restrictions an earlier version added for the lock only, minus the anti-tamper ones.
        val added = prefs.getStringSet(KEY_ADDED, emptySet()).orEmpty()
        added.filter { it !in ANTI_TAMPER_RESTRICTIONS && it !in RELEASE_BUILD_RESTRICTIONS }
            .forEach(dpm::clearUserRestriction)
        dpm.setLockTaskFeatures(prefs.getInt(KEY_FEATURES, 0))
        dpm.setLockTaskPackages(
            prefs.getString(KEY_PACKAGES, "").orEmpty().split("\n").filter { it.isNotEmpty() },
        )
        prefs.edit().remove(KEY_PACKAGES).remove(KEY_FEATURES).remove(KEY_ADDED).remove(KEY_LEVEL)
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

    private fun setHomeAlias(alias: String, enabled: Boolean) {
        val state = if (enabled) {
            PackageManager.COMPONENT_ENABLED_STATE_ENABLED
        } else {
            PackageManager.COMPONENT_ENABLED_STATE_DISABLED
        }
        context.packageManager.setComponentEnabledSetting(
            ComponentName(context, alias),
            state,
            PackageManager.DONT_KILL_APP,
        )
    }

    companion object {
        /** HOME while locked: the lock screen. */
        const val HOME_ALIAS = "org.finlock.app.LockHome"

        /** HOME while restricted: the restricted home. */
        const val RESTRICTED_HOME_ALIAS = "org.finlock.app.RestrictedHome"

        fun homeAlias(level: Level) = if (level == Level.RESTRICTED) RESTRICTED_HOME_ALIAS else HOME_ALIAS

        private fun otherHome(level: Level) = if (level == Level.RESTRICTED) HOME_ALIAS else RESTRICTED_HOME_ALIAS

        /** Telecom's own screens (call confirmations), part of the platform. */
        const val TELECOM_PACKAGE = "com.android.server.telecom"
        val CELL_BROADCAST = listOf("com.android.cellbroadcastreceiver", "com.google.android.cellbroadcastreceiver")
        val SIM_TOOLKIT = listOf("com.android.stk")
        val NEVER_ALLOWED = setOf("com.android.settings")
        private const val KEY_ENGAGED = "lockdown.engaged"
        private const val KEY_PACKAGES = "lockdown.saved_packages"
        private const val KEY_FEATURES = "lockdown.saved_features"
        private const val KEY_ADDED = "lockdown.added_restrictions"
        private const val KEY_LEVEL = "lockdown.level"

        /** The persistent preferred HOME activity at [level]: the alias that carries the HOME filter. */
        fun homeComponent(context: Context, level: Level = Level.LOCKED) =
            ComponentName(context.packageName, homeAlias(level))
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

/**
 * Lock-task features while restricted: as locked, plus the home button (back to the restricted
 * home from a payment app or a call) and notifications (an SMS or a payment app's confirmation
 * arrives as one; only allowlisted apps can be opened from them).
 */
const val RESTRICTED_FEATURES =
    LOCKED_FEATURES or
        DevicePolicyManager.LOCK_TASK_FEATURE_HOME or
        DevicePolicyManager.LOCK_TASK_FEATURE_NOTIFICATIONS

/**
 * The apps the lender's entitlement names for the levels (package names), from the core's
 * notice page: [paymentApps] usable when restricted and when locked, [essentials] when
 * restricted.
 */
data class LevelApps(val paymentApps: List<String>, val essentials: List<String>) {
    companion object {
        val NONE = LevelApps(emptyList(), emptyList())
        private const val KEY_PAYMENT = "levels.payment_apps"
        private const val KEY_ESSENTIALS = "levels.essentials"

        /** Kept for a decision applied without reading the core (on the main thread). */
        fun save(context: Context, apps: LevelApps) {
            Prefs.of(context).edit()
                .putString(KEY_PAYMENT, apps.paymentApps.joinToString("\n"))
                .putString(KEY_ESSENTIALS, apps.essentials.joinToString("\n"))
                .commit()
        }

        /** The apps applied last (none before the first). */
        fun saved(context: Context): LevelApps {
            val prefs = Prefs.of(context)
            fun list(key: String) = prefs.getString(key, "").orEmpty().split("\n").filter { it.isNotEmpty() }
            return LevelApps(list(KEY_PAYMENT), list(KEY_ESSENTIALS))
        }
    }
}
