//! Faults injected under a running daemon on the embedded default (Maildir,
//! SQLite, file outbox): the database write-locked by another process, and
//! the database on a full disk. In both, nothing may be acknowledged (moved
//! out of `new/`) without its record, and once the fault is gone the same
//! daemon process drains the backlog by itself — no restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, SqliteConnection};

#[path = "support/embedded.rs"]
mod embedded;

const MAILS: usize = 5;

struct Env {
    dir: tempfile::TempDir,
    db_dir: PathBuf,
}

impl Env {
    fn new(db_dir: Option<PathBuf>) -> Env {
        Env::with_limits(db_dir, "")
    }

    /// `limits` are lines of the `[limits]` table.
    fn with_limits(db_dir: Option<PathBuf>, limits: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = db_dir.unwrap_or_else(|| dir.path().to_path_buf());
        let env = Env { dir, db_dir };
        let extra = embedded::Extra {
            database: "busy_timeout_secs = 1",
            source: ", poll_interval_secs = 1",
            limits,
        };
        std::fs::write(
            env.path("intake.toml"),
            embedded::config(env.dir.path(), &env.db_dir, &extra),
        )
        .unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(env.path("mail/office").join(sub)).unwrap();
        }
        env
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn url(&self) -> String {
        format!("sqlite://{}/intake.db", self.db_dir.display())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_egov-intake"));
        c.args(args)
            .arg("--config")
            .arg(self.path("intake.toml"))
            .env("RUST_LOG", "info");
        c
    }

