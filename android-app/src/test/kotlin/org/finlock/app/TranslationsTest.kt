package org.finlock.app

import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.w3c.dom.Element
import java.io.File
import javax.xml.XMLConstants
import javax.xml.parsers.DocumentBuilderFactory

/**
 * Every translation (`values-<locale>/strings.xml`) against the English `values/strings.xml`,
 * read as plain XML (no Android, no Robolectric): the same names, the same format arguments,
 * plurals with an `other` item and only the quantities the language uses, nothing empty, no
 * unescaped apostrophe. Runs with the repository root as the working directory.
 */
class TranslationsTest {
    /** A `<string>` (one text under the key "") or a `<plurals>` (one text per quantity). */
    private class Entry(val name: String, val texts: Map<String, String>, val plural: Boolean)

    private val res: File = findRes()
    private val english: Map<String, Entry> = parse(File(res, "values/strings.xml"))
    private val untranslatable: Set<String> = untranslatableNames(File(res, "values/strings.xml"))
    private val locales: Map<String, File> = res.listFiles().orEmpty()
        .filter { it.isDirectory && LOCALE_DIR.matches(it.name) && File(it, "strings.xml").isFile }
        .associate { it.name.removePrefix("values-") to File(it, "strings.xml") }
        .toSortedMap()

    @Test
    fun everyExpectedLocaleHasAStringsFile() {
        val missing = EXPECTED_LOCALES.filter { it !in locales }
        assertTrue("no strings.xml for: $missing (res dir: $res)", missing.isEmpty())
        assertTrue("the English strings.xml has no strings", english.isNotEmpty())
    }

    @Test
    fun everyEnglishNameIsTranslated() = eachLocale { locale, entries ->
        val required = english.keys - untranslatable
        val missing = required.filter { it !in entries }
        if (missing.isEmpty()) emptyList()
        else listOf("$locale is missing ${missing.size} of ${required.size}: ${missing.joinToString()}")
    }

    @Test
    fun noLocaleHasANameTheEnglishLacks() = eachLocale { locale, entries ->
        val extra = entries.keys.filter { it !in english || it in untranslatable }
        if (extra.isEmpty()) emptyList()
        else listOf("$locale has names the English lacks or marks translatable=\"false\": ${extra.joinToString()}")
    }

    @Test
    fun kindsMatch() = eachLocale { locale, entries ->
        entries.values.mapNotNull { t ->
            val en = english[t.name] ?: return@mapNotNull null
            if (en.plural == t.plural) null
            else "$locale/${t.name}: ${kind(t)} in the translation but ${kind(en)} in English"
        }
    }

    @Test
    fun formatArgumentsMatch() = eachLocale { locale, entries ->
        entries.values.flatMap { t ->
            val en = english[t.name] ?: return@flatMap emptyList()
            if (en.plural != t.plural) return@flatMap emptyList()
            if (!t.plural) {
                val want = args(en.texts.getValue(""))
                val got = args(t.texts.getValue(""))
                if (want == got) emptyList()
                else listOf("$locale/${t.name}: format arguments $got, English has $want")
            } else {
                // `other` must carry exactly English's arguments; another quantity may leave the
                // number out ("one try left") but must not bring an argument English lacks.
                val all = en.texts.values.flatMap { args(it) }.toSortedSet()
                val other = en.texts["other"]?.let { args(it) } ?: all
                t.texts.mapNotNull { (quantity, text) ->
                    val got = args(text)
                    when {
                        quantity == "other" && got != other ->
                            "$locale/${t.name}[other]: format arguments $got, English has $other"
                        quantity != "other" && !all.containsAll(got) ->
                            "$locale/${t.name}[$quantity]: format arguments $got, English has only $all"
                        else -> null
                    }
                }
            }
        }
    }

    @Test
    fun pluralsHaveOtherAndOnlyTheLanguagesQuantities() = eachLocale { locale, entries ->
        val language = locale.removePrefix("b+").split('-', '+').first()
        val allowed = PLURAL_CATEGORIES[language] ?: ALL_QUANTITIES
        entries.values.filter { it.plural }.flatMap { t ->
            val problems = mutableListOf<String>()
            if ("other" !in t.texts) problems += "$locale/${t.name}: no quantity=\"other\" item"
            val unknown = t.texts.keys - allowed
            if (unknown.isNotEmpty()) {
                problems += "$locale/${t.name}: quantities $unknown are not used in '$language' (CLDR: $allowed)"
            }
            problems
        }
    }

    @Test
    fun englishPluralsHaveOther() {
        val bad = english.values.filter { it.plural && "other" !in it.texts }.map { it.name }
        assertTrue("English plurals without quantity=\"other\": $bad", bad.isEmpty())
    }

