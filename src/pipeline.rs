//! The pipeline for one mail: parse → inspect → understand → decide →
//! record, in that order, with the database transaction around decide and
//! record. Sources call [`Pipeline::process`] and acknowledge the mail on the
//! server according to the returned [`Disposition`] — only after it returned,
//! i.e. after the commit.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Notify;

use crate::budget;
use crate::config::{Config, MailboxConfig};
use crate::decide::{self, Disposition, Rejection, Settings, Threading};
use crate::inspect::{self, FileReport, Inspection};
use crate::parse::{self, Mail};
use crate::rules::Rules;
use crate::store::{Store, Tx};
use crate::understand::{self, Understanding};

mod batch;
mod record;

pub use batch::Delivery;
use record::{Done, Recording};

pub struct Pipeline {
    pub store: Store,
    pub config: Arc<Config>,
    rules: RwLock<Rules>,
    /// Woken after every commit that queued mail, so replies leave at once.
    pub outbox_wake: Arc<Notify>,
    /// Woken after every commit that touched a case, so the scheduler sees
    /// new deadlines without waiting for its next tick.
    pub schedule_wake: Arc<Notify>,
}

/// Everything the pipeline concluded about one mail (`ingest --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mailbox: String,
    pub source_key: String,
    /// The delivery had been recorded before; nothing new was decided.
    pub already_recorded: bool,
    pub disposition: Disposition,
    #[serde(flatten)]
    pub analysis: Option<AnalysisReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalysisReport {
    pub message_id: Option<String>,
    pub subject: String,
    pub from: Option<String>,
    pub date: Option<String>,
    pub size: usize,
    pub flags: Vec<parse::Flag>,
    pub language: Option<crate::domain::Language>,
    pub service: crate::domain::Service,
    pub stage: Option<crate::domain::Stage>,
    pub idno: Option<String>,
    pub idno_valid: Option<bool>,
    /// What the case knows of the request, this mail included.
    pub request: serde_json::Value,
    /// Fields the step still needs (keys of `request`, `certificate`, `signed_agreement`).
    pub missing: Vec<crate::domain::Field>,
    pub priority: crate::domain::Priority,
    pub labels: Vec<String>,
    /// Names of the triage rules that matched.
    pub triage: Vec<String>,
    pub attachments: Vec<inspect::Attachment>,
    pub private_key_found: bool,
    pub rejection: Option<Rejection>,
    pub case: CaseReport,
    pub replies: Vec<OutgoingReport>,
    pub alerts: Vec<OutgoingReport>,
    pub suppressed: Option<String>,
    pub problems: Vec<crate::domain::ProblemCode>,
    pub events: Vec<decide::Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub number: Option<String>,
    pub new: bool,
    pub threading: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutgoingReport {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub languages: Vec<crate::domain::Language>,
    pub body: String,
}

/// The pure stages' results for one mail.
pub(crate) struct Analysis {
    pub(crate) mail: Mail,
    pub(crate) inspection: Inspection,
    pub(crate) understanding: Understanding,
    rejection: Option<Rejection>,
    stored: Stored,
    raw_scan: RawScan,
}

impl Analysis {
    /// Which copy the database may keep, as decide names it.
    pub(crate) fn kept_copy(&self) -> &'static str {
        match &self.stored {
            Stored::Original => "original",
            Stored::Headers => "headers",
            Stored::Redacted(_) => "redacted",
            Stored::Nothing => "none",
        }
    }
}

/// Which copy of the mail the database may keep.
enum Stored {
    Original,
    /// Only the header block: the body was not (fully) inspected, so it is
    /// not kept where a key in it would be persisted.
    Headers,
    /// Private keys replaced by notes, checked by a second inspection.
    Redacted(Vec<u8>),
    /// Redaction could not be trusted: no copy at all.
    Nothing,
}

/// What the scan of the raw bytes for key material concluded.
#[derive(Clone)]
enum RawScan {
    Clean,
    Keys(Box<FileReport>),
    /// The scan did not finish: assume the worst for copies on disk.
    Unknown,
}

