//! Decide stage: from what was understood and what the database already
//! knows, decide what happens — which case the mail belongs to, what is
//! recorded, who is answered and with what text, and where the mail goes.
//!
//! Pure: the store gathers a [`History`] beforehand and writes the
//! [`Decision`] afterwards, in one transaction.

mod assess;
pub mod lifecycle;
pub mod loop_guard;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::calendar::today;
use crate::compose::Outgoing;
use crate::config::{Limits, MailboxConfig, PrivateKeyAction, ReplyConfig};
use crate::domain::{
    CaseFacts, Environment, EventKind, Field, Language, Priority, ProblemCode, Service, Stage,
    Template,
};
use crate::inspect::Inspection;
use crate::parse::Mail;
use crate::rules::Rules;
use crate::understand::Understanding;
use crate::understand::fields::Problem;

/// A case as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub id: i64,
    pub number: String,
    pub language: Option<Language>,
    /// Addresses that wrote to or were answered on this case (lowercase).
    pub participants: Vec<String>,
    pub stage: Stage,
    pub service: Service,
    /// What the case's mail said so far.
    pub facts: CaseFacts,
    /// The day (AGE's local date) the case's first mail came.
    pub opened: chrono::NaiveDate,
}

/// What the database knows that bears on this mail.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The same mail (same content hash) was recorded already, e.g. via Cc to
    /// another of our mailboxes: (message row id, its case).
    pub duplicate_of: Option<(i64, Option<CaseRef>)>,
    /// Case of a mail named in In-Reply-To/References (ours first).
    pub replied_case: Option<CaseRef>,
    /// That mail was one of ours (else a beneficiary's earlier mail).
    pub replied_to_ours: bool,
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
    /// How it was found: the certificate's SHA-256, or the serial sent.
    pub key: String,
    pub case_id: i64,
    pub case_number: String,
    /// The environment the earlier mail registered it for, if it said.
    pub environment: Option<Environment>,
    /// The system that case is about, as far as its facts say.
    pub idno: Option<String>,
    pub system_name: Option<String>,
    /// The mail domains of that case's participants.
    pub domains: Vec<String>,
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
    TooLarge {
        size: usize,
        limit: usize,
    },
    Unparseable {
        detail: String,
    },
    /// The analysis spent its time or memory budget and was stopped.
    AnalysisIncomplete {
        spent: crate::budget::Spent,
        /// In seconds for time, MiB for memory.
        limit: u64,
    },
    /// Processing failed again and again while the database could be
    /// written: the mail is set aside (recorded, quarantined) so that it
    /// cannot hold up its mailbox.
    ProcessingFailed {
        detail: String,
    },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "too_large",
            Rejection::Unparseable { .. } => "unparseable",
            Rejection::AnalysisIncomplete { .. } => "analysis_incomplete",
            Rejection::ProcessingFailed { .. } => "processing_failed",
        }
    }

    /// What staff are told besides the code.
    pub fn detail(&self) -> String {
        match self {
            Rejection::TooLarge { size, limit } => format!("{size} bytes, limit {limit}"),
            Rejection::Unparseable { detail } | Rejection::ProcessingFailed { detail } => {
                detail.clone()
            }
            Rejection::AnalysisIncomplete { spent, limit } => {
                let unit = match spent {
                    crate::budget::Spent::Time => "s",
                    crate::budget::Spent::Memory => "MiB",
                };
                format!("{spent}: its budget is {limit} {unit}")
            }
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
        stage: Stage,
        language: Option<Language>,
        subject: String,
        opened_by: Option<String>,
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
    pub kind: EventKind,
    pub detail: serde_json::Value,
}

/// A mail a decision calls for: what it is, to whom, from which template.
/// [`crate::compose`] writes its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    /// The automatic answer to the sender, in `languages` (in order).
    Reply {
        /// A [`Template`] name, or a reply template a triage rule names.
        template: String,
        to: String,
        languages: Vec<Language>,
    },
    /// A compact summary of the case for a staff member (triage
    /// `notify_staff`, or a certificate problem on a production
    /// registration), about the step the mail was about.
    CaseSummary {
        step: Stage,
        to: String,
        index: usize,
    },
    /// An alert to a staff member: a quarantined or key-bearing mail.
    Alert {
        template: Template,
        reason: String,
        to: String,
        index: usize,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub case: CaseAction,
    pub events: Vec<Event>,
    /// The mails this decision calls for, in order, before any text.
    #[serde(skip)]
    pub drafts: Vec<Draft>,
    /// The same mails written by [`crate::compose`], as the store queues them.
    pub outgoing: Vec<Outgoing>,
    pub disposition: Disposition,
    /// Why no automatic reply went out, if none did.
    pub suppressed: Option<String>,
    /// Problem codes (details, with the values concerned, in `problem_details`).
    pub problems: Vec<ProblemCode>,
    pub problem_details: Vec<Problem>,
    /// The procedure step this mail is about (and the case is at).
    pub stage: Option<Stage>,
    pub service: Service,
    /// The case's facts with this mail's merged in.
    pub facts: CaseFacts,
    /// Fields the step still needs.
    pub missing: Vec<Field>,
    pub priority: Priority,
    pub labels: Vec<String>,
    /// Names of the triage rules that matched.
    pub triage: Vec<String>,
    /// Whose turn it is, and the deadlines that start, move or are met.
    pub progress: Option<lifecycle::Progress>,
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
    /// Why the loop guard answers nothing to this mail, if it does
    /// ([`loop_guard::check`], run once by the caller).
    pub suppression: Option<&'a loop_guard::Suppression>,
    /// Number for a new case, allocated by the store when threading is `New`.
    pub new_case_number: Option<&'a str>,
    /// Where the spool copy is (quarantined mail only).
    pub spool_path: Option<&'a str>,
    /// Which copy the database keeps: original, headers, redacted or none.
    pub kept_copy: &'a str,
    pub now: DateTime<Utc>,
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
    let sender = mail.from.as_ref().map(|f| f.address.to_lowercase());
    let on_case = |case: &CaseRef| {
        sender
            .as_ref()
            .is_some_and(|s| case.participants.contains(s))
    };
    if let Some(case) = &history.replied_case {
        // Answering our mail joins its case; answering somebody's mail only
        // for those already on the case (a Message-ID is easy to learn).
        if history.replied_to_ours || on_case(case) {
            return Threading::Existing {
                case: case.clone(),
                via: "references",
            };
        }
    }
    if let Some(case) = &history.tagged_case
        && on_case(case)
    {
        return Threading::Existing {
            case: case.clone(),
            via: "subject_tag",
        };
    }
    Threading::New
}

/// Decides everything about one mail.
pub fn decide(input: &Input<'_>, settings: &Settings<'_>) -> anyhow::Result<Decision> {
    let mut events = received(input);
    let case_before = match input.threading {
        Threading::Existing { case, .. } => Some(case),
        _ => None,
    };
    let assessment = assess::assess(input, settings, case_before);
    let disposition = disposition(input);
    if let Threading::Duplicate { message, case } = input.threading {
        return Ok(duplicate(
            input,
            events,
            disposition,
            &assessment,
            *message,
            case.as_ref(),
        ));
    }
    let problem_codes = crate::util::dedup(assessment.problems.iter().map(|p| p.code));
    let case = case_action(input, &assessment, &mut events)?;
    let progress = (!matches!(case, CaseAction::None)).then(|| {
        progress(
            input,
            settings,
            case_before,
            &assessment,
            &problem_codes,
            &mut events,
        )
    });
    let stage = progress.as_ref().map_or(assessment.step, |p| p.stage);
    let mut drafts = staff_drafts(input, settings, &disposition, &mut events);
    // A certificate problem on a production registration: staff hear at once.
    let production_cert_problem = assessment.step == Stage::ProductionRegistration
        && problem_codes.iter().any(|c| c.is_certificate());
    if (assessment.triage.notify_staff || production_cert_problem)
        && !matches!(case, CaseAction::None)
    {
        drafts.extend(
            settings
                .staff
                .iter()
                .enumerate()
                .map(|(i, to)| Draft::CaseSummary {
                    step: assessment.step,
                    to: to.clone(),
                    index: i,
                }),
        );
    }
    let suppressed = answer(
        input,
        &case,
        case_before,
        &assessment,
        &mut events,
        &mut drafts,
    )?;
    Ok(Decision {
        case,
        events,
        drafts,
        outgoing: Vec::new(),
        disposition,
        suppressed,
        progress,
        problems: problem_codes,
        problem_details: assessment.problems,
        stage: Some(stage),
        service: assessment.service,
        facts: assessment.facts,
        missing: assessment.missing,
        priority: assessment.triage.priority.unwrap_or(Priority::Normal),
        labels: assessment.triage.labels,
        triage: assessment.triage.matched,
    })
}

/// Whose turn it is on the case now and which deadlines move, with the
/// events saying so.
fn progress(
    input: &Input<'_>,
    settings: &Settings<'_>,
    case_before: Option<&CaseRef>,
    assessment: &Assessment,
    problem_codes: &[ProblemCode],
    events: &mut Vec<Event>,
) -> lifecycle::Progress {
    let today = today(input.now);
    let step = lifecycle::Step {
        stage: assessment.step,
        facts: &assessment.facts,
        missing: &assessment.missing,
        opened: case_before.map_or(today, |c| c.opened),
        answer: settings
            .rules
            .lifecycle()
            .answer_for(assessment.step, assessment.service),
    };
    let p = lifecycle::progress(
        &step,
        today,
        settings.rules.calendar(),
        &settings.rules.lifecycle().deadlines,
    );
    if case_before.is_some_and(|before| p.stage != before.stage) && p.stage != assessment.step {
        events.push(Event {
            kind: EventKind::StageChanged,
            detail: json!({"from": assessment.step, "to": p.stage, "by": "mail"}),
        });
    }
    events.push(Event {
        kind: EventKind::RequestAssessed,
        detail: json!({
            "stage": assessment.step,
            "missing": assessment.missing,
            "problems": problem_codes,
            "triage": assessment.triage.matched,
        }),
    });
    p
}

/// The first events of every mail: that it came, and what inspection found.
fn received(input: &Input<'_>) -> Vec<Event> {
    let mail = input.mail;
    let mut events = vec![Event {
        kind: EventKind::MailReceived,
        detail: json!({
            "mailbox": input.mailbox.name,
            "message_id": mail.message_id,
            "from": mail.from.as_ref().map(|f| &f.address),
            "subject": mail.subject,
            "flags": mail.flags,
            "attachments": input.inspection.attachments.iter().map(|a| json!({
                "name": a.name, "kind": a.kind(), "size": a.size,
            })).collect::<Vec<_>>(),
        }),
    }];
    record_findings(input.inspection, &mut events);
    events
}

/// Where the mail goes on the server.
fn disposition(input: &Input<'_>) -> Disposition {
    // A key found anywhere wins over every other reason: such mail always
    // goes to the restricted folder.
    match (input.rejection, input.inspection.private_key_found) {
        (_, true) => Disposition::PrivateKey,
        (Some(r), false) => Disposition::Quarantine(r.code().into()),
        // Parts that could not be opened may hide a key: staff look first.
        (None, false) if !input.inspection.complete() => {
            Disposition::Quarantine("inspection_incomplete".into())
        }
        (None, false) => Disposition::Processed,
    }
}

/// The same mail recorded before: noted on its case, nothing else.
fn duplicate(
    input: &Input<'_>,
    mut events: Vec<Event>,
    disposition: Disposition,
    assessment: &Assessment,
    message: i64,
    case: Option<&CaseRef>,
) -> Decision {
    events.push(Event {
        kind: EventKind::DuplicateDelivery,
        detail: json!({"mailbox": input.mailbox.name, "message": message}),
    });
    Decision {
        case: case.map_or(CaseAction::None, |c| CaseAction::Existing {
            id: c.id,
            number: c.number.clone(),
        }),
        events,
        drafts: Vec::new(),
        outgoing: Vec::new(),
        disposition,
        suppressed: Some("duplicate delivery of a mail already recorded".into()),
        problems: Vec::new(),
        problem_details: Vec::new(),
        stage: None,
        service: assessment.service,
        facts: case.map(|c| c.facts.clone()).unwrap_or_default(),
        missing: Vec::new(),
        priority: Priority::Normal,
        labels: Vec::new(),
        triage: Vec::new(),
        progress: None,
    }
}

/// Which case the mail lands in (not a duplicate), with its events.
fn case_action(
    input: &Input<'_>,
    assessment: &Assessment,
    events: &mut Vec<Event>,
) -> anyhow::Result<CaseAction> {
    let mail = input.mail;
    Ok(match (input.threading, input.rejection) {
        (Threading::Duplicate { .. }, _) | (_, Some(_)) => CaseAction::None,
        // An auto-reply, bounce or list mail that answers no case of ours
        // is recorded, but opens nothing.
        (Threading::New, None) if input.suppression.is_some_and(|s| s.automated) => {
            CaseAction::None
        }
        (Threading::Existing { case, via }, None) => {
            events.push(Event {
                kind: EventKind::Threaded,
                detail: json!({"via": via}),
            });
            if case.stage != assessment.step {
                events.push(Event {
                    kind: EventKind::StageChanged,
                    detail: json!({"from": case.stage, "to": assessment.step, "by": "mail"}),
                });
            }
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
                kind: EventKind::CaseOpened,
                detail: json!({"number": number, "service": assessment.service, "stage": assessment.step}),
            });
            CaseAction::Open {
                number,
                service: assessment.service,
                stage: assessment.step,
                language: input.understanding.language,
                subject: mail.subject.clone(),
                opened_by: mail.from.as_ref().map(|f| f.address.to_lowercase()),
            }
        }
    })
}

