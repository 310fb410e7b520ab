//! Outbox: sends what the pipeline queued, through SMTP or as `.eml` files.
//!
//! Rows are written in the same transaction as the case (a transactional
//! outbox), so a reply is never lost and never sent for a mail that was not
//! recorded. The worker marks a row sent once the server accepted it; a
//! temporary failure is retried with jittered exponential backoff, a
//! permanent one (5xx) or too many attempts gives up and records an event.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{OutboxConfig, Secret, SmtpConfig, TlsMode, TransportConfig};
use crate::domain::OutgoingKind;
use crate::store::{OutboxRow, Store};

pub mod smtp;
pub use smtp::SendError;

/// Longest subject we send, in bytes (cut at a character boundary).
const MAX_SUBJECT_BYTES: usize = 400;

/// How many due rows one pass takes.
const BATCH: i64 = 50;
/// Even with nothing due, look again this often (rows queued by another process).
const IDLE_RECHECK: Duration = Duration::from_secs(30);

pub enum Transport {
    /// Writes `<dir>/<key>.eml`; re-sending a row overwrites the same file.
    File(PathBuf),
    Smtp(Box<smtp::Smtp>),
}

impl Transport {
    pub fn from_config(config: &TransportConfig) -> anyhow::Result<Transport> {
        match config {
            TransportConfig::File { dir } => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating outbox folder {}", dir.display()))?;
                Ok(Transport::File(dir.clone()))
            }
            TransportConfig::Smtp(smtp) => {
                let tls_params = || -> anyhow::Result<TlsParameters> {
                    let mut b = TlsParameters::builder(smtp.host.clone());
                    if let Some(ca) = &smtp.ca_file {
                        let pem = std::fs::read(ca)
                            .with_context(|| format!("reading CA file {}", ca.display()))?;
                        b = b.add_root_certificate(
                            Certificate::from_pem(&pem)
                                .with_context(|| format!("CA file {}", ca.display()))?,
                        );
                    }
                    Ok(b.build_rustls()?)
                };
                // Implicit TLS is done by us (rustls, as for IMAP); STARTTLS by lettre.
                let tls = match smtp.tls {
                    TlsMode::Starttls => Some(tls_params()?),
                    TlsMode::Implicit | TlsMode::Plain => None,
                };
                let credentials = match (&smtp.username, &smtp.password) {
                    (Some(user), Some(source)) => {
                        let secret = Secret::resolve(source)?;
                        Some(Credentials::new(user.clone(), secret.expose().to_string()))
                    }
                    _ => None,
                };
                Ok(Transport::Smtp(Box::new(smtp::Smtp::new(
                    SmtpConfig::clone(smtp),
                    credentials,
                    tls,
                ))))
            }
        }
    }

    /// How many rows are handed over at once: the SMTP pool's size; files
    /// a whole pass's worth, written in one go and recorded together.
    pub fn width(&self) -> usize {
        match self {
            Transport::File(_) => BATCH as usize,
            Transport::Smtp(smtp) => smtp.pool_size(),
        }
    }
}

/// `Auto-Submitted` (RFC 3834): tells other robots not to answer us.
#[derive(Clone)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match s.trim() {
            "auto-replied" => AutoSubmitted("auto-replied"),
            _ => AutoSubmitted("auto-generated"),
        })
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// `X-Auto-Response-Suppress: All`: Exchange and Outlook send no
/// out-of-office or receipts in answer to our mail.
#[derive(Clone)]
struct SuppressAutoResponse;

impl Header for SuppressAutoResponse {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(SuppressAutoResponse)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_string())
    }
}

