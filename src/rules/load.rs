//! Reading and checking the rules folder: every file parsed, every name
//! checked against [`super::names`], every problem reported at once with
//! its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior};
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;

use super::names::{BENEFICIARY_TEMPLATES, FIELDS, STAFF_TEMPLATES};
use super::requirements::{Phrase, PublicInstitutions, Requirements, Scope};
use super::{Inner, Lifecycle, Rules, triage};
use crate::calendar::{Calendar, CalendarFile};
use crate::config::{ConfigError, ConfigErrors, Locator};
use crate::domain::{Field, Language, ProblemCode, Service, Stage};

/// Texts by language, per field or problem code.
type Texts = BTreeMap<String, BTreeMap<Language, String>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFields {
    #[serde(default)]
    steps: BTreeMap<String, RawStep>,
    #[serde(default)]
    fields: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    msign: RawMsign,
    #[serde(default)]
    public_institutions: RawPublicInstitutions,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPublicInstitutions {
    #[serde(default)]
    name_words: Vec<String>,
    #[serde(default)]
    not: Vec<String>,
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
    /// Asked of public institutions only.
    #[serde(default)]
    public_institution: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMsign {
    /// Private address ranges (CIDR) that may be registered all the same.
    #[serde(default)]
    allowed_private_ranges: Vec<String>,
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
        let (certs, anchors) = certificates(dir, read, &mut errors);
        let calendar = calendar(dir, read, &mut errors);
        let (requirements, field_texts, allowed_private_ranges) = fields(dir, read, &mut errors);
        let lifecycle = lifecycle(dir, read, &mut errors);
        let triage = triage_rules(dir, read, &mut errors);
        let problems = problems(dir, read, &mut errors);
        let env = templates(dir, read, &mut errors);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
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
                requirements,
                field_texts,
                allowed_private_ranges,
                triage,
                lifecycle,
            }),
        })
    }
}

