//! What a mail means for its case: the step it is about, the service, the
//! facts merged with what the case knew, what is still missing, the
//! problems, and what AGE's triage rules say.

use super::{CaseRef, Input, RegisteredCertificate, Settings};
use crate::config::Role;
use crate::domain::{CaseFacts, Environment, Field, Language, ProblemCode, Service, Stage};
use crate::inspect::Kind;
use crate::rules::triage;
use crate::understand::fields::Problem;

/// What a mail means for its case.
pub struct Assessment {
    pub step: Stage,
    pub service: Service,
    pub facts: CaseFacts,
    pub missing: Vec<Field>,
    pub problems: Vec<Problem>,
    pub triage: triage::Outcome,
}

fn problem(code: ProblemCode) -> Problem {
    Problem {
        code,
        value: None,
        suggestion: None,
    }
}

/// The step, service, merged facts, what is missing, the problems, and the
/// triage rules' say.
pub(super) fn assess(
    input: &Input<'_>,
    settings: &Settings<'_>,
    case: Option<&CaseRef>,
) -> Assessment {
    let understanding = input.understanding;
    let role = input.mailbox.role;
    let environment = understanding
        .environment
        .or_else(|| case.and_then(|c| c.facts.request.environment));
    let step = match (role, case.map(|c| c.stage)) {
        (Role::Office, Some(stage)) => stage,
        (Role::Office, None) => understanding.stage.unwrap_or(Stage::Request),
        (_, _) if environment == Some(Environment::Production) => Stage::ProductionRegistration,
        (_, _) => Stage::TestRegistration,
    };
    let mut facts = case.map(|c| c.facts.clone()).unwrap_or_default();
    facts.merge(&this_mail(input, step));
    let problems = problems(input, case, &facts, environment);
    let present = facts.present_at(step);
    // The case's service once known; this mail's until then.
    let known = case
        .map(|c| c.service)
        .filter(|s| *s != Service::Unknown)
        .unwrap_or(understanding.service);
    let outcome = triage_outcome(input, settings, known, &present);
    let service = outcome.service.as_deref().map_or(known, Service::parse);
    // Unknown until the institution is named; then asked in the next reply.
    let public = facts
        .request
        .institution
        .as_deref()
        .is_some_and(|name| settings.rules.is_public_institution(name));
    let missing: Vec<Field> = settings
        .rules
        .required(step, service, public)
        .into_iter()
        .filter(|f| !present.contains(f))
        .collect();
    Assessment {
        step,
        service,
        facts,
        missing,
        problems,
        triage: outcome,
    }
}

/// What this mail about `step` itself says: the request, and whether it
/// brings a usable certificate (or the serial of a registered one), for the
/// step's environment, and (to office@) a signed document.
fn this_mail(input: &Input<'_>, step: Stage) -> CaseFacts {
    let inspection = input.inspection;
    let request = &input.understanding.request;
    // The certificate must be usable and the agreement signed to count.
    let certificate = request.certificate_serial.is_some()
        || inspection
            .attachments
            .iter()
            .any(|a| a.kind() == Kind::Certificate && a.report.problems.is_empty());
    let production = step == Stage::ProductionRegistration;
    let signed = inspection.has(Kind::SignedDocument);
    CaseFacts {
        request: request.clone(),
        certificate: certificate && !production,
        production_certificate: certificate && production,
        signed_agreement: signed && input.mailbox.role == Role::Office,
    }
}

/// Problems of inspection and understanding, a certificate registered
/// elsewhere, and unsigned requests.
fn problems(
    input: &Input<'_>,
    case: Option<&CaseRef>,
    facts: &CaseFacts,
    environment: Option<Environment>,
) -> Vec<Problem> {
    let inspection = input.inspection;
    let mut problems: Vec<Problem> = inspection.problems().into_iter().map(problem).collect();
    for p in &input.understanding.problems {
        // localhost only matters where users will log in for real.
        if p.code == ProblemCode::UrlLocalhost && environment != Some(Environment::Production) {
            continue;
        }
        problems.push(p.clone());
    }
    let this_case = case.map(|c| c.id);
    let sender = input.mail.from.as_ref().map(|f| f.address.as_str());
    if input.history.registered_certificates.iter().any(|r| {
        let other_environment =
            matches!((r.environment, environment), (Some(before), Some(now)) if before != now);
        other_environment || (Some(r.case_id) != this_case && !same_system(r, facts, sender))
    }) {
        problems.push(problem(ProblemCode::CertAlreadyRegistered));
    }
    // The procedure wants requests and agreements signed.
    if input.mailbox.role == Role::Office && !inspection.has(Kind::SignedDocument) {
        if inspection.has(Kind::Document) {
            problems.push(problem(ProblemCode::UnsignedDocument));
        } else if case.is_none() {
            problems.push(problem(ProblemCode::UnsignedRequest));
        }
    }
    problems
}

/// Whether the case that registered `r` is about the same information
/// system as these `facts` (from `sender`): one certificate serves every
/// service of one system in one environment. The same IDNO when both cases
/// know it, else the same mail domain; and no two different system names.
fn same_system(r: &RegisteredCertificate, facts: &CaseFacts, sender: Option<&str>) -> bool {
    let fold = |s: &str| {
        s.to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let same_owner = match (&r.idno, &facts.request.idno) {
        (Some(a), Some(b)) => a == b,
        _ => sender
            .and_then(|s| s.rsplit_once('@'))
            .is_some_and(|(_, d)| r.domains.contains(&d.to_lowercase())),
    };
    let names_differ = matches!(
        (&r.system_name, &facts.request.system_name),
        (Some(a), Some(b)) if fold(a) != fold(b)
    );
    same_owner && !names_differ
}

/// AGE's triage rules on this mail, with the fields now `present`.
fn triage_outcome(
    input: &Input<'_>,
    settings: &Settings<'_>,
    service: Service,
    present: &[Field],
) -> triage::Outcome {
    let kinds: Vec<&str> = input
        .inspection
        .attachments
        .iter()
        .map(|a| a.kind().as_str())
        .collect();
    triage::evaluate(
        settings.rules.triage(),
        &triage::Facts {
            mailbox: &input.mailbox.name,
            sender: input.mail.from.as_ref().map(|f| f.address.as_str()),
            subject: &input.mail.subject,
            body: &input.mail.text,
            attachment_kinds: kinds,
            language: input.understanding.language.map(Language::code),
            service: service.as_str(),
            fields_present: present,
        },
    )
}
