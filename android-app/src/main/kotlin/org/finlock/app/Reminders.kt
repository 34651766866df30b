package org.finlock.app

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.net.Uri
import org.finlock.core.FinlockException
import org.finlock.core.Reminder
import org.finlock.core.ReminderKind
import org.finlock.core.Severity

/** Shows the reminder the core says is due; the core chose which, when and whether it sticks. */
object Reminders {
    const val CHANNEL_REMINDERS = "reminders"
    const val CHANNEL_OVERDUE = "overdue"
    const val CHANNEL_ACCOUNT = "account"
    const val CHANNEL_LOCK = "lock"
    const val RELEASED_ID = 1

    fun createChannels(context: Context) {
        val nm = context.getSystemService(NotificationManager::class.java)
        nm.createNotificationChannels(
            listOf(
                NotificationChannel(
                    CHANNEL_REMINDERS,
                    context.getString(R.string.channel_reminders),
                    NotificationManager.IMPORTANCE_DEFAULT,
                ),
                NotificationChannel(
                    CHANNEL_OVERDUE,
                    context.getString(R.string.channel_overdue),
                    NotificationManager.IMPORTANCE_HIGH,
                ),
                NotificationChannel(
                    CHANNEL_ACCOUNT,
                    context.getString(R.string.channel_account),
                    NotificationManager.IMPORTANCE_DEFAULT,
                ),
                // The overlay service's ongoing notice (no Device Owner): quiet.
                NotificationChannel(
                    CHANNEL_LOCK,
                    context.getString(R.string.channel_lock),
                    NotificationManager.IMPORTANCE_LOW,
                ),
            ),
        )
    }

    /**
     * Posts the due reminder (if any), replacing an earlier one with the same id. The core is
     * told it was shown only when it really was: with notifications blocked (no permission,
     * the app or the reminder's channel switched off) it stays due, so the core does not
     * count a notice the user never saw.
     */
    fun showDue(context: Context) {
        val d = Shell.deps(context)
        val clock = d.clocks.now()
        val reminder = try {
            d.core.reminderDue(clock, Shell.zoneId(), Shell.localeTag(context))
        } catch (e: FinlockException) {
            null
        } ?: return
        if (!post(context, reminder)) return
        d.core.markReminderShown(reminder.id, d.clocks.now())
    }

    /** Whether a notice on [channel] reaches the user now. */
    fun canShow(context: Context, channel: String): Boolean {
        if (!Permissions.canPostNotifications(context)) return false
        val importance = context.getSystemService(NotificationManager::class.java)
            .getNotificationChannel(channel)?.importance ?: return true
        return importance != NotificationManager.IMPORTANCE_NONE
    }

    fun channelFor(reminder: Reminder) =
        if (reminder.severity == Severity.INFO) CHANNEL_REMINDERS else CHANNEL_OVERDUE

    /** Posts [reminder]; returns false (posting nothing) when the user would not see it. */
    fun post(context: Context, reminder: Reminder): Boolean {
        createChannels(context)
        if (!canShow(context, channelFor(reminder))) return false
        val nm = context.getSystemService(NotificationManager::class.java)
        val money = Format.money(reminder.amountMinor, reminder.currency)
        val due = reminder.installmentDueMs?.let { Format.date(context, it) }
        val (title, text) = when (reminder.kind) {
            ReminderKind.UPCOMING -> R.string.reminder_upcoming_title to context.getString(R.string.reminder_upcoming_text, money, due)
            ReminderKind.DUE_TODAY -> R.string.reminder_due_today_title to context.getString(R.string.reminder_due_today_text, money)
            ReminderKind.OVERDUE -> R.string.reminder_overdue_title to context.getString(R.string.reminder_overdue_text, money, due)
            ReminderKind.FINAL_WARNING -> R.string.reminder_final_title to context.getString(R.string.reminder_final_text, money)
            ReminderKind.OFFLINE_WARNING -> R.string.reminder_offline_title to context.getString(R.string.reminder_offline_text)
        }
        val details = payee(context, reminder)
        val builder = Notification.Builder(context, channelFor(reminder))
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(context.getString(title))
            .setContentText(text)
            .setStyle(Notification.BigTextStyle().bigText((listOf(text) + details).joinToString("\n")))
            .setOngoing(reminder.persistent)
            .setAutoCancel(!reminder.persistent)
            .setCategory(Notification.CATEGORY_REMINDER)
            .setContentIntent(accountIntent(context))
        if (reminder.lenderPhone.isNotBlank()) {
            val dial = PendingIntent.getActivity(
                context,
                4,
                Intent(Intent.ACTION_DIAL, Uri.fromParts("tel", reminder.lenderPhone, null))
                    .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
                PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
            )
            val label = context.getString(R.string.call_lender, reminder.lenderPhone)
            builder.addAction(Notification.Action.Builder(null, label, dial).build())
        }
        nm.notify(reminder.id, 0, builder.build())
        return true
    }

    /** Who the lender is and how to pay, when the core's reminder names them. */
    fun payee(context: Context, reminder: Reminder): List<String> = listOfNotNull(
        when {
            reminder.lenderName.isBlank() -> null
            reminder.lenderPhone.isBlank() -> context.getString(R.string.lender_name, reminder.lenderName)
            else -> context.getString(R.string.lender_name_phone, reminder.lenderName, reminder.lenderPhone)
        },
        reminder.paymentInstructions?.takeIf { it.isNotBlank() }
            ?.let { context.getString(R.string.payment_instructions, it) },
    )

    fun showReleased(context: Context) {
        createChannels(context)
        val nm = context.getSystemService(NotificationManager::class.java)
        val open = PendingIntent.getActivity(
            context,
            2,
            Intent(context, ReleasedActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
            PendingIntent.FLAG_IMMUTABLE,
        )
        nm.notify(
            RELEASED_ID,
            Notification.Builder(context, CHANNEL_ACCOUNT)
                .setSmallIcon(R.drawable.ic_notification)
                .setContentTitle(context.getString(R.string.released_title))
                .setContentText(context.getString(R.string.released_text))
                .setAutoCancel(true)
                .setContentIntent(open)
                .build(),
        )
    }

    /** Removes every reminder (the "paid in full" notice stays). */
    fun clearAll(context: Context) {
        val nm = context.getSystemService(NotificationManager::class.java)
        nm.activeNotifications.filter { it.id != RELEASED_ID || it.tag != null }.forEach { nm.cancel(it.tag, it.id) }
    }

    private fun accountIntent(context: Context): PendingIntent = PendingIntent.getActivity(
        context,
        1,
        Intent(context, AccountActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK),
        PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
    )
}
