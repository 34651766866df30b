package org.finlock.app

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import java.util.concurrent.Executor

/** What the shell is built from; tests install their own with [Shell.install]. */
class ShellDeps(
    val core: CoreGateway,
    val dpm: DpmGateway,
    val clocks: Clocks,
    /** Where core calls that may touch the disk or network run (never the main thread). */
    val background: Executor,
) {
    /**
     * Coroutines on [background]: the core's suspending calls (check-in, enrollment) and the
     * work around them. A call suspended on the network holds no thread; it resumes on
     * [background]. One failed coroutine does not cancel the others.
     */
    val scope = CoroutineScope(SupervisorJob() + background.asCoroutineDispatcher())
}
