package org.finlock.app

import android.content.Context
import android.content.Intent
import android.os.Build

/**
 * Android 9 sends both `PROVISIONING_SUCCESSFUL` (to [PolicyComplianceActivity]) and the
 * `PROFILE_PROVISIONING_COMPLETE` broadcast: whichever arrives first opens the enrollment
 * screen, once per process.
 */
object EnrollmentHandoff {
    @Volatile
    private var claimed = false

    @Synchronized
    fun claim(): Boolean {
        if (claimed) return false
        claimed = true
        return true
    }

    /** For tests: a new provisioning. */
    @Synchronized
    fun reset() {
        claimed = false
    }

    /** The broadcast path (Android 9): may start an activity from the background there. */
    fun onProvisioningComplete(context: Context, intent: Intent) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) return // the activities handle it
        if (!claim()) return
        UnfinishedSetup.keep(context, ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent)))
        context.startActivity(
            EnrollmentActivity.intent(context, ProvisioningBundle.adminExtras(intent))
                .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
        )
    }
}
