//! Golden tests for `ingest --dry-run --json`: every `tests/golden/*.eml`
//! is run through the whole pipeline (nothing written) at a fixed moment,
//! and the JSON must equal the `.json` beside it. The text of the replies
//! and alerts is compared apart, with `compose/<name>.txt` (the compose
//! stage's golden), so a change of wording touches only those files; the
//! understand stage has its own goldens (`understand/`, a library test).
//! On a mismatch the new output is written beside the old as `.failed` for
//! a diff. The file's name says which mailbox it reached (`office-…`,
//! `mpass-…`, `msign-…`). `EGOV_GOLDEN_BLESS=1` writes the files afresh.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use egov_intake::config;
use egov_intake::pipeline::{Pipeline, Report};
use egov_intake::rules::Rules;
use egov_intake::store::Store;

const CONFIG: &str = include_str!("support/dry_run.toml");

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
        let mut report = report;
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let composed = take_texts(&mut report, &stem);
        let got = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let compose_path = root
            .join("tests/golden/compose")
            .join(format!("{stem}.txt"));
        for (expected_path, got) in [(file.with_extension("json"), got), (compose_path, composed)] {
            let failed_path = expected_path.with_extension(format!(
                "{}.failed",
                expected_path.extension().unwrap().to_string_lossy()
            ));
            if bless {
                std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
                std::fs::write(&expected_path, &got).unwrap();
                continue;
            }
            match std::fs::read_to_string(&expected_path) {
                Ok(expected) if expected == got => {
                    let _ = std::fs::remove_file(&failed_path);
                }
                _ => {
                    std::fs::write(&failed_path, &got).unwrap();
                    mismatches.push(expected_path.display().to_string());
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "output differs from the golden JSON (see the .failed files; EGOV_GOLDEN_BLESS=1 accepts them): {mismatches:?}"
    );
}

/// Moves the body of every reply and alert out of `report` into one text,
/// leaving where it went in its place.
fn take_texts(report: &mut Report, stem: &str) -> String {
    let mut text = String::new();
    let Some(analysis) = report.analysis.as_mut() else {
        return text;
    };
    for (list, items) in [
        ("replies", &mut analysis.replies),
        ("alerts", &mut analysis.alerts),
    ] {
        for (i, item) in items.iter_mut().enumerate() {
            let at = format!("{list}[{i}]");
            let body = std::mem::replace(&mut item.body, format!("compose/{stem}.txt {at}"));
            text.push_str(&format!(
                "=== {at} to {} — {}\n{body}\n",
                item.to, item.subject
            ));
        }
    }
    text
}
