//! A tag scanner that is just enough for WordprocessingML and ODF: element
//! names, attributes on demand and entity-decoded text. Every step moves
//! forward, so a scan is linear in the input.

use std::borrow::Cow;

#[derive(Debug)]
pub(super) enum Event<'a> {
    Start {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    End(&'a str),
    Text(Cow<'a, str>),
}

pub(super) struct Scanner<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Scanner { src, pos: 0 }
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let rest = self.src.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            if !rest.starts_with('<') {
                let len = rest.find('<').unwrap_or(rest.len());
                self.pos += len;
                return Some(Event::Text(unescape(rest.get(..len)?)));
            }
            if let Some(body) = rest.strip_prefix("<!--") {
                self.pos += 4 + skip_past(body, "-->");
                continue;
            }
            if let Some(body) = rest.strip_prefix("<![CDATA[") {
                let end = body.find("]]>").unwrap_or(body.len());
                self.pos += 9 + skip_past(body, "]]>");
                return Some(Event::Text(Cow::Borrowed(body.get(..end)?)));
            }
            if let Some(body) = rest.strip_prefix("<?") {
                self.pos += 2 + skip_past(body, "?>");
                continue;
            }
            if let Some(body) = rest.strip_prefix("<!") {
                self.pos += 2 + skip_past(body, ">");
                continue;
            }
            let Some(end) = tag_end(rest) else {
                self.pos = self.src.len(); // truncated tag: nothing more to read
                return None;
            };
            self.pos += end + 1;
            let inner = rest.get(1..end)?;
            if let Some(name) = inner.strip_prefix('/') {
                return Some(Event::End(name.trim()));
            }
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(inner) => (inner, true),
                None => (inner, false),
            };
            let split = inner
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(inner.len());
            let (name, attrs) = inner.split_at_checked(split)?;
            return Some(Event::Start { name, attrs, empty });
        }
    }
}

fn skip_past(body: &str, end: &str) -> usize {
    body.find(end).map_or(body.len(), |i| i + end.len())
}

/// Index of the `>` closing a tag; a `>` inside a quoted value does not.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, b) in tag.bytes().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'>' => return Some(i),
                _ => {}
            },
        }
    }
    None
}

/// The value of attribute `key` (qualified name as written).
pub(super) fn attr<'a>(attrs: &'a str, key: &str) -> Option<Cow<'a, str>> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let name = rest.get(..eq)?.trim();
        let value = rest.get(eq + 1..)?.trim_start();
        let quote = value.chars().next().filter(|&q| q == '"' || q == '\'')?;
        let body = value.get(1..)?;
        let close = body.find(quote)?;
        if name == key {
            return Some(unescape(body.get(..close)?));
        }
        rest = body.get(close + 1..)?;
    }
}

/// Decodes the five XML entities and numeric character references; an
/// unknown or malformed reference is kept literally.
pub(super) fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        let semi = tail.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|j| Some((entity(tail.get(1..j)?)?, j)));
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = tail.get(j + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            }
        }
    };
    Some(
        char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    )
}
