//! The soak's counts and figures, per backend, and the side-by-side comparison.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::client::{Kind, KindStats};

/// Counts over every device of a run. The names are what the report prints.
#[derive(Debug, Default)]
pub struct Tally {
    // Payments.
    pub acked: u64,
    pub stored: u64,
    pub duplicated: u64,
    pub lost: u64,
    pub phantom: u64,
    pub refused: u64,
    pub refused_but_stored: u64,
    pub unknown_payments: u64,
    pub id_mismatch: u64,
    pub racing_answers_differ: u64,
    pub raced: u64,
    pub voids_acked: u64,
    pub void_mismatch: u64,
    pub paid_mismatch: u64,
    pub model_mismatch: u64,
    // Check-ins.
    pub answers: u64,
    pub seq_reused: u64,
    pub seq_back: u64,
    pub core_refused: u64,
    pub decisions: u64,
    pub locked_decisions: u64,
    pub wrong_locks: u64,
    pub missed_locks: u64,
    pub replays_after_loss: u64,
    pub unexpected: u64,
    // Rate limits.
    pub interval_violations: u64,
    pub bursts: u64,
    pub burst_over: u64,
    pub burst_none: u64,
    pub addr_sent: u64,
    pub addr_accepted: u64,
    pub addr_limited: u64,
    pub addr_limit: u64,
    pub lender_ops: u64,
    pub uncertain_devices: u64,
    /// The first few details behind a count, for the person reading the report.
    pub notes: Vec<String>,
}

impl Tally {
    pub fn note(&mut self, text: String) {
        if self.notes.len() < 20 {
            self.notes.push(text);
        }
    }

