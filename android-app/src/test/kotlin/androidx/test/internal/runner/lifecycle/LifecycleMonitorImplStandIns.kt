// A stand-in for androidx.test, which Robolectric calls at run time (see
// androidx/test/runner/lifecycle/LifecycleMonitorStandIns.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.test.internal.runner.lifecycle

import android.app.Activity
import android.app.Application
import androidx.test.runner.lifecycle.ActivityLifecycleMonitor
import androidx.test.runner.lifecycle.ApplicationLifecycleMonitor
import androidx.test.runner.lifecycle.ApplicationStage
import androidx.test.runner.lifecycle.Stage

class ActivityLifecycleMonitorImpl : ActivityLifecycleMonitor {
    private val stages = LinkedHashMap<Activity, Stage>()

    fun signalLifecycleChange(stage: Stage, activity: Activity) {
        if (stage == Stage.DESTROYED) stages.remove(activity) else stages[activity] = stage
    }

    override fun getActivitiesInStage(stage: Stage): Collection<Activity> =
        stages.filterValues { it == stage }.keys.toList()
}

class ApplicationLifecycleMonitorImpl : ApplicationLifecycleMonitor {
    fun signalLifecycleChange(app: Application, stage: ApplicationStage) {}
}
