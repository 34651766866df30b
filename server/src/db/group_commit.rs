//! Group commit of check-ins on SQLite: the check-ins that arrive while one batch is being
//! written are written next, together, in one statement and one commit.
//!
//! Why: SQLite has one writer, and sqlx hands every statement to its connection's worker
//! thread and back. Per check-in that was a pool acquire, two thread hops and a commit
//! (a WAL append), which cost SQLite's thread more CPU than the statement itself. One
//! `UPDATE … FROM (VALUES …) RETURNING` for up to [`MAX_BATCH`] check-ins pays those once.
//!
//! Nothing is weakened: each row of the batch is the same compare-and-swap as
//! [`queries::checkin`] (key, replay memory as read, rate limit, `seq`), a row whose guard
//! fails is simply not returned (the caller sees `None`, as before), and every check-in is
//! answered only after the statement — and so its commit — has completed. A batch never
//! holds two check-ins of one device (the later one waits for the next batch), so each
//! returned row answers exactly one request.

use std::sync::{Arc, OnceLock};

use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::Backend;
use super::queries::{self, Checkin, Issued};
use crate::error::{Error, Result};

/// What a check-in's compare-and-swap returns: the committed row, `None` if the guard failed.
pub type Recorded = Option<(Issued, Option<String>)>;

/// Check-ins per statement at most (10 parameters each, far below either database's limit).
pub const MAX_BATCH: usize = 64;

/// One check-in waiting to be written, owned so it can wait in the queue.
#[derive(Debug)]
struct Job {
    device_id: String,
    device_key: String,
    now: i64,
    allowed_if_last_before: i64,
    old_nonces: String,
    new_nonces: String,
    seq_seen: i64,
    offline_counter: i64,
    app_version: String,
    seq: i64,
    reply: oneshot::Sender<Result<Recorded>>,
}

/// The queue in front of the writer; the writer task starts with the first check-in, on
/// the runtime that sends it.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    pool: AnyPool,
    backend: Backend,
    queue: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
}

impl GroupCommit {
    pub fn new(pool: AnyPool, backend: Backend) -> GroupCommit {
        GroupCommit {
            pool,
            backend,
            queue: Arc::new(OnceLock::new()),
        }
    }

    /// Records one check-in with the ones around it; answers once it is committed.
    pub async fn checkin(&self, c: &Checkin<'_>) -> Result<Recorded> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            device_id: c.device_id.to_owned(),
            device_key: c.device_key.to_owned(),
            now: c.now,
            allowed_if_last_before: c.allowed_if_last_before,
            old_nonces: c.old_nonces.to_owned(),
            new_nonces: c.new_nonces.to_owned(),
            seq_seen: queries::to_i64(c.seq_seen)?,
            offline_counter: queries::to_i64(c.offline_counter)?,
            app_version: c.app_version.to_owned(),
            seq: queries::to_i64(c.seq)?,
            reply,
        };
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_batches(self.pool.clone(), self.backend, rx));
            tx
        });
        if queue.send(job).is_err() {
            // The writer's runtime has ended (a test's): nothing was queued, so the
            // statement of its own is the same check-in.
            return queries::checkin(&self.pool, c).await;
        }
        answer
            .await
            .map_err(|_| Error::Internal("the check-in writer stopped".into()))?
    }
}

/// The writer: takes what has queued up, writes it in one statement, answers, repeats.
async fn write_batches(pool: AnyPool, backend: Backend, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut waiting: Vec<Job> = Vec::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(job) => waiting.push(job),
                None => return,
            }
        }
        let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
        let mut later: Vec<Job> = Vec::new();
        for job in waiting.drain(..) {
            take(job, &mut batch, &mut later);
        }
        while batch.len() < MAX_BATCH
            && let Ok(job) = queue.try_recv()
        {
            take(job, &mut batch, &mut later);
        }
        waiting = later;
        if !batch.is_empty() {
            write(&pool, backend, batch).await;
        }
    }
}

/// Puts `job` in `batch` unless the batch is full or already holds its device (then it
/// waits in `later` for the next batch).
fn take(job: Job, batch: &mut Vec<Job>, later: &mut Vec<Job>) {
    if job.reply.is_closed() {
        // Its request is gone (the client hung up): there is nobody to answer.
        return;
    }
    if batch.len() < MAX_BATCH && !batch.iter().any(|b| b.device_id == job.device_id) {
        batch.push(job);
    } else {
        later.push(job);
    }
}

