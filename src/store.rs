//! Store: the database that holds every case AGE's mailboxes opened, the
//! mail behind it, the deadlines it runs on and the mail queued in reply.
//! Every query lives here or in a child module, so the callers never see
//! SQL and a PostgreSQL backend can be added behind the same methods.
//!
//! One mail is recorded in ONE transaction ([`Store::begin`] → [`Tx::history`]
//! → [`Tx::allocate_case_number`] → [`Tx::record`] → [`Tx::commit`]); the source
//! acknowledges the mail on the server only after that commit. SQLite runs in
//! WAL mode with `synchronous = FULL`, so a commit that returned survives a
//! power cut — the guarantee the acknowledgement relies on.
//!
//! This file holds the connection, the transaction and what its children
//! share; the children follow the seams of the product: a mail's history
//! and its record (`history`, `record`), staff actions (`staff`), the case
//! views of `cases list/show` (`cases`), the outbox (`outbox`) and the
//! scheduler's reads (`schedule`). Rows are read by column name into typed
//! structs, so a column added or reordered cannot shift a value into the
//! wrong field; dates and times are `chrono` values, written as text whose
//! order is time order (`column`). A name or a time that does not read
//! never panics: it fails the read (the case views), or where a read was
//! lenient before it stays so (the scheduler skips such a deadline; a
//! case's service reads as `unknown`; an outbox row's unreadable time reads
//! as now; a case's facts lose only the value that does not read).

mod cases;
mod column;
mod history;
mod outbox;
mod record;
mod schedule;
mod staff;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::decide::Disposition;
use crate::domain::{EventKind, Language};
use crate::util::timestamp;

pub use cases::{
    AttachmentSummary, CaseDetail, CaseSummary, DeadlineRow, DigestCases, DigestSection, EventRow,
    MessageSummary, OutboxSummary,
};
pub use outbox::OutboxRow;
pub use record::{Record, Recorded};
pub use schedule::OpenDeadline;

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// This process's turn to write, and the connection every write
    /// transaction runs on. SQLite has one writer at a time, and a writer
    /// that finds the lock taken sleeps in steps of up to 100 ms; queued
    /// here instead, the next one starts the moment the last one ends.
    /// One connection for all writes keeps its page cache: a connection
    /// that sees another's commit throws its cache away. Other processes
    /// (the CLI) still meet the busy timeout.
    writer: Arc<tokio::sync::Mutex<Option<PoolConnection<Sqlite>>>>,
    /// Whether the writer keeps its connection between transactions (not
    /// for an in-memory database, whose one connection the reads need).
    sticky: bool,
}

/// A write transaction holding SQLite's write lock from its first statement
/// (`BEGIN IMMEDIATE`), so the reads that feed a decision cannot go stale.
///
/// It is driven with plain `BEGIN`/`COMMIT`/`ROLLBACK` statements rather than
/// sqlx's `Transaction`: when a COMMIT fails (a full disk, an I/O error)
/// SQLite may already have rolled back, sqlx's rollback then fails, and its
/// connection keeps a transaction depth of one for good — every later
/// transaction on it is refused. Here a failed or abandoned transaction
/// rolls back, and a connection whose state is in doubt is closed, so the
/// daemon recovers by itself once the database is writable again.
pub struct Tx {
    conn: Option<PoolConnection<Sqlite>>,
    /// The turn to write; the connection goes back into it when the
    /// transaction ended well.
    writer: Option<Writer>,
    /// Runs with `synchronous = NORMAL` ([`Store::begin_send`]); the
    /// connection goes back to FULL when the transaction ends.
    relaxed: bool,
}

type Writer = tokio::sync::OwnedMutexGuard<Option<PoolConnection<Sqlite>>>;