    @Test
    fun noTranslationIsEmpty() = eachLocale { locale, entries ->
        entries.values.flatMap { t ->
            val empty = if (t.texts.isEmpty()) listOf("") else t.texts.filterValues { blank(it) }.keys
            empty.map { q -> "$locale/${t.name}${if (q.isEmpty()) "" else "[$q]"} is empty" }
        }
    }

    @Test
    fun apostrophesAreEscaped() = eachLocale { locale, entries ->
        entries.values.flatMap { t ->
            t.texts.filterValues { text ->
                !(text.startsWith("\"") && text.endsWith("\"")) && UNESCAPED_APOSTROPHE.containsMatchIn(text)
            }.keys.map { q -> "$locale/${t.name}${if (q.isEmpty()) "" else "[$q]"}: write \\' for an apostrophe" }
        }
    }

    /** Runs [check] over every locale and fails once, listing every problem found. */
    private fun eachLocale(check: (String, Map<String, Entry>) -> List<String>) {
        assertTrue("no values-<locale>/strings.xml under $res", locales.isNotEmpty())
        val problems = locales.flatMap { (locale, file) -> check(locale, parse(file)) }
        if (problems.isNotEmpty()) fail("${problems.size} translation problem(s):\n" + problems.joinToString("\n"))
    }

    companion object {
        private val EXPECTED_LOCALES = listOf("es", "fil", "hi", "in", "pt-rBR", "sw")

        /** `values-hi`, `values-pt-rBR`, `values-b+sr+Latn`; not `values-night` or `values-v27`. */
        private val LOCALE_DIR = Regex("""values-([a-z]{2,3}(-r[A-Z]{2})?|b\+[a-z]{2,3}(\+[A-Za-z0-9]+)*)""")

        /** `%1$s`, `%2$d`, `%s`, `%.2f`…; not `%%`. */
        private val FORMAT_ARG = Regex("""%(\d+\$)?[-#+ 0,(]*\d*(\.\d+)?([a-zA-Z%])""")

        private val UNESCAPED_APOSTROPHE = Regex("""(?<!\\)'""")

        private val ALL_QUANTITIES = setOf("zero", "one", "two", "few", "many", "other")

        /** CLDR plural categories (cardinal) of the languages shipped; others are not checked. */
        private val PLURAL_CATEGORIES = mapOf(
            "en" to setOf("one", "other"),
            "es" to setOf("one", "many", "other"),
            "fil" to setOf("one", "other"),
            "hi" to setOf("one", "other"),
            "in" to setOf("other"),
            "id" to setOf("other"),
            "pt" to setOf("one", "many", "other"),
            "sw" to setOf("one", "other"),
        )

        private fun kind(e: Entry) = if (e.plural) "<plurals>" else "<string>"

        private fun blank(text: String) = text.trim().removeSurrounding("\"").isBlank()

        private fun args(text: String): Set<String> =
            FORMAT_ARG.findAll(text).map { it.value }.filter { it != "%%" }.toSortedSet()

        private fun findRes(): File {
            val relative = "android-app/src/main/res"
            File(relative).takeIf { File(it, "values/strings.xml").isFile }?.let { return it.absoluteFile }
            var dir: File? = File("").absoluteFile
            while (dir != null) {
                val candidate = File(dir, relative)
                if (File(candidate, "values/strings.xml").isFile) return candidate
                dir = dir.parentFile
            }
            File("src/main/res").takeIf { File(it, "values/strings.xml").isFile }?.let { return it.absoluteFile }
            throw AssertionError("no $relative/values/strings.xml from ${File("").absolutePath} or above")
        }

        private fun document(file: File) = DocumentBuilderFactory.newInstance().apply {
            isNamespaceAware = true
            setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true)
            setFeature("http://apache.org/xml/features/disallow-doctype-decl", true)
        }.newDocumentBuilder().parse(file)

        private fun children(parent: Element): List<Element> {
            val nodes = parent.childNodes
            return (0 until nodes.length).mapNotNull { nodes.item(it) as? Element }
        }

        /** The `<string>` and `<plurals>` of a strings.xml by name; a duplicate name fails. */
        private fun parse(file: File): Map<String, Entry> {
            val root = document(file).documentElement
            val out = linkedMapOf<String, Entry>()
            for (e in children(root)) {
                val entry = when (e.localName ?: e.tagName) {
                    "string" -> Entry(e.getAttribute("name"), mapOf("" to e.textContent), plural = false)
                    "plurals" -> Entry(
                        e.getAttribute("name"),
                        children(e).filter { (it.localName ?: it.tagName) == "item" }
                            .associate { it.getAttribute("quantity") to it.textContent },
                        plural = true,
                    )
                    else -> continue
                }
                if (out.put(entry.name, entry) != null) throw AssertionError("$file: '${entry.name}' twice")
            }
            return out
        }

        private fun untranslatableNames(file: File): Set<String> =
            children(document(file).documentElement)
                .filter { it.getAttribute("translatable") == "false" }
                .map { it.getAttribute("name") }
                .toSet()
    }
}
