//! Proves the real-server harness in `tests/support` works: Postfix delivers into Dovecot, the
//! Maildir on disk is where the harness looks, IMAPS and STARTTLS present a certificate signed
//! by the throwaway CA, and Dovecot can be restarted. The tests in this file run in parallel, so
//! they also prove that several private instances do not collide.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use support::MailServers;

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn message(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@test.invalid>\r\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello from {subject}.\r\n.leading dot\r\n"
    )
    .into_bytes()
}

#[test]
fn smtp_mail_reaches_inbox_on_disk() -> Result<()> {
    let servers = MailServers::start()?;
    let raw = message("ana@example.md", "office@egov.md", "smoke-inbox");
    servers.send_smtp(
        "ana@example.md",
        &["office@egov.md", "Ana@Example.md"],
        &raw,
    )?;

    for user in ["office@egov.md", "ana@example.md"] {
        let got = servers.wait_for_message(user, "INBOX", DELIVERY_TIMEOUT, |m| {
            contains(m, "Subject: smoke-inbox")
        })?;
        ensure!(contains(&got, "Hello from smoke-inbox."), "body missing");
        // SMTP dot-stuffing was undone on the way.
        ensure!(contains(&got, "\n.leading dot"), "dot-stuffed line damaged");
        // Stored by Dovecot's LMTP (which omits Delivered-To for multi-recipient transactions).
        ensure!(
            contains(&got, "Return-Path: <ana@example.md>"),
            "no Return-Path"
        );
        ensure!(contains(&got, " with LMTP"), "not delivered over LMTP");
    }
    ensure!(servers.messages("office@egov.md", "INBOX")?.len() == 1);
    ensure!(servers.messages("office@egov.md", "Processed")?.is_empty());
    ensure!(servers.messages("nobody@egov.md", "INBOX")?.is_empty());

    // Oldest first.
    servers.send_smtp(
        "",
        &["office@egov.md"],
        &message("MAILER-DAEMON@example.md", "office@egov.md", "smoke-second"),
    )?;
    servers.wait_for_message("office@egov.md", "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "Subject: smoke-second")
    })?;
    let all = servers.messages("office@egov.md", "INBOX")?;
    ensure!(all.len() == 2, "expected 2 messages, got {}", all.len());
    ensure!(contains(&all[0], "smoke-inbox") && contains(&all[1], "smoke-second"));

    // A timeout reports what was there.
    let err = servers
        .wait_for_message(
            "office@egov.md",
            "INBOX",
            Duration::from_millis(200),
            |_| false,
        )
        .unwrap_err();
    ensure!(format!("{err}").contains("2 message(s) there"), "{err}");
    Ok(())
}

