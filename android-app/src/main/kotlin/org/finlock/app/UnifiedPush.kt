package org.finlock.app

import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.util.Log
import org.finlock.core.FinlockException
import java.util.UUID

/**
 * The UnifiedPush connector (Android spec AND_3, compatible with AND_2 distributors), with
 * framework APIs only: no library, no AndroidX, no Google services (ADR 0014).
 *
 * A push only wakes the phone to check in now; its content is ignored. So the connector needs
 * no decryption keys: it registers with the lender server's VAPID key (the core's `pushKey`,
 * sent by the server) so the distributor accepts only pushes that server signed, hands the
 * endpoint it gets to the core, and on a push asks the core whether to check in now.
 *
 * Which distributor: the one the OEM names ([R.string.oem_push_distributor], a runtime resource
 * overlay) when it is installed, else the only one installed. With several and no OEM choice,
 * none is used (letting the customer pick is out of scope: a financed phone's owner cannot be
 * asked to set up push). Without a distributor nothing changes: the phone checks in on its
 * schedule, as before.
 */
object UnifiedPush {
    private const val TAG = "finlock"

    const val ACTION_REGISTER = "org.unifiedpush.android.distributor.REGISTER"
    const val ACTION_UNREGISTER = "org.unifiedpush.android.distributor.UNREGISTER"
    const val ACTION_MESSAGE_ACK = "org.unifiedpush.android.distributor.MESSAGE_ACK"
    const val ACTION_NEW_ENDPOINT = "org.unifiedpush.android.connector.NEW_ENDPOINT"
    const val ACTION_MESSAGE = "org.unifiedpush.android.connector.MESSAGE"
    const val ACTION_UNREGISTERED = "org.unifiedpush.android.connector.UNREGISTERED"
    const val ACTION_REGISTRATION_FAILED = "org.unifiedpush.android.connector.REGISTRATION_FAILED"

    const val EXTRA_TOKEN = "token"
    const val EXTRA_APPLICATION = "application"
    const val EXTRA_VAPID = "vapid"
    const val EXTRA_PI = "pi"
    const val EXTRA_MESSAGE = "message"
    const val EXTRA_ENDPOINT = "endpoint"
    const val EXTRA_ID = "id"

    /** What the REGISTER broadcast says the registration is for (shown by some distributors). */
    private const val DESCRIPTION = "Payment status updates"

    private const val PREF_TOKEN = "push_token"
    private const val PREF_DISTRIBUTOR = "push_distributor"
    private const val PREF_KEY = "push_registered_key"

    /** Packages with a UnifiedPush distributor's registration receiver, other than this app. */
    fun distributors(context: Context): List<String> =
        context.packageManager.queryBroadcastReceivers(Intent(ACTION_REGISTER), 0)
            .mapNotNull { it.activityInfo?.packageName }
            .filter { it != context.packageName }
            .distinct()
            .sorted()

    /** The OEM's distributor if installed, else the only one installed, else none. */
    fun choose(context: Context): String? {
        val installed = distributors(context)
        val oem = context.getString(R.string.oem_push_distributor).trim()
        if (oem.isNotEmpty()) return oem.takeIf { it in installed }
        return installed.singleOrNull()
    }

    /**
     * Brings the registration in line with what the core and the phone have: registers with the
     * chosen distributor once the core has the server's key (again when the key or the
     * distributor changed); tells the core "no endpoint any more" when the distributor it was
     * registered with is gone. Call after a check-in, at boot and after an app update. Cheap when
     * nothing changed (a package query and two preference reads).
     */
    fun sync(context: Context) {
        val core = Shell.deps(context).core
        val prefs = Prefs.of(context)
        val registeredWith = prefs.getString(PREF_DISTRIBUTOR, null)
        val distributor = choose(context)
        if (registeredWith != null && registeredWith != distributor) {
            Log.i(TAG, "push: distributor gone or changed")
            forget(context)
            reportEndpoint(context, "")
        }
        if (distributor == null) return
        val key: String = try {
            core.pushKey()
        } catch (e: FinlockException) {
            null
        } ?: return
        if (distributor == registeredWith && key == prefs.getString(PREF_KEY, null)) return
        register(context, distributor, key)
    }

