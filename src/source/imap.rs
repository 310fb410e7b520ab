//! IMAP source: one task per mailbox, holding an `Option<Session>` and
//! reconnecting with jittered backoff. On each connection it processes every
//! mail in the folder (processed mail has been moved out, so what is left is
//! work), then waits in IDLE — or polls, on servers without IDLE — and
//! fetches what is newer than the stored (UIDVALIDITY, last UID).
//!
//! Acknowledgement happens only after the commit: `\Seen` plus a move to the
//! Processed folder, or a move to Quarantine (left unseen). Every command
//! runs under `command_timeout`.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::{Backoff, Failures};
use crate::config::{ImapConfig, MailboxConfig, PrivateKeyAction, Secret, TlsMode};
use crate::decide::Disposition;
use crate::pipeline::Pipeline;

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
    Ok(match cfg.tls {
        TlsMode::Implicit => Box::new(tls(cfg, tcp).await?),
        TlsMode::Starttls => {
            let mut client = Client::new(tcp);
            greeting(cfg, &mut client).await?;
            cmd(
                cfg,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            Box::new(tls(cfg, client.into_inner()).await?)
        }
        TlsMode::Plain => Box::new(tcp),
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
    let mut done = 0;
    let mut high = last;
    for uid in uids {
        if cancel.is_some_and(CancellationToken::is_cancelled) {
            break;
        }
        let key = format!("imap:{}:{uidvalidity}:{uid}", cfg.folder);
        let (raw, size) = fetch(cfg, s, uid, pipeline.config.limits.max_message_bytes).await?;
        let Some(raw) = raw else {
            // Expunged by somebody else meanwhile.
            continue;
        };
        let disposition = super::intake(pipeline, mailbox, &key, raw, size, failures).await?;
        acknowledge(
            cfg,
            s,
            caps,
            uid,
            &disposition,
            pipeline.config.private_keys,
        )
        .await?;
        high = high.max(uid);
        done += 1;
    }
    if stored != Some((uidvalidity, high)) {
        pipeline
            .store
            .set_sync_state(&mailbox.name, uidvalidity, high)
            .await?;
    }
    Ok(done)
}

/// Fetches one mail without setting \Seen. Over the size limit only the
/// header is downloaded.
async fn fetch(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    uid: u32,
    max_bytes: usize,
) -> anyhow::Result<(Option<Vec<u8>>, usize)> {
    let set = uid.to_string();
    let sizes: Vec<_> = cmd(cfg, "UID FETCH size", async {
        s.uid_fetch(&set, "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let Some(size) = sizes
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.size)
    else {
        return Ok((None, 0));
    };
    let size = size as usize;
    let query = if size > max_bytes {
        "(UID BODY.PEEK[HEADER])"
    } else {
        "(UID BODY.PEEK[])"
    };
    let fetched: Vec<_> = cmd(cfg, "UID FETCH body", async {
        s.uid_fetch(&set, query)
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let raw = fetched
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| {
            if size > max_bytes {
                f.header()
            } else {
                f.body()
            }
        })
        .map(<[u8]>::to_vec);
    Ok((raw, size))
}

async fn acknowledge(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    caps: &Caps,
    uid: u32,
    disposition: &Disposition,
    private_keys: PrivateKeyAction,
) -> anyhow::Result<()> {
    let set = uid.to_string();
    let target = match (disposition, private_keys) {
        (Disposition::PrivateKey, PrivateKeyAction::Expunge) => {
            return expunge(cfg, s, caps, &set).await;
        }
        (Disposition::PrivateKey, PrivateKeyAction::Quarantine) => &caps.private_key_folder,
        (Disposition::Processed, _) => {
            cmd(cfg, "UID STORE \\Seen", async {
                s.uid_store(&set, "+FLAGS (\\Seen)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            &cfg.processed_folder
        }
        // Left unseen so staff notice it.
        (Disposition::Quarantine(_), _) => &cfg.quarantine_folder,
    };
    if caps.mv {
        cmd(cfg, "UID MOVE", s.uid_mv(&set, target)).await?;
        Ok(())
    } else {
        cmd(cfg, "UID COPY", s.uid_copy(&set, target)).await?;
        expunge(cfg, s, caps, &set).await
    }
}

/// Deletes one mail from the selected folder.
async fn expunge(
    cfg: &ImapConfig,
    s: &mut ImapSession,
    caps: &Caps,
    set: &str,
) -> anyhow::Result<()> {
    cmd(cfg, "UID STORE \\Deleted", async {
        s.uid_store(set, "+FLAGS (\\Deleted)")
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
            uid = set,
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
