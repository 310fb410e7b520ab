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

use crate::domain::{CaseStatus, Language, Service, Stage, Template};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior};
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;

use crate::config::{ConfigError, ConfigErrors, Locator};

pub mod triage;

/// Every field a step can require: the keys of the `request` object, plus
/// `certificate` and `signed_agreement`.
pub const FIELDS: &[&str] = &[
    "institution",
    "idno",
    "system_name",
    "system_description",
    "service_name_ro",
    "service_name_ru",
    "service_name_en",
    "service_description",
    "environment",
    "ip_addresses",
    "signer_type",
    "logout_request_url",
    "logout_response_url",
    "attributes",
    "certificate",
    "signed_agreement",
];

/// Templates every rules folder must have, with the variables each may use.
pub const BENEFICIARY_TEMPLATES: &[(Template, &[&str])] = &[
    (Template::Received, REPLY_VARS),
    (Template::Followup, REPLY_VARS),
    (Template::Rejected, REPLY_VARS),
    (Template::Reminder, BENEFICIARY_REMINDER_VARS),
];

/// Variables of the follow-up to a beneficiary who owes missing items.
pub const BENEFICIARY_REMINDER_VARS: &[&str] = &["case_number", "subject", "n", "missing"];

/// Variables of a staff reminder of an AGE deadline.
pub const STAFF_REMINDER_VARS: &[&str] = &[
    "case_number",
    "kind",
    "due",
    "working_days_left",
    "subject",
    "sender_address",
    "stage",
    "service",
];

/// Variables of the daily digest.
pub const DIGEST_VARS: &[&str] = &[
    "date",
    "service",
    "new_cases",
    CaseStatus::WaitingForAge.as_str(),
    "overdue",
    CaseStatus::WaitingForBeneficiary.as_str(),
    "incidents",
    "mailboxes",
    "outbox_backlog",
];
pub const STAFF_TEMPLATES: &[(Template, &[&str])] = &[
    (Template::Quarantined, STAFF_VARS),
    (Template::PrivateKey, PRIVATE_KEY_VARS),
    (Template::CaseSummary, CASE_SUMMARY_VARS),
    (Template::Reminder, STAFF_REMINDER_VARS),
    (Template::Digest, DIGEST_VARS),
];

/// Variables of the compact case summary for staff.
pub const CASE_SUMMARY_VARS: &[&str] = &[
    "case_number",
    "mailbox",
    "sender_address",
    "subject",
    "received_at",
    "service",
    "stage",
    "language",
    "understood",
    "missing",
    "problems",
    "priority",
    "labels",
    "rules",
];

/// Every problem code the daemon can report to a sender; rules/problems.toml
/// must explain each in every language. Signature codes
/// (`signature_<code>`) fall back to `signature_problem`.
pub const PROBLEM_CODES: &[&str] = &[
    "private_key",
    "idno_invalid",
    "unsigned_request",
    "unsigned_document",
    "cert_unreadable",
    "cert_key_too_small",
    "cert_weak_signature",
    "cert_is_ca",
    "cert_no_client_auth",
    "cert_expired",
    "cert_not_yet_valid",
    "cert_expires_soon",
    "cert_untrusted",
    "cert_already_registered",
    "archive_too_deep",
    "archive_too_many_entries",
    "archive_too_large",
    "archive_bomb",
    "archive_encrypted",
    "archive_unreadable",
    "parts_skipped",
    "signature_invalid",
    "signature_problem",
    "idnp_not_idno",
    "ip_not_public",
    "url_not_https",
    "url_localhost",
    "attribute_unknown",
];

/// Variables a reply template can use (filled by `decide`).
pub const REPLY_VARS: &[&str] = &[
    "case_number",
    "subject",
    "sender_name",
    "sender_address",
    "mailbox_address",
    "service",
    "stage",
    "received_at",
    "attachments",
    "problems",
    "explanations",
    "reason",
    "understood",
    "missing",
    "complete",
    "answer_due",
    "examination_due",
];
/// Variables a staff template can use.
pub const STAFF_VARS: &[&str] = &[
    "mailbox",
    "sender_address",
    "subject",
    "message_id",
    "reason",
    "detail",
    "spool_path",
    "received_at",
];