impl From<FileReport> for RawScan {
    fn from(report: FileReport) -> RawScan {
        if report.contains_private_key {
            RawScan::Keys(Box::new(report))
        } else {
            RawScan::Clean
        }
    }
}

/// What the pure stages need besides the mail.
pub(crate) struct Context {
    pub(crate) inspect: inspect::Settings,
    pub(crate) fields: understand::fields::Options,
    pub(crate) role: crate::config::Role,
    pub(crate) max_depth: usize,
}

/// Bytes of the start of an oversized mail read for its headers.
pub const OVERSIZE_HEAD: usize = 256 * 1024;

impl Pipeline {
    pub fn new(store: Store, config: Arc<Config>, rules: Rules) -> Pipeline {
        Pipeline {
            store,
            config,
            rules: RwLock::new(rules),
            outbox_wake: Arc::new(Notify::new()),
            schedule_wake: Arc::new(Notify::new()),
        }
    }

    pub fn rules(&self) -> Rules {
        self.rules.read().expect("rules lock").clone()
    }

    /// Loads the rules folder again; an invalid one is refused and the old kept.
    pub fn reload_rules(&self) -> Result<(), crate::config::ConfigErrors> {
        let fresh = Rules::load(&self.config.rules_dir)?;
        *self.rules.write().expect("rules lock") = fresh;
        Ok(())
    }

    /// Processes one delivery and commits it. Errors are transient (database,
    /// disk) or a failure of this mail (a panic anywhere in its processing
    /// is caught here and becomes an error); either way the caller leaves
    /// the mail untouched on the server and retries.
    ///
    /// `size` is the mail's full size; when it is over the limit, `raw` may
    /// hold only its header (the source need not download the rest).
    pub async fn process(
        &self,
        mailbox: &MailboxConfig,
        source_key: &str,
        raw: Arc<Vec<u8>>,
        size: usize,
    ) -> anyhow::Result<Report> {
        crate::util::guarded(self.run(mailbox, source_key, raw, size, Utc::now(), true)).await
    }

    /// The whole pipeline; with `commit = false` the transaction is rolled back
    /// and no spool file is written (`ingest --dry-run`).
    pub async fn run(
        &self,
        mailbox: &MailboxConfig,
        source_key: &str,
        raw: Arc<Vec<u8>>,
        size: usize,
        now: DateTime<Utc>,
        commit: bool,
    ) -> anyhow::Result<Report> {
        if let Some(disposition) = self.store.delivery(&mailbox.name, source_key).await? {
            return Ok(already(mailbox, source_key, disposition));
        }
        let analysis = self.analyse(mailbox, raw.clone(), size, now).await;
        self.record(mailbox, source_key, &raw, analysis, now, commit)
            .await
    }

    /// Sets aside a mail whose processing keeps failing, so it cannot hold
    /// up its mailbox: recorded from its header alone with an incident and a
    /// staff alert, then quarantined — or, when its raw bytes hold key
    /// material, moved to the private-key folder and never spooled. Like
    /// every record this needs the database: when it cannot be written,
    /// this fails and the mail stays where it is.
    pub async fn set_aside(
        &self,
        mailbox: &MailboxConfig,
        source_key: &str,
        raw: Arc<Vec<u8>>,
        size: usize,
        error: &anyhow::Error,
    ) -> anyhow::Result<Disposition> {
        let now = Utc::now();
        let rejection = Rejection::ProcessingFailed {
            detail: format!("{error:#}"),
        };
        let analysis = self
            .header_analysis(mailbox, raw.clone(), size, now, rejection)
            .await;
        let report =
            crate::util::guarded(self.record(mailbox, source_key, &raw, analysis, now, true))
                .await?;
        tracing::error!(
            mailbox = %mailbox.name,
            key = %source_key,
            error = %format!("{error:#}"),
            disposition = ?report.disposition,
            "mail set aside after repeated failures"
        );
        Ok(report.disposition)
    }

