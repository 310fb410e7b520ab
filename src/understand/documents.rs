//! Text of attached documents.
//!
//! Beneficiaries often send their integration request as an attachment
//! (.txt, .docx, .odt/.ods or .pdf) instead of writing it in the mail body;
//! [`text_of`] turns such an attachment into plain text so the field
//! extractor can read it like a body.
//!
//! The format is decided by content (ZIP and PDF magic bytes); the name and
//! content type only decide whether bytes that look like text should be read
//! as plain text. Everything here is pure and bounded: hostile attachments
//! yield `None` or partial text, never a panic, unbounded memory or
//! super-linear work.

use std::borrow::Cow;

/// Most text returned for one attachment, in bytes.
const MAX_TEXT: usize = 1 << 20;

/// The readable text of an attached document, when it is one we can read.
///
/// Lines are separated by `\n`, trailing blanks trimmed and runs of blank
/// lines collapsed to one; table cells come out as `cell | cell`. Returns
/// `None` for formats we do not read and for documents without any text.
pub fn text_of(name: Option<&str>, content_type: &str, data: &[u8]) -> Option<String> {
    let raw = if data.starts_with(b"PK\x03\x04") {
        office::text(data)?
    } else if pdf::is_pdf(data) {
        pdf::text(data)?
    } else {
        plain::text(name, content_type, data)?
    };
    tidy(&raw)
}

/// Normalises line ends, drops control characters and trailing blanks,
/// collapses blank runs and applies the output cap.
fn tidy(raw: &str) -> Option<String> {
    let unified = raw.replace("\r\n", "\n");
    let mut out = String::with_capacity(unified.len().min(MAX_TEXT));
    let mut blank = false;
    for line in unified.split(['\n', '\r']) {
        let line: String = line
            .chars()
            .filter(|&c| c != '\u{feff}')
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect();
        let line = line.trim_end();
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        let sep = match (out.is_empty(), blank) {
            (true, _) => "",
            (false, false) => "\n",
            (false, true) => "\n\n",
        };
        blank = false;
        let room = MAX_TEXT.saturating_sub(out.len() + sep.len());
        if room == 0 {
            break;
        }
        out.push_str(sep);
        if line.len() > room {
            out.push_str(prefix(line, room));
            break;
        }
        out.push_str(line);
    }
    (!out.is_empty()).then_some(out)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Substring search, linear and fast: a PDF is searched for markers across
/// tens of megabytes.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// What should separate the next text from what is already written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    Space,
    Cell,
}

/// Line-oriented text builder shared by the DOCX, ODF and PDF readers.
///
/// Table rows are tracked so that paragraphs inside a cell stay on the row's
/// line and cells are joined by " | " — "Label | value" must survive for the
/// field extractor. Separators are emitted lazily so empty cells and empty
/// paragraphs do not leave dangling bars or blank lines.
#[derive(Debug)]
struct Out {
    text: String,
    /// One entry per open table row: whether it has text yet.
    rows: Vec<bool>,
    pending: Pending,
    full: bool,
}

impl Default for Out {
    fn default() -> Self {
        Out {
            text: String::new(),
            rows: Vec::new(),
            pending: Pending::Nothing,
            full: false,
        }
    }
}

impl Out {
    /// Appends running text; leading spaces are dropped where a separator
    /// already stands (whitespace in markup is mostly layout).
    fn push(&mut self, s: &str) {
        self.put(s, true);
    }

    /// Appends explicit spaces (ODF `<text:s/>`), which must not collapse.
    fn push_spaces(&mut self, n: usize) {
        self.put(&" ".repeat(n), false);
    }

    fn put(&mut self, s: &str, trim: bool) {
        if self.full {
            return;
        }
        let at_gap = self.pending != Pending::Nothing || self.at_blank();
        let s = if trim && at_gap {
            s.trim_start_matches(' ')
        } else {
            s
        };
        if s.is_empty() {
            return;
        }
        match self.pending {
            Pending::Cell => {
                self.trim_end_spaces();
                self.append(" | ");
            }
            Pending::Space if !self.at_blank() => self.append(" "),
            _ => {}
        }
        self.pending = Pending::Nothing;
        if let Some(row) = self.rows.last_mut() {
            *row = true;
        }
        self.append(s);
    }

    fn at_blank(&self) -> bool {
        self.text.is_empty() || self.text.ends_with([' ', '\t', '\n'])
    }

    fn append(&mut self, s: &str) {
        let room = MAX_TEXT.saturating_sub(self.text.len());
        if s.len() > room {
            self.text.push_str(prefix(s, room));
            self.full = true;
        } else {
            self.text.push_str(s);
        }
    }

    fn trim_end_spaces(&mut self) {
        let len = self.text.trim_end_matches([' ', '\t']).len();
        self.text.truncate(len);
    }

    /// Ends the current line; a second call in a row leaves one blank line.
    fn newline(&mut self) {
        self.pending = Pending::Nothing;
        self.trim_end_spaces();
        if !self.full && !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// A space at most, unless something stronger is already pending.
    fn soft_break(&mut self) {
        if self.pending == Pending::Nothing && !self.text.is_empty() {
            self.pending = Pending::Space;
        }
    }

    /// Paragraph ends and line breaks: a new line, except inside a table row
    /// where the row must stay on one line.
    fn paragraph_end(&mut self) {
        if self.rows.is_empty() {
            self.newline();
        } else {
            self.soft_break();
        }
    }

    fn row_start(&mut self) {
        self.rows.push(false);
    }

    fn row_end(&mut self) {
        if self.rows.pop().is_some() {
            if self.rows.is_empty() {
                self.newline();
            } else {
                self.soft_break();
            }
        }
    }

    fn cell_start(&mut self) {
        if self.rows.last() == Some(&true) {
            self.pending = Pending::Cell;
        }
    }
}

/// Plain text files: UTF-8, UTF-16 with BOM and the legacy single-byte
/// code pages still produced by older Windows installations in Moldova.
mod plain {
    use super::MAX_TEXT;

    /// windows-1251, bytes 0x80..=0xFF.
    pub(super) const CP1251: &str = "ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—\u{fffd}™љ›њќћџ\u{a0}ЎўЈ¤Ґ¦§Ё©Є«¬\u{ad}®Ї°±Ііґµ¶·ё№є»јЅѕїАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя";
    /// KOI8-R, bytes 0x80..=0xFF.
    pub(super) const KOI8_R: &str = "─│┌┐└┘├┤┬┴┼▀▄█▌▐░▒▓⌠■∙√≈≤≥\u{a0}⌡°²·÷═║╒ё╓╔╕╖╗╘╙╚╛╜╝╞╟╠╡Ё╢╣╤╥╦╧╨╩╪╫╬©юабцдефгхийклмнопярстужвьызшэщчъЮАБЦДЕФГХИЙКЛМНОПЯРСТУЖВЬЫЗШЭЩЧЪ";
    /// windows-1250, bytes 0x80..=0xFF. For the Romanian letters (ă â î ş ţ
    /// and capitals) ISO-8859-2 uses the same bytes, so this reads both.
    pub(super) const CP1250: &str = "€\u{fffd}‚\u{fffd}„…†‡\u{fffd}‰Š‹ŚŤŽŹ\u{fffd}‘’“”•–—\u{fffd}™š›śťžź\u{a0}ˇ˘Ł¤Ą¦§¨©Ş«¬\u{ad}®Ż°±˛ł´µ¶·¸ąş»Ľ˝ľżŔÁÂĂÄĹĆÇČÉĘËĚÍÎĎĐŃŇÓÔŐÖ×ŘŮÚŰÜÝŢßŕáâăäĺćçčéęëěíîďđńňóôőö÷řůúűüýţ˙";

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
    fn legacy(data: &[u8]) -> String {
        let sample = data.get(..SAMPLE).unwrap_or(data);
        let mut best = (CP1251, f64::MIN);
        for (table, script) in [
            (CP1251, Script::Cyrillic),
            (CP1250, Script::Romanian),
            (KOI8_R, Script::Cyrillic),
        ] {
            let score = score(&decode(table, sample), script);
            if score > best.1 {
                best = (table, score);
            }
        }
        decode(best.0, data)
    }

    pub(super) fn decode(table: &str, data: &[u8]) -> String {
        let upper: Vec<char> = table.chars().collect();
        data.iter()
            .map(|&b| match b.checked_sub(0x80) {
                None => char::from(b),
                Some(i) => upper
                    .get(usize::from(i))
                    .copied()
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
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
            } else if matches!(c, 'ă' | 'â' | 'î' | 'ş' | 'ţ' | 'Ă' | 'Â' | 'Î' | 'Ş' | 'Ţ')
            {
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
}

/// A tag scanner that is just enough for WordprocessingML and ODF: element
/// names, attributes on demand and entity-decoded text. Every step moves
/// forward, so a scan is linear in the input.
mod xml {
    use std::borrow::Cow;

    #[derive(Debug)]
    pub(super) enum Event<'a> {
        Start {
            name: &'a str,
            attrs: &'a str,
            empty: bool,
        },
        End(&'a str),
        Text(Cow<'a, str>),
    }

    pub(super) struct Scanner<'a> {
        src: &'a str,
        pos: usize,
    }

    impl<'a> Scanner<'a> {
        pub(super) fn new(src: &'a str) -> Self {
            Scanner { src, pos: 0 }
        }
    }

    impl<'a> Iterator for Scanner<'a> {
        type Item = Event<'a>;

        fn next(&mut self) -> Option<Event<'a>> {
            loop {
                let rest = self.src.get(self.pos..)?;
                if rest.is_empty() {
                    return None;
                }
                if !rest.starts_with('<') {
                    let len = rest.find('<').unwrap_or(rest.len());
                    self.pos += len;
                    return Some(Event::Text(unescape(rest.get(..len)?)));
                }
                if let Some(body) = rest.strip_prefix("<!--") {
                    self.pos += 4 + skip_past(body, "-->");
                    continue;
                }
                if let Some(body) = rest.strip_prefix("<![CDATA[") {
                    let end = body.find("]]>").unwrap_or(body.len());
                    self.pos += 9 + skip_past(body, "]]>");
                    return Some(Event::Text(Cow::Borrowed(body.get(..end)?)));
                }
                if let Some(body) = rest.strip_prefix("<?") {
                    self.pos += 2 + skip_past(body, "?>");
                    continue;
                }
                if let Some(body) = rest.strip_prefix("<!") {
                    self.pos += 2 + skip_past(body, ">");
                    continue;
                }
                let Some(end) = tag_end(rest) else {
                    self.pos = self.src.len(); // truncated tag: nothing more to read
                    return None;
                };
                self.pos += end + 1;
                let inner = rest.get(1..end)?;
                if let Some(name) = inner.strip_prefix('/') {
                    return Some(Event::End(name.trim()));
                }
                let (inner, empty) = match inner.strip_suffix('/') {
                    Some(inner) => (inner, true),
                    None => (inner, false),
                };
                let split = inner
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(inner.len());
                let (name, attrs) = inner.split_at_checked(split)?;
                return Some(Event::Start { name, attrs, empty });
            }
        }
    }

    fn skip_past(body: &str, end: &str) -> usize {
        body.find(end).map_or(body.len(), |i| i + end.len())
    }

    /// Index of the `>` closing a tag; a `>` inside a quoted value does not.
    fn tag_end(tag: &str) -> Option<usize> {
        let mut quote = None;
        for (i, b) in tag.bytes().enumerate() {
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' => quote = Some(b),
                    b'>' => return Some(i),
                    _ => {}
                },
            }
        }
        None
    }

