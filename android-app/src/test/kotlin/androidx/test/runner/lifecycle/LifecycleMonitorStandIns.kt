// Stand-ins for the few androidx.test classes Robolectric 4.16 calls at run time. The real
// ones live only on Google Maven; these have exactly the members Robolectric's bytecode
// references (javap -c on robolectric-4.16.1.jar). Not an API for our tests: use
// Robolectric.buildActivity and the shadows.
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.test.runner.lifecycle

import android.app.Activity

enum class Stage { PRE_ON_CREATE, CREATED, STARTED, RESUMED, PAUSED, STOPPED, RESTARTED, DESTROYED }

enum class ApplicationStage { PRE_ON_CREATE, CREATED, STOPPED }

interface ActivityLifecycleMonitor {
    fun getActivitiesInStage(stage: Stage): Collection<Activity>
}

interface ApplicationLifecycleMonitor

object ActivityLifecycleMonitorRegistry {
    private var monitor: ActivityLifecycleMonitor? = null

    @JvmStatic
    fun getInstance(): ActivityLifecycleMonitor = monitor ?: error("no ActivityLifecycleMonitor")

    @JvmStatic
    fun registerInstance(m: ActivityLifecycleMonitor?) {
        monitor = m
    }
}

object ApplicationLifecycleMonitorRegistry {
    @JvmStatic
    fun registerInstance(m: ApplicationLifecycleMonitor?) {}
}