/// Staff alerts for a quarantined or key-bearing mail, with their event.
fn staff_drafts(
    input: &Input<'_>,
    settings: &Settings<'_>,
    disposition: &Disposition,
    events: &mut Vec<Event>,
) -> Vec<Draft> {
    let (template, reason) = match disposition {
        Disposition::Quarantine(reason) => {
            events.push(Event {
                kind: EventKind::Quarantined,
                detail: json!({
                    "reason": reason,
                    "detail": input.rejection.map(Rejection::detail),
                    "spool": input.spool_path,
                }),
            });
            (Template::Quarantined, reason.as_str())
        }
        Disposition::PrivateKey => {
            events.push(Event {
                kind: EventKind::Incident,
                detail: json!({"what": "private_key", "action": settings.private_key_action}),
            });
            (Template::PrivateKey, "private_key")
        }
        Disposition::Processed => return Vec::new(),
    };
    settings
        .staff
        .iter()
        .enumerate()
        .map(|(i, to)| Draft::Alert {
            template,
            reason: reason.to_string(),
            to: to.clone(),
            index: i,
        })
        .collect()
}

/// The automatic answer to the sender, unless something says not to: then
/// why not.
fn answer(
    input: &Input<'_>,
    case: &CaseAction,
    case_before: Option<&CaseRef>,
    assessment: &Assessment,
    events: &mut Vec<Event>,
    drafts: &mut Vec<Draft>,
) -> anyhow::Result<Option<String>> {
    let triage = &assessment.triage;
    let suppressed = match (input.suppression, triage.suppress_reply) {
        (Some(s), _) => Some(s.reason.clone()),
        (None, true) => Some(format!("triage rule: {}", triage.matched.join(", "))),
        (None, false) => None,
    };
    if let Some(reason) = &suppressed {
        events.push(Event {
            kind: EventKind::ReplySuppressed,
            detail: json!({"reason": reason}),
        });
        return Ok(suppressed);
    }
    let template = match (case, input.rejection, &triage.template) {
        (_, Some(_), _) => Template::Rejected.to_string(),
        (_, None, Some(t)) => t.clone(),
        (CaseAction::Open { .. }, None, None) => Template::Received.to_string(),
        _ => Template::Followup.to_string(),
    };
    let to = input
        .mail
        .reply_address()
        .map(|a| a.address.clone())
        .ok_or_else(|| {
            anyhow::anyhow!("no reply address (the loop guard should have caught this)")
        })?;
    // One language when we know it; otherwise all three, Romanian first.
    let language = input
        .understanding
        .language
        .or(case_before.and_then(|c| c.language));
    let languages = language.map_or_else(|| Language::ALL.to_vec(), |l| vec![l]);
    events.push(Event {
        kind: EventKind::ReplyQueued,
        detail: json!({"to": to, "languages": languages}),
    });
    drafts.push(Draft::Reply {
        template,
        to,
        languages,
    });
    Ok(None)
}

/// Events for what inspection found: keys, certificates, signatures.
fn record_findings(inspection: &Inspection, events: &mut Vec<Event>) {
    if inspection.private_key_found {
        events.push(Event {
            kind: EventKind::PrivateKeyReceived,
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
                kind: EventKind::CertificateReceived,
                detail: json!({
                    "file": file, "subject": c.subject, "issuer": c.issuer, "serial": c.serial,
                    "not_after": c.not_after, "sha256": c.sha256, "problems": a.report.problems,
                }),
            });
        }
        for sig in &a.report.signatures {
            events.push(Event {
                kind: EventKind::DocumentSigned,
                detail: json!({
                    "file": file, "signer": sig.signer, "signing_time": sig.signing_time,
                    "verified": sig.verified, "format": sig.format,
                }),
            });
        }
    }
}

pub use assess::Assessment;

#[cfg(test)]
mod tests;