/// Whether an error says the database could not be used at all — locked
/// by another writer, a full disk, an I/O error, no connection — rather
/// than something about the mail. Such failures say nothing against the
/// mail, so they do not count towards setting it aside.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(e)) => {
                // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL,
                // SQLITE_CANTOPEN, SQLITE_PROTOCOL (primary codes).
                let primary = e
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                matches!(primary, Some(5 | 6 | 10 | 13 | 14 | 15))
            }
            Some(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            _ => cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.raw_os_error() == Some(28)),
        })
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        Store::open_with(url, Duration::from_secs(30)).await
    }

    /// Opens with a given busy timeout: how long a write waits for a lock
    /// held by another writer before it fails.
    pub async fn open_with(url: &str, busy_timeout: Duration) -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("database URL {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout)
            // The savepoint of each mail of a batch keeps its sub-journal: in
            // memory, not as two writes a page to a temporary file.
            .pragma("temp_store", "memory");
        let filename = options.get_filename();
        if filename != Path::new(":memory:")
            && let Some(parent) = filename.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating database folder {}", parent.display()))?;
        }
        let in_memory = url.contains(":memory:") || filename == Path::new(":memory:");
        let pool = SqlitePoolOptions::new()
            // One in-memory database lives only as long as its one connection.
            .max_connections(if in_memory { 1 } else { 4 })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .connect_with(options)
            .await
            .with_context(|| format!("opening database {url}"))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .context("applying database migrations")?;
        Ok(Store {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(None)),
            sticky: !in_memory,
        })
    }

    /// A private in-memory database (dry runs and tests).
    pub async fn memory() -> anyhow::Result<Store> {
        Store::open("sqlite::memory:").await
    }

    pub async fn begin(&self) -> anyhow::Result<Tx> {
        self.begin_as(false).await
    }

    /// A write transaction; `relaxed` ones commit without fsync.
    async fn begin_as(&self, relaxed: bool) -> anyhow::Result<Tx> {
        let mut writer = self.writer.clone().lock_owned().await;
        let mut conn = match writer.take() {
            Some(conn) => conn,
            None => self
                .pool
                .acquire()
                .await
                .context("connecting to the database")?,
        };
        let begun = async {
            if relaxed {
                sqlx::query("PRAGMA synchronous = NORMAL")
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await
        }
        .await;
        if let Err(e) = begun {
            // Busy or failing: nothing was started, but do not reuse a
            // connection that just failed (or was left without fsync).
            conn.close_on_drop();
            return Err(e).context("starting a transaction");
        }
        Ok(Tx {
            conn: Some(conn),
            writer: self.sticky.then_some(writer),
            relaxed,
        })
    }

    /// How each of `source_keys` was handled, for those recorded before.
    pub async fn deliveries(
        &self,
        mailbox: &str,
        source_keys: &[&str],
    ) -> anyhow::Result<HashMap<String, Disposition>> {
        deliveries(&self.pool, mailbox, source_keys).await
    }

    /// How this delivery was handled, if it was recorded before.
    pub async fn delivery(
        &self,
        mailbox: &str,
        source_key: &str,
    ) -> anyhow::Result<Option<Disposition>> {
        delivery(&self.pool, mailbox, source_key).await
    }

    /// (UIDVALIDITY, last UID) of an IMAP mailbox.
    pub async fn sync_state(&self, mailbox: &str) -> anyhow::Result<Option<(u32, u32)>> {
        let row: Option<SyncState> =
            sqlx::query_as("SELECT uidvalidity, last_uid FROM mailbox_sync WHERE mailbox = ?")
                .bind(mailbox)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| (r.uidvalidity as u32, r.last_uid as u32)))
    }

    pub async fn set_sync_state(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        last_uid: u32,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO mailbox_sync (mailbox, uidvalidity, last_uid, last_seen_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                 last_uid = excluded.last_uid, last_seen_at = excluded.last_seen_at",
        )
        .bind(mailbox)
        .bind(uidvalidity as i64)
        .bind(last_uid as i64)
        .bind(timestamp(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A row of `mailbox_sync`: where an IMAP mailbox was read up to.
#[derive(sqlx::FromRow)]
struct SyncState {
    uidvalidity: i64,
    last_uid: i64,
}

/// How a delivery was handled: the delivery row with its message's reason.
#[derive(sqlx::FromRow)]
struct KeyedDeliveryRow {
    source_key: String,
    disposition: String,
    quarantine_reason: Option<String>,
}

/// JSON kept as text (labels, flags, facts, event details): text that does
/// not parse reads as `null` rather than failing the whole read.
fn json_column(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

async fn delivery<'e, E>(
    db: E,
    mailbox: &str,
    source_key: &str,
) -> anyhow::Result<Option<Disposition>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    Ok(deliveries(db, mailbox, &[source_key])
        .await?
        .remove(source_key))
}

/// How each of `source_keys` was handled, for those recorded before: one
/// query for a whole batch.
async fn deliveries<'e, E>(
    db: E,
    mailbox: &str,
    source_keys: &[&str],
) -> anyhow::Result<HashMap<String, Disposition>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    if source_keys.is_empty() {
        return Ok(HashMap::new());
    }
    // Only placeholders are written into the statement; the keys are bound.
    let marks = vec!["?"; source_keys.len()].join(", ");
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT d.source_key, d.disposition, m.quarantine_reason FROM delivery d
         JOIN message m ON m.id = d.message_id WHERE d.mailbox = ? AND d.source_key IN ({marks})"
    ));
    let mut query = sqlx::query_as::<_, KeyedDeliveryRow>(sql).bind(mailbox);
    for key in source_keys {
        query = query.bind(*key);
    }
    Ok(query
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| {
            let disposition = disposition_from(r.disposition, r.quarantine_reason);
            (r.source_key, disposition)
        })
        .collect())
}

