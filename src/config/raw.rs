//! The configuration file as written: serde structs that mirror the TOML,
//! keep the positions (`Spanned`) that errors must point at, and supply the
//! defaults for what may be left out. Nothing here judges a value; that is
//! `check`'s job.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{LogFormat, PrivateKeyAction, Role, TlsMode};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) database: RawDatabase,
    #[serde(default)]
    pub(super) rules: RawRules,
    #[serde(default)]
    pub(super) spool: RawSpool,
    #[serde(default)]
    pub(super) mailbox: Vec<Spanned<RawMailbox>>,
    pub(super) transport: Spanned<RawTransport>,
    #[serde(default)]
    pub(super) outbox: RawOutbox,
    #[serde(default)]
    pub(super) staff: RawStaff,
    #[serde(default)]
    pub(super) limits: RawLimits,
    #[serde(default)]
    pub(super) reply: RawReply,
    #[serde(default)]
    pub(super) log: RawLog,
    #[serde(default)]
    pub(super) private_keys: RawPrivateKeys,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivateKeys {
    #[serde(default)]
    pub(super) action: PrivateKeyAction,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) url: Spanned<String>,
    #[serde(default = "default_busy_timeout")]
    pub(super) busy_timeout_secs: u64,
}

fn default_busy_timeout() -> u64 {
    30
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    #[serde(default = "default_rules_dir")]
    pub(super) dir: PathBuf,
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
pub(super) struct RawSpool {
    #[serde(default = "default_spool_dir")]
    pub(super) dir: PathBuf,
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
pub(super) struct RawMailbox {
    pub(super) name: Spanned<String>,
    pub(super) role: Role,
    pub(super) address: Spanned<String>,
    pub(super) source: Spanned<RawSource>,
}

/// A mailbox source as written. Flat rather than a tagged enum, because
/// serde's tagged enums lose the positions that errors must point at; which
/// fields fit which `kind` is checked in `check`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) kind: Spanned<String>,
    // maildir
    pub(super) path: Option<Spanned<PathBuf>>,
    // imap
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<u16>,
    pub(super) tls: Option<Spanned<TlsMode>>,
    pub(super) allow_plaintext: Option<bool>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) username: Option<Spanned<String>>,
    pub(super) password_env: Option<Spanned<String>>,
    pub(super) password_file: Option<Spanned<PathBuf>>,
    /// Present only to give a clear error: passwords never live here.
    pub(super) password: Option<Spanned<toml::Value>>,
    pub(super) folder: Option<String>,
    pub(super) processed_folder: Option<String>,
    pub(super) quarantine_folder: Option<String>,
    pub(super) private_key_folder: Option<String>,
    pub(super) idle: Option<bool>,
    pub(super) idle_timeout_secs: Option<Spanned<u64>>,
    // both
    pub(super) poll_interval_secs: Option<u64>,
    pub(super) command_timeout_secs: Option<u64>,
}

/// The outgoing transport as written (flat for the same reason).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransport {
    pub(super) kind: Spanned<String>,
    // file
    pub(super) dir: Option<Spanned<PathBuf>>,
    // smtp
    pub(super) host: Option<Spanned<String>>,
    pub(super) port: Option<u16>,
    pub(super) tls: Option<Spanned<TlsMode>>,
    pub(super) allow_plaintext: Option<bool>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) username: Option<Spanned<String>>,
    pub(super) password_env: Option<Spanned<String>>,
    pub(super) password_file: Option<Spanned<PathBuf>>,
    pub(super) password: Option<Spanned<toml::Value>>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) pool_size: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutbox {
    pub(super) max_attempts: Option<u32>,
    #[serde(default = "default_retry_base")]
    pub(super) retry_base_secs: u64,
    #[serde(default = "default_retry_max")]
    pub(super) retry_max_secs: u64,
    #[serde(default = "default_give_up_hours")]
    pub(super) give_up_after_hours: u64,
    #[serde(default = "default_alert_hours")]
    pub(super) alert_after_hours: u64,
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
pub(super) struct RawStaff {
    pub(super) from: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) alerts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) mpass: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) msign: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    #[serde(default = "default_max_bytes")]
    pub(super) max_message_bytes: usize,
    #[serde(default = "default_depth")]
    pub(super) max_nesting_depth: usize,
    #[serde(default = "default_per_10min")]
    pub(super) replies_per_recipient_10min: u32,
    #[serde(default = "default_per_day")]
    pub(super) replies_per_recipient_day: u32,
    #[serde(default = "default_analysis_budget")]
    pub(super) analysis_budget_secs: u64,
    #[serde(default = "default_analysis_memory")]
    pub(super) analysis_memory_mb: usize,
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
pub(super) struct RawReply {
    #[serde(default = "default_mid_domain")]
    pub(super) message_id_domain: String,
    #[serde(default = "default_from_name")]
    pub(super) from_name: String,
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
pub(super) struct RawLog {
    #[serde(default)]
    pub(super) format: LogFormat,
    #[serde(default = "default_level")]
    pub(super) level: String,
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
