//! What the scheduler reads to remind staff and beneficiaries of deadlines,
//! to write the daily digest and to notice a mailbox that went silent.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use super::cases::EventColumns;
use super::column::Lenient;
use super::{EventRow, Store, language_from};
use crate::domain::{CaseStatus, DeadlineKind, EventKind, Field, Language, Service, Stage};

/// An open deadline with the case facts a reminder needs.
#[derive(Debug, Clone)]
pub struct OpenDeadline {
    pub id: i64,
    pub case_id: i64,
    pub number: String,
    pub service: Service,
    pub stage: Stage,
    pub status: CaseStatus,
    pub subject: String,
    pub opened_by: Option<String>,
    pub language: Option<Language>,
    pub missing: Vec<Field>,
    pub kind: DeadlineKind,
    pub due: chrono::NaiveDate,
    pub reminders: u32,
}

/// An open deadline as stored, with its case's columns.
#[derive(FromRow)]
struct OpenDeadlineColumns {
    deadline_id: i64,
    id: i64,
    number: String,
    service: Service,
    stage: Stage,
    status: CaseStatus,
    subject: String,
    opened_by: Option<String>,
    language: Option<String>,
    missing: String,
    kind: DeadlineKind,
    due: Lenient<NaiveDate>,
    reminders: i64,
}

impl OpenDeadlineColumns {
    /// `None` when the due date does not read as a date.
    fn deadline(self) -> Option<OpenDeadline> {
        Some(OpenDeadline {
            id: self.deadline_id,
            case_id: self.id,
            number: self.number,
            service: self.service,
            stage: self.stage,
            status: self.status,
            subject: self.subject,
            opened_by: self.opened_by,
            language: language_from(self.language),
            missing: fields_from(&self.missing),
            kind: self.kind,
            due: self.due.0?,
            reminders: self.reminders as u32,
        })
    }
}

/// The fields of a case's `missing` column; a name no longer in the
/// vocabulary is left out rather than losing the whole reminder.
fn fields_from(column: &str) -> Vec<Field> {
    serde_json::from_str::<Vec<String>>(column)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.parse().ok())
        .collect()
}

/// An event with the number of its case, if it has one.
#[derive(FromRow)]
struct NumberedEvent {
    number: Option<String>,
    #[sqlx(flatten)]
    event: EventColumns,
}

/// When a mailbox last received mail.
#[derive(FromRow)]
struct LastMail {
    mailbox: String,
    last_received: Lenient<DateTime<Utc>>,
}

impl Store {
    /// Deadlines not met nor cancelled, of cases still open, that need a
    /// look on `today`: never looked at, their next point reached, or their
    /// case changed since — with what a reminder needs to say. The others
    /// stay in the database: a tick costs what is due, not what is open.
    pub async fn deadlines_to_check(&self, today: NaiveDate) -> anyhow::Result<Vec<OpenDeadline>> {
        let rows = sqlx::query(
            "SELECT d.id AS deadline_id, c.id, c.number, c.service, c.stage, c.status, c.subject,
                    c.opened_by, c.language, c.missing, d.kind, d.due, d.reminders
             FROM deadline d JOIN \"case\" c ON c.id = d.case_id
             WHERE d.met_at IS NULL AND d.cancelled_at IS NULL AND c.status NOT IN (?, ?)
               AND (d.checked_at IS NULL OR d.next_check IS NULL OR d.next_check <= ?
                    OR c.updated_at > d.checked_at)
             ORDER BY d.due, c.id",
        )
        .bind(CaseStatus::Closed)
        .bind(CaseStatus::Rejected)
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?;
        // Each row is read on its own: one that does not read (a name
        // outside the vocabulary, a malformed date) is left out rather
        // than holding up the reminders of every other case.
        Ok(rows
            .iter()
            .filter_map(|r| OpenDeadlineColumns::from_row(r).ok()?.deadline())
            .collect())
    }

    /// Records that the deadlines were looked at `at` and when each needs
    /// the next look: one transaction for a tick.
    pub async fn checked(
        &self,
        next: &[(i64, NaiveDate)],
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if next.is_empty() {
            return Ok(());
        }
        let at = crate::util::timestamp(at);
        let mut tx = self.begin().await?;
        for (id, date) in next {
            sqlx::query("UPDATE deadline SET next_check = ?, checked_at = ? WHERE id = ?")
                .bind(date.to_string())
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Events of these kinds since `since` (RFC 3339), newest last.
    pub async fn events_since(
        &self,
        kinds: &[EventKind],
        since: &str,
    ) -> anyhow::Result<Vec<(Option<String>, EventRow)>> {
        let rows: Vec<NumberedEvent> = sqlx::query_as(
            "SELECT c.number, e.at, e.actor, e.kind, e.detail FROM case_event e LEFT JOIN \"case\" c ON c.id = e.case_id
             WHERE e.at > ? AND e.kind IN (SELECT value FROM json_each(?)) ORDER BY e.id",
        )
        .bind(since)
        .bind(serde_json::to_string(kinds)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.number, EventRow::from(r.event)))
            .collect())
    }

    /// When each mailbox last received mail.
    /// A time that does not read as one is left out, as if never.
    pub async fn last_mail(&self) -> anyhow::Result<Vec<(String, DateTime<Utc>)>> {
        let rows: Vec<LastMail> = sqlx::query_as(
            "SELECT mailbox, MAX(received_at) AS last_received FROM delivery GROUP BY mailbox",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.mailbox, r.last_received.0?)))
            .collect())
    }
}
