package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.content.Intent
import android.os.BaseBundle
import android.os.Build
import android.os.Parcelable
import android.os.PersistableBundle

/**
 * What the lender's provisioning QR (server/src/provisioning.rs) puts in
 * `PROVISIONING_ADMIN_EXTRAS_BUNDLE`. The shell keeps it only as an [UnfinishedSetup] until
 * enrollment is over; the core pins the server and keys when the user accepts the disclosure,
 * and validates them (a bad URL or key set is refused with a typed error and nothing is stored).
 */
data class ProvisioningBundle(
    val serverUrl: String,
    /** The lender's JWKS as a JSON string. */
    val lenderKeys: String,
    /** One-time: never logged, never put in a notification or an intent the shell builds. */
    val enrollmentCode: String?,
) {
    /** Without the enrollment code, should this ever reach a log. */
    override fun toString() =
        "ProvisioningBundle(serverUrl=$serverUrl, enrollmentCode=${if (enrollmentCode == null) "none" else "hidden"})"

    companion object {
        const val KEY_SERVER_URL = "finlock.server_url"
        const val KEY_LENDER_KEYS = "finlock.lender_keys"
        const val KEY_ENROLLMENT_CODE = "finlock.enrollment_code"

        /** The bundle's values, or null when the URL or the keys are missing (or not strings). */
        fun from(bundle: BaseBundle?): ProvisioningBundle? {
            if (bundle == null) return null
            // getString answers null for a value of another type: nothing is cast unchecked.
            val url = bundle.getString(KEY_SERVER_URL)?.trim()
            val keys = bundle.getString(KEY_LENDER_KEYS)?.trim()
            val code = bundle.getString(KEY_ENROLLMENT_CODE)?.trim()
            if (url.isNullOrEmpty() || keys.isNullOrEmpty()) return null
            return ProvisioningBundle(url, keys, code?.takeIf { it.isNotEmpty() })
        }

        /** The admin extras bundle an intent from the provisioning flow carries, if any. */
        fun adminExtras(intent: Intent?): PersistableBundle? {
            if (intent == null) return null
            val key = DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE
            return runCatching {
                if (Build.VERSION.SDK_INT >= 33) {
                    intent.getParcelableExtra(key, PersistableBundle::class.java)
                } else {
                    @Suppress("DEPRECATION")
                    intent.getParcelableExtra<Parcelable>(key) as? PersistableBundle
                }
            }.getOrNull()
        }
    }
}
