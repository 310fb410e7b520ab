//! The command line (clap): `run`, `ingest`, `check` and `cases`. Errors are
//! printed once, here, and mapped to exit codes: 0 success, 1 failure at run
//! time, 2 a configuration or rules error (or bad usage).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context as _;
use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::config::{self, Config, ConfigErrors, LogFormat};
use crate::daemon::Instance;
use crate::domain::{CaseStatus, Service, Stage};
use crate::pipeline::{Pipeline, Report};
use crate::rules::Rules;
use crate::store::Store;

#[derive(Parser, Debug)]
#[command(
    name = "egov-intake",
    version,
    about = "E-mail intake for the MPass/MSign integration procedure of AGE"
)]
struct Cli {
    /// Configuration file.
    #[arg(long, short, env = "EGOV_INTAKE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Log JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Watch every mailbox and send replies until stopped.
    Run {
        /// Process what is waiting, send the outbox, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Run the whole pipeline on .eml files.
    Ingest {
        /// Decide and print, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        /// The mailbox the files count as delivered to (default: the first office mailbox).
        #[arg(long)]
        mailbox: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate the configuration and the rules folder.
    Check,
    /// Say what files are, by content: keys, certificates, signed documents.
    /// Uses the certificate policy of the configuration's rules when one is
    /// given, else the built-in defaults.
    Inspect {
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Deadline dates in Moldovan working days (the given date never counts).
    /// Uses the calendar changes of the configuration's rules when one is given.
    Deadline {
        /// The day counting starts after (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// The Nth working day after --from (several values give several lines).
        #[arg(long, num_args = 1.., required_unless_present = "days", conflicts_with = "days")]
        working_days: Vec<u32>,
        /// The Nth calendar day after --from, moved to the next working day.
        #[arg(long, num_args = 1..)]
        days: Vec<u32>,
    },
    /// The staff digest: print it, or send it to every staff list now.
    Digest {
        /// Print the digest (of --service, else of all services).
        #[arg(long, required_unless_present = "send")]
        print: bool,
        /// Queue today's digest for every staff list now and send the outbox.
        #[arg(long)]
        send: bool,
        /// mpass or msign (with --print).
        #[arg(long, value_parser = PossibleValuesParser::new(["mpass", "msign"]).map(|s| Service::parse(&s)))]
        service: Option<Service>,
    },
    /// Look at cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
}

#[derive(Subcommand, Debug)]
enum CasesCommand {
    /// All cases, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One case with its mail, events and outgoing mail.
    Show {
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a case to a stage of the procedure; what AGE owed is met.
    Advance {
        number: String,
        /// request, agreement, examination, certificate, test_registration, production_registration
        stage: String,
        #[arg(long)]
        note: String,
        /// Who acts (default: $USER).
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// Give a case to a member of staff.
    Assign {
        number: String,
        who: String,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// End a case; nothing is due any more.
    Close {
        number: String,
        #[arg(long)]
        reason: String,
        /// The request was rejected (else: closed, done).
        #[arg(long)]
        rejected: bool,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// Extend the examination deadline once, with a reason (art. 60).
    Extend {
        number: String,
        #[arg(long)]
        days: Option<u32>,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
}

/// Errors that decide the exit code.
enum Failure {
    Config(ConfigErrors),
    Usage(String),
    Runtime(anyhow::Error),
    /// Whoever read our output stopped (`| head`): nothing more to say.
    OutputClosed,
}

/// `println!` that reports a failed write instead of panicking; use with `?`.
macro_rules! out {
    ($($arg:tt)*) => {
        write_line(format_args!($($arg)*))
    };
}

/// One line to standard output. A reader that closed the pipe early ends the
/// command quietly (exit 0, as `head` expects), not with a panic.
fn write_line(line: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::OutputClosed
        } else {
            Failure::Runtime(anyhow::Error::new(e).context("writing to standard output"))
        }
    })
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<ConfigErrors>() {
            Ok(c) => Failure::Config(c),
            Err(e) => Failure::Runtime(e),
        }
    }
}

impl From<ConfigErrors> for Failure {
    fn from(e: ConfigErrors) -> Self {
        Failure::Config(e)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!("egov-intake: {} configuration error(s)", errors.0.len());
            ExitCode::from(2)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("egov-intake: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("egov-intake: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::OutputClosed) => ExitCode::SUCCESS,
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::Inspect { json, files } = &cli.command {
        return inspect(cli.config.as_deref(), *json, files);
    }
    if let Command::Deadline {
        from,
        working_days,
        days,
    } = &cli.command
    {
        return deadline(cli.config.as_deref(), *from, working_days, days);
    }
    let path = cli.config.clone().ok_or_else(|| {
        Failure::Usage("no configuration: pass --config FILE or set EGOV_INTAKE_CONFIG".into())
    })?;
    let config = config::load(&path)?;
    let format = if cli.log_json {
        LogFormat::Json
    } else {
        config.log.format
    };
    crate::logging::init(format, &config.log.level);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Check => check(&config),
            Command::Run { once } => {
                let instance = Instance::open(config).await?;
                if once {
                    instance.run_once().await?;
                } else {
                    instance.run().await?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Ingest {
                dry_run,
                json,
                mailbox,
                files,
            } => ingest(config, dry_run, json, mailbox, &files).await,
            Command::Cases { command } => cases(&config, command).await,
            Command::Digest {
                print,
                send,
                service,
            } => {
                let instance = Instance::open(config).await?;
                let rules = instance.pipeline.rules();
                let now = chrono::Utc::now();
                if print {
                    let (subject, body) = crate::schedule::digest(
                        &instance.store,
                        &rules,
                        &instance.config,
                        service,
                        now,
                    )
                    .await?;
                    out!("{subject}\n\n{body}")?;
                }
                if send {
                    let n = crate::schedule::send_digest(
                        &instance.store,
                        &rules,
                        &instance.config,
                        now,
                        true,
                    )
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
            Command::Inspect { .. } | Command::Deadline { .. } => {
                unreachable!("handled before the configuration is loaded")
            }
        }
    })
}

fn check(config: &Config) -> Result<ExitCode, Failure> {
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

async fn ingest(
    config: Config,
    dry_run: bool,
    json: bool,
    mailbox: Option<String>,
    files: &[PathBuf],
) -> Result<ExitCode, Failure> {
    let mailbox = match &mailbox {
        Some(name) => config
            .mailboxes
            .iter()
            .find(|m| &m.name == name)
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
    }
    .clone();

    let mut reports = Vec::new();
    if dry_run {
        let rules = Rules::load(&config.rules_dir)?;
        let store = if database_exists(&config.database_url) {
            Store::open_with(&config.database_url, config.database_busy_timeout).await?
        } else {
            Store::memory().await?
        };
        let pipeline = Pipeline::new(store, std::sync::Arc::new(config), rules);
        for file in files {
            let raw = std::sync::Arc::new(read_mail(file)?);
            let size = raw.len();
            let report = pipeline
                .run(
                    &mailbox,
                    &file_key(&raw),
                    raw,
                    size,
                    chrono::Utc::now(),
                    false,
                )
                .await?;
            reports.push((file, report));
        }
    } else {
        let instance = Instance::open(config).await?;
        for file in files {
            let raw = std::sync::Arc::new(read_mail(file)?);
            let size = raw.len();
            let report = instance
                .pipeline
                .process(&mailbox, &file_key(&raw), raw, size)
                .await?;
            reports.push((file, report));
        }
        crate::outbox::drain(
            &instance.store,
            &instance.transport,
            &instance.config.outbox,
        )
        .await?;
    }

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

/// `deadline`: one ISO date per line.
fn deadline(
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
fn inspect(config: Option<&Path>, json: bool, files: &[PathBuf]) -> Result<ExitCode, Failure> {
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
                line.push_str(&format!("; problems: {}", report.problems.join(", ")));
            }
            out!("{line}")?;
        }
    }
    Ok(if unreadable {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
        line.push_str(&format!("; problems: {}", a.problems.join(", ")));
    }
    line
}

async fn cases(config: &Config, command: CasesCommand) -> Result<ExitCode, Failure> {
    let store = Store::open_with(&config.database_url, config.database_busy_timeout).await?;
    let who = |by: Option<String>| {
        by.filter(|b| !b.is_empty())
            .unwrap_or_else(|| "staff".into())
    };
    match command {
        CasesCommand::Advance {
            number,
            stage,
            note,
            by,
        } => {
            let stage = stage.parse::<Stage>().map_err(|e| {
                Failure::Usage(format!(
                    "unknown stage {stage:?}; one of {}",
                    e.known.join(", ")
                ))
            })?;
            store.advance(&number, stage, &note, &who(by)).await?;
            out!("{number}: now at {stage}")?;
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Assign {
            number,
            who: to,
            by,
        } => {
            store.assign(&number, &to, &who(by)).await?;
            out!("{number}: assigned to {to}")?;
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Close {
            number,
            reason,
            rejected,
            by,
        } => {
            store.close(&number, &reason, rejected, &who(by)).await?;
            let status = if rejected {
                CaseStatus::Rejected
            } else {
                CaseStatus::Closed
            };
            out!("{number}: {status}")?;
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Extend {
            number,
            days,
            reason,
            by,
        } => {
            let rules = Rules::load(&config.rules_dir)?;
            let days = days.unwrap_or(rules.lifecycle().deadlines.extension_days);
            let due = store
                .extend(&number, days, &reason, &who(by), rules.calendar())
                .await?;
            out!("{number}: examination now due {due}")?;
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::List { json } => {
            let list = store.list_cases().await?;
            if json {
                out!("{}", serde_json::to_string(&list).context("serialising")?)?;
            } else if list.is_empty() {
                out!("no cases")?;
            } else {
                for c in list {
                    out!(
                        "{}  {:<7}  {:<23}  {:<24}  {}  due {}{}  {}  {}",
                        c.number,
                        c.service,
                        c.stage,
                        c.status,
                        crate::util::prefix(&c.created_at, 10),
                        c.due.as_deref().unwrap_or("-"),
                        if c.overdue { " OVERDUE" } else { "" },
                        c.opened_by.as_deref().unwrap_or("-"),
                        c.subject
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Show { number, json } => {
            let Some(detail) = store.case_detail(&number).await? else {
                eprintln!("egov-intake: no case {number}");
                return Ok(ExitCode::from(1));
            };
            if json {
                out!("{}", serde_json::to_string(&detail).context("serialising")?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let s = &detail.summary;
            out!("{}  {}", s.number, s.subject)?;
            out!(
                "  service {}  stage {}  status {}",
                s.service,
                s.stage,
                s.status
            )?;
            out!(
                "  opened {} by {} via {}",
                s.created_at,
                s.opened_by.as_deref().unwrap_or("-"),
                s.mailbox
            )?;
            if let Some(idno) = &s.idno {
                out!("  IDNO {idno}")?;
            }
            out!("  participants: {}", detail.participants.join(", "))?;
            if let Some(who) = &s.assigned_to {
                out!("  assigned to {who}")?;
            }
            for d in &detail.deadlines {
                let state = match (&d.met_at, &d.cancelled_at) {
                    (Some(t), _) => format!("met {t}"),
                    (None, Some(t)) => format!("cancelled {t}"),
                    (None, None) => "open".into(),
                };
                out!(
                    "  deadline {:<12} due {}{}  {state}",
                    d.kind,
                    d.due,
                    if d.extended { " (extended)" } else { "" }
                )?;
            }
            out!("messages:")?;
            for m in &detail.messages {
                out!(
                    "  {}  {}  {}  [{}]",
                    m.received_at,
                    m.from.as_deref().unwrap_or("-"),
                    m.subject,
                    m.deliveries.join(", ")
                )?;
                for a in &m.attachments {
                    out!(
                        "    - {} ({}, {} bytes)",
                        a.name.as_deref().unwrap_or("(unnamed)"),
                        a.kind,
                        a.size
                    )?;
                }
            }
            out!("outgoing:")?;
            for o in &detail.outbox {
                let state = match (&o.sent_at, &o.failed_at) {
                    (Some(t), _) => format!("sent {t}"),
                    (None, Some(t)) => {
                        format!("FAILED {t}: {}", o.last_error.as_deref().unwrap_or(""))
                    }
                    (None, None) => format!("queued ({} attempts)", o.attempts),
                };
                out!("  {} to {}: {}  {state}", o.kind, o.to, o.subject)?;
            }
            out!("events:")?;
            for e in &detail.events {
                out!("  {}  {:<8} {:<22} {}", e.at, e.actor, e.kind, e.detail)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
