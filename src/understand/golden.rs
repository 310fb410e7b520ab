//! Golden tests of the understand stage alone: every golden and example
//! mail, parsed and understood as the mailbox it reached would, gives the
//! JSON in `tests/golden/understand/<name>.json` — with CRLF and with LF
//! line endings alike. A change to reply wording touches none of these.
//! `EGOV_GOLDEN_BLESS=1` writes the files afresh; a mismatch leaves the new
//! output beside the old as `.failed`.

use std::path::{Path, PathBuf};

use crate::config::Role;
use crate::rules::Rules;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every mail of the corpus with the mailbox role it reached: the golden
/// mails name it (`office-…`, `mpass-…`, `msign-…`); examples reach office@.
fn corpus() -> Vec<(PathBuf, Role)> {
    let mut mails = Vec::new();
    for (dir, named) in [("tests/golden", true), ("examples/mail", false)] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let role = match name.split('-').next() {
                Some("mpass") if named => Role::Mpass,
                Some("msign") if named => Role::Msign,
                _ => Role::Office,
            };
            mails.push((path, role));
        }
    }
    mails.sort_by(|a, b| a.0.cmp(&b.0));
    mails
}

fn understood(raw: &[u8], role: Role, options: &super::fields::Options) -> String {
    let mail = crate::parse::parse(raw, 20);
    let now = chrono::DateTime::UNIX_EPOCH;
    let inspection = crate::inspect::inspect(&mail, &crate::inspect::Settings::at(now));
    let u = super::understand(&mail, &inspection, role, options);
    serde_json::to_string_pretty(&u).unwrap() + "\n"
}

fn with_lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if !(b == b'\r' && raw.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn with_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    for &b in &with_lf(raw) {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn golden_path(mail: &Path) -> PathBuf {
    let name = mail.file_stem().unwrap().to_string_lossy().into_owned();
    root()
        .join("tests/golden/understand")
        .join(format!("{name}.json"))
}

#[test]
fn every_mail_is_understood_as_its_golden_says_with_either_line_ending() {
    let rules = Rules::load(&root().join("rules")).unwrap();
    let options = super::fields::Options {
        allowed_private_ranges: rules.allowed_private_ranges().to_vec(),
    };
    let bless = std::env::var_os("EGOV_GOLDEN_BLESS").is_some();
    let mails = corpus();
    assert!(mails.len() >= 14, "the corpus is missing");
    let mut mismatches = Vec::new();
    for (path, role) in mails {
        let raw = std::fs::read(&path).unwrap();
        let got = understood(&raw, role, &options);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (ending, twin) in [("LF", with_lf(&raw)), ("CRLF", with_crlf(&raw))] {
            let other = understood(&twin, role, &options);
            assert_eq!(got, other, "{name} is understood differently with {ending}");
        }
        let expected = golden_path(&path);
        if bless {
            std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
            std::fs::write(&expected, &got).unwrap();
            continue;
        }
        let failed = expected.with_extension("failed");
        if std::fs::read_to_string(&expected).is_ok_and(|e| e == got) {
            let _ = std::fs::remove_file(&failed);
        } else {
            std::fs::write(&failed, &got).unwrap();
            mismatches.push(name);
        }
    }
    assert!(
        mismatches.is_empty(),
        "understanding differs from its golden (see the .failed files; EGOV_GOLDEN_BLESS=1 accepts them): {mismatches:?}"
    );
}

#[test]
fn line_ending_twins_are_what_they_say() {
    assert_eq!(with_lf(b"a\r\nb\nc\r"), b"a\nb\nc\r");
    assert_eq!(with_crlf(b"a\r\nb\nc"), b"a\r\nb\r\nc");
}
