//! Sources: where mail comes from. One task per mailbox: IMAP (IDLE with a
//! polling fallback) or a local Maildir. Each hands raw mail to the
//! [`Pipeline`] and acknowledges it on the
//! server — moved to Processed or Quarantine — only after the commit.

pub mod imap;
pub mod maildir;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::config::{MailboxConfig, SourceConfig};
use crate::decide::Disposition;
use crate::pipeline::Pipeline;

/// Tries on one mail, while the database answers, before it is set aside so
/// that one poison mail cannot stall a mailbox.
pub const POISON_ATTEMPTS: u32 = 5;

/// Consecutive failures per mail, kept by a mailbox task across passes.
#[derive(Debug, Default)]
pub struct Failures {
    counts: HashMap<String, u32>,
}

impl Failures {
    /// Counts a failure of `key`; true once it has failed often enough.
    fn record(&mut self, key: &str) -> bool {
        let n = self.counts.entry(key.to_string()).or_default();
        *n += 1;
        *n >= POISON_ATTEMPTS
    }

    fn clear(&mut self, key: &str) {
        self.counts.remove(key);
    }
}

/// Hands one mail to the pipeline and says where it goes on the server.
/// An error leaves the mail untouched for the next pass. A mail that keeps
/// failing is set aside (recorded, then quarantined) — but only when that
/// record can be written: when the database is the trouble, setting aside
/// fails too, and the mail stays where it is until the database is back.
pub async fn intake(
    pipeline: &Pipeline,
    mailbox: &MailboxConfig,
    key: &str,
    raw: Vec<u8>,
    size: usize,
    failures: &mut Failures,
) -> anyhow::Result<Disposition> {
    let raw = Arc::new(raw);
    match pipeline.process(mailbox, key, raw.clone(), size).await {
        Ok(report) => {
            failures.clear(key);
            Ok(report.disposition)
        }
        // A database that cannot be used says nothing against the mail.
        Err(e) if crate::store::is_unavailable(&e) => Err(e),
        Err(e) if failures.record(key) => {
            let disposition = pipeline
                .set_aside(mailbox, key, raw, size, &e)
                .await
                .with_context(|| format!("{e:#}; setting the mail aside failed too"))?;
            failures.clear(key);
            Ok(disposition)
        }
        Err(e) => Err(e),
    }
}

pub use crate::util::Backoff;

/// Watches one mailbox until cancelled.
pub async fn run(pipeline: Arc<Pipeline>, mailbox: MailboxConfig, cancel: CancellationToken) {
    match mailbox.source.clone() {
        SourceConfig::Imap(cfg) => imap::run(pipeline, mailbox, *cfg, cancel).await,
        SourceConfig::Maildir(cfg) => maildir::run(pipeline, mailbox, cfg, cancel).await,
    }
}

/// Processes everything waiting in one mailbox, then returns (`run --once`).
pub async fn drain(pipeline: &Pipeline, mailbox: &MailboxConfig) -> anyhow::Result<usize> {
    let mut failures = Failures::default();
    let never = CancellationToken::new();
    match &mailbox.source {
        SourceConfig::Imap(cfg) => imap::drain(pipeline, mailbox, cfg, &mut failures).await,
        SourceConfig::Maildir(cfg) => {
            maildir::drain(pipeline, mailbox, cfg, &mut failures, &never).await
        }
    }
}

/// Sleeps, or returns false at once when cancelled.
pub async fn pause(cancel: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pause_honours_cancellation() {
        // pause() honours cancellation without waiting out the delay.
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert!(!pause(&cancel, Duration::from_secs(3600)).await);
        let fresh = CancellationToken::new();
        assert!(pause(&fresh, Duration::from_secs(3600)).await);
    }
}
