//! Triage rules (`rules/triage.toml`): AGE's own sorting of incoming mail,
//! evaluated in order. Each rule matches on what is known of a mail —
//! mailbox, sender or domain, regexes over subject or body, attachment
//! kinds, language, service, extracted fields — and acts: set the service,
//! priority or labels, pick a template, notify staff, suppress the reply,
//! stop. Evaluation is [`evaluate`], pure.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::config::{ConfigError, Locator};
use crate::domain::{Field, Priority};

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub matcher: Matcher,
    pub action: Action,
}

#[derive(Debug, Clone, Default)]
pub struct Matcher {
    pub mailbox: Vec<String>,
    /// Sender addresses, `*` wildcards, lowercase.
    pub sender: Vec<String>,
    /// Sender domains (the domain or any subdomain), lowercase.
    pub domain: Vec<String>,
    pub subject: Option<Regex>,
    pub body: Option<Regex>,
    /// Matches when any attachment is of one of these kinds.
    pub attachment_kinds: Vec<String>,
    pub language: Vec<String>,
    pub service: Vec<String>,
    /// All these request fields were found.
    pub fields_present: Vec<Field>,
    /// At least one of these request fields is missing.
    pub fields_missing: Vec<Field>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Action {
    pub service: Option<String>,
    pub priority: Option<Priority>,
    pub labels: Vec<String>,
    pub template: Option<String>,
    pub notify_staff: bool,
    pub suppress_reply: bool,
    pub stop: bool,
}

/// What a rule can look at.
pub struct Facts<'a> {
    pub mailbox: &'a str,
    pub sender: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    pub attachment_kinds: Vec<&'a str>,
    pub language: Option<&'a str>,
    pub service: &'a str,
    pub fields_present: &'a [Field],
}

/// What the matching rules decided, merged in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub matched: Vec<String>,
    pub service: Option<String>,
    pub priority: Option<Priority>,
    pub labels: Vec<String>,
    pub template: Option<String>,
    pub notify_staff: bool,
    pub suppress_reply: bool,
}

pub fn evaluate(rules: &[Rule], facts: &Facts<'_>) -> Outcome {
    let mut out = Outcome::default();
    for rule in rules {
        if !matches(&rule.matcher, facts) {
            continue;
        }
        out.matched.push(rule.name.clone());
        let a = &rule.action;
        if a.service.is_some() {
            out.service = a.service.clone();
        }
        if a.priority.is_some() {
            out.priority = a.priority;
        }
        for l in &a.labels {
            if !out.labels.contains(l) {
                out.labels.push(l.clone());
            }
        }
        if a.template.is_some() {
            out.template = a.template.clone();
        }
        out.notify_staff |= a.notify_staff;
        out.suppress_reply |= a.suppress_reply;
        if a.stop {
            break;
        }
    }
    out
}

fn matches(m: &Matcher, f: &Facts<'_>) -> bool {
    let sender = f.sender.map(str::to_ascii_lowercase).unwrap_or_default();
    let domain = sender
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    (m.mailbox.is_empty() || m.mailbox.iter().any(|x| x == f.mailbox))
        && (m.sender.is_empty() || m.sender.iter().any(|p| super::wildcard_match(p, &sender)))
        && (m.domain.is_empty()
            || m.domain
                .iter()
                .any(|d| domain == *d || domain.ends_with(&format!(".{d}"))))
        && m.subject.as_ref().is_none_or(|r| r.is_match(f.subject))
        && m.body.as_ref().is_none_or(|r| r.is_match(f.body))
        && (m.attachment_kinds.is_empty()
            || m.attachment_kinds
                .iter()
                .any(|k| f.attachment_kinds.contains(&k.as_str())))
        && (m.language.is_empty()
            || f.language
                .is_some_and(|l| m.language.iter().any(|x| x == l)))
        && (m.service.is_empty() || m.service.iter().any(|x| x == f.service))
        && m.fields_present
            .iter()
            .all(|x| f.fields_present.contains(x))
        && (m.fields_missing.is_empty()
            || m.fields_missing
                .iter()
                .any(|x| !f.fields_present.contains(x)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default, rename = "match")]
    matcher: RawMatcher,
    #[serde(default, rename = "then")]
    action: RawAction,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    #[serde(default)]
    mailbox: Vec<String>,
    #[serde(default)]
    sender: Vec<String>,
    #[serde(default)]
    domain: Vec<String>,
    subject: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    #[serde(default)]
    attachment_kinds: Vec<Spanned<String>>,
    #[serde(default)]
    language: Vec<Spanned<String>>,
    #[serde(default)]
    service: Vec<Spanned<String>>,
    #[serde(default)]
    fields_present: Vec<Spanned<String>>,
    #[serde(default)]
    fields_missing: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAction {
    service: Option<Spanned<String>>,
    priority: Option<Spanned<String>>,
    #[serde(default)]
    labels: Vec<String>,
    template: Option<Spanned<String>>,
    #[serde(default)]
    notify_staff: bool,
    #[serde(default)]
    suppress_reply: bool,
    #[serde(default)]
    stop: bool,
}

/// Names a rule may use, checked at load so a typo is an error, not a rule that never fires.
pub struct Vocabulary<'a> {
    pub templates: &'a [&'a str],
    pub fields: &'a [&'a str],
}

