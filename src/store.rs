//! Store: the database. Every query lives here, so the callers never see
//! SQL and a PostgreSQL backend can be added behind the same methods.
//!
//! One mail is recorded in ONE transaction ([`Store::begin`] → [`Tx::history`]
//! → [`Tx::allocate_case_number`] → [`Tx::record`] → [`Tx::commit`]); the source
//! acknowledges the mail on the server only after that commit. SQLite runs in
//! WAL mode with `synchronous = FULL`, so a commit that returned survives a
//! power cut — the guarantee the acknowledgement relies on.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};

use crate::decide::{CaseAction, CaseRef, Decision, Disposition, History, Threading};
use crate::domain::{
    CaseStatus, DeadlineKind, Environment, Language, OutgoingKind, Service, Stage, subject_tag,
};
use crate::inspect::Inspection;
use crate::parse::Mail;
use crate::util::timestamp;

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
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
    /// Runs with `synchronous = NORMAL` ([`Store::begin_send`]); the
    /// connection goes back to FULL when the transaction ends.
    relaxed: bool,
}

/// Everything that is written for one mail.
pub struct Record<'a> {
    pub mailbox: &'a str,
    pub source_key: &'a str,
    pub mail: &'a Mail,
    pub inspection: &'a Inspection,
    pub threading: &'a Threading,
    pub decision: &'a Decision,
    /// The copy to keep: the raw mail, its redacted copy, or nothing.
    pub stored: Option<&'a [u8]>,
    pub spool_path: Option<&'a str>,
    pub environment: Option<Environment>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub message: i64,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub new_case: bool,
    pub queued: usize,
}

