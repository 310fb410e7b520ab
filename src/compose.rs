//! Compose stage: the text of every mail a decision calls for — replies in
//! the sender's language from the rules' templates, staff summaries and
//! alerts — with subjects, Message-IDs and threading headers. Pure: it
//! takes the decision and returns mail, deciding nothing itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use minijinja::Value as TemplateValue;
use serde::Serialize;
use serde_json::{Value, json};

use crate::calendar::{TZ, today};
use crate::config::PrivateKeyAction;
use crate::decide::{CaseAction, Decision, Draft, Input, Rejection, Settings};
use crate::domain::{Language, OutgoingKind, Stage, Template};
use crate::parse::{Mail, clean_line};

/// The mails `decision` calls for, written, in its order.
pub fn compose(
    input: &Input<'_>,
    settings: &Settings<'_>,
    decision: &Decision,
) -> anyhow::Result<Vec<Outgoing>> {
    decision
        .drafts
        .iter()
        .map(|draft| match draft {
            Draft::Reply {
                template,
                to,
                languages,
            } => reply(input, settings, decision, template, to, languages),
            Draft::CaseSummary { step, to, index } => {
                staff_summary(input, settings, decision, *step, to, *index)
            }
            Draft::Alert {
                template,
                reason,
                to,
                index,
            } => staff_alert(
                input,
                settings,
                &decision.case,
                *template,
                reason,
                to,
                *index,
            ),
        })
        .collect()
}

/// One mail to send, fully rendered, ready for the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct Outgoing {
    /// Idempotency key: the same decision taken twice queues nothing new.
    pub key: String,
    pub kind: OutgoingKind,
    pub from_name: String,
    pub from_address: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Languages the body is written in, in order.
    pub languages: Vec<Language>,
    pub body: String,
}

impl Outgoing {
    /// A message to staff: from the daemon, in Romanian, answering nothing.
    pub fn to_staff(
        key: String,
        from: &str,
        to: String,
        subject: String,
        message_id: String,
        body: String,
    ) -> Outgoing {
        Outgoing {
            key,
            kind: OutgoingKind::Alert,
            from_name: "egov-intake".into(),
            from_address: from.to_string(),
            to,
            subject,
            message_id,
            in_reply_to: None,
            references: Vec::new(),
            languages: vec![Language::Ro],
            body,
        }
    }
}

/// A moment as AGE's staff and beneficiaries read it: Chișinău time.
fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ).format("%d.%m.%Y %H:%M").to_string()
}

/// Longest message ID copied into a reply's In-Reply-To or References: real
/// ones are well under 100 characters, and a hostile 100 KB one would make a
/// header line longer than the 998 characters RFC 5322 allows.
pub const MAX_MESSAGE_ID_CHARS: usize = 250;
/// Most message IDs in a reply's References (RFC 5322 §3.6.4: the first and
/// the last few are what threading needs).
pub const MAX_REFERENCES: usize = 10;

/// Whether a message ID can be copied into our headers: bounded, and one
/// token (a space would split it, a control character could end the line).
pub fn copyable_message_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_MESSAGE_ID_CHARS
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The In-Reply-To and References of a message answering `message_id`, whose
/// own References were `references`: unusable IDs dropped, the list capped
/// to the first and the last few. The outbox applies it again to queued rows,
/// whose list already ends with the ID answered; it is not added twice.
pub fn thread_headers(
    message_id: Option<&str>,
    references: &[String],
) -> (Option<String>, Vec<String>) {
    let in_reply_to = message_id.filter(|id| copyable_message_id(id));
    let already_last = references.last().map(String::as_str) == in_reply_to;
    let mut ids: Vec<String> = references
        .iter()
        .map(String::as_str)
        .chain(in_reply_to.filter(|_| !already_last))
        .filter(|id| copyable_message_id(id))
        .map(str::to_string)
        .collect();
    if ids.len() > MAX_REFERENCES {
        let tail = ids.split_off(ids.len() - (MAX_REFERENCES - 1));
        ids.truncate(1);
        ids.extend(tail);
    }
    (in_reply_to.map(str::to_string), ids)
}

