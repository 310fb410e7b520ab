//! Real mail servers for integration tests.
//!
//! [`MailServers::start`] gives every test its own private Dovecot (IMAP with STARTTLS, IMAPS,
//! LMTP) and Postfix (SMTP, relaying *every* domain to that Dovecot over LMTP), running on free
//! loopback ports out of a fresh temp dir, with a throwaway CA and a server certificate for
//! `localhost` / `127.0.0.1` made with the `openssl` CLI. Nothing is ever skipped: if a server
//! cannot be started, `start` returns an error saying what is missing, and the test fails.
//!
//! Requirements (all handled by `scripts/test.sh`):
//! * running as root (Postfix's master and Dovecot switch to their own users);
//! * Debian packages `dovecot-imapd`, `dovecot-lmtpd`, `postfix`, `openssl`;
//! * mail is stored as the unprivileged user `egovtest` if it exists (scripts/test.sh creates it),
//!   otherwise as `nobody:nogroup` — Dovecot refuses to store mail as root.
//!
//! Layout of [`MailServers::dir`]:
//! ```text
//! tls/            ca.crt (see ca_file), server.crt, server.key
//! dovecot/        dovecot.conf, dovecot.log, stderr.log, run/ (base_dir), state/
//! postfix/        etc/main.cf, etc/master.cf, spool/ (queue), data/, postfix.log, master.log
//! mail/<user>/    Maildir++ root of <user> (INBOX); folder "Processed" is mail/<user>/.Processed/
//! home/<user>/    Dovecot home directories
//! ```
//! Users are any address (`office@egov.md`, `ana@example.md`, ...), lower-cased as Dovecot does;
//! all of them log in with [`MailServers::password`]. Dovecot stores messages with LF line ends.
#![allow(dead_code)]

pub mod embedded;
pub mod fixtures;
pub mod hostile;
mod maildir;

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// The password every user logs in with.
const PASSWORD: &str = "egov-test-password";
/// Preferred owner of the mail store (created by scripts/test.sh); fallback is `nobody`.
const MAIL_ACCOUNT: &str = "egovtest";
const FALLBACK_MAIL_ACCOUNT: &str = "nobody";
/// How long a server may take to accept connections after being spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Servers' ports are picked from here, below Linux' ephemeral range (32768-60999), so that the
/// outgoing connections of other tests can never be holding the port we picked.
const PORT_RANGE: std::ops::Range<u16> = 20000..32000;
/// Attempts at starting an instance when a picked port turns out to be taken.
const START_ATTEMPTS: usize = 3;

/// A private Dovecot + Postfix pair; both are stopped and the temp dir removed on drop.
pub struct MailServers {
    tools: Tools,
    ports: Ports,
    dovecot: Option<ServerProcess>,
    postfix: Option<ServerProcess>,
    // Last field: dropped after the servers have been stopped in `Drop::drop`.
    dir: tempfile::TempDir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ports {
    imap: u16,
    imaps: u16,
    lmtp: u16,
    smtp: u16,
}

impl MailServers {
    /// Starts Dovecot and Postfix in a fresh temp dir on free loopback ports; fails with a clear
    /// error naming what is missing.
    pub fn start() -> Result<MailServers> {
        let tools = Tools::find().context("cannot start the test mail servers")?;
        let mut attempt = 1;
        loop {
            match Self::start_once(tools.clone()) {
                Ok(servers) => return Ok(servers),
                Err(err) if attempt < START_ATTEMPTS && is_port_clash(&err) => attempt += 1,
                Err(err) => return Err(err.context("cannot start the test mail servers")),
            }
        }
    }

    /// Plaintext IMAP port (offers STARTTLS; plaintext LOGIN is allowed too).
    pub fn imap_port(&self) -> u16 {
        self.ports.imap
    }

    /// IMAP over implicit TLS.
    pub fn imaps_port(&self) -> u16 {
        self.ports.imaps
    }

