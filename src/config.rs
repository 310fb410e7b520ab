//! Configuration: one TOML file naming the database, the mailboxes, the
//! outgoing transport, the staff addresses, the limits and the rules folder.
//!
//! Loading is split into [`load`] (reads a file) and [`parse_str`] (pure), so
//! every check is testable without touching the disk. Every error carries the
//! file and line it is about. Passwords never live in this file: a source
//! names an environment variable or a file to read them from, and
//! [`Secret`] keeps the value out of `Debug`, logs and errors.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration came from (for messages).
    pub path: PathBuf,
    pub database_url: String,
    /// How long a write waits for a database locked by another writer.
    pub database_busy_timeout: Duration,
    pub rules_dir: PathBuf,
    /// Where copies of quarantined mail are kept on disk.
    pub spool_dir: PathBuf,
    pub mailboxes: Vec<MailboxConfig>,
    pub transport: TransportConfig,
    pub outbox: OutboxConfig,
    pub staff: StaffConfig,
    pub limits: Limits,
    pub reply: ReplyConfig,
    pub log: LogConfig,
    pub private_keys: PrivateKeyAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Office,
    Mpass,
    Msign,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Office => "office",
            Role::Mpass => "mpass",
            Role::Msign => "msign",
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailboxConfig {
    pub name: String,
    pub role: Role,
    /// The address beneficiaries write to; replies are sent from it.
    pub address: String,
    pub source: SourceConfig,
}

#[derive(Debug, Clone)]
pub enum SourceConfig {
    Imap(Box<ImapConfig>),
    Maildir(MaildirConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connect, then upgrade with STARTTLS before authenticating.
    Starttls,
    /// No TLS at all: only with `allow_plaintext = true` and a loopback host.
    Plain,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password: PasswordSource,
    pub folder: String,
    pub processed_folder: String,
    pub quarantine_folder: String,
    /// Restricted folder for mail that held a private key; `/` separates
    /// levels and becomes the server's own hierarchy delimiter.
    pub private_key_folder: String,
    /// Use IDLE when the server offers it; otherwise poll.
    pub idle: bool,
    /// How long one IDLE may last before it is re-issued (at most 25 min:
    /// RFC 2177 servers may drop an IDLE after 30 min of silence).
    pub idle_timeout: Duration,
    pub poll_interval: Duration,
    /// Upper bound for every single IMAP command and for connecting.
    pub command_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct MaildirConfig {
    pub path: PathBuf,
    /// Rescan `new/` at least this often, in case a file-system event is missed.
    pub poll_interval: Duration,
}

#[derive(Debug, Clone)]
pub enum TransportConfig {
    /// Write each outgoing mail as an `.eml` file into a folder.
    File {
        dir: PathBuf,
    },
    Smtp(SmtpConfig),
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
    pub timeout: Duration,
    pub pool_size: u32,
}

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Attempts before a row is given up; `None`: only time counts.
    pub max_attempts: Option<u32>,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a row is retried before it is given up (an MTA tries for days).
    pub give_up_after: Duration,
    /// After this long failing, staff are alerted once while retries go on.
    pub alert_after: Duration,
    /// Who hears about mail that cannot be sent, and from whom.
    pub alert_to: Vec<String>,
    pub alert_from: String,
}

#[derive(Debug, Clone, Default)]
pub struct StaffConfig {
    /// Sender address of staff alerts.
    pub from: String,
    /// Who gets alerts that concern no particular team.
    pub alerts: Vec<String>,
    pub mpass: Vec<String>,
    pub msign: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    /// Deepest nesting of multiparts and attached messages that is parsed.
    pub max_nesting_depth: usize,
    pub replies_per_recipient_10min: u32,
    pub replies_per_recipient_day: u32,
    /// Wall time and memory the analysis of one mail may take; past either
    /// the mail is recorded with what is known and quarantined.
    pub analysis_budget: crate::budget::Limits,
}

#[derive(Debug, Clone)]
pub struct ReplyConfig {
    /// Right-hand side of the Message-IDs we generate; also how we recognise our own mail.
    pub message_id_domain: String,
    /// Display name on replies, e.g. "Agenția de Guvernare Electronică".
    pub from_name: String,
}

/// What happens on the server to a mail that held a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PrivateKeyAction {
    /// Move it to the restricted private-key quarantine folder.
    #[default]
    Quarantine,
    /// Delete it from the server.
    Expunge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// Where a password comes from. The value itself is only read by [`Secret::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

/// A password in memory. Its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn resolve(source: &PasswordSource) -> anyhow::Result<Secret> {
        match source {
            PasswordSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret(v)),
                _ => anyhow::bail!("environment variable {var} (password) is not set"),
            },
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read password file {}: {e}", path.display())
                })?;
                // A trailing newline is an editor's, not part of the password.
                let value = text.trim_end_matches(['\r', '\n']).to_string();
                anyhow::ensure!(
                    !value.is_empty(),
                    "password file {} is empty",
                    path.display()
                );
                Ok(Secret(value))
            }
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One problem in a configuration or rules file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file.display(), self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            _ => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found in one pass, so an operator fixes them all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Maps byte offsets in a file's text to 1-based line and column.
pub struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Locator { file, text }
    }

    pub fn at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        let before = crate::util::prefix(self.text, offset);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        ConfigError {
            file: self.file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    pub fn whole(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error. Only the message and span are used: the
    /// toml crate's own rendering quotes the offending line, which could be a
    /// password somebody put where it does not belong.
    pub fn toml(&self, e: &toml::de::Error) -> ConfigError {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => self.at(span.start, message),
            None => self.whole(message),
        }
    }
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        }])
    })?;
    parse_str(&text, path)
}