/// `Re: <subject> [AGE-…]`, without doubling "Re:" or the tag.
pub fn reply_subject(subject: &str, number: Option<&str>) -> String {
    let subject = clean_line(subject);
    let lower = subject.to_lowercase();
    let base = if lower.starts_with("re:") || lower.starts_with("ответ:") {
        subject.clone()
    } else if subject.is_empty() {
        "Re:".to_string()
    } else {
        format!("Re: {subject}")
    };
    match number {
        Some(n) if !subject.contains(&format!("[{n}]")) => format!("{base} [{n}]"),
        _ => base,
    }
}

fn reply(
    input: &Input<'_>,
    settings: &Settings<'_>,
    d: &Decision,
    template: &str,
    to: &str,
    languages: &[Language],
) -> anyhow::Result<Outgoing> {
    let mail = input.mail;
    let mut vars = reply_vars(input, settings, d, to);
    let mut body = String::new();
    for (i, lang) in languages.iter().enumerate() {
        if i > 0 {
            body.push_str("\n----------------------------------------\n\n");
        }
        let explanations: Vec<String> = d
            .problem_details
            .iter()
            .map(|p| {
                settings
                    .rules
                    .explain(p.code, p.value.as_deref(), p.suggestion.as_deref(), *lang)
            })
            .collect();
        vars.insert("explanations", TemplateValue::from_serialize(&explanations));
        let missing: Vec<String> = d
            .missing
            .iter()
            .map(|f| settings.rules.ask_for(*f, *lang))
            .collect();
        vars.insert("missing", TemplateValue::from_serialize(&missing));
        body.push_str(&settings.rules.render(Some(*lang), template, &vars)?);
    }
    let (in_reply_to, references) = thread_headers(mail.message_id.as_deref(), &mail.references);
    Ok(Outgoing {
        key: format!("reply:{}", mail.content_hash),
        kind: OutgoingKind::Reply,
        from_name: settings.reply.from_name.clone(),
        from_address: input.mailbox.address.clone(),
        to: to.to_string(),
        subject: reply_subject(&mail.subject, d.case.number()),
        message_id: format!(
            "<reply.{}@{}>",
            crate::util::prefix(&mail.content_hash, 24),
            settings.reply.message_id_domain
        ),
        in_reply_to,
        references,
        languages: languages.to_vec(),
        body,
    })
}

/// What a reply template may say, the same in every language: the case,
/// the sender, what was understood, the deadlines, the attachments.
fn reply_vars<'a>(
    input: &Input<'_>,
    settings: &Settings<'_>,
    d: &Decision,
    to: &str,
) -> BTreeMap<&'a str, TemplateValue> {
    let mail = input.mail;
    let date = |day: chrono::NaiveDate| TemplateValue::from(day.format("%d.%m.%Y").to_string());
    let (calendar, deadlines) = (
        settings.rules.calendar(),
        &settings.rules.lifecycle().deadlines,
    );
    let today = today(input.now);
    let (answer_days, answer_due) = answer(settings, d, today);
    let problems: Vec<&str> = d.problem_details.iter().map(|p| p.code.as_str()).collect();
    let attachments: Vec<Value> = input
        .inspection
        .attachments
        .iter()
        .filter(|a| a.kind() != crate::inspect::Kind::Message)
        .map(|a| {
            json!({
                "name": a.name.clone().unwrap_or_else(|| a.location.clone()),
                "kind": a.kind().as_str(),
            })
        })
        .collect();
    let sender_name = mail.from.as_ref().and_then(|f| f.name.clone());
    BTreeMap::from([
        (
            "case_number",
            TemplateValue::from(d.case.number().unwrap_or_default()),
        ),
        ("subject", TemplateValue::from(mail.subject.clone())),
        (
            "sender_name",
            TemplateValue::from(sender_name.unwrap_or_default()),
        ),
        ("sender_address", TemplateValue::from(to)),
        (
            "mailbox_address",
            TemplateValue::from(input.mailbox.address.clone()),
        ),
        ("service", TemplateValue::from(d.service)),
        (
            "stage",
            TemplateValue::from(d.stage.map_or("", Stage::as_str)),
        ),
        (
            "understood",
            TemplateValue::from_serialize(&d.facts.request),
        ),
        (
            "complete",
            TemplateValue::from(d.missing.is_empty() && d.problem_details.is_empty()),
        ),
        (
            "examination_due",
            date(calendar.add_days(today, deadlines.examination_days)),
        ),
        (
            "answer_due",
            answer_due.map_or(TemplateValue::from(()), date),
        ),
        ("answer_days", TemplateValue::from(answer_days)),
        (
            "mailbox_role",
            TemplateValue::from(input.mailbox.role.as_str()),
        ),
        ("received_at", TemplateValue::from(local_time(input.now))),
        ("attachments", TemplateValue::from_serialize(&attachments)),
        ("problems", TemplateValue::from_serialize(&problems)),
        (
            "reason",
            TemplateValue::from(input.rejection.map(Rejection::code).unwrap_or_default()),
        ),
    ])
}

