//! The daemon: one task per mailbox, the outbox worker, the scheduler, and the signals that
//! steer them. Shutdown goes through one `CancellationToken` that every
//! loop races; a mail in flight reaches its commit or stays untouched on
//! the server. SIGHUP reloads the rules folder (an invalid one is refused).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::outbox::{self, Transport};
use crate::pipeline::Pipeline;
use crate::rules::Rules;
use crate::source::{self, Backoff};
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
        let store = Store::open_with(&config.database_url, config.database_busy_timeout).await?;
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
    /// returns. Every mailbox is tried even when one fails. Replies go out
    /// while the mailboxes are still being drained, as in the daemon; what
    /// is left is sent at the end.
    pub async fn run_once(&self) -> anyhow::Result<()> {
        let drained = CancellationToken::new();
        let sending = outbox::run(
            self.store.clone(),
            self.transport.clone(),
            self.config.outbox.clone(),
            self.pipeline.outbox_wake.clone(),
            drained.clone(),
        );
        let mailboxes = async {
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
            drained.cancel();
            failures
        };
        let (failures, sent_meanwhile) = tokio::join!(mailboxes, sending);
        let sent = outbox::drain(&self.store, &self.transport, &self.config.outbox)
            .await
            .context("sending the outbox")?;
        tracing::info!(
            sent = sent_meanwhile.sent + sent.sent,
            retrying = sent.retrying,
            failed = sent_meanwhile.failed + sent.failed,
            "outbox drained"
        );
        anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
        Ok(())
    }

    /// Runs until SIGTERM or SIGINT. Every task is supervised: one that
    /// fails or panics is started again with jittered backoff while the
    /// others keep running. An end for any other reason than a signal is an
    /// error, so the exit code tells the service manager.
    pub async fn run(&self) -> anyhow::Result<()> {
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for m in &self.config.mailboxes {
            let (pipeline, mailbox, c) = (self.pipeline.clone(), m.clone(), cancel.clone());
            tasks.spawn(supervise(
                format!("mailbox {}", m.name),
                cancel.clone(),
                move || source::run(pipeline.clone(), mailbox.clone(), c.clone()),
            ));
        }
        let (store, transport, config, wake, c) = (
            self.store.clone(),
            self.transport.clone(),
            self.config.outbox.clone(),
            self.pipeline.outbox_wake.clone(),
            cancel.clone(),
        );
        tasks.spawn(supervise("outbox".into(), cancel.clone(), move || {
            let worker = outbox::run(
                store.clone(),
                transport.clone(),
                config.clone(),
                wake.clone(),
                c.clone(),
            );
            async move {
                worker.await;
            }
        }));
        let (pipeline, c) = (self.pipeline.clone(), cancel.clone());
        tasks.spawn(supervise("scheduler".into(), cancel.clone(), move || {
            crate::schedule::run(pipeline.clone(), c.clone())
        }));
        tracing::info!(
            mailboxes = self.config.mailboxes.len(),
            "egov-intake running"
        );

        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let ended = loop {
            tokio::select! {
                _ = term.recv() => break None,
                _ = int.recv() => break None,
                _ = hup.recv() => match self.pipeline.reload_rules() {
                    Ok(()) => tracing::info!("rules reloaded"),
                    Err(e) => tracing::error!(errors = %e, "rules NOT reloaded; keeping the previous set"),
                },
                // A supervisor returns only when cancelled: this is a bug.
                Some(done) = tasks.join_next() => break Some(format!("{done:?}")),
            }
        };
        tracing::info!("shutting down");
        cancel.cancel();
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a task failed during shutdown");
            }
        }
        match ended {
            None => Ok(()),
            Some(how) => anyhow::bail!("a supervisor ended unexpectedly: {how}"),
        }
    }
}

/// Least time a task must have run for its restart delay to start again
/// from the shortest: a task that keeps failing at once backs off to a minute.
const HEALTHY_RUN: Duration = Duration::from_secs(300);

/// Runs the task `start` makes until `cancel`, starting it again whenever
/// it ends or panics before that.
async fn supervise<F, Fut>(name: String, cancel: CancellationToken, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut backoff = Backoff::reconnect();
    loop {
        let began = tokio::time::Instant::now();
        let outcome = tokio::spawn(start()).await;
        if cancel.is_cancelled() {
            return;
        }
        if began.elapsed() >= HEALTHY_RUN {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        match outcome {
            Ok(()) => {
                tracing::error!(task = %name, restart_in = ?delay, "task ended on its own; restarting")
            }
            Err(e) => {
                tracing::error!(task = %name, error = %e, restart_in = ?delay, "task died; restarting")
            }
        }
        if !source::pause(&cancel, delay).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_restarted_until_cancelled() {
        let cancel = CancellationToken::new();
        let starts = Arc::new(AtomicUsize::new(0));
        let counter = starts.clone();
        let c = cancel.clone();
        let supervisor = tokio::spawn(supervise("test".into(), cancel.clone(), move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            async move {
                if n < 3 {
                    panic!("task failure {n}");
                }
                c.cancelled().await;
            }
        }));
        // Three failures back off about 1 + 2 + 4 s (±25 %).
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 4);
        assert!(!supervisor.is_finished());
        cancel.cancel();
        supervisor.await.unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 4);
    }
}
