package org.finlock.app

import android.app.Activity
import android.app.Application
import android.content.Context
import android.content.Intent
import android.graphics.PixelFormat
import android.media.AudioManager
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.provider.Settings
import android.util.Log
import android.view.Gravity
import android.view.View
import android.view.WindowManager
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import org.finlock.core.Level
import java.util.Collections
import java.util.WeakHashMap

/**
 * Without Device Owner the lock cannot be enforced by the system: a full-screen overlay (if
 * the user granted "display over other apps") brings the lock screen back. Weaker, and both
 * the overlay and the lock screen say so.
 *
 * While the lock holds (from [engage] to [disengage], or while [OverlayService] runs) the
 * window is up unless the user is on one of the app's own [GUESTS] — the lock screen and the
 * pages it opens (about this lock, payment, support, terms) — or has left for a call (the
 * emergency dialer, the lender's number, or a call coming in; [stepAside]). Every other way
 * out brings it back: the last guest screen stopping (home, recents, another app) re-adds it,
 * and after a call the next screen-off outside a call does ([OverlayService] listens). The
 * rule lives here, in one place, fed by the activity lifecycle; it decides nothing about
 * locking (the core does).
 *
 * The levels as with Device Owner: at `Locked` the window leads to the lock screen, at
 * `Restricted` to the restricted home, whose allowed apps (like the payment apps on the lock
 * screen) are opened the way a call is, with the window stepping aside until the next
 * screen-off. At `Notice` and `Normal` there is no window.
 */
object OverlayFallback : Application.ActivityLifecycleCallbacks {
    /** The app's screens the user may open from the lock screen: the overlay steps aside for them. */
    val GUESTS = setOf(
        LockActivity::class.java.name,
        RestrictedActivity::class.java.name,
        NoticeActivity::class.java.name,
        DisclosureActivity::class.java.name,
        WebPageActivity::class.java.name,
    )

    /** Ringing, in a call, or screening one (AudioManager.MODE_CALL_SCREENING, API 30). */
    private val CALL_MODES = setOf(
        AudioManager.MODE_RINGTONE,
        AudioManager.MODE_IN_CALL,
        AudioManager.MODE_IN_COMMUNICATION,
        4,
    )

    /** Touched on the main thread only. */
    private var view: View? = null

    /** Guest screens started (visible) now, held weakly. Main thread only. */
    private val guests: MutableSet<Activity> = Collections.newSetFromMap(WeakHashMap())

    /** The user left for a call ([stepAside]); cleared when a guest screen or the screen-off returns. */
    @Volatile
    private var outside = false

    /** The lock holds without Device Owner: set by [engage] and the service, cleared by [disengage]. */
    @Volatile
    var engaged = false
        private set

    val showing: Boolean get() = view != null

    /** The level held: `Locked` (the lock screen) or `Restricted` (the restricted home). */
    @Volatile
    var level: Level = Level.LOCKED
        private set

    /** The screen the window and the service's notification lead to at [level]. */
    fun home(context: Context): Intent =
        if (level == Level.RESTRICTED) RestrictedActivity.intent(context) else LockActivity.intent(context)

    /** A guest screen is in front (the lock screen, or a page it opened). */
    val guestInFront: Boolean get() = guests.isNotEmpty()

    /** Once per process (the application's onCreate): a clean slate, then the lifecycle feed. */
    fun attach(app: Application) {
        view = null
        guests.clear()
        outside = false
        engaged = false
        level = Level.LOCKED
        app.registerActivityLifecycleCallbacks(this)
    }

    /**
     * Locked or restricted ([level]) without Device Owner: the overlay window, then the
     * foreground service that keeps it (in that order: a visible overlay lets a background app
     * start its service). False when the user has not allowed "display over other apps".
     */
    fun engage(context: Context, level: Level = Level.LOCKED): Boolean {
        val app = context.applicationContext
        if (!Settings.canDrawOverlays(app)) return false
        if (this.level != level) {
            // Another level: the window is rebuilt for it.
            this.level = level
            hide(app)
        }
        engaged = true
        onMain {
            add(app)
            OverlayService.start(app)
        }
        return true
    }

    /** Unlocked or released: the service stops and the window goes. */
    fun disengage(context: Context) {
        val app = context.applicationContext
        engaged = false
        outside = false
        app.stopService(Intent(app, OverlayService::class.java))
        hide(app)
    }

    /** The service holds the lock (it was started for it, or restarted by the system). */
    internal fun held(context: Context) {
        engaged = true
        show(context)
    }

    /** The service is gone: nothing holds the lock any more. */
    internal fun released(context: Context) {
        engaged = false
        hide(context)
    }

