//! The commands that answer a question and touch no mailbox or database:
//! `check` (is the configuration and the rules folder sound, can every
//! password be read), `inspect` (what a file is, by content) and `deadline`
//! (a date so many working days on).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::Failure;
use crate::config::{self, Config, ConfigErrors};
use crate::inspect::FileReport;
use crate::rules::Rules;

/// `check`: every problem at once, with file and line where there is one.
pub(super) fn check(config: &Config) -> Result<ExitCode, Failure> {
    let mut errors = match Rules::load(&config.rules_dir) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    };
    for problem in config.check_secrets() {
        errors.push(config::ConfigError {
            file: config.path.clone(),
            line: None,
            column: None,
            message: problem,
        });
    }
    if errors.is_empty() {
        out!(
            "{}: OK ({} mailbox(es), rules in {})",
            config.path.display(),
            config.mailboxes.len(),
            config.rules_dir.display()
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Config(ConfigErrors(errors)))
    }
}

/// `deadline`: one ISO date per line.
pub(super) fn deadline(
    config: Option<&Path>,
    from: chrono::NaiveDate,
    working_days: &[u32],
    days: &[u32],
) -> Result<ExitCode, Failure> {
    use chrono::Datelike as _;
    let calendar = match config {
        Some(path) => Rules::load(&config::load(path)?.rules_dir)?
            .calendar()
            .clone(),
        None => crate::calendar::Calendar::default(),
    };
    if !(crate::calendar::FIRST_YEAR..=crate::calendar::LAST_YEAR).contains(&from.year()) {
        return Err(Failure::Usage(format!(
            "--from must be between {} and {}",
            crate::calendar::FIRST_YEAR,
            crate::calendar::LAST_YEAR
        )));
    }
    for n in working_days {
        out!("{}", calendar.add_working_days(from, *n))?;
    }
    for n in days {
        out!("{}", calendar.add_days(from, *n))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect`: exit 0 when every file was read, whatever was found in it;
/// 1 when a file could not be read.
pub(super) fn inspect(
    config: Option<&Path>,
    json: bool,
    files: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let mut settings = crate::inspect::Settings::at(chrono::Utc::now());
    if let Some(path) = config {
        let config = config::load(path)?;
        let rules = Rules::load(&config.rules_dir)?;
        settings.policy = rules.certificate_policy().clone();
        settings.anchors = rules.anchors().to_vec();
    }
    let mut unreadable = false;
    for file in files {
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("egov-intake: {}: {e}", file.display());
                unreadable = true;
                continue;
            }
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let report = crate::inspect::inspect_file(&name, &data, &settings);
        if json {
            let mut value = serde_json::to_value(&report).context("serialising the report")?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert(
                    "path".into(),
                    serde_json::Value::from(file.display().to_string()),
                );
            }
            out!("{value}")?;
        } else {
            out!("{}", human_line(file, &report))?;
        }
    }
    Ok(if unreadable {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line per file: its kind, then what an operator must not miss.
fn human_line(file: &Path, report: &FileReport) -> String {
    let mut line = format!("{}: {}", file.display(), report.kind.as_str());
    if report.contains_private_key {
        line.push_str(" — CONTAINS A PRIVATE KEY");
    }
    if let Some(c) = &report.certificate {
        line.push_str(&format!(" — {} (until {})", c.subject, c.not_after));
    }
    for s in &report.signatures {
        line.push_str(&format!(
            " — signed by {} ({})",
            s.signer.as_deref().unwrap_or("unknown"),
            match s.verified {
                Some(true) => "verified",
                Some(false) => "DOES NOT VERIFY",
                None => "not verified",
            }
        ));
    }
    if !report.problems.is_empty() {
        line.push_str(&format!(
            "; problems: {}",
            crate::domain::names(&report.problems).join(", ")
        ));
    }
    line
}
