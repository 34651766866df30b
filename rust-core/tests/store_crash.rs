//! The store under `kill -9`: whatever instant a writer dies at, the state on disk
//! loads, as the old or the new value, and is never reported as damaged.
//!
//! `killed_writer_always_leaves_a_loadable_state` re-executes this test binary as a
//! child running only `crash_child`, which saves an increasing counter in a loop, and
//! SIGKILLs it after a random delay, over and over. In a normal test run `crash_child`
//! sees no child environment variable and returns at once.

use std::fs;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use finlock_core::Error;
use finlock_core::store::{Loaded, PREVIOUS_FILE, STATE_FILE, Store, decode};
use serde::{Deserialize, Serialize};

/// Names the state directory the child writes to; its presence makes the child run.
const CHILD_ENV: &str = "FINLOCK_STORE_CRASH_CHILD";
/// Printed by the child once it has loaded and is about to start saving.
const READY: &str = "finlock-store-crash-child-ready";
const ITERATIONS: u32 = 300;
/// An orphaned child (the parent died) stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    counter: u64,
    /// Derived from `counter`: a state mixed from two saves does not match.
    check: String,
    /// Varies the file size so writes cross different block boundaries.
    pad: String,
}

fn check_of(n: u64) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("finlock-{n}").as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn counter(n: u64) -> Counter {
    Counter {
        counter: n,
        check: check_of(n),
        pad: "x".repeat(500 + (n as usize * 37) % 6000),
    }
}

/// The child: load (or start at 0), say so, then save n+1, n+2, … until killed.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut store = Store::open(PathBuf::from(dir)).expect("child: open");
    let mut n = match store.load::<Counter>().expect("child: load") {
        Some(loaded) => {
            assert_eq!(loaded.value.check, check_of(loaded.value.counter));
            loaded.value.counter
        }
        None => 0,
    };
    println!("{READY}");
    let started = Instant::now();
    while started.elapsed() < CHILD_LIFETIME {
        n += 1;
        store.save(&counter(n)).expect("child: save");
    }
}

/// The child, killed when dropped (also when the parent test fails half-way, so no
/// writer outlives it). The pipe's read end stays open until the child is dead.
struct Killer(Child, Lines<BufReader<ChildStdout>>);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path) -> Killer {
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut killer = Killer(child, BufReader::new(stdout).lines());
    // Wait until the child has loaded, so every kill lands in the save loop.
    loop {
        match killer.1.next() {
            // libtest may print "test crash_child ... " on the same line.
            Some(Ok(line)) if line.trim_end().ends_with(READY) => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("reading child output: {e}"),
            None => {
                let status = killer.0.wait();
                panic!("child exited before it was ready: {status:?}");
            }
        }
    }
    killer
}

/// xorshift64: enough randomness for delays, reproducible from the printed seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn killed_writer_always_leaves_a_loadable_state() {
    let seed = std::env::var("FINLOCK_STORE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    println!("store crash test seed: {seed} (set FINLOCK_STORE_CRASH_SEED to repeat)");
    let mut rng = XorShift(seed);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    let started = Instant::now();
    let mut last: Option<u64> = None;
    let mut torn_windows = 0u32;

    for iteration in 0..ITERATIONS {
        let mut child = spawn_child(&dir);
        std::thread::sleep(Duration::from_millis(rng.next() % 15));
        child.0.kill().expect("SIGKILL child");
        let status = child.0.wait().expect("wait child");
        assert!(!status.success(), "child finished instead of being killed");
        drop(child);

        if !dir.join(STATE_FILE).exists() && dir.join(PREVIOUS_FILE).exists() {
            torn_windows += 1;
        }
        let ctx = format!("iteration {iteration}, seed {seed}");
        let loaded: Option<Loaded<Counter>> = match Store::open(&dir).and_then(|mut s| s.load()) {
            Ok(loaded) => loaded,
            Err(e) => panic!("{ctx}: load failed: {e} ({})", e.code()),
        };
        let Some(loaded) = loaded else {
            assert!(
                last.is_none(),
                "{ctx}: state vanished after counter {last:?}"
            );
            continue;
        };
        assert!(
            loaded.recovered_from.is_none(),
            "{ctx}: a kill left a damaged current copy: {:?}",
            loaded.recovered_from
        );
        let value = loaded.value;
        assert_eq!(
            value.check,
            check_of(value.counter),
            "{ctx}: mixed-up state"
        );
        if let Some(last) = last {
            assert!(
                value.counter >= last,
                "{ctx}: counter went back from {last} to {}",
                value.counter
            );
        }
        last = Some(value.counter);
    }

    let elapsed = started.elapsed();
    println!(
        "store crash test: {ITERATIONS} kills in {elapsed:.2?}, final counter {last:?}, \
         {torn_windows} kills between the two renames"
    );
    let last = last.expect("the child never completed a save");
    assert!(
        last >= u64::from(ITERATIONS) / 4,
        "the child barely wrote: counter {last} after {ITERATIONS} runs"
    );
}

/// A torn write, by hand: the current copy cut short at every length after a good save
/// of a newer value. The previous copy must come back, and the damage be reported.
#[test]
fn torn_current_copy_falls_back_to_previous() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    let mut store = Store::open(&dir).expect("open");
    store.save(&counter(1)).expect("save 1");
    store.save(&counter(2)).expect("save 2");
    let full = fs::read(dir.join(STATE_FILE)).expect("read current");
    assert!(decode(&full).is_ok());

    for len in (0..full.len()).step_by(7).chain([full.len() - 1]) {
        fs::write(dir.join(STATE_FILE), &full[..len]).expect("write torn copy");
        let loaded = Store::open(&dir)
            .expect("open")
            .load::<Counter>()
            .unwrap_or_else(|e| panic!("length {len}: load failed: {e}"))
            .unwrap_or_else(|| panic!("length {len}: state vanished"));
        assert_eq!(loaded.value.counter, 1, "length {len}");
        assert_eq!(loaded.value.check, check_of(1));
        assert!(
            matches!(loaded.recovered_from, Some(Error::StoreTruncated)),
            "length {len}: {:?}",
            loaded.recovered_from
        );
    }

    // Saving over the torn copy keeps the good previous copy, and a second tear after
    // that still finds it.
    let mut store = Store::open(&dir).expect("open");
    store.save(&counter(3)).expect("save 3");
    let prev: Counter = serde_json::from_slice(
        decode(&fs::read(dir.join(PREVIOUS_FILE)).expect("read previous")).expect("decode"),
    )
    .expect("json");
    assert_eq!(prev.counter, 1);
    let full = fs::read(dir.join(STATE_FILE)).expect("read current");
    fs::write(dir.join(STATE_FILE), &full[..full.len() / 2]).expect("tear again");
    let loaded = Store::open(&dir)
        .expect("open")
        .load::<Counter>()
        .expect("load")
        .expect("some");
    assert_eq!(loaded.value.counter, 1);
}
