//! A real backlog (`cargo bench --bench backlog -- [N ...]`, default 1000;
//! needs root, Dovecot and Postfix, as `scripts/test.sh` installs them).
//!
//! Starts the test harness's Dovecot and Postfix on loopback, puts N
//! generated request mails (Romanian, Russian and English, distinct
//! senders, every tenth with a certificate attached) into office@'s INBOX
//! and runs `egov-intake run --once` on them: every mail recorded,
//! acknowledged (seen, moved to Processed) and answered through Postfix.
//! Beside it, in the same run and on the same servers:
//! - a plain IMAP client fetching the same N mails in batches of 100 UIDs
//!   (`UID FETCH (UID RFC822.SIZE BODY.PEEK[])`), parsing each with
//!   mail-parser, and acknowledging each batch with one `UID STORE` and one
//!   `UID MOVE`;
//! - a plain SMTP client sending N reply-sized mails over one connection,
//!   waiting for each 250;
//! - the embedded default (Maildir → SQLite → `.eml` files) on the same N
//!   mails, beside a plain read and parse of the same files.
//!
//! Prints mails/s, replies/s, CPU ms a mail and the peak RSS of the daemon.

#![allow(clippy::string_slice)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use support::MailServers;

const OFFICE: &str = "office@egov.md";
const BASELINE: &str = "baseline@egov.md";
const BATCH: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `embedded`: only the embedded default, without the mail servers.
    let embedded_only = args.iter().any(|a| a == "embedded");
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1000] } else { sizes };
    let certificate = support::fixtures::generate()
        .expect("certificate fixtures")
        .get("cert-valid-rsa2048")
        .bytes
        .clone();
    for n in sizes {
        let mails: Vec<Vec<u8>> = (0..n).map(|i| mail(i, &certificate)).collect();
        println!("\n== backlog of {n} mails ==");
        if !embedded_only {
            imap_backlog(&mails);
        }
        embedded_backlog(&mails);
    }
}

/// One request mail of a beneficiary: the language, the service and the
/// attachment vary with `i`.
fn mail(i: usize, certificate: &[u8]) -> Vec<u8> {
    let (subject, body) = match i % 3 {
        0 => (
            "Solicitare de integrare cu MPass",
            format!(
                "Bună ziua,\r\n\r\nPrimăria satului Nr. {i} (IDNO 1008600038413) solicită integrarea \
                 sistemului informațional „Registrul cererilor {i}” cu MPass. Sistemul permite \
                 locuitorilor să depună cereri online.\r\n\r\nCu stimă,\r\nIon Popescu\r\n"
            ),
        ),
        1 => (
            "Запрос на подключение к MSign",
            format!(
                "Добрый день!\r\n\r\nНаименование учреждения: ООО «Логистика {i}»\r\nIDNO: \
                 1003600012345\r\nНаименование системы: Портал заявок {i}\r\nКраткое описание: \
                 подписание договоров перевозки.\r\n\r\nС уважением,\r\nЕлена\r\n"
            ),
        ),
        _ => (
            "Integration request - MPass",
            format!(
                "Dear colleagues,\r\n\r\nCargoLane {i} SRL (IDNO 1012600039198) would like to \
                 integrate its web platform \"CargoLane Portal {i}\", which lets forwarders book \
                 transport, with MPass.\r\n\r\nKind regards,\r\nAndrei\r\n"
            ),
        ),
    };
    let head = format!(
        "From: Beneficiar {i} <b{i}@example.md>\r\nTo: {OFFICE}\r\nSubject: {subject}\r\n\
         Message-ID: <backlog-{i}@example.md>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0200\r\n\
         MIME-Version: 1.0\r\n"
    );
    let text = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    if i % 10 != 9 {
        return format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n"
        )
        .into_bytes();
    }
    let cer = base64::engine::general_purpose::STANDARD.encode(certificate);
    format!(
        "{head}Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n\
         --b{i}\r\nContent-Type: application/pkix-cert; name=\"sistem.cer\"\r\n\
         Content-Disposition: attachment; filename=\"sistem.cer\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{cer}\r\n--b{i}--\r\n"
    )
    .into_bytes()
}

