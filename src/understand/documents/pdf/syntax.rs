//! PDF syntax: the tokenizer and the object values it parses (numbers,
//! names, strings, arrays, dictionaries, references), bounded in nesting
//! and in element count so hostile input costs linear work and memory.

use super::{MAX_DEPTH, MAX_OPERAND_ELEMENTS};

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

pub(super) static NULL: Obj = Obj::Null;

impl Obj {
    pub(super) fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(super) fn num(&self) -> Option<f64> {
        match self {
            Obj::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub(super) fn name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    /// Values in it, itself included, up to a little past 1024.
    pub(super) fn size(&self) -> usize {
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

    pub(super) fn array(&self) -> Option<&[Obj]> {
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

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

pub(super) fn is_regular(b: u8) -> bool {
    !is_ws(b)
        && !matches!(
            b,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
        )
}

/// PDF tokenizer; every call consumes at least one byte or returns
/// `None` at the end.
pub(super) struct Lexer<'a> {
    pub(super) d: &'a [u8],
    pub(super) pos: usize,
    /// Array and dictionary elements parsed so far, and the most that
    /// may be: a parsed element costs ~32 bytes against as little as two
    /// bytes of input, so this is what bounds memory.
    pub(super) elements: usize,
    pub(super) limit: usize,
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

    pub(super) fn at(d: &'a [u8], pos: usize) -> Self {
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
    pub(super) fn operand(&mut self, tok: Tok<'_>) -> Option<Obj> {
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

pub(super) fn as_index(n: f64) -> Option<u32> {
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