    /// Decides and records one analysed mail in one transaction.
    async fn record(
        &self,
        mailbox: &MailboxConfig,
        source_key: &str,
        raw: &[u8],
        analysis: Analysis,
        now: DateTime<Utc>,
        commit: bool,
    ) -> anyhow::Result<Report> {
        let spool_path = self.spool(mailbox, raw, &analysis, commit).await?;
        let rules = self.rules();
        let settings = self.settings(&rules, mailbox);
        let mut tx = self.store.begin().await?;
        // Another task may have recorded it while we parsed.
        if let Some(disposition) = tx.delivery(&mailbox.name, source_key).await? {
            tx.rollback().await?;
            return Ok(already(mailbox, source_key, disposition));
        }
        let mail = Recording {
            mailbox,
            source_key,
            raw,
            analysis: &analysis,
            spool_path: spool_path.as_deref(),
            now,
        };
        let done = mail.record_in(&mut tx, &settings).await?;
        if commit {
            tx.commit().await?;
            failpoint("after-commit");
            self.committed(mailbox, &[(source_key, &done)]);
        } else {
            tx.rollback().await?;
        }
        Ok(report(mailbox, source_key, &analysis, &done))
    }

    /// Writes the spool copy (with `commit`) and returns where it goes. A
    /// spool copy only of a mail whose raw bytes were scanned whole and
    /// found free of key material.
    async fn spool(
        &self,
        mailbox: &MailboxConfig,
        raw: &[u8],
        analysis: &Analysis,
        commit: bool,
    ) -> anyhow::Result<Option<PathBuf>> {
        let spool_path = match (&analysis.rejection, &analysis.raw_scan) {
            (Some(_), RawScan::Clean) => {
                Some(self.spool_path(mailbox, &analysis.mail.content_hash))
            }
            _ => None,
        };
        if commit && let Some(path) = &spool_path {
            write_spool(path, raw).await?;
        }
        Ok(spool_path)
    }

    /// What decide needs besides the mail: the rules, and the configuration
    /// as it applies to this mailbox.
    fn settings<'a>(&'a self, rules: &'a Rules, mailbox: &MailboxConfig) -> Settings<'a> {
        Settings {
            rules,
            reply: &self.config.reply,
            limits: &self.config.limits,
            staff: self.config.staff_for(Some(mailbox.role)),
            staff_from: self.config.staff.from.clone(),
            our_addresses: self
                .config
                .mailboxes
                .iter()
                .map(|m| m.address.to_lowercase())
                .chain(std::iter::once(self.config.staff.from.to_lowercase()))
                .collect(),
            private_key_action: self.config.private_keys,
        }
    }

    /// After a commit: wakes whoever has new work and logs each mail.
    fn committed(&self, mailbox: &MailboxConfig, done: &[(&str, &Done)]) {
        if done.iter().any(|(_, d)| d.recorded.queued > 0) {
            self.outbox_wake.notify_one();
        }
        if done.iter().any(|(_, d)| d.recorded.case_id.is_some()) {
            self.schedule_wake.notify_one();
        }
        for (source_key, d) in done {
            tracing::info!(
                mailbox = %mailbox.name,
                key = %source_key,
                case = d.recorded.case_number.as_deref().unwrap_or("-"),
                new_case = d.recorded.new_case,
                disposition = ?d.decision.disposition,
                suppressed = d.decision.suppressed.as_deref().unwrap_or(""),
                "mail recorded"
            );
        }
    }

    /// What the pure stages need besides the mail.
    fn context(&self, mailbox: &MailboxConfig, now: DateTime<Utc>) -> Arc<Context> {
        let rules = self.rules();
        Arc::new(Context {
            inspect: inspect::Settings {
                policy: rules.certificate_policy().clone(),
                anchors: rules.anchors().to_vec(),
                archive: inspect::archive::Limits::default(),
                now,
            },
            fields: understand::fields::Options {
                allowed_private_ranges: rules.allowed_private_ranges().to_vec(),
            },
            role: mailbox.role,
            max_depth: self.config.limits.max_nesting_depth,
        })
    }

