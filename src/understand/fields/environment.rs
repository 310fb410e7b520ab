//! Whether the request is for the test or the production environment.

use super::labels::{Field, label_of};
use super::lines::Line;
use super::text::fold;
use crate::domain::Environment;

/// Whether folded text names the test and/or the production environment.
/// Hosts and file names ("test.cer", "https://test.x.md") say nothing.
fn environment_words(folded: &str) -> (bool, bool) {
    const FILES: &[&str] = &[
        ".cer", ".crt", ".pem", ".pfx", ".p12", ".key", ".pdf", ".doc", ".zip", ".odt", ".txt",
    ];
    #[rustfmt::skip]
    const PRODUCTION: &[&str] = &[
        "productie", "productia", "production", "producere", "producerii", "промышленн",
        "продуктив", "продакшн", "продакшен", "боев",
    ];
    let (mut test, mut production) = (false, false);
    for tok in folded.split_whitespace() {
        let skip = tok.contains("://")
            || tok.contains('@')
            || tok.starts_with("www.")
            || FILES.iter().any(|e| tok.contains(e));
        if skip {
            continue;
        }
        for w in tok
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            test |= matches!(
                w,
                "test" | "teste" | "testing" | "staging" | "стенд" | "стенде"
            ) || w.starts_with("testar")
                || w.starts_with("тест");
            production |= matches!(w, "prod" | "live" | "прод" | "проде" | "прода")
                || PRODUCTION.iter().any(|p| w.starts_with(p));
        }
    }
    production |= ["mediul real", "mediu real", "mediului real"]
        .iter()
        .any(|p| folded.contains(p));
    (test, production)
}

fn environment_of(test: bool, production: bool) -> Option<Environment> {
    match (test, production) {
        (true, false) => Some(Environment::Test),
        (false, true) => Some(Environment::Production),
        _ => None,
    }
}

/// Words that put a test in the past: "testele au fost finalizate",
/// "after successful tests", "тестирование завершено".
#[rustfmt::skip]
const DONE: &[&str] = &[
    "finaliz", "incheiat", "reusit", "trecut", "efectuat", "complet", "finished", "passed",
    "successful", "done", "успешн", "заверш", "пройден", "проведен", "окончен", "dupa", "after",
    "после", "already", "deja", "уже",
];

fn speaks_of_done(folded: &str) -> bool {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| DONE.iter().any(|d| w.starts_with(d)))
}

/// An "Environment:" label decides; then the subject (the first line),
/// when it names one; else the wording, when it names only one. A test
/// spoken of as done, beside production, is the step before it.
pub(super) fn read_environment(lines: &[Line<'_>]) -> Option<Environment> {
    let labelled = lines.iter().find_map(|l| match label_of(l.body) {
        Some(lb) if lb.field == Field::Environment => {
            let (t, p) = environment_words(&fold(lb.value));
            environment_of(t, p)
        }
        _ => None,
    });
    if labelled.is_some() {
        return labelled;
    }
    let subject = lines.first().map(|l| environment_words(&fold(l.body)));
    if let Some(named) = subject.and_then(|(t, p)| environment_of(t, p)) {
        return Some(named);
    }
    let (mut test, mut done_test, mut production) = (false, false, false);
    for l in lines {
        // Folding keeps whitespace where it was, so tokens line up.
        let folded = fold(l.body);
        let (t, p) = environment_words(&folded);
        production |= p;
        if t && !p && speaks_of_done(&folded) {
            done_test = true;
        } else {
            test |= t;
        }
    }
    environment_of(test || (done_test && !production), production)
}
