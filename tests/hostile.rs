//! Hostile mail through the whole pipeline: some 350 broken, odd, enormous, deeply nested and
//! key-bearing mails (tests/support/hostile.rs) dropped into a Maildir, then the real binary's
//! `egov-intake run --once` on SQLite and a file outbox, twice.
//!
//! What must hold (DESIGN §4): the daemon exits 0 and leaves nothing in new/; every mail has a
//! delivery row and at least one event; robots get no reply; follow-ups with an intact tag
//! thread into their case; key-bearing mail is quarantined as such (or held back as not fully
//! inspected) and no byte of any key is on disk afterwards; a second run creates nothing; no mail
//! takes long. Failures are collected, not stopped at, and each names the mails concerned, so
//! the test can verify fixes one at a time.
//!
//! To look past a mail that stops the daemon, narrow the corpus (the opener is always kept):
//! `HOSTILE_SKIP=<regex>` drops the mails whose Maildir name matches, `HOSTILE_ONLY=<regex>`
//! keeps only those, e.g. `HOSTILE_SKIP='tagged|robot' cargo test --test hostile`.
//! `HOSTILE_KEEP=1` keeps the temp dir (Maildir, database, spool, outbox, logs) and prints it.

// Test code may cut strings where it built them itself.
#![allow(clippy::string_slice)]

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::Datelike as _;
use support::hostile::{self, Corpus, HostileMail};

/// Low enough to keep the test fast, high enough that the 1 MB Subject and the 10,000 Received
/// headers are parsed rather than refused as too large.
const MAX_MESSAGE_BYTES: usize = 2 << 20;
/// A run that takes longer is killed and reported.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// No single mail may take longer than this (measured between the daemon's log lines).
const SLOW_MAIL: Duration = Duration::from_secs(10);
/// Mail names listed per failed assertion before "... and N more".
const LIST_AT_MOST: usize = 40;

