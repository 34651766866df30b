package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.os.Build
import android.os.UserManager
import android.security.keystore.KeyGenParameterSpec

/** The real [DpmGateway]: DevicePolicyManager as this app's device admin ([AdminReceiver]). */
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
        val filter = IntentFilter(Intent.ACTION_MAIN).apply {
            addCategory(Intent.CATEGORY_HOME)
            addCategory(Intent.CATEGORY_DEFAULT)
        }
        dpm.addPersistentPreferredActivity(admin, filter, activity)
    }

    override fun clearPersistentHome() =
        dpm.clearPackagePersistentPreferredActivities(admin, context.packageName)

    override fun setUserControlDisabledPackages(packages: List<String>) {
        if (Build.VERSION.SDK_INT >= 30) dpm.setUserControlDisabledPackages(admin, packages)
    }

    override fun userControlDisabledPackages(): List<String> =
        if (Build.VERSION.SDK_INT >= 30) dpm.getUserControlDisabledPackages(admin) else emptyList()

    override fun grantOwnPermission(permission: String): Boolean {
        val set = runCatching {
            dpm.setPermissionGrantState(
                admin,
                context.packageName,
                permission,
                DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED,
            )
        }.getOrDefault(false)
        return set || context.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED
    }

    override fun isDeviceFinanced(): Boolean =
        Build.VERSION.SDK_INT >= 34 && runCatching { dpm.isDeviceFinanced }.getOrDefault(false)

    override fun clearDeviceOwner() {
        @Suppress("DEPRECATION")
        dpm.clearDeviceOwnerApp(context.packageName)
    }

    override fun isDeviceIdAttestationSupported(): Boolean = when {
        Build.VERSION.SDK_INT >= 30 -> dpm.isDeviceIdAttestationSupported
        Build.VERSION.SDK_INT >= 29 ->
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_DEVICE_ID_ATTESTATION)
        else -> true
    }

    override fun generateAttestedKey(algorithm: String, spec: KeyGenParameterSpec, idAttestationFlags: Int): AttestedKey? {
        val generated = dpm.generateKeyPair(admin, algorithm, spec, idAttestationFlags) ?: return null
        val key = generated.keyPair?.private ?: return null
        // Null or empty when the Keystore gave no valid chain.
        val chain = generated.attestationRecord.orEmpty().map { it.encoded }
        return if (chain.isEmpty()) null else AttestedKey(key, chain)
    }

    override fun removeKeyPair(alias: String): Boolean = dpm.removeKeyPair(admin, alias)
}