    /// Postfix smtpd on 127.0.0.1 (no auth needed from loopback, offers STARTTLS).
    pub fn smtp_port(&self) -> u16 {
        self.ports.smtp
    }

    /// PEM file of the throwaway CA that signed the servers' certificate (for `localhost` and
    /// IP `127.0.0.1`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.crt")
    }

    /// Every user logs in with this password.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// The instance's temp dir; tests may put their own files (e.g. a daemon config) in it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops Dovecot (kills the process) and starts it again on the same ports with the same
    /// mail store. Connected IMAP clients are disconnected.
    pub fn restart_dovecot(&mut self) -> Result<()> {
        // Dropping stops it (the whole process group: also logged-in `imap` processes).
        drop(self.dovecot.take());
        // Processes that inherited the listening sockets may take a moment to go away.
        for port in [self.ports.imap, self.ports.imaps, self.ports.lmtp] {
            wait_port_closed(port, STOP_TIMEOUT)
                .with_context(|| format!("Dovecot did not let go of its ports\n{}", self.logs()))?;
        }
        self.start_dovecot().context("cannot restart Dovecot")
    }

    /// Sends `signal` (`-STOP`, `-CONT`) to Dovecot's whole process group: with `-STOP` the
    /// server hangs with its connections open — the kernel still acknowledges, nothing answers.
    pub fn signal_dovecot(&self, signal: &str) -> Result<()> {
        let process = self.dovecot.as_ref().context("Dovecot is not running")?;
        let status = Command::new("kill")
            .args([signal, "--", &format!("-{}", process.child.id())])
            .status()?;
        anyhow::ensure!(status.success(), "kill {signal} failed");
        Ok(())
    }

