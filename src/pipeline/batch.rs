//! Group commit: the mails a source fetched together are analysed side by
//! side (one parser thread a core) and recorded in ONE transaction, each
//! under its own savepoint. A backlog then costs one fsync a batch instead
//! of one a mail, and the pages every mail touches (indexes, the case
//! sequence) are written once. A mail that fails is undone alone; the
//! others commit. When the database itself fails, nothing of the batch is
//! committed and nothing is acknowledged — the source fetches it again.
//! A crash before the commit repeats the whole batch on the next run,
//! idempotently: every delivery is looked up before it is recorded.

use std::sync::Arc;

use chrono::Utc;

use super::{Done, Pipeline, Recording, failpoint};
use crate::config::MailboxConfig;
use crate::decide::Disposition;

/// One mail a source hands in: its key on the source, its bytes (only the
/// header of a mail over the size limit) and its full size.
pub struct Delivery {
    pub key: String,
    pub raw: Arc<Vec<u8>>,
    pub size: usize,
}

impl Pipeline {
    /// Processes `deliveries` and commits them together. The outer error
    /// means nothing was committed (the database or the disk failed); else
    /// there is one outcome a delivery, in order: how to acknowledge it, or
    /// why it failed alone (it was undone; the others are committed).
    pub async fn process_batch(
        &self,
        mailbox: &MailboxConfig,
        deliveries: &[Delivery],
    ) -> anyhow::Result<Vec<anyhow::Result<Disposition>>> {
        let now = Utc::now();
        let keys: Vec<&str> = deliveries.iter().map(|d| d.key.as_str()).collect();
        let before = self.store.deliveries(&mailbox.name, &keys).await?;
        let fresh: Vec<&Delivery> = deliveries
            .iter()
            .filter(|d| !before.contains_key(&d.key))
            .collect();
        let parallel = std::thread::available_parallelism().map_or(1, usize::from);
        let mut analyses = Vec::with_capacity(fresh.len());
        for group in fresh.chunks(parallel) {
            let running: Vec<_> = group
                .iter()
                .map(|d| self.analyse(mailbox, d.raw.clone(), d.size, now))
                .collect();
            analyses.extend(futures::future::join_all(running).await);
        }
        let mut spools = Vec::with_capacity(fresh.len());
        for (d, analysis) in fresh.iter().zip(&analyses) {
            spools.push(self.spool(mailbox, &d.raw, analysis, true).await?);
        }

        let rules = self.rules();
        let settings = self.settings(&rules, mailbox);
        let mut tx = self.store.begin().await?;
        // Recorded by another task while these were parsed.
        let mut known = tx.deliveries(&mailbox.name, &keys).await?;
        let mut done: Vec<(&str, anyhow::Result<Done>)> = Vec::with_capacity(fresh.len());
        tx.savepoint().await?;
        for ((d, analysis), spool) in fresh.iter().zip(&analyses).zip(&spools) {
            if known.contains_key(&d.key) {
                continue;
            }
            let mail = Recording {
                mailbox,
                source_key: &d.key,
                raw: &d.raw,
                analysis,
                spool_path: spool.as_deref(),
                now,
            };
            match crate::util::guarded(mail.record_in(&mut tx, &settings)).await {
                Ok(recorded) => {
                    tx.next_savepoint().await?;
                    done.push((&d.key, Ok(recorded)));
                }
                // The database cannot be used: nothing of the batch holds.
                Err(e) if crate::store::is_unavailable(&e) => return Err(e),
                Err(e) => {
                    tx.undo_to_savepoint().await?;
                    done.push((&d.key, Err(e)));
                }
            }
        }
        tx.commit().await?;
        failpoint("after-commit");
        let committed: Vec<(&str, &Done)> = done
            .iter()
            .filter_map(|(key, r)| r.as_ref().ok().map(|d| (*key, d)))
            .collect();
        self.committed(mailbox, &committed);

        known.extend(before);
        let mut outcomes: std::collections::HashMap<&str, anyhow::Result<Disposition>> = done
            .into_iter()
            .map(|(key, r)| (key, r.map(|d| d.decision.disposition)))
            .collect();
        Ok(deliveries
            .iter()
            .map(|d| match outcomes.remove(d.key.as_str()) {
                Some(outcome) => outcome,
                None => known.remove(&d.key).ok_or_else(|| {
                    anyhow::anyhow!("{} was neither recorded nor found recorded", d.key)
                }),
            })
            .collect())
    }
}
