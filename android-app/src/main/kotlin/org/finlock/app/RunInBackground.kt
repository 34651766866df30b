package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.util.Log
import kotlinx.coroutines.launch

/** Runs [work] in the shell's background [ShellDeps.scope], keeping the broadcast alive until done. */
internal fun BroadcastReceiver.runInBackground(context: Context, work: suspend () -> Unit) {
    val pending = goAsync()
    Shell.deps(context).scope.launch {
        try {
            work()
        } catch (e: RuntimeException) {
            Log.w("finlock", "broadcast work failed: ${e.javaClass.simpleName}")
        } finally {
            pending?.finish()
        }
    }
}
