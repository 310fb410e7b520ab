//! Decide stage: from what was understood and what the database already
//! knows, decide what happens — which case the mail belongs to, what is
//! recorded, who is answered and with what text, and where the mail goes.
//!
//! Pure: the store gathers a [`History`] beforehand and writes the
//! [`Decision`] afterwards, in one transaction.

pub mod loop_guard;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use minijinja::Value;
use serde::Serialize;
use serde_json::json;

use crate::config::{Limits, MailboxConfig, PrivateKeyAction, ReplyConfig};
use crate::inspect::Inspection;
use crate::parse::{Mail, clean_line};
use crate::rules::{Language, Rules};
use crate::understand::{Service, Understanding};

/// The time zone AGE works in; case years and dates follow it.
pub const TZ: chrono_tz::Tz = chrono_tz::Europe::Chisinau;

/// A case as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub id: i64,
    pub number: String,
    pub language: Option<Language>,
    /// Addresses that wrote to or were answered on this case (lowercase).
    pub participants: Vec<String>,
}

/// What the database knows that bears on this mail.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The same mail (same content hash) was recorded already, e.g. via Cc to
    /// another of our mailboxes: (message row id, its case).
    pub duplicate_of: Option<(i64, Option<CaseRef>)>,
    /// Case of a mail named in In-Reply-To/References (ours first).
    pub replied_case: Option<CaseRef>,
    /// Case named by a `[AGE-…]` tag in the subject.
    pub tagged_case: Option<CaseRef>,
    /// Automatic replies to the same recipient recently queued.
    pub replies_last_10min: u32,
    pub replies_last_day: u32,
    /// Certificates of this mail already recorded on cases.
    pub registered_certificates: Vec<RegisteredCertificate>,
}

/// A certificate of this mail seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCertificate {
    pub sha256: String,
    pub case_id: i64,
    pub case_number: String,
    /// The environment the earlier mail registered it for, if it said.
    pub environment: Option<crate::understand::Environment>,
}

/// How the mail relates to existing cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threading {
    Duplicate { message: i64, case: Option<CaseRef> },
    Existing { case: CaseRef, via: &'static str },
    New,
}

/// Why a mail could not be processed normally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    TooLarge { size: usize, limit: usize },
    Unparseable { detail: String },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "too_large",
            Rejection::Unparseable { .. } => "unparseable",
        }
    }
}

/// Where the mail goes on the server once the decision is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "reason")]
pub enum Disposition {
    Processed,
    Quarantine(String),
    /// Held a private key: the restricted folder, or expunged (config).
    PrivateKey,
}

/// The case this mail lands in.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    Open {
        number: String,
        service: Service,
        stage: String,
        language: Option<Language>,
        subject: String,
        opened_by: Option<String>,
        idno: Option<String>,
    },
    Existing {
        id: i64,
        number: String,
    },
    None,
}

impl CaseAction {
    pub fn number(&self) -> Option<&str> {
        match self {
            CaseAction::Open { number, .. } | CaseAction::Existing { number, .. } => Some(number),
            CaseAction::None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutgoingKind {
    Reply,
    Alert,
}

impl OutgoingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutgoingKind::Reply => "reply",
            OutgoingKind::Alert => "alert",
        }
    }
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

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub case: CaseAction,
    pub events: Vec<Event>,
    pub outgoing: Vec<Outgoing>,
    pub disposition: Disposition,
    /// Why no automatic reply went out, if none did.
    pub suppressed: Option<String>,
    pub problems: Vec<String>,
}

/// Settings the decision depends on, gathered from config and rules.
pub struct Settings<'a> {
    pub rules: &'a Rules,
    pub reply: &'a ReplyConfig,
    pub limits: &'a Limits,
    /// Staff who get alerts about this mailbox.
    pub staff: Vec<String>,
    /// Sender address of staff alerts.
    pub staff_from: String,
    /// All addresses of our own mailboxes (lowercase).
    pub our_addresses: Vec<String>,
    pub private_key_action: PrivateKeyAction,
}

