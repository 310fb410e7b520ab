//! The case views staff read with `cases list` and `cases show`: one line
//! per case, and a case with its participants, deadlines, mail, events and
//! queued replies. Their JSON is the CLI's output, so the field names here
//! are part of the interface.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::column::{optional_time, time};
use super::{Store, json_column};
use crate::domain::{CaseStatus, DeadlineKind, OutgoingKind, Service, Stage};

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
    #[serde(serialize_with = "time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    pub updated_at: DateTime<Utc>,
    pub messages: i64,
    pub priority: String,
    pub labels: serde_json::Value,
    /// Fields the current step still needs.
    pub missing: serde_json::Value,
    /// The earliest open deadline AGE holds itself to (answer, examination).
    pub due: Option<NaiveDate>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// What the case's mail said so far: the request, certificates, agreement.
    pub facts: crate::domain::CaseFacts,
    pub participants: Vec<String>,
    pub deadlines: Vec<DeadlineRow>,
    pub messages: Vec<MessageSummary>,
    pub events: Vec<EventRow>,
    pub outbox: Vec<OutboxSummary>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadlineRow {
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    #[serde(serialize_with = "optional_time")]
    pub met_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "optional_time")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// An INTEGER column; any value but 0 is true, as SQLite reads it.
    pub extended: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageSummary {
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: String,
    #[serde(serialize_with = "time")]
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub flags: serde_json::Value,
    pub raw_stored: bool,
    pub deliveries: Vec<String>,
    pub attachments: Vec<AttachmentSummary>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentSummary {
    pub name: Option<String>,
    pub content_type: String,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    #[serde(serialize_with = "time")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxSummary {
    pub kind: OutgoingKind,
    #[sqlx(rename = "to_addr")]
    pub to: String,
    pub subject: String,
    pub message_id: String,
    #[serde(serialize_with = "time")]
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    #[serde(serialize_with = "optional_time")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "optional_time")]
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The columns of [`CASE_SELECT`]: a case as stored, before its JSON text
/// is parsed and its overdue flag worked out.
#[derive(sqlx::FromRow)]
struct CaseColumns {
    id: i64,
    number: String,
    service: Service,
    stage: Stage,
    status: CaseStatus,
    subject: String,
    institution: Option<String>,
    idno: Option<String>,
    language: Option<String>,
    opened_by: Option<String>,
    mailbox: String,
    assigned_to: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    priority: String,
    labels: String,
    missing: String,
    due: Option<NaiveDate>,
    messages: i64,
}

impl CaseColumns {
    fn summary(self) -> CaseSummary {
        self.summary_on(crate::calendar::today(Utc::now()))
    }

    /// The summary, overdue when its deadline passed before `today`.
    fn summary_on(self, today: NaiveDate) -> CaseSummary {
        CaseSummary {
            number: self.number,
            service: self.service,
            stage: self.stage,
            status: self.status,
            subject: self.subject,
            institution: self.institution,
            idno: self.idno,
            language: self.language,
            opened_by: self.opened_by,
            mailbox: self.mailbox,
            assigned_to: self.assigned_to,
            created_at: self.created_at,
            updated_at: self.updated_at,
            messages: self.messages,
            priority: self.priority,
            labels: json_column(&self.labels),
            missing: json_column(&self.missing),
            overdue: self.due.is_some_and(|d| d < today),
            due: self.due,
        }
    }
}

/// A message of a case as stored, before its flags are parsed and its
/// deliveries and attachments joined on.
#[derive(sqlx::FromRow)]
struct MessageColumns {
    id: i64,
    message_id: Option<String>,
    from_addr: Option<String>,
    subject: String,
    received_at: DateTime<Utc>,
    status: String,
    flags: String,
    raw_stored: bool,
}

/// An event as stored, its detail still JSON text.
#[derive(sqlx::FromRow)]
pub(super) struct EventColumns {
    at: DateTime<Utc>,
    actor: String,
    kind: String,
    detail: String,
}

impl From<EventColumns> for EventRow {
    fn from(e: EventColumns) -> EventRow {
        EventRow {
            at: e.at,
            actor: e.actor,
            kind: e.kind,
            detail: json_column(&e.detail),
        }
    }
}

/// The open cases the daily digest lists, list by list.
#[derive(Debug)]
pub struct DigestCases {
    /// Opened since the last digest.
    pub new: DigestSection,
    pub overdue: DigestSection,
    /// Waiting for AGE and not overdue, the soonest due first, those
    /// without a due date last.
    pub waiting_for_age: DigestSection,
    pub waiting_for_beneficiary: DigestSection,
}

/// How many cases one digest list holds, and the first of them.
#[derive(Debug)]
pub struct DigestSection {
    pub total: i64,
    pub first: Vec<CaseSummary>,
}

/// The digest's lists as SQL over one open case `o` (`?2`: since, `?3`: today).
#[derive(Clone, Copy)]
enum DigestList {
    New,
    Overdue,
    WaitingForAge,
    WaitingForBeneficiary,
}

impl DigestList {
    const ALL: [DigestList; 4] = [
        DigestList::New,
        DigestList::Overdue,
        DigestList::WaitingForAge,
        DigestList::WaitingForBeneficiary,
    ];

    fn condition(self) -> String {
        match self {
            DigestList::New => "o.created_at > ?2".into(),
            DigestList::Overdue => "o.due < ?3".into(),
            DigestList::WaitingForAge => format!(
                "o.status = '{}' AND (o.due IS NULL OR o.due >= ?3)",
                CaseStatus::WaitingForAge
            ),
            DigestList::WaitingForBeneficiary => {
                format!("o.status = '{}'", CaseStatus::WaitingForBeneficiary)
            }
        }
    }

    fn order(self) -> &'static str {
        match self {
            DigestList::New | DigestList::WaitingForBeneficiary => "o.id",
            DigestList::Overdue => "o.due, o.id",
            DigestList::WaitingForAge => "o.due IS NULL, o.due, o.id",
        }
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

impl Store {
    pub async fn list_cases(&self) -> anyhow::Result<Vec<CaseSummary>> {
        let rows: Vec<CaseColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} ORDER BY c.id",
            *CASE_SELECT
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(CaseColumns::summary).collect())
    }

    /// The digest's four lists of open cases (not closed, not rejected) of
    /// `service` and the unsorted (all cases when `None`): each counted in
    /// one aggregate query, and only its first `lines` cases read, so a
    /// backlog of open cases costs the digest neither memory nor length.
    pub async fn digest_cases(
        &self,
        service: Option<Service>,
        since: DateTime<Utc>,
        today: NaiveDate,
        lines: u32,
    ) -> anyhow::Result<DigestCases> {
        let open = format!(
            "({} WHERE c.status NOT IN ('{closed}', '{rejected}')
                 AND (?1 IS NULL OR c.service IN (?1, '{unknown}'))) o",
            *CASE_SELECT,
            closed = CaseStatus::Closed,
            rejected = CaseStatus::Rejected,
            unknown = Service::Unknown,
        );
        let lists = DigestList::ALL;
        let counts = lists
            .iter()
            .map(|l| format!("COALESCE(SUM({}), 0)", l.condition()))
            .collect::<Vec<_>>()
            .join(", ");
        let (new, overdue, waiting_age, waiting_beneficiary): (i64, i64, i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {counts} FROM {open}")))
                .bind(service)
                .bind(since)
                .bind(today)
                .fetch_one(&self.pool)
                .await?;
        let mut first = Vec::with_capacity(lists.len());
        for list in lists {
            let rows: Vec<CaseColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT * FROM {open} WHERE {} ORDER BY {} LIMIT ?4",
                list.condition(),
                list.order()
            )))
            .bind(service)
            .bind(since)
            .bind(today)
            .bind(lines)
            .fetch_all(&self.pool)
            .await?;
            first.push(rows.into_iter().map(|c| c.summary_on(today)).collect());
        }
        let [a, b, c, d]: [Vec<CaseSummary>; 4] = first
            .try_into()
            .map_err(|_| anyhow::anyhow!("four digest lists"))?;
        let section = |total: i64, first| DigestSection { total, first };
        Ok(DigestCases {
            new: section(new, a),
            overdue: section(overdue, b),
            waiting_for_age: section(waiting_age, c),
            waiting_for_beneficiary: section(waiting_beneficiary, d),
        })
    }

    pub async fn case_detail(&self, number: &str) -> anyhow::Result<Option<CaseDetail>> {
        let Some(case): Option<CaseColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE c.number = ?",
            *CASE_SELECT
        )))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let case_id = case.id;
        let facts: String = sqlx::query_scalar("SELECT facts FROM \"case\" WHERE id = ?")
            .bind(case_id)
            .fetch_one(&self.pool)
            .await?;
        let participants = sqlx::query_scalar(
            "SELECT address FROM case_participant WHERE case_id = ? ORDER BY address",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let messages = self.case_messages(case_id).await?;
        let events = self.case_events(case_id).await?;
        let outbox = sqlx::query_as(
            "SELECT kind, to_addr, subject, message_id, created_at, attempts, sent_at, failed_at, last_error
             FROM outbox WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let deadlines = sqlx::query_as("SELECT kind, due, met_at, cancelled_at, extended FROM deadline WHERE case_id = ? ORDER BY due")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(Some(CaseDetail {
            summary: case.summary(),
            facts: crate::domain::CaseFacts::from_column(&facts),
            participants,
            deadlines,
            messages,
            events,
            outbox,
        }))
    }

    /// The mail of a case, each with the mailboxes it reached and its attachments.
    async fn case_messages(&self, case_id: i64) -> anyhow::Result<Vec<MessageSummary>> {
        let rows: Vec<MessageColumns> = sqlx::query_as(
            "SELECT id, message_id, from_addr, subject, received_at, status, flags, raw IS NOT NULL AS raw_stored
             FROM message WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for m in rows {
            let deliveries = sqlx::query_scalar(
                "SELECT mailbox FROM delivery WHERE message_id = ? ORDER BY received_at",
            )
            .bind(m.id)
            .fetch_all(&self.pool)
            .await?;
            let attachments = sqlx::query_as(
                "SELECT name, content_type, kind, size, sha256 FROM attachment WHERE message_id = ? ORDER BY id",
            )
            .bind(m.id)
            .fetch_all(&self.pool)
            .await?;
            messages.push(MessageSummary {
                message_id: m.message_id,
                from: m.from_addr,
                subject: m.subject,
                received_at: m.received_at,
                status: m.status,
                flags: json_column(&m.flags),
                raw_stored: m.raw_stored,
                deliveries,
                attachments,
            });
        }
        Ok(messages)
    }

    /// The audit trail of a case, oldest first.
    async fn case_events(&self, case_id: i64) -> anyhow::Result<Vec<EventRow>> {
        let rows: Vec<EventColumns> = sqlx::query_as(
            "SELECT at, actor, kind, detail FROM case_event WHERE case_id = ? ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(EventRow::from).collect())
    }
}
