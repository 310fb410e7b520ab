//! SMTP submission against the real Postfix, watched through a proxy that
//! sees every byte: PIPELINING used where the server offers it, and the
//! pool's connections reused.

// The shared support code slices strings it built itself.
#![allow(clippy::string_slice)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use egov_intake::config::{SmtpConfig, TlsMode};
use egov_intake::outbox::smtp::Smtp;
use support::MailServers;

/// How long the proxy holds the server's answer to MAIL FROM, waiting for
/// the client's RCPT TO. A pipelining client sends RCPT without waiting for
/// that answer; one that does not would wait for it, and it is held.
const HOLD: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Seen {
    /// MAIL FROM sent and its RCPT TO not yet.
    awaiting_rcpt: bool,
    /// Times the server's answer was held until `HOLD` passed.
    held: usize,
    /// Connections the proxy took.
    connections: usize,
    /// MAIL FROM commands forwarded.
    transactions: usize,
}

type Watch = Arc<(Mutex<Seen>, Condvar)>;

/// A proxy to `port` on loopback; returns its port and what it saw.
fn proxy(port: u16) -> (u16, Watch) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let own = listener.local_addr().unwrap().port();
    let watch: Watch = Arc::default();
    let seen = watch.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let client = client.unwrap();
            let server = TcpStream::connect(("127.0.0.1", port)).unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            seen.0.lock().unwrap().connections += 1;
            let (c, s, w) = (
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                seen.clone(),
            );
            std::thread::spawn(move || upstream(c, s, &w));
            let w = seen.clone();
            std::thread::spawn(move || downstream(server, client, &w));
        }
    });
    (own, watch)
}

/// Client to server, noting MAIL FROM and RCPT TO as they pass.
fn upstream(mut from: TcpStream, mut to: TcpStream, watch: &Watch) {
    let mut buf = [0u8; 65536];
    let mut text = Vec::new();
    while let Ok(n @ 1..) = from.read(&mut buf) {
        text.extend_from_slice(&buf[..n]);
        {
            let (seen, changed) = &**watch;
            let mut seen = seen.lock().unwrap();
            for line in text.split(|&b| b == b'\n') {
                if line.starts_with(b"MAIL FROM:") {
                    seen.awaiting_rcpt = true;
                    seen.transactions += 1;
                } else if line.starts_with(b"RCPT TO:") {
                    seen.awaiting_rcpt = false;
                }
            }
            changed.notify_all();
        }
        // Keep an unfinished line for the next read.
        let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        text.drain(..keep);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Server to client, holding answers while a RCPT TO is awaited.
fn downstream(mut from: TcpStream, mut to: TcpStream, watch: &Watch) {
    let mut buf = [0u8; 65536];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        {
            let (seen, changed) = &**watch;
            let seen = seen.lock().unwrap();
            let (mut seen, waited) = changed
                .wait_timeout_while(seen, HOLD, |s| s.awaiting_rcpt)
                .unwrap();
            if waited.timed_out() {
                seen.held += 1;
                seen.awaiting_rcpt = false;
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

fn smtp(port: u16, pool_size: u32) -> Smtp {
    Smtp::new(
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: TlsMode::Plain,
            ca_file: None,
            username: None,
            password: None,
            timeout: Duration::from_secs(20),
            pool_size,
        },
        None,
        None,
    )
}

fn mail(i: usize) -> (lettre::address::Envelope, Vec<u8>) {
    let to = format!("pipelined{i}@example.md");
    let envelope = lettre::address::Envelope::new(
        Some("office@egov.md".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    let raw = format!(
        "From: office@egov.md\r\nTo: {to}\r\nSubject: Re: Solicitare\r\n\
         Message-ID: <pipelined-{i}@egov.md>\r\n\r\nPrimit.\r\n"
    );
    (envelope, raw.into_bytes())
}

/// Postfix offers PIPELINING: MAIL, RCPT and DATA go out together, so the
/// proxy never has to hold an answer; every mail arrives; eight mails over a
/// pool of two open two connections, not eight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_rcpt_and_data_are_pipelined_over_reused_connections() {
    const MAILS: usize = 8;
    let servers = MailServers::start().unwrap();
    let (port, watch) = proxy(servers.smtp_port());
    let smtp = smtp(port, 2);
    let sends = (0..MAILS).map(|i| {
        let smtp = &smtp;
        async move {
            let (envelope, raw) = mail(i);
            smtp.send(&envelope, &raw).await
        }
    });
    for sent in futures::future::join_all(sends).await {
        sent.unwrap();
    }
    for i in 0..MAILS {
        servers
            .wait_for_message(
                &format!("pipelined{i}@example.md"),
                "INBOX",
                Duration::from_secs(30),
                |m| String::from_utf8_lossy(m).contains(&format!("<pipelined-{i}@egov.md>")),
            )
            .unwrap();
    }
    let seen = watch.0.lock().unwrap();
    assert_eq!(seen.transactions, MAILS);
    assert_eq!(seen.held, 0, "an answer to MAIL FROM was waited for");
    assert_eq!(seen.connections, 2, "one connection per pool slot");
}