/// The answer the step waits for, when AGE sets one: its working days, and
/// its date as the case's deadline has it, or as it would fall from today.
fn answer(
    settings: &Settings<'_>,
    d: &Decision,
    today: chrono::NaiveDate,
) -> (Option<u32>, Option<chrono::NaiveDate>) {
    let rule = d
        .stage
        .and_then(|stage| settings.rules.lifecycle().answer_for(stage, d.service));
    let planned = d.progress.as_ref().and_then(|p| {
        p.deadlines
            .iter()
            .find(|x| x.kind == crate::domain::DeadlineKind::Answer)
            .map(|x| x.due)
    });
    let days = rule.as_ref().map(|r| r.working_days);
    let due = planned.or_else(|| {
        rule.map(|r| {
            settings
                .rules
                .calendar()
                .add_working_days(today, r.working_days)
        })
    });
    (days, due)
}

/// A compact summary of a case for staff (triage `notify_staff`).
fn staff_summary(
    input: &Input<'_>,
    settings: &Settings<'_>,
    d: &Decision,
    step: Stage,
    to: &str,
    index: usize,
) -> anyhow::Result<Outgoing> {
    let mail = input.mail;
    let case = &d.case;
    let problems = &d.problems;
    let mut vars = staff_vars(input, case);
    vars.insert("service", TemplateValue::from(d.service));
    vars.insert("stage", TemplateValue::from(step));
    vars.insert(
        "language",
        TemplateValue::from(input.understanding.language.map_or("?", Language::code)),
    );
    vars.insert(
        "understood",
        TemplateValue::from_serialize(&d.facts.request),
    );
    vars.insert("missing", TemplateValue::from_serialize(&d.missing));
    vars.insert("problems", TemplateValue::from_serialize(problems));
    vars.insert("priority", TemplateValue::from(d.priority));
    vars.insert("labels", TemplateValue::from_serialize(&d.labels));
    vars.insert("rules", TemplateValue::from_serialize(&d.triage));
    let body = settings
        .rules
        .render(None, Template::CaseSummary.as_str(), &vars)?;
    let flag =
        if problems.iter().any(|c| c.is_certificate()) && step == Stage::ProductionRegistration {
            "CERTIFICATE PROBLEM "
        } else {
            ""
        };
    Ok(Outgoing::to_staff(
        format!("summary:{}:{to}", mail.content_hash),
        &settings.staff_from,
        to.to_string(),
        format!(
            "[egov-intake] {flag}{} {} {}: {}",
            case.number().unwrap_or("-"),
            d.service,
            step,
            clean_line(&mail.subject)
        ),
        format!(
            "<summary.{}.{index}@{}>",
            crate::util::prefix(&mail.content_hash, 24),
            settings.reply.message_id_domain
        ),
        body,
    ))
}