/// The daemon over IMAP and SMTP, beside the plain clients.
fn imap_backlog(mails: &[Vec<u8>]) {
    let n = mails.len();
    let servers = MailServers::start().expect("mail servers");
    servers.deliver(BASELINE, mails).unwrap();
    servers.deliver(OFFICE, mails).unwrap();

    let start = Instant::now();
    let fetched = plain_imap_client(&servers, BASELINE);
    let imap_baseline = start.elapsed();
    assert_eq!(fetched, n, "the plain client fetched {fetched} of {n}");

    let start = Instant::now();
    plain_smtp_client(&servers, n);
    let smtp_baseline = start.elapsed();

    let config = daemon_config(&servers);
    let run = run_once(&config);
    let processed = servers.messages(OFFICE, "Processed").unwrap().len();
    assert_eq!(processed, n, "the daemon acknowledged {processed} of {n}");
    let answered = run.sent;
    println!(
        "IMAP end to end (recorded, acknowledged, answered): {:>8.0} mails/s  {:>6.2} ms CPU a mail  peak RSS {} MB  ({answered} replies)",
        n as f64 / run.wall.as_secs_f64(),
        run.cpu.as_secs_f64() * 1000.0 / n as f64,
        run.max_rss_kb / 1024,
    );
    println!(
        "  baseline, plain IMAP client in batches of {BATCH} (fetch, parse, STORE, MOVE): {:>8.0} mails/s",
        n as f64 / imap_baseline.as_secs_f64()
    );
    let replies = replies_alone(&servers, &config);
    println!(
        "replies alone (the same {} replies sent again, nothing to fetch): {:>8.0} replies/s  {:>6.2} ms CPU a reply",
        replies.sent,
        replies.sent as f64 / replies.wall.as_secs_f64(),
        replies.cpu.as_secs_f64() * 1000.0 / replies.sent.max(1) as f64,
    );
    println!(
        "  baseline, plain SMTP client, one connection, waiting for each 250:  {:>8.0} mails/s",
        n as f64 / smtp_baseline.as_secs_f64()
    );
    idle_latency(&servers, &config);
}

/// Reply latency over IDLE: the daemon running, one request at a time sent
/// to office@ through Postfix, timed until the reply is in the sender's
/// mailbox. Beside it, a plain mail from one user to another: what two
/// deliveries through the same servers cost without the daemon.
fn idle_latency(servers: &MailServers, config: &Path) {
    const SAMPLES: usize = 20;
    let daemon = start_daemon(config);
    let arrives = |user: &str, start: Instant| -> Duration {
        loop {
            if !servers
                .messages(user, "INBOX")
                .unwrap_or_default()
                .is_empty()
            {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "nothing reached {user}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    // The first mail after the start waits for the login and the first sync.
    std::thread::sleep(Duration::from_secs(2));
    let mut replies = Vec::new();
    let mut plain = Vec::new();
    for k in 0..SAMPLES {
        let from = format!("latency{k}@example.md");
        let raw = format!(
            "From: <{from}>\r\nTo: {OFFICE}\r\nSubject: Solicitare de integrare cu MPass\r\n\
             Message-ID: <latency-{k}@example.md>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0200\r\n\r\n\
             Primaria {k} (IDNO 1008600038413) solicita integrarea sistemului \"Registru {k}\" cu MPass.\r\n"
        );
        let start = Instant::now();
        servers.send_smtp(&from, &[OFFICE], raw.as_bytes()).unwrap();
        replies.push(arrives(&from, start));
        let to = format!("plain{k}@example.md");
        let start = Instant::now();
        servers.send_smtp(&from, &[&to], raw.as_bytes()).unwrap();
        plain.push(arrives(&to, start));
    }
    stop_daemon(daemon);
    let quantile = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "reply latency over IDLE ({SAMPLES} requests one at a time): p50 {:.0} ms, p90 {:.0} ms",
        quantile(&mut replies, 0.5),
        quantile(&mut replies, 0.9)
    );
    println!(
        "  baseline, one plain delivery through the same servers: p50 {:.0} ms, p90 {:.0} ms",
        quantile(&mut plain, 0.5),
        quantile(&mut plain, 0.9)
    );
}

fn daemon_config(servers: &MailServers) -> std::path::PathBuf {
    let dir = servers.dir();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let config = dir.join("bench.toml");
    std::fs::write(dir.join("imap-password"), servers.password()).unwrap();
    std::fs::write(
        &config,
        format!(
            r#"[database]
url = "sqlite://{d}/bench.db"
[rules]
dir = "{rules}"
[spool]
dir = "{d}/spool"
[[mailbox]]
name = "office"
role = "office"
address = "{OFFICE}"
[mailbox.source]
kind = "imap"
host = "127.0.0.1"
port = {imap}
tls = "plain"
allow_plaintext = true
username = "{OFFICE}"
password_file = "{d}/imap-password"
[transport]
kind = "smtp"
host = "127.0.0.1"
port = {smtp}
tls = "plain"
allow_plaintext = true
[staff]
from = "intake@egov.md"
alerts = ["helpdesk@egov.md"]
"#,
            d = dir.display(),
            rules = rules.display(),
            imap = servers.imap_port(),
            smtp = servers.smtp_port(),
        ),
    )
    .unwrap();
    config
}

/// The outbox on its own: every reply of the backlog marked unsent again,
/// then `run --once` with an empty INBOX sends them all.
fn replies_alone(servers: &MailServers, config: &Path) -> Run {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}/bench.db", servers.dir().display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE outbox SET sent_at = NULL, attempts = 0")
            .execute(&mut db)
            .await
            .unwrap();
    });
    let run = run_once(config);
    assert!(run.sent > 0, "no reply was sent again");
    run
}