/// Variables of the private-key alert.
pub const PRIVATE_KEY_VARS: &[&str] = &[
    "case_number",
    "mailbox",
    "sender_address",
    "subject",
    "message_id",
    "received_at",
    "keys",
    "action",
    "stored",
];

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
    /// step → service ("" for all) → required fields
    required: BTreeMap<Stage, BTreeMap<Option<Service>, Vec<String>>>,
    /// field → language → what to send and why
    field_texts: BTreeMap<String, BTreeMap<Language, String>>,
    allowed_private_ranges: Vec<String>,
    triage: Vec<triage::Rule>,
    lifecycle: Lifecycle,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFields {
    #[serde(default)]
    steps: BTreeMap<String, RawStep>,
    #[serde(default)]
    fields: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    msign: RawMsign,
}

/// Every duration of the procedure (rules/lifecycle.toml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(default)]
    pub deadlines: Deadlines,
    #[serde(default)]
    pub reminders: Reminders,
    #[serde(default)]
    pub digest: DigestRules,
    #[serde(default)]
    pub alerts: AlertRules,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deadlines {
    /// AGE answers a complete request within this many working days.
    pub answer_working_days: u32,
    /// Examination of request and agreement, in calendar days.
    pub examination_days: u32,
    /// The extension staff may give once, with a reason.
    pub extension_days: u32,
    /// Remind the beneficiary of missing items after this many working days…
    pub followup_working_days: u32,
    /// …at most this many times.
    pub followup_max: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            answer_working_days: 10,
            examination_days: 30,
            extension_days: 15,
            followup_working_days: 5,
            followup_max: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reminders {
    /// Staff are reminded this many working days before a due date (and on
    /// it, and daily once it is overdue).
    pub staff_before_working_days: Vec<u32>,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            staff_before_working_days: vec![3],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestRules {
    /// When the daily digest goes out, Europe/Chisinau, "HH:MM".
    pub time: String,
}

impl Default for DigestRules {
    fn default() -> Self {
        DigestRules {
            time: "08:00".into(),
        }
    }
}

impl DigestRules {
    pub fn at(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.time, "%H:%M").ok()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    /// A mailbox that received nothing for this long is reported to staff.
    pub silent_mailbox_hours: u32,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            silent_mailbox_hours: 72,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    mpass: Vec<String>,
    #[serde(default)]
    msign: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMsign {
    /// Private address ranges (CIDR) that may be registered all the same.
    #[serde(default)]
    allowed_private_ranges: Vec<String>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    loop_guard: RawLoopGuard,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCertificates {
    #[serde(default)]
    policy: crate::inspect::certificate::Policy,
    #[serde(default)]
    trust: RawTrust,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    /// PEM files with trust anchors, relative to the rules folder.
    #[serde(default)]
    anchors: Vec<toml::Spanned<PathBuf>>,
}

/// Reads a TOML file of the rules folder; problems go to `errors`.
/// How [`Rules::load_with`] reads a file of the folder.
pub type ReadFile<'a> = dyn Fn(&Path) -> std::io::Result<Vec<u8>> + 'a;

/// Reads `path` as text through `read`, refusing bytes that are not UTF-8 as
/// `std::fs::read_to_string` does.
fn read_text(read: &ReadFile<'_>, path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

fn read_toml<T: serde::de::DeserializeOwned + Default>(
    read: &ReadFile<'_>,
    path: &Path,
    errors: &mut Vec<ConfigError>,
) -> (T, String) {
    match read_text(read, path) {
        Ok(text) => match toml::from_str::<T>(&text) {
            Ok(v) => (v, text),
            Err(e) => {
                errors.push(Locator::new(path, &text).toml(&e));
                (T::default(), text)
            }
        },
        Err(e) => {
            errors.push(ConfigError {
                file: path.to_path_buf(),
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            });
            (T::default(), String::new())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLoopGuard {
    #[serde(default)]
    never_reply_to: Vec<String>,
}

impl Rules {
    /// Loads and checks `dir`; every problem is reported, with file and line.
    pub fn load(dir: &Path) -> Result<Rules, ConfigErrors> {
        Rules::load_with(dir, &|path| std::fs::read(path))
    }

    /// [`Rules::load`], reading every file (TOML, templates, trust anchors)
    /// through `read`; `dir` only builds the paths asked for and names them.
    pub fn load_with(dir: &Path, read: &ReadFile<'_>) -> Result<Rules, ConfigErrors> {
        let mut errors = Vec::new();
        let (raw, _) = read_toml::<RawRules>(read, &dir.join("rules.toml"), &mut errors);

        let certificates_file = dir.join("certificates.toml");
        let (certs, certs_text) =
            read_toml::<RawCertificates>(read, &certificates_file, &mut errors);
        let mut anchors = Vec::new();
        for a in &certs.trust.anchors {
            let path = dir.join(a.get_ref());
            let at = Locator::new(&certificates_file, &certs_text);
            match read(&path) {
                Ok(bytes) => {
                    let ders: Vec<Vec<u8>> =
                        rustls_pki_types::CertificateDer::pem_slice_iter(&bytes)
                            .filter_map(Result::ok)
                            .map(|c| c.to_vec())
                            .collect();
                    if ders.is_empty()
                        || ders
                            .iter()
                            .any(|d| crate::inspect::certificate::facts(d).is_none())
                    {
                        errors.push(at.at(
                            a.span().start,
                            format!("{}: no readable PEM certificate", path.display()),
                        ));
                    }
                    anchors.extend(ders);
                }
                Err(e) => errors.push(at.at(
                    a.span().start,
                    format!("trust anchor {}: {e}", path.display()),
                )),
            }
        }

        let calendar_file = dir.join("calendar.toml");
        let (calendar_raw, calendar_text) =
            read_toml::<crate::calendar::CalendarFile>(read, &calendar_file, &mut errors);
        let calendar = match calendar_raw.into_calendar() {
            Ok(c) => c,
            Err(problems) => {
                let at = Locator::new(&calendar_file, &calendar_text);
                for p in problems {
                    // Point at the year's table: "[years.2026]: …".
                    let year = p
                        .trim_start_matches("[years.")
                        .split(']')
                        .next()
                        .unwrap_or_default();
                    let offset = calendar_text.find(&format!("[years.{year}]")).unwrap_or(0);
                    errors.push(at.at(offset, p));
                }
                crate::calendar::Calendar::default()
            }
        };

        let fields_file = dir.join("fields.toml");
        let (raw_fields, fields_text) = read_toml::<RawFields>(read, &fields_file, &mut errors);
        let at_fields = Locator::new(&fields_file, &fields_text);
        let find = |needle: &str| fields_text.find(needle).unwrap_or(0);
        let mut required: BTreeMap<Stage, BTreeMap<Option<Service>, Vec<String>>> = BTreeMap::new();
        for (name, r) in raw_fields.steps {
            let Some(step) = name.parse::<Stage>().ok().filter(|s| s.is_step()) else {
                let known: Vec<&str> = Stage::STEPS.iter().map(|s| s.as_str()).collect();
                errors.push(at_fields.at(
                    find(&format!("[steps.{name}]")),
                    format!("unknown step {name:?}; known: {}", known.join(", ")),
                ));
                continue;
            };
            for (service, list) in [
                (None, r.required),
                (Some(Service::Mpass), r.mpass),
                (Some(Service::Msign), r.msign),
            ] {
                for f in &list {
                    if !FIELDS.contains(&f.as_str()) {
                        errors.push(at_fields.at(
                            find(&format!("\"{f}\"")),
                            format!("unknown field {f:?} in [steps.{name}]"),
                        ));
                    }
                }
                required.entry(step).or_default().insert(service, list);
            }
        }
        let mut field_texts: BTreeMap<String, BTreeMap<Language, String>> = BTreeMap::new();
        for (field, texts) in raw_fields.fields {
            if !FIELDS.contains(&field.as_str()) {
                errors.push(at_fields.at(
                    find(&format!("[fields.{field}]")),
                    format!("unknown field {field:?}"),
                ));
            }
            for (lang, text) in texts {
                match lang.parse::<Language>().ok() {
                    Some(l) => {
                        field_texts
                            .entry(field.clone())
                            .or_default()
                            .insert(l, text.trim().to_string());
                    }
                    None => errors.push(at_fields.at(
                        find(&format!("[fields.{field}]")),
                        format!("[fields.{field}]: unknown language {lang:?}"),
                    )),
                }
            }
        }
        for step in required.values() {
            for f in step.values().flatten() {
                for lang in Language::ALL {
                    if !field_texts.get(f).is_some_and(|t| t.contains_key(lang)) {
                        errors.push(at_fields.at(
                            find(&format!("[fields.{f}]")),
                            format!(
                                "field {f:?} is required but has no {} text in [fields.{f}]",
                                lang.code()
                            ),
                        ));
                    }
                }
            }
        }
        for range in &raw_fields.msign.allowed_private_ranges {
            if crate::understand::fields::parse_range(range).is_none() {
                errors.push(at_fields.at(
                    find(range),
                    format!("allowed_private_ranges: {range:?} is not a CIDR range"),
                ));
            }
        }

        let lifecycle_file = dir.join("lifecycle.toml");
        let (lifecycle, lifecycle_text) =
            read_toml::<Lifecycle>(read, &lifecycle_file, &mut errors);
        if lifecycle.digest.at().is_none() {
            let at = Locator::new(&lifecycle_file, &lifecycle_text);
            errors.push(at.at(
                lifecycle_text.find("time").unwrap_or(0),
                format!("[digest] time {:?} is not HH:MM", lifecycle.digest.time),
            ));
        }

        let triage_file = dir.join("triage.toml");
        let (raw_triage, triage_text) =
            read_toml::<triage::RawFile>(read, &triage_file, &mut errors);
        let template_names: Vec<&str> = BENEFICIARY_TEMPLATES
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        let triage = triage::load(
            &triage_file,
            &triage_text,
            raw_triage,
            &triage::Vocabulary {
                templates: &template_names,
                fields: FIELDS,
            },
            &mut errors,
        );

        let problems_file = dir.join("problems.toml");
        let (raw_problems, problems_text) = read_toml::<BTreeMap<String, BTreeMap<String, String>>>(
            read,
            &problems_file,
            &mut errors,
        );
        let mut problems: BTreeMap<String, BTreeMap<Language, String>> = BTreeMap::new();
        let at = Locator::new(&problems_file, &problems_text);
        let line_of = |code: &str| problems_text.find(&format!("[{code}]")).unwrap_or(0);
        for (code, texts) in &raw_problems {
            if !PROBLEM_CODES.contains(&code.as_str()) {
                errors.push(at.at(line_of(code), format!("unknown problem code {code:?}")));
            }
            for (lang, text) in texts {
                match lang.parse::<Language>().ok() {
                    Some(l) => {
                        problems
                            .entry(code.clone())
                            .or_default()
                            .insert(l, text.trim().to_string());
                    }
                    None => errors.push(at.at(
                        line_of(code),
                        format!("[{code}]: unknown language {lang:?}"),
                    )),
                }
            }
        }
        for code in PROBLEM_CODES {
            for lang in Language::ALL {
                if !problems.get(*code).is_some_and(|t| t.contains_key(lang)) {
                    errors.push(at.at(
                        line_of(code),
                        format!("problem {code:?} has no {} explanation", lang.code()),
                    ));
                }
            }
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Plain-text mail: nothing to escape, and `{{ x }}` must print x as is.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_keep_trailing_newline(true);

        let mut wanted: Vec<(String, &[&str])> = Vec::new();
        for lang in Language::ALL {
            for (name, vars) in BENEFICIARY_TEMPLATES {
                wanted.push((format!("{}/{name}.txt", lang.code()), vars));
            }
        }
        for (name, vars) in STAFF_TEMPLATES {
            wanted.push((format!("staff/{name}.txt"), vars));
        }
        for (name, vars) in wanted {
            let path = dir.join("templates").join(&name);
            let source = match read_text(read, &path) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(ConfigError {
                        file: path,
                        line: None,
                        column: None,
                        message: format!("missing template: {e}"),
                    });
                    continue;
                }
            };
            let loc = Locator::new(&path, &source);
            if let Err(e) = env.add_template_owned(name.clone(), source.clone()) {
                let line = e.line();
                errors.push(ConfigError {
                    file: path.clone(),
                    line,
                    column: None,
                    message: format!("template syntax: {}", e.detail().unwrap_or("invalid")),
                });
                continue;
            }
            let tmpl = env.get_template(&name).expect("just added");
            let allowed: BTreeSet<&str> = vars.iter().copied().collect();
            for var in tmpl.undeclared_variables(false) {
                if !allowed.contains(var.as_str()) {
                    let offset = source.find(var.as_str()).unwrap_or(0);
                    errors.push(loc.at(
                        offset,
                        format!(
                            "unknown template variable {var:?}; known: {}",
                            vars.join(", ")
                        ),
                    ));
                }
            }
        }

        if errors.is_empty() {
            Ok(Rules {
                inner: Arc::new(Inner {
                    dir: dir.to_path_buf(),
                    never_reply_to: raw
                        .loop_guard
                        .never_reply_to
                        .into_iter()
                        .map(|p| p.to_ascii_lowercase())
                        .collect(),
                    env,
                    policy: certs.policy,
                    anchors,
                    problems,
                    calendar,
                    required,
                    field_texts,
                    allowed_private_ranges: raw_fields.msign.allowed_private_ranges,
                    triage,
                    lifecycle,
                }),
            })
        } else {
            Err(ConfigErrors(errors))
        }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The fields `step` requires for `service` (mpass, msign or unknown).
    pub fn required(&self, step: Stage, service: Service) -> Vec<String> {
        let Some(step) = self.inner.required.get(&step) else {
            return Vec::new();
        };
        let mut v = step.get(&None).cloned().unwrap_or_default();
        v.extend(step.get(&Some(service)).cloned().unwrap_or_default());
        v
    }

    /// What to send for a missing field, and why, in `lang`.
    pub fn ask_for(&self, field: &str, lang: Language) -> String {
        self.inner
            .field_texts
            .get(field)
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
        code: &str,
        value: Option<&str>,
        suggestion: Option<&str>,
        lang: Language,
    ) -> String {
        let p = &self.inner.problems;
        let text = p
            .get(code)
            .or_else(|| {
                code.starts_with("signature_")
                    .then(|| p.get("signature_problem"))
                    .flatten()
            })
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
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules")
    }

    #[test]
    fn shipped_rules_load() {
        let rules = Rules::load(&shipped()).unwrap();
        assert!(
            rules
                .never_reply_to()
                .iter()
                .any(|p| p == "mailer-daemon@*")
        );
    }

    #[test]
    fn explanations_are_filled() {
        let rules = Rules::load(&shipped()).unwrap();
        let t = rules.explain(
            "attribute_unknown",
            Some("Email"),
            Some("EmailAddress"),
            Language::En,
        );
        assert_eq!(
            t,
            "There is no MPass attribute \"Email\". Did you mean \"EmailAddress\"?"
        );
        let t = rules.explain("attribute_unknown", Some("Foo"), None, Language::En);
        assert_eq!(t, "There is no MPass attribute \"Foo\".");
        let t = rules.explain("ip_not_public", Some("10.0.0.1"), None, Language::Ro);
        assert!(t.contains("10.0.0.1") && !t.contains('{'), "{t}");
        assert_eq!(
            rules
                .required(Stage::TestRegistration, Service::Msign)
                .len(),
            7
        );
        assert!(rules.ask_for("ip_addresses", Language::Ru).contains("IP"));
    }

    #[test]
    fn wildcard() {
        for (p, t, want) in [
            ("mailer-daemon@*", "mailer-daemon@mx.example.com", true),
            ("no*reply@*", "no-reply@gov.md", true),
            ("no*reply@*", "noreply@gov.md", true),
            ("no*reply@*", "ana@gov.md", false),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
        ] {
            assert_eq!(wildcard_match(p, t), want, "{p} ~ {t}");
        }
    }

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    #[test]
    fn check_reports_missing_templates_bad_syntax_and_unknown_variables() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&shipped(), dir.path());
        let t = dir.path().join("templates");
        std::fs::remove_file(t.join("ru/followup.txt")).unwrap();
        std::fs::write(t.join("en/received.txt"), "Hello\n{{ case_numbr }}\n").unwrap();
        std::fs::write(t.join("ro/received.txt"), "Salut {% if %}\n").unwrap();
        std::fs::write(dir.path().join("rules.toml"), "[loop_guard]\nnever = 1\n").unwrap();

        let errors = Rules::load(dir.path()).unwrap_err().0;
        let text = ConfigErrors(errors.clone()).to_string();
        assert_eq!(errors.len(), 4, "{text}");
        assert!(
            errors
                .iter()
                .any(|e| e.file.ends_with("rules.toml") && e.line == Some(2)),
            "{text}"
        );
        assert!(
            errors.iter().any(|e| e.file.ends_with("ru/followup.txt")),
            "{text}"
        );
        assert!(
            errors.iter().any(|e| e.file.ends_with("en/received.txt")
                && e.line == Some(2)
                && e.message.contains("case_numbr")),
            "{text}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.file.ends_with("ro/received.txt") && e.line == Some(1)),
            "{text}"
        );
    }

    #[test]
    fn load_with_reads_through_the_given_reader() {
        let dir = shipped();
        let edited = dir.join("lifecycle.toml");
        let read = |path: &Path| {
            if path == edited {
                Ok(b"[digest]\ntime = \"25:99\"\n".to_vec())
            } else if path.ends_with("templates/en/received.txt") {
                Ok(vec![0xff, 0xfe])
            } else {
                std::fs::read(path)
            }
        };
        let errors = Rules::load_with(&dir, &read).unwrap_err().0;
        let text = ConfigErrors(errors.clone()).to_string();
        assert_eq!(errors.len(), 2, "{text}");
        assert!(
            errors
                .iter()
                .any(|e| e.file == edited && e.line == Some(2) && e.message.contains("25:99")),
            "{text}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.file.ends_with("en/received.txt") && e.message.contains("valid UTF-8")),
            "{text}"
        );
        // Nothing on disk was touched: the folder still loads.
        assert!(Rules::load(&dir).is_ok());
    }
}
