// A stand-in for androidx.test, which Robolectric calls at run time (see
// androidx/test/runner/lifecycle/LifecycleMonitorStandIns.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.test.internal.runner.intent

import android.content.Intent
import androidx.test.runner.intent.IntentMonitor

class IntentMonitorImpl : IntentMonitor {
    fun signalIntent(intent: Intent) {}
}