struct Run {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: i64,
    /// Replies the outbox sent, as the daemon logged it.
    sent: usize,
}

/// `egov-intake run --once`, with the CPU and peak memory of that child.
fn run_once(config: &Path) -> Run {
    let before = children_usage();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["run", "--once", "--config"])
        .arg(config)
        .env("RUST_LOG", "egov_intake=info")
        .output()
        .unwrap();
    let wall = start.elapsed();
    let log = String::from_utf8_lossy(&out.stderr);
    let sent = log
        .lines()
        .filter(|l| l.contains("outbox drained"))
        .filter_map(|l| {
            l.split("sent=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(
        out.status.success(),
        "run --once failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = children_usage();
    Run {
        wall,
        cpu: after.0.saturating_sub(before.0),
        max_rss_kb: after.1,
        sent,
    }
}

/// CPU time of the waited-for children so far, and the largest peak RSS.
fn children_usage() -> (Duration, i64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct it is given, which is
    // zeroed, so it is initialised whatever the call does.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (time(usage.ru_utime) + time(usage.ru_stime), usage.ru_maxrss)
}

/// A minimal IMAP client over one connection: tagged commands, responses
/// read up to the tagged completion, literals collected.
struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Imap {
    fn connect(port: u16) -> Imap {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut imap = Imap {
            reader: BufReader::new(tcp.try_clone().unwrap()),
            writer: tcp,
            tag: 0,
        };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        imap
    }

    /// Runs `command`; the untagged lines and the literals they carried.
    fn run(&mut self, command: &str) -> (Vec<String>, Vec<Vec<u8>>) {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .unwrap();
        let (mut lines, mut literals) = (Vec::new(), Vec::new());
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{command}: {rest}");
                return (lines, literals);
            }
            if let Some(n) = literal_len(&line) {
                let mut data = vec![0; n];
                self.reader.read_exact(&mut data).unwrap();
                literals.push(data);
            }
            lines.push(line);
        }
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let body = line.trim_end().strip_suffix('}')?;
    body.rsplit('{').next()?.parse().ok()
}

/// Fetches, parses and acknowledges every mail of `user` in batches; the
/// number fetched.
fn plain_imap_client(servers: &MailServers, user: &str) -> usize {
    let mut imap = Imap::connect(servers.imap_port());
    imap.run(&format!("LOGIN {user} {}", servers.password()));
    imap.run("CREATE Processed");
    imap.run("SELECT INBOX");
    let (lines, _) = imap.run("UID SEARCH ALL");
    let uids: Vec<u32> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("* SEARCH"))
        .flat_map(|l| l.split_whitespace().filter_map(|u| u.parse().ok()))
        .collect::<Vec<u32>>();
    let mut fetched = 0;
    for chunk in uids.chunks(BATCH) {
        let set = chunk
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let (_, bodies) = imap.run(&format!("UID FETCH {set} (UID RFC822.SIZE BODY.PEEK[])"));
        for body in &bodies {
            let parsed = mail_parser::MessageParser::default().parse(body);
            assert!(parsed.is_some_and(|m| m.subject().is_some()));
        }
        fetched += bodies.len();
        imap.run(&format!("UID STORE {set} +FLAGS.SILENT (\\Seen)"));
        imap.run(&format!("UID MOVE {set} Processed"));
    }
    imap.run("LOGOUT");
    fetched
}