#[test]
fn imaps_and_starttls_present_the_test_ca_certificate() -> Result<()> {
    let servers = MailServers::start()?;
    let trusted = tls_config(Some(&servers.ca_file()))?;
    let user = "office@egov.md";
    let login = format!("a LOGIN \"{user}\" \"{}\"", servers.password());

    // Implicit TLS, verified for the name "localhost".
    let tcp = TcpStream::connect(("127.0.0.1", servers.imaps_port()))?;
    let tls = tls_handshake(trusted.clone(), "localhost", tcp)?;
    let mut imap = Lines::new(tls);
    imap.expect_greeting("* OK")?;
    imap.command(&login)?;
    imap.command("b SELECT INBOX")?;
    imap.command("c LOGOUT")?;

    // STARTTLS on the plain port, verified for the IP address 127.0.0.1.
    let mut plain = Lines::new(TcpStream::connect(("127.0.0.1", servers.imap_port()))?);
    let greeting = plain.expect_greeting("* OK")?;
    ensure!(greeting.contains("STARTTLS"), "no STARTTLS in {greeting:?}");
    plain.command("s STARTTLS")?;
    let tls = tls_handshake(trusted.clone(), "127.0.0.1", plain.into_inner())?;
    let mut imap = Lines::new(tls);
    imap.command(&login)?;
    imap.command("b SELECT INBOX")?;
    imap.command("c LOGOUT")?;

    // Plaintext login is allowed on loopback; a wrong password is not.
    let mut plain = Lines::new(TcpStream::connect(("127.0.0.1", servers.imap_port()))?);
    plain.expect_greeting("* OK")?;
    ensure!(
        plain
            .command("x LOGIN office@egov.md wrong-password")
            .is_err()
    );
    plain.command(&login)?;
    plain.command("c LOGOUT")?;

    // The verification is real: other roots or another name are rejected.
    let untrusted = tls_config(None)?;
    let tcp = TcpStream::connect(("127.0.0.1", servers.imaps_port()))?;
    let err = tls_handshake(untrusted, "localhost", tcp).unwrap_err();
    ensure!(format!("{err:#}").contains("UnknownIssuer"), "{err:#}");
    let tcp = TcpStream::connect(("127.0.0.1", servers.imaps_port()))?;
    let err = tls_handshake(trusted.clone(), "mail.example.org", tcp).unwrap_err();
    ensure!(format!("{err:#}").contains("not valid for name"), "{err:#}");

    // Postfix offers STARTTLS with the same certificate.
    let mut smtp = Lines::new(TcpStream::connect(("127.0.0.1", servers.smtp_port()))?);
    smtp.expect_greeting("220 ")?;
    let ehlo = smtp.smtp("EHLO client.test")?;
    ensure!(ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");
    smtp.smtp("STARTTLS")?;
    let tls = tls_handshake(trusted, "localhost", smtp.into_inner())?;
    let mut smtp = Lines::new(tls);
    smtp.smtp("EHLO client.test")?;
    smtp.smtp("QUIT")?;
    Ok(())
}

#[test]
fn restart_dovecot_then_deliver_again() -> Result<()> {
    let mut servers = MailServers::start()?;
    let ports = (
        servers.imap_port(),
        servers.imaps_port(),
        servers.smtp_port(),
    );
    servers.send_smtp(
        "ana@example.md",
        &["office@egov.md"],
        &message("ana@example.md", "office@egov.md", "before-restart"),
    )?;
    servers.wait_for_message("office@egov.md", "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "before-restart")
    })?;

    // An open IMAP connection is cut by the restart.
    let mut open = Lines::new(TcpStream::connect(("127.0.0.1", servers.imap_port()))?);
    open.expect_greeting("* OK")?;
    open.command(&format!("a LOGIN office@egov.md {}", servers.password()))?;

    servers.restart_dovecot()?;
    ensure!(
        ports
            == (
                servers.imap_port(),
                servers.imaps_port(),
                servers.smtp_port()
            )
    );
    ensure!(open.command("b NOOP").is_err(), "old connection survived");

    servers.send_smtp(
        "ana@example.md",
        &["office@egov.md"],
        &message("ana@example.md", "office@egov.md", "after-restart"),
    )?;
    servers.wait_for_message("office@egov.md", "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "after-restart")
    })?;
    let all = servers.messages("office@egov.md", "INBOX")?;
    ensure!(all.len() == 2, "expected 2 messages, got {}", all.len());

    let mut imap = Lines::new(TcpStream::connect(("127.0.0.1", servers.imap_port()))?);
    imap.expect_greeting("* OK")?;
    imap.command(&format!("a LOGIN office@egov.md {}", servers.password()))?;
    let select = imap.command("b SELECT INBOX")?;
    ensure!(select.iter().any(|l| l == "* 2 EXISTS"), "{select:?}");
    imap.command("c LOGOUT")?;
    Ok(())
}

#[test]
fn imap_folders_are_maildir_plus_plus_dirs_on_disk() -> Result<()> {
    let servers = MailServers::start()?;
    let user = "office@egov.md";
    servers.send_smtp(
        "ana@example.md",
        &[user],
        &message("ana@example.md", user, "to-be-moved"),
    )?;
    servers.wait_for_message(user, "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "to-be-moved")
    })?;

    let mut imap = Lines::new(TcpStream::connect(("127.0.0.1", servers.imap_port()))?);
    imap.expect_greeting("* OK")?;
    imap.command(&format!("a LOGIN {user} {}", servers.password()))?;
    imap.command("b CREATE Processed")?;
    imap.command("c SELECT INBOX")?;
    imap.command("d UID MOVE 1:* Processed")?;
    // "Carantină" in modified UTF-7, filled by APPEND (LITERAL+).
    imap.command("e CREATE Carantin&AQM-")?;
    let appended = message("x@example.md", user, "appended");
    imap.append("f", "Carantin&AQM-", &appended)?;
    imap.command("g LOGOUT")?;

    ensure!(
        servers.messages(user, "INBOX")?.is_empty(),
        "INBOX not empty"
    );
    let processed = servers.messages(user, "Processed")?;
    ensure!(processed.len() == 1 && contains(&processed[0], "to-be-moved"));
    ensure!(
        servers
            .dir()
            .join("mail")
            .join(user)
            .join(".Processed/cur")
            .is_dir()
    );
    let quarantine = servers.messages(user, "Carantină")?;
    ensure!(quarantine.len() == 1 && contains(&quarantine[0], "Subject: appended"));
    Ok(())
}