/// Builds the MIME message of a queued row. Every value goes through
/// lettre's typed headers, so nothing in it can add a header of its own.
pub fn build_message(row: &OutboxRow) -> anyhow::Result<Message> {
    let from = Mailbox::new(
        Some(row.from_name.clone()),
        row.from_addr
            .parse()
            .with_context(|| format!("sender address {:?}", row.from_addr))?,
    );
    let to: Mailbox = row
        .to_addr
        .parse()
        .with_context(|| format!("recipient address {:?}", row.to_addr))?;
    let mut b = Message::builder()
        .from(from)
        .to(to)
        // A subject is folded only at spaces: a long one without any would
        // make a header line over RFC 5322's 998 octets.
        .subject(crate::util::prefix(
            &crate::parse::clean_line(&row.subject),
            MAX_SUBJECT_BYTES,
        ))
        .message_id(Some(row.message_id.clone()))
        .date_now()
        .header(AutoSubmitted(if row.kind == OutgoingKind::Reply {
            "auto-replied"
        } else {
            "auto-generated"
        }))
        .header(SuppressAutoResponse);
    // Rows queued before IDs were bounded, or written by hand, get the same
    // bounds: every header line stays within RFC 5322's 998 characters.
    let (in_reply_to, references) =
        crate::compose::thread_headers(row.in_reply_to.as_deref(), &row.references);
    if let Some(irt) = in_reply_to {
        b = b.in_reply_to(irt);
    }
    if !references.is_empty() {
        b = b.references(references.join(" "));
    }
    // Plain text plus the same text as HTML, for clients that show only HTML
    // well; lettre picks the transfer encodings.
    Ok(b.multipart(MultiPart::alternative_plain_html(
        row.body.clone(),
        text_to_html(&row.body),
    ))?)
}

/// The HTML alternative of a plain-text body: paragraphs, line breaks, and
/// "- " lines as lists; everything escaped.
pub fn text_to_html(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.4\">\n",
    );
    for para in text
        .split("\n\n")
        .map(str::trim_end)
        .filter(|p| !p.trim().is_empty())
    {
        let lines: Vec<&str> = para.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.iter().all(|l| l.trim_start().starts_with("- ")) {
            html.push_str("<ul>\n");
            for l in lines {
                html.push_str(&format!(
                    "<li>{}</li>\n",
                    escape(l.trim_start().trim_start_matches("- "))
                ));
            }
            html.push_str("</ul>\n");
        } else if lines.iter().all(|l| l.starts_with("  ")) {
            html.push_str("<table>\n");
            for l in lines {
                match l.trim().split_once(':') {
                    Some((k, v)) => html.push_str(&format!(
                        "<tr><td>{}:</td><td>{}</td></tr>\n",
                        escape(k),
                        escape(v.trim())
                    )),
                    None => html.push_str(&format!(
                        "<tr><td colspan=\"2\">{}</td></tr>\n",
                        escape(l.trim())
                    )),
                }
            }
            html.push_str("</table>\n");
        } else {
            let body: Vec<String> = lines.iter().map(|l| escape(l.trim())).collect();
            html.push_str(&format!("<p>{}</p>\n", body.join("<br>\n")));
        }
    }
    html.push_str("</body></html>\n");
    html
}

/// Writes `<dir>/<key>.eml` atomically: a reader never sees half a file.
fn write_eml(dir: &Path, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(format!("{name}.eml"));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("renaming to {}", target.display()))
}

