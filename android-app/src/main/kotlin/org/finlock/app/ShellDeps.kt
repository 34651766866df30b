package org.finlock.app

import java.util.concurrent.Executor

/** What the shell is built from; tests install their own with [Shell.install]. */
class ShellDeps(
    val core: CoreGateway,
    val dpm: DpmGateway,
    val clocks: Clocks,
    /** Where core calls that may touch the disk or network run (never the main thread). */
    val background: Executor,
)
