package org.finlock.app

import android.content.ComponentName
import android.security.keystore.KeyGenParameterSpec
import java.security.PrivateKey

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

    /** Packages whose user control (force stop, clear storage) is disabled; no-op before Android 11. */
    fun setUserControlDisabledPackages(packages: List<String>)

    fun userControlDisabledPackages(): List<String>

    /**
     * Grants this app a runtime [permission] as the Device Owner (e.g. `POST_NOTIFICATIONS` at
     * enrollment). Returns whether the permission is granted afterwards.
     */
    fun grantOwnPermission(permission: String): Boolean

    /**
     * Android 14+: the phone is financed through the platform's own financed-device kiosk
     * (DeviceLock); its role holder wins lock task over any other device owner.
     */
    fun isDeviceFinanced(): Boolean

    /** Gives up device ownership (only on release). */
    fun clearDeviceOwner()

    /**
     * Whether this phone can put its identifiers (IMEI, serial) in a key's attestation:
     * `DevicePolicyManager.isDeviceIdAttestationSupported` on Android 11+, the
     * `device_id_attestation` feature on 10; on 9 nothing says, so true (the key generation
     * itself answers).
     */
    fun isDeviceIdAttestationSupported(): Boolean

    /**
     * `DevicePolicyManager.generateKeyPair` as this admin: a Keystore key made by [spec] (its
     * attestation challenge set), with the device identifiers [idAttestationFlags] names in
     * its attestation. Null when the platform answered no key or no chain. Throws as the
     * platform does: `UnsupportedOperationException` (no ID attestation here),
     * `SecurityException` (not the Device Owner), `IllegalArgumentException` (a bad spec),
     * `StrongBoxUnavailableException` / `ProviderException` (the Keystore refused).
     */
    fun generateAttestedKey(algorithm: String, spec: KeyGenParameterSpec, idAttestationFlags: Int): AttestedKey?

    /** Deletes the key generated under [alias] (`DevicePolicyManager.removeKeyPair`). */
    fun removeKeyPair(alias: String): Boolean
}

/** A key the Keystore made, and its attestation certificate chain (DER, leaf first). */
class AttestedKey(val privateKey: PrivateKey, val chain: List<ByteArray>)
