//! Normalisation helpers shared by every scanner: folding case and
//! diacritics so "Denumirea instituţiei" matches "denumirea institutiei",
//! and cleaning a value before it goes into the request.

use super::{MAX_CHARS, Problem};
use crate::domain::ProblemCode;

/// Folds one character for matching: lowercase, Romanian diacritics (comma and
/// cedilla forms alike) to plain letters, ё to е. Always one char for one char,
/// so positions in the folded text are positions in the original.
fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    match c {
        'ă' | 'Ă' | 'â' | 'Â' | 'á' | 'Á' | 'à' | 'ä' => 'a',
        'î' | 'Î' | 'í' | 'Í' => 'i',
        'ș' | 'Ș' | 'ş' | 'Ş' => 's',
        'ț' | 'Ț' | 'ţ' | 'Ţ' => 't',
        'é' | 'É' | 'è' => 'e',
        'ё' | 'Ё' => 'е',
        '\u{a0}' => ' ',
        _ => c.to_lowercase().next().unwrap_or(c),
    }
}

pub(super) fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// Folded words, split at anything that is not a letter or digit.
pub(super) fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

pub(super) fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Byte position in `hay` where the folded `needle` starts at a word start.
pub(super) fn find_word_folded(hay: &str, needle: &str) -> Option<usize> {
    let hay: Vec<(usize, char)> = hay.char_indices().map(|(i, c)| (i, fold_char(c))).collect();
    let needle: Vec<char> = needle.chars().collect();
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .find(|&s| {
            (s == 0 || !hay[s - 1].1.is_alphanumeric())
                && needle.iter().enumerate().all(|(k, c)| hay[s + k].1 == *c)
        })
        .map(|s| hay[s].0)
}

pub(super) const OPEN_QUOTES: &[char] = &['"', '\'', '„', '“', '”', '«', '‘', '‚'];
pub(super) const CLOSE_QUOTES: &[char] = &['"', '\'', '”', '“', '»', '’', '‘'];

/// Words that stand where a value will come later: "уточняется",
/// "urmează să fie stabilit", "to be confirmed".
#[rustfmt::skip]
const PLACEHOLDERS: &[&str] = &[
    "уточняется", "будет уточнен", "пришлем", "пришлём", "сообщим позже", "позже", "urmeaza",
    "va fi comunicat", "va fi transmis", "il vom transmite", "o vom transmite", "ulterior",
    "in curs de", "to be confirmed", "to be provided", "to follow", "will follow", "later",
    "pending", "tbc",
];

/// A value as it should be stored: trimmed, without the rest of a table row,
/// trailing punctuation or surrounding quotes, at most [`MAX_CHARS`].
pub(super) fn clean(value: &str) -> Option<String> {
    let mut v = value.split(['|', '\t']).next().unwrap_or("").trim();
    loop {
        let before = v;
        v = v.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '-' | '–' | '—' | '=' | '•')
        });
        v = strip_trailing_punct(v);
        v = strip_quotes(v);
        if v == before {
            break;
        }
    }
    if !v.chars().any(char::is_alphanumeric) {
        return None;
    }
    let folded = fold(v);
    if matches!(
        folded.as_str(),
        "n/a" | "na" | "none" | "нет" | "lipsa" | "nu" | "tbd" | "-"
    ) || PLACEHOLDERS.iter().any(|p| folded.starts_with(p))
    {
        return None;
    }
    let capped: String = v.chars().take(MAX_CHARS).collect();
    Some(capped.trim_end().to_string())
}

pub(super) fn strip_trailing_punct(v: &str) -> &str {
    let mut v = v.trim_end();
    while let Some(c) = v.chars().next_back() {
        // "S.R.L." and "Î.S." keep their last dot: it belongs to the name.
        let strip = matches!(c, ',' | ';' | ':' | '!' | '?' | '…')
            || (c == '.' && !ends_with_abbreviation(v));
        if !strip {
            break;
        }
        v = v.split_at(v.len() - c.len_utf8()).0.trim_end();
    }
    v
}

/// Whether the last word is like "S.R.L." or "Î.S.": at most eight
/// characters with two dots. Only those eight are looked at, so stripping a
/// long run of dots stays linear.
fn ends_with_abbreviation(v: &str) -> bool {
    let mut chars = 0;
    let mut dots = 0;
    for c in v.chars().rev().take_while(|c| !c.is_whitespace()).take(9) {
        chars += 1;
        dots += usize::from(c == '.');
    }
    dots >= 2 && chars <= 8
}

pub(super) fn strip_quotes(v: &str) -> &str {
    let mut chars = v.chars();
    let (Some(first), Some(last)) = (chars.next(), chars.next_back()) else {
        return v;
    };
    if OPEN_QUOTES.contains(&first) && CLOSE_QUOTES.contains(&last) {
        let inner = v
            .get(first.len_utf8()..v.len() - last.len_utf8())
            .unwrap_or_default();
        // `"Alfa" și "Beta"` is two quoted names, not one quoted value.
        if !inner.contains(CLOSE_QUOTES) {
            return inner.trim();
        }
    }
    v
}

pub(super) fn set_once(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

pub(super) fn problem(code: ProblemCode, value: &str, suggestion: Option<&str>) -> Problem {
    Problem {
        code,
        value: Some(value.to_string()),
        suggestion: suggestion.map(str::to_string),
    }
}

/// Splits at `seps` outside parentheses ("Data nașterii (zz/ll/aaaa)" stays whole).
pub(super) fn split_outside_parens<'a>(s: &'a str, seps: &[char]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && seps.contains(&c) => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}
