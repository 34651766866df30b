package org.finlock.app

import android.app.Notification
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PersistableBundle
import org.finlock.core.EnrollParams

/**
 * A setup handed off by provisioning whose enrollment is not over yet: the lender's
 * [ProvisioningBundle] (one-time enrollment code included) kept in the shell's app-private,
 * device-protected [Prefs], from the hand-off until the enrollment succeeds or is refused for
 * good. Never logged. While it is here and the core says "not enrolled", the account screen
 * offers to finish setting up, and a notice (posted when the enrollment screen is left
 * unfinished, and again after each boot) does too; both open the enrollment screen,
 * disclosure first. (Not the core's `device::PendingEnrollment`: that is its record of an
 * enrollment request sent and not yet answered.)
 */
object UnfinishedSetup {
    const val NOTIFICATION_ID = 5

    // The keys' old names stay: a bundle kept by an earlier version still loads.
    private const val KEY_SERVER_URL = "enrollment.pending.server_url"
    private const val KEY_LENDER_KEYS = "enrollment.pending.lender_keys"
    private const val KEY_CODE = "enrollment.pending.code"
    private const val KEY_DEBUG_LOOPBACK = "enrollment.pending.debug_loopback"
    private const val KEY_IMEI = "enrollment.pending.imei"
    private const val KEY_SERIAL = "enrollment.pending.serial"
    private val KEYS = listOf(KEY_SERVER_URL, KEY_LENDER_KEYS, KEY_CODE, KEY_DEBUG_LOOPBACK, KEY_IMEI, KEY_SERIAL)

    /**
     * The hardware identifiers the setup wizard gave with `GET_PROVISIONING_MODE` (Android
     * 12+), kept with the bundle until enrollment is over. Raw here, never logged; the core
     * sends only their hashes (PROTOCOL §1).
     */
    fun keepIdentifiers(context: Context, imei: String?, serial: String?) {
        val edit = Prefs.of(context).edit()
        imei?.trim()?.takeIf { it.isNotEmpty() }?.let { edit.putString(KEY_IMEI, it) } ?: edit.remove(KEY_IMEI)
        serial?.trim()?.takeIf { it.isNotEmpty() }?.let { edit.putString(KEY_SERIAL, it) } ?: edit.remove(KEY_SERIAL)
        edit.commit()
    }

    fun imei(context: Context): String? = runCatching { Prefs.of(context).getString(KEY_IMEI, null) }.getOrNull()

    fun serial(context: Context): String? = runCatching { Prefs.of(context).getString(KEY_SERIAL, null) }.getOrNull()

    /** Keeps [bundle] (nothing when null: an incomplete bundle is not worth resuming).
     * [debugLoopback]: the debug receiver's plain-http permission, honoured by debug builds only. */
    fun keep(context: Context, bundle: ProvisioningBundle?, debugLoopback: Boolean = false) {
        if (bundle == null) return
        val edit = Prefs.of(context).edit()
            .putString(KEY_SERVER_URL, bundle.serverUrl)
            .putString(KEY_LENDER_KEYS, bundle.lenderKeys)
            .putBoolean(KEY_DEBUG_LOOPBACK, debugLoopback)
        if (bundle.enrollmentCode == null) edit.remove(KEY_CODE) else edit.putString(KEY_CODE, bundle.enrollmentCode)
        edit.commit()
    }

    /** The kept bundle, or null (none, or not readable as one). */
    fun load(context: Context): ProvisioningBundle? {
        val prefs = Prefs.of(context)

        // A value of another type reads as null (getString throws): nothing is cast unchecked.
        fun text(key: String) = runCatching { prefs.getString(key, null) }.getOrNull()
        val values = PersistableBundle().apply {
            putString(ProvisioningBundle.KEY_SERVER_URL, text(KEY_SERVER_URL))
            putString(ProvisioningBundle.KEY_LENDER_KEYS, text(KEY_LENDER_KEYS))
            putString(ProvisioningBundle.KEY_ENROLLMENT_CODE, text(KEY_CODE))
        }
        // The same checks as the hand-off's bundle.
        return ProvisioningBundle.from(values)
    }

    fun exists(context: Context): Boolean = load(context) != null

    /**
     * The enrollment request for [bundle]: its code (or none: by IMEI), the identifiers the
     * setup wizard gave (raw to the core, which sends only their hashes, PROTOCOL §1; the shell
     * holds no phone permission), and what the phone is.
     */
    fun enrollParams(context: Context, bundle: ProvisioningBundle) = EnrollParams(
        enrollmentCode = bundle.enrollmentCode,
        imei = imei(context),
        serial = serial(context),
        model = Build.MODEL.orEmpty(),
        androidSdk = Build.VERSION.SDK_INT,
        appVersion = runCatching {
            context.packageManager.getPackageInfo(context.packageName, 0).versionName
        }.getOrNull() ?: "0",
    )

    fun debugLoopback(context: Context): Boolean =
        runCatching { Prefs.of(context).getBoolean(KEY_DEBUG_LOOPBACK, false) }.getOrDefault(false)

    /** The enrollment is over (done, or refused for good): the bundle and its notice go. */
    fun clear(context: Context) {
        context.getSystemService(NotificationManager::class.java)?.cancel(NOTIFICATION_ID)
        val prefs = Prefs.of(context)
        if (KEYS.none { prefs.contains(it) }) return // nothing to write
        val edit = prefs.edit()
        KEYS.forEach { edit.remove(it) }
        edit.commit()
    }

    /**
     * After boot, with the core's answer: not enrolled ([enrolled] false) with an enrollment
     * pending, a notice that opens the enrollment screen; enrolled, a leftover bundle goes.
     */
    fun afterBoot(context: Context, enrolled: Boolean) {
        when {
            enrolled -> clear(context)
            exists(context) -> notify(context)
        }
    }

    /** "Finish setting up": opens the enrollment screen (the intent carries no code). */
    fun notify(context: Context) {
        Reminders.createChannels(context)
        val open = PendingIntent.getActivity(
            context,
            NOTIFICATION_ID,
            EnrollmentActivity.resumeIntent(context).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val text = context.getString(R.string.setup_unfinished_text)
        context.getSystemService(NotificationManager::class.java)?.notify(
            NOTIFICATION_ID,
            Notification.Builder(context, Reminders.CHANNEL_ACCOUNT)
                .setSmallIcon(R.drawable.ic_notification)
                .setContentTitle(context.getString(R.string.setup_unfinished_title))
                .setContentText(text)
                .setStyle(Notification.BigTextStyle().bigText(text))
                .setAutoCancel(true)
                .setCategory(Notification.CATEGORY_REMINDER)
                .setContentIntent(open)
                .build(),
        )
    }
}
