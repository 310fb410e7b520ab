//! From the file as written to the checked [`Config`]: every value is judged
//! here, and every problem is pushed with the file and line it is about, so
//! one pass reports them all. Checking never stops at the first problem; the
//! `Config` built alongside is only handed out when no error was found.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::raw::{
    RawConfig, RawDatabase, RawLimits, RawLog, RawMailbox, RawOutbox, RawSource, RawStaff,
    RawTransport,
};
use super::{
    Config, ConfigError, ImapConfig, Limits, Locator, LogConfig, MailboxConfig, MaildirConfig,
    OutboxConfig, PasswordSource, ReplyConfig, SmtpConfig, SourceConfig, StaffConfig, TlsMode,
    TransportConfig,
};

/// Hosts on which plaintext IMAP/SMTP may be allowed: only this machine.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A bare `local@domain` check: enough to catch typos in the config.
pub fn looks_like_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

// ---- the whole file ---------------------------------------------------------

impl RawConfig {
    /// Checks section by section, in the order of the file's usual layout, so
    /// the errors come out in an order an operator can follow.
    pub(super) fn validate(
        self,
        file: &Path,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Config {
        let database_url = check_database(&self.database, loc, errors);
        let mailboxes = check_mailboxes(self.mailbox, loc, errors);
        let transport =
            self.transport
                .into_inner()
                .validate(loc, errors)
                .unwrap_or(TransportConfig::File {
                    dir: PathBuf::new(),
                });
        let staff = check_staff(self.staff, &mailboxes, loc, errors);
        check_numbers(&self.limits, &self.outbox, &self.log, loc, errors);

        Config {
            path: file.to_path_buf(),
            database_url,
            database_busy_timeout: Duration::from_secs(self.database.busy_timeout_secs),
            rules_dir: self.rules.dir,
            spool_dir: self.spool.dir,
            mailboxes,
            transport,
            outbox: outbox_config(&self.outbox, &staff),
            staff,
            limits: limits(&self.limits),
            reply: ReplyConfig {
                message_id_domain: self.reply.message_id_domain,
                from_name: self.reply.from_name,
            },
            log: LogConfig {
                format: self.log.format,
                level: self.log.level,
            },
            private_keys: self.private_keys.action,
        }
    }
}

/// The database URL, refused unless this build can open it.
fn check_database(database: &RawDatabase, loc: &Locator, errors: &mut Vec<ConfigError>) -> String {
    let url = database.url.get_ref().clone();
    if !url.starts_with("sqlite:") {
        errors.push(loc.at(
            database.url.span().start,
            format!(
                "database.url: only sqlite: URLs are supported by this build, not {:?}",
                url.split(':').next().unwrap_or_default()
            ),
        ));
    }
    url
}

/// Every `[[mailbox]]`; at least one, names unique. A mailbox whose source
/// does not check out is left out (its errors say why).
fn check_mailboxes(
    list: Vec<Spanned<RawMailbox>>,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> Vec<MailboxConfig> {
    let mut mailboxes = Vec::new();
    let mut names = HashSet::new();
    if list.is_empty() {
        errors.push(loc.whole("no [[mailbox]] is configured"));
    }
    for spanned in list {
        if let Some(mailbox) = check_mailbox(spanned.into_inner(), &mut names, loc, errors) {
            mailboxes.push(mailbox);
        }
    }
    mailboxes
}

/// One mailbox; `names` holds those seen so far, to catch a name used twice.
fn check_mailbox(
    m: RawMailbox,
    names: &mut HashSet<String>,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> Option<MailboxConfig> {
    let name = m.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        errors.push(loc.at(
            m.name.span().start,
            format!("mailbox name {name:?} must be non-empty letters, digits, '-', '_' or '.'"),
        ));
    }
    if !names.insert(name.clone()) {
        errors.push(loc.at(
            m.name.span().start,
            format!("mailbox name {name:?} is used twice"),
        ));
    }
    if !looks_like_address(m.address.get_ref()) {
        errors.push(loc.at(
            m.address.span().start,
            format!(
                "mailbox {name}: address {:?} is not an e-mail address",
                m.address.get_ref()
            ),
        ));
    }
    let what = format!("mailbox {name}");
    let source = m.source.into_inner().validate(&what, loc, errors)?;
    Some(MailboxConfig {
        name,
        role: m.role,
        address: m.address.into_inner(),
        source,
    })
}

/// Staff addresses; alerts come from the first mailbox unless `from` is given.
fn check_staff(
    staff: RawStaff,
    mailboxes: &[MailboxConfig],
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> StaffConfig {
    let staff_from = staff.from.map(|f| {
        if !looks_like_address(f.get_ref()) {
            errors.push(loc.at(
                f.span().start,
                format!("staff.from: {:?} is not an e-mail address", f.get_ref()),
            ));
        }
        f.into_inner()
    });
    StaffConfig {
        alerts: staff_addresses(staff.alerts, loc, errors),
        mpass: staff_addresses(staff.mpass, loc, errors),
        msign: staff_addresses(staff.msign, loc, errors),
        from: staff_from
            .or_else(|| mailboxes.first().map(|m| m.address.clone()))
            .unwrap_or_default(),
    }
}

/// The addresses of one staff list that look like addresses; the rest are errors.
fn staff_addresses(
    list: Vec<Spanned<String>>,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> Vec<String> {
    list.into_iter()
        .filter_map(|a| {
            if looks_like_address(a.get_ref()) {
                Some(a.into_inner())
            } else {
                errors.push(loc.at(
                    a.span().start,
                    format!("staff: {:?} is not an e-mail address", a.get_ref()),
                ));
                None
            }
        })
        .collect()
}

/// Limits and counts that must be positive, and the log filter. Serde keeps
/// no position for these plain numbers, so the errors name the whole file.
fn check_numbers(
    limits: &RawLimits,
    outbox: &RawOutbox,
    log: &RawLog,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) {
    if limits.max_nesting_depth == 0 || limits.max_message_bytes == 0 {
        errors.push(loc.whole("limits: max_message_bytes and max_nesting_depth must be positive"));
    }
    if outbox.max_attempts == Some(0) {
        errors.push(loc.whole("outbox.max_attempts must be at least 1"));
    }
    if outbox.give_up_after_hours == 0
        || limits.analysis_budget_secs == 0
        || limits.analysis_memory_mb == 0
    {
        errors.push(loc.whole(
            "outbox.give_up_after_hours, limits.analysis_budget_secs and limits.analysis_memory_mb must be positive",
        ));
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log.level) {
        errors.push(loc.whole(format!("log.level {:?}: {e}", log.level)));
    }
}

/// The outbox's timings; failures are reported to the staff alert list.
fn outbox_config(outbox: &RawOutbox, staff: &StaffConfig) -> OutboxConfig {
    OutboxConfig {
        max_attempts: outbox.max_attempts,
        retry_base: Duration::from_secs(outbox.retry_base_secs.max(1)),
        retry_max: Duration::from_secs(outbox.retry_max_secs.max(1)),
        give_up_after: Duration::from_secs(outbox.give_up_after_hours * 3600),
        alert_after: Duration::from_secs(outbox.alert_after_hours * 3600),
        alert_to: staff.alerts.clone(),
        alert_from: staff.from.clone(),
    }
}

fn limits(limits: &RawLimits) -> Limits {
    Limits {
        max_message_bytes: limits.max_message_bytes,
        max_nesting_depth: limits.max_nesting_depth,
        replies_per_recipient_10min: limits.replies_per_recipient_10min,
        replies_per_recipient_day: limits.replies_per_recipient_day,
        analysis_budget: crate::budget::Limits {
            time: Duration::from_secs(limits.analysis_budget_secs),
            memory_bytes: limits.analysis_memory_mb.saturating_mul(1 << 20),
        },
    }
}

// ---- shared by mailbox sources and the transport ----------------------------

/// Complains about each field given that does not belong to `kind`.
fn reject_fields(
    what: &str,
    kind: &str,
    fields: &[(&str, Option<usize>)],
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) {
    for (name, offset) in fields {
        if let Some(offset) = offset {
            errors.push(loc.at(
                *offset,
                format!("{what}: {name} does not apply to kind = \"{kind}\""),
            ));
        }
    }
}

/// The password source of an IMAP or SMTP section.
fn password_source(
    what: &str,
    env: Option<Spanned<String>>,
    file: Option<Spanned<PathBuf>>,
    inline: Option<&Spanned<toml::Value>>,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> Option<PasswordSource> {
    if let Some(v) = inline {
        errors.push(loc.at(
            v.span().start,
            format!("{what}: passwords are never read from the config; use password_env or password_file"),
        ));
    }
    match (env, file) {
        (Some(e), None) if !e.get_ref().is_empty() => Some(PasswordSource::Env(e.into_inner())),
        (Some(e), None) => {
            errors.push(loc.at(e.span().start, format!("{what}: password_env is empty")));
            None
        }
        (None, Some(f)) => Some(PasswordSource::File(f.into_inner())),
        (Some(_), Some(f)) => {
            errors.push(loc.at(
                f.span().start,
                format!("{what}: give password_env or password_file, not both"),
            ));
            None
        }
        (None, None) => None,
    }
}

fn check_tls(
    what: &str,
    tls: Option<&Spanned<TlsMode>>,
    allow_plaintext: bool,
    host: &Spanned<String>,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) {
    if let Some(tls) = tls
        && *tls.get_ref() == TlsMode::Plain
    {
        if !allow_plaintext {
            errors.push(loc.at(
                tls.span().start,
                format!("{what}: tls = \"plain\" needs allow_plaintext = true"),
            ));
        } else if !is_loopback_host(host.get_ref()) {
            errors.push(loc.at(
                host.span().start,
                format!(
                    "{what}: plaintext is only allowed to a loopback host, not {}",
                    host.get_ref()
                ),
            ));
        }
    }
}

fn span_of<T>(v: &Option<Spanned<T>>) -> Option<usize> {
    v.as_ref().map(|s| s.span().start)
}

fn key_span(text_span: usize, present: bool) -> Option<usize> {
    present.then_some(text_span)
}

// ---- mailbox sources --------------------------------------------------------

impl RawSource {
    /// The source of the mailbox `what`, by its `kind`.
    pub(super) fn validate(
        self,
        what: &str,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<SourceConfig> {
        let kind_at = self.kind.span().start;
        match self.kind.get_ref().as_str() {
            "maildir" => self.maildir(what, kind_at, loc, errors),
            "imap" => self.imap(what, kind_at, loc, errors),
            other => {
                errors.push(loc.at(
                    kind_at,
                    format!("{what}: unknown source kind {other:?}; use \"imap\" or \"maildir\""),
                ));
                None
            }
        }
    }

    fn maildir(
        self,
        what: &str,
        kind_at: usize,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<SourceConfig> {
        reject_fields(
            what,
            "maildir",
            &[
                ("host", span_of(&self.host)),
                ("tls", span_of(&self.tls)),
                ("username", span_of(&self.username)),
                ("password_env", span_of(&self.password_env)),
                ("password_file", span_of(&self.password_file)),
                ("idle_timeout_secs", span_of(&self.idle_timeout_secs)),
                ("port", key_span(kind_at, self.port.is_some())),
                ("folder", key_span(kind_at, self.folder.is_some())),
            ],
            loc,
            errors,
        );
        let Some(path) = self.path else {
            errors.push(loc.at(kind_at, format!("{what}: a maildir source needs path")));
            return None;
        };
        Some(SourceConfig::Maildir(MaildirConfig {
            path: path.into_inner(),
            poll_interval: Duration::from_secs(self.poll_interval_secs.unwrap_or(30).max(1)),
        }))
    }

    fn imap(
        self,
        what: &str,
        kind_at: usize,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<SourceConfig> {
        reject_fields(what, "imap", &[("path", span_of(&self.path))], loc, errors);
        let Some(host) = self.host else {
            errors.push(loc.at(kind_at, format!("{what}: an imap source needs host")));
            return None;
        };
        let Some(username) = self.username else {
            errors.push(loc.at(kind_at, format!("{what}: an imap source needs username")));
            return None;
        };
        check_tls(
            what,
            self.tls.as_ref(),
            self.allow_plaintext.unwrap_or(false),
            &host,
            loc,
            errors,
        );
        let idle_secs =
            idle_timeout_secs(what, self.idle_timeout_secs.as_ref(), kind_at, loc, errors);
        let password = password_source(
            what,
            self.password_env,
            self.password_file,
            self.password.as_ref(),
            loc,
            errors,
        );
        if password.is_none() && self.password.is_none() {
            errors.push(loc.at(
                kind_at,
                format!("{what}: IMAP needs password_env or password_file"),
            ));
        }
        let folders = ImapFolders::check(
            what,
            [self.folder, self.processed_folder, self.quarantine_folder],
            kind_at,
            loc,
            errors,
        );
        let tls = self.tls.map_or(TlsMode::Implicit, Spanned::into_inner);
        Some(SourceConfig::Imap(Box::new(ImapConfig {
            port: self
                .port
                .unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 }),
            host: host.into_inner(),
            tls,
            ca_file: self.ca_file,
            username: username.into_inner(),
            password: password?,
            folder: folders.folder,
            processed_folder: folders.processed,
            quarantine_folder: folders.quarantine,
            private_key_folder: self
                .private_key_folder
                .unwrap_or_else(|| "Quarantine/PrivateKeys".into()),
            idle: self.idle.unwrap_or(true),
            idle_timeout: Duration::from_secs(idle_secs.clamp(1, 25 * 60)),
            poll_interval: Duration::from_secs(self.poll_interval_secs.unwrap_or(60).max(1)),
            command_timeout: Duration::from_secs(self.command_timeout_secs.unwrap_or(60).max(1)),
        })))
    }
}

/// How long one IDLE may last: RFC 2177 servers may drop an IDLE after 30
/// minutes of silence, so at most 25 (the default).
fn idle_timeout_secs(
    what: &str,
    given: Option<&Spanned<u64>>,
    kind_at: usize,
    loc: &Locator,
    errors: &mut Vec<ConfigError>,
) -> u64 {
    let secs = given.map_or(25 * 60, |s| *s.get_ref());
    if secs == 0 || secs > 25 * 60 {
        errors.push(loc.at(
            given.map_or(kind_at, |s| s.span().start),
            format!("{what}: idle_timeout_secs must be between 1 and 1500 (25 minutes)"),
        ));
    }
    secs
}

/// The three IMAP folders a mail moves between; they must differ, or a mail
/// would be fetched again after it was filed.
struct ImapFolders {
    folder: String,
    processed: String,
    quarantine: String,
}

impl ImapFolders {
    /// `given` is folder, processed_folder and quarantine_folder as written.
    fn check(
        what: &str,
        given: [Option<String>; 3],
        kind_at: usize,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> ImapFolders {
        let [folder, processed, quarantine] = given;
        let folder = folder.unwrap_or_else(|| "INBOX".into());
        let processed = processed.unwrap_or_else(|| "Processed".into());
        let quarantine = quarantine.unwrap_or_else(|| "Quarantine".into());
        if folder == processed || folder == quarantine || processed == quarantine {
            errors.push(loc.at(
                kind_at,
                format!("{what}: folder, processed_folder and quarantine_folder must all differ"),
            ));
        }
        ImapFolders {
            folder,
            processed,
            quarantine,
        }
    }
}

// ---- the outgoing transport -------------------------------------------------

impl RawTransport {
    pub(super) fn validate(
        self,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<TransportConfig> {
        let kind_at = self.kind.span().start;
        match self.kind.get_ref().as_str() {
            "file" => self.file(kind_at, loc, errors),
            "smtp" => self.smtp(kind_at, loc, errors),
            other => {
                errors.push(loc.at(
                    kind_at,
                    format!("transport: unknown kind {other:?}; use \"file\" or \"smtp\""),
                ));
                None
            }
        }
    }

    fn file(
        self,
        kind_at: usize,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<TransportConfig> {
        reject_fields(
            "transport",
            "file",
            &[
                ("host", span_of(&self.host)),
                ("tls", span_of(&self.tls)),
                ("username", span_of(&self.username)),
                ("password_env", span_of(&self.password_env)),
                ("password_file", span_of(&self.password_file)),
            ],
            loc,
            errors,
        );
        match self.dir {
            Some(dir) => Some(TransportConfig::File {
                dir: dir.into_inner(),
            }),
            None => {
                errors.push(loc.at(kind_at, "transport: a file transport needs dir"));
                None
            }
        }
    }

    fn smtp(
        self,
        kind_at: usize,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<TransportConfig> {
        let what = "transport";
        reject_fields(what, "smtp", &[("dir", span_of(&self.dir))], loc, errors);
        let Some(host) = self.host else {
            errors.push(loc.at(kind_at, "transport: an smtp transport needs host"));
            return None;
        };
        check_tls(
            what,
            self.tls.as_ref(),
            self.allow_plaintext.unwrap_or(false),
            &host,
            loc,
            errors,
        );
        let password = password_source(
            what,
            self.password_env,
            self.password_file,
            self.password.as_ref(),
            loc,
            errors,
        );
        if self.username.is_some() != password.is_some() && self.password.is_none() {
            errors.push(loc.at(
                kind_at,
                "transport: username and a password source go together",
            ));
        }
        let tls = self.tls.map_or(TlsMode::Starttls, Spanned::into_inner);
        Some(TransportConfig::Smtp(SmtpConfig {
            port: self.port.unwrap_or(match tls {
                TlsMode::Implicit => 465,
                TlsMode::Starttls => 587,
                TlsMode::Plain => 25,
            }),
            host: host.into_inner(),
            tls,
            ca_file: self.ca_file,
            username: self.username.map(Spanned::into_inner),
            password,
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(30).max(1)),
            pool_size: self.pool_size.unwrap_or(4).max(1),
        }))
    }
}
