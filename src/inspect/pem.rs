//! PEM as people really send it: blocks flattened onto one line, begun
//! mid-sentence, quoted with `>`, indented, with CRLF or no final newline.
//! A block that follows RFC 7468 is decoded by pem-rfc7468; the others are
//! read leniently. The same markers are also found in raw bytes, where a
//! block must be located (to cut it out, or to read a .p7s) rather than
//! read. Every search moves forward, so a scan is linear.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";
/// More blocks than this in one text are not read.
const MAX_BLOCKS: usize = 64;

/// One `-----BEGIN X-----` … `-----END X-----` block.
pub(super) struct Block {
    /// Upper-cased, spaces around it trimmed.
    pub(super) label: String,
    /// The base64 lines, joined.
    pub(super) base64: String,
    /// A legacy `Proc-Type: 4,ENCRYPTED` header.
    pub(super) legacy_encrypted: bool,
    /// The whole block, armour included, one line per line, LF-ended.
    pub(super) text: String,
}

impl Block {
    /// The bytes the block encodes; empty when they are not base64.
    pub(super) fn der(&self) -> Vec<u8> {
        match pem_rfc7468::decode_vec(self.text.as_bytes()) {
            Ok((_, der)) => der,
            // Legacy headers, long lines, a label in lower case.
            Err(_) => STANDARD.decode(self.base64.as_bytes()).unwrap_or_default(),
        }
    }
}

/// Every PEM block in a text, at most [`MAX_BLOCKS`].
pub(super) fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    // Most text has no block at all: one fast search instead of one per line.
    if memchr::memmem::find(text.as_bytes(), BEGIN.as_bytes()).is_none() {
        return blocks;
    }
    let mut current: Option<Block> = None;
    for raw_line in lines(text) {
        // Quoting ("> > "), indentation and text before the marker are not part of it.
        let mut line = raw_line
            .trim_start_matches(|c: char| c == '>' || c.is_whitespace())
            .trim_end();
        if let Some(at) = line.find(BEGIN) {
            line = line.get(at..).unwrap_or(line);
        }
        if let Some(label) = line
            .strip_prefix(BEGIN)
            .and_then(|l| l.strip_suffix(DASHES))
        {
            current = Some(Block {
                label: label.trim().to_ascii_uppercase(),
                base64: String::new(),
                legacy_encrypted: false,
                text: format!("{line}\n"),
            });
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        block.text.push_str(line);
        block.text.push('\n');
        if line.starts_with(END) {
            blocks.extend(current.take());
        } else if line.starts_with("Proc-Type:") {
            block.legacy_encrypted |= line.contains("ENCRYPTED");
        } else if !line.contains(':') {
            block.base64.push_str(line);
        }
        if blocks.len() >= MAX_BLOCKS {
            break;
        }
    }
    blocks
}

/// The text's lines, with PEM armour put on lines of its own: mail clients
/// and people flatten a block onto one line, or start it mid-sentence.
fn lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.contains(DASHES) {
            split_markers(line, &mut lines);
        } else {
            lines.push(line);
        }
    }
    lines
}

/// Puts each `-----BEGIN X-----` / `-----END X-----` of `line` on a line of
/// its own, in order, and the words around them on theirs. Where the next
/// marker of each kind is, is remembered and only looked for again once
/// passed: a line of thousands of markers is read once, not once per marker.
fn split_markers<'t>(line: &'t str, lines: &mut Vec<&'t str>) {
    let find_from = |pat: &str, pos: usize| line.get(pos..)?.find(pat).map(|i| i + pos);
    let mut pos = 0;
    let mut begin = find_from(BEGIN, 0);
    let mut end = find_from(END, 0);
    while let Some(at) = begin.into_iter().chain(end).min() {
        // The marker runs to its closing dashes.
        let Some(close) = find_from(DASHES, at + DASHES.len()) else {
            break;
        };
        let stop = close + DASHES.len();
        let before = line.get(pos..at).unwrap_or_default();
        lines.extend(before.split_whitespace());
        lines.push(line.get(at..stop).unwrap_or_default());
        pos = stop;
        if begin.is_some_and(|b| b < pos) {
            begin = find_from(BEGIN, pos);
        }
        if end.is_some_and(|e| e < pos) {
            end = find_from(END, pos);
        }
    }
    let rest = line.get(pos..).unwrap_or_default();
    lines.extend(rest.split_whitespace());
}