pub struct Input<'a> {
    pub mailbox: &'a MailboxConfig,
    pub mail: &'a Mail,
    pub inspection: &'a Inspection,
    pub understanding: &'a Understanding,
    pub rejection: Option<&'a Rejection>,
    pub threading: &'a Threading,
    pub history: &'a History,
    /// Number for a new case, allocated by the store when threading is `New`.
    pub new_case_number: Option<&'a str>,
    /// Where the spool copy is (quarantined mail only).
    pub spool_path: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Finds the `[AGE-YYYY-NNNNN]` tag in a subject.
pub fn subject_tag(subject: &str) -> Option<String> {
    let mut rest = subject;
    while let Some(start) = rest.find("[AGE-") {
        let tail = &rest[start + 1..];
        if let Some(end) = tail.find(']') {
            let candidate = &tail[..end];
            if is_case_number(candidate) {
                return Some(candidate.to_string());
            }
        }
        rest = &rest[start + 5..];
    }
    None
}

/// `AGE-YYYY-NNNNN` (five or more digits).
pub fn is_case_number(s: &str) -> bool {
    let mut parts = s.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("AGE"), Some(y), Some(n), None)
            if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit())
                && n.len() >= 5 && n.chars().all(|c| c.is_ascii_digit())
    )
}

pub fn format_case_number(year: i32, seq: i64) -> String {
    format!("AGE-{year}-{seq:05}")
}

/// The year case numbers of mail arriving at `now` carry (AGE's local year).
pub fn case_year(now: DateTime<Utc>) -> i32 {
    now.with_timezone(&TZ).year()
}

/// Which case the mail belongs to (DESIGN §5): our Message-ID in
/// In-Reply-To/References first, then the subject tag — only from a sender
/// already on that case — else a new case.
pub fn thread(mail: &Mail, history: &History) -> Threading {
    if let Some((message, case)) = &history.duplicate_of {
        return Threading::Duplicate {
            message: *message,
            case: case.clone(),
        };
    }
    if let Some(case) = &history.replied_case {
        return Threading::Existing {
            case: case.clone(),
            via: "references",
        };
    }
    if let Some(case) = &history.tagged_case {
        let sender = mail.from.as_ref().map(|f| f.address.to_lowercase());
        if sender.is_some_and(|s| case.participants.contains(&s)) {
            return Threading::Existing {
                case: case.clone(),
                via: "subject_tag",
            };
        }
    }
    Threading::New
}

