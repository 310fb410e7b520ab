//! The rules folder: everything about the procedure that AGE may change
//! without a new build — who never gets an automatic answer, and the reply
//! templates in every language.
//!
//! Layout:
//! - `rules.toml`: loop-guard addresses;
//! - `certificates.toml`: the certificate policy and the trust anchors;
//! - `problems.toml`: every problem code explained in ro, ru and en;
//! - `calendar.toml`: the Government's yearly changes to working days;
//! - `fields.toml`: what each step requires, and how to ask for each field;
//! - `triage.toml`: AGE's sorting rules, evaluated in order;
//! - `lifecycle.toml`: every deadline, reminder, digest and alert duration;
//! - `templates/{ro,ru,en}/<name>.txt`: replies to beneficiaries;
//! - `templates/staff/<name>.txt`: messages to AGE staff.
//!
//! [`Rules::load`] checks all of it at once and names file and line for each
//! problem, so `egov-intake check` can report every mistake in one run.
//! [`Rules::load_with`] does the same through any file reader, so the checks
//! run on edited text without touching the disk (fuzzing, tests).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Environment;

use crate::domain::{Field, Language, ProblemCode, Service, Stage};

mod lifecycle;
mod load;
mod names;
mod requirements;
pub mod triage;

pub use lifecycle::{
    AlertRules, AnswerClock, AnswerRule, Deadlines, DigestRules, Lifecycle, Reminders,
};
pub use load::ReadFile;
pub use names::*;

/// A loaded, checked rules folder. Cheap to clone and share.
#[derive(Clone)]
pub struct Rules {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    never_reply_to: Vec<String>,
    env: Environment<'static>,
    policy: crate::inspect::certificate::Policy,
    anchors: Vec<Vec<u8>>,
    /// code → language → text
    problems: BTreeMap<String, BTreeMap<Language, String>>,
    calendar: crate::calendar::Calendar,
    requirements: requirements::Requirements,
    /// field → language → what to send and why
    field_texts: BTreeMap<String, BTreeMap<Language, String>>,
    allowed_private_ranges: Vec<String>,
    triage: Vec<triage::Rule>,
    lifecycle: Lifecycle,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl Rules {
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The fields `step` requires for `service` (mpass, msign or unknown),
    /// with those asked of public institutions when `public_institution`.
    pub fn required(&self, step: Stage, service: Service, public_institution: bool) -> Vec<Field> {
        self.inner
            .requirements
            .required(step, service, public_institution)
    }

    /// Whether the institution of this name is public (`fields.toml`'s
    /// `[public_institutions]`).
    pub fn is_public_institution(&self, name: &str) -> bool {
        self.inner.requirements.public.includes(name)
    }

    /// What to send for a missing field, and why, in `lang`.
    pub fn ask_for(&self, field: Field, lang: Language) -> String {
        self.inner
            .field_texts
            .get(field.as_str())
            .and_then(|t| t.get(&lang))
            .cloned()
            .unwrap_or_else(|| field.to_string())
    }

    /// Every duration of the procedure.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.inner.lifecycle
    }

    pub fn allowed_private_ranges(&self) -> &[String] {
        &self.inner.allowed_private_ranges
    }

    pub fn triage(&self) -> &[triage::Rule] {
        &self.inner.triage
    }

    /// Working days, with this year's Government changes.
    pub fn calendar(&self) -> &crate::calendar::Calendar {
        &self.inner.calendar
    }

    pub fn certificate_policy(&self) -> &crate::inspect::certificate::Policy {
        &self.inner.policy
    }

    /// Trust anchors (DER); empty when none are configured.
    pub fn anchors(&self) -> &[Vec<u8>] {
        &self.inner.anchors
    }

    /// The explanation of a problem for a sender, in their language.
    /// `{value}` becomes the value concerned; `{suggestion: … {suggestion} …}`
    /// appears only when there is a suggestion.
    pub fn explain(
        &self,
        code: ProblemCode,
        value: Option<&str>,
        suggestion: Option<&str>,
        lang: Language,
    ) -> String {
        let text = self
            .inner
            .problems
            .get(code.explained_by().as_str())
            .and_then(|t| t.get(&lang))
            .cloned()
            .unwrap_or_else(|| code.to_string());
        fill(&text, value, suggestion)
    }

    /// Address patterns (`*` wildcards, lowercase) that never get an automatic reply.
    pub fn never_reply_to(&self) -> &[String] {
        &self.inner.never_reply_to
    }

    /// Renders `templates/<lang>/<name>.txt` (or `staff/<name>.txt` with `lang = None`).
    pub fn render(
        &self,
        lang: Option<Language>,
        name: &str,
        vars: &BTreeMap<&str, minijinja::Value>,
    ) -> anyhow::Result<String> {
        let folder = lang.map_or("staff", Language::code);
        let key = format!("{folder}/{name}.txt");
        let tmpl = self.inner.env.get_template(&key)?;
        Ok(tmpl.render(vars)?)
    }
}

/// Fills `{value}`, `{suggestion}` and the optional `{suggestion: …}` part.
fn fill(text: &str, value: Option<&str>, suggestion: Option<&str>) -> String {
    let mut out = text.to_string();
    if let Some((before, after)) = text.split_once("{suggestion:") {
        // The optional part ends at the brace that balances its opening one.
        let mut depth = 1;
        let close = after.char_indices().find(|&(_, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            depth == 0
        });
        if let Some((at, _)) = close {
            let (part, rest) = after.split_at(at);
            let kept = if suggestion.is_some() { part } else { "" };
            out = format!("{before}{kept}{}", rest.get(1..).unwrap_or_default());
        }
    }
    out.replace("{value}", value.unwrap_or_default())
        .replace("{suggestion}", suggestion.unwrap_or_default())
}

/// Shell-style match of `*` wildcards, for loop-guard address patterns.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == t[ti] || p[pi] == b'?') {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests;
