//! Configuration: one TOML file naming the database, the mailboxes, the
//! outgoing transport, the staff addresses, the limits and the rules folder.
//!
//! Loading is split into [`load`] (reads a file) and [`parse_str`] (pure), so
//! every check is testable without touching the disk. Every error carries the
//! file and line it is about. Passwords never live in this file: a source
//! names an environment variable or a file to read them from, and
//! [`Secret`] keeps the value out of `Debug`, logs and errors.
//!
//! This file holds the checked types the rest of the daemon reads. The way
//! there lives in the children: `raw` (the file as written, with its
//! defaults), `check` (raw to checked, every problem with file and line),
//! `locator` (byte offsets to lines, the error types) and `secret` (where
//! passwords come from and how they are kept out of sight).

mod check;
mod locator;
mod raw;
mod secret;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use check::{is_loopback_host, looks_like_address};
pub use locator::{ConfigError, ConfigErrors, Locator};
pub use secret::{PasswordSource, Secret};

use raw::RawConfig;

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
    /// servicii@: certificates, serials and production confirmations for
    /// every service; the service comes from the content and the case.
    Services,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Office => "office",
            Role::Mpass => "mpass",
            Role::Msign => "msign",
            Role::Services => "services",
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
