//! The daemon: one task per mailbox, the outbox worker, the scheduler, and the signals that
//! steer them. Shutdown goes through one `CancellationToken` that every
//! loop races; a mail in flight reaches its commit or stays untouched on
//! the server. SIGHUP reloads the rules folder (an invalid one is refused).

use std::sync::Arc;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::outbox::{self, Transport};
use crate::pipeline::Pipeline;
use crate::rules::Rules;
use crate::source;
use crate::store::Store;

/// Everything a running instance needs, opened and checked.
pub struct Instance {
    pub config: Arc<Config>,
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub transport: Arc<Transport>,
}

impl Instance {
    pub async fn open(config: Config) -> anyhow::Result<Instance> {
        let rules = Rules::load(&config.rules_dir)?;
        let secrets = config.check_secrets();
        anyhow::ensure!(secrets.is_empty(), "{}", secrets.join("\n"));
        let store = Store::open(&config.database_url).await?;
        let transport = Arc::new(Transport::from_config(&config.transport)?);
        let config = Arc::new(config);
        let pipeline = Arc::new(Pipeline::new(store.clone(), config.clone(), rules));
        Ok(Instance {
            config,
            store,
            pipeline,
            transport,
        })
    }

    /// Processes everything waiting in every mailbox, sends the outbox, and
    /// returns. Every mailbox is tried even when one fails.
    pub async fn run_once(&self) -> anyhow::Result<()> {
        let mut failures = Vec::new();
        for m in &self.config.mailboxes {
            match source::drain(&self.pipeline, m).await {
                Ok(n) => tracing::info!(mailbox = %m.name, mails = n, "mailbox drained"),
                Err(e) => {
                    tracing::error!(mailbox = %m.name, error = %format!("{e:#}"), "mailbox failed");
                    failures.push(format!("mailbox {}: {e:#}", m.name));
                }
            }
        }
        let sent = outbox::drain(&self.store, &self.transport, &self.config.outbox)
            .await
            .context("sending the outbox")?;
        tracing::info!(
            sent = sent.sent,
            retrying = sent.retrying,
            failed = sent.failed,
            "outbox drained"
        );
        anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
        Ok(())
    }

    /// Runs until SIGTERM or SIGINT.
    pub async fn run(&self) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for m in &self.config.mailboxes {
            tasks.spawn(source::run(
                self.pipeline.clone(),
                m.clone(),
                cancel.clone(),
            ));
        }
        tasks.spawn(outbox::run(
            self.store.clone(),
            self.transport.clone(),
            self.config.outbox.clone(),
            self.pipeline.outbox_wake.clone(),
            cancel.clone(),
        ));
        tasks.spawn(crate::schedule::run(self.pipeline.clone(), cancel.clone()));
        tracing::info!(
            mailboxes = self.config.mailboxes.len(),
            "egov-intake running"
        );

        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => match self.pipeline.reload_rules() {
                    Ok(()) => tracing::info!("rules reloaded"),
                    Err(e) => tracing::error!(errors = %e, "rules NOT reloaded; keeping the previous set"),
                },
                Some(done) = tasks.join_next() => {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "a task died; stopping");
                        break;
                    }
                }
            }
        }
        tracing::info!("shutting down");
        cancel.cancel();
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a task failed during shutdown");
            }
        }
        Ok(())
    }
}
