// A stand-in for androidx.test, which Robolectric calls at run time (see
// androidx/test/runner/lifecycle/LifecycleMonitorStandIns.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.test.runner.intent

import android.app.Instrumentation
import android.content.Intent

interface IntentMonitor

interface IntentStubber {
    fun getActivityResultForIntent(intent: Intent): Instrumentation.ActivityResult?
}

object IntentMonitorRegistry {
    @JvmStatic
    fun registerInstance(m: IntentMonitor?) {}
}

object IntentStubberRegistry {
    @JvmStatic
    fun isLoaded(): Boolean = false

    @JvmStatic
    fun getInstance(): IntentStubber = error("no IntentStubber")
}
