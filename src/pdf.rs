//! PDF syntax, the one engine every PDF reader of ours goes through: the
//! signature checker ([`crate::inspect::signature`]) reads signature
//! dictionaries with it and the text extractor
//! ([`crate::understand::documents`]) the objects, page tree and content
//! streams.
//!
//! - [`lexer`]: bytes to tokens, in one of two [`Reading`]s — exact for
//!   signature dictionaries, whose byte offsets are what gets checked, and
//!   lenient for text, which recovers what it can.
//! - [`object`]: the values those tokens make (numbers, names, strings,
//!   arrays, dictionaries, references), nesting and element counts bounded so
//!   hostile input costs linear work and memory.
//!
//! What a file means — which objects, streams and pages — is the readers'
//! business; this is syntax only.

mod lexer;
mod object;

pub(crate) use lexer::{Lexer, Reading, Tok, is_regular, is_ws};
pub(crate) use object::{NULL, Obj, as_index, parse};

/// Whether `data` says it is a PDF: readers accept the header anywhere in
/// the first kilobyte, after some junk.
pub(crate) fn is_pdf(data: &[u8]) -> bool {
    let head = data.get(..1024).unwrap_or(data);
    memchr::memmem::find(head, b"%PDF-").is_some()
}

#[cfg(test)]
mod tests;