    /// The value of attribute `key` (qualified name as written).
    pub(super) fn attr<'a>(attrs: &'a str, key: &str) -> Option<Cow<'a, str>> {
        let mut rest = attrs;
        loop {
            rest = rest.trim_start();
            let eq = rest.find('=')?;
            let name = rest.get(..eq)?.trim();
            let value = rest.get(eq + 1..)?.trim_start();
            let quote = value.chars().next().filter(|&q| q == '"' || q == '\'')?;
            let body = value.get(1..)?;
            let close = body.find(quote)?;
            if name == key {
                return Some(unescape(body.get(..close)?));
            }
            rest = body.get(close + 1..)?;
        }
    }

    /// Decodes the five XML entities and numeric character references; an
    /// unknown or malformed reference is kept literally.
    pub(super) fn unescape(s: &str) -> Cow<'_, str> {
        if !s.contains('&') {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(rest.get(..i).unwrap_or(""));
            let tail = rest.get(i..).unwrap_or("");
            let semi = tail.bytes().take(12).position(|b| b == b';');
            let decoded = semi.and_then(|j| Some((entity(tail.get(1..j)?)?, j)));
            match decoded {
                Some((c, j)) => {
                    out.push(c);
                    rest = tail.get(j + 1..).unwrap_or("");
                }
                None => {
                    out.push('&');
                    rest = tail.get(1..).unwrap_or("");
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    fn entity(name: &str) -> Option<char> {
        let code = match name {
            "amp" => return Some('&'),
            "lt" => return Some('<'),
            "gt" => return Some('>'),
            "quot" => return Some('"'),
            "apos" => return Some('\''),
            _ => {
                let num = name.strip_prefix('#')?;
                match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse::<u32>().ok()?,
                }
            }
        };
        Some(
            char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or(char::REPLACEMENT_CHARACTER),
        )
    }
}

/// DOCX and ODF (ODT/ODS): ZIP packages with an XML body part.
mod office {
    use std::io::{Cursor, Read};

    use super::Out;
    use super::xml::{Event, Scanner, attr};

    /// Largest part we inflate (and the most any one part may produce).
    const MAX_ENTRY: u64 = 20 << 20;
    /// Entries past this index are ignored.
    const MAX_ENTRIES: usize = 2000;

    type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

    pub(super) fn text(data: &[u8]) -> Option<String> {
        let mut zip = zip::ZipArchive::new(Cursor::new(data)).ok()?;
        if has(&zip, "word/document.xml") {
            return Some(docx(&read(&mut zip, "word/document.xml")?));
        }
        if has(&zip, "content.xml") {
            let mime = if has(&zip, "mimetype") {
                read(&mut zip, "mimetype").unwrap_or_default()
            } else {
                String::new()
            };
            let content = read(&mut zip, "content.xml")?;
            let odf = mime
                .trim()
                .starts_with("application/vnd.oasis.opendocument")
                || (mime.is_empty() && content.contains("office:document-content"));
            return odf.then(|| odf_text(&content));
        }
        // A WordprocessingML package whose main part has another name.
        if has(&zip, "_rels/.rels") {
            let rels = read(&mut zip, "_rels/.rels")?;
            let target = main_part(&rels)?;
            if has(&zip, &target) {
                return Some(docx(&read(&mut zip, &target)?));
            }
        }
        None
    }

    fn has(zip: &Zip<'_>, name: &str) -> bool {
        zip.index_for_name(name).is_some_and(|i| i < MAX_ENTRIES)
    }

    /// One part as text. The declared size is checked first, and `take`
    /// bounds the inflater in case the header lies. A part that fails midway
    /// (corrupt data, bad checksum) still yields what was read.
    fn read(zip: &mut Zip<'_>, name: &str) -> Option<String> {
        let index = zip.index_for_name(name).filter(|&i| i < MAX_ENTRIES)?;
        let file = zip.by_index(index).ok()?;
        if file.size() > MAX_ENTRY {
            return None;
        }
        let mut buf = Vec::new();
        let failed = file.take(MAX_ENTRY + 1).read_to_end(&mut buf).is_err();
        if buf.len() as u64 > MAX_ENTRY || (failed && buf.is_empty()) {
            return None;
        }
        Some(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Target of the package's officeDocument relationship.
    fn main_part(rels: &str) -> Option<String> {
        Scanner::new(rels).find_map(|event| match event {
            Event::Start {
                name: "Relationship",
                attrs,
                ..
            } if attr(attrs, "Type").is_some_and(|t| t.ends_with("/officeDocument")) => {
                let target = attr(attrs, "Target")?;
                let target = target.trim_start_matches('/');
                target.ends_with(".xml").then(|| target.to_owned())
            }
            _ => None,
        })
    }

    /// Elements whose content is not body text: property blocks (their
    /// `<w:tab/>` are tab stops), the VML fallback duplicating a drawing's
    /// text box, deleted and moved-away revisions.
    const DOCX_SKIP: &[&str] = &[
        "mc:Fallback",
        "w:pPr",
        "w:rPr",
        "w:sectPr",
        "w:del",
        "w:moveFrom",
    ];

    pub(super) fn docx(xml: &str) -> String {
        let mut out = Out::default();
        let mut in_text = 0usize;
        let mut skip = 0usize;
        for event in Scanner::new(xml) {
            if out.full {
                break;
            }
            match event {
                Event::Start { name, empty, .. } => {
                    if DOCX_SKIP.contains(&name) {
                        skip += usize::from(!empty);
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "w:t" if !empty => in_text += 1,
                        "w:tab" => out.push("\t"),
                        "w:br" | "w:cr" => out.paragraph_end(),
                        "w:noBreakHyphen" => out.push("-"),
                        "w:p" if empty => out.paragraph_end(),
                        "w:tr" if !empty => out.row_start(),
                        "w:tc" => out.cell_start(),
                        _ => {}
                    }
                }
                Event::End(name) => {
                    if DOCX_SKIP.contains(&name) {
                        skip = skip.saturating_sub(1);
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "w:t" => in_text = in_text.saturating_sub(1),
                        "w:p" => out.paragraph_end(),
                        "w:tr" => out.row_end(),
                        _ => {}
                    }
                }
                Event::Text(text) => {
                    if in_text > 0 && skip == 0 {
                        out.push(&text);
                    }
                }
            }
        }
        out.text
    }

    /// Comments, change tracking, foot/endnotes, style and script blocks,
    /// image titles: not body text.
    const ODF_SKIP: &[&str] = &[
        "office:annotation",
        "office:automatic-styles",
        "office:font-face-decls",
        "office:scripts",
        "office:forms",
        "text:tracked-changes",
        "text:note",
        "svg:title",
        "svg:desc",
    ];

    pub(super) fn odf_text(xml: &str) -> String {
        let mut out = Out::default();
        let mut in_paragraph = 0usize;
        let mut skip = 0usize;
        for event in Scanner::new(xml) {
            if out.full {
                break;
            }
            match event {
                Event::Start { name, attrs, empty } => {
                    if ODF_SKIP.contains(&name) {
                        skip += usize::from(!empty);
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "text:p" | "text:h" if empty => out.paragraph_end(),
                        "text:p" | "text:h" => in_paragraph += 1,
                        "text:tab" => out.push("\t"),
                        "text:line-break" => out.paragraph_end(),
                        "text:s" => {
                            let n = attr(attrs, "text:c")
                                .and_then(|c| c.trim().parse::<usize>().ok())
                                .unwrap_or(1);
                            out.push_spaces(n.min(64));
                        }
                        "table:table-row" if !empty => out.row_start(),
                        "table:table-cell" => out.cell_start(),
                        _ => {}
                    }
                }
                Event::End(name) => {
                    if ODF_SKIP.contains(&name) {
                        skip = skip.saturating_sub(1);
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "text:p" | "text:h" => {
                            in_paragraph = in_paragraph.saturating_sub(1);
                            out.paragraph_end();
                        }
                        "table:table-row" => out.row_end(),
                        _ => {}
                    }
                }
                Event::Text(text) => {
                    if in_paragraph > 0 && skip == 0 {
                        out.push(&collapse(&text));
                    }
                }
            }
        }
        out.text
    }

    /// ODF collapses runs of XML whitespace to one space; explicit spaces
    /// are `<text:s/>`.
    fn collapse(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut in_space = false;
        for c in text.chars() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                if !in_space {
                    out.push(' ');
                }
                in_space = true;
            } else {
                out.push(c);
                in_space = false;
            }
        }
        out
    }
}

/// PDF: text of the pages' content streams, for simple generated documents.
///
/// No xref table is trusted: objects are found by scanning for `N G obj`,
/// which also reads damaged and incrementally updated files. Pages are read
/// in page-tree order. Strings are decoded through the font's ToUnicode
/// CMap when there is one, else as WinAnsi (simple fonts) — strings in
/// two-byte fonts without a ToUnicode map are skipped. Encrypted files and
/// filters other than FlateDecode are not read.
mod pdf {
    use std::cell::Cell;
    use std::collections::{HashMap, HashSet};
    use std::io::Read;
    use std::rc::Rc;

    use super::{Cow, Out, find};

    /// Total bytes of stream data decoded (inflated or raw).
    const MAX_DECODED: usize = 20 << 20;
    const MAX_STREAMS: usize = 500;
    const MAX_OBJECTS: usize = 200_000;
    /// Nesting of arrays/dictionaries, of the page tree and of forms.
    const MAX_DEPTH: usize = 32;
    const MAX_FORM_DEPTH: usize = 4;
    const MAX_PAGES: usize = 10_000;
    const MAX_CMAP: usize = 100_000;
    /// Elements of arrays and dictionaries kept in the object index.
    const MAX_INDEX_ELEMENTS: usize = 1_000_000;
    /// Elements of one trailer dictionary; real ones have a dozen.
    const MAX_TRAILER_ELEMENTS: usize = 4096;
    /// Elements in one content-stream operand (a `TJ` array, say).
    const MAX_OPERAND_ELEMENTS: usize = 65_536;

    pub(super) fn is_pdf(data: &[u8]) -> bool {
        // The header may follow some junk, within the first kilobyte.
        find(data.get(..1024).unwrap_or(data), b"%PDF-").is_some()
    }

    pub(super) fn text(data: &[u8]) -> Option<String> {
        let doc = Doc::index(data);
        if doc.encrypted() {
            return None;
        }
        let mut run = Interp::new(&doc);
        let pages = doc.pages();
        if pages.is_empty() {
            // No usable page tree: read whatever looks like page content.
            for num in doc.content_like_streams() {
                if let Some(content) = doc.stream_data(num)
                    && find(&content, b"BT").is_some()
                {
                    run.page(&content, None);
                }
                if run.out.full {
                    break;
                }
            }
        }
        for (page, resources) in pages {
            let content = doc.contents(page);
            run.page(&content, resources);
            if run.out.full {
                break;
            }
        }
        Some(run.out.text)
    }

    #[derive(Debug, Clone)]
    pub(super) enum Obj {
        Null,
        Bool,
        Num(f64),
        Name(Vec<u8>),
        Str(Vec<u8>),
        Array(Vec<Obj>),
        Dict(Vec<(Vec<u8>, Obj)>),
        Ref(u32),
    }

    static NULL: Obj = Obj::Null;

    impl Obj {
        fn get(&self, key: &[u8]) -> Option<&Obj> {
            match self {
                Obj::Dict(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        fn num(&self) -> Option<f64> {
            match self {
                Obj::Num(n) => Some(*n),
                _ => None,
            }
        }

        fn name(&self) -> Option<&[u8]> {
            match self {
                Obj::Name(n) => Some(n),
                _ => None,
            }
        }

        /// Values in it, itself included, up to a little past 1024.
        fn size(&self) -> usize {
            let mut n = 1;
            match self {
                Obj::Array(items) => {
                    for item in items {
                        n += item.size();
                        if n > 1024 {
                            break;
                        }
                    }
                }
                Obj::Dict(entries) => {
                    for (_, v) in entries {
                        n += v.size();
                        if n > 1024 {
                            break;
                        }
                    }
                }
                _ => {}
            }
            n
        }

        fn array(&self) -> Option<&[Obj]> {
            match self {
                Obj::Array(a) => Some(a),
                _ => None,
            }
        }
    }

    #[derive(Debug)]
    pub(super) enum Tok<'a> {
        Num(f64),
        Name(Vec<u8>),
        Str(Vec<u8>),
        ArrOpen,
        ArrClose,
        DictOpen,
        DictClose,
        Kw(&'a [u8]),
    }

    fn is_ws(b: u8) -> bool {
        matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
    }

    fn is_regular(b: u8) -> bool {
        !is_ws(b)
            && !matches!(
                b,
                b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
            )
    }

    /// PDF tokenizer; every call consumes at least one byte or returns
    /// `None` at the end.
    pub(super) struct Lexer<'a> {
        d: &'a [u8],
        pos: usize,
        /// Array and dictionary elements parsed so far, and the most that
        /// may be: a parsed element costs ~32 bytes against as little as two
        /// bytes of input, so this is what bounds memory.
        elements: usize,
        limit: usize,
    }

    impl<'a> Lexer<'a> {
        pub(super) fn new(d: &'a [u8]) -> Self {
            Lexer {
                d,
                pos: 0,
                elements: 0,
                limit: MAX_OPERAND_ELEMENTS,
            }
        }

        fn at(d: &'a [u8], pos: usize) -> Self {
            Lexer {
                pos,
                ..Lexer::new(d)
            }
        }

        fn count_element(&mut self) -> Option<()> {
            self.elements += 1;
            (self.elements <= self.limit).then_some(())
        }

        /// Parses one top-level operand with a fresh element allowance.
        fn operand(&mut self, tok: Tok<'_>) -> Option<Obj> {
            self.limit = self.elements.saturating_add(MAX_OPERAND_ELEMENTS);
            parse(self, tok, 0)
        }

        fn peek(&self) -> Option<u8> {
            self.d.get(self.pos).copied()
        }

        pub(super) fn next_tok(&mut self) -> Option<Tok<'a>> {
            loop {
                let b = self.peek()?;
                self.pos += 1;
                match b {
                    _ if is_ws(b) => {}
                    b'%' => {
                        while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                            self.pos += 1;
                        }
                    }
                    b'(' => return Some(Tok::Str(self.literal())),
                    b'<' if self.peek() == Some(b'<') => {
                        self.pos += 1;
                        return Some(Tok::DictOpen);
                    }
                    b'<' => return Some(Tok::Str(self.hex())),
                    b'>' if self.peek() == Some(b'>') => {
                        self.pos += 1;
                        return Some(Tok::DictClose);
                    }
                    b'[' => return Some(Tok::ArrOpen),
                    b']' => return Some(Tok::ArrClose),
                    b'/' => return Some(Tok::Name(self.name())),
                    // Stray delimiters; braces only occur in PostScript
                    // calculator functions, which we never need.
                    b'>' | b')' | b'{' | b'}' => {}
                    _ => {
                        let start = self.pos - 1;
                        while self.peek().is_some_and(is_regular) {
                            self.pos += 1;
                        }
                        let word = self.d.get(start..self.pos).unwrap_or(&[]);
                        return Some(match number(word) {
                            Some(n) => Tok::Num(n),
                            None => Tok::Kw(word),
                        });
                    }
                }
            }
        }

        /// A literal string after its `(`: balanced parentheses (a counter,
        /// so any nesting depth is fine) and backslash escapes.
        fn literal(&mut self) -> Vec<u8> {
            let mut out = Vec::new();
            let mut depth = 1usize;
            while let Some(c) = self.peek() {
                self.pos += 1;
                match c {
                    b'\\' => {
                        let Some(e) = self.peek() else { break };
                        self.pos += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'b' => out.push(0x08),
                            b'f' => out.push(0x0C),
                            b'0'..=b'7' => {
                                let mut value = u32::from(e - b'0');
                                for _ in 0..2 {
                                    match self.peek() {
                                        Some(d @ b'0'..=b'7') => {
                                            value = value * 8 + u32::from(d - b'0');
                                            self.pos += 1;
                                        }
                                        _ => break,
                                    }
                                }
                                // High-order overflow is ignored (spec).
                                out.push(value.to_le_bytes()[0]);
                            }
                            // Backslash-newline continues the line.
                            b'\r' => {
                                if self.peek() == Some(b'\n') {
                                    self.pos += 1;
                                }
                            }
                            b'\n' => {}
                            other => out.push(other),
                        }
                    }
                    b'(' => {
                        depth += 1;
                        out.push(c);
                    }
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        out.push(c);
                    }
                    b'\r' => {
                        if self.peek() == Some(b'\n') {
                            self.pos += 1;
                        }
                        out.push(b'\n');
                    }
                    _ => out.push(c),
                }
            }
            out
        }

        fn hex(&mut self) -> Vec<u8> {
            let mut out = Vec::new();
            let mut high: Option<u8> = None;
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == b'>' {
                    break;
                }
                let Some(v) = hex_digit(c) else { continue };
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
            if let Some(h) = high {
                out.push(h << 4);
            }
            out
        }

        fn name(&mut self) -> Vec<u8> {
            let mut out = Vec::new();
            while let Some(c) = self.peek().filter(|&c| is_regular(c)) {
                self.pos += 1;
                let escaped = (c == b'#')
                    .then(|| {
                        let h = hex_digit(*self.d.get(self.pos)?)?;
                        let l = hex_digit(*self.d.get(self.pos + 1)?)?;
                        Some(h << 4 | l)
                    })
                    .flatten();
                match escaped {
                    Some(b) => {
                        out.push(b);
                        self.pos += 2;
                    }
                    None => out.push(c),
                }
            }
            out
        }
    }

    fn hex_digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }

    fn number(word: &[u8]) -> Option<f64> {
        let first = *word.first()?;
        if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
            return None;
        }
        if !word
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))
        {
            return None;
        }
        let n: f64 = std::str::from_utf8(word).ok()?.parse().ok()?;
        n.is_finite().then_some(n)
    }

    fn as_index(n: f64) -> Option<u32> {
        (n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
    }

    /// One object starting with `tok`. Nesting is limited; `None` on
    /// malformed input (the lexer has moved on regardless).
    pub(super) fn parse(lx: &mut Lexer<'_>, tok: Tok<'_>, depth: usize) -> Option<Obj> {
        Some(match tok {
            Tok::Num(n) => {
                // `N G R` is a reference; otherwise un-read the lookahead.
                if let Some(num) = as_index(n) {
                    let save = lx.pos;
                    if let Some(Tok::Num(g)) = lx.next_tok()
                        && as_index(g).is_some()
                        && let Some(Tok::Kw(b"R")) = lx.next_tok()
                    {
                        return Some(Obj::Ref(num));
                    }
                    lx.pos = save;
                }
                Obj::Num(n)
            }
            Tok::Name(n) => Obj::Name(n),
            Tok::Str(s) => Obj::Str(s),
            Tok::ArrOpen => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let mut items = Vec::new();
                loop {
                    lx.count_element()?;
                    match lx.next_tok()? {
                        Tok::ArrClose => break,
                        t => items.push(parse(lx, t, depth + 1)?),
                    }
                }
                Obj::Array(items)
            }
            Tok::DictOpen => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let mut entries = Vec::new();
                loop {
                    lx.count_element()?;
                    match lx.next_tok()? {
                        Tok::DictClose => break,
                        Tok::Name(key) => match lx.next_tok()? {
                            Tok::DictClose => {
                                entries.push((key, Obj::Null));
                                break;
                            }
                            t => entries.push((key, parse(lx, t, depth + 1)?)),
                        },
                        Tok::Kw(_) => return None,
                        _ => {} // a stray value where a key belongs
                    }
                }
                Obj::Dict(entries)
            }
            Tok::Kw(b"true" | b"false") => Obj::Bool,
            Tok::Kw(b"null") => Obj::Null,
            Tok::Kw(_) | Tok::ArrClose | Tok::DictClose => return None,
        })
    }

    struct Entry {
        obj: Obj,
        /// Byte range of the stream data in the file.
        stream: Option<(usize, usize)>,
    }

    struct Doc<'a> {
        data: &'a [u8],
        objs: HashMap<u32, Entry>,
        trailers: Vec<Obj>,
        /// Elements parsed into `objs` and `trailers` (see `Lexer`).
        elements: usize,
        decoded: Cell<usize>,
        streams: Cell<usize>,
    }

    impl<'a> Doc<'a> {
        fn index(data: &'a [u8]) -> Doc<'a> {
            let mut doc = Doc {
                data,
                objs: HashMap::new(),
                trailers: Vec::new(),
                elements: 0,
                decoded: Cell::new(0),
                streams: Cell::new(0),
            };
            doc.scan_objects();
            doc.scan_trailers();
            doc.expand_object_streams();
            doc
        }

        /// Finds every `N G obj` and parses its value. Scanning resumes after
        /// whatever the parse consumed, so no byte is parsed twice.
        fn scan_objects(&mut self) {
            let data = self.data;
            let mut pos = 0;
            let mut lx = Lexer {
                limit: MAX_INDEX_ELEMENTS,
                ..Lexer::new(data)
            };
            while self.objs.len() < MAX_OBJECTS && lx.elements < lx.limit {
                let Some(at) = data
                    .get(pos..)
                    .and_then(|d| find(d, b"obj"))
                    .map(|i| pos + i)
                else {
                    break;
                };
                let after = at + 3;
                pos = after;
                if at >= 3 && data.get(at - 3..at) == Some(b"end".as_slice()) {
                    continue;
                }
                if data.get(after).is_some_and(|&b| is_regular(b)) {
                    continue;
                }
                let Some(num) = object_number(data, at) else {
                    continue;
                };
                lx.pos = after;
                let Some(tok) = lx.next_tok() else { break };
                let Some(obj) = parse(&mut lx, tok, 0) else {
                    pos = pos.max(lx.pos);
                    continue;
                };
                let mut stream = None;
                if matches!(obj, Obj::Dict(_)) {
                    let save = lx.pos;
                    if let Some(Tok::Kw(b"stream")) = lx.next_tok() {
                        let mut start = lx.pos;
                        if data.get(start) == Some(&b'\r') {
                            start += 1;
                        }
                        if data.get(start) == Some(&b'\n') {
                            start += 1;
                        }
                        let hint = obj.get(b"Length").and_then(Obj::num);
                        let (end, resume) = stream_end(data, start, hint);
                        stream = Some((start.min(end), end));
                        lx.pos = resume;
                    } else {
                        lx.pos = save;
                    }
                }
                pos = pos.max(lx.pos);
                self.objs.insert(num, Entry { obj, stream });
            }
            self.elements = lx.elements;
        }

        /// Every `trailer` dictionary, reduced to the entries read from it
        /// (/Root, /Encrypt): a thousand huge trailers cost little memory,
        /// and past [`MAX_TRAILER_ELEMENTS`] one is not read further.
        fn scan_trailers(&mut self) {
            let data = self.data;
            let mut pos = 0;
            while self.trailers.len() < 1000 {
                let Some(at) = data.get(pos..).and_then(|d| find(d, b"trailer")) else {
                    break;
                };
                let mut lx = Lexer {
                    limit: MAX_TRAILER_ELEMENTS,
                    ..Lexer::at(data, pos + at + 7)
                };
                if let Some(tok @ Tok::DictOpen) = lx.next_tok()
                    && let Some(Obj::Dict(entries)) = parse(&mut lx, tok, 0)
                {
                    // Whether it is encrypted is all /Encrypt says here; an
                    // inline /Root is kept only when small.
                    let kept = entries
                        .into_iter()
                        .filter_map(|(k, v)| match k.as_slice() {
                            b"Encrypt" => Some((k, Obj::Null)),
                            b"Root" if v.size() <= 1024 => Some((k, v)),
                            _ => None,
                        })
                        .collect();
                    self.trailers.push(Obj::Dict(kept));
                }
                pos = lx.pos.max(pos + at + 7);
            }
        }

        /// Objects stored inside compressed object streams (PDF 1.5+).
        /// Offsets must increase and each object is parsed only within its
        /// own slice, so hostile offsets cannot cause repeated work.
        fn expand_object_streams(&mut self) {
            let mut holders: Vec<u32> = self
                .objs
                .iter()
                .filter(|(_, e)| {
                    e.stream.is_some() && e.obj.get(b"Type").and_then(Obj::name) == Some(b"ObjStm")
                })
                .map(|(n, _)| *n)
                .collect();
            holders.sort_unstable();
            let mut found = Vec::new();
            for holder in holders {
                let Some(entry) = self.objs.get(&holder) else {
                    continue;
                };
                let count = entry.obj.get(b"N").and_then(Obj::num).and_then(as_index);
                let first = entry
                    .obj
                    .get(b"First")
                    .and_then(Obj::num)
                    .and_then(as_index);
                let (Some(count), Some(first)) = (count, first) else {
                    continue;
                };
                let Some(bytes) = self.stream_data(holder) else {
                    continue;
                };
                let mut lx = Lexer::new(&bytes);
                let mut pairs: Vec<(u32, usize)> = Vec::new();
                for _ in 0..count.min(MAX_OBJECTS as u32) {
                    let (Some(Tok::Num(n)), Some(Tok::Num(off))) = (lx.next_tok(), lx.next_tok())
                    else {
                        break;
                    };
                    let (Some(n), Some(off)) = (as_index(n), as_index(off)) else {
                        break;
                    };
                    let off = first as usize + off as usize;
                    if pairs.last().is_some_and(|&(_, prev)| prev >= off) {
                        break;
                    }
                    pairs.push((n, off));
                }
                for (i, &(num, start)) in pairs.iter().enumerate() {
                    let end = pairs.get(i + 1).map_or(bytes.len(), |&(_, next)| next);
                    let Some(slice) = bytes.get(start..end.min(bytes.len())) else {
                        continue;
                    };
                    let mut lx = Lexer {
                        limit: MAX_INDEX_ELEMENTS.saturating_sub(self.elements),
                        ..Lexer::new(slice)
                    };
                    if let Some(tok) = lx.next_tok()
                        && let Some(obj) = parse(&mut lx, tok, 0)
                    {
                        found.push((num, obj));
                    }
                    self.elements += lx.elements;
                }
            }
            for (num, obj) in found {
                if self.objs.len() >= MAX_OBJECTS {
                    break;
                }
                // Objects written directly in the file win.
                self.objs.entry(num).or_insert(Entry { obj, stream: None });
            }
        }

        fn resolve<'b>(&'b self, mut obj: &'b Obj) -> &'b Obj {
            for _ in 0..MAX_DEPTH {
                match obj {
                    Obj::Ref(n) => match self.objs.get(n) {
                        Some(entry) => obj = &entry.obj,
                        None => return &NULL,
                    },
                    _ => return obj,
                }
            }
            &NULL
        }

        fn get<'b>(&'b self, dict: &'b Obj, key: &[u8]) -> &'b Obj {
            dict.get(key).map_or(&NULL, |v| self.resolve(v))
        }

        /// Without a decryption key every string and stream is noise.
        fn encrypted(&self) -> bool {
            self.trailers.iter().any(|t| t.get(b"Encrypt").is_some())
                || self.objs.values().any(|e| {
                    e.obj.get(b"Type").and_then(Obj::name) == Some(b"XRef")
                        && e.obj.get(b"Encrypt").is_some()
                })
        }

        /// The decoded data of stream object `num`, within the budgets.
        fn stream_data(&self, num: u32) -> Option<Cow<'a, [u8]>> {
            crate::budget::checkpoint();
            let entry = self.objs.get(&num)?;
            let (start, end) = entry.stream?;
            let raw = self.data.get(start..end)?;
            if self.streams.get() >= MAX_STREAMS {
                return None;
            }
            self.streams.set(self.streams.get() + 1);
            let left = MAX_DECODED.saturating_sub(self.decoded.get());
            if left == 0 {
                return None;
            }
            let filters: Vec<&[u8]> = match self.get(&entry.obj, b"Filter") {
                Obj::Null => Vec::new(),
                Obj::Name(n) => vec![n.as_slice()],
                Obj::Array(a) => a.iter().filter_map(|f| self.resolve(f).name()).collect(),
                _ => return None,
            };
            let predictor = self
                .get(&entry.obj, b"DecodeParms")
                .get(b"Predictor")
                .and_then(Obj::num)
                .is_some_and(|p| p > 1.0);
            let out: Cow<'a, [u8]> = match filters.as_slice() {
                [] => Cow::Borrowed(raw.get(..left.min(raw.len()))?),
                [b"FlateDecode" | b"Fl"] if !predictor => Cow::Owned(inflate(raw, left)),
                _ => return None,
            };
            self.decoded.set(self.decoded.get() + out.len());
            Some(out)
        }

        fn catalog(&self) -> Option<&Obj> {
            let from_trailer = self
                .trailers
                .iter()
                .rev()
                .chain(
                    self.objs
                        .values()
                        .map(|e| &e.obj)
                        .filter(|o| o.get(b"Type").and_then(Obj::name) == Some(b"XRef")),
                )
                .filter_map(|t| t.get(b"Root"))
                .map(|r| self.resolve(r))
                .find(|c| matches!(c, Obj::Dict(_)));
            from_trailer.or_else(|| {
                let mut nums: Vec<&u32> = self
                    .objs
                    .iter()
                    .filter(|(_, e)| e.obj.get(b"Type").and_then(Obj::name) == Some(b"Catalog"))
                    .map(|(n, _)| n)
                    .collect();
                nums.sort_unstable();
                nums.first().and_then(|n| self.objs.get(n)).map(|e| &e.obj)
            })
        }

        /// Pages with their (possibly inherited) resources, in reading order.
        fn pages(&self) -> Vec<(&Obj, Option<&Obj>)> {
            let mut out = Vec::new();
            if let Some(root) = self.catalog().and_then(|c| c.get(b"Pages")) {
                self.walk(root, None, 0, &mut HashSet::new(), &mut out);
            }
            if out.is_empty() {
                // Broken tree: take page objects in object-number order.
                let mut nums: Vec<&u32> = self
                    .objs
                    .iter()
                    .filter(|(_, e)| e.obj.get(b"Type").and_then(Obj::name) == Some(b"Page"))
                    .map(|(n, _)| n)
                    .collect();
                nums.sort_unstable();
                for n in nums.into_iter().take(MAX_PAGES) {
                    if let Some(entry) = self.objs.get(n) {
                        out.push((&entry.obj, self.inherited_resources(&entry.obj)));
                    }
                }
            }
            out
        }

        fn walk<'b>(
            &'b self,
            node: &'b Obj,
            inherited: Option<&'b Obj>,
            depth: usize,
            seen: &mut HashSet<u32>,
            out: &mut Vec<(&'b Obj, Option<&'b Obj>)>,
        ) {
            if depth > MAX_DEPTH || out.len() >= MAX_PAGES {
                return;
            }
            if let Obj::Ref(n) = node
                && !seen.insert(*n)
            {
                return;
            }
            let dict = self.resolve(node);
            if !matches!(dict, Obj::Dict(_)) {
                return;
            }
            let resources = dict.get(b"Resources").or(inherited);
            match self.get(dict, b"Kids").array() {
                Some(kids) => {
                    for kid in kids {
                        self.walk(kid, resources, depth + 1, seen, out);
                    }
                }
                None => {
                    if dict.get(b"Contents").is_some() {
                        out.push((dict, resources));
                    }
                }
            }
        }

        fn inherited_resources<'b>(&'b self, page: &'b Obj) -> Option<&'b Obj> {
            let mut node = page;
            for _ in 0..MAX_DEPTH {
                if let Some(r) = node.get(b"Resources") {
                    return Some(r);
                }
                node = self.resolve(node.get(b"Parent")?);
            }
            None
        }

        /// A page's content streams, joined.
        fn contents(&self, page: &Obj) -> Vec<u8> {
            let refs: Vec<u32> = match page.get(b"Contents") {
                Some(Obj::Ref(n)) if self.objs.get(n).is_some_and(|e| e.stream.is_some()) => {
                    vec![*n]
                }
                Some(c) => self
                    .resolve(c)
                    .array()
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|o| match o {
                        Obj::Ref(n) => Some(*n),
                        _ => None,
                    })
                    .collect(),
                None => Vec::new(),
            };
            let mut out = Vec::new();
            for n in refs {
                if let Some(data) = self.stream_data(n) {
                    out.extend_from_slice(&data);
                    out.push(b'\n');
                }
            }
            out
        }

        /// Streams that may be page content, for files without a page tree.
        fn content_like_streams(&self) -> Vec<u32> {
            let mut nums: Vec<u32> = self
                .objs
                .iter()
                .filter(|(_, e)| e.stream.is_some() && content_like(&e.obj))
                .map(|(n, _)| *n)
                .collect();
            nums.sort_unstable();
            nums
        }
    }

    fn content_like(dict: &Obj) -> bool {
        let kind = dict.get(b"Type").and_then(Obj::name);
        let subtype = dict.get(b"Subtype").and_then(Obj::name);
        !matches!(
            kind,
            Some(b"ObjStm" | b"XRef" | b"Metadata" | b"EmbeddedFile")
        ) && !matches!(
            subtype,
            Some(b"Image" | b"XML" | b"Type1C" | b"CIDFontType0C" | b"OpenType")
        ) && dict.get(b"Length1").is_none()
            && dict.get(b"Length2").is_none()
    }

    /// Number of the object whose `obj` keyword is at `at`: `N G obj`.
    fn object_number(data: &[u8], at: usize) -> Option<u32> {
        let mut i = at;
        let back_ws = |i: &mut usize| {
            let start = *i;
            while *i > 0 && data.get(*i - 1).is_some_and(|&b| is_ws(b)) && start - *i < 16 {
                *i -= 1;
            }
            *i < start
        };
        let back_digits = |i: &mut usize| {
            let end = *i;
            while *i > 0 && data.get(*i - 1).is_some_and(u8::is_ascii_digit) && end - *i < 10 {
                *i -= 1;
            }
            (*i < end).then(|| data.get(*i..end)).flatten()
        };
        if !back_ws(&mut i) {
            return None;
        }
        back_digits(&mut i)?;
        if !back_ws(&mut i) {
            return None;
        }
        let digits = back_digits(&mut i)?;
        if i > 0 && data.get(i - 1).is_some_and(|&b| is_regular(b)) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// End of a stream's data and where scanning resumes. A direct /Length
    /// is used when `endstream` follows it; otherwise (indirect, wrong or
    /// past the end of the file) the data runs to the next `endstream`, or
    /// to the end of a truncated file.
    fn stream_end(data: &[u8], start: usize, length: Option<f64>) -> (usize, usize) {
        let start = start.min(data.len());
        if let Some(len) = length.filter(|l| *l >= 0.0)
            && let Some(end) = start.checked_add(len as usize)
            && end <= data.len()
        {
            let mut k = end;
            while data.get(k).is_some_and(|&b| is_ws(b)) {
                k += 1;
            }
            if data.get(k..).is_some_and(|d| d.starts_with(b"endstream")) {
                return (end, k + 9);
            }
        }
        match data.get(start..).and_then(|d| find(d, b"endstream")) {
            Some(i) => {
                let mut end = start + i;
                if end > start && data.get(end - 1) == Some(&b'\n') {
                    end -= 1;
                }
                if end > start && data.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
                (end, start + i + 9)
            }
            None => (data.len(), data.len()),
        }
    }

    /// Inflates a zlib (or, failing that, raw deflate) stream, keeping what
    /// came out before any error and never more than `limit` bytes.
    pub(super) fn inflate(raw: &[u8], limit: usize) -> Vec<u8> {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        let zlib = flate2::read::ZlibDecoder::new(raw)
            .take(limit)
            .read_to_end(&mut out);
        if zlib.is_err() && out.is_empty() {
            let _ = flate2::read::DeflateDecoder::new(raw)
                .take(limit)
                .read_to_end(&mut out);
        }
        out
    }

    // ---- fonts -------------------------------------------------------

    #[derive(Debug, Clone, Copy)]
    enum Glyph {
        /// Not in /Differences: use the base (WinAnsi) encoding.
        Base,
        Char(char),
        /// A glyph name we cannot map.
        Unknown,
    }

    #[derive(Debug)]
    enum Widths {
        Unknown,
        Simple {
            first: u32,
            widths: Vec<f64>,
        },
        Cid {
            ranges: Vec<(u32, u32, f64)>,
            default: f64,
        },
    }

    #[derive(Debug)]
    struct Font {
        two_byte: bool,
        to_unicode: Option<HashMap<u32, String>>,
        differences: Option<Box<[Glyph; 256]>>,
        widths: Widths,
    }

    /// What one string shows: its text and how far it advances.
    struct Shown {
        text: String,
        /// Sum of glyph widths in em.
        width: f64,
        codes: usize,
        spaces: usize,
        /// Whether the widths came from the font rather than a guess.
        exact: bool,
    }

    impl Font {
        fn plain() -> Font {
            Font {
                two_byte: false,
                to_unicode: None,
                differences: None,
                widths: Widths::Unknown,
            }
        }

        fn load(doc: &Doc<'_>, dict: &Obj) -> Font {
            let to_unicode = match dict.get(b"ToUnicode") {
                Some(Obj::Ref(n)) => doc.stream_data(*n).map(|d| parse_cmap(&d)),
                _ => None,
            };
            let subtype = doc.get(dict, b"Subtype").name();
            if subtype == Some(b"Type0") {
                let descendant = doc
                    .get(dict, b"DescendantFonts")
                    .array()
                    .and_then(|a| a.first())
                    .map_or(&NULL, |d| doc.resolve(d));
                let default = doc.get(descendant, b"DW").num().unwrap_or(1000.0);
                let ranges = cid_widths(doc, doc.get(descendant, b"W").array().unwrap_or(&[]));
                return Font {
                    two_byte: true,
                    to_unicode,
                    differences: None,
                    widths: Widths::Cid { ranges, default },
                };
            }
            let differences = doc
                .get(doc.get(dict, b"Encoding"), b"Differences")
                .array()
                .map(|d| differences(doc, d));
            let widths = match (
                doc.get(dict, b"FirstChar").num().and_then(as_index),
                doc.get(dict, b"Widths").array(),
            ) {
                // Type3 widths are in glyph space, not thousandths of an em.
                (Some(first), Some(w)) if subtype != Some(b"Type3") => Widths::Simple {
                    first,
                    widths: w
                        .iter()
                        .take(256)
                        .map(|x| doc.resolve(x).num().unwrap_or(0.0))
                        .collect(),
                },
                _ => Widths::Unknown,
            };
            Font {
                two_byte: false,
                to_unicode,
                differences,
                widths,
            }
        }

        /// Width of a glyph in thousandths of an em, when the font says.
        fn width(&self, code: u32) -> Option<f64> {
            match &self.widths {
                Widths::Unknown => None,
                Widths::Simple { first, widths } => code
                    .checked_sub(*first)
                    .and_then(|i| widths.get(i as usize))
                    .copied()
                    .filter(|w| *w > 0.0),
                Widths::Cid { ranges, default } => {
                    let i = ranges.partition_point(|r| r.0 <= code);
                    Some(
                        i.checked_sub(1)
                            .and_then(|i| ranges.get(i))
                            .filter(|r| r.1 >= code)
                            .map_or(*default, |r| r.2),
                    )
                }
            }
        }

        /// `None` when the string cannot be read: two-byte codes without a
        /// ToUnicode map, or control bytes in a simple font without one
        /// (a custom subset encoding, whose bytes are not WinAnsi).
        fn decode(&self, bytes: &[u8]) -> Option<Shown> {
            let mut shown = Shown {
                text: String::new(),
                width: 0.0,
                codes: 0,
                spaces: 0,
                exact: true,
            };
            let add_width = |shown: &mut Shown, code: u32| {
                shown.codes += 1;
                match self.width(code) {
                    Some(w) => shown.width += w / 1000.0,
                    None => {
                        shown.width += 0.5;
                        shown.exact = false;
                    }
                }
            };
            if self.two_byte {
                let map = self.to_unicode.as_ref()?;
                for pair in bytes.chunks(2) {
                    let code = pair.iter().fold(0u32, |a, &b| a << 8 | u32::from(b));
                    if let Some(s) = map.get(&code) {
                        shown.text.push_str(s);
                    }
                    add_width(&mut shown, code);
                }
                return Some(shown);
            }
            let mapped = self.to_unicode.is_some() || self.differences.is_some();
            for &b in bytes {
                let code = u32::from(b);
                if let Some(s) = self.to_unicode.as_ref().and_then(|m| m.get(&code)) {
                    shown.text.push_str(s);
                } else {
                    match self
                        .differences
                        .as_ref()
                        .map_or(Glyph::Base, |d| d[usize::from(b)])
                    {
                        Glyph::Char(c) => shown.text.push(c),
                        Glyph::Unknown => {}
                        Glyph::Base => match win_ansi(b) {
                            Some(c) => shown.text.push(c),
                            None if mapped => {}
                            None => return None,
                        },
                    }
                }
                if b == b' ' {
                    shown.spaces += 1;
                }
                add_width(&mut shown, code);
            }
            Some(shown)
        }
    }

    /// WinAnsiEncoding (windows-1252); `None` for control codes.
    fn win_ansi(b: u8) -> Option<char> {
        const HIGH: &str = "€\u{fffd}‚ƒ„…†‡ˆ‰Š‹Œ\u{fffd}Ž\u{fffd}\u{fffd}‘’“”•–—˜™š›œ\u{fffd}žŸ";
        match b {
            b'\t' | b'\n' | b'\r' => Some(' '),
            0x20..=0x7E | 0xA0..=0xFF => Some(char::from(b)),
            0x80..=0x9F => HIGH.chars().nth(usize::from(b - 0x80)),
            _ => None,
        }
    }

    fn differences(doc: &Doc<'_>, items: &[Obj]) -> Box<[Glyph; 256]> {
        let mut table = Box::new([Glyph::Base; 256]);
        let mut code = 0usize;
        for item in items {
            match doc.resolve(item) {
                Obj::Num(n) => code = as_index(*n).map_or(usize::MAX, |c| c as usize),
                Obj::Name(name) => {
                    if let Some(slot) = table.get_mut(code) {
                        *slot = glyph_char(name).map_or(Glyph::Unknown, Glyph::Char);
                    }
                    code = code.saturating_add(1);
                }
                _ => {}
            }
        }
        table
    }

    /// Unicode for a glyph name: `uniXXXX`, `uXXXX`, single letters and the
    /// common names of Latin text (with the Romanian letters).
    fn glyph_char(name: &[u8]) -> Option<char> {
        let name = std::str::from_utf8(name).ok()?;
        let base = name.split('.').next().unwrap_or(name);
        if let Some(hex) = base.strip_prefix("uni")
            && let Some(code) = hex.get(..4).and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            return char::from_u32(code);
        }
        if let Some(hex) = base.strip_prefix('u')
            && (4..=6).contains(&hex.len())
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
        }
        let mut chars = base.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c.is_ascii_alphabetic()
        {
            return Some(c);
        }
        if let Some(c) = named_glyph(base) {
            return Some(c);
        }
        // Capital accented letters: "Abreve" is "abreve" upper-cased.
        let lower = base.to_ascii_lowercase();
        if base.starts_with(|c: char| c.is_ascii_uppercase())
            && let Some(c) = named_glyph(&lower).filter(|c| c.is_alphabetic())
        {
            return c.to_uppercase().next();
        }
        None
    }

    fn named_glyph(name: &str) -> Option<char> {
        Some(match name {
            "space" | "nbspace" | "nonbreakingspace" => ' ',
            "exclam" => '!',
            "quotedbl" => '"',
            "numbersign" => '#',
            "dollar" => '$',
            "percent" => '%',
            "ampersand" => '&',
            "quotesingle" => '\'',
            "parenleft" => '(',
            "parenright" => ')',
            "asterisk" => '*',
            "plus" => '+',
            "comma" => ',',
            "hyphen" | "minus" => '-',
            "period" => '.',
            "slash" => '/',
            "zero" => '0',
            "one" => '1',
            "two" => '2',
            "three" => '3',
            "four" => '4',
            "five" => '5',
            "six" => '6',
            "seven" => '7',
            "eight" => '8',
            "nine" => '9',
            "colon" => ':',
            "semicolon" => ';',
            "less" => '<',
            "equal" => '=',
            "greater" => '>',
            "question" => '?',
            "at" => '@',
            "bracketleft" => '[',
            "backslash" => '\\',
            "bracketright" => ']',
            "asciicircum" => '^',
            "underscore" => '_',
            "grave" => '`',
            "braceleft" => '{',
            "bar" => '|',
            "braceright" => '}',
            "asciitilde" => '~',
            "quoteleft" => '‘',
            "quoteright" => '’',
            "quotedblleft" => '“',
            "quotedblright" => '”',
            "quotesinglbase" => '‚',
            "quotedblbase" => '„',
            "guillemotleft" | "guillemetleft" => '«',
            "guillemotright" | "guillemetright" => '»',
            "endash" => '–',
            "emdash" => '—',
            "bullet" => '•',
            "ellipsis" => '…',
            "degree" => '°',
            "section" => '§',
            "paragraph" => '¶',
            "copyright" => '©',
            "registered" => '®',
            "trademark" => '™',
            "periodcentered" => '·',
            "numero" => '№',
            "Euro" => '€',
            "abreve" => 'ă',
            "acircumflex" => 'â',
            "icircumflex" => 'î',
            "scedilla" => 'ş',
            "tcedilla" | "tcommaaccent" => 'ţ',
            "scommaaccent" => 'ș',
            "agrave" => 'à',
            "aacute" => 'á',
            "adieresis" => 'ä',
            "ccedilla" => 'ç',
            "egrave" => 'è',
            "eacute" => 'é',
            "ecircumflex" => 'ê',
            "edieresis" => 'ë',
            "iacute" => 'í',
            "idieresis" => 'ï',
            "ntilde" => 'ñ',
            "oacute" => 'ó',
            "ocircumflex" => 'ô',
            "odieresis" => 'ö',
            "uacute" => 'ú',
            "ucircumflex" => 'û',
            "udieresis" => 'ü',
            _ => return None,
        })
    }

    /// Glyph widths of a CID font (`/W`), as sorted code ranges.
    fn cid_widths(doc: &Doc<'_>, w: &[Obj]) -> Vec<(u32, u32, f64)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < w.len() && out.len() < MAX_CMAP {
            let Some(first) = w
                .get(i)
                .and_then(|o| doc.resolve(o).num())
                .and_then(as_index)
            else {
                break;
            };
            match w.get(i + 1).map(|o| doc.resolve(o)) {
                Some(Obj::Array(widths)) => {
                    for (k, width) in widths.iter().take(MAX_CMAP).enumerate() {
                        let code = first.saturating_add(k as u32);
                        if let Some(width) = width.num() {
                            out.push((code, code, width));
                        }
                    }
                    i += 2;
                }
                Some(Obj::Num(last)) => {
                    let width = w.get(i + 2).and_then(|o| doc.resolve(o).num());
                    if let (Some(last), Some(width)) = (as_index(*last), width) {
                        out.push((first, last, width));
                    }
                    i += 3;
                }
                _ => break,
            }
        }
        out.sort_by_key(|r| r.0);
        out
    }

    /// A ToUnicode CMap: `bfchar` and `bfrange` entries, with targets in
    /// UTF-16BE. Ranges are expanded, up to a total cap.
    pub(super) fn parse_cmap(data: &[u8]) -> HashMap<u32, String> {
        #[derive(PartialEq)]
        enum Mode {
            None,
            Char,
            Range,
        }
        let mut map = HashMap::new();
        let mut lx = Lexer::new(data);
        let mut ops: Vec<Obj> = Vec::new();
        let mut mode = Mode::None;
        while let Some(tok) = lx.next_tok() {
            if map.len() >= MAX_CMAP {
                break;
            }
            match tok {
                Tok::Kw(b"beginbfchar") => mode = Mode::Char,
                Tok::Kw(b"beginbfrange") => mode = Mode::Range,
                Tok::Kw(_) => mode = Mode::None,
                tok => {
                    let Some(obj) = lx.operand(tok) else {
                        ops.clear();
                        continue;
                    };
                    if mode == Mode::None {
                        continue;
                    }
                    ops.push(obj);
                    match (&mode, ops.as_slice()) {
                        (Mode::Char, [Obj::Str(src), dst]) => {
                            if let (Some(code), Obj::Str(dst)) = (code_of(src), dst) {
                                map.insert(code, utf16be(&units(dst)));
                            }
                        }
                        (Mode::Range, [Obj::Str(lo), Obj::Str(hi), dst]) => {
                            if let (Some(lo), Some(hi)) = (code_of(lo), code_of(hi))
                                && lo <= hi
                                && hi - lo < 0x10000
                            {
                                add_range(&mut map, lo, hi, dst);
                            }
                        }
                        (Mode::Char, [_, _]) | (Mode::Range, [_, _, _]) => {}
                        _ => continue,
                    }
                    ops.clear();
                }
            }
            if matches!(mode, Mode::None) {
                ops.clear();
            }
        }
        map
    }

    fn add_range(map: &mut HashMap<u32, String>, lo: u32, hi: u32, dst: &Obj) {
        match dst {
            Obj::Str(start) => {
                let start = units(start);
                for (i, code) in (lo..=hi).enumerate() {
                    if map.len() >= MAX_CMAP {
                        break;
                    }
                    let mut u = start.clone();
                    if let Some(last) = u.last_mut() {
                        *last = last.wrapping_add(i as u16);
                    }
                    map.insert(code, utf16be(&u));
                }
            }
            Obj::Array(items) => {
                for (code, item) in (lo..=hi).zip(items) {
                    if map.len() >= MAX_CMAP {
                        break;
                    }
                    if let Obj::Str(s) = item {
                        map.insert(code, utf16be(&units(s)));
                    }
                }
            }
            _ => {}
        }
    }

    fn code_of(bytes: &[u8]) -> Option<u32> {
        (!bytes.is_empty() && bytes.len() <= 4)
            .then(|| bytes.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)))
    }

    fn units(bytes: &[u8]) -> Vec<u16> {
        bytes
            .chunks(2)
            .map(|p| match p {
                [h, l] => u16::from_be_bytes([*h, *l]),
                [h] => u16::from(*h),
                _ => 0,
            })
            .collect()
    }

    fn utf16be(units: &[u16]) -> String {
        char::decode_utf16(units.iter().copied())
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .filter(|&c| c != '\0')
            .collect()
    }

    // ---- content streams ---------------------------------------------

    type Matrix = [f64; 6];
    const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

    fn mul(m: &Matrix, n: &Matrix) -> Matrix {
        [
            m[0] * n[0] + m[1] * n[2],
            m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2],
            m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4],
            m[4] * n[1] + m[5] * n[3] + n[5],
        ]
    }

    fn translate(x: f64, y: f64) -> Matrix {
        [1.0, 0.0, 0.0, 1.0, x, y]
    }

    /// Graphics state that `q`/`Q` save and restore.
    #[derive(Clone)]
    struct State {
        ctm: Matrix,
        font: Option<Rc<Font>>,
        size: f64,
        leading: f64,
        char_spacing: f64,
        word_spacing: f64,
        h_scale: f64,
    }

    /// Where the last text ended, in device space.
    struct Last {
        y: f64,
        end_x: f64,
        em: f64,
        exact: bool,
    }

    struct Interp<'d> {
        doc: &'d Doc<'d>,
        out: Out,
        /// Fonts by object number, and fonts written inline in a resource
        /// dictionary by address: loading one may read a CMap stream.
        fonts: HashMap<u32, Rc<Font>>,
        inline_fonts: HashMap<*const Obj, Rc<Font>>,
        /// Resource dictionaries (/Font, /XObject) as hash maps, built once
        /// per dictionary however many pages share it.
        maps: HashMap<*const Obj, Rc<NameMap<'d>>>,
        plain: Rc<Font>,
        state: State,
        stack: Vec<State>,
        tm: Matrix,
        tlm: Matrix,
        last: Option<Last>,
        force_newline: bool,
    }

    impl<'d> Interp<'d> {
        fn new(doc: &'d Doc<'d>) -> Self {
            Interp {
                doc,
                out: Out::default(),
                fonts: HashMap::new(),
                inline_fonts: HashMap::new(),
                maps: HashMap::new(),
                plain: Rc::new(Font::plain()),
                state: Interp::initial_state(),
                stack: Vec::new(),
                tm: IDENTITY,
                tlm: IDENTITY,
                last: None,
                force_newline: false,
            }
        }

        fn initial_state() -> State {
            State {
                ctm: IDENTITY,
                font: None,
                size: 12.0,
                leading: 0.0,
                char_spacing: 0.0,
                word_spacing: 0.0,
                h_scale: 1.0,
            }
        }

        fn page(&mut self, content: &[u8], resources: Option<&'d Obj>) {
            if content.is_empty() {
                return;
            }
            self.state = Interp::initial_state();
            self.stack.clear();
            self.last = None;
            self.run(content, resources, 0);
            // A blank line between pages.
            self.out.newline();
            self.out.newline();
        }

        fn run(&mut self, content: &[u8], resources: Option<&'d Obj>, depth: usize) {
            let doc = self.doc;
            let resources = resources.map_or(&NULL, |r| doc.resolve(r));
            let fonts = self.map(doc.get(resources, b"Font"));
            let xobjects = self.map(doc.get(resources, b"XObject"));
            let mut lx = Lexer::new(content);
            let mut ops: Vec<Obj> = Vec::new();
            while let Some(tok) = lx.next_tok() {
                if self.out.full {
                    return;
                }
                let op = match tok {
                    Tok::Kw(op) => op,
                    tok => {
                        match lx.operand(tok) {
                            Some(obj) if ops.len() < 64 => ops.push(obj),
                            _ => ops.clear(),
                        }
                        continue;
                    }
                };
                let n = |i: usize| ops.len().checked_sub(i).and_then(|k| ops.get(k)?.num());
                match op {
                    // Unbalanced `q` beyond this depth are ignored.
                    b"q" if self.stack.len() < 64 => self.stack.push(self.state.clone()),
                    b"Q" => {
                        if let Some(state) = self.stack.pop() {
                            self.state = state;
                        }
                    }
                    b"cm" => {
                        if let Some(m) = matrix(&ops) {
                            self.state.ctm = mul(&m, &self.state.ctm);
                        }
                    }
                    b"BT" => {
                        self.tm = IDENTITY;
                        self.tlm = IDENTITY;
                    }
                    b"Tf" => {
                        if let Some(size) = n(1) {
                            self.state.size = size;
                        }
                        let name = ops.len().checked_sub(2).and_then(|i| ops.get(i)?.name());
                        let font = name.and_then(|name| fonts.get(name).copied());
                        self.state.font = font.and_then(|font| self.font(font));
                    }
                    b"TL" => self.state.leading = n(1).unwrap_or(0.0),
                    b"Tc" => self.state.char_spacing = n(1).unwrap_or(0.0),
                    b"Tw" => self.state.word_spacing = n(1).unwrap_or(0.0),
                    b"Tz" => self.state.h_scale = n(1).unwrap_or(100.0) / 100.0,
                    b"Td" | b"TD" => {
                        if let (Some(tx), Some(ty)) = (n(2), n(1)) {
                            if op == b"TD" {
                                self.state.leading = -ty;
                            }
                            self.move_line(tx, ty);
                        }
                    }
                    b"Tm" => {
                        if let Some(m) = matrix(&ops) {
                            self.tm = m;
                            self.tlm = m;
                        }
                    }
                    b"T*" => self.next_line(),
                    b"Tj" => {
                        if let Some(Obj::Str(s)) = ops.last() {
                            self.show(s);
                        }
                    }
                    b"'" => {
                        self.next_line();
                        if let Some(Obj::Str(s)) = ops.last() {
                            self.show(s);
                        }
                    }
                    b"\"" => {
                        if let (Some(aw), Some(ac)) = (n(3), n(2)) {
                            self.state.word_spacing = aw;
                            self.state.char_spacing = ac;
                        }
                        self.next_line();
                        if let Some(Obj::Str(s)) = ops.last() {
                            self.show(s);
                        }
                    }
                    b"TJ" => {
                        if let Some(Obj::Array(items)) = ops.last() {
                            for item in items {
                                match item {
                                    Obj::Str(s) => self.show(s),
                                    Obj::Num(k) => self.advance(-k / 1000.0 * self.state.size),
                                    _ => {}
                                }
                            }
                        }
                    }
                    b"Do" => {
                        if let Some(Obj::Ref(num)) =
                            ops.last().and_then(Obj::name).and_then(|x| xobjects.get(x))
                        {
                            self.form(*num, resources, depth);
                        }
                    }
                    b"ID" => skip_inline_image(&mut lx),
                    _ => {}
                }
                ops.clear();
            }
        }

        /// The font a resource entry names, loaded once.
        fn font(&mut self, font: &'d Obj) -> Option<Rc<Font>> {
            let doc = self.doc;
            match font {
                Obj::Ref(num) => Some(
                    self.fonts
                        .entry(*num)
                        .or_insert_with(|| {
                            Rc::new(
                                doc.objs
                                    .get(num)
                                    .map_or_else(Font::plain, |e| Font::load(doc, &e.obj)),
                            )
                        })
                        .clone(),
                ),
                Obj::Dict(_) => Some(
                    self.inline_fonts
                        .entry(font as *const Obj)
                        .or_insert_with(|| Rc::new(Font::load(doc, font)))
                        .clone(),
                ),
                _ => None,
            }
        }

        fn map(&mut self, dict: &'d Obj) -> Rc<NameMap<'d>> {
            self.maps
                .entry(dict as *const Obj)
                .or_insert_with(|| {
                    Rc::new(match dict {
                        Obj::Dict(entries) => {
                            entries.iter().map(|(k, v)| (k.as_slice(), v)).collect()
                        }
                        _ => HashMap::new(),
                    })
                })
                .clone()
        }

        /// A form XObject: its own content, resources and matrix.
        fn form(&mut self, num: u32, resources: &'d Obj, depth: usize) {
            let doc = self.doc;
            let Some(entry) = doc.objs.get(&num) else {
                return;
            };
            if depth >= MAX_FORM_DEPTH || doc.get(&entry.obj, b"Subtype").name() != Some(b"Form") {
                return;
            }
            let Some(content) = doc.stream_data(num) else {
                return;
            };
            let saved = (self.state.clone(), self.tm, self.tlm);
            if let Some(m) = doc.get(&entry.obj, b"Matrix").array().and_then(matrix) {
                self.state.ctm = mul(&m, &self.state.ctm);
            }
            let own = entry.obj.get(b"Resources").unwrap_or(resources);
            self.run(&content, Some(own), depth + 1);
            (self.state, self.tm, self.tlm) = saved;
        }

        fn move_line(&mut self, tx: f64, ty: f64) {
            self.tlm = mul(&translate(tx, ty), &self.tlm);
            self.tm = self.tlm;
        }

        fn next_line(&mut self) {
            self.move_line(0.0, -self.state.leading);
            self.force_newline = true;
        }

        fn advance(&mut self, tx: f64) {
            self.tm = mul(&translate(tx * self.state.h_scale, 0.0), &self.tm);
        }

        /// Shows one string: decides on a line break or a gap from where the
        /// previous text ended, then moves past the string.
        fn show(&mut self, bytes: &[u8]) {
            let font = self
                .state
                .font
                .clone()
                .unwrap_or_else(|| self.plain.clone());
            let Some(shown) = font.decode(bytes) else {
                return;
            };
            let trm = mul(&self.tm, &self.state.ctm);
            let (x, y) = (trm[4], trm[5]);
            let em = (self.state.size * trm[2].hypot(trm[3])).abs().max(0.01);
            if !shown.text.is_empty() {
                if let Some(last) = &self.last {
                    let unit = em.max(last.em);
                    let gap = x - last.end_x;
                    let (space, tab) = if last.exact { (0.15, 3.0) } else { (0.8, 4.0) };
                    if self.force_newline || (y - last.y).abs() > 0.5 * unit {
                        self.out.newline();
                    } else if gap > tab * unit {
                        self.out.push("\t");
                    } else if gap > space * unit {
                        self.out.push(" ");
                    }
                }
                self.out.push(&shown.text);
                self.force_newline = false;
            }
            let s = &self.state;
            let width = shown.width * s.size
                + s.char_spacing * shown.codes as f64
                + s.word_spacing * shown.spaces as f64;
            self.advance(width);
            if !shown.text.is_empty() {
                let end = mul(&self.tm, &self.state.ctm);
                self.last = Some(Last {
                    y,
                    end_x: end[4],
                    em,
                    exact: shown.exact,
                });
            }
        }
    }

    type NameMap<'d> = HashMap<&'d [u8], &'d Obj>;

    /// The last six operands as a matrix.
    fn matrix(ops: &[Obj]) -> Option<Matrix> {
        let six = ops.get(ops.len().checked_sub(6)?..)?;
        let mut m = IDENTITY;
        for (slot, op) in m.iter_mut().zip(six) {
            *slot = op.num()?;
        }
        Some(m)
    }

    /// Inline image data runs from after `ID` to an `EI` between
    /// whitespace; it is binary and must not be tokenized.
    fn skip_inline_image(lx: &mut Lexer<'_>) {
        let mut pos = lx.pos + 1;
        loop {
            let Some(i) = lx.d.get(pos..).and_then(|d| find(d, b"EI")) else {
                lx.pos = lx.d.len();
                return;
            };
            let at = pos + i;
            let before = at == 0 || lx.d.get(at - 1).is_some_and(|&b| is_ws(b));
            let after = lx.d.get(at + 2).is_none_or(|&b| is_ws(b));
            if before && after {
                lx.pos = at + 2;
                return;
            }
            pos = at + 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn encode(table: &str, s: &str) -> Vec<u8> {
        s.chars()
            .map(|c| match u8::try_from(c).ok().filter(u8::is_ascii) {
                Some(b) => b,
                None => {
                    let i = table.chars().position(|t| t == c).expect("encodable");
                    0x80 + u8::try_from(i).expect("upper half")
                }
            })
            .collect()
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in s.encode_utf16() {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    /// Deterministic pseudo-random bytes (64-bit LCG).
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect()
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const ROMANIAN: &str = "Solicitare de conectare la serviciul MSign.\nInstituţia: Primăria oraşului Ialoveni, înregistrată în Ţara noastră.\nÎntrebări: Ştefan.";
    const RUSSIAN: &str = "Просим подключить наше учреждение к сервису MPass.\nНаименование: Примэрия города Яловень, IDNO 1007601000099.\nКонтактное лицо: Иванов Пётр.";
    const RUSSIAN_CAPS: &str = "ЗАЯВКА НА ПОДКЛЮЧЕНИЕ К СЕРВИСУ ЭЛЕКТРОННОЙ ПОДПИСИ";

    #[test]
    fn plain_text() {
        let utf8 = "Denumirea instituției: Primăria Ialoveni\r\nIDNO: 1007601000099\r\n";
        let utf8_want = "Denumirea instituției: Primăria Ialoveni\nIDNO: 1007601000099";
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(utf8.as_bytes());
        // what, name, content type, data, expected text
        type Case<'a> = (&'a str, Option<&'a str>, &'a str, Vec<u8>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "utf-8",
                Some("cerere.txt"),
                "text/plain",
                utf8.into(),
                Some(utf8_want),
            ),
            (
                "utf-8 bom",
                None,
                "application/octet-stream",
                bom.clone(),
                Some(utf8_want),
            ),
            (
                "bom beats name",
                Some("x.html"),
                "text/html",
                bom,
                Some(utf8_want),
            ),
            (
                "utf-16le",
                Some("a.txt"),
                "",
                utf16(utf8, true),
                Some(utf8_want),
            ),
            ("utf-16be", None, "", utf16(utf8, false), Some(utf8_want)),
            (
                "1251",
                Some("cerere.txt"),
                "text/plain",
                encode(plain::CP1251, RUSSIAN),
                Some(RUSSIAN),
            ),
            (
                "koi8-r",
                Some("cerere.txt"),
                "",
                encode(plain::KOI8_R, RUSSIAN),
                Some(RUSSIAN),
            ),
            (
                "1251 caps",
                None,
                "text/plain",
                encode(plain::CP1251, RUSSIAN_CAPS),
                Some(RUSSIAN_CAPS),
            ),
            (
                "koi8-r caps",
                None,
                "text/plain",
                encode(plain::KOI8_R, RUSSIAN_CAPS),
                Some(RUSSIAN_CAPS),
            ),
            (
                "1250",
                Some("cerere.TXT"),
                "application/octet-stream",
                encode(plain::CP1250, ROMANIAN),
                Some(ROMANIAN),
            ),
            (
                "no name, no type",
                None,
                "",
                b"IDNO 1007601000099".to_vec(),
                Some("IDNO 1007601000099"),
            ),
            (
                "other extension",
                Some("pagina.html"),
                "text/html",
                b"<p>x</p>".to_vec(),
                None,
            ),
            (
                "other type",
                None,
                "text/calendar",
                b"BEGIN:VCALENDAR".to_vec(),
                None,
            ),
            (
                "NUL bytes",
                Some("a.txt"),
                "text/plain",
                b"abc\0def".to_vec(),
                None,
            ),
            (
                "control bytes",
                Some("a.txt"),
                "text/plain",
                b"ab\x01\x02\x03\x04cd".to_vec(),
                None,
            ),
            (
                "utf-16 binary",
                None,
                "",
                b"\xFF\xFE\0\0\0\0".to_vec(),
                None,
            ),
            ("random", Some("a.txt"), "text/plain", noise(7, 4096), None),
            ("empty", Some("a.txt"), "text/plain", Vec::new(), None),
            (
                "blank",
                Some("a.txt"),
                "text/plain",
                b" \r\n\t\n".to_vec(),
                None,
            ),
        ];
        for (what, name, ct, data, want) in cases {
            assert_eq!(text_of(name, ct, &data).as_deref(), want, "{what}");
        }
    }

    #[test]
    fn iso_8859_2_romanian_reads_like_1250() {
        // ISO-8859-2 puts ă â î ş ţ (and capitals) where windows-1250 does.
        let bytes = b"Institu\xfeia: Prim\xe3ria ora\xbaului, \xeen \xdeara";
        assert_eq!(
            text_of(Some("a.txt"), "text/plain", bytes).as_deref(),
            Some("Instituţia: Primăria oraşului, în Ţara")
        );
    }

    #[test]
    fn code_page_tables_cover_the_upper_half() {
        for table in [plain::CP1251, plain::KOI8_R, plain::CP1250] {
            assert_eq!(table.chars().count(), 128);
        }
    }

    const DOCX_BODY: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Cerere de conectare la </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>MPass &amp; MSign</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Instituția: </w:t></w:r><w:r><w:t>Primăria &lt;Ialoveni&gt; &#259;&#x219;&quot;&apos; &bogus; &#xD800;</w:t></w:r></w:p>
<w:p><w:r><w:t>Coloana</w:t><w:tab/><w:t>valoare</w:t><w:br/><w:t>rândul doi</w:t></w:r></w:p>
<w:p/>
<!-- a comment <w:t>not text</w:t> -->
<w:tbl><w:tblPr/><w:tr><w:tc><w:tcPr/><w:p><w:r><w:t>Denumirea instituției</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Primăria Ialoveni</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>IDNO</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>1007601</w:t></w:r><w:r><w:t>000099</w:t></w:r></w:p><w:p><w:r><w:t>(cod fiscal)</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Casetă</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Casetă</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:del><w:r><w:delText>șters</w:delText><w:tab/></w:r></w:del><w:r><w:t><![CDATA[a < b]]></w:t></w:r></w:p>
<w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:body></w:document>"#;

    const DOCX_WANT: &str = "Cerere de conectare la MPass & MSign\nInstituția: Primăria <Ialoveni> ăș\"' &bogus; \u{fffd}\nColoana\tvaloare\nrândul doi\n\nDenumirea instituției | Primăria Ialoveni\nIDNO | 1007601000099 (cod fiscal)\nCasetă\na < b";

    fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", DOCX_BODY.as_bytes()),
            (
                "word/footer1.xml",
                b"<w:ftr><w:p><w:r><w:t>Subsol</w:t></w:r></w:p></w:ftr>",
            ),
        ])
    }

    const ODT_CONTENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3">
