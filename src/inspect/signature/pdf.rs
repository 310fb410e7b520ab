//! Signatures in PDF files (PAdES and the older adbe.pkcs7 forms): each
//! signature dictionary found by its /ByteRange, the ranges checked to
//! cover the file, and the CMS in /Contents judged over them.

use super::asn1::{digits, utc_rfc3339};
use super::cms::evaluate_cms;
use super::{
    DICT_SEARCH_WINDOW, DICT_START_TRIES, MAX_BYTE_RANGE_HITS, MAX_DICT_BYTES, MAX_SIGNATURES,
    PDF_MAX_DEPTH, PDF_TOKEN_BUDGET, Signature, SignatureFormat, add, find, rfind,
};
use crate::domain::SignatureProblem;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    DictOpen,
    DictClose,
    ArrayOpen,
    ArrayClose,
    Name(&'a [u8]),
    Int(i64),
    Real,
    /// Literal string: offsets of `(` and just past `)`.
    Literal(usize, usize),
    /// Hex string: offsets of `<` and just past `>`.
    Hex(usize, usize),
    Keyword(&'a [u8]),
}

fn is_pdf_space(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_pdf_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// End of a run of regular (non-space, non-delimiter) characters.
fn regular_end(data: &[u8], from: usize) -> usize {
    let mut end = from;
    while data
        .get(end)
        .is_some_and(|&c| !is_pdf_space(c) && !is_pdf_delimiter(c))
    {
        end += 1;
    }
    end
}

/// A PDF tokenizer over the raw file, on a token budget.
struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    budget: usize,
}

impl<'a> Lexer<'a> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.data.get(at).copied()
    }

    fn skip_space(&mut self) -> Option<()> {
        loop {
            let b = self.byte(self.pos)?;
            if is_pdf_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self
                    .byte(self.pos)
                    .is_some_and(|c| c != b'\n' && c != b'\r')
                {
                    self.pos += 1;
                }
            } else {
                return Some(());
            }
        }
    }

    fn token(&mut self) -> Option<Tok<'a>> {
        self.budget = self.budget.checked_sub(1)?;
        self.skip_space()?;
        let start = self.pos;
        let b = self.byte(start)?;
        let tok = match b {
            b'<' if self.byte(start + 1) == Some(b'<') => {
                self.pos = start + 2;
                Tok::DictOpen
            }
            b'<' => {
                let mut end = start + 1;
                loop {
                    match self.byte(end) {
                        Some(b'>') => break,
                        Some(c) if c.is_ascii_hexdigit() || is_pdf_space(c) => end += 1,
                        _ => {
                            self.pos = end;
                            return None;
                        }
                    }
                }
                self.pos = end + 1;
                Tok::Hex(start, end + 1)
            }
            b'>' if self.byte(start + 1) == Some(b'>') => {
                self.pos = start + 2;
                Tok::DictClose
            }
            b'[' => {
                self.pos = start + 1;
                Tok::ArrayOpen
            }
            b']' => {
                self.pos = start + 1;
                Tok::ArrayClose
            }
            b'(' => {
                let mut depth = 0usize;
                let mut at = start;
                loop {
                    let Some(c) = self.byte(at) else {
                        self.pos = at;
                        return None;
                    };
                    match c {
                        b'\\' => at += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
                self.pos = at + 1;
                Tok::Literal(start, at + 1)
            }
            b'/' => {
                let end = regular_end(self.data, start + 1);
                self.pos = end;
                Tok::Name(self.data.get(start + 1..end)?)
            }
            b'{' | b'}' => {
                self.pos = start + 1;
                Tok::Keyword(self.data.get(start..start + 1)?)
            }
            _ if is_pdf_delimiter(b) => return None,
            _ => {
                let end = regular_end(self.data, start);
                self.pos = end;
                let word = self.data.get(start..end)?;
                let numeric = word
                    .iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'));
                if numeric {
                    match std::str::from_utf8(word).ok().and_then(|s| s.parse().ok()) {
                        Some(n) => Tok::Int(n),
                        None => Tok::Real,
                    }
                } else {
                    Tok::Keyword(word)
                }
            }
        };
        Some(tok)
    }
}