/// One line of `cases list`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub number: String,
    pub service: Service,
    pub stage: Stage,
    pub status: CaseStatus,
    pub subject: String,
    pub institution: Option<String>,
    pub idno: Option<String>,
    pub language: Option<String>,
    pub opened_by: Option<String>,
    pub mailbox: String,
    pub assigned_to: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub messages: i64,
    pub priority: String,
    pub labels: serde_json::Value,
    /// Fields the current step still needs.
    pub missing: serde_json::Value,
    /// The earliest open deadline AGE holds itself to (answer, examination).
    pub due: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub participants: Vec<String>,
    pub deadlines: Vec<DeadlineRow>,
    pub messages: Vec<MessageSummary>,
    pub events: Vec<EventRow>,
    pub outbox: Vec<OutboxSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineRow {
    pub kind: DeadlineKind,
    pub due: String,
    pub met_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub extended: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageSummary {
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: String,
    pub received_at: String,
    pub status: String,
    pub flags: serde_json::Value,
    pub raw_stored: bool,
    pub deliveries: Vec<String>,
    pub attachments: Vec<AttachmentSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentSummary {
    pub name: Option<String>,
    pub content_type: String,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxSummary {
    pub kind: OutgoingKind,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub created_at: String,
    pub attempts: i64,
    pub sent_at: Option<String>,
    pub failed_at: Option<String>,
    pub last_error: Option<String>,
}

/// An open deadline with the case facts a reminder needs.
#[derive(Debug, Clone)]
pub struct OpenDeadline {
    pub case_id: i64,
    pub number: String,
    pub service: Service,
    pub stage: Stage,
    pub status: CaseStatus,
    pub subject: String,
    pub opened_by: Option<String>,
    pub language: Option<Language>,
    pub missing: Vec<String>,
    pub kind: DeadlineKind,
    pub due: chrono::NaiveDate,
    pub reminders: u32,
}

/// A queued mail, as the outbox worker sends it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub key: String,
    pub kind: OutgoingKind,
    pub case_id: Option<i64>,
    pub from_name: String,
    pub from_addr: String,
    pub to_addr: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

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
            .busy_timeout(busy_timeout);
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
        Ok(Store { pool })
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
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("connecting to the database")?;
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
            relaxed,
        })
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
        let row = sqlx::query("SELECT uidvalidity, last_uid FROM mailbox_sync WHERE mailbox = ?")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get::<i64, _>(0) as u32, r.get::<i64, _>(1) as u32)))
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

    pub async fn list_cases(&self) -> anyhow::Result<Vec<CaseSummary>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY c.id",
            *CASE_SELECT
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_summary).collect()
    }

    pub async fn case_detail(&self, number: &str) -> anyhow::Result<Option<CaseDetail>> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.number = ?",
            *CASE_SELECT
        )))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let summary = case_summary(&row)?;
        let case_id: i64 = row.get("id");
        let participants = sqlx::query_scalar(
            "SELECT address FROM case_participant WHERE case_id = ? ORDER BY address",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut messages = Vec::new();
        for m in sqlx::query(
            "SELECT id, message_id, from_addr, subject, received_at, status, flags, raw IS NOT NULL AS raw_stored
             FROM message WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        {
            let id: i64 = m.get("id");
            let deliveries = sqlx::query_scalar("SELECT mailbox FROM delivery WHERE message_id = ? ORDER BY received_at")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
            let attachments = sqlx::query(
                "SELECT name, content_type, kind, size, sha256 FROM attachment WHERE message_id = ? ORDER BY id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|a| AttachmentSummary {
                name: a.get("name"),
                content_type: a.get("content_type"),
                kind: a.get("kind"),
                size: a.get("size"),
                sha256: a.get("sha256"),
            })
            .collect();
            messages.push(MessageSummary {
                message_id: m.get("message_id"),
                from: m.get("from_addr"),
                subject: m.get("subject"),
                received_at: m.get("received_at"),
                status: m.get("status"),
                flags: json_column(m.get("flags")),
                raw_stored: m.get::<bool, _>("raw_stored"),
                deliveries,
                attachments,
            });
        }
        let events = sqlx::query(
            "SELECT at, actor, kind, detail FROM case_event WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|e| EventRow {
            at: e.get("at"),
            actor: e.get("actor"),
            kind: e.get("kind"),
            detail: json_column(e.get("detail")),
        })
        .collect();
        let outbox = sqlx::query(
            "SELECT kind, to_addr, subject, message_id, created_at, attempts, sent_at, failed_at, last_error
             FROM outbox WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|o| OutboxSummary {
            kind: o.get("kind"),
            to: o.get("to_addr"),
            subject: o.get("subject"),
            message_id: o.get("message_id"),
            created_at: o.get("created_at"),
            attempts: o.get("attempts"),
            sent_at: o.get("sent_at"),
            failed_at: o.get("failed_at"),
            last_error: o.get("last_error"),
        })
        .collect();
        let deadlines = sqlx::query("SELECT kind, due, met_at, cancelled_at, extended FROM deadline WHERE case_id = ? ORDER BY due")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| DeadlineRow {
                kind: r.get("kind"),
                due: r.get("due"),
                met_at: r.get("met_at"),
                cancelled_at: r.get("cancelled_at"),
                extended: r.get::<i64, _>("extended") != 0,
            })
            .collect();
        Ok(Some(CaseDetail {
            summary,
            participants,
            deadlines,
            messages,
            events,
            outbox,
        }))
    }

    /// A staff action on a case, in one transaction with its event.
    async fn staff_action(
        &self,
        number: &str,
        by: &str,
        kind: &str,
        detail: serde_json::Value,
        apply: impl for<'t> FnOnce(
            i64,
            &'t mut SqliteConnection,
        ) -> futures::future::BoxFuture<'t, anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM \"case\" WHERE number = ?")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
        else {
            anyhow::bail!("no case {number}");
        };
        apply(id, &mut tx).await?;
        sqlx::query("UPDATE \"case\" SET updated_at = ? WHERE id = ?")
            .bind(timestamp(Utc::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_event(
            &mut tx,
            Some(id),
            None,
            Utc::now(),
            &format!("staff:{by}"),
            kind,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `cases advance`: the case moves to `stage`; what AGE owed at the old
    /// stage is met, and it is the beneficiary's turn.
    pub async fn advance(
        &self,
        number: &str,
        stage: Stage,
        note: &str,
        by: &str,
    ) -> anyhow::Result<()> {
        let detail = serde_json::json!({"to": stage, "note": note});
        self.staff_action(number, by, "stage_changed", detail, move |id, tx| {
            Box::pin(async move {
                let now = timestamp(Utc::now());
                sqlx::query("UPDATE deadline SET met_at = ? WHERE case_id = ? AND met_at IS NULL AND kind IN (?, ?)")
                    .bind(&now)
                    .bind(id)
                    .bind(DeadlineKind::Answer)
                    .bind(DeadlineKind::Examination)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE \"case\" SET stage = ?, status = ? WHERE id = ?")
                    .bind(stage)
                    .bind(CaseStatus::WaitingForBeneficiary)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn assign(&self, number: &str, who: &str, by: &str) -> anyhow::Result<()> {
        let who = who.to_string();
        let detail = serde_json::json!({"to": who});
        self.staff_action(number, by, "assigned", detail, move |id, tx| {
            Box::pin(async move {
                sqlx::query("UPDATE \"case\" SET assigned_to = ? WHERE id = ?")
                    .bind(&who)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// `cases close`: the case ends (closed, or rejected); nothing is due any more.
    pub async fn close(
        &self,
        number: &str,
        reason: &str,
        rejected: bool,
        by: &str,
    ) -> anyhow::Result<()> {
        let status = if rejected {
            CaseStatus::Rejected
        } else {
            CaseStatus::Closed
        };
        let detail = serde_json::json!({"status": status, "reason": reason});
        self.staff_action(number, by, "closed", detail, move |id, tx| {
            Box::pin(async move {
                let now = timestamp(Utc::now());
                sqlx::query("UPDATE deadline SET cancelled_at = ? WHERE case_id = ? AND met_at IS NULL AND cancelled_at IS NULL")
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE \"case\" SET status = ? WHERE id = ?")
                    .bind(status)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// `cases extend`: the examination deadline moves by `days`, once.
    pub async fn extend(
        &self,
        number: &str,
        days: u32,
        reason: &str,
        by: &str,
        calendar: &crate::calendar::Calendar,
    ) -> anyhow::Result<String> {
        let row = sqlx::query(
            "SELECT d.due, d.extended FROM deadline d JOIN \"case\" c ON c.id = d.case_id
             WHERE c.number = ? AND d.kind = ? AND d.met_at IS NULL AND d.cancelled_at IS NULL",
        )
        .bind(number)
        .bind(DeadlineKind::Examination)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            anyhow::bail!("case {number} has no open examination deadline to extend");
        };
        anyhow::ensure!(
            row.get::<i64, _>("extended") == 0,
            "the examination of {number} was extended already (once is the law's limit)"
        );
        let due: chrono::NaiveDate = row.get::<String, _>("due").parse()?;
        let new_due = calendar.add_days(due, days).to_string();
        let detail = serde_json::json!({"kind": DeadlineKind::Examination, "from": due.to_string(), "to": new_due, "days": days, "reason": reason});
        let value = new_due.clone();
        self.staff_action(number, by, "deadline_extended", detail, move |id, tx| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE deadline SET due = ?, extended = 1 WHERE case_id = ? AND kind = ?",
                )
                .bind(&value)
                .bind(id)
                .bind(DeadlineKind::Examination)
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(new_due)
    }

    /// Deadlines not met nor cancelled, of cases still open, with what a
    /// reminder needs to say.
    pub async fn open_deadlines(&self) -> anyhow::Result<Vec<OpenDeadline>> {
        let rows = sqlx::query(
            "SELECT c.id, c.number, c.service, c.stage, c.status, c.subject, c.opened_by, c.language, c.missing,
                    d.kind, d.due, d.reminders
             FROM deadline d JOIN \"case\" c ON c.id = d.case_id
             WHERE d.met_at IS NULL AND d.cancelled_at IS NULL AND c.status NOT IN (?, ?)
             ORDER BY d.due, c.id",
        )
        .bind(CaseStatus::Closed)
        .bind(CaseStatus::Rejected)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(OpenDeadline {
                    case_id: r.get("id"),
                    number: r.get("number"),
                    service: r.try_get("service").ok()?,
                    stage: r.try_get("stage").ok()?,
                    status: r.try_get("status").ok()?,
                    subject: r.get("subject"),
                    opened_by: r.get("opened_by"),
                    language: language_from(r.get("language")),
                    missing: serde_json::from_str(r.get::<&str, _>("missing")).unwrap_or_default(),
                    kind: r.try_get("kind").ok()?,
                    due: r.get::<String, _>("due").parse().ok()?,
                    reminders: r.get::<i64, _>("reminders") as u32,
                })
            })
            .collect())
    }

    /// Queues scheduler mail (reminders, digests, alerts) with its keys; a
    /// follow-up also counts itself on its deadline and moves it on.
    pub async fn queue(
        &self,
        items: &[(Option<i64>, crate::decide::Outgoing)],
        followup: Option<(i64, chrono::NaiveDate)>,
    ) -> anyhow::Result<usize> {
        let mut tx = self.begin().await?;
        let now = timestamp(Utc::now());
        let mut queued = 0;
        for (case_id, o) in items {
            let n = insert_outgoing(&mut tx, o, *case_id, None, &now).await?;
            if n > 0
                && let Some(id) = case_id
            {
                insert_event(
                    &mut tx,
                    Some(*id),
                    None,
                    Utc::now(),
                    "scheduler",
                    &format!("{}_queued", o.kind.as_str()),
                    &serde_json::json!({"to": o.to, "subject": o.subject}),
                )
                .await?;
            }
            queued += n;
        }
        if let Some((case_id, next)) = followup
            && queued > 0
        {
            sqlx::query("UPDATE deadline SET reminders = reminders + 1, due = ? WHERE case_id = ? AND kind = ?")
                .bind(next.to_string())
                .bind(case_id)
                .bind(DeadlineKind::Followup)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Whether a mail with this outbox key was queued already.
    pub async fn queued(&self, key: &str) -> anyhow::Result<bool> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE key = ?")
                .bind(key)
                .fetch_one(&self.pool)
                .await?
                > 0,
        )
    }

    /// Events of these kinds since `since` (RFC 3339), newest last.
    pub async fn events_since(
        &self,
        kinds: &[&str],
        since: &str,
    ) -> anyhow::Result<Vec<(Option<String>, EventRow)>> {
        let rows = sqlx::query(
            "SELECT c.number, e.at, e.actor, e.kind, e.detail FROM case_event e LEFT JOIN \"case\" c ON c.id = e.case_id
             WHERE e.at > ? AND e.kind IN (SELECT value FROM json_each(?)) ORDER BY e.id",
        )
        .bind(since)
        .bind(serde_json::to_string(kinds)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("number"),
                    EventRow {
                        at: r.get("at"),
                        actor: r.get("actor"),
                        kind: r.get("kind"),
                        detail: json_column(r.get("detail")),
                    },
                )
            })
            .collect())
    }

    /// When each mailbox last received mail.
    pub async fn last_mail(&self) -> anyhow::Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT mailbox, MAX(received_at) FROM delivery GROUP BY mailbox")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Outbox rows whose time has come, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> anyhow::Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT id, key, kind, case_id, from_name, from_addr, to_addr, subject, message_id, in_reply_to, refs, body, attempts, created_at
             FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT ?",
        )
        .bind(timestamp(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| OutboxRow {
                id: r.get("id"),
                key: r.get("key"),
                kind: r.get("kind"),
                case_id: r.get("case_id"),
                from_name: r.get("from_name"),
                from_addr: r.get("from_addr"),
                to_addr: r.get("to_addr"),
                subject: r.get("subject"),
                message_id: r.get("message_id"),
                in_reply_to: r.get("in_reply_to"),
                references: serde_json::from_str(r.get::<&str, _>("refs")).unwrap_or_default(),
                body: r.get("body"),
                attempts: r.get::<i64, _>("attempts") as u32,
                created_at: DateTime::parse_from_rfc3339(r.get::<&str, _>("created_at"))
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|_| Utc::now()),
            })
            .collect())
    }

    /// When the next unsent row becomes due, if any.
    pub async fn next_outbox_due(&self) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn outbox_backlog(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Marks a row sent in a transaction that the caller keeps open while it
    /// hands the mail to the server, then commits on acceptance (or rolls
    /// back on failure). The commit is then the only step between the
    /// server's acceptance and the record of it: a crash anywhere else either
    /// did not send or did record. That transaction commits without fsync
    /// (`synchronous = NORMAL`): a kill cannot lose it, only a power cut
    /// could, and then the cost is a repeated reply, not a lost one. Other
    /// writers wait for the send (bounded by the SMTP timeout).
    pub async fn begin_send(&self, row: &OutboxRow, now: DateTime<Utc>) -> anyhow::Result<Tx> {
        let mut tx = self.begin_as(true).await?;
        mark_sent(&mut tx, row, now).await?;
        Ok(tx)
    }

    pub async fn mark_retry(
        &self,
        row: &OutboxRow,
        next: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?")
            .bind(timestamp(next))
            .bind(error)
            .bind(row.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives up on a row: a permanent SMTP error or too many attempts.
    pub async fn mark_failed(
        &self,
        row: &OutboxRow,
        now: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, failed_at = ?, last_error = ? WHERE id = ?",
        )
        .bind(timestamp(now))
        .bind(error)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        if let Some(case_id) = row.case_id {
            insert_event(
                &mut tx,
                Some(case_id),
                None,
                now,
                "outbox",
                "delivery_failed",
                &serde_json::json!({"kind": row.kind, "to": row.to_addr, "error": error}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The columns of a [`CaseSummary`], with the earliest open deadline AGE
/// holds itself to.
static CASE_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT c.id, c.number, c.service, c.stage, c.status, c.subject, c.institution, c.idno,
    c.language, c.opened_by, c.mailbox, c.assigned_to, c.created_at, c.updated_at, c.priority, c.labels, c.missing,
    (SELECT MIN(d.due) FROM deadline d WHERE d.case_id = c.id AND d.met_at IS NULL AND d.cancelled_at IS NULL
        AND d.kind IN ('{answer}', '{examination}') AND c.status NOT IN ('{closed}', '{rejected}')) AS due,
    (SELECT COUNT(*) FROM message m WHERE m.case_id = c.id) AS messages
    FROM \"case\" c",
        answer = DeadlineKind::Answer,
        examination = DeadlineKind::Examination,
        closed = CaseStatus::Closed,
        rejected = CaseStatus::Rejected,
    )
});

fn case_summary(r: &sqlx::sqlite::SqliteRow) -> anyhow::Result<CaseSummary> {
    Ok(CaseSummary {
        number: r.get("number"),
        service: r.try_get("service")?,
        stage: r.try_get("stage")?,
        status: r.try_get("status")?,
        subject: r.get("subject"),
        institution: r.get("institution"),
        idno: r.get("idno"),
        language: r.get("language"),
        opened_by: r.get("opened_by"),
        mailbox: r.get("mailbox"),
        assigned_to: r.get("assigned_to"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        messages: r.get("messages"),
        priority: r.get("priority"),
        labels: json_column(r.get("labels")),
        missing: json_column(r.get("missing")),
        overdue: r
            .get::<Option<String>, _>("due")
            .is_some_and(|d| d < crate::calendar::today(Utc::now()).to_string()),
        due: r.get("due"),
    })
}

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
    let row = sqlx::query(
        "SELECT d.disposition, m.quarantine_reason FROM delivery d JOIN message m ON m.id = d.message_id
         WHERE d.mailbox = ? AND d.source_key = ?",
    )
    .bind(mailbox)
    .bind(source_key)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| disposition_from(r.get(0), r.get(1))))
}

fn disposition_from(kind: String, reason: Option<String>) -> Disposition {
    match kind.as_str() {
        "quarantine" => Disposition::Quarantine(reason.unwrap_or_default()),
        "private_key" => Disposition::PrivateKey,
        _ => Disposition::Processed,
    }
}

fn language_from(code: Option<String>) -> Option<Language> {
    match code.as_deref() {
        Some("ro") => Some(Language::Ro),
        Some("ru") => Some(Language::Ru),
        Some("en") => Some(Language::En),
        _ => None,
    }
}

/// Records that a row was sent, with its event.
async fn mark_sent(
    tx: &mut SqliteConnection,
    row: &OutboxRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
    )
    .bind(timestamp(now))
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    if let Some(case_id) = row.case_id {
        insert_event(
            tx,
            Some(case_id),
            None,
            now,
            "outbox",
            "mail_sent",
            &serde_json::json!({"kind": row.kind, "to": row.to_addr, "message_id": row.message_id}),
        )
        .await?;
    }
    Ok(())
}

/// Queues one mail; a key already queued is left alone (idempotency).
async fn insert_outgoing(
    tx: &mut SqliteConnection,
    o: &crate::decide::Outgoing,
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
    kind: &str,
    detail: &serde_json::Value,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO case_event (case_id, message_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(case_id)
        .bind(message)
        .bind(timestamp(now))
        .bind(actor)
        .bind(kind)
        .bind(detail.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Tx {
    async fn case_ref(&mut self, id: i64) -> anyhow::Result<Option<CaseRef>> {
        let Some(row) = sqlx::query(
            "SELECT number, language, stage, service, facts FROM \"case\" WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        else {
            return Ok(None);
        };
        let participants = sqlx::query_scalar(
            "SELECT address FROM case_participant WHERE case_id = ? ORDER BY address",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        Ok(Some(CaseRef {
            id,
            number: row.get("number"),
            language: language_from(row.get("language")),
            participants,
            stage: row.try_get("stage")?,
            service: Service::parse(row.get("service")),
            facts: json_column(row.get("facts")),
        }))
    }

    /// The delivery was recorded already (e.g. before a crash prevented the ack).
    pub async fn delivery(
        &mut self,
        mailbox: &str,
        source_key: &str,
    ) -> anyhow::Result<Option<Disposition>> {
        delivery(self.conn(), mailbox, source_key).await
    }

    /// What the database knows that bears on `mail` and its certificates.
    pub async fn history(
        &mut self,
        mail: &Mail,
        certificates: &[String],
        now: DateTime<Utc>,
    ) -> anyhow::Result<History> {
        let mut h = History::default();
        for sha in certificates {
            let rows = sqlx::query(
                "SELECT DISTINCT c.id, c.number, m.environment FROM attachment a JOIN message m ON m.id = a.message_id
                 JOIN \"case\" c ON c.id = m.case_id WHERE a.cert_sha256 = ?",
            )
            .bind(sha)
            .fetch_all(self.conn())
            .await?;
            for r in rows {
                h.registered_certificates
                    .push(crate::decide::RegisteredCertificate {
                        sha256: sha.clone(),
                        case_id: r.get(0),
                        case_number: r.get(1),
                        environment: r
                            .get::<Option<String>, _>(2)
                            .as_deref()
                            .and_then(|e| e.parse::<Environment>().ok()),
                    });
            }
        }
        // The same mail: the same content, or — when a server added headers
        // we do not know to leave out — the same Message-ID, sender and date.
        let same = sqlx::query("SELECT id, case_id FROM message WHERE content_hash = ?")
            .bind(&mail.content_hash)
            .fetch_optional(self.conn())
            .await?;
        let same = match (same, &mail.message_id, &mail.from, &mail.date) {
            (Some(row), ..) => Some(row),
            (None, Some(id), Some(from), Some(date)) => {
                sqlx::query("SELECT id, case_id FROM message WHERE message_id = ? AND from_addr = ? AND sent_date = ?")
                    .bind(id)
                    .bind(from.address.to_lowercase())
                    .bind(date)
                    .fetch_optional(self.conn())
                    .await?
            }
            _ => None,
        };
        if let Some(row) = same {
            let case_id: Option<i64> = row.get("case_id");
            let case = match case_id {
                Some(id) => self.case_ref(id).await?,
                None => None,
            };
            h.duplicate_of = Some((row.get("id"), case));
        }

        // Our own Message-IDs first (In-Reply-To, then References from the
        // newest back), then the beneficiary's earlier mail; long threads
        // are cut to the last few.
        let ids: Vec<&String> = mail
            .in_reply_to
            .iter()
            .chain(mail.references.iter().rev())
            .take(20)
            .collect();
        for (sql, ours) in [
            (
                "SELECT case_id FROM outbox WHERE message_id = ? AND case_id IS NOT NULL",
                true,
            ),
            (
                "SELECT case_id FROM message WHERE message_id = ? AND case_id IS NOT NULL",
                false,
            ),
        ] {
            if h.replied_case.is_some() {
                break;
            }
            for id in &ids {
                if let Some(case_id) = sqlx::query_scalar::<_, i64>(sql)
                    .bind(id.as_str())
                    .fetch_optional(self.conn())
                    .await?
                {
                    h.replied_case = self.case_ref(case_id).await?;
                    h.replied_to_ours = ours;
                    break;
                }
            }
        }

        if let Some(number) = subject_tag(&mail.subject)
            && let Some(case_id) =
                sqlx::query_scalar::<_, i64>("SELECT id FROM \"case\" WHERE number = ?")
                    .bind(&number)
                    .fetch_optional(self.conn())
                    .await?
        {
            h.tagged_case = self.case_ref(case_id).await?;
        }

        if let Some(to) = mail.reply_address() {
            let count = |since: DateTime<Utc>| {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM outbox WHERE kind = ? AND to_addr = ? AND created_at > ?",
                )
                .bind(OutgoingKind::Reply)
                .bind(to.address.to_lowercase())
                .bind(timestamp(since))
            };
            h.replies_last_10min = count(now - chrono::Duration::minutes(10))
                .fetch_one(self.conn())
                .await? as u32;
            h.replies_last_day = count(now - chrono::Duration::days(1))
                .fetch_one(self.conn())
                .await? as u32;
        }
        Ok(h)
    }

    /// Next number of the yearly sequence, e.g. `AGE-2026-00042`.
    pub async fn allocate_case_number(&mut self, year: i32) -> anyhow::Result<String> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO case_sequence (year, last) VALUES (?, 1)
             ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(self.conn())
        .await?;
        Ok(crate::domain::format_case_number(year, seq))
    }

    /// Writes everything decided about one mail.
    pub async fn record(&mut self, r: Record<'_>) -> anyhow::Result<Recorded> {
        let now = timestamp(r.now);
        let d = r.decision;
        let (case_id, case_number, new_case) = match &d.case {
            CaseAction::Open {
                number,
                service,
                stage,
                language,
                subject,
                opened_by,
            } => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO \"case\" (number, service, stage, status, language, subject, opened_by, mailbox, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(number)
                .bind(service)
                .bind(stage)
                .bind(CaseStatus::WaitingForAge)
                .bind(language.map(Language::code))
                .bind(subject)
                .bind(opened_by)
                .bind(r.mailbox)
                .bind(&now)
                .bind(&now)
                .fetch_one(self.conn())
                .await?;
                (Some(id), Some(number.clone()), true)
            }
            CaseAction::Existing { id, number } => (Some(*id), Some(number.clone()), false),
            CaseAction::None => (None, None, false),
        };

        if let Some(id) = case_id
            && !matches!(r.threading, Threading::Duplicate { .. })
        {
            // What the case knows now: the merged facts, the step, what is missing, triage.
            let request = &d.facts["request"];
            let text = |k: &str| request[k].as_str().map(str::to_string);
            sqlx::query(
                "UPDATE \"case\" SET facts = ?, missing = ?, stage = COALESCE(?, stage),
                    service = CASE WHEN service = ? THEN ? ELSE service END,
                    institution = COALESCE(?, institution), idno = COALESCE(?, idno),
                    system_name = COALESCE(?, system_name),
                    priority = ?, labels = ?, updated_at = ? WHERE id = ?",
            )
            .bind(d.facts.to_string())
            .bind(serde_json::to_string(&d.missing)?)
            .bind(d.stage)
            .bind(Service::Unknown)
            .bind(d.service)
            .bind(text("institution"))
            .bind(text("idno"))
            .bind(text("system_name"))
            .bind(&d.priority)
            .bind(serde_json::to_string(&d.labels)?)
            .bind(&now)
            .bind(id)
            .execute(self.conn())
            .await?;
            if let Some(p) = &d.progress {
                sqlx::query("UPDATE \"case\" SET status = ? WHERE id = ? AND status NOT IN (?, ?)")
                    .bind(p.status)
                    .bind(id)
                    .bind(CaseStatus::Closed)
                    .bind(CaseStatus::Rejected)
                    .execute(self.conn())
                    .await?;
                for plan in &p.deadlines {
                    let sql = if plan.replace {
                        "INSERT INTO deadline (case_id, kind, due, created_at) VALUES (?, ?, ?, ?)
                         ON CONFLICT (case_id, kind) DO UPDATE SET due = excluded.due, met_at = NULL, cancelled_at = NULL"
                    } else {
                        "INSERT INTO deadline (case_id, kind, due, created_at) VALUES (?, ?, ?, ?)
                         ON CONFLICT (case_id, kind) DO NOTHING"
                    };
                    sqlx::query(sql)
                        .bind(id)
                        .bind(plan.kind)
                        .bind(plan.due.to_string())
                        .bind(&now)
                        .execute(self.conn())
                        .await?;
                }
                for kind in &p.met {
                    sqlx::query("UPDATE deadline SET met_at = ? WHERE case_id = ? AND kind = ? AND met_at IS NULL")
                        .bind(&now)
                        .bind(id)
                        .bind(kind)
                        .execute(self.conn())
                        .await?;
                }
            }
        }

        let (quarantine_reason, disposition) = match &d.disposition {
            Disposition::Processed => (None, "processed"),
            Disposition::Quarantine(reason) => (Some(reason.as_str()), "quarantine"),
            Disposition::PrivateKey => (Some("private_key"), "private_key"),
        };

        let message = match r.threading {
            Threading::Duplicate { message, .. } => *message,
            _ => {
                let mail = r.mail;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO message (case_id, message_id, content_hash, from_addr, subject, sent_date, in_reply_to, refs,
                        flags, size, raw, status, quarantine_reason, spool_path, received_at, environment)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(case_id)
                .bind(&mail.message_id)
                .bind(&mail.content_hash)
                .bind(mail.from.as_ref().map(|f| f.address.to_lowercase()))
                .bind(&mail.subject)
                .bind(&mail.date)
                .bind(mail.in_reply_to.first())
                .bind(serde_json::to_string(&mail.references)?)
                .bind(serde_json::to_string(&mail.flags)?)
                .bind(mail.size as i64)
                .bind(r.stored)
                .bind(if quarantine_reason.is_some() { "quarantined" } else { "recorded" })
                .bind(quarantine_reason)
                .bind(r.spool_path)
                .bind(&now)
                .bind(r.environment.map(Environment::as_str))
                .fetch_one(self.conn())
                .await?;
                for a in &r.inspection.attachments {
                    sqlx::query(
                        "INSERT INTO attachment (message_id, location, name, content_type, size, sha256, kind,
                            cert_sha256, verdict, details)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(id)
                    .bind(&a.location)
                    .bind(&a.name)
                    .bind(&a.content_type)
                    .bind(a.size as i64)
                    .bind(&a.sha256)
                    .bind(a.kind().as_str())
                    .bind(a.report.certificate.as_ref().map(|c| &c.sha256))
                    .bind(a.report.problems.join(" "))
                    .bind(serde_json::to_string(&a.report)?)
                    .execute(self.conn())
                    .await?;
                }
                id
            }
        };

        sqlx::query("INSERT INTO delivery (mailbox, source_key, message_id, disposition, received_at) VALUES (?, ?, ?, ?, ?)")
            .bind(r.mailbox)
            .bind(r.source_key)
            .bind(message)
            .bind(disposition)
            .bind(&now)
            .execute(self.conn())
            .await?;

        if let Some(case_id) = case_id {
            let mut participants: Vec<String> = Vec::new();
            if let Some(f) = &r.mail.from {
                participants.push(f.address.to_lowercase());
            }
            if let Some(a) = r.mail.reply_address() {
                participants.push(a.address.to_lowercase());
            }
            for p in participants {
                sqlx::query(
                    "INSERT OR IGNORE INTO case_participant (case_id, address) VALUES (?, ?)",
                )
                .bind(case_id)
                .bind(p)
                .execute(self.conn())
                .await?;
            }
        }
        for e in &d.events {
            insert_event(
                self.conn(),
                case_id,
                Some(message),
                r.now,
                "system",
                &e.kind,
                &e.detail,
            )
            .await?;
        }

        let mut queued = 0;
        for o in &d.outgoing {
            queued += insert_outgoing(self.conn(), o, case_id, Some(message), &now).await?;
        }

        Ok(Recorded {
            message,
            case_id,
            case_number,
            new_case,
            queued,
        })
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
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                        conn.close_on_drop();
                    }
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
