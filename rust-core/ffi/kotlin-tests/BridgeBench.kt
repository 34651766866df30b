// The cost of one call through the bridge, from Kotlin: `cargo xtask bench-bridge` runs this
// against the release library. It prints figures; it asserts nothing.
//
// Each call is timed on its own (System.nanoTime around it; the "timer floor" line shows what
// that costs) after a warm-up long enough for the JIT to compile the call path, and the
// distribution is reported (median, p90, p99), not a mean that one GC pause or a neighbour's
// compile can move. The figures in between explain where the time goes: a call through JNA
// with nothing to convert, then each conversion a `decision` call adds.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking
import org.finlock.core.Clock
import org.finlock.core.FinlockCore
import org.finlock.core.debugDecisionRecord
import org.finlock.core.debugEcho
import org.finlock.core.debugEchoClock

/** Keeps results alive so the JIT cannot drop a call whose answer is unused. */
private var sink = 0L

/** `-Dbench.only=decisionAt`: run only the lines whose name contains it (for a profiler). */
private val only: String? = System.getProperty("bench.only")

private fun measure(name: String, calls: Int, warmup: Int = 20_000, body: (Int) -> Long) {
    if (only != null && !name.contains(only)) return
    repeat(warmup) { sink += body(it) }
    val ns = LongArray(calls)
    for (i in 0 until calls) {
        val start = System.nanoTime()
        sink += body(i)
        ns[i] = System.nanoTime() - start
    }
    report(name, ns)
}

private fun report(name: String, ns: LongArray) {
    ns.sort()
    fun us(q: Double) = ns[((ns.size - 1) * q).toInt()] / 1_000.0
    println("bench-bridge: %-52s median %8.2f µs  p90 %8.2f µs  p99 %8.2f µs  (%d calls)"
        .format(name, us(0.5), us(0.9), us(0.99), ns.size))
}

/** Two calls timed alternately, so both see the same machine (a busy neighbour, GC, the
 * CPU's clock) and their difference is theirs, not the moment's. */
private fun measurePair(nameA: String, nameB: String, calls: Int, a: (Int) -> Long, b: (Int) -> Long) {
    if (only != null && !nameA.contains(only) && !nameB.contains(only)) return
    repeat(20_000) { sink += a(it) + b(it) }
    val nsA = LongArray(calls)
    val nsB = LongArray(calls)
    for (i in 0 until calls) {
        var start = System.nanoTime()
        sink += a(i)
        nsA[i] = System.nanoTime() - start
        start = System.nanoTime()
        sink += b(i)
        nsB[i] = System.nanoTime() - start
    }
    report(nameA, nsA)
    report(nameB, nsB)
}

fun main() = runBlocking {
    val d = enrolledDevice()
    val fixed = d.clock.now()
    val core: FinlockCore = d.core
    measure("timer floor (empty body)", 200_000) { it.toLong() }
    // Where the time goes: each conversion a `decision(clock)` call needs, alone.
    measure("JNA call, primitives only (debugEcho)", 100_000) { debugEcho(it.toLong()) }
    measure("  + handle clone (method: core.debugEchoMethod)", 100_000) { core.debugEchoMethod(it.toLong()) }
    measure("  + Clock record in (debugEchoClock)", 100_000) { debugEchoClock(fixed) }
    measure("  + Decision record out (debugDecisionRecord)", 100_000) { debugDecisionRecord(it.toLong()).trustedNowMs }
    // The same reading asked again (nothing new to persist): the bridge's cost, and the
    // hot-path entry point against the record one, alternately.
    measurePair("decision(clock) (same clock)", "decisionAt(numbers) (same clock)", 50_000,
        { if (core.decision(fixed).locked) 1 else 0 },
        { if (core.decisionAt(fixed.wallMs, fixed.elapsedRealtimeMs, fixed.bootCount).locked) 1 else 0 })
    // Every call with a new reading, as the shell reads the clocks afresh each time. The
    // marks are written when they say something new and at least once a minute (ADR 0006):
    // at 1 s per call, one call in 60 pays an fsync, which shows in the tail.
    // (A counter, not the call's index: warm-up and measured calls never repeat a reading.)
    var second = 0L
    measure("decision (clocks +1 s per call; written once a minute)", 3_000, warmup = 300) {
        second++
        val c = fixed.copy(wallMs = fixed.wallMs + 1_000L * second, elapsedRealtimeMs = fixed.elapsedRealtimeMs + 1_000L * second)
        if (core.decision(c).locked) 1 else 0
    }
    // Each call sets the wall clock 10 min further back: a clock jump, written every time.
    val jumping = enrolledDevice().core
    var jump = 0L
    measure("decision (a clock change every call: written each time)", 300, warmup = 30) {
        jump++
        val c = fixed.copy(wallMs = fixed.wallMs - 600_000L * jump, elapsedRealtimeMs = fixed.elapsedRealtimeMs + jump)
        if (jumping.decision(c).locked) 1 else 0
    }
    // The same call on a core with an empty state: the bridge's own cost.
    val empty = FinlockCore(tempStateDir(), config())
    measure("decision on an empty core (bridge overhead)", 50_000) { if (empty.decision(fixed).locked) 1 else 0 }
    measure("lockScreen (same clock)", 20_000) { core.lockScreen(fixed, "en").amountDueMinor }
    measure("status (same clock)", 20_000) { core.status(fixed).nextCheckinMs }
    Unit
}
