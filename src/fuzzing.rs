//! Fuzzing entry points: one function per target of `fuzz/`, each taking
//! arbitrary bytes and driving the pure stages the way the daemon does.
//!
//! They live in the library, not in `fuzz/`, so that a plain stable
//! `cargo test --test fuzz_regressions` replays every saved crash through the
//! very same code the fuzzer ran. None of them may panic, loop or allocate
//! without bound on any input: when one does, that is the bug being hunted.
//! The only deliberate panic is a pipeline error the daemon would turn into a
//! retried, then set-aside, mail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::config::{self, Config, MailboxConfig, Role};
use crate::decide::{self, CaseRef, History, Input, Threading};
use crate::domain::{Language, Service, Stage};
use crate::inspect;
use crate::parse;
use crate::rules::Rules;
use crate::understand::{documents, fields};

/// The clock every target runs at, so a saved input replays identically.
const NOW: &str = "2026-03-02T10:00:00Z";

/// Files of the rules folder the `config` target edits, chosen by the first
/// input byte. A fixed list, so saved inputs keep meaning the same file.
pub const RULES_FILES: &[&str] = &[
    "rules.toml",
    "certificates.toml",
    "calendar.toml",
    "fields.toml",
    "lifecycle.toml",
    "triage.toml",
    "problems.toml",
    "templates/ro/received.txt",
    "templates/staff/private_key.txt",
];

/// What every run shares: loaded once, since loading is slower than a run.
struct Fixed {
    config: Config,
    rules_dir: PathBuf,
    rules: Rules,
    /// The shipped rules folder in memory, path → bytes.
    rules_files: HashMap<PathBuf, Vec<u8>>,
    now: DateTime<Utc>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let example = root.join("examples/local.toml");
        let text = std::fs::read_to_string(&example).expect("examples/local.toml is readable");
        let config = config::parse_str(&text, &example).expect("examples/local.toml is valid");
        let rules_dir = root.join("rules");
        let rules = Rules::load(&rules_dir).expect("the shipped rules load");
        let mut rules_files = HashMap::new();
        read_tree(&rules_dir, &mut rules_files);
        Fixed {
            config,
            rules_dir,
            rules,
            rules_files,
            now: NOW.parse().expect("NOW is RFC 3339"),
        }
    })
}

fn read_tree(dir: &Path, into: &mut HashMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("rules folder is readable") {
        let path = entry.expect("rules folder entry").path();
        if path.is_dir() {
            read_tree(&path, into);
        } else {
            let bytes = std::fs::read(&path).expect("rules file is readable");
            into.insert(path, bytes);
        }
    }
}

impl Fixed {
    fn office(&self) -> &MailboxConfig {
        self.config
            .mailboxes
            .iter()
            .find(|m| m.role == Role::Office)
            .expect("examples/local.toml has an office mailbox")
    }

    fn inspect_settings(&self) -> inspect::Settings {
        inspect::Settings {
            policy: self.rules.certificate_policy().clone(),
            anchors: self.rules.anchors().to_vec(),
            archive: inspect::archive::Limits::default(),
            now: self.now,
        }
    }

    fn field_options(&self) -> fields::Options {
        fields::Options {
            allowed_private_ranges: self.rules.allowed_private_ranges().to_vec(),
        }
    }

    /// As [`crate::pipeline::Pipeline::run`] builds them.
    fn decide_settings(&self, mailbox: &MailboxConfig) -> decide::Settings<'_> {
        let config = &self.config;
        decide::Settings {
            rules: &self.rules,
            reply: &config.reply,
            limits: &config.limits,
            staff: config.staff_for(Some(mailbox.role)),
            staff_from: config.staff.from.clone(),
            our_addresses: config
                .mailboxes
                .iter()
                .map(|m| m.address.to_lowercase())
                .chain(std::iter::once(config.staff.from.to_lowercase()))
                .collect(),
            private_key_action: config.private_keys,
        }
    }
}

/// A whole mail through parse → inspect (→ redact) → understand → thread →
/// loop guard → decide, as `Pipeline::analyse` and `Pipeline::run` do, with
/// an empty history in place of the database.
pub fn pipeline(data: &[u8]) {
    let f = fixed();
    let mailbox = f.office();
    let depth = f.config.limits.max_nesting_depth;
    let settings = f.inspect_settings();

    // The daemon's own analysis: raw key scan, parse, inspect, redact, understand.
    let context = crate::pipeline::Context {
        inspect: settings,
        fields: f.field_options(),
        role: mailbox.role,
        max_depth: depth,
    };
    let analysis = crate::pipeline::full_analysis(&context, data);
    let (mail, inspection, understanding) = (
        &analysis.mail,
        &analysis.inspection,
        &analysis.understanding,
    );
    let kept_copy = analysis.kept_copy();

    // The store looks the subject tag up for the history.
    crate::domain::subject_tag(&mail.subject);
    let history = History::default();
    let decide_settings = f.decide_settings(mailbox);
    let threading = decide::thread(mail, &history);
    let suppression = decide::loop_guard::check(mail, &history, &decide_settings);
    let automated = suppression.as_ref().is_some_and(|s| s.automated);
    let number = match (&threading, automated) {
        (Threading::New, false) => Some(crate::domain::format_case_number(
            crate::calendar::case_year(f.now),
            1,
        )),
        _ => None,
    };
    let input = Input {
        mailbox,
        mail,
        inspection,
        understanding,
        rejection: None,
        threading: &threading,
        history: &history,
        suppression: suppression.as_ref(),
        new_case_number: number.as_deref(),
        spool_path: None,
        kept_copy,
        now: f.now,
    };
    // The daemon would retry such a mail and finally set it aside unanswered.
    let decision = decide::decide(&input, &decide_settings)
        .unwrap_or_else(|e| panic!("decide failed on a parsed mail: {e:#}"));
    if let Err(e) = crate::compose::compose(&input, &decide_settings, &decision) {
        panic!("compose failed on a decision: {e:#}");
    }
}

