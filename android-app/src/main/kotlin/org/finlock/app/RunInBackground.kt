package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.util.Log

/** Runs [work] on the shell's background executor, keeping the broadcast alive until done. */
internal fun BroadcastReceiver.runInBackground(context: Context, work: () -> Unit) {
    val pending = goAsync()
    Shell.deps(context).background.execute {
        try {
            work()
        } catch (e: RuntimeException) {
            Log.w("finlock", "broadcast work failed: ${e.javaClass.simpleName}")
        } finally {
            pending?.finish()
        }
    }
}