fn disposition_from(kind: String, reason: Option<String>) -> Disposition {
    match kind.as_str() {
        "quarantine" => Disposition::Quarantine(reason.unwrap_or_default()),
        "private_key" => Disposition::PrivateKey,
        _ => Disposition::Processed,
    }
}

fn language_from(code: Option<String>) -> Option<Language> {
    code?.parse().ok()
}

/// Queues one mail; a key already queued is left alone (idempotency).
async fn insert_outgoing(
    tx: &mut SqliteConnection,
    o: &crate::compose::Outgoing,
    case_id: Option<i64>,
    message: Option<i64>,
    now: &str,
) -> anyhow::Result<usize> {
    let done = sqlx::query(
        "INSERT INTO outbox (key, kind, case_id, in_message, from_name, from_addr, to_addr, subject, message_id,
            in_reply_to, refs, languages, body, created_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&o.key)
    .bind(o.kind)
    .bind(case_id)
    .bind(message)
    .bind(&o.from_name)
    .bind(&o.from_address)
    .bind(o.to.to_lowercase())
    .bind(&o.subject)
    .bind(&o.message_id)
    .bind(&o.in_reply_to)
    .bind(serde_json::to_string(&o.references)?)
    .bind(serde_json::to_string(&o.languages)?)
    .bind(&o.body)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() as usize)
}

async fn insert_event(
    tx: &mut SqliteConnection,
    case_id: Option<i64>,
    message: Option<i64>,
    now: DateTime<Utc>,
    actor: &str,
    kind: EventKind,
    detail: &serde_json::Value,
) -> anyhow::Result<()> {
    let event = NewEvent {
        case_id,
        message,
        actor,
        kind,
        detail: detail.to_string(),
    };
    insert_events(tx, now, &[event]).await
}

/// One row of a case's audit trail, to be written.
struct NewEvent<'a> {
    case_id: Option<i64>,
    message: Option<i64>,
    actor: &'a str,
    kind: EventKind,
    detail: String,
}

/// Writes `events` in one statement: a mail's events, or those of the
/// replies a server accepted together.
async fn insert_events(
    tx: &mut SqliteConnection,
    now: DateTime<Utc>,
    events: &[NewEvent<'_>],
) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut insert = sqlx::QueryBuilder::<Sqlite>::new("");
    push_events(&mut insert, now, events);
    insert.build().execute(&mut *tx).await?;
    Ok(())
}

