package org.finlock.app

import android.content.Context
import android.content.SharedPreferences

/** The shell's own small settings, in device-protected storage (readable before unlock). */
object Prefs {
    fun of(context: Context): SharedPreferences =
        context.createDeviceProtectedStorageContext().getSharedPreferences("finlock-shell", Context.MODE_PRIVATE)
}
