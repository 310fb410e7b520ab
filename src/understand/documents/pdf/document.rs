//! The objects of one PDF file, found by scanning for them rather than
//! through the xref table, their streams decoded within budget, and the
//! page tree walked in reading order.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use super::lexer;
use super::{
    MAX_DECODED, MAX_DEPTH, MAX_INDEX_ELEMENTS, MAX_OBJECTS, MAX_PAGES, MAX_STREAMS,
    MAX_TRAILER_ELEMENTS,
};
use crate::pdf::{Lexer, NULL, Obj, Tok, as_index, is_regular, is_ws, parse};
use crate::understand::documents::find;

pub(super) struct Entry {
    pub(super) obj: Obj,
    /// Byte range of the stream data in the file.
    stream: Option<(usize, usize)>,
}

pub(super) struct Doc<'a> {
    data: &'a [u8],
    pub(super) objs: HashMap<u32, Entry>,
    trailers: Vec<Obj>,
    /// Elements parsed into `objs` and `trailers` (see `Lexer`).
    elements: usize,
    decoded: Cell<usize>,
    streams: Cell<usize>,
}

impl<'a> Doc<'a> {
    pub(super) fn index(data: &'a [u8]) -> Doc<'a> {
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
            ..lexer(data)
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
                pos: pos + at + 7,
                limit: MAX_TRAILER_ELEMENTS,
                ..lexer(data)
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
            let mut lx = lexer(&bytes);
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
                    ..lexer(slice)
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

    pub(super) fn resolve<'b>(&'b self, mut obj: &'b Obj) -> &'b Obj {
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

    pub(super) fn get<'b>(&'b self, dict: &'b Obj, key: &[u8]) -> &'b Obj {
        dict.get(key).map_or(&NULL, |v| self.resolve(v))
    }

    /// Without a decryption key every string and stream is noise.
    pub(super) fn encrypted(&self) -> bool {
        self.trailers.iter().any(|t| t.get(b"Encrypt").is_some())
            || self.objs.values().any(|e| {
                e.obj.get(b"Type").and_then(Obj::name) == Some(b"XRef")
                    && e.obj.get(b"Encrypt").is_some()
            })
    }

    /// The decoded data of stream object `num`, within the budgets.
    pub(super) fn stream_data(&self, num: u32) -> Option<Cow<'a, [u8]>> {
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
    pub(super) fn pages(&self) -> Vec<(&Obj, Option<&Obj>)> {
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
    pub(super) fn contents(&self, page: &Obj) -> Vec<u8> {
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
    pub(super) fn content_like_streams(&self) -> Vec<u32> {
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
pub(in crate::understand::documents) fn inflate(raw: &[u8], limit: usize) -> Vec<u8> {
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
