//! The batch statement is the single statement's compare-and-swap, row by row.

use super::*;
use crate::db::Db;

const NOW: i64 = 1_767_225_600;

/// A file database (so readers and the writer are separate connections, as in production)
/// with `n` enrolled devices `d0`…: key `k`, no nonces, `seq` 1.
async fn db_with(n: usize) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}", dir.path().join("g.db").display()),
        1,
    )
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO lenders (lender_id, name, phone, payment_url, api_key_sha256, jwks, \
         created_at) VALUES ('l', 'L', '+1', 'https://p.example', 'h', '{}', 0)",
    )
    .execute(&db.write)
    .await
    .unwrap();
    for i in 0..n {
        sqlx::query(
            "INSERT INTO devices (device_id, lender_id, created_at, currency, plan, \
             total_minor, device_key, seq) VALUES ($1, 'l', 0, 'KES', '{}', 100, 'k', 1)",
        )
        .bind(format!("d{i}"))
        .execute(&db.write)
        .await
        .unwrap();
    }
    (dir, db)
}

/// A check-in of `device` with the guard values of a fresh enrollment.
fn checkin<'a>(device: &'a str, new_nonces: &'static str) -> Checkin<'a> {
    Checkin {
        device_id: device,
        device_key: "k",
        now: NOW,
        allowed_if_last_before: NOW - 10,
        old_nonces: "",
        new_nonces,
        seq_seen: 1,
        offline_counter: 0,
        app_version: "1.0",
        seq: 1,
    }
}

async fn stored(db: &Db, device: &str) -> (i64, String, Option<i64>) {
    let r =
        sqlx::query("SELECT seq, recent_nonces, last_checkin_at FROM devices WHERE device_id = $1")
            .bind(device)
            .fetch_one(&db.read)
            .await
            .unwrap();
    (
        r.try_get("seq").unwrap(),
        r.try_get("recent_nonces").unwrap(),
        r.try_get("last_checkin_at").unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_check_ins_of_many_devices_are_each_recorded_once() {
    let n = 150; // more than two full batches
    let (_dir, db) = db_with(n).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let db = db.clone();
        tasks.spawn(async move {
            let id = format!("d{i}");
            db.checkin(&checkin(&id, "n1")).await
        });
    }
    let mut issued = 0;
    while let Some(done) = tasks.join_next().await {
        let (row, _) = done.unwrap().unwrap().expect("every guard holds");
        assert_eq!(row.seq, 2);
        issued += 1;
    }
    assert_eq!(issued, n);
    for i in [0, n / 2, n - 1] {
        assert_eq!(
            stored(&db, &format!("d{i}")).await,
            (2, "n1".into(), Some(NOW))
        );
    }
    // The committed rows are what readers see: nothing was answered before its commit.
    let committed: i64 = sqlx::query("SELECT COUNT(*) AS n FROM devices WHERE seq = 2")
        .fetch_one(&db.read)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(committed, i64::try_from(n).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_check_ins_of_one_device_at_once_issue_one_seq() {
    let (_dir, db) = db_with(2).await;
    // Both read the same row: only one may win its compare-and-swap, whichever batch each
    // lands in.
    let (na, nb, nc) = (
        checkin("d0", "na"),
        checkin("d0", "nb"),
        checkin("d1", "nc"),
    );
    let (a, b, other) = tokio::join!(db.checkin(&na), db.checkin(&nb), db.checkin(&nc));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() != b.is_some(), "exactly one wins: {a:?} {b:?}");
    let winner = if a.is_some() { "na" } else { "nb" };
    assert_eq!(stored(&db, "d0").await, (2, winner.into(), Some(NOW)));
    assert_eq!(other.unwrap().map(|(i, _)| i.seq), Some(2));
}

#[tokio::test]
async fn a_failed_guard_answers_none_and_leaves_the_batch_alone() {
    let (_dir, db) = db_with(3).await;
    let wrong_key = Checkin {
        device_key: "other",
        ..checkin("d0", "x")
    };
    let stale_seq = Checkin {
        seq: 0,
        ..checkin("d1", "x")
    };
    let fine = checkin("d2", "n1");
    let (k, s, first) = tokio::join!(
        db.checkin(&wrong_key),
        db.checkin(&stale_seq),
        db.checkin(&fine)
    );
    assert!(k.unwrap().is_none());
    assert!(s.unwrap().is_none());
    assert!(first.unwrap().is_some());
    // Checked in at NOW: a second one at NOW + 5 with a 10 s limit fails the guard, and a
    // replayed nonce list (the one read before) fails too.
    let again = Checkin {
        now: NOW + 5,
        allowed_if_last_before: NOW - 5,
        old_nonces: "n1",
        seq: 2,
        ..checkin("d2", "n1 n2")
    };
    assert!(db.checkin(&again).await.unwrap().is_none());
    // The same check-in again: the nonce list it was judged against is gone.
    assert!(db.checkin(&checkin("d2", "n1 n3")).await.unwrap().is_none());
    assert_eq!(stored(&db, "d0").await, (1, String::new(), None));
    assert_eq!(stored(&db, "d2").await, (2, "n1".into(), Some(NOW)));
}

#[test]
fn the_statements_have_one_row_of_parameters_per_check_in() {
    let n = COLUMNS.len();
    for power in 0..=MAX_BATCH.trailing_zeros() {
        let size = 1usize << power;
        let sql = statement(size, Backend::Sqlite);
        assert_eq!(sql.matches('?').count(), size * n, "{sql}");
        assert!(!sql.contains('$'), "positional only on SQLite: {sql}");
        let sql = statement(size, Backend::Postgres);
        assert!(sql.contains(&format!("${}", size * n)), "{sql}");
        assert!(!sql.contains(&format!("${}", size * n + 1)), "{sql}");
        assert!(!sql.contains('?'), "{sql}");
    }
}
