//! What a mail means for its case: the step it is about, the service, the
//! facts merged with what the case knew, what is still missing, the
//! problems, and what AGE's triage rules say.

use serde_json::{Value, json};

use super::{CaseRef, Input, Settings};
use crate::config::Role;
use crate::domain::{Environment, Language, Service, Stage};
use crate::inspect::Kind;
use crate::rules::triage;
use crate::understand::fields::Problem;

/// What a mail means for its case.
pub struct Assessment {
    pub step: Stage,
    pub service: Service,
    pub facts: Value,
    pub missing: Vec<String>,
    pub problems: Vec<Problem>,
    pub triage: triage::Outcome,
}

fn problem(code: &str) -> Problem {
    Problem {
        code: code.into(),
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
    let environment = understanding.environment.or_else(|| {
        case.and_then(|c| {
            c.facts["request"]["environment"]
                .as_str()
                .and_then(|e| e.parse::<Environment>().ok())
        })
    });
    let step = match (role, case.map(|c| c.stage)) {
        (Role::Office, Some(stage)) => stage,
        (Role::Office, None) => Stage::Request,
        (_, _) if environment == Some(Environment::Production) => Stage::ProductionRegistration,
        (_, _) => Stage::TestRegistration,
    };
    let facts = merge_facts(case.map_or(&Value::Null, |c| &c.facts), &this_mail(input));
    let problems = problems(input, case, environment);
    let present: Vec<&str> = crate::rules::FIELDS
        .iter()
        .copied()
        .filter(|f| is_present(&facts, f))
        .collect();
    // The case's service once known; this mail's until then.
    let known = case
        .map(|c| c.service)
        .filter(|s| *s != Service::Unknown)
        .unwrap_or(understanding.service);
    let outcome = triage_outcome(input, settings, known, &present);
    let service = outcome.service.as_deref().map_or(known, Service::parse);
    let missing: Vec<String> = settings
        .rules
        .required(step, service)
        .into_iter()
        .filter(|f| !present.contains(&f.as_str()))
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
fn this_mail(input: &Input<'_>) -> Value {
    let inspection = input.inspection;
    // The certificate must be usable and the agreement signed to count.
    let valid_certificate = inspection
        .attachments
        .iter()
        .any(|a| a.kind() == Kind::Certificate && a.report.problems.is_empty());
    let signed = inspection.has(Kind::SignedDocument);
    json!({
        "request": input.understanding.request,
        "certificate": valid_certificate,
        "signed_agreement": signed && input.mailbox.role == Role::Office,
    })
}

/// Problems of inspection and understanding, a certificate registered
/// elsewhere, and unsigned requests.
fn problems(
    input: &Input<'_>,
    case: Option<&CaseRef>,
    environment: Option<Environment>,
) -> Vec<Problem> {
    let inspection = input.inspection;
    let mut problems: Vec<Problem> = inspection.problems().iter().map(|c| problem(c)).collect();
    for p in &input.understanding.problems {
        // localhost only matters where users will log in for real.
        if p.code == "url_localhost" && environment != Some(Environment::Production) {
            continue;
        }
        problems.push(p.clone());
    }
    let this_case = case.map(|c| c.id);
    if input.history.registered_certificates.iter().any(|r| {
        Some(r.case_id) != this_case
            || matches!((r.environment, environment), (Some(before), Some(now)) if before != now)
    }) {
        problems.push(problem("cert_already_registered"));
    }
    // The procedure wants requests and agreements signed.
    if input.mailbox.role == Role::Office && !inspection.has(Kind::SignedDocument) {
        if inspection.has(Kind::Document) {
            problems.push(problem("unsigned_document"));
        } else if case.is_none() {
            problems.push(problem("unsigned_request"));
        }
    }
    problems
}

/// AGE's triage rules on this mail, with the fields now `present`.
fn triage_outcome(
    input: &Input<'_>,
    settings: &Settings<'_>,
    service: Service,
    present: &[&str],
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
            fields_present: present.to_vec(),
        },
    )
}

/// Later mail adds to what earlier mail said: a field the new mail gives
/// replaces the old one; one it leaves out keeps its old value.
pub fn merge_facts(old: &Value, new: &Value) -> Value {
    let mut out = if old.is_object() {
        old.clone()
    } else {
        json!({})
    };
    let empty = |v: &Value| {
        v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(|a| a.is_empty())
    };
    if let Some(req) = new.get("request").and_then(Value::as_object) {
        let target = out
            .as_object_mut()
            .expect("an object")
            .entry("request")
            .or_insert_with(|| json!({}));
        if !target.is_object() {
            *target = json!({});
        }
        for (k, v) in req {
            if !empty(v) {
                target[k] = v.clone();
            }
        }
    }
    for flag in ["certificate", "signed_agreement"] {
        let was = out.get(flag).and_then(Value::as_bool).unwrap_or(false);
        let now = new.get(flag).and_then(Value::as_bool).unwrap_or(false);
        out[flag] = Value::Bool(was || now);
    }
    out
}

/// The `request` of the facts with every key present (null when unknown),
/// as templates and the JSON output expect.
pub fn full_request(facts: &Value) -> Value {
    let mut request =
        serde_json::to_value(crate::understand::fields::Request::default()).unwrap_or_default();
    if let (Some(all), Some(known)) = (request.as_object_mut(), facts["request"].as_object()) {
        for (k, v) in known {
            all.insert(k.clone(), v.clone());
        }
    }
    request
}

/// Whether the facts hold `field` (a request key, `certificate` or `signed_agreement`).
pub fn is_present(facts: &Value, field: &str) -> bool {
    match field {
        "certificate" | "signed_agreement" => {
            facts.get(field).and_then(Value::as_bool).unwrap_or(false)
        }
        // An IDNO counts only with a valid check digit.
        "idno" => {
            facts["request"]["idno"].is_string()
                && facts["request"]["idno_valid"].as_bool() != Some(false)
        }
        _ => {
            let v = &facts["request"][field];
            !(v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(|a| a.is_empty()))
        }
    }
}
