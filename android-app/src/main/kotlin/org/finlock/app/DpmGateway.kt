package org.finlock.app

import android.content.ComponentName

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
