package org.finlock.app

import android.app.admin.DeviceAdminReceiver
import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.IntentFilter
import android.os.UserManager

/**
 * Every DevicePolicyManager call the shell makes, behind one small interface so tests can
 * see each one (the TestDPC habit). [FrameworkDpm] is the real one.
 */
interface DpmGateway {
    /** Whether this app is the device owner (without it, only the overlay fallback works). */
    fun isDeviceOwner(): Boolean

    fun lockTaskPackages(): List<String>

    fun setLockTaskPackages(packages: List<String>)

    fun lockTaskFeatures(): Int

    fun setLockTaskFeatures(flags: Int)

    fun userRestrictions(): Set<String>

    fun addUserRestriction(key: String)

    fun clearUserRestriction(key: String)

    fun isUninstallBlocked(): Boolean

    fun setUninstallBlocked(blocked: Boolean)

    /** Makes [activity] the HOME activity, whatever launcher the user chose. */
    fun setPersistentHome(activity: ComponentName)

    fun clearPersistentHome()

    /** Gives up device ownership (only on release). */
    fun clearDeviceOwner()
}

/** The device admin component (declared in the manifest with `@xml/device_admin`). */
class AdminReceiver : DeviceAdminReceiver() {
    /** Android 9's broadcast at the end of provisioning (Android 10+ uses the activities). */
    override fun onProfileProvisioningComplete(context: Context, intent: android.content.Intent) {
        EnrollmentHandoff.onProvisioningComplete(context, intent)
    }

    companion object {
        fun component(context: Context) = ComponentName(context, AdminReceiver::class.java)
    }
}

class FrameworkDpm(private val context: Context) : DpmGateway {
    private val dpm = context.getSystemService(DevicePolicyManager::class.java)
    private val admin = AdminReceiver.component(context)

    override fun isDeviceOwner() = dpm.isDeviceOwnerApp(context.packageName)

    override fun lockTaskPackages(): List<String> = dpm.getLockTaskPackages(admin).toList()

    override fun setLockTaskPackages(packages: List<String>) =
        dpm.setLockTaskPackages(admin, packages.toTypedArray())

    override fun lockTaskFeatures() = dpm.getLockTaskFeatures(admin)

    override fun setLockTaskFeatures(flags: Int) = dpm.setLockTaskFeatures(admin, flags)

    override fun userRestrictions(): Set<String> {
        // The restrictions in force for this user (ours and any other admin's).
        val bundle = context.getSystemService(UserManager::class.java).userRestrictions
        return bundle.keySet().filter { bundle.getBoolean(it) }.toSet()
    }

    override fun addUserRestriction(key: String) = dpm.addUserRestriction(admin, key)

    override fun clearUserRestriction(key: String) = dpm.clearUserRestriction(admin, key)

    override fun isUninstallBlocked() = dpm.isUninstallBlocked(admin, context.packageName)

    override fun setUninstallBlocked(blocked: Boolean) =
        dpm.setUninstallBlocked(admin, context.packageName, blocked)

    override fun setPersistentHome(activity: ComponentName) {
        val filter = IntentFilter(android.content.Intent.ACTION_MAIN).apply {
            addCategory(android.content.Intent.CATEGORY_HOME)
            addCategory(android.content.Intent.CATEGORY_DEFAULT)
        }
        dpm.addPersistentPreferredActivity(admin, filter, activity)
    }

    override fun clearPersistentHome() =
        dpm.clearPackagePersistentPreferredActivities(admin, context.packageName)

    override fun clearDeviceOwner() {
        @Suppress("DEPRECATION")
        dpm.clearDeviceOwnerApp(context.packageName)
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