#[test]
fn hostile_mail_is_recorded_quarantined_or_refused_but_never_lost_leaked_or_answered_by_robots() {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("egov-hostile-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    let keys = hostile::make_keys(hostile::KEY_MAILS, &d.join("keys")).expect("test keys");
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Chisinau)
        .year();
    let mut corpus = hostile::generate(year, keys, MAX_MESSAGE_BYTES);
    // The keys' files are not needed any more; they must not count as "on disk" below.
    fs::remove_dir_all(d.join("keys")).unwrap();
    check_corpus(&corpus);
    let filtered = narrow(&mut corpus);

    let maildir = d.join("mail/office");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for mail in &corpus.mails {
        fs::write(maildir.join("new").join(&mail.name), &mail.bytes).unwrap();
    }
    fs::write(d.join("intake.toml"), config(d)).unwrap();
    let generated = started.elapsed();

    let mut failures = Failures::default();
    let first = run_once(d, 1);
    failures.check_run("run 1", &first);
    let state = State::read(d, &maildir, &corpus);
    failures.check(
        "every event kind and problem code recorded is in the vocabulary",
        unknown_names(d),
    );

    // Every mail left new/, to exactly one place.
    failures.check(
        "new/ is empty after the run (mails still there; the first is where the daemon stopped)",
        corpus
            .mails
            .iter()
            .filter(|m| state.place(m) == Some("new"))
            .map(describe)
            .collect(),
    );
    failures.check(
        "every mail is in cur/, .Quarantine or .Quarantine.PrivateKeys (mails missing)",
        corpus
            .mails
            .iter()
            .filter(|m| state.place(m).is_none())
            .map(describe)
            .collect(),
    );
    failures.check(
        "every mail is in exactly one folder (mails found twice)",
        state.duplicates.clone(),
    );

    // Every mail is in the database with an event.
    let rows = state.deliveries.len();
    failures.check(
        &format!(
            "every mail has a delivery row ({rows} rows for {} mails); mails without one",
            corpus.mails.len()
        ),
        corpus
            .mails
            .iter()
            .filter(|m| !state.deliveries.contains_key(&m.name))
            .map(describe)
            .collect(),
    );
    failures.check(
        "every recorded mail has a case_event (directly or through its case)",
        corpus
            .mails
            .iter()
            .filter(|m| state.deliveries.get(&m.name).is_some_and(|d| d.events == 0))
            .map(describe)
            .collect(),
    );

    // Robots get no reply.
    let robots: Vec<&HostileMail> = corpus.mails.iter().filter(|m| m.robot).collect();
    let mut answered = Vec::new();
    for m in &robots {
        if let Some(d) = state.deliveries.get(&m.name)
            && let Some(to) = state.replies_by_message.get(&d.message)
        {
            answered.push(format!("{} — reply row to {}", describe(m), to.join(", ")));
        }
        if let Some(id) = &m.message_id
            && let Some(files) = state.outbox_in_reply_to.get(id)
        {
            answered.push(format!(
                "{} — outbox file(s) {} answer {id}",
                describe(m),
                files.join(", ")
            ));
        }
    }
    failures.check(
        &format!(
            "no reply to auto-replies and bounces ({} robots)",
            robots.len()
        ),
        answered,
    );

    // Intact tags from a participant thread into the case.
    failures.check(
        "follow-ups with an intact tag from a participant thread into that case",
        corpus
            .mails
            .iter()
            .filter_map(|m| {
                let want = m.thread_to.as_ref()?;
                let d = state.deliveries.get(&m.name)?;
                (d.case.as_ref() != Some(want)).then(|| {
                    format!(
                        "{} — in case {:?}, want {want}",
                        describe(m),
                        d.case.as_deref().unwrap_or("none")
                    )
                })
            })
            .collect(),
    );

    // Key-bearing mail is set aside as such.
    failures.check(
        "key-bearing mail went to .Quarantine.PrivateKeys, or is recorded as a private-key or \
         not-fully-inspected incident",
        corpus
            .mails
            .iter()
            .filter(|m| m.key.is_some())
            .filter(|m| {
                let delivery = state.deliveries.get(&m.name);
                let ok = state.place(m) == Some(".Quarantine.PrivateKeys")
                    || delivery.is_some_and(|d| {
                        d.disposition == "private_key"
                            || d.key_event
                            || d.reason.as_deref() == Some("inspection_incomplete")
                    });
                !ok
            })
            .map(|m| {
                let d = state.deliveries.get(&m.name);
                format!(
                    "{} — folder {:?}, disposition {:?}",
                    describe(m),
                    state.place(m).unwrap_or("none"),
                    d.map(|d| d.label())
                        .unwrap_or_else(|| "no delivery row".into())
                )
            })
            .collect(),
    );

    // No key byte on disk.
    failures.check(
        "no byte of a private key in the database, its WAL, the spool, the outbox or the logs",
        leaks(d, &corpus),
    );

    // Nothing is slow.
    let timings = mail_timings(&first.stderr, &first.started_at);
    failures.check(
        &format!("no mail takes more than {SLOW_MAIL:?}"),
        timings
            .iter()
            .filter(|(_, t)| *t > SLOW_MAIL)
            .map(|(name, t)| format!("{name} took {t:.1?}"))
            .collect(),
    );

    // A second run changes nothing.
    let counts_before = counts(d);
    let outbox_before = list_files(&d.join("outbox")).len();
    let second = run_once(d, 2);
    failures.check_run("run 2", &second);
    let counts_after = counts(d);
    let outbox_after = list_files(&d.join("outbox")).len();
    let mut changed: Vec<String> = counts_before
        .iter()
        .zip(&counts_after)
        .filter(|(a, b)| a != b)
        .map(|((table, a), (_, b))| format!("{table}: {a} rows, then {b}"))
        .collect();
    if outbox_before != outbox_after {
        changed.push(format!(
            "outbox folder: {outbox_before} files, then {outbox_after}"
        ));
    }
    let left = list_files(&maildir.join("new"));
    if !left.is_empty() {
        changed.push(format!("{} mails still in new/", left.len()));
    }
    failures.check("a second run creates nothing", changed);

    let mut summary = summary(&corpus, &state, &first, &second, &timings, generated);
    if filtered {
        summary.push_str("  (corpus narrowed by HOSTILE_SKIP / HOSTILE_ONLY)\n");
    }
    if std::env::var_os("HOSTILE_KEEP").is_some() {
        let kept = dir.keep();
        let _ = writeln!(summary, "  kept: {}", kept.display());
    }
    println!("{summary}");
    if !failures.0.is_empty() {
        let mut report = format!(
            "{} of the hostile-mail assertions failed:\n",
            failures.0.len()
        );
        for (assertion, details) in &failures.0 {
            let _ = writeln!(report, "\n✗ {assertion}: {} case(s)", details.len());
            for line in details.iter().take(LIST_AT_MOST) {
                let _ = writeln!(report, "    {line}");
            }
            if details.len() > LIST_AT_MOST {
                let _ = writeln!(report, "    ... and {} more", details.len() - LIST_AT_MOST);
            }
        }
        panic!("{report}\n{summary}");
    }
}

