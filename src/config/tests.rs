//! Tests of loading a configuration: defaults, errors with file and line,
//! passwords refused inline and never echoed, secrets read from env and file.

use super::*;

const MINIMAL: &str = r#"
[database]
url = "sqlite://var/intake.db"

[[mailbox]]
name = "office"
role = "office"
address = "office@egov.md"
source = { kind = "maildir", path = "var/mail/office" }

[transport]
kind = "file"
dir = "var/outbox"
"#;

fn parse(text: &str) -> Result<Config, ConfigErrors> {
    parse_str(text, Path::new("test.toml"))
}

#[test]
fn minimal_config_gets_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.mailboxes.len(), 1);
    assert_eq!(c.mailboxes[0].role, Role::Office);
    assert_eq!(c.limits.max_message_bytes, 50 * 1024 * 1024);
    assert_eq!(c.limits.replies_per_recipient_10min, 3);
    assert_eq!(c.rules_dir, PathBuf::from("rules"));
    assert_eq!(c.staff.from, "office@egov.md");
    assert!(matches!(c.transport, TransportConfig::File { .. }));
}

#[test]
fn unknown_key_names_file_and_line() {
    let text = MINIMAL.replace("kind = \"file\"", "kind = \"file\"\ncolour = 1");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert_eq!(e.0[0].line, Some(13), "{e}");
    assert!(e.to_string().starts_with("test.toml:13:"), "{e}");
    assert!(e.0[0].message.contains("colour"), "{e}");
}

#[test]
fn inline_password_is_refused_and_never_echoed() {
    let text = r#"
[database]
url = "sqlite::memory:"

[[mailbox]]
name = "mpass"
role = "mpass"
address = "support.mpass@egov.md"
[mailbox.source]
kind = "imap"
host = "imap.egov.md"
username = "support.mpass@egov.md"
password = "hunter2-very-secret"

[transport]
kind = "file"
dir = "out"
"#;
    let e = parse(text).unwrap_err();
    let shown = e.to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("password_env or password_file"), "{shown}");
    assert_eq!(e.0[0].line, Some(13));
}

#[test]
fn toml_syntax_error_does_not_quote_the_line() {
    let text = "[database]\nurl = \"sqlite::memory:\"\npassword_env = hunter2secret\n";
    let shown = parse(text).unwrap_err().to_string();
    assert!(shown.starts_with("test.toml:3:"), "{shown}");
    assert!(!shown.contains("hunter2secret"), "{shown}");
}

#[test]
fn plaintext_needs_opt_in_and_loopback() {
    let imap = |host: &str, allow: bool| {
        format!(
            r#"
[database]
url = "sqlite::memory:"
[[mailbox]]
name = "m"
role = "msign"
address = "support.msign@egov.md"
[mailbox.source]
kind = "imap"
host = "{host}"
tls = "plain"
allow_plaintext = {allow}
username = "u"
password_env = "X"
[transport]
kind = "file"
dir = "o"
"#
        )
    };
    assert!(parse(&imap("127.0.0.1", true)).is_ok());
    assert!(parse(&imap("localhost", true)).is_ok());
    let e = parse(&imap("127.0.0.1", false)).unwrap_err();
    assert!(e.to_string().contains("allow_plaintext"), "{e}");
    let e = parse(&imap("imap.egov.md", true)).unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    assert_eq!(e.0[0].line, Some(10));
}

#[test]
fn every_error_is_reported_at_once() {
    let text = MINIMAL
        .replace("office@egov.md", "not-an-address")
        .replace("sqlite://var/intake.db", "mysql://x");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.0.len(), 2, "{e}");
}

#[test]
fn secrets_resolve_from_file_and_never_debug_print() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw");
    std::fs::write(&f, "s3cret\n").unwrap();
    let s = Secret::resolve(&PasswordSource::File(f)).unwrap();
    assert_eq!(s.expose(), "s3cret");
    assert!(!format!("{s:?}").contains("s3cret"));
    let e = Secret::resolve(&PasswordSource::Env("EGOV_INTAKE_SURELY_UNSET".into())).unwrap_err();
    assert!(e.to_string().contains("EGOV_INTAKE_SURELY_UNSET"));
}
