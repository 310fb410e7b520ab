//! The embedded default as the tests configure it: one office Maildir,
//! SQLite, the file outbox and the shipped rules, with each test's own
//! extra settings. Light on purpose: test files that need nothing else of
//! the support code include it alone (`#[path]`).

use std::path::Path;

/// Extra lines for the tables a test tunes; empty strings for none.
#[derive(Default)]
pub struct Extra<'a> {
    pub database: &'a str,
    /// Inside the office mailbox's inline `source = { … }` table, after its path.
    pub source: &'a str,
    pub limits: &'a str,
}

/// The configuration text for a test folder `dir`, its database in `db_dir`.
pub fn config(dir: &Path, db_dir: &Path, extra: &Extra<'_>) -> String {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    format!(
        r#"[database]
url = "sqlite://{db}/intake.db"
{database}
[rules]
dir = "{rules}"
[spool]
dir = "{d}/spool"
[[mailbox]]
name = "office"
role = "office"
address = "office@egov.md"
source = {{ kind = "maildir", path = "{d}/mail/office"{source} }}
[transport]
kind = "file"
dir = "{d}/outbox"
[staff]
from = "intake@egov.md"
alerts = ["staff@egov.md"]
[limits]
{limits}
"#,
        d = dir.display(),
        db = db_dir.display(),
        rules = rules.display(),
        database = extra.database,
        source = extra.source,
        limits = extra.limits,
    )
}