    /** Sends REGISTER to [distributor] with this app's token and the server's VAPID [key]. */
    fun register(context: Context, distributor: String, key: String) {
        val token = token(context)
        val intent = Intent(ACTION_REGISTER).setPackage(distributor)
            .putExtra(EXTRA_TOKEN, token)
            .putExtra(EXTRA_APPLICATION, context.packageName)
            .putExtra(EXTRA_VAPID, key)
            .putExtra(EXTRA_MESSAGE, DESCRIPTION)
            // AND_3: the distributor learns which app registers from this PendingIntent's creator.
            .putExtra(EXTRA_PI, identity(context))
        context.sendBroadcast(intent)
        Prefs.of(context).edit()
            .putString(PREF_DISTRIBUTOR, distributor)
            .putString(PREF_KEY, key)
            .apply()
        Log.i(TAG, "push: registering with a distributor")
    }

    /** Whether [intent] carries this app's registration token (a broadcast from elsewhere does not). */
    fun isOurs(context: Context, intent: Intent): Boolean {
        val token = Prefs.of(context).getString(PREF_TOKEN, null) ?: return false
        return intent.getStringExtra(EXTRA_TOKEN) == token
    }

    /** Tells the core the endpoint (`""`: none) and runs the check-in that carries it when asked. */
    fun reportEndpoint(context: Context, endpoint: String) {
        val d = Shell.deps(context)
        try {
            if (d.core.setPushEndpoint(endpoint, d.clocks.now())) Shell.scheduleCheckIn(context)
        } catch (e: FinlockException) {
            // A refused endpoint (not https, too long) is simply not used: the schedule stays.
            Log.w(TAG, "push: endpoint not used (${e.javaClass.simpleName})")
        }
    }

    /** A push arrived: a check-in now if the core says so (at most one per window). */
    fun onMessage(context: Context) {
        val d = Shell.deps(context)
        val now = try {
            d.core.pushArrived(d.clocks.now())
        } catch (e: FinlockException) {
            Log.i(TAG, "push: ignored (${e.javaClass.simpleName})")
            false
        }
        if (now) Shell.scheduleCheckIn(context)
    }

    /** Acknowledges message [id] to the distributor we registered with (AND_3, when it asks). */
    fun acknowledge(context: Context, id: String) {
        val prefs = Prefs.of(context)
        val distributor = prefs.getString(PREF_DISTRIBUTOR, null) ?: return
        val token = prefs.getString(PREF_TOKEN, null) ?: return
        context.sendBroadcast(
            Intent(ACTION_MESSAGE_ACK).setPackage(distributor).putExtra(EXTRA_TOKEN, token).putExtra(EXTRA_ID, id),
        )
    }

    /** The registration ended (UNREGISTERED, REGISTRATION_FAILED): register afresh next time. */
    fun forget(context: Context) {
        Prefs.of(context).edit().remove(PREF_DISTRIBUTOR).remove(PREF_KEY).remove(PREF_TOKEN).apply()
    }

    /** This app's connection token: random (UUIDv4), made once per registration, kept. */
    private fun token(context: Context): String {
        val prefs = Prefs.of(context)
        prefs.getString(PREF_TOKEN, null)?.let { return it }
        val token = UUID.randomUUID().toString()
        prefs.edit().putString(PREF_TOKEN, token).apply()
        return token
    }

    private fun identity(context: Context): PendingIntent =
        PendingIntent.getBroadcast(
            context,
            0,
            Intent("org.finlock.app.push.IDENTITY").setPackage(context.packageName),
            PendingIntent.FLAG_IMMUTABLE,
        )
}
