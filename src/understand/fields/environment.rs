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
        "продуктив", "продакшн", "продакшен",
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
            test |= matches!(w, "test" | "teste" | "testing")
                || w.starts_with("testar")
                || w.starts_with("тест");
            production |= w == "prod" || PRODUCTION.iter().any(|p| w.starts_with(p));
        }
    }
    (test, production)
}

fn environment_of(test: bool, production: bool) -> Option<Environment> {
    match (test, production) {
        (true, false) => Some(Environment::Test),
        (false, true) => Some(Environment::Production),
        _ => None,
    }
}

/// An "Environment:" label decides; else the wording, when it names only one.
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
    let (mut test, mut production) = (false, false);
    for l in lines {
        // Folding keeps whitespace where it was, so tokens line up.
        let (t, p) = environment_words(&fold(l.body));
        test |= t;
        production |= p;
    }
    environment_of(test, production)
}
