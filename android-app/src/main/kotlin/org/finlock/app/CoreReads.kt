package org.finlock.app

import android.app.Activity
import android.os.Handler
import android.os.Looper
import android.util.Log
import kotlinx.coroutines.launch

/**
 * A screen's reads of the core, off the main thread: the core may read its state file, and
 * the main thread does no disk I/O (StrictMode's rule; a slow flash chip would freeze the
 * screen). [read] runs in the shell's background [ShellDeps.scope]; its answer is shown on
 * the main thread — only the newest read's answer, and only while the activity is alive (a
 * recreated activity reads again for itself). Until then the screen keeps what it shows.
 */
internal class CoreReads(private val activity: Activity) {
    private val main = Handler(Looper.getMainLooper())
    private var newest = 0

    /**
     * Reads [read] in the background and calls [show] with its answer on the main thread.
     * An exception [read] lets escape (a core error it did not expect, a bug) is logged and
     * shows nothing: the screen keeps its last state.
     */
    fun <T> read(read: (ShellDeps) -> T, show: (T) -> Unit) {
        val ticket = ++newest
        val deps = Shell.deps(activity)
        deps.scope.launch {
            val answer = try {
                Result.success(read(deps))
            } catch (e: Exception) {
                Log.w(TAG, "core read failed: ${e.javaClass.simpleName}")
                Result.failure(e)
            }
            main.post {
                if (ticket != newest || activity.isDestroyed) return@post
                answer.onSuccess(show)
            }
        }
    }

    private companion object {
        const val TAG = "finlock"
    }
}