/// Parses and validates configuration text; `file` only names it in errors.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigErrors> {
    let loc = Locator::new(file, text);
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigErrors(vec![loc.toml(&e)]))?;
    let mut errors = Vec::new();
    let config = raw.validate(file, &loc, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

impl Config {
    /// Checks that every password the config points to can be read, without
    /// showing any of them. Used by `check` and at start-up.
    pub fn check_secrets(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut try_source = |what: &str, s: &PasswordSource| {
            if let Err(e) = Secret::resolve(s) {
                problems.push(format!("{what}: {e}"));
            }
        };
        for m in &self.mailboxes {
            if let SourceConfig::Imap(imap) = &m.source {
                try_source(&format!("mailbox {}", m.name), &imap.password);
            }
        }
        if let TransportConfig::Smtp(smtp) = &self.transport
            && let Some(p) = &smtp.password
        {
            try_source("transport", p);
        }
        problems
    }

    /// Addresses of staff concerned by a role's cases (the team, else the general list).
    pub fn staff_for(&self, role: Option<Role>) -> Vec<String> {
        let team = match role {
            Some(Role::Mpass) => &self.staff.mpass,
            Some(Role::Msign) => &self.staff.msign,
            _ => &self.staff.alerts,
        };
        if team.is_empty() {
            self.staff.alerts.clone()
        } else {
            team.clone()
        }
    }
}

// ---- raw, as written in the file -------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: RawDatabase,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    spool: RawSpool,
    #[serde(default)]
    mailbox: Vec<Spanned<RawMailbox>>,
    transport: Spanned<RawTransport>,
    #[serde(default)]
    outbox: RawOutbox,
    #[serde(default)]
    staff: RawStaff,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    reply: RawReply,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    private_keys: RawPrivateKeys,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPrivateKeys {
    #[serde(default)]
    action: PrivateKeyAction,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Spanned<String>,
    #[serde(default = "default_busy_timeout")]
    busy_timeout_secs: u64,
}

fn default_busy_timeout() -> u64 {
    30
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default = "default_rules_dir")]
    dir: PathBuf,
}

impl Default for RawRules {
    fn default() -> Self {
        RawRules {
            dir: default_rules_dir(),
        }
    }
}

