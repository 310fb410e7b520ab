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

use crate::inspect::archive;

mod office;
mod pdf;
mod plain;
mod xml;

/// Most text returned for one attachment, in bytes.
const MAX_TEXT: usize = 1 << 20;

/// The readable text of an attached document, when it is one we can read.
///
/// Lines are separated by `\n`, trailing blanks trimmed and runs of blank
/// lines collapsed to one; table cells come out as `cell | cell`. Returns
/// `None` for formats we do not read and for documents without any text.
///
/// A zip is opened here; the pipeline reads the parts its inspection
/// inflated instead ([`text_in`]).
pub fn text_of(name: Option<&str>, content_type: &str, data: &[u8]) -> Option<String> {
    let package = if is_zip(data) {
        let limits = archive::Limits::default();
        archive::entries(data, &limits, &mut archive::Budget::new(&limits)).entries
    } else {
        Vec::new()
    };
    text_in(name, content_type, data, &package)
}

/// [`text_of`] for a file whose zip `package` parts were inflated already.
pub fn text_in(
    name: Option<&str>,
    content_type: &str,
    data: &[u8],
    package: &[archive::Entry],
) -> Option<String> {
    let raw = if is_zip(data) {
        office::text(package)?
    } else if pdf::is_pdf(data) {
        pdf::text(data)?
    } else {
        plain::text(name, content_type, data)?
    };
    tidy(&raw)
}

fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04")
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

#[cfg(test)]
mod tests;