/// Delay before attempt `attempts + 1` (see [`crate::util::backoff_delay`]).
pub fn backoff(config: &OutboxConfig, attempts: u32) -> Duration {
    crate::util::backoff_delay(config.retry_base, config.retry_max, attempts)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Sends every row due now, once each, [`Transport::width`] at once. Each
/// group is handed over inside a write transaction opened first, so no
/// answer waits for another writer: the rows the server accepted are
/// marked and committed the moment its answers are read (those that came
/// in together, together), and the next transaction begins in the same
/// round trip. A crash repeats a reply only when it falls between the
/// server's answer and that commit.
pub async fn drain(
    store: &Store,
    transport: &Arc<Transport>,
    config: &OutboxConfig,
) -> anyhow::Result<Drained> {
    use futures::{FutureExt as _, StreamExt as _};
    let mut done = Drained::default();
    let mut seen = std::collections::HashSet::new();
    loop {
        let rows = store.due_outbox(Utc::now(), BATCH).await?;
        let fresh: Vec<OutboxRow> = rows.into_iter().filter(|r| seen.insert(r.id)).collect();
        if fresh.is_empty() {
            return Ok(done);
        }
        for group in fresh.chunks(transport.width()) {
            let mut tx = store.begin_send().await?;
            let mut answers = hand_over(transport, group);
            let mut refusals = Vec::new();
            while let Some(first) = answers.next().await {
                let mut answered = first;
                while let Some(Some(next)) = answers.next().now_or_never() {
                    answered.extend(next);
                }
                let mut accepted = Vec::new();
                for (row, sent) in answered {
                    match sent {
                        Ok(()) => accepted.push(row.clone()),
                        Err(e) => refusals.push((row, e)),
                    }
                }
                if accepted.is_empty() {
                    continue;
                }
                // Only a crash before this commit can send these mails twice.
                tx.mark_sent_and_commit(&accepted, Utc::now()).await?;
                for row in &accepted {
                    tracing::info!(kind = %row.kind, to = %row.to_addr, message_id = %row.message_id, "mail sent");
                }
                done.sent += accepted.len();
            }
            tx.commit().await?;
            for (row, e) in refusals {
                refused(store, config, row, &e, &mut done).await?;
            }
        }
    }
}

/// What the transport said about some rows of a group.
type Answers<'r> = Vec<(&'r OutboxRow, Result<(), SendError>)>;

/// Hands `group` to the transport; its answers come as they arrive. Over
/// SMTP each row is its own send, on the pool's connections. Files are all
/// written in one trip to the blocking pool, one after another: written
/// side by side they queue for the folder's lock in the kernel, which spins
/// on it.
fn hand_over<'r>(
    transport: &'r Transport,
    group: &'r [OutboxRow],
) -> futures::stream::FuturesUnordered<futures::future::BoxFuture<'r, Answers<'r>>> {
    use futures::FutureExt as _;
    for row in group {
        // With "mail sent" after the commit, the log tells which replies a
        // crash left in flight: those are the only ones it can repeat.
        tracing::debug!(message_id = %row.message_id, "handing over");
    }
    match transport {
        Transport::File(dir) => [write_files(dir, group).boxed()].into_iter().collect(),
        Transport::Smtp(smtp) => group
            .iter()
            .map(|row| async move { vec![(row, send_smtp(smtp, row).await)] }.boxed())
            .collect(),
    }
}

/// One row over SMTP; a panic building or sending it fails that row only.
async fn send_smtp(smtp: &smtp::Smtp, row: &OutboxRow) -> Result<(), SendError> {
    let sent = crate::util::guarded(async {
        Ok(match build(row) {
            Ok(message) => smtp.send(message.envelope(), &message.formatted()).await,
            Err(e) => Err(e),
        })
    });
    sent.await
        .unwrap_or_else(|panic| Err(SendError::permanent(format!("{panic:#}"))))
}

/// Writes the rows of a group as `.eml` files; re-sending a row overwrites
/// its file. A row whose mail cannot be built fails alone.
async fn write_files<'r>(dir: &Path, group: &'r [OutboxRow]) -> Answers<'r> {
    let built: Vec<Result<(String, Vec<u8>), SendError>> = group
        .iter()
        .map(|row| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(row)))
                .unwrap_or_else(|panic| {
                    Err(SendError::permanent(format!(
                        "cannot build the mail: {}",
                        crate::util::panic_message(panic.as_ref())
                    )))
                })
                .map(|message| (row.key.clone(), message.formatted()))
        })
        .collect();
    let dir = dir.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        built
            .into_iter()
            .map(|file| {
                let (key, bytes) = file?;
                write_eml(&dir, &key, &bytes).map_err(|e| SendError::temporary(format!("{e:#}")))
            })
            .collect::<Vec<_>>()
    })
    .await;
    match written {
        Ok(results) => group.iter().zip(results).collect(),
        Err(e) => {
            let message = format!("writing the mail files: {e}");
            group
                .iter()
                .map(|row| (row, Err(SendError::temporary(&message))))
                .collect()
        }
    }
}