/// `certificates.toml` and the trust anchors it names (DER).
fn certificates(
    dir: &Path,
    read: &ReadFile<'_>,
    errors: &mut Vec<ConfigError>,
) -> (RawCertificates, Vec<Vec<u8>>) {
    let file = dir.join("certificates.toml");
    let (certs, text) = read_toml::<RawCertificates>(read, &file, errors);
    let at = Locator::new(&file, &text);
    let mut anchors = Vec::new();
    for a in &certs.trust.anchors {
        let path = dir.join(a.get_ref());
        match read(&path) {
            Ok(bytes) => {
                let ders: Vec<Vec<u8>> = rustls_pki_types::CertificateDer::pem_slice_iter(&bytes)
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
    (certs, anchors)
}

/// `calendar.toml`: the Government's changes to working days.
fn calendar(dir: &Path, read: &ReadFile<'_>, errors: &mut Vec<ConfigError>) -> Calendar {
    let file = dir.join("calendar.toml");
    let (raw, text) = read_toml::<CalendarFile>(read, &file, errors);
    raw.into_calendar().unwrap_or_else(|problems| {
        let at = Locator::new(&file, &text);
        for p in problems {
            // Point at the year's table: "[years.2026]: …".
            let year = p
                .trim_start_matches("[years.")
                .split(']')
                .next()
                .unwrap_or_default();
            let offset = text.find(&format!("[years.{year}]")).unwrap_or(0);
            errors.push(at.at(offset, p));
        }
        Calendar::default()
    })
}

/// `fields.toml`: what each step requires, how to ask for each field in
/// every language, and the private ranges MSign may register.
fn fields(
    dir: &Path,
    read: &ReadFile<'_>,
    errors: &mut Vec<ConfigError>,
) -> (Requirements, Texts, Vec<String>) {
    let file = dir.join("fields.toml");
    let (raw, text) = read_toml::<RawFields>(read, &file, errors);
    let at = Locator::new(&file, &text);
    let find = |needle: &str| text.find(needle).unwrap_or(0);
    let requirements = Requirements {
        by_step: required_fields(raw.steps, &at, &find, errors),
        public: PublicInstitutions {
            name_words: phrases(&raw.public_institutions.name_words),
            not: phrases(&raw.public_institutions.not),
        },
    };
    if requirements.asks_public_institutions() && requirements.public.name_words.is_empty() {
        errors.push(at.at(
            // The key at a line's start, not its mention in a comment.
            find("\npublic_institution") + 1,
            "a step asks fields of public institutions, but [public_institutions] has no name_words to tell them by",
        ));
    }
    let field_texts = texts_by_language(raw.fields, "fields.", &at, &find, errors);
    for field in field_texts.keys() {
        if !FIELDS.contains(&field.as_str()) {
            errors.push(at.at(
                find(&format!("[fields.{field}]")),
                format!("unknown field {field:?}"),
            ));
        }
    }
    for f in requirements
        .by_step
        .values()
        .flat_map(|s| s.values().flatten())
    {
        for lang in Language::ALL {
            if !field_texts
                .get(f.as_str())
                .is_some_and(|t| t.contains_key(lang))
            {
                errors.push(at.at(
                    find(&format!("[fields.{f}]")),
                    format!(
                        "field {f:?} is required but has no {} text in [fields.{f}]",
                        lang.code()
                    ),
                ));
            }
        }
    }
    for range in &raw.msign.allowed_private_ranges {
        if crate::understand::fields::parse_range(range).is_none() {
            errors.push(at.at(
                find(range),
                format!("allowed_private_ranges: {range:?} is not a CIDR range"),
            ));
        }
    }
    (requirements, field_texts, raw.msign.allowed_private_ranges)
}

fn phrases(written: &[String]) -> Vec<Phrase> {
    written.iter().map(|w| Phrase::new(w)).collect()
}

/// `[steps.*]`: known steps only, known fields only.
fn required_fields(
    steps: BTreeMap<String, RawStep>,
    at: &Locator<'_>,
    find: &dyn Fn(&str) -> usize,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<Stage, BTreeMap<Scope, Vec<Field>>> {
    let mut required: BTreeMap<Stage, BTreeMap<Scope, Vec<Field>>> = BTreeMap::new();
    for (name, r) in steps {
        let Some(step) = name.parse::<Stage>().ok().filter(|s| s.is_step()) else {
            let known: Vec<&str> = Stage::STEPS.iter().map(|s| s.as_str()).collect();
            errors.push(at.at(
                find(&format!("[steps.{name}]")),
                format!("unknown step {name:?}; known: {}", known.join(", ")),
            ));
            continue;
        };
        for (scope, list) in [
            (Scope::Every, r.required),
            (Scope::Service(Service::Mpass), r.mpass),
            (Scope::Service(Service::Msign), r.msign),
            (Scope::PublicInstitution, r.public_institution),
        ] {
            let mut fields = Vec::new();
            for f in &list {
                match f.parse::<Field>() {
                    Ok(field) => fields.push(field),
                    Err(_) => errors.push(at.at(
                        find(&format!("\"{f}\"")),
                        format!("unknown field {f:?} in [steps.{name}]"),
                    )),
                }
            }
            required.entry(step).or_default().insert(scope, fields);
        }
    }
    required
}

/// Tables of `language = "text"`, keyed by field or code; an unknown
/// language is reported at its table (`[{prefix}{key}]`).
fn texts_by_language(
    raw: BTreeMap<String, BTreeMap<String, String>>,
    prefix: &str,
    at: &Locator<'_>,
    find: &dyn Fn(&str) -> usize,
    errors: &mut Vec<ConfigError>,
) -> Texts {
    let mut out = Texts::new();
    for (key, texts) in raw {
        for (lang, text) in texts {
            match lang.parse::<Language>() {
                Ok(l) => {
                    out.entry(key.clone())
                        .or_default()
                        .insert(l, text.trim().to_string());
                }
                Err(_) => errors.push(at.at(
                    find(&format!("[{prefix}{key}]")),
                    format!("[{prefix}{key}]: unknown language {lang:?}"),
                )),
            }
        }
    }
    out
}

/// `lifecycle.toml`.
fn lifecycle(dir: &Path, read: &ReadFile<'_>, errors: &mut Vec<ConfigError>) -> Lifecycle {
    let file = dir.join("lifecycle.toml");
    let (lifecycle, text) = read_toml::<Lifecycle>(read, &file, errors);
    if lifecycle.digest.at().is_none() {
        errors.push(Locator::new(&file, &text).at(
            text.find("time").unwrap_or(0),
            format!("[digest] time {:?} is not HH:MM", lifecycle.digest.time),
        ));
    }
    lifecycle
}

/// `triage.toml`, checked against the known templates and fields.
fn triage_rules(
    dir: &Path,
    read: &ReadFile<'_>,
    errors: &mut Vec<ConfigError>,
) -> Vec<triage::Rule> {
    let file = dir.join("triage.toml");
    let (raw, text) = read_toml::<triage::RawFile>(read, &file, errors);
    let template_names: Vec<&str> = BENEFICIARY_TEMPLATES
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    triage::load(
        &file,
        &text,
        raw,
        &triage::Vocabulary {
            templates: &template_names,
            fields: FIELDS,
        },
        errors,
    )
}

/// `problems.toml`: every problem code that has an explanation of its own
/// ([`ProblemCode::needs_explanation`]), explained in every language; the
/// details of a signature share `signature_problem`'s.
fn problems(dir: &Path, read: &ReadFile<'_>, errors: &mut Vec<ConfigError>) -> Texts {
    let file = dir.join("problems.toml");
    let (raw, text) = read_toml::<BTreeMap<String, BTreeMap<String, String>>>(read, &file, errors);
    let at = Locator::new(&file, &text);
    let line_of = |code: &str| text.find(&format!("[{code}]")).unwrap_or(0);
    for code in raw.keys() {
        if !code
            .parse::<ProblemCode>()
            .is_ok_and(ProblemCode::needs_explanation)
        {
            errors.push(at.at(line_of(code), format!("unknown problem code {code:?}")));
        }
    }
    let problems = texts_by_language(raw, "", &at, &line_of, errors);
    for code in ProblemCode::ALL
        .iter()
        .filter(|c| c.needs_explanation())
        .map(|c| c.as_str())
    {
        for lang in Language::ALL {
            if !problems.get(code).is_some_and(|t| t.contains_key(lang)) {
                errors.push(at.at(
                    line_of(code),
                    format!("problem {code:?} has no {} explanation", lang.code()),
                ));
            }
        }
    }
    problems
}

/// Every template, each checked for syntax and for variables it may use.
fn templates(
    dir: &Path,
    read: &ReadFile<'_>,
    errors: &mut Vec<ConfigError>,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Plain-text mail: nothing to escape, and `{{ x }}` must print x as is.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    let beneficiary = Language::ALL.iter().flat_map(|lang| {
        BENEFICIARY_TEMPLATES
            .iter()
            .map(move |(name, vars)| (format!("{}/{name}.txt", lang.code()), *vars))
    });
    let staff = STAFF_TEMPLATES
        .iter()
        .map(|(name, vars)| (format!("staff/{name}.txt"), *vars));
    for (name, vars) in beneficiary.chain(staff) {
        let path = dir.join("templates").join(&name);
        match read_text(read, &path) {
            Ok(source) => add_template(&mut env, name, &path, source, vars, errors),
            Err(e) => errors.push(ConfigError {
                file: path,
                line: None,
                column: None,
                message: format!("missing template: {e}"),
            }),
        }
    }
    env
}

/// Adds one template; its syntax errors and unknown variables go to `errors`.
fn add_template(
    env: &mut Environment<'static>,
    name: String,
    path: &Path,
    source: String,
    vars: &[&str],
    errors: &mut Vec<ConfigError>,
) {
    let loc = Locator::new(path, &source);
    if let Err(e) = env.add_template_owned(name.clone(), source.clone()) {
        errors.push(ConfigError {
            file: path.to_path_buf(),
            line: e.line(),
            column: None,
            message: format!("template syntax: {}", e.detail().unwrap_or("invalid")),
        });
        return;
    }
    let Ok(tmpl) = env.get_template(&name) else {
        return;
    };
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
