//! Passwords for IMAP and SMTP: the config only says where one comes from (an
//! environment variable or a file), and [`Secret`] holds the value without
//! ever showing it in `Debug`, logs or errors, and wipes it from memory
//! when dropped (`secrecy`).

use std::path::PathBuf;

use secrecy::{ExposeSecret as _, SecretString};

use super::{Config, SourceConfig, TransportConfig};

/// Where a password comes from. The value itself is only read by [`Secret::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

/// A password in memory. Its `Debug` never shows the value, it has no
/// `Display` (printing it takes [`Secret::expose`] on purpose), and its
/// memory is zeroed when it is dropped.
#[derive(Clone, Debug)]
pub struct Secret(SecretString);

impl Secret {
    pub fn resolve(source: &PasswordSource) -> anyhow::Result<Secret> {
        match source {
            PasswordSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret(v.into())),
                _ => anyhow::bail!("environment variable {var} (password) is not set"),
            },
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read password file {}: {e}", path.display())
                })?;
                // A trailing newline is an editor's, not part of the password.
                let value: SecretString = text.trim_end_matches(['\r', '\n']).into();
                anyhow::ensure!(
                    !value.expose_secret().is_empty(),
                    "password file {} is empty",
                    path.display()
                );
                Ok(Secret(value))
            }
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
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
}