const KINDS: &[&str] = &[
    "certificate",
    "private_key",
    "pkcs12",
    "public_key",
    "signed_document",
    "document",
    "archive",
    "message",
    "other",
];
const LANGUAGES: &[&str] = crate::domain::Language::NAMES;
const SERVICES: &[&str] = crate::domain::Service::NAMES;
const PRIORITIES: &[&str] = Priority::NAMES;

/// Loads `triage.toml`; every problem goes to `errors` with its line.
pub fn load(
    path: &Path,
    text: &str,
    raw: RawFile,
    vocabulary: &Vocabulary<'_>,
    errors: &mut Vec<ConfigError>,
) -> Vec<Rule> {
    let loc = Locator::new(path, text);
    raw.rule
        .into_iter()
        .map(|spanned| {
            let r = spanned.into_inner();
            // The matcher first, then the action: errors in the file's order.
            let matcher = matcher(&loc, r.matcher, vocabulary, errors);
            let action = action(&loc, r.action, vocabulary, errors);
            Rule {
                name: r.name,
                matcher,
                action,
            }
        })
        .collect()
}

fn matcher(
    loc: &Locator<'_>,
    m: RawMatcher,
    vocabulary: &Vocabulary<'_>,
    errors: &mut Vec<ConfigError>,
) -> Matcher {
    Matcher {
        mailbox: m.mailbox,
        sender: m
            .sender
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        domain: m
            .domain
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        subject: regex(loc, &m.subject, errors),
        body: regex(loc, &m.body, errors),
        attachment_kinds: check(loc, &m.attachment_kinds, KINDS, "attachment kind", errors),
        language: check(loc, &m.language, LANGUAGES, "language", errors),
        service: check(loc, &m.service, SERVICES, "service", errors),
        fields_present: fields(loc, &m.fields_present, vocabulary.fields, errors),
        fields_missing: fields(loc, &m.fields_missing, vocabulary.fields, errors),
    }
}

fn action(
    loc: &Locator<'_>,
    a: RawAction,
    vocabulary: &Vocabulary<'_>,
    errors: &mut Vec<ConfigError>,
) -> Action {
    Action {
        service: one(loc, &a.service, SERVICES, "service", errors),
        priority: one(loc, &a.priority, PRIORITIES, "priority", errors)
            .and_then(|p| p.parse().ok()),
        labels: a.labels,
        template: one(loc, &a.template, vocabulary.templates, "template", errors),
        notify_staff: a.notify_staff,
        suppress_reply: a.suppress_reply,
        stop: a.stop,
    }
}

