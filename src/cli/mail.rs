//! The commands that take in and send mail: `run` (the daemon), `ingest`
//! (.eml files through the whole pipeline, or a dry run of it) and `digest`
//! (the staff digest, printed or sent).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context as _;

use super::Failure;
use crate::config::{self, Config, MailboxConfig};
use crate::daemon::Instance;
use crate::domain::Service;
use crate::pipeline::{Pipeline, Report};
use crate::rules::Rules;
use crate::store::Store;

/// `run`: watch every mailbox until stopped, or (`--once`) work off what is
/// waiting and exit.
pub(super) async fn run(config: Config, once: bool) -> Result<ExitCode, Failure> {
    let instance = Instance::open(config).await?;
    if once {
        instance.run_once().await?;
    } else {
        instance.run().await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `digest`: print it (one service or all), and/or queue it for every staff
/// list and send the outbox at once.
pub(super) async fn digest(
    config: Config,
    print: bool,
    send: bool,
    service: Option<Service>,
) -> Result<ExitCode, Failure> {
    let instance = Instance::open(config).await?;
    let rules = instance.pipeline.rules();
    let now = chrono::Utc::now();
    if print {
        let (subject, body) =
            crate::schedule::digest(&instance.store, &rules, &instance.config, service, now)
                .await?;
        out!("{subject}\n\n{body}")?;
    }
    if send {
        let n = crate::schedule::send_digest(&instance.store, &rules, &instance.config, now, true)
            .await?;
        crate::outbox::drain(
            &instance.store,
            &instance.transport,
            &instance.config.outbox,
        )
        .await?;
        eprintln!("digest sent to {n} recipient(s)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `ingest`: each file as if delivered to `mailbox`. A dry run decides
/// against a copy of the database's knowledge and writes nothing; otherwise
/// the mail is recorded and the outbox sent, as the daemon would.
pub(super) async fn ingest(
    config: Config,
    dry_run: bool,
    json: bool,
    mailbox: Option<String>,
    files: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let mailbox = pick_mailbox(&config, mailbox.as_deref())?;
    let reports = if dry_run {
        ingest_dry_run(config, &mailbox, files).await?
    } else {
        ingest_for_real(config, &mailbox, files).await?
    };
    for (file, report) in reports {
        if json {
            let mut value = serde_json::to_value(&report).context("serialising the report")?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert(
                    "file".into(),
                    serde_json::Value::from(file.display().to_string()),
                );
                obj.insert("dry_run".into(), serde_json::Value::from(dry_run));
            }
            out!("{value}")?;
        } else {
            out!("{}", human_report(file, &report))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The mailbox named on the command line, else the first office mailbox,
/// else the first one.
fn pick_mailbox(config: &Config, name: Option<&str>) -> Result<MailboxConfig, Failure> {
    let mailbox = match name {
        Some(name) => config
            .mailboxes
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "no mailbox named {name:?} in {}",
                    config.path.display()
                ))
            })?,
        None => config
            .mailboxes
            .iter()
            .find(|m| m.role == config::Role::Office)
            .or(config.mailboxes.first())
            .ok_or_else(|| Failure::Usage("no mailbox configured".into()))?,
    };
    Ok(mailbox.clone())
}

/// Runs the pipeline without committing: against the configured database
/// when it exists (so threading sees real cases), else an empty one in memory.
async fn ingest_dry_run<'f>(
    config: Config,
    mailbox: &MailboxConfig,
    files: &'f [PathBuf],
) -> Result<Vec<(&'f PathBuf, Report)>, Failure> {
    let rules = Rules::load(&config.rules_dir)?;
    let store = if database_exists(&config.database_url) {
        Store::open_with(&config.database_url, config.database_busy_timeout).await?
    } else {
        Store::memory().await?
    };
    let pipeline = Pipeline::new(store, Arc::new(config), rules);
    let mut reports = Vec::new();
    for file in files {
        let raw = Arc::new(read_mail(file)?);
        let size = raw.len();
        let report = pipeline
            .run(
                mailbox,
                &file_key(&raw),
                raw,
                size,
                chrono::Utc::now(),
                false,
            )
            .await?;
        reports.push((file, report));
    }
    Ok(reports)
}

/// Records each file as the daemon would, then sends what was queued.
async fn ingest_for_real<'f>(
    config: Config,
    mailbox: &MailboxConfig,
    files: &'f [PathBuf],
) -> Result<Vec<(&'f PathBuf, Report)>, Failure> {
    let instance = Instance::open(config).await?;
    let mut reports = Vec::new();
    for file in files {
        let raw = Arc::new(read_mail(file)?);
        let size = raw.len();
        let report = instance
            .pipeline
            .process(mailbox, &file_key(&raw), raw, size)
            .await?;
        reports.push((file, report));
    }
    crate::outbox::drain(
        &instance.store,
        &instance.transport,
        &instance.config.outbox,
    )
    .await?;
    Ok(reports)
}

fn read_mail(file: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(Failure::Runtime)
}

/// Files have no server UID; their content is their identity.
fn file_key(raw: &[u8]) -> String {
    format!("file:{}", crate::util::sha256_hex(raw))
}

fn database_exists(url: &str) -> bool {
    sqlx::sqlite::SqliteConnectOptions::from_str(url).is_ok_and(|o| {
        let f = o.get_filename();
        f != Path::new(":memory:") && f.exists()
    })
}

/// One line per file: the case, the answer, and whatever went wrong.
fn human_report(file: &Path, r: &Report) -> String {
    let Some(a) = &r.analysis else {
        return format!("{}: already recorded ({:?})", file.display(), r.disposition);
    };
    let case = match (&a.case.number, a.case.new) {
        (Some(n), true) => format!("new case {n}"),
        (Some(n), false) => format!("case {n} ({})", a.case.threading),
        (None, _) => "no case".into(),
    };
    let answer = match (&a.suppressed, a.replies.first()) {
        (Some(reason), _) => format!("no reply: {reason}"),
        (None, Some(reply)) => format!(
            "reply to {} in {}",
            reply.to,
            reply
                .languages
                .iter()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join("+")
        ),
        (None, None) => "no reply".into(),
    };
    let mut line = format!("{}: {case}; {answer}", file.display());
    if let crate::decide::Disposition::Quarantine(reason) = &r.disposition {
        line.push_str(&format!("; quarantined ({reason})"));
    }
    if !a.problems.is_empty() {
        line.push_str(&format!(
            "; problems: {}",
            crate::domain::names(&a.problems).join(", ")
        ));
    }
    line
}