/// Decides everything about one mail.
pub fn decide(input: &Input<'_>, settings: &Settings<'_>) -> anyhow::Result<Decision> {
    let mail = input.mail;
    let mut events = Vec::new();
    let mut outgoing = Vec::new();

    let inspection = input.inspection;
    events.push(Event {
        kind: "mail_received".into(),
        detail: json!({
            "mailbox": input.mailbox.name,
            "message_id": mail.message_id,
            "from": mail.from.as_ref().map(|f| &f.address),
            "subject": mail.subject,
            "flags": mail.flags,
            "attachments": inspection.attachments.iter().map(|a| json!({
                "name": a.name, "kind": a.kind(), "size": a.size,
            })).collect::<Vec<_>>(),
        }),
    });
    let mut problems = inspection.problems();

    if inspection.private_key_found {
        events.push(Event {
            kind: "private_key_received".into(),
            detail: json!({
                "keys": inspection.keys().iter().map(|(file, k)| json!({
                    "file": file, "format": k.format, "key_type": k.key_type,
                    "encrypted": k.encrypted, "fingerprint": k.fingerprint,
                })).collect::<Vec<_>>(),
            }),
        });
    }
    for a in &inspection.attachments {
        let file = a.name.clone().unwrap_or_else(|| a.location.clone());
        if let Some(c) = &a.report.certificate {
            events.push(Event {
                kind: "certificate_received".into(),
                detail: json!({
                    "file": file, "subject": c.subject, "issuer": c.issuer, "serial": c.serial,
                    "not_after": c.not_after, "sha256": c.sha256, "problems": a.report.problems,
                }),
            });
        }
        for sig in &a.report.signatures {
            events.push(Event {
                kind: "document_signed".into(),
                detail: json!({
                    "file": file, "signer": sig.signer, "signing_time": sig.signing_time,
                    "verified": sig.verified, "format": sig.format,
                }),
            });
        }
    }
    if let Some(idno) = &input.understanding.idno
        && !idno.valid
    {
        problems.push("idno_invalid".into());
    }
    // The same certificate on another case: another system, or the other
    // environment, which must have a certificate of its own.
    let this_case = match input.threading {
        Threading::Existing { case, .. } => Some(case.id),
        _ => None,
    };
    let environment = input.understanding.environment;
    if input.history.registered_certificates.iter().any(|r| {
        Some(r.case_id) != this_case
            || matches!((r.environment, environment), (Some(before), Some(now)) if before != now)
    }) {
        problems.push("cert_already_registered".into());
    }
    // The procedure wants requests and agreements signed.
    if input.mailbox.role == crate::config::Role::Office
        && !inspection.has(crate::inspect::Kind::SignedDocument)
    {
        if inspection.has(crate::inspect::Kind::Document) {
            problems.push("unsigned_document".into());
        } else if matches!(input.threading, Threading::New) {
            problems.push("unsigned_request".into());
        }
    }

    let disposition = match (input.rejection, inspection.private_key_found) {
        (Some(r), _) => Disposition::Quarantine(r.code().into()),
        (None, true) => Disposition::PrivateKey,
        (None, false) => Disposition::Processed,
    };

    let suppression = loop_guard::check(mail, input.history, settings);
    let case = match (input.threading, input.rejection) {
        (Threading::Duplicate { message, case }, _) => {
            events.push(Event {
                kind: "duplicate_delivery".into(),
                detail: json!({"mailbox": input.mailbox.name, "message": message}),
            });
            return Ok(Decision {
                case: match case {
                    Some(c) => CaseAction::Existing {
                        id: c.id,
                        number: c.number.clone(),
                    },
                    None => CaseAction::None,
                },
                events,
                outgoing,
                disposition,
                suppressed: Some("duplicate delivery of a mail already recorded".into()),
                problems,
            });
        }
        (_, Some(_)) => CaseAction::None,
        // An auto-reply, bounce or list mail that answers no case of ours
        // is recorded, but opens nothing.
        (Threading::New, None) if suppression.as_ref().is_some_and(|s| s.automated) => {
            CaseAction::None
        }
        (Threading::Existing { case, via }, None) => {
            events.push(Event {
                kind: "threaded".into(),
                detail: json!({"via": via}),
            });
            CaseAction::Existing {
                id: case.id,
                number: case.number.clone(),
            }
        }
        (Threading::New, None) => {
            let number = input
                .new_case_number
                .ok_or_else(|| anyhow::anyhow!("a new case needs a number from the store"))?
                .to_string();
            events.push(Event {
                kind: "case_opened".into(),
                detail: json!({"number": number, "service": input.understanding.service}),
            });
            CaseAction::Open {
                number,
                service: input.understanding.service,
                stage: initial_stage(input.mailbox.role).into(),
                language: input.understanding.language,
                subject: mail.subject.clone(),
                opened_by: mail.from.as_ref().map(|f| f.address.to_lowercase()),
                idno: input.understanding.idno.as_ref().map(|i| i.value.clone()),
            }
        }
    };

    match &disposition {
        Disposition::Quarantine(reason) => {
            events.push(Event {
                kind: "quarantined".into(),
                detail: json!({"reason": reason, "spool": input.spool_path}),
            });
            for (i, to) in settings.staff.iter().enumerate() {
                outgoing.push(staff_alert(
                    input,
                    settings,
                    &case,
                    "quarantined",
                    reason,
                    to,
                    i,
                )?);
            }
        }
        Disposition::PrivateKey => {
            events.push(Event {
                kind: "incident".into(),
                detail: json!({"what": "private_key", "action": settings.private_key_action}),
            });
            for (i, to) in settings.staff.iter().enumerate() {
                outgoing.push(staff_alert(
                    input,
                    settings,
                    &case,
                    "private_key",
                    "private_key",
                    to,
                    i,
                )?);
            }
        }
        Disposition::Processed => {}
    }

    // The automatic answer to the sender.
    let language = input.understanding.language.or(match input.threading {
        Threading::Existing { case, .. } => case.language,
        _ => None,
    });
    let suppressed = match suppression {
        Some(s) => Some(s.reason),
        None => {
            let template = match (&case, input.rejection) {
                (_, Some(_)) => "rejected",
                (CaseAction::Open { .. }, None) => "received",
                _ => "followup",
            };
            outgoing.push(reply(
                input, settings, &case, template, language, &problems,
            )?);
            None
        }
    };
    match &suppressed {
        Some(reason) => events.push(Event {
            kind: "reply_suppressed".into(),
            detail: json!({"reason": reason}),
        }),
        None => events.push(Event {
            kind: "reply_queued".into(),
            detail: json!({"to": outgoing.last().map(|o| &o.to), "languages": outgoing.last().map(|o| &o.languages)}),
        }),
    }

    Ok(Decision {
        case,
        events,
        outgoing,
        disposition,
        suppressed,
        problems,
    })
}