/// The mail of `row`, or why it cannot be sent at all.
fn build(row: &OutboxRow) -> Result<Message, SendError> {
    build_message(row).map_err(|e| SendError::permanent(format!("cannot build the mail: {e:#}")))
}

/// A row the server did not take: retried later, or given up.
async fn refused(
    store: &Store,
    config: &OutboxConfig,
    row: &OutboxRow,
    e: &SendError,
    done: &mut Drained,
) -> anyhow::Result<()> {
    if failed_for_good(config, row, e, Utc::now()) {
        tracing::error!(to = %row.to_addr, attempts = row.attempts + 1, error = %e.message, "giving up on mail");
        store.mark_failed(row, Utc::now(), &e.message).await?;
        alert_staff(store, config, row, &e.message, true).await?;
        done.failed += 1;
        return Ok(());
    }
    let delay = backoff(config, row.attempts);
    tracing::warn!(to = %row.to_addr, retry_in = ?delay, error = %e.message, "send failed, will retry");
    let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    store.mark_retry(row, next, &e.message).await?;
    if Utc::now() - row.created_at
        >= chrono::Duration::from_std(config.alert_after).unwrap_or_default()
    {
        alert_staff(store, config, row, &e.message, false).await?;
    }
    done.retrying += 1;
    Ok(())
}

/// Whether a failed row is given up: a permanent refusal, the attempt
/// limit when one is set, or the retry period (days, like an MTA) is over.
fn failed_for_good(
    config: &OutboxConfig,
    row: &OutboxRow,
    e: &SendError,
    now: chrono::DateTime<Utc>,
) -> bool {
    let too_old = now - row.created_at
        >= chrono::Duration::from_std(config.give_up_after).unwrap_or(chrono::Duration::MAX);
    let too_many = config
        .max_attempts
        .is_some_and(|max| row.attempts + 1 >= max);
    e.permanent || too_many || too_old
}

/// Tells staff that a mail is not getting out: once while it is still
/// retried (after `alert_after`), once when it is given up. Each alert has
/// its own outbox key, so it is queued once however often this is called.
/// Alerts about alerts are not raised: they would fail the same way.
async fn alert_staff(
    store: &Store,
    config: &OutboxConfig,
    row: &OutboxRow,
    error: &str,
    final_failure: bool,
) -> anyhow::Result<()> {
    if row.kind == OutgoingKind::Alert || config.alert_to.is_empty() {
        return Ok(());
    }
    let (what, state) = if final_failure {
        ("failed", "nu a putut fi trimis și NU va mai fi reîncercat")
    } else {
        ("delayed", "nu a putut fi trimis încă; se reîncearcă")
    };
    let body = format!(
        "Un mesaj {state}.\n\n\
         Tip:           {kind}\n\
         Către:         {to}\n\
         Subiect:       {subject}\n\
         Message-ID:    {message_id}\n\
         Pus la coadă:  {created}\n\
         Încercări:     {attempts}\n\
         Ultima eroare: {error}\n\n\
         Verificați serverul SMTP; `egov-intake cases show` arată cazul.\n",
        kind = row.kind,
        to = row.to_addr,
        subject = crate::parse::clean_line(&row.subject),
        message_id = row.message_id,
        created = crate::util::timestamp(row.created_at),
        attempts = row.attempts + 1,
        error = crate::parse::clean_line(error),
    );
    let items: Vec<_> = config
        .alert_to
        .iter()
        .enumerate()
        .map(|(i, to)| {
            let o = crate::compose::Outgoing::to_staff(
                format!("alert:outbox-{what}:{}:{to}", row.key),
                &config.alert_from,
                to.clone(),
                format!(
                    "[egov-intake] Mail {what}: {}",
                    crate::parse::clean_line(&row.subject)
                ),
                format!(
                    "<outbox-{what}.{}.{i}@{}>",
                    row.id,
                    domain_of(&config.alert_from)
                ),
                body.clone(),
            );
            (row.case_id, o)
        })
        .collect();
    store.queue(&items, None).await?;
    Ok(())
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("localhost", |(_, d)| d)
}

