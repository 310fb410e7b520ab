//! `cases`: what staff do to a case from the shell — look at the list or one
//! case, move it through the procedure, assign, close or extend it. Every
//! change is recorded in the case's events under the name of who acted.

use std::process::ExitCode;

use anyhow::Context as _;

use super::Failure;
use super::args::CasesCommand;
use crate::config::Config;
use crate::domain::{CaseStatus, Stage};
use crate::rules::Rules;
use crate::store::{CaseDetail, Store};
use crate::util::timestamp;

pub(super) async fn cases(config: &Config, command: CasesCommand) -> Result<ExitCode, Failure> {
    let store = Store::open_with(&config.database_url, config.database_busy_timeout).await?;
    match command {
        CasesCommand::Advance {
            number,
            stage,
            note,
            by,
        } => {
            let stage = stage.parse::<Stage>().map_err(|e| {
                Failure::Usage(format!(
                    "unknown stage {stage:?}; one of {}",
                    e.known.join(", ")
                ))
            })?;
            store.advance(&number, stage, &note, &actor(by)).await?;
            out!("{number}: now at {stage}")?;
        }
        CasesCommand::Assign {
            number,
            who: to,
            by,
        } => {
            store.assign(&number, &to, &actor(by)).await?;
            out!("{number}: assigned to {to}")?;
        }
        CasesCommand::Close {
            number,
            reason,
            rejected,
            by,
        } => {
            store.close(&number, &reason, rejected, &actor(by)).await?;
            let status = if rejected {
                CaseStatus::Rejected
            } else {
                CaseStatus::Closed
            };
            out!("{number}: {status}")?;
        }
        CasesCommand::Extend {
            number,
            days,
            reason,
            by,
        } => {
            let rules = Rules::load(&config.rules_dir)?;
            let days = days.unwrap_or(rules.lifecycle().deadlines.extension_days);
            let due = store
                .extend(&number, days, &reason, &actor(by), rules.calendar())
                .await?;
            out!("{number}: examination now due {due}")?;
        }
        CasesCommand::List { json } => list(&store, json).await?,
        CasesCommand::Show { number, json } => return show(&store, &number, json).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Who acts, for the case's events: `--by`, else `$USER`, else "staff".
fn actor(by: Option<String>) -> String {
    by.filter(|b| !b.is_empty())
        .unwrap_or_else(|| "staff".into())
}

/// `cases list`: one line per case, oldest first.
async fn list(store: &Store, json: bool) -> Result<(), Failure> {
    let list = store.list_cases().await?;
    if json {
        out!("{}", serde_json::to_string(&list).context("serialising")?)?;
    } else if list.is_empty() {
        out!("no cases")?;
    } else {
        for c in list {
            out!(
                "{}  {:<7}  {:<23}  {:<24}  {}  due {}{}  {}  {}",
                c.number,
                c.service,
                c.stage,
                c.status,
                c.created_at.date_naive(),
                c.due.map_or_else(|| "-".to_string(), |d| d.to_string()),
                if c.overdue { " OVERDUE" } else { "" },
                c.opened_by.as_deref().unwrap_or("-"),
                c.subject
            )?;
        }
    }
    Ok(())
}

/// `cases show`: exit 1 when there is no such case.
async fn show(store: &Store, number: &str, json: bool) -> Result<ExitCode, Failure> {
    let Some(detail) = store.case_detail(number).await? else {
        eprintln!("egov-intake: no case {number}");
        return Ok(ExitCode::from(1));
    };
    if json {
        out!("{}", serde_json::to_string(&detail).context("serialising")?)?;
        return Ok(ExitCode::SUCCESS);
    }
    show_summary(&detail)?;
    show_messages(&detail)?;
    show_outgoing(&detail)?;
    out!("events:")?;
    for e in &detail.events {
        out!(
            "  {}  {:<8} {:<22} {}",
            timestamp(e.at),
            e.actor,
            e.kind,
            e.detail
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The case itself: who, what, where in the procedure, and its deadlines.
fn show_summary(detail: &CaseDetail) -> Result<(), Failure> {
    let s = &detail.summary;
    out!("{}  {}", s.number, s.subject)?;
    out!(
        "  service {}  stage {}  status {}",
        s.service,
        s.stage,
        s.status
    )?;
    out!(
        "  opened {} by {} via {}",
        timestamp(s.created_at),
        s.opened_by.as_deref().unwrap_or("-"),
        s.mailbox
    )?;
    if let Some(idno) = &s.idno {
        out!("  IDNO {idno}")?;
    }
    out!("  participants: {}", detail.participants.join(", "))?;
    if let Some(who) = &s.assigned_to {
        out!("  assigned to {who}")?;
    }
    for d in &detail.deadlines {
        let state = match (&d.met_at, &d.cancelled_at) {
            (Some(t), _) => format!("met {}", timestamp(*t)),
            (None, Some(t)) => format!("cancelled {}", timestamp(*t)),
            (None, None) => "open".into(),
        };
        out!(
            "  deadline {:<12} due {}{}  {state}",
            d.kind,
            d.due,
            if d.extended { " (extended)" } else { "" }
        )?;
    }
    Ok(())
}

/// The mail received for the case, with its attachments.
fn show_messages(detail: &CaseDetail) -> Result<(), Failure> {
    out!("messages:")?;
    for m in &detail.messages {
        out!(
            "  {}  {}  {}  [{}]",
            timestamp(m.received_at),
            m.from.as_deref().unwrap_or("-"),
            m.subject,
            m.deliveries.join(", ")
        )?;
        for a in &m.attachments {
            out!(
                "    - {} ({}, {} bytes)",
                a.name.as_deref().unwrap_or("(unnamed)"),
                a.kind,
                a.size
            )?;
        }
    }
    Ok(())
}

/// The mail sent (or still to send) for the case.
fn show_outgoing(detail: &CaseDetail) -> Result<(), Failure> {
    out!("outgoing:")?;
    for o in &detail.outbox {
        let state = match (&o.sent_at, &o.failed_at) {
            (Some(t), _) => format!("sent {}", timestamp(*t)),
            (None, Some(t)) => {
                let error = o.last_error.as_deref().unwrap_or("");
                format!("FAILED {}: {error}", timestamp(*t))
            }
            (None, None) => format!("queued ({} attempts)", o.attempts),
        };
        out!("  {} to {}: {}  {state}", o.kind, o.to, o.subject)?;
    }
    Ok(())
}