#[test]
fn two_instances_side_by_side() -> Result<()> {
    let a = MailServers::start()?;
    let b = MailServers::start()?;
    let ports_a = [a.imap_port(), a.imaps_port(), a.smtp_port()];
    let ports_b = [b.imap_port(), b.imaps_port(), b.smtp_port()];
    ensure!(
        ports_a.iter().all(|p| !ports_b.contains(p)),
        "{ports_a:?} {ports_b:?}"
    );
    ensure!(a.dir() != b.dir());

    a.send_smtp(
        "x@example.md",
        &["office@egov.md"],
        &message("x@example.md", "office@egov.md", "for-a"),
    )?;
    b.send_smtp(
        "x@example.md",
        &["office@egov.md"],
        &message("x@example.md", "office@egov.md", "for-b"),
    )?;
    a.wait_for_message("office@egov.md", "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "for-a")
    })?;
    b.wait_for_message("office@egov.md", "INBOX", DELIVERY_TIMEOUT, |m| {
        contains(m, "for-b")
    })?;
    ensure!(a.messages("office@egov.md", "INBOX")?.len() == 1);
    ensure!(b.messages("office@egov.md", "INBOX")?.len() == 1);

    let dir = a.dir().to_path_buf();
    drop(a);
    ensure!(!dir.exists(), "temp dir {} left behind", dir.display());
    ensure!(
        TcpStream::connect(("127.0.0.1", ports_a[2])).is_err(),
        "Postfix still listening after drop"
    );
    ensure!(
        TcpStream::connect(("127.0.0.1", ports_a[0])).is_err(),
        "Dovecot still listening after drop"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A minimal line-based client (IMAP/SMTP), plain or over rustls.

fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca_file) = ca_file {
        for cert in CertificateDer::pem_file_iter(ca_file)
            .with_context(|| format!("cannot read {}", ca_file.display()))?
        {
            roots.add(cert?)?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_handshake(config: Arc<rustls::ClientConfig>, name: &str, tcp: TcpStream) -> Result<Tls> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let server_name = match name.parse::<Ipv4Addr>() {
        Ok(ip) => ServerName::IpAddress(IpAddr::V4(ip).into()),
        Err(_) => ServerName::try_from(name.to_owned())?,
    };
    let conn = rustls::ClientConnection::new(config, server_name)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .with_context(|| format!("TLS handshake with {name:?} failed"))?;
    }
    Ok(tls)
}

struct Lines<S: Read + Write> {
    stream: S,
}

impl<S: Read + Write> Lines<S> {
    fn new(stream: S) -> Self {
        Lines { stream }
    }

    fn into_inner(self) -> S {
        self.stream
    }

    /// Reads one line byte by byte, so that nothing after it is consumed (before STARTTLS).
    fn read_line(&mut self) -> Result<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            if self.stream.read(&mut byte)? == 0 {
                bail!(
                    "connection closed (after {:?})",
                    String::from_utf8_lossy(&line)
                );
            }
            line.push(byte[0]);
            if byte[0] == b'\n' {
                let text = String::from_utf8_lossy(&line);
                return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
            }
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()?;
        Ok(())
    }

    fn expect_greeting(&mut self, prefix: &str) -> Result<String> {
        loop {
            let line = self.read_line()?;
            // Dovecot may first say "* OK Waiting for authentication process to respond..".
            if line.starts_with(prefix) && !line.contains("Waiting for") {
                return Ok(line);
            }
            ensure!(line.starts_with(prefix), "unexpected greeting {line:?}");
        }
    }

    /// Sends a tagged IMAP command line (tag = first word) and returns all lines up to and
    /// including the tagged response; Err unless it is OK.
    fn command(&mut self, line: &str) -> Result<Vec<String>> {
        self.send_raw(format!("{line}\r\n").as_bytes())?;
        let tag = line.split(' ').next().unwrap_or_default();
        self.tagged_reply(tag, line)
    }

    /// APPENDs `message` to `mailbox` with a non-synchronizing literal (LITERAL+).
    fn append(&mut self, tag: &str, mailbox: &str, message: &[u8]) -> Result<Vec<String>> {
        let line = format!("{tag} APPEND {mailbox} {{{}+}}", message.len());
        self.send_raw(format!("{line}\r\n").as_bytes())?;
        self.send_raw(message)?;
        self.send_raw(b"\r\n")?;
        self.tagged_reply(tag, &line)
    }

    fn tagged_reply(&mut self, tag: &str, line: &str) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            let reply = self.read_line()?;
            lines.push(reply.clone());
            if let Some(status) = reply.strip_prefix(&format!("{tag} ")) {
                ensure!(status.starts_with("OK"), "{line:?} failed: {lines:?}");
                return Ok(lines);
            }
        }
    }

    /// Sends an SMTP command and reads the (multi-line) reply; Err unless 2xx.
    fn smtp(&mut self, line: &str) -> Result<Vec<String>> {
        self.send_raw(format!("{line}\r\n").as_bytes())?;
        let mut lines = Vec::new();
        loop {
            let reply = self.read_line()?;
            lines.push(reply.clone());
            if reply.len() < 4 || reply.as_bytes()[3] != b'-' {
                ensure!(reply.starts_with('2'), "{line:?} failed: {lines:?}");
                return Ok(lines);
            }
        }
    }
}
