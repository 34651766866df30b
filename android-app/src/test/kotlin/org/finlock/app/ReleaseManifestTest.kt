package org.finlock.app

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.w3c.dom.Element
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory

/**
 * What only a release build's merged manifest carries (src/release/AndroidManifest.xml, which
 * the CI's aapt2 cannot link, so no Robolectric test sees it), read as plain XML: the data
 * extraction rules that keep every byte of the app's state out of cloud backup and
 * device-to-device transfer, and the special-use foreground service subtype Play asks for
 * on Android 14+; and from the main manifest, no backup and no unused full-screen intents.
 */
class ReleaseManifestTest {
    private val app: File = findApp()

    private fun xml(path: String): Element {
        val factory = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
        return factory.newDocumentBuilder().parse(File(app, path)).documentElement
    }

    private fun Element.children(tag: String): List<Element> {
        val nodes = getElementsByTagName(tag)
        return (0 until nodes.length).map { nodes.item(it) as Element }
    }

    private fun Element.android(name: String): String = getAttributeNS(ANDROID, name)

    @Test
    fun `a release build keeps the app's state out of backups and device transfer`() {
        val application = xml("src/release/AndroidManifest.xml").children("application").single()
        assertEquals("@xml/data_extraction_rules", application.android("dataExtractionRules"))
        val rules = xml("src/main/res/xml/data_extraction_rules.xml")
        for (section in listOf("cloud-backup", "device-transfer")) {
            val excluded = rules.children(section).single().children("exclude")
                .filter { it.getAttribute("path") == "." }
                .map { it.getAttribute("domain") }
                .toSet()
            assertEquals("$section excludes every domain", DOMAINS, excluded)
            assertTrue("$section includes nothing", rules.children(section).single().children("include").isEmpty())
        }
        val main = xml("src/main/AndroidManifest.xml").children("application").single()
        assertEquals("no legacy backup either (Android 11 and older)", "false", main.android("allowBackup"))
    }

    @Test
    fun `a release build names the overlay service's special-use subtype`() {
        val service = xml("src/release/AndroidManifest.xml").children("service")
            .single { it.android("name") == ".OverlayService" }
        val property = service.children("property").single()
        assertEquals("android.app.PROPERTY_SPECIAL_USE_FGS_SUBTYPE", property.android("name"))
        assertTrue(property.android("value").isNotBlank())
        val declared = xml("src/main/AndroidManifest.xml").children("service")
            .single { it.android("name") == ".OverlayService" }
        assertEquals("@integer/fgs_special_use", declared.android("foregroundServiceType"))
    }

    @Test
    fun `no permission the app does not use`() {
        val permissions = xml("src/main/AndroidManifest.xml").children("uses-permission").map { it.android("name") }
        assertFalse(permissions.contains("android.permission.USE_FULL_SCREEN_INTENT"))
        assertFalse("no phone permission: IMEI and serial come from provisioning", permissions.any { it.contains("PHONE_STATE") })
    }

    companion object {
        private const val ANDROID = "http://schemas.android.com/apk/res/android"
        private val DOMAINS = setOf(
            "root", "file", "database", "sharedpref", "external",
            "device_root", "device_file", "device_database", "device_sharedpref",
        )

        /** android-app/, from the repository root (the tests' working directory) or below it. */
        private fun findApp(): File {
            var dir: File? = File("").absoluteFile
            while (dir != null) {
                val candidate = File(dir, "android-app")
                if (File(candidate, "src/release/AndroidManifest.xml").isFile) return candidate
                dir = dir.parentFile
            }
            throw AssertionError("no android-app/src/release/AndroidManifest.xml from ${File("").absolutePath} or above")
        }
    }
}