    /// Runs the pure stages on the parser thread within the analysis
    /// budget; never fails. Past the budget, or after a panic, the mail is
    /// analysed from its header alone and quarantined.
    async fn analyse(
        &self,
        mailbox: &MailboxConfig,
        raw: Arc<Vec<u8>>,
        size: usize,
        now: DateTime<Utc>,
    ) -> Analysis {
        let limits = &self.config.limits;
        if size > limits.max_message_bytes {
            let rejection = Rejection::TooLarge {
                size,
                limit: limits.max_message_bytes,
            };
            return self
                .header_analysis(mailbox, raw, size, now, rejection)
                .await;
        }
        let context = self.context(mailbox, now);
        let input = raw.clone();
        let budget = limits.analysis_budget;
        let rejection = match bounded(budget, move || full_analysis(&context, &input)).await {
            Ok(analysis) => return analysis,
            Err(Stop::Panicked(detail)) => {
                tracing::error!(mailbox = %mailbox.name, error = %detail, "mail could not be parsed");
                Rejection::Unparseable { detail }
            }
            Err(Stop::Spent(spent)) => {
                tracing::warn!(mailbox = %mailbox.name, budget = ?budget, "{spent}");
                Rejection::AnalysisIncomplete {
                    spent,
                    limit: budget.of(spent),
                }
            }
        };
        self.header_analysis(mailbox, raw, size, now, rejection)
            .await
    }

    /// The analysis of a mail that is not read whole: its header only, with
    /// the raw bytes scanned for key material (within the budget too; a
    /// scan that cannot finish leaves the mail unspooled).
    async fn header_analysis(
        &self,
        mailbox: &MailboxConfig,
        raw: Arc<Vec<u8>>,
        size: usize,
        now: DateTime<Utc>,
        rejection: Rejection,
    ) -> Analysis {
        let budget = self.config.limits.analysis_budget;
        let context = self.context(mailbox, now);
        let (c, input) = (context.clone(), raw.clone());
        let scan = bounded(budget, move || inspect::raw::scan(&input, &c.inspect))
            .await
            .map_or(RawScan::Unknown, RawScan::from);
        let head = raw
            .get(..raw.len().min(OVERSIZE_HEAD))
            .unwrap_or_default()
            .to_vec();
        let (c, r, k) = (context.clone(), rejection.clone(), scan.clone());
        bounded(budget, move || header_only(&c, &head, size, r, k))
            .await
            // Even the header defeated the parser: record the bare fact.
            .unwrap_or_else(|_| header_only(&context, b"", size, rejection, scan))
    }
    fn spool_path(&self, mailbox: &MailboxConfig, hash: &str) -> PathBuf {
        self.config
            .spool_dir
            .join(&mailbox.name)
            .join(format!("{hash}.eml"))
    }
}

/// The whole analysis of a mail read in full: parse, inspect, the raw
/// bytes scanned for key material the structure hid (each part the
/// inspection examined is not examined again), understand. Which copy may
/// be stored follows from what was found: a key the MIME structure hid
/// (the raw scan found it, the inspection did not) cannot be redacted
/// reliably, so only the header block is kept.
pub(crate) fn full_analysis(c: &Context, raw: &[u8]) -> Analysis {
    let mail = parse::parse(raw, c.max_depth);
    budget::checkpoint();
    let mut inspection = inspect::inspect(&mail, &c.inspect);
    budget::checkpoint();
    let examined = inspect::examined_files(&mail);
    let scan = RawScan::from(inspect::raw::scan_except(raw, &c.inspect, &examined));
    budget::checkpoint();
    let structured_key = inspection.private_key_found;
    if let RawScan::Keys(found) = &scan {
        inspection.add_raw_findings(found);
    }
    let stored = if inspection.private_key_found && structured_key {
        redacted_copy(c, raw, &mail, &inspection)
    } else if inspection.private_key_found || !inspection.complete() {
        header_copy(c, raw)
    } else {
        Stored::Original
    };
    budget::checkpoint();
    Analysis {
        understanding: understand::understand(&mail, &inspection, c.role, &c.fields),
        mail,
        inspection,
        rejection: None,
        stored,
        raw_scan: scan,
    }
}

