//! Maildir source, the embedded default: mail delivered into `new/` is
//! processed, then moved to `cur/` with the Seen flag — or into the
//! `.Quarantine` sub-Maildir — only after the commit. `new/` is watched with
//! inotify and rescanned every `poll_interval` in case an event is missed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use notify::Watcher as _;
use tokio_util::sync::CancellationToken;

use super::{Backoff, Failures};
use crate::config::{MailboxConfig, MaildirConfig, PrivateKeyAction};
use crate::decide::Disposition;
use crate::pipeline::{Delivery, Pipeline};

/// Sub-Maildir (Maildir++ naming) that quarantined mail moves to.
pub const QUARANTINE: &str = ".Quarantine";
/// Restricted sub-Maildir for mail that held a private key.
pub const PRIVATE_KEYS: &str = ".Quarantine.PrivateKeys";

pub async fn run(
    pipeline: Arc<Pipeline>,
    mailbox: MailboxConfig,
    cfg: MaildirConfig,
    cancel: CancellationToken,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    // Keep the watcher alive for the life of the task.
    let _watcher = match watch(&cfg.path, tx) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(mailbox = %mailbox.name, error = %format!("{e:#}"), "no file-system events; polling only");
            None
        }
    };
    let mut backoff = Backoff::reconnect();
    let mut failures = Failures::default();
    loop {
        let wait = match drain(&pipeline, &mailbox, &cfg, &mut failures, &cancel).await {
            Ok(_) => {
                backoff.reset();
                cfg.poll_interval
            }
            Err(e) => {
                tracing::error!(mailbox = %mailbox.name, error = %format!("{e:#}"), "maildir pass failed");
                backoff.next_delay()
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = rx.recv() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

fn watch(
    path: &Path,
    tx: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    ensure_maildir(path)?;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Only a complete file is mail: one renamed in (how delivery agents
        // do it) or one closed after writing (a plain copy into new/). A
        // file merely created may still be empty.
        use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
        let complete = |kind: &EventKind| {
            matches!(
                kind,
                EventKind::Access(AccessKind::Close(AccessMode::Write))
                    | EventKind::Modify(ModifyKind::Name(_))
            )
        };
        if event.is_ok_and(|e| complete(&e.kind)) {
            // A full channel already holds a wake-up; one is enough.
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(&path.join("new"), notify::RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

pub fn ensure_maildir(path: &Path) -> anyhow::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        let dir = path.join(sub);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// A quarantine Maildir: only the daemon's user may read it.
fn ensure_private_maildir(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    ensure_maildir(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", path.display()))
}

/// One pass over `new/`, oldest first, in batches committed together.
/// Stops after a batch in which a mail was left (an error: it stays where
/// it is for the next pass, the batch's others are acknowledged), and
/// between two batches when cancelled.
pub async fn drain(
    pipeline: &Pipeline,
    mailbox: &MailboxConfig,
    cfg: &MaildirConfig,
    failures: &mut Failures,
    cancel: &CancellationToken,
) -> anyhow::Result<usize> {
    ensure_maildir(&cfg.path)?;
    let mut names: Vec<String> = std::fs::read_dir(cfg.path.join("new"))
        .with_context(|| format!("reading {}", cfg.path.join("new").display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    // Maildir names start with the delivery time, so name order is arrival order.
    names.sort();
    let new = cfg.path.join("new");
    let mut sizes = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match std::fs::metadata(new.join(name)) {
            Ok(m) => sizes.push((i as u32, m.len() as usize)),
            // Taken by another reader meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", new.join(name).display()));
            }
        }
    }
    let max = pipeline.config.limits.max_message_bytes;
    let mut done = 0;
    for planned in super::batch::plan(&sizes, max) {
        if cancel.is_cancelled() {
            break;
        }
        let mut batch = Vec::with_capacity(planned.len());
        let mut taken = Vec::with_capacity(planned.len());
        for p in &planned {
            let name = &names[p.id as usize];
            let path = new.join(name);
            // Over the limit only the head is read: the pipeline only needs its header.
            let raw = match read_at_most(&path, p.size, max).await {
                Ok(raw) => raw,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            };
            let unique = name.split(':').next().unwrap_or(name);
            batch.push(Delivery {
                key: format!("maildir:{unique}"),
                raw: Arc::new(raw),
                size: p.size,
            });
            taken.push((name, unique));
        }
        let (dispositions, failed) = super::intake(pipeline, mailbox, batch, failures).await;
        for ((name, unique), disposition) in taken.into_iter().zip(dispositions) {
            if let Some(disposition) = disposition {
                acknowledge(
                    &cfg.path,
                    name,
                    unique,
                    &disposition,
                    pipeline.config.private_keys,
                )?;
                done += 1;
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
    Ok(done)
}

async fn read_at_most(path: &Path, size: usize, max: usize) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    if size <= max {
        return tokio::fs::read(path).await;
    }
    let mut head = Vec::with_capacity(crate::pipeline::OVERSIZE_HEAD);
    tokio::fs::File::open(path)
        .await?
        .take(crate::pipeline::OVERSIZE_HEAD as u64)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// Moves a processed mail out of `new/` (or deletes it, for a private key
/// when so configured).
fn acknowledge(
    root: &Path,
    name: &str,
    unique: &str,
    disposition: &Disposition,
    private_keys: PrivateKeyAction,
) -> anyhow::Result<()> {
    let from = root.join("new").join(name);
    // Seen when done with; quarantined mail is left unseen so staff notice it.
    let (folder, flags) = match disposition {
        Disposition::Processed => (None, ":2,S"),
        Disposition::Quarantine(_) => (Some(QUARANTINE), ":2,"),
        Disposition::PrivateKey => match private_keys {
            PrivateKeyAction::Quarantine => (Some(PRIVATE_KEYS), ":2,"),
            PrivateKeyAction::Expunge => {
                return std::fs::remove_file(&from)
                    .with_context(|| format!("deleting {}", from.display()));
            }
        },
    };
    let target_root: PathBuf = match folder {
        Some(f) => {
            let q = root.join(f);
            ensure_private_maildir(&q)?;
            q
        }
        None => root.to_path_buf(),
    };
    let to = target_root.join("cur").join(format!("{unique}{flags}"));
    std::fs::rename(&from, &to)
        .with_context(|| format!("moving {} to {}", from.display(), to.display()))
}
