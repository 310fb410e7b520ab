//! The whole pipeline on the embedded default — Maildir in, SQLite, `.eml`
//! files out — through the library and through the `egov-intake` binary.
//! No server is needed here; tests/end_to_end.rs runs the same against real
//! Dovecot and Postfix.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

use std::path::{Path, PathBuf};
use std::process::Command;

use egov_intake::config;
use egov_intake::daemon::Instance;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(env.config_path(), env.config_text()).unwrap();
        env
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn config_path(&self) -> PathBuf {
        self.path("intake.toml")
    }

    fn config_text(&self) -> String {
        let d = self.dir.path().display();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
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
address = "office@egov.md"
source = {{ kind = "maildir", path = "{d}/mail/office" }}
[[mailbox]]
name = "mpass"
role = "mpass"
address = "support.mpass@egov.md"
source = {{ kind = "maildir", path = "{d}/mail/mpass" }}
[transport]
kind = "file"
dir = "{d}/outbox"
[staff]
from = "intake@egov.md"
alerts = ["staff@egov.md"]
[limits]
max_message_bytes = 100000
"#,
            rules = rules.display()
        )
    }

    /// Gives this environment a rules folder of its own (a copy of the
    /// shipped one) to change, and returns it.
    fn own_rules(&self) -> PathBuf {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let rules = self.path("rules");
        copy_tree(&shipped, &rules);
        let text = self.config_text().replace(
            &format!("dir = \"{}\"", shipped.display()),
            &format!("dir = \"{}\"", rules.display()),
        );
        std::fs::write(self.config_path(), text).unwrap();
        rules
    }

    async fn instance(&self) -> Instance {
        let config = config::load(&self.config_path()).unwrap();
        Instance::open(config).await.unwrap()
    }

    fn deliver(&self, mailbox: &str, name: &str, raw: &[u8]) {
        let new = self.path(&format!("mail/{mailbox}/new"));
        std::fs::create_dir_all(&new).unwrap();
        std::fs::create_dir_all(self.path(&format!("mail/{mailbox}/cur"))).unwrap();
        std::fs::write(new.join(name), raw).unwrap();
    }

    /// Replies written to the outbox (the daily digest may be there too).
    fn replies(&self) -> usize {
        self.files("outbox")
            .iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("reply")
            })
            .count()
    }

    fn files(&self, rel: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path(rel))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
        v.sort();
        v
    }

    /// The mails written to the outbox: header lines, a blank line, the decoded text.
    fn outbox(&self) -> Vec<String> {
        self.files("outbox")
            .iter()
            .map(|p| decoded(&std::fs::read(p).unwrap()))
            .collect()
    }

    fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_egov-intake"))
            .args(args)
            .env("EGOV_INTAKE_CONFIG", self.config_path())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    fn cases_json(&self) -> serde_json::Value {
        let out = self.cli(&["cases", "list", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// A running daemon, killed when the test ends however it ends, so a failed
/// assertion does not leave it running.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(id: &str, from: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: office@egov.md\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n\
         Bună ziua,\r\nvă rog să examinați solicitarea de integrare a sistemului nostru cu MPass.\r\nIDNO: 1008600038413\r\n"
    )
    .into_bytes()
}

fn decoded(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    format!("{head}\r\n\r\n{}", parsed.body_text(0).unwrap_or_default())
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

#[tokio::test]
async fn request_gets_one_reply_and_a_second_run_changes_nothing() {
    let env = Env::new();
    env.deliver(
        "office",
        "1700000000.1.host",
        &request(
            "a1@primaria.md",
            "Ana <ana@primaria.md>",
            "Solicitare MPass",
            "",
        ),
    );
    let i = env.instance().await;
    i.run_once().await.unwrap();

    let out = env.outbox();
    assert_eq!(out.len(), 1);
    let reply = &out[0];
    assert_eq!(
        header(reply, "Subject"),
        Some("Re: Solicitare MPass [AGE-2026-00001]"),
        "{reply}"
    );
    assert_eq!(header(reply, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(header(reply, "In-Reply-To"), Some("<a1@primaria.md>"));
    assert_eq!(header(reply, "To"), Some("ana@primaria.md"));

    assert!(env.files("mail/office/new").is_empty());
    let cur = env.files("mail/office/cur");
    assert_eq!(cur.len(), 1);
    assert!(cur[0].to_string_lossy().ends_with(":2,S"));

    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), 1);
    let number = cases[0]["number"].as_str().unwrap().to_string();
    assert!(header(reply, "Subject").unwrap().contains(&number));
    assert_eq!(cases[0]["service"], "mpass");
    assert_eq!(cases[0]["idno"], "1008600038413");

    // Again: nothing new.
    i.run_once().await.unwrap();
    assert_eq!(env.outbox().len(), 1);
    assert_eq!(env.cases_json().as_array().unwrap().len(), 1);

    let show = env.cli(&["cases", "show", &number, "--json"]);
    assert!(show.status.success());
    let detail: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(detail["messages"].as_array().unwrap().len(), 1);
    assert!(detail["outbox"][0]["sent_at"].is_string());
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "mail_received",
            "case_opened",
            "request_assessed",
            "reply_queued",
            "mail_sent"
        ]
    );
}

#[tokio::test]
async fn crash_after_commit_before_ack_duplicates_nothing() {
    let env = Env::new();
    let raw = request("c1@primaria.md", "ana@primaria.md", "Solicitare", "");
    env.deliver("office", "1700000000.2.host", &raw);
    let i = env.instance().await;
    // Commit without acknowledging: what a crash between the two leaves.
    let mb = i.config.mailboxes[0].clone();
    i.pipeline
        .process(
            &mb,
            "maildir:1700000000.2.host",
            std::sync::Arc::new(raw.clone()),
            raw.len(),
        )
        .await
        .unwrap();
    assert_eq!(env.files("mail/office/new").len(), 1);

    i.run_once().await.unwrap();
    assert!(env.files("mail/office/new").is_empty());
    assert_eq!(env.cases_json().as_array().unwrap().len(), 1);
    assert_eq!(env.outbox().len(), 1);
}

