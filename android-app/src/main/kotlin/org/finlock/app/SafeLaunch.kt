package org.finlock.app

import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.os.UserManager
import android.util.Log
import android.widget.Toast

/**
 * Every screen the lock screen opens goes through here. Before the first unlock after a
 * reboot (direct boot) only direct-boot-aware screens can run: the lender's web pages cannot
 * (WebView needs the user's credential-encrypted storage), so they say "after you unlock"
 * instead. A launch the system refuses (nothing resolves, not allowed in lock task) is caught:
 * an exception here would end the process and, with it, lock task.
 */
object SafeLaunch {
    private const val TAG = "finlock"

    /** Whether the user has unlocked the phone since boot (credential storage available). */
    fun userUnlocked(context: Context): Boolean =
        context.getSystemService(UserManager::class.java)?.isUserUnlocked ?: true

    /** Opens [intent] (from outside an activity: with FLAG_ACTIVITY_NEW_TASK); returns false (and logs) when the system refused it. */
    fun start(context: Context, intent: Intent): Boolean = try {
        context.startActivity(intent)
        true
    } catch (e: ActivityNotFoundException) {
        Log.w(TAG, "launch refused: ${e.javaClass.simpleName}")
        false
    } catch (e: SecurityException) {
        Log.w(TAG, "launch refused: ${e.javaClass.simpleName}")
        false
    } catch (e: IllegalStateException) {
        Log.w(TAG, "launch refused: ${e.javaClass.simpleName}")
        false
    }

    /** A screen that needs the user's storage: before the first unlock, says so instead. */
    fun startAfterUnlock(activity: Activity, intent: Intent): Boolean {
        if (!userUnlocked(activity)) {
            Toast.makeText(activity, R.string.needs_unlock, Toast.LENGTH_LONG).show()
            return false
        }
        return start(activity, intent)
    }
}
