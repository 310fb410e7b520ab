//! Recording one mail: everything decided about it — the case it opens or
//! updates, that case's deadlines, the message with its attachments, the
//! delivery, the participants, the audit events and the replies or alerts
//! to send — written in the one transaction the source waits for before it
//! acknowledges the mail. Past the rows whose ids it needs (case, message),
//! a mail's writes go to SQLite as one multi-statement query: one round
//! trip to its worker thread instead of one a statement.

use chrono::{DateTime, Utc};
use serde::Serialize;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::{NewEvent, Tx, insert_outgoing, push_events};
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

    /// Writes everything decided about one mail, in this order: the case
    /// and the message (each alone, for its id); then in one query the
    /// case's update and deadlines, the attachments, the delivery, the
    /// participants and the events; then the outbox rows (alone, to count
    /// those that were new).
    pub async fn record(&mut self, r: Record<'_>) -> anyhow::Result<Recorded> {
        let now = timestamp(r.now);
        let d = r.decision;
        let case = self.open_case(&r, &now).await?;
        let duplicate = matches!(r.threading, Threading::Duplicate { .. });
        let (quarantine_reason, disposition) = match &d.disposition {
            Disposition::Processed => (None, "processed"),
            Disposition::Quarantine(reason) => (Some(reason.as_str()), "quarantine"),
            Disposition::PrivateKey => (Some("private_key"), "private_key"),
        };
        let message = match r.threading {
            Threading::Duplicate { message, .. } => *message,
            _ => {
                self.insert_message(&r, case.id, quarantine_reason, &now)
                    .await?
            }
        };
        // What else the mail writes goes in one round trip: the statements
        // one after another, their parameters bound in order.
        let mut writes = Writes::default();
        // A duplicate says nothing new about the case it was recorded on.
        if let Some(id) = case.id
            && !duplicate
        {
            writes.case_update(id, d, &now)?;
            if let Some(p) = &d.progress {
                writes.deadlines(id, p, case.new, &now);
            }
        }
        if !duplicate {
            writes.attachments(message, r.inspection)?;
        }
        writes.delivery(&r, message, disposition, &now);
        if let Some(case_id) = case.id {
            writes.participants(case_id, r.mail);
        }
        writes.events(case.id, message, d, r.now);
        writes.run(self.conn()).await?;
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

/// Statements of one mail written together: each method adds one (none when
/// there is nothing to write), and [`Writes::run`] sends them all at once.
#[derive(Default)]
struct Writes {
    q: Option<QueryBuilder<Sqlite>>,
}

impl Writes {
    /// The builder, with the previous statement ended.
    fn next(&mut self) -> &mut QueryBuilder<Sqlite> {
        match &mut self.q {
            Some(q) => q.push("; "),
            q @ None => q.insert(QueryBuilder::new("")),
        }
    }

    async fn run(self, conn: &mut SqliteConnection) -> anyhow::Result<()> {
        if let Some(mut q) = self.q {
            q.build().execute(conn).await?;
        }
        Ok(())
    }

    /// What the case knows now: the merged facts, the step, what is
    /// missing, triage, and whose turn it is.
    fn case_update(&mut self, id: i64, d: &Decision, now: &str) -> anyhow::Result<()> {
        let request = &d.facts.request;
        let status = d.progress.as_ref().map(|p| p.status);
        let q = self.next();
        q.push("UPDATE \"case\" SET facts = ")
            .push_bind(d.facts.to_column())
            .push(", missing = ")
            .push_bind(serde_json::to_string(&d.missing)?)
            .push(", stage = COALESCE(")
            .push_bind(d.stage)
            .push(", stage), service = CASE WHEN service = ")
            .push_bind(Service::Unknown)
            .push(" THEN ")
            .push_bind(d.service)
            .push(" ELSE service END, institution = COALESCE(")
            .push_bind(request.institution.clone())
            .push(", institution), idno = COALESCE(")
            .push_bind(request.idno.clone())
            .push(", idno), system_name = COALESCE(")
            .push_bind(request.system_name.clone())
            .push(", system_name), priority = ")
            .push_bind(d.priority)
            .push(", labels = ")
            .push_bind(serde_json::to_string(&d.labels)?)
            .push(", updated_at = ")
            .push_bind(now.to_string())
            // Whose turn it is now; a case that ended keeps its status.
            .push(", status = CASE WHEN ")
            .push_bind(status)
            .push(" IS NULL OR status IN (")
            .push_bind(CaseStatus::Closed)
            .push(", ")
            .push_bind(CaseStatus::Rejected)
            .push(") THEN status ELSE ")
            .push_bind(status)
            .push(" END WHERE id = ")
            .push_bind(id);
        Ok(())
    }

    /// The deadlines that start, move or are met (of a case opened by this
    /// mail, only those it starts can exist).
    fn deadlines(&mut self, id: i64, p: &Progress, new_case: bool, now: &str) {
        for plan in &p.deadlines {
            let q = self.next();
            q.push("INSERT INTO deadline (case_id, kind, due, created_at) VALUES (")
                .push_bind(id)
                .push(", ")
                .push_bind(plan.kind)
                .push(", ")
                .push_bind(plan.due.to_string())
                .push(", ")
                .push_bind(now.to_string())
                .push(") ON CONFLICT (case_id, kind) ");
            q.push(if plan.replace {
                "DO UPDATE SET due = excluded.due, met_at = NULL, cancelled_at = NULL, checked_at = NULL"
            } else {
                "DO NOTHING"
            });
        }
        let exists = |kind: &DeadlineKind| !new_case || p.deadlines.iter().any(|d| d.kind == *kind);
        for kind in p.met.iter().filter(|k| exists(k)) {
            self.next()
                .push("UPDATE deadline SET met_at = ")
                .push_bind(now.to_string())
                .push(" WHERE case_id = ")
                .push_bind(id)
                .push(" AND kind = ")
                .push_bind(*kind)
                .push(" AND met_at IS NULL");
        }
    }

    /// Each attachment with its inspection report (never key material).
    fn attachments(&mut self, message: i64, inspection: &Inspection) -> anyhow::Result<()> {
        if inspection.attachments.is_empty() {
            return Ok(());
        }
        let reports = inspection
            .attachments
            .iter()
            .map(|a| Ok((a, serde_json::to_string(&a.report)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let q = self.next();
        q.push(
            "INSERT INTO attachment (message_id, location, name, content_type, size, sha256, kind,
                cert_sha256, cert_serial, verdict, details) ",
        );
        q.push_values(reports, |mut row, (a, report)| {
            let certificate = a.report.certificate.as_ref();
            row.push_bind(message)
                .push_bind(a.location.clone())
                .push_bind(a.name.clone())
                .push_bind(a.content_type.clone())
                .push_bind(a.size as i64)
                .push_bind(a.sha256.clone())
                .push_bind(a.kind().as_str())
                .push_bind(certificate.map(|c| c.sha256.clone()))
                .push_bind(certificate.map(|c| crate::domain::normal_serial(&c.serial)))
                .push_bind(names(&a.report.problems).join(" "))
                .push_bind(report);
        });
        Ok(())
    }

    /// That the mail reached this mailbox under this key: what makes a
    /// second reading of the same delivery a no-op.
    fn delivery(&mut self, r: &Record<'_>, message: i64, disposition: &'static str, now: &str) {
        self.next()
            .push("INSERT INTO delivery (mailbox, source_key, message_id, disposition, received_at) VALUES (")
            .push_bind(r.mailbox.to_string())
            .push(", ")
            .push_bind(r.source_key.to_string())
            .push(", ")
            .push_bind(message)
            .push(", ")
            .push_bind(disposition)
            .push(", ")
            .push_bind(now.to_string())
            .push(")");
    }

    /// The sender and the reply address join the case's participants,
    /// whom subject-tag threading trusts.
    fn participants(&mut self, case_id: i64, mail: &Mail) {
        let participants: Vec<String> = mail
            .from
            .iter()
            .chain(mail.reply_address())
            .map(|a| a.address.to_lowercase())
            .collect();
        if participants.is_empty() {
            return;
        }
        let q = self.next();
        q.push("INSERT OR IGNORE INTO case_participant (case_id, address) ");
        q.push_values(participants, |mut row, address| {
            row.push_bind(case_id).push_bind(address);
        });
    }

    /// The decision's events, in the audit trail under the system's name.
    fn events(&mut self, case_id: Option<i64>, message: i64, d: &Decision, now: DateTime<Utc>) {
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
        if !events.is_empty() {
            push_events(self.next(), now, &events);
        }
    }
}
