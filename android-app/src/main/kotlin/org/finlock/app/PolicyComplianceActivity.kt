package org.finlock.app

import android.app.Activity
import android.content.Intent
import android.os.Bundle

/**
 * The hand-off from provisioning to the enrollment screen: `ADMIN_POLICY_COMPLIANCE`
 * (Android 10+) and `PROVISIONING_SUCCESSFUL` (the Android 9 path). It keeps the bundle as an
 * [UnfinishedSetup] (so a setup left unfinished can be resumed) and opens the
 * enrollment screen, which shows the disclosure and only then talks to the lender.
 * Provisioning itself always succeeds: an unfinished enrollment must not fail the setup.
 */
class PolicyComplianceActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        if (savedInstanceState != null) return // the enrollment screen is already open
        if (!EnrollmentHandoff.claim()) {
            setResult(RESULT_OK)
            finish()
            return
        }
        UnfinishedSetup.keep(this, ProvisioningBundle.from(ProvisioningBundle.adminExtras(intent)))
        startActivityForResult(EnrollmentActivity.intent(this, ProvisioningBundle.adminExtras(intent)), REQUEST_ENROLL)
    }

    @Deprecated("Activity results: framework API, no AndroidX")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (requestCode == REQUEST_ENROLL) {
            setResult(RESULT_OK)
            finish()
        }
    }

    companion object {
        const val REQUEST_ENROLL = 1
    }
}