/// A moment as AGE's staff and beneficiaries read it: Chișinău time.
fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ).format("%d.%m.%Y %H:%M").to_string()
}

/// The procedure step a new case starts in, by the mailbox it reached.
fn initial_stage(role: crate::config::Role) -> &'static str {
    match role {
        crate::config::Role::Office => "request",
        _ => "test_registration",
    }
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
    case: &CaseAction,
    template: &str,
    language: Option<Language>,
    problems: &[String],
) -> anyhow::Result<Outgoing> {
    let mail = input.mail;
    let to = mail
        .reply_address()
        .map(|a| a.address.clone())
        .ok_or_else(|| {
            anyhow::anyhow!("no reply address (the loop guard should have caught this)")
        })?;
    let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
    vars.insert(
        "case_number",
        Value::from(case.number().unwrap_or_default()),
    );
    vars.insert("subject", Value::from(mail.subject.clone()));
    vars.insert(
        "sender_name",
        Value::from(
            mail.from
                .as_ref()
                .and_then(|f| f.name.clone())
                .unwrap_or_default(),
        ),
    );
    vars.insert("sender_address", Value::from(to.clone()));
    vars.insert(
        "mailbox_address",
        Value::from(input.mailbox.address.clone()),
    );
    vars.insert("service", Value::from(input.understanding.service.as_str()));
    vars.insert("stage", Value::from(initial_stage(input.mailbox.role)));
    vars.insert("received_at", Value::from(local_time(input.now)));
    vars.insert(
        "attachments",
        Value::from_serialize(
            input
                .inspection
                .attachments
                .iter()
                .filter(|a| a.kind() != crate::inspect::Kind::Message)
                .map(|a| json!({"name": a.name.clone().unwrap_or_else(|| a.location.clone()), "kind": a.kind().as_str()}))
                .collect::<Vec<_>>(),
        ),
    );
    vars.insert("problems", Value::from_serialize(problems));
    vars.insert(
        "reason",
        Value::from(input.rejection.map(Rejection::code).unwrap_or_default()),
    );

    // One language when we know it; otherwise all three, Romanian first.
    let languages: Vec<Language> = match language {
        Some(l) => vec![l],
        None => Language::ALL.to_vec(),
    };
    let mut body = String::new();
    for (i, lang) in languages.iter().enumerate() {
        if i > 0 {
            body.push_str("\n----------------------------------------\n\n");
        }
        let explanations: Vec<String> = problems
            .iter()
            .map(|p| settings.rules.explain(p, *lang))
            .collect();
        vars.insert("explanations", Value::from_serialize(&explanations));
        body.push_str(&settings.rules.render(Some(*lang), template, &vars)?);
    }

    let mut references = mail.references.clone();
    if let Some(id) = &mail.message_id {
        references.push(id.clone());
    }
    // Long threads: the first and the last few are what clients need.
    if references.len() > 10 {
        let tail = references.split_off(references.len() - 9);
        references.truncate(1);
        references.extend(tail);
    }
    Ok(Outgoing {
        key: format!("reply:{}", mail.content_hash),
        kind: OutgoingKind::Reply,
        from_name: settings.reply.from_name.clone(),
        from_address: input.mailbox.address.clone(),
        to,
        subject: reply_subject(&mail.subject, case.number()),
        message_id: format!(
            "<reply.{}@{}>",
            &mail.content_hash[..24],
            settings.reply.message_id_domain
        ),
        in_reply_to: mail.message_id.clone(),
        references,
        languages,
        body,
    })
}