#[tokio::test]
async fn same_mail_in_two_mailboxes_is_one_case() {
    let env = Env::new();
    let raw = request(
        "cc1@primaria.md",
        "ana@primaria.md",
        "Certificat",
        "Cc: support.mpass@egov.md\r\n",
    );
    // Each server adds its own trace headers.
    let office = [
        b"Delivered-To: office@egov.md\r\nReturn-Path: <ana@primaria.md>\r\n".as_slice(),
        &raw,
    ]
    .concat();
    let mpass = [
        b"Delivered-To: support.mpass@egov.md\r\nReturn-Path: <ana@primaria.md>\r\n".as_slice(),
        &raw,
    ]
    .concat();
    env.deliver("office", "1700000000.3.host", &office);
    env.deliver("mpass", "1700000000.4.host", &mpass);
    env.instance().await.run_once().await.unwrap();

    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    assert_eq!(env.outbox().len(), 1);
    let number = cases[0]["number"].as_str().unwrap();
    let detail: serde_json::Value =
        serde_json::from_slice(&env.cli(&["cases", "show", number, "--json"]).stdout).unwrap();
    let deliveries = detail["messages"][0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{detail}");
    assert!(env.files("mail/mpass/new").is_empty());
}

#[tokio::test]
async fn replies_thread_by_message_id_and_by_tag_only_for_participants() {
    let env = Env::new();
    env.deliver(
        "office",
        "1700000000.5.host",
        &request("t1@primaria.md", "ana@primaria.md", "Solicitare", ""),
    );
    let i = env.instance().await;
    i.run_once().await.unwrap();
    let reply = env.outbox().remove(0);
    let our_id = header(&reply, "Message-ID").unwrap().to_string();
    let subject = header(&reply, "Subject").unwrap().to_string();

    // The beneficiary answers our reply.
    let answer = request(
        "t2@primaria.md",
        "ana@primaria.md",
        &format!("Re: {subject}"),
        &format!("In-Reply-To: {our_id}\r\nReferences: <t1@primaria.md> {our_id}\r\n"),
    );
    env.deliver("office", "1700000000.6.host", &answer);
    // A colleague on the same case by tag only.
    let tagged = request(
        "t3@primaria.md",
        "ana@primaria.md",
        "Acordul semnat [AGE-2026-00001]",
        "",
    );
    env.deliver("office", "1700000000.7.host", &tagged);
    // A stranger quoting the tag does not get into the case.
    let stranger = request("t4@other.md", "eve@other.md", "Re: [AGE-2026-00001]", "");
    env.deliver("office", "1700000000.8.host", &stranger);
    i.run_once().await.unwrap();

    let cases = env.cases_json();
    let numbers: Vec<&str> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["AGE-2026-00001", "AGE-2026-00002"], "{cases}");
    assert_eq!(cases[0]["messages"], 3);
    assert_eq!(cases[1]["opened_by"], "eve@other.md");
}

#[tokio::test]
async fn rate_limit_and_auto_replies() {
    let env = Env::new();
    for n in 0..4 {
        env.deliver(
            "office",
            &format!("1700000001.{n}.host"),
            &request(
                &format!("r{n}@primaria.md"),
                "ana@primaria.md",
                &format!("Cerere {n}"),
                "",
            ),
        );
    }
    env.deliver(
        "office",
        "1700000001.9.host",
        &request(
            "ooo@primaria.md",
            "ion@primaria.md",
            "Automatic reply",
            "Auto-Submitted: auto-replied\r\n",
        ),
    );
    env.instance().await.run_once().await.unwrap();
    // Three replies in ten minutes to one person, no reply to the robot.
    assert_eq!(env.outbox().len(), 3);
    let cases = env.cases_json();
    assert_eq!(
        cases.as_array().unwrap().len(),
        4,
        "the out-of-office opens no case"
    );
    let last = cases[3]["number"].as_str().unwrap();
    let detail: serde_json::Value =
        serde_json::from_slice(&env.cli(&["cases", "show", last, "--json"]).stdout).unwrap();
    let suppressed = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reply_suppressed")
        .unwrap();
    assert!(
        suppressed["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("rate limit"),
        "{detail}"
    );
}

#[tokio::test]
async fn oversized_and_garbage_mail_are_recorded_and_the_loop_goes_on() {
    let env = Env::new();
    let mut big = request("big@primaria.md", "ana@primaria.md", "Documente", "");
    big.extend(std::iter::repeat_n(b'x', 120_000));
    env.deliver("office", "1700000002.1.host", &big);
    env.deliver(
        "office",
        "1700000002.2.host",
        b"\x00\x01 this is not mail at all \xff\xfe",
    );
    env.deliver(
        "office",
        "1700000002.3.host",
        &request("ok@primaria.md", "ana@primaria.md", "Solicitare", ""),
    );
    env.instance().await.run_once().await.unwrap();

    // The oversized one: quarantined with a spool copy, sender told, staff alerted.
    let quarantined = env.files("mail/office/.Quarantine/cur");
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].to_string_lossy().ends_with(":2,"),
        "left unseen for staff"
    );
    let spool = env.files("spool/office");
    assert_eq!(spool.len(), 1);
    // What was read of it: the head, which holds the whole header.
    let copy = std::fs::read(&spool[0]).unwrap();
    assert!(
        !copy.is_empty() && big.starts_with(&copy),
        "spool copy is not the mail's head"
    );
    assert!(String::from_utf8_lossy(&copy).contains("Subject: Documente"));
    let out = env.outbox();
    assert!(
        out.iter()
            .any(|m| header(m, "To") == Some("staff@egov.md") && m.contains("too_large"))
    );
    assert!(
        out.iter()
            .any(|m| header(m, "To") == Some("ana@primaria.md")
                && header(m, "Subject").unwrap().starts_with("Re: Documente"))
    );
    // The garbage one has no sender to answer, but is recorded; the good one is answered.
    assert!(env.files("mail/office/new").is_empty());
    assert_eq!(env.files("mail/office/cur").len(), 2);
    assert!(
        out.iter()
            .any(|m| header(m, "Subject").is_some_and(|s| s.starts_with("Re: Solicitare")))
    );
}

