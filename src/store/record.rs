//! Recording one mail: everything decided about it — the case it opens or
//! updates, that case's deadlines, the message with its attachments, the
//! delivery, the participants, the audit events and the replies or alerts
//! to send — written in the one transaction the source waits for before it
//! acknowledges the mail.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{NewEvent, Tx, insert_events, insert_outgoing};
use crate::decide::lifecycle::Progress;
use crate::decide::{CaseAction, Decision, Disposition, Threading};
use crate::domain::{CaseStatus, DeadlineKind, Environment, Language, Service, names};
use crate::inspect::Inspection;
use crate::parse::Mail;
use crate::util::timestamp;

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

/// The case a mail is recorded on: its row id, its number, and whether
/// this mail opened it.
struct CaseOf {
    id: Option<i64>,
    number: Option<String>,
    new: bool,
}

impl Tx {
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

    /// Writes everything decided about one mail, in this order: the case,
    /// its deadlines, the message and its attachments, the delivery, the
    /// participants, the events, the outbox rows.
    pub async fn record(&mut self, r: Record<'_>) -> anyhow::Result<Recorded> {
        let now = timestamp(r.now);
        let d = r.decision;
        let case = self.open_case(&r, &now).await?;
        // A duplicate says nothing new about the case it was recorded on.
        if let Some(id) = case.id
            && !matches!(r.threading, Threading::Duplicate { .. })
        {
            self.update_case(id, d, &now).await?;
            if let Some(p) = &d.progress {
                self.deadlines(id, p, case.new, &now).await?;
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
                let id = self
                    .insert_message(&r, case.id, quarantine_reason, &now)
                    .await?;
                self.insert_attachments(id, r.inspection).await?;
                id
            }
        };
        self.insert_delivery(&r, message, disposition, &now).await?;
        if let Some(case_id) = case.id {
            self.add_participants(case_id, r.mail).await?;
        }
        self.insert_events(case.id, message, d, r.now).await?;
        let queued = self.queue_outgoing(case.id, message, d, &now).await?;
        Ok(Recorded {
            message,
            case_id: case.id,
            case_number: case.number,
            new_case: case.new,
            queued,
        })
    }

