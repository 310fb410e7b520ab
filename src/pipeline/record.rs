//! Recording one analysed mail inside a transaction somebody else owns:
//! its history read, the thread and loop guard applied, a case number
//! allocated, decide and compose run, and every row written. The caller
//! begins and ends the transaction — one per mail ([`Pipeline::record`]),
//! or one per batch with a savepoint per mail ([`Pipeline::process_batch`]).
//!
//! [`Pipeline::record`]: super::Pipeline
//! [`Pipeline::process_batch`]: super::Pipeline::process_batch

use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Analysis, certificates, new_case_number, stored_copy};
use crate::config::MailboxConfig;
use crate::decide::{self, Decision, Input, Settings, Threading};
use crate::store::{Record, Recorded, Tx};

/// One analysed mail on its way into the database.
pub(super) struct Recording<'a> {
    pub(super) mailbox: &'a MailboxConfig,
    pub(super) source_key: &'a str,
    pub(super) raw: &'a [u8],
    pub(super) analysis: &'a Analysis,
    pub(super) spool_path: Option<&'a Path>,
    pub(super) now: DateTime<Utc>,
}

/// What recording one mail decided and wrote.
pub(super) struct Done {
    pub(super) threading: Threading,
    pub(super) decision: Decision,
    pub(super) recorded: Recorded,
}

impl Recording<'_> {
    /// Decides and writes the mail in `tx`. The caller has made sure, in
    /// the same transaction, that the delivery was not recorded before.
    pub(super) async fn record_in(
        &self,
        tx: &mut Tx,
        settings: &Settings<'_>,
    ) -> anyhow::Result<Done> {
        let Recording {
            mailbox,
            source_key,
            raw,
            analysis,
            spool_path,
            now,
        } = *self;
        super::record_failpoint(analysis)?;
        let spool_text = spool_path.map(|p| p.display().to_string());
        let certificates = certificates(&analysis.inspection);
        let serial = analysis.understanding.request.certificate_serial.as_deref();
        let history = tx
            .history(&analysis.mail, &certificates, serial, now)
            .await?;
        let threading = decide::thread(&analysis.mail, &history);
        let suppression = decide::loop_guard::check(&analysis.mail, &history, settings);
        let new_case_number =
            new_case_number(tx, analysis, &threading, suppression.as_ref(), now).await?;
        let input = Input {
            mailbox,
            mail: &analysis.mail,
            inspection: &analysis.inspection,
            understanding: &analysis.understanding,
            rejection: analysis.rejection.as_ref(),
            threading: &threading,
            history: &history,
            suppression: suppression.as_ref(),
            new_case_number: new_case_number.as_deref(),
            spool_path: spool_text.as_deref(),
            kept_copy: analysis.kept_copy(),
            now,
        };
        let mut decision = decide::decide(&input, settings)?;
        decision.outgoing = crate::compose::compose(&input, settings, &decision)?;
        let recorded = tx
            .record(Record {
                mailbox: &mailbox.name,
                source_key,
                mail: &analysis.mail,
                inspection: &analysis.inspection,
                threading: &threading,
                decision: &decision,
                stored: stored_copy(&analysis.stored, raw),
                spool_path: spool_text.as_deref(),
                environment: analysis.understanding.environment,
                now,
            })
            .await?;
        Ok(Done {
            threading,
            decision,
            recorded,
        })
    }
}