/// The generator's own promises; a broken corpus would make the assertions above vacuous.
fn check_corpus(corpus: &Corpus) {
    assert!(
        corpus.mails.len() >= 300,
        "only {} mails",
        corpus.mails.len()
    );
    let names: HashSet<&str> = corpus.mails.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names.len(), corpus.mails.len(), "Maildir names are unique");
    for m in &corpus.mails {
        assert!(
            !m.name.contains(['/', ':']),
            "{} is a valid Maildir name",
            m.name
        );
    }
    let mut sorted: Vec<&str> = names.into_iter().collect();
    sorted.sort();
    assert_eq!(
        sorted[0], corpus.mails[0].name,
        "the opener is processed first"
    );
    assert!(corpus.mails.iter().filter(|m| m.robot).count() >= 15);
    for (k, _) in corpus.keys.iter().enumerate() {
        let carriers: Vec<&HostileMail> =
            corpus.mails.iter().filter(|m| m.key == Some(k)).collect();
        assert_eq!(carriers.len(), 1, "key {k} is in exactly one mail");
        let secrets: Vec<&hostile::Secret> = corpus.secrets.iter().filter(|s| s.key == k).collect();
        assert!(
            secrets.len() >= 10,
            "key {k} has only {} secrets",
            secrets.len()
        );
        // Text secrets are what the mail really carries (DER windows are checked decoded).
        let visible = secrets
            .iter()
            .filter(|s| contains(&carriers[0].bytes, &s.bytes))
            .count();
        assert!(
            visible >= 6,
            "key {k}: only {visible} of its secrets are in {:?}",
            carriers[0]
        );
    }
    // A secret found in a mail that does not carry its key would blame the wrong mail.
    let all = secrets_regex(corpus);
    for mail in &corpus.mails {
        for hit in all.find_iter(&mail.bytes) {
            let secret = corpus.secrets.iter().find(|s| s.bytes == hit.as_bytes());
            assert!(
                secret.is_some_and(|s| Some(s.key) == mail.key),
                "a secret of another key is in {mail:?}"
            );
        }
    }
}