fn staff_alert(
    input: &Input<'_>,
    settings: &Settings<'_>,
    case: &CaseAction,
    template: Template,
    reason: &str,
    to: &str,
    index: usize,
) -> anyhow::Result<Outgoing> {
    let mail = input.mail;
    let sender = sender_address(mail);
    let mut vars = staff_vars(input, case);
    vars.insert(
        "message_id",
        TemplateValue::from(mail.message_id.clone().unwrap_or_default()),
    );
    vars.insert("reason", TemplateValue::from(reason));
    vars.insert(
        "detail",
        TemplateValue::from(
            input
                .rejection
                .map(|r| clean_line(&r.detail()))
                .unwrap_or_default(),
        ),
    );
    vars.insert(
        "spool_path",
        TemplateValue::from(input.spool_path.unwrap_or_default()),
    );
    vars.insert(
        "keys",
        TemplateValue::from_serialize(
            input
                .inspection
                .keys()
                .iter()
                .map(|(file, k)| json!({"file": file, "description": k.describe()}))
                .collect::<Vec<_>>(),
        ),
    );
    vars.insert("stored", TemplateValue::from(input.kept_copy));
    vars.insert(
        "action",
        TemplateValue::from(match settings.private_key_action {
            PrivateKeyAction::Quarantine => "a fost mutat în dosarul restricționat de carantină",
            PrivateKeyAction::Expunge => "a fost șters de pe server",
        }),
    );
    let body = settings.rules.render(None, template.as_str(), &vars)?;
    let subject = match template {
        Template::PrivateKey => format!(
            "[egov-intake] PRIVATE KEY received from {sender} ({})",
            case.number().unwrap_or("no case")
        ),
        _ => format!(
            "[egov-intake] Quarantined ({reason}): {}",
            clean_line(&mail.subject)
        ),
    };
    Ok(Outgoing::to_staff(
        format!("alert:{template}:{}:{to}", mail.content_hash),
        &settings.staff_from,
        to.to_string(),
        subject,
        format!(
            "<alert.{}.{index}@{}>",
            crate::util::prefix(&mail.content_hash, 24),
            settings.reply.message_id_domain
        ),
        body,
    ))
}

fn sender_address(mail: &Mail) -> String {
    mail.from
        .as_ref()
        .map(|f| f.address.clone())
        .unwrap_or_default()
}

/// What every staff message about a mail names.
fn staff_vars<'a>(input: &Input<'_>, case: &CaseAction) -> BTreeMap<&'a str, TemplateValue> {
    let mut vars: BTreeMap<&str, TemplateValue> = BTreeMap::new();
    vars.insert(
        "case_number",
        TemplateValue::from(case.number().unwrap_or("-")),
    );
    vars.insert("mailbox", TemplateValue::from(input.mailbox.name.clone()));
    vars.insert(
        "sender_address",
        TemplateValue::from(sender_address(input.mail)),
    );
    vars.insert("subject", TemplateValue::from(input.mail.subject.clone()));
    vars.insert("received_at", TemplateValue::from(local_time(input.now)));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_subject_table() {
        for (subject, number, want) in [
            (
                "Solicitare",
                Some("AGE-2026-00001"),
                "Re: Solicitare [AGE-2026-00001]",
            ),
            (
                "Re: Solicitare",
                Some("AGE-2026-00001"),
                "Re: Solicitare [AGE-2026-00001]",
            ),
            (
                "RE: Solicitare [AGE-2026-00001]",
                Some("AGE-2026-00001"),
                "RE: Solicitare [AGE-2026-00001]",
            ),
            ("", Some("AGE-2026-00001"), "Re: [AGE-2026-00001]"),
            ("Line\r\nBcc: x@y.md", None, "Re: Line Bcc: x@y.md"),
        ] {
            assert_eq!(reply_subject(subject, number), want);
        }
    }
}
