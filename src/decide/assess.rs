//! What a mail means for its case: the step it is about, the service, the
//! facts merged with what the case knew, what is still missing, the
//! problems, and what AGE's triage rules say.

use super::{CaseRef, Input, Settings};
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
        (Role::Office, None) => Stage::Request,
        (_, _) if environment == Some(Environment::Production) => Stage::ProductionRegistration,
        (_, _) => Stage::TestRegistration,
    };
    let mut facts = case.map(|c| c.facts.clone()).unwrap_or_default();
    facts.merge(&this_mail(input));
    let problems = problems(input, case, environment);
    let present = facts.present();
    // The case's service once known; this mail's until then.
    let known = case
        .map(|c| c.service)
        .filter(|s| *s != Service::Unknown)
        .unwrap_or(understanding.service);
    let outcome = triage_outcome(input, settings, known, &present);
    let service = outcome.service.as_deref().map_or(known, Service::parse);
    let missing: Vec<Field> = settings
        .rules
        .required(step, service)
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

/// What this mail itself says: the request, and whether it brings a usable
/// certificate and (to office@) a signed document.
fn this_mail(input: &Input<'_>) -> CaseFacts {
    let inspection = input.inspection;
    // The certificate must be usable and the agreement signed to count.
    let valid_certificate = inspection
        .attachments
        .iter()
        .any(|a| a.kind() == Kind::Certificate && a.report.problems.is_empty());
    let signed = inspection.has(Kind::SignedDocument);
    CaseFacts {
        request: input.understanding.request.clone(),
        certificate: valid_certificate,
        signed_agreement: signed && input.mailbox.role == Role::Office,
    }
}

/// Problems of inspection and understanding, a certificate registered
/// elsewhere, and unsigned requests.
fn problems(
    input: &Input<'_>,
    case: Option<&CaseRef>,
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
    if input.history.registered_certificates.iter().any(|r| {
        Some(r.case_id) != this_case
            || matches!((r.environment, environment), (Some(before), Some(now)) if before != now)
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