/// A mail's redacted copy, trusted only when neither a second inspection
/// nor a raw scan of it finds a key.
fn redacted_copy(c: &Context, raw: &[u8], mail: &Mail, inspection: &Inspection) -> Stored {
    let redacted = crate::redact::redact(raw, mail, inspection);
    let reparsed = parse::parse(&redacted, c.max_depth);
    let again = inspect::inspect(&reparsed, &c.inspect);
    let examined = inspect::examined_files(&reparsed);
    let scan = inspect::raw::scan_except(&redacted, &c.inspect, &examined);
    if again.private_key_found || scan.contains_private_key {
        Stored::Nothing
    } else {
        Stored::Redacted(redacted)
    }
}

/// The header block as the stored copy, unless key material is in it too.
fn header_copy(c: &Context, raw: &[u8]) -> Stored {
    if inspect::raw::scan(parse::header_block(raw), &c.inspect).contains_private_key {
        Stored::Nothing
    } else {
        Stored::Headers
    }
}

/// The analysis of a mail from its header alone, with the raw scan's verdict.
fn header_only(
    c: &Context,
    head: &[u8],
    size: usize,
    rejection: Rejection,
    scan: RawScan,
) -> Analysis {
    let mail = Mail {
        content_hash: parse::content_hash(head),
        size,
        ..parse::parse_headers_only(head)
    };
    let mut inspection = inspect::inspect(&mail, &c.inspect);
    if let RawScan::Keys(found) = &scan {
        inspection.add_raw_findings(found);
    }
    Analysis {
        understanding: understand::understand(&mail, &inspection, c.role, &c.fields),
        stored: header_copy(c, head),
        mail,
        inspection,
        rejection: Some(rejection),
        raw_scan: scan,
    }
}

/// Why bounded work gave no result.
enum Stop {
    Panicked(String),
    Spent(budget::Spent),
}

/// Runs pure, CPU-bound work on the parser thread within `limits`. The work
/// stops itself at its next checkpoint once a budget is spent; should it
/// not reach one, it is abandoned at its time limit all the same (a thread
/// cannot be stopped from outside) and the caller moves on.
async fn bounded<T: Send + 'static>(
    limits: budget::Limits,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stop> {
    let work = parse::on_parser_thread(move || budget::run(limits, f));
    match tokio::time::timeout(limits.time, work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => match e.downcast_ref::<budget::Spent>() {
            Some(spent) => Err(Stop::Spent(*spent)),
            None => Err(Stop::Panicked(format!("{e:#}"))),
        },
        Err(_) => Err(Stop::Spent(budget::Spent::Time)),
    }
}

