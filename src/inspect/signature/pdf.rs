//! Signatures in PDF files (PAdES and the older adbe.pkcs7 forms): each
//! signature dictionary found by its /ByteRange and read by the shared
//! syntax engine ([`crate::pdf`]) in its exact reading, the ranges checked to
//! cover the file, and the CMS in /Contents judged over them.

use super::asn1::{digits, utc_rfc3339};
use super::cms::evaluate_cms;
use super::{
    DICT_SEARCH_WINDOW, DICT_START_TRIES, MAX_BYTE_RANGE_HITS, MAX_DICT_BYTES, MAX_SIGNATURES,
    PDF_MAX_DEPTH, PDF_TOKEN_BUDGET, Signature, SignatureFormat, add, find, rfind,
};
use crate::domain::SignatureProblem;
use crate::pdf::{Lexer, Obj, Reading, Tok, is_pdf, parse};

type Dict = Vec<(Vec<u8>, Obj)>;

/// The first value of `key`: signature dictionaries were always read so.
fn lookup<'d>(dict: &'d Dict, key: &[u8]) -> Option<&'d Obj> {
    dict.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// An exact-reading lexer over `data` at `pos`, on the token budget and
/// nesting of one signature dictionary.
fn lexer(data: &[u8], pos: usize) -> Lexer<'_> {
    Lexer {
        pos,
        reading: Reading::Exact,
        tokens_left: PDF_TOKEN_BUDGET,
        // The signature dictionary itself, and PDF_MAX_DEPTH levels below.
        nesting: PDF_MAX_DEPTH + 1,
        ..Lexer::new(data)
    }
}

/// The dictionary holding the `/ByteRange` at `at`, if it is a signature
/// dictionary. Its start is found by trying the nearest `<<` before it,
/// then earlier ones (nested dictionaries such as /Prop_Build come first).
/// Every byte lexed is charged to `budget`, which bounds the work for the
/// whole file however many candidates hostile input offers.
fn signature_dict_around(data: &[u8], at: usize, budget: &mut usize) -> Option<Dict> {
    let low = at.saturating_sub(DICT_SEARCH_WINDOW);
    let mut high = at;
    for _ in 0..DICT_START_TRIES {
        let start = rfind(data, b"<<", low, high)?;
        high = start + 1;
        let limit = data
            .len()
            .min(start.saturating_add(MAX_DICT_BYTES))
            .min(start.saturating_add(*budget));
        let mut lex = lexer(data.get(..limit)?, start);
        let parsed = match lex.next_tok() {
            Some(tok @ Tok::DictOpen) => parse(&mut lex, tok, 0),
            _ => None,
        };
        *budget = budget.saturating_sub(lex.pos.saturating_sub(start));
        let dict = match parsed {
            Some(Obj::Dict(dict)) if lex.pos > at => dict,
            // Ends before our /ByteRange: a nested dictionary, try further back.
            Some(_) if lex.pos <= at => continue,
            None if lex.pos <= at && *budget > 0 => continue,
            // The innermost candidate around /ByteRange is broken: give up.
            _ => return None,
        };
        let is_signature = match lookup(&dict, b"Type") {
            Some(Obj::Name(t)) => t == b"Sig",
            Some(_) => false,
            // /Type is optional in signature dictionaries.
            None => true,
        };
        // Document timestamps (/Type /DocTimeStamp, or untyped with this
        // SubFilter) are a TSA's, not a signer's: not reported.
        let timestamp = matches!(
            lookup(&dict, b"SubFilter"),
            Some(Obj::Name(n)) if n == b"ETSI.RFC3161"
        );
        let complete =
            lookup(&dict, b"ByteRange").is_some() && lookup(&dict, b"Contents").is_some();
        return (is_signature && !timestamp && complete).then_some(dict);
    }
    None
}

/// A PDF text string (UTF-16 when it has a byte-order mark).
fn pdf_string(obj: &Obj) -> Option<String> {
    let Obj::Str(bytes, _) = obj else {
        return None;
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

/// Where the hex string `obj` lies in `data`: the offsets of its `<` and
/// just past its `>` (lexed again from its start to find that end), with
/// its bytes.
fn hex_span<'o>(data: &[u8], obj: &'o Obj) -> Option<(usize, usize, &'o [u8])> {
    let Obj::Str(bytes, at) = obj else {
        return None;
    };
    // u32::MAX: an offset past 4 GiB, not known.
    let start = usize::try_from(*at).ok().filter(|_| *at != u32::MAX)?;
    if data.get(start) != Some(&b'<') {
        return None;
    }
    let mut lex = lexer(data, start);
    lex.next_tok()?;
    Some((start, lex.pos, bytes))
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
fn byte_ranges(obj: &Obj, file_len: usize) -> Option<Vec<(usize, usize)>> {
    let Obj::Array(items) = obj else {
        return None;
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 16 {
        return None;
    }
    let numbers: Vec<usize> = items
        .iter()
        .map(|item| match item {
            // The exact reading keeps integers only.
            Obj::Num(n) if *n >= 0.0 => Some(*n as usize),
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
    dict: &Dict,
    seen: &mut Vec<(Vec<(usize, usize)>, usize)>,
) -> Option<Signature> {
    let mut signature = Signature::new(SignatureFormat::Pades);
    let hole = hex_span(data, lookup(dict, b"Contents")?);
    let ranges = byte_ranges(lookup(dict, b"ByteRange")?, data.len());

    // The same dictionary is found again when /ByteRange text repeats.
    let key = (ranges.clone().unwrap_or_default(), hole.map_or(0, |h| h.0));
    if seen.contains(&key) {
        return None;
    }
    seen.push(key);

    let pdf_time = lookup(dict, b"M")
        .and_then(pdf_string)
        .and_then(|m| pdf_date(&m));
    signature.signing_time = pdf_time.clone();

    let Some((hole_start, hole_end, der)) = hole else {
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
    let Some(report) = evaluate_cms(der, parts.as_deref(), true) else {
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