/// One attachment's bytes through the inspector (keys, certificates,
/// signatures, archives) and through the document text extraction.
pub fn inspect(data: &[u8]) {
    let f = fixed();
    let settings = f.inspect_settings();
    inspect::inspect_file("attachment", data, &settings);
    // A detached signature is checked over its sibling's bytes.
    inspect::signature::cms_signature(data, Some(data));
    // The name and type only matter for plain text; ZIP and PDF go by content.
    documents::text_of(None, "application/octet-stream", data);
    documents::text_of(Some("cerere.txt"), "text/plain", data);
}

/// One file's bytes as a PDF through both readers of the PDF syntax engine:
/// the signature checker and the text extraction. Bytes without a PDF
/// header get one, so that every input reaches the engine.
pub fn pdf(data: &[u8]) {
    let mut file = Vec::with_capacity(data.len() + 9);
    if !data.starts_with(b"%PDF-") {
        file.extend_from_slice(b"%PDF-1.7\n");
    }
    file.extend_from_slice(data);
    inspect::signature::pdf_signatures(&file);
    documents::text_of(Some("cerere.pdf"), "application/pdf", &file);
}

/// Header handling: subject tags and cleaning on raw text, then a mail
/// parsed from `data` as a header block through threading and the loop
/// guard, against an empty history and one whose cases hold the sender.
pub fn headers(data: &[u8]) {
    let f = fixed();
    let text = String::from_utf8_lossy(data);
    crate::domain::subject_tag(&text);
    parse::clean_line(&text);
    crate::compose::reply_subject(&text, Some("AGE-2026-00001"));
    parse::header_block(data);

    let mail = parse::parse_headers_only(data);
    crate::domain::subject_tag(&mail.subject);
    crate::compose::reply_subject(&mail.subject, None);
    let case = CaseRef {
        id: 1,
        number: "AGE-2026-00001".into(),
        language: Some(Language::Ro),
        participants: mail
            .from
            .iter()
            .chain(&mail.reply_to)
            .map(|m| m.address.to_lowercase())
            .collect(),
        stage: Stage::Request,
        service: Service::Mpass,
        facts: crate::domain::CaseFacts::default(),
        opened: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default(),
    };
    let limits = &f.config.limits;
    let histories = [
        History::default(),
        History {
            replied_case: Some(case.clone()),
            tagged_case: Some(case),
            replies_last_10min: limits.replies_per_recipient_10min,
            replies_last_day: limits.replies_per_recipient_day,
            ..History::default()
        },
    ];
    let settings = f.decide_settings(f.office());
    for history in &histories {
        decide::thread(&mail, history);
        decide::loop_guard::check(&mail, history, &settings);
    }
}

/// Configuration text through [`config::parse_str`], and the same text as
/// one file of the rules folder (the first byte picks which, from
/// [`RULES_FILES`]) through [`Rules::load_with`]; errors are rendered, as
/// `egov-intake check` prints them.
pub fn config(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let f = fixed();
    let text_str = String::from_utf8_lossy(text);
    match config::parse_str(&text_str, Path::new("fuzz.toml")) {
        Ok(config) => {
            for role in [
                None,
                Some(Role::Office),
                Some(Role::Mpass),
                Some(Role::Msign),
            ] {
                config.staff_for(role);
            }
        }
        Err(errors) => {
            errors.to_string();
        }
    }

    let edited = f
        .rules_dir
        .join(RULES_FILES[usize::from(selector) % RULES_FILES.len()]);
    let read = |path: &Path| {
        if path == edited {
            Ok(text.to_vec())
        } else {
            f.rules_files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    };
    match Rules::load_with(&f.rules_dir, &read) {
        Ok(rules) => {
            rules.required(Stage::TestRegistration, Service::Msign, true);
            rules.is_public_institution("Ministerul Finanțelor");
            rules.explain(
                crate::domain::ProblemCode::IpNotPublic,
                Some("10.0.0.1"),
                None,
                Language::Ro,
            );
        }
        Err(errors) => {
            errors.to_string();
        }
    }
}