fn default_rules_dir() -> PathBuf {
    PathBuf::from("rules")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpool {
    #[serde(default = "default_spool_dir")]
    dir: PathBuf,
}

impl Default for RawSpool {
    fn default() -> Self {
        RawSpool {
            dir: default_spool_dir(),
        }
    }
}

fn default_spool_dir() -> PathBuf {
    PathBuf::from("var/spool")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailbox {
    name: Spanned<String>,
    role: Role,
    address: Spanned<String>,
    source: Spanned<RawSource>,
}

/// A mailbox source as written. Flat rather than a tagged enum, because
/// serde's tagged enums lose the positions that errors must point at; which
/// fields fit which `kind` is checked in [`RawSource::validate`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    kind: Spanned<String>,
    // maildir
    path: Option<Spanned<PathBuf>>,
    // imap
    host: Option<Spanned<String>>,
    port: Option<u16>,
    tls: Option<Spanned<TlsMode>>,
    allow_plaintext: Option<bool>,
    ca_file: Option<PathBuf>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<PathBuf>>,
    /// Present only to give a clear error: passwords never live here.
    password: Option<Spanned<toml::Value>>,
    folder: Option<String>,
    processed_folder: Option<String>,
    quarantine_folder: Option<String>,
    private_key_folder: Option<String>,
    idle: Option<bool>,
    idle_timeout_secs: Option<Spanned<u64>>,
    // both
    poll_interval_secs: Option<u64>,
    command_timeout_secs: Option<u64>,
}

/// The outgoing transport as written (flat for the same reason).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransport {
    kind: Spanned<String>,
    // file
    dir: Option<Spanned<PathBuf>>,
    // smtp
    host: Option<Spanned<String>>,
    port: Option<u16>,
    tls: Option<Spanned<TlsMode>>,
    allow_plaintext: Option<bool>,
    ca_file: Option<PathBuf>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password_file: Option<Spanned<PathBuf>>,
    password: Option<Spanned<toml::Value>>,
    timeout_secs: Option<u64>,
    pool_size: Option<u32>,
}

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
    at: usize,
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
        (None, None) => {
            let _ = at;
            None
        }
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

impl RawSource {
    fn validate(
        self,
        what: &str,
        loc: &Locator,
        errors: &mut Vec<ConfigError>,
    ) -> Option<SourceConfig> {
        let kind_at = self.kind.span().start;
        match self.kind.get_ref().as_str() {
            "maildir" => {
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
                    poll_interval: Duration::from_secs(
                        self.poll_interval_secs.unwrap_or(30).max(1),
                    ),
                }))
            }
            "imap" => {
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
                let idle_secs = self
                    .idle_timeout_secs
                    .as_ref()
                    .map_or(25 * 60, |s| *s.get_ref());
                if idle_secs == 0 || idle_secs > 25 * 60 {
                    errors.push(loc.at(
                        span_of(&self.idle_timeout_secs).unwrap_or(kind_at),
                        format!(
                            "{what}: idle_timeout_secs must be between 1 and 1500 (25 minutes)"
                        ),
                    ));
                }
                let password = password_source(
                    what,
                    self.password_env,
                    self.password_file,
                    self.password.as_ref(),
                    kind_at,
                    loc,
                    errors,
                );
                if password.is_none() && self.password.is_none() {
                    errors.push(loc.at(
                        kind_at,
                        format!("{what}: IMAP needs password_env or password_file"),
                    ));
                }
                let folder = self.folder.unwrap_or_else(|| "INBOX".into());
                let processed_folder = self.processed_folder.unwrap_or_else(|| "Processed".into());
                let quarantine_folder = self
                    .quarantine_folder
                    .unwrap_or_else(|| "Quarantine".into());
                if folder == processed_folder
                    || folder == quarantine_folder
                    || processed_folder == quarantine_folder
                {
                    errors.push(loc.at(
                        kind_at,
                        format!(
                            "{what}: folder, processed_folder and quarantine_folder must all differ"
                        ),
                    ));
                }
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
                    folder,
                    processed_folder,
                    quarantine_folder,
                    private_key_folder: self
                        .private_key_folder
                        .unwrap_or_else(|| "Quarantine/PrivateKeys".into()),
                    idle: self.idle.unwrap_or(true),
                    idle_timeout: Duration::from_secs(idle_secs.clamp(1, 25 * 60)),
                    poll_interval: Duration::from_secs(
                        self.poll_interval_secs.unwrap_or(60).max(1),
                    ),
                    command_timeout: Duration::from_secs(
                        self.command_timeout_secs.unwrap_or(60).max(1),
                    ),
                })))
            }
            other => {
                errors.push(loc.at(
                    kind_at,
                    format!("{what}: unknown source kind {other:?}; use \"imap\" or \"maildir\""),
                ));
                None
            }
        }
    }
}