/// The INSERT of `events` (not empty), pushed onto a statement being built.
fn push_events(q: &mut sqlx::QueryBuilder<Sqlite>, now: DateTime<Utc>, events: &[NewEvent<'_>]) {
    let at = timestamp(now);
    q.push("INSERT INTO case_event (case_id, message_id, at, actor, kind, detail) ");
    q.push_values(events, |mut row, e| {
        row.push_bind(e.case_id)
            .push_bind(e.message)
            .push_bind(at.clone())
            .push_bind(e.actor.to_string())
            .push_bind(e.kind)
            .push_bind(e.detail.clone());
    });
}

impl Tx {
    /// The delivery was recorded already (e.g. before a crash prevented the ack).
    pub async fn delivery(
        &mut self,
        mailbox: &str,
        source_key: &str,
    ) -> anyhow::Result<Option<Disposition>> {
        delivery(self.conn(), mailbox, source_key).await
    }

    /// [`Store::deliveries`] inside the transaction.
    pub async fn deliveries(
        &mut self,
        mailbox: &str,
        source_keys: &[&str],
    ) -> anyhow::Result<HashMap<String, Disposition>> {
        deliveries(self.conn(), mailbox, source_keys).await
    }

    /// Opens a savepoint: what follows can be undone alone
    /// ([`Tx::undo_to_savepoint`]) without losing the rest of the
    /// transaction — one mail of a batch failing keeps the others.
    pub async fn savepoint(&mut self) -> anyhow::Result<()> {
        self.run("SAVEPOINT mail").await
    }

    /// Keeps what was done since the savepoint, as part of the transaction,
    /// and opens the next one: one round trip between two mails. (COMMIT
    /// ends whatever savepoint is still open.)
    pub async fn next_savepoint(&mut self) -> anyhow::Result<()> {
        self.run("RELEASE mail; SAVEPOINT mail").await
    }

    /// Undoes what was done since the savepoint, which stays open for
    /// what follows.
    pub async fn undo_to_savepoint(&mut self) -> anyhow::Result<()> {
        self.run("ROLLBACK TO mail").await
    }

    async fn run(&mut self, statement: &'static str) -> anyhow::Result<()> {
        sqlx::query(statement)
            .execute(self.conn())
            .await
            .with_context(|| statement.to_string())?;
        Ok(())
    }

    pub async fn commit(self) -> anyhow::Result<()> {
        self.end("COMMIT").await.context("committing")
    }

    pub async fn rollback(self) -> anyhow::Result<()> {
        self.end("ROLLBACK").await.context("rolling back")
    }

    async fn end(mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let mut result = sqlx::query(statement).execute(&mut *conn).await;
        if result.is_ok() && self.relaxed {
            result = sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *conn)
                .await;
        }
        if result.is_err() {
            // SQLite may or may not have rolled back already; make sure, and
            // let the pool replace the connection whatever its state.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            conn.close_on_drop();
        } else if let Some(writer) = self.writer.as_mut() {
            // The next writer goes on with this connection and its cache.
            **writer = Some(conn);
        }
        result.map(drop)
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_deref_mut()
            .expect("a transaction's connection is taken only when it ends")
    }
}

impl std::ops::Deref for Tx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_deref()
            .expect("a transaction's connection is taken only when it ends")
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn()
    }
}

/// A transaction dropped without COMMIT or ROLLBACK (an error or a panic on
/// the way) is rolled back; when that is not possible, its connection is
/// closed, which rolls it back too.
impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.relaxed {
            // Never hand a connection without fsync back to the pool.
            conn.close_on_drop();
            return;
        }
        let writer = self.writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                        conn.close_on_drop();
                    } else if let Some(mut writer) = writer {
                        *writer = Some(conn);
                    }
                    // The next writer starts after the rollback, not into it.
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

#[cfg(test)]
mod unavailable_tests {
    use super::is_unavailable;
    use anyhow::Context as _;

    #[test]
    fn database_trouble_is_told_apart_from_trouble_with_a_mail() {
        let pool: anyhow::Result<()> = Err(sqlx::Error::PoolTimedOut).context("recording");
        assert!(is_unavailable(&pool.unwrap_err()));
        let disk: anyhow::Result<()> =
            Err(std::io::Error::from_raw_os_error(28)).context("writing spool copy");
        assert!(is_unavailable(&disk.unwrap_err()));
        assert!(!is_unavailable(&anyhow::anyhow!(
            "processing panicked: boom"
        )));
        assert!(!is_unavailable(&anyhow::anyhow!("template error")));
    }
}

#[cfg(test)]
mod decoding_tests {
    use super::Store;

    /// A name outside the vocabulary in a row (a hand edit, a newer
    /// version's stage) fails the read that meets it instead of panicking.
    #[tokio::test]
    async fn a_name_outside_the_vocabulary_is_an_error_not_a_panic() {
        let store = Store::memory().await.unwrap();
        let t = "2026-01-05T09:00:00Z";
        sqlx::query(
            "INSERT INTO \"case\" (number, service, stage, status, subject, mailbox, created_at, updated_at)
             VALUES ('AGE-2026-00001', 'mpass', 'request', 'pondering', 's', 'm', ?, ?)",
        )
        .bind(t)
        .bind(t)
        .execute(&store.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO outbox (key, kind, from_name, from_addr, to_addr, subject, message_id, refs, languages,
                body, created_at, next_attempt_at)
             VALUES ('k', 'carrier_pigeon', 'n', 'a@x', 'b@x', 's', '<m@x>', '[]', '[]', 'b', ?, ?)",
        )
        .bind(t)
        .bind(t)
        .execute(&store.pool)
        .await
        .unwrap();
        assert!(store.list_cases().await.is_err());
        assert!(store.case_detail("AGE-2026-00001").await.is_err());
        assert!(store.due_outbox(chrono::Utc::now(), 10).await.is_err());
    }
}