/// The outbox worker: drains on every wake-up, when a retry falls due, and
/// periodically, until cancelled; what it sent and gave up, all passes
/// together.
pub async fn run(
    store: Store,
    transport: Arc<Transport>,
    config: OutboxConfig,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) -> Drained {
    let mut total = Drained::default();
    loop {
        match drain(&store, &transport, &config).await {
            Ok(d) => {
                total.sent += d.sent;
                total.failed += d.failed;
                total.retrying = d.retrying;
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "outbox pass failed"),
        }
        let wait = match store.next_outbox_due().await {
            Ok(Some(due)) => (due - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(IDLE_RECHECK),
            _ => IDLE_RECHECK,
        };
        tokio::select! {
            _ = cancel.cancelled() => return total,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OutboxConfig {
        OutboxConfig {
            max_attempts: None,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(120 * 3600),
            alert_after: Duration::from_secs(4 * 3600),
            alert_to: vec!["helpdesk@egov.md".into()],
            alert_from: "intake@egov.md".into(),
        }
    }

    #[test]
    fn temporary_failures_are_retried_for_days() {
        let c = config();
        let temporary = SendError {
            permanent: false,
            message: "451 try later".into(),
        };
        let mut r = row();
        r.attempts = 40;
        let now = r.created_at;
        // Many attempts within the five days: still retried.
        assert!(!failed_for_good(
            &c,
            &r,
            &temporary,
            now + chrono::Duration::hours(119)
        ));
        assert!(failed_for_good(
            &c,
            &r,
            &temporary,
            now + chrono::Duration::hours(120)
        ));
        let permanent = SendError {
            permanent: true,
            message: "550 no such user".into(),
        };
        assert!(failed_for_good(&c, &r, &permanent, now));
        let limited = OutboxConfig {
            max_attempts: Some(3),
            ..config()
        };
        r.attempts = 2;
        assert!(failed_for_good(&limited, &r, &temporary, now));
    }

    fn row() -> OutboxRow {
        OutboxRow {
            id: 1,
            key: "reply:abc".into(),
            kind: OutgoingKind::Reply,
            case_id: Some(1),
            from_name: "Agenția de Guvernare Electronică".into(),
            from_addr: "office@egov.md".into(),
            to_addr: "ana@primaria.md".into(),
            subject: "Re: Solicitare [AGE-2026-00001]\r\nBcc: x@evil.md".into(),
            message_id: "<reply.abc@intake.egov.md>".into(),
            in_reply_to: Some("<q@primaria.md>".into()),
            references: vec!["<p@primaria.md>".into(), "<q@primaria.md>".into()],
            body: "Bună ziua,\nCazul AGE-2026-00001.\n".into(),
            attempts: 0,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn reply_headers() {
        let text = String::from_utf8(build_message(&row()).unwrap().formatted()).unwrap();
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"), "{text}");
        assert!(text.contains("X-Auto-Response-Suppress: All\r\n"), "{text}");
        assert!(
            text.contains("Message-ID: <reply.abc@intake.egov.md>\r\n"),
            "{text}"
        );
        assert!(text.contains("In-Reply-To: <q@primaria.md>\r\n"), "{text}");
        assert!(
            text.contains("References: <p@primaria.md> <q@primaria.md>\r\n"),
            "{text}"
        );
        assert!(!text.to_ascii_lowercase().contains("\r\nbcc:"), "{text}");
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert_eq!(body.trim_end(), "Bună ziua,\nCazul AGE-2026-00001.");
    }

    #[test]
    fn a_long_subject_without_spaces_stays_within_line_limits() {
        let mut r = row();
        r.subject = format!("Re: [AGE-2026-00001] {}", "y".repeat(5000));
        let bytes = build_message(&r).unwrap().formatted();
        let longest = bytes.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap();
        assert!(longest <= 998, "{longest}");
    }

    /// A hostile thread: a 100 KB ID answered and 10,000 references. Every
    /// header line stays within RFC 5322's 998 octets, and the thread keeps
    /// its first and last few IDs.
    #[test]
    fn thread_headers_stay_within_line_limits() {
        let huge = format!("<{}@primaria.md>", "x".repeat(100_000));
        let mut r = row();
        r.in_reply_to = Some(huge.clone());
        r.references = (0..10_000).map(|i| format!("<r{i}@primaria.md>")).collect();
        r.references.insert(5, huge.clone());
        let text = String::from_utf8(build_message(&r).unwrap().formatted()).unwrap();
        let longest = text.split("\r\n").map(str::len).max().unwrap();
        assert!(longest <= 998, "a line of {longest} octets");
        assert!(!text.contains("xxxxxxxxxx"), "the huge ID was copied");
        assert!(!text.contains("In-Reply-To:"));
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        let refs: Vec<String> = match parsed.references() {
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            other => panic!("{other:?}"),
        };
        let expected: Vec<String> = [0, 9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999]
            .iter()
            .map(|i| format!("r{i}@primaria.md"))
            .collect();
        assert_eq!(refs, expected);
    }

    #[test]
    fn html_alternative() {
        let html = text_to_html(
            "Bună ziua <Ana>,\n\n  IDNO:   1008600038413\n  Sistem: e-Cereri\n\n- una\n- două & trei\n\nCu stimă,\nAGE\n",
        );
        assert!(html.contains("<p>Bună ziua &lt;Ana&gt;,</p>"), "{html}");
        assert!(
            html.contains("<tr><td>IDNO:</td><td>1008600038413</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<li>două &amp; trei</li>"), "{html}");
        assert!(html.contains("<p>Cu stimă,<br>\nAGE</p>"), "{html}");
        let text = String::from_utf8(build_message(&row()).unwrap().formatted()).unwrap();
        assert!(text.contains("multipart/alternative"), "{text}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = config();
        let first = backoff(&c, 0);
        assert!(
            first >= Duration::from_secs(24) && first <= Duration::from_secs(36),
            "{first:?}"
        );
        let third = backoff(&c, 2);
        assert!(
            third >= Duration::from_secs(96) && third <= Duration::from_secs(144),
            "{third:?}"
        );
        assert!(backoff(&c, 30) <= Duration::from_secs(4320));
    }

    #[tokio::test]
    async fn file_transport_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..2 {
            let group = [row()];
            let answers = write_files(dir.path(), &group).await;
            assert!(answers.iter().all(|(_, sent)| sent.is_ok()));
        }
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
    }

    #[tokio::test]
    async fn a_mail_that_cannot_be_built_fails_alone_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut broken = row();
        broken.key = "reply:broken".into();
        broken.to_addr = "not an address".into();
        let mut other = row();
        other.key = "reply:other".into();
        let group = [row(), broken, other];
        let answers = write_files(dir.path(), &group).await;
        let failed: Vec<bool> = answers.iter().map(|(_, sent)| sent.is_err()).collect();
        assert_eq!(failed, [false, true, false]);
        assert!(answers[1].1.as_ref().unwrap_err().permanent);
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "the other two written, no temporary file left");
    }
}