impl RawTransport {
    fn validate(self, loc: &Locator, errors: &mut Vec<ConfigError>) -> Option<TransportConfig> {
        let what = "transport";
        let kind_at = self.kind.span().start;
        match self.kind.get_ref().as_str() {
            "file" => {
                reject_fields(
                    what,
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
            "smtp" => {
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
                    kind_at,
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
            other => {
                errors.push(loc.at(
                    kind_at,
                    format!("transport: unknown kind {other:?}; use \"file\" or \"smtp\""),
                ));
                None
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbox {
    max_attempts: Option<u32>,
    #[serde(default = "default_retry_base")]
    retry_base_secs: u64,
    #[serde(default = "default_retry_max")]
    retry_max_secs: u64,
    #[serde(default = "default_give_up_hours")]
    give_up_after_hours: u64,
    #[serde(default = "default_alert_hours")]
    alert_after_hours: u64,
}

impl Default for RawOutbox {
    fn default() -> Self {
        RawOutbox {
            max_attempts: None,
            retry_base_secs: default_retry_base(),
            retry_max_secs: default_retry_max(),
            give_up_after_hours: default_give_up_hours(),
            alert_after_hours: default_alert_hours(),
        }
    }
}

/// Five days, as long as a mail server keeps a message queued.
fn default_give_up_hours() -> u64 {
    120
}
fn default_alert_hours() -> u64 {
    4
}
fn default_retry_base() -> u64 {
    30
}
fn default_retry_max() -> u64 {
    3600
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    from: Option<Spanned<String>>,
    #[serde(default)]
    alerts: Vec<Spanned<String>>,
    #[serde(default)]
    mpass: Vec<Spanned<String>>,
    #[serde(default)]
    msign: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default = "default_max_bytes")]
    max_message_bytes: usize,
    #[serde(default = "default_depth")]
    max_nesting_depth: usize,
    #[serde(default = "default_per_10min")]
    replies_per_recipient_10min: u32,
    #[serde(default = "default_per_day")]
    replies_per_recipient_day: u32,
    #[serde(default = "default_analysis_budget")]
    analysis_budget_secs: u64,
    #[serde(default = "default_analysis_memory")]
    analysis_memory_mb: usize,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_message_bytes: default_max_bytes(),
            max_nesting_depth: default_depth(),
            replies_per_recipient_10min: default_per_10min(),
            replies_per_recipient_day: default_per_day(),
            analysis_budget_secs: default_analysis_budget(),
            analysis_memory_mb: default_analysis_memory(),
        }
    }
}

fn default_analysis_budget() -> u64 {
    10
}
fn default_analysis_memory() -> usize {
    256
}

fn default_max_bytes() -> usize {
    50 * 1024 * 1024
}
fn default_depth() -> usize {
    20
}
fn default_per_10min() -> u32 {
    3
}
fn default_per_day() -> u32 {
    20
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    #[serde(default = "default_mid_domain")]
    message_id_domain: String,
    #[serde(default = "default_from_name")]
    from_name: String,
}

impl Default for RawReply {
    fn default() -> Self {
        RawReply {
            message_id_domain: default_mid_domain(),
            from_name: default_from_name(),
        }
    }
}

fn default_mid_domain() -> String {
    "intake.egov.md".into()
}
fn default_from_name() -> String {
    "Agenția de Guvernare Electronică".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default)]
    format: LogFormat,
    #[serde(default = "default_level")]
    level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: LogFormat::Text,
            level: default_level(),
        }
    }
}