    /// Opens the case the decision opens, or names the one it joins.
    async fn open_case(&mut self, r: &Record<'_>, now: &str) -> anyhow::Result<CaseOf> {
        Ok(match &r.decision.case {
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
                .bind(now)
                .bind(now)
                .fetch_one(self.conn())
                .await?;
                CaseOf {
                    id: Some(id),
                    number: Some(number.clone()),
                    new: true,
                }
            }
            CaseAction::Existing { id, number } => CaseOf {
                id: Some(*id),
                number: Some(number.clone()),
                new: false,
            },
            CaseAction::None => CaseOf {
                id: None,
                number: None,
                new: false,
            },
        })
    }

    /// What the case knows now: the merged facts, the step, what is
    /// missing, triage, and whose turn it is.
    async fn update_case(&mut self, id: i64, d: &Decision, now: &str) -> anyhow::Result<()> {
        let request = &d.facts.request;
        let status = d.progress.as_ref().map(|p| p.status);
        sqlx::query(
            "UPDATE \"case\" SET facts = ?, missing = ?, stage = COALESCE(?, stage),
                service = CASE WHEN service = ? THEN ? ELSE service END,
                institution = COALESCE(?, institution), idno = COALESCE(?, idno),
                system_name = COALESCE(?, system_name),
                priority = ?, labels = ?, updated_at = ?,
                status = CASE WHEN ? IS NULL OR status IN (?, ?) THEN status ELSE ? END
             WHERE id = ?",
        )
        .bind(d.facts.to_column())
        .bind(serde_json::to_string(&d.missing)?)
        .bind(d.stage)
        .bind(Service::Unknown)
        .bind(d.service)
        .bind(&request.institution)
        .bind(&request.idno)
        .bind(&request.system_name)
        .bind(d.priority)
        .bind(serde_json::to_string(&d.labels)?)
        .bind(now)
        // Whose turn it is now; a case that ended keeps its status.
        .bind(status)
        .bind(CaseStatus::Closed)
        .bind(CaseStatus::Rejected)
        .bind(status)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The deadlines that start, move or are met (of a case opened by this
    /// mail, only those it starts can exist).
    async fn deadlines(
        &mut self,
        id: i64,
        p: &Progress,
        new_case: bool,
        now: &str,
    ) -> anyhow::Result<()> {
        for plan in &p.deadlines {
            let sql = if plan.replace {
                "INSERT INTO deadline (case_id, kind, due, created_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (case_id, kind) DO UPDATE SET due = excluded.due, met_at = NULL, cancelled_at = NULL,
                   checked_at = NULL"
            } else {
                "INSERT INTO deadline (case_id, kind, due, created_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (case_id, kind) DO NOTHING"
            };
            sqlx::query(sql)
                .bind(id)
                .bind(plan.kind)
                .bind(plan.due.to_string())
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        let exists = |kind: &DeadlineKind| !new_case || p.deadlines.iter().any(|d| d.kind == *kind);
        for kind in p.met.iter().filter(|k| exists(k)) {
            sqlx::query(
                "UPDATE deadline SET met_at = ? WHERE case_id = ? AND kind = ? AND met_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(kind)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// The mail itself, with the copy kept of it (if any).
    async fn insert_message(
        &mut self,
        r: &Record<'_>,
        case_id: Option<i64>,
        quarantine_reason: Option<&str>,
        now: &str,
    ) -> anyhow::Result<i64> {
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
        .bind(now)
        .bind(r.environment.map(Environment::as_str))
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    /// Each attachment with its inspection report (never key material).
    async fn insert_attachments(
        &mut self,
        message: i64,
        inspection: &Inspection,
    ) -> anyhow::Result<()> {
        for a in &inspection.attachments {
            sqlx::query(
                "INSERT INTO attachment (message_id, location, name, content_type, size, sha256, kind,
                    cert_sha256, cert_serial, verdict, details)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(message)
            .bind(&a.location)
            .bind(&a.name)
            .bind(&a.content_type)
            .bind(a.size as i64)
            .bind(&a.sha256)
            .bind(a.kind().as_str())
            .bind(a.report.certificate.as_ref().map(|c| &c.sha256))
            .bind(
                a.report
                    .certificate
                    .as_ref()
                    .map(|c| crate::domain::normal_serial(&c.serial)),
            )
            .bind(names(&a.report.problems).join(" "))
            .bind(serde_json::to_string(&a.report)?)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// That the mail reached this mailbox under this key: what makes a
    /// second reading of the same delivery a no-op.
    async fn insert_delivery(
        &mut self,
        r: &Record<'_>,
        message: i64,
        disposition: &str,
        now: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO delivery (mailbox, source_key, message_id, disposition, received_at) VALUES (?, ?, ?, ?, ?)")
            .bind(r.mailbox)
            .bind(r.source_key)
            .bind(message)
            .bind(disposition)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The sender and the reply address join the case's participants,
    /// whom subject-tag threading trusts.
    async fn add_participants(&mut self, case_id: i64, mail: &Mail) -> anyhow::Result<()> {
        let mut participants: Vec<String> = Vec::new();
        if let Some(f) = &mail.from {
            participants.push(f.address.to_lowercase());
        }
        if let Some(a) = mail.reply_address() {
            participants.push(a.address.to_lowercase());
        }
        if participants.is_empty() {
            return Ok(());
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT OR IGNORE INTO case_participant (case_id, address) ",
        );
        insert.push_values(participants, |mut row, address| {
            row.push_bind(case_id).push_bind(address);
        });
        insert.build().execute(self.conn()).await?;
        Ok(())
    }

    /// The decision's events, in the audit trail under the system's name.
    async fn insert_events(
        &mut self,
        case_id: Option<i64>,
        message: i64,
        d: &Decision,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let events: Vec<NewEvent<'_>> = d
            .events
            .iter()
            .map(|e| NewEvent {
                case_id,
                message: Some(message),
                actor: "system",
                kind: e.kind,
                detail: e.detail.to_string(),
            })
            .collect();
        insert_events(self.conn(), now, &events).await
    }

    /// The replies and alerts to send, queued in the outbox; how many were
    /// new (a key queued before is not queued again).
    async fn queue_outgoing(
        &mut self,
        case_id: Option<i64>,
        message: i64,
        d: &Decision,
        now: &str,
    ) -> anyhow::Result<usize> {
        let mut queued = 0;
        for o in &d.outgoing {
            queued += insert_outgoing(self.conn(), o, case_id, Some(message), now).await?;
        }
        Ok(queued)
    }
}
