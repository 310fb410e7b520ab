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

#[path = "support/dry_run.rs"]
mod dry_run;

use chrono::TimeZone;
use egov_intake::pipeline::Report;

use dry_run::DryRun;

#[tokio::test]
async fn golden_ingest_dry_run_json() {
    let root = dry_run::root();
    let dry = DryRun::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .unwrap(),
    );
    let bless = std::env::var_os("EGOV_GOLDEN_BLESS").is_some();

    let files = dry_run::mails("tests/golden");
    assert!(files.len() >= 10, "the golden corpus is missing");
    let mut mismatches = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mailbox_name = name.split('-').next().unwrap();
        // Each mail on its own, as the first mail AGE ever got.
        let mut report = dry.run(mailbox_name, &name, &file).await;
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
