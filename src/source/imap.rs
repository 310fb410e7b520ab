//! IMAP source: one task per mailbox, holding an `Option<Session>` and
//! reconnecting with jittered backoff. On each connection it processes every
//! mail in the folder (processed mail has been moved out, so what is left is
//! work), then waits in IDLE — or polls, on servers without IDLE — and
//! fetches what is newer than the stored (UIDVALIDITY, last UID).
//!
//! Mail is fetched in batches ([`batch`]: UID sets, a byte budget) and
//! acknowledged per batch, only after each mail's commit: one `\Seen` and
//! one move to the Processed folder, or a move to Quarantine (left unseen),
//! for all of the batch's mail that goes there. Every command runs under
//! `command_timeout`.

mod batch;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::batch::Planned;
use super::{Backoff, Failures};
use crate::config::{ImapConfig, MailboxConfig, PrivateKeyAction, Secret, TlsMode};
use crate::decide::Disposition;
use crate::pipeline::{Delivery, Pipeline};

/// Longest a single IDLE may last (RFC 2177: servers may drop an IDLE
/// after 30 minutes, and NAT boxes forget quiet connections sooner). The
/// configured `idle_timeout_secs` may only be shorter.
pub const IDLE_TIMEOUT_MAX: Duration = Duration::from_secs(25 * 60);

/// Longest an IDLE waits before the connection is checked: DONE and the
/// re-sync that follows must be answered within `command_timeout`, so a
/// server that stopped answering (or a connection a middlebox dropped
/// silently) is noticed within this plus one command timeout, not at the
/// end of a 25-minute IDLE.
pub const LIVENESS_CHECK: Duration = Duration::from_secs(4 * 60);

/// TCP keepalive on the IMAP connection: the kernel notices a dead peer
/// even while no command is outstanding.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const KEEPALIVE_RETRIES: u32 = 4;

/// Anything an IMAP session can run over: TLS, or plain TCP on loopback.
pub trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapStream for T {}

type ImapSession = Session<Box<dyn ImapStream>>;

/// The mailbox a task watches, and what its mail goes through.
#[derive(Clone, Copy)]
struct Watch<'a> {
    pipeline: &'a Pipeline,
    mailbox: &'a MailboxConfig,
    cfg: &'a ImapConfig,
}

/// What the server can do, read once per connection.
#[derive(Debug, Clone, Default)]
struct Caps {
    idle: bool,
    mv: bool,
    uidplus: bool,
    /// `private_key_folder` in the server's delimiter.
    private_key_folder: String,
}

/// A folder path written with `/` in the config, in the server's own
/// hierarchy delimiter.
fn server_folder(name: &str, delimiter: &str) -> String {
    name.split('/').collect::<Vec<_>>().join(delimiter)
}

pub async fn run(
    pipeline: Arc<Pipeline>,
    mailbox: MailboxConfig,
    cfg: ImapConfig,
    cancel: CancellationToken,
) {
    let mut backoff = Backoff::reconnect();
    let mut session: Option<(ImapSession, Caps)> = None;
    // The first sync on a new connection looks at the whole folder, to pick
    // up mail committed but not acknowledged before a crash or a lost
    // connection; later ones only at what is newer than the last UID.
    let mut full = true;
    let mut failures = Failures::default();
    let w = Watch {
        pipeline: &pipeline,
        mailbox: &mailbox,
        cfg: &cfg,
    };
    loop {
        if cancel.is_cancelled() {
            if let Some((mut s, _)) = session.take() {
                let _ = timeout(cfg.command_timeout, s.logout()).await;
            }
            return;
        }
        let (s, caps) = match session.take() {
            Some(s) => s,
            None => match connect(&cfg).await {
                Ok(s) => {
                    tracing::info!(mailbox = %mailbox.name, host = %cfg.host, idle = s.1.idle, "connected");
                    full = true;
                    s
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(mailbox = %mailbox.name, error = %format!("{e:#}"), retry_in = ?delay, "cannot connect");
                    if !super::pause(&cancel, delay).await {
                        return;
                    }
                    continue;
                }
            },
        };
        match serve(w, s, &caps, full, &mut failures, &cancel).await {
            Ok(s) => {
                backoff.reset();
                full = false;
                session = Some((s, caps));
            }
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(mailbox = %mailbox.name, error = %format!("{e:#}"), retry_in = ?delay, "connection lost, reconnecting");
                if !super::pause(&cancel, delay).await {
                    return;
                }
            }
        }
    }
}

