// The cost of one call through the bridge, from Kotlin: `cargo xtask bench-bridge` runs this
// against the release library. It prints figures; it asserts nothing.
package org.finlock.core.bridgetest

import kotlinx.coroutines.runBlocking

private fun measure(name: String, calls: Int, body: (Int) -> Unit) {
    repeat(calls / 10) { body(it) } // warm-up (JIT, JNA's method lookups)
    val start = System.nanoTime()
    repeat(calls) { body(it) }
    val perCallUs = (System.nanoTime() - start) / 1_000.0 / calls
    println("bench-bridge: %-44s %9.2f µs/call (%d calls)".format(name, perCallUs, calls))
}

fun main() = runBlocking {
    val d = enrolledDevice()
    val fixed = d.clock.now()
    // The shell's usual case: the same reading asked twice (nothing new to persist).
    measure("decision (same clock)", 20_000) { d.core.decision(fixed) }
    // Every call with a new reading: the advanced marks are written to disk (fsync).
    measure("decision (clock advancing: state persisted)", 500) {
        d.core.decision(fixed.copy(wallMs = fixed.wallMs + it + 1, elapsedRealtimeMs = fixed.elapsedRealtimeMs + it + 1_000))
    }
    // Where the time goes: the same call on a core with an empty state (the bridge's own
    // cost: JNA, lowering a record, the lock, an evaluation of nothing).
    val empty = org.finlock.core.FinlockCore(tempStateDir(), config())
    measure("decision on an empty core (bridge overhead)", 20_000) { empty.decision(fixed) }
    measure("lockScreen (same clock)", 20_000) { d.core.lockScreen(fixed, "en") }
    measure("status (same clock)", 20_000) { d.core.status(fixed) }
    Unit
}
