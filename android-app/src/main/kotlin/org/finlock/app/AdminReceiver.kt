package org.finlock.app

import android.app.admin.DeviceAdminReceiver
import android.content.ComponentName
import android.content.Context
import android.content.Intent

/** The device admin component (declared in the manifest with `@xml/device_admin`). */
class AdminReceiver : DeviceAdminReceiver() {
    /** Android 9's broadcast at the end of provisioning (Android 10+ uses the activities). */
    override fun onProfileProvisioningComplete(context: Context, intent: Intent) {
        EnrollmentHandoff.onProvisioningComplete(context, intent)
    }

    companion object {
        fun component(context: Context) = ComponentName(context, AdminReceiver::class.java)
    }
}