/// Writes one batch and answers each of its check-ins.
async fn write(pool: &AnyPool, backend: Backend, batch: Vec<Job>) {
    match run(pool, backend, &batch).await {
        Ok(rows) => {
            for job in batch {
                let mine = rows.iter().find(|(id, _)| *id == job.device_id);
                let _ = job
                    .reply
                    .send(Ok(mine.map(|(_, recorded)| recorded.clone())));
            }
        }
        Err(e) => {
            tracing::warn!(check_ins = batch.len(), "writing a batch of check-ins: {e}");
            let text = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(Error::Internal(format!(
                    "writing a batch of check-ins: {text}"
                ))));
            }
        }
    }
}

/// The statement for `batch`, padded to the next power of two (a few statements, each
/// prepared once per connection), with its rows: `(device_id, returned columns)`.
async fn run(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Job],
) -> Result<Vec<(String, (Issued, Option<String>))>> {
    let size = batch.len().next_power_of_two().min(MAX_BATCH);
    let mut query = sqlx::query(statement(size, backend));
    for job in batch {
        query = query
            .bind(job.device_id.as_str())
            .bind(job.now)
            .bind(job.new_nonces.as_str())
            .bind(job.seq_seen)
            .bind(job.offline_counter)
            .bind(job.app_version.as_str())
            .bind(job.device_key.as_str())
            .bind(job.old_nonces.as_str())
            .bind(job.allowed_if_last_before)
            .bind(job.seq);
    }
    for _ in batch.len()..size {
        // A row that matches no device (its device_id is NULL), each NULL of its column's
        // type (PostgreSQL types the VALUES columns from the bound values).
        for (_, text) in COLUMNS {
            query = if text {
                query.bind(None::<String>)
            } else {
                query.bind(None::<i64>)
            };
        }
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("device_id")?, queries::issued_row(r)?)))
        .collect()
}

/// The values of one check-in in the statement, in order, and whether each is text.
const COLUMNS: [(&str, bool); 10] = [
    ("device_id", true),
    ("now", false),
    ("new_nonces", true),
    ("seq_seen", false),
    ("offline_counter", false),
    ("app_version", true),
    ("device_key", true),
    ("old_nonces", true),
    ("allowed_if_last_before", false),
    ("seq", false),
];

/// The batch statement for `size` check-ins (a power of two up to [`MAX_BATCH`]): per row,
/// exactly [`queries::checkin`]'s assignments and guard.
fn statement(size: usize, backend: Backend) -> &'static str {
    static SQLITE: OnceLock<Vec<String>> = OnceLock::new();
    static POSTGRES: OnceLock<Vec<String>> = OnceLock::new();
    let all = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
    .get_or_init(|| {
        (0..=MAX_BATCH.trailing_zeros())
            .map(|power| build(1 << power, backend))
            .collect()
    });
    &all[size.trailing_zeros() as usize]
}

fn build(size: usize, backend: Backend) -> String {
    // On SQLite plain `?` placeholders, bound in order: sqlx looks up the name of every
    // `$N` with `sqlite3_bind_parameter_name`, a linear search in SQLite, which made
    // binding 640 named parameters a fifth of SQLite's thread. PostgreSQL needs `$N`.
    let rows: Vec<String> = (0..size)
        .map(|row| {
            let values: Vec<String> = COLUMNS
                .iter()
                .enumerate()
                .map(|(i, (_, text))| {
                    let param = match backend {
                        Backend::Sqlite => "?".to_string(),
                        Backend::Postgres => format!("${}", row * COLUMNS.len() + i + 1),
                    };
                    let ty = if *text { "TEXT" } else { "BIGINT" };
                    format!("CAST({param} AS {ty})")
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    // RETURNING names the target's columns: PostgreSQL sees `v`'s there too.
    let returned: Vec<String> = queries::ISSUED_COLUMNS
        .split(", ")
        .map(|c| format!("devices.{c}"))
        .collect();
    format!(
        "WITH v ({}) AS (VALUES {}) \
         UPDATE devices SET \
         seq = CASE WHEN v.seq_seen > devices.seq THEN v.seq_seen + 1 ELSE devices.seq + 1 END, \
         last_checkin_at = v.now, recent_nonces = v.new_nonces, seq_seen = v.seq_seen, \
         offline_counter = v.offline_counter, app_version = v.app_version \
         FROM v WHERE devices.device_id = v.device_id AND devices.device_key = v.device_key \
         AND devices.recent_nonces = v.old_nonces \
         AND (devices.last_checkin_at IS NULL \
              OR devices.last_checkin_at <= v.allowed_if_last_before) \
         AND devices.seq = v.seq \
         RETURNING devices.device_id, {}",
        names.join(", "),
        rows.join(", "),
        returned.join(", ")
    )
}

#[cfg(test)]
#[path = "group_commit_tests.rs"]
mod tests;