    /// Sends `raw` (a complete RFC 5322 message) through Postfix SMTP with the given envelope.
    /// An empty `from` is the null reverse-path `<>`. Returns once Postfix has queued the message;
    /// use [`MailServers::wait_for_message`] to wait for the delivery.
    pub fn send_smtp(&self, from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
        use lettre::Transport as _;
        let from_addr = if from.is_empty() {
            None
        } else {
            Some(
                from.parse::<lettre::Address>()
                    .with_context(|| format!("invalid envelope sender {from:?}"))?,
            )
        };
        let to_addrs = to
            .iter()
            .map(|rcpt| {
                rcpt.parse::<lettre::Address>()
                    .with_context(|| format!("invalid envelope recipient {rcpt:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let envelope =
            lettre::address::Envelope::new(from_addr, to_addrs).context("invalid SMTP envelope")?;
        let transport = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
            .port(self.ports.smtp)
            .timeout(Some(Duration::from_secs(30)))
            .build();
        transport.send_raw(&envelope, raw).map_err(|err| {
            anyhow!(
                "sending mail from {from:?} to {to:?} through Postfix on 127.0.0.1:{} failed: \
                 {err}\n{}",
                self.ports.smtp,
                self.logs()
            )
        })?;
        Ok(())
    }

    /// All messages currently in `folder` ("INBOX" or e.g. "Processed", "Quarantine") of `user`,
    /// read straight from the Maildir on disk (new/ and cur/), oldest first (by the delivery
    /// time in Dovecot's file names). A folder that does not exist (yet) has no messages. `user`
    /// is case-insensitive, like Dovecot's logins; bytes are as stored (LF line ends, with the
    /// Return-Path/Received headers added on delivery).
    pub fn messages(&self, user: &str, folder: &str) -> Result<Vec<Vec<u8>>> {
        let path = self.folder_path(user, folder);
        maildir::read_messages(&path)
            .with_context(|| format!("cannot read {user}/{folder} at {}", path.display()))
    }

    /// Polls `messages(user, folder)` until one satisfies `pred` or `timeout` passes (then Err
    /// with what was there, and the server logs).
    pub fn wait_for_message(
        &self,
        user: &str,
        folder: &str,
        timeout: Duration,
        pred: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages(user, folder)?;
            if let Some(found) = messages.iter().find(|msg| pred(msg)) {
                return Ok(found.clone());
            }
            if Instant::now() >= deadline {
                let mut report = format!(
                    "no message in {user}/{folder} matched within {timeout:?}; {} message(s) there \
                     ({})",
                    messages.len(),
                    self.folder_path(user, folder).display()
                );
                for (i, msg) in messages.iter().enumerate().take(10) {
                    report.push_str(&format!("\n--- message {} ---\n", i + 1));
                    report.push_str(&excerpt(msg, 2000));
                }
                if messages.len() > 10 {
                    report.push_str(&format!(
                        "\n[... {} more messages ...]",
                        messages.len() - 10
                    ));
                }
                report.push('\n');
                report.push_str(&self.logs_tail(150));
                bail!(report);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Log text of Dovecot and Postfix, for failure messages.
    pub fn logs(&self) -> String {
        self.collect_logs(None)
    }

    // ----------------------------------------------------------------------------------------

    fn start_once(tools: Tools) -> Result<MailServers> {
        let dir = tempfile::Builder::new()
            .prefix("egov-mail-")
            .tempdir()
            .context("cannot create a temp dir")?;
        let root = dir.path();
        // The unprivileged mail user must be able to traverse it (tempdirs are 0700) ...
        fs::set_permissions(root, fs::Permissions::from_mode(0o755))?;
        // ... and everything above it.
        for parent in root.ancestors().skip(1) {
            let mode = fs::metadata(parent)?.permissions().mode();
            if mode & 0o001 == 0 {
                bail!(
                    "the mail store owner cannot reach {}: {} is not world-searchable (mode {:o}); \
                     point TMPDIR somewhere else, e.g. /tmp",
                    root.display(),
                    parent.display(),
                    mode & 0o7777
                );
            }
        }
        for sub in [
            "tls",
            "dovecot",
            "postfix/etc",
            "postfix/spool",
            "mail",
            "home",
        ] {
            fs::create_dir_all(root.join(sub))
                .with_context(|| format!("cannot create {}", root.join(sub).display()))?;
        }
        for sub in ["mail", "home"] {
            std::os::unix::fs::chown(root.join(sub), Some(tools.mail_uid), Some(tools.mail_gid))
                .with_context(|| format!("cannot chown {} to the mail user", sub))?;
        }
        make_certificates(&tools.openssl, &root.join("tls"))?;

        let ports = pick_ports()?;
        fs::write(
            root.join("dovecot/dovecot.conf"),
            dovecot_conf(root, ports, &tools),
        )?;
        write_backdated(
            &root.join("postfix/etc/main.cf"),
            &postfix_main_cf(root, ports),
        )?;
        write_backdated(
            &root.join("postfix/etc/master.cf"),
            &postfix_master_cf(ports),
        )?;

        let mut servers = MailServers {
            tools,
            ports,
            dovecot: None,
            postfix: None,
            dir,
        };
        servers.start_dovecot()?;
        servers.start_postfix()?;
        Ok(servers)
    }

    fn start_dovecot(&mut self) -> Result<()> {
        let root = self.dir.path();
        let stderr = open_append(&root.join("dovecot/stderr.log"))?;
        let child = Command::new(&self.tools.dovecot)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot/dovecot.conf"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone()?)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot run {}", self.tools.dovecot.display()))?;
        self.dovecot = Some(ServerProcess::new(child, self.dir.path()));
        let ports = self.ports;
        self.wait_ready(Server::Dovecot, || {
            expect_greeting(ports.imap, "* OK [CAPABILITY", "a LOGOUT").context("IMAP port")?;
            TcpStream::connect_timeout(&loopback(ports.imaps), Duration::from_secs(1))
                .context("IMAPS port")?;
            expect_greeting(ports.lmtp, "220 ", "QUIT").context("LMTP port")
        })
    }

    fn start_postfix(&mut self) -> Result<()> {
        let root = self.dir.path();
        let etc = root.join("postfix/etc");
        // What `postfix check` would create (it takes seconds: a shell script forking hundreds
        // of processes); the master then runs as our child (-s: stay in the foreground).
        self.create_postfix_dirs()?;
        let stderr = open_append(&root.join("postfix/master.log"))?;
        let child = Command::new(&self.tools.postfix_master)
            .arg("-c")
            .arg(&etc)
            .arg("-s")
            .stdin(Stdio::null())
            .stdout(stderr.try_clone()?)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("cannot run {}", self.tools.postfix_master.display()))?;
        self.postfix = Some(ServerProcess::new(child, self.dir.path()));
        let ports = self.ports;
        self.wait_ready(Server::Postfix, || {
            expect_greeting(ports.smtp, "220 ", "QUIT").context("SMTP port")
        })
    }

    /// Postfix's queue and data directories with the owners and modes of Debian's postfix-files.
    fn create_postfix_dirs(&self) -> Result<()> {
        let spool = self.dir.path().join("postfix/spool");
        let (postfix, postdrop) = (self.tools.postfix_uid, self.tools.postdrop_gid);
        // (directory, owner uid, group gid, mode)
        let dirs = [
            ("active", postfix, 0, 0o700),
            ("bounce", postfix, 0, 0o700),
            ("corrupt", postfix, 0, 0o700),
            ("defer", postfix, 0, 0o700),
            ("deferred", postfix, 0, 0o700),
            ("flush", postfix, 0, 0o700),
            ("hold", postfix, 0, 0o700),
            ("incoming", postfix, 0, 0o700),
            ("private", postfix, 0, 0o700),
            ("saved", postfix, 0, 0o700),
            ("trace", postfix, 0, 0o700),
            ("maildrop", postfix, postdrop, 0o730),
            ("public", postfix, postdrop, 0o710),
            ("pid", 0, 0, 0o755),
            ("../data", postfix, 0, 0o700),
        ];
        for (name, uid, gid, mode) in dirs {
            let path = spool.join(name);
            fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                .with_context(|| format!("cannot chown {}", path.display()))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    }

    /// Waits until `probe` succeeds, failing early if the server process exits.
    fn wait_ready(&mut self, server: Server, probe: impl Fn() -> Result<()>) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let process = match server {
                Server::Dovecot => self.dovecot.as_mut(),
                Server::Postfix => self.postfix.as_mut(),
            }
            .expect("server was just spawned");
            if let Some(status) = process.child.try_wait()? {
                let name = server.name();
                match server {
                    Server::Dovecot => self.dovecot = None,
                    Server::Postfix => self.postfix = None,
                }
                bail!(
                    "{name} exited during start-up ({status}); ports {:?}\n{}",
                    self.ports,
                    self.logs()
                );
            }
            match probe() {
                Ok(()) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(err) => bail!(
                    "{} did not become ready within {START_TIMEOUT:?} (ports {:?}): {err:#}\n{}",
                    server.name(),
                    self.ports,
                    self.logs()
                ),
            }
        }
    }

    /// Puts `raws` straight into the INBOX Maildir of `user`, as a local
    /// delivery agent would (each file written in tmp/, then renamed into
    /// new/), owned by the mail user: a backlog of thousands in seconds.
    pub fn deliver(&self, user: &str, raws: &[Vec<u8>]) -> Result<()> {
        let root = self.folder_path(user, "INBOX");
        let owner = |path: &Path| {
            std::os::unix::fs::chown(path, Some(self.tools.mail_uid), Some(self.tools.mail_gid))
                .with_context(|| format!("cannot chown {}", path.display()))
        };
        let mut dir = root.clone();
        let mut missing = Vec::new();
        while !dir.exists() {
            missing.push(dir.clone());
            if !dir.pop() {
                break;
            }
        }
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(root.join(sub))?;
            owner(&root.join(sub))?;
        }
        for created in missing {
            owner(&created)?;
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        for (i, raw) in raws.iter().enumerate() {
            let name = format!("{stamp}.M{i}P{}.bench", std::process::id());
            let tmp = root.join("tmp").join(&name);
            fs::write(&tmp, raw)?;
            owner(&tmp)?;
            fs::rename(&tmp, root.join("new").join(&name))?;
        }
        Ok(())
    }

    fn folder_path(&self, user: &str, folder: &str) -> PathBuf {
        // Dovecot's auth_username_format is %Lu: the mailbox of Office@Egov.md is office@egov.md.
        let user_root = self.dir.path().join("mail").join(user.to_lowercase());
        maildir::folder_dir(&user_root, folder)
    }

    fn logs_tail(&self, lines: usize) -> String {
        self.collect_logs(Some(lines))
    }

    fn collect_logs(&self, tail: Option<usize>) -> String {
        let root = self.dir.path();
        let mut out = String::new();
        for (title, rel) in [
            ("dovecot log", "dovecot/dovecot.log"),
            ("dovecot stderr", "dovecot/stderr.log"),
            ("postfix log", "postfix/postfix.log"),
            ("postfix master stderr", "postfix/master.log"),
        ] {
            let text = match fs::read(root.join(rel)) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => continue,
            };
            if text.trim().is_empty() {
                continue;
            }
            let text = match tail {
                Some(n) => {
                    let all: Vec<&str> = text.lines().collect();
                    let skip = all.len().saturating_sub(n);
                    let mut t = String::new();
                    if skip > 0 {
                        t.push_str(&format!("[... {skip} earlier lines ...]\n"));
                    }
                    t.push_str(&all[skip..].join("\n"));
                    t
                }
                None => text,
            };
            out.push_str(&format!(
                "===== {title} ({}) =====\n{}\n",
                root.join(rel).display(),
                text.trim_end()
            ));
        }
        if out.is_empty() {
            out.push_str("(no server logs were written)\n");
        }
        out
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        // Postfix first, so that it does not try to deliver into a dying Dovecot.
        drop(self.postfix.take());
        drop(self.dovecot.take());
        // `dir` is removed when the field is dropped, after this.
    }
}

#[derive(Clone, Copy)]
enum Server {
    Dovecot,
    Postfix,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Dovecot => "Dovecot",
            Server::Postfix => "Postfix",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Preflight: binaries, users, privileges.

#[derive(Clone, Debug)]
struct Tools {
    dovecot: PathBuf,
    postfix_master: PathBuf,
    openssl: PathBuf,
    postfix_uid: u32,
    postdrop_gid: u32,
    mail_uid: u32,
    mail_gid: u32,
}

impl Tools {
    fn find() -> Result<Tools> {
        const HINT: &str = "scripts/test.sh installs the Debian packages dovecot-imapd, \
                            dovecot-lmtpd, postfix and openssl when they are missing";
        let uid = fs::metadata("/proc/self")
            .context("cannot determine our uid from /proc/self")?
            .uid();
        if uid != 0 {
            bail!(
                "the test mail servers must be started as root (Postfix's master and Dovecot \
                 switch to their own unprivileged users), but this test runs as uid {uid}; \
                 run the tests as root, e.g. with scripts/test.sh"
            );
        }
        let dovecot = find_program("dovecot").with_context(|| {
            format!("Dovecot is not installed: no `dovecot` executable found; {HINT}")
        })?;
        // Debian puts Dovecot's service binaries here; check them for a clearer message.
        let libexec = Path::new("/usr/lib/dovecot");
        if libexec.is_dir() {
            for (bin, package) in [("imap", "dovecot-imapd"), ("lmtp", "dovecot-lmtpd")] {
                if !libexec.join(bin).exists() {
                    bail!(
                        "Dovecot's {bin} service is not installed ({} is missing): install \
                         {package}; {HINT}",
                        libexec.join(bin).display()
                    );
                }
            }
        }
        for user in ["dovecot", "dovenull"] {
            if account_ids(user).is_none() {
                bail!(
                    "Dovecot's system user `{user}` does not exist; reinstall dovecot-core; {HINT}"
                );
            }
        }
        find_program("postfix").with_context(|| {
            format!("Postfix is not installed: no `postfix` executable found; {HINT}")
        })?;
        let postconf = find_program("postconf")
            .with_context(|| format!("Postfix's `postconf` executable not found; {HINT}"))?;
        let out = Command::new(&postconf)
            .args(["-dh", "daemon_directory"])
            .output()
            .with_context(|| format!("cannot run {}", postconf.display()))?;
        if !out.status.success() {
            bail!(
                "`postconf -dh daemon_directory` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let postfix_master =
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("master");
        if !postfix_master.is_file() {
            bail!(
                "Postfix's master daemon {} is missing; {HINT}",
                postfix_master.display()
            );
        }
        let (postfix_uid, _) = account_ids("postfix").with_context(|| {
            format!("Postfix's system user `postfix` does not exist; reinstall postfix; {HINT}")
        })?;
        let postdrop_gid = group_id("postdrop").with_context(|| {
            format!("Postfix's system group `postdrop` does not exist; reinstall postfix; {HINT}")
        })?;
        let openssl = find_program("openssl").with_context(|| {
            format!("no `openssl` executable found (needed for test certificates); {HINT}")
        })?;
        let (mail_uid, mail_gid) = account_ids(MAIL_ACCOUNT)
            .or_else(|| account_ids(FALLBACK_MAIL_ACCOUNT))
            .with_context(|| {
                format!(
                    "neither the user `{MAIL_ACCOUNT}` (created by scripts/test.sh) nor \
                     `{FALLBACK_MAIL_ACCOUNT}` exists to own the test mail store (Dovecot refuses \
                     to store mail as root)"
                )
            })?;
        if mail_uid == 0 {
            bail!("the test mail store owner must not be root");
        }
        Ok(Tools {
            dovecot,
            postfix_master,
            openssl,
            postfix_uid,
            postdrop_gid,
            mail_uid,
            mail_gid,
        })
    }
}

/// Looks `name` up in PATH and the sbin directories (which a non-login root PATH may lack).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/bin"]
                .into_iter()
                .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// uid and primary gid of a system account, via `id` (so NSS is honoured).
fn account_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(user).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// gid of a system group, via `getent group` (so NSS is honoured).
fn group_id(group: &str) -> Option<u32> {
    let out = Command::new("getent")
        .args(["group", group])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    // name:password:gid:members
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .nth(2)?
        .trim()
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------------
// Ports.

static HANDED_OUT_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
static PORT_SEED: AtomicU64 = AtomicU64::new(0);

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(PORT_SEED.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// Four distinct free loopback ports, never handed out twice within this process.
fn pick_ports() -> Result<Ports> {
    let mut guard = HANDED_OUT_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let used = guard.get_or_insert_with(HashSet::new);
    let mut picked = Vec::with_capacity(4);
    let span = u64::from(PORT_RANGE.end - PORT_RANGE.start);
    for _ in 0..2000 {
        if picked.len() == 4 {
            break;
        }
        let port = PORT_RANGE.start + (random_u64() % span) as u16;
        if used.contains(&port) {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            used.insert(port);
            picked.push(port);
        }
    }
    if picked.len() < 4 {
        bail!("cannot find 4 free loopback ports in {PORT_RANGE:?}");
    }
    Ok(Ports {
        imap: picked[0],
        imaps: picked[1],
        lmtp: picked[2],
        smtp: picked[3],
    })
}

fn is_port_clash(err: &anyhow::Error) -> bool {
    let text = format!("{err:#}");
    text.contains("Address already in use") || text.contains("address already in use")
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Connects, reads lines until one starts with `want` (servers may send preliminary lines,
/// e.g. Dovecot's "* OK Waiting for authentication process"), then says `bye`.
fn expect_greeting(port: u16, want: &str, bye: &str) -> Result<()> {
    let stream = TcpStream::connect_timeout(&loopback(port), Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed after {seen:?}, expected a line starting with {want:?}");
        }
        if line.starts_with(want) {
            break;
        }
        seen.push(line);
        if seen.len() > 5 {
            bail!("unexpected greeting {seen:?}, expected a line starting with {want:?}");
        }
    }
    let _ = (&stream).write_all(format!("{bye}\r\n").as_bytes());
    Ok(())
}

fn wait_port_closed(port: u16, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).is_ok() {
        if Instant::now() >= deadline {
            bail!("127.0.0.1:{port} still accepts connections after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Processes.

/// A server process (Dovecot's or Postfix's master) that leads its own process group: Dovecot
/// via `process_group(0)`, Postfix's master makes itself a session leader. Dropping it stops the
/// whole group.
///
/// A watchdog (`sh`, ignoring SIGINT/SIGTERM/SIGHUP) reads from a pipe only this test process
/// holds: if the test process dies without dropping us (Ctrl-C, killed by a timeout), the pipe
/// closes and the watchdog stops the server group and removes the temp dir, so no orphaned
/// servers pile up.
struct ServerProcess {
    child: Child,
    watchdog: Option<Child>,
}

/// `$0` is the process group, `$1` the instance's temp dir. (dash's `kill` takes no `--`; a
/// negative pid after the signal works.)
const WATCHDOG_SCRIPT: &str = r#"trap '' INT TERM HUP
read -r _
kill -TERM "-$0" 2>/dev/null
sleep 5
kill -KILL "-$0" 2>/dev/null
rm -rf -- "$1""#;

impl ServerProcess {
    fn new(child: Child, dir: &Path) -> ServerProcess {
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg(child.id().to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        ServerProcess { child, watchdog }
    }
}

impl Drop for ServerProcess {
    /// SIGTERM to the group — Dovecot's master alone would leave logged-in `imap` processes
    /// running — then SIGKILL to whatever is still alive after [`STOP_TIMEOUT`]. The leader is
    /// reaped only at the end, so its pid (= the group id) cannot be reused meanwhile.
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let child = &mut self.child;
        if matches!(child.try_wait(), Ok(Some(_))) {
            // Already reaped: the group id may be reused, so do not signal it.
            return;
        }
        let pgid = child.id();
        // Never signal a group the server does not lead (it could be the test's own group).
        let target = if process_group_of(pgid) == Some(pgid) {
            format!("-{pgid}")
        } else {
            pgid.to_string()
        };
        let signal = |sig: &str| {
            let _ = Command::new("kill")
                .args([sig, "--", &target])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        let wait_group_gone = |timeout: Duration| -> bool {
            let deadline = Instant::now() + timeout;
            loop {
                if live_group_members(pgid) == 0 {
                    return true;
                }
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        signal("-TERM");
        if !wait_group_gone(STOP_TIMEOUT) {
            signal("-KILL");
            wait_group_gone(Duration::from_secs(5));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Number of processes in process group `pgid` that are not zombies, from /proc.
fn live_group_members(pgid: u32) -> usize {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_stat)
        .filter(|&(state, pgrp)| pgrp == pgid && state != 'Z' && state != 'X')
        .count()
}

fn process_group_of(pid: u32) -> Option<u32> {
    proc_stat(pid).map(|(_, pgrp)| pgrp)
}

/// (state, process group) of `pid` from /proc/PID/stat.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Writes a file with a modification time in the past: Postfix re-reads a configuration file
/// that changed within the last second or two (in 300 ms steps) before it starts.
fn write_backdated(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(past))
        .with_context(|| format!("cannot set the modification time of {}", path.display()))
}

fn open_append(path: &Path) -> Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// TLS material.

/// Throwaway CA plus a server certificate for `localhost` and 127.0.0.1 (EC P-256, 2 days).
fn make_certificates(openssl: &Path, tls: &Path) -> Result<()> {
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new(openssl)
            .args(args)
            .current_dir(tls)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", openssl.display()))?;
        if !out.status.success() {
            bail!(
                "`openssl {}` failed ({}): {}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    run(&[
        &["req", "-x509", "-nodes", "-days", "2"][..],
        &EC,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=egov-intake test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat())?;
    run(&[
        &["req", "-new", "-nodes"][..],
        &EC,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat())?;
    fs::write(
        tls.join("server.ext"),
        "basicConstraints = critical,CA:FALSE\n\
         keyUsage = critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:localhost,IP:127.0.0.1\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid,issuer\n",
    )?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "server.ext",
    ])?;
    for key in ["ca.key", "server.key"] {
        fs::set_permissions(tls.join(key), fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Configuration files.

fn dovecot_conf(root: &Path, ports: Ports, tools: &Tools) -> String {
    let d = root.display();
    let dh = Path::new("/usr/share/dovecot/dh.pem");
    let ssl_dh = if dh.is_file() {
        format!("ssl_dh = <{}\n", dh.display())
    } else {
        String::new()
    };
    format!(
        r#"# Generated by tests/support/mod.rs for one test; nothing here is shared.
base_dir = {d}/dovecot/run
state_dir = {d}/dovecot/state
instance_name = egov-test-{imap}
log_path = {d}/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <{d}/tls/server.crt
ssl_key = <{d}/tls/server.key
{ssl_dh}ssl_min_protocol = TLSv1.2
# Loopback test servers: plaintext LOGIN is allowed on the STARTTLS port too.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0

first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{d}/mail/%u
mail_max_userip_connections = 100

passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u allow_all_users=yes
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
# No growing per-IP delays after failed logins (tests try wrong passwords on purpose).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"#,
        imap = ports.imap,
        imaps = ports.imaps,
        lmtp = ports.lmtp,
        password = PASSWORD,
        uid = tools.mail_uid,
        gid = tools.mail_gid,
    )
}

fn postfix_main_cf(root: &Path, ports: Ports) -> String {
    let d = root.display();
    format!(
        r#"# Generated by tests/support/mod.rs for one test; nothing here is shared.
compatibility_level = 3.6
queue_directory = {d}/postfix/spool
data_directory = {d}/postfix/data
maillog_file = {d}/postfix/postfix.log
maillog_file_prefixes = {d}/postfix

myhostname = smtp.egov-intake.test
mydomain = egov-intake.test
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4

# Nothing is local: every domain is relayed to this test's Dovecot over LMTP.
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
default_transport = lmtp:inet:127.0.0.1:{lmtp}
relay_transport = lmtp:inet:127.0.0.1:{lmtp}
lmtp_connection_cache_on_demand = no

# No network, no DNS.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no

# Retry quickly when Dovecot is down (e.g. during restart_dovecot).
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
in_flow_delay = 0
smtpd_error_sleep_time = 0

smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/tls/server.crt
smtpd_tls_key_file = {d}/tls/server.key
smtpd_tls_loglevel = 1

message_size_limit = 52428800
mailbox_size_limit = 0
biff = no
"#,
        lmtp = ports.lmtp,
    )
}

fn postfix_master_cf(ports: Ports) -> String {
    // Like Debian's master.cf, but without chroot and with smtpd on our loopback port only.
    format!(
        "# Generated by tests/support/mod.rs for one test.
127.0.0.1:{smtp} inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
",
        smtp = ports.smtp,
    )
}

// ---------------------------------------------------------------------------------------------

/// The first `max` bytes of a message, lossily as text, for error messages.
fn excerpt(msg: &[u8], max: usize) -> String {
    let mut text = String::from_utf8_lossy(&msg[..msg.len().min(max)]).into_owned();
    if msg.len() > max {
        text.push_str(&format!("\n[... {} more bytes ...]", msg.len() - max));
    }
    text
}
