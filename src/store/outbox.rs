//! The outbox: every mail the daemon sends (replies, reminders, alerts) is
//! first a row here, queued in the transaction that decided it, so a crash
//! can neither lose a reply nor send one for a mail that was not recorded.
//! The outbox worker claims due rows, and marks them sent, to retry or
//! failed.

use chrono::{DateTime, Utc};

use super::column::Lenient;
use super::{NewEvent, Store, Tx, insert_event, insert_outgoing, push_events};
use crate::domain::{DeadlineKind, EventKind, OutgoingKind};
use crate::util::timestamp;

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

/// An outbox row as stored, its references still JSON text and its
/// creation time read leniently.
#[derive(sqlx::FromRow)]
struct OutboxColumns {
    id: i64,
    key: String,
    kind: OutgoingKind,
    case_id: Option<i64>,
    from_name: String,
    from_addr: String,
    to_addr: String,
    subject: String,
    message_id: String,
    in_reply_to: Option<String>,
    refs: String,
    body: String,
    attempts: i64,
    created_at: Lenient<DateTime<Utc>>,
}

impl OutboxColumns {
    fn row(self) -> OutboxRow {
        OutboxRow {
            id: self.id,
            key: self.key,
            kind: self.kind,
            case_id: self.case_id,
            from_name: self.from_name,
            from_addr: self.from_addr,
            to_addr: self.to_addr,
            subject: self.subject,
            message_id: self.message_id,
            in_reply_to: self.in_reply_to,
            references: serde_json::from_str(&self.refs).unwrap_or_default(),
            body: self.body,
            attempts: self.attempts as u32,
            // An unreadable time still lets the row be sent; it then counts
            // as new, so it is given up by attempts rather than by age.
            created_at: self.created_at.0.unwrap_or_else(Utc::now),
        }
    }
}

impl Store {
    /// Queues scheduler mail (reminders, digests, alerts) with its keys; a
    /// follow-up also counts itself on its deadline and moves it on.
    pub async fn queue(
        &self,
        items: &[(Option<i64>, crate::compose::Outgoing)],
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
                    o.kind.queued_event(),
                    &serde_json::json!({"to": o.to, "subject": o.subject}),
                )
                .await?;
            }
            queued += n;
        }
        if let Some((case_id, next)) = followup
            && queued > 0
        {
            sqlx::query("UPDATE deadline SET reminders = reminders + 1, due = ?, checked_at = NULL WHERE case_id = ? AND kind = ?")
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

    /// Outbox rows whose time has come, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> anyhow::Result<Vec<OutboxRow>> {
        let rows: Vec<OutboxColumns> = sqlx::query_as(
            "SELECT id, key, kind, case_id, from_name, from_addr, to_addr, subject, message_id, in_reply_to, refs, body, attempts, created_at
             FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT ?",
        )
        .bind(timestamp(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(OutboxColumns::row).collect())
    }

    /// When the next unsent row becomes due, if any.
    pub async fn next_outbox_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let due: Lenient<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(due.0)
    }

    pub async fn outbox_backlog(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// A write transaction for handing mail over: the caller opens it
    /// before the mail goes out and records each answer in it
    /// ([`Tx::mark_sent_and_commit`]) the moment it is read. It commits
    /// without fsync (`synchronous = NORMAL`): a kill cannot lose it, only a
    /// power cut could, and then the cost is a repeated reply, not a lost
    /// one. Other writers wait for the group's sends (bounded by the SMTP
    /// timeout) — which keeps the answers from waiting for them.
    pub async fn begin_send(&self) -> anyhow::Result<Tx> {
        self.begin_as(true).await
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
                EventKind::DeliveryFailed,
                &serde_json::json!({"kind": row.kind, "to": row.to_addr, "error": error}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Tx {
    /// Records that `rows` were sent, with their events, commits, and goes
    /// on in a new transaction — all in one round trip, so the time between
    /// the server's answer and its record is as short as it can be.
    pub async fn mark_sent_and_commit(
        &mut self,
        rows: &[OutboxRow],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "UPDATE outbox SET attempts = attempts + 1, last_error = NULL, sent_at = ",
        );
        q.push_bind(timestamp(now)).push(" WHERE id IN (");
        let mut ids = q.separated(", ");
        for row in rows {
            ids.push_bind(row.id);
        }
        q.push("); ");
        let events: Vec<NewEvent<'_>> = rows
            .iter()
            .filter(|row| row.case_id.is_some())
            .map(|row| NewEvent {
                case_id: row.case_id,
                message: None,
                actor: "outbox",
                kind: EventKind::MailSent,
                detail: serde_json::json!({"kind": row.kind, "to": row.to_addr, "message_id": row.message_id})
                    .to_string(),
            })
            .collect();
        if !events.is_empty() {
            push_events(&mut q, now, &events);
            q.push("; ");
        }
        q.push("COMMIT; BEGIN IMMEDIATE");
        q.build().execute(self.conn()).await?;
        Ok(())
    }
}
