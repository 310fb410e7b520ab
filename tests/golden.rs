//! Golden tests for `ingest --dry-run --json`: every `tests/golden/*.eml`
//! is run through the whole pipeline (nothing written) at a fixed moment,
//! and the JSON must equal the `.json` beside it. On a mismatch the new
//! output is written beside it as `.failed` for a diff. The file's name
//! says which mailbox it reached (`office-…`, `mpass-…`, `msign-…`).
//! `EGOV_GOLDEN_BLESS=1` writes the `.json` files afresh.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use egov_intake::config;
use egov_intake::pipeline::Pipeline;
use egov_intake::rules::Rules;
use egov_intake::store::Store;

const CONFIG: &str = r#"
[database]
url = "sqlite::memory:"
[[mailbox]]
name = "office"
role = "office"
address = "office@egov.md"
source = { kind = "maildir", path = "unused/office" }
[[mailbox]]
name = "mpass"
role = "mpass"
address = "support.mpass@egov.md"
source = { kind = "maildir", path = "unused/mpass" }
[[mailbox]]
name = "msign"
role = "msign"
address = "support.msign@egov.md"
source = { kind = "maildir", path = "unused/msign" }
[transport]
kind = "file"
dir = "unused/outbox"
[staff]
alerts = ["staff@egov.md"]
"#;

#[tokio::test]
async fn golden_ingest_dry_run_json() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut config = config::parse_str(CONFIG, Path::new("golden.toml")).unwrap();
    config.rules_dir = root.join("rules");
    let rules = Rules::load(&config.rules_dir).unwrap();
    let config = Arc::new(config);
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
        .unwrap();
    let bless = std::env::var_os("EGOV_GOLDEN_BLESS").is_some();

    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/golden"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the golden corpus is missing");
    let mut mismatches = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mailbox_name = name.split('-').next().unwrap();
        let mailbox = config
            .mailboxes
            .iter()
            .find(|m| m.name == mailbox_name)
            .unwrap_or_else(|| panic!("{name}: no mailbox {mailbox_name}"))
            .clone();
        // Each mail on its own, as the first mail AGE ever got.
        let pipeline = Pipeline::new(
            Store::memory().await.unwrap(),
            config.clone(),
            rules.clone(),
        );
        let raw = Arc::new(std::fs::read(&file).unwrap());
        let size = raw.len();
        let report = pipeline
            .run(&mailbox, &format!("file:{name}"), raw, size, now, false)
            .await
            .unwrap();
        let got = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let expected_path = file.with_extension("json");
        let failed_path = file.with_extension("failed");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == got => {
                let _ = std::fs::remove_file(&failed_path);
            }
            _ => {
                std::fs::write(&failed_path, &got).unwrap();
                mismatches.push(name);
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "output differs from the golden JSON (see the .failed files; EGOV_GOLDEN_BLESS=1 accepts them): {mismatches:?}"
    );
}