/// Writes a spool copy readable by the daemon's user only: quarantined mail
/// was not fully inspected and may hold anything.
async fn write_spool(path: &std::path::Path, raw: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    use tokio::io::AsyncWriteExt as _;
    if let Some(dir) = path.parent() {
        tokio::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .await
            .with_context(|| format!("creating spool folder {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true).mode(0o600);
    let mut file = tokio::fs::OpenOptions::from(options)
        .open(path)
        .await
        .with_context(|| format!("writing spool copy {}", path.display()))?;
    file.write_all(raw)
        .await
        .with_context(|| format!("writing spool copy {}", path.display()))?;
    file.sync_all()
        .await
        .with_context(|| format!("writing spool copy {}", path.display()))
}

/// Fingerprints of the certificates attached, which find the cases they
/// were sent to before.
fn certificates(inspection: &Inspection) -> Vec<String> {
    inspection
        .attachments
        .iter()
        .filter_map(|a| a.report.certificate.as_ref().map(|c| c.sha256.clone()))
        .collect()
}

/// A case number for a mail that opens a new case, allocated inside the
/// transaction. Case numbers are official: none is used up by mail that
/// opens no case (a reply to a case, a rejected or an automated mail).
async fn new_case_number(
    tx: &mut Tx,
    analysis: &Analysis,
    threading: &Threading,
    suppression: Option<&decide::loop_guard::Suppression>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let automated = suppression.is_some_and(|s| s.automated);
    Ok(match (threading, &analysis.rejection, automated) {
        (Threading::New, None, false) => Some(
            tx.allocate_case_number(crate::calendar::case_year(now))
                .await?,
        ),
        _ => None,
    })
}

/// The copy of the mail the database keeps.
fn stored_copy<'a>(stored: &'a Stored, raw: &'a [u8]) -> Option<&'a [u8]> {
    match stored {
        Stored::Original => Some(raw),
        Stored::Headers => Some(parse::header_block(raw)),
        Stored::Redacted(r) => Some(r.as_slice()),
        Stored::Nothing => None,
    }
}

fn already(mailbox: &MailboxConfig, source_key: &str, disposition: Disposition) -> Report {
    Report {
        mailbox: mailbox.name.clone(),
        source_key: source_key.to_string(),
        already_recorded: true,
        disposition,
        analysis: None,
    }
}

fn report(mailbox: &MailboxConfig, source_key: &str, a: &Analysis, done: &Done) -> Report {
    let Done {
        threading,
        decision: d,
        recorded,
    } = done;
    let outgoing = |kind: crate::domain::OutgoingKind| {
        d.outgoing
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| OutgoingReport {
                to: o.to.clone(),
                subject: o.subject.clone(),
                message_id: o.message_id.clone(),
                languages: o.languages.clone(),
                body: o.body.clone(),
            })
            .collect::<Vec<_>>()
    };
    Report {
        mailbox: mailbox.name.clone(),
        source_key: source_key.to_string(),
        already_recorded: false,
        disposition: d.disposition.clone(),
        analysis: Some(AnalysisReport {
            message_id: a.mail.message_id.clone(),
            subject: a.mail.subject.clone(),
            from: a.mail.from.as_ref().map(|f| f.address.clone()),
            date: a.mail.date.clone(),
            size: a.mail.size,
            flags: a.mail.flags.clone(),
            language: a.understanding.language,
            service: d.service,
            stage: d.stage,
            idno: d.facts.request.idno.clone(),
            idno_valid: d.facts.request.idno_valid,
            missing: d.missing.clone(),
            priority: d.priority,
            labels: d.labels.clone(),
            triage: d.triage.clone(),
            attachments: a.inspection.attachments.clone(),
            private_key_found: a.inspection.private_key_found,
            rejection: a.rejection.clone(),
            case: CaseReport {
                number: recorded.case_number.clone(),
                new: recorded.new_case,
                threading: match threading {
                    Threading::Duplicate { .. } => "duplicate",
                    Threading::Existing { via, .. } => via,
                    Threading::New => "new",
                },
            },
            replies: outgoing(crate::domain::OutgoingKind::Reply),
            alerts: outgoing(crate::domain::OutgoingKind::Alert),
            suppressed: d.suppressed.clone(),
            problems: d.problems.clone(),
            request: serde_json::to_value(&d.facts.request).unwrap_or_default(),
            events: d.events.clone(),
        }),
    }
}

/// The test hook armed by `EGOV_INTAKE_FAILPOINT`, if any.
fn armed_failpoint() -> Option<&'static str> {
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var("EGOV_INTAKE_FAILPOINT").ok())
        .as_deref()
}

/// Test hook: `EGOV_INTAKE_FAILPOINT=after-commit` freezes processing right
/// after a commit — before the outbox is woken and before the mail is
/// acknowledged on the server — so a test can SIGKILL the daemon exactly in
/// the window the no-loss and no-duplicate guarantees are about.
fn failpoint(name: &str) {
    if armed_failpoint() == Some(name) {
        // Hold here, committed but not acknowledged, until the test kills us.
        eprintln!("failpoint {name} reached");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Test hook: `EGOV_INTAKE_FAILPOINT=record:TEXT` makes recording a mail
/// read in full whose Message-ID holds TEXT fail, as a bug in decide would;
/// setting it aside still works. A test sees what one failing mail of a
/// batch costs the others.
fn record_failpoint(analysis: &Analysis) -> anyhow::Result<()> {
    let Some(text) = armed_failpoint().and_then(|f| f.strip_prefix("record:")) else {
        return Ok(());
    };
    let id = analysis.mail.message_id.as_deref().unwrap_or_default();
    anyhow::ensure!(
        analysis.rejection.is_some() || !id.contains(text),
        "failpoint record:{text} reached"
    );
    Ok(())
}
