//! End to end on real servers: a beneficiary sends mail through Postfix,
//! Postfix delivers it over LMTP into Dovecot, the daemon (the real binary)
//! picks it up over IMAP IDLE, and its reply goes back through Postfix into
//! the beneficiary's mailbox, where the test reads it.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::MailServers;

/// Generous: CI machines are slow and reconnects back off.
const WAIT: Duration = Duration::from_secs(60);

const OFFICE: &str = "office@egov.md";
const MPASS: &str = "support.mpass@egov.md";
const STAFF: &str = "helpdesk@egov.md";

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(servers: &MailServers, env: &[(&str, &str)]) -> Daemon {
        Daemon::start_with(servers, env, 1500)
    }

    fn start_with_rules(servers: &MailServers, rules: &std::path::Path) -> Daemon {
        Daemon::launch(servers, &[], 1500, rules, "")
    }

    /// With `extra` TOML appended to the configuration.
    fn start_configured(servers: &MailServers, extra: &str) -> Daemon {
        let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
        Daemon::launch(servers, &[], 1500, &rules, extra)
    }

    fn start_with(servers: &MailServers, env: &[(&str, &str)], idle_timeout_secs: u64) -> Daemon {
        let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
        Daemon::launch(servers, env, idle_timeout_secs, &rules, "")
    }

    fn launch(
        servers: &MailServers,
        env: &[(&str, &str)],
        idle_timeout_secs: u64,
        rules: &std::path::Path,
        extra: &str,
    ) -> Daemon {
        let dir = servers.dir();
        let config = dir.join("intake.toml");
        std::fs::write(
            dir.join("imap-password"),
            format!("{}\n", servers.password()),
        )
        .unwrap();
        std::fs::write(
            &config,
            format!(
                r#"
[database]
url = "sqlite://{d}/intake.db"
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
port = {imaps}
tls = "implicit"
ca_file = "{ca}"
username = "{OFFICE}"
password_file = "{d}/imap-password"
command_timeout_secs = 10
idle_timeout_secs = {idle_timeout_secs}

[[mailbox]]
name = "mpass"
role = "mpass"
address = "{MPASS}"
[mailbox.source]
kind = "imap"
host = "127.0.0.1"
port = {imap}
tls = "starttls"
ca_file = "{ca}"
username = "{MPASS}"
password_env = "EGOV_TEST_IMAP_PASSWORD"
command_timeout_secs = 10

[[mailbox]]
name = "msign"
role = "msign"
address = "support.msign@egov.md"
[mailbox.source]
kind = "imap"
host = "127.0.0.1"
port = {imaps}
ca_file = "{ca}"
username = "support.msign@egov.md"
password_file = "{d}/imap-password"
command_timeout_secs = 10

[transport]
kind = "smtp"
host = "127.0.0.1"
port = {smtp}
tls = "starttls"
ca_file = "{ca}"
timeout_secs = 10

[outbox]
retry_base_secs = 1
retry_max_secs = 5

[staff]
from = "intake@egov.md"
alerts = ["{STAFF}"]
{extra}
"#,
                d = dir.display(),
                rules = rules.display(),
                imaps = servers.imaps_port(),
                imap = servers.imap_port(),
                smtp = servers.smtp_port(),
                ca = servers.ca_file().display(),
            ),
        )
        .unwrap();
        let log = dir.join(format!(
            "daemon-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let child = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
            .args(["run", "--config"])
            .arg(&config)
            .env("EGOV_TEST_IMAP_PASSWORD", servers.password())
            .env("RUST_LOG", "egov_intake=debug,info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("daemon never logged {needle:?}:\n{}", self.log());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait: the graceful path.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("daemon did not stop on SIGTERM:\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

fn cli(servers: &MailServers, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(args)
        .arg("--config")
        .arg(servers.dir().join("intake.toml"))
        .env("EGOV_TEST_IMAP_PASSWORD", servers.password())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn request(from: &str, to: &str, id: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: Ana Popescu <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n\
         Bună ziua,\r\nvă rog să examinați solicitarea de integrare a sistemului nostru cu MPass.\r\nIDNO: 1008600038413\r\n"
    )
    .into_bytes()
}

fn parsed(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).unwrap()
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    parsed(raw).header_raw(name).map(|v| v.trim().to_string())
}

fn subject(raw: &[u8]) -> String {
    parsed(raw).subject().unwrap_or_default().to_string()
}

fn is_reply_to(raw: &[u8], id: &str) -> bool {
    header(raw, "In-Reply-To").as_deref() == Some(&format!("<{id}>"))
}

fn wait_for_reply(servers: &MailServers, user: &str, id: &str) -> Vec<u8> {
    servers
        .wait_for_message(user, "INBOX", WAIT, |m| is_reply_to(m, id))
        .unwrap_or_else(|e| panic!("no reply to {id} for {user}: {e:#}\n{}", servers.logs()))
}

fn case_number(subject: &str) -> String {
    let start = subject.find("[AGE-").expect("case tag in subject") + 1;
    subject[start..start + 14].to_string()
}

#[test]
fn request_reply_threading_and_auto_replies() {
    let servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start(&servers, &[]);
    daemon.wait_for_log("egov-intake running");

    // A beneficiary writes to office@ over SMTP.
    let ana = "ana@primaria-ialoveni.md";
    let sent = Instant::now();
    servers
        .send_smtp(
            ana,
            &[OFFICE],
            &request(
                ana,
                OFFICE,
                "e2e-1@primaria-ialoveni.md",
                "Solicitare MPass",
                "",
            ),
        )
        .unwrap();
    let reply = wait_for_reply(&servers, ana, "e2e-1@primaria-ialoveni.md");
    eprintln!("reply arrived {:?} after sending", sent.elapsed());
    let subj = subject(&reply);
    assert!(subj.starts_with("Re: Solicitare MPass [AGE-"), "{subj}");
    let number = case_number(&subj);
    assert_eq!(
        header(&reply, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let our_id = header(&reply, "Message-ID").unwrap();
    let body = parsed(&reply).body_text(0).unwrap().to_string();
    assert!(body.contains(&number), "{body}");

    // The request left the inbox for Processed, marked seen, only after the commit.
    servers
        .wait_for_message(OFFICE, "Processed", WAIT, |m| {
            header(m, "Message-ID").as_deref() == Some("<e2e-1@primaria-ialoveni.md>")
        })
        .unwrap();
    assert!(servers.messages(OFFICE, "INBOX").unwrap().is_empty());

    // The beneficiary answers our reply: same case.
    let answer = request(
        ana,
        OFFICE,
        "e2e-2@primaria-ialoveni.md",
        &format!("Re: {subj}"),
        &format!("In-Reply-To: {our_id}\r\nReferences: <e2e-1@primaria-ialoveni.md> {our_id}\r\n"),
    );
    servers.send_smtp(ana, &[OFFICE], &answer).unwrap();
    let followup = wait_for_reply(&servers, ana, "e2e-2@primaria-ialoveni.md");
    assert!(
        subject(&followup).contains(&format!("[{number}]")),
        "{}",
        subject(&followup)
    );

    // An out-of-office answer gets nothing back.
    let ion = "ion@example.md";
    servers
        .send_smtp(
            ion,
            &[OFFICE],
            &request(
                ion,
                OFFICE,
                "e2e-ooo@example.md",
                "Automatic reply: Solicitare",
                "Auto-Submitted: auto-replied\r\n",
            ),
        )
        .unwrap();
    servers
        .wait_for_message(OFFICE, "Processed", WAIT, |m| {
            header(m, "Message-ID").as_deref() == Some("<e2e-ooo@example.md>")
        })
        .unwrap();
    // Mail processed after it proves the outbox had its chance.
    let marker = "marker@example.md";
    servers
        .send_smtp(
            marker,
            &[OFFICE],
            &request(marker, OFFICE, "e2e-marker@example.md", "Solicitare", ""),
        )
        .unwrap();
    wait_for_reply(&servers, marker, "e2e-marker@example.md");
    assert!(
        servers.messages(ion, "INBOX").unwrap().is_empty(),
        "the out-of-office was answered"
    );

    let cases = cli(&servers, &["cases", "list", "--json"]);
    let list = cases.as_array().unwrap();
    assert_eq!(list.len(), 2, "{cases}");
    assert_eq!(list[0]["number"], number);
    assert_eq!(list[0]["messages"], 2);

    daemon.stop();
    assert!(daemon.log().contains("shutting down"));
}

#[test]
fn sigkill_after_commit_before_ack_leaves_no_duplicate() {
    let servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start(&servers, &[("EGOV_INTAKE_FAILPOINT", "after-commit")]);
    daemon.wait_for_log("egov-intake running");
    let ana = "ana@primaria.md";
    servers
        .send_smtp(
            ana,
            &[OFFICE],
            &request(ana, OFFICE, "kill-1@primaria.md", "Solicitare", ""),
        )
        .unwrap();
    daemon.wait_for_log("failpoint after-commit reached");
    daemon.kill();
    // Committed, but not acknowledged: still in the inbox, unseen.
    assert_eq!(servers.messages(OFFICE, "INBOX").unwrap().len(), 1);

    let mut daemon = Daemon::start(&servers, &[]);
    servers
        .wait_for_message(OFFICE, "Processed", WAIT, |m| {
            header(m, "Message-ID").as_deref() == Some("<kill-1@primaria.md>")
        })
        .unwrap();
    wait_for_reply(&servers, ana, "kill-1@primaria.md");
    // Let the outbox settle, then count.
    let deadline = Instant::now() + WAIT;
    loop {
        let cases = cli(&servers, &["cases", "list", "--json"]);
        assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
        let number = cases[0]["number"].as_str().unwrap().to_string();
        let detail = cli(&servers, &["cases", "show", &number, "--json"]);
        let outbox = detail["outbox"].as_array().unwrap();
        assert_eq!(outbox.len(), 1, "{detail}");
        if outbox[0]["sent_at"].is_string() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reply never marked sent: {detail}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let replies = servers.messages(ana, "INBOX").unwrap();
    let subjects: Vec<String> = replies
        .iter()
        .map(|m| format!("{} {:?}", subject(m), header(m, "Message-ID")))
        .collect();
    assert_eq!(
        replies.len(),
        1,
        "duplicate reply: {subjects:?}\n{}",
        daemon.log()
    );
    daemon.stop();
}

#[test]
fn dovecot_restart_during_idle_is_survived() {
    let mut servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start(&servers, &[]);
    daemon.wait_for_log("egov-intake running");
    let ana = "ana@primaria.md";
    servers
        .send_smtp(
            ana,
            &[MPASS],
            &request(ana, MPASS, "idle-1@primaria.md", "Certificat de test", ""),
        )
        .unwrap();
    wait_for_reply(&servers, ana, "idle-1@primaria.md");

    // The daemon is back in IDLE on both mailboxes; pull the server away.
    std::thread::sleep(Duration::from_millis(500));
    servers.restart_dovecot().unwrap();
    daemon.wait_for_log("reconnecting");

    servers
        .send_smtp(
            ana,
            &[OFFICE],
            &request(ana, OFFICE, "idle-2@primaria.md", "Solicitare", ""),
        )
        .unwrap();
    servers
        .send_smtp(
            ana,
            &[MPASS],
            &request(ana, MPASS, "idle-3@primaria.md", "Certificat", ""),
        )
        .unwrap();
    wait_for_reply(&servers, ana, "idle-2@primaria.md");
    wait_for_reply(&servers, ana, "idle-3@primaria.md");
    daemon.stop();
}

#[test]
fn private_key_mail_is_quarantined_and_staff_alerted() {
    let servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start(&servers, &[]);
    daemon.wait_for_log("egov-intake running");
    let ana = "ana@primaria.md";
    let key = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDd";
    let raw = format!(
        "From: {ana}\r\nTo: {MPASS}\r\nSubject: Certificatul nostru\r\nMessage-ID: <key-1@primaria.md>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=_b1\"\r\n\r\n--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVă trimitem certificatul.\r\n\
         --=_b1\r\nContent-Type: application/x-x509-ca-cert; name=\"sistem.cer\"\r\nContent-Disposition: attachment; filename=\"sistem.cer\"\r\n\r\n\
         -----BEGIN PRIVATE KEY-----\r\n{key}\r\n-----END PRIVATE KEY-----\r\n--=_b1--\r\n"
    );
    servers.send_smtp(ana, &[MPASS], raw.as_bytes()).unwrap();
    let reply = wait_for_reply(&servers, ana, "key-1@primaria.md");
    assert!(parsed(&reply).body_text(0).unwrap().contains("STISC"));
    let alert = servers
        .wait_for_message(STAFF, "INBOX", WAIT, |m| subject(m).contains("PRIVATE KEY"))
        .unwrap();
    let alert_text = parsed(&alert).body_text(0).unwrap().to_string();
    assert!(alert_text.contains("sistem.cer"), "{alert_text}");
    assert!(!alert_text.contains(key));
    // Dovecot's Maildir++ store uses "." between folder levels.
    servers
        .wait_for_message(MPASS, "Quarantine.PrivateKeys", WAIT, |m| {
            header(m, "Message-ID").as_deref() == Some("<key-1@primaria.md>")
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", daemon.log()));
    assert!(servers.messages(MPASS, "INBOX").unwrap().is_empty());
    daemon.stop();
    let db = std::fs::read(servers.dir().join("intake.db")).unwrap();
    assert!(!db.windows(key.len()).any(|w| w == key.as_bytes()));
    assert!(!daemon.log().contains(key));
}

#[test]
fn idle_is_reissued_when_it_times_out() {
    let servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start_with(&servers, &[], 1);
    daemon.wait_for_log("egov-intake running");
    daemon.wait_for_log("IDLE timed out; re-issuing");
    std::thread::sleep(Duration::from_millis(1500));
    let ana = "ana@primaria.md";
    servers
        .send_smtp(
            ana,
            &[OFFICE],
            &request(ana, OFFICE, "reidle-1@primaria.md", "Solicitare", ""),
        )
        .unwrap();
    wait_for_reply(&servers, ana, "reidle-1@primaria.md");
    daemon.stop();
}

#[test]
fn a_pfx_leaves_no_trace_of_its_key() {
    let corpus = support::fixtures::generate().unwrap();
    let pfx = corpus.get("pkcs12-modern-aes");
    let servers = MailServers::start().unwrap();
    let mut daemon = Daemon::start(&servers, &[]);
    daemon.wait_for_log("egov-intake running");
    let ana = "ana@primaria.md";
    let raw = support::fixtures::mail_with_attachment("pfx-1@primaria.md", pfx);
    servers.send_smtp(ana, &[MPASS], &raw).unwrap();

    let reply = wait_for_reply(&servers, ana, "pfx-1@primaria.md");
    assert!(parsed(&reply).body_text(0).unwrap().contains("STISC"));
    servers
        .wait_for_message(STAFF, "INBOX", WAIT, |m| subject(m).contains("PRIVATE KEY"))
        .unwrap();
    servers
        .wait_for_message(MPASS, "Quarantine.PrivateKeys", WAIT, |m| {
            header(m, "Message-ID").as_deref() == Some("<pfx-1@primaria.md>")
        })
        .unwrap();
    assert!(
        servers.messages(MPASS, "INBOX").unwrap().is_empty(),
        "the mail left the inbox"
    );
    daemon.stop();

    // The key's bytes, and their base64, are nowhere we keep anything.
    let mut needles: Vec<Vec<u8>> = pfx.secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
    let middle = &pfx.bytes[pfx.bytes.len() / 2..pfx.bytes.len() / 2 + 48];
    needles.push(middle.to_vec());
    assert!(needles.len() >= 3);
    let dir = servers.dir();
    let mut places: Vec<(String, Vec<u8>)> = vec![("daemon log".into(), daemon.log().into_bytes())];
    for name in ["intake.db", "intake.db-wal", "intake.db-shm"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            places.push((name.into(), b));
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("spool")) {
        for e in entries.flatten() {
            places.push((
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap_or_default(),
            ));
        }
    }
    // What we sent: the reply and the staff alert.
    places.push(("reply".into(), reply));
    for m in servers.messages(STAFF, "INBOX").unwrap() {
        places.push(("staff alert".into(), m));
    }
    for (place, bytes) in &places {
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "key material in {place}"
            );
        }
    }
}

/// A Russian MSign test registration without IPs and signer type gets a
/// Russian reply asking for exactly those; the follow-up that gives them is
/// told the step is complete.
#[test]
fn an_incomplete_russian_msign_registration_is_completed_by_mail() {
    use base64::Engine as _;
    let servers = MailServers::start().unwrap();
    let d = servers.dir();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .expect("openssl is needed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "svc.key",
        "-out",
        "svc.pem",
        "-days",
        "700",
        "-subj",
        "/CN=sign.medtech.md",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=clientAuth",
    ]);
    openssl(&[
        "x509", "-in", "svc.pem", "-outform", "DER", "-out", "svc.cer",
    ]);
    let cer =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(d.join("svc.cer")).unwrap());
    let mut daemon = Daemon::start(&servers, &[]);
    daemon.wait_for_log("egov-intake running");
    const MSIGN: &str = "support.msign@egov.md";
    let ivan = "i.petrov@medtech.md";
    let mail = |id: &str, extra_headers: &str, text: &str| -> Vec<u8> {
        format!(
            "From: =?utf-8?b?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <{ivan}>\r\nTo: {MSIGN}\r\nSubject: =?utf-8?b?0KDQtdCz0LjRgdGC0YDQsNGG0LjRjyBNU2lnbg==?=\r\n\
             Message-ID: <{id}>\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_ru\"\r\n\r\n\
             --=_ru\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
             --=_ru\r\nContent-Type: application/pkix-cert; name=\"sign.cer\"\r\nContent-Disposition: attachment; filename=\"sign.cer\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{cer}\r\n--=_ru--\r\n"
        )
        .into_bytes()
    };
    let first = "Добрый день!\r\n\r\nПросим зарегистрировать нашу услугу в тестовой среде MSign.\r\n\r\n\
                 Название услуги (рум.): Semnarea contractelor\r\nНазвание услуги (рус.): Подписание договоров\r\n\
                 Название услуги (англ.): Contract signing\r\nОписание услуги: подписание договоров клиентов электронной подписью.\r\n\r\n\
                 С уважением,\r\nИван Петров";
    servers
        .send_smtp(ivan, &[MSIGN], &mail("ru-1@medtech.md", "", first))
        .unwrap();
    let reply = wait_for_reply(&servers, ivan, "ru-1@medtech.md");
    let text = parsed(&reply).body_text(0).unwrap().to_string();
    assert!(text.contains("Здравствуйте"), "not in Russian:\n{text}");
    assert!(!text.contains("Bună ziua"), "not only in Russian:\n{text}");
    assert!(text.contains("IP-адрес"), "IPs not asked for:\n{text}");
    assert!(
        text.contains("Тип подписанта"),
        "signer type not asked for:\n{text}"
    );
    assert!(
        !text.contains("Название услуги на"),
        "asked for what was given:\n{text}"
    );
    let our_id = header(&reply, "Message-ID").unwrap();
    let subj = subject(&reply);

    let second = "Добрый день!\r\n\r\nIP-адреса: 185.108.180.20, 185.108.180.21\r\nТип подписанта: физические и юридические лица\r\n\r\nС уважением,\r\nИван Петров";
    let headers = format!("In-Reply-To: {our_id}\r\nReferences: <ru-1@medtech.md> {our_id}\r\n");
    let follow = String::from_utf8(mail("ru-2@medtech.md", &headers, second))
        .unwrap()
        .replace(
            "Subject: =?utf-8?b?0KDQtdCz0LjRgdGC0YDQsNGG0LjRjyBNU2lnbg==?=",
            &format!("Subject: Re: {subj}"),
        );
    servers
        .send_smtp(ivan, &[MSIGN], follow.as_bytes())
        .unwrap();
    let done = wait_for_reply(&servers, ivan, "ru-2@medtech.md");
    let text = parsed(&done).body_text(0).unwrap().to_string();
    assert!(
        text.contains("Сведения для этого этапа полные"),
        "not complete:\n{text}"
    );
    assert!(text.contains("185.108.180.20"), "{text}");
    let cases = cli(&servers, &["cases", "list", "--json"]);
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    assert_eq!(cases[0]["missing"], serde_json::json!([]), "{cases}");
    daemon.stop();
}

/// A case near its deadline gives exactly one reminder, even across a
/// restart, and the digest arrives with the case in the right buckets.
#[test]
fn one_reminder_across_a_restart_and_a_digest_with_its_buckets() {
    let servers = MailServers::start().unwrap();
    let dir = servers.dir().to_path_buf();
    // Rules where the reminder window covers the whole answer period and
    // the digest is due at once.
    let rules = dir.join("rules");
    copy_dir(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules"),
        &rules,
    );
    std::fs::write(
        rules.join("lifecycle.toml"),
        "[reminders]\nstaff_before_working_days = [15]\n[digest]\ntime = \"00:00\"\n",
    )
    .unwrap();
    let mut daemon = Daemon::start_with_rules(&servers, &rules);
    daemon.wait_for_log("egov-intake running");
    let ion = "ion@primaria-orhei.md";
    let request = format!(
        "From: Ion <{ion}>\r\nTo: {OFFICE}\r\nSubject: Solicitare MPass\r\nMessage-ID: <dl-1@primaria-orhei.md>\r\n\r\n\
         Buna ziua,\r\nDenumirea institutiei: Primaria Orhei\r\nIDNO: 1007601001396\r\nDenumirea sistemului: e-Autorizatii\r\n\
         Descrierea succinta: portal pentru autorizatii de constructie.\r\n"
    );
    servers
        .send_smtp(ion, &[OFFICE], request.as_bytes())
        .unwrap();
    wait_for_reply(&servers, ion, "dl-1@primaria-orhei.md");
    let reminder = |m: &[u8]| subject(m).contains("answer due in");
    servers
        .wait_for_message(STAFF, "INBOX", WAIT, reminder)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", daemon.log()));
    daemon.stop();

    let mut daemon = Daemon::start_with_rules(&servers, &rules);
    daemon.wait_for_log("egov-intake running");
    // The restarted scheduler ticked (its first tick is at start) and found
    // everything queued already.
    std::thread::sleep(Duration::from_millis(1500));
    daemon.stop();
    let staff = servers.messages(STAFF, "INBOX").unwrap();
    assert_eq!(
        staff.iter().filter(|m| reminder(m)).count(),
        1,
        "exactly one reminder"
    );
    // Today's digest went out once, at the first tick.
    let digests = staff
        .iter()
        .filter(|m| subject(m).contains("Digest"))
        .count();
    assert_eq!(digests, 1, "one digest a day");
    // Sent now, it has the case in its buckets: new, and waiting for AGE with its due date.
    let out = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["digest", "--send", "--config"])
        .arg(dir.join("intake.toml"))
        .env("EGOV_TEST_IMAP_PASSWORD", servers.password())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = servers
        .wait_for_message(STAFF, "INBOX", WAIT, |m| {
            subject(m).contains("Digest") && subject(m).contains("1 new")
        })
        .unwrap();
    let text = parsed(&digest).body_text(0).unwrap().to_string();
    let section = |title: &str| -> String {
        let start = text
            .find(title)
            .unwrap_or_else(|| panic!("no {title:?} in\n{text}"));
        text[start..].split("\n\n").next().unwrap().to_string()
    };
    assert!(section("Cazuri noi").contains("AGE-2026-00001"), "{text}");
    assert!(
        section("Așteaptă AGE").contains("AGE-2026-00001: scadent"),
        "{text}"
    );
    assert!(!section("Depășite").contains("AGE-2026-00001"), "{text}");
    assert!(
        !section("Așteaptă beneficiarul").contains("AGE-2026-00001"),
        "{text}"
    );
    assert!(text.contains("office: ultimul mesaj 20"), "{text}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Invariants 1 and 2, and replies at most once in practice: SIGKILL at
/// random moments (seeded) while a backlog is processed and answered, then
/// one last run drains it. No mail lost, no case twice, and a reply sent
/// twice only when the kill fell between the server's acceptance and the
/// commit that marks it sent — at most 2 over all kills.
#[test]
fn sigkill_at_random_moments_during_a_backlog() {
    use rand::{Rng as _, SeedableRng as _};
    const MAILS: usize = 120;
    const KILLS: usize = 150;
    let servers = MailServers::start().unwrap();
    for i in 0..MAILS {
        let from = format!("b{i}@primaria.md");
        let raw = request(
            &from,
            OFFICE,
            &format!("backlog-{i}@primaria.md"),
            "Solicitare",
            "",
        );
        servers.send_smtp(&from, &[OFFICE], &raw).unwrap();
    }
    let deadline = Instant::now() + WAIT;
    while servers.messages(OFFICE, "INBOX").unwrap().len() < MAILS {
        assert!(Instant::now() < deadline, "backlog not delivered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let (mut in_flight, mut sending) = (Vec::new(), 0);
    for _ in 0..KILLS {
        let mut daemon = Daemon::start(&servers, &[]);
        std::thread::sleep(Duration::from_millis(rng.random_range(150..1200)));
        daemon.kill();
        let log = daemon.log();
        sending += usize::from(log.contains("handing over"));
        in_flight.push(replies_in_flight(&log));
    }
    // The attribution below reads these lines: they must be there.
    assert!(sending > 0, "no killed daemon logged a hand-over");
    let mut daemon = Daemon::start(&servers, &[]);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let processed = servers.messages(OFFICE, "Processed").unwrap().len();
        let pending = cli(&servers, &["cases", "list", "--json"])
            .as_array()
            .unwrap()
            .len();
        let replied = (0..MAILS)
            .filter(|i| {
                !servers
                    .messages(&format!("b{i}@primaria.md"), "INBOX")
                    .unwrap()
                    .is_empty()
            })
            .count();
        if processed == MAILS && pending == MAILS && replied == MAILS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not drained: {processed} processed, {pending} cases, {replied} answered\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    daemon.stop();
    assert!(servers.messages(OFFICE, "INBOX").unwrap().is_empty());
    assert!(
        servers
            .messages(OFFICE, "Quarantine")
            .unwrap_or_default()
            .is_empty()
    );
    let cases = cli(&servers, &["cases", "list", "--json"]);
    let mut openers: Vec<String> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["opened_by"].as_str().unwrap_or_default().to_string())
        .collect();
    openers.sort();
    openers.dedup();
    assert_eq!(openers.len(), MAILS, "a case was opened twice: {cases}");
    let mut duplicates = Vec::new();
    let mut kills_that_repeated = std::collections::BTreeSet::new();
    for i in 0..MAILS {
        let replies = servers
            .messages(&format!("b{i}@primaria.md"), "INBOX")
            .unwrap();
        let ids: Vec<_> = replies.iter().map(|m| header(m, "Message-ID")).collect();
        if ids.len() > 1 {
            // A repeated reply keeps its Message-ID, so clients fold it.
            assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
            let id = ids[0].clone().unwrap_or_default();
            let id = id.trim_matches(['<', '>']);
            // Sent twice only if a kill caught it between hand-over and commit.
            let kills: Vec<usize> = (0..KILLS).filter(|k| in_flight[*k].contains(id)).collect();
            assert!(
                kills.len() + 1 >= ids.len(),
                "b{i}: {} copies of {id}, in flight at only {} kills",
                ids.len(),
                kills.len()
            );
            kills_that_repeated.extend(kills);
            duplicates.push(format!("b{i}: {}", ids.len()));
        }
    }
    eprintln!(
        "{KILLS} kills over {MAILS} mails: {} duplicate replies {duplicates:?}, \
         from {} kills that caught replies in flight",
        duplicates.len(),
        kills_that_repeated.len()
    );
    // The window is one server acceptance and one commit long: few kills
    // fall in it, and each repeats at most what was in flight then.
    assert!(
        kills_that_repeated.len() <= 4,
        "{} of {KILLS} kills repeated replies: {duplicates:?}",
        kills_that_repeated.len()
    );
}

/// The replies a killed daemon had handed to the server without recording
/// them sent, from its debug log.
fn replies_in_flight(log: &str) -> std::collections::HashSet<String> {
    let id = |line: &str| {
        line.split_once("message_id=")
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or_default())
            .map(|id| id.trim_matches(['<', '>']).to_string())
    };
    let mut handed: std::collections::HashSet<String> = log
        .lines()
        .filter(|l| l.contains("handing over"))
        .filter_map(id)
        .collect();
    for line in log.lines().filter(|l| l.contains("mail sent")) {
        if let Some(id) = id(line) {
            handed.remove(&id);
        }
    }
    handed
}

/// A server that hangs with the connection open (SIGSTOP: the kernel still
/// acknowledges, nothing answers) is noticed within the IDLE check plus one
/// command timeout, and the mailbox reconnects once the server is back.
#[test]
fn a_hung_imap_server_is_noticed_and_left() {
    let servers = MailServers::start().unwrap();
    // IDLE checked every 2 s here; commands time out after 10 s.
    let daemon = Daemon::start_with(&servers, &[], 2);
    daemon.wait_for_log("IDLE timed out; re-issuing");
    servers.signal_dovecot("-STOP").unwrap();
    let stopped = Instant::now();
    let lost = "connection lost, reconnecting";
    let before = daemon.log().matches(lost).count();
    while daemon.log().matches(lost).count() == before {
        assert!(
            stopped.elapsed() < Duration::from_secs(40),
            "a hung server went unnoticed:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let noticed = stopped.elapsed();
    servers.signal_dovecot("-CONT").unwrap();
    assert!(
        noticed < Duration::from_secs(15),
        "noticed after {noticed:?}"
    );
    let ana = "ana@primaria.md";
    servers
        .send_smtp(
            ana,
            &[OFFICE],
            &request(ana, OFFICE, "after-stall@primaria.md", "Solicitare", ""),
        )
        .unwrap();
    wait_for_reply(&servers, ana, "after-stall@primaria.md");
    eprintln!("hung IMAP server noticed after {noticed:?}");
}

/// A backlog larger than one batch, with a mail over the size limit and one
/// holding a private key among it: each mail ends in its own folder, the
/// processed ones seen, nothing left behind and nothing twice.
#[test]
fn a_backlog_goes_in_batches_and_each_mail_to_its_folder() {
    const MAILS: usize = 230;
    let servers = MailServers::start().unwrap();
    let send = |from: &str, raw: &[u8]| servers.send_smtp(from, &[OFFICE], raw).unwrap();
    for i in 0..MAILS {
        let from = format!("b{i}@primaria.md");
        let id = format!("batch-{i}@primaria.md");
        send(&from, &request(&from, OFFICE, &id, "Solicitare", ""));
        if i == 40 {
            let mut big = request(&from, OFFICE, "big@primaria.md", "Anexe mari", "");
            big.extend(
                std::iter::repeat_n(b"x".repeat(76).into_iter().chain(*b"\r\n"), 4000).flatten(),
            );
            send(&from, &big);
        }
        if i == 120 {
            let key = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDd\r\n-----END PRIVATE KEY-----\r\n";
            let mut raw = request(&from, OFFICE, "key@primaria.md", "Cheia", "");
            raw.extend_from_slice(key.as_bytes());
            send(&from, &raw);
        }
    }
    let deadline = Instant::now() + WAIT;
    while servers.messages(OFFICE, "INBOX").unwrap().len() < MAILS + 2 {
        assert!(Instant::now() < deadline, "backlog not delivered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut daemon = Daemon::start_configured(&servers, "[limits]\nmax_message_bytes = 200000\n");
    let count = |folder: &str| servers.messages(OFFICE, folder).unwrap_or_default().len();
    let deadline = Instant::now() + Duration::from_secs(120);
    while count("Processed") < MAILS
        || count("Quarantine") < 1
        || count("Quarantine.PrivateKeys") < 1
    {
        assert!(Instant::now() < deadline, "not drained\n{}", daemon.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    daemon.stop();
    assert_eq!(count("INBOX"), 0);
    assert_eq!(
        (
            count("Processed"),
            count("Quarantine"),
            count("Quarantine.PrivateKeys")
        ),
        (MAILS, 1, 1)
    );
    let ids = |folder: &str| -> Vec<String> {
        servers
            .messages(OFFICE, folder)
            .unwrap()
            .iter()
            .filter_map(|m| header(m, "Message-ID"))
            .collect()
    };
    assert_eq!(ids("Quarantine"), ["<big@primaria.md>"]);
    assert_eq!(ids("Quarantine.PrivateKeys"), ["<key@primaria.md>"]);
    // Processed mail is seen; quarantined mail is left unseen for staff.
    let flags = |folder: &str| -> Vec<String> {
        let dir = servers.dir().join(format!("mail/{OFFICE}/.{folder}/cur"));
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let seen = |name: &String| name.rsplit(":2,").next().is_some_and(|f| f.contains('S'));
    assert_eq!(flags("Processed").len(), MAILS);
    assert!(
        flags("Processed").iter().all(seen),
        "{:?}",
        flags("Processed")
    );
    assert!(!flags("Quarantine").iter().any(seen));
    let cases = cli(&servers, &["cases", "list", "--json"]);
    let openers: std::collections::BTreeSet<String> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["opened_by"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(openers.len() >= MAILS, "{} cases", openers.len());
}