#[derive(Debug)]
enum Obj<'a> {
    Name(&'a [u8]),
    Int(i64),
    Literal(usize, usize),
    Hex(usize, usize),
    Array(Vec<Obj<'a>>),
    Dict(Vec<(&'a [u8], Obj<'a>)>),
    Other,
}

enum Parsed<'a> {
    Obj(Obj<'a>),
    DictEnd,
    ArrayEnd,
}

/// Parses the object starting with `tok`. References (`5 0 R`) come out as
/// stray integers and keywords, which dictionaries skip: we never follow
/// them.
fn parse_object<'a>(lex: &mut Lexer<'a>, tok: Tok<'a>, depth: usize) -> Option<Parsed<'a>> {
    let obj = match tok {
        Tok::DictClose => return Some(Parsed::DictEnd),
        Tok::ArrayClose => return Some(Parsed::ArrayEnd),
        Tok::DictOpen => {
            if depth > PDF_MAX_DEPTH {
                return None;
            }
            let mut entries = Vec::new();
            loop {
                match lex.token()? {
                    Tok::DictClose => break,
                    Tok::Name(key) => {
                        let value = lex.token()?;
                        match parse_object(lex, value, depth + 1)? {
                            Parsed::Obj(value) => entries.push((key, value)),
                            Parsed::DictEnd => break,
                            Parsed::ArrayEnd => return None,
                        }
                    }
                    other => match parse_object(lex, other, depth + 1)? {
                        Parsed::Obj(_) => {}
                        Parsed::DictEnd => break,
                        Parsed::ArrayEnd => return None,
                    },
                }
            }
            Obj::Dict(entries)
        }
        Tok::ArrayOpen => {
            if depth > PDF_MAX_DEPTH {
                return None;
            }
            let mut items = Vec::new();
            loop {
                let next = lex.token()?;
                match parse_object(lex, next, depth + 1)? {
                    Parsed::Obj(item) => items.push(item),
                    Parsed::ArrayEnd => break,
                    Parsed::DictEnd => return None,
                }
            }
            Obj::Array(items)
        }
        Tok::Name(name) => Obj::Name(name),
        Tok::Int(n) => Obj::Int(n),
        Tok::Literal(start, end) => Obj::Literal(start, end),
        Tok::Hex(start, end) => Obj::Hex(start, end),
        Tok::Real | Tok::Keyword(_) => Obj::Other,
    };
    Some(Parsed::Obj(obj))
}

type Dict<'a> = Vec<(&'a [u8], Obj<'a>)>;

fn lookup<'d, 'a>(dict: &'d Dict<'a>, key: &[u8]) -> Option<&'d Obj<'a>> {
    dict.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The dictionary holding the `/ByteRange` at `at`, if it is a signature
/// dictionary. Its start is found by trying the nearest `<<` before it,
/// then earlier ones (nested dictionaries such as /Prop_Build come first).
/// Every byte lexed is charged to `budget`, which bounds the work for the
/// whole file however many candidates hostile input offers.
fn signature_dict_around<'a>(data: &'a [u8], at: usize, budget: &mut usize) -> Option<Dict<'a>> {
    let low = at.saturating_sub(DICT_SEARCH_WINDOW);
    let mut high = at;
    for _ in 0..DICT_START_TRIES {
        let start = rfind(data, b"<<", low, high)?;
        high = start + 1;
        let limit = data
            .len()
            .min(start.saturating_add(MAX_DICT_BYTES))
            .min(start.saturating_add(*budget));
        let mut lex = Lexer {
            data: data.get(..limit)?,
            pos: start,
            budget: PDF_TOKEN_BUDGET,
        };
        let parsed = match lex.token() {
            Some(Tok::DictOpen) => parse_object(&mut lex, Tok::DictOpen, 0),
            _ => None,
        };
        *budget = budget.saturating_sub(lex.pos.saturating_sub(start));
        let dict = match parsed {
            Some(Parsed::Obj(Obj::Dict(dict))) if lex.pos > at => dict,
            // Ends before our /ByteRange: a nested dictionary, try further back.
            Some(_) if lex.pos <= at => continue,
            None if lex.pos <= at && *budget > 0 => continue,
            // The innermost candidate around /ByteRange is broken: give up.
            _ => return None,
        };
        let is_signature = match lookup(&dict, b"Type") {
            Some(Obj::Name(t)) => *t == b"Sig",
            Some(_) => false,
            // /Type is optional in signature dictionaries.
            None => true,
        };
        // Document timestamps (/Type /DocTimeStamp, or untyped with this
        // SubFilter) are a TSA's, not a signer's: not reported.
        let timestamp = matches!(
            lookup(&dict, b"SubFilter"),
            Some(Obj::Name(b"ETSI.RFC3161"))
        );
        let complete =
            lookup(&dict, b"ByteRange").is_some() && lookup(&dict, b"Contents").is_some();
        return (is_signature && !timestamp && complete).then_some(dict);
    }
    None
}

