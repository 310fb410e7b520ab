//! The mail text as lines ready for reading: bullets and numbering
//! stripped, sign-offs and the signature below them marked, so values are
//! never taken from a signature by accident.

use super::text::{fold, word_count};
use crate::understand::language::is_quote_header;

pub(super) struct Line<'a> {
    /// The line without surrounding space, table pipes, bullet or numbering.
    pub(super) body: &'a str,
    pub(super) bulleted: bool,
    /// "Cu stimă,", "С уважением,", "Regards,", "--" and the like.
    pub(super) signoff: bool,
    /// At or after a sign-off: names here are the last resort.
    pub(super) signature: bool,
}

pub(super) fn prepare(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut in_signature = false;
    for raw in text.lines() {
        // The caller strips quoted history; stop at one that slipped through.
        if is_quote_header(raw) {
            break;
        }
        let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let signoff = is_signoff(trimmed);
        // The forwarder signs off above the mail they forward.
        if crate::understand::language::is_forward_marker(trimmed) {
            in_signature = false;
        }
        in_signature |= signoff;
        let (body, bulleted) = strip_bullet(trimmed);
        out.push(Line {
            body,
            bulleted,
            signoff,
            signature: in_signature,
        });
    }
    out
}

const BULLETS: &str = "•·▪◦●○■□►▸➢✓✔❖\u{f0b7}\u{f0a7}\u{f076}\u{f0d8}";

pub(super) fn strip_bullet(s: &str) -> (&str, bool) {
    let mut rest = s.trim_matches(|c: char| c.is_whitespace() || c == '|');
    let mut bulleted = false;
    for _ in 0..2 {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        let after = chars.as_str();
        if BULLETS.contains(c)
            || (matches!(c, '-' | '*' | '+' | '–' | '—') && after.starts_with(char::is_whitespace))
        {
            rest = after.trim_start();
        } else if let Some(n) = numbering_len(rest) {
            rest = rest.get(n..).unwrap_or_default().trim_start();
        } else {
            break;
        }
        bulleted = true;
    }
    (rest, bulleted)
}

/// Length of "1.", "2)", "1.2.", "(3)", "a)" or "(b)" at the start of `s`
/// when followed by a space. Numbers of three or more digits are values.
fn numbering_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let start = usize::from(b.first() == Some(&b'('));
    let mut i = start;
    while i < b.len() && i - start < 6 && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    let number = s.get(start..i).unwrap_or_default();
    if number.bytes().any(|c| c.is_ascii_digit()) && number.split('.').all(|g| g.len() <= 2) {
        if b.get(i) == Some(&b')') {
            i += 1;
        } else if !number.ends_with('.') {
            return None;
        }
    } else if b.get(start).is_some_and(u8::is_ascii_alphabetic) && b.get(start + 1) == Some(&b')') {
        i = start + 2;
    } else {
        return None;
    }
    s.get(i..)?.starts_with(char::is_whitespace).then_some(i)
}

#[rustfmt::skip]
const SIGNOFFS: &[&str] = &[
    "cu stima", "cu respect", "cu deosebita stima", "cu deosebit respect", "cu consideratie",
    "toate cele bune", "o zi buna", "multumesc", "multumim", "va multumesc", "va multumim",
    "multumesc anticipat", "va multumesc anticipat", "va multumim anticipat", "cu multumiri",
    "с уважением", "с наилучшими пожеланиями", "спасибо", "благодарю", "заранее спасибо",
    "заранее благодарим", "с благодарностью", "regards", "best regards", "kind regards",
    "warm regards", "best wishes", "best", "sincerely", "yours sincerely", "yours faithfully",
    "respectfully", "thank you", "thanks", "many thanks", "thank you in advance",
    "thanks in advance",
];

pub(super) fn is_signoff(line: &str) -> bool {
    let t = line.trim();
    if t == "--" || (t.chars().count() >= 5 && t.chars().all(|c| c == '_')) {
        return true;
    }
    let f = fold(t);
    if [
        "sent from my",
        "trimis de pe",
        "trimis din",
        "отправлено с",
        "get outlook for",
    ]
    .iter()
    .any(|p| f.starts_with(p))
    {
        return true;
    }
    let f = f.trim_end_matches(|c: char| !c.is_alphanumeric());
    SIGNOFFS.iter().any(|s| {
        f == *s || (f.strip_prefix(s).is_some_and(|r| r.starts_with(',')) && word_count(f) <= 6)
    })
}

/// Contact details: never a name or a description.
pub(super) fn looks_contact(s: &str) -> bool {
    let f = fold(s);
    s.contains('@')
        || ["tel", "тел", "mob", "fax", "факс", "+373", "www.", "http"]
            .iter()
            .any(|p| f.starts_with(p))
}
