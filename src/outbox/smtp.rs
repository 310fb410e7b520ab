//! SMTP submission over connections of our own: up to `pool_size` at
//! once, each reused while it lasts, so a backlog of replies goes out as
//! fast as the server takes them rather than one round trip after another.
//!
//! lettre's pooled transport writes the message and the final `.` in two
//! writes on a socket without `TCP_NODELAY`: Nagle holds the `.` until the
//! server's delayed ACK, about 40 ms. Besides the latency, a crash in those
//! 40 ms still lets the kernel deliver the `.` — the server accepts a mail
//! the daemon never saw accepted, and sends it again after a restart. Here
//! the socket is opened with `TCP_NODELAY`, so the `.` leaves at once and
//! the window between the server's acceptance and our record of it is one
//! round trip. lettre still speaks the protocol (EHLO, STARTTLS, AUTH,
//! MAIL/RCPT/DATA).

use anyhow::Context as _;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::{Duration, Instant, timeout};

use crate::config::{SmtpConfig, TlsMode};

pub struct Smtp {
    config: SmtpConfig,
    credentials: Option<Credentials>,
    tls: Option<TlsParameters>,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<Connection>>,
    /// One permit a connection: at most `pool_size` sends at once.
    permits: Semaphore,
}

/// One SMTP session: whether the server offers PIPELINING (RFC 2920), and
/// when it last finished a command.
struct Connection {
    smtp: AsyncSmtpConnection,
    pipelining: bool,
    used: Instant,
}

/// A connection used within this long is taken as alive without a NOOP:
/// servers close idle sessions after minutes (Postfix: 300 s), and a
/// connection that died all the same fails the send, which is retried.
const FRESH: Duration = Duration::from_secs(5);

/// Why a send failed, and whether trying again can help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub(crate) fn temporary(e: impl std::fmt::Display) -> SendError {
        SendError {
            permanent: false,
            message: e.to_string(),
        }
    }

    pub(crate) fn permanent(e: impl std::fmt::Display) -> SendError {
        SendError {
            permanent: true,
            message: e.to_string(),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> SendError {
        SendError {
            permanent: e.is_permanent(),
            message: e.to_string(),
        }
    }
}

impl Smtp {
    pub fn new(
        config: SmtpConfig,
        credentials: Option<Credentials>,
        tls: Option<TlsParameters>,
    ) -> Smtp {
        let permits = Semaphore::new(config.pool_size.max(1) as usize);
        Smtp {
            config,
            credentials,
            tls,
            idle: Mutex::new(Vec::new()),
            permits,
        }
    }

    /// Most sends under way at once.
    pub fn pool_size(&self) -> usize {
        self.config.pool_size.max(1) as usize
    }

    /// Sends one mail over an idle connection that is still alive, or a new
    /// one; waits while `pool_size` sends are under way. A connection that
    /// failed in any way is dropped, not reused.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SendError::temporary("SMTP pool closed"))?;
        let mut connection = match self.take_idle().await {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        let sent = self
            .within(transfer(&mut connection, envelope, message))
            .await;
        match sent {
            Ok(Ok(())) => {
                connection.used = Instant::now();
                self.idle.lock().await.push(connection);
                Ok(())
            }
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(e),
        }
    }

    /// The most recently used idle connection that is still alive.
    async fn take_idle(&self) -> Option<Connection> {
        loop {
            let mut connection = self.idle.lock().await.pop()?;
            // Back to back in a backlog: no NOOP round trip before each mail.
            let alive = !connection.smtp.has_broken()
                && (connection.used.elapsed() < FRESH
                    || self
                        .within(connection.smtp.test_connected())
                        .await
                        .unwrap_or(false));
            if alive {
                return Some(connection);
            }
        }
    }

    async fn within<T>(&self, f: impl std::future::Future<Output = T>) -> Result<T, SendError> {
        timeout(self.config.timeout, f).await.map_err(|_| {
            SendError::temporary(format!(
                "SMTP server did not answer within {:?}",
                self.config.timeout
            ))
        })
    }

    async fn connect(&self) -> Result<Connection, SendError> {
        self.within(self.open())
            .await?
            .map_err(|e| SendError::temporary(format!("{e:#}")))
    }

    async fn open(&self) -> anyhow::Result<Connection> {
        let c = &self.config;
        let tcp = TcpStream::connect((c.host.as_str(), c.port))
            .await
            .with_context(|| format!("connecting to {}:{}", c.host, c.port))?;
        tcp.set_nodelay(true)?;
        let hello = ClientId::default();
        let mut connection = match c.tls {
            TlsMode::Implicit => {
                let tls = implicit_tls(c, tcp).await?;
                AsyncSmtpConnection::connect_with_transport(Box::new(ImplicitTls(tls)), &hello)
                    .await?
            }
            TlsMode::Starttls | TlsMode::Plain => {
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?
            }
        };
        if c.tls == TlsMode::Starttls {
            let params = self
                .tls
                .clone()
                .context("STARTTLS without TLS parameters")?;
            anyhow::ensure!(
                connection.can_starttls(),
                "{} does not offer STARTTLS",
                c.host
            );
            connection.starttls(params, &hello).await?;
        }
        // lettre keeps only the extensions it uses; PIPELINING is read from
        // a second EHLO, before AUTH (an EHLO after it may reset the login).
        let pipelining = connection
            .command(Ehlo::new(hello.clone()))
            .await?
            .message()
            .any(|line| line.trim().eq_ignore_ascii_case("PIPELINING"));
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .with_context(|| format!("SMTP login to {}", c.host))?;
        }
        Ok(Connection {
            smtp: connection,
            pipelining,
            used: Instant::now(),
        })
    }
}

/// Hands one mail over. Where the server offers PIPELINING, MAIL, RCPT and
/// DATA go out in one write and their answers are read together: two
/// round trips a mail instead of four. lettre sends the rest (and a mail
/// needing SMTPUTF8 or 8BITMIME, whose checks it makes) one command at a
/// time.
async fn transfer(
    connection: &mut Connection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), lettre::transport::smtp::Error> {
    let smtp = &mut connection.smtp;
    let ascii_addresses = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .all(|a| AsRef::<str>::as_ref(a).is_ascii());
    if !connection.pipelining || !ascii_addresses || !message.is_ascii() {
        return smtp.send(envelope, message).await.map(drop);
    }
    let mut commands = Mail::new(envelope.from().cloned(), Vec::new()).to_string();
    for to in envelope.to() {
        commands.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
    }
    commands.push_str(&Data.to_string());
    // `command` writes the whole group and reads MAIL's answer; a refusal
    // ends here, and the connection, its later answers unread, is dropped.
    smtp.command(Verbatim(commands)).await?;
    for _ in envelope.to() {
        smtp.read_response().await?;
    }
    smtp.read_response().await?;
    smtp.message(message).await.map(drop)
}

/// Commands already rendered, written as they are.
struct Verbatim(String);

impl std::fmt::Display for Verbatim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

async fn implicit_tls(
    c: &SmtpConfig,
    tcp: TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = crate::tls::client_config(c.ca_file.as_deref())?;
    let name = rustls_pki_types::ServerName::try_from(c.host.clone())
        .with_context(|| format!("{:?} is not a valid TLS server name", c.host))?;
    Ok(tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?)
}

/// An implicit-TLS stream, handed to lettre as an already connected one.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl lettre::transport::smtp::client::AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
