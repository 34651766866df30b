// A stand-in for androidx.test, which Robolectric calls at run time (see
// androidx/test/runner/lifecycle/LifecycleMonitorStandIns.kt).
@file:Suppress("unused")

package androidx.test.platform.app

import android.app.Instrumentation
import android.os.Bundle

object InstrumentationRegistry {
    private var instrumentation: Instrumentation? = null

    @JvmStatic
    fun registerInstance(i: Instrumentation?, args: Bundle?) {
        instrumentation = i
    }

    @JvmStatic
    fun getInstrumentation(): Instrumentation = instrumentation ?: error("no Instrumentation")
}
