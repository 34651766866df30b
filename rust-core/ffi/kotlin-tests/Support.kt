// Test support: a real `finlock serve` on loopback, its lender API, and the device's clock.
//
// The server binary comes from -Dfinlock.bin (cargo xtask test builds it); the native
// library from -Djna.library.path. Nothing here talks to anything but 127.0.0.1.
package org.finlock.core.bridgetest

import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.UUID
import java.util.concurrent.TimeUnit
import org.finlock.core.Clock
import org.finlock.core.EnrollParams
import org.finlock.core.FinlockConfig
import org.finlock.core.FinlockCore

const val DAY_MS = 86_400_000L

/** The phone's three clocks, advanced together the way a phone lives through time. */
class PhoneClock(var wallMs: Long = System.currentTimeMillis(), var elapsedMs: Long = 60_000L, var boot: Long = 1L) {
    fun now(): Clock = Clock(wallMs = wallMs, elapsedRealtimeMs = elapsedMs, bootCount = boot)

    /** Time passes: the wall clock and elapsedRealtime move by the same amount. */
    fun advance(ms: Long): Clock {
        wallMs += ms
        elapsedMs += ms
        return now()
    }
}

/** Minimal JSON field access for the server's flat answers (no JSON library on the classpath). */
object Json {
    fun string(json: String, key: String): String =
        Regex("\"" + Regex.escape(key) + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").find(json)?.groupValues?.get(1)
            ?: error("no string \"$key\" in $json")

    fun long(json: String, key: String): Long =
        Regex("\"" + Regex.escape(key) + "\"\\s*:\\s*(-?[0-9]+)").find(json)?.groupValues?.get(1)?.toLong()
            ?: error("no integer \"$key\" in $json")

    fun bool(json: String, key: String): Boolean =
        Regex("\"" + Regex.escape(key) + "\"\\s*:\\s*(true|false)").find(json)?.groupValues?.get(1)?.toBoolean()
            ?: error("no boolean \"$key\" in $json")

    /** The JSON object value of `key`, by brace matching (strings with braces are not expected). */
    fun obj(json: String, key: String): String {
        val start = json.indexOf("\"$key\"").takeIf { it >= 0 } ?: error("no \"$key\" in $json")
        val open = json.indexOf('{', start)
        var depth = 0
        for (i in open until json.length) {
            when (json[i]) {
                '{' -> depth++
                '}' -> if (--depth == 0) return json.substring(open, i + 1)
            }
        }
        error("unbalanced JSON")
    }
}

class Lender(val id: String, val apiKey: String, val jwks: String)

class Registered(val deviceId: String, val enrollmentCode: String)

/** One `finlock serve` for the whole test run, on a free loopback port, stopped at exit. */
object LocalServer {
    private val bin: String = System.getProperty("finlock.bin") ?: error("-Dfinlock.bin is not set")
    private val dir: File = Files.createTempDirectory("finlock-jvm-test").toFile()
    private val db = "sqlite://" + File(dir, "finlock.db").path
    private val keys = File(dir, "keys").path
    private val http: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
    val port: Int = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private val process: Process
    private val log = File(dir, "server.log")

    /** The lender every test shares (each test registers its own devices). */
    val lender: Lender

    init {
        lender = addLender("Acme Finance")
        process = ProcessBuilder(bin, "--db", db, "--keys", keys, "serve",
            "--listen", "127.0.0.1:$port", "--checkin-min-interval", "0",
            // Every test enrolls from 127.0.0.1: the per-address limit (30) is for the field.
            "--enroll-per-address", "10000")
            .redirectErrorStream(true).redirectOutput(log).start()
        Runtime.getRuntime().addShutdownHook(Thread {
            process.destroy()
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
            deleteTree(dir)
        })
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (true) {
            check(process.isAlive) { "finlock serve exited: " + log.readText() }
            val up = runCatching { get("/healthz", null).statusCode() == 200 }.getOrDefault(false)
            if (up) break
            check(System.nanoTime() < deadline) { "finlock serve did not come up: " + log.readText() }
            Thread.sleep(50)
        }
    }

    /** `finlock lender add NAME … --json` */
    fun addLender(name: String): Lender {
        val p = ProcessBuilder(bin, "--db", db, "--keys", keys, "lender", "add", name,
            "--phone", "+254700000001", "--payment-url", "https://pay.acme.example/m-pesa",
            "--email", "help@acme.example", "--support-url", "https://acme.example/help", "--json")
            .redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        check(p.waitFor() == 0) { "lender add failed: $err" }
        return Lender(Json.string(out, "lender_id"), Json.string(out, "api_key"), Json.obj(out, "jwks"))
    }