<office:automatic-styles><style:style style:name="P1"><text:p>stil</text:p></style:style></office:automatic-styles>
<office:body><office:text>
<text:h text:outline-level="1">Cerere de conectare</text:h>
<text:p text:style-name="P1">Instituția:<text:s/>Primăria   Ialoveni,
   raionul <text:span text:style-name="T1">Ialoveni</text:span><text:s text:c="3"/>&amp; anexă<text:tab/>MSign<text:line-break/>a doua linie</text:p>
<text:p><office:annotation><dc:creator>X</dc:creator><text:p>comentariu</text:p></office:annotation>Fără comentarii<text:note><text:note-body><text:p>notă</text:p></text:note-body></text:note></text:p>
<text:p/>
<table:table table:name="T1"><table:table-column/><table:table-row><table:table-cell office:value-type="string"><text:p>Denumirea instituției</text:p></table:table-cell><table:table-cell><text:p>Primăria Ialoveni</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>IDNO</text:p></table:table-cell><table:table-cell><text:p>1007601000099</text:p></table:table-cell><table:covered-table-cell/><table:table-cell table:number-columns-repeated="3"/></table:table-row></table:table>
</office:text></office:body></office:document-content>"#;

    const ODT_WANT: &str = "Cerere de conectare\nInstituția: Primăria Ialoveni, raionul Ialoveni   & anexă\tMSign\na doua linie\nFără comentarii\n\nDenumirea instituției | Primăria Ialoveni\nIDNO | 1007601000099";

    fn odt() -> Vec<u8> {
        zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", ODT_CONTENT.as_bytes()),
            ("styles.xml", b"<office:document-styles/>"),
        ])
    }

    #[test]
    fn office_documents() {
        let renamed = {
            let body = DOCX_BODY.as_bytes();
            zip(&[
                (
                    "_rels/.rels",
                    br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>"#,
                ),
                ("word/document2.xml", body),
            ])
        };
        let ods = zip(&[
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            (
                "content.xml",
                b"<office:document-content><office:body><office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>IDNO</text:p></table:table-cell><table:table-cell office:value=\"1\"><text:p>1007601000099</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>",
            ),
        ]);
        let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
            ("docx", docx(), Some(DOCX_WANT)),
            ("docx with renamed main part", renamed, Some(DOCX_WANT)),
            ("odt", odt(), Some(ODT_WANT)),
            ("ods", ods, Some("IDNO | 1007601000099")),
            ("other zip", zip(&[("a.txt", b"hello")]), None),
            (
                "other opendocument-like",
                zip(&[
                    ("mimetype", b"application/epub+zip"),
                    ("content.xml", b"<x/>"),
                ]),
                None,
            ),
        ];
        for (what, data, want) in cases {
            // The name and type must not matter for packages.
            assert_eq!(
                text_of(Some("x.bin"), "application/octet-stream", &data).as_deref(),
                want,
                "{what}"
            );
        }
    }

    #[test]
    fn zip_limits() {
        // An honest 30 MiB entry is refused from its header.
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("word/document.xml", options).unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..30 {
            w.write_all(&zeros).unwrap();
        }
        let honest = w.finish().unwrap().into_inner();
        assert!(honest.len() < 1 << 20);
        assert_eq!(text_of(None, "", &honest), None);

        // The same entry claiming to be 1000 bytes: `take` stops the inflater.
        let mut lying = honest.clone();
        for (sig, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let at = find(&lying, sig).unwrap() + offset;
            lying[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
        }
        assert_eq!(text_of(None, "", &lying), None);
    }

    /// Writes a PDF with a correct xref; object `i + 1` is `objects[i]`.
    fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend(body);
            out.extend(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream(extra: &str, data: &[u8]) -> Vec<u8> {
        let mut out = format!("<< /Length {} {extra} >>\nstream\n", data.len()).into_bytes();
        out.extend(data);
        out.extend(b"\nendstream");
        out
    }

    const PAGE_ONE: &[u8] =
        b"BT /F1 12 Tf 14 TL 72 760 Td [(Cerere de) -1000 (conectare \\(MPass\\))] TJ\n\
0 -14 Td (Denumirea institu) Tj /F2 12 Tf <0001> Tj /F1 12 Tf (iei) Tj\n\
200 0 Td (Prim) Tj /F2 12 Tf <0002> Tj /F1 12 Tf (ria Ialoveni) Tj\n\
/F3 12 Tf <00410042> Tj /F1 12 Tf\n\
-200 -14 Td (IDNO: 1007601000099) Tj\n\
T* (a\\(b\\)c) Tj (x\\051y) ' ( pe\\\ntrei \\342\\356 r\\342nduri) Tj\n\
T* /F2 12 Tf <0010001100120013> Tj ET\n\
BI /W 2 /H 2 /BPC 8 /CS /G ID \x00(\xff) Tj EI\n";

    fn sample_pdf(page_one_length: Option<usize>) -> Vec<u8> {
        let mut page_one = stream("", PAGE_ONE);
        if let Some(len) = page_one_length {
            page_one = format!("<< /Length {len} >>\nstream\n").into_bytes();
            page_one.extend(PAGE_ONE);
            page_one.extend(b"\nendstream");
        }
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
2 beginbfchar <0001> <021B> <0002> <0103> endbfchar\n\
2 beginbfrange <0010> <0011> <0061> <0012> <0013> [<0078> <0079>] endbfrange\n\
endcmap CMapName currentdict /CMap defineresource pop end end";
        pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R 9 0 R] /Count 2 /Resources << /Font << /F1 6 0 R /F2 7 0 R /F3 8 0 R >> >> >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R 5 0 R] >>".to_vec(),
            page_one,
            stream(
                "/Filter /FlateDecode",
                &deflate(b"BT /F1 12 Tf 1 0 0 1 72 600 Tm (Serviciul: MSign) Tj ET"),
            ),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
            b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [10 0 R] /ToUnicode 11 0 R >>".to_vec(),
            b"<< /Type /Font /Subtype /Type0 /BaseFont /Y /Encoding /Identity-H /DescendantFonts [10 0 R] >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /Contents 12 0 R >>".to_vec(),
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>".to_vec(),
            stream("", cmap),
            stream("/Filter [/FlateDecode]", &deflate(b"BT /F1 12 Tf 72 760 Td (Pagina 2) Tj ET")),
        ])
    }

    const PDF_WANT: &str = "Cerere de conectare (MPass)\nDenumirea instituției\tPrimăria Ialoveni\nIDNO: 1007601000099\na(b)c\nx)y petrei âî rânduri\nabxy\nServiciul: MSign\n\nPagina 2";

    #[test]
    fn pdf_text() {
        let truncated = {
            let full = sample_pdf(None);
            let at = find(&full, b"5 0 obj").unwrap();
            full[..at].to_vec()
        };
        let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
            ("simple", sample_pdf(None), Some(PDF_WANT)),
            (
                "length past the end",
                sample_pdf(Some(999_999_999)),
                Some(PDF_WANT),
            ),
            ("wrong length", sample_pdf(Some(10)), Some(PDF_WANT)),
            (
                "encrypted",
                pdf(&[b"<< /Type /Catalog >>".to_vec()])
                    .into_iter()
                    .chain(b"trailer << /Encrypt 5 0 R >>".iter().copied())
                    .collect(),
                None,
            ),
            (
                "no page tree",
                pdf(&[stream("", b"BT /F 10 Tf 10 10 Td (Loose) Tj ET")]),
                Some("Loose"),
            ),
        ];
        for (what, data, want) in cases {
            assert_eq!(
                text_of(Some("a.pdf"), "application/pdf", &data).as_deref(),
                want,
                "{what}"
            );
        }
        // Cut before the second content stream and the fonts: what is left
        // reads as WinAnsi, and the two-byte strings are dropped.
        assert_eq!(
            text_of(None, "", &truncated).as_deref(),
            Some(
                "Cerere de conectare (MPass)\nDenumirea instituiei\tPrimria Ialoveni\nIDNO: 1007601000099\na(b)c\nx)y petrei âî rânduri"
            )
        );
    }

    #[test]
    fn pdf_inflate_is_capped() {
        let bomb = deflate(&vec![0u8; 30 << 20]);
        assert_eq!(pdf::inflate(&bomb, 1 << 20).len(), 1 << 20);
        assert_eq!(pdf::inflate(b"not deflate", 100), Vec::<u8>::new());
    }

    #[test]
    fn pdf_cmap_ranges() {
        let map = pdf::parse_cmap(
            b"1 beginbfrange <20> <22> <00410301> endbfrange 1 beginbfchar <03> <D83DDE00> endbfchar",
        );
        assert_eq!(map.get(&0x21).map(String::as_str), Some("A\u{302}"));
        assert_eq!(map.get(&0x03).map(String::as_str), Some("😀"));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let mut deep_parens = b"%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj\n2 0 obj << >> stream\nBT (".to_vec();
        deep_parens.extend(std::iter::repeat_n(b'(', 200_000));
        deep_parens.extend(b"x) Tj ET\nendstream endobj");
        let mut deep_arrays = b"%PDF-1.4\n1 0 obj ".to_vec();
        deep_arrays.extend(std::iter::repeat_n(b'[', 200_000));
        let deep_xml = zip(&[(
            "word/document.xml",
            "<w:tr><w:tc>".repeat(50_000).as_bytes(),
        )]);
        let mut random_pdf = b"%PDF-1.7\n".to_vec();
        random_pdf.extend(noise(3, 100_000));
        let mut random_zip = b"PK\x03\x04".to_vec();
        random_zip.extend(noise(5, 100_000));
        let obj_spam = b"%PDF-1.4\n"
            .iter()
            .copied()
            .chain(b"1 0 obj (".repeat(50_000))
            .collect::<Vec<u8>>();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("deep parens", deep_parens),
            ("deep arrays", deep_arrays),
            ("deep table nesting", deep_xml),
            ("random pdf", random_pdf),
            ("random zip", random_zip),
            ("object spam", obj_spam),
            (
                "unterminated xml",
                zip(&[("word/document.xml", b"<w:p><w:t>abc</w:t><w:r a=\"b>")]),
            ),
            (
                "odt without mimetype",
                zip(&[("content.xml", b"<office:document-content><text:p>ok")]),
            ),
        ];
        for (what, data) in cases {
            let _ = text_of(None, "", &data);
            let _ = what;
        }
        assert_eq!(
            text_of(
                None,
                "",
                &zip(&[("content.xml", b"<office:document-content><text:p>ok")])
            )
            .as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn truncated_and_mutated_documents_do_not_panic() {
        let docx = docx();
        let odt = odt();
        let pdf = sample_pdf(None);
        for doc in [&docx, &odt, &pdf] {
            let step = (doc.len() / 200).max(1);
            for cut in (0..doc.len()).step_by(step) {
                let _ = text_of(None, "", &doc[..cut]);
            }
            for seed in 0..150u64 {
                let mut copy = doc.to_vec();
                let picks = noise(seed, 16);
                for pair in picks.chunks(2) {
                    let at = (usize::from(pair[0]) << 8 | usize::from(pair[1])) % copy.len();
                    copy[at] = pair[0] ^ pair[1];
                }
                let _ = text_of(None, "", &copy);
            }
        }
        // A cut docx has no central directory any more.
        assert_eq!(text_of(None, "", &docx[..docx.len() / 2]), None);
    }

    #[test]
    fn output_is_capped() {
        let big = "Primăria Ialoveni\n".repeat(100_000);
        let text = text_of(Some("a.txt"), "text/plain", big.as_bytes()).unwrap();
        assert!(text.len() <= MAX_TEXT);
        assert!(text.starts_with("Primăria Ialoveni\nPrimăria"));
    }

    /// 265 trailers of 65,000 names each: only /Root and /Encrypt are kept,
    /// and a trailer past a few thousand elements is not read on.
    #[test]
    fn huge_trailers_cost_little() {
        let mut data = sample_pdf(None);
        let names = "/N ".repeat(65_000);
        for _ in 0..265 {
            data.extend(format!("trailer\n<< /Size 3 /K [{names}] >>\n").as_bytes());
        }
        assert_eq!(
            text_of(Some("a.pdf"), "application/pdf", &data).as_deref(),
            Some(PDF_WANT)
        );
    }
}