/// One round on a live session: sync, then wait for news (IDLE or poll).
async fn serve(
    w: Watch<'_>,
    mut s: ImapSession,
    caps: &Caps,
    full: bool,
    failures: &mut Failures,
    cancel: &CancellationToken,
) -> anyhow::Result<ImapSession> {
    // Mail that arrives while a batch is processed is announced in the
    // middle of other responses, not again in IDLE: look again until a pass
    // finds nothing new, then wait.
    let mut found = sync(w, &mut s, caps, full, failures, Some(cancel)).await?;
    while found > 0 && !cancel.is_cancelled() {
        found = sync(w, &mut s, caps, false, failures, Some(cancel)).await?;
    }
    if cancel.is_cancelled() {
        return Ok(s);
    }
    if caps.idle && w.cfg.idle {
        idle(s, w.cfg, cancel).await
    } else {
        super::pause(cancel, w.cfg.poll_interval).await;
        Ok(s)
    }
}

/// Processes everything waiting, once, then logs out (`run --once`).
pub async fn drain(
    pipeline: &Pipeline,
    mailbox: &MailboxConfig,
    cfg: &ImapConfig,
    failures: &mut Failures,
) -> anyhow::Result<usize> {
    let (mut s, caps) = connect(cfg).await?;
    let w = Watch {
        pipeline,
        mailbox,
        cfg,
    };
    let n = sync(w, &mut s, &caps, true, failures, None).await?;
    let _ = timeout(cfg.command_timeout, s.logout()).await;
    Ok(n)
}

async fn cmd<T, E: Into<anyhow::Error>>(
    cfg: &ImapConfig,
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match timeout(cfg.command_timeout, f).await {
        Ok(r) => r
            .map_err(Into::into)
            .with_context(|| format!("IMAP {what}")),
        Err(_) => bail!("IMAP {what} timed out after {:?}", cfg.command_timeout),
    }
}

async fn connect(cfg: &ImapConfig) -> anyhow::Result<(ImapSession, Caps)> {
    let tcp = open_tcp(cfg).await?;
    let stream = secure(cfg, tcp).await?;
    let mut client = Client::new(stream);
    // After STARTTLS the server sends no second greeting.
    if cfg.tls != TlsMode::Starttls {
        greeting(cfg, &mut client).await?;
    }
    let mut session = login(cfg, client).await?;
    let capabilities = cmd(cfg, "CAPABILITY", session.capabilities()).await?;
    let caps = Caps {
        idle: capabilities.has_str("IDLE"),
        mv: capabilities.has_str("MOVE"),
        uidplus: capabilities.has_str("UIDPLUS"),
        private_key_folder: String::new(),
    };
    let delimiter = delimiter(cfg, &mut session).await?;
    let private_key_folder = server_folder(&cfg.private_key_folder, &delimiter);
    ensure_folders(
        cfg,
        &mut session,
        [
            &cfg.processed_folder,
            &cfg.quarantine_folder,
            &private_key_folder,
        ],
    )
    .await?;
    Ok((
        session,
        Caps {
            private_key_folder,
            ..caps
        },
    ))
}

/// The TCP connection, with keepalive so a dead peer is noticed.
async fn open_tcp(cfg: &ImapConfig) -> anyhow::Result<TcpStream> {
    let tcp = cmd(
        cfg,
        "connect",
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    .with_context(|| format!("{}:{}", cfg.host, cfg.port))?;
    tcp.set_nodelay(true)?;
    socket2::SockRef::from(&tcp).set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(KEEPALIVE_IDLE)
            .with_interval(KEEPALIVE_INTERVAL)
            .with_retries(KEEPALIVE_RETRIES),
    )?;
    Ok(tcp)
}