    pub fn merge(&mut self, o: Tally) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += o.$f; )* };
        }
        add!(
            acked,
            stored,
            duplicated,
            lost,
            phantom,
            refused,
            refused_but_stored,
            unknown_payments,
            id_mismatch,
            racing_answers_differ,
            raced,
            voids_acked,
            void_mismatch,
            paid_mismatch,
            model_mismatch,
            answers,
            seq_reused,
            seq_back,
            core_refused,
            decisions,
            locked_decisions,
            wrong_locks,
            missed_locks,
            replays_after_loss,
            unexpected,
            interval_violations,
            bursts,
            burst_over,
            burst_none,
            addr_sent,
            addr_accepted,
            addr_limited,
            addr_limit,
            lender_ops,
            uncertain_devices
        );
        for n in o.notes {
            self.note(n);
        }
    }

    /// Every broken guarantee, by name; empty when the run held.
    pub fn violations(&self) -> Vec<(&'static str, u64)> {
        let addr_over = self.addr_accepted.saturating_sub(self.addr_limit);
        [
            ("payments duplicated", self.duplicated),
            ("acknowledged payments lost", self.lost),
            ("payments stored that were never sent", self.phantom),
            ("refused payments stored", self.refused_but_stored),
            ("payment ids not the acknowledged one", self.id_mismatch),
            (
                "racing retries answered differently",
                self.racing_answers_differ,
            ),
            ("voids not as acknowledged", self.void_mismatch),
            ("paid_minor not the sum of payments", self.paid_mismatch),
            ("server state not as acknowledged", self.model_mismatch),
            ("seq reused", self.seq_reused),
            ("seq gone back", self.seq_back),
            ("answers the core refused", self.core_refused),
            ("wrong locks", self.wrong_locks),
            ("missed locks", self.missed_locks),
            (
                "check-ins closer than the interval",
                self.interval_violations,
            ),
            ("burst check-ins over the per-device limit", self.burst_over),
            ("enrolls over the per-address limit", addr_over),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

pub struct Report {
    pub backend: &'static str,
    pub nodes: usize,
    pub devices: usize,
    pub interval_s: u64,
    pub setup_s: f64,
    pub run_s: f64,
    /// Seconds into the run the node was SIGKILLed, and how long it was away.
    pub kill: (f64, f64),
    pub stats: BTreeMap<Kind, KindStats>,
    pub tally: Tally,
    pub logs: PathBuf,
}

impl Report {
    pub fn print(&self) {
        let t = &self.tally;
        let nodes = if self.nodes > 1 {
            format!("{} nodes, the last", self.nodes)
        } else {
            "1 node (SQLite is a single-node store)".to_string()
        };
        println!(
            "\n== soak on {}: {nodes} SIGKILLed at {:.1} s and back after {:.1} s; {} devices, \
             check-in interval {} s, {:.0} s run (setup {:.1} s)",
            self.backend,
            self.kill.0,
            self.kill.1,
            self.devices,
            self.interval_s,
            self.run_s,
            self.setup_s
        );
        println!(
            "payments acknowledged {} / stored {} / duplicated {}   (lost {}, never sent but stored {}, \
             refused {} and stored {}, outcome unknown {}, raced to both nodes {}, voids acknowledged {})",
            t.acked,
            t.stored,
            t.duplicated,
            t.lost,
            t.phantom,
            t.refused,
            t.refused_but_stored,
            t.unknown_payments,
            t.raced,
            t.voids_acked
        );
        println!(
            "seq violations {}   (answers {}, reused {}, back {}, refused by the core {}; \
             replays refused after a lost answer {})",
            t.seq_reused + t.seq_back + t.core_refused,
            t.answers,
            t.seq_reused,
            t.seq_back,
            t.core_refused,
            t.replays_after_loss
        );
        println!(
            "wrong locks {}   (missed locks {}, decisions checked {}, of them locking (locked or held at the notice) {}; lender actions {}; \
             devices left uncertain {})",
            t.wrong_locks,
            t.missed_locks,
            t.decisions,
            t.locked_decisions,
            t.lender_ops,
            t.uncertain_devices
        );
        println!(
            "rate limits across nodes: per device {} bursts of 6 (3 per node): {} over, {} with none accepted; \
             check-ins closer than {} s: {}; per address: {} of {} enrolls accepted, {} limited (limit {})",
            t.bursts,
            t.burst_over,
            t.burst_none,
            self.interval_s,
            t.interval_violations,
            t.addr_accepted,
            t.addr_sent,
            t.addr_limited,
            t.addr_limit
        );
        println!(
            "{:<10} {:>8} {:>8} {:>8} {:>8}  other answers / transport errors",
            "kind", "2xx", "2xx/s", "p50 ms", "p99 ms"
        );
        for (kind, s) in &self.stats {
            println!(
                "{:<10} {:>8} {:>8.1} {:>8.2} {:>8.2}  {:?} / {}",
                kind.name(),
                s.ok_us.len(),
                s.ok_us.len() as f64 / self.run_s.max(0.001),
                s.p(0.50),
                s.p(0.99),
                s.other,
                s.transport
            );
        }
        for n in &t.notes {
            println!("  note: {n}");
        }
        if t.unexpected > 0 {
            println!("  ({} unexpected answers, see the notes)", t.unexpected);
        }
    }
}

/// Throughput and p99 per kind, one column per backend.
pub fn compare(reports: &[Report]) {
    if reports.len() < 2 {
        return;
    }
    print!("\n{:<10}", "kind");
    for r in reports {
        print!(" {:>22}", format!("{} 2xx/s  p99 ms", r.backend));
    }
    println!();
    let kinds: std::collections::BTreeSet<Kind> = reports
        .iter()
        .flat_map(|r| r.stats.keys().copied())
        .collect();
    for kind in kinds {
        print!("{:<10}", kind.name());
        for r in reports {
            let s = r.stats.get(&kind).cloned().unwrap_or_default();
            print!(
                " {:>22}",
                format!(
                    "{:.1}  {:.2}",
                    s.ok_us.len() as f64 / r.run_s.max(0.001),
                    s.p(0.99)
                )
            );
        }
        println!();
    }
}