fn default_level() -> String {
    "info".into()
}

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

impl RawConfig {
    fn validate(self, file: &Path, loc: &Locator, errors: &mut Vec<ConfigError>) -> Config {
        let url = self.database.url.get_ref().clone();
        if !url.starts_with("sqlite:") {
            errors.push(loc.at(
                self.database.url.span().start,
                format!(
                    "database.url: only sqlite: URLs are supported by this build, not {:?}",
                    url.split(':').next().unwrap_or_default()
                ),
            ));
        }

        let mut mailboxes = Vec::new();
        let mut names = std::collections::HashSet::new();
        if self.mailbox.is_empty() {
            errors.push(loc.whole("no [[mailbox]] is configured"));
        }
        for spanned in self.mailbox {
            let m = spanned.into_inner();
            let name = m.name.get_ref().clone();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                errors.push(loc.at(
                    m.name.span().start,
                    format!(
                        "mailbox name {name:?} must be non-empty letters, digits, '-', '_' or '.'"
                    ),
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
            if let Some(source) = m.source.into_inner().validate(&what, loc, errors) {
                mailboxes.push(MailboxConfig {
                    name,
                    role: m.role,
                    address: m.address.into_inner(),
                    source,
                });
            }
        }

        let transport =
            self.transport
                .into_inner()
                .validate(loc, errors)
                .unwrap_or(TransportConfig::File {
                    dir: PathBuf::new(),
                });

        let addresses = |list: Vec<Spanned<String>>, errors: &mut Vec<ConfigError>| {
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
                .collect::<Vec<_>>()
        };
        let staff_from = self.staff.from.map(|f| {
            if !looks_like_address(f.get_ref()) {
                errors.push(loc.at(
                    f.span().start,
                    format!("staff.from: {:?} is not an e-mail address", f.get_ref()),
                ));
            }
            f.into_inner()
        });
        let staff = StaffConfig {
            alerts: addresses(self.staff.alerts, errors),
            mpass: addresses(self.staff.mpass, errors),
            msign: addresses(self.staff.msign, errors),
            from: staff_from
                .or_else(|| mailboxes.first().map(|m| m.address.clone()))
                .unwrap_or_default(),
        };

        if self.limits.max_nesting_depth == 0 || self.limits.max_message_bytes == 0 {
            errors.push(
                loc.whole("limits: max_message_bytes and max_nesting_depth must be positive"),
            );
        }
        if self.outbox.max_attempts == Some(0) {
            errors.push(loc.whole("outbox.max_attempts must be at least 1"));
        }
        if self.outbox.give_up_after_hours == 0
            || self.limits.analysis_budget_secs == 0
            || self.limits.analysis_memory_mb == 0
        {
            errors.push(loc.whole(
                "outbox.give_up_after_hours, limits.analysis_budget_secs and limits.analysis_memory_mb must be positive",
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            errors.push(loc.whole(format!("log.level {:?}: {e}", self.log.level)));
        }

        Config {
            path: file.to_path_buf(),
            database_url: url,
            database_busy_timeout: Duration::from_secs(self.database.busy_timeout_secs),
            rules_dir: self.rules.dir,
            spool_dir: self.spool.dir,
            mailboxes,
            transport,
            outbox: OutboxConfig {
                max_attempts: self.outbox.max_attempts,
                retry_base: Duration::from_secs(self.outbox.retry_base_secs.max(1)),
                retry_max: Duration::from_secs(self.outbox.retry_max_secs.max(1)),
                give_up_after: Duration::from_secs(self.outbox.give_up_after_hours * 3600),
                alert_after: Duration::from_secs(self.outbox.alert_after_hours * 3600),
                alert_to: staff.alerts.clone(),
                alert_from: staff.from.clone(),
            },
            staff,
            limits: Limits {
                max_message_bytes: self.limits.max_message_bytes,
                max_nesting_depth: self.limits.max_nesting_depth,
                replies_per_recipient_10min: self.limits.replies_per_recipient_10min,
                replies_per_recipient_day: self.limits.replies_per_recipient_day,
                analysis_budget: crate::budget::Limits {
                    time: Duration::from_secs(self.limits.analysis_budget_secs),
                    memory_bytes: self.limits.analysis_memory_mb.saturating_mul(1 << 20),
                },
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[database]
url = "sqlite://var/intake.db"

[[mailbox]]
name = "office"
role = "office"
address = "office@egov.md"
source = { kind = "maildir", path = "var/mail/office" }

[transport]
kind = "file"
dir = "var/outbox"
"#;

    fn parse(text: &str) -> Result<Config, ConfigErrors> {
        parse_str(text, Path::new("test.toml"))
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.mailboxes.len(), 1);
        assert_eq!(c.mailboxes[0].role, Role::Office);
        assert_eq!(c.limits.max_message_bytes, 50 * 1024 * 1024);
        assert_eq!(c.limits.replies_per_recipient_10min, 3);
        assert_eq!(c.rules_dir, PathBuf::from("rules"));
        assert_eq!(c.staff.from, "office@egov.md");
        assert!(matches!(c.transport, TransportConfig::File { .. }));
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = MINIMAL.replace("kind = \"file\"", "kind = \"file\"\ncolour = 1");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].line, Some(13), "{e}");
        assert!(e.to_string().starts_with("test.toml:13:"), "{e}");
        assert!(e.0[0].message.contains("colour"), "{e}");
    }

    #[test]
    fn inline_password_is_refused_and_never_echoed() {
        let text = r#"
[database]
url = "sqlite::memory:"

[[mailbox]]
name = "mpass"
role = "mpass"
address = "support.mpass@egov.md"
[mailbox.source]
kind = "imap"
host = "imap.egov.md"
username = "support.mpass@egov.md"
password = "hunter2-very-secret"

[transport]
kind = "file"
dir = "out"
"#;
        let e = parse(text).unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("password_env or password_file"), "{shown}");
        assert_eq!(e.0[0].line, Some(13));
    }

    #[test]
    fn toml_syntax_error_does_not_quote_the_line() {
        let text = "[database]\nurl = \"sqlite::memory:\"\npassword_env = hunter2secret\n";
        let shown = parse(text).unwrap_err().to_string();
        assert!(shown.starts_with("test.toml:3:"), "{shown}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
    }

    #[test]
    fn plaintext_needs_opt_in_and_loopback() {
        let imap = |host: &str, allow: bool| {
            format!(
                r#"
[database]
url = "sqlite::memory:"
[[mailbox]]
name = "m"
role = "msign"
address = "support.msign@egov.md"
[mailbox.source]
kind = "imap"
host = "{host}"
tls = "plain"
allow_plaintext = {allow}
username = "u"
password_env = "X"
[transport]
kind = "file"
dir = "o"
"#
            )
        };
        assert!(parse(&imap("127.0.0.1", true)).is_ok());
        assert!(parse(&imap("localhost", true)).is_ok());
        let e = parse(&imap("127.0.0.1", false)).unwrap_err();
        assert!(e.to_string().contains("allow_plaintext"), "{e}");
        let e = parse(&imap("imap.egov.md", true)).unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        assert_eq!(e.0[0].line, Some(10));
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let text = MINIMAL
            .replace("office@egov.md", "not-an-address")
            .replace("sqlite://var/intake.db", "mysql://x");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
    }

    #[test]
    fn secrets_resolve_from_file_and_never_debug_print() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let s = Secret::resolve(&PasswordSource::File(f)).unwrap();
        assert_eq!(s.expose(), "s3cret");
        assert!(!format!("{s:?}").contains("s3cret"));
        let e =
            Secret::resolve(&PasswordSource::Env("EGOV_INTAKE_SURELY_UNSET".into())).unwrap_err();
        assert!(e.to_string().contains("EGOV_INTAKE_SURELY_UNSET"));
    }
}
