//! The prose corpus (`tests/corpus/`, see its README): every mail runs
//! through the whole pipeline on an in-memory database, as the first mail
//! AGE ever got, and what the pipeline read is compared field by field with
//! what a careful registrar reads in it. The accuracy per field is printed
//! (and written to `target/corpus-report.txt` with every miss); a field
//! below 97 % fails the test.

#[path = "support/dry_run.rs"]
mod dry_run;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::TimeZone;
use serde_json::Value;

use dry_run::DryRun;

/// Below this share of right answers a field fails the test.
const REQUIRED: f64 = 0.97;

/// How a field is compared.
#[derive(Clone, Copy)]
enum Compare {
    /// Names, codes, URLs: equal once normalised.
    Exact,
    /// Descriptions: the same span give or take a few words at its ends.
    Span,
    /// Addresses: the same list in the same order.
    List,
    /// Attributes, missing items: the same set.
    Set,
    /// Certificate serials: the same hexadecimal number.
    Serial,
}

/// Every field measured, with where the pipeline's report holds it.
const FIELDS: &[(&str, Compare)] = &[
    ("language", Compare::Exact),
    ("service", Compare::Exact),
    ("stage", Compare::Exact),
    ("environment", Compare::Exact),
    ("institution", Compare::Exact),
    ("idno", Compare::Exact),
    ("system_name", Compare::Exact),
    ("system_description", Compare::Span),
    ("service_name_ro", Compare::Exact),
    ("service_name_ru", Compare::Exact),
    ("service_name_en", Compare::Exact),
    ("service_description", Compare::Span),
    ("ip_addresses", Compare::List),
    ("signer_type", Compare::Exact),
    ("logout_request_url", Compare::Exact),
    ("logout_response_url", Compare::Exact),
    ("attributes", Compare::Set),
    ("certificate_serial", Compare::Serial),
    ("registry_entry", Compare::Exact),
    ("missing", Compare::Set),
];

#[tokio::test]
async fn the_corpus_is_read_as_a_careful_registrar_reads_it() {
    let root = dry_run::root();
    let dry = DryRun::at(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap());
    let files = dry_run::mails("tests/corpus");

    let mut right: BTreeMap<&str, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let expectation = read_expectation(&file.with_extension("toml"));
        let mailbox_name = expectation["mailbox"].as_str().unwrap_or("office");
        let report = dry.run(mailbox_name, &name, file).await;
        let report = serde_json::to_value(&report).unwrap();
        let expect = &expectation["expect"];
        for (field, compare) in FIELDS {
            let want = expect.get(*field).cloned().unwrap_or(Value::Null);
            let got = reported(&report, field);
            if agrees(*compare, &want, &got) {
                *right.entry(field).or_default() += 1;
            } else {
                misses.push(format!("{name}: {field}: expected {want}, got {got}"));
            }
        }
    }

    let total = files.len();
    let mut table = format!("{:<22} {:>7} {:>8}\n", "field", "right", "share");
    let mut failing = Vec::new();
    for (field, _) in FIELDS {
        let n = right.get(field).copied().unwrap_or(0);
        let share = n as f64 / total as f64;
        table.push_str(&format!(
            "{field:<22} {n:>3}/{total:<3} {:>7.1} %\n",
            share * 100.0
        ));
        if share < REQUIRED {
            failing.push(*field);
        }
    }
    let report = format!("{table}\n{}\n", misses.join("\n"));
    println!("{report}");
    let _ = std::fs::write(root.join("target/corpus-report.txt"), &report);
    assert!(total >= 60, "the corpus holds {total} mails, fewer than 60");
    assert!(
        failing.is_empty(),
        "fields below {:.0} %: {failing:?}\n{report}",
        REQUIRED * 100.0
    );
}

/// The expectation file as JSON, with `missing` an empty list when left out.
fn read_expectation(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut value = serde_json::to_value(parsed).unwrap();
    let expect = value
        .get_mut("expect")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{}: no [expect] table", path.display()));
    expect
        .entry("missing")
        .or_insert_with(|| Value::Array(Vec::new()));
    value
}

/// What the pipeline's JSON report says of `field` (null when nothing).
fn reported(report: &Value, field: &str) -> Value {
    let value = match field {
        "language" | "service" | "stage" | "missing" => report[field].clone(),
        _ => report["request"][field].clone(),
    };
    match value {
        Value::String(s) if s.is_empty() || s == "unknown" => Value::Null,
        Value::Array(a) if a.is_empty() && field != "missing" => Value::Null,
        other => other,
    }
}

fn agrees(compare: Compare, want: &Value, got: &Value) -> bool {
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|x| normal(&text(x))).collect())
            .unwrap_or_default()
    };
    match compare {
        Compare::Exact => normal(&text(want)) == normal(&text(got)),
        Compare::Span => same_span(&normal(&text(want)), &normal(&text(got))),
        Compare::List => list(want) == list(got),
        Compare::Set => {
            let (mut a, mut b) = (list(want), list(got));
            a.sort();
            b.sort();
            a == b
        }
        Compare::Serial => serial(&text(want)) == serial(&text(got)),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Lowercase, quotes dropped, white space collapsed, punctuation trimmed at
/// the ends.
fn normal(s: &str) -> String {
    let unquoted: String = s
        .chars()
        .filter(|c| !"«»\"„“”‚‘’'`".contains(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> = unquoted.split_whitespace().collect();
    words
        .join(" ")
        .trim_matches(|c: char| c.is_whitespace() || ".,;:!?()-–—".contains(c))
        .to_string()
}

/// One normalised span inside the other, differing by at most a few words
/// (three, or a quarter of the longer).
fn same_span(want: &str, got: &str) -> bool {
    if want == got {
        return true;
    }
    if want.is_empty() || got.is_empty() {
        return false;
    }
    let (short, long) = if want.len() <= got.len() {
        (want, got)
    } else {
        (got, want)
    };
    let extra = long.split_whitespace().count() - short.split_whitespace().count();
    long.contains(short) && extra <= 3.max(long.split_whitespace().count() / 4)
}

/// A serial as its hexadecimal digits, uppercase, without leading zeros.
fn serial(s: &str) -> String {
    let hex: String = s
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex.trim_start_matches('0').to_string()
}