#[tokio::test]
async fn private_key_bytes_are_stored_nowhere() {
    let env = Env::new();
    let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
    let raw = format!(
        "From: ana@primaria.md\r\nTo: support.mpass@egov.md\r\nSubject: Certificat\r\nMessage-ID: <k1@primaria.md>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_Part_7\"\r\n\r\n--=_Part_7\r\nContent-Type: text/plain\r\n\r\nCheia atasata.\r\n\
         --=_Part_7\r\nContent-Type: application/x-x509-ca-cert; name=cert.cer\r\nContent-Disposition: attachment; filename=cert.cer\r\n\r\n\
         -----BEGIN PRIVATE KEY-----\r\n{secret}\r\n-----END PRIVATE KEY-----\r\n--=_Part_7--\r\n"
    );
    env.deliver("mpass", "1700000003.1.host", raw.as_bytes());
    env.instance().await.run_once().await.unwrap();

    assert_eq!(env.files("mail/mpass/.Quarantine.PrivateKeys/cur").len(), 1);
    assert!(env.files("spool").is_empty(), "no spool copy of a key");
    for path in [env.path("intake.db"), env.path("intake.db-wal")] {
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "key in {}",
                path.display()
            );
        }
    }
    // The stored copy is the redacted one: the note, not the key.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.path("intake.db").display()))
        .await
        .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT raw FROM message")
        .fetch_one(&pool)
        .await
        .unwrap();
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        stored.contains("private key removed before storage"),
        "{stored}"
    );
    assert!(stored.contains("Cheia atasata."), "{stored}");
    let out = env.outbox();
    assert_eq!(out.len(), 2, "a reply and a staff alert");
    assert!(out.iter().all(|m| !m.contains(secret)));
    assert!(out.iter().any(|m| m.contains("STISC")));
}

