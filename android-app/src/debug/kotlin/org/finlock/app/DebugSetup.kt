package org.finlock.app

import android.content.ContentProvider
import android.content.ContentValues
import android.database.Cursor
import android.net.Uri

/**
 * Debug builds only (src/debug): puts the testers' tooling into the seams main code leaves for
 * it, once, when the process starts — before the application and every other component, and
 * before the user unlocks the phone (direct-boot aware). That is what a content provider
 * declared in src/debug/AndroidManifest.xml gets; this one answers no queries.
 *
 * Installs the kept [ClockShift] as the [ClockOffsets].
 */
class DebugSetup : ContentProvider() {
    override fun onCreate(): Boolean {
        val context = context ?: return false
        ClockOffsets.install(context, ClockShift(Prefs.of(context)))
        return true
    }

    override fun query(
        uri: Uri,
        projection: Array<out String>?,
        selection: String?,
        selectionArgs: Array<out String>?,
        sortOrder: String?,
    ): Cursor? = null

    override fun getType(uri: Uri): String? = null

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?) = 0

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?) = 0
}