/// Sends `n` reply-sized mails over one SMTP connection, waiting for each
/// 250.
fn plain_smtp_client(servers: &MailServers, n: usize) {
    let tcp = TcpStream::connect(("127.0.0.1", servers.smtp_port())).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(tcp.try_clone().unwrap());
    let mut writer = tcp;
    let reply = |reader: &mut BufReader<TcpStream>, want: &str| loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with(want), "wanted {want}, got {line}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    reply(&mut reader, "220");
    writer.write_all(b"EHLO bench.local\r\n").unwrap();
    reply(&mut reader, "250");
    let body = "Bună ziua,\r\n\r\nAgenția de Guvernare Electronică a înregistrat mesajul dumneavoastră.\r\n".repeat(12);
    for i in 0..n {
        let to = format!("r{i}@example.md");
        for (line, want) in [
            ("MAIL FROM:<office@egov.md>\r\n".to_string(), "250"),
            (format!("RCPT TO:<{to}>\r\n"), "250"),
            ("DATA\r\n".to_string(), "354"),
        ] {
            writer.write_all(line.as_bytes()).unwrap();
            reply(&mut reader, want);
        }
        let message = format!(
            "From: office@egov.md\r\nTo: {to}\r\nSubject: Re: Solicitare [AGE-2026-{i:05}]\r\n\
             Message-ID: <baseline-{i}@egov.md>\r\n\r\n{body}.\r\n"
        );
        writer.write_all(message.as_bytes()).unwrap();
        reply(&mut reader, "250");
    }
    writer.write_all(b"QUIT\r\n").unwrap();
}

/// The embedded default on the same mails, beside a plain read and parse.
fn embedded_backlog(mails: &[Vec<u8>]) {
    let n = mails.len();
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("mail/office/new");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.path().join("mail/office").join(sub)).unwrap();
    }
    for (i, raw) in mails.iter().enumerate() {
        std::fs::write(new.join(format!("{i}.bench")), raw).unwrap();
    }
    let start = Instant::now();
    let mut parsed = 0;
    for entry in std::fs::read_dir(&new).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        parsed += usize::from(mail_parser::MessageParser::default().parse(&raw).is_some());
    }
    let baseline = start.elapsed();
    assert_eq!(parsed, n);

    let config = dir.path().join("embedded.toml");
    let text = support::embedded::config(dir.path(), dir.path(), &Default::default());
    std::fs::write(&config, text).unwrap();
    let run = run_once(&config);
    let answered = run.sent;
    println!(
        "embedded default (Maildir → SQLite → .eml):         {:>8.0} mails/s  {:>6.2} ms CPU a mail  peak RSS {} MB  ({answered} replies written)",
        n as f64 / run.wall.as_secs_f64(),
        run.cpu.as_secs_f64() * 1000.0 / n as f64,
        run.max_rss_kb / 1024,
    );
    println!(
        "  baseline, plain read + parse of the same files:    {:>8.0} mails/s",
        n as f64 / baseline.as_secs_f64()
    );

    // The daemon on the same mails: every case stays open, so the scheduler
    // works with N open cases while the backlog drains.
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("mail/office/new");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.path().join("mail/office").join(sub)).unwrap();
    }
    for (i, raw) in mails.iter().enumerate() {
        std::fs::write(new.join(format!("{i}.bench")), raw).unwrap();
    }
    let config = dir.path().join("embedded.toml");
    let text = support::embedded::config(dir.path(), dir.path(), &Default::default());
    std::fs::write(&config, text).unwrap();
    let daemon = run_daemon(&config, &dir.path().join("outbox"), answered);
    println!(
        "embedded, `run` until {answered} replies ({n} open cases): {:>8.0} mails/s  {:>6.2} ms CPU a mail  peak RSS {} MB  (CPU {:+.0} % of --once)",
        n as f64 / daemon.wall.as_secs_f64(),
        daemon.cpu.as_secs_f64() * 1000.0 / n as f64,
        daemon.max_rss_kb / 1024,
        (daemon.cpu.as_secs_f64() / run.cpu.as_secs_f64() - 1.0) * 100.0,
    );
}

/// `egov-intake run` (the daemon), logging warnings only.
fn start_daemon(config: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "egov_intake=warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Ends a daemon the way the service manager does, and waits for it.
fn stop_daemon(mut daemon: std::process::Child) -> std::process::ExitStatus {
    // SAFETY: kill only sends a signal to the child started here.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    daemon.wait().unwrap()
}

/// `egov-intake run` until `replies` reply files are written, then SIGTERM:
/// its CPU, and its own peak RSS (VmHWM, read before it ends).
fn run_daemon(config: &Path, outbox: &Path, replies: usize) -> Run {
    let before = children_usage();
    let start = Instant::now();
    let mut child = start_daemon(config);
    let written = || {
        std::fs::read_dir(outbox).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                .count()
        })
    };
    while written() < replies {
        assert!(
            start.elapsed() < Duration::from_secs(1800),
            "the daemon did not drain"
        );
        assert!(child.try_wait().unwrap().is_none(), "the daemon ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = start.elapsed();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let hwm_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    assert!(
        stop_daemon(child).success(),
        "the daemon did not stop cleanly"
    );
    let after = children_usage();
    Run {
        wall,
        cpu: after.0.saturating_sub(before.0),
        max_rss_kb: hwm_kb,
        sent: replies,
    }
}
