//! The serial number of a certificate already registered for the system,
//! which AGE takes instead of the `.cer` ("numărul de serie al
//! certificatului: 3A:0F:…", "серийный номер 3a0f…", "serial number
//! 3A 0F …"): hex digits, with or without colons, spaces or dashes.

use super::lines::Line;
use super::text::fold;

/// Fewer hex digits than this are a word or a reference, not a serial
/// (real ones have 16 to 40).
const MIN_DIGITS: usize = 8;
/// RFC 5280 serials are at most 20 octets.
const MAX_DIGITS: usize = 40;
/// How many words after "serial" the number may start.
const WINDOW: usize = 12;

/// Whether a folded word says "serial number".
fn is_keyword(folded: &str) -> bool {
    let w = folded.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
    ["serial", "serie", "seria", "серийн", "серийник", "serijn"]
        .iter()
        .any(|k| w.starts_with(k))
        || matches!(w, "s/n" | "sn")
}

/// The hex digits of a word that is part of a serial, if it is one.
fn hex_digits(word: &str) -> Option<usize> {
    let w = word.trim_matches(|c: char| ",.;()[]«»\"'".contains(c));
    let w = w.strip_prefix("0x").unwrap_or(w);
    if w.is_empty()
        || !w
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '-')
    {
        return None;
    }
    Some(w.chars().filter(char::is_ascii_hexdigit).count()).filter(|n| *n > 0)
}

/// The longest run of hex words starting within the first [`WINDOW`] of
/// `words`, as written, if it is long enough and holds a digit (so "de",
/// "face" and "cafe" are not serials).
fn run_in(words: &[&str]) -> Option<String> {
    let mut best: Option<(usize, usize, usize)> = None;
    let mut i = 0;
    while i < words.len().min(WINDOW) {
        let mut j = i;
        let mut digits = 0;
        while let Some(n) = words.get(j).and_then(|w| hex_digits(w)) {
            digits += n;
            j += 1;
        }
        let run = &words[i..j];
        let has_digit = run.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
        if j > i && has_digit && (MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
            best = best
                .filter(|(_, _, d)| *d >= digits)
                .or(Some((i, j, digits)));
        }
        i = j.max(i + 1);
    }
    let (i, j, _) = best?;
    let joined = words[i..j].join(" ");
    Some(
        joined
            .trim_matches(|c: char| ",.;()[]«»\"'".contains(c))
            .to_string(),
    )
}

/// The first serial written after a "serial" keyword, on its line or on
/// the next one (a label alone on its line).
pub(super) fn read_serial(lines: &[Line<'_>]) -> Option<String> {
    for (n, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.body.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| is_keyword(&fold(w))) else {
            continue;
        };
        if let Some(serial) = run_in(&words[at + 1..]) {
            return Some(serial);
        }
        if let Some(next) = lines.get(n + 1) {
            let words: Vec<&str> = next.body.split_whitespace().collect();
            if let Some(serial) = run_in(&words) {
                return Some(serial);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::lines::prepare;
    use super::*;

    #[test]
    fn serials_as_people_paste_them() {
        let table = [
            (
                "Numărul de serie al certificatului: 3A:0F:11:22:33:44:55:66",
                Some("3A:0F:11:22:33:44:55:66"),
            ),
            (
                "серийный номер сертификата 5c0d1e2f3a4b5c6d7e8f",
                Some("5c0d1e2f3a4b5c6d7e8f"),
            ),
            (
                "Serial number: 3a 0f 11 22 33 44 55 66 77.",
                Some("3a 0f 11 22 33 44 55 66 77"),
            ),
            ("S/N 0x00a1b2c3d4e5f6", Some("0x00a1b2c3d4e5f6")),
            (
                "Serial number:\n  7d4e91a0bb12c3f4",
                Some("7d4e91a0bb12c3f4"),
            ),
            // Words made of hex letters, and short numbers, are not serials.
            ("seria de face cafe bead", None),
            ("serie nr. 12", None),
            ("Numărul de serie îl trimitem mâine.", None),
            ("Serverul rulează versiunea 3.2.0.1", None),
        ];
        for (text, want) in table {
            let lines = prepare(text);
            assert_eq!(read_serial(&lines).as_deref(), want, "{text}");
        }
    }
}