#[test]
fn ingest_dry_run_writes_nothing_and_prints_the_decision() {
    let env = Env::new();
    let file = env.path("req.eml");
    std::fs::write(
        &file,
        request(
            "d1@primaria.md",
            "Ana <ana@primaria.md>",
            "Solicitare MPass",
            "",
        ),
    )
    .unwrap();
    let out = env.cli(&["ingest", "--dry-run", "--json", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["mailbox"], "office");
    assert_eq!(v["language"], "ro");
    assert_eq!(v["service"], "mpass");
    assert_eq!(v["stage"], "request");
    assert_eq!(v["idno"], "1008600038413");
    assert_eq!(v["idno_valid"], true);
    assert_eq!(v["case"]["new"], true);
    assert_eq!(v["case"]["number"], "AGE-2026-00001");
    assert_eq!(v["disposition"]["to"], "processed");
    assert_eq!(v["private_key_found"], false);
    assert_eq!(v["replies"][0]["to"], "ana@primaria.md");
    assert!(
        v["replies"][0]["subject"]
            .as_str()
            .unwrap()
            .ends_with("[AGE-2026-00001]")
    );
    assert!(
        !env.path("intake.db").exists(),
        "dry run created the database"
    );
    assert!(!env.path("outbox").exists());

    // Without --dry-run the case is recorded and the reply written.
    let out = env.cli(&["ingest", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("new case AGE-2026-00001"));
    assert_eq!(env.outbox().len(), 1);
    // Ingesting the same file again recognises it.
    let out = env.cli(&["ingest", "--json", file.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["already_recorded"], true);
}

#[test]
fn check_reports_every_error_with_file_and_line() {
    let env = Env::new();
    let broken = env
        .config_text()
        .replace("address = \"office@egov.md\"", "address = \"office\"")
        .replace("kind = \"file\"", "kind = \"file\"\nretries = 3");
    std::fs::write(env.config_path(), &broken).unwrap();
    let out = env.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:", env.config_path().display())),
        "{err}"
    );
    assert!(err.contains("retries"), "{err}");

    std::fs::write(env.config_path(), env.config_text()).unwrap();
    let out = env.cli(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .arg("check")
        .env_remove("EGOV_INTAKE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn failed_sends_wait_for_their_retry() {
    let env = Env::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = env.dir.path().display().to_string();
    let text = env.config_text().replace(
        &format!("kind = \"file\"\ndir = \"{d}/outbox\""),
        &format!("kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {closed}\ntls = \"plain\"\nallow_plaintext = true\ntimeout_secs = 2"),
    );
    assert!(text.contains("kind = \"smtp\""));
    std::fs::write(env.config_path(), text).unwrap();
    env.deliver(
        "office",
        "1700000004.1.host",
        &request("s1@primaria.md", "ana@primaria.md", "Solicitare", ""),
    );
    let i = env.instance().await;
    i.run_once().await.unwrap();

    let outbox = |env: &Env| {
        let detail: serde_json::Value = serde_json::from_slice(
            &env.cli(&["cases", "show", "AGE-2026-00001", "--json"])
                .stdout,
        )
        .unwrap();
        detail["outbox"][0].clone()
    };
    let row = outbox(&env);
    assert_eq!(row["attempts"], 1, "{row}");
    assert!(
        row["sent_at"].is_null() && row["failed_at"].is_null(),
        "{row}"
    );
    assert!(row["last_error"].is_string(), "{row}");
    // Not due yet: a second pass leaves it alone.
    i.run_once().await.unwrap();
    assert_eq!(outbox(&env)["attempts"], 1);
}

#[tokio::test]
async fn suppressed_replies_of_caseless_mail_are_recorded() {
    let env = Env::new();
    env.deliver(
        "office",
        "1700000005.1.host",
        &request(
            "b1@mx.md",
            "MAILER-DAEMON@mx.md",
            "Undelivered Mail Returned to Sender",
            "Return-Path: <>\r\n",
        ),
    );
    env.instance().await.run_once().await.unwrap();
    assert!(env.outbox().is_empty());
    assert!(env.cases_json().as_array().unwrap().is_empty());
    let store =
        egov_intake::store::Store::open(&format!("sqlite://{}", env.path("intake.db").display()))
            .await
            .unwrap();
    drop(store);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.path("intake.db").display()))
        .await
        .unwrap();
    let reason: String = sqlx::query_scalar(
        "SELECT json_extract(detail, '$.reason') FROM case_event WHERE kind = 'reply_suppressed' AND case_id IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(reason.contains("bounce"), "{reason}");
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_set_aside_and_the_mailbox_moves_on() {
    let env = Env::new();
    // Rules whose Romanian reply cannot be rendered: every Romanian mail fails.
    let rules = env.own_rules();
    std::fs::write(
        rules.join("templates/ro/received.txt"),
        "{{ case_number | no_such_filter }}\n",
    )
    .unwrap();
    let raw = request("p1@primaria.md", "ana@primaria.md", "Solicitare", "");
    env.deliver("office", "1700000006.1.host", &raw);

    let i = env.instance().await;
    let mb = i.config.mailboxes[0].clone();
    let egov_intake::config::SourceConfig::Maildir(cfg) = &mb.source else {
        unreachable!()
    };
    let mut failures = egov_intake::source::Failures::default();
    let cancel = tokio_util::sync::CancellationToken::new();
    for _ in 1..egov_intake::source::POISON_ATTEMPTS {
        let e = egov_intake::source::maildir::drain(&i.pipeline, &mb, cfg, &mut failures, &cancel)
            .await;
        assert!(e.is_err());
        assert_eq!(
            env.files("mail/office/new").len(),
            1,
            "left in place while it may be transient"
        );
    }
    egov_intake::source::maildir::drain(&i.pipeline, &mb, cfg, &mut failures, &cancel)
        .await
        .unwrap();
    assert!(env.files("mail/office/new").is_empty());
    assert_eq!(env.files("mail/office/.Quarantine/cur").len(), 1);
    let spooled = env.files("spool/office");
    assert_eq!(spooled.len(), 1);
    assert_eq!(std::fs::read(&spooled[0]).unwrap(), raw);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_daemon_answers_mail_dropped_into_the_maildir_while_it_runs() {
    let env = Env::new();
    let mut child = Daemon(
        Command::new(env!("CARGO_BIN_EXE_egov-intake"))
            .args(["run", "--config"])
            .arg(env.config_path())
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Deliver the Maildir way: write into tmp/, then rename into new/.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let tmp = env.path("mail/office/tmp/1700000007.1.host");
    std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
    std::fs::write(
        &tmp,
        request("w1@primaria.md", "ana@primaria.md", "Solicitare", ""),
    )
    .unwrap();
    std::fs::rename(&tmp, env.path("mail/office/new/1700000007.1.host")).unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.replies() == 0 {
        assert!(std::time::Instant::now() < deadline, "no reply written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The reply may leave before the mail is moved: both follow the commit.
    while env.files("mail/office/cur").len() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "mail not acknowledged"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // A plain copy into new/ (as a person would do), written slowly: the
    // daemon waits for the whole file.
    {
        use std::io::Write as _;
        let raw = request("w2@primaria.md", "ion@primaria.md", "Solicitare MPass", "");
        let mut f = std::fs::File::create(env.path("mail/office/new/1700000007.2.host")).unwrap();
        f.write_all(&raw[..40]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        f.write_all(&raw[40..]).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.replies() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reply to the copied mail"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), 2, "{cases}");
    assert_eq!(cases[1]["opened_by"], "ion@primaria.md", "{cases}");
    assert_eq!(cases[1]["subject"], "Solicitare MPass", "{cases}");

    Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("shutting down"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
}

/// openssl in `dir`; the test fails when it is missing.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny PDF agreement and its detached CMS signature (`.p7s`) by a
/// throwaway signer named `subject`, made with openssl in `dir`.
fn signed_agreement(dir: &Path, subject: &str) -> (Vec<u8>, Vec<u8>) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "signer.key",
            "-out",
            "signer.pem",
            "-days",
            "30",
            "-utf8",
            "-subj",
            subject,
        ],
    );
    let pdf =
        b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec();
    std::fs::write(dir.join("acord.pdf"), &pdf).unwrap();
    openssl(
        dir,
        &[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "acord.pdf",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-outform",
            "DER",
            "-out",
            "acord.pdf.p7s",
        ],
    );
    (pdf, std::fs::read(dir.join("acord.pdf.p7s")).unwrap())
}

fn mail_with_files(id: &str, subject: &str, files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    use base64::Engine as _;
    let mut raw = format!(
        "From: Ana Popescu <ana@primaria.md>\r\nTo: office@egov.md\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_sig\"\r\n\r\n\
         --=_sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBună ziua, anexăm acordul semnat pentru MPass.\r\n"
    );
    for (name, ct, data) in files {
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        raw.push_str(&format!(
            "--=_sig\r\nContent-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        ));
    }
    raw.push_str("--=_sig--\r\n");
    raw.into_bytes()
}

#[tokio::test]
async fn signed_agreements_are_recorded_and_unsigned_ones_asked_for_again() {
    let env = Env::new();
    let (pdf, p7s) = signed_agreement(env.dir.path(), "/CN=Ștefan Țurcanu/O=Primăria Ialoveni");

    env.deliver(
        "office",
        "1700000008.1.host",
        &mail_with_files(
            "sig1@primaria.md",
            "Acord semnat MPass",
            &[
                ("acord.pdf", "application/pdf", &pdf),
                ("acord.pdf.p7s", "application/pkcs7-signature", &p7s),
            ],
        ),
    );
    let unsigned = String::from_utf8(mail_with_files(
        "sig2@other.md",
        "Acord MPass",
        &[("acord.pdf", "application/pdf", &pdf)],
    ))
    .unwrap()
    .replace("Ana Popescu <ana@primaria.md>", "Eve <eve@other.md>");
    env.deliver("office", "1700000008.2.host", unsigned.as_bytes());
    env.instance().await.run_once().await.unwrap();

    let cases = env.cases_json();
    let first = cases[0]["number"].as_str().unwrap();
    let detail: serde_json::Value =
        serde_json::from_slice(&env.cli(&["cases", "show", first, "--json"]).stdout).unwrap();
    let signed = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "document_signed")
        .expect("who signed what");
    assert_eq!(signed["detail"]["file"], "acord.pdf.p7s");
    assert_eq!(signed["detail"]["signer"], "Ștefan Țurcanu");
    assert_eq!(signed["detail"]["verified"], true);
    let kinds: Vec<&str> = detail["messages"][0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["document", "signed_document"]);

    let replies = env.outbox();
    let to_other = replies
        .iter()
        .find(|m| header(m, "To") == Some("eve@other.md"))
        .expect("reply to the unsigned one");
    assert!(to_other.contains("nu este semnat"), "{to_other}");
    let to_ana = replies
        .iter()
        .find(|m| header(m, "To") == Some("ana@primaria.md"))
        .unwrap();
    assert!(!to_ana.contains("nu este semnat"), "{to_ana}");
}

fn mail_to_mpass(
    id: &str,
    from: &str,
    subject: &str,
    extra: &str,
    files: &[(&str, &str, &[u8])],
) -> Vec<u8> {
    String::from_utf8(mail_with_files(id, subject, files))
        .unwrap()
        .replace("Ana Popescu <ana@primaria.md>", from)
        .replace(
            "To: office@egov.md\r\n",
            &format!("To: support.mpass@egov.md\r\n{extra}"),
        )
        .into_bytes()
}

/// A client certificate fit for registration (EC P-256, clientAuth, not a
/// CA), as DER, made in `d`; with its serial as `openssl x509 -serial` shows it.
fn client_certificate(d: &Path) -> (Vec<u8>, String) {
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "400",
            "-subj",
            "/CN=portal.primaria.md",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=clientAuth",
        ],
    );
    openssl(
        d,
        &["x509", "-in", "c.pem", "-outform", "DER", "-out", "c.cer"],
    );
    let out = Command::new("openssl")
        .args(["x509", "-in", "c.pem", "-noout", "-serial"])
        .current_dir(d)
        .output()
        .expect("openssl is needed");
    let serial = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    (std::fs::read(d.join("c.cer")).unwrap(), serial)
}

#[tokio::test]
async fn a_certificate_is_for_one_system_and_one_environment() {
    let env = Env::new();
    let (cer, _) = client_certificate(env.dir.path());
    let files: &[(&str, &str, &[u8])] = &[("sistem.cer", "application/x-x509-ca-cert", &cer)];
    let i = env.instance().await;

    env.deliver(
        "mpass",
        "1700000009.1.host",
        &mail_to_mpass(
            "e1@primaria.md",
            "ana@primaria.md",
            "Certificat pentru mediul de test",
            "",
            files,
        ),
    );
    i.run_once().await.unwrap();
    // The same case, now for production, with the same certificate.
    env.deliver(
        "mpass",
        "1700000009.2.host",
        &mail_to_mpass(
            "e2@primaria.md",
            "ana@primaria.md",
            "Integrarea pe mediul de productie [AGE-2026-00001]",
            "",
            files,
        ),
    );
    // Another beneficiary's system with the same certificate.
    env.deliver(
        "mpass",
        "1700000009.3.host",
        &mail_to_mpass("e3@other.md", "eve@other.md", "Certificat test", "", files),
    );
    i.run_once().await.unwrap();

    let problems = |case: &str| -> Vec<String> {
        let detail: serde_json::Value =
            serde_json::from_slice(&env.cli(&["cases", "show", case, "--json"]).stdout).unwrap();
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "certificate_received")
            .map(|e| e["detail"]["problems"].to_string())
            .collect()
    };
    assert_eq!(problems("AGE-2026-00001").len(), 2);
    let out = env.outbox();
    let first = out.iter().find(|m| m.contains("e1@primaria.md")).unwrap();
    assert!(
        !first.contains("already registered") && !first.contains("deja înregistrat"),
        "{first}"
    );
    let production = out.iter().find(|m| m.contains("e2@primaria.md")).unwrap();
    assert!(production.contains("deja înregistrat"), "{production}");
    let other = out.iter().find(|m| m.contains("e3@other.md")).unwrap();
    assert!(other.contains("deja înregistrat"), "{other}");
}

/// servicii@ takes the serial of a certificate already registered for the
/// system instead of the `.cer`: one certificate serves every service of one
/// system in one environment, and nobody else's.
#[tokio::test]
async fn a_serial_stands_for_a_registered_certificate_of_the_same_system() {
    let env = Env::new();
    let d = env.dir.path().display().to_string();
    let config = env.config_text()
        + &format!(
            "[[mailbox]]\nname = \"servicii\"\nrole = \"services\"\naddress = \"servicii@egov.md\"\n\
             source = {{ kind = \"maildir\", path = \"{d}/mail/servicii\" }}\n"
        );
    std::fs::write(env.config_path(), config).unwrap();
    let (cer, serial) = client_certificate(env.dir.path());
    let files: &[(&str, &str, &[u8])] = &[("sistem.cer", "application/x-x509-ca-cert", &cer)];
    let i = env.instance().await;
    env.deliver(
        "mpass",
        "1700000010.1.host",
        &mail_to_mpass(
            "s1@primaria.md",
            "ana@primaria.md",
            "Certificat pentru mediul de test",
            "",
            files,
        ),
    );
    i.run_once().await.unwrap();

    let by_serial = |id: &str, from: &str| {
        format!(
            "From: {from}\r\nTo: servicii@egov.md\r\nSubject: MSign - mediul de test\r\n\
             Message-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Bună ziua,\r\npentru integrarea cu MSign pe mediul de test folosim certificatul deja \
             înregistrat pentru MPass, numărul de serie: {serial}.\r\nCu stimă,\r\nAna\r\n"
        )
        .into_bytes()
    };
    env.deliver(
        "servicii",
        "1700000010.2.host",
        &by_serial("s2@primaria.md", "ana@primaria.md"),
    );
    env.deliver(
        "servicii",
        "1700000010.3.host",
        &by_serial("s3@other.md", "eve@other.md"),
    );
    i.run_once().await.unwrap();

    let out = env.outbox();
    let same = out.iter().find(|m| m.contains("s2@primaria.md")).unwrap();
    assert!(!same.contains("deja înregistrat"), "{same}");
    assert!(
        !same.contains("doar partea publică"),
        "the certificate was asked for: {same}"
    );
    let other = out.iter().find(|m| m.contains("s3@other.md")).unwrap();
    assert!(other.contains("deja înregistrat"), "{other}");
    let detail: serde_json::Value = serde_json::from_slice(
        &env.cli(&["cases", "show", "AGE-2026-00002", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(
        detail["facts"]["request"]["certificate_serial"].as_str(),
        Some(serial.as_str()),
        "{detail}"
    );
}

#[tokio::test]
async fn private_keys_can_be_expunged_instead() {
    let env = Env::new();
    std::fs::write(
        env.config_path(),
        env.config_text() + "[private_keys]\naction = \"expunge\"\n",
    )
    .unwrap();
    let raw = "From: ana@primaria.md\r\nTo: support.mpass@egov.md\r\nSubject: cheia\r\nMessage-ID: <x1@primaria.md>\r\n\r\n\
               -----BEGIN EC PRIVATE KEY-----\r\nMHcCAQEEIBV1\r\n-----END EC PRIVATE KEY-----\r\n";
    env.deliver("mpass", "1700000010.1.host", raw.as_bytes());
    env.instance().await.run_once().await.unwrap();
    assert!(env.files("mail/mpass/new").is_empty());
    assert!(env.files("mail/mpass/cur").is_empty());
    assert!(
        env.files("mail/mpass/.Quarantine.PrivateKeys/cur")
            .is_empty()
    );
    let alert = env
        .outbox()
        .into_iter()
        .find(|m| header(m, "To") == Some("staff@egov.md"))
        .unwrap();
    assert!(alert.contains("șters de pe server"), "{alert}");
}

#[test]
fn deadline_command_counts_moldovan_working_days() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
            .args(args)
            .env_remove("EGOV_INTAKE_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // Easter 2026 (12–13 April) and Blajini (20 April) are skipped.
    assert_eq!(
        run(&[
            "deadline",
            "--from",
            "2026-04-09",
            "--working-days",
            "3",
            "10"
        ]),
        "2026-04-15\n2026-04-27\n"
    );
    // The 30th day after 25 Nov 2026 is Christmas; the weekend follows.
    assert_eq!(
        run(&["deadline", "--from", "2026-11-25", "--days", "30"]),
        "2026-12-28\n"
    );

    // With a configuration, the Government's transfers count.
    let env = Env::new();
    let rules = env.own_rules();
    std::fs::write(
        rules.join("calendar.toml"),
        "[years.2026]\ndays_off = [\"2026-04-14\"]\nworking_days = [\"2026-04-18\"]\n",
    )
    .unwrap();
    let out = env.cli(&["deadline", "--from", "2026-04-09", "--working-days", "3"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2026-04-16\n");
    std::fs::write(
        rules.join("calendar.toml"),
        "[years.2026]\nworking_days = [\"2026-04-14\"]\n",
    )
    .unwrap();
    let out = env.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("calendar.toml:1:") && err.contains("not a Saturday or Sunday"),
        "{err}"
    );
}

#[tokio::test]
async fn unclear_service_goes_to_staff_triage() {
    let env = Env::new();
    let raw = "From: Ana <ana@primaria.md>\r\nTo: office@egov.md\r\nSubject: Solicitare integrare\r\nMessage-ID: <t1@primaria.md>\r\n\r\n\
               Buna ziua, dorim sa ne integram sistemul cu serviciile guvernamentale.\r\nDenumirea institutiei: Primaria Ialoveni\r\n";
    env.deliver("office", "1700000011.1.host", raw.as_bytes());
    env.instance().await.run_once().await.unwrap();
    let out = env.outbox();
    let summary = out
        .iter()
        .find(|m| header(m, "To") == Some("staff@egov.md"))
        .expect("a staff summary");
    assert!(
        header(summary, "Subject").unwrap().contains("unknown"),
        "{summary}"
    );
    assert!(
        summary.contains("Instituția: Primaria Ialoveni"),
        "{summary}"
    );
    let reply = out
        .iter()
        .find(|m| header(m, "To") == Some("ana@primaria.md"))
        .unwrap();
    assert!(reply.contains("MPass sau MSign"), "{reply}");
    let cases = env.cases_json();
    assert_eq!(cases[0]["labels"], serde_json::json!(["triage"]));
}

#[test]
fn rules_reload_on_sighup_and_a_broken_set_is_refused() {
    let env = Env::new();
    let rules = env.own_rules();
    let log = env.path("daemon.log");
    let mut child = Daemon(
        Command::new(env!("CARGO_BIN_EXE_egov-intake"))
            .args(["run", "--config"])
            .arg(env.config_path())
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(needle)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "never logged {needle:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_for("egov-intake running");
    let hup = || {
        Command::new("kill")
            .arg("-HUP")
            .arg(child.0.id().to_string())
            .status()
            .unwrap()
    };
    // A broken triage regex: refused, the old rules stay.
    std::fs::write(
        rules.join("triage.toml"),
        "[[rule]]\nname = \"x\"\nmatch = { subject = \"(\" }\n",
    )
    .unwrap();
    hup();
    wait_for("rules NOT reloaded");
    // The daemon still answers with the old rules.
    env.deliver(
        "office",
        "1700000012.1.host",
        &request("h1@primaria.md", "ana@primaria.md", "Solicitare MPass", ""),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.replies() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reply after a refused reload"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::write(rules.join("triage.toml"), "").unwrap();
    hup();
    wait_for("rules reloaded");
    Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    assert!(child.0.wait().unwrap().success());
}

#[tokio::test]
async fn staff_move_cases_and_deadlines_follow() {
    let env = Env::new();
    let complete = "From: Ion <ion@primaria.md>\r\nTo: office@egov.md\r\nSubject: Solicitare MPass\r\nMessage-ID: <l1@primaria.md>\r\n\r\n\
                    Buna ziua,\r\nDenumirea institutiei: Primaria Orhei\r\nIDNO: 1007601001396\r\nDenumirea sistemului: e-Autorizatii\r\n\
                    Descrierea succinta: portal pentru autorizatii de constructie.\r\n";
    env.deliver("office", "1700000013.1.host", complete.as_bytes());
    env.instance().await.run_once().await.unwrap();
    let case = &env.cases_json()[0];
    assert_eq!(case["status"], "waiting_for_age");
    assert!(case["due"].is_string(), "{case}");
    assert_eq!(case["overdue"], false);

    let ok = |args: &[&str]| {
        let out = env.cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "cases",
        "assign",
        "AGE-2026-00001",
        "maria",
        "--by",
        "ion.staff",
    ]);
    ok(&[
        "cases",
        "advance",
        "AGE-2026-00001",
        "examination",
        "--note",
        "raspuns trimis",
        "--by",
        "ion.staff",
    ]);
    let out = env.cli(&[
        "cases",
        "advance",
        "AGE-2026-00001",
        "nowhere",
        "--note",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.cli(&[
        "cases",
        "extend",
        "AGE-2026-00001",
        "--reason",
        "no examination yet",
    ]);
    assert_eq!(out.status.code(), Some(1), "nothing to extend");

    let detail: serde_json::Value = serde_json::from_slice(
        &env.cli(&["cases", "show", "AGE-2026-00001", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(detail["stage"], "examination");
    assert_eq!(detail["assigned_to"], "maria");
    assert_eq!(detail["status"], "waiting_for_beneficiary");
    assert!(
        detail["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["met_at"].is_string() || d["kind"] != "answer"),
        "{detail}"
    );
    let staff: Vec<&serde_json::Value> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "staff:ion.staff")
        .collect();
    assert_eq!(staff.len(), 2, "{detail}");
    assert_eq!(staff[1]["kind"], "stage_changed");
    assert_eq!(staff[1]["detail"]["note"], "raspuns trimis");

    ok(&[
        "cases",
        "close",
        "AGE-2026-00001",
        "--reason",
        "integrat",
        "--by",
        "ion.staff",
    ]);
    let case = &env.cases_json()[0];
    assert_eq!(case["status"], "closed");
    assert!(case["due"].is_null());
}

#[tokio::test]
async fn the_examination_runs_thirty_days_and_extends_once() {
    let env = Env::new();
    let (pdf, p7s) = signed_agreement(env.dir.path(), "/CN=Director");
    let body = String::from_utf8(mail_with_files("x1@primaria.md", "Solicitare si acord MPass", &[("acord.pdf", "application/pdf", &pdf), ("acord.pdf.p7s", "application/pkcs7-signature", &p7s)]))
        .unwrap()
        .replace(
            "Bună ziua, anexăm acordul semnat pentru MPass.",
            "Denumirea institutiei: Primaria Orhei\r\nIDNO: 1007601001396\r\nDenumirea sistemului: e-Autorizatii\r\nDescrierea succinta: portal pentru autorizatii.",
        );
    env.deliver("office", "1700000014.1.host", body.as_bytes());
    env.instance().await.run_once().await.unwrap();
    let detail: serde_json::Value = serde_json::from_slice(
        &env.cli(&["cases", "show", "AGE-2026-00001", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(detail["stage"], "examination", "{detail}");
    let reply = env
        .outbox()
        .into_iter()
        .find(|m| header(m, "To") == Some("ana@primaria.md"))
        .unwrap();
    assert!(
        reply.contains("AGE examinează dosarul") && reply.contains("30 de zile, până la"),
        "{reply}"
    );
    let exam = detail["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "examination")
        .expect("examination deadline")
        .clone();
    let out = env.cli(&[
        "cases",
        "extend",
        "AGE-2026-00001",
        "--reason",
        "documente suplimentare",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let detail: serde_json::Value = serde_json::from_slice(
        &env.cli(&["cases", "show", "AGE-2026-00001", "--json"])
            .stdout,
    )
    .unwrap();
    let extended = detail["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "examination")
        .unwrap()
        .clone();
    assert_eq!(extended["extended"], true);
    assert!(extended["due"].as_str().unwrap() > exam["due"].as_str().unwrap());
    let out = env.cli(&["cases", "extend", "AGE-2026-00001", "--reason", "again"]);
    assert_eq!(out.status.code(), Some(1), "only once");
}

#[tokio::test]
async fn reminders_go_out_once_per_point() {
    use chrono::TimeZone;
    let env = Env::new();
    let complete = "From: Ion <ion@primaria.md>\r\nTo: office@egov.md\r\nSubject: Solicitare MPass\r\nMessage-ID: <r1@primaria.md>\r\n\r\n\
                    Denumirea institutiei: Primaria Orhei\r\nIDNO: 1007601001396\r\nDenumirea sistemului: e-Autorizatii\r\n\
                    Descrierea succinta: portal pentru autorizatii.\r\n";
    env.deliver("office", "1700000015.1.host", complete.as_bytes());
    let i = env.instance().await;
    i.run_once().await.unwrap();
    let due: chrono::NaiveDate = env.cases_json()[0]["due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let rules = i.pipeline.rules();
    let at = |date: chrono::NaiveDate, hour: u32| {
        egov_intake::calendar::TZ
            .from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let reminders = |env: &Env| {
        env.outbox()
            .iter()
            .filter(|m| header(m, "Subject").is_some_and(|s| s.contains(": answer ")))
            .count()
    };
    let before = rules
        .calendar()
        .add_working_days(due - chrono::Duration::days(10), 0);
    let three_before = {
        let mut d = due;
        let mut n = 0;
        while n < 3 {
            d -= chrono::Duration::days(1);
            if rules.calendar().is_working_day(d) {
                n += 1;
            }
        }
        d
    };
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.path("intake.db").display()))
        .await
        .unwrap();
    let pool = &pool;
    let store = i.store.clone();
    let config = i.config.clone();
    // How many reminders a tick at `now` queued (the digest and other mail aside).
    let tick = |now| {
        let (store, rules, config) = (store.clone(), i.pipeline.rules(), config.clone());
        async move {
            let count = || async {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM outbox WHERE key LIKE 'reminder:%'",
                )
                .fetch_one(pool)
                .await
                .unwrap()
            };
            let before = count().await;
            egov_intake::schedule::tick(&store, &rules, &config, now)
                .await
                .unwrap();
            count().await - before
        }
    };
    assert_eq!(tick(at(before, 9)).await, 0, "nothing ten days ahead");
    assert_eq!(
        tick(at(three_before, 7)).await,
        1,
        "three working days before"
    );
    assert_eq!(tick(at(three_before, 15)).await, 0, "once");
    assert_eq!(tick(at(due, 9)).await, 1, "on the due date");
    assert_eq!(tick(at(due, 10)).await, 0);
    let after = rules.calendar().add_working_days(due, 1);
    assert_eq!(tick(at(after, 9)).await, 1, "overdue");
    assert_eq!(
        tick(at(after + chrono::Duration::days(1), 9)).await,
        1,
        "daily while overdue"
    );
    assert_eq!(tick(at(after + chrono::Duration::days(1), 12)).await, 0);
    egov_intake::outbox::drain(&i.store, &i.transport, &i.config.outbox)
        .await
        .unwrap();
    assert_eq!(reminders(&env), 4);
    // A met deadline stops them.
    let out = env.cli(&[
        "cases",
        "advance",
        "AGE-2026-00001",
        "agreement",
        "--note",
        "answered",
    ]);
    assert!(out.status.success());
    assert_eq!(tick(at(after + chrono::Duration::days(2), 9)).await, 0);
    assert_eq!(env.cases_json()[0]["overdue"], false);
}

/// A .docx whose body says `text`, one paragraph a line.
fn docx(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let paragraphs: String = text
        .lines()
        .map(|l| format!("<w:p><w:r><w:t>{l}</w:t></w:r></w:p>"))
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paragraphs}</w:body></w:document>"#
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in [
        ("[Content_Types].xml", "<Types/>"),
        ("word/document.xml", body.as_str()),
        ("word/media/logo.png", "\u{89}PNG"),
    ] {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn database(env: &Env) -> sqlx::SqliteConnection {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", env.path("intake.db").display());
    sqlx::SqliteConnection::connect(&url).await.unwrap()
}

/// The request an attached form gives is read through the whole pipeline
/// from the parts its inspection unpacked, and recorded on the case; a case
/// whose facts column was damaged by hand goes on with what still reads,
/// and an outbox row whose time does not read is still sent.
#[tokio::test]
async fn an_attached_form_is_understood_and_damaged_rows_do_not_stop_the_case() {
    let env = Env::new();
    let form = docx(
        "Cerere de integrare cu MPass\nInstituția: Primăria municipiului Bălți\nIDNO: 1008600038413\nDenumirea sistemului: e-Registru „Bălți”",
    );
    env.deliver(
        "office",
        "1700000020.1.host",
        &mail_with_files(
            "form1@balti.md",
            "Cerere MPass — formularul atașat",
            &[(
                "cerere-integrare-Bălți.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                &form,
            )],
        ),
    );
    let i = env.instance().await;
    i.run_once().await.unwrap();
    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    assert_eq!(cases[0]["institution"], "Primăria municipiului Bălți");
    assert_eq!(cases[0]["idno"], "1008600038413");
    let missing = cases[0]["missing"].as_array().unwrap();
    assert!(
        !missing.iter().any(|f| f == "idno" || f == "institution"),
        "{missing:?}"
    );
    let number = cases[0]["number"].as_str().unwrap().to_string();

    // Hand edits: a signer type no version knows, a list written as text,
    // and an outbox row whose creation time is no time.
    let mut db = database(&env).await;
    sqlx::query(
        r#"UPDATE "case" SET facts = '{"request":{"institution":"Primăria municipiului Bălți","idno":"1008600038413","idno_valid":true,"signer_type":"robot","ip_addresses":"193.0.2.1"},"certificate":"yes"}'"#,
    )
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox (key, kind, from_name, from_addr, to_addr, subject, message_id, refs, languages,
            body, created_at, next_attempt_at)
         VALUES ('hand', 'alert', 'n', 'intake@egov.md', 'staff@egov.md', 'De verificat', '<hand@egov.md>', '[]', '[]',
            'text', 'ieri', '2000-01-01T00:00:00.000Z')",
    )
    .execute(&mut db)
    .await
    .unwrap();

    env.deliver(
        "office",
        "1700000020.2.host",
        &request(
            "form2@balti.md",
            "Ana <ana@primaria.md>",
            &format!("Re: Cerere MPass [{number}]"),
            "",
        ),
    );
    i.run_once().await.unwrap();
    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    let missing = cases[0]["missing"].as_array().unwrap();
    assert!(
        !missing.iter().any(|f| f == "idno" || f == "institution"),
        "{missing:?}"
    );
    let sent: Option<String> = sqlx::query_scalar("SELECT sent_at FROM outbox WHERE key = 'hand'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(sent.is_some(), "the damaged row was not sent");
}

/// The digest counts every open case of a list but shows only the first
/// `DIGEST_LINES`, and says how many more there are: a backlog of open cases
/// makes it neither huge nor slow.
#[tokio::test]
async fn a_digest_over_a_backlog_counts_all_and_lists_the_first() {
    const CASES: usize = 60;
    let env = Env::new();
    for n in 0..CASES {
        let mail = format!(
            "From: Ion <ion{n}@primaria.md>\r\nTo: office@egov.md\r\nSubject: Solicitare MPass {n}\r\n\
             Message-ID: <digest-{n}@primaria.md>\r\n\r\nDenumirea institutiei: Primaria Orhei\r\n\
             IDNO: 1007601001396\r\nDenumirea sistemului: e-Autorizatii {n}\r\n\
             Descrierea succinta: portal pentru autorizatii.\r\n"
        );
        env.deliver("office", &format!("1700000100.{n}.host"), mail.as_bytes());
    }
    let i = env.instance().await;
    i.run_once().await.unwrap();
    let cases = env.cases_json();
    assert_eq!(cases.as_array().unwrap().len(), CASES);
    let lines = egov_intake::schedule::DIGEST_LINES as usize;
    let digest = |now| {
        let (store, rules, config) = (i.store.clone(), i.pipeline.rules(), i.config.clone());
        async move {
            egov_intake::schedule::digest(&store, &rules, &config, None, now)
                .await
                .unwrap()
        }
    };
    let listed = |body: &str| {
        body.lines()
            .filter(|l| l.contains(": "))
            .filter(|l| l.trim_start().starts_with("AGE-"))
            .count()
    };

    let (subject, body) = digest(chrono::Utc::now()).await;
    assert!(subject.contains(&format!("{CASES} new")), "{subject}");
    assert!(
        body.contains(&format!("Cazuri noi (ultimele 24 de ore): {CASES}")),
        "{body}"
    );
    let more = format!("… și încă {} (egov-intake cases list)", CASES - lines);
    assert_eq!(
        body.matches(&more).count(),
        2,
        "new and waiting for AGE:\n{body}"
    );
    // Each list capped.
    assert_eq!(listed(&body), 2 * lines, "{body}");

    // Months later nothing is new and every answer deadline has passed.
    let (subject, body) = digest(chrono::Utc::now() + chrono::Duration::days(90)).await;
    assert!(
        subject.contains(&format!("0 new, {CASES} overdue")),
        "{subject}"
    );
    assert!(body.contains(&format!("Depășite: {CASES}")), "{body}");
    assert_eq!(body.matches(&more).count(), 1, "{body}");
    assert!(
        !body.contains("Cazuri noi (ultimele 24 de ore): 0\n  AGE-"),
        "{body}"
    );
    // The overdue list is in due order, case number breaking ties.
    let overdue: Vec<&str> = body
        .lines()
        .filter(|l| l.contains(": scadent "))
        .filter_map(|l| l.trim_start().split(':').next())
        .collect();
    let mut sorted = overdue.clone();
    sorted.sort();
    assert_eq!(overdue.len(), lines);
    assert_eq!(overdue, sorted);
}
