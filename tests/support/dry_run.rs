//! One mail at a time through the whole pipeline, each as the first mail
//! AGE ever got (a fresh in-memory database), with every mailbox of AGE
//! configured (`dry_run.toml`) and the shipped rules: how the golden and
//! corpus tests run their mail. Light on purpose: included alone
//! (`#[path]`), without the mail servers of the rest of the support code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use egov_intake::config::{self, Config};
use egov_intake::pipeline::{Pipeline, Report};
use egov_intake::rules::Rules;
use egov_intake::store::Store;

pub struct DryRun {
    config: Arc<Config>,
    rules: Rules,
    now: DateTime<Utc>,
}

impl DryRun {
    /// The configuration and rules, every mail received at `now`.
    pub fn at(now: DateTime<Utc>) -> DryRun {
        let text = include_str!("dry_run.toml");
        let mut config = config::parse_str(text, Path::new("dry_run.toml")).unwrap();
        config.rules_dir = root().join("rules");
        let rules = Rules::load(&config.rules_dir).unwrap();
        DryRun {
            config: Arc::new(config),
            rules,
            now,
        }
    }

    /// Runs `file` as delivered to the mailbox named `mailbox`, keyed
    /// `file:{name}`.
    pub async fn run(&self, mailbox: &str, name: &str, file: &Path) -> Report {
        let mailbox = self
            .config
            .mailboxes
            .iter()
            .find(|m| m.name == mailbox)
            .unwrap_or_else(|| panic!("{name}: no mailbox {mailbox}"))
            .clone();
        let pipeline = Pipeline::new(
            Store::memory().await.unwrap(),
            self.config.clone(),
            self.rules.clone(),
        );
        let raw = Arc::new(std::fs::read(file).unwrap());
        let size = raw.len();
        pipeline
            .run(
                &mailbox,
                &format!("file:{name}"),
                raw,
                size,
                self.now,
                false,
            )
            .await
            .unwrap()
    }
}

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.eml` files of `dir` (below the crate root), in name order.
pub fn mails(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}
