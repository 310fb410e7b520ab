//! PDF: text of the pages' content streams, for simple generated documents.
//!
//! No xref table is trusted: objects are found by scanning for `N G obj`,
//! which also reads damaged and incrementally updated files. Pages are read
//! in page-tree order. Strings are decoded through the font's ToUnicode
//! CMap when there is one, else as WinAnsi (simple fonts) — strings in
//! two-byte fonts without a ToUnicode map are skipped. Encrypted files and
//! filters other than FlateDecode are not read. The syntax is the shared
//! engine's ([`crate::pdf`]), in its lenient reading.

mod cmap;
mod content;
mod document;
mod fonts;

use super::find;
use crate::pdf::{Lexer, Obj, Tok, parse};
use content::Interp;
use document::Doc;

// The document tests call these two directly.
#[cfg(test)]
pub(super) use cmap::parse_cmap;
#[cfg(test)]
pub(super) use document::inflate;

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

pub(super) use crate::pdf::is_pdf;

/// A lexer over `data` with the text reader's nesting and operand limits.
fn lexer(data: &[u8]) -> Lexer<'_> {
    Lexer {
        limit: MAX_OPERAND_ELEMENTS,
        nesting: MAX_DEPTH,
        ..Lexer::new(data)
    }
}

/// Parses one top-level operand with a fresh element allowance.
fn operand(lx: &mut Lexer<'_>, tok: Tok<'_>) -> Option<Obj> {
    lx.limit = lx.elements.saturating_add(MAX_OPERAND_ELEMENTS);
    parse(lx, tok, 0)
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
