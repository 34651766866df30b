package org.finlock.app

import android.app.Activity
import android.os.Bundle

/** At enrollment and later from the app: what works while locked, what the lender can and
 * cannot see or do, what is restricted from enrollment until release (ADR 0009), how to get
 * released. Direct-boot aware: it reads nothing from the user's storage. */
class DisclosureActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        showPage(
            R.string.disclosure_title,
            R.string.disclosure_works_title to R.string.disclosure_works,
            R.string.disclosure_lender_title to R.string.disclosure_lender,
            R.string.disclosure_protect_title to R.string.disclosure_protect,
            R.string.disclosure_release_title to R.string.disclosure_release,
        )
    }
}
