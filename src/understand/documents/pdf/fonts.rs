//! Fonts as far as text needs them: which characters a shown string's
//! bytes stand for (ToUnicode, /Differences, WinAnsi) and how far its
//! glyphs advance.

use std::collections::HashMap;

use super::MAX_CMAP;
use super::cmap::parse_cmap;
use super::document::Doc;
use crate::pdf::{NULL, Obj, as_index};

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
pub(super) struct Font {
    two_byte: bool,
    to_unicode: Option<HashMap<u32, String>>,
    differences: Option<Box<[Glyph; 256]>>,
    widths: Widths,
}

/// What one string shows: its text and how far it advances.
pub(super) struct Shown {
    pub(super) text: String,
    /// Sum of glyph widths in em.
    pub(super) width: f64,
    pub(super) codes: usize,
    pub(super) spaces: usize,
    /// Whether the widths came from the font rather than a guess.
    pub(super) exact: bool,
}

impl Font {
    pub(super) fn plain() -> Font {
        Font {
            two_byte: false,
            to_unicode: None,
            differences: None,
            widths: Widths::Unknown,
        }
    }

    pub(super) fn load(doc: &Doc<'_>, dict: &Obj) -> Font {
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
    pub(super) fn decode(&self, bytes: &[u8]) -> Option<Shown> {
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

/// Glyph names of Latin text (with the Romanian letters) and their
/// characters; a no-break space reads as a space, a minus as a hyphen.
const GLYPH_NAMES: &[(&str, char)] = &[
    ("space", ' '),
    ("nbspace", ' '),
    ("nonbreakingspace", ' '),
    ("exclam", '!'),
    ("quotedbl", '"'),
    ("numbersign", '#'),
    ("dollar", '$'),
    ("percent", '%'),
    ("ampersand", '&'),
    ("quotesingle", '\''),
    ("parenleft", '('),
    ("parenright", ')'),
    ("asterisk", '*'),
    ("plus", '+'),
    ("comma", ','),
    ("hyphen", '-'),
    ("minus", '-'),
    ("period", '.'),
    ("slash", '/'),
    ("zero", '0'),
    ("one", '1'),
    ("two", '2'),
    ("three", '3'),
    ("four", '4'),
    ("five", '5'),
    ("six", '6'),
    ("seven", '7'),
    ("eight", '8'),
    ("nine", '9'),
    ("colon", ':'),
    ("semicolon", ';'),
    ("less", '<'),
    ("equal", '='),
    ("greater", '>'),
    ("question", '?'),
    ("at", '@'),
    ("bracketleft", '['),
    ("backslash", '\\'),
    ("bracketright", ']'),
    ("asciicircum", '^'),
    ("underscore", '_'),
    ("grave", '`'),
    ("braceleft", '{'),
    ("bar", '|'),
    ("braceright", '}'),
    ("asciitilde", '~'),
    ("quoteleft", '‘'),
    ("quoteright", '’'),
    ("quotedblleft", '“'),
    ("quotedblright", '”'),
    ("quotesinglbase", '‚'),
    ("quotedblbase", '„'),
    ("guillemotleft", '«'),
    ("guillemetleft", '«'),
    ("guillemotright", '»'),
    ("guillemetright", '»'),
    ("endash", '–'),
    ("emdash", '—'),
    ("bullet", '•'),
    ("ellipsis", '…'),
    ("degree", '°'),
    ("section", '§'),
    ("paragraph", '¶'),
    ("copyright", '©'),
    ("registered", '®'),
    ("trademark", '™'),
    ("periodcentered", '·'),
    ("numero", '№'),
    ("Euro", '€'),
    ("abreve", 'ă'),
    ("acircumflex", 'â'),
    ("icircumflex", 'î'),
    ("scedilla", 'ş'),
    ("tcedilla", 'ţ'),
    ("tcommaaccent", 'ţ'),
    ("scommaaccent", 'ș'),
    ("agrave", 'à'),
    ("aacute", 'á'),
    ("adieresis", 'ä'),
    ("ccedilla", 'ç'),
    ("egrave", 'è'),
    ("eacute", 'é'),
    ("ecircumflex", 'ê'),
    ("edieresis", 'ë'),
    ("iacute", 'í'),
    ("idieresis", 'ï'),
    ("ntilde", 'ñ'),
    ("oacute", 'ó'),
    ("ocircumflex", 'ô'),
    ("odieresis", 'ö'),
    ("uacute", 'ú'),
    ("ucircumflex", 'û'),
    ("udieresis", 'ü'),
];

fn named_glyph(name: &str) -> Option<char> {
    GLYPH_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, c)| c)
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