fn staff_alert(
    input: &Input<'_>,
    settings: &Settings<'_>,
    case: &CaseAction,
    template: &str,
    reason: &str,
    to: &str,
    index: usize,
) -> anyhow::Result<Outgoing> {
    let mail = input.mail;
    let sender = mail
        .from
        .as_ref()
        .map(|f| f.address.clone())
        .unwrap_or_default();
    let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
    vars.insert("case_number", Value::from(case.number().unwrap_or("-")));
    vars.insert("mailbox", Value::from(input.mailbox.name.clone()));
    vars.insert("sender_address", Value::from(sender.clone()));
    vars.insert("subject", Value::from(mail.subject.clone()));
    vars.insert(
        "message_id",
        Value::from(mail.message_id.clone().unwrap_or_default()),
    );
    vars.insert("reason", Value::from(reason));
    vars.insert(
        "spool_path",
        Value::from(input.spool_path.unwrap_or_default()),
    );
    vars.insert("received_at", Value::from(local_time(input.now)));
    vars.insert(
        "keys",
        Value::from_serialize(
            input
                .inspection
                .keys()
                .iter()
                .map(|(file, k)| json!({"file": file, "description": k.describe()}))
                .collect::<Vec<_>>(),
        ),
    );
    vars.insert(
        "action",
        Value::from(match settings.private_key_action {
            PrivateKeyAction::Quarantine => "a fost mutat în dosarul restricționat de carantină",
            PrivateKeyAction::Expunge => "a fost șters de pe server",
        }),
    );
    let body = settings.rules.render(None, template, &vars)?;
    let subject = match template {
        "private_key" => format!(
            "[egov-intake] PRIVATE KEY received from {sender} ({})",
            case.number().unwrap_or("no case")
        ),
        _ => format!(
            "[egov-intake] Quarantined ({reason}): {}",
            clean_line(&mail.subject)
        ),
    };
    Ok(Outgoing {
        key: format!("alert:{template}:{}:{to}", mail.content_hash),
        kind: OutgoingKind::Alert,
        from_name: "egov-intake".into(),
        from_address: settings.staff_from.clone(),
        to: to.to_string(),
        subject,
        message_id: format!(
            "<alert.{}.{index}@{}>",
            &mail.content_hash[..24],
            settings.reply.message_id_domain
        ),
        in_reply_to: None,
        references: Vec::new(),
        languages: vec![Language::Ro],
        body,
    })
}

#[cfg(test)]
mod tests;
