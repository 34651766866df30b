//! The bulk import's pure reading and checking (`finlock_server::devices::import`:
//! `table::read`, `sales::parse`, `payments::parse`) over arbitrary files.
//!
//! Input: a flags byte (bit 0: 0 a sales file, 1 a payments file), then the file.
//!
//! Invariants: no panic; a refused file lists at most 200 errors, sorted by line, no
//! more than it counts, each on a line the file has (0: the file as a whole); a file
//! whose form is good, written back as canonical CSV (every column, one line a row),
//! reads as the same cells, and its rows are judged the same (the same registrations or
//! payment lines, or refused in both).
#![no_main]

use finlock_server::devices::import::table::{self, Column, Row};
use finlock_server::devices::import::{MAX_REPORTED, Rejected, payments, sales};
use libfuzzer_sys::fuzz_target;

/// 2026-12-01.
const NOW: i64 = 1_796_083_200;

fn check_rejected(r: &Rejected, input: &[u8]) {
    assert!(r.errors.len() <= MAX_REPORTED);
    assert!(r.errors.len() <= r.error_count && r.error_count > 0);
    let lines = 1 + input.iter().filter(|b| **b == b'\n').count() as u64;
    for pair in r.errors.windows(2) {
        assert!(pair[0].line <= pair[1].line, "{r:?}");
    }
    for e in &r.errors {
        assert!(
            e.line <= lines,
            "line {} of a {lines}-line file: {e:?}",
            e.line
        );
        assert!(!e.reason.is_empty());
    }
}

/// The rows as canonical CSV: every column of the schema, LF, quoted where needed.
fn rewrite(rows: &[Row], schema: &[Column]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(schema.iter().map(|c| c.name)).unwrap();
    for row in rows {
        w.write_record((0..schema.len()).map(|i| row.get(i).unwrap_or("")))
            .unwrap();
    }
    w.into_inner().unwrap()
}

fn cells(rows: &[Row], n: usize) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| (0..n).map(|i| r.get(i).map(str::to_string)).collect())
        .collect()
}

fn run(file: &[u8], schema: &[Column], judge: impl Fn(&[u8]) -> Result<String, Rejected>) {
    let judged = judge(file);
    if let Err(r) = &judged {
        check_rejected(r, file);
    }
    let rows = match table::read(file, schema) {
        Ok(rows) => rows,
        Err(r) => {
            check_rejected(&r, file);
            assert!(judged.is_err(), "a file the table refuses cannot be good");
            return;
        }
    };
    let again = rewrite(&rows, schema);
    let reread = match table::read(&again, schema) {
        Ok(r) => r,
        // Only the size limit can differ (quoting grows a file).
        Err(r) => {
            assert!(
                again.len() > finlock_server::devices::import::MAX_BYTES,
                "{r:?}"
            );
            return;
        }
    };
    assert_eq!(cells(&rows, schema.len()), cells(&reread, schema.len()));
    match (judged, judge(&again)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("judged differently: {a:?} / {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    if flags & 1 == 0 {
        run(file, sales::SCHEMA, |f| {
            sales::parse(f, NOW).map(|s| {
                s.iter()
                    .map(|s| format!("{:?}", s.registration))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        });
    } else {
        run(file, payments::SCHEMA, |f| {
            payments::parse(f, NOW).map(|lines| {
                lines
                    .iter()
                    .map(|l| {
                        format!(
                            "{}|{}|{}|{:?}|{:?}",
                            l.device, l.amount, l.reference, l.currency, l.paid_at
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        });
    }
});
