package org.finlock.app

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PersistableBundle
import android.util.Log
import kotlinx.coroutines.launch
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockException

/**
 * Debug builds only (src/debug): drives the shell from adb. Protected by the DUMP
 * permission, which `adb shell` holds and apps do not. For example:
 *
 *     adb shell am broadcast -n org.finlock.app/.DebugReceiver -a org.finlock.app.debug.STATUS
 *
 * Actions (prefix `org.finlock.app.debug.`):
 * - `CHECK_IN`: a forced check-in now, then the decision is applied.
 * - `REFRESH`: decide again and apply. `CLOCK_CHANGED`: the same, telling the core the clock moved.
 * - `SHIFT_CLOCK`: adds `--el wall_ms N` and/or `--el elapsed_ms N` (may be negative) to the
 *   clock inputs the shell gives the core; `--ez reset true` removes the shift. Then decides again.
 * - `SHOW_LOCK`: opens the lock screen (it leaves at once unless the core says locked).
 * - `PROVISION`: pins `--es url`, `--es keys` (JWKS JSON); plain http to loopback allowed.
 * - `SET_SERVER_URL`: another URL for the lender's server (`--es url`), keys kept, enrolled or not.
 * - `ENROLL`: enrolls with the provisioned server (`--es code` optional).
 * - `START_ENROLLMENT`: opens the enrollment screen as QR provisioning would, with `url`,
 *   `keys` and `code` as the admin extras bundle (plain http to loopback allowed), and keeps
 *   it as the [UnfinishedSetup] until enrollment is over (resumable from the app's icon).
 * - `STATUS`: the core's status (logcat tag `finlock-debug`, and the broadcast's result data).
 */
class DebugReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val action = intent.action?.removePrefix(PREFIX) ?: return
        val d = Shell.deps(context)
        val ordered = isOrderedBroadcast
        val pending = goAsync()
        d.scope.launch {
            var result = try {
                run(context, action, intent)
            } catch (e: FinlockException) {
                "$action failed: ${e.javaClass.simpleName} ${e.message.orEmpty()}"
            } catch (e: RuntimeException) {
                "$action failed: ${e.javaClass.simpleName}"
            }
            val status = runCatching { d.core.status(d.clocks.now()).toString() }
                .getOrElse { "status: ${it.javaClass.simpleName}" }
            result = if (result.isEmpty()) status else "$result\n$status"
            Log.i(TAG, result)
            if (ordered) runCatching { pending?.setResultData(result) }
            pending?.finish()
        }
    }

    /** Does [action]; returns what to report besides the status. */
    private suspend fun run(context: Context, action: String, intent: Intent): String {
        val d = Shell.deps(context)
        when (action) {
            "CHECK_IN" -> Shell.apply(context, d.core.checkIn(true, d.clocks.now()))
            "REFRESH" -> Shell.refresh(context)
            "CLOCK_CHANGED" -> Shell.refresh(context, clockChanged = true)
            "SHIFT_CLOCK" -> {
                val shift = ClockShift(Prefs.of(context))
                if (intent.getBooleanExtra("reset", false)) {
                    shift.reset()
                } else {
                    shift.add(longExtra(intent, "wall_ms") ?: 0L, longExtra(intent, "elapsed_ms") ?: 0L)
                }
                Shell.refresh(context, clockChanged = true)
                return "clock shift: wall ${shift.wallMs} ms, elapsed ${shift.elapsedMs} ms"
            }
            "SHOW_LOCK" -> context.startActivity(LockActivity.intent(context))
            "PROVISION" -> d.core.provision(
                intent.getStringExtra("url").orEmpty(),
                intent.getStringExtra("keys").orEmpty(),
                true,
            )
            "SET_SERVER_URL" -> d.core.setServerUrl(intent.getStringExtra("url").orEmpty(), true)
            "ENROLL" -> {
                val params = EnrollParams(
                    enrollmentCode = intent.getStringExtra("code"),
                    imei = null,
                    serial = null,
                    model = Build.MODEL.orEmpty(),
                    androidSdk = Build.VERSION.SDK_INT,
                    appVersion = "debug",
                )
                Shell.apply(context, d.core.enroll(params, d.clocks.now()))
                Shell.refresh(context)
            }
            "START_ENROLLMENT" -> {
                val extras = PersistableBundle().apply {
                    putString(ProvisioningBundle.KEY_SERVER_URL, intent.getStringExtra("url"))
                    putString(ProvisioningBundle.KEY_LENDER_KEYS, intent.getStringExtra("keys"))
                    putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, intent.getStringExtra("code"))
                }
                // As the provisioning hand-off does: kept until enrollment is over.
                UnfinishedSetup.keep(context, ProvisioningBundle.from(extras), debugLoopback = true)
                context.startActivity(
                    EnrollmentActivity.intent(context, extras)
                        .putExtra(EnrollmentActivity.EXTRA_DEBUG_LOOPBACK, true)
                        .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
                )
            }
            "STATUS" -> Unit
            else -> return "unknown debug action $action"
        }
        return ""
    }

    companion object {
        const val PREFIX = "org.finlock.app.debug."
        const val TAG = "finlock-debug"

        /** A number given as `--el` (long), `--ei` (int) or `--es` (text); null if absent or not a number. */
        fun longExtra(intent: Intent, key: String): Long? {
            val extras = intent.extras ?: return null
            if (!extras.containsKey(key)) return null
            @Suppress("DEPRECATION")
            return when (val value = extras.get(key)) {
                is Long -> value
                is Int -> value.toLong()
                is String -> value.trim().toLongOrNull()
                else -> null
            }
        }
    }
}
