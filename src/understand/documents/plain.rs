//! Plain text files: UTF-8, UTF-16 with BOM and the legacy single-byte
//! code pages still produced by older Windows installations in Moldova.

use encoding_rs::{Encoding, KOI8_R, WINDOWS_1250, WINDOWS_1251};

use super::MAX_TEXT;

/// How much of a legacy file is looked at to guess its code page.
const SAMPLE: usize = 64 << 10;

pub(super) fn text(name: Option<&str>, content_type: &str, data: &[u8]) -> Option<String> {
    // A byte-order mark makes the encoding certain, whatever the name says.
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        let head = head(rest);
        let text = utf8(head).unwrap_or_else(|| String::from_utf8_lossy(head).into_owned());
        return readable(text);
    }
    if let Some(rest) = data.strip_prefix(b"\xFF\xFE") {
        return readable(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = data.strip_prefix(b"\xFE\xFF") {
        return readable(utf16(rest, u16::from_be_bytes));
    }
    if !declared_text(name, content_type) {
        return None;
    }
    let head = head(data);
    if binary(head) {
        return None;
    }
    Some(utf8(head).unwrap_or_else(|| legacy(head)))
}

/// The part of the file that can fill the output cap: every byte gives at
/// least one byte of text. The cut backs off continuation bytes so that
/// UTF-8 is not split inside a character.
fn head(data: &[u8]) -> &[u8] {
    if data.len() <= MAX_TEXT {
        return data;
    }
    let mut end = MAX_TEXT;
    while end > MAX_TEXT - 3 && data.get(end).is_some_and(|b| (0x80..0xC0).contains(b)) {
        end -= 1;
    }
    data.get(..end).unwrap_or(data)
}

/// Whether bytes that look like text should be read as a text file: the
/// name or type must say plain text, or say nothing at all. An .html,
/// .xml or .ics attachment is text too, but not a request we can read.
fn declared_text(name: Option<&str>, content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if matches!(
        essence.as_str(),
        "text/plain" | "text/csv" | "text/tab-separated-values" | "text/markdown"
    ) {
        return true;
    }
    match name.and_then(extension).as_deref() {
        Some("txt" | "text" | "csv" | "tsv" | "md") => true,
        Some(_) => false,
        None => matches!(essence.as_str(), "" | "application/octet-stream"),
    }
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.trim().rsplit_once('.')?;
    let plausible =
        !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric());
    plausible.then(|| ext.to_ascii_lowercase())
}

/// Control characters that do occur in real text files.
fn benign_control(c: u32) -> bool {
    matches!(c, 0x09 | 0x0A | 0x0C | 0x0D | 0x1A | 0x1B)
}

/// NUL bytes or more than 1% control bytes: not a text file.
fn binary(data: &[u8]) -> bool {
    let mut control = 0usize;
    for &b in data {
        if b == 0 {
            return true;
        }
        if (b < 0x20 || b == 0x7F) && !benign_control(u32::from(b)) {
            control += 1;
        }
    }
    control * 100 > data.len()
}

/// The same test on decoded text (UTF-16 files, BOM-marked UTF-8).
fn readable(text: String) -> Option<String> {
    let mut control = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return None;
        }
        if c.is_control() && !benign_control(u32::from(c)) {
            control += 1;
        }
    }
    (control * 100 <= total).then_some(text)
}

fn utf16(data: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = data
        .chunks_exact(2)
        .take(MAX_TEXT)
        .map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// UTF-8, also when a few sequences are broken (a file edited with mixed
/// tools); `None` when the bytes are rather a single-byte code page.
fn utf8(data: &[u8]) -> Option<String> {
    let mut wide = 0usize;
    let mut broken = 0usize;
    for chunk in data.utf8_chunks() {
        wide += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            broken += 1;
        }
    }
    if broken == 0 || broken * 10 <= wide {
        Some(String::from_utf8_lossy(data).into_owned())
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy)]
enum Script {
    Cyrillic,
    Romanian,
}

/// Picks windows-1251, windows-1250 or KOI8-R by how plausible the
/// decoded words look; ties go to windows-1251, the most common here.
/// windows-1250 also reads ISO-8859-2 Romanian: ă â î ş ţ (and capitals)
/// sit on the same bytes in both.
fn legacy(data: &[u8]) -> String {
    let sample = data.get(..SAMPLE).unwrap_or(data);
    let mut best = (WINDOWS_1251, f64::MIN);
    for (encoding, script) in [
        (WINDOWS_1251, Script::Cyrillic),
        (WINDOWS_1250, Script::Romanian),
        (KOI8_R, Script::Cyrillic),
    ] {
        let score = score(&decode(encoding, sample), script);
        if score > best.1 {
            best = (encoding, score);
        }
    }
    decode(best.0, data)
}