    /// Drops `n` distinct requests into new/, the way a delivery agent does
    /// (written in tmp/, renamed in).
    fn deliver(&self, n: usize) {
        let sample = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mail/01-solicitare-mpass.ro.eml"),
        )
        .unwrap();
        for i in 0..n {
            let text = sample.replacen("Message-ID: <", &format!("Message-ID: <fault{i}."), 1);
            let name = format!("1700000000.fault{i}.host");
            let tmp = self.path("mail/office/tmp").join(&name);
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, self.path("mail/office/new").join(&name)).unwrap();
        }
    }

    fn waiting(&self) -> usize {
        std::fs::read_dir(self.path("mail/office/new"))
            .unwrap()
            .count()
    }

    async fn deliveries(&self) -> i64 {
        let mut c = SqliteConnection::connect(&self.url()).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM delivery")
            .fetch_one(&mut c)
            .await
            .unwrap()
    }

    /// Every mail that left new/ has its record.
    async fn nothing_acknowledged_unrecorded(&self) {
        let acknowledged = MAILS - self.waiting();
        let recorded = self.deliveries().await as usize;
        assert!(
            acknowledged <= recorded,
            "{acknowledged} mails left new/ but only {recorded} are recorded"
        );
    }

    fn start(&self) -> Daemon {
        let log = std::fs::File::create(self.path("daemon.log")).unwrap();
        Daemon(
            self.command(&["run"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    async fn wait_drained(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.waiting() > 0 || self.deliveries().await < MAILS as i64 {
            assert!(
                Instant::now() < deadline,
                "backlog not drained: {} waiting, {} recorded\n{}",
                self.waiting(),
                self.deliveries().await,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let quarantined = std::fs::read_dir(self.path("mail/office/.Quarantine/cur"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(quarantined, 0, "mail was set aside:\n{}", self.log());
    }
}

/// Killed when the test ends however it ends.
struct Daemon(Child);

impl Daemon {
    /// SIGTERM, and the exit code of a daemon stopped by a signal: 0.
    fn stop(mut self) {
        Command::new("kill")
            .arg(self.0.id().to_string())
            .status()
            .unwrap();
        let status = self.0.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Creates the database, as the daemon would, so another process can lock it.
async fn create_database(env: &Env) {
    egov_intake::store::Store::open(&env.url()).await.unwrap();
}

async fn hold_write_lock(env: &Env) -> SqliteConnection {
    let mut c = SqliteConnection::connect(&env.url()).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

#[tokio::test]
async fn run_once_on_a_locked_database_exits_non_zero_and_leaves_the_mail() {
    let env = Env::new(None);
    create_database(&env).await;
    env.deliver(MAILS);
    let lock = hold_write_lock(&env).await;
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(env.waiting(), MAILS);
    drop(lock);
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.waiting(), 0);
    assert_eq!(env.deliveries().await, MAILS as i64);
}

#[tokio::test]
async fn a_locked_database_acknowledges_nothing_and_the_daemon_recovers_by_itself() {
    let env = Env::new(None);
    create_database(&env).await;
    let mut lock = hold_write_lock(&env).await;
    let daemon = env.start();
    env.deliver(MAILS);
    // Long enough for the first mail to fail more than five times: a
    // database that cannot be written says nothing against the mail, so it
    // is never set aside (which could not be recorded either).
    let until = Instant::now() + Duration::from_secs(25);
    while Instant::now() < until {
        assert_eq!(
            env.waiting(),
            MAILS,
            "mail acknowledged under a lock\n{}",
            env.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(env.log().contains("database is locked"), "{}", env.log());
    assert!(!env.log().contains("set aside"), "{}", env.log());
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    env.wait_drained(Duration::from_secs(60)).await;
    daemon.stop();
}

/// A small tmpfs for the database alone, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap().keep();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
            .arg(&dir)
            .status()
            .expect("mount (the fault tests run as root)");
        assert!(
            status.success(),
            "cannot mount a tmpfs (the fault tests run as root)"
        );
        SmallDisk(dir)
    }

    /// Fills the disk to the last byte; returns the filler to remove.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.write_all(&[0u8]);
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn a_full_disk_acknowledges_nothing_and_the_daemon_recovers_by_itself() {
    let disk = SmallDisk::mount();
    let env = Env::new(Some(disk.0.clone()));
    create_database(&env).await;
    let daemon = env.start();
    // Opened, migrated, watching.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !env.log().contains("egov-intake running") {
        assert!(Instant::now() < deadline, "{}", env.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let filler = disk.fill();
    env.deliver(MAILS);
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        env.nothing_acknowledged_unrecorded().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        env.waiting() > 0,
        "a full disk failed nothing:\n{}",
        env.log()
    );
    std::fs::remove_file(filler).unwrap();
    env.wait_drained(Duration::from_secs(60)).await;
    env.nothing_acknowledged_unrecorded().await;
    daemon.stop();
}

/// A mail whose analysis runs past its budget (36 MB of KOI8-R declared as
/// UTF-8: seconds of decoding in a debug build) is recorded from its header
/// and quarantined as `analysis_incomplete`; the request behind it is
/// answered in the same pass, without waiting for the abandoned analysis.
#[tokio::test]
async fn a_mail_past_its_analysis_budget_is_quarantined_and_the_next_is_answered() {
    let env = Env::with_limits(None, "analysis_budget_secs = 1");
    let mut slow = b"From: a@primaria.md\r\nTo: office@egov.md\r\nSubject: Solicitare\r\n\
        Message-ID: <slow@primaria.md>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    let line: Vec<u8> = (0xc0..=0xffu8).chain(*b"\r\n").collect();
    while slow.len() < 36 << 20 {
        slow.extend_from_slice(&line);
    }
    std::fs::write(env.path("mail/office/new/1600000000.slow.host"), slow).unwrap();
    env.deliver(1);
    let started = Instant::now();
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.waiting(), 0);
    let mut c = SqliteConnection::connect(&env.url()).await.unwrap();
    let reasons: Vec<Option<String>> =
        sqlx::query_scalar("SELECT quarantine_reason FROM message ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(
        reasons,
        [Some("analysis_incomplete".to_string()), None],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replies = std::fs::read_dir(env.path("outbox")).unwrap().count();
    assert!(replies >= 2, "the request and the staff alert: {replies}");
    eprintln!("slow mail and request handled in {:?}", started.elapsed());
}

/// A mail whose analysis needs more memory than its budget (4 MiB of
/// attachments under a 1 MiB budget) is stopped at the next checkpoint,
/// recorded from its header with the reason, and quarantined unspooled;
/// the request behind it is answered in the same pass.
#[tokio::test]
async fn a_mail_past_its_memory_budget_is_quarantined_and_the_next_is_answered() {
    let env = Env::with_limits(None, "analysis_memory_mb = 1");
    let mut big = String::from(
        "From: a@primaria.md\r\nTo: office@egov.md\r\nSubject: Documente\r\n\
         Message-ID: <big@primaria.md>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVă transmitem actele.\r\n",
    );
    for i in 0..4 {
        big.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream; name=act{i}.bin\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        // 1 MiB of varied bytes, base64: 76-character lines.
        let line =
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
        big.push_str(&line.repeat((1 << 20) / 57 + 1));
    }
    big.push_str("--b--\r\n");
    std::fs::write(env.path("mail/office/new/1600000000.big.host"), big).unwrap();
    env.deliver(1);
    let out = env.command(&["run", "--once"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.waiting(), 0);
    let mut c = SqliteConnection::connect(&env.url()).await.unwrap();
    let reasons: Vec<Option<String>> =
        sqlx::query_scalar("SELECT quarantine_reason FROM message ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        reasons,
        [Some("analysis_incomplete".to_string()), None],
        "{log}"
    );
    let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM case_event")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert!(
        details.iter().any(|d| d.contains("memory")),
        "the reason names the memory budget: {details:?}"
    );
    assert!(log.contains("ran out of memory"), "{log}");
    let replies = std::fs::read_dir(env.path("outbox")).unwrap().count();
    assert!(replies >= 2, "the request and the staff alert: {replies}");
}

/// Group commit, one mail failing: in a batch of five, the mail whose
/// recording fails is undone alone (its savepoint); the other four are
/// committed and acknowledged in the same pass. It stays in new/, is tried
/// again on every pass, and after five failures is set aside — recorded
/// from its header and quarantined — so it cannot hold up the mailbox.
#[tokio::test]
async fn one_failing_mail_of_a_batch_costs_the_others_nothing() {
    let env = Env::new(None);
    env.deliver(MAILS);
    let out = env
        .command(&["run", "--once"])
        .env("EGOV_INTAKE_FAILPOINT", "record:fault2.")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failed mail fails the run\n{log}");
    assert!(log.contains("failpoint record:fault2. reached"), "{log}");
    let left: Vec<String> = std::fs::read_dir(env.path("mail/office/new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["1700000000.fault2.host"], "{log}");
    assert_eq!(
        env.deliveries().await,
        4,
        "the batch's others are committed"
    );
    assert_eq!(
        std::fs::read_dir(env.path("mail/office/cur"))
            .unwrap()
            .count(),
        4
    );

    let log_file = std::fs::File::create(env.path("daemon.log")).unwrap();
    let daemon = Daemon(
        env.command(&["run"])
            .env("EGOV_INTAKE_FAILPOINT", "record:fault2.")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.waiting() > 0 {
        assert!(Instant::now() < deadline, "never set aside\n{}", env.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    daemon.stop();
    assert_eq!(env.deliveries().await, MAILS as i64);
    let quarantined = std::fs::read_dir(env.path("mail/office/.Quarantine/cur"))
        .unwrap()
        .count();
    assert_eq!(quarantined, 1, "{}", env.log());
    assert!(env.log().contains("mail set aside after repeated failures"));
}
