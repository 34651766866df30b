package org.finlock.app

import android.content.Context
import android.content.pm.ApplicationInfo
import android.os.SystemClock
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertSame
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import java.io.File
import kotlin.math.abs

/**
 * Clock shifting is debug tooling: in force in a debug build from the start of its process,
 * impossible in a release build, and not in main's sources at all (a lock whose main threat is
 * clock tampering ships no clock-shifting code).
 */
@RunWith(RobolectricTestRunner::class)
class ClockOffsetsTest {
    private val context: Context get() = RuntimeEnvironment.getApplication()

    /** No shell: clock offsets cleared before and after. */
    @get:Rule
    val shell = ShellRule { null }

    private fun debuggable(on: Boolean) {
        val flags = context.applicationInfo.flags
        context.applicationInfo.flags =
            if (on) flags or ApplicationInfo.FLAG_DEBUGGABLE else flags and ApplicationInfo.FLAG_DEBUGGABLE.inv()
    }

    private fun wallShift() = Clocks.system(context).now().wallMs - System.currentTimeMillis()

    private fun elapsedShift() = Clocks.system(context).now().elapsedRealtimeMs - SystemClock.elapsedRealtime()

    @Test
    fun `a debug build puts the kept clock shift in force when its process starts`() {
        debuggable(true)
        ClockShift(Prefs.of(context)).add(86_400_000L, 3_600_000L) // before the restart
        assertEquals("nothing installed yet: the platform's clocks", 0L, elapsedShift())
        Robolectric.setupContentProvider(DebugSetup::class.java)
        assertEquals(3_600_000L, elapsedShift())
        assertTrue("wall shifted by a day: ${wallShift()}", abs(wallShift() - 86_400_000L) < 5_000L)
    }

    @Test
    fun `a release build cannot shift the clocks`() {
        debuggable(false)
        ClockShift(Prefs.of(context)).add(86_400_000L, 3_600_000L)
        Robolectric.setupContentProvider(DebugSetup::class.java) // were the debug set-up shipped
        assertFalse(ClockOffsets.install(context, ClockShift(Prefs.of(context))))
        assertSame(ClockOffsets.None, ClockOffsets.current(context))
        assertEquals(0L, elapsedShift())
        assertTrue(abs(wallShift()) < 5_000L)
    }

    @Test
    fun `main sources hold no clock-shifting code`() {
        // The working directory is the repository (cargo xtask) or the module (Gradle).
        val main = listOf(File("android-app/src/main"), File("src/main"))
            .firstOrNull { File(it, "AndroidManifest.xml").isFile }
        assertNotNull("android-app/src/main not found from ${File("").absolutePath}", main)
        val debugOnly = listOf("ClockShift", "DebugSetup", "SHIFT_CLOCK", "clock_shift")
        fun sources(dir: File) = dir.walk().filter { it.isFile && it.extension in setOf("kt", "xml") }.toList()
        val mainSources = sources(main!!)
        assertTrue("main's Kotlin is there", mainSources.any { it.name == "Clocks.kt" })
        val found = mainSources.flatMap { file ->
            val text = file.readText()
            debugOnly.filter { it in text }.map { "${file.path}: $it" }
        }
        assertEquals(emptyList<String>(), found)
        // The debug source set holds each of them: the words looked for are the right ones.
        val debugText = sources(File(main.parentFile, "debug")).joinToString("\n") { it.readText() }
        assertEquals(emptyList<String>(), debugOnly.filter { it !in debugText })
    }
}