/// A `-----BEGIN label-----` marker found in raw bytes.
pub(crate) struct Begin {
    /// Where the marker starts.
    pub(crate) start: usize,
    /// The label, as written.
    pub(crate) label: Range<usize>,
    /// Just past the marker's closing dashes.
    pub(crate) body: usize,
}

/// The first BEGIN marker at or after `from`; `None` when there is none,
/// or its closing dashes are missing.
pub(crate) fn next_begin(data: &[u8], from: usize) -> Option<Begin> {
    begin_at(data, find_begin(data, from)?)
}

/// Where the next `-----BEGIN ` is, at or after `from`.
pub(crate) fn find_begin(data: &[u8], from: usize) -> Option<usize> {
    find(data, BEGIN.as_bytes(), from)
}

/// The marker starting at `start`, found by [`find_begin`]; `None` when
/// its closing dashes are missing.
pub(crate) fn begin_at(data: &[u8], start: usize) -> Option<Begin> {
    let label_start = start + BEGIN.len();
    let label_end = find(data, DASHES.as_bytes(), label_start)?;
    Some(Begin {
        start,
        label: label_start..label_end,
        body: label_end + DASHES.len(),
    })
}

/// The first BEGIN marker whose label is `label` exactly.
pub(crate) fn begin_labelled(data: &[u8], label: &[u8]) -> Option<Begin> {
    let mut from = 0;
    loop {
        let begin = next_begin(data, from)?;
        if data.get(begin.label.clone()) == Some(label) {
            return Some(begin);
        }
        from = begin.start + 1;
    }
}

/// Where `-----END label-----` is, at or after `from`.
pub(crate) fn find_end(data: &[u8], label: &[u8], from: usize) -> Option<Range<usize>> {
    let marker = [END.as_bytes(), label, DASHES.as_bytes()].concat();
    let at = find(data, &marker, from)?;
    Some(at..at + marker.len())
}

fn find(data: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(data.get(from..)?, needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 80,000 END markers on one line: each marker is looked for once.
    #[test]
    fn many_markers_on_one_line_are_read_in_one_pass() {
        let mut text = "-----END X----- ".repeat(80_000);
        text.push_str("-----BEGIN EC PRIVATE KEY----- MHcC -----END EC PRIVATE KEY-----");
        let split = lines(&text);
        assert_eq!(split.len(), 80_003);
        assert_eq!(split[80_001], "MHcC");
        let found = blocks(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "EC PRIVATE KEY");
        assert_eq!(found[0].base64, "MHcC");
        assert_eq!(
            lines("a -----END X----- b -----BEGIN Y----- c"),
            ["a", "-----END X-----", "b", "-----BEGIN Y-----", "c"]
        );
    }

    /// CRLF, indentation, `>` quoting, a lower-case label, no final
    /// newline: the same bytes as the strict form.
    #[test]
    fn sloppy_blocks_decode_like_strict_ones() {
        let strict = "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
        let sloppy = "Buna ziua,\r\n>  -----BEGIN certificate-----\r\n>   AAEC\r\n> AwQF \r\n> -----END certificate-----";
        let flat = "cheia: -----BEGIN CERTIFICATE----- AAECAwQF -----END CERTIFICATE-----";
        for text in [strict, sloppy, flat] {
            let found = blocks(text);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].label, "CERTIFICATE");
            assert_eq!(found[0].der(), [0, 1, 2, 3, 4, 5], "{text}");
        }
    }

    #[test]
    fn markers_in_bytes() {
        let data = b"x -----BEGIN A-----BEGIN PKCS7----- QQ== -----END PKCS7----- y";
        let first = next_begin(data, 0).expect("first");
        assert_eq!(&data[first.label.clone()], b"A");
        let second = next_begin(data, first.start + 1).expect("second");
        assert_eq!(&data[second.label.clone()], b"PKCS7");
        let end = find_end(data, b"PKCS7", second.body).expect("end");
        assert_eq!(&data[second.body..end.start], b" QQ== ");
        assert!(next_begin(data, second.start + 1).is_none());
        assert_eq!(
            begin_labelled(data, b"PKCS7").map(|b| b.start),
            Some(second.start)
        );
        assert!(begin_labelled(data, b"CMS").is_none());
        assert!(next_begin(b"-----BEGIN X", 0).is_none());
    }
}
