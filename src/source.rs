//! Sources: where mail comes from. One task per mailbox: IMAP (IDLE with a
//! polling fallback) or a local Maildir. Each hands raw mail to the
//! [`Pipeline`] and acknowledges it on the
//! server — moved to Processed or Quarantine — only after the commit.

pub mod batch;
pub mod imap;
pub mod maildir;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::config::{MailboxConfig, SourceConfig};
use crate::decide::Disposition;
use crate::pipeline::{Delivery, Pipeline};

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

/// Hands a batch of mail to the pipeline, committed together, and says
/// where each goes on the server: `None` leaves a mail untouched for the
/// next pass. The error, when there is one, is the first reason a mail was
/// left; what was committed is acknowledged all the same.
///
/// A mail that keeps failing is set aside (recorded, then quarantined) —
/// but only when that record can be written: when the database is the
/// trouble, the whole batch fails and every mail stays where it is until
/// the database is back.
pub async fn intake(
    pipeline: &Pipeline,
    mailbox: &MailboxConfig,
    batch: Vec<Delivery>,
    failures: &mut Failures,
) -> (Vec<Option<Disposition>>, Option<anyhow::Error>) {
    let outcomes = match pipeline.process_batch(mailbox, &batch).await {
        Ok(outcomes) => outcomes,
        Err(e) => return (vec![None; batch.len()], Some(e)),
    };
    let mut first_error = None;
    let mut acks = Vec::with_capacity(batch.len());
    for (delivery, outcome) in batch.into_iter().zip(outcomes) {
        let ack = match outcome {
            Ok(disposition) => {
                failures.clear(&delivery.key);
                Ok(disposition)
            }
            Err(e) => settle(pipeline, mailbox, delivery, e, failures).await,
        };
        match ack {
            Ok(disposition) => acks.push(Some(disposition)),
            Err(e) => {
                first_error.get_or_insert(e);
                acks.push(None);
            }
        }
    }
    (acks, first_error)
}

/// A mail that failed alone: counted, and set aside once it has failed
/// [`POISON_ATTEMPTS`] times.
async fn settle(
    pipeline: &Pipeline,
    mailbox: &MailboxConfig,
    delivery: Delivery,
    e: anyhow::Error,
    failures: &mut Failures,
) -> anyhow::Result<Disposition> {
    if !failures.record(&delivery.key) {
        return Err(e);
    }
    let Delivery { key, raw, size } = delivery;
    let disposition = pipeline
        .set_aside(mailbox, &key, raw, size, &e)
        .await
        .with_context(|| format!("{e:#}; setting the mail aside failed too"))?;
    failures.clear(&key);
    Ok(disposition)
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
