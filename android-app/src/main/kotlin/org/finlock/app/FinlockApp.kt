package org.finlock.app

import android.app.Application

/** The application: notification channels and the overlay fallback's lifecycle feed. */
class FinlockApp : Application() {
    override fun onCreate() {
        super.onCreate()
        Reminders.createChannels(this)
        OverlayFallback.attach(this)
    }
}