/// A literal string's bytes with escapes resolved.
fn unescape_literal(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = raw.get(i) else {
            break;
        };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            // Line continuation.
            b'\r' => {
                if raw.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }
    out
}

fn hex_lenient(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() / 2);
    let mut high: Option<u8> = None;
    for &b in raw {
        if is_pdf_space(b) {
            continue;
        }
        let nibble = u8::try_from(char::from(b).to_digit(16)?).ok()?;
        match high.take() {
            Some(h) => out.push((h << 4) | nibble),
            None => high = Some(nibble),
        }
    }
    if let Some(h) = high {
        // An odd final digit is followed by an implied 0.
        out.push(h << 4);
    }
    Some(out)
}

/// A PDF text string's bytes (UTF-16 when it has a byte-order mark).
fn pdf_string(data: &[u8], obj: &Obj<'_>) -> Option<String> {
    let bytes = match *obj {
        Obj::Literal(start, end) => unescape_literal(data.get(start + 1..end.checked_sub(1)?)?),
        Obj::Hex(start, end) => hex_lenient(data.get(start + 1..end.checked_sub(1)?)?)?,
        _ => return None,
    };
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).ok();
    }
    Some(bytes.iter().map(|&b| char::from(b)).collect())
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (all but the year optional) as
/// RFC 3339 in UTC. No zone means UTC: the spec leaves it unknown.
pub(super) fn pdf_date(text: &str) -> Option<String> {
    let s = text.trim();
    let s = s.strip_prefix("D:").unwrap_or(s).as_bytes();
    let year = i32::try_from(digits(s, 0, 4)?).ok()?;
    let mut fields = [1u32, 1, 0, 0, 0];
    let mut pos = 4;
    for field in &mut fields {
        match digits(s, pos, 2) {
            Some(value) => {
                *field = value;
                pos += 2;
            }
            None => break,
        }
    }
    let offset = match s.get(pos) {
        Some(&sign @ (b'+' | b'-')) => {
            let hours = digits(s, pos + 1, 2)?;
            let mut at = pos + 3;
            if s.get(at) == Some(&b'\'') {
                at += 1;
            }
            let minutes = digits(s, at, 2).unwrap_or(0);
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => 0,
    };
    let [month, day, hour, minute, second] = fields;
    utc_rfc3339((year, month, day), (hour, minute, second), offset)
}

fn is_pdf(data: &[u8]) -> bool {
    // Readers accept the header anywhere in the first kilobyte.
    let head = data.get(..1024).unwrap_or(data);
    find(head, b"%PDF-", 0).is_some()
}

/// Every signature in a PDF (each /Type /Sig dictionary with /ByteRange and /Contents); empty when unsigned or not a PDF.
///
/// Signature dictionaries are found by their `/ByteRange` in the raw file
/// (they may not live in object streams, since /Contents must be
/// patchable). Document timestamps (/Type /DocTimeStamp) are not
/// signatures of a person and are left out.
pub fn pdf_signatures(data: &[u8]) -> Vec<Signature> {
    let mut out = Vec::new();
    if !is_pdf(data) {
        return out;
    }
    // Lexing budget for the whole file: a few passes over it at most.
    let mut budget = data.len().saturating_mul(2).saturating_add(MAX_DICT_BYTES);
    let mut seen: Vec<(Vec<(usize, usize)>, usize)> = Vec::new();
    let mut from = 0;
    for _ in 0..MAX_BYTE_RANGE_HITS {
        if out.len() >= MAX_SIGNATURES || budget == 0 {
            break;
        }
        let Some(at) = find(data, b"/ByteRange", from) else {
            break;
        };
        from = at + 1;
        let Some(dict) = signature_dict_around(data, at, &mut budget) else {
            continue;
        };
        if let Some(signature) = pdf_signature(data, &dict, &mut seen) {
            out.push(signature);
        }
    }
    out
}

/// The (offset, length) pairs of a /ByteRange, if sane and inside the file.
fn byte_ranges(obj: &Obj<'_>, file_len: usize) -> Option<Vec<(usize, usize)>> {
    let Obj::Array(items) = obj else {
        return None;
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 16 {
        return None;
    }
    let numbers: Vec<usize> = items
        .iter()
        .map(|item| match item {
            Obj::Int(n) => usize::try_from(*n).ok(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let ranges: Vec<(usize, usize)> = numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    ranges
        .iter()
        .all(|&(offset, len)| offset.checked_add(len).is_some_and(|end| end <= file_len))
        .then_some(ranges)
}

fn pdf_signature(
    data: &[u8],
    dict: &Dict<'_>,
    seen: &mut Vec<(Vec<(usize, usize)>, usize)>,
) -> Option<Signature> {
    let mut signature = Signature::new(SignatureFormat::Pades);
    let hole = match lookup(dict, b"Contents")? {
        Obj::Hex(start, end) => Some((*start, *end)),
        _ => None,
    };
    let ranges = byte_ranges(lookup(dict, b"ByteRange")?, data.len());

    // The same dictionary is found again when /ByteRange text repeats.
    let key = (ranges.clone().unwrap_or_default(), hole.map_or(0, |h| h.0));
    if seen.contains(&key) {
        return None;
    }
    seen.push(key);

    let pdf_time = lookup(dict, b"M")
        .and_then(|m| pdf_string(data, m))
        .and_then(|m| pdf_date(&m));
    signature.signing_time = pdf_time.clone();

    let Some((hole_start, hole_end)) = hole else {
        signature.covers_whole_file = Some(false);
        add(&mut signature.problems, SignatureProblem::Malformed);
        return Some(signature);
    };
    match &ranges {
        Some(ranges) => {
            let covers = ranges.len() == 2
                && ranges[0] == (0, hole_start)
                && ranges[1] == (hole_end, data.len() - hole_end);
            signature.covers_whole_file = Some(covers);
            if !covers {
                add(&mut signature.problems, SignatureProblem::ByteRangePartial);
            }
        }
        None => {
            signature.covers_whole_file = Some(false);
            add(&mut signature.problems, SignatureProblem::ByteRangeInvalid);
        }
    }

    let der = data
        .get(hole_start + 1..hole_end.saturating_sub(1))
        .and_then(hex_lenient);
    let Some(der) = der else {
        add(&mut signature.problems, SignatureProblem::Malformed);
        return Some(signature);
    };
    if der.iter().all(|&b| b == 0) {
        // A prepared field whose signature was never filled in: unsigned.
        return None;
    }
    let parts: Option<Vec<&[u8]>> = ranges.as_ref().map(|ranges| {
        ranges
            .iter()
            .filter_map(|&(offset, len)| data.get(offset..offset + len))
            .collect()
    });
    let Some(report) = evaluate_cms(&der, parts.as_deref(), true) else {
        add(&mut signature.problems, SignatureProblem::Malformed);
        return Some(signature);
    };
    signature.signer = report.signer;
    signature.signer_certificate_sha256 = report.certificate_sha256;
    signature.signing_time = report.signing_time.or(pdf_time);
    signature.verified = if ranges.is_some() {
        report.verified
    } else {
        // Only a definite failure is worth reporting without the ranges.
        report.verified.filter(|v| !v)
    };
    for problem in &report.problems {
        add(&mut signature.problems, *problem);
    }
    Some(signature)
}