/// The connection as configured: TLS from the start, upgraded by STARTTLS
/// (which reads the greeting first), or plain.
async fn secure(cfg: &ImapConfig, tcp: TcpStream) -> anyhow::Result<Box<dyn ImapStream>> {
    // async-imap writes a command's tag, text and CRLF apart and flushes
    // after each command: buffered, every command leaves in one segment.
    Ok(match cfg.tls {
        TlsMode::Implicit => Box::new(BufWriter::new(tls(cfg, tcp).await?)),
        TlsMode::Starttls => {
            let mut client = Client::new(tcp);
            greeting(cfg, &mut client).await?;
            cmd(
                cfg,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            Box::new(BufWriter::new(tls(cfg, client.into_inner()).await?))
        }
        TlsMode::Plain => Box::new(BufWriter::new(tcp)),
    })
}

/// Logs in as the configured user; a failure names the user, never the password.
async fn login(
    cfg: &ImapConfig,
    client: Client<Box<dyn ImapStream>>,
) -> anyhow::Result<ImapSession> {
    let password = Secret::resolve(&cfg.password)?;
    match timeout(
        cfg.command_timeout,
        client.login(&cfg.username, password.expose()),
    )
    .await
    {
        Ok(Ok(s)) => Ok(s),
        // The error names the user, never the password.
        Ok(Err((e, _))) => bail!("IMAP login as {} failed: {e}", cfg.username),
        Err(_) => bail!("IMAP login timed out"),
    }
}

/// The hierarchy delimiter: INBOX always exists and carries it (the
/// `LIST "" ""` form meant for this yields no name async-imap keeps).
async fn delimiter(cfg: &ImapConfig, session: &mut ImapSession) -> anyhow::Result<String> {
    let names: Vec<_> = cmd(cfg, "LIST", async {
        session
            .list(Some(""), Some("INBOX"))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    Ok(names
        .first()
        .and_then(|n| n.delimiter())
        .unwrap_or("/")
        .to_string())
}

/// Creates the folders mail is moved into, and checks they exist.
async fn ensure_folders(
    cfg: &ImapConfig,
    session: &mut ImapSession,
    folders: [&String; 3],
) -> anyhow::Result<()> {
    for folder in folders {
        // Fails harmlessly when the folder exists already.
        let _ = timeout(cfg.command_timeout, session.create(folder)).await;
        // A folder we cannot move mail into would stall the mailbox at its
        // first mail: refuse to start instead, and say why.
        let listed: Vec<_> = cmd(cfg, "LIST", async {
            session
                .list(Some(""), Some(folder.as_str()))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if listed.is_empty() {
            bail!(
                "folder {folder:?} does not exist and could not be created \
                 (check its name, the server's namespace prefix and the account's rights)"
            );
        }
    }
    Ok(())
}

async fn greeting<T: ImapStream>(cfg: &ImapConfig, client: &mut Client<T>) -> anyhow::Result<()> {
    match timeout(cfg.command_timeout, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("server closed the connection before its greeting"),
        Ok(Err(e)) => Err(e).context("reading the IMAP greeting"),
        Err(_) => bail!("no IMAP greeting within {:?}", cfg.command_timeout),
    }
}

async fn tls(
    cfg: &ImapConfig,
    tcp: TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = crate::tls::client_config(cfg.ca_file.as_deref())?;
    let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
        .with_context(|| format!("{:?} is not a valid TLS server name", cfg.host))?;
    cmd(
        cfg,
        "TLS handshake",
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
}

/// Processes waiting mail in `cfg.folder`, oldest first: with `full`,
/// everything in it (processed mail was moved out, so what is left is
/// work), else what is newer than the stored (UIDVALIDITY, last UID).
async fn sync(
    w: Watch<'_>,
    s: &mut ImapSession,
    caps: &Caps,
    full: bool,
    failures: &mut Failures,
    cancel: Option<&CancellationToken>,
) -> anyhow::Result<usize> {
    let Watch {
        pipeline,
        mailbox,
        cfg,
    } = w;
    let selected = cmd(cfg, "SELECT", s.select(&cfg.folder)).await?;
    // Without UIDVALIDITY a UID names nothing for sure: refuse rather than guess.
    let Some(uidvalidity) = selected.uid_validity else {
        bail!("the server gave no UIDVALIDITY for {:?}", cfg.folder);
    };
    let stored = pipeline.store.sync_state(&mailbox.name).await?;
    let last = match stored {
        Some((v, last)) if v == uidvalidity => last,
        Some((v, _)) => {
            tracing::warn!(mailbox = %mailbox.name, old = v, new = uidvalidity, "UIDVALIDITY changed: starting over");
            0
        }
        None => 0,
    };
    let full = full || last == 0;
    let query = if full {
        "ALL".to_string()
    } else {
        format!("UID {}:*", last + 1)
    };
    let mut uids: Vec<u32> = cmd(cfg, "UID SEARCH", s.uid_search(&query))
        .await?
        .into_iter()
        // "N:*" always matches the highest UID, even one below N.
        .filter(|uid| full || *uid > last)
        .collect();
    uids.sort_unstable();
    let max_bytes = pipeline.config.limits.max_message_bytes;
    let mut done = 0;
    let mut high = last;
    let cancelled = || cancel.is_some_and(CancellationToken::is_cancelled);
    for chunk in uids.chunks(super::batch::MAX_MAILS) {
        if cancelled() {
            break;
        }
        let sizes = fetch_sizes(cfg, s, chunk).await?;
        for planned in super::batch::plan(&sizes, max_bytes) {
            if cancelled() {
                break;
            }
            let acked = batch_of(w, s, caps, uidvalidity, &planned, failures).await?;
            done += acked.len();
            high = acked.into_iter().fold(high, u32::max);
        }
    }
    if stored != Some((uidvalidity, high)) {
        pipeline
            .store
            .set_sync_state(&mailbox.name, uidvalidity, high)
            .await?;
    }
    Ok(done)
}

/// Fetches, records and acknowledges one planned fetch; the UIDs done.
/// What was committed is acknowledged even when a later mail of the batch
/// fails: the failing one stays for the next pass, and the error returns.
async fn batch_of(
    w: Watch<'_>,
    s: &mut ImapSession,
    caps: &Caps,
    uidvalidity: u32,
    planned: &[Planned],
    failures: &mut Failures,
) -> anyhow::Result<Vec<u32>> {
    let Watch {
        pipeline,
        mailbox,
        cfg,
    } = w;
    let mut raws = fetch_bodies(cfg, s, planned).await?;
    let mut batch = Vec::with_capacity(planned.len());
    let mut uids = Vec::with_capacity(planned.len());
    for p in planned {
        // Expunged by somebody else meanwhile.
        let Some(raw) = raws.remove(&p.id) else {
            continue;
        };
        let key = format!("imap:{}:{uidvalidity}:{}", cfg.folder, p.id);
        batch.push(Delivery {
            key,
            raw: Arc::new(raw),
            size: p.size,
        });
        uids.push(p.id);
    }
    let (dispositions, failed) = super::intake(pipeline, mailbox, batch, failures).await;
    let acks: Vec<(u32, batch::Ack)> = uids
        .into_iter()
        .zip(dispositions)
        .filter_map(|(uid, d)| {
            d.map(|d| (uid, ack_for(cfg, caps, &d, pipeline.config.private_keys)))
        })
        .collect();
    acknowledge(cfg, s, caps, &acks).await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(acks.into_iter().map(|(uid, _)| uid).collect()),
    }
}

/// The sizes of `uids` that still exist, in UID order: one command.
async fn fetch_sizes(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    uids: &[u32],
) -> anyhow::Result<Vec<(u32, usize)>> {
    let set = batch::uid_set(uids);
    let fetched: Vec<_> = cmd(cfg, "UID FETCH size", async {
        s.uid_fetch(&set, "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let mut sizes: Vec<(u32, usize)> = fetched
        .iter()
        .filter_map(|f| Some((f.uid?, f.size? as usize)))
        // A server may add FETCH responses nobody asked for.
        .filter(|(uid, _)| uids.binary_search(uid).is_ok())
        .collect();
    sizes.sort_unstable();
    sizes.dedup_by_key(|(uid, _)| *uid);
    Ok(sizes)
}

/// The planned mails' bytes, without setting \Seen: one command. A mail
/// over the size limit comes alone, and only its header is downloaded.
async fn fetch_bodies(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    planned: &[Planned],
) -> anyhow::Result<HashMap<u32, Vec<u8>>> {
    let uids: Vec<u32> = planned.iter().map(|p| p.id).collect();
    let set = batch::uid_set(&uids);
    let whole = planned.iter().all(|p| p.whole);
    let query = if whole {
        "(UID BODY.PEEK[])"
    } else {
        "(UID BODY.PEEK[HEADER])"
    };
    let fetched: Vec<_> = cmd(cfg, "UID FETCH body", async {
        s.uid_fetch(&set, query)
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let mut raws = HashMap::new();
    for f in &fetched {
        let Some(uid) = f.uid.filter(|u| uids.contains(u)) else {
            continue;
        };
        let bytes = if whole { f.body() } else { f.header() };
        if let Some(bytes) = bytes {
            raws.insert(uid, bytes.to_vec());
        }
    }
    Ok(raws)
}

/// Where a mail goes once its record is committed.
fn ack_for(
    cfg: &ImapConfig,
    caps: &Caps,
    disposition: &Disposition,
    private_keys: PrivateKeyAction,
) -> batch::Ack {
    match (disposition, private_keys) {
        (Disposition::PrivateKey, PrivateKeyAction::Expunge) => batch::Ack::Expunge,
        (Disposition::PrivateKey, PrivateKeyAction::Quarantine) => {
            batch::Ack::To(caps.private_key_folder.clone())
        }
        (Disposition::Processed, _) => batch::Ack::SeenTo(cfg.processed_folder.clone()),
        // Left unseen so staff notice it.
        (Disposition::Quarantine(_), _) => batch::Ack::To(cfg.quarantine_folder.clone()),
    }
}

/// Acknowledges committed mail: per destination one `UID STORE` (processed
/// mail) and one `UID MOVE` (or `UID COPY` and an expunge) for all of it.
async fn acknowledge(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    caps: &Caps,
    acks: &[(u32, batch::Ack)],
) -> anyhow::Result<()> {
    for (ack, uids) in batch::group(acks) {
        let set = batch::uid_set(&uids);
        let target = match &ack {
            batch::Ack::Expunge => {
                expunge(cfg, s, caps, &set).await?;
                continue;
            }
            batch::Ack::SeenTo(folder) => {
                cmd(cfg, "UID STORE \\Seen", async {
                    s.uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
                folder
            }
            batch::Ack::To(folder) => folder,
        };
        if caps.mv {
            cmd(cfg, "UID MOVE", s.uid_mv(&set, target)).await?;
        } else {
            cmd(cfg, "UID COPY", s.uid_copy(&set, target)).await?;
            expunge(cfg, s, caps, &set).await?;
        }
    }
    Ok(())
}

/// Deletes the mail of `set` from the selected folder.
async fn expunge(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    caps: &Caps,
    set: &str,
) -> anyhow::Result<()> {
    cmd(cfg, "UID STORE \\Deleted", async {
        s.uid_store(set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if caps.uidplus {
        cmd(cfg, "UID EXPUNGE", async {
            s.uid_expunge(set).await?.try_collect::<Vec<_>>().await
        })
        .await?;
    } else {
        // A plain EXPUNGE would also remove whatever staff marked deleted in
        // the folder: leave the mail marked, for the server's own clean-up.
        tracing::warn!(
            uids = set,
            "server has no UIDPLUS: mail left marked \\Deleted"
        );
    }
    Ok(())
}

/// Waits in IDLE until the server reports news, the IDLE times out, or we
/// are cancelled; the session comes back after DONE.
async fn idle(
    s: ImapSession,
    cfg: &ImapConfig,
    cancel: &CancellationToken,
) -> anyhow::Result<ImapSession> {
    let mut handle = s.idle();
    cmd(cfg, "IDLE", handle.init()).await?;
    let outcome = {
        // `wait_with_timeout` is an inactivity timeout that restarts on every
        // server keep-alive; the outer timeout is what bounds the IDLE.
        let cap = cfg.idle_timeout.min(IDLE_TIMEOUT_MAX).min(LIVENESS_CHECK);
        let (wait, _stop) = handle.wait_with_timeout(cap);
        tokio::select! {
            r = timeout(cap, wait) => match r {
                Ok(Ok(resp)) => Some(resp),
                Ok(Err(e)) => return Err(e).context("IMAP IDLE"),
                Err(_) => Some(IdleResponse::Timeout),
            },
            _ = cancel.cancelled() => None,
        }
    };
    match &outcome {
        Some(IdleResponse::NewData(_)) => tracing::debug!("IDLE: news from the server"),
        Some(IdleResponse::Timeout) => tracing::debug!("IDLE timed out; re-issuing"),
        Some(IdleResponse::ManualInterrupt) | None => {}
    }
    cmd(cfg, "DONE", handle.done()).await
}
