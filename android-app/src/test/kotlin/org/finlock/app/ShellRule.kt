package org.finlock.app

import android.Manifest
import android.app.admin.DevicePolicyManager
import android.content.Context
import android.content.pm.ApplicationInfo
import kotlinx.coroutines.cancel
import kotlinx.coroutines.job
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.runBlocking
import org.finlock.core.Clock
import org.junit.rules.ExternalResource
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLog
import java.util.concurrent.Executor
import java.util.concurrent.ExecutorService

/**
 * The set-up and tear-down every Robolectric test of the shell shares:
 *
 *     @get:Rule
 *     val shell = ShellRule(core, deviceOwner = true)
 *
 * Before each test: no provisioning hand-off claimed yet, no clock offsets, no logs; this app
 * the device owner (as a phone provisioned by QR is) or not; with [debugBuild], a debuggable
 * app whose debug set-up ran as at a debug process start ([DebugSetup]); then the shell
 * installed over what [deps] builds (null: none, the test installs its own). After it,
 * nothing is left for the next test: no shell, no overlay window, no background work, no
 * hand-off, no clock offsets.
 */
class ShellRule(
    private val deviceOwner: Boolean = false,
    private val debugBuild: Boolean = false,
    private val deps: (Context) -> ShellDeps?,
) : ExternalResource() {
    /** The shell over [core]: the framework's DPM, the fixed clock, background work run inline. */
    constructor(core: CoreGateway, deviceOwner: Boolean = false, debugBuild: Boolean = false) :
        this(deviceOwner, debugBuild, { ShellDeps(core, FrameworkDpm(it), FIXED_CLOCK, Inline) })

    val context: Context get() = RuntimeEnvironment.getApplication()

    private var installed: ShellDeps? = null

    override fun before() {
        EnrollmentHandoff.reset()
        ClockOffsets.clear()
        ShadowLog.clear()
        val owner = if (deviceOwner) AdminReceiver.component(context) else null
        shadowOf(context.getSystemService(DevicePolicyManager::class.java)).setDeviceOwner(owner)
        // As on a phone where the user (or the Device Owner, at enrollment) allowed notices;
        // tests of the permission itself deny it first.
        shadowOf(RuntimeEnvironment.getApplication()).grantPermissions(Manifest.permission.POST_NOTIFICATIONS)
        if (debugBuild) {
            context.applicationInfo.flags = context.applicationInfo.flags or ApplicationInfo.FLAG_DEBUGGABLE
            Robolectric.setupContentProvider(DebugSetup::class.java)
        }
        installed = deps(context)
        Shell.install(installed)
    }

    override fun after() {
        OverlayFallback.hide(context)
        Shell.install(null)
        installed?.let {
            it.scope.cancel()
            (it.background as? ExecutorService)?.shutdown()
        }
        installed = null
        EnrollmentHandoff.reset()
        ClockOffsets.clear()
    }

    /** Waits until the shell's background coroutines are done (over a real executor, not [Inline]). */
    fun awaitBackground() {
        val scope = installed?.scope ?: return
        runBlocking { scope.coroutineContext.job.children.toList().joinAll() }
    }
}

/** Runs background work inline, so a test sees its result after idling the main looper. */
object Inline : Executor {
    override fun execute(command: Runnable) = command.run()
}

val FIXED_CLOCK = Clocks { Clock(FakeCore.NOW, 1_000_000L, 3L) }