/// The names in `list` that are `allowed`; each other one is an error.
fn check(
    loc: &Locator<'_>,
    list: &[Spanned<String>],
    allowed: &[&str],
    what: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<String> {
    list.iter()
        .filter_map(|v| {
            if allowed.contains(&v.get_ref().as_str()) {
                Some(v.get_ref().clone())
            } else {
                errors.push(loc.at(
                    v.span().start,
                    format!(
                        "unknown {what} {:?}; known: {}",
                        v.get_ref(),
                        allowed.join(", ")
                    ),
                ));
                None
            }
        })
        .collect()
}

/// The fields named in `list`; each unknown one is an error.
fn fields(
    loc: &Locator<'_>,
    list: &[Spanned<String>],
    allowed: &[&str],
    errors: &mut Vec<ConfigError>,
) -> Vec<Field> {
    check(loc, list, allowed, "field", errors)
        .iter()
        .filter_map(|f| f.parse().ok())
        .collect()
}

/// [`check`] for a single, optional name.
fn one(
    loc: &Locator<'_>,
    v: &Option<Spanned<String>>,
    allowed: &[&str],
    what: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    v.as_ref().and_then(|v| {
        check(loc, std::slice::from_ref(v), allowed, what, errors)
            .into_iter()
            .next()
    })
}

/// The compiled pattern, or an error naming what the regex crate objects to.
fn regex(
    loc: &Locator<'_>,
    r: &Option<Spanned<String>>,
    errors: &mut Vec<ConfigError>,
) -> Option<Regex> {
    let r = r.as_ref()?;
    match Regex::new(r.get_ref()) {
        Ok(re) => Some(re),
        Err(e) => {
            let first = e.to_string().lines().last().unwrap_or_default().to_string();
            errors.push(loc.at(r.span().start, format!("bad regex: {first}")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Template;

    fn rules(text: &str) -> Result<Vec<Rule>, Vec<ConfigError>> {
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| vec![Locator::new(Path::new("t.toml"), text).toml(&e)])?;
        let mut errors = Vec::new();
        let v = Vocabulary {
            templates: &[Template::Received.as_str(), Template::Followup.as_str()],
            fields: &["idno", "ip_addresses"],
        };
        let r = load(Path::new("t.toml"), text, raw, &v, &mut errors);
        if errors.is_empty() {
            Ok(r)
        } else {
            Err(errors)
        }
    }

    fn facts<'a>(sender: &'a str, subject: &'a str) -> Facts<'a> {
        Facts {
            mailbox: "office",
            sender: Some(sender),
            subject,
            body: "",
            attachment_kinds: vec!["document"],
            language: Some("ro"),
            service: "unknown",
            fields_present: &[Field::Idno],
        }
    }

    #[test]
    fn rules_apply_in_order_and_stop() {
        let r = rules(
            r#"
[[rule]]
name = "ministries"
match = { domain = ["gov.md"] }
then = { priority = "high", labels = ["public"] }

[[rule]]
name = "msign by subject"
match = { subject = "(?i)semn[aă]tur|msign" }
then = { service = "msign", stop = true }

[[rule]]
name = "never reached after stop"
then = { labels = ["late"] }
"#,
        )
        .unwrap();
        let out = evaluate(&r, &facts("ion@mf.gov.md", "Semnatura electronica"));
        assert_eq!(out.matched, ["ministries", "msign by subject"]);
        assert_eq!(out.priority, Some(Priority::High));
        assert_eq!(out.service.as_deref(), Some("msign"));
        assert_eq!(out.labels, ["public"]);
        let out = evaluate(&r, &facts("ana@firma.md", "Solicitare"));
        assert_eq!(out.matched, ["never reached after stop"]);
    }

    #[test]
    fn mistakes_are_reported_with_their_line() {
        let errors = rules(
            "[[rule]]\nname = \"x\"\nmatch = { subject = \"(unclosed\", language = [\"de\"] }\nthen = { template = \"nope\", priority = \"asap\" }\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 4, "{text:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.line == Some(3) || e.line == Some(4)),
            "{text:?}"
        );
        let unknown_key =
            rules("[[rule]]\nname = \"x\"\n[rule.match]\nsubjct = \"a\"\n").unwrap_err();
        assert_eq!(
            unknown_key[0].line,
            Some(4),
            "{:?}",
            unknown_key[0].to_string()
        );
    }
}