    fun get(path: String, apiKey: String?): HttpResponse<String> {
        val b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10)).GET()
        if (apiKey != null) b.header("Authorization", "Bearer $apiKey")
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString())
    }

    fun post(path: String, body: String, lender: Lender = this.lender, headers: Map<String, String> = emptyMap()): String {
        val b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer ${lender.apiKey}")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
        headers.forEach { (k, v) -> b.header(k, v) }
        val r = http.send(b.build(), HttpResponse.BodyHandlers.ofString())
        check(r.statusCode() in 200..299) { "POST $path: HTTP ${r.statusCode()}: ${r.body()}" }
        return r.body()
    }

    /** POST /v1/lender/devices: two installments of 1000 KES, due in 5 and 35 days, 2 days' grace. */
    fun registerDevice(nowMs: Long = System.currentTimeMillis()): Registered {
        val now = nowMs / 1000
        val body = """{"plan":{"currency":"KES","grace_days":2,"offline_lock_after_days":30,
            "installments":[{"due":${now + 5 * 86_400},"amount_minor":1000},{"due":${now + 35 * 86_400},"amount_minor":1000}]}}"""
        val out = post("/v1/lender/devices", body)
        return Registered(Json.string(out, "device_id"), Json.string(out, "enrollment_code"))
    }

    fun pay(deviceId: String, amountMinor: Long): String =
        post("/v1/lender/devices/$deviceId/payments",
            """{"amount_minor":$amountMinor,"currency":"KES","reference":"MPESA-${UUID.randomUUID()}"}""",
            headers = mapOf("Idempotency-Key" to UUID.randomUUID().toString()))

    /** The lender's answer to a challenge read out over the phone (§6). */
    fun offlineCode(deviceId: String, challenge: String, days: Int): String =
        Json.string(post("/v1/lender/devices/$deviceId/offline-code", """{"challenge":"$challenge","days":$days}"""), "code")
}

/** Plain java.io only: at JVM exit the test class loader can no longer load Kotlin's file helpers. */
fun deleteTree(file: File) {
    val children = file.listFiles()
    if (children != null) for (child in children) deleteTree(child)
    file.delete()
}

fun config(deadlineMs: Long? = null) =
    FinlockConfig(appVersion = "1.0.0-test", networkDeadlineMs = deadlineMs, spkiSha256Pins = emptyList())

fun params(code: String?) = EnrollParams(
    enrollmentCode = code, imei = "356938035643809", serial = "R58M12345", model = "Tecno Spark 10",
    androidSdk = 33, appVersion = "1.0.0-test")

fun tempStateDir(): String = Files.createTempDirectory("finlock-state").toString()

/** A device provisioned for the local server and enrolled there; returns it with its clock and id. */
class EnrolledDevice(val core: FinlockCore, val clock: PhoneClock, val deviceId: String)

suspend fun enrolledDevice(): EnrolledDevice {
    val reg = LocalServer.registerDevice()
    val core = FinlockCore(tempStateDir(), config())
    core.provision(LocalServer.url, LocalServer.lender.jwks, true)
    val clock = PhoneClock()
    core.enroll(params(reg.enrollmentCode), clock.now())
    return EnrolledDevice(core, clock, reg.deviceId)
}

/** JUnit's Kotlin `assertThrows` (Debian's junit5 ships without its Kotlin part); inline, so
 * the block may call suspend functions. */
inline fun <reified T : Throwable> assertThrows(block: () -> Unit): T {
    val thrown = try {
        block()
        null
    } catch (t: Throwable) {
        t
    }
    if (thrown is T) return thrown
    throw AssertionError("expected ${T::class.java.name}, got " + (thrown?.toString() ?: "no exception"), thrown)
}

/**
 * The shell's part before any restriction or lock (PROTOCOL §3.7): the notice page displayed
 * (the core records it) and then a day and a minute of the phone's uptime, the protocol's
 * least notice period. Returns the clock reading after it.
 */
fun noticeThenADay(core: FinlockCore, clock: PhoneClock): Clock {
    val shown = core.noticeShown(clock.now())
    if (!shown) throw AssertionError("the notice page was not recorded: ${core.decision(clock.now())}")
    return clock.advance(DAY_MS + 60_000)
}

/** Asserts non-null and returns the value. */
fun <T : Any> present(value: T?, what: String = "value"): T = value ?: throw AssertionError("$what is null")