/// One regex matching any secret (a literal alternation: fast on megabytes).
fn secrets_regex(corpus: &Corpus) -> regex::bytes::Regex {
    let pattern = corpus
        .secrets
        .iter()
        .map(|s| {
            s.bytes
                .iter()
                .map(|b| format!("\\x{b:02x}"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|");
    regex::bytes::RegexBuilder::new(&format!("(?-u){pattern}"))
        .size_limit(1 << 26)
        .build()
        .unwrap()
}

/// Applies `HOSTILE_SKIP` and `HOSTILE_ONLY` (regexes on Maildir names); true when either is set.
fn narrow(corpus: &mut Corpus) -> bool {
    let skip = std::env::var("HOSTILE_SKIP").ok().filter(|s| !s.is_empty());
    let only = std::env::var("HOSTILE_ONLY").ok().filter(|s| !s.is_empty());
    let skip = skip.map(|re| regex::Regex::new(&re).expect("HOSTILE_SKIP is a regex"));
    let only = only.map(|re| regex::Regex::new(&re).expect("HOSTILE_ONLY is a regex"));
    let filtered = skip.is_some() || only.is_some();
    let opener = corpus.mails[0].name.clone();
    corpus.mails.retain(|m| {
        m.name == opener
            || (skip.as_ref().is_none_or(|re| !re.is_match(&m.name))
                && only.as_ref().is_none_or(|re| re.is_match(&m.name)))
    });
    filtered
}

fn config(d: &Path) -> String {
    let limits = format!(
        "max_message_bytes = {MAX_MESSAGE_BYTES}\n\
         # The loop guard, not the rate limit, must be what keeps robots unanswered.\n\
         replies_per_recipient_10min = 100000\n\
         replies_per_recipient_day = 100000"
    );
    let extra = support::embedded::Extra {
        limits: &limits,
        ..Default::default()
    };
    support::embedded::config(d, d, &extra)
}

// ---------------------------------------------------------------------------------------------
// Running the daemon.

struct Run {
    status: Option<ExitStatus>,
    timed_out: bool,
    elapsed: Duration,
    started_at: chrono::DateTime<chrono::Utc>,
    stderr: String,
}

/// `egov-intake run --once`, its stdout and stderr in files of the temp dir (they are part of
/// what the leak check reads), killed after [`RUN_TIMEOUT`].
fn run_once(d: &Path, n: usize) -> Run {
    let stdout = fs::File::create(d.join(format!("run{n}.stdout.log"))).unwrap();
    let stderr = fs::File::create(d.join(format!("run{n}.stderr.log"))).unwrap();
    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["run", "--once", "--config"])
        .arg(d.join("intake.toml"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        // The panic message, not a backtrace, is what the report quotes.
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        status,
        timed_out,
        elapsed: start.elapsed(),
        started_at,
        stderr: strip_ansi(&fs::read(d.join(format!("run{n}.stderr.log"))).unwrap()),
    }
}

fn strip_ansi(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let re = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    re.replace_all(&text, "").into_owned()
}

/// (mail name, time it took): from one "mail recorded" log line to the next (the first from the
/// process start).
fn mail_timings(
    stderr: &str,
    started_at: &chrono::DateTime<chrono::Utc>,
) -> Vec<(String, Duration)> {
    let mut previous = *started_at;
    let mut out = Vec::new();
    for line in stderr.lines() {
        let Some(stamp) = line.split_whitespace().next() else {
            continue;
        };
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(stamp) else {
            continue;
        };
        let at = at.with_timezone(&chrono::Utc);
        if line.contains("mail recorded")
            && let Some(key) = line.split("key=maildir:").nth(1)
        {
            let name = key
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            out.push((name, (at - previous).to_std().unwrap_or_default()));
        }
        if line.contains("mail recorded") || line.contains("migrat") {
            previous = at;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// What the run left behind.

struct Delivery {
    disposition: String,
    reason: Option<String>,
    message: i64,
    case: Option<String>,
    events: i64,
    key_event: bool,
}

impl Delivery {
    fn label(&self) -> String {
        match (&*self.disposition, &self.reason) {
            ("quarantine", Some(reason)) => format!("quarantine:{reason}"),
            (d, _) => d.to_string(),
        }
    }
}

/// source_key, disposition, quarantine_reason, message id, case number, events, key events.
type DeliveryRow = (
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    i64,
    i64,
);

struct State {
    /// Mail name → the folder it is in ("new", "cur", ".Quarantine", ...).
    places: HashMap<String, &'static str>,
    duplicates: Vec<String>,
    /// Mail name → its delivery.
    deliveries: HashMap<String, Delivery>,
    /// message.id → recipients of replies to it.
    replies_by_message: HashMap<i64, Vec<String>>,
    /// In-Reply-To of each outbox file → the files.
    outbox_in_reply_to: HashMap<String, Vec<String>>,
}

impl State {
    fn read(d: &Path, maildir: &Path, corpus: &Corpus) -> State {
        let mut places = HashMap::new();
        let mut duplicates = Vec::new();
        let names: HashSet<&str> = corpus.mails.iter().map(|m| m.name.as_str()).collect();
        for (folder, sub) in [
            ("new", "new"),
            ("cur", "cur"),
            (".Quarantine", ".Quarantine/cur"),
            (".Quarantine", ".Quarantine/new"),
            (".Quarantine.PrivateKeys", ".Quarantine.PrivateKeys/cur"),
            (".Quarantine.PrivateKeys", ".Quarantine.PrivateKeys/new"),
        ] {
            for path in list_files(&maildir.join(sub)) {
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                let unique = file.split(':').next().unwrap().to_string();
                if !names.contains(unique.as_str()) {
                    continue;
                }
                if let Some(before) = places.insert(unique.clone(), folder) {
                    duplicates.push(format!("{unique} in {before} and {folder}"));
                }
            }
        }

        let rt = tokio::runtime::Runtime::new().unwrap();
        let (deliveries, replies_by_message) = rt.block_on(async {
            let pool = pool(d).await;
            let rows: Vec<DeliveryRow> =
                sqlx::query_as(
                    r#"SELECT d.source_key, d.disposition, m.quarantine_reason, m.id, c.number,
                          (SELECT COUNT(*) FROM case_event e
                            WHERE e.message_id = m.id
                               OR (m.case_id IS NOT NULL AND e.case_id = m.case_id)),
                          (SELECT COUNT(*) FROM case_event e
                            WHERE e.message_id = m.id AND e.kind = 'private_key_received')
                     FROM delivery d
                     JOIN message m ON m.id = d.message_id
                     LEFT JOIN "case" c ON c.id = m.case_id"#,
                )
                .fetch_all(&pool)
                .await
                .unwrap();
            let deliveries = rows
                .into_iter()
                .map(|(key, disposition, reason, message, case, events, keys)| {
                    let name = key.strip_prefix("maildir:").unwrap_or(&key).to_string();
                    let delivery = Delivery {
                        disposition,
                        reason,
                        message,
                        case,
                        events,
                        key_event: keys > 0,
                    };
                    (name, delivery)
                })
                .collect();
            let replies: Vec<(i64, String)> = sqlx::query_as(
                "SELECT in_message, to_addr FROM outbox WHERE kind = 'reply' AND in_message IS NOT NULL",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut by_message: HashMap<i64, Vec<String>> = HashMap::new();
            for (message, to) in replies {
                by_message.entry(message).or_default().push(to);
            }
            pool.close().await;
            (deliveries, by_message)
        });

        let mut outbox_in_reply_to: HashMap<String, Vec<String>> = HashMap::new();
        for path in list_files(&d.join("outbox")) {
            let bytes = fs::read(&path).unwrap();
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
            let head = head.split("\r\n\r\n").next().unwrap_or_default();
            if let Some(value) = head
                .split("\r\n")
                .find(|l| l.to_ascii_lowercase().starts_with("in-reply-to:"))
            {
                outbox_in_reply_to
                    .entry(value["in-reply-to:".len()..].trim().to_string())
                    .or_default()
                    .push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        State {
            places,
            duplicates,
            deliveries,
            replies_by_message,
            outbox_in_reply_to,
        }
    }

    fn place(&self, mail: &HostileMail) -> Option<&'static str> {
        self.places.get(&mail.name).copied()
    }
}

async fn pool(d: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", d.join("intake.db").display()))
        .await
        .unwrap()
}

/// Event kinds and problem codes in the database that the domain's
/// vocabulary does not know: each would be a name no rule explains.
fn unknown_names(d: &Path) -> Vec<String> {
    use egov_intake::domain::{EventKind, ProblemCode};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = pool(d).await;
        let kinds: Vec<String> = sqlx::query_scalar("SELECT DISTINCT kind FROM case_event")
            .fetch_all(&pool)
            .await
            .unwrap();
        let assessed: Vec<String> =
            sqlx::query_scalar("SELECT detail FROM case_event WHERE kind = 'request_assessed'")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        let mut unknown: Vec<String> = kinds
            .into_iter()
            .filter(|k| k.parse::<EventKind>().is_err())
            .map(|k| format!("event kind {k}"))
            .collect();
        for detail in assessed {
            let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
            for code in v["problems"].as_array().into_iter().flatten() {
                let code = code.as_str().unwrap_or_default();
                if code.parse::<ProblemCode>().is_err() && !unknown.contains(&code.to_string()) {
                    unknown.push(code.to_string());
                }
            }
        }
        unknown
    })
}

/// Row counts of every table the pipeline writes.
fn counts(d: &Path) -> Vec<(&'static str, i64)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = pool(d).await;
        let mut out = Vec::new();
        for (table, query) in [
            ("case", "SELECT COUNT(*) FROM \"case\""),
            ("message", "SELECT COUNT(*) FROM message"),
            ("delivery", "SELECT COUNT(*) FROM delivery"),
            ("case_event", "SELECT COUNT(*) FROM case_event"),
            ("attachment", "SELECT COUNT(*) FROM attachment"),
            ("outbox", "SELECT COUNT(*) FROM outbox"),
            ("deadline", "SELECT COUNT(*) FROM deadline"),
        ] {
            let n: i64 = sqlx::query_scalar(query).fetch_one(&pool).await.unwrap();
            out.push((table, n));
        }
        pool.close().await;
        out
    })
}

/// Every place on disk the daemon writes, searched for every secret; each hit names the file,
/// the secret and the mail that carried the key.
fn leaks(d: &Path, corpus: &Corpus) -> Vec<String> {
    let mut files: Vec<PathBuf> = ["intake.db", "intake.db-wal", "intake.db-shm"]
        .iter()
        .map(|f| d.join(f))
        .filter(|p| p.exists())
        .collect();
    files.extend(walk(&d.join("spool")));
    files.extend(walk(&d.join("outbox")));
    files.extend(
        list_files(d)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log")),
    );
    assert!(files.iter().any(|p| p.ends_with("intake.db")));
    let re = secrets_regex(corpus);
    let mut found = Vec::new();
    for path in files {
        let bytes = fs::read(&path).unwrap();
        let mut seen = HashSet::new();
        for hit in re.find_iter(&bytes) {
            let Some(secret) = corpus.secrets.iter().find(|s| s.bytes == hit.as_bytes()) else {
                continue;
            };
            if !seen.insert(secret.key) {
                continue;
            }
            let mail = corpus
                .mails
                .iter()
                .find(|m| m.key == Some(secret.key))
                .unwrap();
            found.push(format!(
                "{} holds key {} ({}) at byte {} — from {}",
                path.strip_prefix(d).unwrap_or(&path).display(),
                secret.key,
                secret.what,
                hit.start(),
                describe(mail)
            ));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Reporting.

#[derive(Default)]
struct Failures(Vec<(String, Vec<String>)>);

impl Failures {
    fn check(&mut self, assertion: &str, details: Vec<String>) {
        if !details.is_empty() {
            self.0.push((assertion.to_string(), details));
        }
    }

    fn check_run(&mut self, which: &str, run: &Run) {
        let mut details = Vec::new();
        if run.timed_out {
            details.push(format!("killed after {RUN_TIMEOUT:?}"));
        } else if let Some(status) = run.status
            && !status.success()
        {
            details.push(format!("exit status {status}"));
        }
        if !details.is_empty() {
            // The panic or error that stopped it, and the last mail it finished.
            let lines: Vec<&str> = run.stderr.lines().collect();
            if let Some(i) = lines.iter().position(|l| l.contains("panicked at")) {
                details.extend(
                    lines[i..lines.len().min(i + 3)]
                        .iter()
                        .map(|l| l.to_string()),
                );
            }
            if let Some(last) = lines.iter().rev().find(|l| l.contains("mail recorded")) {
                details.push(format!("last mail recorded: {last}"));
            }
            if let Some(err) = lines.iter().rev().find(|l| l.contains("ERROR")) {
                details.push(format!("last error: {err}"));
            }
            if !details.iter().any(|l| l.contains("panicked at")) {
                details.push(format!("stderr tail: {}", tail(&run.stderr, 1500)));
            }
        }
        self.check(&format!("{which}: exits 0 within {RUN_TIMEOUT:?}"), details);
    }
}

fn describe(mail: &HostileMail) -> String {
    format!("[{}] {} ({})", mail.family, mail.label, mail.name)
}

fn summary(
    corpus: &Corpus,
    state: &State,
    first: &Run,
    second: &Run,
    timings: &[(String, Duration)],
    generated: Duration,
) -> String {
    let mut by_family: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for m in &corpus.mails {
        let label = match state.deliveries.get(&m.name) {
            Some(d) => d.label(),
            None => match state.place(m) {
                Some("new") => "unprocessed".to_string(),
                Some(place) => format!("no row, in {place}"),
                None => "lost".to_string(),
            },
        };
        *by_family
            .entry(m.family)
            .or_default()
            .entry(label.clone())
            .or_default() += 1;
        *totals.entry(label).or_default() += 1;
    }
    let mut out = format!(
        "hostile mail summary: {} mails, {} keys, {} secrets; corpus {generated:.1?}, run 1 {:.1?}, run 2 {:.1?}\n",
        corpus.mails.len(),
        corpus.keys.len(),
        corpus.secrets.len(),
        first.elapsed,
        second.elapsed
    );
    let _ = writeln!(out, "  {:<12} {:>4}  by disposition", "family", "mails");
    for (family, dispositions) in &by_family {
        let n: usize = dispositions.values().sum();
        let list: Vec<String> = dispositions
            .iter()
            .map(|(d, c)| format!("{d} {c}"))
            .collect();
        let _ = writeln!(out, "  {family:<12} {n:>4}  {}", list.join(", "));
    }
    let list: Vec<String> = totals.iter().map(|(d, c)| format!("{d} {c}")).collect();
    let _ = writeln!(
        out,
        "  {:<12} {:>4}  {}",
        "all",
        corpus.mails.len(),
        list.join(", ")
    );
    let mut slow: Vec<&(String, Duration)> = timings.iter().collect();
    slow.sort_by_key(|t| std::cmp::Reverse(t.1));
    let slowest: Vec<String> = slow
        .iter()
        .take(5)
        .map(|(name, t)| format!("{t:.2?} {name}"))
        .collect();
    let _ = writeln!(out, "  slowest: {}", slowest.join("; "));
    out
}

fn tail(text: &str, max: usize) -> String {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let literal: String = needle.iter().map(|b| format!("\\x{b:02x}")).collect();
    regex::bytes::Regex::new(&format!("(?-u){literal}"))
        .unwrap()
        .is_match(hay)
}

/// Regular files directly in `dir` (none when it does not exist), dot files left out.
fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Every regular file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
