package org.finlock.app

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Intent
import android.os.Build
import android.os.Bundle

/**
 * Android 10+: the setup wizard asks which mode to provision. finlock is a fully managed
 * device's owner; the admin extras pass through untouched. On Android 12+ the request carries
 * the IMEI and serial number (the app holds no phone permission to read them itself): they
 * are kept with the unfinished setup for enrollment, which sends only their hashes.
 */
class ProvisioningModeActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val allowed = intent?.getIntegerArrayListExtra(DevicePolicyManager.EXTRA_PROVISIONING_ALLOWED_PROVISIONING_MODES)
        val mode = DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE
        if (allowed != null && mode !in allowed) {
            // A work profile only: finlock cannot protect a financed device that way.
            setResult(RESULT_CANCELED)
        } else {
            if (Build.VERSION.SDK_INT >= 31) {
                UnfinishedSetup.keepIdentifiers(
                    this,
                    intent?.getStringExtra(DevicePolicyManager.EXTRA_PROVISIONING_IMEI),
                    intent?.getStringExtra(DevicePolicyManager.EXTRA_PROVISIONING_SERIAL_NUMBER),
                )
            }
            val result = Intent().putExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, mode)
            ProvisioningBundle.adminExtras(intent)?.let {
                result.putExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, it)
            }
            setResult(RESULT_OK, result)
        }
        finish()
    }
}