    /** Adds the overlay window if the lock holds, no guest screen is in front and no call is out. */
    fun show(context: Context) {
        val app = context.applicationContext
        if (Settings.canDrawOverlays(app)) onMain { add(app) }
    }

    /** Removes the overlay window (idempotent). */
    fun hide(context: Context) {
        val app = context.applicationContext
        onMain {
            val v = view ?: return@onMain
            view = null
            runCatching { app.getSystemService(WindowManager::class.java).removeView(v) }
        }
    }

    /** The user leaves for a call (emergency or the lender): the window stays away until a
     * guest screen is back or the screen goes off outside a call. */
    fun stepAside(context: Context) {
        outside = true
        hide(context)
    }

    /** The screen went off ([OverlayService]): unless a call is going on, the window is back. */
    fun onScreenOff(context: Context) {
        if (inCall(context)) return
        outside = false
        show(context)
    }

    /** Ringing or in a call: the audio mode says so without any phone permission. */
    private fun inCall(context: Context) = context.getSystemService(AudioManager::class.java)?.mode in CALL_MODES

    override fun onActivityStarted(activity: Activity) {
        if (activity.javaClass.name !in GUESTS) return
        guests += activity
        outside = false
        hide(activity)
    }

    override fun onActivityStopped(activity: Activity) {
        if (!guests.remove(activity)) return
        if (guests.isEmpty() && !activity.isChangingConfigurations) {
            // The last guest screen went: for a call (an incoming one covers the lock screen)
            // the overlay waits as for the dialer; otherwise (home, recents, another app) it is back.
            if (inCall(activity)) stepAside(activity) else show(activity)
        }
    }

    override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) = Unit

    override fun onActivityResumed(activity: Activity) = Unit

    override fun onActivityPaused(activity: Activity) = Unit

    override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) = Unit

    override fun onActivityDestroyed(activity: Activity) {
        // Never stopped (should not happen): not in front either.
        if (guests.remove(activity) && guests.isEmpty()) show(activity)
    }

    private fun add(app: Context) {
        if (view != null || !engaged || guests.isNotEmpty() || outside) return
        val layout = build(app)
        val params = WindowManager.LayoutParams(
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.MATCH_PARENT,
            WindowManager.LayoutParams.TYPE_APPLICATION_OVERLAY,
            WindowManager.LayoutParams.FLAG_LAYOUT_IN_SCREEN,
            PixelFormat.OPAQUE,
        )
        runCatching { app.getSystemService(WindowManager::class.java).addView(layout, params) }
            .onSuccess { view = layout }
            .onFailure { Log.w("finlock", "overlay: ${it.javaClass.simpleName}") }
    }

    /** Windows belong to the main thread; the shell often acts from its background thread. */
    private fun onMain(work: () -> Unit) {
        if (Looper.myLooper() == Looper.getMainLooper()) work() else Handler(Looper.getMainLooper()).post(work)
    }

    private fun build(app: Context): View {
        val pad = (20 * app.resources.displayMetrics.density).toInt()
        return LinearLayout(app).apply {
            id = R.id.overlay_root
            orientation = LinearLayout.VERTICAL
            gravity = Gravity.CENTER
            setPadding(pad, pad, pad, pad)
            setBackgroundColor(app.getColor(R.color.lock_background))
            // Emergency first: it works in every state, the overlay included.
            addView(Button(app).apply {
                id = R.id.emergency_call
                text = app.getString(R.string.emergency_call)
                contentDescription = app.getString(R.string.emergency_call_description)
                setOnClickListener {
                    stepAside(app)
                    runCatching { app.startActivity(LockActivity.emergencyDialer(app)) }
                }
            })
            addView(TextView(app).apply {
                text = app.getString(if (level == Level.RESTRICTED) R.string.restricted_title else R.string.lock_title)
                setTextColor(app.getColor(R.color.lock_text))
                textSize = 22f
            })
            addView(TextView(app).apply {
                id = R.id.weaker_notice
                text = app.getString(R.string.enforcement_weaker)
                setTextColor(app.getColor(R.color.lock_notice))
                textSize = 14f
            })
            addView(Button(app).apply {
                id = R.id.overlay_open
                val restricted = level == Level.RESTRICTED
                text = app.getString(if (restricted) R.string.overlay_open_restricted else R.string.overlay_open)
                contentDescription = app.getString(
                    if (restricted) R.string.overlay_open_restricted_description else R.string.overlay_open_description,
                )
                setOnClickListener { runCatching { app.startActivity(home(app)) } }
            })
        }
    }
}
