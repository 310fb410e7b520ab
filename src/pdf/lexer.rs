//! The PDF lexer: numbers, names, strings (decoded), the array and
//! dictionary delimiters and keywords, read from any offset of a file or a
//! decoded stream, on a token budget when the reader sets one.

/// How irregular bytes are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Text extraction: recover what can be read. Stray `)`, `>` and braces
    /// are skipped, foreign bytes in a hex string too, an unterminated
    /// string ends at the end of the data; names have their `#xx` escapes
    /// resolved; an unknown keyword where a value belongs, or a keyword
    /// where a key belongs, ends the object.
    Lenient,
    /// Signature dictionaries, whose byte offsets are checked against
    /// /ByteRange: a stray `)` or `>`, a foreign byte in a hex string or
    /// an unterminated string ends the read where it stands. Names are
    /// kept as written, numbers count only as integers, and what we do not
    /// read — keywords, braces, other numbers, values where a key belongs,
    /// a key without a value — is passed over.
    Exact,
}

#[derive(Debug)]
pub(crate) enum Tok<'a> {
    Num(f64),
    Name(Vec<u8>),
    /// A string's bytes, and the offset of its opening `(` or `<`.
    Str(Vec<u8>, usize),
    ArrOpen,
    ArrClose,
    DictOpen,
    DictClose,
    Kw(&'a [u8]),
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

pub(crate) fn is_regular(b: u8) -> bool {
    !is_ws(b)
        && !matches!(
            b,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
        )
}

/// The tokenizer; every call consumes at least one byte or returns `None`:
/// at the end of the data, when the token budget is spent, or (exact
/// reading) at bytes that make no token.
pub(crate) struct Lexer<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) reading: Reading,
    /// Tokens that may still be read.
    pub(crate) tokens_left: usize,
    /// Array and dictionary elements parsed so far, and the most that may
    /// be: a parsed element costs ~32 bytes against as little as two bytes
    /// of input, so this is what bounds memory.
    pub(crate) elements: usize,
    pub(crate) limit: usize,
    /// Levels of arrays and dictionaries one object may nest.
    pub(crate) nesting: usize,
}

impl<'a> Lexer<'a> {
    /// A lenient lexer at the start of `data`, without limits of its own
    /// but the nesting: the reader sets those it needs.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Lexer {
            data,
            pos: 0,
            reading: Reading::Lenient,
            tokens_left: usize::MAX,
            elements: 0,
            limit: usize::MAX,
            nesting: 32,
        }
    }

    pub(crate) fn count_element(&mut self) -> Option<()> {
        self.elements += 1;
        (self.elements <= self.limit).then_some(())
    }

    fn exact(&self) -> bool {
        self.reading == Reading::Exact
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    pub(crate) fn next_tok(&mut self) -> Option<Tok<'a>> {
        self.tokens_left = self.tokens_left.checked_sub(1)?;
        loop {
            let start = self.pos;
            let b = self.peek()?;
            self.pos += 1;
            match b {
                _ if is_ws(b) => {}
                b'%' => {
                    while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                }
                b'(' => return self.literal().map(|s| Tok::Str(s, start)),
                b'<' if self.peek() == Some(b'<') => {
                    self.pos += 1;
                    return Some(Tok::DictOpen);
                }
                b'<' => return self.hex().map(|s| Tok::Str(s, start)),
                b'>' if self.peek() == Some(b'>') => {
                    self.pos += 1;
                    return Some(Tok::DictClose);
                }
                b'[' => return Some(Tok::ArrOpen),
                b']' => return Some(Tok::ArrClose),
                b'/' => return Some(Tok::Name(self.name())),
                // Braces only occur in PostScript calculator functions,
                // which we never need.
                b'{' | b'}' if self.exact() => {
                    return Some(Tok::Kw(self.data.get(start..self.pos)?));
                }
                b'>' | b')' if self.exact() => {
                    self.pos = start;
                    return None;
                }
                b'>' | b')' | b'{' | b'}' => {}
                _ => return Some(self.word(start)),
            }
        }
    }

    /// A number or a keyword: a run of regular characters from `start`.
    fn word(&mut self, start: usize) -> Tok<'a> {
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        let word = self.data.get(start..self.pos).unwrap_or(&[]);
        let numeric = word
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
        let text = std::str::from_utf8(word).ok().filter(|_| numeric);
        let number = match self.reading {
            Reading::Exact => text.and_then(|s| s.parse::<i64>().ok()).map(|n| n as f64),
            Reading::Lenient => text
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|n| n.is_finite()),
        };
        number.map_or(Tok::Kw(word), Tok::Num)
    }

    /// A literal string after its `(`: balanced parentheses (a counter,
    /// so any nesting depth is fine) and backslash escapes; an end of line
    /// in it reads as `\n`.
    fn literal(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => {
                    let Some(e) = self.peek() else { break };
                    self.pos += 1;
                    self.escape(e, &mut out);
                }
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(out);
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
        (!self.exact()).then_some(out)
    }

    /// The escape `\e` in a literal string, its octal digits read on.
    fn escape(&mut self, e: u8, out: &mut Vec<u8>) {
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

    /// A hex string after its `<`; an odd final digit is followed by an
    /// implied 0.
    fn hex(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        let mut closed = false;
        while let Some(c) = self.peek() {
            if c == b'>' {
                self.pos += 1;
                closed = true;
                break;
            }
            let digit = hex_digit(c);
            if digit.is_none() && !is_ws(c) && self.exact() {
                return None;
            }
            self.pos += 1;
            let Some(v) = digit else { continue };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        (closed || !self.exact()).then_some(out)
    }

    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = self.peek().filter(|&c| is_regular(c)) {
            self.pos += 1;
            let escaped = (c == b'#' && !self.exact())
                .then(|| {
                    let h = hex_digit(*self.data.get(self.pos)?)?;
                    let l = hex_digit(*self.data.get(self.pos + 1)?)?;
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
