package org.finlock.app

import android.app.Activity
import android.os.Bundle

/** The one-time "paid in full" notice. */
class ReleasedActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        showPage(R.string.released_title, R.string.released_title to R.string.released_text)
    }
}