/// The text in a single-byte code page. A byte the code page leaves
/// undefined reads as U+FFFD: encoding_rs gives the C1 control of the same
/// number, which no such file means.
fn decode(encoding: &'static Encoding, data: &[u8]) -> String {
    let (text, _) = encoding.decode_without_bom_handling(data);
    if !text.contains(|c: char| ('\u{80}'..='\u{9f}').contains(&c)) {
        return text.into_owned();
    }
    text.chars()
        .map(|c| {
            if ('\u{80}'..='\u{9f}').contains(&c) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// Sum over words with non-ASCII letters of how plausible they are in
/// the script: Russian letter frequencies and sane capitalisation for
/// Cyrillic (a wrong Cyrillic code page yields rare letters and
/// inverted case), mostly-ASCII words with ă â î ş ţ for Romanian (the
/// wrong code pages give Cyrillic letters inside Latin words).
fn score(text: &str, script: Script) -> f64 {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_ascii())
        .map(|w| match script {
            Script::Cyrillic => cyrillic_word(w),
            Script::Romanian => romanian_word(w),
        })
        .sum()
}

fn cyrillic_word(word: &str) -> f64 {
    let mut letters = 0usize;
    let mut upper = 0usize;
    let mut weight = 0.0;
    for c in word.chars() {
        let Some(w) = c.to_lowercase().next().and_then(russian_frequency) else {
            return 0.0; // mixed scripts: not a Cyrillic word
        };
        letters += 1;
        weight += w;
        if c.is_uppercase() {
            upper += 1;
        }
    }
    // lower, Capitalised or ALL CAPS; the wrong Cyrillic code page turns
    // "Capitalised" into "cAPITALISED".
    let first_upper = word.chars().next().is_some_and(char::is_uppercase);
    let consistent = upper == 0 || upper == letters || (upper == 1 && first_upper);
    let case = if consistent { 1.0 } else { 0.2 };
    case * weight / 110.0
}

/// Approximate frequency per mille of letters in Russian (Ukrainian
/// letters of windows-1251 included); `None` for non-Cyrillic letters.
fn russian_frequency(c: char) -> Option<f64> {
    Some(match c {
        'о' => 110.0,
        'е' => 85.0,
        'а' => 80.0,
        'и' => 74.0,
        'н' => 67.0,
        'т' => 63.0,
        'с' => 55.0,
        'і' => 50.0,
        'р' => 47.0,
        'в' => 45.0,
        'л' => 44.0,
        'к' => 35.0,
        'м' => 32.0,
        'д' => 30.0,
        'п' => 28.0,
        'у' => 26.0,
        'я' => 20.0,
        'ы' => 19.0,
        'ь' => 17.0,
        'г' => 17.0,
        'з' => 16.0,
        'б' => 16.0,
        'ч' => 15.0,
        'й' => 12.0,
        'х' => 10.0,
        'ж' => 9.0,
        'ш' => 7.0,
        'ю' => 6.0,
        'ї' => 6.0,
        'ц' => 5.0,
        'щ' => 4.0,
        'є' => 4.0,
        'э' => 3.0,
        'ф' => 3.0,
        'ё' => 2.0,
        'ъ' => 1.0,
        '\u{400}'..='\u{4ff}' => 0.5,
        _ => return None,
    })
}

fn romanian_word(word: &str) -> f64 {
    let mut ascii = 0usize;
    let mut letters = 0usize;
    let mut weight = 0.0;
    for c in word.chars() {
        letters += 1;
        if c.is_ascii() {
            ascii += 1;
        } else if matches!(c, 'ă' | 'â' | 'î' | 'ş' | 'ţ' | 'Ă' | 'Â' | 'Î' | 'Ş' | 'Ţ') {
            weight += 1.0;
        } else if ('\u{c0}'..='\u{24f}').contains(&c) {
            weight += 0.2;
        } else {
            return 0.0;
        }
    }
    // Romanian words are mostly ASCII with the odd diacritic.
    let shape = if ascii * 2 >= letters { 1.0 } else { 0.1 };
    shape * weight
}
